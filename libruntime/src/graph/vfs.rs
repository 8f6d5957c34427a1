//! vfs: the container gets its own full copy of the image, made by applying each
//! layer (bottom first) with its whiteouts and opaque directories. Slow to create and
//! heavy on disk, but it needs nothing from the kernel beyond a bind mount.
//!
//! The copy is made on first start, inside the container's user namespace, so owners
//! come out as the image has them. A marker in the work directory says it is whole; a
//! copy cut short is started over.

use super::driver::{GraphDriver, Lifetime, RootMount};
use super::lower::{is_marker, is_opaque, is_whiteout, OPAQUE_XATTRS, WHITEOUT_PREFIX};
use super::RootfsPlan;
use crate::error::{Context, Error, Result};
use crate::fsutil;
use crate::syscall::Syscall;
use nix::sys::stat::{utimensat, Mode, SFlag, UtimensatFlags};
use nix::sys::time::TimeSpec;
use std::collections::HashMap;
use std::fs::{self, Metadata};
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

const READY: &str = "vfs-ready";

pub struct Vfs;

impl GraphDriver for Vfs {
    /// Nothing is mounted: the root is the container's own copy.
    fn mount(&self, plan: &RootfsPlan, _target: &Path, _: Lifetime) -> Result<RootMount> {
        ensure_rootfs(plan)?;
        Ok(RootMount::at(plan.upper.clone()))
    }

    fn mount_in_sandbox(&self, sys: &dyn Syscall, root: &Path, plan: &RootfsPlan) -> Result<()> {
        ensure_rootfs(plan)?;
        // pivot_root wants a mount point.
        sys.bind(&plan.upper, root, false)
    }
}

/// Makes `plan.upper` a full copy of the image unless it is one already.
pub fn ensure_rootfs(plan: &RootfsPlan) -> Result<()> {
    let marker = plan.work.join(READY);
    if marker.exists() {
        return Ok(());
    }
    clear_dir(&plan.upper)?;
    for layer in plan.lower_dirs().iter().rev() {
        apply_layer(layer, &plan.upper)?;
    }
    fs::write(&marker, b"").ctx(|| format!("writing {}", marker.display()))
}

fn clear_dir(dir: &Path) -> Result<()> {
    for e in fs::read_dir(dir).ctx(|| format!("reading {}", dir.display()))? {
        let e = e.ctx(|| format!("reading {}", dir.display()))?;
        remove_any(&e.path())?;
    }
    Ok(())
}

fn remove_any(p: &Path) -> Result<()> {
    match fs::symlink_metadata(p) {
        Ok(m) if m.is_dir() => fsutil::remove_tree(p),
        Ok(_) => fs::remove_file(p).ctx(|| format!("removing {}", p.display())),
        Err(_) => Ok(()),
    }
}

/// Hard links already copied within one layer: (device, inode) to the first copy.
type Links = HashMap<(u64, u64), PathBuf>;

fn apply_layer(layer: &Path, dst: &Path) -> Result<()> {
    let mut links = Links::new();
    copy_children(layer, dst, &mut links)?;
    copy_metadata(
        layer,
        dst,
        &fs::symlink_metadata(layer).ctx(|| layer.display().to_string())?,
    )
}

