//! Events: what the kubelets and controllers did and saw, kept per object as
//! Kubernetes' Event objects are, for `kube describe` and `kube get events`. Each
//! object's events are lines appended to one file (`kube/events/NS/PLURAL/NAME.jsonl`);
//! an append of one short line needs no lock, so a kubelet and a controller can
//! record at once. Repeats are folded into one event with a count when read, as the
//! API server's event aggregation shows them.

use super::api::Kind;
use crate::error::{Error, Result};
use crate::paths::Paths;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::PathBuf;

/// Past this size an object's event file is rotated (one older file is kept), so a
/// probe failing for days does not fill the disk.
const ROTATE_BYTES: u64 = 512 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EventType {
    Normal,
    Warning,
}

/// The object an event is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Involved {
    pub kind: Kind,
    pub namespace: String,
    pub name: String,
    pub uid: String,
}

/// One event as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Recorded {
    #[serde(rename = "type")]
    pub type_: EventType,
    pub reason: String,
    pub message: String,
    /// The component: kubelet, default-scheduler, replicaset-controller, …
    pub source: String,
    pub uid: String,
    pub time: String,
}

/// Repeats of one event, folded: what `describe` and `get events` print.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub type_: EventType,
    pub reason: String,
    pub message: String,
    pub source: String,
    pub count: u32,
    pub first: String,
    pub last: String,
    pub involved: Involved,
}

fn file(paths: &Paths, kind: Kind, ns: &str, name: &str) -> PathBuf {
    paths
        .root
        .join("kube/events")
        .join(ns)
        .join(kind.plural())
        .join(format!("{name}.jsonl"))
}

fn older(f: &std::path::Path) -> PathBuf {
    f.with_extension("jsonl.1")
}

/// Records an event. It never fails the work it describes: a write that fails is
/// logged and dropped.
pub fn record(
    paths: &Paths,
    about: &Involved,
    type_: EventType,
    reason: &str,
    message: &str,
    source: &str,
) {
    let line = Recorded {
        type_,
        reason: reason.into(),
        message: message.into(),
        source: source.into(),
        uid: about.uid.clone(),
        time: crate::time::now_rfc3339_seconds(),
    };
    if let Err(e) = append(paths, about, &line) {
        crate::log::warn(&format!(
            "recording event {reason} of {} {}: {e}",
            about.kind.name(),
            about.name
        ));
    }
}

fn append(paths: &Paths, about: &Involved, line: &Recorded) -> Result<()> {
    let f = file(paths, about.kind, &about.namespace, &about.name);
    let io = |what: &str, e| Error::io(format!("{what} {}", f.display()), e);
    if let Some(dir) = f.parent() {
        crate::fsutil::create_dir_all(dir)?;
    }
    if std::fs::metadata(&f).is_ok_and(|m| m.len() > ROTATE_BYTES) {
        std::fs::rename(&f, older(&f)).map_err(|e| io("rotating", e))?;
    }
    let mut text = serde_json::to_string(line).map_err(|e| Error::json("event", e))?;
    text.push('\n');
    // One write of one line with O_APPEND: concurrent writers never interleave.
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&f)
        .and_then(|mut h| h.write_all(text.as_bytes()))
        .map_err(|e| io("appending to", e))
}

/// The events of one object (of its current uid), folded, oldest first.
pub fn of(paths: &Paths, about: &Involved) -> Vec<Event> {
    let f = file(paths, about.kind, &about.namespace, &about.name);
    let mut lines = read_lines(&older(&f));
    lines.extend(read_lines(&f));
    lines.retain(|l| l.uid == about.uid);
    fold(about, lines)
}

/// Every event in `ns` (or in every namespace), folded, oldest last-seen first.
pub fn all(paths: &Paths, ns: Option<&str>) -> Vec<Event> {
    let root = paths.root.join("kube/events");
    let namespaces: Vec<String> = match ns {
        Some(n) => vec![n.to_string()],
        None => dir_names(&root),
    };
    let mut out = Vec::new();
    for n in namespaces {
        for plural in dir_names(&root.join(&n)) {
            let Some(kind) = Kind::from_cli(&plural) else {
                continue;
            };
            for entry in dir_names(&root.join(&n).join(&plural)) {
                let Some(name) = entry.strip_suffix(".jsonl") else {
                    continue;
                };
                let mut lines =
                    read_lines(&root.join(&n).join(&plural).join(format!("{name}.jsonl.1")));
                lines.extend(read_lines(&root.join(&n).join(&plural).join(&entry)));
                // An object's events carry its uid; a name reused gets its own group.
                let mut uids: Vec<String> = lines.iter().map(|l| l.uid.clone()).collect();
                uids.dedup();
                for uid in uids {
                    let about = Involved {
                        kind,
                        namespace: n.clone(),
                        name: name.to_string(),
                        uid: uid.clone(),
                    };
                    let mine = lines.iter().filter(|l| l.uid == uid).cloned().collect();
                    out.extend(fold(&about, mine));
                }
            }
        }
    }
    out.sort_by(|a, b| a.last.cmp(&b.last));
    out
}

