//! `create`: a container record, its OCI bundle and its directories, made from an image
//! and the user's options. Everything is assembled in the staging area and renamed into
//! place, so a crash leaves either a whole container or none.

use super::options::{CreateOptions, NetMode};
use super::record::{ContainerDirs, ContainerRecord, RunConfig};
use super::{names, spec};
use crate::error::{Context, Error, Result};
use crate::store::{ImageRecord, Store};
use crate::userns::IdMaps;
use crate::{fsutil, hooks, signals, time};

/// The text of `path` (like "etc/passwd") in the image: from the topmost layer that has
/// it. Whiteouts are not followed; an image deleting its passwd file is not a case
/// worth reading every layer for.
fn file_in_layers(store: &Store, image: &ImageRecord, path: &str) -> Option<String> {
    image
        .layers
        .iter()
        .rev()
        .find_map(|l| std::fs::read_to_string(store.layer_diff_dir(&l.diff_id).join(path)).ok())
}

pub fn merge_env(base: &[String], overrides: &[String]) -> Vec<String> {
    let mut out: Vec<String> = base.to_vec();
    for e in overrides {
        let key = e.split('=').next().unwrap_or("");
        out.retain(|x| x.split('=').next() != Some(key));
        out.push(e.clone());
    }
    out
}

/// /etc/hosts: localhost, `--add-host`s, the container's own name (its slirp4netns
/// address when it has one), and the host as podman names it.
fn hosts_file(hostname: &str, name: &str, opts: &CreateOptions) -> String {
    let mut out = String::from(
        "127.0.0.1\tlocalhost localhost.localdomain localhost4 localhost4.localdomain4\n\
         ::1\tlocalhost localhost.localdomain localhost6 localhost6.localdomain6\n",
    );
    for (h, ip) in &opts.add_hosts {
        out.push_str(&format!("{ip}\t{h}\n"));
    }
    if let NetMode::Slirp(slirp) = &opts.network {
        out.push_str(&format!("{}\t{hostname} {name}\n", slirp.guest_addr()));
        out.push_str(&format!(
            "{}\thost.containers.internal host.docker.internal\n",
            slirp.gateway()
        ));
    } else {
        out.push_str(&format!("127.0.1.1\t{hostname} {name}\n"));
    }
    out
}

/// resolv.conf from `--dns*`, else the host's. With slirp4netns a host name server on
/// loopback (systemd-resolved's 127.0.0.53) is reached through slirp's forwarder.
fn resolv_conf(paths: &crate::paths::Paths, opts: &CreateOptions) -> String {
    let host = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
    let host_lines = |key: &str| -> Vec<String> {
        host.lines()
            .filter_map(|l| l.strip_prefix(key))
            .map(|v| v.trim().to_string())
            .collect()
    };
    let loopback = |ip: &String| {
        ip.parse::<std::net::IpAddr>()
            .is_ok_and(|a| a.is_loopback())
    };
    let nameservers: Vec<String> = if !opts.dns.is_empty() {
        opts.dns.clone()
    } else if let NetMode::Bridge(_) = opts.network {
        // The network's own responder, else slirp4netns's forwarder in the holder.
        let requests = network_requests(opts);
        vec![crate::network::attach::resolver(paths, &requests)
            .unwrap_or_else(|| crate::network::slirp::DNS_ADDR.to_string())]
    } else if matches!(opts.network, NetMode::Slirp(_) | NetMode::Pasta) {
        let forwarder = match &opts.network {
            NetMode::Slirp(slirp) => slirp.dns().to_string(),
            _ => crate::network::pasta::DNS_FORWARD.to_string(),
        };
        let mut ns: Vec<String> = host_lines("nameserver")
            .into_iter()
            .filter(|n| !loopback(n))
            .collect();
        ns.insert(0, forwarder.to_string());
        ns.truncate(3);
        ns
    } else {
        host_lines("nameserver")
    };
    let search = if opts.dns_search.is_empty() {
        host_lines("search")
    } else {
        vec![opts.dns_search.join(" ")]
    };
    let options = if opts.dns_options.is_empty() {
        host_lines("options")
    } else {
        vec![opts.dns_options.join(" ")]
    };
    let mut out = String::new();
    for s in search.iter().filter(|s| !s.is_empty() && s.as_str() != ".") {
        out.push_str(&format!("search {s}\n"));
    }
    for n in nameservers {
        out.push_str(&format!("nameserver {n}\n"));
    }
    for o in options.iter().filter(|o| !o.is_empty()) {
        out.push_str(&format!("options {o}\n"));
    }
    out
}

