//! Unpacks one layer tarball into an empty directory. The archive is untrusted: no entry
//! may land outside the directory, whatever its path, link target or parents say.
//! OCI whiteouts become overlay whiteouts (0/0 char devices, opaque xattr).

use super::beneath::{clean_components, open_dir};
use super::OPAQUE_XATTR;
use crate::error::{Error, Result};
use crate::layer::LayerError;
use nix::errno::Errno;
use nix::fcntl::{openat, AtFlags, OFlag};
use nix::sys::stat::{
    fchmodat, fstatat, makedev, mknodat, utimensat, FchmodatFlags, Mode, SFlag, UtimensatFlags,
};
use nix::sys::time::TimeSpec;
use nix::unistd::{fchownat, linkat, symlinkat, unlinkat, Gid, Uid, UnlinkatFlags};
use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::Path;
use tar::EntryType;

const WHITEOUT_PREFIX: &str = ".wh.";
const OPAQUE_MARKER: &str = ".wh..wh..opq";

#[derive(Debug, Clone, Copy, Default)]
pub struct ExtractOptions {
    /// Ownership changes the kernel refuses (ids outside a single-id map) are skipped
    /// instead of failing the layer.
    pub ignore_chown_errors: bool,
    /// A plain archive (`cp`), not a layer: `.wh.` names are ordinary files.
    pub plain: bool,
}

#[derive(Debug, Clone, Default)]
pub struct ExtractStats {
    /// Bytes of regular file content written.
    pub size: u64,
    pub entries: u64,
    /// Device nodes that could not be made (rootless) and were left out.
    pub skipped_devices: Vec<String>,
    /// The permission bits the layer gives the image's root directory (its `./` entry),
    /// which a container's root keeps, as podman's does.
    pub root_mode: Option<u32>,
}

struct PendingDir {
    components: Vec<String>,
    mode: u32,
    mtime: i64,
}

