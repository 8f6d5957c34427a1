//! Workload controllers without a daemon: one small process per workload object
//! (`skiff __controller NS/KIND/NAME`), reconciling level-triggered from the object
//! store every half second and exiting when its object is gone. What it makes (Pods,
//! ReplicaSets) carries an ownerReference to it; deleting a workload deletes what it
//! owns (`play::take_down`).

pub mod cronjob;
pub mod daemonset;
pub mod deployment;
pub mod job;
pub mod ranking;
pub mod replicaset;
pub mod schedule;
pub mod statefulset;

use crate::error::Result;
use crate::kube::api::{Kind, OwnerReference};
use crate::kube::events::{EventType, Involved};
use crate::kube::owner::{say, Owner};
use crate::kube::store::{self, Object};
use crate::paths::Paths;
use crate::userns::IdMaps;
use std::time::Duration;

pub const SUBCOMMAND: &str = "__controller";

pub fn is_running(paths: &Paths, kind: Kind, ns: &str, name: &str) -> bool {
    Owner::new(kind, ns, name).is_running(paths)
}

/// Starts the object's controller unless it runs; returns after its first pass.
pub fn ensure_running(paths: &Paths, kind: Kind, ns: &str, name: &str) -> Result<()> {
    Owner::new(kind, ns, name).ensure_running(paths, SUBCOMMAND)
}

pub fn stop(paths: &Paths, kind: Kind, ns: &str, name: &str) {
    Owner::new(kind, ns, name).stop(paths)
}

