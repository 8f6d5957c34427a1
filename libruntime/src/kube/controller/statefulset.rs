//! The StatefulSet controller: pods `<sts>-<ordinal>` with stable names and hostnames;
//! OrderedReady makes each only after every lower ordinal is Running and Ready and
//! removes from the highest down, one at a time; Parallel does all at once. Each
//! volumeClaimTemplate gives a PersistentVolumeClaim `<claim>-<sts>-<ordinal>`, kept
//! when pods and the StatefulSet go. The ordering is a pure function.

use super::{controlled_by, is_finished, is_ready};
use crate::error::Result;
use crate::kube::api::workloads::PodManagementPolicy;
use crate::kube::api::{Kind, ObjectMeta, StatefulSet};
use crate::kube::kubelet;
use crate::kube::store::{self, Object};
use crate::paths::Paths;
use serde_json::json;

/// One ordinal as the controller sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    /// No pod (and none still terminating).
    Missing,
    /// A pod that is not both Running and Ready yet.
    Starting,
    RunningReady,
    /// Its object is gone but it still ends.
    Terminating,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Create(Vec<usize>),
    Delete(Vec<usize>),
    Wait,
}

/// What to do next; `slots` are the ordinals that have (or had) a pod, `replicas`
/// how many there should be.
pub fn next_step(slots: &[Slot], replicas: usize, policy: PodManagementPolicy) -> Step {
    let surplus: Vec<usize> = (replicas..slots.len())
        .rev()
        .filter(|i| matches!(slots[*i], Slot::Starting | Slot::RunningReady))
        .collect();
    let missing: Vec<usize> = (0..replicas)
        .filter(|i| slots.get(*i).is_none_or(|s| *s == Slot::Missing))
        .collect();
    match policy {
        PodManagementPolicy::Parallel => {
            if !missing.is_empty() {
                Step::Create(missing)
            } else if !surplus.is_empty() {
                Step::Delete(surplus)
            } else {
                Step::Wait
            }
        }
        PodManagementPolicy::OrderedReady => {
            // Nothing moves while any pod is on its way up or down.
            let busy = slots
                .iter()
                .any(|s| matches!(s, Slot::Starting | Slot::Terminating));
            if busy {
                return Step::Wait;
            }
            if let Some(first) = missing.first() {
                return Step::Create(vec![*first]);
            }
            match surplus.first() {
                Some(top) => Step::Delete(vec![*top]),
                None => Step::Wait,
            }
        }
    }
}

fn ordinal_of(sts: &str, pod: &str) -> Option<usize> {
    pod.strip_prefix(sts)?.strip_prefix('-')?.parse().ok()
}

pub fn reconcile(paths: &Paths, obj: &Object) -> Result<()> {
    let sts: StatefulSet =
        serde_json::from_value(obj.to_api()).map_err(|e| crate::Error::json("statefulset", e))?;
    let ns = obj.namespace().to_string();
    let uid = &obj.metadata.uid;
    let replicas = sts.spec.replicas.unwrap_or(1).max(0) as usize;
    let pods: Vec<Object> = store::list(paths, Kind::Pod, Some(&ns))?
        .into_iter()
        .filter(|p| controlled_by(p, uid))
        .collect();
    let top = pods
        .iter()
        .filter_map(|p| ordinal_of(obj.name(), p.name()))
        .max()
        .map_or(0, |m| m + 1)
        .max(replicas);
    let mut slots = vec![Slot::Missing; top];
    for (i, slot) in slots.iter_mut().enumerate() {
        let name = format!("{}-{i}", obj.name());
        let pod = pods.iter().find(|p| p.name() == name);
        *slot = match pod {
            Some(p) if is_ready(p) && p.status["phase"] == "Running" => Slot::RunningReady,
            Some(p) if !is_finished(p) => {
                // Its kubelet may have been stopped: start it again.
                kubelet::ensure_running(paths, &ns, &name)?;
                Slot::Starting
            }
            Some(_) => Slot::Starting,
            None if kubelet::is_running(paths, &ns, &name) => Slot::Terminating,
            None => Slot::Missing,
        };
    }
    match next_step(
        &slots,
        replicas,
        sts.spec.pod_management_policy.unwrap_or_default(),
    ) {
        Step::Create(ordinals) => {
            for i in ordinals {
                make_claims(paths, obj, &sts, &ns, i)?;
                make_pod(paths, obj, &sts, &ns, i)?;
            }
        }
        Step::Delete(ordinals) => {
            for i in ordinals {
                super::delete_pod(paths, obj, &ns, &format!("{}-{i}", obj.name()))?;
            }
        }
        Step::Wait => {}
    }
    let mine: Vec<Object> = store::list(paths, Kind::Pod, Some(&ns))?
        .into_iter()
        .filter(|p| controlled_by(p, uid))
        .collect();
    let ready = mine.iter().filter(|p| is_ready(p)).count();
    let status = json!({
        "replicas": mine.len(),
        "readyReplicas": ready,
        "availableReplicas": ready,
        "currentReplicas": mine.len(),
        "updatedReplicas": mine.len(),
        "observedGeneration": obj.metadata.generation,
    });
    store::write_status(paths, Kind::StatefulSet, &ns, obj.name(), uid, status)?;
    Ok(())
}

