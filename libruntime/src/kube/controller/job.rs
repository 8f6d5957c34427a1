//! The Job controller: runs pods until `completions` have succeeded, at most
//! `parallelism` at a time; each failure (a failed pod, or a container restart under
//! OnFailure) counts toward `backoffLimit`, and failed pods are replaced after the
//! controller's backoff (10 s doubling); `activeDeadlineSeconds` ends it. Indexed jobs
//! give each pod its index (JOB_COMPLETION_INDEX) and finish when every index has
//! succeeded. The decision is a pure function of what the pods show.

use super::{controlled_by, is_finished, is_ready};
use crate::error::Result;
use crate::kube::api::pod::EnvVar;
use crate::kube::api::workloads::{CompletionMode, JobSpec};
use crate::kube::api::{Job, Kind};
use crate::kube::events::EventType;
use crate::kube::kubelet::backoff;
use crate::kube::store::{self, Object};
use crate::paths::Paths;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::time::Duration;

pub const INDEX_ANNOTATION: &str = "batch.kubernetes.io/job-completion-index";

/// What the Job's pods show.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Observed {
    /// Indexes of active pods (None for NonIndexed).
    pub active: Vec<Option<i64>>,
    pub succeeded: i64,
    pub succeeded_indexes: BTreeSet<i64>,
    pub failed: i64,
    /// Seconds since the Job started, and since the last failure.
    pub running_for: Duration,
    pub since_last_failure: Option<Duration>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Complete,
    Failed {
        reason: &'static str,
        message: String,
    },
    /// Pods to make, each with its index (None for NonIndexed).
    Create(Vec<Option<i64>>),
    Wait,
}

fn completions(spec: &JobSpec) -> i64 {
    spec.completions.unwrap_or(1).max(0)
}

pub fn decide(spec: &JobSpec, o: &Observed) -> Decision {
    let indexed = spec.completion_mode == Some(CompletionMode::Indexed);
    let want = completions(spec);
    let done = if indexed {
        o.succeeded_indexes.len() as i64
    } else {
        o.succeeded
    };
    if done >= want {
        return Decision::Complete;
    }
    let limit = spec.backoff_limit.unwrap_or(6).max(0);
    if o.failed > limit {
        return Decision::Failed {
            reason: "BackoffLimitExceeded",
            message: "Job has reached the specified backoff limit".into(),
        };
    }
    if let Some(deadline) = spec.active_deadline_seconds {
        if o.running_for >= Duration::from_secs(deadline.max(0) as u64) {
            return Decision::Failed {
                reason: "DeadlineExceeded",
                message: "Job was active longer than specified deadline".into(),
            };
        }
    }
    if spec.suspend == Some(true) {
        return Decision::Wait;
    }
    if o.failed > 0 {
        let delay = backoff::delay(o.failed as u32, Duration::ZERO);
        if o.since_last_failure.is_some_and(|s| s < delay) {
            return Decision::Wait;
        }
    }
    let parallelism = spec.parallelism.unwrap_or(1).max(0);
    let room = parallelism.min(want - done) - o.active.len() as i64;
    if room <= 0 {
        return Decision::Wait;
    }
    if indexed {
        let busy: BTreeSet<i64> = o.active.iter().flatten().copied().collect();
        let free: Vec<Option<i64>> = (0..want)
            .filter(|i| !o.succeeded_indexes.contains(i) && !busy.contains(i))
            .take(room as usize)
            .map(Some)
            .collect();
        if free.is_empty() {
            Decision::Wait
        } else {
            Decision::Create(free)
        }
    } else {
        Decision::Create(vec![None; room as usize])
    }
}

/// `0-2,5`: completed indexes as the Job status lists them.
pub fn compress(indexes: &BTreeSet<i64>) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut it = indexes.iter().copied().peekable();
    while let Some(start) = it.next() {
        let mut end = start;
        while it.peek() == Some(&(end + 1)) {
            end = it.next().unwrap_or(end);
        }
        out.push(if end > start {
            format!("{start}-{end}")
        } else {
            start.to_string()
        });
    }
    out.join(",")
}

fn index_of(p: &Object) -> Option<i64> {
    p.metadata.annotations.get(INDEX_ANNOTATION)?.parse().ok()
}

fn seconds_since(t: &str) -> Option<Duration> {
    let t = crate::time::parse_rfc3339(t)?;
    (chrono::Utc::now() - t).to_std().ok()
}

