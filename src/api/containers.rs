//! The container endpoints that answer at once: list, inspect, create, start, stop,
//! restart, kill, wait, delete. Each is a blocking function of the store, run on
//! tokio's blocking pool, and goes through libruntime as the CLI does.

use super::error::{ApiError, ApiResult};
use super::query::Query;
use crate::commands::ps;
use crate::Ctx;
use libruntime::container::{self as ctr, ContainerDirs, ContainerRecord, State, Status};
use serde_json::{json, Value};
use std::time::Duration;

pub fn find(ctx: &Ctx, name: &str) -> ApiResult<ContainerRecord> {
    ctr::find(&ctx.paths, name).map_err(|_| ApiError::no_container(name))
}

/// docker's word for a state: created, running, paused, restarting, exited.
pub fn state_word(st: &State) -> &'static str {
    match st.status {
        Status::Created | Status::Initialized => "created",
        Status::Running => "running",
        Status::Paused => "paused",
        Status::Exited if st.restarting => "restarting",
        Status::Exited => "exited",
    }
}

fn unix_of(rfc3339: &str) -> i64 {
    libruntime::time::unix(Some(rfc3339))
}

fn ports(r: &ContainerRecord) -> Vec<Value> {
    r.config
        .ports
        .iter()
        .map(|p| {
            let ip = if p.host_ip.is_empty() { "0.0.0.0" } else { &p.host_ip };
            json!({"IP": ip, "PrivatePort": p.container_port, "PublicPort": p.host_port, "Type": p.protocol})
        })
        .collect()
}

/// One container as `GET /containers/json` lists it.
fn summary(r: &ContainerRecord, st: &State) -> Value {
    json!({
        "Id": r.id,
        "Names": [format!("/{}", r.name)],
        "Image": r.image_name,
        "ImageID": format!("sha256:{}", r.image_id),
        "Command": r.command().join(" "),
        "Created": unix_of(&r.created),
        "Ports": ports(r),
        "Labels": r.config.labels,
        "State": state_word(st),
        "Status": ps::status_text(st),
        "HostConfig": {"NetworkMode": network_mode(r)},
        "NetworkSettings": {"Networks": {}},
        "Mounts": [],
    })
}

fn network_mode(r: &ContainerRecord) -> String {
    serde_json::to_value(&r.config.network)
        .ok()
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_else(|| "default".into())
}

pub fn list(ctx: &Ctx, q: &Query) -> ApiResult<Value> {
    let filters = ps::parse_filters(&q.filters().map_err(ApiError::BadRequest)?)
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let pods = ps::PodNames::load(ctx)?;
    let mut rows: Vec<(ContainerRecord, State)> = Vec::new();
    for r in ctr::list(&ctx.paths)? {
        let Ok(st) = State::load(&ContainerDirs::new(&ctx.paths, &r.id)) else {
            continue;
        };
        if !q.flag("all") && st.status != Status::Running && st.status != Status::Paused {
            continue;
        }
        if ps::matches(&r, &st, &filters, &pods)? {
            rows.push((r, st));
        }
    }
    // Newest first, as dockerd lists them.
    rows.sort_by(|a, b| b.0.created.cmp(&a.0.created));
    if let Some(n) = q.number::<usize>("limit").filter(|n| *n > 0) {
        rows.truncate(n);
    }
    Ok(Value::Array(
        rows.iter().map(|(r, st)| summary(r, st)).collect(),
    ))
}

/// `GET /containers/{id}/json`: skiff's inspect document in docker's names.
pub fn inspect(ctx: &Ctx, name: &str) -> ApiResult<Value> {
    let r = find(ctx, name)?;
    let st = State::load(&ContainerDirs::new(&ctx.paths, &r.id))?;
    let mut v = ps::inspect_value(ctx, &r)?;
    v["Name"] = json!(format!("/{}", r.name));
    v["Image"] = json!(format!("sha256:{}", r.image_id));
    v["Config"]["Image"] = json!(r.image_name);
    v["State"]["Status"] = json!(state_word(&st));
    // docker's StopSignal is the signal's name.
    v["Config"]["StopSignal"] = json!(nix::sys::signal::Signal::try_from(r.config.stop_signal)
        .map(|s| s.as_str())
        .unwrap_or("SIGTERM"));
    v["Created"] = json!(r.created);
    // Clients read logs only from drivers they know (docker-py's run() checks for
    // json-file); skiff's file log answers /logs as json-file does.
    let driver = match r.config.log.driver {
        libruntime::container::logconfig::LogDriver::K8sFile => "json-file",
        libruntime::container::logconfig::LogDriver::None => "none",
    };
    v["HostConfig"]["LogConfig"] = json!({"Type": driver, "Config": {}});
    let pid = if st.is_active() { st.pid } else { 0 };
    Ok(super::inspect::container(v, &r, pid))
}

