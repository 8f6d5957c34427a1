//! Whole-store lock: an flock on a file. Mutations of shared indexes hold it
//! exclusively; the kernel drops it if the holder dies, so a crash never wedges the store.

use crate::error::{Context, Result};
use nix::fcntl::{Flock, FlockArg};
use std::fs::{File, OpenOptions};
use std::path::Path;

pub struct StoreLock {
    _lock: Flock<File>,
}

impl StoreLock {
    pub fn exclusive(path: &Path) -> Result<StoreLock> {
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(path)
            .ctx(|| format!("opening lock {}", path.display()))?;
        let lock = Flock::lock(file, FlockArg::LockExclusive)
            .map_err(|(_, e)| e)
            .ctx(|| format!("locking {}", path.display()))?;
        Ok(StoreLock { _lock: lock })
    }
}
