//! kube play, down, get, delete, logs, exec: Kubernetes YAML on this machine.

use crate::cli_container::{ExecArgs, LogsArgs};
use crate::cli_kube::*;
use crate::output::write_out;
use crate::Ctx;
use anyhow::{bail, Context, Result};
use libruntime::kube::api::Kind;
use libruntime::kube::kubelet::{create::container_name, create::pod_name, status::columns};
use libruntime::kube::play::{self, Planned, PlayOptions};
use libruntime::kube::printers::{age, parse_selector, selects};
use libruntime::kube::store::{self, Applied, Object, DEFAULT_NAMESPACE};
use libruntime::kube::validate::{Problem, ValidateMode};
use libruntime::kube::{manifest, KubeError};
use serde_json::Value;
use std::time::{Duration, Instant};

pub fn dispatch(ctx: &Ctx, cmd: KubeCommand) -> Result<i32> {
    match cmd {
        KubeCommand::Play(a) => play_cmd(ctx, a),
        KubeCommand::Down(a) => down(ctx, a),
        KubeCommand::Get(a) => get(ctx, a),
        KubeCommand::Delete(a) => delete(ctx, a),
        KubeCommand::Logs(a) => logs(ctx, a),
        KubeCommand::Exec(a) => exec(ctx, a),
        KubeCommand::Generate(a) => generate(ctx, a),
        KubeCommand::Describe(a) => describe(ctx, a),
        KubeCommand::Create(a) => create(ctx, a),
    }
}

/// Pods are written one each; the containers named are put together in one pod.
fn generate(ctx: &Ctx, a: KubeGenerateArgs) -> Result<i32> {
    use libruntime::kube::generate::{self, GenerateOptions, Subject};
    let opts = GenerateOptions {
        workload: a.kind.parse()?,
        replicas: a.replicas,
        service: a.service,
    };
    let mut subjects = Vec::new();
    let mut loose = Vec::new();
    for name in &a.names {
        if let Ok(r) = libruntime::container::find(&ctx.paths, name) {
            if r.pod_id().is_some() {
                bail!("container {name} is in a pod: generate YAML for its pod instead");
            }
            loose.push(r);
        } else if let Ok(p) = libruntime::pod::Pod::find(&ctx.paths, &ctx.maps, name) {
            subjects.push(Subject::from_pod(&p)?);
        } else {
            bail!("{name} is neither a container nor a pod");
        }
    }
    if !loose.is_empty() {
        subjects.insert(0, Subject::from_containers(loose));
    }
    let store = libruntime::store::Store::open(&ctx.paths);
    let yaml = generate::to_yaml(&generate::generate(&store, &subjects, &opts)?)?;
    match &a.filename {
        Some(f) => libruntime::fsutil::write_atomic(f, yaml.as_bytes())
            .with_context(|| format!("writing {}", f.display()))?,
        None => write_out(&yaml)?,
    }
    Ok(0)
}

fn planned_from(src: &str) -> Result<(Vec<Planned>, Vec<libruntime::kube::validate::FieldIssue>)> {
    let text = manifest::read_source(src)?;
    let docs = manifest::documents(&text)?;
    Ok(play::plan(&docs)?)
}

/// Checks every container's imagePullPolicy, and with `--pull` pulls the images now
/// (a failure stops the play). Without it each pod's kubelet gets its images by their
/// policies, and a pod whose image cannot be pulled waits in ImagePullBackOff.
fn pull_images(ctx: &Ctx, planned: &[Planned], flag: Option<&str>) -> Result<()> {
    use libruntime::registry::policy::PullPolicy;
    let forced: Option<PullPolicy> = flag.map(str::parse).transpose()?;
    for p in planned {
        for c in p
            .pod_specs()
            .into_iter()
            .flat_map(|s| s.init_containers.iter().chain(&s.containers))
        {
            if let Some(other) = c
                .image_pull_policy
                .as_deref()
                .filter(|v| !matches!(*v, "Always" | "IfNotPresent" | "Never"))
            {
                bail!(
                    "{} {}: container {}: invalid imagePullPolicy {other:?}: use Always, IfNotPresent or Never",
                    p.kind().name(),
                    p.name(),
                    c.name
                );
            }
            if let Some(policy) = forced {
                super::registry::ensure_image(
                    ctx,
                    &c.image,
                    policy,
                    &Default::default(),
                    &Default::default(),
                )?;
            }
        }
    }
    Ok(())
}

