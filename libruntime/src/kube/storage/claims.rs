//! What a pod needs of its claims before it can be placed: its ephemeral volumes'
//! claims made (owned by the pod, deleted with it), every claim there and bound,
//! and where each bound volume's data lives. What stops it is the scheduler's
//! reason, which the kubelet reports as the pod's Unschedulable condition.

use super::controller::{self, PROVISIONED_BY};
use crate::error::Result;
use crate::kube::api::storage::{
    BindingMode, PersistentVolume, PersistentVolumeClaim, StorageClass,
};
use crate::kube::api::{Kind, ObjectMeta, OwnerReference, Pod};
use crate::kube::store::{self, Object};
use crate::paths::Paths;
use crate::userns::IdMaps;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Where a pod's claim volumes live, by volume name; or why the pod cannot be placed.
pub enum Placement {
    Ready(BTreeMap<String, PathBuf>),
    Unschedulable(String),
}

/// The scheduler's message for one reason, on this one-node cluster.
fn unschedulable(reason: &str) -> Placement {
    Placement::Unschedulable(format!(
        "0/1 nodes are available: {reason}. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling."
    ))
}

/// Makes the claims of the pod's ephemeral volumes that are missing.
fn make_ephemeral(paths: &Paths, pod: &Pod) -> Result<Option<String>> {
    let ns = pod.metadata.namespace.clone().unwrap_or_default();
    for v in &pod.spec.volumes {
        let Some(e) = &v.ephemeral else { continue };
        let name = format!("{}-{}", pod.metadata.name, v.name);
        if let Some(existing) = store::get(paths, Kind::PersistentVolumeClaim, &ns, &name)? {
            if !existing
                .metadata
                .owner_references
                .iter()
                .any(|r| r.uid == pod.metadata.uid)
            {
                return Ok(Some(format!(
                    "PVC {ns}/{name} was not created for pod {ns}/{} (pod is not owner)",
                    pod.metadata.name
                )));
            }
            continue;
        }
        let t = &e.volume_claim_template;
        let mut claim = Object {
            api_version: "v1".into(),
            kind: Kind::PersistentVolumeClaim,
            metadata: ObjectMeta {
                name,
                namespace: Some(ns.clone()),
                labels: t.metadata.labels.clone(),
                annotations: t.metadata.annotations.clone(),
                owner_references: vec![OwnerReference {
                    api_version: "v1".into(),
                    kind: "Pod".into(),
                    name: pod.metadata.name.clone(),
                    uid: pod.metadata.uid.clone(),
                    controller: Some(true),
                    block_owner_deletion: Some(true),
                }],
                ..Default::default()
            },
            spec: serde_json::to_value(&t.spec)
                .map_err(|e| crate::Error::json("claim template", e))?,
            status: serde_json::Value::Null,
        };
        if let Err(e) = crate::kube::admission::admit_claim(paths, &mut claim) {
            return Ok(Some(e.to_string()));
        }
        store::apply(paths, claim)?;
    }
    Ok(None)
}

/// Whether every claim of the pod is bound, binding what can be; where each lives.
pub fn place(paths: &Paths, maps: &IdMaps, pod: &Pod) -> Result<Placement> {
    if !pod.spec.volumes.iter().any(|v| v.claim_name("").is_some()) {
        return Ok(Placement::Ready(BTreeMap::new()));
    }
    if let Some(why) = make_ephemeral(paths, pod)? {
        return Ok(unschedulable(&why));
    }
    let ns = pod.metadata.namespace.clone().unwrap_or_default();
    let mut synced = false;
    let mut out = BTreeMap::new();
    for v in &pod.spec.volumes {
        let Some(name) = v.claim_name(&pod.metadata.name) else {
            continue;
        };
        let mut claim = store::get(paths, Kind::PersistentVolumeClaim, &ns, &name)?;
        if claim.as_ref().is_some_and(|c| c.status["phase"] != "Bound") && !synced {
            // Its first consumer is here: bind (or provision) now.
            controller::sync(paths, maps)?;
            synced = true;
            claim = store::get(paths, Kind::PersistentVolumeClaim, &ns, &name)?;
        }
        let Some(c) = claim else {
            return Ok(unschedulable(&format!(
                "persistentvolumeclaim \"{name}\" not found"
            )));
        };
        if c.metadata.deletion_timestamp.is_some() {
            return Ok(unschedulable(&format!(
                "persistentvolumeclaim \"{name}\" is being deleted"
            )));
        }
        let typed: PersistentVolumeClaim =
            serde_json::from_value(c.to_api()).map_err(|e| crate::Error::json("claim", e))?;
        if c.status["phase"] != "Bound" {
            let delayed = store::get(paths, Kind::StorageClass, "", typed.spec.class())?
                .and_then(|o| serde_json::from_value::<StorageClass>(o.to_api()).ok())
                .is_some_and(|k| k.volume_binding_mode == Some(BindingMode::WaitForFirstConsumer));
            return Ok(unschedulable(if delayed {
                "1 node(s) didn't find available persistent volumes to bind"
            } else {
                "pod has unbound immediate PersistentVolumeClaims"
            }));
        }
        let vn = typed.spec.volume_name.unwrap_or_default();
        let Some(pv) = store::get(paths, Kind::PersistentVolume, "", &vn)? else {
            return Ok(unschedulable(&format!(
                "persistentvolume \"{vn}\" not found"
            )));
        };
        let spec: PersistentVolume = serde_json::from_value(pv.to_api())
            .map_err(|e| crate::Error::json("persistent volume", e))?;
        let Some(dir) = spec.spec.path().map(PathBuf::from) else {
            return Ok(unschedulable(&format!(
                "persistentvolume \"{vn}\" has no path on this node"
            )));
        };
        // A static volume's directory is the administrator's to make, as on a
        // node; DirectoryOrCreate and the rest are checked as for a hostPath.
        if let Some(h) = spec
            .spec
            .host_path
            .as_ref()
            .filter(|_| !pv.metadata.annotations.contains_key(PROVISIONED_BY))
        {
            if let Err(e) = crate::kube::kubelet::volumes::HostPathType::parse(h.type_.as_deref())
                .and_then(|t| t.prepare(&dir))
            {
                return Ok(unschedulable(&e));
            }
        }
        if !dir.is_dir() {
            return Ok(unschedulable(&format!(
                "persistentvolume \"{vn}\": {} is not a directory",
                dir.display()
            )));
        }
        out.insert(v.name.clone(), dir);
    }
    Ok(Placement::Ready(out))
}

/// Deletes the ephemeral claims a pod owned (after the pod is gone).
pub fn release_ephemeral(paths: &Paths, maps: &IdMaps, ns: &str, pod_uid: &str) -> Result<()> {
    let mut any = false;
    for c in store::list(paths, Kind::PersistentVolumeClaim, Some(ns))? {
        if c.metadata
            .owner_references
            .iter()
            .any(|r| r.uid == pod_uid && r.kind == "Pod")
        {
            store::delete(paths, Kind::PersistentVolumeClaim, ns, c.name())?;
            any = true;
        }
    }
    if any {
        controller::sync(paths, maps)?;
    }
    Ok(())
}
