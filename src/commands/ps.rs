//! ps and container inspect: what skiff knows about containers, in podman's shapes.

use crate::cli_container::{PsArgs, PsSort};
use crate::output::{is_json, print_json, print_rows, print_table, write_out};
use crate::Ctx;
use anyhow::{bail, Result};
use libruntime::container::{self as ctr, ContainerDirs, ContainerRecord, State, Status};
use libruntime::time;
use serde_json::{json, Value};

const HEADERS: &[(&str, &str)] = &[
    ("ID", "CONTAINER ID"),
    ("Image", "IMAGE"),
    ("Command", "COMMAND"),
    ("Created", "CREATED"),
    ("CreatedAt", "CREATED AT"),
    ("RunningFor", "CREATED"),
    ("Status", "STATUS"),
    ("State", "STATE"),
    ("Ports", "PORTS"),
    ("Names", "NAMES"),
    ("Size", "SIZE"),
    ("Pid", "PID"),
    ("ExitCode", "EXIT CODE"),
    ("Restarts", "RESTARTS"),
    ("Pod", "POD ID"),
    ("PodName", "PODNAME"),
    ("Labels", "LABELS"),
];

/// podman's status column: "Up 3 seconds", "Exited (0) 2 minutes ago", "Created".
pub fn status_text(st: &State) -> String {
    match st.status {
        Status::Created => "Created".into(),
        Status::Initialized => "Initialized".into(),
        Status::Running if st.stopping => "Stopping".into(),
        Status::Running => match &st.health {
            Some(h) => format!("Up {} ({})", since(&st.started_at), h.status.word()),
            None => format!("Up {}", since(&st.started_at)),
        },
        Status::Paused => "Paused".into(),
        Status::Exited if st.restarting => format!(
            "Restarting ({}) {}",
            st.exit_code,
            time::ago(Some(&st.finished_at))
        ),
        Status::Exited if st.finished_at.is_empty() => format!("Exited ({})", st.exit_code),
        Status::Exited => format!(
            "Exited ({}) {}",
            st.exit_code,
            time::ago(Some(&st.finished_at))
        ),
    }
}

fn since(t: &str) -> String {
    let secs = (chrono::Utc::now().timestamp() - time::unix(Some(t))).max(0);
    time::human_duration(secs)
}

