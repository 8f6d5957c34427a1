//! What COPY and ADD put into a working container: sources mapped to their places by
//! Docker's rules, packed into one archive (owners and modes as the flags say, parent
//! directories made where missing) and unpacked into the container's root by the same
//! extractor as `cp`, which never follows a symlink out of it.

use super::context::Context;
use crate::container::copy::copy_in_stream;
use crate::container::filesystem::ContainerFs;
use crate::error::{Error, Result};
use crate::layer::pack::{Owners, Packer};
use crate::layer::LayerError;
use std::collections::BTreeSet;
use std::fs::File;
use std::io::{Seek, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use tar::{EntryType, Header};

/// Where one source comes from.
pub enum Item {
    /// A file or directory of the build context (relative path).
    Context { rel: String, is_dir: bool },
    /// A file on the host made for this step (a download, a heredoc), with its name.
    File {
        path: PathBuf,
        name: String,
        mode: u32,
    },
    /// A local archive that ADD unpacks.
    Archive { path: PathBuf },
    /// A path in another stage's or image's root.
    Image { path: String },
}

pub struct Plan<'a> {
    pub items: Vec<Item>,
    /// Absolute; a trailing / means a directory.
    pub dest: String,
    pub owner: Option<(u32, u32)>,
    pub mode: Option<u32>,
    pub context: &'a Context,
    /// The root of the `--from` image, for Item::Image.
    pub from: Option<&'a ContainerFs>,
}

fn parent(p: &str) -> &str {
    match p.trim_end_matches('/').rsplit_once('/') {
        Some(("", _)) | None => "/",
        Some((a, _)) => a,
    }
}

fn base(p: &str) -> &str {
    p.trim_end_matches('/').rsplit('/').next().unwrap_or("")
}

fn rel(p: &str) -> String {
    p.trim_start_matches('/').trim_end_matches('/').to_string()
}

fn is_dir_in(fs: &ContainerFs, path: &str) -> bool {
    fs.resolve(path, true)
        .ok()
        .and_then(|fd| nix::sys::stat::fstat(&fd).ok())
        .is_some_and(|st| st.st_mode & libc::S_IFMT == libc::S_IFDIR)
}

struct Writer<'a> {
    tar: tar::Builder<&'a mut File>,
    owner: (u64, u64),
    mode: Option<u32>,
    made: BTreeSet<String>,
}

