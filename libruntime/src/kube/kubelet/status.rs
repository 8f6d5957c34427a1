//! Pod status as the kubelet reports it, computed from what skiff observes of the
//! pod's containers: phase, conditions (with their last transition kept while they do
//! not change), container statuses; and the kubectl columns made from a status.

use crate::kube::api::RestartPolicy;
use serde_json::{json, Value};

/// A container's state in the API's three shapes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Observed {
    Waiting {
        reason: String,
        /// Why, when the reason alone does not say (an image pull's error).
        message: Option<String>,
    },
    Running {
        started_at: String,
    },
    Terminated {
        exit_code: i32,
        reason: String,
        started_at: String,
        finished_at: String,
    },
}

impl Observed {
    pub fn waiting(reason: &str) -> Observed {
        Observed::Waiting {
            reason: reason.into(),
            message: None,
        }
    }

    pub fn terminated(exit_code: i32, oom: bool, started_at: &str, finished_at: &str) -> Observed {
        let reason = if oom {
            "OOMKilled"
        } else if exit_code == 0 {
            "Completed"
        } else {
            "Error"
        };
        Observed::Terminated {
            exit_code,
            reason: reason.into(),
            started_at: started_at.into(),
            finished_at: finished_at.into(),
        }
    }

    fn to_api(&self) -> Value {
        match self {
            Observed::Waiting {
                reason,
                message: None,
            } => json!({"waiting": {"reason": reason}}),
            Observed::Waiting {
                reason,
                message: Some(m),
            } => json!({"waiting": {"reason": reason, "message": m}}),
            Observed::Running { started_at } => json!({"running": {"startedAt": started_at}}),
            Observed::Terminated {
                exit_code,
                reason,
                started_at,
                finished_at,
            } => json!({
                "terminated": {"exitCode": exit_code, "reason": reason, "startedAt": started_at, "finishedAt": finished_at}
            }),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerView {
    pub name: String,
    pub image: String,
    pub image_id: String,
    pub container_id: String,
    pub state: Observed,
    pub last_state: Option<Observed>,
    pub ready: bool,
    pub started: bool,
    pub restart_count: u32,
}

impl ContainerView {
    fn to_api(&self) -> Value {
        let mut v = json!({
            "name": self.name,
            "image": self.image,
            "imageID": self.image_id,
            "containerID": if self.container_id.is_empty() { String::new() } else { format!("skiff://{}", self.container_id) },
            "ready": self.ready,
            "started": self.started,
            "restartCount": self.restart_count,
            "state": self.state.to_api(),
            "lastState": self.last_state.as_ref().map(Observed::to_api).unwrap_or(json!({})),
        });
        if self.container_id.is_empty() {
            v.as_object_mut().map(|m| m.remove("containerID"));
        }
        v
    }

    fn succeeded(&self) -> bool {
        matches!(self.state, Observed::Terminated { exit_code: 0, .. })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Pending,
    Running,
    Succeeded,
    Failed,
}

impl Phase {
    pub fn word(self) -> &'static str {
        match self {
            Phase::Pending => "Pending",
            Phase::Running => "Running",
            Phase::Succeeded => "Succeeded",
            Phase::Failed => "Failed",
        }
    }
}

/// The kubelet's phase rules.
pub fn phase(init: &[ContainerView], app: &[ContainerView], policy: RestartPolicy) -> Phase {
    let init_failed = init
        .iter()
        .any(|c| matches!(c.state, Observed::Terminated { exit_code, .. } if exit_code != 0));
    if init_failed && policy == RestartPolicy::Never {
        return Phase::Failed;
    }
    if !init.iter().all(ContainerView::succeeded) {
        return Phase::Pending;
    }
    let (mut running, mut waiting, mut stopped, mut succeeded) = (0, 0, 0, 0);
    for c in app {
        match &c.state {
            Observed::Running { .. } => running += 1,
            // A container waiting to be restarted was running: it counts as such.
            Observed::Waiting { .. } if c.last_state.is_some() => running += 1,
            Observed::Waiting { .. } => waiting += 1,
            Observed::Terminated { exit_code, .. } => {
                stopped += 1;
                if *exit_code == 0 {
                    succeeded += 1;
                }
            }
        }
    }
    if waiting > 0 || app.is_empty() {
        return Phase::Pending;
    }
    if running > 0 {
        return Phase::Running;
    }
    match policy {
        RestartPolicy::Always => Phase::Running,
        _ if stopped == succeeded => Phase::Succeeded,
        RestartPolicy::Never => Phase::Failed,
        RestartPolicy::OnFailure => Phase::Running,
    }
}

/// One condition, keeping its previous transition time when its status is unchanged.
fn condition(prev: &Value, typ: &str, ok: bool, reason: Option<&str>, now: &str) -> Value {
    let status = if ok { "True" } else { "False" };
    let old = prev["conditions"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["type"] == typ));
    let since = match old {
        Some(c) if c["status"] == status => c["lastTransitionTime"].clone(),
        _ => json!(now),
    };
    let mut c =
        json!({"type": typ, "status": status, "lastProbeTime": null, "lastTransitionTime": since});
    if let (false, Some(r)) = (ok, reason) {
        c["reason"] = json!(r);
    }
    c
}

pub struct PodObservation<'a> {
    pub init: &'a [ContainerView],
    pub app: &'a [ContainerView],
    pub policy: RestartPolicy,
    pub sandbox_ready: bool,
    pub pod_ip: Option<String>,
    pub host_ip: String,
    pub start_time: Option<String>,
    pub qos_class: &'static str,
}

/// The status document; `prev` is the last one written.
pub fn status(o: &PodObservation, prev: &Value, now: &str) -> Value {
    let phase = phase(o.init, o.app, o.policy);
    let initialized = o.init.iter().all(ContainerView::succeeded);
    let ready = !o.app.is_empty() && o.app.iter().all(|c| c.ready);
    let done = matches!(phase, Phase::Succeeded | Phase::Failed);
    let not_ready = if done {
        "PodCompleted"
    } else {
        "ContainersNotReady"
    };
    let mut s = json!({
        "phase": phase.word(),
        "conditions": [
            condition(prev, "PodReadyToStartContainers", o.sandbox_ready, None, now),
            condition(prev, "Initialized", initialized, Some(if done { "PodCompleted" } else { "ContainersNotInitialized" }), now),
            condition(prev, "Ready", ready, Some(not_ready), now),
            condition(prev, "ContainersReady", ready, Some(not_ready), now),
            condition(prev, "PodScheduled", true, None, now),
        ],
        "hostIP": o.host_ip,
        "qosClass": o.qos_class,
        "containerStatuses": o.app.iter().map(ContainerView::to_api).collect::<Vec<_>>(),
    });
    if !o.init.is_empty() {
        s["initContainerStatuses"] = o.init.iter().map(ContainerView::to_api).collect();
    }
    if let Some(ip) = &o.pod_ip {
        s["podIP"] = json!(ip);
        s["podIPs"] = json!([{"ip": ip}]);
    }
    if let Some(t) = &o.start_time {
        s["startTime"] = json!(t);
    }
    s
}

/// The status of a pod that cannot be placed yet: Pending, PodScheduled False with
/// the scheduler's reason.
pub fn unschedulable(prev: &Value, message: &str, qos_class: &str, now: &str) -> Value {
    let mut scheduled = condition(prev, "PodScheduled", false, Some("Unschedulable"), now);
    scheduled["message"] = json!(message);
    json!({
        "phase": "Pending",
        "conditions": [scheduled],
        "qosClass": qos_class,
    })
}

/// kubectl's READY, STATUS and RESTARTS columns for a pod's status.
pub fn columns(status: &Value) -> (String, String, u64) {
    let empty = vec![];
    let app = status["containerStatuses"].as_array().unwrap_or(&empty);
    let init = status["initContainerStatuses"].as_array().unwrap_or(&empty);
    let ready = app.iter().filter(|c| c["ready"] == true).count();
    let restarts: u64 = app
        .iter()
        .chain(init)
        .map(|c| c["restartCount"].as_u64().unwrap_or(0))
        .sum();
    let mut reason = status["phase"].as_str().unwrap_or("Pending").to_string();
    let mut initializing = false;
    for (i, c) in init.iter().enumerate() {
        let t = &c["state"]["terminated"];
        if t["exitCode"] == 0 {
            continue;
        }
        initializing = true;
        reason = if !t.is_null() {
            format!("Init:{}", t["reason"].as_str().unwrap_or("Error"))
        } else if let Some(w) = c["state"]["waiting"]["reason"]
            .as_str()
            .filter(|w| *w != "PodInitializing" && *w != "ContainerCreating")
        {
            format!("Init:{w}")
        } else {
            format!("Init:{i}/{}", init.len())
        };
        break;
    }
    if !initializing {
        let mut has_running = false;
        for c in app.iter().rev() {
            if let Some(w) = c["state"]["waiting"]["reason"].as_str() {
                reason = w.to_string();
            } else if let Some(t) = c["state"]["terminated"]["reason"].as_str() {
                reason = t.to_string();
            } else if !c["state"]["running"].is_null() {
                has_running = true;
            }
        }
        if reason == "Completed" && has_running {
            reason = "Running".into();
        }
    }
    (format!("{ready}/{}", app.len()), reason, restarts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(state: Observed, last: Option<Observed>, ready: bool) -> ContainerView {
        ContainerView {
            name: "c".into(),
            image: "busybox".into(),
            image_id: String::new(),
            container_id: String::new(),
            state,
            last_state: last,
            ready,
            started: true,
            restart_count: 0,
        }
    }
    fn running() -> Observed {
        Observed::Running {
            started_at: "t".into(),
        }
    }
    fn exited(code: i32) -> Observed {
        Observed::terminated(code, false, "t", "t")
    }
    fn waiting(r: &str) -> Observed {
        Observed::waiting(r)
    }

    #[test]
    fn phases_as_the_kubelet_computes_them() {
        use RestartPolicy::*;
        let r = view(running(), None, true);
        let ok = view(exited(0), None, false);
        let bad = view(exited(1), None, false);
        let creating = view(waiting("ContainerCreating"), None, false);
        let crashloop = view(waiting("CrashLoopBackOff"), Some(exited(1)), false);
        let table: Vec<(Vec<ContainerView>, Vec<ContainerView>, RestartPolicy, Phase)> = vec![
            (vec![], vec![r.clone()], Always, Phase::Running),
            (vec![], vec![creating.clone()], Always, Phase::Pending),
            (vec![], vec![crashloop.clone()], Always, Phase::Running),
            (vec![], vec![ok.clone()], Never, Phase::Succeeded),
            (vec![], vec![ok.clone(), bad.clone()], Never, Phase::Failed),
            (vec![], vec![bad.clone()], OnFailure, Phase::Running),
            (vec![], vec![ok.clone()], OnFailure, Phase::Succeeded),
            (vec![], vec![ok.clone()], Always, Phase::Running),
            (
                vec![r.clone()],
                vec![creating.clone()],
                Always,
                Phase::Pending,
            ),
            (
                vec![bad.clone()],
                vec![creating.clone()],
                Never,
                Phase::Failed,
            ),
            (
                vec![bad.clone()],
                vec![creating.clone()],
                Always,
                Phase::Pending,
            ),
            (vec![ok.clone()], vec![r.clone()], Always, Phase::Running),
        ];
        for (i, (init, app, policy, want)) in table.into_iter().enumerate() {
            assert_eq!(phase(&init, &app, policy), want, "row {i}");
        }
    }

    #[test]
    fn conditions_keep_their_transition_time_and_kubectl_columns() {
        let app = vec![view(running(), None, true)];
        let o = PodObservation {
            init: &[],
            app: &app,
            policy: RestartPolicy::Always,
            sandbox_ready: true,
            pod_ip: Some("10.88.0.2".into()),
            host_ip: "127.0.0.1".into(),
            start_time: Some("t0".into()),
            qos_class: "BestEffort",
        };
        let first = status(&o, &Value::Null, "t1");
        let second = status(&o, &first, "t2");
        let ready = |s: &Value| {
            s["conditions"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["type"] == "Ready")
                .cloned()
                .unwrap()
        };
        assert_eq!(ready(&second)["lastTransitionTime"], "t1");
        assert_eq!(ready(&second)["status"], "True");
        assert_eq!(columns(&second), ("1/1".into(), "Running".into(), 0));
        let app = vec![view(waiting("CrashLoopBackOff"), Some(exited(1)), false)];
        let o = PodObservation { app: &app, ..o };
        let third = status(&o, &second, "t3");
        assert_eq!(ready(&third)["lastTransitionTime"], "t3");
        assert_eq!(ready(&third)["reason"], "ContainersNotReady");
        assert_eq!(columns(&third).1, "CrashLoopBackOff");
        let init = vec![view(running(), None, false)];
        let app = vec![view(waiting("PodInitializing"), None, false)];
        let o = PodObservation {
            init: &init,
            app: &app,
            ..o
        };
        assert_eq!(columns(&status(&o, &Value::Null, "t")).1, "Init:0/1");
        let app = vec![view(exited(0), None, false)];
        let o = PodObservation {
            init: &[],
            app: &app,
            policy: RestartPolicy::Never,
            ..o
        };
        let done = status(&o, &Value::Null, "t");
        assert_eq!(done["phase"], "Succeeded");
        assert_eq!(columns(&done), ("0/1".into(), "Completed".into(), 0));
    }
}