pub fn reconcile(paths: &Paths, obj: &Object) -> Result<()> {
    let job: Job =
        serde_json::from_value(obj.to_api()).map_err(|e| crate::Error::json("job", e))?;
    let ns = obj.namespace().to_string();
    let uid = &obj.metadata.uid;
    if obj.status["conditions"].as_array().is_some_and(|c| {
        c.iter()
            .any(|c| (c["type"] == "Complete" || c["type"] == "Failed") && c["status"] == "True")
    }) {
        return Ok(());
    }
    let start = obj.status["startTime"]
        .as_str()
        .map(String::from)
        .unwrap_or_else(crate::time::now_rfc3339_seconds);
    let pods: Vec<Object> = store::list(paths, Kind::Pod, Some(&ns))?
        .into_iter()
        .filter(|p| controlled_by(p, uid))
        .collect();
    let mut o = Observed {
        running_for: seconds_since(&start).unwrap_or_default(),
        ..Default::default()
    };
    let mut last_failure: Option<String> = None;
    for p in &pods {
        let restarts = crate::kube::kubelet::status::columns(&p.status).2 as i64;
        match p.status["phase"].as_str() {
            Some("Succeeded") => {
                o.succeeded += 1;
                if let Some(i) = index_of(p) {
                    o.succeeded_indexes.insert(i);
                }
            }
            Some("Failed") => {
                o.failed += 1;
                let finished = p.status["containerStatuses"][0]["state"]["terminated"]
                    ["finishedAt"]
                    .as_str()
                    .map(String::from);
                if finished > last_failure {
                    last_failure = finished;
                }
            }
            _ => o.active.push(index_of(p)),
        }
        // Under OnFailure, each container restart is a failure too.
        o.failed += restarts;
    }
    o.since_last_failure = last_failure.as_deref().and_then(seconds_since);
    let decision = decide(&job.spec, &o);
    let mut conditions: Vec<Value> = Vec::new();
    let now = crate::time::now_rfc3339_seconds();
    let mut completion_time = None;
    match &decision {
        Decision::Create(indexes) => {
            for idx in indexes {
                make_pod(paths, obj, &job, &ns, *idx)?;
            }
        }
        Decision::Complete => {
            completion_time = Some(now.clone());
            super::event(paths, obj, EventType::Normal, "Completed", "Job completed");
            conditions.push(json!({"type": "SuccessCriteriaMet", "status": "True", "reason": "CompletionsReached", "message": "Reached expected number of succeeded pods", "lastProbeTime": now, "lastTransitionTime": now}));
            conditions.push(json!({"type": "Complete", "status": "True", "reason": "CompletionsReached", "message": "Reached expected number of succeeded pods", "lastProbeTime": now, "lastTransitionTime": now}));
        }
        Decision::Failed { reason, message } => {
            for p in pods.iter().filter(|p| !is_finished(p)) {
                super::delete_pod(paths, obj, &ns, p.name())?;
            }
            super::event(paths, obj, EventType::Warning, reason, message);
            conditions.push(json!({"type": "FailureTarget", "status": "True", "reason": reason, "message": message, "lastProbeTime": now, "lastTransitionTime": now}));
            conditions.push(json!({"type": "Failed", "status": "True", "reason": reason, "message": message, "lastProbeTime": now, "lastTransitionTime": now}));
        }
        Decision::Wait => {}
    }
    let active = match &decision {
        Decision::Create(n) => o.active.len() + n.len(),
        Decision::Failed { .. } => 0,
        _ => o.active.len(),
    };
    let mut status = json!({
        "startTime": start,
        "active": active,
        "succeeded": o.succeeded,
        "failed": o.failed,
        "ready": pods.iter().filter(|p| is_ready(p) && !is_finished(p)).count(),
    });
    if !conditions.is_empty() {
        status["conditions"] = json!(conditions);
    }
    if let Some(t) = completion_time {
        status["completionTime"] = json!(t);
    }
    if job.spec.completion_mode == Some(CompletionMode::Indexed) {
        status["completedIndexes"] = json!(compress(&o.succeeded_indexes));
    }
    store::write_status(paths, Kind::Job, &ns, obj.name(), uid, status)?;
    Ok(())
}

