//! Container records. Each container lives in `containers/<id>/` with its record in
//! `container.json` and its OCI bundle (`config.json`) beside it; the record names the
//! image it was made from, which is what keeps that image from being removed.

use super::options::{NetMode, NsMode, RestartPolicy, Ulimit, UsernsMode};
use crate::container::ContainerError;
use crate::error::{Error, Result};
use crate::fsutil;
pub use crate::network::mode::NetworkMode;
pub use crate::network::ports::PortMapping;
use crate::paths::Paths;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ContainerRecord {
    pub id: String,
    pub name: String,
    pub image_id: String,
    #[serde(default)]
    pub image_name: String,
    #[serde(default)]
    pub created: String,
    /// Diff ids of the image's layers, bottom first: the rootfs lower directories.
    #[serde(default)]
    pub layers: Vec<String>,
    #[serde(default)]
    pub driver: String,
    #[serde(default)]
    pub config: RunConfig,
}

/// The parts of the create request that later commands need (restart, ps, inspect).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RunConfig {
    pub entrypoint: Vec<String>,
    pub cmd: Vec<String>,
    pub env: Vec<String>,
    pub user: String,
    pub workdir: String,
    /// Starting fails (126) when the working directory is missing, instead of making it.
    #[serde(default)]
    pub workdir_must_exist: bool,
    pub hostname: String,
    pub tty: bool,
    pub stdin: bool,
    pub init: bool,
    pub auto_remove: bool,
    pub restart: RestartPolicy,
    pub stop_signal: i32,
    pub stop_timeout: u32,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub read_only: bool,
    pub privileged: bool,
    pub cap_add: Vec<String>,
    pub cap_drop: Vec<String>,
    pub security_opt: Vec<String>,
    pub ulimits: Vec<Ulimit>,
    pub userns: UsernsMode,
    pub pid: NsMode,
    pub ipc: NsMode,
    pub uts: NsMode,
    pub network: NetworkMode,
    /// `--network slirp4netns:…` options (network mode "slirp4netns").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slirp: Option<crate::network::slirp::SlirpOptions>,
    pub create_command: Vec<String>,
    /// Bridge networks, with aliases and fixed addresses (network mode "bridge").
    #[serde(default)]
    pub networks: Vec<crate::network::attach::NetworkRequest>,
    /// Host ports published (filled in by networking).
    #[serde(default)]
    pub ports: Vec<PortMapping>,
    /// Bind, volume and tmpfs mounts, in mount order.
    #[serde(default)]
    pub mounts: Vec<MountRecord>,
    /// Names of the volumes the container uses (which keeps them from removal).
    #[serde(default)]
    pub volumes: Vec<String>,
    /// Its health check, if it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<crate::container::health::HealthConfig>,
    /// Limits its cgroup enforces.
    #[serde(default, skip_serializing_if = "crate::cgroups::Resources::is_empty")]
    pub resources: crate::cgroups::Resources,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oom_score_adj: Option<i32>,
    /// The pod it belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod: Option<super::options::PodPlace>,
    /// `--cgroups` and `--cgroup-parent`.
    #[serde(default, skip_serializing_if = "crate::cgroups::Placement::is_default")]
    pub cgroups: crate::cgroups::Placement,
    /// The secrets it gets at start (ids and targets, never values).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secrets: Vec<crate::secret::SecretUse>,
    #[serde(default)]
    pub log: super::logconfig::LogConfig,
    /// `--timeout`: seconds the container may run before it is killed; 0 for no limit.
    #[serde(default)]
    pub timeout: u32,
    /// `--conmon-pidfile`: where the supervisor writes its pid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supervisor_pidfile: Option<PathBuf>,
}

impl From<&NetMode> for NetworkMode {
    fn from(m: &NetMode) -> NetworkMode {
        match m {
            NetMode::Private => NetworkMode::Private,
            NetMode::Slirp(_) => NetworkMode::Slirp4netns,
            NetMode::Pasta => NetworkMode::Pasta,
            NetMode::None => NetworkMode::None,
            NetMode::Host => NetworkMode::Host,
            NetMode::Container(c) => NetworkMode::Container(c.clone()),
            NetMode::Bridge(_) => NetworkMode::Bridge,
        }
    }
}

