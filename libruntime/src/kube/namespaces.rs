//! Namespaces: default, kube-system, kube-public and kube-node-lease always exist;
//! others are played or made with `kube create namespace`. An object may only be
//! made in a namespace that exists and is not terminating. Deleting a namespace marks
//! it Terminating, deletes everything in it (workloads first, so nothing is remade;
//! their processes, pods and volumes with them), then the namespace; a deletion cut
//! short is finished by the next kube command.

use super::api::{Kind, ObjectMeta};
use super::store::{self, Object};
use super::KubeError;
use crate::error::Result;
use crate::paths::Paths;
use crate::userns::IdMaps;
use serde_json::json;

/// The namespaces Kubernetes makes and never lets go.
pub const BUILT_IN: &[&str] = &["default", "kube-system", "kube-public", "kube-node-lease"];

/// Kinds in the order a namespace's deletion takes them: owners before what they own.
const DELETION_ORDER: &[Kind] = &[
    Kind::CronJob,
    Kind::Job,
    Kind::Deployment,
    Kind::StatefulSet,
    Kind::DaemonSet,
    Kind::ReplicaSet,
    Kind::Pod,
    Kind::PersistentVolumeClaim,
    Kind::ConfigMap,
    Kind::Secret,
    Kind::Service,
    Kind::Ingress,
    Kind::HorizontalPodAutoscaler,
];

fn object(name: &str) -> Object {
    Object {
        api_version: "v1".into(),
        kind: Kind::Namespace,
        metadata: ObjectMeta {
            name: name.into(),
            labels: [("kubernetes.io/metadata.name".to_string(), name.to_string())].into(),
            ..Default::default()
        },
        spec: json!({"finalizers": ["kubernetes"]}),
        status: json!({"phase": "Active"}),
    }
}

/// Stores the built-in namespaces that are missing.
pub fn ensure_built_in(paths: &Paths) -> Result<()> {
    for n in BUILT_IN {
        if store::get(paths, Kind::Namespace, "", n)?.is_none() {
            store::apply(paths, object(n))?;
        }
    }
    Ok(())
}

/// Makes a namespace (`kube create namespace`); refuses one that exists.
pub fn create(paths: &Paths, name: &str) -> Result<Object> {
    store::check_name(Kind::Namespace, name)?;
    ensure_built_in(paths)?;
    if store::get(paths, Kind::Namespace, "", name)?.is_some() {
        return Err(KubeError::AlreadyExists {
            kind: "namespaces".into(),
            name: name.into(),
        }
        .into());
    }
    let (o, _) = store::apply(paths, object(name))?;
    Ok(o)
}

/// Refuses content in a namespace that does not exist or is being deleted.
pub fn check_open(paths: &Paths, ns: &str) -> Result<()> {
    ensure_built_in(paths)?;
    match store::get(paths, Kind::Namespace, "", ns)? {
        None => Err(KubeError::NotFound {
            kind: "namespaces".into(),
            name: ns.into(),
        }
        .into()),
        Some(o) if o.status["phase"] == "Terminating" => Err(KubeError::Forbidden(format!(
            "unable to create new content in namespace {ns} because it is being terminated"
        ))
        .into()),
        Some(_) => Ok(()),
    }
}

/// Deletes a namespace and everything in it; whether it existed.
pub fn delete(paths: &Paths, maps: &IdMaps, name: &str) -> Result<bool> {
    if BUILT_IN.contains(&name) {
        return Err(KubeError::Forbidden(format!(
            "namespaces {name:?} is forbidden: this namespace may not be deleted"
        ))
        .into());
    }
    let Some(o) = store::get(paths, Kind::Namespace, "", name)? else {
        return Ok(false);
    };
    store::write_status(
        paths,
        Kind::Namespace,
        "",
        name,
        &o.metadata.uid,
        json!({"phase": "Terminating"}),
    )?;
    finish(paths, maps, name)?;
    Ok(true)
}

/// Deletes what a Terminating namespace still holds, then the namespace.
pub fn finish(paths: &Paths, maps: &IdMaps, name: &str) -> Result<()> {
    for kind in DELETION_ORDER {
        let objects = store::list(paths, *kind, Some(name))?;
        super::play::take_down_all(paths, maps, *kind, name, &objects)?;
    }
    let _ = std::fs::remove_dir_all(paths.root.join("kube/events").join(name));
    store::delete(paths, Kind::Namespace, "", name)?;
    Ok(())
}

/// Finishes the deletions a killed command left (namespaces still Terminating).
pub fn finish_terminating(paths: &Paths, maps: &IdMaps) -> Result<()> {
    for o in store::list(paths, Kind::Namespace, None)? {
        if o.status["phase"] == "Terminating" {
            finish(paths, maps, o.name())?;
        }
    }
    Ok(())
}
