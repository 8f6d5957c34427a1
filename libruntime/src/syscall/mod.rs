//! The seam under everything that mounts: the sandbox's root file system plan, the
//! graph drivers and the commands that reach a stopped container's files call these
//! methods, never `mount(2)` directly. `LinuxSyscall` makes the calls; the recording
//! double (tests only) writes them down, so the order of the mount plan, the masked
//! paths and the fallbacks are checked without root.

mod linux;
#[cfg(test)]
pub mod recording;

pub use linux::LinuxSyscall;

use crate::error::Result;
use nix::mount::MsFlags;
use std::path::{Path, PathBuf};

pub trait Syscall {
    /// Mounts a file system of type `fstype` from `source` on `target`.
    fn mount_fs(
        &self,
        source: &str,
        target: &Path,
        fstype: &str,
        flags: MsFlags,
        data: Option<&str>,
    ) -> Result<()>;

    /// Bind-mounts `source` on `target`, with everything under it when `recursive`.
    fn bind(&self, source: &Path, target: &Path, recursive: bool) -> Result<()>;

    /// Remounts the bind mount at `target` with `flags` added, keeping the flags the
    /// kernel locked on it.
    fn remount(&self, target: &Path, flags: MsFlags) -> Result<()>;

    /// Stops mount events under `target` from propagating to or from the host.
    fn make_private(&self, target: &Path) -> Result<()>;

    /// Makes `new_root` the root of this mount namespace and drops the old one.
    /// Returns where the new root is now seen by this process: `/` after a real
    /// pivot, `new_root` itself for a double that does not pivot.
    fn pivot_into(&self, new_root: &Path) -> Result<PathBuf>;

    fn chdir(&self, dir: &Path) -> Result<()>;

    /// Detaches the mount at `target` (lazily: users of it keep it until they let go).
    fn unmount(&self, target: &Path) -> Result<()>;
}

/// Whether something is mounted at `path` in this process's mount namespace.
pub fn is_mounted(path: &Path) -> bool {
    let want = path.to_string_lossy();
    std::fs::read_to_string("/proc/self/mountinfo")
        .map(|info| {
            info.lines()
                .any(|l| l.split(' ').nth(4) == Some(want.as_ref()))
        })
        .unwrap_or(false)
}

/// The real system calls.
pub const LINUX: &LinuxSyscall = &LinuxSyscall;