fn make_pod(paths: &Paths, owner: &Object, sts: &StatefulSet, ns: &str, i: usize) -> Result<()> {
    let name = format!("{}-{i}", owner.name());
    let t = &sts.spec.template;
    let mut labels = t.metadata.labels.clone();
    labels.insert("statefulset.kubernetes.io/pod-name".into(), name.clone());
    labels.insert("apps.kubernetes.io/pod-index".into(), i.to_string());
    let mut spec = t.spec.clone();
    // Each claim template becomes the ordinal's own claim, under the template's name.
    for c in &sts.spec.volume_claim_templates {
        spec.volumes.retain(|v| v.name != c.metadata.name);
        spec.volumes.push(crate::kube::api::volume::Volume {
            name: c.metadata.name.clone(),
            persistent_volume_claim: Some(crate::kube::api::volume::ClaimVolume {
                claim_name: format!("{}-{}-{i}", c.metadata.name, owner.name()),
                read_only: None,
            }),
            ..Default::default()
        });
    }
    // A stable identity: the hostname is the pod's name, in the governing service.
    spec.hostname = Some(name.clone());
    spec.subdomain = sts.spec.service_name.clone();
    super::create_pod(
        paths,
        owner,
        ns,
        &name,
        labels,
        t.metadata.annotations.clone(),
        &spec,
    )
}

/// The ordinal's claims, made once and kept (they outlive pods and the set); the
/// pod's kubelet binds them when it starts.
fn make_claims(paths: &Paths, owner: &Object, sts: &StatefulSet, ns: &str, i: usize) -> Result<()> {
    for t in &sts.spec.volume_claim_templates {
        let name = format!("{}-{}-{i}", t.metadata.name, owner.name());
        if store::get(paths, Kind::PersistentVolumeClaim, ns, &name)?.is_some() {
            continue;
        }
        let mut labels = sts.spec.selector.match_labels.clone();
        labels.extend(t.metadata.labels.clone());
        let mut claim = Object {
            api_version: "v1".into(),
            kind: Kind::PersistentVolumeClaim,
            metadata: ObjectMeta {
                name,
                namespace: Some(ns.into()),
                labels,
                annotations: t.metadata.annotations.clone(),
                ..Default::default()
            },
            spec: serde_json::to_value(&t.spec)
                .map_err(|e| crate::Error::json("volume claim template", e))?,
            status: serde_json::Value::Null,
        };
        if let Err(e) = crate::kube::admission::admit_claim(paths, &mut claim) {
            super::event(
                paths,
                owner,
                crate::kube::events::EventType::Warning,
                "FailedCreate",
                &format!(
                    "create Claim {} for Pod {}-{i} in StatefulSet {} failed error: {e}",
                    claim.name(),
                    owner.name(),
                    owner.name()
                ),
            );
            continue;
        }
        store::apply(paths, claim)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use PodManagementPolicy::*;
    use Slot::*;

    #[test]
    fn ordered_ready_and_parallel() {
        let table: Vec<(Vec<Slot>, usize, PodManagementPolicy, Step)> = vec![
            (vec![], 3, OrderedReady, Step::Create(vec![0])),
            (vec![Starting], 3, OrderedReady, Step::Wait),
            (vec![RunningReady], 3, OrderedReady, Step::Create(vec![1])),
            (
                vec![RunningReady, RunningReady],
                3,
                OrderedReady,
                Step::Create(vec![2]),
            ),
            (
                vec![RunningReady, Missing, RunningReady],
                3,
                OrderedReady,
                Step::Create(vec![1]),
            ),
            (vec![RunningReady; 3], 3, OrderedReady, Step::Wait),
            (
                vec![RunningReady; 3],
                1,
                OrderedReady,
                Step::Delete(vec![2]),
            ),
            (
                vec![RunningReady, RunningReady, Terminating],
                1,
                OrderedReady,
                Step::Wait,
            ),
            (
                vec![RunningReady, RunningReady, Missing],
                1,
                OrderedReady,
                Step::Delete(vec![1]),
            ),
            (vec![], 3, Parallel, Step::Create(vec![0, 1, 2])),
            (
                vec![Starting, Missing, Starting],
                3,
                Parallel,
                Step::Create(vec![1]),
            ),
            (vec![RunningReady; 3], 1, Parallel, Step::Delete(vec![2, 1])),
        ];
        for (i, (slots, replicas, policy, want)) in table.into_iter().enumerate() {
            assert_eq!(next_step(&slots, replicas, policy), want, "row {i}");
        }
        assert_eq!(ordinal_of("db", "db-12"), Some(12));
        assert_eq!(ordinal_of("db", "dbx-1"), None);
    }
}
