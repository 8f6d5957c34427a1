//! `/containers/{id}/archive`, what `docker cp` uses: HEAD stats a path (the
//! `X-Docker-Container-Path-Stat` header), GET streams it as a tar archive, PUT
//! extracts a tar archive into a directory. Each runs `skiff cp` in a child process:
//! reaching a rootless container's files means entering its user namespace, which a
//! multithreaded process (this service) cannot do, and the copy code stays the CLI's.

use super::error::{ApiError, ApiResult};
use crate::Ctx;
use base64::Engine;
use std::io::Write;
use std::process::{Child, Stdio};

fn copy_out(ctx: &Ctx, name: &str, path: &str) -> ApiResult<Child> {
    let r = super::containers::find(ctx, name)?;
    crate::commands::registry::skiff_child(ctx)
        .args(["cp", &format!("{}:{path}", r.id), "-"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| ApiError::Engine(format!("starting the copy: {e}")))
}

/// The stat header's value: base64 of docker's JSON (name, size, Go file mode, mtime,
/// link target), from the first entry of the path's archive.
pub fn stat(ctx: &Ctx, name: &str, path: &str) -> ApiResult<String> {
    let mut child = copy_out(ctx, name, path)?;
    let first = child.stdout.take().and_then(|out| {
        let mut a = tar::Archive::new(out);
        let mut entries = a.entries().ok()?;
        let e = entries.next()?.ok()?;
        let h = e.header();
        let kind = h.entry_type();
        // Go's os.FileMode: permission bits, with a bit of its own per file type.
        let mut mode = h.mode().ok()? & 0o7777;
        if kind.is_dir() {
            mode |= 1 << 31;
        } else if kind.is_symlink() {
            mode |= 1 << 27;
        }
        let link = h
            .link_name()
            .ok()
            .flatten()
            .map(|l| l.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mtime = h.mtime().unwrap_or(0) as i64;
        Some(serde_json::json!({
            "name": path.rsplit('/').find(|s| !s.is_empty()).unwrap_or("/"),
            "size": h.size().unwrap_or(0),
            "mode": mode,
            "mtime": chrono::DateTime::from_timestamp(mtime, 0).map(|t| t.to_rfc3339()).unwrap_or_default(),
            "linkTarget": link,
        }))
    });
    let _ = child.kill();
    let _ = child.wait();
    let v = first.ok_or_else(|| {
        ApiError::NotFound(format!(
            "Could not find the file {path} in container {name}"
        ))
    })?;
    Ok(
        base64::engine::general_purpose::STANDARD
            .encode(serde_json::to_vec(&v).unwrap_or_default()),
    )
}

/// GET: `path` as a tar stream, written through `out`.
pub fn get(ctx: &Ctx, name: &str, path: &str, out: &mut dyn Write) -> ApiResult<()> {
    let r = super::containers::find(ctx, name)?;
    super::child::stream(ctx, &["cp", &format!("{}:{path}", r.id), "-"], out)
}

/// PUT: a tar archive extracted into the container directory `path`.
pub fn put(ctx: &Ctx, name: &str, path: &str, tar: &[u8]) -> ApiResult<()> {
    let r = super::containers::find(ctx, name)?;
    // dockerd answers a copy into a path that is not there with 404.
    super::child::run(ctx, &["cp", "-", &format!("{}:{path}", r.id)], Some(tar))
        .map(|_| ())
        .map_err(|e| ApiError::NotFound(e.to_string()))
}