fn ports_text(r: &ContainerRecord) -> String {
    r.config
        .ports
        .iter()
        .map(|p| {
            let ip = if p.host_ip.is_empty() {
                "0.0.0.0"
            } else {
                &p.host_ip
            };
            format!("{ip}:{}->{}/{}", p.host_port, p.container_port, p.protocol)
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `image_sizes`: image id to size, when `--size` asks for the SIZE column.
fn row(
    ctx: &Ctx,
    r: &ContainerRecord,
    st: &State,
    no_trunc: bool,
    image_sizes: Option<&std::collections::HashMap<String, u64>>,
    pods: &PodNames,
) -> Value {
    let mut cmd = r.command().join(" ");
    if !no_trunc && cmd.chars().count() > 20 {
        cmd = cmd.chars().take(19).collect::<String>() + "…";
    }
    let size_text = if let Some(sizes) = image_sizes {
        let dirs = ContainerDirs::new(&ctx.paths, &r.id);
        let upper = libruntime::fsutil::tree_size(&dirs.upper());
        let image = sizes.get(&r.image_id).copied().unwrap_or(0);
        format!(
            "{} (virtual {})",
            time::human_size(upper),
            time::human_size(upper + image)
        )
    } else {
        String::new()
    };
    json!({
        "ID": if no_trunc { r.id.clone() } else { r.short_id().to_string() },
        "Id": r.id,
        "Image": r.image_name,
        "ImageID": r.image_id,
        "Command": cmd,
        "Created": time::ago(Some(&r.created)),
        "CreatedAt": r.created,
        "RunningFor": time::ago(Some(&r.created)),
        "Status": status_text(st),
        "State": st.status_name(),
        "Ports": ports_text(r),
        "Names": r.name,
        "Size": size_text,
        "Pid": st.pid,
        "ExitCode": st.exit_code,
        "Exited": st.status == Status::Exited,
        "Restarts": st.restart_count,
        "Labels": r.config.labels,
        "Pod": r.pod_id().map(|p| if no_trunc { p } else { &p[..12] }).unwrap_or(""),
        "PodName": pods.name_of(r),
        "IsInfra": r.is_infra(),
    })
}

/// Pod ids to names, read once per listing.
pub struct PodNames(std::collections::HashMap<String, String>);

impl PodNames {
    pub fn load(ctx: &Ctx) -> Result<PodNames> {
        Ok(PodNames(
            libruntime::pod::list(&ctx.paths)?
                .into_iter()
                .map(|p| (p.id, p.name))
                .collect(),
        ))
    }

    pub fn name_of(&self, r: &ContainerRecord) -> &str {
        r.pod_id()
            .and_then(|p| self.0.get(p))
            .map(String::as_str)
            .unwrap_or("")
    }
}

pub fn matches(
    r: &ContainerRecord,
    st: &State,
    filters: &[(String, String)],
    pods: &PodNames,
) -> Result<bool> {
    for (k, v) in filters {
        let ok = match k.as_str() {
            "name" => regex_lite::Regex::new(v)
                .map(|re| re.is_match(&r.name))
                .unwrap_or(false),
            "id" => r.id.starts_with(v.as_str()),
            "label" => match v.split_once('=') {
                Some((lk, lv)) => r.config.labels.get(lk).is_some_and(|x| x == lv),
                None => r.config.labels.contains_key(v.as_str()),
            },
            "status" => st.status.as_str() == v,
            "ancestor" => {
                r.image_id.starts_with(v.as_str())
                    || r.image_name == *v
                    || libruntime::reference::Reference::parse(v)
                        .is_ok_and(|x| x.matches_name(&r.image_name))
            }
            "exited" => {
                st.status == Status::Exited && v.parse::<i32>().is_ok_and(|c| c == st.exit_code)
            }
            "health" => match &st.health {
                Some(h) => h.status.word() == v,
                None => v == "none",
            },
            "pod" => {
                r.pod_id().is_some_and(|p| p.starts_with(v.as_str()))
                    || !v.is_empty() && pods.name_of(r) == v
            }
            _ => unreachable!(),
        };
        if !ok {
            return Ok(false);
        }
    }
    Ok(true)
}

pub fn parse_filters(raw: &[String]) -> Result<Vec<(String, String)>> {
    raw.iter()
        .map(|f| match f.split_once('=') {
            Some((
                k @ ("name" | "id" | "label" | "status" | "ancestor" | "exited" | "health" | "pod"),
                v,
            )) => {
                if k == "status" && !["created", "running", "paused", "exited"].contains(&v) {
                    bail!("invalid status filter {v:?}: use created, running, paused or exited");
                }
                if k == "health" && !["starting", "healthy", "unhealthy", "none"].contains(&v) {
                    bail!("invalid health filter {v:?}: use starting, healthy, unhealthy or none");
                }
                Ok((k.to_string(), v.to_string()))
            }
            _ => bail!(
                "invalid filter {f:?}: use name, id, label, status, ancestor, exited, health or pod (KEY=VALUE)"
            ),
        })
        .collect()
}

/// `ps --sort`: podman's keys; the newest first stays the order within equal keys.
fn sort_containers(all: &mut [(ContainerRecord, State)], key: PsSort) {
    match key {
        PsSort::Created => {}
        PsSort::Id => all.sort_by(|a, b| a.0.id.cmp(&b.0.id)),
        PsSort::Names => all.sort_by(|a, b| a.0.name.cmp(&b.0.name)),
        PsSort::Image => all.sort_by(|a, b| a.0.image_name.cmp(&b.0.image_name)),
        PsSort::Command => all.sort_by(|a, b| a.0.config.cmd.cmp(&b.0.config.cmd)),
        PsSort::Status => all.sort_by_key(|c| c.1.status.as_str()),
        PsSort::Runningfor => all.sort_by(|a, b| b.1.started_at.cmp(&a.1.started_at)),
    }
}

pub fn ps(ctx: &Ctx, a: PsArgs) -> Result<i32> {
    let filters = parse_filters(&a.filter)?;
    if let Some(f) = a.format.as_deref().filter(|f| !is_json(Some(f))) {
        crate::template::Template::parse(f)?;
    }
    let mut all: Vec<(ContainerRecord, State)> = ctr::list(&ctx.paths)?
        .into_iter()
        .map(|r| {
            let st = State::load(&ContainerDirs::new(&ctx.paths, &r.id)).unwrap_or_default();
            (r, st)
        })
        .collect();
    all.sort_by(|a, b| b.0.created.cmp(&a.0.created));
    sort_containers(&mut all, a.sort);
    let limit = if a.latest { Some(1) } else { a.last };
    let show_all =
        a.all || limit.is_some() || filters.iter().any(|(k, _)| k == "status" || k == "exited");
    let image_sizes = match a.size {
        true => Some(
            libruntime::store::Store::open(&ctx.paths)
                .images()?
                .into_iter()
                .map(|i| (i.id, i.size))
                .collect(),
        ),
        false => None,
    };
    let pods = PodNames::load(ctx)?;
    let mut rows = Vec::new();
    for (r, st) in &all {
        if !show_all && !st.is_active() {
            continue;
        }
        if !matches(r, st, &filters, &pods)? {
            continue;
        }
        rows.push(row(ctx, r, st, a.no_trunc, image_sizes.as_ref(), &pods));
        if limit.is_some_and(|l| rows.len() >= l) {
            break;
        }
    }
    if a.quiet {
        let text: String = rows
            .iter()
            .map(|r| format!("{}\n", r["ID"].as_str().unwrap_or("")))
            .collect();
        return write_out(&text).map(|_| 0);
    }
    if is_json(a.format.as_deref()) {
        print_json(&Value::Array(rows))?;
        return Ok(0);
    }
    let mut default = String::from(
        "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.Created}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}",
    );
    if a.size {
        default.push_str("\t{{.Size}}");
    }
    if a.pod {
        default.push_str("\t{{.Pod}}\t{{.PodName}}");
    }
    print_table(a.format.as_deref(), &default, HEADERS, &rows, !a.noheading)?;
    Ok(0)
}

/// podman's container inspect shape, for the fields skiff has.
pub fn inspect_value(ctx: &Ctx, r: &ContainerRecord) -> Result<Value> {
    let dirs = ContainerDirs::new(&ctx.paths, &r.id);
    let st = State::load(&dirs)?;
    let spec: Option<Value> = libruntime::fsutil::read_json(&dirs.spec())?;
    let caps = spec
        .as_ref()
        .map(|s| s["process"]["capabilities"].clone())
        .unwrap_or(Value::Null);
    let c = &r.config;
    let ports: serde_json::Map<String, Value> = c
        .ports
        .iter()
        .map(|p| {
            (
                format!("{}/{}", p.container_port, p.protocol),
                json!([{"HostIp": p.host_ip, "HostPort": p.host_port.to_string()}]),
            )
        })
        .collect();
    let network_settings = network_settings(ctx, r, ports.clone(), st.is_active());
    let image_digest = libruntime::store::Store::open(&ctx.paths)
        .find_image(&r.image_id)
        .map(|i| i.digest.to_string())
        .unwrap_or_default();
    let log_config = json!({
        "Type": c.log.driver_name(),
        "Path": c.log.file(&dirs).unwrap_or_default(),
        "Tag": c.log.tag.clone().unwrap_or_default(),
        "Size": c.log.max_size.map(|m| m.to_string()).unwrap_or_else(|| "0B".into()),
    });
    Ok(json!({
        "Id": r.id,
        "Created": r.created,
        "Path": r.command().first().cloned().unwrap_or_default(),
        "Args": r.command().iter().skip(1).cloned().collect::<Vec<_>>(),
        "State": {
            "OciVersion": "1.1.0",
            "Status": st.status_name(),
            "Running": st.status == Status::Running,
            "Paused": st.status == Status::Paused,
            "Restarting": st.restarting,
            "OOMKilled": st.oom_killed,
            "Health": st.health,
            "Healthcheck": st.health,
            "Dead": false,
            "Pid": st.pid,
            "ConmonPid": st.supervisor_pid,
            "ExitCode": st.exit_code,
            "Error": st.error,
            "StartedAt": st.started_at,
            "FinishedAt": st.finished_at,
        },
        "Image": r.image_id,
        "ImageName": r.image_name,
        "ImageDigest": image_digest,
        "Rootfs": "",
        "ResolvConfPath": dirs.userdata().join("resolv.conf"),
        "HostnamePath": dirs.userdata().join("hostname"),
        "HostsPath": dirs.userdata().join("hosts"),
        "StaticDir": dirs.dir,
        "OCIConfigPath": dirs.spec(),
        "OCIRuntime": "skiff",
        "LogPath": c.log.file(&dirs).unwrap_or_default(),
        "LogTag": c.log.tag.clone().unwrap_or_default(),
        "Name": r.name,
        "RestartCount": st.restart_count,
        "Driver": r.driver,
        "EffectiveCaps": caps["effective"],
        "BoundingCaps": caps["bounding"],
        "GraphDriver": {
            "Name": r.driver,
            "Data": {
                "LowerDir": r.layers.iter().rev().map(|l| ctx.paths.layers_dir().join(l.trim_start_matches("sha256:")).join("diff").display().to_string()).collect::<Vec<_>>().join(":"),
                "UpperDir": dirs.upper(),
                "WorkDir": dirs.work(),
            },
        },
        "Mounts": c.mounts,
        "NetworkSettings": network_settings,
        "Config": {
            "Hostname": c.hostname,
            "User": c.user,
            "AttachStdin": c.stdin,
            "Tty": c.tty,
            "OpenStdin": c.stdin,
            "Env": c.env,
            "Cmd": c.cmd,
            "Entrypoint": c.entrypoint,
            "Image": r.image_name,
            "WorkingDir": c.workdir,
            "Labels": c.labels,
            "Annotations": c.annotations,
            "Healthcheck": c.health.as_ref().map(|h| json!({
                "Test": h.test.podman_form(),
                "Interval": h.interval_ms * 1_000_000,
                "Timeout": h.timeout_ms * 1_000_000,
                "StartPeriod": h.start_period_ms * 1_000_000,
                "Retries": h.retries,
            })),
            "HealthcheckOnFailureAction": c.health.as_ref().map(|h| format!("{:?}", h.on_failure).to_lowercase()),
            "StartupHealthCheck": c.health.as_ref().and_then(|h| h.startup.as_ref()).map(|s| json!({
                "Test": s.test.podman_form(),
                "Interval": s.interval_ms * 1_000_000,
                "Timeout": s.timeout_ms * 1_000_000,
                "Retries": s.retries,
                "Successes": s.successes,
            })),
            "HealthLogDestination": c.health.as_ref().map(|h| match &h.log_destination {
                libruntime::container::health::LogDestination::Local => "local".to_string(),
                libruntime::container::health::LogDestination::EventsLogger => "events_logger".to_string(),
                libruntime::container::health::LogDestination::Directory(d) => d.display().to_string(),
            }),
            "StopSignal": c.stop_signal,
            "StopTimeout": c.stop_timeout,
            "CreateCommand": c.create_command,
        },
        "HostConfig": {
            "LogConfig": log_config,
            "AutoRemove": c.auto_remove,
            "RestartPolicy": c.restart,
            "CapAdd": c.cap_add,
            "CapDrop": c.cap_drop,
            "Privileged": c.privileged,
            "ReadonlyRootfs": c.read_only,
            "SecurityOpt": c.security_opt,
            "Ulimits": c.ulimits,
            "Init": c.init,
            "NetworkMode": c.network,
            "PidMode": c.pid,
            "IpcMode": c.ipc,
            "UTSMode": c.uts,
            "UsernsMode": c.userns,
            "PortBindings": ports,
            "Memory": c.resources.memory.unwrap_or(0),
            "MemoryReservation": c.resources.memory_reservation.unwrap_or(0),
            "MemorySwap": c.resources.memory_swap.unwrap_or(0),
            "NanoCpus": match (c.resources.cpu_quota, c.resources.cpu_period) {
                (Some(q), Some(p)) if q > 0 && p > 0 => q as u64 * 1_000_000_000 / p,
                _ => 0,
            },
            "CpuShares": c.resources.cpu_shares.unwrap_or(0),
            "CpuQuota": c.resources.cpu_quota.unwrap_or(0),
            "CpuPeriod": c.resources.cpu_period.unwrap_or(0),
            "CpusetCpus": c.resources.cpuset_cpus.clone().unwrap_or_default(),
            "CpusetMems": c.resources.cpuset_mems.clone().unwrap_or_default(),
            "PidsLimit": c.resources.pids_limit.unwrap_or(0),
            "BlkioWeight": c.resources.blkio_weight.unwrap_or(0),
            "BlkioDeviceReadBps": c.resources.device_read_bps.iter().map(|d| json!({"Path": format!("{}:{}", d.major, d.minor), "Rate": d.rate})).collect::<Vec<_>>(),
            "BlkioDeviceWriteBps": c.resources.device_write_bps.iter().map(|d| json!({"Path": format!("{}:{}", d.major, d.minor), "Rate": d.rate})).collect::<Vec<_>>(),
            "CgroupParent": c.cgroups.parent.as_ref().map(|p| p.display().to_string()).unwrap_or_default(),
            "Cgroups": match c.cgroups.mode {
                libruntime::cgroups::CgroupsMode::Disabled => "disabled",
                _ => "default",
            },
            "OomScoreAdj": c.oom_score_adj.unwrap_or(0),
        },
    }))
}

pub fn inspect(ctx: &Ctx, names: Vec<String>, format: Option<String>) -> Result<i32> {
    let mut values = Vec::new();
    let mut missing = None;
    for n in &names {
        match ctr::find(&ctx.paths, n) {
            Ok(r) => values.push(inspect_value(ctx, &r)?),
            Err(e) => missing = Some(e),
        }
    }
    match format.as_deref() {
        None | Some("json") => print_json(&Value::Array(values))?,
        Some(f) => print_rows(Some(f), f, &[], &values)?,
    }
    match missing {
        Some(e) => Err(e.into()),
        None => Ok(0),
    }
}

/// NetworkSettings as podman shows it: the ports, and per bridge network the address
/// the running container holds there.
fn network_settings(
    ctx: &Ctx,
    r: &libruntime::container::ContainerRecord,
    ports: serde_json::Map<String, Value>,
    running: bool,
) -> Value {
    let dirs = libruntime::container::record::ContainerDirs::new(&ctx.paths, &r.id);
    let attached = if running {
        libruntime::network::attach::attached(&dirs.run)
    } else {
        vec![]
    };
    let mut networks = serde_json::Map::new();
    for n in &r.config.networks {
        let at = attached.iter().find(|a| a.network == n.name);
        networks.insert(
            n.name.clone(),
            json!({
                "NetworkID": at.map(|a| a.network_id.clone()).unwrap_or_default(),
                "IPAddress": at.map(|a| a.ip.to_string()).unwrap_or_default(),
                "IPPrefixLen": at.map(|a| a.prefix).unwrap_or(0),
                "Gateway": at.map(|a| a.gateway.to_string()).unwrap_or_default(),
                "MacAddress": at.map(|a| a.mac.clone()).unwrap_or_default(),
                "Aliases": n.aliases,
            }),
        );
    }
    let first = attached.first();
    json!({
        "Ports": ports,
        "IPAddress": first.map(|a| a.ip.to_string()).unwrap_or_default(),
        "Gateway": first.map(|a| a.gateway.to_string()).unwrap_or_default(),
        "MacAddress": first.map(|a| a.mac.clone()).unwrap_or_default(),
        "Networks": networks,
    })
}
