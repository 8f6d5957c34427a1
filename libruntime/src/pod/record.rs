//! Pod records: `pods/<id>/pod.json` under the storage root, written atomically under
//! the store lock by create and removed last by `pod rm`.

use super::PodError;
use crate::error::Result;
use crate::fsutil;
use crate::paths::Paths;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// A namespace the pod's containers share (`--share`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SharedNamespace {
    Ipc,
    Net,
    Pid,
    Uts,
}

impl SharedNamespace {
    pub fn parse(s: &str) -> Result<SharedNamespace> {
        match s {
            "ipc" => Ok(SharedNamespace::Ipc),
            "net" => Ok(SharedNamespace::Net),
            "pid" => Ok(SharedNamespace::Pid),
            "uts" => Ok(SharedNamespace::Uts),
            other => Err(crate::error::Error::InvalidArgument(format!(
                "invalid --share {other:?}: skiff shares ipc, net, pid and uts"
            ))),
        }
    }

    pub fn word(self) -> &'static str {
        match self {
            SharedNamespace::Ipc => "ipc",
            SharedNamespace::Net => "net",
            SharedNamespace::Pid => "pid",
            SharedNamespace::Uts => "uts",
        }
    }

    /// podman's default: `--share ipc,net,uts` (cgroup is not a namespace skiff shares).
    pub fn defaults() -> Vec<SharedNamespace> {
        vec![
            SharedNamespace::Ipc,
            SharedNamespace::Net,
            SharedNamespace::Uts,
        ]
    }
}

/// What happens to the infra when the pod's last container exits (`--exit-policy`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExitPolicy {
    /// The infra keeps running.
    #[default]
    Continue,
    /// The infra is stopped, so the pod stops.
    Stop,
}

impl ExitPolicy {
    pub fn parse(s: &str) -> Result<ExitPolicy> {
        match s {
            "continue" => Ok(ExitPolicy::Continue),
            "stop" => Ok(ExitPolicy::Stop),
            other => Err(crate::error::Error::InvalidArgument(format!(
                "invalid --exit-policy {other:?}: use continue or stop"
            ))),
        }
    }

    pub fn word(self) -> &'static str {
        match self {
            ExitPolicy::Continue => "continue",
            ExitPolicy::Stop => "stop",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PodRecord {
    pub id: String,
    pub name: String,
    pub created: String,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    pub hostname: String,
    pub shared: Vec<SharedNamespace>,
    #[serde(default)]
    pub exit_policy: ExitPolicy,
    /// The infra container's id; none with `--infra=false`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub infra_id: Option<String>,
    /// How the infra was asked for, kept for `inspect` and `clone`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub infra: Option<super::InfraSettings>,
    #[serde(default)]
    pub create_command: Vec<String>,
}

impl PodRecord {
    pub fn short_id(&self) -> &str {
        &self.id[..12]
    }

    pub fn shares(&self, ns: SharedNamespace) -> bool {
        self.infra_id.is_some() && self.shared.contains(&ns)
    }

    pub fn event(&self, status: crate::events::EventStatus) -> crate::events::Event {
        crate::events::Event::new(crate::events::EventType::Pod, status)
            .id(&self.id)
            .name(&self.name)
    }
}

pub(super) fn pods_dir(paths: &Paths) -> PathBuf {
    paths.pods_dir()
}

pub(super) fn record_path(paths: &Paths, id: &str) -> PathBuf {
    pods_dir(paths).join(id).join("pod.json")
}

/// The pod's files that last no longer than the machine's uptime.
pub(super) fn runtime_dir(paths: &Paths, id: &str) -> PathBuf {
    paths.runroot.join("pods").join(id)
}

/// The pod's POSIX shared memory, bound at /dev/shm in every member when the pod
/// shares its IPC namespace (a tmpfs of each member's own would hide one's segments
/// from the others). It lives in the runtime root, made on first use.
pub fn shm_dir(paths: &Paths, pod: &PodRecord) -> Result<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let dir = runtime_dir(paths, &pod.id).join("shm");
    fsutil::create_dir_all(&dir)?;
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o1777))
        .map_err(|e| crate::error::Error::io(format!("making {}", dir.display()), e))?;
    Ok(dir)
}

/// Every pod, the newest first.
pub fn list(paths: &Paths) -> Result<Vec<PodRecord>> {
    let Ok(entries) = std::fs::read_dir(pods_dir(paths)) else {
        return Ok(vec![]);
    };
    let mut out = Vec::new();
    for e in entries.flatten() {
        if let Ok(Some(r)) = fsutil::read_json::<PodRecord>(&e.path().join("pod.json")) {
            out.push(r);
        }
    }
    out.sort_by(|a, b| b.created.cmp(&a.created));
    Ok(out)
}

/// A pod by full name, full id or unique id prefix.
pub fn find(paths: &Paths, what: &str) -> Result<PodRecord> {
    let all = list(paths)?;
    if let Some(p) = all.iter().find(|p| p.name == what || p.id == what) {
        return Ok(p.clone());
    }
    let is_hex = !what.is_empty() && what.chars().all(|c| c.is_ascii_hexdigit());
    let matches: Vec<&PodRecord> = if is_hex {
        all.iter().filter(|p| p.id.starts_with(what)).collect()
    } else {
        vec![]
    };
    match matches.len() {
        1 => Ok(matches[0].clone()),
        0 => Err(PodError::NotFound(what.to_string()).into()),
        _ => Err(PodError::Ambiguous(what.to_string()).into()),
    }
}