impl Writer<'_> {
    fn header(&self, kind: EntryType, mode: u32, mtime: u64) -> Header {
        let mut h = Header::new_gnu();
        h.set_entry_type(kind);
        h.set_mode(self.mode.unwrap_or(mode & 0o7777));
        h.set_uid(self.owner.0);
        h.set_gid(self.owner.1);
        h.set_mtime(mtime);
        h.set_size(0);
        h
    }

    /// Directories on the way to `path` that the container lacks.
    fn parents(&mut self, fs: &ContainerFs, path: &str) -> Result<()> {
        let mut chain = Vec::new();
        let mut p = parent(path).to_string();
        while p != "/" {
            chain.push(p.clone());
            p = parent(&p).to_string();
        }
        for dir in chain.into_iter().rev() {
            self.dir(fs, &dir)?;
        }
        Ok(())
    }

    /// `dir` as a new directory, unless the container or this archive has it.
    fn dir(&mut self, fs: &ContainerFs, dir: &str) -> Result<()> {
        if self.made.contains(dir) || is_dir_in(fs, dir) {
            return Ok(());
        }
        let mut h = self.header(EntryType::Directory, 0o755, now());
        // Parents are made 0755 whatever --chmod says.
        h.set_mode(0o755);
        self.append(&mut h, &format!("{}/", rel(dir)), std::io::empty())?;
        self.made.insert(dir.to_string());
        Ok(())
    }

    fn append<R: std::io::Read>(&mut self, h: &mut Header, name: &str, data: R) -> Result<()> {
        self.tar
            .append_data(h, name, data)
            .map_err(|e| Error::io(format!("archiving {name}"), e))
    }

    /// A context file or tree at `target`.
    fn context(&mut self, ctx: &Context, src: &str, target: &str) -> Result<()> {
        for entry in ctx.walk(src) {
            let suffix = entry
                .strip_prefix(src)
                .unwrap_or("")
                .trim_start_matches('/');
            let name = if suffix.is_empty() {
                rel(target)
            } else {
                format!("{}/{suffix}", rel(target))
            };
            let path = ctx.root.join(&entry);
            let meta = std::fs::symlink_metadata(&path)
                .map_err(|e| Error::io(format!("reading {entry}"), e))?;
            let mtime = meta.mtime().max(0) as u64;
            let mode = meta.permissions().mode();
            if meta.is_dir() {
                // The destination directory itself is not the source's: an existing
                // one keeps its attributes, a new one is made 0755 (as buildah does).
                if name.is_empty() || suffix.is_empty() {
                    continue;
                }
                let mut h = self.header(EntryType::Directory, mode, mtime);
                self.append(&mut h, &format!("{name}/"), std::io::empty())?;
                self.made.insert(format!("/{name}"));
            } else if meta.file_type().is_symlink() {
                let t = std::fs::read_link(&path)
                    .map_err(|e| Error::io(format!("reading {entry}"), e))?;
                let mut h = self.header(EntryType::Symlink, 0o777, mtime);
                self.tar
                    .append_link(&mut h, &name, &t)
                    .map_err(|e| Error::io(format!("archiving {name}"), e))?;
            } else if meta.is_file() {
                let f = File::open(&path).map_err(|e| Error::io(format!("reading {entry}"), e))?;
                let mut h = self.header(EntryType::Regular, mode, mtime);
                h.set_size(meta.len());
                self.append(&mut h, &name, f)?;
            }
        }
        Ok(())
    }

    fn host_file(&mut self, path: &Path, target: &str, mode: u32) -> Result<()> {
        let f =
            File::open(path).map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
        let len = f.metadata().map(|m| m.len()).unwrap_or(0);
        let mut h = self.header(EntryType::Regular, mode, now());
        h.set_size(len);
        self.append(&mut h, &rel(target), f)
    }

    /// An archive's entries under `dir`, with their own owners and modes.
    fn archive(&mut self, path: &Path, dir: &str) -> Result<()> {
        let f =
            File::open(path).map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
        let (reader, _) = crate::layer::compression::decompressed(f)?;
        let mut a = tar::Archive::new(reader);
        let entries = a.entries().map_err(|e| {
            Error::Layer(LayerError::InvalidArchive(format!(
                "{}: {e}",
                path.display()
            )))
        })?;
        for e in entries {
            let mut e = e.map_err(|e| {
                Error::Layer(LayerError::InvalidArchive(format!(
                    "{}: {e}",
                    path.display()
                )))
            })?;
            let inner = e.path_bytes().into_owned();
            let inner = String::from_utf8_lossy(&inner).into_owned();
            let inner = inner.trim_start_matches("./").trim_start_matches('/');
            if inner.is_empty() {
                continue;
            }
            // `..` stays in the name: the extractor refuses it.
            let name = if rel(dir).is_empty() {
                inner.to_string()
            } else {
                format!("{}/{inner}", rel(dir))
            };
            let mut h = e.header().clone();
            match h.entry_type() {
                EntryType::Symlink | EntryType::Link => {
                    let target = e
                        .link_name_bytes()
                        .map(|b| String::from_utf8_lossy(&b).into_owned())
                        .unwrap_or_default();
                    let target = if h.entry_type() == EntryType::Link {
                        let t = target.trim_start_matches("./").trim_start_matches('/');
                        if rel(dir).is_empty() {
                            t.to_string()
                        } else {
                            format!("{}/{t}", rel(dir))
                        }
                    } else {
                        target
                    };
                    self.tar
                        .append_link(&mut h, &name, &target)
                        .map_err(|e| Error::io(format!("archiving {name}"), e))?;
                }
                _ => {
                    let data: &mut dyn std::io::Read = &mut e;
                    self.tar
                        .append_data(&mut h, &name, data)
                        .map_err(|e| Error::io(format!("archiving {name}"), e))?;
                }
            }
        }
        Ok(())
    }
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Packs the plan into `spool` and unpacks it into the container `fs`.
pub fn apply(plan: &Plan, fs: &ContainerFs, spool: &Path) -> Result<()> {
    let mut file = File::options()
        .read(true)
        .write(true)
        .create_new(true)
        .open(spool)
        .map_err(|e| Error::io("creating the step's archive", e))?;
    let result = (|| {
        write(plan, fs, &mut file)?;
        file.rewind()
            .map_err(|e| Error::io("reading the archive back", e))?;
        copy_in_stream(fs, &mut file, "/")
    })();
    let _ = std::fs::remove_file(spool);
    result
}

