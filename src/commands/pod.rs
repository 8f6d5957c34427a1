//! pod create, start, stop, restart, kill, pause, unpause, rm, prune, ps, inspect, top,
//! logs, stats, exists, clone; and `run --pod`.

use crate::cli_container::{LogsArgs, RunArgs};
use crate::cli_pod::*;
use crate::output::{is_json, print_json, print_listing, print_rows, write_out, Listing};
use crate::Ctx;
use anyhow::{bail, Context, Result};
use libruntime::container::options::{
    parse_add_hosts, parse_dns_all, parse_key_values, NetMode, UsernsMode,
};
use libruntime::container::top::Descriptor;
use libruntime::pod::{
    self, ExitPolicy, InfraSettings, Pod, PodCreate, PodRecord, SharedNamespace,
};
use libruntime::store::Store;
use serde_json::{json, Value};
use std::time::Duration;

pub fn dispatch(ctx: &Ctx, cmd: PodCommand) -> Result<i32> {
    match cmd {
        PodCommand::Create(a) => create(ctx, *a),
        PodCommand::Start(a) => each(ctx, &a.names, a.all, false, |p| p.start().map(drop)),
        PodCommand::Stop(a) => each(ctx, &a.names, a.all, a.ignore, |p| {
            p.stop(timeout_of(a.time)).map(drop)
        }),
        PodCommand::Restart(a) => each(ctx, &a.names, a.all, a.ignore, |p| {
            p.restart(timeout_of(a.time)).map(drop)
        }),
        PodCommand::Kill(a) => {
            let sig = libruntime::signals::parse(&a.signal)?;
            each(ctx, &a.names, a.all, false, |p| p.kill(sig).map(drop))
        }
        PodCommand::Pause(a) => each(ctx, &a.names, a.all, false, |p| p.pause().map(drop)),
        PodCommand::Unpause(a) => each(ctx, &a.names, a.all, false, |p| p.unpause().map(drop)),
        PodCommand::Rm(a) => rm(ctx, a),
        PodCommand::Prune(_) => prune(ctx),
        PodCommand::Ps(a) => ps(ctx, a),
        PodCommand::Inspect(a) => inspect(ctx, a),
        PodCommand::Top(a) => top(ctx, a),
        PodCommand::Logs(a) => logs(ctx, a),
        PodCommand::Stats(a) => stats(ctx, a),
        PodCommand::Exists(a) => Ok(if pod::find(&ctx.paths, &a.name).is_ok() {
            0
        } else {
            1
        }),
        PodCommand::Clone(a) => clone(ctx, a),
    }
}

/// podman's default for pods: containers get 10 seconds unless told.
fn timeout_of(t: Option<u32>) -> Duration {
    Duration::from_secs(t.unwrap_or(10) as u64)
}

