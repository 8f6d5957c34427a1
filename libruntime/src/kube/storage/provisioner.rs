//! Dynamic provisioning: a StorageClass names a provisioner, which makes the storage
//! behind a claim's new PersistentVolume and deletes it under the Delete policy.
//! skiff has one, `skiff.io/volume`, which makes a skiff volume per claim, so the
//! data is seen (and kept or removed) as any other volume's.

use crate::error::Result;
use crate::paths::Paths;
use crate::store::Store;
use crate::userns::IdMaps;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The provisioner name skiff's built-in StorageClass uses.
pub const SKIFF_VOLUME: &str = "skiff.io/volume";

/// The label that ties a skiff volume to its PersistentVolume.
pub const PV_LABEL: &str = "io.skiff.kube/persistent-volume";

/// What backs dynamically provisioned volumes.
pub trait Provisioner {
    /// Makes the storage for volume `pv`; the directory that holds its data.
    fn provision(&self, pv: &str, claim: &str) -> Result<PathBuf>;
    /// Removes what `provision` made for `pv`.
    fn delete(&self, pv: &str) -> Result<()>;
}

/// The provisioner a class names, if skiff has it.
pub fn by_name<'a>(
    name: &str,
    paths: &'a Paths,
    maps: &'a IdMaps,
) -> Option<Box<dyn Provisioner + 'a>> {
    (name == SKIFF_VOLUME)
        .then(|| Box::new(VolumeProvisioner { paths, maps }) as Box<dyn Provisioner>)
}

/// `skiff.io/volume`: a skiff volume named as the PersistentVolume.
pub struct VolumeProvisioner<'a> {
    paths: &'a Paths,
    maps: &'a IdMaps,
}

impl Provisioner for VolumeProvisioner<'_> {
    fn provision(&self, pv: &str, claim: &str) -> Result<PathBuf> {
        let _store = Store::open_locked(self.paths)?;
        if let Ok(v) = crate::volume::get(self.paths, pv) {
            return Ok(v.mountpoint);
        }
        let labels: BTreeMap<String, String> = [
            (PV_LABEL.to_string(), pv.to_string()),
            ("io.skiff.kube/claim".to_string(), claim.to_string()),
        ]
        .into();
        Ok(crate::volume::create(self.paths, Some(pv), labels, BTreeMap::new())?.mountpoint)
    }

    fn delete(&self, pv: &str) -> Result<()> {
        let _store = Store::open_locked(self.paths)?;
        if crate::volume::get(self.paths, pv).is_err() {
            return Ok(());
        }
        crate::volume::remove(self.paths, self.maps, pv)
    }
}
