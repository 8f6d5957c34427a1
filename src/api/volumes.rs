//! The volume endpoints: list, create, inspect, remove, prune, in docker's shapes.

use super::error::{ApiError, ApiResult};
use super::query::Query;
use crate::Ctx;
use libruntime::volume::{self, VolumeRecord};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;

fn value(v: &VolumeRecord) -> Value {
    json!({
        "Name": v.name,
        "Driver": v.driver,
        "Mountpoint": v.mountpoint,
        "CreatedAt": v.created,
        "Labels": v.labels,
        "Scope": "local",
        "Options": v.options,
    })
}

fn find(ctx: &Ctx, name: &str) -> ApiResult<VolumeRecord> {
    volume::get(&ctx.paths, name)
        .map_err(|_| ApiError::NotFound(format!("get {name}: no such volume")))
}

pub fn list(ctx: &Ctx, q: &Query) -> ApiResult<Value> {
    let filters = q.filters().map_err(ApiError::BadRequest)?;
    let mut out = Vec::new();
    for v in volume::list(&ctx.paths) {
        let mut keep = true;
        for f in &filters {
            keep &= crate::commands::volume::matches_filter(ctx, &v, f)
                .map_err(|e| ApiError::BadRequest(crate::exit::one_line(&e)))?;
        }
        if keep {
            out.push(value(&v));
        }
    }
    Ok(json!({"Volumes": out, "Warnings": []}))
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct CreateBody {
    name: String,
    driver: String,
    driver_opts: Option<BTreeMap<String, String>>,
    labels: Option<BTreeMap<String, String>>,
}

pub fn create(ctx: &Ctx, body: &[u8]) -> ApiResult<Value> {
    let b: CreateBody = serde_json::from_slice(body)
        .map_err(|e| ApiError::BadRequest(format!("invalid volume request: {e}")))?;
    if !matches!(b.driver.as_str(), "" | "local") {
        return Err(ApiError::BadRequest(format!(
            "volume driver {:?} is not supported: only local",
            b.driver
        )));
    }
    let name = Some(b.name.as_str()).filter(|n| !n.is_empty());
    // docker answers an existing name with that volume.
    if let Some(v) = name.and_then(|n| volume::get(&ctx.paths, n).ok()) {
        return Ok(value(&v));
    }
    let _lock = libruntime::store::Store::open_locked(&ctx.paths)?;
    let v = volume::create(
        &ctx.paths,
        name,
        b.labels.unwrap_or_default(),
        b.driver_opts.unwrap_or_default(),
    )
    .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    Ok(value(&v))
}

pub fn inspect(ctx: &Ctx, name: &str) -> ApiResult<Value> {
    Ok(value(&find(ctx, name)?))
}

pub fn delete(ctx: &Ctx, name: &str, q: &Query) -> ApiResult<()> {
    find(ctx, name)?;
    let users = libruntime::container::volumes::users_of(&ctx.paths, name)?;
    if !users.is_empty() && !q.flag("force") {
        return Err(ApiError::Conflict(format!(
            "remove {name}: volume is in use - [{}]",
            users
                .iter()
                .map(|c| c.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    for c in &users {
        ctx.handle(c).remove(true)?;
    }
    volume::remove(&ctx.paths, &ctx.maps, name)?;
    Ok(())
}

pub fn prune(ctx: &Ctx) -> ApiResult<Value> {
    let mut gone = Vec::new();
    for v in volume::list(&ctx.paths) {
        if libruntime::container::volumes::users_of(&ctx.paths, &v.name)?.is_empty() {
            volume::remove(&ctx.paths, &ctx.maps, &v.name)?;
            gone.push(v.name);
        }
    }
    Ok(json!({"VolumesDeleted": gone, "SpaceReclaimed": 0}))
}
