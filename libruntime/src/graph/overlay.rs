//! The kernel's overlayfs, mounted with `userxattr` so that the same layers serve root
//! and rootless stores (and a user namespace may mount it).

use super::RootfsPlan;
use crate::error::{Context, Result};
use nix::mount::{mount, MsFlags};
use std::path::Path;

pub fn mount_overlay(target: &Path, plan: &RootfsPlan) -> Result<()> {
    // Relative lower paths keep the option string under the kernel's one-page limit.
    nix::unistd::chdir(&plan.layers_dir)
        .ctx(|| format!("entering {}", plan.layers_dir.display()))?;
    let data = format!(
        "lowerdir={},upperdir={},workdir={},userxattr",
        lowerdir(plan),
        plan.upper.display(),
        plan.work.display()
    );
    mount(
        Some("overlay"),
        target,
        Some("overlay"),
        MsFlags::empty(),
        Some(data.as_str()),
    )
    .ctx(|| format!("mounting overlay on {}", target.display()))
}

/// The `lowerdir=` value, relative to the layers directory.
pub fn lowerdir(plan: &RootfsPlan) -> String {
    if plan.lowers.is_empty() {
        plan.empty.display().to_string()
    } else {
        plan.lowers.join(":")
    }
}
