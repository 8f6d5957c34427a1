//! `POST /containers/create`: docker's Config and HostConfig, typed, turned into the
//! same `RunArgs` the `create` command fills from its flags, so a container made
//! through the API is made by exactly the code the CLI runs.

use crate::cli_container::RunArgs;
use clap::Parser;
use serde::Deserialize;
use std::collections::BTreeMap;

/// A command as docker's JSON gives it: a list, or a string (run by the shell).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Command {
    List(Vec<String>),
    Text(String),
}

impl Command {
    fn into_list(self) -> Vec<String> {
        match self {
            Command::List(l) => l,
            Command::Text(t) if t.is_empty() => Vec::new(),
            Command::Text(t) => vec!["/bin/sh".into(), "-c".into(), t],
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Healthcheck {
    pub test: Vec<String>,
    /// Nanoseconds, as Go's time.Duration.
    pub interval: u64,
    pub timeout: u64,
    pub start_period: u64,
    pub retries: u32,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct PortBinding {
    pub host_ip: String,
    pub host_port: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct RestartPolicy {
    pub name: String,
    pub maximum_retry_count: u32,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Mount {
    #[serde(rename = "Type")]
    pub type_: String,
    pub source: String,
    pub target: String,
    pub read_only: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct LogConfig {
    #[serde(rename = "Type")]
    pub type_: String,
}

/// The limits HostConfig and `POST /containers/{id}/update` share.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Resources {
    pub memory: i64,
    pub nano_cpus: i64,
    pub cpu_shares: i64,
    pub cpu_quota: i64,
    pub cpu_period: i64,
    pub pids_limit: Option<i64>,
}

impl Resources {
    /// The CLI's flags for these limits; zero means unset, as in docker.
    pub fn flags(&self) -> crate::cli_container::ResourceFlags {
        let mut f = crate::cli_container::ResourceFlags::default();
        if self.memory > 0 {
            f.memory = Some(self.memory.to_string());
        }
        if self.nano_cpus > 0 {
            f.cpus = Some(self.nano_cpus as f64 / 1e9);
        }
        if self.cpu_quota > 0 {
            f.cpu_quota = Some(self.cpu_quota);
        }
        if self.cpu_period > 0 {
            f.cpu_period = Some(self.cpu_period as u64);
        }
        if self.cpu_shares > 0 {
            f.cpu_shares = Some(self.cpu_shares as u64);
        }
        f.pids_limit = self.pids_limit.filter(|p| *p > 0);
        f
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct HostConfig {
    pub binds: Option<Vec<String>>,
    pub port_bindings: Option<BTreeMap<String, Option<Vec<PortBinding>>>>,
    pub publish_all_ports: bool,
    pub network_mode: String,
    pub restart_policy: Option<RestartPolicy>,
    pub auto_remove: bool,
    pub cap_add: Option<Vec<String>>,
    pub cap_drop: Option<Vec<String>>,
    pub privileged: bool,
    pub readonly_rootfs: bool,
    pub extra_hosts: Option<Vec<String>>,
    pub dns: Option<Vec<String>>,
    pub dns_search: Option<Vec<String>>,
    pub init: Option<bool>,
    #[serde(flatten)]
    pub resources: Resources,
    pub tmpfs: Option<BTreeMap<String, String>>,
    pub mounts: Option<Vec<Mount>>,
    pub log_config: Option<LogConfig>,
    pub security_opt: Option<Vec<String>>,
    pub volumes_from: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Endpoint {
    pub aliases: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct NetworkingConfig {
    pub endpoints_config: Option<BTreeMap<String, Endpoint>>,
}

/// The create request's body: Config, with HostConfig and NetworkingConfig in it.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct CreateBody {
    pub hostname: String,
    pub user: String,
    pub env: Option<Vec<String>>,
    pub cmd: Option<Command>,
    pub entrypoint: Option<Command>,
    pub image: String,
    pub working_dir: String,
    pub labels: Option<BTreeMap<String, String>>,
    pub tty: bool,
    pub open_stdin: bool,
    pub stop_signal: String,
    pub stop_timeout: Option<u32>,
    pub healthcheck: Option<Healthcheck>,
    pub host_config: Option<HostConfig>,
    pub networking_config: Option<NetworkingConfig>,
}

/// `run`'s flags as clap leaves them when only the image is given.
#[derive(Parser)]
struct RunLine {
    #[command(flatten)]
    run: RunArgs,
}

fn millis(ns: u64) -> String {
    format!("{}ms", ns / 1_000_000)
}

/// The `-p` values of a PortBindings map: `[ip:][hostPort]:containerPort/proto`.
fn publish_values(bindings: &BTreeMap<String, Option<Vec<PortBinding>>>) -> Vec<String> {
    let mut out = Vec::new();
    for (port, list) in bindings {
        for b in list.iter().flatten() {
            let host = match (b.host_ip.as_str(), b.host_port.as_str()) {
                ("", hp) => hp.to_string(),
                (ip, hp) => format!("{ip}:{hp}"),
            };
            out.push(format!("{host}:{port}"));
        }
    }
    out
}

/// The RunArgs of a create request named `name`.
pub fn run_args(body: CreateBody, name: Option<String>) -> Result<RunArgs, String> {
    if body.image.is_empty() {
        return Err("config cannot be empty in order to create a container".into());
    }
    let mut a = RunLine::try_parse_from(["run", body.image.as_str()])
        .map_err(|e| e.to_string())?
        .run;
    a.name = name.filter(|n| !n.is_empty());
    a.env = body.env.unwrap_or_default();
    a.command = body.cmd.map(Command::into_list).unwrap_or_default();
    if let Some(e) = body.entrypoint {
        let list = e.into_list();
        a.entrypoint = Some(if list.is_empty() {
            String::new()
        } else {
            serde_json::to_string(&list).map_err(|e| e.to_string())?
        });
    }
    a.user = Some(body.user).filter(|u| !u.is_empty());
    a.hostname = Some(body.hostname).filter(|h| !h.is_empty());
    a.workdir = Some(body.working_dir).filter(|w| !w.is_empty());
    a.label = body
        .labels
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    a.tty = body.tty;
    a.interactive = body.open_stdin;
    a.stop_signal = Some(body.stop_signal).filter(|s| !s.is_empty());
    a.stop_timeout = body.stop_timeout;
    if let Some(h) = body.healthcheck {
        match h.test.first().map(String::as_str) {
            Some("NONE") => a.health.no_healthcheck = true,
            Some("CMD-SHELL") => a.health.health_cmd = h.test.get(1).cloned(),
            Some("CMD") => {
                a.health.health_cmd = Some(serde_json::to_string(&h.test[1..]).unwrap_or_default())
            }
            _ => {}
        }
        if h.interval > 0 {
            a.health.health_interval = Some(millis(h.interval));
        }
        if h.timeout > 0 {
            a.health.health_timeout = Some(millis(h.timeout));
        }
        if h.start_period > 0 {
            a.health.health_start_period = Some(millis(h.start_period));
        }
        if h.retries > 0 {
            a.health.health_retries = Some(h.retries);
        }
    }
    let hc = body.host_config.unwrap_or_default();
    a.volume = hc.binds.unwrap_or_default();
    a.publish = publish_values(&hc.port_bindings.unwrap_or_default());
    a.publish_all = hc.publish_all_ports;
    match hc.network_mode.as_str() {
        // docker's default bridge is skiff's default network.
        "" | "default" | "bridge" => {}
        mode => a.network = vec![mode.to_string()],
    }
    for (net, ep) in hc_endpoints(body.networking_config) {
        if a.network.is_empty() && !matches!(net.as_str(), "bridge" | "default") {
            a.network = vec![net.clone()];
        }
        a.network_alias.extend(ep.aliases.unwrap_or_default());
    }
    if let Some(r) = hc.restart_policy.filter(|r| !r.name.is_empty()) {
        a.restart = match (r.name.as_str(), r.maximum_retry_count) {
            ("on-failure", n) if n > 0 => format!("on-failure:{n}"),
            (name, _) => name.to_string(),
        };
    }
    a.rm = hc.auto_remove;
    a.cap_add = hc.cap_add.unwrap_or_default();
    a.cap_drop = hc.cap_drop.unwrap_or_default();
    a.privileged = hc.privileged;
    a.read_only = hc.readonly_rootfs;
    a.add_host = hc.extra_hosts.unwrap_or_default();
    a.dns = hc.dns.unwrap_or_default();
    a.dns_search = hc.dns_search.unwrap_or_default();
    a.init = hc.init.unwrap_or(false);
    a.resources = hc.resources.flags();
    a.tmpfs = hc
        .tmpfs
        .unwrap_or_default()
        .into_iter()
        .map(|(path, opts)| {
            if opts.is_empty() {
                path
            } else {
                format!("{path}:{opts}")
            }
        })
        .collect();
    a.mount = hc
        .mounts
        .unwrap_or_default()
        .into_iter()
        .map(|m| {
            let mut s = format!("type={},target={}", m.type_, m.target);
            if !m.source.is_empty() {
                s.push_str(&format!(",source={}", m.source));
            }
            if m.read_only {
                s.push_str(",readonly");
            }
            s
        })
        .collect();
    if let Some(l) = hc.log_config {
        // docker's default driver is json-file; skiff's k8s-file serves the same.
        a.log_driver = match l.type_.as_str() {
            "" | "json-file" | "local" => None,
            other => Some(other.to_string()),
        };
    }
    a.security_opt = hc.security_opt.unwrap_or_default();
    a.volumes_from = hc.volumes_from.unwrap_or_default();
    Ok(a)
}

fn hc_endpoints(n: Option<NetworkingConfig>) -> BTreeMap<String, Endpoint> {
    n.and_then(|n| n.endpoints_config).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_create_body_becomes_run_flags() {
        let body: CreateBody = serde_json::from_value(serde_json::json!({
            "Image": "busybox",
            "Cmd": ["echo", "hi"],
            "Entrypoint": "",
            "Env": ["A=1"],
            "Labels": {"app": "web"},
            "Tty": false,
            "OpenStdin": true,
            "Healthcheck": {"Test": ["CMD-SHELL", "true"], "Interval": 2000000000u64},
            "HostConfig": {
                "Binds": ["/tmp:/data:ro"],
                "PortBindings": {"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}], "53/udp": [{"HostPort": "5353"}]},
                "NetworkMode": "bridge",
                "RestartPolicy": {"Name": "on-failure", "MaximumRetryCount": 3},
                "AutoRemove": true,
                "Memory": 67108864,
                "NanoCpus": 1500000000,
                "Tmpfs": {"/run": "size=1m"},
                "Mounts": [{"Type": "volume", "Source": "data", "Target": "/var/data"}]
            },
            "NetworkingConfig": {"EndpointsConfig": {"backend": {"Aliases": ["db"]}}}
        }))
        .unwrap();
        let a = run_args(body, Some("web".into())).unwrap();
        assert_eq!(a.image, "busybox");
        assert_eq!(a.name.as_deref(), Some("web"));
        assert_eq!(a.command, vec!["echo", "hi"]);
        assert_eq!(a.entrypoint.as_deref(), Some(""));
        assert_eq!(a.env, vec!["A=1"]);
        assert_eq!(a.label, vec!["app=web"]);
        assert!(a.interactive && !a.tty && a.rm);
        assert_eq!(a.health.health_cmd.as_deref(), Some("true"));
        assert_eq!(a.health.health_interval.as_deref(), Some("2000ms"));
        assert_eq!(a.volume, vec!["/tmp:/data:ro"]);
        assert_eq!(a.publish, vec!["5353:53/udp", "127.0.0.1:8080:80/tcp"]);
        assert_eq!(a.network, vec!["backend"]);
        assert_eq!(a.network_alias, vec!["db"]);
        assert_eq!(a.restart, "on-failure:3");
        assert_eq!(a.resources.memory.as_deref(), Some("67108864"));
        assert_eq!(a.resources.cpus, Some(1.5));
        assert_eq!(a.tmpfs, vec!["/run:size=1m"]);
        assert_eq!(a.mount, vec!["type=volume,target=/var/data,source=data"]);
        assert!(run_args(CreateBody::default(), None).is_err());
    }
}
