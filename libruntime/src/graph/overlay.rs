//! The kernel's overlayfs, mounted with `userxattr` so that the same layers serve root
//! and rootless stores (and a user namespace may mount it).

use super::driver::{GraphDriver, Lifetime, RootMount};
use super::RootfsPlan;
use crate::error::Result;
use crate::syscall::{Syscall, LINUX};
use nix::mount::MsFlags;
use std::path::Path;

pub struct Overlay;

/// Mounts the overlay on `target`, leaving the working directory in the layers
/// directory: relative lower paths keep the option string under the kernel's
/// one-page limit.
fn mount_with(sys: &dyn Syscall, target: &Path, plan: &RootfsPlan) -> Result<()> {
    sys.chdir(&plan.layers_dir)?;
    let data = format!(
        "lowerdir={},upperdir={},workdir={},userxattr",
        lowerdir(plan),
        plan.upper.display(),
        plan.work.display()
    );
    sys.mount_fs("overlay", target, "overlay", MsFlags::empty(), Some(&data))
}

impl GraphDriver for Overlay {
    /// The caller's working directory is given back.
    fn mount(&self, plan: &RootfsPlan, target: &Path, _: Lifetime) -> Result<RootMount> {
        let cwd = std::env::current_dir().ok();
        let result = mount_with(LINUX, target, plan);
        if let Some(d) = cwd {
            let _ = std::env::set_current_dir(d);
        }
        result.map(|_| RootMount::at(target.to_path_buf()))
    }

    fn mount_in_sandbox(&self, sys: &dyn Syscall, root: &Path, plan: &RootfsPlan) -> Result<()> {
        mount_with(sys, root, plan)
    }
}

/// The `lowerdir=` value, relative to the layers directory.
pub fn lowerdir(plan: &RootfsPlan) -> String {
    if plan.lowers.is_empty() {
        plan.empty.display().to_string()
    } else {
        plan.lowers.join(":")
    }
}
