//! `GET /events`: the engine's event log in dockerd's shape (Type, Action, Actor,
//! time), the past from `since`, then new events as they come until `until` (or until
//! the client goes).

use super::error::{ApiError, ApiResult};
use super::query::Query;
use crate::commands::events::Filters;
use crate::Ctx;
use libruntime::events::{self, Event, Follower};
use serde_json::{json, Value};
use std::time::Duration;

/// One event as dockerd writes it.
pub fn value(e: &Event) -> Value {
    let t = libruntime::time::parse_rfc3339(&e.time);
    let secs = t.map(|t| t.timestamp()).unwrap_or(0);
    let nanos = t.and_then(|t| t.timestamp_nanos_opt()).unwrap_or(0);
    let mut attributes = e.attributes.clone();
    if !e.name.is_empty() {
        attributes.insert("name".into(), e.name.clone());
    }
    if !e.image.is_empty() {
        attributes.insert("image".into(), e.image.clone());
    }
    let action = e.status.word();
    let id = if e.id.is_empty() {
        e.name.clone()
    } else {
        e.id.clone()
    };
    json!({
        "status": action,
        "id": id,
        "from": e.image,
        "Type": e.typ.word(),
        "Action": action,
        "Actor": {"ID": id, "Attributes": attributes},
        "scope": "local",
        "time": secs,
        "timeNano": nanos,
    })
}

/// Streams the events asked for through `send` (false: the client went away) until
/// `until`, or until `gone` says the client left.
pub fn stream(
    ctx: &Ctx,
    q: &Query,
    mut send: impl FnMut(&Value) -> bool,
    gone: impl Fn() -> bool,
) -> ApiResult<()> {
    let filters = Filters::parse(&q.filters().map_err(ApiError::BadRequest)?)
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let since = q.number::<f64>("since").map(|s| s as i64);
    let until = q.number::<f64>("until").map(|s| s as i64);
    let when = |e: &Event| {
        libruntime::time::parse_rfc3339(&e.time)
            .map(|t| t.timestamp())
            .unwrap_or(0)
    };
    let wanted = |e: &Event| {
        filters.keep(e) && since.is_none_or(|s| when(e) >= s) && until.is_none_or(|u| when(e) <= u)
    };
    let mut follower = Follower::at_end(&ctx.paths);
    if since.is_some() || until.is_some() {
        for e in events::read_all(&ctx.paths).iter().filter(|e| wanted(e)) {
            if !send(&value(e)) {
                return Ok(());
            }
        }
    }
    loop {
        if gone() || until.is_some_and(|u| chrono::Utc::now().timestamp() > u) {
            return Ok(());
        }
        for e in follower.poll().iter().filter(|e| wanted(e)) {
            if !send(&value(e)) {
                return Ok(());
            }
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}