fn play_cmd(ctx: &Ctx, a: KubePlayArgs) -> Result<i32> {
    let mode = ValidateMode::parse(&a.validate)?;
    let overrides = libruntime::kube::overrides::Overrides::parse(&a.publish, &a.network)?;
    for name in overrides.networks_named() {
        libruntime::network::definition::get(&ctx.paths, &name)?;
    }
    let (mut planned, mut issues) = planned_from(&a.source)?;
    // --configmap files come first, so their objects are there when the pods start.
    for f in a.configmap.iter().rev() {
        let (extra, found) = planned_from(f)?;
        if let Some(p) = extra
            .iter()
            .find(|p| !matches!(p.kind(), Kind::ConfigMap | Kind::Secret))
        {
            bail!(
                "--configmap {f}: {} {} is not a ConfigMap",
                p.kind().name(),
                p.name()
            );
        }
        planned.splice(0..0, extra);
        issues.extend(found);
    }
    libruntime::kube::overrides::apply(&mut planned, &overrides);
    let unsupported_kinds: Vec<String> = issues
        .iter()
        .filter(|i| i.problem == Problem::UnsupportedKind)
        .map(|i| i.to_string())
        .collect();
    let lines: Vec<String> = issues.iter().map(|i| i.to_string()).collect();
    match mode {
        ValidateMode::Strict if !lines.is_empty() => {
            return Err(libruntime::Error::from(KubeError::Refused(lines)).into());
        }
        ValidateMode::Ignore => {
            // Unsupported kinds are named even so: they are never skipped silently.
            for l in &unsupported_kinds {
                libruntime::log::warn(l);
            }
        }
        _ => {
            for l in &lines {
                libruntime::log::warn(l);
            }
        }
    }
    pull_images(ctx, &planned, a.pull.as_deref().filter(|_| a.start))?;
    let played = play::play(
        &ctx.paths,
        &ctx.maps,
        &planned,
        &PlayOptions {
            start: a.start,
            replace: a.replace,
        },
    )?;
    let mut out = String::new();
    for p in &played {
        if p.kind != Kind::Pod {
            // kubectl's `kind.group/name`; the core group has no name.
            let group = p
                .kind
                .api_version()
                .split_once('/')
                .map_or(String::new(), |(g, _)| format!(".{g}"));
            out.push_str(&format!(
                "{}{group}/{} {}\n",
                p.kind.name().to_ascii_lowercase(),
                p.name,
                applied_word(p.applied)
            ));
            continue;
        }
        let skiff = pod_name(&p.namespace, &p.name);
        if let Ok(sp) = libruntime::pod::find(&ctx.paths, &skiff) {
            let pod = libruntime::pod::Pod::new(&ctx.paths, &ctx.maps, sp);
            out.push_str(&format!("Pod:\n{}\nContainers:\n", pod.record.id));
            for c in pod.members()? {
                out.push_str(&format!("{}\n", c.id));
            }
            out.push('\n');
        } else if p.applied == Applied::Unchanged || !a.start {
            out.push_str(&format!("pod/{} {}\n", p.name, applied_word(p.applied)));
        }
    }
    write_out(&out)?;
    if a.wait {
        wait_ready(ctx, &played)?;
    }
    Ok(0)
}

fn applied_word(a: Applied) -> &'static str {
    match a {
        Applied::Created => "created",
        Applied::Configured => "configured",
        Applied::Unchanged => "unchanged",
    }
}

