//! The Deployment controller: one ReplicaSet per pod template, named
//! `<deployment>-<pod-template-hash>`, with the revision annotations; the current one
//! gets the replicas and older ones are scaled to zero (rollout strategies come with a
//! later issue). Its status adds up its ReplicaSets'.

use super::ranking::template_hash;
use super::{controlled_by, owner_reference};
use crate::error::Result;
use crate::kube::api::{Deployment, Kind, ObjectMeta};
use crate::kube::events::EventType;
use crate::kube::store::{self, Object};
use crate::paths::Paths;
use serde_json::{json, Value};

const REVISION: &str = "deployment.kubernetes.io/revision";
const HASH: &str = "pod-template-hash";

pub fn reconcile(paths: &Paths, obj: &Object) -> Result<()> {
    let d: Deployment =
        serde_json::from_value(obj.to_api()).map_err(|e| crate::Error::json("deployment", e))?;
    let ns = obj.namespace().to_string();
    let uid = &obj.metadata.uid;
    let want = d.spec.replicas.unwrap_or(1).max(0);
    let template =
        serde_json::to_value(&d.spec.template).map_err(|e| crate::Error::json("template", e))?;
    let hash = template_hash(&template);
    let current_name = format!("{}-{hash}", obj.name());
    let owned: Vec<Object> = store::list(paths, Kind::ReplicaSet, Some(&ns))?
        .into_iter()
        .filter(|r| controlled_by(r, uid))
        .collect();
    let revision_of = |r: &Object| {
        r.metadata
            .annotations
            .get(REVISION)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    match owned.iter().find(|r| r.name() == current_name) {
        None => {
            let revision = owned.iter().map(revision_of).max().unwrap_or(0) + 1;
            let mut labels = d.spec.template.metadata.labels.clone();
            labels.insert(HASH.into(), hash.clone());
            let mut selector = d.spec.selector.clone();
            selector.match_labels.insert(HASH.into(), hash.clone());
            let mut tmpl = d.spec.template.clone();
            tmpl.metadata.labels = labels.clone();
            let rs = Object {
                api_version: "apps/v1".into(),
                kind: Kind::ReplicaSet,
                metadata: ObjectMeta {
                    name: current_name.clone(),
                    namespace: Some(ns.clone()),
                    labels,
                    annotations: [
                        (REVISION.to_string(), revision.to_string()),
                        (
                            "deployment.kubernetes.io/desired-replicas".into(),
                            want.to_string(),
                        ),
                        (
                            "deployment.kubernetes.io/max-replicas".into(),
                            want.to_string(),
                        ),
                    ]
                    .into(),
                    owner_references: vec![owner_reference(obj)],
                    ..Default::default()
                },
                spec: json!({"replicas": want, "selector": selector, "template": tmpl}),
                status: Value::Null,
            };
            store::apply(paths, rs)?;
            scaled(paths, obj, &current_name, 0, want);
        }
        Some(r) if r.spec["replicas"].as_i64() != Some(want) => {
            resize(paths, obj, r, want, true)?;
        }
        Some(_) => {}
    }
    for r in owned.iter().filter(|r| r.name() != current_name) {
        if r.spec["replicas"].as_i64() != Some(0) {
            resize(paths, obj, r, 0, false)?;
        }
    }
    super::ensure_running(paths, Kind::ReplicaSet, &ns, &current_name)?;
    let owned: Vec<Object> = store::list(paths, Kind::ReplicaSet, Some(&ns))?
        .into_iter()
        .filter(|r| controlled_by(r, uid))
        .collect();
    let count = |r: &Object, k: &str| r.status[k].as_i64().unwrap_or(0);
    let total: i64 = owned.iter().map(|r| count(r, "replicas")).sum();
    let ready: i64 = owned.iter().map(|r| count(r, "readyReplicas")).sum();
    let available: i64 = owned.iter().map(|r| count(r, "availableReplicas")).sum();
    let updated = owned
        .iter()
        .find(|r| r.name() == current_name)
        .map(|r| count(r, "replicas"))
        .unwrap_or(0);
    let now = crate::time::now_rfc3339_seconds();
    let cond = |typ: &str, ok: bool, reason: &str, message: String| {
        let status = if ok { "True" } else { "False" };
        let since = obj.status["conditions"]
            .as_array()
            .and_then(|cs| {
                cs.iter()
                    .find(|c| c["type"] == typ && c["status"] == status)
            })
            .map(|c| c["lastTransitionTime"].clone())
            .unwrap_or(json!(now));
        json!({"type": typ, "status": status, "reason": reason, "message": message,
               "lastUpdateTime": now, "lastTransitionTime": since})
    };
    let complete = updated == want && available >= want && total == want;
    let status = json!({
        "observedGeneration": obj.metadata.generation,
        "replicas": total,
        "updatedReplicas": updated,
        "readyReplicas": ready,
        "availableReplicas": available,
        "unavailableReplicas": (want - available).max(0),
        "conditions": [
            cond("Available", available >= want,
                 if available >= want { "MinimumReplicasAvailable" } else { "MinimumReplicasUnavailable" },
                 if available >= want { "Deployment has minimum availability.".into() } else { "Deployment does not have minimum availability.".into() }),
            cond("Progressing", true,
                 if complete { "NewReplicaSetAvailable" } else { "ReplicaSetUpdated" },
                 format!("ReplicaSet \"{current_name}\" {}", if complete { "has successfully progressed." } else { "is progressing." })),
        ],
    });
    store::write_status(paths, Kind::Deployment, &ns, obj.name(), uid, status)?;
    Ok(())
}

/// Sets a ReplicaSet's replicas, with the event; the current one also records the
/// deployment's desired count, as the controller annotates it.
fn resize(paths: &Paths, deployment: &Object, rs: &Object, to: i64, current: bool) -> Result<()> {
    store::update(
        paths,
        Kind::ReplicaSet,
        rs.namespace(),
        rs.name(),
        &rs.metadata.uid,
        |o| {
            scaled(
                paths,
                deployment,
                o.name(),
                o.spec["replicas"].as_i64().unwrap_or(0),
                to,
            );
            o.spec["replicas"] = json!(to);
            if current {
                o.metadata.annotations.insert(
                    "deployment.kubernetes.io/desired-replicas".into(),
                    to.to_string(),
                );
            }
        },
    )?;
    Ok(())
}

/// The deployment controller's event for a ReplicaSet it resized.
fn scaled(paths: &Paths, deployment: &Object, rs: &str, from: i64, to: i64) {
    let way = if to > from { "up" } else { "down" };
    super::event(
        paths,
        deployment,
        EventType::Normal,
        "ScalingReplicaSet",
        &format!("Scaled {way} replica set {rs} from {from} to {to}"),
    );
}
