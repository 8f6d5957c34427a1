//! `POST /build`, the classic builder's endpoint: the context arrives as a tar body,
//! `skiff build` builds it in a child (RUN steps need the storage user namespace and
//! processes of their own), and its output goes back as docker's JSON lines:
//! `{"stream": …}` as it comes, `{"aux": {"ID": …}}` and `Successfully built` /
//! `Successfully tagged` at the end, `{"error": …}` when it fails.

use super::error::{ApiError, ApiResult};
use super::query::Query;
use crate::Ctx;
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::path::{Component, Path, PathBuf};
use std::process::Stdio;

/// What a build request asks for, checked before anything runs.
#[derive(Debug, PartialEq)]
pub struct BuildRequest {
    pub dockerfile: String,
    pub tags: Vec<String>,
    pub args: Vec<String>,
}

/// The `skiff build` arguments for a request's query (the context comes on stdin).
pub fn request(q: &Query) -> ApiResult<BuildRequest> {
    if q.get("remote").is_some_and(|r| !r.is_empty()) {
        return Err(ApiError::BadRequest(
            "remote build contexts are not supported: send the context as a tar body".into(),
        ));
    }
    let dockerfile = q
        .get("dockerfile")
        .filter(|d| !d.is_empty())
        .unwrap_or("Dockerfile")
        .to_string();
    // The Dockerfile is a path inside the context; anything leaving it is refused
    // before the child could read a file of the service's.
    let inside = Path::new(&dockerfile)
        .components()
        .all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
    if !inside {
        return Err(ApiError::BadRequest(format!(
            "the Dockerfile {dockerfile:?} must be a path inside the build context"
        )));
    }
    let mut args = vec!["build".to_string(), "--file".into(), dockerfile.clone()];
    let tags: Vec<String> = q
        .all("t")
        .into_iter()
        .filter(|t| !t.is_empty())
        .map(String::from)
        .collect();
    for t in &tags {
        args.extend(["--tag".into(), t.clone()]);
    }
    for (k, v) in q.json_map("buildargs").map_err(ApiError::BadRequest)? {
        args.extend(["--build-arg".into(), format!("{k}={v}")]);
    }
    for (k, v) in q.json_map("labels").map_err(ApiError::BadRequest)? {
        args.extend(["--label".into(), format!("{k}={v}")]);
    }
    if let Some(t) = q.get("target").filter(|t| !t.is_empty()) {
        args.extend(["--target".into(), t.to_string()]);
    }
    if q.flag("nocache") {
        args.push("--no-cache".into());
    }
    args.push(format!(
        "--pull={}",
        if q.flag("pull") { "always" } else { "missing" }
    ));
    match q.get("networkmode").unwrap_or("") {
        "" | "default" | "bridge" => {}
        mode @ ("host" | "none") => args.extend(["--network".into(), mode.to_string()]),
        other => {
            return Err(ApiError::BadRequest(format!(
                "network mode {other:?} is not supported for builds: use default, host or none"
            )))
        }
    }
    Ok(BuildRequest {
        dockerfile,
        tags,
        args,
    })
}

fn stream_line(text: &str) -> Value {
    json!({"stream": text})
}

fn error_line(message: &str) -> Value {
    json!({"errorDetail": {"message": message}, "error": message})
}

/// A directory of the build's own: the child's working directory (empty, so no
/// relative path resolves to a file of the service's) and where its image ID lands.
struct Scratch(PathBuf);

