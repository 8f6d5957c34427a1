//! What a user asks of a new container, parsed and checked: the typed form of
//! `run`/`create` flags. Parsing lives here so every caller (CLI, kube, build) agrees.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// `--restart`: when the supervisor starts the container again after it exits.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestartPolicy {
    /// "no", "on-failure", "always" or "unless-stopped" (podman's spelling).
    #[serde(rename = "Name")]
    pub name: String,
    #[serde(rename = "MaximumRetryCount")]
    pub max_retries: u32,
}

impl RestartPolicy {
    pub fn parse(s: &str) -> Result<RestartPolicy> {
        let (name, count) = match s.split_once(':') {
            Some((n, c)) => (n, Some(c)),
            None => (s, None),
        };
        let bad = || {
            Error::InvalidArgument(format!(
                "invalid --restart {s:?}: use no, on-failure[:N], always or unless-stopped"
            ))
        };
        let max_retries = match (name, count) {
            ("no" | "always" | "unless-stopped", None) => 0,
            ("on-failure", None) => 0,
            ("on-failure", Some(c)) => c.parse().map_err(|_| bad())?,
            ("" | "no", _) if s.is_empty() => 0,
            _ => return Err(bad()),
        };
        Ok(RestartPolicy {
            name: if name.is_empty() {
                "no".into()
            } else {
                name.into()
            },
            max_retries,
        })
    }

    /// Whether an exit with `code` leads to another start, after `restarts` so far.
    /// A container its user stopped is never restarted.
    pub fn should_restart(&self, code: i32, restarts: u32, stopped_by_user: bool) -> bool {
        if stopped_by_user {
            return false;
        }
        match self.name.as_str() {
            "always" | "unless-stopped" => true,
            "on-failure" => code != 0 && (self.max_retries == 0 || restarts < self.max_retries),
            _ => false,
        }
    }
}

/// One `--ulimit name=soft[:hard]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ulimit {
    #[serde(rename = "Name")]
    pub name: String,
    #[serde(rename = "Soft")]
    pub soft: u64,
    #[serde(rename = "Hard")]
    pub hard: u64,
}

impl Ulimit {
    pub fn parse(s: &str) -> Result<Ulimit> {
        let bad = |why: &str| Error::InvalidArgument(format!("invalid --ulimit {s:?}: {why}"));
        let (name, values) = s
            .split_once('=')
            .ok_or_else(|| bad("want name=soft[:hard]"))?;
        if crate::sandbox::rlimits::resource_of(&format!("RLIMIT_{}", name.to_uppercase()))
            .is_none()
        {
            return Err(bad("unknown limit name"));
        }
        let num = |v: &str| -> Result<u64> {
            if v == "-1" || v == "unlimited" {
                return Ok(u64::MAX);
            }
            v.parse().map_err(|_| bad("limits must be numbers or -1"))
        };
        let (soft, hard) = match values.split_once(':') {
            Some((a, b)) => (num(a)?, num(b)?),
            None => (num(values)?, num(values)?),
        };
        if soft > hard {
            return Err(bad("soft limit is above the hard limit"));
        }
        Ok(Ulimit {
            name: name.to_lowercase(),
            soft,
            hard,
        })
    }
}

/// `--pid`, `--ipc`, `--uts`: a private namespace, the host's, or another container's.
/// Kept in records as podman spells it ("private", "host", "container:NAME").
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum NsMode {
    #[default]
    Private,
    Host,
    Container(String),
}

impl NsMode {
    pub fn parse(flag: &str, s: &str) -> Result<NsMode> {
        match s {
            "" | "private" => Ok(NsMode::Private),
            "host" => Ok(NsMode::Host),
            _ => match s.strip_prefix("container:") {
                Some(c) if !c.is_empty() => Ok(NsMode::Container(c.to_string())),
                _ => Err(Error::InvalidArgument(format!(
                    "invalid --{flag} {s:?}: use private, host or container:NAME"
                ))),
            },
        }
    }