/// The reference an owned object carries to `owner`.
pub fn owner_reference(owner: &Object) -> OwnerReference {
    OwnerReference {
        api_version: owner.kind.api_version().into(),
        kind: owner.kind.name().into(),
        name: owner.name().into(),
        uid: owner.metadata.uid.clone(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }
}

/// Whether `o` is controlled by the object with `uid`.
pub fn controlled_by(o: &Object, uid: &str) -> bool {
    o.metadata
        .owner_references
        .iter()
        .any(|r| r.uid == uid && r.controller == Some(true))
}

/// Whether `o` has a controller at all.
pub fn has_controller(o: &Object) -> bool {
    o.metadata
        .owner_references
        .iter()
        .any(|r| r.controller == Some(true))
}

/// A pod name `<base>-<5 random>` not taken in `ns`.
pub fn unique_pod_name(paths: &Paths, ns: &str, base: &str) -> Result<String> {
    loop {
        let n = format!("{base}-{}", ranking::random_suffix());
        if store::get(paths, Kind::Pod, ns, &n)?.is_none() {
            return Ok(n);
        }
    }
}

/// Records an event about `about`, from its kind's controller.
pub fn event(paths: &Paths, about: &Object, type_: EventType, reason: &str, message: &str) {
    let source = match about.kind {
        Kind::ReplicaSet => "replicaset-controller",
        Kind::Deployment => "deployment-controller",
        Kind::StatefulSet => "statefulset-controller",
        Kind::DaemonSet => "daemonset-controller",
        Kind::Job => "job-controller",
        Kind::CronJob => "cronjob-controller",
        _ => "skiff",
    };
    let involved = Involved {
        kind: about.kind,
        namespace: about.namespace().into(),
        name: about.name().into(),
        uid: about.metadata.uid.clone(),
    };
    crate::kube::events::record(paths, &involved, type_, reason, message, source);
}

/// Deletes a pod `owner` controls, with the controller's event.
pub fn delete_pod(paths: &Paths, owner: &Object, ns: &str, name: &str) -> Result<()> {
    store::delete(paths, Kind::Pod, ns, name)?;
    let message = match owner.kind {
        Kind::StatefulSet => format!(
            "delete Pod {name} in StatefulSet {} successful",
            owner.name()
        ),
        _ => format!("Deleted pod: {name}"),
    };
    event(
        paths,
        owner,
        EventType::Normal,
        "SuccessfulDelete",
        &message,
    );
    Ok(())
}

/// Stores a Pod owned by `owner` and starts its kubelet.
pub fn create_pod(
    paths: &Paths,
    owner: &Object,
    ns: &str,
    name: &str,
    labels: std::collections::BTreeMap<String, String>,
    annotations: std::collections::BTreeMap<String, String>,
    spec: &crate::kube::api::PodSpec,
) -> Result<()> {
    let pod = Object {
        api_version: "v1".into(),
        kind: Kind::Pod,
        metadata: crate::kube::api::ObjectMeta {
            name: name.into(),
            namespace: Some(ns.into()),
            labels,
            annotations,
            owner_references: vec![owner_reference(owner)],
            ..Default::default()
        },
        spec: serde_json::to_value(spec).map_err(|e| crate::Error::json("pod template", e))?,
        status: serde_json::Value::Null,
    };
    let mut pod = pod;
    // Admission, as the API server would answer the controller: a refused pod is an
    // event on the owner, and the next pass tries again.
    if let Err(e) = crate::kube::admission::admit_pod(paths, &mut pod) {
        event(
            paths,
            owner,
            EventType::Warning,
            "FailedCreate",
            &format!("Error creating: {e}"),
        );
        return Ok(());
    }
    store::apply(paths, pod)?;
    let message = match owner.kind {
        Kind::StatefulSet => format!(
            "create Pod {name} in StatefulSet {} successful",
            owner.name()
        ),
        _ => format!("Created pod: {name}"),
    };
    event(
        paths,
        owner,
        EventType::Normal,
        "SuccessfulCreate",
        &message,
    );
    crate::kube::kubelet::ensure_running(paths, ns, name)
}

/// Whether a pod's phase is final.
pub fn is_finished(p: &Object) -> bool {
    matches!(p.status["phase"].as_str(), Some("Succeeded" | "Failed"))
}

pub fn is_ready(p: &Object) -> bool {
    p.status["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|c| c["type"] == "Ready" && c["status"] == "True")
}

/// Whether the Job has its Complete or Failed condition.
pub fn job_finished(paths: &Paths, ns: &str, name: &str) -> bool {
    store::get(paths, Kind::Job, ns, name)
        .ok()
        .flatten()
        .is_some_and(|o| {
            o.status["conditions"].as_array().is_some_and(|c| {
                c.iter().any(|c| {
                    (c["type"] == "Complete" || c["type"] == "Failed") && c["status"] == "True"
                })
            })
        })
}

/// The hidden subcommand's body; `target` is `NS/KIND/NAME`.
pub fn run(paths: Paths, maps: IdMaps, target: &str, mut report: Option<std::fs::File>) -> i32 {
    let mut parts = target.splitn(3, '/');
    let (Some(ns), Some(kind), Some(name)) = (parts.next(), parts.next(), parts.next()) else {
        say(&mut report, "error the controller needs NS/KIND/NAME");
        return 125;
    };
    let Some(kind) = Kind::from_manifest(kind) else {
        say(&mut report, &format!("error no controller for kind {kind}"));
        return 125;
    };
    let Some(_held) = Owner::new(kind, ns, name).claim(&paths, &mut report) else {
        return 0;
    };
    let mut uid = String::new();
    loop {
        let obj = match store::get(&paths, kind, ns, name) {
            Ok(o) => o.filter(|o| uid.is_empty() || o.metadata.uid == uid),
            Err(e) => {
                crate::log::warn(&format!("controller {target}: {e}"));
                None
            }
        };
        let Some(obj) = obj else {
            say(&mut report, "ready");
            return 0;
        };
        uid = obj.metadata.uid.clone();
        let done = match kind {
            Kind::ReplicaSet => replicaset::reconcile(&paths, &maps, &obj),
            Kind::Deployment => deployment::reconcile(&paths, &obj),
            Kind::DaemonSet => daemonset::reconcile(&paths, &obj),
            Kind::Job => job::reconcile(&paths, &obj),
            Kind::StatefulSet => statefulset::reconcile(&paths, &obj),
            Kind::CronJob => cronjob::reconcile(&paths, &maps, &obj),
            _ => Ok(()),
        };
        if let Err(e) = done {
            crate::log::warn(&format!("controller {target}: {e}"));
        }
        if report.is_some() {
            say(&mut report, "ready");
            report = None;
            // From here on it mostly sleeps: give back what start-up touched.
            crate::procinfo::shed_startup_memory();
        }
        if kind == Kind::Job && job_finished(&paths, ns, name) {
            // A finished Job changes no more: its controller's work is done.
            return 0;
        }
        // Level-triggered: a pass a second, as each pass reads the whole picture.
        std::thread::sleep(Duration::from_secs(1));
    }
}
