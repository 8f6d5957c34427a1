//! Persistent storage: PersistentVolumes, the claims that bind them, and the
//! StorageClasses that provision them. `binder` is the PV controller's matching (pure),
//! `controller` its pass over volumes and claims, `provisioner` what makes a volume
//! for a class, `claims` what a pod's kubelet asks of its claims. This file holds the
//! API server's part: checks of played objects, the built-in default class, claim
//! deletion with its protection, and what a new play of a claim may change.

pub mod binder;
pub mod claims;
pub mod controller;
pub mod provisioner;

use super::api::storage::{
    BindingMode, PersistentVolume, PersistentVolumeClaim, ReclaimPolicy, StorageClass,
    DEFAULT_CLASS_ANNOTATION,
};
use super::api::{Kind, ObjectMeta};
use super::store::{self, Object};
use crate::error::Result;
use crate::fsutil;
use crate::paths::Paths;
use crate::userns::IdMaps;
use serde_json::json;

pub use controller::sync;

/// The class skiff makes once: skiff volumes, made when a pod first uses the claim
/// (as kind's `standard`).
pub const BUILT_IN_CLASS: &str = "standard";

fn lock(paths: &Paths) -> Result<crate::lock::StoreLock> {
    let dir = paths.root.join("kube");
    fsutil::create_dir_all(&dir)?;
    crate::lock::StoreLock::exclusive(&dir.join("storage.lock"))
}

/// Stores the built-in default StorageClass the first time; deleted, it stays gone.
pub fn ensure_built_in(paths: &Paths) -> Result<()> {
    let marker = paths.root.join("kube/storage-class-made");
    if marker.exists() {
        return Ok(());
    }
    if store::get(paths, Kind::StorageClass, "", BUILT_IN_CLASS)?.is_none() {
        let class = Object {
            api_version: Kind::StorageClass.api_version().into(),
            kind: Kind::StorageClass,
            metadata: ObjectMeta {
                name: BUILT_IN_CLASS.into(),
                annotations: [(DEFAULT_CLASS_ANNOTATION.to_string(), "true".to_string())].into(),
                ..Default::default()
            },
            spec: json!({
                "provisioner": provisioner::SKIFF_VOLUME,
                "reclaimPolicy": ReclaimPolicy::Delete,
                "volumeBindingMode": BindingMode::WaitForFirstConsumer,
                "allowVolumeExpansion": true,
            }),
            status: serde_json::Value::Null,
        };
        store::apply(paths, class)?;
    }
    fsutil::write_atomic(&marker, b"")
}

/// The default class's name: the newest class marked default, as the
/// DefaultStorageClass admission plugin picks.
pub fn default_class(paths: &Paths) -> Result<Option<String>> {
    let mut defaults: Vec<(Option<String>, String)> = store::list(paths, Kind::StorageClass, None)?
        .into_iter()
        .filter_map(|o| {
            let c: StorageClass = serde_json::from_value(o.to_api()).ok()?;
            c.is_default()
                .then(|| (o.metadata.creation_timestamp.clone(), o.name().to_string()))
        })
        .collect();
    defaults.sort();
    Ok(defaults.pop().map(|(_, n)| n))
}

/// The API server's checks of a PersistentVolume.
pub fn check_volume(pv: &PersistentVolume) -> std::result::Result<(), String> {
    let s = &pv.spec;
    if !s.capacity.contains_key("storage") {
        return Err("spec.capacity: Required value".into());
    }
    if s.access_modes.is_empty() {
        return Err("spec.accessModes: Required value".into());
    }
    match (&s.host_path, &s.local) {
        (None, None) => return Err("spec: Required value: must specify a volume type".into()),
        (Some(_), Some(_)) => {
            return Err("spec.local: Forbidden: may not specify more than 1 volume type".into())
        }
        _ => {}
    }
    let path = s.path().unwrap_or("");
    if !path.starts_with('/') {
        return Err(format!(
            "spec.{}.path: Invalid value: {path:?}: must be an absolute path",
            if s.local.is_some() {
                "local"
            } else {
                "hostPath"
            }
        ));
    }
    if let Some(h) = &s.host_path {
        super::kubelet::volumes::HostPathType::parse(h.type_.as_deref())
            .map_err(|e| format!("spec.hostPath.type: {e}"))?;
    }
    if let Some(r) = &s.claim_ref {
        if r.name.is_empty() {
            return Err("spec.claimRef.name: Required value".into());
        }
    }
    Ok(())
}

