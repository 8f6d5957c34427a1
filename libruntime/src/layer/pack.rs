//! Writes tar streams from a directory tree that may belong to a hostile container.
//! Every file is reached through file descriptors, one component at a time with
//! O_NOFOLLOW, so a symlink swapped in mid-walk can never carry the walk to the host.

use crate::error::{Error, Result};
use nix::fcntl::{openat, readlinkat, OFlag};
use nix::sys::stat::{fstat, FileStat, Mode, SFlag};
use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use tar::{EntryType, Header};

/// Whose ids the archive records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owners {
    /// The files' own owners.
    Keep,
    /// Everything owned by 0:0 (what `cp` without `-a` gives).
    Root,
    /// Everything owned by these ids (`COPY --chown`).
    Fixed(u32, u32),
}

pub struct Packer<W: Write> {
    builder: tar::Builder<W>,
    /// Hard links already written: (device, inode) to the first name.
    links: HashMap<(u64, u64), String>,
    owners: Owners,
    /// Only files on this device are packed (`tar --one-file-system`).
    device: Option<u64>,
    /// Every entry gets this mode (`COPY --chmod`).
    mode: Option<u32>,
}

/// Opens `name` inside the directory `dir` without following it if it is a symlink.
pub fn open_entry<Fd: AsFd>(dir: Fd, name: &str) -> Result<OwnedFd> {
    openat(
        dir,
        name,
        OFlag::O_PATH | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| Error::sys(format!("opening {name}"), e))
}

fn proc_fd(fd: &OwnedFd) -> String {
    format!("/proc/self/fd/{}", fd.as_raw_fd())
}

/// Xattrs worth carrying in an image: file capabilities and the user's own, never
/// overlay's bookkeeping.
fn wanted_xattr(name: &str) -> bool {
    name == "security.capability"
        || (name.starts_with("user.") && !name.starts_with("user.overlay."))
}

/// One PAX extended-header record: "LEN key=value\n", LEN counting itself.
fn pax_record(key: &str, value: &[u8]) -> Vec<u8> {
    let body = key.len() + value.len() + 3; // space, '=', newline
    let mut len = body + body.to_string().len();
    if len.to_string().len() != body.to_string().len() {
        len += 1;
    }
    let mut rec = format!("{len} {key}=").into_bytes();
    rec.extend_from_slice(value);
    rec.push(b'\n');
    rec
}

impl<W: Write> Packer<W> {
    pub fn new(out: W, owners: Owners) -> Self {
        Packer {
            builder: tar::Builder::new(out),
            links: HashMap::new(),
            owners,
            device: None,
            mode: None,
        }
    }

    pub fn set_mode(&mut self, mode: Option<u32>) {
        self.mode = mode;
    }

    /// Leaves out everything on another file system than `fd`'s: the mounts inside a
    /// running container (proc, volumes) are not its file system.
    pub fn one_file_system(&mut self, fd: &OwnedFd) -> Result<()> {
        let st = fstat(fd).map_err(|e| Error::sys("reading the root", e))?;
        self.device = Some(st.st_dev);
        Ok(())
    }

    pub fn finish(self) -> Result<W> {
        self.builder
            .into_inner()
            .map_err(|e| Error::io("finishing the archive", e))
    }

    /// Adds the file `fd` (opened with O_PATH|O_NOFOLLOW) as `name`, and when it is a
    /// directory and `recurse`, everything below it in name order.
    pub fn add(&mut self, fd: &OwnedFd, name: &str, recurse: bool) -> Result<()> {
        let st = fstat(fd).map_err(|e| Error::sys(format!("reading {name}"), e))?;
        if self.device.is_some_and(|d| d != st.st_dev) {
            return Ok(());
        }
        let kind = SFlag::from_bits_truncate(st.st_mode & SFlag::S_IFMT.bits());
        match kind {
            SFlag::S_IFDIR => {
                self.write_xattrs(fd, name)?;
                let mut h = self.header(&st, EntryType::Directory);
                let dir_name = if name.is_empty() || name.ends_with('/') {
                    name.to_string()
                } else {
                    format!("{name}/")
                };
                if !dir_name.is_empty() {
                    self.append(&mut h, &dir_name, io::empty())?;
                }
                if recurse {
                    self.add_children(fd, &dir_name)?;
                }
            }
            SFlag::S_IFREG => self.add_file(fd, name, &st)?,
            SFlag::S_IFLNK => {
                let target = readlinkat(fd, "")
                    .map_err(|e| Error::sys(format!("reading link {name}"), e))?;
                let mut h = self.header(&st, EntryType::Symlink);
                self.builder
                    .append_link(&mut h, name, &target)
                    .map_err(|e| Error::io(format!("archiving {name}"), e))?;
            }
            SFlag::S_IFCHR | SFlag::S_IFBLK | SFlag::S_IFIFO => {
                let t = match kind {
                    SFlag::S_IFCHR => EntryType::Char,
                    SFlag::S_IFBLK => EntryType::Block,
                    _ => EntryType::Fifo,
                };
                let mut h = self.header(&st, t);
                let dev = st.st_rdev;
                let _ = h.set_device_major(nix::sys::stat::major(dev) as u32);
                let _ = h.set_device_minor(nix::sys::stat::minor(dev) as u32);
                self.append(&mut h, name, io::empty())?;
            }
            _ => {} // sockets are not content
        }
        Ok(())
    }

