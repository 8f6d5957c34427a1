//! Graph drivers: how image layers are stacked into a container's root file system.
//! The choice is made once per storage root and recorded there.

use crate::paths::Paths;
use serde::Serialize;

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
}

fn on_path(prog: &str) -> bool {
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(prog).is_file()))
        .unwrap_or(false)
}

/// The driver recorded for this storage root, or the best one this host offers.
pub fn driver_for(paths: &Paths) -> Driver {
    if let Ok(s) = std::fs::read_to_string(paths.root.join("graph-driver")) {
        if let Some(d) = Driver::parse(s.trim()) {
            return d;
        }
    }
    let (major, minor) = crate::platform::kernel_version();
    if (major, minor) >= (5, 11) || !paths.rootless {
        Driver::Overlay
    } else if on_path("fuse-overlayfs") {
        Driver::FuseOverlayfs
    } else {
        Driver::Vfs
    }
}