/// `--wait`: until every played pod is Ready, Succeeded or Failed.
fn wait_ready(ctx: &Ctx, played: &[play::Played]) -> Result<()> {
    let end = Instant::now() + Duration::from_secs(300);
    loop {
        let mut pending = Vec::new();
        for p in played.iter().filter(|p| p.kind == Kind::Pod) {
            let Some(o) = store::get(&ctx.paths, Kind::Pod, &p.namespace, &p.name)? else {
                continue;
            };
            let phase = o.status["phase"].as_str().unwrap_or("");
            if phase == "Failed" {
                bail!("pod {} failed", p.name);
            }
            let ready = o.status["conditions"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|c| c["type"] == "Ready" && c["status"] == "True");
            if !(ready || phase == "Succeeded") {
                pending.push(p.name.clone());
            }
        }
        if pending.is_empty() {
            return Ok(());
        }
        if Instant::now() > end {
            bail!("timed out waiting for {}", pending.join(", "));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn down(ctx: &Ctx, a: KubeDownArgs) -> Result<i32> {
    let (planned, _) = planned_from(&a.source)?;
    let mut removed = Vec::new();
    for p in &planned {
        let ns = p.namespace();
        let id = libruntime::pod::find(&ctx.paths, &pod_name(&ns, p.name()))
            .map(|sp| sp.id)
            .ok();
        if play::take_down(&ctx.paths, &ctx.maps, p.kind(), &ns, p.name())? {
            removed.push(id.unwrap_or_else(|| p.name().to_string()));
        }
    }
    let mut out = String::from("Pods stopped:\n");
    for r in &removed {
        out.push_str(&format!("{r}\n"));
    }
    out.push_str("Pods removed:\n");
    for r in &removed {
        out.push_str(&format!("{r}\n"));
    }
    write_out(&out)?;
    Ok(0)
}

/// `KIND`, `KIND/NAME` or `KIND NAME`.
fn kind_and_name(what: &str, name: Option<&str>) -> Result<(Kind, Option<String>)> {
    let (k, n) = match what.split_once('/') {
        Some((k, n)) => (k, Some(n.to_string())),
        None => (what, name.map(String::from)),
    };
    let kind = Kind::from_cli(k)
        .ok_or_else(|| libruntime::Error::from(KubeError::UnknownKind(k.to_string())))?;
    Ok((kind, n))
}

fn seconds_since(t: Option<&str>) -> i64 {
    t.and_then(libruntime::time::parse_rfc3339)
        .map(|t| (chrono::Utc::now() - t).num_seconds())
        .unwrap_or(0)
}

/// `kube create namespace NAME`.
fn create(ctx: &Ctx, a: KubeCreateArgs) -> Result<i32> {
    if Kind::from_cli(&a.what) != Some(Kind::Namespace) {
        bail!(
            "kube create makes namespaces: use kube play for {:?}",
            a.what
        );
    }
    libruntime::kube::namespaces::create(&ctx.paths, &a.name)?;
    write_out(&format!("namespace/{} created\n", a.name))?;
    Ok(0)
}

/// What every reading command does first: owners that died come back, and namespace
/// deletions a killed command left are finished.
fn converge(ctx: &Ctx) -> Result<()> {
    libruntime::kube::namespaces::finish_terminating(&ctx.paths, &ctx.maps)?;
    play::revive_owners(&ctx.paths, &ctx.maps)?;
    libruntime::kube::namespaces::ensure_built_in(&ctx.paths)?;
    libruntime::kube::admission::refresh_quota_status(&ctx.paths)?;
    libruntime::kube::storage::ensure_built_in(&ctx.paths)?;
    libruntime::kube::storage::sync(&ctx.paths, &ctx.maps)?;
    Ok(())
}

fn describe(ctx: &Ctx, a: KubeDescribeArgs) -> Result<i32> {
    use libruntime::kube::{describe, events};
    converge(ctx)?;
    let (kind, name) = kind_and_name(&a.what, a.name.as_deref())?;
    let ns = a.namespace.unwrap_or_else(|| DEFAULT_NAMESPACE.into());
    let mut objects = match &name {
        Some(n) => vec![store::get(&ctx.paths, kind, &ns, n)?.ok_or_else(|| {
            libruntime::Error::from(KubeError::NotFound {
                kind: kind.plural().into(),
                name: n.clone(),
            })
        })?],
        None => store::list(&ctx.paths, kind, Some(&ns))?,
    };
    if let Some(sel) = &a.selector {
        let reqs = parse_selector(sel).map_err(|e| anyhow::anyhow!(e))?;
        objects.retain(|o| selects(&reqs, &o.metadata.labels));
    }
    if objects.is_empty() {
        eprintln!("No resources found in {ns} namespace.");
        return Ok(0);
    }
    let now = chrono::Utc::now().timestamp();
    let node = libruntime::kube::kubelet::node_name();
    let texts: Vec<String> = objects
        .iter()
        .map(|o| {
            let about = events::Involved {
                kind,
                namespace: o.namespace().into(),
                name: o.name().into(),
                uid: o.metadata.uid.clone(),
            };
            describe::describe(o, &events::of(&ctx.paths, &about), now, &node)
        })
        .collect();
    write_out(&texts.join("\n\n"))?;
    Ok(0)
}

/// `kube get events`: kubectl's LAST SEEN, TYPE, REASON, OBJECT, MESSAGE.
fn get_events(ctx: &Ctx, a: &KubeGetArgs) -> Result<i32> {
    use libruntime::kube::{describe, events};
    let ns = a
        .namespace
        .clone()
        .unwrap_or_else(|| DEFAULT_NAMESPACE.into());
    let all = events::all(&ctx.paths, (!a.all_namespaces).then_some(ns.as_str()));
    if all.is_empty() {
        if a.all_namespaces {
            eprintln!("No resources found");
        } else {
            eprintln!("No resources found in {ns} namespace.");
        }
        return Ok(0);
    }
    let now = chrono::Utc::now().timestamp();
    let mut lines = vec![if a.all_namespaces {
        "NAMESPACE\tLAST SEEN\tTYPE\tREASON\tOBJECT\tMESSAGE".to_string()
    } else {
        "LAST SEEN\tTYPE\tREASON\tOBJECT\tMESSAGE".to_string()
    }];
    for e in &all {
        let object = format!(
            "{}/{}",
            e.involved.kind.name().to_ascii_lowercase(),
            e.involved.name
        );
        let last = age(now - libruntime::time::unix(Some(&e.last)));
        let row = [
            last,
            describe::type_text(e.type_).to_string(),
            e.reason.clone(),
            object,
            e.message.clone(),
        ];
        let mut cells: Vec<String> = Vec::new();
        if a.all_namespaces {
            cells.push(e.involved.namespace.clone());
        }
        cells.extend(row);
        lines.push(cells.join("\t"));
    }
    write_out(&kubectl_align(&lines))?;
    Ok(0)
}

fn get(ctx: &Ctx, a: KubeGetArgs) -> Result<i32> {
    converge(ctx)?;
    if matches!(
        a.what.to_ascii_lowercase().as_str(),
        "events" | "event" | "ev"
    ) {
        return get_events(ctx, &a);
    }
    let (kind, name) = kind_and_name(&a.what, a.name.as_deref())?;
    let ns = a
        .namespace
        .clone()
        .unwrap_or_else(|| DEFAULT_NAMESPACE.into());
    let mut objects: Vec<Object> = match &name {
        Some(n) => match store::get(&ctx.paths, kind, &ns, n)? {
            Some(o) => vec![o],
            None => {
                return Err(libruntime::Error::from(KubeError::NotFound {
                    kind: kind.plural().into(),
                    name: n.clone(),
                })
                .into())
            }
        },
        None => store::list(&ctx.paths, kind, (!a.all_namespaces).then_some(ns.as_str()))?,
    };
    if let Some(sel) = &a.selector {
        let reqs = parse_selector(sel).map_err(|e| anyhow::anyhow!(e))?;
        objects.retain(|o| selects(&reqs, &o.metadata.labels));
    }
    let api = |o: &Object| {
        let mut v = o.to_api();
        if o.kind == Kind::Secret && !a.show_secrets {
            libruntime::kube::config::redact(&mut v);
        }
        v
    };
    match a.output.as_deref() {
        Some("json") => {
            let v = if name.is_some() {
                api(&objects[0])
            } else {
                serde_json::json!({"apiVersion": "v1", "kind": "List", "items": objects.iter().map(api).collect::<Vec<_>>()})
            };
            write_out(&format!("{}\n", serde_json::to_string_pretty(&v)?))?;
        }
        Some("yaml") => {
            let v = if name.is_some() {
                api(&objects[0])
            } else {
                serde_json::json!({"apiVersion": "v1", "kind": "List", "items": objects.iter().map(api).collect::<Vec<_>>()})
            };
            write_out(&serde_norway_to_string(&v)?)?;
        }
        Some("name") => {
            let text: String = objects
                .iter()
                .map(|o| format!("{}/{}\n", kind.name().to_ascii_lowercase(), o.name()))
                .collect();
            write_out(&text)?;
        }
        None | Some("wide") => {
            if objects.is_empty() {
                if a.all_namespaces {
                    eprintln!("No resources found");
                } else {
                    eprintln!("No resources found in {ns} namespace.");
                }
                return Ok(0);
            }
            write_out(&table(kind, &objects, a.all_namespaces, a.output.is_some()))?;
        }
        Some(other) => bail!("unable to match a printer suitable for the output format {other:?}, allowed formats are: json,name,wide,yaml"),
    }
    Ok(0)
}

fn serde_norway_to_string(v: &Value) -> Result<String> {
    libruntime::kube::manifest::to_yaml(v).context("writing YAML")
}

fn table(kind: Kind, objects: &[Object], all_ns: bool, wide: bool) -> String {
    let mut lines = Vec::new();
    let mut head: Vec<&str> = Vec::new();
    if all_ns {
        head.push("NAMESPACE");
    }
    match kind {
        Kind::Pod => {
            head.extend(["NAME", "READY", "STATUS", "RESTARTS", "AGE"]);
            if wide {
                head.extend(["IP", "NODE"]);
            }
        }
        Kind::Deployment => head.extend(["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]),
        Kind::ReplicaSet => head.extend(["NAME", "DESIRED", "CURRENT", "READY", "AGE"]),
        Kind::DaemonSet => head.extend([
            "NAME",
            "DESIRED",
            "CURRENT",
            "READY",
            "UP-TO-DATE",
            "AVAILABLE",
            "NODE SELECTOR",
            "AGE",
        ]),
        Kind::Job => head.extend(["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"]),
        Kind::StatefulSet => head.extend(["NAME", "READY", "AGE"]),
        Kind::ConfigMap => head.extend(["NAME", "DATA", "AGE"]),
        Kind::Namespace => head.extend(["NAME", "STATUS", "AGE"]),
        Kind::ResourceQuota => head.extend(["NAME", "AGE", "REQUEST", "LIMIT"]),
        Kind::LimitRange => head.extend(["NAME", "CREATED AT"]),
        Kind::Secret => head.extend(["NAME", "TYPE", "DATA", "AGE"]),
        Kind::CronJob => head.extend([
            "NAME",
            "SCHEDULE",
            "TIMEZONE",
            "SUSPEND",
            "ACTIVE",
            "LAST SCHEDULE",
            "AGE",
        ]),
        Kind::PersistentVolumeClaim => head.extend([
            "NAME",
            "STATUS",
            "VOLUME",
            "CAPACITY",
            "ACCESS MODES",
            "STORAGECLASS",
            "VOLUMEATTRIBUTESCLASS",
            "AGE",
        ]),
        Kind::PersistentVolume => head.extend([
            "NAME",
            "CAPACITY",
            "ACCESS MODES",
            "RECLAIM POLICY",
            "STATUS",
            "CLAIM",
            "STORAGECLASS",
            "VOLUMEATTRIBUTESCLASS",
            "REASON",
            "AGE",
        ]),
        Kind::StorageClass => head.extend([
            "NAME",
            "PROVISIONER",
            "RECLAIMPOLICY",
            "VOLUMEBINDINGMODE",
            "ALLOWVOLUMEEXPANSION",
            "AGE",
        ]),
        _ => head.extend(["NAME", "AGE"]),
    }
    lines.push(head.join("\t"));
    for o in objects {
        let mut row: Vec<String> = Vec::new();
        if all_ns {
            row.push(o.namespace().to_string());
        }
        row.push(o.name().to_string());
        let created = seconds_since(o.metadata.creation_timestamp.as_deref());
        match kind {
            Kind::Pod => {
                let (mut ready, status, restarts) = columns(&o.status);
                if o.status["containerStatuses"].is_null() {
                    // Not placed yet: kubectl counts the spec's containers.
                    let n = o.spec["containers"].as_array().map_or(0, Vec::len);
                    ready = format!("0/{n}");
                }
                row.extend([ready, status, restarts.to_string(), age(created)]);
                if wide {
                    row.push(o.status["podIP"].as_str().unwrap_or("<none>").to_string());
                    row.push(libruntime::kube::kubelet::node_name());
                }
            }
            Kind::Deployment => {
                let n = |k: &str| o.status[k].as_i64().unwrap_or(0);
                let want = o.spec["replicas"].as_i64().unwrap_or(1);
                row.extend([
                    format!("{}/{want}", n("readyReplicas")),
                    n("updatedReplicas").to_string(),
                    n("availableReplicas").to_string(),
                    age(created),
                ]);
            }
            Kind::ReplicaSet => {
                let n = |k: &str| o.status[k].as_i64().unwrap_or(0);
                row.extend([
                    o.spec["replicas"].as_i64().unwrap_or(1).to_string(),
                    n("replicas").to_string(),
                    n("readyReplicas").to_string(),
                    age(created),
                ]);
            }
            Kind::DaemonSet => {
                let n = |k: &str| o.status[k].as_i64().unwrap_or(0).to_string();
                row.extend([
                    n("desiredNumberScheduled"),
                    n("currentNumberScheduled"),
                    n("numberReady"),
                    n("updatedNumberScheduled"),
                    n("numberAvailable"),
                    "<none>".into(),
                    age(created),
                ]);
            }
            Kind::Job => {
                let cond = |t: &str| {
                    o.status["conditions"]
                        .as_array()
                        .is_some_and(|c| c.iter().any(|c| c["type"] == t && c["status"] == "True"))
                };
                let status = if cond("Complete") {
                    "Complete"
                } else if cond("Failed") {
                    "Failed"
                } else if o.spec["suspend"] == true {
                    "Suspended"
                } else {
                    "Running"
                };
                let started = o.status["startTime"].as_str();
                let duration = match (started, o.status["completionTime"].as_str()) {
                    (Some(a), Some(b)) => seconds_since(Some(a)) - seconds_since(Some(b)),
                    (Some(a), None) => seconds_since(Some(a)),
                    _ => 0,
                };
                row.extend([
                    status.to_string(),
                    format!(
                        "{}/{}",
                        o.status["succeeded"].as_i64().unwrap_or(0),
                        o.spec["completions"].as_i64().unwrap_or(1)
                    ),
                    age(duration),
                    age(created),
                ]);
            }
            Kind::CronJob => {
                let last = o.status["lastScheduleTime"].as_str();
                row.extend([
                    o.spec["schedule"].as_str().unwrap_or("").to_string(),
                    o.spec["timeZone"].as_str().unwrap_or("<none>").to_string(),
                    (o.spec["suspend"] == true)
                        .to_string()
                        .replace("true", "True")
                        .replace("false", "False"),
                    o.status["active"]
                        .as_array()
                        .map_or(0, Vec::len)
                        .to_string(),
                    last.map_or("<none>".to_string(), |t| age(seconds_since(Some(t)))),
                    age(created),
                ]);
            }
            Kind::StatefulSet => {
                row.extend([
                    format!(
                        "{}/{}",
                        o.status["readyReplicas"].as_i64().unwrap_or(0),
                        o.spec["replicas"].as_i64().unwrap_or(1)
                    ),
                    age(created),
                ]);
            }
            Kind::PersistentVolumeClaim | Kind::PersistentVolume | Kind::StorageClass => {
                row.pop();
                row.extend(storage_row(o));
                row.push(age(created));
            }
            Kind::ResourceQuota => {
                // kubectl's `used/hard` pairs, limits.* apart from the rest.
                let pairs = |limits: bool| {
                    let v: Vec<String> = o.status["hard"]
                        .as_object()
                        .into_iter()
                        .flatten()
                        .filter(|(k, _)| k.starts_with("limits.") == limits)
                        .map(|(k, h)| {
                            let used = o.status["used"][k].as_str().unwrap_or("0");
                            format!("{k}: {used}/{}", h.as_str().unwrap_or(""))
                        })
                        .collect();
                    v.join(", ")
                };
                row.extend([age(created), pairs(false), pairs(true)]);
            }
            Kind::LimitRange => {
                row.push(o.metadata.creation_timestamp.clone().unwrap_or_default());
            }
            Kind::Namespace => {
                row.extend([
                    o.status["phase"].as_str().unwrap_or("Active").to_string(),
                    age(created),
                ]);
            }
            Kind::ConfigMap => {
                row.extend([
                    libruntime::kube::config::data_count(o).to_string(),
                    age(created),
                ]);
            }
            Kind::Secret => {
                row.extend([
                    o.spec["type"].as_str().unwrap_or("Opaque").to_string(),
                    libruntime::kube::config::data_count(o).to_string(),
                    age(created),
                ]);
            }
            _ => row.push(age(created)),
        }
        lines.push(row.join("\t"));
    }
    kubectl_align(&lines)
}

/// The columns kubectl prints for a claim, a volume or a class, name first, age aside.
fn storage_row(o: &Object) -> Vec<String> {
    use libruntime::kube::api::storage::{
        access_modes_text, PersistentVolume, PersistentVolumeClaim, StorageClass,
    };
    let text = |v: &Value| v.as_str().unwrap_or("").to_string();
    let none = |s: String| {
        if s.is_empty() {
            "<unset>".to_string()
        } else {
            s
        }
    };
    match o.kind {
        Kind::PersistentVolumeClaim => {
            let Ok(c) = serde_json::from_value::<PersistentVolumeClaim>(o.to_api()) else {
                return vec![o.name().to_string()];
            };
            let modes: Vec<_> =
                serde_json::from_value(o.status["accessModes"].clone()).unwrap_or_default();
            vec![
                o.name().to_string(),
                if o.metadata.deletion_timestamp.is_some() {
                    "Terminating".to_string()
                } else {
                    text(&o.status["phase"])
                },
                c.spec.volume_name.unwrap_or_default(),
                text(&o.status["capacity"]["storage"]),
                access_modes_text(&modes),
                c.spec.storage_class_name.unwrap_or_default(),
                none(String::new()),
            ]
        }
        Kind::PersistentVolume => {
            let Ok(v) = serde_json::from_value::<PersistentVolume>(o.to_api()) else {
                return vec![o.name().to_string()];
            };
            let claim = v
                .spec
                .claim_ref
                .as_ref()
                .map(|r| format!("{}/{}", r.namespace.as_deref().unwrap_or(""), r.name))
                .unwrap_or_default();
            vec![
                o.name().to_string(),
                v.spec.storage().to_string(),
                access_modes_text(&v.spec.access_modes),
                v.spec
                    .persistent_volume_reclaim_policy
                    .unwrap_or_default()
                    .word()
                    .to_string(),
                text(&o.status["phase"]),
                claim,
                v.spec.class().to_string(),
                none(String::new()),
                text(&o.status["reason"]),
            ]
        }
        _ => {
            let Ok(c) = serde_json::from_value::<StorageClass>(o.to_api()) else {
                return vec![o.name().to_string()];
            };
            let name = if c.is_default() {
                format!("{} (default)", o.name())
            } else {
                o.name().to_string()
            };
            vec![
                name,
                c.provisioner.clone(),
                c.reclaim_policy
                    .unwrap_or(libruntime::kube::api::storage::ReclaimPolicy::Delete)
                    .word()
                    .to_string(),
                c.volume_binding_mode.unwrap_or_default().word().to_string(),
                c.allow_volume_expansion.unwrap_or(false).to_string(),
            ]
        }
    }
}

/// kubectl's tables: each column as wide as its widest cell, three spaces apart.
fn kubectl_align(lines: &[String]) -> String {
    let rows: Vec<Vec<&str>> = lines.iter().map(|l| l.split('\t').collect()).collect();
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|i| {
            rows.iter()
                .filter_map(|r| r.get(i))
                .map(|c| c.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for r in rows {
        let mut line = String::new();
        for (i, cell) in r.iter().enumerate() {
            if i + 1 == r.len() {
                line.push_str(cell);
            } else {
                line.push_str(&format!("{cell:<w$}   ", w = widths[i]));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn delete(ctx: &Ctx, a: KubeDeleteArgs) -> Result<i32> {
    let ns = a
        .namespace
        .clone()
        .unwrap_or_else(|| DEFAULT_NAMESPACE.into());
    let targets: Vec<(Kind, String, String)> = match (&a.filename, &a.what) {
        (Some(f), None) => planned_from(f)?
            .0
            .iter()
            .map(|p| (p.kind(), p.namespace(), p.name().to_string()))
            .collect(),
        (None, Some(w)) => {
            let (kind, name) = kind_and_name(w, a.name.as_deref())?;
            let Some(name) = name else {
                bail!("resource(s) were provided, but no name was specified");
            };
            vec![(kind, ns, name)]
        }
        _ => bail!("give KIND NAME or -f FILE"),
    };
    let mut code = 0;
    for (kind, ns, name) in targets {
        if play::take_down(&ctx.paths, &ctx.maps, kind, &ns, &name)? {
            write_out(&format!(
                "{} \"{name}\" deleted\n",
                kind.name().to_ascii_lowercase()
            ))?;
        } else if !a.ignore_not_found {
            eprintln!(
                "Error from server (NotFound): {} \"{name}\" not found",
                kind.plural()
            );
            code = 1;
        }
    }
    Ok(code)
}

/// The skiff container of a pod's container; kubectl's rule for which one when none
/// is named.
fn pod_container(
    ctx: &Ctx,
    pod: &str,
    ns: Option<&str>,
    container: Option<&str>,
) -> Result<String> {
    let ns = ns.unwrap_or(DEFAULT_NAMESPACE);
    let Some(o) = store::get(&ctx.paths, Kind::Pod, ns, pod)? else {
        return Err(libruntime::Error::from(KubeError::NotFound {
            kind: "pods".into(),
            name: pod.into(),
        })
        .into());
    };
    let names: Vec<String> = o.spec["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["name"].as_str().map(String::from))
        .collect();
    let init: Vec<String> = o.spec["initContainers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["name"].as_str().map(String::from))
        .collect();
    let chosen = match container {
        Some(c) if names.iter().chain(&init).any(|n| n == c) => c.to_string(),
        Some(c) => bail!("container {c} is not valid for pod {pod}"),
        None if names.len() == 1 => names[0].clone(),
        None => bail!(
            "a container name must be specified for pod {pod}, choose one of: [{}]",
            names.join(" ")
        ),
    };
    Ok(container_name(&pod_name(ns, pod), &chosen))
}

fn logs(ctx: &Ctx, a: KubeLogsArgs) -> Result<i32> {
    let c = pod_container(ctx, &a.pod, a.namespace.as_deref(), a.container.as_deref())?;
    super::logs::logs(
        ctx,
        LogsArgs {
            follow: a.follow,
            since: None,
            until: None,
            tail: -1,
            timestamps: false,
            names: vec![c],
        },
    )
}

fn exec(ctx: &Ctx, a: KubeExecArgs) -> Result<i32> {
    let c = pod_container(ctx, &a.pod, a.namespace.as_deref(), a.container.as_deref())?;
    super::exec::exec(
        ctx,
        ExecArgs {
            interactive: a.stdin,
            tty: a.tty,
            detach: false,
            env: vec![],
            env_file: vec![],
            user: None,
            workdir: None,
            privileged: false,
            detach_keys: None,
            container: c,
            command: a.command,
        },
    )
}
