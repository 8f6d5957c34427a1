//! The image endpoints: list, inspect, history, tag, delete and prune, through the
//! store as the CLI uses it.

use super::error::{ApiError, ApiResult};
use super::query::Query;
use crate::Ctx;
use libruntime::reference::{DefaultDomain, Reference};
use libruntime::store::Store;
use serde_json::{json, Value};

/// `GET /images/json?filters=`: dangling, reference and id filters, as `skiff images`.
pub fn list(ctx: &Ctx, q: &Query) -> ApiResult<Value> {
    let filters = q.filters().map_err(ApiError::BadRequest)?;
    let store = Store::open(&ctx.paths);
    let in_use: Vec<String> = libruntime::container::list(&ctx.paths)?
        .into_iter()
        .map(|c| c.image_id)
        .collect();
    let references: Vec<&str> = filters
        .iter()
        .filter_map(|f| f.strip_prefix("reference="))
        .collect();
    let mut images = Vec::new();
    for i in store.images()? {
        if crate::commands::image::matches_filters(&i, &filters, None)
            .map_err(|e| ApiError::BadRequest(crate::exit::one_line(&e)))?
        {
            images.push(i);
        }
    }
    images.sort_by(|a, b| b.added.cmp(&a.added));
    Ok(Value::Array(
        images
            .iter()
            .map(|i| {
                // dockerd lists only the names a reference filter names exactly
                // (a short name meaning the default domain's, here localhost).
                let names: Vec<&String> = i
                    .names
                    .iter()
                    .filter(|n| {
                        references.iter().all(|r| {
                            Reference::parse(r).is_ok_and(|r| match r.tag {
                                Some(_) => **n == r.tagged_name(DefaultDomain::Localhost),
                                None => {
                                    libruntime::reference::split_name(n).0
                                        == r.repository(DefaultDomain::Localhost)
                                }
                            })
                        })
                    })
                    .collect();
                json!({
                    "Id": format!("sha256:{}", i.id),
                    "ParentId": "",
                    "RepoTags": names,
                    "RepoDigests": names.iter().filter_map(|n| n.rsplit_once(':').map(|(repo, _)| format!("{repo}@{}", i.digest))).collect::<Vec<_>>(),
                    "Created": libruntime::time::unix(i.created.as_deref().or(Some(&i.added))),
                    "Size": i.size,
                    "SharedSize": -1,
                    "VirtualSize": i.size,
                    "Labels": {},
                    "Containers": in_use.iter().filter(|c| **c == i.id).count(),
                })
            })
            .collect(),
    ))
}

pub fn inspect(ctx: &Ctx, name: &str) -> ApiResult<Value> {
    let store = Store::open(&ctx.paths);
    let img = store
        .find_image(name)
        .map_err(|_| ApiError::no_image(name))?;
    let mut v = crate::commands::image::inspect_value(&store, &img)?;
    v["Id"] = json!(format!("sha256:{}", img.id));
    Ok(super::inspect::image(v))
}

/// `POST /images/{name}/tag?repo=&tag=`.
pub fn tag(ctx: &Ctx, name: &str, q: &Query) -> ApiResult<()> {
    let repo = q.get("repo").filter(|r| !r.is_empty()).ok_or_else(|| {
        ApiError::BadRequest("repository name must have at least one component".into())
    })?;
    let full = format!(
        "{repo}:{}",
        q.get("tag").filter(|t| !t.is_empty()).unwrap_or("latest")
    );
    let target = Reference::parse(&full)
        .map_err(|e| ApiError::BadRequest(e.to_string()))?
        .tagged_name(DefaultDomain::Localhost);
    let store = Store::open_locked(&ctx.paths)?;
    let img = store
        .find_image(name)
        .map_err(|_| ApiError::no_image(name))?;
    store.tag_image(&img.id, &target)?;
    Ok(())
}

/// `DELETE /images/{name}?force=`: what was untagged and deleted. The removal runs in
/// a child: rootless, layer files owned by subordinate ids are only removable from
/// inside the storage user namespace.
pub fn delete(ctx: &Ctx, name: &str, q: &Query) -> ApiResult<Value> {
    let store = Store::open(&ctx.paths);
    if store.find_image(name).is_err() {
        return Err(ApiError::no_image(name));
    }
    let mut args = vec!["rmi"];
    if q.flag("force") {
        args.push("--force");
    }
    args.push(name);
    let out = super::child::run(ctx, &args, None)?;
    Ok(removal_lines(&String::from_utf8_lossy(&out)))
}

