//! The CronJob controller: at each scheduled time (in the CronJob's time zone, the
//! machine's when none is given) it makes a Job `<cronjob>-<minutes since the epoch>`
//! from its template, unless suspended or past `startingDeadlineSeconds`; Forbid skips
//! a run while a Job is active, Replace deletes the active ones first. Finished Jobs
//! beyond the history limits are deleted, oldest first.

use super::schedule::{local_zone, Schedule, Zone};
use super::{controlled_by, job_finished, owner_reference};
use crate::error::Result;
use crate::kube::api::workloads::ConcurrencyPolicy;
use crate::kube::api::{CronJob, Kind, ObjectMeta};
use crate::kube::store::{self, Object};
use crate::paths::Paths;
use chrono::{DateTime, Utc};
use serde_json::json;

pub const SCHEDULED_AT: &str = "batch.kubernetes.io/cronjob-scheduled-timestamp";

pub fn zone_of(cj: &CronJob) -> std::result::Result<Zone, String> {
    match cj.spec.time_zone.as_deref() {
        None => Ok(local_zone()),
        Some(z) => Zone::named(z),
    }
}

fn succeeded(j: &Object) -> bool {
    j.status["conditions"].as_array().is_some_and(|c| {
        c.iter()
            .any(|c| c["type"] == "Complete" && c["status"] == "True")
    })
}

pub fn reconcile(paths: &Paths, maps: &crate::userns::IdMaps, obj: &Object) -> Result<()> {
    let cj: CronJob =
        serde_json::from_value(obj.to_api()).map_err(|e| crate::Error::json("cronjob", e))?;
    let ns = obj.namespace().to_string();
    let uid = &obj.metadata.uid;
    let invalid = |e: String| crate::Error::InvalidArgument(format!("CronJob {}: {e}", obj.name()));
    let schedule = Schedule::parse(&cj.spec.schedule).map_err(invalid)?;
    let zone = zone_of(&cj).map_err(invalid)?;
    let jobs: Vec<Object> = store::list(paths, Kind::Job, Some(&ns))?
        .into_iter()
        .filter(|j| controlled_by(j, uid))
        .collect();
    let active: Vec<&Object> = jobs
        .iter()
        .filter(|j| !job_finished(paths, &ns, j.name()))
        .collect();
    let now = Utc::now();
    let since = obj.status["lastScheduleTime"]
        .as_str()
        .or(obj.metadata.creation_timestamp.as_deref())
        .and_then(crate::time::parse_rfc3339)
        .unwrap_or(now);
    // The latest scheduled time that has come and not been run.
    let mut due: Option<DateTime<Utc>> = None;
    let mut t = since;
    while let Some(next) = schedule.next_after(t, &zone) {
        if next > now {
            break;
        }
        due = Some(next);
        t = next;
    }
    let mut status = obj.status.clone();
    if !status.is_object() {
        status = json!({});
    }
    if let (Some(at), false) = (due, cj.spec.suspend == Some(true)) {
        let late = (now - at).num_seconds();
        let in_time = cj.spec.starting_deadline_seconds.is_none_or(|d| late <= d);
        let policy = cj.spec.concurrency_policy.unwrap_or_default();
        let blocked = policy == ConcurrencyPolicy::Forbid && !active.is_empty();
        let run = in_time && !blocked;
        if run {
            if policy == ConcurrencyPolicy::Replace {
                for j in &active {
                    crate::kube::play::take_down(paths, maps, Kind::Job, &ns, j.name())?;
                }
            }
            make_job(paths, obj, &cj, &ns, at)?;
        }
        status["lastScheduleTime"] = json!(at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
    }
    // History: the newest N of each outcome stay.
    let mut finished: Vec<&Object> = jobs
        .iter()
        .filter(|j| job_finished(paths, &ns, j.name()))
        .collect();
    finished.sort_by(|a, b| {
        b.metadata
            .creation_timestamp
            .cmp(&a.metadata.creation_timestamp)
    });
    let (ok, failed): (Vec<&Object>, Vec<&Object>) =
        finished.into_iter().partition(|j| succeeded(j));
    let keep_ok = cj.spec.successful_jobs_history_limit.unwrap_or(3).max(0) as usize;
    let keep_failed = cj.spec.failed_jobs_history_limit.unwrap_or(1).max(0) as usize;
    for j in ok
        .iter()
        .skip(keep_ok)
        .chain(failed.iter().skip(keep_failed))
    {
        crate::kube::play::take_down(paths, maps, Kind::Job, &ns, j.name())?;
    }
    if let Some(last_ok) = ok.first() {
        if let Some(t) = last_ok.status["completionTime"].as_str() {
            status["lastSuccessfulTime"] = json!(t);
        }
    }
    let refs: Vec<serde_json::Value> = store::list(paths, Kind::Job, Some(&ns))?
        .iter()
        .filter(|j| controlled_by(j, uid) && !job_finished(paths, &ns, j.name()))
        .map(|j| json!({"apiVersion": "batch/v1", "kind": "Job", "name": j.name(), "namespace": ns, "uid": j.metadata.uid}))
        .collect();
    status["active"] = json!(refs);
    store::write_status(paths, Kind::CronJob, &ns, obj.name(), uid, status)?;
    Ok(())
}

fn make_job(
    paths: &Paths,
    owner: &Object,
    cj: &CronJob,
    ns: &str,
    at: DateTime<Utc>,
) -> Result<()> {
    let name = format!("{}-{}", owner.name(), at.timestamp() / 60);
    if store::get(paths, Kind::Job, ns, &name)?.is_some() {
        return Ok(());
    }
    let t = &cj.spec.job_template;
    let mut annotations = t.metadata.annotations.clone();
    annotations.insert(
        SCHEDULED_AT.into(),
        at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    );
    let job = Object {
        api_version: "batch/v1".into(),
        kind: Kind::Job,
        metadata: ObjectMeta {
            name: name.clone(),
            namespace: Some(ns.into()),
            labels: t.metadata.labels.clone(),
            annotations,
            owner_references: vec![owner_reference(owner)],
            ..Default::default()
        },
        spec: serde_json::to_value(&t.spec).map_err(|e| crate::Error::json("job template", e))?,
        status: serde_json::Value::Null,
    };
    store::apply(paths, job)?;
    super::event(
        paths,
        owner,
        crate::kube::events::EventType::Normal,
        "SuccessfulCreate",
        &format!("Created job {name}"),
    );
    super::ensure_running(paths, Kind::Job, ns, &name)
}