fn copy_children(src: &Path, dst: &Path, links: &mut Links) -> Result<()> {
    for e in fs::read_dir(src).ctx(|| format!("reading {}", src.display()))? {
        let e = e.ctx(|| format!("reading {}", src.display()))?;
        let name = e.file_name();
        let name_s = name.to_string_lossy();
        let (s, d) = (src.join(&name), dst.join(&name));
        if is_marker(&name_s) {
            continue;
        }
        if let Some(target) = name_s.strip_prefix(WHITEOUT_PREFIX) {
            remove_any(&dst.join(target))?;
            continue;
        }
        let m = fs::symlink_metadata(&s).ctx(|| s.display().to_string())?;
        if is_whiteout(&m) {
            remove_any(&d)?;
            continue;
        }
        if m.is_dir() {
            match fs::symlink_metadata(&d) {
                Ok(dm) if dm.is_dir() => {
                    if is_opaque(&s) {
                        clear_dir(&d)?;
                    }
                }
                Ok(_) => {
                    remove_any(&d)?;
                    fs::create_dir(&d).ctx(|| format!("creating {}", d.display()))?;
                }
                Err(_) => fs::create_dir(&d).ctx(|| format!("creating {}", d.display()))?,
            }
            copy_children(&s, &d, links)?;
        } else {
            remove_any(&d)?;
            if m.nlink() > 1 {
                if let Some(first) = links.get(&(m.dev(), m.ino())) {
                    fs::hard_link(first, &d).ctx(|| format!("linking {}", d.display()))?;
                    continue;
                }
                links.insert((m.dev(), m.ino()), d.clone());
            }
            if !copy_node(&s, &d, &m)? {
                continue;
            }
        }
        copy_metadata(&s, &d, &m)?;
    }
    Ok(())
}

/// Makes `d` the same kind of file as `s`; false when it cannot be made here (a device
/// node in a user namespace) and is left out, as layer extraction does.
fn copy_node(s: &Path, d: &Path, m: &Metadata) -> Result<bool> {
    let ft = m.file_type();
    if ft.is_symlink() {
        let target = fs::read_link(s).ctx(|| s.display().to_string())?;
        std::os::unix::fs::symlink(target, d).ctx(|| format!("creating {}", d.display()))?;
    } else if ft.is_file() {
        let mut from = fs::File::open(s).ctx(|| s.display().to_string())?;
        let mut to = fs::File::create_new(d).ctx(|| format!("creating {}", d.display()))?;
        std::io::copy(&mut from, &mut to).ctx(|| format!("copying {}", s.display()))?;
    } else {
        let kind = if ft.is_fifo() {
            SFlag::S_IFIFO
        } else if ft.is_char_device() {
            SFlag::S_IFCHR
        } else if ft.is_block_device() {
            SFlag::S_IFBLK
        } else {
            return Ok(false); // sockets are not content
        };
        match nix::sys::stat::mknod(d, kind, Mode::from_bits_truncate(0o600), m.rdev()) {
            Ok(()) => {}
            Err(nix::errno::Errno::EPERM) => return Ok(false),
            Err(e) => return Err(Error::sys(format!("creating {}", d.display()), e)),
        }
    }
    Ok(true)
}

/// Owner, then mode (a chown clears set-id bits), xattrs, then times.
fn copy_metadata(s: &Path, d: &Path, m: &Metadata) -> Result<()> {
    std::os::unix::fs::lchown(d, Some(m.uid()), Some(m.gid()))
        .ctx(|| format!("changing the owner of {}", d.display()))?;
    let symlink = m.file_type().is_symlink();
    if !symlink {
        fs::set_permissions(d, fs::Permissions::from_mode(m.mode() & 0o7777))
            .ctx(|| format!("changing the mode of {}", d.display()))?;
        for name in xattr::list(s).into_iter().flatten() {
            let n = name.to_string_lossy();
            if OPAQUE_XATTRS.contains(&n.as_ref())
                || n.starts_with("trusted.overlay.")
                || n.starts_with("user.overlay.")
            {
                continue;
            }
            if let Ok(Some(v)) = xattr::get(s, &name) {
                xattr::set(d, &name, &v).ctx(|| format!("setting {n} on {}", d.display()))?;
            }
        }
    }
    let atime = TimeSpec::new(m.atime(), m.atime_nsec());
    let mtime = TimeSpec::new(m.mtime(), m.mtime_nsec());
    utimensat(
        nix::fcntl::AT_FDCWD,
        d,
        &atime,
        &mtime,
        UtimensatFlags::NoFollowSymlink,
    )
    .map_err(|e| Error::sys(format!("setting the times of {}", d.display()), e))
}

/// Whether the container's copy of the image has been made.
pub fn is_ready(plan: &RootfsPlan) -> bool {
    plan.work.join(READY).exists()
}