/// `--network container:NAME` (a pod's members): the other container's /etc/hosts and
/// resolv.conf, which name the network it has.
fn joined_network_files(
    paths: &crate::paths::Paths,
    opts: &CreateOptions,
) -> Option<(String, String)> {
    let NetMode::Container(target) = &opts.network else {
        return None;
    };
    let other = super::find(paths, target).ok()?;
    let ud = ContainerDirs::new(paths, &other.id).userdata();
    Some((
        std::fs::read_to_string(ud.join("hosts")).ok()?,
        std::fs::read_to_string(ud.join("resolv.conf")).ok()?,
    ))
}

/// `-p` and `-P`, host ports picked where none was given.
fn published(opts: &CreateOptions, exposed: &[String]) -> Result<Vec<super::record::PortMapping>> {
    let mut ports = Vec::new();
    for p in &opts.publish {
        ports.extend(crate::network::ports::parse(p)?);
    }
    if opts.publish_all {
        ports.extend(crate::network::ports::publish_all(exposed)?);
    }
    if matches!(opts.network, NetMode::Slirp(_)) && ports.iter().any(|p| p.protocol == "udp") {
        crate::log::warn("publishing UDP through slirp4netns lets the container reach the host's loopback at 10.0.2.2");
    }
    match (&opts.network, ports.is_empty()) {
        (_, true) | (NetMode::Slirp(_) | NetMode::Pasta | NetMode::Bridge(_), false) => Ok(ports),
        // The container has no network of its own to publish from: podman warns with
        // these words (scripts look for them) and goes on without the ports.
        (_, false) => {
            crate::log::warn("Port mappings have been discarded as one of the Host, Container, Pod, and None network modes are in use");
            Ok(vec![])
        }
    }
}

/// The mode the image gives its root directory: the top-most layer that says.
fn image_root_mode(store: &Store, image: &crate::store::ImageRecord) -> Option<u32> {
    image
        .layers
        .iter()
        .rev()
        .find_map(|l| store.layer_record(&l.diff_id).ok().flatten()?.root_mode)
}

/// What a container is made from: a stored image, or nothing at all (a pod's infra
/// running the built-in pause process).
struct Source {
    id: String,
    name: String,
    layers: Vec<String>,
    config: oci_spec::image::Config,
    passwd: Option<String>,
    group: Option<String>,
    root_mode: Option<u32>,
    /// The image configuration's `Healthcheck`, as docker writes it.
    healthcheck: serde_json::Value,
}

impl Source {
    fn image(store: &Store, wanted: &str) -> Result<Source> {
        let image = store.find_image(wanted)?;
        let raw: serde_json::Value = serde_json::from_slice(&store.read_blob(&image.config)?)
            .map_err(|e| Error::json("image config", e))?;
        let config = store.image_config(&image)?;
        Ok(Source {
            name: image
                .names
                .first()
                .cloned()
                .unwrap_or_else(|| wanted.to_string()),
            layers: image.layers.iter().map(|l| l.diff_id.to_string()).collect(),
            config: config.config().clone().unwrap_or_default(),
            passwd: file_in_layers(store, &image, "etc/passwd"),
            group: file_in_layers(store, &image, "etc/group"),
            root_mode: image_root_mode(store, &image),
            healthcheck: raw["config"]["Healthcheck"].clone(),
            id: image.id,
        })
    }

    fn nothing() -> Source {
        Source {
            id: String::new(),
            name: String::new(),
            layers: vec![],
            config: Default::default(),
            passwd: None,
            group: None,
            root_mode: None,
            healthcheck: serde_json::Value::Null,
        }
    }
}

/// The accounts the container's /etc/passwd must know: the caller under keep-id, and
/// each `--hostuser`.
fn added_accounts(opts: &CreateOptions, home: &str) -> Result<Vec<super::etc_users::Account>> {
    let mut names: Vec<String> = Vec::new();
    if opts.userns == super::options::UsernsMode::KeepId {
        names.push(nix::unistd::getuid().to_string());
    }
    names.extend(opts.hostusers.iter().cloned());
    names
        .iter()
        .map(|n| {
            super::etc_users::host_account(n, home).ok_or_else(|| {
                Error::InvalidArgument(format!("--hostuser {n:?}: no such user on the host"))
            })
        })
        .collect()
}

