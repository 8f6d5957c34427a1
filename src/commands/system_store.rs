//! `system df`, `system prune` and `system reset`: the whole store at once, built from
//! the verbs of each kind (container, image, network and volume prune), so they agree.

use crate::cli::{PruneArgs, SystemDfArgs, SystemPruneArgs, SystemResetArgs};
use crate::cli_container::ForceArgs;
use crate::cli_network::NetworkPruneArgs;
use crate::output::{print_json, print_rows, write_out};
use crate::Ctx;
use anyhow::Result;
use libruntime::container::{self as ctr, ContainerDirs, State};
use libruntime::store::Store;
use libruntime::time::human_size;
use serde_json::{json, Value};
use std::time::Duration;

pub fn prune(ctx: &Ctx, a: SystemPruneArgs) -> Result<i32> {
    if !a.force {
        let mut what = String::from(
            "WARNING! This command removes:\n\t- all pods not running\n\t- all stopped containers\n\t- all networks not used by at least one container\n",
        );
        what.push_str(if a.all {
            "\t- all images without at least one container associated with them\n"
        } else {
            "\t- all dangling images\n"
        });
        if a.volumes {
            what.push_str("\t- all volumes not used by at least one container\n");
        }
        if !super::image::confirm(what.trim_end())? {
            return Ok(0);
        }
    }
    write_out("Deleted Pods\n")?;
    super::pod::prune(ctx)?;
    write_out("Deleted Containers\n")?;
    super::container::prune(ctx, ForceArgs { force: true })?;
    write_out("Deleted Networks\n")?;
    super::network::prune(ctx, NetworkPruneArgs { force: true })?;
    if a.volumes {
        write_out("Deleted Volumes\n")?;
        super::volume::prune(ctx, ForceArgs { force: true })?;
    }
    write_out("Deleted Images\n")?;
    super::image::prune(
        ctx,
        PruneArgs {
            all: a.all,
            force: true,
        },
    )?;
    Ok(0)
}

/// Everything goes: containers (stopped first), then the storage and runtime roots.
pub fn reset(ctx: &Ctx, a: SystemResetArgs) -> Result<i32> {
    if !a.force
        && !super::image::confirm(
            "WARNING! This will remove:\n\t- all containers\n\t- all pods\n\t- all images\n\t- all networks\n\t- all build cache\n\t- all machines\n\t- all volumes",
        )?
    {
        return Ok(0);
    }
    for p in libruntime::pod::list(&ctx.paths)? {
        libruntime::pod::Pod::new(&ctx.paths, &ctx.maps, p).remove(true, Duration::ZERO)?;
    }
    for r in ctr::list(&ctx.paths)? {
        ctx.handle(&r).remove(true)?;
    }
    libruntime::reset::reset(&ctx.paths, &ctx.maps)?;
    Ok(0)
}

pub fn df(ctx: &Ctx, a: SystemDfArgs) -> Result<i32> {
    let store = Store::open(&ctx.paths);
    let images = store.images()?;
    let containers = ctr::list(&ctx.paths)?;
    let volumes = libruntime::volume::list(&ctx.paths);
    let used_images: std::collections::HashSet<&str> =
        containers.iter().map(|c| c.image_id.as_str()).collect();
    let image_size: u64 = images.iter().map(|i| i.size).sum();
    let image_free: u64 = images
        .iter()
        .filter(|i| !used_images.contains(i.id.as_str()))
        .map(|i| i.size)
        .sum();
    let (mut ctr_size, mut ctr_free, mut ctr_active) = (0u64, 0u64, 0usize);
    for c in &containers {
        let dirs = ContainerDirs::new(&ctx.paths, &c.id);
        let size = libruntime::fsutil::tree_size(&dirs.upper());
        ctr_size += size;
        if State::load(&dirs).is_ok_and(|s| s.is_active()) {
            ctr_active += 1;
        } else {
            ctr_free += size;
        }
    }
    let (mut vol_size, mut vol_free, mut vol_active) = (0u64, 0u64, 0usize);
    for v in &volumes {
        let size = libruntime::fsutil::tree_size(&v.mountpoint);
        vol_size += size;
        if libruntime::container::volumes::users_of(&ctx.paths, &v.name)?.is_empty() {
            vol_free += size;
        } else {
            vol_active += 1;
        }
    }
    let row = |kind: &str, total: usize, active: usize, size: u64, free: u64| {
        let pct = (free * 100).checked_div(size).unwrap_or(0);
        json!({
            "Type": kind, "Total": total, "Active": active,
            "Size": human_size(size), "RawSize": size,
            "Reclaimable": format!("{} ({pct}%)", human_size(free)), "RawReclaimable": free,
        })
    };
    let rows = vec![
        row(
            "Images",
            images.len(),
            used_images.len().min(images.len()),
            image_size,
            image_free,
        ),
        row(
            "Containers",
            containers.len(),
            ctr_active,
            ctr_size,
            ctr_free,
        ),
        row(
            "Local Volumes",
            volumes.len(),
            vol_active,
            vol_size,
            vol_free,
        ),
    ];
    match a.format.as_deref() {
        Some("json") => print_json(&Value::Array(rows))?,
        f => print_rows(
            f,
            "table {{.Type}}\t{{.Total}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}",
            &[
                ("Type", "TYPE"),
                ("Total", "TOTAL"),
                ("Active", "ACTIVE"),
                ("Size", "SIZE"),
                ("Reclaimable", "RECLAIMABLE"),
            ],
            &rows,
        )?,
    }
    Ok(0)
}
