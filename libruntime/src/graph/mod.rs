//! Graph drivers: how image layers become a container's root file system.
//!
//! Layers are stored once, in overlay form (whiteouts as 0/0 character devices, opaque
//! directories marked with an xattr), whatever the driver. The driver only decides how
//! a container's root is made from them, so it is chosen per container: `overlay`
//! mounts the kernel's overlayfs, `fuse-overlayfs` runs the FUSE implementation of the
//! same, and `vfs` copies every layer into a private directory.

pub mod changes;
pub mod driver;
mod error;
pub mod fuse;
pub mod image_mount;
pub mod lower;
pub mod overlay;
pub mod vfs;

pub use driver::{GraphDriver, Lifetime, RootMount};
pub use error::GraphError;

use crate::error::Result;
use crate::paths::Paths;
use serde::Serialize;
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Driver {
    /// Kernel overlayfs with `userxattr` (Linux ≥ 5.11 lets a user namespace mount it).
    #[serde(rename = "overlay")]
    Overlay,
    #[serde(rename = "fuse-overlayfs")]
    FuseOverlayfs,
    #[serde(rename = "vfs")]
    Vfs,
}

impl Driver {
    pub fn name(self) -> &'static str {
        match self {
            Driver::Overlay => "overlay",
            Driver::FuseOverlayfs => "fuse-overlayfs",
            Driver::Vfs => "vfs",
        }
    }

    pub fn parse(s: &str) -> Option<Driver> {
        match s {
            "overlay" | "overlay2" => Some(Driver::Overlay),
            "fuse-overlayfs" => Some(Driver::FuseOverlayfs),
            "vfs" => Some(Driver::Vfs),
            _ => None,
        }
    }

    /// Whether the container's changes sit in an upper directory above the layers
    /// (overlay and fuse-overlayfs) rather than in a full copy (vfs).
    pub fn has_upper(self) -> bool {
        self != Driver::Vfs
    }
}

/// How to build a container's root from the stored layers.
#[derive(Debug, Clone)]
pub struct RootfsPlan {
    pub driver: Driver,
    pub layers_dir: PathBuf,
    /// Layer directories relative to `layers_dir`, top layer first.
    pub lowers: Vec<String>,
    /// The container's writable directory: overlay's upper directory, or vfs's full
    /// copy of the image.
    pub upper: PathBuf,
    pub work: PathBuf,
    /// Lower directory used when the image has no layer at all.
    pub empty: PathBuf,
    /// `--userns=keep-id` (rootless): how the container's user namespace shifts the
    /// stored owners, which fuse-overlayfs undoes so image files keep their owners.
    pub keep_id: Option<KeepIdShift>,
}

/// Under keep-id the caller's own id appears as itself and container ids 0.. come from
/// the subordinate range, so a file the store keeps as owned by id k (the storage
/// namespace's view) is seen inside as U for k = 0, k-1 for 1 <= k <= U, and k above.
/// fuse-overlayfs's id mappings present it as k again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeepIdShift {
    pub uid: u32,
    pub gid: u32,
    /// How many ids the storage namespace maps (1 + the subordinate ids).
    pub span: u32,
}

impl KeepIdShift {
    /// fuse-overlayfs's `uidmapping=`/`gidmapping=` value for own id `u`:
    /// SEEN:PRESENTED:COUNT triples (seen: the owner on disk as the namespace sees it).
    pub fn mapping(u: u32, span: u32) -> String {
        let mut m = format!("{u}:0:1:0:1:{u}");
        if span > u + 1 {
            m.push_str(&format!(":{0}:{0}:{1}", u + 1, span - (u + 1)));
        }
        m
    }

    pub fn fuse_options(&self) -> String {
        format!(
            "uidmapping={},gidmapping={}",
            Self::mapping(self.uid, self.span),
            Self::mapping(self.gid, self.span)
        )
    }
}

/// Lower directories, top first, each once. An image may list one layer twice (two
/// build steps that changed nothing give the same empty layer); overlayfs refuses
/// that, and dropping the lower copy changes nothing: the upper one, with the same
/// content, covers everything it would show.
pub fn unique_lowers(layers: &[String]) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    layers
        .iter()
        .rev()
        .map(|d| format!("{}/diff", d.trim_start_matches("sha256:")))
        .filter(|l| seen.insert(l.clone()))
        .collect()
}