/// The API server's checks of a claim (or a claim template).
pub fn check_claim(
    spec: &super::api::storage::PersistentVolumeClaimSpec,
    at: &str,
) -> std::result::Result<(), String> {
    if spec.access_modes.is_empty() {
        return Err(format!(
            "{at}accessModes: Required value: at least 1 access mode is required"
        ));
    }
    if !spec.resources.requests.contains_key("storage") {
        return Err(format!("{at}resources[storage]: Required value"));
    }
    if spec.request().is_zero() {
        return Err(format!(
            "{at}resources[storage]: Invalid value: \"0\": must be greater than zero"
        ));
    }
    if let Some(s) = &spec.selector {
        if !s.match_labels.is_empty() || !s.match_expressions.is_empty() {
            s.check().map_err(|e| format!("{at}selector: {e}"))?;
        }
    }
    Ok(())
}

/// The API server's checks of a StorageClass.
pub fn check_class(c: &StorageClass) -> std::result::Result<(), String> {
    if c.provisioner.is_empty() {
        return Err("provisioner: Required value".into());
    }
    if c.reclaim_policy == Some(ReclaimPolicy::Recycle) {
        return Err("reclaimPolicy: Unsupported value: \"Recycle\": supported values: \"Delete\", \"Retain\"".into());
    }
    Ok(())
}

/// What a new play of a stored object keeps from it and may not change: a claim keeps
/// the volume it is bound to and the class it was given, and only its requested
/// storage may change (grow, where its class allows); a volume keeps its claimRef; a
/// class's parameters and provisioner are fixed.
pub fn merge_on_apply(
    paths: &Paths,
    old: &Object,
    new: &mut Object,
) -> std::result::Result<(), String> {
    match new.kind {
        Kind::PersistentVolumeClaim => {
            for field in ["volumeName", "storageClassName"] {
                if new.spec.get(field).is_none() && old.spec.get(field).is_some() {
                    new.spec[field] = old.spec[field].clone();
                }
            }
            let mut same_but_size = new.spec.clone();
            same_but_size["resources"]["requests"]["storage"] =
                old.spec["resources"]["requests"]["storage"].clone();
            if same_but_size != old.spec {
                return Err("spec: Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims".into());
            }
            let typed =
                |o: &Object| serde_json::from_value::<PersistentVolumeClaim>(o.to_api()).ok();
            let (Some(was), Some(now)) = (typed(old), typed(new)) else {
                return Ok(());
            };
            if now.spec.request() == was.spec.request() {
                return Ok(());
            }
            if now.spec.request() < was.spec.request() {
                return Err("spec.resources.requests.storage: Forbidden: field can not be less than previous value".into());
            }
            let expandable = store::get(paths, Kind::StorageClass, "", was.spec.class())
                .ok()
                .flatten()
                .and_then(|o| serde_json::from_value::<StorageClass>(o.to_api()).ok())
                .is_some_and(|c| c.allow_volume_expansion == Some(true));
            let provisioned = old.spec["volumeName"].is_string() && expandable;
            if !provisioned {
                return Err(format!(
                    "persistentvolumeclaims {:?} is forbidden: only dynamically provisioned pvc can be resized and the storageclass that provisions the pvc must support resize",
                    old.name()
                ));
            }
            Ok(())
        }
        Kind::PersistentVolume => {
            if new.spec.get("claimRef").is_none() && old.spec.get("claimRef").is_some() {
                new.spec["claimRef"] = old.spec["claimRef"].clone();
            }
            Ok(())
        }
        Kind::StorageClass => {
            for field in [
                "provisioner",
                "parameters",
                "reclaimPolicy",
                "volumeBindingMode",
            ] {
                if new.spec.get(field) != old.spec.get(field) {
                    return Err(format!(
                        "{field}: Forbidden: updates to {field} are forbidden."
                    ));
                }
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Deletes a claim. One a pod still uses is only marked (Terminating) and goes when
/// no pod does, as the pvc-protection finalizer has it. Whether it existed.
pub fn delete_claim(paths: &Paths, maps: &IdMaps, ns: &str, name: &str) -> Result<bool> {
    let Some(o) = store::get(paths, Kind::PersistentVolumeClaim, ns, name)? else {
        return Ok(false);
    };
    if controller::consumers(paths)?.contains(&(ns.to_string(), name.to_string())) {
        store::update(
            paths,
            Kind::PersistentVolumeClaim,
            ns,
            name,
            &o.metadata.uid,
            |x| {
                if x.metadata.deletion_timestamp.is_none() {
                    x.metadata.deletion_timestamp = Some(crate::time::now_rfc3339_seconds());
                }
                if !x
                    .metadata
                    .finalizers
                    .iter()
                    .any(|f| f == "kubernetes.io/pvc-protection")
                {
                    x.metadata
                        .finalizers
                        .push("kubernetes.io/pvc-protection".into());
                }
            },
        )?;
        return Ok(true);
    }
    store::delete(paths, Kind::PersistentVolumeClaim, ns, name)?;
    sync(paths, maps)?;
    Ok(true)
}
