//! `kube describe`: an object and its events in kubectl's describe layout. Pure
//! functions of the stored object, its events and the time, so the layout is tested
//! without running anything.

use super::api::Kind;
use super::events::{Event, EventType};
use super::printers::age;
use super::store::Object;
use serde_json::Value;

/// kubectl's describe writer: `Key:` and value, the values of each run of valued
/// lines (at any indent) starting in one column, as kubectl's tabwriter aligns them;
/// a heading line ends the run.
#[derive(Default)]
struct Lines {
    rows: Vec<Row>,
}

struct Row {
    level: usize,
    key: String,
    value: Option<String>,
    /// `Key:` (a field) or a bare first cell (a table's row).
    colon: bool,
}

impl Row {
    fn first_cell(&self) -> String {
        let indent = "  ".repeat(self.level);
        if self.colon && !self.key.is_empty() {
            format!("{indent}{}:", self.key)
        } else {
            format!("{indent}{}", self.key)
        }
    }
}

impl Lines {
    fn kv(&mut self, level: usize, key: &str, value: impl Into<String>) {
        self.rows.push(Row {
            level,
            key: key.into(),
            value: Some(value.into()),
            colon: true,
        });
    }

    /// A table row: its first cell bare, the rest as the value.
    fn cells(&mut self, level: usize, first: &str, rest: impl Into<String>) {
        self.rows.push(Row {
            level,
            key: first.into(),
            value: Some(rest.into()),
            colon: false,
        });
    }

    /// A line of its own (a command's word, a table line): it ends a run.
    fn plain(&mut self, level: usize, text: &str) {
        self.rows.push(Row {
            level,
            key: text.into(),
            value: None,
            colon: false,
        });
    }

    /// A heading with what follows indented under it.
    fn head(&mut self, level: usize, key: &str) {
        self.rows.push(Row {
            level,
            key: key.into(),
            value: None,
            colon: true,
        });
    }

    /// A label or annotation map: the first on the key's line, the rest below it.
    fn map(&mut self, level: usize, key: &str, m: &serde_json::Map<String, Value>, sep: &str) {
        if m.is_empty() {
            return self.kv(level, key, "<none>");
        }
        let mut items = m
            .iter()
            .map(|(k, v)| format!("{k}{sep}{}", v.as_str().unwrap_or("")));
        self.kv(level, key, items.next().unwrap_or_default());
        for i in items {
            self.cells(level, "", i);
        }
    }

    fn render(&self) -> String {
        let mut out = String::new();
        let mut i = 0;
        while i < self.rows.len() {
            if self.rows[i].value.is_none() {
                out.push_str(&self.rows[i].first_cell());
                out.push('\n');
                i += 1;
                continue;
            }
            let mut j = i;
            while j < self.rows.len() && self.rows[j].value.is_some() {
                j += 1;
            }
            let width = self.rows[i..j]
                .iter()
                .map(|r| r.first_cell().len())
                .max()
                .unwrap_or(0)
                + 2;
            for r in &self.rows[i..j] {
                let line = format!(
                    "{:<width$}{}",
                    r.first_cell(),
                    r.value.as_deref().unwrap_or("")
                );
                out.push_str(line.trim_end());
                out.push('\n');
            }
            i = j;
        }
        out
    }
}

/// Describes `obj`: the fields its kind shows, then its events. `now` is the time in
/// Unix seconds; `node` this machine's name.
pub fn describe(obj: &Object, events: &[Event], now: i64, node: &str) -> String {
    let mut l = Lines::default();
    l.kv(0, "Name", obj.name());
    if obj.kind.namespaced() {
        l.kv(0, "Namespace", obj.namespace());
    }
    let meta = serde_json::to_value(&obj.metadata).unwrap_or_default();
    let empty = serde_json::Map::new();
    let labels = meta["labels"].as_object().unwrap_or(&empty);
    let annotations = meta["annotations"].as_object().unwrap_or(&empty);
    let mut tail = String::new();
    match obj.kind {
        Kind::Pod => pod(&mut l, obj, labels, annotations, node),
        Kind::ConfigMap | Kind::Secret => {
            l.map(0, "Labels", labels, "=");
            l.map(0, "Annotations", annotations, ": ");
            tail = config_data(obj);
        }
        Kind::PersistentVolume | Kind::PersistentVolumeClaim | Kind::StorageClass => {
            storage(&mut l, obj, labels, annotations)
        }
        _ => workload(&mut l, obj, labels, annotations),
    }
    let mut out = l.render();
    out.push_str(&tail);
    out.push_str(&events_section(events, now));
    out
}

