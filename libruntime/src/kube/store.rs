//! The object store: every object played, by namespace, kind and name, as JSON with
//! metadata (uid, generation, resourceVersion, creationTimestamp, labels, annotations,
//! ownerReferences), spec and status, under `kube/objects/` in the storage root. Every
//! change is made under one lock and written atomically; resourceVersion counts the
//! store's changes.

use super::api::{Kind, ObjectMeta};
use super::KubeError;
use crate::error::Result;
use crate::fsutil;
use crate::paths::Paths;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::path::PathBuf;

/// One stored object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Object {
    pub api_version: String,
    pub kind: Kind,
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: Value,
    #[serde(default)]
    pub status: Value,
}

impl Object {
    pub fn namespace(&self) -> &str {
        self.metadata.namespace.as_deref().unwrap_or("")
    }

    pub fn name(&self) -> &str {
        &self.metadata.name
    }

    /// The object as the API shows it (`-o json|yaml`).
    pub fn to_api(&self) -> Value {
        let mut v = serde_json::json!({
            "apiVersion": self.api_version,
            "kind": self.kind.name(),
            "metadata": self.metadata,
        });
        if self.kind.fields_at_top() {
            for (k, x) in self.spec.as_object().into_iter().flatten() {
                v[k] = x.clone();
            }
            return v;
        }
        if !self.spec.is_null() {
            v["spec"] = self.spec.clone();
        }
        if !self.status.is_null() {
            v["status"] = self.status.clone();
        }
        v
    }
}

/// What `apply` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    Created,
    Configured,
    Unchanged,
}

pub const DEFAULT_NAMESPACE: &str = "default";

fn root(paths: &Paths) -> PathBuf {
    paths.root.join("kube")
}

fn object_path(paths: &Paths, kind: Kind, ns: &str, name: &str) -> PathBuf {
    let ns = if kind.namespaced() { ns } else { "_cluster" };
    root(paths)
        .join("objects")
        .join(ns)
        .join(kind.plural())
        .join(format!("{name}.json"))
}

fn lock(paths: &Paths) -> Result<crate::lock::StoreLock> {
    fsutil::create_dir_all(&root(paths))?;
    crate::lock::StoreLock::exclusive(&root(paths).join("objects.lock"))
}

/// A UUID (version 4 form) from the id generator's randomness.
fn new_uid() -> String {
    let h = crate::ids::new_id();
    format!(
        "{}-{}-4{}-a{}-{}",
        &h[0..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..32]
    )
}

fn next_resource_version(paths: &Paths) -> Result<String> {
    let f = root(paths).join("resource-version");
    let n: u64 = std::fs::read_to_string(&f)
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0)
        + 1;
    fsutil::write_atomic(&f, n.to_string().as_bytes())?;
    Ok(n.to_string())
}

/// Writes an object atomically; a Secret's file only its owner may read.
fn write_object(path: &std::path::Path, obj: &Object) -> Result<()> {
    if obj.kind == Kind::Secret {
        let bytes = serde_json::to_vec(obj).map_err(|e| crate::Error::json("secret", e))?;
        fsutil::write_private(path, &bytes)
    } else {
        fsutil::write_json(path, obj)
    }
}

pub fn get(paths: &Paths, kind: Kind, ns: &str, name: &str) -> Result<Option<Object>> {
    fsutil::read_json(&object_path(paths, kind, ns, name))
}

/// Objects of `kind`, in namespace `ns` or all namespaces, sorted by namespace and name.
pub fn list(paths: &Paths, kind: Kind, ns: Option<&str>) -> Result<Vec<Object>> {
    let base = root(paths).join("objects");
    let namespaces: Vec<String> = match (ns, kind.namespaced()) {
        (_, false) => vec!["_cluster".into()],
        (Some(n), true) => vec![n.to_string()],
        (None, true) => std::fs::read_dir(&base)
            .map(|d| {
                d.flatten()
                    .filter_map(|e| e.file_name().to_str().map(String::from))
                    .filter(|n| n != "_cluster")
                    .collect()
            })
            .unwrap_or_default(),
    };
    let mut out = Vec::new();
    for n in namespaces {
        let Ok(entries) = std::fs::read_dir(base.join(&n).join(kind.plural())) else {
            continue;
        };
        for e in entries.flatten() {
            if e.path().extension().is_some_and(|x| x == "json") {
                if let Some(o) = fsutil::read_json::<Object>(&e.path())? {
                    out.push(o);
                }
            }
        }
    }
    out.sort_by(|a, b| (a.namespace(), a.name()).cmp(&(b.namespace(), b.name())));
    Ok(out)
}

/// Creates or updates an object as `kubectl apply` does: a new one gets a uid and
/// generation 1; a changed spec (or labels, annotations) a new generation; the status
/// is kept.
pub fn apply(paths: &Paths, mut obj: Object) -> Result<(Object, Applied)> {
    let _l = lock(paths)?;
    let ns = obj.namespace().to_string();
    let existing = get(paths, obj.kind, &ns, obj.name())?;
    let applied = match &existing {
        None => {
            obj.metadata.uid = new_uid();
            obj.metadata.generation = 1;
            obj.metadata.creation_timestamp = Some(crate::time::now_rfc3339_seconds());
            Applied::Created
        }
        Some(old) => {
            if super::config::is_config(obj.kind) {
                super::config::check_immutable(old, &obj).map_err(|reason| KubeError::Invalid {
                    kind: obj.kind.name().into(),
                    name: obj.name().into(),
                    reason,
                })?;
            }
            let same = old.spec == obj.spec
                && old.metadata.labels == obj.metadata.labels
                && old.metadata.annotations == obj.metadata.annotations;
            obj.metadata.uid = old.metadata.uid.clone();
            obj.metadata.creation_timestamp = old.metadata.creation_timestamp.clone();
            obj.metadata.generation = old.metadata.generation + if same { 0 } else { 1 };
            if obj.metadata.owner_references.is_empty() {
                obj.metadata.owner_references = old.metadata.owner_references.clone();
            }
            obj.status = old.status.clone();
            if same {
                return Ok((old.clone(), Applied::Unchanged));
            }
            Applied::Configured
        }
    };
    obj.metadata.resource_version = next_resource_version(paths)?;
    let path = object_path(paths, obj.kind, &ns, obj.name());
    if let Some(d) = path.parent() {
        fsutil::create_dir_all(d)?;
    }
    write_object(&path, &obj)?;
    Ok((obj, applied))
}

