//! The endpoints that talk to registries: pull (`POST /images/create`), push
//! (`POST /images/{name}/push`), each with docker's JSON-lines progress, and
//! `POST /auth`. Credentials come from `X-Registry-Auth` (or the request body for
//! `/auth`), else from the user's auth file as the CLI finds them.

use super::error::{ApiError, ApiResult};
use super::query::Query;
use crate::Ctx;
use base64::Engine;
use libruntime::reference::{DefaultDomain, Reference};
use libruntime::registry::auth::Credentials;
use libruntime::registry::client::ClientOptions;
use libruntime::registry::Progress;
use libruntime::store::Store;
use serde_json::{json, Value};

/// Credentials from `X-Registry-Auth`: base64url JSON with username and password.
pub fn registry_auth(header: Option<&str>) -> Option<Credentials> {
    let raw = header?.trim();
    let bytes = base64::engine::general_purpose::URL_SAFE
        .decode(raw)
        .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(raw))
        .or_else(|_| base64::engine::general_purpose::STANDARD.decode(raw))
        .ok()?;
    credentials(&serde_json::from_slice(&bytes).ok()?)
}

fn credentials(v: &Value) -> Option<Credentials> {
    let user = v["username"].as_str().filter(|u| !u.is_empty())?;
    Some(Credentials {
        username: user.into(),
        password: v["password"].as_str().unwrap_or("").into(),
    })
}