/// Drops an object's events (it is deleted).
pub fn forget(paths: &Paths, kind: Kind, ns: &str, name: &str) {
    let f = file(paths, kind, ns, name);
    let _ = std::fs::remove_file(older(&f));
    let _ = std::fs::remove_file(&f);
}

fn dir_names(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str().map(String::from))
        .collect();
    names.sort();
    names
}

fn read_lines(f: &std::path::Path) -> Vec<Recorded> {
    std::fs::read_to_string(f)
        .unwrap_or_default()
        .lines()
        // A line cut short by a crash is skipped, not fatal.
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// Folds repeats (same type, reason, message and source) into one event with a
/// count, first and last time; ordered by when each was last seen.
pub fn fold(about: &Involved, lines: Vec<Recorded>) -> Vec<Event> {
    let mut out: Vec<Event> = Vec::new();
    for l in lines {
        match out.iter_mut().find(|e| {
            e.type_ == l.type_
                && e.reason == l.reason
                && e.message == l.message
                && e.source == l.source
        }) {
            Some(e) => {
                e.count += 1;
                e.last = l.time;
            }
            None => out.push(Event {
                type_: l.type_,
                reason: l.reason,
                message: l.message,
                source: l.source,
                count: 1,
                first: l.time.clone(),
                last: l.time,
                involved: about.clone(),
            }),
        }
    }
    out.sort_by(|a, b| a.last.cmp(&b.last));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(reason: &str, message: &str, time: &str) -> Recorded {
        Recorded {
            type_: EventType::Warning,
            reason: reason.into(),
            message: message.into(),
            source: "kubelet".into(),
            uid: "u".into(),
            time: time.into(),
        }
    }

    #[test]
    fn repeats_fold_into_one_with_a_count_and_both_times() {
        let about = Involved {
            kind: Kind::Pod,
            namespace: "default".into(),
            name: "p".into(),
            uid: "u".into(),
        };
        let folded = fold(
            &about,
            vec![
                line("Unhealthy", "Liveness probe failed", "2026-01-01T00:00:01Z"),
                line("Killing", "restart", "2026-01-01T00:00:02Z"),
                line("Unhealthy", "Liveness probe failed", "2026-01-01T00:00:03Z"),
                line("Unhealthy", "Liveness probe failed", "2026-01-01T00:00:09Z"),
            ],
        );
        assert_eq!(folded.len(), 2);
        assert_eq!(folded[0].reason, "Killing");
        let u = &folded[1];
        assert_eq!(
            (u.count, u.first.as_str(), u.last.as_str()),
            (3, "2026-01-01T00:00:01Z", "2026-01-01T00:00:09Z")
        );
    }

    #[test]
    fn events_are_kept_per_object_and_uid_and_survive_a_torn_line() {
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths::under(dir.path());
        let mut about = Involved {
            kind: Kind::Pod,
            namespace: "default".into(),
            name: "web".into(),
            uid: "one".into(),
        };
        record(
            &paths,
            &about,
            EventType::Normal,
            "Started",
            "Started container a",
            "kubelet",
        );
        let f = file(&paths, Kind::Pod, "default", "web");
        std::fs::OpenOptions::new()
            .append(true)
            .open(&f)
            .unwrap()
            .write_all(b"{\"type\":")
            .unwrap();
        about.uid = "two".into();
        // The torn line is skipped; the next record starts on a line of its own.
        std::fs::OpenOptions::new()
            .append(true)
            .open(&f)
            .unwrap()
            .write_all(b"\n")
            .unwrap();
        record(
            &paths,
            &about,
            EventType::Normal,
            "Started",
            "Started container b",
            "kubelet",
        );
        let mine = of(&paths, &about);
        assert_eq!(mine.len(), 1);
        assert_eq!(mine[0].message, "Started container b");
        assert_eq!(all(&paths, Some("default")).len(), 2);
        forget(&paths, Kind::Pod, "default", "web");
        assert!(all(&paths, None).is_empty());
    }
}
