//! Secrets, as podman keeps them with its `file` driver: a record per secret in
//! `secrets/secrets.json` and the value in `secrets/data/<id>`, mode 0600 in a 0700
//! directory under the storage root. A value is never written into a layer, a
//! container record, a spec or a log: containers get it at start, from the supervisor,
//! as a file in their runtime directory (tmpfs) or in their environment.

mod error;
mod usage;
pub use error::SecretError;
pub use usage::{SecretKind, SecretRequest, SecretUse};

use crate::error::{Context, Error, Result};
use crate::events::{Event, EventStatus, EventType};
use crate::fsutil;
use crate::paths::Paths;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The one driver: the value in a file under the storage root.
pub const FILE_DRIVER: &str = "file";

/// What podman shows of a secret; never its value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretRecord {
    #[serde(rename = "ID")]
    pub id: String,
    #[serde(rename = "Name")]
    pub name: String,
    #[serde(rename = "Driver")]
    pub driver: String,
    #[serde(rename = "CreatedAt")]
    pub created: String,
    #[serde(rename = "UpdatedAt")]
    pub updated: String,
    #[serde(rename = "Labels", default)]
    pub labels: BTreeMap<String, String>,
}

fn dir(paths: &Paths) -> PathBuf {
    paths.root.join("secrets")
}

fn index_file(paths: &Paths) -> PathBuf {
    dir(paths).join("secrets.json")
}

fn data_file(paths: &Paths, id: &str) -> PathBuf {
    dir(paths).join("data").join(id)
}

/// Every secret, by creation.
pub fn list(paths: &Paths) -> Result<Vec<SecretRecord>> {
    Ok(fsutil::read_json(&index_file(paths))?.unwrap_or_default())
}

/// The secret named `what`, or whose id is or starts with it.
pub fn find(paths: &Paths, what: &str) -> Result<SecretRecord> {
    let all = list(paths)?;
    if let Some(s) = all.iter().find(|s| s.name == what || s.id == what) {
        return Ok(s.clone());
    }
    let mut by_prefix = all
        .iter()
        .filter(|s| !what.is_empty() && s.id.starts_with(what));
    match (by_prefix.next(), by_prefix.next()) {
        (Some(s), None) => Ok(s.clone()),
        _ => Err(SecretError::NotFound(what.to_string()).into()),
    }
}

/// podman's 25 hex digits.
fn new_secret_id() -> String {
    crate::ids::new_id()[..25].to_string()
}

/// Stores a secret; the store lock must be held. The value is written before the
/// record, so a record always has its value.
pub fn create(
    paths: &Paths,
    name: &str,
    value: &[u8],
    labels: BTreeMap<String, String>,
) -> Result<SecretRecord> {
    if !crate::ids::valid_name(name) || name.len() > 253 {
        return Err(Error::InvalidArgument(format!(
            "invalid secret name {name:?}: names must match [a-zA-Z0-9][a-zA-Z0-9_.-]* and be at most 253 characters"
        )));
    }
    if value.is_empty() {
        return Err(Error::InvalidArgument(
            "secret data must not be empty".into(),
        ));
    }
    if value.len() > 512_000 {
        return Err(Error::InvalidArgument(
            "secret data must be larger than 0 and less than 512000 bytes".into(),
        ));
    }
    let mut all = list(paths)?;
    if all.iter().any(|s| s.name == name) {
        return Err(SecretError::NameInUse(name.to_string()).into());
    }
    private_dir(&dir(paths))?;
    private_dir(&dir(paths).join("data"))?;
    let now = crate::time::now_rfc3339();
    let record = SecretRecord {
        id: new_secret_id(),
        name: name.to_string(),
        driver: FILE_DRIVER.into(),
        created: now.clone(),
        updated: now,
        labels,
    };
    fsutil::write_private(&data_file(paths, &record.id), value)?;
    all.push(record.clone());
    fsutil::write_json(&index_file(paths), &all)?;
    emit_secret(paths, EventStatus::Create, &record);
    Ok(record)
}

/// A directory only its owner may enter.
fn private_dir(d: &std::path::Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fsutil::create_dir_all(d)?;
    std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o700))
        .ctx(|| format!("restricting {}", d.display()))
}

/// The secret's value.
pub fn value(paths: &Paths, record: &SecretRecord) -> Result<Vec<u8>> {
    std::fs::read(data_file(paths, &record.id))
        .ctx(|| format!("reading the value of secret {}", record.name))
}

/// Removes a secret no container uses (`users`: the names of those that do); the store
/// lock must be held. The record goes first, so a value never outlives it unseen.
pub fn remove(paths: &Paths, record: &SecretRecord, users: Vec<String>) -> Result<()> {
    if !users.is_empty() {
        return Err(SecretError::InUse {
            name: record.name.clone(),
            containers: users,
        }
        .into());
    }
    let mut all = list(paths)?;
    all.retain(|s| s.id != record.id);
    fsutil::write_json(&index_file(paths), &all)?;
    emit_secret(paths, EventStatus::Remove, record);
    match std::fs::remove_file(data_file(paths, &record.id)) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io(format!("removing secret {}", record.name), e)),
    }
}

fn emit_secret(paths: &Paths, status: EventStatus, s: &SecretRecord) {
    let e = Event::new(EventType::Secret, status)
        .id(&s.id)
        .name(&s.name);
    crate::events::emit(paths, &e);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn paths(dir: &std::path::Path) -> Paths {
        Paths::under(dir)
    }

    #[test]
    fn values_are_private_and_records_say_nothing_of_them() {
        let d = tempfile::tempdir().unwrap();
        let p = paths(d.path());
        let s = create(&p, "db-pass", b"hunter2", BTreeMap::new()).unwrap();
        assert_eq!(s.id.len(), 25);
        let mode = |f: PathBuf| std::fs::metadata(f).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(data_file(&p, &s.id)), 0o600);
        assert_eq!(mode(dir(&p)), 0o700);
        let index = std::fs::read_to_string(index_file(&p)).unwrap();
        assert!(!index.contains("hunter2"));
        assert_eq!(
            value(&p, &find(&p, "db-pass").unwrap()).unwrap(),
            b"hunter2"
        );
        assert_eq!(find(&p, &s.id[..6]).unwrap().name, "db-pass");
        assert!(matches!(
            create(&p, "db-pass", b"x", BTreeMap::new()),
            Err(Error::Secret(SecretError::NameInUse(_)))
        ));
        assert!(create(&p, "../evil", b"x", BTreeMap::new()).is_err());
        assert!(create(&p, "empty", b"", BTreeMap::new()).is_err());
        assert!(matches!(
            remove(&p, &s, vec!["web".into()]),
            Err(Error::Secret(SecretError::InUse { .. }))
        ));
        remove(&p, &s, vec![]).unwrap();
        assert!(!data_file(&p, &s.id).exists());
        assert!(matches!(
            find(&p, "db-pass"),
            Err(Error::Secret(SecretError::NotFound(_)))
        ));
    }
}