    pub fn describe(&self) -> String {
        match self {
            NsMode::Private => "private".into(),
            NsMode::Host => "host".into(),
            NsMode::Container(c) => format!("container:{c}"),
        }
    }

    /// The container whose namespace is joined, if any.
    pub fn joined(&self) -> Option<&str> {
        match self {
            NsMode::Container(c) => Some(c),
            _ => None,
        }
    }
}

impl TryFrom<String> for NsMode {
    type Error = Error;
    fn try_from(s: String) -> Result<NsMode> {
        NsMode::parse("namespace", &s).map_err(|_| unknown_mode("namespace", &s))
    }
}

impl From<NsMode> for String {
    fn from(m: NsMode) -> String {
        m.describe()
    }
}

/// A mode a stored record names that this version does not know: refused, never
/// read as a default.
fn unknown_mode(kind: &str, s: &str) -> Error {
    Error::InvalidArgument(format!("unknown {kind} mode {s:?} in a container record"))
}

/// `--userns`. Kept in records as podman spells it ("", "host", "keep-id", "auto").
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum UsernsMode {
    /// Rootless: the user's subordinate ranges; root: no user namespace.
    #[default]
    Default,
    Host,
    KeepId,
    Auto,
}

impl UsernsMode {
    pub fn parse(s: &str) -> Result<UsernsMode> {
        match s {
            "" => Ok(UsernsMode::Default),
            "host" => Ok(UsernsMode::Host),
            "keep-id" => Ok(UsernsMode::KeepId),
            "auto" => Ok(UsernsMode::Auto),
            _ => Err(Error::InvalidArgument(format!(
                "invalid --userns {s:?}: use host, keep-id or auto"
            ))),
        }
    }

    pub fn describe(&self) -> &'static str {
        match self {
            UsernsMode::Default => "",
            UsernsMode::Host => "host",
            UsernsMode::KeepId => "keep-id",
            UsernsMode::Auto => "auto",
        }
    }
}

impl TryFrom<String> for UsernsMode {
    type Error = Error;
    fn try_from(s: String) -> Result<UsernsMode> {
        match s.as_str() {
            // How records written before the mode was typed spell them.
            "default" => Ok(UsernsMode::Default),
            "keepid" => Ok(UsernsMode::KeepId),
            _ => UsernsMode::parse(&s).map_err(|_| unknown_mode("user namespace", &s)),
        }
    }
}

impl From<UsernsMode> for String {
    fn from(m: UsernsMode) -> String {
        m.describe().to_string()
    }
}

/// `--network` as far as the runtime goes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum NetMode {
    /// A network namespace of its own with loopback only.
    #[default]
    Private,
    /// A network namespace connected to the outside by slirp4netns (the default when
    /// slirp4netns is installed), with published ports.
    Slirp(crate::network::slirp::SlirpOptions),
    /// A network namespace connected by pasta (`--network pasta`).
    Pasta,
    None,
    Host,
    Container(String),
    /// Bridge networks by name, the first giving the default route.
    Bridge(Vec<String>),
}

impl NetMode {
    pub fn parse(s: &str) -> Result<NetMode> {
        match s {
            "" | "default" if crate::network::slirp::available() => Ok(NetMode::Slirp(Default::default())),
            "" | "default" | "private" => Ok(NetMode::Private),
            "slirp4netns" if crate::network::slirp::available() => Ok(NetMode::Slirp(Default::default())),
            "slirp4netns" => Err(Error::InvalidArgument(
                "--network slirp4netns needs the slirp4netns program: install it (scripts/setup.sh does)".into(),
            )),
            "pasta" if crate::network::pasta::available() => Ok(NetMode::Pasta),
            "pasta" => Err(Error::InvalidArgument(
                "--network pasta needs the pasta program (package passt)".into(),
            )),
            "bridge" => Ok(NetMode::Bridge(vec![
                crate::network::definition::DEFAULT_NAME.into(),
            ])),
            "none" => Ok(NetMode::None),
            "host" => Ok(NetMode::Host),
            _ if s.starts_with("slirp4netns:") => {
                let opts = &s["slirp4netns:".len()..];
                NetMode::parse("slirp4netns")?;
                crate::network::slirp::SlirpOptions::parse(opts).map(NetMode::Slirp)
            }
            _ => match s.strip_prefix("container:") {
                Some(c) if !c.is_empty() => Ok(NetMode::Container(c.to_string())),
                None if crate::ids::valid_name(s) => Ok(NetMode::Bridge(vec![s.into()])),
                _ => Err(Error::InvalidArgument(format!(
                    "invalid --network {s:?}: use slirp4netns, pasta, bridge, a network's name, private, none, host or container:NAME"
                ))),
            },
        }
    }