/// The bridge networks asked for; the first gets the aliases and the fixed address.
fn network_requests(opts: &CreateOptions) -> Vec<crate::network::attach::NetworkRequest> {
    let NetMode::Bridge(names) = &opts.network else {
        return vec![];
    };
    names
        .iter()
        .enumerate()
        .map(|(i, n)| crate::network::attach::NetworkRequest {
            name: n.clone(),
            aliases: if i == 0 {
                opts.network_aliases.clone()
            } else {
                vec![]
            },
            ip: if i == 0 { opts.ip } else { None },
        })
        .collect()
}

/// Bridge networks must exist, and only they take aliases and fixed addresses.
fn check_networks(
    paths: &crate::paths::Paths,
    opts: &CreateOptions,
) -> Result<Vec<crate::network::attach::NetworkRequest>> {
    let requests = network_requests(opts);
    if requests.is_empty() {
        if !opts.network_aliases.is_empty() || opts.ip.is_some() {
            return Err(Error::InvalidArgument(format!(
                "--network-alias and --ip need a bridge network, not {}",
                opts.network.describe()
            )));
        }
        return Ok(requests);
    }
    if opts.ip.is_some() && requests.len() > 1 {
        return Err(Error::InvalidArgument(
            "--ip can only be used with one network".into(),
        ));
    }
    if paths.rootless && opts.userns != super::options::UsernsMode::Default {
        return Err(Error::InvalidArgument(
            "rootless containers on bridge networks share the network's user namespace: --userns cannot be used with them".into(),
        ));
    }
    for a in &opts.network_aliases {
        if !crate::ids::valid_name(a) {
            return Err(Error::InvalidArgument(format!(
                "invalid --network-alias {a:?}"
            )));
        }
    }
    crate::network::attach::check(paths, &requests)?;
    Ok(requests)
}

/// Checks the name and makes one up when none was given. Runs under the store lock.
fn pick_name(store: &Store, wanted: Option<&str>) -> Result<String> {
    let existing = super::list(&store.paths)?;
    let taken = |n: &str| existing.iter().any(|c| c.name == n);
    match wanted {
        Some(n) if !crate::ids::valid_name(n) => Err(Error::InvalidArgument(format!(
            "invalid container name {n:?}: names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*"
        ))),
        Some(n) if taken(n) => Err(Error::InvalidArgument(format!(
            "the container name {n:?} is already in use: remove that container or choose another name"
        ))),
        Some(n) => Ok(n.to_string()),
        None => {
            let seed = u64::from_str_radix(&crate::ids::new_id()[..16], 16).unwrap_or(0);
            Ok(names::generate(seed, &taken))
        }
    }
}

/// Entrypoint and cmd after the overrides, docker's way: `--entrypoint` clears the
/// image's CMD unless a command is given too.
fn command(
    opts: &CreateOptions,
    image_ep: Vec<String>,
    image_cmd: Vec<String>,
) -> (Vec<String>, Vec<String>) {
    let ep = match &opts.entrypoint {
        Some(e) if e.len() == 1 && e[0].is_empty() => vec![],
        Some(e) => e.clone(),
        None => image_ep,
    };
    let cmd = if !opts.command.is_empty() {
        opts.command.clone()
    } else if opts.entrypoint.is_some() {
        vec![]
    } else {
        image_cmd
    };
    (ep, cmd)
}

/// Limits need a cgroup skiff may make and write: as root, or as a user whose cgroup
/// v2 subtree systemd delegated. A rootless container on cgroup v1 (or v2 without
/// delegation), or one with `--cgroups=disabled`, would run unlimited, so it is refused
/// instead.
pub fn check_limits_possible(
    paths: &crate::paths::Paths,
    r: &crate::cgroups::Resources,
    placement: &crate::cgroups::Placement,
) -> Result<()> {
    if r.is_empty() {
        return Ok(());
    }
    if placement.mode == crate::cgroups::CgroupsMode::Disabled {
        return Err(Error::InvalidArgument(
            "resource limits need a cgroup: they cannot be used with --cgroups=disabled".into(),
        ));
    }
    if !paths.rootless {
        return Ok(());
    }
    match crate::cgroups::user_delegation() {
        Ok(_) => Ok(()),
        Err(why) => Err(Error::InvalidArgument(format!(
            "resource limits need root here: {why}; run as root or without --memory/--cpus/--pids-limit and the like"
        ))),
    }
}

