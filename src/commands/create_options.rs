//! `run`/`create` flags to the library's typed `CreateOptions`: every parse and check
//! of a flag's value happens here, once.

use super::attach;
use crate::cli_container::RunArgs;
use anyhow::{bail, Context, Result};
use libruntime::container::logconfig::LogConfig;
use libruntime::container::options::*;

impl TryFrom<&RunArgs> for CreateOptions {
    type Error = anyhow::Error;

    /// The typed create request from `run`/`create` flags. The command line that made
    /// the container (`create_command`) is the caller's to fill in.
    fn try_from(a: &RunArgs) -> Result<CreateOptions> {
        let mut env = Vec::new();
        for f in &a.env_file {
            env.extend(read_env_file(f)?);
        }
        env.extend(a.env.iter().filter_map(|e| expand_env(e)));
        let entrypoint = match &a.entrypoint {
            None => None,
            Some(e) if e.trim_start().starts_with('[') => {
                Some(serde_json::from_str::<Vec<String>>(e).with_context(|| {
                    format!("invalid --entrypoint {e:?}: not a JSON array of strings")
                })?)
            }
            Some(e) => Some(vec![e.clone()]),
        };
        if let Some(k) = &a.detach_keys {
            attach::parse_detach_keys(k)?;
        }
        Ok(CreateOptions {
            image: a.image.clone(),
            // `--pod` is resolved against the store by the caller (`pod::join`).
            pod: None,
            shm_dir: None,
            name: a.name.clone(),
            command: a.command.clone(),
            entrypoint,
            env,
            workdir: a.workdir.clone(),
            workdir_must_exist: a.workdir.is_some(),
            log: LogConfig::parse(a.log_driver.as_deref(), &a.log_opt)?,
            timeout: a.timeout,
            supervisor_pidfile: a.conmon_pidfile.as_ref().map(absolute).transpose()?,
            user: a.user.clone(),
            hostname: a.hostname.clone(),
            tty: a.tty,
            interactive: a.interactive,
            init: a.init,
            rm: a.rm,
            stop_signal: a.stop_signal.clone(),
            stop_timeout: a.stop_timeout,
            restart: RestartPolicy::parse(&a.restart)?,
            read_only: a.read_only,
            cap_add: a.cap_add.clone(),
            cap_drop: a.cap_drop.clone(),
            security: SecurityOpts::parse(&a.security_opt)?,
            privileged: a.privileged,
            userns: UsernsMode::parse(&a.userns)?,
            hostusers: a.hostuser.clone(),
            pid: NsMode::parse("pid", &a.pid)?,
            ipc: NsMode::parse("ipc", &a.ipc)?,
            uts: NsMode::parse("uts", &a.uts)?,
            network: NetMode::parse_all(&a.network)?,
            network_aliases: a.network_alias.clone(),
            ip: a
                .ip
                .as_deref()
                .map(|ip| {
                    ip.parse()
                        .with_context(|| format!("invalid --ip {ip:?}: want an IPv4 address"))
                })
                .transpose()?,
            publish: a.publish.clone(),
            publish_all: a.publish_all,
            add_hosts: parse_add_hosts(&a.add_host)?,
            dns: parse_dns_all(&a.dns)?,
            dns_search: a.dns_search.clone(),
            dns_options: a.dns_option.clone(),
            labels: parse_key_values("label", &a.label)?,
            annotations: parse_key_values("annotation", &a.annotation)?,
            ulimits: a
                .ulimit
                .iter()
                .map(|u| Ulimit::parse(u))
                .collect::<libruntime::Result<_>>()?,
            hooks_dirs: a.hooks_dir.clone(),
            mounts: mount_requests(a)?,
            read_only_tmpfs: a.read_only_tmpfs,
            volumes_from: a.volumes_from.clone(),
            resources: resources_of(&a.resources)?,
            cgroups: libruntime::cgroups::Placement {
                mode: libruntime::cgroups::CgroupsMode::parse(&a.cgroups)?,
                parent: cgroup_parent(a.cgroup_parent.as_deref())?,
            },
            health: health_of(&a.health)?,
            oom_score_adj: a.oom_score_adj,
            secrets: a
                .secret
                .iter()
                .map(|s| libruntime::secret::SecretRequest::parse(s))
                .collect::<libruntime::Result<_>>()?,
            create_command: Vec::new(),
        })
    }
}