/// Extracts the tar stream `r` into `dest`, which must exist and be empty.
pub fn extract<R: Read>(r: R, dest: &Path, opts: ExtractOptions) -> Result<ExtractStats> {
    let root = File::open(dest).map_err(|e| Error::io(format!("opening {}", dest.display()), e))?;
    let mut archive = tar::Archive::new(r);
    let mut stats = ExtractStats::default();
    let mut dirs: Vec<PendingDir> = Vec::new();
    let entries = archive
        .entries()
        .map_err(|e| Error::Layer(LayerError::InvalidArchive(format!("reading layer: {e}"))))?;
    for entry in entries {
        let mut entry = entry
            .map_err(|e| Error::Layer(LayerError::InvalidArchive(format!("reading layer: {e}"))))?;
        let kind = entry.header().entry_type();
        if matches!(
            kind,
            EntryType::XGlobalHeader
                | EntryType::XHeader
                | EntryType::GNULongName
                | EntryType::GNULongLink
        ) {
            continue;
        }
        let raw_path = entry.path_bytes().into_owned();
        let name = String::from_utf8_lossy(&raw_path).into_owned();
        let comps = clean_components(&raw_path, &name)?;
        let Some((file, parents)) = comps.split_last() else {
            // The layer root itself: its metadata belongs to the image's root, which
            // the layer directory does not take; only its mode is remembered.
            if kind == EntryType::Directory {
                stats.root_mode = entry.header().mode().ok().map(|m| m & 0o7777);
            }
            continue;
        };
        stats.entries += 1;
        let parent = open_dir(&root, parents, true, &name)?;
        if let Some(target) = file.strip_prefix(WHITEOUT_PREFIX).filter(|_| !opts.plain) {
            apply_whiteout(&parent, file, target, &name)?;
            continue;
        }
        let is_dir = kind == EntryType::Directory;
        remove_existing(&parent, file, is_dir, &name)?;
        let header = entry.header().clone();
        let mode = header.mode().unwrap_or(0o644) & 0o7777;
        let mtime = header.mtime().unwrap_or(0) as i64;
        match kind {
            EntryType::Regular | EntryType::Continuous | EntryType::GNUSparse => {
                stats.size += write_file(&parent, file, &mut entry, &name)?;
            }
            EntryType::Directory => {
                match nix::sys::stat::mkdirat(
                    &parent,
                    file.as_str(),
                    Mode::from_bits_truncate(0o700),
                ) {
                    Ok(()) | Err(Errno::EEXIST) => {}
                    Err(e) => return Err(Error::sys(format!("creating {name}"), e)),
                }
                dirs.push(PendingDir {
                    components: comps.clone(),
                    mode,
                    mtime,
                });
            }
            EntryType::Symlink => {
                let target = link_target(&entry, &name)?;
                symlinkat(target.as_str(), &parent, file.as_str())
                    .map_err(|e| Error::sys(format!("creating symlink {name}"), e))?;
            }
            EntryType::Link => {
                let target = link_target(&entry, &name)?;
                let tcomps = clean_components(target.as_bytes(), &name)?;
                let Some((tfile, tparents)) = tcomps.split_last() else {
                    return Err(hostile(&name, "hardlink to the layer root"));
                };
                let tparent = open_dir(&root, tparents, false, &name)?;
                linkat(
                    &tparent,
                    tfile.as_str(),
                    &parent,
                    file.as_str(),
                    AtFlags::empty(),
                )
                .map_err(|e| Error::sys(format!("hardlinking {name} to {target}"), e))?;
                continue; // a hard link shares its target's metadata
            }
            EntryType::Char | EntryType::Block | EntryType::Fifo => {
                let sflag = match kind {
                    EntryType::Char => SFlag::S_IFCHR,
                    EntryType::Block => SFlag::S_IFBLK,
                    _ => SFlag::S_IFIFO,
                };
                let dev = makedev(
                    header.device_major().ok().flatten().unwrap_or(0) as u64,
                    header.device_minor().ok().flatten().unwrap_or(0) as u64,
                );
                match mknodat(
                    &parent,
                    file.as_str(),
                    sflag,
                    Mode::from_bits_truncate(mode),
                    dev,
                ) {
                    Ok(()) => {}
                    // Without CAP_MKNOD in the initial namespace (rootless) devices cannot
                    // be made; the container gets its /dev from the runtime anyway.
                    Err(Errno::EPERM) if kind != EntryType::Fifo => {
                        stats.skipped_devices.push(name.clone());
                        continue;
                    }
                    Err(e) => return Err(Error::sys(format!("creating device {name}"), e)),
                }
            }
            other => {
                return Err(Error::Layer(LayerError::InvalidArchive(format!(
                    "entry {name:?} has unsupported type {other:?}"
                ))));
            }
        }
        set_owner(&parent, file, &header, opts, &name)?;
        set_xattrs(&parent, file, &mut entry, kind)?;
        if kind != EntryType::Symlink && kind != EntryType::Directory {
            fchmodat(
                &parent,
                file.as_str(),
                Mode::from_bits_truncate(mode),
                FchmodatFlags::FollowSymlink,
            )
            .map_err(|e| Error::sys(format!("chmod {name}"), e))?;
        }
        if kind != EntryType::Directory {
            set_mtime(&parent, file, mtime);
        }
    }
    // Directories last, deepest first: their modes may forbid the writes above, and
    // every write inside changes their mtime.
    dirs.sort_by_key(|d| std::cmp::Reverse(d.components.len()));
    for d in dirs {
        let (file, parents) = d.components.split_last().expect("non-empty");
        let parent = open_dir(&root, parents, false, file)?;
        fchmodat(
            &parent,
            file.as_str(),
            Mode::from_bits_truncate(d.mode),
            FchmodatFlags::FollowSymlink,
        )
        .map_err(|e| Error::sys(format!("chmod {}", d.components.join("/")), e))?;
        set_mtime(&parent, file, d.mtime);
    }
    Ok(stats)
}

fn hostile(entry: &str, reason: &str) -> Error {
    Error::Layer(LayerError::HostileEntry {
        entry: entry.to_string(),
        reason: reason.to_string(),
    })
}

fn link_target<R: Read>(entry: &tar::Entry<R>, name: &str) -> Result<String> {
    let target = entry.link_name_bytes().ok_or_else(|| {
        Error::Layer(LayerError::InvalidArchive(format!(
            "link {name:?} has no target"
        )))
    })?;
    String::from_utf8(target.into_owned())
        .map_err(|_| hostile(name, "link target is not valid UTF-8"))
}

fn apply_whiteout(parent: &OwnedFd, file: &str, target: &str, entry: &str) -> Result<()> {
    if file == OPAQUE_MARKER {
        let dir = File::from(parent.try_clone().map_err(|e| Error::io("dup", e))?);
        return xattr::FileExt::set_xattr(&dir, OPAQUE_XATTR, b"y")
            .map_err(|e| Error::io(format!("marking {entry} opaque"), e));
    }
    if target.starts_with(WHITEOUT_PREFIX) || target.is_empty() {
        return Ok(()); // other AUFS metadata (.wh..wh.plnk etc.) has no meaning here
    }
    remove_existing(parent, target, false, entry)?;
    mknodat(parent, target, SFlag::S_IFCHR, Mode::empty(), makedev(0, 0))
        .map_err(|e| Error::sys(format!("creating whiteout for {entry}"), e))
}