/// Whether `entry` (`KEY=value`) is one `create` adds by itself: the base PATH, the
/// `container` marker, HOSTNAME and HOME. What describes a container for another
/// engine (`kube generate`) leaves these out; that engine adds its own.
pub fn is_runtime_default_env(entry: &str) -> bool {
    let (key, value) = entry.split_once('=').unwrap_or((entry, ""));
    match key {
        "PATH" => value == spec::DEFAULT_PATH,
        "container" => value == "skiff",
        "HOSTNAME" | "HOME" => true,
        _ => false,
    }
}

pub fn create(store: &Store, maps: &IdMaps, opts: &CreateOptions) -> Result<ContainerRecord> {
    check_limits_possible(&store.paths, &opts.resources, &opts.cgroups)?;
    let paths = &store.paths;
    let pause =
        opts.pod.as_ref().and_then(|p| p.infra) == Some(super::options::InfraProgram::Pause);
    let image = if pause {
        Source::nothing()
    } else {
        Source::image(store, &opts.image)?
    };
    let ic = image.config.clone();
    let ports = published(opts, &ic.exposed_ports().clone().unwrap_or_default())?;
    let networks = check_networks(paths, opts)?;
    let name = pick_name(store, opts.name.as_deref())?;
    let id = crate::ids::new_id();
    let (entrypoint, cmd) = command(
        opts,
        ic.entrypoint().clone().unwrap_or_default(),
        ic.cmd().clone().unwrap_or_default(),
    );
    let args: Vec<String> = entrypoint.iter().chain(cmd.iter()).cloned().collect();
    if args.is_empty() {
        return Err(Error::InvalidArgument(
            "no command specified: the image has no CMD or ENTRYPOINT, give one after the image name".into(),
        ));
    }
    // keep-id runs as the caller's own ids unless told otherwise, as podman does.
    let keep_id = (opts.userns == super::options::UsernsMode::KeepId)
        .then(|| format!("{}:{}", nix::unistd::getuid(), nix::unistd::getgid()));
    let user_spec = opts
        .user
        .clone()
        .or(keep_id)
        .or_else(|| ic.user().clone())
        .unwrap_or_default();
    let (passwd, group) = (image.passwd.clone(), image.group.clone());
    let resolved = crate::sandbox::user::resolve(&user_spec, passwd.as_deref(), group.as_deref())?;
    let hostname = spec::hostname_for(opts, &id);
    // containers.conf's env is the base; the image's and --env's go over it.
    let engine = crate::config::EngineConf::load(store.paths.rootless)?;
    let mut env = merge_env(
        &[
            format!("PATH={}", spec::DEFAULT_PATH),
            "container=skiff".into(),
        ],
        engine.containers.env.as_deref().unwrap_or(&[]),
    );
    env = merge_env(&env, ic.env().as_deref().unwrap_or(&[]));
    env = merge_env(&env, &opts.env);
    env = merge_env(&env, &[format!("HOSTNAME={hostname}")]);
    if !env.iter().any(|e| e.starts_with("HOME=")) {
        env.push(format!(
            "HOME={}",
            resolved.home.clone().unwrap_or_else(|| "/".into())
        ));
    }
    let cwd = opts
        .workdir
        .clone()
        .or_else(|| ic.working_dir().clone().filter(|w| !w.is_empty()))
        .unwrap_or_else(|| "/".into());
    if !cwd.starts_with('/') {
        return Err(Error::InvalidArgument(format!(
            "invalid working directory {cwd:?}: it must be absolute"
        )));
    }
    let stop_signal = signals::parse(
        opts.stop_signal
            .as_deref()
            .or(ic.stop_signal().as_deref())
            .unwrap_or("SIGTERM"),
    )? as i32;

    let dirs = ContainerDirs::new(paths, &id);
    let stage = store.staging_path("ctr");
    let staged = ContainerDirs {
        dir: stage.clone(),
        run: dirs.run.clone(),
    };
    let result = (|| -> Result<ContainerRecord> {
        for d in [
            staged.upper(),
            staged.work(),
            staged.merged(),
            staged.userdata(),
            stage.join("empty"),
        ] {
            fsutil::create_dir_all(&d)?;
        }
        // The container's root shows the upper directory's mode: give it the image's.
        if let Some(mode) = image.root_mode {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(staged.upper(), std::fs::Permissions::from_mode(mode))
                .ctx(|| "setting the root directory's mode".into())?;
        }
        let ud = staged.userdata();
        let write =
            |f: &str, text: String| std::fs::write(ud.join(f), text).ctx(|| format!("writing {f}"));
        let (hosts, resolv) = match joined_network_files(paths, opts) {
            Some(files) => files,
            None => (hosts_file(&hostname, &name, opts), resolv_conf(paths, opts)),
        };
        write("hosts", hosts)?;
        write("hostname", format!("{hostname}\n"))?;
        write("resolv.conf", resolv)?;
        let image_name = image.name.clone();
        write(
            spec::CONTAINERENV,
            spec::containerenv(&spec::ContainerEnv {
                privileged: opts.privileged,
                name: &name,
                id: &id,
                image: &image_name,
                image_id: &image.id,
                rootless: paths.rootless,
            }),
        )?;
        let (new_passwd, new_group) = super::etc_users::amend(
            passwd.as_deref().unwrap_or_default(),
            group.as_deref().unwrap_or_default(),
            &added_accounts(opts, &cwd)?,
        );
        let mut etc_files = Vec::new();
        for (f, text) in [("passwd", new_passwd), ("group", new_group)] {
            if let Some(t) = text {
                write(f, t)?;
                etc_files.push(f);
            }
        }
        let annotations = opts.annotations.clone();
        let has_binds = opts
            .mounts
            .iter()
            .any(|m| matches!(m.kind, crate::volume::mounts::MountKind::Bind { .. }));
        let hooks = hooks::select(
            &hooks::dirs(&opts.hooks_dirs),
            &annotations,
            &args[0],
            has_binds,
        )?;
        let rootless_maps = paths.rootless.then_some(maps);
        let image_volumes: Vec<String> = ic
            .volumes()
            .clone()
            .unwrap_or_default()
            .into_iter()
            .collect();
        let mounts = super::mounts::resolve(paths, opts, &image_volumes)?;
        let secrets = super::secrets::resolve(paths, &opts.secrets)?;
        let mut extra_mounts = mounts.spec.clone();
        extra_mounts.extend(super::secrets::spec_mounts(&dirs, &secrets));
        let oci = spec::build(&spec::SpecInputs {
            opts,
            args: args.clone(),
            env: env.clone(),
            cwd: cwd.clone(),
            user: resolved.clone(),
            hostname: hostname.clone(),
            rootfs: &dirs.merged(),
            userdata: &dirs.userdata(),
            rootless_maps,
            hooks,
            extra_mounts,
            etc_files,
        })?;
        let spec_json =
            serde_json::to_vec_pretty(&oci).map_err(|e| Error::json("runtime spec", e))?;
        std::fs::write(staged.spec(), spec_json).ctx(|| "writing config.json".into())?;
        let record = ContainerRecord {
            id: id.clone(),
            name: name.clone(),
            image_id: image.id.clone(),
            image_name,
            created: time::now_rfc3339(),
            layers: image.layers.clone(),
            // The pause builds no root: nothing to mount, no daemon to serve it.
            driver: if pause {
                crate::graph::Driver::Vfs.name().into()
            } else {
                crate::graph::select_for_container(
                    paths,
                    opts.userns == super::options::UsernsMode::KeepId,
                )?
                .name()
                .into()
            },
            config: RunConfig {
                entrypoint,
                cmd,
                env,
                user: user_spec,
                workdir: cwd,
                workdir_must_exist: opts.workdir_must_exist,
                log: opts.log.clone(),
                timeout: opts.timeout,
                supervisor_pidfile: opts.supervisor_pidfile.clone(),
                hostname,
                tty: opts.tty,
                stdin: opts.interactive,
                init: opts.init,
                auto_remove: opts.rm,
                restart: opts.restart.clone(),
                stop_signal,
                stop_timeout: opts.stop_timeout.unwrap_or(10),
                labels: merged_labels(&ic, opts),
                annotations,
                read_only: opts.read_only,
                privileged: opts.privileged,
                cap_add: opts.cap_add.clone(),
                cap_drop: opts.cap_drop.clone(),
                security_opt: security_opts(opts),
                ulimits: opts.ulimits.clone(),
                userns: opts.userns.clone(),
                pid: opts.pid.clone(),
                ipc: opts.ipc.clone(),
                uts: opts.uts.clone(),
                network: (&opts.network).into(),
                slirp: match &opts.network {
                    NetMode::Slirp(o) => Some(o.clone()),
                    _ => None,
                },
                create_command: opts.create_command.clone(),
                ports: ports.clone(),
                networks,
                mounts: mounts.records,
                volumes: mounts.volumes,
                secrets,
                health: health_config(&image.healthcheck, &opts.health)?,
                pod: opts.pod.clone(),
                cgroups: opts.cgroups.clone(),
                resources: opts.resources.clone(),
                oom_score_adj: opts.oom_score_adj,
            },
        };
        if opts.rm {
            // Removed when it exits: not worth an fsync on every `run --rm`.
            fsutil::write_json_unsynced(&staged.record(), &record)?;
        } else {
            fsutil::write_json(&staged.record(), &record)?;
        }
        fsutil::create_dir_all(&paths.containers_dir())?;
        std::fs::rename(&stage, &dirs.dir)
            .ctx(|| format!("moving container into {}", dirs.dir.display()))?;
        crate::events::emit(paths, &record.event(crate::events::EventStatus::Create));
        Ok(record)
    })();
    if result.is_err() {
        let _ = fsutil::remove_tree(&stage);
    }
    result
}

