//! Events, daemonless: whoever acts (a CLI command, a supervisor, the network holder)
//! appends one JSON line to `events/events.log` in the runtime root, and `skiff events`
//! reads and follows that file. Lines are appended with O_APPEND in one write, so
//! writers never interleave; when the log passes `MAX_LOG_BYTES` the writer that
//! notices renames it to `events.log.1` (replacing the older one) under a lock, so the
//! log never grows without bound.

mod log;

pub use log::{emit, read_all, Follower};

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The log is rotated past this size; the previous log is kept, one generation.
pub const MAX_LOG_BYTES: u64 = 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventType {
    Container,
    Image,
    Network,
    Volume,
    Secret,
    Pod,
}

/// What happened, in podman's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventStatus {
    Attach,
    Build,
    Commit,
    Connect,
    Create,
    Died,
    Disconnect,
    Exec,
    HealthStatus,
    Import,
    Init,
    Kill,
    Load,
    Oom,
    Pause,
    Pull,
    Push,
    Remove,
    Rename,
    Restart,
    Save,
    Start,
    Stop,
    Tag,
    Unpause,
    Untag,
}

impl EventStatus {
    /// podman's word for it, as the log spells it.
    pub fn word(self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(String::from))
            .unwrap_or_default()
    }
}

impl EventType {
    pub fn word(self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(String::from))
            .unwrap_or_default()
    }
}

/// One event, as the log keeps it and `events --format json` prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// RFC 3339 with nanoseconds, UTC.
    #[serde(rename = "Time")]
    pub time: String,
    #[serde(rename = "Type")]
    pub typ: EventType,
    #[serde(rename = "Status")]
    pub status: EventStatus,
    /// The object's id (a container's, an image's, a network's); a volume's name.
    #[serde(rename = "ID", default, skip_serializing_if = "String::is_empty")]
    pub id: String,
    #[serde(rename = "Name", default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(rename = "Image", default, skip_serializing_if = "String::is_empty")]
    pub image: String,
    /// A container's exit code (died), a health status, a network name, …
    #[serde(
        rename = "Attributes",
        default,
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub attributes: BTreeMap<String, String>,
}

impl Event {
    pub fn new(typ: EventType, status: EventStatus) -> Event {
        Event {
            time: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true),
            typ,
            status,
            id: String::new(),
            name: String::new(),
            image: String::new(),
            attributes: BTreeMap::new(),
        }
    }

    pub fn id(mut self, id: &str) -> Event {
        self.id = id.to_string();
        self
    }

    pub fn name(mut self, name: &str) -> Event {
        self.name = name.to_string();
        self
    }

    pub fn image(mut self, image: &str) -> Event {
        self.image = image.to_string();
        self
    }

    pub fn attr(mut self, k: &str, v: impl Into<String>) -> Event {
        self.attributes.insert(k.to_string(), v.into());
        self
    }
}