/// dockerd trusts registries on loopback over plain HTTP without being told
/// (its default insecure range is 127.0.0.0/8); clients expect `docker push
/// 127.0.0.1:5000/x` to work, so the service does the same.
pub fn is_loopback_registry(host: &str) -> bool {
    let name = match host.rsplit_once(':') {
        Some((h, port)) if port.chars().all(|c| c.is_ascii_digit()) => h,
        _ => host,
    };
    let name = name.trim_start_matches('[').trim_end_matches(']');
    name == "localhost"
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn client_options(reference: &str, creds: Option<Credentials>) -> ClientOptions {
    let host = Reference::parse(reference)
        .ok()
        .and_then(|r| r.domain)
        .unwrap_or_default();
    ClientOptions {
        creds,
        insecure: is_loopback_registry(&host),
        ..Default::default()
    }
}

/// Progress as docker's JSON lines: one line per layer step, keyed by a short id.
struct JsonProgress<F: Fn(Value) + Sync> {
    send: F,
    /// The verb for a finished blob: "Pull complete" or "Pushed".
    done: &'static str,
    exists: &'static str,
}

fn short(id: &str) -> String {
    let hex = id.rsplit(':').next().unwrap_or(id);
    hex.chars().take(12).collect()
}

impl<F: Fn(Value) + Sync> Progress for JsonProgress<F> {
    fn begin(&self, id: &str, total: u64) {
        (self.send)(
            json!({"status": "Waiting", "progressDetail": {"current": 0, "total": total}, "id": short(id)}),
        );
    }
    fn end(&self, id: &str, how: &str) {
        let status = if how.starts_with("skipped") {
            self.exists
        } else {
            self.done
        };
        (self.send)(json!({"status": status, "progressDetail": {}, "id": short(id)}));
    }
}

fn error_line(message: &str) -> Value {
    json!({"errorDetail": {"message": message}, "error": message})
}

/// The image `POST /images/create?fromImage=&tag=` names, checked before the
/// progress stream begins.
pub fn pull_name(q: &Query) -> ApiResult<String> {
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
    Reference::parse(&name).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    Ok(name)
}

/// Pulls `name`, writing docker's progress lines.
pub fn pull(ctx: &Ctx, name: &str, auth: Option<Credentials>, send: impl Fn(Value) + Sync) {
    if let Ok(r) = Reference::parse(name) {
        let shown = r
            .tag
            .clone()
            .or(r.digest.as_ref().map(|d| d.to_string()))
            .unwrap_or_else(|| "latest".into());
        let repo = match &r.domain {
            Some(d) => format!("{d}/{}", r.path),
            None => r.path.clone(),
        };
        send(json!({"status": format!("Pulling from {repo}"), "id": shown}));
    }
    let opts = libruntime::registry::pull::PullOptions {
        client: client_options(name, auth),
        platform: libruntime::registry::manifest::Platform::host(),
        extract: ctx.extract_options(),
    };
    let store = Store::open(&ctx.paths);
    let progress = JsonProgress {
        send: &send,
        done: "Pull complete",
        exists: "Already exists",
    };
    let result = libruntime::registry::policy::ensure_image(
        &store,
        &ctx.maps,
        name,
        libruntime::registry::policy::PullPolicy::Always,
        &opts,
        &progress,
    );
    match result.and_then(|_| store.find_image(name)) {
        Ok(img) => {
            send(json!({"status": format!("Digest: {}", img.digest)}));
            send(json!({"status": format!("Status: Downloaded newer image for {name}")}));
        }
        Err(e) => send(error_line(&e.to_string())),
    }
}

/// What a push sends: the registry's repository and each tag with its image.
pub struct PushPlan {
    repository: String,
    tags: Vec<(String, libruntime::store::ImageRecord)>,
}

/// `POST /images/{name}/push?tag=`: one tag, or every tag of the repository when none
/// is given, as dockerd does; all checked before anything is sent.
pub fn push_plan(ctx: &Ctx, name: &str, q: &Query) -> ApiResult<PushPlan> {
    let store = Store::open(&ctx.paths);
    let repo = Reference::parse(name).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let full_repo = repo.repository(DefaultDomain::Localhost);
    let tags: Vec<String> = match q.get("tag").filter(|t| !t.is_empty()) {
        Some(t) => vec![format!("{full_repo}:{t}")],
        None => store
            .images()?
            .into_iter()
            .flat_map(|i| i.names)
            .filter(|n| n.rsplit_once(':').is_some_and(|(r, _)| r == full_repo))
            .collect(),
    };
    if tags.is_empty() {
        return Err(ApiError::no_image(name));
    }
    let tags = tags
        .into_iter()
        .map(|t| match store.find_image(&t) {
            Ok(i) => Ok((t, i)),
            Err(_) => Err(ApiError::no_image(&t)),
        })
        .collect::<ApiResult<Vec<_>>>()?;
    let Some(domain) = repo.domain.as_deref().filter(|d| *d != "localhost") else {
        return Err(ApiError::BadRequest(format!(
            "{name}: name a registry to push to, like 127.0.0.1:5000/{}",
            repo.path
        )));
    };
    Ok(PushPlan {
        repository: format!("{domain}/{}", repo.path),
        tags,
    })
}

/// Pushes what the plan names, writing docker's progress lines.
pub fn push(ctx: &Ctx, plan: PushPlan, auth: Option<Credentials>, send: impl Fn(Value) + Sync) {
    let store = Store::open(&ctx.paths);
    send(json!({"status": format!("The push refers to repository [{}]", plan.repository)}));
    let opts = libruntime::registry::push::PushOptions {
        client: client_options(&plan.repository, auth),
    };
    let progress = JsonProgress {
        send: &send,
        done: "Pushed",
        exists: "Layer already exists",
    };
    for (tag, image) in plan.tags {
        let dest = match Reference::parse(&tag) {
            Ok(d) => d,
            Err(e) => return send(error_line(&e.to_string())),
        };
        let t = dest.tag.clone().unwrap_or_else(|| "latest".into());
        match libruntime::registry::push::push(&store, &image, &dest, &opts, &progress) {
            Ok(digest) => {
                let size = store
                    .read_blob(&digest)
                    .or_else(|_| store.read_blob(&image.digest))
                    .map(|b| b.len())
                    .unwrap_or(0);
                send(json!({"status": format!("{t}: digest: {} size: {size}", digest.as_str())}));
                send(
                    json!({"progressDetail": {}, "aux": {"Tag": t, "Digest": digest.as_str(), "Size": size}}),
                );
            }
            Err(e) => return send(error_line(&e.to_string())),
        }
    }
}

/// `POST /auth`: checks the credentials against the registry, as `docker login`
/// asks the engine to; nothing is stored here (the client keeps its own file).
pub fn auth(body: &[u8]) -> ApiResult<Value> {
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::BadRequest(format!("invalid auth body: {e}")))?;
    let creds =
        credentials(&v).ok_or_else(|| ApiError::BadRequest("username is required".into()))?;
    let server = v["serveraddress"].as_str().unwrap_or("");
    let host = server
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap_or("")
        .to_string();
    if host.is_empty() {
        return Err(ApiError::BadRequest("serveraddress is required".into()));
    }
    let opts = ClientOptions {
        creds: Some(creds),
        insecure: is_loopback_registry(&host),
        ..Default::default()
    };
    libruntime::registry::client::Client::new(&host, &opts)
        .and_then(|c| c.check_login())
        .map_err(|e| ApiError::Unauthorized(e.to_string()))?;
    Ok(json!({"Status": "Login Succeeded", "IdentityToken": ""}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_registries_are_insecure_as_in_dockerd() {
        for (host, loopback) in [
            ("127.0.0.1:5000", true),
            ("127.1.2.3", true),
            ("localhost:5000", true),
            ("[::1]:5000", true),
            ("10.0.0.1:5000", false),
            ("registry.example.com", false),
            ("docker.io", false),
        ] {
            assert_eq!(is_loopback_registry(host), loopback, "{host}");
        }
    }

    #[test]
    fn credentials_from_the_header() {
        let h = base64::engine::general_purpose::URL_SAFE
            .encode(br#"{"username":"u","password":"p","serveraddress":"x"}"#);
        let c = registry_auth(Some(&h)).unwrap();
        assert_eq!((c.username.as_str(), c.password.as_str()), ("u", "p"));
        assert!(registry_auth(Some("e30=")).is_none());
        assert!(registry_auth(Some("!!")).is_none());
    }
}