impl Scratch {
    fn new(ctx: &Ctx) -> std::io::Result<Scratch> {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let d = ctx
            .paths
            .runroot
            .join("api-build")
            .join(format!("{}-{n}", std::process::id()));
        std::fs::create_dir_all(&d)?;
        Ok(Scratch(d))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs the build, sending JSON lines through `send`; stops early if it refuses one
/// (the client left).
pub fn build(
    ctx: &Ctx,
    req: &BuildRequest,
    quiet: bool,
    context: &[u8],
    send: impl Fn(Value) -> bool,
) {
    if let Err(e) = run(ctx, req, quiet, context, &send) {
        send(error_line(&e.to_string()));
    }
}

fn run(
    ctx: &Ctx,
    req: &BuildRequest,
    quiet: bool,
    context: &[u8],
    send: &impl Fn(Value) -> bool,
) -> ApiResult<()> {
    let scratch = Scratch::new(ctx)
        .map_err(|e| ApiError::Engine(format!("making the build's directory: {e}")))?;
    let iid = scratch.0.join("iid");
    let mut child = super::child::command(ctx)
        .current_dir(&scratch.0)
        .args(&req.args)
        .arg("--iidfile")
        .arg(&iid)
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| ApiError::Engine(format!("starting the build: {e}")))?;
    let mut stdin = child.stdin.take();
    let data = context.to_vec();
    let feeder = std::thread::spawn(move || {
        if let Some(s) = stdin.as_mut() {
            let _ = s.write_all(&data);
        }
    });
    let mut stderr = child.stderr.take();
    let errors = std::thread::spawn(move || {
        let mut text = Vec::new();
        if let Some(e) = stderr.as_mut() {
            let _ = e.read_to_end(&mut text);
        }
        text
    });
    if let Some(mut out) = child.stdout.take() {
        let mut buf = vec![0u8; 16 << 10];
        loop {
            match out.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    let text = String::from_utf8_lossy(&buf[..n]);
                    if !quiet && !send(stream_line(&text)) {
                        let _ = child.kill();
                        break;
                    }
                }
            }
        }
    }
    let status = child
        .wait()
        .map_err(|e| ApiError::Engine(format!("waiting for the build: {e}")))?;
    let _ = feeder.join();
    let err_text = errors.join().unwrap_or_default();
    if !status.success() {
        return Err(super::child::failure(Some(125), &err_text));
    }
    let id = std::fs::read_to_string(&iid)
        .map_err(|e| ApiError::Engine(format!("reading the built image's ID: {e}")))?;
    let id = id.trim().trim_start_matches("sha256:").to_string();
    send(json!({"aux": {"ID": format!("sha256:{id}")}}));
    if quiet {
        send(stream_line(&format!("sha256:{id}\n")));
        return Ok(());
    }
    send(stream_line(&format!(
        "Successfully built {}\n",
        &id[..id.len().min(12)]
    )));
    for t in &req.tags {
        let shown = if t.rsplit('/').next().is_some_and(|last| last.contains(':')) {
            t.clone()
        } else {
            format!("{t}:latest")
        };
        send(stream_line(&format!("Successfully tagged {shown}\n")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &str) -> Query {
        Query::parse(Some(s))
    }

    #[test]
    fn a_request_becomes_build_flags() {
        let r = request(&q("t=web&t=web%3A2&dockerfile=sub%2FDockerfile&buildargs=%7B%22V%22%3A%221%22%7D&labels=%7B%22a%22%3A%22b%22%7D&target=final&nocache=1&pull=1&networkmode=host")).unwrap();
        assert_eq!(r.tags, vec!["web", "web:2"]);
        assert_eq!(
            r.args,
            [
                "build",
                "--file",
                "sub/Dockerfile",
                "--tag",
                "web",
                "--tag",
                "web:2",
                "--build-arg",
                "V=1",
                "--label",
                "a=b",
                "--target",
                "final",
                "--no-cache",
                "--pull=always",
                "--network",
                "host",
            ]
        );
        assert_eq!(request(&q("")).unwrap().dockerfile, "Dockerfile");
    }

    #[test]
    fn requests_that_leave_the_context_are_refused() {
        for bad in [
            "dockerfile=..%2F..%2Fetc%2Fpasswd",
            "dockerfile=%2Fetc%2Fpasswd",
            "dockerfile=a%2F..%2F..%2Fb",
            "remote=https%3A%2F%2Fexample.com%2Fx.git",
            "networkmode=container%3Ax",
            "buildargs=nope",
        ] {
            assert!(
                matches!(request(&q(bad)), Err(ApiError::BadRequest(_))),
                "{bad}"
            );
        }
    }
}