/// `--cgroup-parent`: a path that cannot climb out of where it is put.
fn cgroup_parent(p: Option<&std::path::Path>) -> Result<Option<std::path::PathBuf>> {
    let Some(p) = p else { return Ok(None) };
    let climbs = p
        .components()
        .any(|c| matches!(c, std::path::Component::ParentDir));
    if climbs || p.as_os_str().is_empty() {
        bail!(
            "invalid --cgroup-parent {:?}: want a cgroup path without ..",
            p.display().to_string()
        );
    }
    Ok(Some(p.to_path_buf()))
}

/// A path given on the command line, made absolute against the working directory:
/// the supervisor that uses it runs elsewhere.
fn absolute(p: &std::path::PathBuf) -> Result<std::path::PathBuf> {
    Ok(std::env::current_dir()
        .context("reading the working directory")?
        .join(p))
}

/// `--tz`: the zone file bound read-only at /etc/localtime.
fn timezone_mount(tz: &str) -> Result<String> {
    let source = if tz == "local" {
        std::fs::canonicalize("/etc/localtime")
            .context("finding the local time zone: /etc/localtime")?
    } else {
        let file = std::path::Path::new("/usr/share/zoneinfo").join(tz);
        if tz.split('/').any(|c| c == ".." || c.is_empty()) || !file.is_file() {
            bail!("finding timezone: unknown time zone {tz}");
        }
        file
    };
    Ok(format!("{}:/etc/localtime:ro", source.display()))
}

fn mount_requests(a: &RunArgs) -> Result<Vec<libruntime::volume::mounts::MountRequest>> {
    use libruntime::volume::mounts::{parse_mount, parse_tmpfs, parse_volume};
    let mut out = Vec::new();
    if let Some(tz) = &a.tz {
        out.push(parse_volume(&timezone_mount(tz)?)?);
    }
    for v in &a.volume {
        out.push(parse_volume(v)?);
    }
    for m in &a.mount {
        out.push(parse_mount(m)?);
    }
    for t in &a.tmpfs {
        out.push(parse_tmpfs(t)?);
    }
    Ok(out)
}

/// The limits the flags ask for; bad values are one-line errors naming the flag.
pub(crate) fn resources_of(
    f: &crate::cli_container::ResourceFlags,
) -> Result<libruntime::cgroups::Resources> {
    let size = |flag: &str, v: &Option<String>| -> Result<Option<u64>> {
        v.as_deref()
            .map(|s| {
                libruntime::time::parse_size(s)
                    .filter(|n| *n > 0)
                    .with_context(|| format!("invalid --{flag} {s:?}: want a size such as 64m"))
            })
            .transpose()
    };
    let mut r = libruntime::cgroups::Resources {
        memory: size("memory", &f.memory)?,
        memory_reservation: size("memory-reservation", &f.memory_reservation)?,
        memory_swap: match f.memory_swap.as_deref() {
            None => None,
            Some("-1") => Some(-1),
            Some(s) => Some(size("memory-swap", &Some(s.to_string()))?.unwrap_or(0) as i64),
        },
        cpu_quota: f.cpu_quota,
        cpu_period: f.cpu_period,
        cpu_shares: f.cpu_shares,
        cpuset_cpus: f.cpuset_cpus.clone(),
        cpuset_mems: f.cpuset_mems.clone(),
        pids_limit: f.pids_limit,
        blkio_weight: f.blkio_weight,
        device_read_bps: f
            .device_read_bps
            .iter()
            .map(|d| libruntime::cgroups::DeviceRate::parse("device-read-bps", d))
            .collect::<libruntime::Result<_>>()?,
        device_write_bps: f
            .device_write_bps
            .iter()
            .map(|d| libruntime::cgroups::DeviceRate::parse("device-write-bps", d))
            .collect::<libruntime::Result<_>>()?,
    };
    if let Some(c) = f.cpus {
        if f.cpu_quota.is_some() || f.cpu_period.is_some() {
            bail!("--cpus and --cpu-quota/--cpu-period cannot be set together");
        }
        if c.is_nan() || c <= 0.0 {
            bail!("invalid --cpus {c}: want a number above 0");
        }
        r.set_cpus(c);
    }
    if let (Some(s), Some(m)) = (r.memory_swap, r.memory) {
        if s >= 0 && (s as u64) < m {
            bail!("--memory-swap must be larger than --memory");
        }
    }
    if r.memory_swap.is_some() && r.memory.is_none() {
        bail!("--memory-swap needs --memory");
    }
    if let Some(w) = r.blkio_weight {
        if !(10..=1000).contains(&w) {
            bail!("invalid --blkio-weight {w}: want 10 to 1000");
        }
    }
    Ok(r)
}

