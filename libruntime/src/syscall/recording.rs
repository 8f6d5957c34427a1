//! The seam's test double: it records each call and mounts nothing, so a mount plan
//! can be checked by a test that is not root. A file system type can be made to fail,
//! to check the fallbacks.

use super::Syscall;
use crate::error::{Error, Result};
use nix::mount::MsFlags;
use std::cell::RefCell;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    Mount {
        source: String,
        target: PathBuf,
        fstype: String,
        flags: MsFlags,
        data: Option<String>,
    },
    Bind {
        source: PathBuf,
        target: PathBuf,
        recursive: bool,
    },
    Remount {
        target: PathBuf,
        flags: MsFlags,
    },
    MakePrivate(PathBuf),
    Pivot(PathBuf),
    Chdir(PathBuf),
    Unmount(PathBuf),
}

#[derive(Default)]
pub struct RecordingSyscall {
    pub calls: RefCell<Vec<Call>>,
    /// Mounts of this type fail with EPERM, as sysfs does in a user namespace without
    /// its own network namespace.
    pub refuse_fstype: Option<String>,
}

impl RecordingSyscall {
    pub fn calls(&self) -> Vec<Call> {
        self.calls.borrow().clone()
    }

    fn record(&self, c: Call) {
        self.calls.borrow_mut().push(c);
    }
}

impl Syscall for RecordingSyscall {
    fn mount_fs(
        &self,
        source: &str,
        target: &Path,
        fstype: &str,
        flags: MsFlags,
        data: Option<&str>,
    ) -> Result<()> {
        if self.refuse_fstype.as_deref() == Some(fstype) {
            return Err(Error::sys(
                format!("mounting {fstype}"),
                nix::errno::Errno::EPERM,
            ));
        }
        self.record(Call::Mount {
            source: source.into(),
            target: target.into(),
            fstype: fstype.into(),
            flags,
            data: data.map(String::from),
        });
        Ok(())
    }

    fn bind(&self, source: &Path, target: &Path, recursive: bool) -> Result<()> {
        self.record(Call::Bind {
            source: source.into(),
            target: target.into(),
            recursive,
        });
        Ok(())
    }

    fn remount(&self, target: &Path, flags: MsFlags) -> Result<()> {
        self.record(Call::Remount {
            target: target.into(),
            flags,
        });
        Ok(())
    }

    fn make_private(&self, target: &Path) -> Result<()> {
        self.record(Call::MakePrivate(target.into()));
        Ok(())
    }

    fn pivot_into(&self, new_root: &Path) -> Result<PathBuf> {
        self.record(Call::Pivot(new_root.into()));
        Ok(new_root.to_path_buf())
    }

    fn chdir(&self, dir: &Path) -> Result<()> {
        self.record(Call::Chdir(dir.into()));
        Ok(())
    }

    fn unmount(&self, target: &Path) -> Result<()> {
        self.record(Call::Unmount(target.into()));
        Ok(())
    }
}