/// A ConfigMap's keys and values, or a Secret's type and each value's size only.
fn config_data(obj: &Object) -> String {
    let entries = |field: &str| -> Vec<(String, String)> {
        obj.spec[field]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
            .collect()
    };
    let mut out = String::new();
    if obj.kind == Kind::Secret {
        out.push_str(&format!(
            "\nType:  {}\n\nData\n====\n",
            obj.spec["type"].as_str().unwrap_or("Opaque")
        ));
        let rows: Vec<String> = entries("data")
            .into_iter()
            .map(|(k, v)| {
                let size = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, v)
                    .map_or(0, |b| b.len());
                format!("{k}:\t{size} bytes")
            })
            .collect();
        for line in align(&rows, 2) {
            out.push_str(&format!("{line}\n"));
        }
    } else {
        out.push_str("\nData\n====\n");
        for (k, v) in entries("data") {
            out.push_str(&format!("{k}:\n----\n{v}\n\n"));
        }
        out.push_str("\nBinaryData\n====\n");
        for (k, v) in entries("binaryData") {
            let size = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, v)
                .map_or(0, |b| b.len());
            out.push_str(&format!("{k}: {size} bytes\n"));
        }
        out.push('\n');
    }
    out
}

fn time_text(rfc3339: &str) -> String {
    crate::time::parse_rfc3339(rfc3339)
        .map(|t| t.format("%a, %d %b %Y %H:%M:%S %z").to_string())
        .unwrap_or_else(|| rfc3339.to_string())
}

fn controlled_by(l: &mut Lines, obj: &Object) {
    if let Some(r) = obj
        .metadata
        .owner_references
        .iter()
        .find(|r| r.controller == Some(true))
    {
        l.kv(0, "Controlled By", format!("{}/{}", r.kind, r.name));
    }
}

fn pod(
    l: &mut Lines,
    obj: &Object,
    labels: &serde_json::Map<String, Value>,
    annotations: &serde_json::Map<String, Value>,
    node: &str,
) {
    let st = &obj.status;
    l.kv(0, "Priority", "0");
    l.kv(0, "Service Account", "default");
    l.kv(0, "Node", format!("{node}/127.0.0.1"));
    if let Some(t) = st["startTime"].as_str() {
        l.kv(0, "Start Time", time_text(t));
    }
    l.map(0, "Labels", labels, "=");
    l.map(0, "Annotations", annotations, ": ");
    l.kv(0, "Status", st["phase"].as_str().unwrap_or("Pending"));
    let ip = st["podIP"].as_str().unwrap_or("");
    l.kv(0, "IP", ip);
    l.head(0, "IPs");
    if ip.is_empty() {
        l.cells(1, "<none>", "");
    } else {
        l.kv(1, "IP", ip);
    }
    controlled_by(l, obj);
    for (heading, spec_list, status_list) in [
        ("Init Containers", "initContainers", "initContainerStatuses"),
        ("Containers", "containers", "containerStatuses"),
    ] {
        let Some(specs) = obj.spec[spec_list].as_array().filter(|a| !a.is_empty()) else {
            continue;
        };
        l.head(0, heading);
        for c in specs {
            let name = c["name"].as_str().unwrap_or("");
            let cs = st[status_list]
                .as_array()
                .into_iter()
                .flatten()
                .find(|s| s["name"] == name)
                .cloned()
                .unwrap_or(Value::Null);
            container(l, c, &cs);
        }
    }
    l.head(0, "Conditions");
    l.cells(1, "Type", "Status");
    for c in st["conditions"].as_array().into_iter().flatten() {
        l.cells(
            1,
            c["type"].as_str().unwrap_or(""),
            c["status"].as_str().unwrap_or(""),
        );
    }
    l.kv(0, "Volumes", "<none>");
    l.kv(
        0,
        "QoS Class",
        st["qosClass"].as_str().unwrap_or("BestEffort"),
    );
    l.kv(0, "Node-Selectors", "<none>");
    l.kv(0, "Tolerations", "<none>");
}

