//! `cp` between a container and the host, with docker's naming rules. Both ways the
//! files travel as a tar stream from a packer that walks by file descriptor to the
//! layer extractor, which never writes through a symlink: so neither a hostile
//! container nor a hostile archive can make a copy read or write outside its side.

use super::filesystem::ContainerFs;
use crate::error::{Error, Result};
use crate::layer::pack::{pipe_tree, Owners, Packer};
use crate::layer::{extract, ExtractOptions};
use nix::fcntl::{open, OFlag};
use nix::sys::stat::{fstat, Mode, SFlag};
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, Default)]
pub struct CopyOptions {
    /// Keep owners (podman's `-a=false`); else everything copied belongs to root of the
    /// receiving side.
    pub archive: bool,
    /// `-L`: follow a symlink given as the source.
    pub follow_link: bool,
}

/// A path as `cp` names it inside a container: relative paths start at the container's
/// working directory, as in podman.
pub fn in_container(workdir: &str, path: &str) -> String {
    if path.starts_with('/') {
        return path.to_string();
    }
    let base = if workdir.is_empty() { "/" } else { workdir };
    format!("{}/{}", base.trim_end_matches('/'), path)
}

/// How the source path asks to be copied.
struct Source {
    /// `dir/.`: the directory's contents, not the directory.
    contents_only: bool,
    /// The last path component: the name the copy gets when the destination is a dir.
    base: String,
    /// Follow the final symlink (`-L`, or a trailing `/`).
    follow: bool,
}

fn source(path: &str, opts: CopyOptions) -> Source {
    let contents_only = path.ends_with("/.") || path == ".";
    let trimmed = path.trim_end_matches("/.").trim_end_matches('/');
    let base = trimmed.rsplit('/').next().unwrap_or("").to_string();
    Source {
        contents_only,
        base: if base.is_empty() { "/".into() } else { base },
        follow: opts.follow_link || path.ends_with('/') || contents_only,
    }
}

fn is_dir(fd: &OwnedFd) -> Result<bool> {
    let st = fstat(fd).map_err(|e| Error::sys("reading the source", e))?;
    Ok(SFlag::from_bits_truncate(st.st_mode & SFlag::S_IFMT.bits()) == SFlag::S_IFDIR)
}

fn fd_path(fd: &OwnedFd) -> PathBuf {
    PathBuf::from(format!("/proc/self/fd/{}", fd.as_raw_fd()))
}

/// Where a copy lands: the directory to extract into and the top entry's name there
/// ("" when a directory's contents go straight in).
struct Landing<D> {
    dir: D,
    name: String,
}

/// Docker's rules, given what the destination is.
fn land<D>(
    src: &Source,
    src_is_dir: bool,
    dest: &str,
    existing: Option<(D, bool)>,
    parent: impl FnOnce() -> Result<D>,
) -> Result<Landing<D>> {
    match existing {
        Some((d, true)) => Ok(Landing {
            dir: d,
            name: if src.contents_only && src_is_dir {
                String::new()
            } else {
                src.base.clone()
            },
        }),
        Some((_, false)) if src_is_dir => Err(Error::InvalidArgument(format!(
            "cannot copy a directory to {dest}: it is a file"
        ))),
        _ if dest.ends_with('/') && !src_is_dir => Err(Error::InvalidArgument(format!(
            "destination directory {dest} does not exist"
        ))),
        _ => {
            let name = dest
                .trim_end_matches('/')
                .rsplit('/')
                .next()
                .unwrap_or("")
                .to_string();
            if name.is_empty() || name == "." || name == ".." {
                return Err(Error::InvalidArgument(format!(
                    "invalid destination {dest}"
                )));
            }
            Ok(Landing {
                dir: parent()?,
                name,
            })
        }
    }
}

fn parent_of(path: &str) -> String {
    let t = path.trim_end_matches('/');
    match t.rsplit_once('/') {
        Some(("", _)) => "/".into(),
        Some((p, _)) => p.into(),
        None => ".".into(),
    }
}

fn plain(opts: CopyOptions) -> ExtractOptions {
    ExtractOptions {
        ignore_chown_errors: !opts.archive,
        plain: true,
    }
}

fn owners(opts: CopyOptions) -> Owners {
    if opts.archive {
        Owners::Keep
    } else {
        Owners::Root
    }
}