impl RootfsPlan {
    /// Absolute lower directories, top first.
    pub fn lower_dirs(&self) -> Vec<PathBuf> {
        self.lowers
            .iter()
            .map(|l| self.layers_dir.join(l))
            .collect()
    }
}

/// The best driver this host offers.
fn detect(paths: &Paths) -> Driver {
    let (major, minor) = crate::platform::kernel_version();
    if (major, minor) >= (5, 11) || !paths.rootless {
        Driver::Overlay
    } else if crate::helpers::available(fuse::PROGRAM) {
        Driver::FuseOverlayfs
    } else {
        Driver::Vfs
    }
}

fn recorded_file(paths: &Paths) -> PathBuf {
    paths.root.join("graph-driver")
}

/// The driver storage.conf names, if any (user's first, then /etc).
fn configured(paths: &Paths) -> Result<Option<String>> {
    Ok(crate::config::StorageConf::load(paths.rootless)?.and_then(|c| c.storage.driver))
}

/// The driver for new containers: `--storage-driver`, else the config file, else the
/// one recorded for this storage root, else the best the host offers. The first
/// choice made for a root is recorded there, so `info` stays stable.
pub fn select(paths: &Paths) -> Result<Driver> {
    let asked = match paths.storage_driver.clone() {
        Some(d) => Some(d),
        None => configured(paths)?,
    };
    let driver = match asked {
        Some(name) => Driver::parse(&name).ok_or(GraphError::UnknownDriver(name))?,
        None => driver_for(paths),
    };
    if driver == Driver::FuseOverlayfs && !crate::helpers::available(fuse::PROGRAM) {
        return Err(GraphError::MissingProgram {
            driver: Driver::FuseOverlayfs.name().into(),
            program: fuse::PROGRAM.into(),
        }
        .into());
    }
    if !recorded_file(paths).exists() {
        let _ = crate::fsutil::create_dir_all(&paths.root).and_then(|_| {
            crate::fsutil::write_atomic(&recorded_file(paths), driver.name().as_bytes())
        });
    }
    Ok(driver)
}

/// The driver for a new container. A rootless keep-id container on kernel overlay
/// gets fuse-overlayfs instead, whose id mappings keep image files owned as stored
/// (the kernel's overlay cannot shift owners for a user without privilege).
pub fn select_for_container(paths: &Paths, keep_id: bool) -> Result<Driver> {
    let d = select(paths)?;
    if keep_id && paths.rootless && d == Driver::Overlay && crate::helpers::available(fuse::PROGRAM)
    {
        return Ok(Driver::FuseOverlayfs);
    }
    Ok(d)
}

/// The driver this storage root reports: the one asked for, else recorded, else detected.
pub fn driver_for(paths: &Paths) -> Driver {
    if let Some(d) = paths.storage_driver.as_deref().and_then(Driver::parse) {
        return d;
    }
    if let Ok(s) = std::fs::read_to_string(recorded_file(paths)) {
        if let Some(d) = Driver::parse(s.trim()) {
            return d;
        }
    }
    // What is reported needs no valid file: a broken one is an error where a container
    // is made (`select`).
    configured(paths)
        .ok()
        .flatten()
        .as_deref()
        .and_then(Driver::parse)
        .unwrap_or_else(|| detect(paths))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keep_id_mappings_undo_the_shift() {
        // Own id 1001, 65537 ids in the storage namespace.
        assert_eq!(
            KeepIdShift::mapping(1001, 65537),
            "1001:0:1:0:1:1001:1002:1002:64535"
        );
        // Every seen id in the namespace is presented exactly once.
        let m: Vec<u32> = KeepIdShift::mapping(3, 10)
            .split(':')
            .map(|x| x.parse().unwrap())
            .collect();
        let mut presented = std::collections::BTreeMap::new();
        for t in m.chunks(3) {
            for i in 0..t[2] {
                assert!(presented.insert(t[0] + i, t[1] + i).is_none());
            }
        }
        assert_eq!(presented.len(), 10);
        assert_eq!(presented[&3], 0, "the user's own id is the stored root");
        assert_eq!(presented[&0], 1);
        assert_eq!(presented[&9], 9);
    }
}