fn container(l: &mut Lines, c: &Value, cs: &Value) {
    l.head(1, c["name"].as_str().unwrap_or(""));
    if let Some(id) = cs["containerID"].as_str().filter(|s| !s.is_empty()) {
        l.kv(2, "Container ID", id);
    }
    l.kv(2, "Image", c["image"].as_str().unwrap_or(""));
    l.kv(2, "Image ID", cs["imageID"].as_str().unwrap_or(""));
    let ports: Vec<&Value> = c["ports"].as_array().into_iter().flatten().collect();
    let port_text = |key: &str| {
        if ports.is_empty() {
            return "<none>".to_string();
        }
        ports
            .iter()
            .map(|p| {
                format!(
                    "{}/{}",
                    p[key].as_i64().unwrap_or(0),
                    p["protocol"].as_str().unwrap_or("TCP")
                )
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    l.kv(2, "Port", port_text("containerPort"));
    l.kv(2, "Host Port", port_text("hostPort"));
    for (key, field) in [("Command", "command"), ("Args", "args")] {
        if let Some(a) = c[field].as_array().filter(|a| !a.is_empty()) {
            l.head(2, key);
            for x in a {
                l.plain(3, x.as_str().unwrap_or(""));
            }
        }
    }
    for (key, field) in [("Limits", "limits"), ("Requests", "requests")] {
        if let Some(m) = c["resources"][field].as_object().filter(|m| !m.is_empty()) {
            l.head(2, key);
            for (k, v) in m {
                l.kv(3, k, v.as_str().unwrap_or(""));
            }
        }
    }
    state(l, "State", &cs["state"]);
    if cs["lastState"].as_object().is_some_and(|o| !o.is_empty()) {
        state(l, "Last State", &cs["lastState"]);
    }
    let yes_no = |b: bool| if b { "True" } else { "False" };
    l.kv(2, "Ready", yes_no(cs["ready"] == true));
    l.kv(
        2,
        "Restart Count",
        cs["restartCount"].as_i64().unwrap_or(0).to_string(),
    );
    for (key, field) in [
        ("Liveness", "livenessProbe"),
        ("Readiness", "readinessProbe"),
        ("Startup", "startupProbe"),
    ] {
        if c[field].is_object() {
            l.kv(2, key, probe_text(&c[field]));
        }
    }
    let env: Vec<&Value> = c["env"].as_array().into_iter().flatten().collect();
    if env.is_empty() {
        l.kv(2, "Environment", "<none>");
    } else {
        l.head(2, "Environment");
        for e in env {
            l.kv(
                3,
                e["name"].as_str().unwrap_or(""),
                e["value"].as_str().unwrap_or(""),
            );
        }
    }
}

fn state(l: &mut Lines, key: &str, s: &Value) {
    if let Some(w) = s.get("waiting") {
        l.kv(2, key, "Waiting");
        l.kv(3, "Reason", w["reason"].as_str().unwrap_or(""));
        if let Some(m) = w["message"].as_str() {
            l.kv(3, "Message", m);
        }
    } else if let Some(r) = s.get("running") {
        l.kv(2, key, "Running");
        l.kv(
            3,
            "Started",
            time_text(r["startedAt"].as_str().unwrap_or("")),
        );
    } else if let Some(t) = s.get("terminated") {
        l.kv(2, key, "Terminated");
        l.kv(3, "Reason", t["reason"].as_str().unwrap_or(""));
        l.kv(
            3,
            "Exit Code",
            t["exitCode"].as_i64().unwrap_or(0).to_string(),
        );
        l.kv(
            3,
            "Started",
            time_text(t["startedAt"].as_str().unwrap_or("")),
        );
        l.kv(
            3,
            "Finished",
            time_text(t["finishedAt"].as_str().unwrap_or("")),
        );
    } else {
        l.kv(2, key, "Waiting");
    }
}

/// kubectl's one-line probe: `http-get http://:8080/ delay=0s timeout=1s period=10s
/// #success=1 #failure=3`.
fn probe_text(p: &Value) -> String {
    let action = if let Some(e) = p["exec"]["command"].as_array() {
        let words: Vec<&str> = e.iter().filter_map(Value::as_str).collect();
        format!("exec [{}]", words.join(" "))
    } else if p["httpGet"].is_object() {
        let h = &p["httpGet"];
        format!(
            "http-get {}://{}:{}{}",
            h["scheme"].as_str().unwrap_or("HTTP").to_lowercase(),
            h["host"].as_str().unwrap_or(""),
            port_of(&h["port"]),
            h["path"].as_str().unwrap_or("/")
        )
    } else if p["tcpSocket"].is_object() {
        format!("tcp-socket :{}", port_of(&p["tcpSocket"]["port"]))
    } else if p["grpc"].is_object() {
        format!(
            "grpc <pod>:{} {}",
            p["grpc"]["port"].as_i64().unwrap_or(0),
            p["grpc"]["service"].as_str().unwrap_or("")
        )
        .trim_end()
        .to_string()
    } else {
        "unknown".into()
    };
    let n = |k: &str, default: i64| p[k].as_i64().unwrap_or(default);
    format!(
        "{action} delay={}s timeout={}s period={}s #success={} #failure={}",
        n("initialDelaySeconds", 0),
        n("timeoutSeconds", 1),
        n("periodSeconds", 10),
        n("successThreshold", 1),
        n("failureThreshold", 3)
    )
}

fn port_of(v: &Value) -> String {
    match v {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        _ => String::new(),
    }
}

fn workload(
    l: &mut Lines,
    obj: &Object,
    labels: &serde_json::Map<String, Value>,
    annotations: &serde_json::Map<String, Value>,
) {
    if let Some(t) = &obj.metadata.creation_timestamp {
        l.kv(0, "CreationTimestamp", time_text(t));
    }
    l.map(0, "Labels", labels, "=");
    l.map(0, "Annotations", annotations, ": ");
    let sel = &obj.spec["selector"]["matchLabels"];
    if let Some(m) = sel.as_object() {
        let text: Vec<String> = m
            .iter()
            .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
            .collect();
        l.kv(0, "Selector", text.join(","));
    }
    let (spec, st) = (&obj.spec, &obj.status);
    let n = |v: &Value| v.as_i64().unwrap_or(0);
    match obj.kind {
        Kind::Deployment => {
            let want = spec["replicas"].as_i64().unwrap_or(1);
            let available = n(&st["availableReplicas"]);
            l.kv(
                0,
                "Replicas",
                format!(
                    "{want} desired | {} updated | {} total | {available} available | {} unavailable",
                    n(&st["updatedReplicas"]),
                    n(&st["replicas"]),
                    (n(&st["replicas"]) - available).max(0)
                ),
            );
        }
        Kind::ReplicaSet | Kind::StatefulSet => {
            l.kv(
                0,
                "Replicas",
                format!(
                    "{} current / {} desired",
                    n(&st["replicas"]),
                    spec["replicas"].as_i64().unwrap_or(1)
                ),
            );
        }
        Kind::DaemonSet => {
            l.kv(
                0,
                "Desired Number of Nodes Scheduled",
                n(&st["desiredNumberScheduled"]).to_string(),
            );
            l.kv(
                0,
                "Number of Nodes Scheduled with Up-to-date Pods",
                n(&st["updatedNumberScheduled"]).to_string(),
            );
        }
        Kind::Job => {
            l.kv(
                0,
                "Parallelism",
                spec["parallelism"].as_i64().unwrap_or(1).to_string(),
            );
            l.kv(
                0,
                "Completions",
                spec["completions"].as_i64().unwrap_or(1).to_string(),
            );
            l.kv(
                0,
                "Completion Mode",
                spec["completionMode"].as_str().unwrap_or("NonIndexed"),
            );
            if let Some(t) = st["startTime"].as_str() {
                l.kv(0, "Start Time", time_text(t));
            }
            l.kv(
                0,
                "Pods Statuses",
                format!(
                    "{} Active ({} Ready) / {} Succeeded / {} Failed",
                    n(&st["active"]),
                    n(&st["ready"]),
                    n(&st["succeeded"]),
                    n(&st["failed"])
                ),
            );
        }
        Kind::CronJob => {
            l.kv(0, "Schedule", spec["schedule"].as_str().unwrap_or(""));
            l.kv(
                0,
                "Concurrency Policy",
                spec["concurrencyPolicy"].as_str().unwrap_or("Allow"),
            );
            l.kv(
                0,
                "Suspend",
                if spec["suspend"] == true {
                    "True"
                } else {
                    "False"
                },
            );
            l.kv(
                0,
                "Last Schedule Time",
                st["lastScheduleTime"]
                    .as_str()
                    .map_or("<unset>".into(), time_text),
            );
        }
        _ => {}
    }
    controlled_by(l, obj);
    if let Some(conds) = st["conditions"].as_array().filter(|c| !c.is_empty()) {
        l.head(0, "Conditions");
        let mut rows = vec![
            "Type\tStatus\tReason".to_string(),
            "----\t------\t------".to_string(),
        ];
        for c in conds {
            rows.push(format!(
                "{}\t{}\t{}",
                c["type"].as_str().unwrap_or(""),
                c["status"].as_str().unwrap_or(""),
                c["reason"].as_str().unwrap_or("")
            ));
        }
        for line in align(&rows, 2) {
            l.plain(1, &line);
        }
    }
}

/// A claim, a volume or a class, in kubectl's order of fields.
fn storage(
    l: &mut Lines,
    obj: &Object,
    labels: &serde_json::Map<String, Value>,
    annotations: &serde_json::Map<String, Value>,
) {
    use super::api::storage::{access_modes_text, AccessMode};
    let (spec, st) = (&obj.spec, &obj.status);
    let text = |v: &Value| v.as_str().unwrap_or("").to_string();
    let modes = |v: &Value| {
        access_modes_text(&serde_json::from_value::<Vec<AccessMode>>(v.clone()).unwrap_or_default())
    };
    let finalizers = || format!("[{}]", obj.metadata.finalizers.join(" "));
    match obj.kind {
        Kind::PersistentVolumeClaim => {
            l.kv(0, "StorageClass", text(&spec["storageClassName"]));
            let phase = if obj.metadata.deletion_timestamp.is_some() {
                "Terminating".to_string()
            } else {
                text(&st["phase"])
            };
            l.kv(0, "Status", phase);
            l.kv(0, "Volume", text(&spec["volumeName"]));
            l.map(0, "Labels", labels, "=");
            l.map(0, "Annotations", annotations, ": ");
            l.kv(0, "Finalizers", finalizers());
            l.kv(0, "Capacity", text(&st["capacity"]["storage"]));
            l.kv(0, "Access Modes", modes(&st["accessModes"]));
            l.kv(
                0,
                "VolumeMode",
                spec["volumeMode"].as_str().unwrap_or("Filesystem"),
            );
        }
        Kind::PersistentVolume => {
            l.map(0, "Labels", labels, "=");
            l.map(0, "Annotations", annotations, ": ");
            l.kv(0, "Finalizers", finalizers());
            l.kv(0, "StorageClass", text(&spec["storageClassName"]));
            l.kv(0, "Status", text(&st["phase"]));
            let claim = &spec["claimRef"];
            l.kv(
                0,
                "Claim",
                if claim.is_null() {
                    String::new()
                } else {
                    format!("{}/{}", text(&claim["namespace"]), text(&claim["name"]))
                },
            );
            l.kv(
                0,
                "Reclaim Policy",
                spec["persistentVolumeReclaimPolicy"]
                    .as_str()
                    .unwrap_or("Retain"),
            );
            l.kv(0, "Access Modes", modes(&spec["accessModes"]));
            l.kv(
                0,
                "VolumeMode",
                spec["volumeMode"].as_str().unwrap_or("Filesystem"),
            );
            l.kv(0, "Capacity", text(&spec["capacity"]["storage"]));
            l.kv(0, "Node Affinity", "<none>");
            l.kv(0, "Message", text(&st["message"]));
            l.head(0, "Source");
            if let Some(h) = spec["hostPath"].as_object() {
                l.kv(1, "Type", "HostPath (bare host directory volume)");
                l.kv(1, "Path", text(&h["path"]));
                l.kv(1, "HostPathType", text(&h["type"]));
            } else if let Some(h) = spec["local"].as_object() {
                l.kv(
                    1,
                    "Type",
                    "LocalVolume (a persistent volume backed by local storage on a node)",
                );
                l.kv(1, "Path", text(&h["path"]));
            }
        }
        _ => {
            let default = annotations
                .get(super::api::storage::DEFAULT_CLASS_ANNOTATION)
                .is_some_and(|v| v == "true");
            l.kv(0, "IsDefaultClass", if default { "Yes" } else { "No" });
            l.map(0, "Annotations", annotations, "=");
            l.kv(0, "Provisioner", text(&spec["provisioner"]));
            let params = spec["parameters"].as_object().cloned().unwrap_or_default();
            l.map(0, "Parameters", &params, "=");
            l.kv(
                0,
                "AllowVolumeExpansion",
                if spec["allowVolumeExpansion"] == true {
                    "True"
                } else {
                    "<unset>"
                },
            );
            let mount = spec["mountOptions"].as_array().map(|m| {
                m.iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(", ")
            });
            l.kv(
                0,
                "MountOptions",
                mount.filter(|m| !m.is_empty()).unwrap_or("<none>".into()),
            );
            l.kv(
                0,
                "ReclaimPolicy",
                spec["reclaimPolicy"].as_str().unwrap_or("Delete"),
            );
            l.kv(
                0,
                "VolumeBindingMode",
                spec["volumeBindingMode"].as_str().unwrap_or("Immediate"),
            );
        }
    }
}

/// Columns as wide as their widest cell, `gap` spaces apart; the last unpadded.
fn align(rows: &[String], gap: usize) -> Vec<String> {
    let cells: Vec<Vec<&str>> = rows.iter().map(|r| r.split('\t').collect()).collect();
    let cols = cells.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|i| {
            cells
                .iter()
                .filter_map(|r| r.get(i))
                .map(|c| c.len())
                .max()
                .unwrap_or(0)
        })
        .collect();
    cells
        .iter()
        .map(|r| {
            let mut line = String::new();
            for (i, c) in r.iter().enumerate() {
                if i + 1 == r.len() {
                    line.push_str(c);
                } else {
                    line.push_str(&format!("{c:<w$}", w = widths[i] + gap));
                }
            }
            line
        })
        .collect()
}

/// An event's age as kubectl shows it: `5s`, or `5s (x3 over 40s)` for repeats.
pub fn event_age(e: &Event, now: i64) -> String {
    let since = |t: &str| age(now - crate::time::unix(Some(t)));
    if e.count > 1 {
        format!("{} (x{} over {})", since(&e.last), e.count, since(&e.first))
    } else {
        since(&e.last)
    }
}

fn events_section(events: &[Event], now: i64) -> String {
    if events.is_empty() {
        return "Events:  <none>\n".into();
    }
    let mut rows = vec![
        "Type\tReason\tAge\tFrom\tMessage".to_string(),
        "----\t------\t----\t----\t-------".to_string(),
    ];
    for e in events {
        rows.push(format!(
            "{}\t{}\t{}\t{}\t{}",
            type_text(e.type_),
            e.reason,
            event_age(e, now),
            e.source,
            e.message
        ));
    }
    let mut out = "Events:\n".to_string();
    for line in align(&rows, 2) {
        out.push_str(&format!("  {line}\n"));
    }
    out
}

pub fn type_text(t: EventType) -> &'static str {
    match t {
        EventType::Normal => "Normal",
        EventType::Warning => "Warning",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kube::events::Involved;

    fn event(reason: &str, count: u32, first: &str, last: &str) -> Event {
        Event {
            type_: EventType::Normal,
            reason: reason.into(),
            message: format!("{reason} it"),
            source: "kubelet".into(),
            count,
            first: first.into(),
            last: last.into(),
            involved: Involved {
                kind: Kind::Pod,
                namespace: "default".into(),
                name: "web".into(),
                uid: "u".into(),
            },
        }
    }

    fn pod() -> Object {
        serde_json::from_value(serde_json::json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web", "tier": "front"},
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-abc", "uid": "x", "controller": true}]},
            "spec": {"containers": [{"name": "httpd", "image": "busybox", "ports": [{"containerPort": 8080}],
                "readinessProbe": {"httpGet": {"path": "/", "port": "http"}, "periodSeconds": 1}}]},
            "status": {"phase": "Running", "podIP": "10.89.0.5", "startTime": "2026-12-06T07:00:00Z",
                "conditions": [{"type": "Ready", "status": "True"}, {"type": "PodScheduled", "status": "True"}],
                "containerStatuses": [{"name": "httpd", "ready": true, "restartCount": 2,
                    "state": {"running": {"startedAt": "2026-12-06T07:00:01Z"}},
                    "lastState": {"terminated": {"exitCode": 1, "reason": "Error", "startedAt": "2026-12-06T06:59:00Z", "finishedAt": "2026-12-06T06:59:30Z"}}}]}
        }))
        .unwrap()
    }

    #[test]
    fn a_pod_reads_as_kubectl_describes_it() {
        let now = crate::time::unix(Some("2026-12-06T07:01:00Z"));
        let events = [
            event(
                "Scheduled",
                1,
                "2026-12-06T07:00:00Z",
                "2026-12-06T07:00:00Z",
            ),
            event("Started", 3, "2026-12-06T06:58:00Z", "2026-12-06T07:00:30Z"),
        ];
        let text = describe(&pod(), &events, now, "node1");
        for want in [
            "Name:             web\n",
            "Namespace:        default\n",
            "Node:             node1/127.0.0.1\n",
            "Start Time:       Sun, 06 Dec 2026 07:00:00 +0000\n",
            "Labels:           app=web\n                  tier=front\n",
            "Status:           Running\n",
            "Controlled By:  ReplicaSet/web-abc\n",
            "Containers:\n  httpd:\n",
            "    Port:           8080/TCP\n",
            "    State:          Running\n      Started:      Sun, 06 Dec 2026 07:00:01 +0000\n",
            "    Last State:     Terminated\n      Reason:       Error\n      Exit Code:    1\n",
            "    Restart Count:  2\n",
            "    Readiness:      http-get http://:http/ delay=0s timeout=1s period=1s #success=1 #failure=3\n",
            "    Environment:    <none>\n",
            "  Type           Status\n  Ready          True\n",
            "  Type    Reason     Age               From     Message\n",
            "  Normal  Scheduled  60s               kubelet  Scheduled it\n",
            "  Normal  Started    30s (x3 over 3m)  kubelet  Started it\n",
        ] {
            assert!(text.contains(want), "missing {want:?} in\n{text}");
        }
    }

    #[test]
    fn a_secret_shows_sizes_never_values() {
        let sec: Object = serde_json::from_value(serde_json::json!({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "db", "namespace": "default"},
            "spec": {"type": "Opaque", "data": {"password": "czNjcjN0IQ==", "user": "YWRtaW4="}}
        }))
        .unwrap();
        let text = describe(&sec, &[], 0, "n");
        assert!(text.contains("Type:  Opaque\n"), "{text}");
        assert!(
            text.contains("password:  7 bytes\nuser:      5 bytes\n"),
            "{text}"
        );
        assert!(
            !text.contains("czNjcjN0") && !text.contains("s3cr3t"),
            "{text}"
        );
    }

    #[test]
    fn no_events_say_none() {
        let text = describe(&pod(), &[], 0, "n");
        assert!(text.ends_with("Events:  <none>\n"), "{text}");
    }

    #[test]
    fn a_deployment_shows_its_counts_and_conditions() {
        let d: Object = serde_json::from_value(serde_json::json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "default", "creationTimestamp": "2026-12-06T07:00:00Z"},
            "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}}},
            "status": {"replicas": 3, "updatedReplicas": 3, "availableReplicas": 2,
                "conditions": [{"type": "Available", "status": "False", "reason": "MinimumReplicasUnavailable"}]}
        }))
        .unwrap();
        let text = describe(&d, &[], 0, "n");
        assert!(text.contains("Selector:           app=web\n"), "{text}");
        assert!(
            text.contains("Replicas:           3 desired | 3 updated | 3 total | 2 available | 1 unavailable\n"),
            "{text}"
        );
        assert!(
            text.contains("  Available  False   MinimumReplicasUnavailable\n"),
            "{text}"
        );
    }
}
