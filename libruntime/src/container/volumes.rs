//! Which containers use a volume, and a removed container's anonymous volumes.

use super::ContainerRecord;
use crate::error::Result;
use crate::paths::Paths;
use crate::userns::IdMaps;
use crate::volume;

/// Containers whose mounts name the volume.
pub fn users_of(paths: &Paths, name: &str) -> Result<Vec<ContainerRecord>> {
    Ok(super::list(paths)?
        .into_iter()
        .filter(|c| c.config.volumes.iter().any(|v| v == name))
        .collect())
}

/// Removes the anonymous volumes a (removed) container used, unless another container
/// still uses them.
pub fn remove_anonymous_of(paths: &Paths, maps: &IdMaps, record: &ContainerRecord) -> Result<()> {
    for name in &record.config.volumes {
        let Ok(v) = volume::get(paths, name) else {
            continue;
        };
        if v.anonymous && users_of(paths, name)?.iter().all(|c| c.id == record.id) {
            volume::remove(paths, maps, name)?;
        }
    }
    Ok(())
}