    /// An OCI whiteout: `dir/.wh.name` says `dir/name` was deleted.
    pub fn add_whiteout(&mut self, path: &str) -> Result<()> {
        let (dir, file) = match path.rsplit_once('/') {
            Some((d, f)) => (format!("{d}/"), f),
            None => (String::new(), path),
        };
        let mut h = Header::new_gnu();
        h.set_entry_type(EntryType::Regular);
        h.set_mode(0o644);
        h.set_size(0);
        h.set_mtime(0);
        self.append(&mut h, &format!("{dir}.wh.{file}"), io::empty())
    }

    fn add_children(&mut self, fd: &OwnedFd, dir_name: &str) -> Result<()> {
        let dir = openat(
            fd,
            ".",
            OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| Error::sys(format!("opening {dir_name}"), e))?;
        let listing = nix::dir::Dir::from_fd(
            dir.try_clone()
                .map_err(|e| Error::io(format!("opening {dir_name}"), e))?,
        )
        .map_err(|e| Error::sys(format!("listing {dir_name}"), e))?;
        let mut names: Vec<String> = listing
            .into_iter()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n != "." && n != "..")
            .collect();
        names.sort();
        for n in names {
            let child = match open_entry(&dir, &n) {
                Ok(c) => c,
                Err(_) => continue, // removed while we walked
            };
            self.add(&child, &format!("{dir_name}{n}"), true)?;
        }
        Ok(())
    }

    fn add_file(&mut self, fd: &OwnedFd, name: &str, st: &FileStat) -> Result<()> {
        let key = (st.st_dev, st.st_ino);
        if st.st_nlink > 1 {
            if let Some(first) = self.links.get(&key).cloned() {
                let mut h = self.header(st, EntryType::Link);
                return self
                    .builder
                    .append_link(&mut h, name, first)
                    .map_err(|e| Error::io(format!("archiving {name}"), e));
            }
            self.links.insert(key, name.to_string());
        }
        self.write_xattrs(fd, name)?;
        // Reopening through our own descriptor reads exactly the inode we looked at.
        let file = std::fs::File::open(proc_fd(fd))
            .map_err(|e| Error::io(format!("opening {name}"), e))?;
        let size = st.st_size as u64;
        let mut h = self.header(st, EntryType::Regular);
        h.set_size(size);
        // A file growing or shrinking under us must not break the archive's framing.
        let exact = file.take(size).chain(io::repeat(0)).take(size);
        self.append(&mut h, name, exact)
    }

    fn write_xattrs(&mut self, fd: &OwnedFd, name: &str) -> Result<()> {
        // Through our own descriptor's magic link, which must be followed to the file.
        let path = proc_fd(fd);
        let mut data = Vec::new();
        for x in xattr::list_deref(&path).into_iter().flatten() {
            let key = x.to_string_lossy();
            if !wanted_xattr(&key) {
                continue;
            }
            if let Ok(Some(v)) = xattr::get_deref(&path, &x) {
                data.extend(pax_record(&format!("SCHILY.xattr.{key}"), &v));
            }
        }
        if data.is_empty() {
            return Ok(());
        }
        let mut h = Header::new_ustar();
        h.set_entry_type(EntryType::XHeader);
        h.set_mode(0o644);
        h.set_size(data.len() as u64);
        let short: String = name.trim_end_matches('/').chars().rev().take(80).collect();
        let short: String = short.chars().rev().collect();
        self.append(
            &mut h,
            &format!("PaxHeaders/{}", short.replace('/', "_")),
            &data[..],
        )
    }

    fn header(&self, st: &FileStat, kind: EntryType) -> Header {
        let mut h = Header::new_gnu();
        h.set_entry_type(kind);
        h.set_mode(self.mode.unwrap_or(st.st_mode & 0o7777));
        let (uid, gid) = match self.owners {
            Owners::Keep => (st.st_uid as u64, st.st_gid as u64),
            Owners::Root => (0, 0),
            Owners::Fixed(u, g) => (u as u64, g as u64),
        };
        h.set_uid(uid);
        h.set_gid(gid);
        h.set_mtime(st.st_mtime.max(0) as u64);
        h.set_size(0);
        h
    }

    fn append<R: Read>(&mut self, h: &mut Header, name: &str, data: R) -> Result<()> {
        self.builder
            .append_data(h, name, data)
            .map_err(|e| Error::io(format!("archiving {name}"), e))
    }
}

/// Packs `fd` as `name` into a pipe on one thread while `sink` reads the archive on
/// this one: how files cross from one tree to another without either side's symlinks
/// being followed.
pub fn pipe_tree<T>(
    fd: &OwnedFd,
    name: &str,
    owners: Owners,
    sink: impl FnOnce(&mut dyn Read) -> Result<T>,
) -> Result<T> {
    let (r, w) = nix::unistd::pipe2(OFlag::O_CLOEXEC).map_err(|e| Error::sys("pipe", e))?;
    std::thread::scope(|s| {
        let packer = s.spawn(move || -> Result<()> {
            let mut p = Packer::new(std::fs::File::from(w), owners);
            p.add(fd, name, true)?;
            p.finish()?
                .flush()
                .map_err(|e| Error::io("writing the archive", e))
        });
        let mut reader = std::fs::File::from(r);
        let got = sink(&mut reader);
        // A sink that stopped early must not leave the packer blocked on a full pipe.
        drop(reader);
        let packed = packer
            .join()
            .unwrap_or_else(|_| Err(Error::InvalidArgument("the archive writer failed".into())));
        let got = got?;
        packed?;
        Ok(got)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pax_record_length_counts_itself() {
        let r = pax_record("k", b"v");
        assert_eq!(r, b"6 k=v\n");
        let long = pax_record("SCHILY.xattr.user.x", &[b'a'; 90]);
        let text = String::from_utf8(long.clone()).unwrap();
        let n: usize = text.split(' ').next().unwrap().parse().unwrap();
        assert_eq!(n, long.len());
    }
}
