//! cgroups: which hierarchy the host runs, and the container's own cgroup where skiff
//! may make one: `skiff-<id>` below the cgroup of the process that creates it (the
//! supervisor, which inherits the CLI's), in each hierarchy; only processes skiff
//! started are moved. The supervisor records where, in the runtime state. Rootless on cgroup v1 gets no cgroup: limits and the freezer are unavailable,
//! and pause falls back to stopping every process (see `freeze`).

use serde::Serialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum CgroupVersion {
    #[serde(rename = "v1")]
    V1,
    #[serde(rename = "v2")]
    V2,
}

const CGROUP2_SUPER_MAGIC: i64 = 0x6367_7270;
const ROOT: &str = "/sys/fs/cgroup";
const V1_CONTROLLERS: &[&str] = &["freezer", "memory", "pids", "cpuacct"];

/// v2 only when /sys/fs/cgroup itself is cgroup2; a hybrid host (v1 controllers, an
/// empty cgroup2 at /sys/fs/cgroup/unified) counts as v1, as podman says too.
pub fn version() -> CgroupVersion {
    match nix::sys::statfs::statfs(ROOT) {
        Ok(s) if s.filesystem_type().0 == CGROUP2_SUPER_MAGIC => CgroupVersion::V2,
        _ => CgroupVersion::V1,
    }
}

/// One container's cgroup, in each hierarchy that has one.
#[derive(Debug, Clone, Default)]
pub struct ContainerCgroup {
    pub version: Option<CgroupVersion>,
    /// v2: the single directory. v1: one per controller.
    pub dirs: Vec<PathBuf>,
}

/// The cgroup of this process in the hierarchy of `controller` (v1), or in the unified
/// hierarchy (`controller` None), relative to that hierarchy's mount, from
/// /proc/self/cgroup.
fn own_cgroup(proc_self_cgroup: &str, controller: Option<&str>) -> Option<PathBuf> {
    proc_self_cgroup.lines().find_map(|l| {
        let mut f = l.splitn(3, ':');
        let (_, list, path) = (f.next()?, f.next()?, f.next()?);
        let hit = match controller {
            None => list.is_empty(),
            Some(c) => list.split(',').any(|x| x == c),
        };
        hit.then(|| PathBuf::from(path.trim_start_matches('/')))
    })
}

/// The directory name of a container's cgroup, inside the creator's own cgroup.
fn leaf(id: &str) -> String {
    format!("skiff-{id}")
}

impl ContainerCgroup {
    /// The container's cgroup at the directories its supervisor recorded (those that
    /// still exist).
    pub fn at(dirs: &[PathBuf]) -> ContainerCgroup {
        ContainerCgroup {
            version: Some(version()),
            dirs: dirs.to_vec(),
        }
        .filter_existing()
    }

    /// Where container `id`'s cgroup goes: below this process's own cgroup in each
    /// hierarchy, never anywhere else, so a service keeps its containers inside itself.
    fn paths(id: &str) -> ContainerCgroup {
        let own = std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
        match version() {
            CgroupVersion::V2 => ContainerCgroup {
                version: Some(CgroupVersion::V2),
                dirs: own_cgroup(&own, None)
                    .map(|p| Path::new(ROOT).join(p).join(leaf(id)))
                    .into_iter()
                    .collect(),
            },
            CgroupVersion::V1 => ContainerCgroup {
                version: Some(CgroupVersion::V1),
                dirs: V1_CONTROLLERS
                    .iter()
                    .filter_map(|c| {
                        own_cgroup(&own, Some(c))
                            .map(|p| Path::new(ROOT).join(c).join(p).join(leaf(id)))
                    })
                    .collect(),
            },
        }
    }

    fn filter_existing(mut self) -> ContainerCgroup {
        self.dirs.retain(|d| d.is_dir());
        if self.dirs.is_empty() {
            self.version = None;
        }
        self
    }

