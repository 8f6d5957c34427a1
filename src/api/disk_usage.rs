//! `GET /system/df`: images, containers and volumes with the space each takes, in
//! dockerd's shape, from the same store walk `skiff system df` makes.

use super::error::ApiResult;
use super::query::Query;
use crate::Ctx;
use libruntime::container::ContainerDirs;
use serde_json::{json, Value};

pub fn df(ctx: &Ctx) -> ApiResult<Value> {
    let mut images = super::images::list(ctx, &Query::default())?;
    let layers_size: u64 = images
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| i["Size"].as_u64())
        .sum();
    for i in images.as_array_mut().into_iter().flatten() {
        i["SharedSize"] = json!(0);
    }
    let mut containers = super::containers::list(ctx, &Query::parse(Some("all=1")))?;
    for c in containers.as_array_mut().into_iter().flatten() {
        let id = c["Id"].as_str().unwrap_or("").to_string();
        let rw = libruntime::fsutil::tree_size(&ContainerDirs::new(&ctx.paths, &id).upper());
        c["SizeRw"] = json!(rw);
        c["SizeRootFs"] = json!(rw);
    }
    let mut volumes = super::volumes::list(ctx, &Query::default())?["Volumes"].take();
    for v in volumes.as_array_mut().into_iter().flatten() {
        let name = v["Name"].as_str().unwrap_or("").to_string();
        let size = v["Mountpoint"]
            .as_str()
            .map(|m| libruntime::fsutil::tree_size(std::path::Path::new(m)))
            .unwrap_or(0);
        let users = libruntime::container::volumes::users_of(&ctx.paths, &name)?.len();
        v["UsageData"] = json!({"Size": size, "RefCount": users});
    }
    Ok(json!({
        "LayersSize": layers_size,
        "Images": images,
        "Containers": containers,
        "Volumes": volumes,
        "BuildCache": [],
        // Deprecated in 1.42 but still read by older clients.
        "BuilderSize": 0,
    }))
}
