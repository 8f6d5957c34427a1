//! Exec instances: `POST /containers/{id}/exec` records what to run (a file under the
//! runtime root, so any service process can start it), `POST /exec/{id}/start` runs it
//! on the hijacked connection, `GET /exec/{id}/json` reports its exit code.

use super::error::{ApiError, ApiResult};
use crate::Ctx;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::PathBuf;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ExecConfig {
    pub attach_stdin: bool,
    pub attach_stdout: bool,
    pub attach_stderr: bool,
    pub tty: bool,
    pub cmd: Vec<String>,
    pub env: Option<Vec<String>>,
    pub working_dir: String,
    pub user: String,
    pub privileged: bool,
    /// The terminal's first size, `[height, width]`, so the program starts at the
    /// client's size rather than waiting for a resize.
    pub console_size: Option<[u16; 2]>,
}

/// An exec instance as stored.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Instance {
    pub id: String,
    pub container: String,
    pub config: ExecConfig,
    pub running: bool,
    pub pid: i32,
    pub exit_code: Option<i32>,
}

fn file(ctx: &Ctx, id: &str) -> ApiResult<PathBuf> {
    if id.is_empty() || !id.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(ApiError::NotFound(format!("No such exec instance: {id}")));
    }
    Ok(ctx
        .paths
        .runroot
        .join("api-exec")
        .join(format!("{id}.json")))
}

pub fn load(ctx: &Ctx, id: &str) -> ApiResult<Instance> {
    libruntime::fsutil::read_json(&file(ctx, id)?)?
        .ok_or_else(|| ApiError::NotFound(format!("No such exec instance: {id}")))
}

pub fn save(ctx: &Ctx, i: &Instance) -> ApiResult<()> {
    let f = file(ctx, &i.id)?;
    if let Some(d) = f.parent() {
        libruntime::fsutil::create_dir_all(d)?;
    }
    // The runtime root is volatile (gone at reboot) and so are exec instances: an
    // atomic rename is enough, a sync would only cost each exec.
    Ok(libruntime::fsutil::write_json_unsynced(&f, i)?)
}

/// `POST /containers/{id}/exec`: the new instance's id.
pub fn create(ctx: &Ctx, container: &str, body: &[u8]) -> ApiResult<Value> {
    let config: ExecConfig = serde_json::from_slice(body)
        .map_err(|e| ApiError::BadRequest(format!("invalid exec request: {e}")))?;
    if config.cmd.is_empty() {
        return Err(ApiError::BadRequest("No exec command specified".into()));
    }
    let r = super::containers::find(ctx, container)?;
    if !ctx.handle(&r).state()?.is_active() {
        return Err(ApiError::Conflict(format!(
            "container {} is not running",
            r.id
        )));
    }
    let i = Instance {
        id: libruntime::ids::new_id(),
        container: r.id,
        config,
        ..Default::default()
    };
    save(ctx, &i)?;
    Ok(json!({"Id": i.id}))
}

/// The process's extra environment: as asked, and TERM=xterm with a terminal when
/// not asked otherwise, as dockerd gives it.
fn env_of(c: &ExecConfig) -> Vec<String> {
    let mut env = c.env.clone().unwrap_or_default();
    if c.tty && !env.iter().any(|e| e.starts_with("TERM=")) {
        env.push("TERM=xterm".into());
    }
    env
}

/// The library's exec options for an instance.
pub fn options(i: &Instance, detach: bool) -> libruntime::container::verbs::ExecOptions {
    libruntime::container::verbs::ExecOptions {
        command: i.config.cmd.clone(),
        env: env_of(&i.config),
        workdir: Some(i.config.working_dir.clone()).filter(|w| !w.is_empty()),
        user: Some(i.config.user.clone()).filter(|u| !u.is_empty()),
        tty: i.config.tty,
        interactive: i.config.attach_stdin,
        detach,
        privileged: i.config.privileged,
        size: i
            .config
            .console_size
            .filter(|[h, w]| *h > 0 && *w > 0)
            .map(|[h, w]| (h, w)),
    }
}

/// The terminals of running exec instances, by instance id: a resize arrives on a
/// connection of its own while another relays the program.
static TERMINALS: std::sync::Mutex<BTreeMap<String, OwnedFd>> =
    std::sync::Mutex::new(BTreeMap::new());

/// Keeps a copy of a running instance's terminal for resizes.
pub fn hold_terminal(id: &str, master: &OwnedFd) {
    if let (Ok(fd), Ok(mut t)) = (master.try_clone(), TERMINALS.lock()) {
        t.insert(id.to_string(), fd);
    }
}

pub fn release_terminal(id: &str) {
    if let Ok(mut t) = TERMINALS.lock() {
        t.remove(id);
    }
}

/// `POST /exec/{id}/resize?h=&w=`: the running instance's terminal gets the size.
pub fn resize(ctx: &Ctx, id: &str, size: (u16, u16)) -> ApiResult<()> {
    let i = load(ctx, id)?;
    if !i.running {
        return Err(ApiError::Conflict(format!("exec {id} is not running")));
    }
    if let Ok(t) = TERMINALS.lock() {
        if let Some(fd) = t.get(id) {
            libruntime::sandbox::sys::set_window_size(fd.as_raw_fd(), size.0, size.1);
        }
    }
    Ok(())
}

/// `GET /exec/{id}/json`.
pub fn inspect(ctx: &Ctx, id: &str) -> ApiResult<Value> {
    let i = load(ctx, id)?;
    Ok(json!({
        "ID": i.id,
        "Running": i.running,
        "ExitCode": i.exit_code,
        "ProcessConfig": {
            "tty": i.config.tty,
            "entrypoint": i.config.cmd.first(),
            "arguments": i.config.cmd.iter().skip(1).collect::<Vec<_>>(),
            "privileged": i.config.privileged,
            "user": i.config.user,
        },
        "OpenStdin": i.config.attach_stdin,
        "OpenStdout": i.config.attach_stdout,
        "OpenStderr": i.config.attach_stderr,
        "CanRemove": !i.running,
        "ContainerID": i.container,
        "DetachKeys": "",
        "Pid": i.pid,
    }))
}