/// `--health-*` as the library takes it.
fn health_of(f: &crate::cli_container::HealthFlags) -> Result<HealthRequest> {
    use libruntime::container::health::{self as h, HealthTest, OnFailure, StartupCheck};
    let given = f.health_cmd.is_some()
        || f.health_probe.is_some()
        || f.health_interval.is_some()
        || f.health_timeout.is_some()
        || f.health_retries.is_some()
        || f.health_start_period.is_some()
        || f.health_on_failure.is_some()
        || f.health_log_destination.is_some();
    let startup_given = f.health_startup_cmd.is_some()
        || f.health_startup_interval.is_some()
        || f.health_startup_retries.is_some()
        || f.health_startup_success.is_some()
        || f.health_startup_timeout.is_some();
    if f.no_healthcheck {
        if given || startup_given {
            bail!("--no-healthcheck and --health-* options conflict");
        }
        return Ok(HealthRequest::Disabled);
    }
    if !given && !startup_given {
        return Ok(HealthRequest::FromImage);
    }
    let duration = |flag: &str, v: &Option<String>| -> Result<Option<std::time::Duration>> {
        v.as_deref()
            .map(|s| {
                libruntime::time::parse_go_duration(s)
                    .and_then(|d| d.to_std().ok())
                    .with_context(|| format!("invalid --{flag} {s:?}: want a duration such as 30s"))
            })
            .transpose()
    };
    let test = match (f.health_cmd.as_deref(), f.health_probe.as_deref()) {
        (Some(_), Some(_)) => bail!("--health-cmd and --health-probe conflict: give one check"),
        (None, Some(p)) => Some(HealthTest::Net(libruntime::probe::NetProbe::parse(p)?)),
        (Some("none"), None) => return Ok(HealthRequest::Disabled),
        (Some(c), None) => Some(command_test("health-cmd", c)?),
        (None, None) => None,
    };
    let interval = duration("health-interval", &f.health_interval)?;
    if interval.is_some_and(|d| d < std::time::Duration::from_secs(1)) {
        bail!("invalid --health-interval: it must be at least 1s");
    }
    let startup = if startup_given {
        let Some(cmd) = f.health_startup_cmd.as_deref() else {
            bail!("--health-startup-* options need --health-startup-cmd");
        };
        let ms = |d: Option<std::time::Duration>, default| d.unwrap_or(default).as_millis() as u64;
        let interval = duration("health-startup-interval", &f.health_startup_interval)?;
        if interval.is_some_and(|d| d < std::time::Duration::from_secs(1)) {
            bail!("invalid --health-startup-interval: it must be at least 1s");
        }
        Some(StartupCheck {
            test: command_test("health-startup-cmd", cmd)?,
            interval_ms: ms(interval, h::DEFAULT_INTERVAL),
            timeout_ms: ms(
                duration("health-startup-timeout", &f.health_startup_timeout)?,
                h::DEFAULT_TIMEOUT,
            ),
            retries: f.health_startup_retries.unwrap_or(0),
            successes: f.health_startup_success.unwrap_or(0).max(1),
        })
    } else {
        None
    };
    Ok(HealthRequest::Given {
        test,
        interval,
        timeout: duration("health-timeout", &f.health_timeout)?,
        retries: f.health_retries,
        start_period: duration("health-start-period", &f.health_start_period)?,
        on_failure: f
            .health_on_failure
            .as_deref()
            .map(|s| s.parse::<OnFailure>())
            .transpose()?
            .unwrap_or_default(),
        startup,
        log_destination: f
            .health_log_destination
            .as_deref()
            .map(|s| s.parse())
            .transpose()?
            .unwrap_or_default(),
    })
}

/// A command check: a line for the container's shell, or a JSON array (["CMD", …]).
fn command_test(flag: &str, c: &str) -> Result<libruntime::container::health::HealthTest> {
    use libruntime::container::health::HealthTest;
    if !c.trim_start().starts_with('[') {
        return Ok(HealthTest::Shell(c.to_string()));
    }
    let v: Vec<String> = serde_json::from_str(c)
        .with_context(|| format!("invalid --{flag} {c:?}: not a JSON array of strings"))?;
    match v.first().map(String::as_str) {
        Some("CMD" | "CMD-SHELL" | "PROBE") => {
            HealthTest::from_podman_form(&v)?.with_context(|| format!("invalid --{flag} {c:?}"))
        }
        Some("NONE") => bail!("invalid --{flag} {c:?}: use --no-healthcheck to disable checks"),
        Some(_) => Ok(HealthTest::Exec(v)),
        None => bail!("invalid --{flag} {c:?}: empty"),
    }
}