/// Replaces the status of an object that still exists (the same uid).
pub fn write_status(
    paths: &Paths,
    kind: Kind,
    ns: &str,
    name: &str,
    uid: &str,
    status: Value,
) -> Result<bool> {
    let _l = lock(paths)?;
    let Some(mut obj) = get(paths, kind, ns, name)? else {
        return Ok(false);
    };
    if obj.metadata.uid != uid {
        return Ok(false);
    }
    if obj.status == status {
        return Ok(true);
    }
    obj.status = status;
    obj.metadata.resource_version = next_resource_version(paths)?;
    write_object(&object_path(paths, kind, ns, name), &obj)?;
    Ok(true)
}

/// Changes a stored object in place under the lock (adoption, a controller's scaling);
/// false when it is gone or is another object of the same name now.
pub fn update(
    paths: &Paths,
    kind: Kind,
    ns: &str,
    name: &str,
    uid: &str,
    change: impl FnOnce(&mut Object),
) -> Result<bool> {
    let _l = lock(paths)?;
    let Some(mut obj) = get(paths, kind, ns, name)? else {
        return Ok(false);
    };
    if obj.metadata.uid != uid {
        return Ok(false);
    }
    let before = obj.clone();
    change(&mut obj);
    if obj == before {
        return Ok(true);
    }
    if obj.spec != before.spec {
        obj.metadata.generation += 1;
    }
    obj.metadata.resource_version = next_resource_version(paths)?;
    write_object(&object_path(paths, kind, ns, name), &obj)?;
    Ok(true)
}

/// Removes an object; what it was, if it existed.
pub fn delete(paths: &Paths, kind: Kind, ns: &str, name: &str) -> Result<Option<Object>> {
    let _l = lock(paths)?;
    let old = get(paths, kind, ns, name)?;
    if old.is_some() {
        let path = object_path(paths, kind, ns, name);
        std::fs::remove_file(&path)
            .map_err(|e| crate::error::Error::io(format!("removing {}", path.display()), e))?;
        super::events::forget(paths, kind, ns, name);
    }
    Ok(old)
}

/// A name as Kubernetes allows it (RFC 1123 subdomain, at most 253 characters).
pub fn check_name(kind: Kind, name: &str) -> std::result::Result<(), KubeError> {
    let ok = !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|l| {
            !l.is_empty()
                && l.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        });
    if ok {
        Ok(())
    } else {
        Err(KubeError::InvalidName {
            kind: kind.name().into(),
            name: name.into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(name: &str, image: &str) -> Object {
        Object {
            api_version: "v1".into(),
            kind: Kind::Pod,
            metadata: ObjectMeta {
                name: name.into(),
                namespace: Some("default".into()),
                ..Default::default()
            },
            spec: serde_json::json!({"containers": [{"name": "c", "image": image}]}),
            status: Value::Null,
        }
    }

    #[test]
    fn apply_counts_generations_and_keeps_uid_and_status() {
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths::under(dir.path());
        let (a, how) = apply(&paths, pod("web", "busybox")).unwrap();
        assert_eq!((how, a.metadata.generation), (Applied::Created, 1));
        assert_eq!(a.metadata.uid.len(), 36);
        assert!(write_status(
            &paths,
            Kind::Pod,
            "default",
            "web",
            &a.metadata.uid,
            serde_json::json!({"phase": "Running"})
        )
        .unwrap());
        let (b, how) = apply(&paths, pod("web", "busybox")).unwrap();
        assert_eq!((how, b.metadata.generation), (Applied::Unchanged, 1));
        let (c, how) = apply(&paths, pod("web", "nginx")).unwrap();
        assert_eq!((how, c.metadata.generation), (Applied::Configured, 2));
        assert_eq!(c.metadata.uid, a.metadata.uid);
        assert_eq!(c.status["phase"], "Running");
        let rv = |o: &Object| o.metadata.resource_version.parse::<u64>().unwrap();
        assert!(rv(&c) > rv(&a));
        assert!(!write_status(
            &paths,
            Kind::Pod,
            "default",
            "web",
            "other-uid",
            Value::Null
        )
        .unwrap());
        assert_eq!(list(&paths, Kind::Pod, None).unwrap().len(), 1);
        assert_eq!(
            list(&paths, Kind::Pod, Some("kube-system")).unwrap().len(),
            0
        );
        assert!(delete(&paths, Kind::Pod, "default", "web")
            .unwrap()
            .is_some());
        assert!(get(&paths, Kind::Pod, "default", "web").unwrap().is_none());
    }

    #[test]
    fn names_as_kubernetes_allows() {
        for good in ["web", "web-1", "a.b", "x9"] {
            assert!(check_name(Kind::Pod, good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "Web",
            "-a",
            "a-",
            "a_b",
            "../x",
            "a/b",
            &"a".repeat(254),
        ] {
            assert!(check_name(Kind::Pod, bad).is_err(), "{bad}");
        }
    }
}