/// `POST /containers/create?name=`; the new container's id.
pub fn create(ctx: &Ctx, q: &Query, body: &[u8]) -> ApiResult<Value> {
    let parsed: super::create::CreateBody = serde_json::from_slice(body)
        .map_err(|e| ApiError::BadRequest(format!("invalid create request: {e}")))?;
    let image = parsed.image.clone();
    // docker's create never pulls: the client pulls on a 404 and asks again.
    if libruntime::store::Store::open(&ctx.paths)
        .find_image(&image)
        .is_err()
    {
        return Err(ApiError::no_image(&image));
    }
    let name = q.get("name").map(String::from);
    if let Some(n) = &name {
        if ctr::find(&ctx.paths, n).is_ok() {
            return Err(ApiError::Conflict(format!(
                "Conflict. The container name \"/{n}\" is already in use"
            )));
        }
    }
    let args = super::create::run_args(parsed, name).map_err(ApiError::BadRequest)?;
    let r = crate::commands::container::create_record(
        ctx,
        &args,
        vec!["docker-api".into(), "create".into()],
    )
    .map_err(|e| ApiError::BadRequest(crate::exit::one_line(&e)))?;
    Ok(json!({"Id": r.id, "Warnings": []}))
}

pub fn start(ctx: &Ctx, name: &str) -> ApiResult<()> {
    let r = find(ctx, name)?;
    let h = ctx.handle(&r);
    if h.state()?.status == Status::Running {
        return Err(ApiError::NotModified);
    }
    h.start().map_err(|e| ApiError::Engine(e.message))?;
    Ok(())
}

pub fn stop(ctx: &Ctx, name: &str, q: &Query) -> ApiResult<()> {
    let r = find(ctx, name)?;
    let h = ctx.handle(&r);
    if !h.state()?.is_active() {
        return Err(ApiError::NotModified);
    }
    let secs = q.number::<u64>("t").unwrap_or(r.config.stop_timeout as u64);
    h.stop(Duration::from_secs(secs))?;
    Ok(())
}

pub fn restart(ctx: &Ctx, name: &str, q: &Query) -> ApiResult<()> {
    match stop(ctx, name, q) {
        Ok(()) | Err(ApiError::NotModified) => {}
        Err(e) => return Err(e),
    }
    match start(ctx, name) {
        Ok(()) | Err(ApiError::NotModified) => Ok(()),
        Err(e) => Err(e),
    }
}

pub fn kill(ctx: &Ctx, name: &str, q: &Query) -> ApiResult<()> {
    let r = find(ctx, name)?;
    let h = ctx.handle(&r);
    if !h.state()?.is_active() {
        return Err(ApiError::Conflict(format!(
            "Cannot kill container: {name}: Container {} is not running",
            r.id
        )));
    }
    let sig = libruntime::signals::parse(q.get("signal").unwrap_or("SIGKILL"))
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    h.kill(sig)?;
    Ok(())
}