/// The pods named, or every pod with `--all`; with `ignore`, missing names are skipped.
fn targets(ctx: &Ctx, names: &[String], all: bool, ignore: bool) -> Result<Vec<PodRecord>> {
    if all {
        if !names.is_empty() {
            bail!("--all and pod names cannot be used together");
        }
        return Ok(pod::list(&ctx.paths)?);
    }
    if names.is_empty() {
        bail!("give at least one pod name or id, or --all");
    }
    let mut out = Vec::new();
    for n in names {
        match pod::find(&ctx.paths, n) {
            Ok(p) => out.push(p),
            Err(libruntime::Error::Pod(pod::PodError::NotFound(_))) if ignore => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(out)
}

/// Applies `verb` to each pod, printing each id done; one failure does not stop the
/// others, and makes the exit code 125 after all were tried.
fn each(
    ctx: &Ctx,
    names: &[String],
    all: bool,
    ignore: bool,
    verb: impl Fn(&Pod) -> libruntime::Result<()>,
) -> Result<i32> {
    let mut failed = false;
    for r in targets(ctx, names, all, ignore)? {
        let p = Pod::new(&ctx.paths, &ctx.maps, r);
        match verb(&p) {
            Ok(()) => write_out(&format!("{}\n", p.record.id))?,
            Err(e) => {
                eprintln!("Error: pod {}: {e}", p.record.name);
                failed = true;
            }
        }
    }
    Ok(if failed { crate::exit::ENGINE } else { 0 })
}

/// `--share`: a list, `none`, or `+ns` added to podman's default.
fn parse_share(s: &str) -> Result<Vec<SharedNamespace>> {
    let (mut out, list) = match s.strip_prefix('+') {
        Some(rest) => (SharedNamespace::defaults(), rest),
        None => (vec![], s),
    };
    if list == "none" || list.is_empty() {
        return Ok(out);
    }
    for n in list.split(',') {
        if n == "cgroup" {
            // podman's default list has it; skiff makes no cgroup namespace to share.
            continue;
        }
        out.push(SharedNamespace::parse(n)?);
    }
    out.sort();
    out.dedup();
    Ok(out)
}

fn request_of(a: &PodCreateArgs, create_command: Vec<String>) -> Result<PodCreate> {
    if a.name.is_some() && a.name_arg.is_some() {
        bail!("give the pod's name once: with --name or as the argument");
    }
    if a.infra_command.is_some() && a.infra_image.is_none() {
        bail!("--infra-command needs --infra-image: the built-in pause process takes no command");
    }
    let infra_flags = !a.publish.is_empty()
        || !a.network.is_empty()
        || a.infra_image.is_some()
        || a.infra_name.is_some();
    if !a.infra && infra_flags {
        bail!("--publish, --network and --infra-* need an infra container: drop --infra=false");
    }
    let shared = if a.infra {
        parse_share(&a.share)?
    } else {
        vec![]
    };
    let infra = a
        .infra
        .then(|| -> Result<InfraSettings> {
            Ok(InfraSettings {
                image: a.infra_image.clone(),
                command: a
                    .infra_command
                    .as_deref()
                    .map(|c| {
                        if c.trim_start().starts_with('[') {
                            serde_json::from_str(c).with_context(|| {
                                format!("invalid --infra-command {c:?}: not a JSON array")
                            })
                        } else {
                            Ok(vec![c.to_string()])
                        }
                    })
                    .transpose()?
                    .unwrap_or_default(),
                name: a.infra_name.clone(),
                network: NetMode::parse_all(&a.network)?,
                publish: a.publish.clone(),
                add_hosts: parse_add_hosts(&a.add_host)?,
                dns: parse_dns_all(&a.dns)?,
                dns_search: a.dns_search.clone(),
                dns_options: a.dns_option.clone(),
                userns: UsernsMode::parse(&a.userns)?,
            })
        })
        .transpose()?;
    Ok(PodCreate {
        name: a.name.clone().or(a.name_arg.clone()),
        labels: parse_key_values("label", &a.label)?,
        hostname: a.hostname.clone(),
        shared,
        exit_policy: ExitPolicy::parse(&a.exit_policy)?,
        infra,
        create_command,
    })
}

fn create(ctx: &Ctx, a: PodCreateArgs) -> Result<i32> {
    let req = request_of(&a, std::env::args().collect())?;
    if let Some(f) = &a.pod_id_file {
        if f.exists() {
            bail!(
                "pod id file {} exists: ensure another pod is not using it or delete it",
                f.display()
            );
        }
    }
    let store = Store::open_locked(&ctx.paths)?;
    let p = pod::create(&store, &ctx.maps, &req)?;
    drop(store);
    if let Some(f) = &a.pod_id_file {
        std::fs::write(f, &p.id)
            .with_context(|| format!("writing the pod id to {}", f.display()))?;
    }
    write_out(&format!("{}\n", p.id))?;
    Ok(0)
}

/// `run --pod`: a pod by name, or `new:NAME` for one made with podman's defaults.
pub enum PodRef {
    Existing(String),
    New(String),
}

pub fn pod_of_run(_ctx: &Ctx, a: &RunArgs) -> Result<Option<PodRef>> {
    let named = match (&a.pod, &a.pod_id_file) {
        (Some(_), Some(_)) => bail!("--pod and --pod-id-file cannot be used together"),
        (Some(p), None) => p.clone(),
        (None, Some(f)) => std::fs::read_to_string(f)
            .with_context(|| format!("reading the pod id from {}", f.display()))?
            .trim()
            .to_string(),
        (None, None) => return Ok(None),
    };
    Ok(Some(match named.strip_prefix("new:") {
        Some(n) => PodRef::New(n.to_string()),
        None => PodRef::Existing(named),
    }))
}

/// The pod a `run --pod` joins; `new:NAME` creates it under the caller's lock.
pub fn resolve_for_run(ctx: &Ctx, store: &Store, p: PodRef) -> Result<PodRecord> {
    match p {
        PodRef::Existing(n) => Ok(pod::find(&ctx.paths, &n)?),
        PodRef::New(n) => {
            let req = request_of(
                &PodCreateArgs {
                    name: Some(n),
                    share: "ipc,net,uts".into(),
                    infra: true,
                    exit_policy: "continue".into(),
                    ..Default::default()
                },
                vec![],
            )?;
            Ok(pod::create(store, &ctx.maps, &req)?)
        }
    }
}

/// Which flags a pod decides the `run` gave.
pub fn member_flags(a: &RunArgs) -> pod::MemberFlags {
    pod::MemberFlags {
        network: !a.network.is_empty(),
        publish: !a.publish.is_empty() || a.publish_all,
        hostname: a.hostname.is_some(),
        userns: !a.userns.is_empty(),
    }
}

fn rm(ctx: &Ctx, a: PodRmArgs) -> Result<i32> {
    let mut names = a.names.clone();
    for f in &a.pod_id_file {
        match std::fs::read_to_string(f) {
            Ok(id) => names.push(id.trim().to_string()),
            Err(_) if a.ignore => {}
            Err(e) => bail!("reading the pod id from {}: {e}", f.display()),
        }
    }
    if a.all && !names.is_empty() {
        bail!("--all and pod names cannot be used together");
    }
    if !a.all && names.is_empty() {
        if a.ignore {
            return Ok(0);
        }
        bail!("give at least one pod name or id, or --all");
    }
    let found: Vec<libruntime::Result<PodRecord>> = if a.all {
        pod::list(&ctx.paths)?.into_iter().map(Ok).collect()
    } else {
        names.iter().map(|n| pod::find(&ctx.paths, n)).collect()
    };
    let t = timeout_of(a.time);
    // podman's codes: 1 when a pod is not there, 2 when one runs, else 125.
    let mut code = 0;
    for r in found {
        let removed = r.and_then(|r| {
            let p = Pod::new(&ctx.paths, &ctx.maps, r);
            p.remove(a.force, t).map(|_| p.record.id)
        });
        match removed {
            Ok(id) => write_out(&format!("{id}\n"))?,
            Err(libruntime::Error::Pod(pod::PodError::NotFound(_))) if a.ignore => {}
            Err(e) => {
                eprintln!("Error: {e}");
                if code == 0 {
                    code = crate::exit::code_of_lib(&e);
                }
            }
        }
    }
    Ok(code)
}

pub fn prune(ctx: &Ctx) -> Result<i32> {
    for r in pod::list(&ctx.paths)? {
        let p = Pod::new(&ctx.paths, &ctx.maps, r);
        let stopped = p
            .states()?
            .iter()
            .all(|(_, st)| !st.is_active() && !st.supervisor_alive());
        if stopped {
            p.remove(false, Duration::ZERO)?;
            write_out(&format!("{}\n", p.record.id))?;
        }
    }
    Ok(0)
}

/// One `pod ps` row, with podman's field names.
fn ps_row(ctx: &Ctx, r: &PodRecord, no_trunc: bool) -> Result<Value> {
    let p = Pod::new(&ctx.paths, &ctx.maps, r.clone());
    let states = p.states()?;
    let status =
        libruntime::pod::pod_status(&states.iter().map(|(_, s)| s.status).collect::<Vec<_>>());
    let short = |id: &str| -> String {
        if no_trunc {
            id.to_string()
        } else {
            id[..12].to_string()
        }
    };
    let networks: Vec<String> = r
        .infra
        .as_ref()
        .map(|i| vec![i.network.describe()])
        .unwrap_or_default();
    Ok(json!({
        "Id": r.id,
        "ID": short(&r.id),
        "Name": r.name,
        "Status": status.word(),
        "Created": libruntime::time::ago(Some(&r.created)),
        "CreatedAt": r.created,
        "InfraId": r.infra_id.as_deref().map(short).unwrap_or_default(),
        "NumberOfContainers": states.len(),
        "Labels": r.labels,
        "Networks": networks,
        "ContainerNames": states.iter().map(|(c, _)| c.name.clone()).collect::<Vec<_>>().join(","),
        "ContainerIds": states.iter().map(|(c, _)| short(&c.id)).collect::<Vec<_>>().join(","),
        "ContainerStatuses": states.iter().map(|(_, s)| s.status_name()).collect::<Vec<_>>().join(","),
        "Containers": states.iter().map(|(c, s)| json!({
            "Id": c.id, "Names": c.name, "Status": s.status_name(),
        })).collect::<Vec<_>>(),
    }))
}

fn pod_matches(row: &Value, filters: &[(String, String)]) -> Result<bool> {
    for (k, v) in filters {
        let ok = match k.as_str() {
            "name" => regex_lite::Regex::new(v)
                .map(|re| re.is_match(row["Name"].as_str().unwrap_or("")))
                .unwrap_or(false),
            "id" => row["Id"].as_str().unwrap_or("").starts_with(v.as_str()),
            "status" => row["Status"].as_str().unwrap_or("").eq_ignore_ascii_case(v),
            "label" => match v.split_once('=') {
                Some((lk, lv)) => row["Labels"][lk].as_str() == Some(lv),
                None => row["Labels"].get(v.as_str()).is_some(),
            },
            "ctr-names" => row["ContainerNames"]
                .as_str()
                .unwrap_or("")
                .split(',')
                .any(|n| n == v),
            "ctr-ids" => row["Containers"].as_array().is_some_and(|cs| {
                cs.iter()
                    .any(|c| c["Id"].as_str().unwrap_or("").starts_with(v.as_str()))
            }),
            other => {
                bail!("invalid filter {other:?}: use name, id, status, label, ctr-names or ctr-ids")
            }
        };
        if !ok {
            return Ok(false);
        }
    }
    Ok(true)
}

fn ps(ctx: &Ctx, a: PodPsArgs) -> Result<i32> {
    let filters: Vec<(String, String)> = a
        .filter
        .iter()
        .map(|f| {
            f.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .with_context(|| format!("invalid filter {f:?}: want KEY=VALUE"))
        })
        .collect::<Result<_>>()?;
    let mut rows = Vec::new();
    for r in pod::list(&ctx.paths)? {
        let row = ps_row(ctx, &r, a.no_trunc)?;
        if pod_matches(&row, &filters)? {
            rows.push(row);
        }
    }
    let mut table =
        String::from("table {{.ID}}\t{{.Name}}\t{{.Status}}\t{{.Created}}\t{{.InfraId}}");
    if a.ctr_names {
        table.push_str("\t{{.ContainerNames}}");
    }
    if a.ctr_ids {
        table.push_str("\t{{.ContainerIds}}");
    }
    if a.ctr_status {
        table.push_str("\t{{.ContainerStatuses}}");
    }
    if !(a.ctr_names || a.ctr_ids || a.ctr_status) || a.ns {
        table.push_str("\t{{.NumberOfContainers}}");
    }
    print_listing(
        &Listing {
            quiet: a.quiet,
            noheading: a.noheading,
            key: "ID",
            format: a.format.as_deref(),
            default_table: &table,
            headers: &[
                ("ID", "POD ID"),
                ("Id", "POD ID"),
                ("Name", "NAME"),
                ("Status", "STATUS"),
                ("Created", "CREATED"),
                ("CreatedAt", "CREATED AT"),
                ("InfraId", "INFRA ID"),
                ("NumberOfContainers", "# OF CONTAINERS"),
                ("ContainerNames", "NAMES"),
                ("ContainerIds", "IDS"),
                ("ContainerStatuses", "STATUS"),
                ("Networks", "NETWORKS"),
                ("Labels", "LABELS"),
            ],
        },
        rows,
    )?;
    Ok(0)
}

/// podman's `pod inspect` shape, for the fields skiff has.
fn inspect_value(ctx: &Ctx, r: &PodRecord) -> Result<Value> {
    let p = Pod::new(&ctx.paths, &ctx.maps, r.clone());
    let states = p.states()?;
    let status =
        libruntime::pod::pod_status(&states.iter().map(|(_, s)| s.status).collect::<Vec<_>>());
    let infra_ports: Value = match p.infra()? {
        Some(i) => {
            let mut m = serde_json::Map::new();
            for port in &i.config.ports {
                let key = format!("{}/{}", port.container_port, port.protocol);
                let list = m.entry(key).or_insert_with(|| json!([]));
                if let Some(l) = list.as_array_mut() {
                    l.push(json!({"HostIp": port.host_ip, "HostPort": port.host_port.to_string()}));
                }
            }
            Value::Object(m)
        }
        None => json!({}),
    };
    let infra_config = r.infra.as_ref().map(|i| {
        json!({
            "PortBindings": infra_ports,
            "HostNetwork": matches!(i.network, NetMode::Host),
            "NetworkMode": i.network.describe(),
            "DNSServer": i.dns,
            "DNSSearch": i.dns_search,
            "DNSOption": i.dns_options,
            "HostAdd": i.add_hosts.iter().map(|(h, ip)| format!("{h}:{ip}")).collect::<Vec<_>>(),
            "Userns": String::from(i.userns.clone()),
            "InfraImage": i.image.clone().unwrap_or_default(),
            "InfraCommand": i.command,
        })
    });
    Ok(json!({
        "Id": r.id,
        "Name": r.name,
        "Created": r.created,
        "CreateCommand": r.create_command,
        "ExitPolicy": r.exit_policy.word(),
        "State": status.word(),
        "Hostname": r.hostname,
        "Labels": r.labels,
        "CreateInfra": r.infra_id.is_some(),
        "InfraContainerID": r.infra_id.clone().unwrap_or_default(),
        "InfraConfig": infra_config,
        "SharedNamespaces": r.shared.iter().map(|n| n.word()).collect::<Vec<_>>(),
        "NumContainers": states.len(),
        "Containers": states.iter().map(|(c, s)| json!({
            "Id": c.id, "Name": c.name, "State": s.status_name(),
        })).collect::<Vec<_>>(),
    }))
}

fn inspect(ctx: &Ctx, a: PodInspectArgs) -> Result<i32> {
    let mut values = Vec::new();
    for n in &a.names {
        values.push(inspect_value(ctx, &pod::find(&ctx.paths, n)?)?);
    }
    match a.format.as_deref() {
        None | Some("json") => print_json(&Value::Array(values))?,
        Some(f) => {
            let t = crate::template::Template::parse(f)?;
            let mut out = String::new();
            for v in &values {
                out.push_str(&t.render(v)?);
                out.push('\n');
            }
            write_out(&out)?;
        }
    }
    Ok(0)
}

/// The processes of every running container of the pod, under one header.
fn top(ctx: &Ctx, a: PodTopArgs) -> Result<i32> {
    let descs = Descriptor::parse_all(&a.descriptors)?;
    let p = Pod::find(&ctx.paths, &ctx.maps, &a.name)?;
    let mut lines: Vec<String> = Vec::new();
    // With a shared pid namespace the infra's view holds every process once.
    let shared_pids = p.record.shares(SharedNamespace::Pid);
    for (c, st) in p.states()? {
        if st.status != libruntime::container::Status::Running || shared_pids && !c.is_infra() {
            continue;
        }
        let table = p.handle(&c).top(&descs)?;
        if lines.is_empty() {
            lines.push(table.headers.join("\t"));
        }
        lines.extend(table.rows.iter().map(|r| r.join("\t")));
    }
    if lines.is_empty() {
        bail!("pod {} has no running container", p.record.name);
    }
    write_out(&crate::table::align(&lines))?;
    Ok(0)
}

/// The logs of the pod's containers (not the infra's), or of one with `-c`; followed
/// side by side.
fn logs(ctx: &Ctx, a: PodLogsArgs) -> Result<i32> {
    let p = Pod::find(&ctx.paths, &ctx.maps, &a.pod)?;
    let names: Vec<String> = match &a.container {
        Some(c) => {
            let r = libruntime::container::find(&ctx.paths, c)?;
            if r.pod_id() != Some(p.record.id.as_str()) {
                bail!("container {c} is not in pod {}", p.record.name);
            }
            vec![r.id]
        }
        None => p.members()?.into_iter().map(|c| c.id).collect(),
    };
    let args = |names: Vec<String>| LogsArgs {
        follow: a.follow,
        since: None,
        until: None,
        tail: a.tail,
        timestamps: a.timestamps,
        names,
    };
    if !a.follow || names.len() < 2 {
        if names.is_empty() {
            return Ok(0);
        }
        return super::logs::logs(ctx, args(names));
    }
    std::thread::scope(|s| {
        let running: Vec<_> = names
            .iter()
            .map(|n| {
                let a = args(vec![n.clone()]);
                s.spawn(move || super::logs::logs(ctx, a))
            })
            .collect();
        for t in running {
            if let Ok(Err(e)) = t.join() {
                eprintln!("Error: {e}");
            }
        }
    });
    Ok(0)
}

fn stats(ctx: &Ctx, a: PodStatsArgs) -> Result<i32> {
    let pods = targets(ctx, &a.names, a.all || a.names.is_empty(), false)?;
    let default = "table {{.Pod}}\t{{.CID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}";
    let mut headers = vec![("Pod", "POD"), ("CID", "CID")];
    headers.extend_from_slice(super::monitor::STATS_HEADERS);
    loop {
        let mut rows = Vec::new();
        for r in &pods {
            let p = Pod::new(&ctx.paths, &ctx.maps, r.clone());
            for c in p.containers()? {
                if let Some(mut row) = super::monitor::stats_row(ctx, &c) {
                    row["Pod"] = r.short_id().into();
                    row["CID"] = c.short_id().into();
                    rows.push(row);
                }
            }
        }
        if is_json(a.format.as_deref()) {
            print_json(&Value::Array(rows))?;
        } else {
            print_rows(a.format.as_deref(), default, &headers, &rows)?;
        }
        if a.no_stream {
            return Ok(0);
        }
        std::thread::sleep(Duration::from_secs(1));
    }
}

/// A new pod with the settings of `a.pod` (its containers are not copied, as podman).
fn clone(ctx: &Ctx, a: PodCloneArgs) -> Result<i32> {
    if a.name.is_some() && a.name_arg.is_some() {
        bail!("give the clone's name once: with --name or as the argument");
    }
    let original = pod::find(&ctx.paths, &a.pod)?;
    let req = PodCreate {
        name: Some(
            a.name
                .clone()
                .or(a.name_arg.clone())
                .unwrap_or_else(|| format!("{}-clone", original.name)),
        ),
        labels: original.labels.clone(),
        // A hostname the original was given is kept; its default was its own name.
        hostname: (original.hostname != original.name).then(|| original.hostname.clone()),
        shared: original.shared.clone(),
        exit_policy: original.exit_policy,
        infra: original.infra.clone().map(|mut i| {
            // The infra's name is the original's; the clone's gets its own.
            i.name = None;
            i
        }),
        create_command: std::env::args().collect(),
    };
    let same_name = req.name.as_deref() == Some(original.name.as_str());
    if !a.destroy && same_name {
        bail!(
            "the pod name {:?} is already in use: give the clone another name",
            original.name
        );
    }
    let destroy =
        || Pod::new(&ctx.paths, &ctx.maps, original.clone()).remove(true, timeout_of(None));
    if a.destroy && same_name {
        destroy()?;
    }
    let store = Store::open_locked(&ctx.paths)?;
    let p = pod::create(&store, &ctx.maps, &req)?;
    drop(store);
    if a.destroy && !same_name {
        destroy()?;
    }
    if a.start {
        Pod::new(&ctx.paths, &ctx.maps, p.clone()).start()?;
    }
    write_out(&format!("{}\n", p.id))?;
    Ok(0)
}