/// The check the container gets: `--health-*` over the image's HEALTHCHECK over
/// podman's defaults; none with `--no-healthcheck` or a `NONE` test.
fn health_config(
    hc: &serde_json::Value,
    req: &super::options::HealthRequest,
) -> Result<Option<super::health::HealthConfig>> {
    use super::health::{self as h, HealthConfig, HealthTest};
    use super::options::HealthRequest;
    let ns = |k: &str| {
        hc[k]
            .as_u64()
            .filter(|n| *n > 0)
            .map(std::time::Duration::from_nanos)
    };
    let image_test = match hc["Test"].as_array() {
        Some(t) => {
            let t: Vec<String> = t
                .iter()
                .filter_map(|x| x.as_str().map(String::from))
                .collect();
            Some(HealthTest::from_podman_form(&t)?)
        }
        None => None,
    };
    let ms = |d: Option<std::time::Duration>, default: std::time::Duration| {
        d.unwrap_or(default).as_millis() as u64
    };
    match req {
        HealthRequest::Disabled => Ok(None),
        HealthRequest::FromImage => Ok(image_test.flatten().map(|test| HealthConfig {
            test,
            interval_ms: ms(ns("Interval"), h::DEFAULT_INTERVAL),
            timeout_ms: ms(ns("Timeout"), h::DEFAULT_TIMEOUT),
            retries: hc["Retries"]
                .as_u64()
                .filter(|r| *r > 0)
                .map_or(h::DEFAULT_RETRIES, |r| r as u32),
            start_period_ms: ms(ns("StartPeriod"), std::time::Duration::ZERO),
            on_failure: Default::default(),
            startup: None,
            log_destination: Default::default(),
        })),
        HealthRequest::Given {
            test,
            interval,
            timeout,
            retries,
            start_period,
            on_failure,
            startup,
            log_destination,
        } => {
            let Some(test) = test.clone().or(image_test.flatten()) else {
                return Err(Error::InvalidArgument(
                    "health check options need --health-cmd (the image has no HEALTHCHECK)".into(),
                ));
            };
            Ok(Some(HealthConfig {
                test,
                interval_ms: ms(interval.or(ns("Interval")), h::DEFAULT_INTERVAL),
                timeout_ms: ms(timeout.or(ns("Timeout")), h::DEFAULT_TIMEOUT),
                retries: retries.unwrap_or(h::DEFAULT_RETRIES),
                start_period_ms: ms(
                    start_period.or(ns("StartPeriod")),
                    std::time::Duration::ZERO,
                ),
                on_failure: *on_failure,
                startup: startup.clone(),
                log_destination: log_destination.clone(),
            }))
        }
    }
}

fn merged_labels(
    ic: &oci_spec::image::Config,
    opts: &CreateOptions,
) -> std::collections::BTreeMap<String, String> {
    let mut labels: std::collections::BTreeMap<String, String> = ic
        .labels()
        .clone()
        .unwrap_or_default()
        .into_iter()
        .collect();
    labels.extend(opts.labels.clone());
    labels
}

fn security_opts(opts: &CreateOptions) -> Vec<String> {
    let mut v = Vec::new();
    if opts.security.no_new_privileges {
        v.push("no-new-privileges".into());
    }
    if let Some(s) = &opts.security.seccomp {
        v.push(format!("seccomp={s}"));
    }
    v
}
