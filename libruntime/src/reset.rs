//! `system reset`: a storage root and its runtime root emptied, as if skiff had never
//! run. The caller removes the containers first (stopping them through their
//! supervisors); what is left is files, some owned by subordinate ids.

use crate::error::Result;
use crate::paths::Paths;
use crate::userns::IdMaps;
use crate::{fsutil, userns};

/// Removes both roots. Layer files of other ids are removed from inside the storage
/// user namespace when removing them as we are fails.
pub fn reset(paths: &Paths, maps: &IdMaps) -> Result<()> {
    for root in [&paths.root, &paths.runroot] {
        if fsutil::remove_tree(root).is_err() {
            userns::run_in_storage_ns(maps, || fsutil::remove_tree(root))?;
        }
    }
    Ok(())
}
