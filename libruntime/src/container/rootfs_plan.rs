//! How a container's root is made from its stored layers, for its graph driver.

use super::options::UsernsMode;
use super::{ContainerDirs, ContainerRecord};
use crate::graph::{unique_lowers, Driver, KeepIdShift, RootfsPlan};
use crate::paths::Paths;
use crate::userns::{IdMapping, IdMaps};

/// The plan for `record`'s root.
pub fn rootfs_plan(paths: &Paths, record: &ContainerRecord, dirs: &ContainerDirs) -> RootfsPlan {
    RootfsPlan {
        driver: Driver::parse(&record.driver).unwrap_or(Driver::Overlay),
        layers_dir: paths.layers_dir(),
        lowers: unique_lowers(&record.layers),
        upper: dirs.upper(),
        work: dirs.work(),
        empty: dirs.dir.join("empty"),
        keep_id: keep_id_shift(paths, record),
    }
}

/// The owner shift a keep-id container's root needs (rootless only).
fn keep_id_shift(paths: &Paths, record: &ContainerRecord) -> Option<KeepIdShift> {
    if !paths.rootless || record.config.userns != UsernsMode::KeepId {
        return None;
    }
    let (maps, _) = IdMaps::for_current_user();
    let span = |m: &[IdMapping]| m.iter().map(|x| x.size).sum::<u32>();
    Some(KeepIdShift {
        uid: nix::unistd::getuid().as_raw(),
        gid: nix::unistd::getgid().as_raw(),
        span: span(&maps.uids).min(span(&maps.gids)),
    })
}