fn write(plan: &Plan, fs: &ContainerFs, file: &mut File) -> Result<()> {
    let (u, g) = plan.owner.unwrap_or((0, 0));
    let mut w = Writer {
        tar: tar::Builder::new(file),
        owner: (u as u64, g as u64),
        mode: plan.mode,
        made: BTreeSet::new(),
    };
    // A directory destination: a trailing /, several sources, or one already there.
    let into_dir = plan.dest.ends_with('/') || plan.items.len() > 1 || is_dir_in(fs, &plan.dest);
    let dest = plan.dest.trim_end_matches('/');
    let dest = if dest.is_empty() { "/" } else { dest };
    for item in &plan.items {
        match item {
            Item::Context {
                rel: src,
                is_dir: true,
            } => {
                w.parents(fs, &format!("{dest}/x"))?;
                w.context(plan.context, src, dest)?;
            }
            Item::Context { rel: src, .. } => {
                let target = if into_dir {
                    format!("{dest}/{}", base(src))
                } else {
                    dest.to_string()
                };
                w.parents(fs, &target)?;
                w.context(plan.context, src, &target)?;
            }
            Item::File { path, name, mode } => {
                let target = if into_dir {
                    format!("{dest}/{name}")
                } else {
                    dest.to_string()
                };
                w.parents(fs, &target)?;
                w.host_file(path, &target, *mode)?;
            }
            Item::Archive { path } => {
                w.parents(fs, &format!("{dest}/x"))?;
                w.dir(fs, dest)?;
                w.archive(path, dest)?;
            }
            Item::Image { path } => {
                let from = plan
                    .from
                    .ok_or_else(|| Error::InvalidArgument("COPY --from without a source".into()))?;
                let fd = from.resolve(path, false).map_err(|_| {
                    Error::InvalidArgument(format!(
                        "{path}: no such file or directory in the --from source"
                    ))
                })?;
                let st = nix::sys::stat::fstat(&fd)
                    .map_err(|e| Error::sys(format!("reading {path}"), e))?;
                let src_dir = st.st_mode & libc::S_IFMT == libc::S_IFDIR;
                let target = if src_dir || !into_dir {
                    dest.to_string()
                } else {
                    format!("{dest}/{}", base(path))
                };
                if src_dir {
                    w.parents(fs, &format!("{target}/x"))?;
                } else {
                    w.parents(fs, &target)?;
                }
                w.tar
                    .get_mut()
                    .flush()
                    .map_err(|e| Error::io("writing the archive", e))?;
                let owners = match plan.owner {
                    Some((u, g)) => Owners::Fixed(u, g),
                    None => Owners::Root,
                };
                let mut p = Packer::new(Vec::new(), owners);
                p.set_mode(plan.mode);
                if src_dir {
                    // The directory's contents go into the target, which keeps its own
                    // attributes when it exists.
                    if !is_dir_in(fs, &target) && !w.made.contains(&target) {
                        p.add(&fd, &rel(&target), false)?;
                    }
                    for name in list(&fd)? {
                        let child = crate::layer::pack::open_entry(&fd, &name)?;
                        p.add(&child, &format!("{}/{name}", rel(&target)), true)?;
                    }
                } else {
                    p.add(&fd, &rel(&target), true)?;
                }
                let bytes = p.finish()?;
                // Re-emit the packed entries through our archive.
                let mut a = tar::Archive::new(&bytes[..]);
                for e in a.entries().map_err(|e| Error::io("repacking", e))? {
                    let mut e = e.map_err(|e| Error::io("repacking", e))?;
                    let mut h = e.header().clone();
                    let name = String::from_utf8_lossy(&e.path_bytes()).into_owned();
                    if matches!(h.entry_type(), EntryType::Symlink | EntryType::Link) {
                        let t = e
                            .link_name_bytes()
                            .map(|b| String::from_utf8_lossy(&b).into_owned())
                            .unwrap_or_default();
                        w.tar
                            .append_link(&mut h, &name, &t)
                            .map_err(|e| Error::io("repacking", e))?;
                    } else {
                        let data: &mut dyn std::io::Read = &mut e;
                        w.tar
                            .append_data(&mut h, &name, data)
                            .map_err(|e| Error::io("repacking", e))?;
                    }
                }
            }
        }
    }
    w.tar
        .finish()
        .map_err(|e| Error::io("finishing the archive", e))
}

/// Names in a directory opened O_PATH, sorted.
fn list(fd: &std::os::fd::OwnedFd) -> Result<Vec<String>> {
    let dir = nix::fcntl::openat(
        fd,
        ".",
        nix::fcntl::OFlag::O_RDONLY | nix::fcntl::OFlag::O_DIRECTORY | nix::fcntl::OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    )
    .map_err(|e| Error::sys("opening a directory", e))?;
    let mut d = nix::dir::Dir::from_fd(dir).map_err(|e| Error::sys("reading a directory", e))?;
    let mut names: Vec<String> = d
        .iter()
        .flatten()
        .filter_map(|e| e.file_name().to_str().ok().map(String::from))
        .filter(|n| n != "." && n != "..")
        .collect();
    names.sort();
    Ok(names)
}