    /// Makes the cgroup where the hierarchy lets us (root); an empty one otherwise.
    pub fn create(id: &str) -> ContainerCgroup {
        if !nix::unistd::geteuid().is_root() {
            return ContainerCgroup::default();
        }
        let mut cg = Self::paths(id);
        cg.dirs.retain(|d| std::fs::create_dir_all(d).is_ok());
        cg.filter_existing()
    }

    pub fn is_empty(&self) -> bool {
        self.dirs.is_empty()
    }

    pub fn add(&self, pid: i32) {
        for d in &self.dirs {
            let _ = std::fs::write(d.join("cgroup.procs"), pid.to_string());
        }
    }

    /// cgroup.procs of one hierarchy, for `exec` to join.
    pub fn procs_file(&self) -> Option<PathBuf> {
        self.dirs.first().map(|d| d.join("cgroup.procs"))
    }

    fn find(&self, controller: &str) -> Option<&PathBuf> {
        match self.version {
            Some(CgroupVersion::V2) => self.dirs.first(),
            _ => self
                .dirs
                .iter()
                .find(|d| d.components().any(|c| c.as_os_str() == controller)),
        }
    }

    /// Freezes or thaws; false when there is no freezer to use.
    pub fn freeze(&self, frozen: bool) -> bool {
        let (file, value) = match self.version {
            Some(CgroupVersion::V2) => ("cgroup.freeze", if frozen { "1" } else { "0" }),
            _ => ("freezer.state", if frozen { "FROZEN" } else { "THAWED" }),
        };
        match self.find("freezer") {
            Some(d) => std::fs::write(d.join(file), value).is_ok(),
            None => false,
        }
    }

    fn read_u64(&self, controller: &str, file: &str) -> Option<u64> {
        let d = self.find(controller)?;
        std::fs::read_to_string(d.join(file))
            .ok()?
            .trim()
            .parse()
            .ok()
    }

    pub fn memory_usage(&self) -> Option<u64> {
        match self.version {
            Some(CgroupVersion::V2) => self.read_u64("memory", "memory.current"),
            _ => self.read_u64("memory", "memory.usage_in_bytes"),
        }
    }

    pub fn pids(&self) -> Option<u64> {
        self.read_u64("pids", "pids.current")
    }

    /// Total CPU time in nanoseconds.
    pub fn cpu_nanos(&self) -> Option<u64> {
        match self.version {
            Some(CgroupVersion::V2) => {
                let d = self.find("cpu")?;
                let text = std::fs::read_to_string(d.join("cpu.stat")).ok()?;
                let usec: u64 = text
                    .lines()
                    .find_map(|l| l.strip_prefix("usage_usec "))?
                    .trim()
                    .parse()
                    .ok()?;
                Some(usec * 1000)
            }
            _ => self.read_u64("cpuacct", "cpuacct.usage"),
        }
    }

    /// Removes the (empty) cgroup directories.
    pub fn remove(&self) {
        for d in &self.dirs {
            let _ = std::fs::remove_dir(d);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HYBRID: &str =
        "9:name=systemd:/\n4:memory:/process_api/abc\n2:cpu,cpuacct:/user.slice\n1:pids:/\n0::/\n";

    #[test]
    fn own_cgroup_per_hierarchy() {
        assert_eq!(
            own_cgroup(HYBRID, Some("memory")),
            Some(PathBuf::from("process_api/abc"))
        );
        assert_eq!(
            own_cgroup(HYBRID, Some("cpuacct")),
            Some(PathBuf::from("user.slice"))
        );
        assert_eq!(own_cgroup(HYBRID, Some("pids")), Some(PathBuf::new()));
        assert_eq!(own_cgroup(HYBRID, Some("freezer")), None);
        assert_eq!(own_cgroup(HYBRID, None), Some(PathBuf::new()));
        assert_eq!(
            own_cgroup("0::/user.slice/user-1000.slice/session-2.scope\n", None),
            Some(PathBuf::from("user.slice/user-1000.slice/session-2.scope"))
        );
    }
}