/// A later entry replaces an earlier one of the same name, except a directory over a
/// directory, which merges.
fn remove_existing(parent: &OwnedFd, file: &str, new_is_dir: bool, entry: &str) -> Result<()> {
    let st = match fstatat(parent, file, AtFlags::AT_SYMLINK_NOFOLLOW) {
        Ok(st) => st,
        Err(Errno::ENOENT) => return Ok(()),
        Err(e) => return Err(Error::sys(format!("stat {entry}"), e)),
    };
    let is_dir = SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT == SFlag::S_IFDIR;
    if is_dir && new_is_dir {
        return Ok(());
    }
    if is_dir {
        // std's remove_dir_all does not follow symlinks; the /proc path pins the parent.
        let path = format!("/proc/self/fd/{}/{}", parent.as_raw_fd(), file);
        crate::fsutil::remove_tree(Path::new(&path))
    } else {
        unlinkat(parent, file, UnlinkatFlags::NoRemoveDir)
            .map_err(|e| Error::sys(format!("replacing {entry}"), e))
    }
}

fn write_file<R: Read>(parent: &OwnedFd, file: &str, src: &mut R, entry: &str) -> Result<u64> {
    let fd = openat(
        parent,
        file,
        OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::from_bits_truncate(0o600),
    )
    .map_err(|e| Error::sys(format!("creating {entry}"), e))?;
    let mut f = File::from(fd);
    io::copy(src, &mut f).map_err(|e| Error::io(format!("writing {entry}"), e))
}

fn set_owner(
    parent: &OwnedFd,
    file: &str,
    h: &tar::Header,
    opts: ExtractOptions,
    entry: &str,
) -> Result<()> {
    let uid = h.uid().unwrap_or(0) as u32;
    let gid = h.gid().unwrap_or(0) as u32;
    match fchownat(
        parent,
        file,
        Some(Uid::from_raw(uid)),
        Some(Gid::from_raw(gid)),
        AtFlags::AT_SYMLINK_NOFOLLOW,
    ) {
        Ok(()) => Ok(()),
        Err(Errno::EINVAL | Errno::EPERM) if opts.ignore_chown_errors => Ok(()),
        Err(Errno::EINVAL) => Err(Error::Layer(LayerError::InvalidArchive(format!(
            "{entry}: owner {uid}:{gid} is outside the user namespace's id map (add a larger range to /etc/subuid and /etc/subgid)"
        )))),
        Err(e) => Err(Error::sys(format!("chown {entry}"), e)),
    }
}

fn set_xattrs<R: Read>(
    parent: &OwnedFd,
    file: &str,
    entry: &mut tar::Entry<R>,
    kind: EntryType,
) -> Result<()> {
    let Ok(Some(exts)) = entry.pax_extensions() else {
        return Ok(());
    };
    let path = format!("/proc/self/fd/{}/{}", parent.as_raw_fd(), file);
    for ext in exts.flatten() {
        let Ok(key) = ext.key() else { continue };
        let Some(name) = key.strip_prefix("SCHILY.xattr.") else {
            continue;
        };
        if kind == EntryType::Symlink && name.starts_with("user.") {
            continue; // the kernel allows user xattrs only on files and directories
        }
        // trusted.* and some security.* need privileges a rootless store lacks; losing
        // them is what podman does too.
        if let Err(e) = xattr::set(&path, name, ext.value_bytes()) {
            if !matches!(
                e.raw_os_error(),
                Some(libc::EPERM | libc::ENOTSUP | libc::EACCES)
            ) {
                return Err(Error::io(format!("setting xattr {name} on {file}"), e));
            }
        }
    }
    Ok(())
}

fn set_mtime<Fd: AsFd>(parent: Fd, file: &str, mtime: i64) {
    let t = TimeSpec::new(mtime, 0);
    // Best effort: a timestamp the file system refuses is not worth failing a layer over.
    let _ = utimensat(parent, file, &t, &t, UtimensatFlags::NoFollowSymlink);
}

#[cfg(test)]
mod tests {
    use super::*;