fn make_pod(paths: &Paths, owner: &Object, job: &Job, ns: &str, index: Option<i64>) -> Result<()> {
    let t = &job.spec.template;
    let mut labels = t.metadata.labels.clone();
    labels.insert("batch.kubernetes.io/job-name".into(), owner.name().into());
    labels.insert("job-name".into(), owner.name().into());
    labels.insert(
        "batch.kubernetes.io/controller-uid".into(),
        owner.metadata.uid.clone(),
    );
    let mut annotations = t.metadata.annotations.clone();
    let mut spec = t.spec.clone();
    let base = match index {
        Some(i) => {
            annotations.insert(INDEX_ANNOTATION.into(), i.to_string());
            labels.insert(INDEX_ANNOTATION.into(), i.to_string());
            for c in spec
                .containers
                .iter_mut()
                .chain(spec.init_containers.iter_mut())
            {
                c.env.push(EnvVar {
                    name: "JOB_COMPLETION_INDEX".into(),
                    value: Some(i.to_string()),
                    value_from: None,
                });
            }
            format!("{}-{i}", owner.name())
        }
        None => owner.name().to_string(),
    };
    let name = super::unique_pod_name(paths, ns, &base)?;
    super::create_pod(paths, owner, ns, &name, labels, annotations, &spec)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(completions: i64, parallelism: i64, indexed: bool) -> JobSpec {
        JobSpec {
            completions: Some(completions),
            parallelism: Some(parallelism),
            backoff_limit: Some(2),
            completion_mode: indexed.then_some(CompletionMode::Indexed),
            ..Default::default()
        }
    }

    #[test]
    fn decisions() {
        let s = |secs| Duration::from_secs(secs);
        let obs = |active: Vec<Option<i64>>,
                   succeeded: i64,
                   idx: &[i64],
                   failed: i64,
                   since: Option<u64>| Observed {
            active,
            succeeded,
            succeeded_indexes: idx.iter().copied().collect(),
            failed,
            running_for: s(5),
            since_last_failure: since.map(s),
        };
        let table: Vec<(JobSpec, Observed, Decision)> = vec![
            (
                spec(3, 2, false),
                obs(vec![], 0, &[], 0, None),
                Decision::Create(vec![None, None]),
            ),
            (
                spec(3, 2, false),
                obs(vec![None], 1, &[], 0, None),
                Decision::Create(vec![None]),
            ),
            (
                spec(3, 2, false),
                obs(vec![None], 2, &[], 0, None),
                Decision::Wait,
            ),
            (
                spec(3, 2, false),
                obs(vec![], 3, &[], 0, None),
                Decision::Complete,
            ),
            (
                spec(3, 2, false),
                obs(vec![], 0, &[], 1, Some(2)),
                Decision::Wait,
            ),
            (
                spec(3, 2, false),
                obs(vec![], 0, &[], 1, Some(11)),
                Decision::Create(vec![None, None]),
            ),
            (
                spec(3, 2, false),
                obs(vec![], 0, &[], 3, Some(100)),
                Decision::Failed {
                    reason: "BackoffLimitExceeded",
                    message: "Job has reached the specified backoff limit".into(),
                },
            ),
            (
                spec(3, 2, true),
                obs(vec![], 0, &[], 0, None),
                Decision::Create(vec![Some(0), Some(1)]),
            ),
            (
                spec(3, 2, true),
                obs(vec![Some(1)], 1, &[0], 0, None),
                Decision::Create(vec![Some(2)]),
            ),
            (
                spec(3, 3, true),
                obs(vec![], 3, &[0, 2], 0, None),
                Decision::Create(vec![Some(1)]),
            ),
            (
                spec(3, 2, true),
                obs(vec![], 3, &[0, 1, 2], 0, None),
                Decision::Complete,
            ),
        ];
        for (i, (sp, o, want)) in table.into_iter().enumerate() {
            assert_eq!(decide(&sp, &o), want, "row {i}");
        }
        let mut deadline = spec(1, 1, false);
        deadline.active_deadline_seconds = Some(3);
        assert!(matches!(
            decide(&deadline, &obs(vec![None], 0, &[], 0, None)),
            Decision::Failed {
                reason: "DeadlineExceeded",
                ..
            }
        ));
    }

    #[test]
    fn completed_indexes() {
        let set = |v: &[i64]| v.iter().copied().collect::<BTreeSet<i64>>();
        assert_eq!(compress(&set(&[0, 1, 2, 5, 7, 8])), "0-2,5,7-8");
        assert_eq!(compress(&set(&[])), "");
        assert_eq!(compress(&set(&[3])), "3");
    }
}
