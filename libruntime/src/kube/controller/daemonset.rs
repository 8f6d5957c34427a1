//! The DaemonSet controller on one node: exactly one pod, made from the current
//! template (labelled with its `controller-revision-hash`); a pod of an older template
//! is replaced.

use super::ranking::template_hash;
use super::{controlled_by, is_finished, is_ready};
use crate::error::Result;
use crate::kube::api::{DaemonSet, Kind};
use crate::kube::store::{self, Object};
use crate::paths::Paths;
use serde_json::json;

const HASH: &str = "controller-revision-hash";

pub fn reconcile(paths: &Paths, obj: &Object) -> Result<()> {
    let ds: DaemonSet =
        serde_json::from_value(obj.to_api()).map_err(|e| crate::Error::json("daemonset", e))?;
    let ns = obj.namespace().to_string();
    let uid = &obj.metadata.uid;
    let hash = template_hash(
        &serde_json::to_value(&ds.spec.template).map_err(|e| crate::Error::json("template", e))?,
    );
    let mine: Vec<Object> = store::list(paths, Kind::Pod, Some(&ns))?
        .into_iter()
        .filter(|p| controlled_by(p, uid) && !is_finished(p))
        .collect();
    let (current, old): (Vec<&Object>, Vec<&Object>) = mine
        .iter()
        .partition(|p| p.metadata.labels.get(HASH) == Some(&hash));
    for p in old.iter().chain(current.iter().skip(1)) {
        super::delete_pod(paths, obj, &ns, p.name())?;
    }
    if current.is_empty() {
        let t = &ds.spec.template;
        let mut labels = t.metadata.labels.clone();
        labels.insert(HASH.into(), hash.clone());
        let name = super::unique_pod_name(paths, &ns, obj.name())?;
        super::create_pod(
            paths,
            obj,
            &ns,
            &name,
            labels,
            t.metadata.annotations.clone(),
            &t.spec,
        )?;
    }
    let mine: Vec<Object> = store::list(paths, Kind::Pod, Some(&ns))?
        .into_iter()
        .filter(|p| controlled_by(p, uid) && !is_finished(p))
        .collect();
    let ready = mine.iter().filter(|p| is_ready(p)).count();
    let updated = mine
        .iter()
        .filter(|p| p.metadata.labels.get(HASH) == Some(&hash))
        .count();
    let status = json!({
        "currentNumberScheduled": mine.len(),
        "desiredNumberScheduled": 1,
        "numberMisscheduled": 0,
        "numberReady": ready,
        "numberAvailable": ready,
        "updatedNumberScheduled": updated,
        "observedGeneration": obj.metadata.generation,
    });
    store::write_status(paths, Kind::DaemonSet, &ns, obj.name(), uid, status)?;
    Ok(())
}