    pub fn describe(&self) -> String {
        match self {
            NetMode::Private => "private".into(),
            NetMode::Slirp(_) => "slirp4netns".into(),
            NetMode::Pasta => "pasta".into(),
            NetMode::None => "none".into(),
            NetMode::Host => "host".into(),
            NetMode::Container(c) => format!("container:{c}"),
            NetMode::Bridge(_) => "bridge".into(),
        }
    }

    /// Several `--network` flags: each may name a bridge network; any other mode
    /// must come alone.
    pub fn parse_all(values: &[String]) -> Result<NetMode> {
        // slirp4netns's own options are comma-separated: such a value is one mode.
        if let [one] = values {
            if one.starts_with("slirp4netns:") {
                return NetMode::parse(one);
            }
        }
        let values: Vec<&str> = values
            .iter()
            .flat_map(|v| v.split(','))
            .filter(|v| !v.is_empty())
            .collect();
        match values.as_slice() {
            [] => NetMode::parse(""),
            [one] => NetMode::parse(one),
            many => {
                let mut names: Vec<String> = Vec::new();
                for v in many {
                    match NetMode::parse(v)? {
                        NetMode::Bridge(n) => {
                            for x in n {
                                if !names.contains(&x) {
                                    names.push(x);
                                }
                            }
                        }
                        other => {
                            return Err(Error::InvalidArgument(format!(
                                "--network {} cannot be combined with other networks",
                                other.describe()
                            )))
                        }
                    }
                }
                Ok(NetMode::Bridge(names))
            }
        }
    }
}

/// `--security-opt` values skiff understands.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityOpts {
    pub no_new_privileges: bool,
    /// None: the default profile; Some("unconfined"); Some(path to a JSON profile).
    pub seccomp: Option<String>,
}

impl SecurityOpts {
    pub fn parse(opts: &[String]) -> Result<SecurityOpts> {
        let mut out = SecurityOpts::default();
        for o in opts {
            let (k, v) = o
                .split_once(['=', ':'])
                .map(|(k, v)| (k, Some(v)))
                .unwrap_or((o.as_str(), None));
            match (k, v) {
                ("no-new-privileges", None | Some("true")) => out.no_new_privileges = true,
                ("no-new-privileges", Some("false")) => out.no_new_privileges = false,
                ("seccomp", Some(p)) if !p.is_empty() => out.seccomp = Some(p.to_string()),
                ("label", _) | ("apparmor", _) | ("mask", _) | ("unmask", _) => {
                    crate::log::warn(&format!("--security-opt {o}: not supported, ignored"))
                }
                _ => {
                    return Err(Error::InvalidArgument(format!(
                        "invalid --security-opt {o:?}: use no-new-privileges or seccomp=unconfined|FILE"
                    )))
                }
            }
        }
        Ok(out)
    }
}

/// A container's place in a pod.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PodPlace {
    /// The pod's id.
    pub id: String,
    /// On the pod's infra container, which holds the shared namespaces: what it runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub infra: Option<InfraProgram>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InfraProgram {
    /// skiff's built-in pause process: no image.
    Pause,
    /// A program from `--infra-image`.
    Image,
}

