//! events: the engine's event log, filtered, printed, and followed.

use crate::cli_container::EventsArgs;
use crate::output::write_out;
use crate::template::Template;
use crate::Ctx;
use anyhow::{bail, Result};
use chrono::{DateTime, Utc};
use libruntime::events::{self, Event, Follower};
use std::collections::BTreeMap;
use std::time::Duration;

/// `--filter KEY=VALUE`s: one key's values are alternatives, different keys must all
/// match, as podman's are.
pub struct Filters(BTreeMap<String, Vec<String>>);

impl Filters {
    pub fn parse(items: &[String]) -> Result<Filters> {
        let mut m: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for f in items {
            let Some((k, v)) = f.split_once('=') else {
                bail!("invalid filter {f:?}: want KEY=VALUE");
            };
            let k = if k == "status" { "event" } else { k };
            match k {
                "type" | "event" | "container" | "image" | "volume" | "network" | "pod"
                | "label" | "secret" => m.entry(k.to_string()).or_default().push(v.to_string()),
                _ => bail!(
                    "invalid filter {k:?}: use type, event, container, image, volume, network, pod, secret or label"
                ),
            }
        }
        Ok(Filters(m))
    }

    fn matches_one(key: &str, want: &str, e: &Event) -> bool {
        let names = |t: &str| {
            e.typ.word() == t && (e.name == want || (!want.is_empty() && e.id.starts_with(want)))
        };
        match key {
            "type" => e.typ.word() == want,
            "event" => e.status.word() == want,
            "container" | "image" | "volume" | "network" | "pod" | "secret" => names(key),
            "label" => match want.split_once('=') {
                Some((k, v)) => e.attributes.get(k).is_some_and(|x| x == v),
                None => e.attributes.contains_key(want),
            },
            _ => false,
        }
    }

    pub fn keep(&self, e: &Event) -> bool {
        self.0
            .iter()
            .all(|(k, wants)| wants.iter().any(|w| Self::matches_one(k, w, e)))
    }
}

/// podman's line: `TIME TYPE STATUS ID (image=…, name=…, attributes…)`.
fn human(e: &Event) -> String {
    let time = libruntime::time::parse_rfc3339(&e.time)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S%.9f %z UTC").to_string())
        .unwrap_or_else(|| e.time.clone());
    let mut details = Vec::new();
    if !e.image.is_empty() {
        details.push(format!("image={}", e.image));
    }
    if !e.name.is_empty() {
        details.push(format!("name={}", e.name));
    }
    details.extend(e.attributes.iter().map(|(k, v)| format!("{k}={v}")));
    let id = if e.id.is_empty() { &e.name } else { &e.id };
    let mut line = format!("{time} {} {} {id}", e.typ.word(), e.status.word());
    if !details.is_empty() {
        line.push_str(&format!(" ({})", details.join(", ")));
    }
    line
}

enum Shape {
    Human,
    Json,
    Template(Template),
}

impl Shape {
    fn line(&self, e: &Event) -> Result<String> {
        Ok(match self {
            Shape::Human => human(e),
            Shape::Json => serde_json::to_string(e)?,
            Shape::Template(t) => t.render(&serde_json::to_value(e)?)?,
        })
    }
}

fn time_of(e: &Event) -> Option<DateTime<Utc>> {
    libruntime::time::parse_rfc3339(&e.time)
}

pub fn events(ctx: &Ctx, a: EventsArgs) -> Result<i32> {
    let filters = Filters::parse(&a.filter)?;
    let since = a
        .since
        .as_deref()
        .map(|s| crate::time_flags::parse_time("since", s))
        .transpose()?;
    let until = a
        .until
        .as_deref()
        .map(|s| crate::time_flags::parse_time("until", s))
        .transpose()?;
    let shape = match a.format.as_deref() {
        None => Shape::Human,
        Some("json") | Some("{{json .}}") => Shape::Json,
        Some(f) => Shape::Template(Template::parse(f)?),
    };
    let in_window = |e: &Event| {
        let t = time_of(e);
        since.is_none_or(|s| t.is_some_and(|t| t >= s))
            && until.is_none_or(|u| t.is_some_and(|t| t <= u))
    };
    let print = |list: Vec<Event>| -> Result<()> {
        let mut text = String::new();
        for e in list.iter().filter(|e| filters.keep(e) && in_window(e)) {
            text.push_str(&shape.line(e)?);
            text.push('\n');
        }
        if !text.is_empty() {
            write_out(&text)?;
        }
        Ok(())
    };
    // Following starts before the past is read, so nothing falls between them.
    let mut follower = Follower::at_end(&ctx.paths);
    // podman: streaming shows new events; the past only when asked for with --since
    // (or without streaming).
    if !a.stream || since.is_some() {
        print(events::read_all(&ctx.paths))?;
    }
    if !a.stream {
        return Ok(0);
    }
    loop {
        if until.is_some_and(|u| Utc::now() > u) {
            return Ok(0);
        }
        print(follower.poll())?;
        std::thread::sleep(Duration::from_millis(100));
    }
}
