//! The image endpoints: list, inspect, pull (`POST /images/create`, with docker's
//! JSON-lines progress), tag and delete, through the store as the CLI uses it.

use super::error::{ApiError, ApiResult};
use super::query::Query;
use crate::Ctx;
use base64::Engine;
use libruntime::reference::{DefaultDomain, Reference};
use libruntime::store::Store;
use serde_json::{json, Value};

pub fn list(ctx: &Ctx) -> ApiResult<Value> {
    let store = Store::open(&ctx.paths);
    let in_use: Vec<String> = libruntime::container::list(&ctx.paths)?
        .into_iter()
        .map(|c| c.image_id)
        .collect();
    let mut images = store.images()?;
    images.sort_by(|a, b| b.added.cmp(&a.added));
    Ok(Value::Array(
        images
            .iter()
            .map(|i| {
                json!({
                    "Id": format!("sha256:{}", i.id),
                    "ParentId": "",
                    "RepoTags": i.names,
                    "RepoDigests": i.names.iter().filter_map(|n| n.rsplit_once(':').map(|(repo, _)| format!("{repo}@{}", i.digest))).collect::<Vec<_>>(),
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
    v["ContainerConfig"] = v["Config"].clone();
    Ok(v)
}

/// Credentials from `X-Registry-Auth`: base64url JSON with username and password.
pub fn registry_auth(header: Option<&str>) -> Option<libruntime::registry::auth::Credentials> {
    let raw = header?.trim();
    let bytes = base64::engine::general_purpose::URL_SAFE
        .decode(raw)
        .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(raw))
        .or_else(|_| base64::engine::general_purpose::STANDARD.decode(raw))
        .ok()?;
    let v: Value = serde_json::from_slice(&bytes).ok()?;
    let user = v["username"].as_str().filter(|u| !u.is_empty())?;
    Some(libruntime::registry::auth::Credentials {
        username: user.into(),
        password: v["password"].as_str().unwrap_or("").into(),
    })
}

/// `POST /images/create?fromImage=&tag=`: pulls, writing docker's progress lines.
pub fn pull(
    ctx: &Ctx,
    q: &Query,
    auth: Option<libruntime::registry::auth::Credentials>,
    mut send: impl FnMut(Value),
) -> ApiResult<()> {
    let from = q
        .get("fromImage")
        .filter(|f| !f.is_empty())
        .ok_or_else(|| {
            ApiError::BadRequest("fromImage is required (importing is not supported)".into())
        })?;
    let name = match q.get("tag").filter(|t| !t.is_empty()) {
        Some(t) if t.starts_with("sha256:") => format!("{from}@{t}"),
        Some(t) => format!("{from}:{t}"),
        None => from.to_string(),
    };
    send(json!({"status": format!("Pulling from {from}"), "id": q.get("tag").unwrap_or("latest")}));
    let opts = libruntime::registry::pull::PullOptions {
        client: libruntime::registry::client::ClientOptions {
            creds: auth,
            ..Default::default()
        },
        platform: libruntime::registry::manifest::Platform::host(),
        extract: ctx.extract_options(),
    };
    let store = Store::open(&ctx.paths);
    let result = libruntime::registry::policy::ensure_image(
        &store,
        &ctx.maps,
        &name,
        libruntime::registry::policy::PullPolicy::Always,
        &opts,
        &libruntime::registry::Silent,
    );
    match result.and_then(|_| store.find_image(&name)) {
        Ok(img) => {
            send(json!({"status": format!("Digest: {}", img.digest)}));
            send(json!({"status": format!("Status: Downloaded newer image for {name}")}));
        }
        Err(e) => {
            let m = e.to_string();
            send(json!({"errorDetail": {"message": m}, "error": m}));
        }
    }
    Ok(())
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

/// `DELETE /images/{name}?force=`: what was untagged and deleted.
pub fn delete(ctx: &Ctx, name: &str, q: &Query) -> ApiResult<Value> {
    let store = Store::open_locked(&ctx.paths)?;
    if store.find_image(name).is_err() {
        return Err(ApiError::no_image(name));
    }
    let mut out = String::new();
    crate::commands::image::remove_one(ctx, &store, name, q.flag("force"), &mut out).map_err(
        |e| match e {
            libruntime::Error::Store(libruntime::store::StoreError::ImageInUse { .. }) => {
                ApiError::Conflict(e.to_string())
            }
            other => other.into(),
        },
    )?;
    Ok(Value::Array(
        out.lines()
            .filter_map(|l| l.split_once(": ").map(|(k, v)| json!({ k: v })))
            .collect(),
    ))
}