/// One mount as `inspect` shows it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct MountRecord {
    #[serde(rename = "Type")]
    pub kind: String,
    #[serde(rename = "Name", default)]
    pub name: String,
    #[serde(rename = "Source")]
    pub source: String,
    #[serde(rename = "Destination")]
    pub destination: String,
    #[serde(rename = "RW")]
    pub rw: bool,
    #[serde(rename = "Options", default)]
    pub options: Vec<String>,
}

/// Changes container `id`'s record under the store lock: it is read afresh (another
/// command may have changed it since the caller looked), `change` applies, and it is
/// written back atomically only if `change` succeeded. Every change of a record after
/// create goes through here.
pub fn update<T>(
    paths: &Paths,
    id: &str,
    change: impl FnOnce(&mut ContainerRecord) -> Result<T>,
) -> Result<T> {
    let _lock = crate::lock::StoreLock::exclusive(&paths.lock_file())?;
    let dirs = ContainerDirs::new(paths, id);
    let mut record: ContainerRecord = fsutil::read_json(&dirs.record())?
        .ok_or_else(|| Error::Container(ContainerError::NotFound(id.to_string())))?;
    let out = change(&mut record)?;
    fsutil::write_json(&dirs.record(), &record)?;
    Ok(out)
}

impl ContainerRecord {
    /// An event about this container, with its name, image and labels as podman gives
    /// them.
    pub fn event(&self, status: crate::events::EventStatus) -> crate::events::Event {
        let mut e = crate::events::Event::new(crate::events::EventType::Container, status)
            .id(&self.id)
            .name(&self.name)
            .image(&self.image_name);
        for (k, v) in &self.config.labels {
            e.attributes.insert(k.clone(), v.clone());
        }
        e
    }

    /// The pod it belongs to, if any.
    pub fn pod_id(&self) -> Option<&str> {
        self.config.pod.as_ref().map(|p| p.id.as_str())
    }

    /// Whether it is a pod's infra container.
    pub fn is_infra(&self) -> bool {
        self.config.pod.as_ref().is_some_and(|p| p.infra.is_some())
    }

    /// Whether it runs the built-in pause process rather than a program of its own.
    pub fn runs_pause(&self) -> bool {
        self.config.pod.as_ref().and_then(|p| p.infra) == Some(super::options::InfraProgram::Pause)
    }

    pub fn short_id(&self) -> &str {
        &self.id[..12]
    }

    /// The full command: entrypoint then cmd.
    pub fn command(&self) -> Vec<String> {
        let mut c = self.config.entrypoint.clone();
        c.extend(self.config.cmd.iter().cloned());
        c
    }
}

/// Where one container's files are.
#[derive(Debug, Clone)]
pub struct ContainerDirs {
    /// `containers/<id>` in the storage root: record, bundle, upper dir, log.
    pub dir: PathBuf,
    /// `c/<short id>` in the runtime root: state, attach socket, markers. Short so that
    /// the socket path stays under the 108-byte limit of sun_path.
    pub run: PathBuf,
}

impl ContainerDirs {
    pub fn new(paths: &Paths, id: &str) -> ContainerDirs {
        ContainerDirs {
            dir: paths.containers_dir().join(id),
            run: paths.runroot.join("c").join(&id[..12.min(id.len())]),
        }
    }
    pub fn record(&self) -> PathBuf {
        self.dir.join("container.json")
    }
    pub fn spec(&self) -> PathBuf {
        self.dir.join("config.json")
    }
    pub fn upper(&self) -> PathBuf {
        self.dir.join("upper")
    }
    pub fn work(&self) -> PathBuf {
        self.dir.join("work")
    }
    pub fn merged(&self) -> PathBuf {
        self.dir.join("merged")
    }
    pub fn userdata(&self) -> PathBuf {
        self.dir.join("userdata")
    }
    pub fn log(&self) -> PathBuf {
        self.dir.join("ctr.log")
    }
    pub fn state(&self) -> PathBuf {
        self.run.join("state.json")
    }
    pub fn socket(&self) -> PathBuf {
        self.run.join("attach")
    }
    /// Present while the user wants the container stopped: no restart.
    pub fn stop_marker(&self) -> PathBuf {
        self.run.join("stopped")
    }
    /// Present while `stop` waits for the container to end (ps shows "Stopping").
    pub fn stopping_marker(&self) -> PathBuf {
        self.run.join("stopping")
    }
}