/// Everything `create` needs besides the image.
#[derive(Debug, Clone, Default)]
pub struct CreateOptions {
    pub image: String,
    /// The pod it joins, or the pod it is the infra of.
    pub pod: Option<PodPlace>,
    /// A directory shared as /dev/shm (a pod sharing its IPC namespace), instead of a
    /// tmpfs of its own.
    pub shm_dir: Option<std::path::PathBuf>,
    pub name: Option<String>,
    /// Replaces the image's CMD when not empty.
    pub command: Vec<String>,
    /// `--entrypoint`: Some("") clears the image's entrypoint.
    pub entrypoint: Option<Vec<String>>,
    pub env: Vec<String>,
    pub workdir: Option<String>,
    pub log: super::logconfig::LogConfig,
    /// Seconds the container may run before it is killed (`--timeout`); 0 for no limit.
    pub timeout: u32,
    /// Where the supervisor writes its pid (`--conmon-pidfile`).
    pub supervisor_pidfile: Option<std::path::PathBuf>,
    /// `--workdir` was typed by the user: it must exist in the image (podman's rule);
    /// otherwise a missing working directory is made at start.
    pub workdir_must_exist: bool,
    pub user: Option<String>,
    pub hostname: Option<String>,
    pub tty: bool,
    pub interactive: bool,
    pub init: bool,
    pub rm: bool,
    pub stop_signal: Option<String>,
    pub stop_timeout: Option<u32>,
    pub restart: RestartPolicy,
    pub read_only: bool,
    pub cap_add: Vec<String>,
    pub cap_drop: Vec<String>,
    pub security: SecurityOpts,
    pub privileged: bool,
    pub userns: UsernsMode,
    /// `--hostuser`: host accounts added to the container's /etc/passwd and group.
    pub hostusers: Vec<String>,
    pub pid: NsMode,
    pub ipc: NsMode,
    pub uts: NsMode,
    pub network: NetMode,
    /// `--network-alias`: more names on the (first) bridge network.
    pub network_aliases: Vec<String>,
    /// `--ip`: a fixed address on the bridge network.
    pub ip: Option<std::net::Ipv4Addr>,
    /// `-p`: what to publish, as typed.
    pub publish: Vec<String>,
    /// `-P`: publish every port the image EXPOSEs.
    pub publish_all: bool,
    /// `--add-host NAME:IP`, checked.
    pub add_hosts: Vec<(String, String)>,
    /// `--dns`, `--dns-search`, `--dns-option`: replace the host's when given.
    pub dns: Vec<String>,
    pub dns_search: Vec<String>,
    pub dns_options: Vec<String>,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub ulimits: Vec<Ulimit>,
    pub hooks_dirs: Vec<std::path::PathBuf>,
    /// `-v`, `--mount`, `--tmpfs`, in the order given.
    pub mounts: Vec<crate::volume::mounts::MountRequest>,
    /// `--read-only-tmpfs`: tmpfs on /run, /tmp and /var/tmp of a read-only container.
    pub read_only_tmpfs: bool,
    /// `--volumes-from NAME[:ro|rw]`.
    pub volumes_from: Vec<String>,
    /// `--secret`.
    pub secrets: Vec<crate::secret::SecretRequest>,
    /// `--memory`, `--cpus`, `--pids-limit`, … enforced through the container's cgroup.
    pub resources: crate::cgroups::Resources,
    /// `--cgroups`, `--cgroup-parent`.
    pub cgroups: crate::cgroups::Placement,
    /// `--oom-score-adj`.
    pub oom_score_adj: Option<i32>,
    /// `--health-*` (over the image's HEALTHCHECK), or `--no-healthcheck`.
    pub health: HealthRequest,
    /// The command line that made the container, for inspect.
    pub create_command: Vec<String>,
}

/// `KEY=VALUE` pairs from `--label`/`--annotation`; a bare key gets an empty value.
pub fn parse_key_values(flag: &str, items: &[String]) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for item in items {
        let (k, v) = item.split_once('=').unwrap_or((item.as_str(), ""));
        if k.is_empty() {
            return Err(Error::InvalidArgument(format!(
                "invalid --{flag} {item:?}: want KEY=VALUE"
            )));
        }
        out.insert(k.to_string(), v.to_string());
    }
    Ok(out)
}

