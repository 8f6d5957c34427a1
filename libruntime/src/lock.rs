//! Locks on files (flock). Mutations of shared indexes hold the store lock exclusively;
//! each supervisor holds its container's lock for its whole life. The kernel drops a
//! lock when its holder dies, so a crash never wedges anything.

use crate::error::{Context, Result};
use nix::fcntl::{Flock, FlockArg};
use std::fs::{File, OpenOptions};
use std::path::Path;

pub struct StoreLock {
    _lock: Flock<File>,
}

impl StoreLock {
    pub fn exclusive(path: &Path) -> Result<StoreLock> {
        Self::take(path, FlockArg::LockExclusive)
    }

    /// The lock if nobody holds it now; None when another process does.
    pub fn try_exclusive(path: &Path) -> Result<Option<StoreLock>> {
        match Self::take(path, FlockArg::LockExclusiveNonblock) {
            Ok(l) => Ok(Some(l)),
            Err(crate::Error::Sys {
                source: nix::errno::Errno::EWOULDBLOCK,
                ..
            }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn take(path: &Path, how: FlockArg) -> Result<StoreLock> {
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(path)
            .ctx(|| format!("opening lock {}", path.display()))?;
        let lock = Flock::lock(file, how)
            .map_err(|(_, e)| e)
            .ctx(|| format!("locking {}", path.display()))?;
        Ok(StoreLock { _lock: lock })
    }
}