/// Container path `src` to host path `dest`.
pub fn copy_out(fs: &ContainerFs, src: &str, dest: &Path, opts: CopyOptions) -> Result<()> {
    let s = source(src, opts);
    let fd = fs.resolve(src, s.follow)?;
    let src_is_dir = is_dir(&fd)?;
    let dest_s = dest.to_string_lossy().into_owned();
    let existing = std::fs::metadata(dest)
        .ok()
        .map(|m| (dest.to_path_buf(), m.is_dir()));
    let landing = land(&s, src_is_dir, &dest_s, existing, || {
        let p = PathBuf::from(parent_of(&dest_s));
        if p.is_dir() {
            Ok(p)
        } else {
            Err(Error::InvalidArgument(format!(
                "{}: no such directory",
                p.display()
            )))
        }
    })?;
    pipe_tree(&fd, &landing.name, owners(opts), |r| {
        extract(r, &landing.dir, plain(opts)).map(|_| ())
    })
}

/// Container path `src` as a tar stream on `out` (`cp CTR:SRC -`), owners kept.
pub fn copy_out_stream(
    fs: &ContainerFs,
    src: &str,
    out: &mut dyn Write,
    opts: CopyOptions,
) -> Result<()> {
    let s = source(src, opts);
    let fd = fs.resolve(src, s.follow)?;
    let name = if s.contents_only && is_dir(&fd)? {
        String::new()
    } else {
        s.base.clone()
    };
    let mut p = Packer::new(out, Owners::Keep);
    p.add(&fd, &name, true)?;
    p.finish()?;
    Ok(())
}

fn container_dir_or_file(fs: &ContainerFs, path: &str) -> Option<(OwnedFd, bool)> {
    let fd = fs.resolve(path, true).ok()?;
    let d = is_dir(&fd).ok()?;
    Some((fd, d))
}

fn container_parent(fs: &ContainerFs, dest: &str) -> Result<OwnedFd> {
    let p = parent_of(dest);
    match container_dir_or_file(fs, &p) {
        Some((fd, true)) => Ok(fd),
        _ => Err(Error::InvalidArgument(format!(
            "{p}: no such directory in the container"
        ))),
    }
}

/// Host path `src` to container path `dest`.
pub fn copy_in(fs: &ContainerFs, src: &Path, dest: &str, opts: CopyOptions) -> Result<()> {
    let src_s = src.to_string_lossy().into_owned();
    let s = source(&src_s, opts);
    let mut flags = OFlag::O_PATH | OFlag::O_CLOEXEC;
    if !s.follow {
        flags |= OFlag::O_NOFOLLOW;
    }
    let fd = open(src, flags, Mode::empty())
        .map_err(|e| Error::sys(format!("opening {}", src.display()), e))?;
    let src_is_dir = is_dir(&fd)?;
    let existing = container_dir_or_file(fs, dest);
    let landing = land(&s, src_is_dir, dest, existing, || {
        container_parent(fs, dest)
    })?;
    pipe_tree(&fd, &landing.name, owners(opts), |r| {
        extract(r, &fd_path(&landing.dir), plain(opts)).map(|_| ())
    })
}

/// A tar stream into the container directory `dest` (`cp - CTR:DEST`).
pub fn copy_in_stream(fs: &ContainerFs, input: &mut dyn Read, dest: &str) -> Result<()> {
    match container_dir_or_file(fs, dest) {
        Some((fd, true)) => extract(
            input,
            &fd_path(&fd),
            plain(CopyOptions {
                archive: true,
                ..Default::default()
            }),
        )
        .map(|_| ()),
        _ => Err(Error::InvalidArgument(format!(
            "{dest}: no such directory in the container (a tar stream needs a directory)"
        ))),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn relative_paths_start_at_the_working_directory() {
        assert_eq!(super::in_container("/srv", "a/b"), "/srv/a/b");
        assert_eq!(super::in_container("/srv/", "."), "/srv/.");
        assert_eq!(super::in_container("", "x"), "/x");
        assert_eq!(super::in_container("/srv", "/etc/hosts"), "/etc/hosts");
    }

    use super::*;

    #[test]
    fn source_forms() {
        let o = CopyOptions::default();
        let s = source("/etc/.", o);
        assert!(s.contents_only && s.follow);
        assert_eq!(s.base, "etc");
        let s = source("/etc/hosts", o);
        assert!(!s.contents_only && !s.follow);
        assert_eq!(s.base, "hosts");
        assert_eq!(source("/", o).base, "/");
        assert_eq!(parent_of("/x"), "/");
        assert_eq!(parent_of("/a/b/"), "/a");
        assert_eq!(parent_of("rel"), ".");
    }
}