/// Reads an `--env-file`: KEY=VALUE lines, comments and blank lines skipped; a bare KEY
/// takes the value from the caller's environment, as docker does.
pub fn read_env_file(path: &std::path::Path) -> Result<Vec<String>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::io(format!("reading env file {}", path.display()), e))?;
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(expand_env)
        .collect())
}

/// `KEY=VALUE` stays; a bare `KEY` takes the caller's value or is dropped if unset.
pub fn expand_env(item: &str) -> Option<String> {
    if item.contains('=') {
        return Some(item.to_string());
    }
    std::env::var(item).ok().map(|v| format!("{item}={v}"))
}

/// `--add-host NAME:IP` (IPv6 addresses keep their colons).
pub fn parse_add_host(s: &str) -> Result<(String, String)> {
    let bad = || Error::InvalidArgument(format!("invalid --add-host {s:?}: want NAME:IP"));
    let (name, ip) = s.split_once(':').ok_or_else(bad)?;
    let ip = ip.trim_start_matches('[').trim_end_matches(']');
    if name.is_empty() || ip.parse::<std::net::IpAddr>().is_err() {
        return Err(bad());
    }
    Ok((name.to_string(), ip.to_string()))
}

/// `--dns IP`.
/// Every `--add-host`, checked.
pub fn parse_add_hosts(items: &[String]) -> Result<Vec<(String, String)>> {
    items.iter().map(|h| parse_add_host(h)).collect()
}

/// Every `--dns`, checked.
pub fn parse_dns_all(items: &[String]) -> Result<Vec<String>> {
    items.iter().map(|d| parse_dns(d)).collect()
}

pub fn parse_dns(s: &str) -> Result<String> {
    s.parse::<std::net::IpAddr>()
        .map(|_| s.to_string())
        .map_err(|_| Error::InvalidArgument(format!("invalid --dns {s:?}: want an IP address")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restart_policies() {
        let p = RestartPolicy::parse("on-failure:3").unwrap();
        assert_eq!(p.max_retries, 3);
        assert!(p.should_restart(1, 2, false));
        assert!(!p.should_restart(1, 3, false));
        assert!(!p.should_restart(0, 0, false));
        assert!(RestartPolicy::parse("always")
            .unwrap()
            .should_restart(0, 100, false));
        assert!(!RestartPolicy::parse("always")
            .unwrap()
            .should_restart(0, 0, true));
        assert!(RestartPolicy::parse("sometimes").is_err());
        assert!(RestartPolicy::parse("always:2").is_err());
    }

    #[test]
    fn ulimits() {
        let u = Ulimit::parse("nofile=1024:2048").unwrap();
        assert_eq!((u.soft, u.hard), (1024, 2048));
        assert!(Ulimit::parse("nofile=9:1").is_err());
        assert!(Ulimit::parse("bogus=1").is_err());
        assert_eq!(Ulimit::parse("core=-1").unwrap().hard, u64::MAX);
    }

    #[test]
    fn namespace_modes() {
        assert_eq!(
            NsMode::parse("pid", "container:web").unwrap(),
            NsMode::Container("web".into())
        );
        assert!(NsMode::parse("pid", "container:").is_err());
        assert!(NsMode::parse("pid", "elsewhere").is_err());
    }
}

/// What `run` says about the health check.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
// Made once per create and read once: its size does not matter.
#[allow(clippy::large_enum_variant)]
pub enum HealthRequest {
    /// The image's HEALTHCHECK, if any.
    #[default]
    FromImage,
    /// `--no-healthcheck`.
    Disabled,
    /// `--health-cmd` and its options; unset options come from the image, then the
    /// defaults.
    Given {
        test: Option<crate::container::health::HealthTest>,
        interval: Option<std::time::Duration>,
        timeout: Option<std::time::Duration>,
        retries: Option<u32>,
        start_period: Option<std::time::Duration>,
        on_failure: crate::container::health::OnFailure,
        /// `--health-startup-*`, complete with defaults.
        startup: Option<crate::container::health::StartupCheck>,
        log_destination: crate::container::health::LogDestination,
    },
}
