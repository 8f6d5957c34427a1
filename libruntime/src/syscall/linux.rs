//! The seam's real implementation: nix's wrappers, with errors that say what was being
//! mounted where.

use super::Syscall;
use crate::error::{Context, Result};
use nix::mount::{mount, umount2, MntFlags, MsFlags};
use std::path::{Path, PathBuf};

pub struct LinuxSyscall;

/// The flags a mount already carries that a user namespace may not clear
/// (nosuid/nodev/noexec/ro and the atime flags it inherited).
fn locked_flags(target: &Path) -> MsFlags {
    use nix::sys::statvfs::FsFlags;
    let Ok(s) = nix::sys::statvfs::statvfs(target) else {
        return MsFlags::empty();
    };
    let mut m = MsFlags::empty();
    for (a, b) in [
        (FsFlags::ST_NOSUID, MsFlags::MS_NOSUID),
        (FsFlags::ST_NODEV, MsFlags::MS_NODEV),
        (FsFlags::ST_NOEXEC, MsFlags::MS_NOEXEC),
        (FsFlags::ST_RDONLY, MsFlags::MS_RDONLY),
        (FsFlags::ST_NOATIME, MsFlags::MS_NOATIME),
        (FsFlags::ST_NODIRATIME, MsFlags::MS_NODIRATIME),
        (FsFlags::ST_RELATIME, MsFlags::MS_RELATIME),
    ] {
        if s.flags().contains(a) {
            m |= b;
        }
    }
    m
}

impl Syscall for LinuxSyscall {
    fn mount_fs(
        &self,
        source: &str,
        target: &Path,
        fstype: &str,
        flags: MsFlags,
        data: Option<&str>,
    ) -> Result<()> {
        mount(Some(source), target, Some(fstype), flags, data)
            .ctx(|| format!("mounting {fstype} on {}", target.display()))
    }

    fn bind(&self, source: &Path, target: &Path, recursive: bool) -> Result<()> {
        let mut flags = MsFlags::MS_BIND;
        if recursive {
            flags |= MsFlags::MS_REC;
        }
        mount(Some(source), target, None::<&str>, flags, None::<&str>)
            .ctx(|| format!("bind-mounting {} on {}", source.display(), target.display()))
    }

    fn remount(&self, target: &Path, flags: MsFlags) -> Result<()> {
        let flags = MsFlags::MS_BIND | MsFlags::MS_REMOUNT | flags | locked_flags(target);
        mount(None::<&str>, target, None::<&str>, flags, None::<&str>)
            .ctx(|| format!("remounting {}", target.display()))
    }

    fn make_private(&self, target: &Path) -> Result<()> {
        let flags = MsFlags::MS_REC | MsFlags::MS_PRIVATE;
        mount(None::<&str>, target, None::<&str>, flags, None::<&str>)
            .ctx(|| format!("making {} private", target.display()))
    }

    /// Without a temporary directory: pivot onto itself, then lazily unmount the old
    /// root that now sits on top.
    fn pivot_into(&self, new_root: &Path) -> Result<PathBuf> {
        nix::unistd::chdir(new_root).ctx(|| format!("entering {}", new_root.display()))?;
        nix::unistd::pivot_root(".", ".").ctx(|| "pivot_root".into())?;
        // The old root must not propagate its unmount back to the host.
        let slave = MsFlags::MS_REC | MsFlags::MS_SLAVE;
        mount(None::<&str>, ".", None::<&str>, slave, None::<&str>)
            .ctx(|| "making the old root a slave".into())?;
        umount2(".", MntFlags::MNT_DETACH).ctx(|| "detaching the old root".into())?;
        nix::unistd::chdir("/").ctx(|| "chdir /".into())?;
        Ok(PathBuf::from("/"))
    }

    fn chdir(&self, dir: &Path) -> Result<()> {
        nix::unistd::chdir(dir).ctx(|| format!("entering {}", dir.display()))
    }

    fn unmount(&self, target: &Path) -> Result<()> {
        umount2(target, MntFlags::MNT_DETACH).ctx(|| format!("unmounting {}", target.display()))
    }
}