/// `POST /containers/{id}/wait?condition=`: not-running (the default), next-exit,
/// removed; the exit code once the condition holds, None when the client left first.
/// The exit is read from the container's `died` event, which outlives a container
/// removed at once (`--rm`), however short its run.
pub fn wait(ctx: &Ctx, name: &str, q: &Query, gone: impl Fn() -> bool) -> ApiResult<Option<Value>> {
    use libruntime::events::{EventStatus, EventType, Follower};
    let r = find(ctx, name)?;
    let dirs = ContainerDirs::new(&ctx.paths, &r.id);
    let condition = q.get("condition").unwrap_or("not-running");
    if !matches!(condition, "not-running" | "next-exit" | "removed") {
        return Err(ApiError::BadRequest(format!(
            "invalid condition: {condition:?}"
        )));
    }
    // Watching starts before the state is read, so no exit falls between them.
    let mut events = Follower::at_end(&ctx.paths);
    let st = ctx.handle(&r).state()?;
    let done = |code: i32| Ok(Some(json!({"StatusCode": code, "Error": null})));
    if condition == "not-running" && !st.is_active() && !st.supervisor_alive() {
        return done(st.exit_code);
    }
    let mut exit: Option<i32> = None;
    // The exit code the state last showed: a container that died between the watch
    // and the first state read, or was removed before its event was seen, ends with it.
    let mut last_code = (!st.is_active()).then_some(st.exit_code);
    let mut tick = 0u32;
    loop {
        if exit.is_none() {
            exit = events
                .poll()
                .iter()
                .filter(|e| {
                    e.typ == EventType::Container && e.status == EventStatus::Died && e.id == r.id
                })
                .filter_map(|e| e.attributes.get("containerExitCode")?.parse().ok())
                .next_back();
        }
        let present = dirs.dir.exists();
        match exit {
            Some(code) if condition != "removed" || !present => return done(code),
            None if !present => return done(last_code.unwrap_or(0)),
            _ => {}
        }
        // The event is the quick way to learn of the exit; the state, read once a
        // second, catches one that fell before the watch began.
        tick += 1;
        if condition != "next-exit" && exit.is_none() && tick % 50 == 0 {
            if let Ok(now) = ctx.handle(&r).state() {
                let over = !now.is_active() && !now.supervisor_alive();
                if over {
                    last_code = Some(now.exit_code);
                }
                if over && condition == "not-running" {
                    return done(now.exit_code);
                }
            }
        }
        if gone() {
            return Ok(None);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

pub fn delete(ctx: &Ctx, name: &str, q: &Query) -> ApiResult<()> {
    let r = find(ctx, name)?;
    let h = ctx.handle(&r);
    let force = q.flag("force");
    if h.state()?.is_active() && !force {
        return Err(ApiError::Conflict(format!(
            "cannot remove container \"/{}\": container is running: stop the container before removing or force remove",
            r.name
        )));
    }
    h.remove(force)?;
    if q.flag("v") {
        libruntime::container::volumes::remove_anonymous_of(&ctx.paths, &ctx.maps, &r)?;
    }
    Ok(())
}

pub fn pause(ctx: &Ctx, name: &str, on: bool) -> ApiResult<()> {
    let r = find(ctx, name)?;
    let h = ctx.handle(&r);
    let st = h.state()?;
    match (on, st.status) {
        (true, Status::Running) => {
            h.pause()?;
        }
        (false, Status::Paused) => {
            h.unpause()?;
        }
        (true, _) => {
            return Err(ApiError::Conflict(format!(
                "Container {} is not running",
                r.id
            )))
        }
        (false, _) => {
            return Err(ApiError::Conflict(format!(
                "Container {} is not paused",
                r.id
            )))
        }
    }
    Ok(())
}

pub fn rename(ctx: &Ctx, name: &str, q: &Query) -> ApiResult<()> {
    let r = find(ctx, name)?;
    let to = q
        .get("name")
        .filter(|n| !n.is_empty())
        .ok_or_else(|| ApiError::BadRequest("a new name is required".into()))?;
    if ctr::find(&ctx.paths, to).is_ok() {
        return Err(ApiError::Conflict(format!(
            "Conflict. The container name \"/{to}\" is already in use"
        )));
    }
    let mut h = ctx.handle(&r);
    h.rename(to)?;
    Ok(())
}

/// `GET /containers/{id}/top?ps_args=`: ps's columns for the container's processes.
pub fn top(ctx: &Ctx, name: &str, q: &Query) -> ApiResult<Value> {
    let r = find(ctx, name)?;
    let h = ctx.handle(&r);
    if !h.state()?.is_active() {
        return Err(ApiError::Conflict(format!(
            "Container {} is not running",
            r.id
        )));
    }
    let args: Vec<String> = q
        .get("ps_args")
        .unwrap_or("")
        .split_whitespace()
        .map(String::from)
        .collect();
    let descs = if args.is_empty() {
        libruntime::container::top::Descriptor::defaults()
    } else {
        libruntime::container::top::Descriptor::parse_all(&args)
            .map_err(|e| ApiError::BadRequest(e.to_string()))?
    };
    let t = h.top(&descs)?;
    Ok(json!({"Titles": t.headers, "Processes": t.rows}))
}

/// `POST /containers/prune`: removes stopped containers.
pub fn prune(ctx: &Ctx) -> ApiResult<Value> {
    let mut gone = Vec::new();
    for r in ctr::list(&ctx.paths)? {
        let h = ctx.handle(&r);
        if h.state().is_ok_and(|s| !s.is_active()) && h.held_by_pod().is_none() {
            h.remove(false)?;
            gone.push(r.id);
        }
    }
    Ok(json!({"ContainersDeleted": gone, "SpaceReclaimed": 0}))
}

/// `POST /containers/{id}/update`: new limits, applied to a running container's
/// cgroup at once and kept for its next start.
pub fn update(ctx: &Ctx, name: &str, body: &[u8]) -> ApiResult<Value> {
    #[derive(serde::Deserialize, Default)]
    #[serde(rename_all = "PascalCase", default)]
    struct UpdateBody {
        #[serde(flatten)]
        resources: super::create::Resources,
        restart_policy: Option<super::create::RestartPolicy>,
    }
    let b: UpdateBody = serde_json::from_slice(body)
        .map_err(|e| ApiError::BadRequest(format!("invalid update body: {e}")))?;
    if b.restart_policy.is_some_and(|p| !p.name.is_empty()) {
        return Err(ApiError::BadRequest(
            "changing the restart policy of a container is not supported; recreate it".into(),
        ));
    }
    let r = find(ctx, name)?;
    let changes = crate::commands::create_options::resources_of(&b.resources.flags())?;
    let mut h = ctx.handle(&r);
    h.update(&changes)?;
    Ok(json!({"Warnings": []}))
}

/// `POST /containers/{id}/resize?h=&w=`: a running container's terminal gets the size,
/// through its supervisor (a client that only says hello with a size).
pub fn resize(ctx: &Ctx, name: &str, size: (u16, u16)) -> ApiResult<()> {
    let r = find(ctx, name)?;
    let h = ctx.handle(&r);
    // A container held before its start takes any hello as the start: only a running
    // one is resized.
    if h.state()?.status != Status::Running {
        return Err(ApiError::Conflict(format!(
            "Container {} is not running",
            r.id
        )));
    }
    if r.config.tty {
        h.connect(0, Some(size))?;
    }
    Ok(())
}