/// Every container record that can be read; unreadable (half-written) ones are skipped.
pub fn list(paths: &Paths) -> Result<Vec<ContainerRecord>> {
    let Ok(entries) = std::fs::read_dir(paths.containers_dir()) else {
        return Ok(vec![]);
    };
    let mut out = Vec::new();
    for e in entries.flatten() {
        if let Ok(Some(rec)) =
            fsutil::read_json::<ContainerRecord>(&e.path().join("container.json"))
        {
            out.push(rec);
        }
    }
    out.sort_by(|a, b| b.created.cmp(&a.created));
    Ok(out)
}

/// A container by full name, full id or unique id prefix, as podman resolves them.
pub fn find(paths: &Paths, what: &str) -> Result<ContainerRecord> {
    let all = list(paths)?;
    if let Some(c) = all.iter().find(|c| c.name == what || c.id == what) {
        return Ok(c.clone());
    }
    let is_hex = !what.is_empty() && what.chars().all(|c| c.is_ascii_hexdigit());
    let matches: Vec<_> = if is_hex {
        all.iter().filter(|c| c.id.starts_with(what)).collect()
    } else {
        vec![]
    };
    match matches.len() {
        1 => Ok(matches[0].clone()),
        0 => Err(Error::Container(ContainerError::NotFound(what.to_string()))),
        _ => Err(Error::InvalidArgument(format!(
            "more than one container matches {what:?}: give more of the id"
        ))),
    }
}

/// The first container that uses image `image_id`, if any.
pub fn user_of_image(paths: &Paths, image_id: &str) -> Result<Option<ContainerRecord>> {
    Ok(list(paths)?.into_iter().find(|c| c.image_id == image_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The modes of a record as earlier versions wrote them, and as this one does.
    fn config_json(network: &str, userns: &str, pid: &str) -> String {
        let mut v = serde_json::to_value(RunConfig::default()).unwrap();
        v["network"] = network.into();
        v["userns"] = userns.into();
        v["pid"] = pid.into();
        v.to_string()
    }

    #[test]
    fn stored_modes_read_back_as_enums() {
        let table = [
            (
                "slirp4netns",
                "keepid",
                "host",
                NetworkMode::Slirp4netns,
                UsernsMode::KeepId,
                NsMode::Host,
            ),
            (
                "bridge",
                "default",
                "private",
                NetworkMode::Bridge,
                UsernsMode::Default,
                NsMode::Private,
            ),
            (
                "container:web",
                "keep-id",
                "container:db",
                NetworkMode::Container("web".into()),
                UsernsMode::KeepId,
                NsMode::Container("db".into()),
            ),
        ];
        for (net, userns, pid, want_net, want_userns, want_pid) in table {
            let c: RunConfig = serde_json::from_str(&config_json(net, userns, pid)).unwrap();
            assert_eq!(
                (c.network.clone(), c.userns.clone(), c.pid.clone()),
                (want_net, want_userns, want_pid)
            );
            // Written back in podman's spelling, and read again the same.
            let again: RunConfig =
                serde_json::from_str(&serde_json::to_string(&c).unwrap()).unwrap();
            assert_eq!(again.network, c.network);
            assert_eq!(again.userns, c.userns);
        }
    }

    #[test]
    fn unknown_stored_modes_are_refused_not_defaulted() {
        for (net, userns, pid) in [
            ("carrier-pigeon", "", "private"),
            ("none", "sideways", "private"),
            ("none", "", "shared"),
        ] {
            let err =
                serde_json::from_str::<RunConfig>(&config_json(net, userns, pid)).unwrap_err();
            assert!(err.to_string().contains("in a container record"), "{err}");
        }
    }
}