/// `Untagged: x` / `Deleted: y` lines as docker's `[{"Untagged": x}, {"Deleted": y}]`.
fn removal_lines(text: &str) -> Value {
    Value::Array(
        text.lines()
            .filter_map(|l| l.split_once(": ").map(|(k, v)| json!({ k: v })))
            .collect(),
    )
}

/// `POST /images/prune?filters={"dangling":["false"]}`: dangling images, or every
/// image no container uses.
pub fn prune(ctx: &Ctx, q: &Query) -> ApiResult<Value> {
    let filters = q.filters().map_err(ApiError::BadRequest)?;
    let mut all = false;
    for f in &filters {
        match f.split_once('=') {
            Some(("dangling", v)) => all = matches!(v, "false" | "0"),
            _ => return Err(ApiError::BadRequest(format!("invalid filter {f:?}"))),
        }
    }
    let before = Store::open(&ctx.paths).images()?;
    let mut args = vec!["image", "prune", "--force"];
    if all {
        args.push("--all");
    }
    let out = super::child::run(ctx, &args, None)?;
    let gone: Vec<&str> = std::str::from_utf8(&out).unwrap_or("").lines().collect();
    let mut deleted = Vec::new();
    let mut space = 0u64;
    for img in before.iter().filter(|i| gone.contains(&i.id.as_str())) {
        for n in &img.names {
            deleted.push(json!({"Untagged": n}));
        }
        deleted.push(json!({"Deleted": format!("sha256:{}", img.id)}));
        space += img.size;
    }
    Ok(
        json!({"ImagesDeleted": if deleted.is_empty() { Value::Null } else { Value::Array(deleted) }, "SpaceReclaimed": space}),
    )
}

/// `GET /images/{name}/history`: newest step first, as dockerd lists it.
pub fn history(ctx: &Ctx, name: &str) -> ApiResult<Value> {
    let store = Store::open(&ctx.paths);
    let img = store
        .find_image(name)
        .map_err(|_| ApiError::no_image(name))?;
    let config: Value = serde_json::from_slice(&store.read_blob(&img.config)?)
        .map_err(|e| ApiError::Engine(format!("parsing the image's config: {e}")))?;
    let mut layers = img.layers.iter();
    let mut rows: Vec<Value> = config["history"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|h| {
            let size = if h["empty_layer"].as_bool().unwrap_or(false) {
                0
            } else {
                layers.next().map(|l| l.diff_size).unwrap_or(0)
            };
            json!({
                "Id": "<missing>",
                "Created": libruntime::time::unix(h["created"].as_str()),
                "CreatedBy": h["created_by"].as_str().unwrap_or(""),
                "Tags": Value::Null,
                "Size": size,
                "Comment": h["comment"].as_str().unwrap_or(""),
            })
        })
        .collect();
    rows.reverse();
    if let Some(top) = rows.first_mut() {
        top["Id"] = json!(format!("sha256:{}", img.id));
        top["Tags"] = json!(img.names);
    }
    Ok(Value::Array(rows))
}

/// The images `GET /images/get?names=…` (or `/images/{name}/get`) names, checked
/// before the archive's stream begins so a wrong name is a 404, not a cut stream.
pub fn save_args(ctx: &Ctx, names: &[String]) -> ApiResult<Vec<String>> {
    if names.is_empty() {
        return Err(ApiError::BadRequest("no image names given".into()));
    }
    let store = Store::open(&ctx.paths);
    for n in names {
        store.find_image(n).map_err(|_| ApiError::no_image(n))?;
    }
    let mut args = vec![
        "save".to_string(),
        "--format".into(),
        "docker-archive".into(),
    ];
    if names.len() > 1 {
        args.push("--multi-image-archive".into());
    }
    args.extend(names.iter().cloned());
    Ok(args)
}

/// `POST /images/load`: the archive in the body, loaded by a child in the storage
/// namespace; docker's `{"stream": "Loaded image: …"}` lines.
pub fn load(ctx: &Ctx, archive: &[u8]) -> ApiResult<Vec<Value>> {
    let out = super::child::run(ctx, &["load"], Some(archive))?;
    Ok(String::from_utf8_lossy(&out)
        .lines()
        .map(|l| json!({"stream": format!("{l}\n")}))
        .collect())
}
