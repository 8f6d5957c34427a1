//! volume create, ls, inspect, rm, prune, exists.

use crate::cli_container::*;
use crate::output::{print_json, print_listing, print_rows, write_out, Listing};
use crate::Ctx;
use anyhow::{bail, Result};
use libruntime::container::options::parse_key_values;
use libruntime::container::ContainerRecord;
use libruntime::store::Store;
use libruntime::volume::VolumeError;
use libruntime::volume::{self, VolumeRecord};
use serde_json::Value;

pub fn dispatch(ctx: &Ctx, cmd: VolumeCommand) -> Result<i32> {
    match cmd {
        VolumeCommand::Create(a) => create(ctx, a),
        VolumeCommand::Ls(a) => ls(ctx, a),
        VolumeCommand::Inspect(a) => inspect(ctx, a),
        VolumeCommand::Rm(a) => rm(ctx, a),
        VolumeCommand::Prune(a) => prune(ctx, a),
        VolumeCommand::Exists(a) => Ok(if volume::get(&ctx.paths, &a.name).is_ok() {
            0
        } else {
            1
        }),
    }
}

fn create(ctx: &Ctx, a: VolumeCreateArgs) -> Result<i32> {
    if a.driver != "local" {
        bail!("volume driver {:?} is not supported: only local", a.driver);
    }
    let labels = parse_key_values("label", &a.label)?;
    let options = parse_key_values("opt", &a.opt)?;
    let _lock = Store::open_locked(&ctx.paths)?;
    let v = volume::create(&ctx.paths, a.name.as_deref(), labels, options)?;
    write_out(&format!("{}\n", v.name))?;
    Ok(0)
}

fn value(v: &VolumeRecord) -> Value {
    let mut j = serde_json::to_value(v).unwrap_or(Value::Null);
    j["Scope"] = "local".into();
    j
}

/// One `--filter KEY=VALUE` of `volume ls` (and the API's list): name, label, dangling.
pub(crate) fn matches_filter(ctx: &Ctx, v: &VolumeRecord, f: &str) -> Result<bool> {
    Ok(match f.split_once('=') {
        Some(("name", n)) => v.name.contains(n),
        Some(("label", l)) => match l.split_once('=') {
            Some((k, val)) => v.labels.get(k).is_some_and(|x| x == val),
            None => v.labels.contains_key(l),
        },
        Some(("dangling", d)) => {
            matches!(d, "true" | "1")
                == libruntime::container::volumes::users_of(&ctx.paths, &v.name)?.is_empty()
        }
        _ => bail!("invalid filter {f:?}: use name=, label= or dangling="),
    })
}

fn ls(ctx: &Ctx, a: VolumeLsArgs) -> Result<i32> {
    let mut rows = Vec::new();
    for v in volume::list(&ctx.paths) {
        let mut keep = true;
        for f in &a.filter {
            keep &= matches_filter(ctx, &v, f)?;
        }
        if keep {
            rows.push(value(&v));
        }
    }
    print_listing(
        &Listing {
            quiet: a.quiet,
            noheading: a.noheading,
            key: "Name",
            format: a.format.as_deref(),
            default_table: "table {{.Driver}}\t{{.Name}}",
            headers: &[
                ("Driver", "DRIVER"),
                ("Name", "VOLUME NAME"),
                ("Mountpoint", "MOUNTPOINT"),
            ],
        },
        rows,
    )?;
    Ok(0)
}

fn inspect(ctx: &Ctx, a: VolumeInspectArgs) -> Result<i32> {
    let values = a
        .names
        .iter()
        .map(|n| volume::get(&ctx.paths, n).map(|v| value(&v)))
        .collect::<libruntime::Result<Vec<_>>>()?;
    match a.format.as_deref() {
        None | Some("json") => print_json(&Value::Array(values))?,
        Some(f) => print_rows(Some(f), f, &[], &values)?,
    }
    Ok(0)
}

fn rm(ctx: &Ctx, a: VolumeRmArgs) -> Result<i32> {
    for n in &a.names {
        volume::get(&ctx.paths, n)?;
        let users = libruntime::container::volumes::users_of(&ctx.paths, n)?;
        if !a.force && !users.is_empty() {
            let e = libruntime::Error::Volume(VolumeError::InUse {
                name: n.clone(),
                containers: users.iter().map(|c| c.id.clone()).collect(),
            });
            return Err(crate::exit::with_code(crate::exit::code_of_lib(&e), e));
        }
        for c in &users {
            ctx.handle(c).remove(true)?;
        }
        volume::remove(&ctx.paths, &ctx.maps, n)?;
        write_out(&format!("{n}\n"))?;
    }
    Ok(0)
}

pub fn prune(ctx: &Ctx, a: ForceArgs) -> Result<i32> {
    if !a.force
        && !super::image::confirm(
            "WARNING! This will remove all volumes not used by at least one container.",
        )?
    {
        return Ok(0);
    }
    for v in volume::list(&ctx.paths) {
        if libruntime::container::volumes::users_of(&ctx.paths, &v.name)?.is_empty() {
            volume::remove(&ctx.paths, &ctx.maps, &v.name)?;
            write_out(&format!("{}\n", v.name))?;
        }
    }
    Ok(0)
}

/// `rm -v`: the anonymous volumes of a removed container.
pub fn remove_anonymous(ctx: &Ctx, r: &ContainerRecord) -> Result<()> {
    Ok(libruntime::container::volumes::remove_anonymous_of(
        &ctx.paths, &ctx.maps, r,
    )?)
}
