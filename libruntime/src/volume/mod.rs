//! Named volumes: directories skiff owns under `volumes/<name>/_data`, with a record
//! beside them. They outlive containers; anonymous ones go with `rm -v`.

mod error;
pub use error::VolumeError;
pub mod mounts;

use crate::error::{Context, Error, Result};
use crate::events::{Event, EventStatus, EventType};
use crate::fsutil;
use crate::paths::Paths;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VolumeRecord {
    #[serde(rename = "Name")]
    pub name: String,
    #[serde(rename = "Driver")]
    pub driver: String,
    #[serde(rename = "Mountpoint")]
    pub mountpoint: PathBuf,
    #[serde(rename = "CreatedAt")]
    pub created: String,
    #[serde(rename = "Labels")]
    pub labels: BTreeMap<String, String>,
    #[serde(rename = "Options")]
    pub options: BTreeMap<String, String>,
    #[serde(rename = "Anonymous", default)]
    pub anonymous: bool,
}

fn dir(paths: &Paths, name: &str) -> PathBuf {
    paths.root.join("volumes").join(name)
}

/// Options of the local driver that skiff knows.
fn check_options(options: &BTreeMap<String, String>) -> Result<()> {
    for (k, v) in options {
        match k.as_str() {
            "type" if v == "tmpfs" => {}
            "o" if v
                .split(',')
                .all(|o| o.starts_with("size=") || o.starts_with("mode=")) => {}
            _ => {
                return Err(Error::InvalidArgument(format!(
                    "volume option {k}={v} is not supported: use type=tmpfs and o=size=…,mode=…"
                )))
            }
        }
    }
    Ok(())
}

/// Creates a volume; the store lock must be held. `name` None makes an anonymous one.
pub fn create(
    paths: &Paths,
    name: Option<&str>,
    labels: BTreeMap<String, String>,
    options: BTreeMap<String, String>,
) -> Result<VolumeRecord> {
    check_options(&options)?;
    let (name, anonymous) = match name {
        Some(n) if !mounts::valid_volume_name(n) => {
            return Err(Error::InvalidArgument(format!(
                "invalid volume name {n:?}: names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*"
            )))
        }
        Some(n) => (n.to_string(), false),
        None => (crate::ids::new_id(), true),
    };
    let d = dir(paths, &name);
    if d.join("volume.json").exists() {
        return Err(Error::InvalidArgument(format!(
            "volume with name {name} already exists"
        )));
    }
    let rec = VolumeRecord {
        name: name.clone(),
        driver: "local".into(),
        mountpoint: d.join("_data"),
        created: crate::time::now_rfc3339(),
        labels,
        options,
        anonymous,
    };
    fsutil::create_dir_all(&rec.mountpoint)?;
    fsutil::write_json(&d.join("volume.json"), &rec)?;
    emit_volume(paths, EventStatus::Create, &rec.name);
    Ok(rec)
}

pub fn get(paths: &Paths, name: &str) -> Result<VolumeRecord> {
    if !mounts::valid_volume_name(name) {
        return Err(Error::InvalidArgument(format!(
            "invalid volume name {name:?}"
        )));
    }
    fsutil::read_json(&dir(paths, name).join("volume.json"))?
        .ok_or_else(|| Error::InvalidArgument(format!("no such volume {name}")))
}

pub fn list(paths: &Paths) -> Vec<VolumeRecord> {
    let Ok(entries) = std::fs::read_dir(paths.root.join("volumes")) else {
        return vec![];
    };
    let mut out: Vec<VolumeRecord> = entries
        .flatten()
        .filter_map(|e| {
            fsutil::read_json(&e.path().join("volume.json"))
                .ok()
                .flatten()
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// Removes a volume and its data; the caller checked it is unused.
pub fn remove(paths: &Paths, maps: &crate::userns::IdMaps, name: &str) -> Result<()> {
    let d = dir(paths, name);
    if !d.join("volume.json").exists() {
        return Err(Error::InvalidArgument(format!("no such volume {name}")));
    }
    // Renamed first so that it disappears whole.
    let trash = crate::store::Store::open(paths).staging_path("vol");
    fsutil::create_dir_all(&paths.tmp_dir())?;
    std::fs::rename(&d, &trash).ctx(|| format!("removing volume {name}"))?;
    if fsutil::remove_tree(&trash).is_err() {
        crate::userns::run_in_storage_ns(maps, || fsutil::remove_tree(&trash))?;
    }
    emit_volume(paths, EventStatus::Remove, name);
    Ok(())
}

fn emit_volume(paths: &Paths, status: EventStatus, name: &str) {
    let e = Event::new(EventType::Volume, status).id(name).name(name);
    crate::events::emit(paths, &e);
}
