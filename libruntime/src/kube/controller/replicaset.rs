//! The ReplicaSet controller: adopts orphan pods its selector matches, makes pods from
//! its template until `replicas` are active (named `<rs>-<5 random>`), removes the
//! surplus in the controller's order, and writes its status.

use super::ranking::{deletion_order, PodFacts};
use super::{controlled_by, has_controller, owner_reference};
use crate::error::Result;
use crate::kube::api::{Kind, ReplicaSet};
use crate::kube::store::{self, Object};
use crate::paths::Paths;
use crate::userns::IdMaps;
use serde_json::json;

fn is_ready(p: &Object) -> bool {
    p.status["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|c| c["type"] == "Ready" && c["status"] == "True")
}

/// Counted toward the replicas: not finished, and not being deleted (a terminating
/// pod is replaced at once, as the ReplicaSet controller does).
fn is_active(p: &Object) -> bool {
    !matches!(p.status["phase"].as_str(), Some("Succeeded" | "Failed"))
        && p.metadata.deletion_timestamp.is_none()
}

pub fn reconcile(paths: &Paths, _maps: &IdMaps, obj: &Object) -> Result<()> {
    let rs: ReplicaSet =
        serde_json::from_value(obj.to_api()).map_err(|e| crate::Error::json("replicaset", e))?;
    let ns = obj.namespace().to_string();
    let uid = &obj.metadata.uid;
    let mut mine = Vec::new();
    for p in store::list(paths, Kind::Pod, Some(&ns))? {
        if controlled_by(&p, uid) {
            mine.push(p);
        } else if !has_controller(&p) && rs.spec.selector.matches(&p.metadata.labels) {
            // An orphan the selector matches is adopted, as the controller does.
            let reference = owner_reference(obj);
            if store::update(paths, Kind::Pod, &ns, p.name(), &p.metadata.uid, |o| {
                o.metadata.owner_references.push(reference)
            })? {
                mine.push(p);
            }
        }
    }
    let active: Vec<&Object> = mine.iter().filter(|p| is_active(p)).collect();
    let want = rs.spec.replicas.unwrap_or(1).max(0) as usize;
    if active.len() < want {
        for _ in active.len()..want {
            make_pod(paths, obj, &rs, &ns)?;
        }
    } else if active.len() > want {
        let facts: Vec<PodFacts> = active
            .iter()
            .map(|p| PodFacts {
                name: p.name().to_string(),
                running: p.status["phase"] == "Running",
                ready: is_ready(p),
                restarts: crate::kube::kubelet::status::columns(&p.status).2,
                created: p.metadata.creation_timestamp.clone().unwrap_or_default(),
            })
            .collect();
        for victim in deletion_order(facts).into_iter().take(active.len() - want) {
            // The Pod's kubelet sees its object gone and ends it with its grace period.
            super::delete_pod(paths, obj, &ns, &victim.name)?;
        }
    }
    let mine: Vec<Object> = store::list(paths, Kind::Pod, Some(&ns))?
        .into_iter()
        .filter(|p| controlled_by(p, uid) && is_active(p))
        .collect();
    let ready = mine.iter().filter(|p| is_ready(p)).count();
    let status = json!({
        "replicas": mine.len(),
        "fullyLabeledReplicas": mine.iter().filter(|p| rs.spec.selector.matches(&p.metadata.labels)).count(),
        "readyReplicas": ready,
        "availableReplicas": ready,
        "observedGeneration": obj.metadata.generation,
    });
    store::write_status(paths, Kind::ReplicaSet, &ns, obj.name(), uid, status)?;
    Ok(())
}

fn make_pod(paths: &Paths, owner: &Object, rs: &ReplicaSet, ns: &str) -> Result<()> {
    let t = &rs.spec.template;
    let name = super::unique_pod_name(paths, ns, owner.name())?;
    super::create_pod(
        paths,
        owner,
        ns,
        &name,
        t.metadata.labels.clone(),
        t.metadata.annotations.clone(),
        &t.spec,
    )
}