    enum Kind<'a> {
        File(&'a [u8]),
        Dir,
        Symlink(&'a str),
        Hardlink(&'a str),
    }

    /// A tar stream with names written as given (the tar crate refuses `..` in paths,
    /// which is what these tests need).
    fn tar(entries: &[(&str, Kind)]) -> Vec<u8> {
        let mut out = Vec::new();
        for (name, kind) in entries {
            let mut h = [0u8; 512];
            h[..name.len()].copy_from_slice(name.as_bytes());
            let (flag, data, link): (u8, &[u8], &str) = match kind {
                Kind::File(d) => (b'0', d, ""),
                Kind::Dir => (b'5', &[], ""),
                Kind::Symlink(t) => (b'2', &[], t),
                Kind::Hardlink(t) => (b'1', &[], t),
            };
            let octal = |h: &mut [u8], at: usize, len: usize, v: u64| {
                let s = format!("{v:0w$o}\0", w = len - 1);
                h[at..at + len].copy_from_slice(s.as_bytes());
            };
            octal(&mut h, 100, 8, 0o755);
            octal(&mut h, 108, 8, 0);
            octal(&mut h, 116, 8, 0);
            octal(&mut h, 124, 12, data.len() as u64);
            octal(&mut h, 136, 12, 0);
            h[156] = flag;
            h[157..157 + link.len()].copy_from_slice(link.as_bytes());
            h[257..263].copy_from_slice(b"ustar\0");
            h[263..265].copy_from_slice(b"00");
            h[148..156].copy_from_slice(b"        ");
            let sum: u32 = h.iter().map(|b| *b as u32).sum();
            octal(&mut h, 148, 7, sum as u64);
            out.extend_from_slice(&h);
            out.extend_from_slice(data);
            out.resize(out.len().div_ceil(512) * 512, 0);
        }
        out.resize(out.len() + 1024, 0);
        out
    }

    fn extract_into(dest: &Path, entries: &[(&str, Kind)]) -> Result<ExtractStats> {
        let opts = ExtractOptions {
            ignore_chown_errors: true,
            plain: false,
        };
        extract(&tar(entries)[..], dest, opts)
    }

    fn is_hostile(r: Result<ExtractStats>) -> bool {
        matches!(r, Err(Error::Layer(LayerError::HostileEntry { .. })))
    }

    #[test]
    fn hostile_entries_are_refused_and_write_nothing_outside() {
        let outside = tempfile::tempdir().unwrap();
        let o = outside.path().display().to_string();
        let planted = outside.path().join("planted");
        let cases: Vec<(&str, Vec<(&str, Kind)>)> = vec![
            ("dotdot", vec![("../../planted", Kind::File(b"x"))]),
            (
                "absolute symlinked parent",
                vec![("l", Kind::Symlink(&o)), ("l/planted", Kind::File(b"x"))],
            ),
            (
                "relative symlink that climbs",
                vec![
                    ("d/", Kind::Dir),
                    ("d/up", Kind::Symlink("../../../../../../../../..")),
                    ("d/up/planted", Kind::File(b"x")),
                ],
            ),
            (
                "hardlink that climbs",
                vec![("h", Kind::Hardlink("../../etc/passwd"))],
            ),
            (
                "hardlink through a symlinked directory",
                vec![
                    ("l", Kind::Symlink("/etc")),
                    ("h", Kind::Hardlink("l/passwd")),
                ],
            ),
            (
                "whiteout that climbs",
                vec![("../.wh.planted", Kind::File(b""))],
            ),
        ];
        for (what, entries) in cases {
            let dest = tempfile::tempdir().unwrap();
            let r = extract_into(dest.path(), &entries);
            assert!(is_hostile(r), "{what} was not refused");
            assert!(!planted.exists(), "{what} wrote outside");
        }
    }

    #[test]
    fn absolute_names_and_targets_stay_inside() {
        let dest = tempfile::tempdir().unwrap();
        let stats = extract_into(
            dest.path(),
            &[
                ("/etc/", Kind::Dir),
                ("/etc/hostname", Kind::File(b"box")),
                ("/etc/alias", Kind::Hardlink("/etc/hostname")),
            ],
        )
        .unwrap();
        assert_eq!(stats.entries, 3);
        let inside = dest.path().join("etc/alias");
        assert_eq!(std::fs::read(inside).unwrap(), b"box");
    }

    #[test]
    fn whiteouts_become_overlay_whiteouts() {
        let dest = tempfile::tempdir().unwrap();
        // A char device 0/0 needs privilege; without it the extraction must still say
        // what it did rather than write a plain file named .wh.gone.
        let r = extract_into(
            dest.path(),
            &[("d/", Kind::Dir), ("d/.wh.gone", Kind::File(b""))],
        );
        if r.is_ok() {
            let m = std::fs::symlink_metadata(dest.path().join("d/gone")).unwrap();
            use std::os::unix::fs::FileTypeExt;
            assert!(m.file_type().is_char_device());
        }
        assert!(!dest.path().join("d/.wh.gone").exists());
    }

    #[test]
    fn a_truncated_stream_is_an_invalid_archive() {
        let dest = tempfile::tempdir().unwrap();
        let mut t = tar(&[("f", Kind::File(&[7u8; 4000]))]);
        t.truncate(1500);
        let r = extract(&t[..], dest.path(), ExtractOptions::default());
        assert!(
            matches!(
                r,
                Err(Error::Layer(LayerError::InvalidArchive(_))) | Err(Error::Io { .. })
            ),
            "{r:?}"
        );
    }
}
