//! cgroups: which hierarchy the host runs, and the container's own cgroup where skiff
//! may make one: `skiff-<id>` below the cgroup of the process that creates it (the
//! supervisor, which inherits the CLI's), in each hierarchy; only processes skiff
//! started are moved. The supervisor records where, in the runtime state. Rootless on
//! cgroup v1 gets no cgroup: limits and the freezer are unavailable, and pause falls
//! back to stopping every process (see `freeze`). What differs between v1, v2 and none
//! is behind `CgroupManager`.

mod manager;
mod placement;
mod resources;

pub use manager::{CgroupManager, NoCgroups, V1, V2};
pub use placement::{delegated, Base, CgroupsMode, Placement};
pub use resources::{DeviceRate, LimitFile, Resources};

use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum CgroupVersion {
    #[serde(rename = "v1")]
    V1,
    #[serde(rename = "v2")]
    V2,
}

const CGROUP2_SUPER_MAGIC: i64 = 0x6367_7270;
const ROOT: &str = "/sys/fs/cgroup";

/// v2 only when /sys/fs/cgroup itself is cgroup2; a hybrid host (v1 controllers, an
/// empty cgroup2 at /sys/fs/cgroup/unified) counts as v1, as podman says too.
pub fn version() -> CgroupVersion {
    match nix::sys::statfs::statfs(ROOT) {
        Ok(s) if s.filesystem_type().0 == CGROUP2_SUPER_MAGIC => CgroupVersion::V2,
        _ => CgroupVersion::V1,
    }
}

/// The manager for this host's hierarchy.
pub fn host_manager() -> Arc<dyn CgroupManager> {
    let root = PathBuf::from(ROOT);
    match version() {
        CgroupVersion::V2 => Arc::new(V2 { root }),
        CgroupVersion::V1 => Arc::new(V1 { root }),
    }
}

/// Whether this process may make cgroups: as root, or as a user whose own v2 cgroup
/// systemd delegated.
pub fn may_create() -> bool {
    nix::unistd::geteuid().is_root() || user_delegation().is_ok()
}

/// This user's delegated v2 subtree, or why there is none.
pub fn user_delegation() -> Result<PathBuf, String> {
    if version() != CgroupVersion::V2 {
        return Err(
            "this host's cgroups are v1, which a user without privilege cannot limit".into(),
        );
    }
    let own = std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
    delegated(Path::new(ROOT), &own, nix::unistd::getuid().as_raw())
}

/// The directory name of a container's cgroup, inside the creator's own cgroup.
fn leaf(id: &str) -> String {
    format!("skiff-{id}")
}

/// One container's cgroup, in each hierarchy that has one.
#[derive(Debug, Clone)]
pub struct ContainerCgroup {
    manager: Arc<dyn CgroupManager>,
    /// v2: the single directory. v1: one per controller.
    pub dirs: Vec<PathBuf>,
}

impl Default for ContainerCgroup {
    fn default() -> Self {
        ContainerCgroup {
            manager: Arc::new(NoCgroups),
            dirs: Vec::new(),
        }
    }
}

impl ContainerCgroup {
    /// The container's cgroup at the directories its supervisor recorded (those that
    /// still exist).
    pub fn at(dirs: &[PathBuf]) -> ContainerCgroup {
        Self::with_manager(host_manager(), dirs.to_vec())
    }

    fn with_manager(manager: Arc<dyn CgroupManager>, mut dirs: Vec<PathBuf>) -> ContainerCgroup {
        dirs.retain(|d| d.is_dir());
        if dirs.is_empty() {
            return ContainerCgroup::default();
        }
        ContainerCgroup { manager, dirs }
    }

    /// Makes the cgroup where the hierarchy lets us (root, or a user with a delegated
    /// v2 subtree); an empty one otherwise, or with `--cgroups=disabled`. `limits` says
    /// which v1 controllers it needs beyond the usual ones.
    pub fn create(id: &str, limits: &Resources, placement: &Placement) -> ContainerCgroup {
        if placement.mode == CgroupsMode::Disabled || !may_create() {
            return ContainerCgroup::default();
        }
        let own = std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
        Self::create_with(
            host_manager(),
            &own,
            id,
            &limits.extra_v1_controllers(),
            placement.parent.as_deref(),
        )
    }

    /// Makes container `id`'s cgroup below the creator's own (`own`, its
    /// /proc/self/cgroup), so a service keeps its containers inside itself; or below
    /// `parent` (`--cgroup-parent`: absolute from the hierarchy's root, or relative to
    /// the creator's cgroup).
    pub fn create_with(
        manager: Arc<dyn CgroupManager>,
        own: &str,
        id: &str,
        extra: &[&str],
        parent: Option<&Path>,
    ) -> ContainerCgroup {
        let (base, leaf) = match parent {
            Some(p) if p.is_absolute() => (Base::Absolute(p), PathBuf::from(leaf(id))),
            Some(p) => (Base::Creator(own), p.join(leaf(id))),
            None => (Base::Creator(own), PathBuf::from(leaf(id))),
        };
        let mut dirs = manager.dirs_for(base, &leaf, extra);
        dirs.retain(|d| std::fs::create_dir_all(d).is_ok());
        let cg = Self::with_manager(manager, dirs);
        cg.inherit_cpuset();
        cg.enable_controllers(&leaf);
        cg
    }

    /// v2: a controller's files exist in a cgroup only when its parent lists it in
    /// cgroup.subtree_control; each directory skiff made on the way gets them (best
    /// effort: a parent with processes of its own refuses, and the limit's write then
    /// names what is missing).
    fn enable_controllers(&self, made: &Path) {
        if self.version() != Some(CgroupVersion::V2) {
            return;
        }
        for d in &self.dirs {
            let mut parents: Vec<&Path> = d
                .ancestors()
                .skip(1)
                .take(made.components().count())
                .collect();
            parents.reverse();
            for p in parents {
                let _ = std::fs::write(
                    p.join("cgroup.subtree_control"),
                    "+cpu +cpuset +io +memory +pids",
                );
            }
        }
    }

    /// A new v1 cpuset cgroup starts with no CPUs and no memory nodes, and no task
    /// may join it so: it takes its parent's.
    fn inherit_cpuset(&self) {
        if self.version() != Some(CgroupVersion::V1) {
            return;
        }
        if let Some(d) = self.manager.controller_dir(&self.dirs, "cpuset") {
            for f in ["cpuset.cpus", "cpuset.mems"] {
                let parent = d.parent().map(|p| p.join(f));
                if let Some(v) = parent.and_then(|p| std::fs::read_to_string(p).ok()) {
                    let _ = std::fs::write(d.join(f), v.trim());
                }
            }
        }
    }

    /// Writes `limits` into the cgroup; a limit whose controller or file is missing is
    /// an error naming it, never silently unenforced.
    pub fn apply(&self, limits: &Resources) -> crate::error::Result<()> {
        let Some(version) = self.version() else {
            if limits.is_empty() {
                return Ok(());
            }
            return Err(crate::error::Error::InvalidArgument(
                "resource limits need a cgroup, and this container has none".into(),
            ));
        };
        for f in limits.files(version) {
            let dir = self
                .manager
                .controller_dir(&self.dirs, f.controller)
                .ok_or_else(|| {
                    crate::error::Error::InvalidArgument(format!(
                        "cannot set {}: the {} controller is not available here",
                        f.file, f.controller
                    ))
                })?;
            std::fs::write(dir.join(f.file), &f.value).map_err(|e| {
                crate::error::Error::io(format!("setting {} to {}", f.file, f.value), e)
            })?;
        }
        Ok(())
    }

    /// How many processes the kernel's OOM killer has killed in the cgroup.
    pub fn oom_kills(&self) -> u64 {
        let name = self.manager.oom_events();
        let Some(file) = self.file("memory", name) else {
            return 0;
        };
        std::fs::read_to_string(file)
            .ok()
            .and_then(|t| {
                t.lines()
                    .find_map(|l| l.strip_prefix("oom_kill "))
                    .and_then(|n| n.trim().parse().ok())
            })
            .unwrap_or(0)
    }

    pub fn version(&self) -> Option<CgroupVersion> {
        self.manager.version()
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

    fn file(&self, controller: &str, name: &str) -> Option<PathBuf> {
        self.manager
            .controller_dir(&self.dirs, controller)
            .map(|d| d.join(name))
    }

    /// Freezes or thaws; false when there is no freezer to use.
    pub fn freeze(&self, frozen: bool) -> bool {
        let (name, on, off) = self.manager.freezer();
        match self.file("freezer", name) {
            Some(f) => std::fs::write(f, if frozen { on } else { off }).is_ok(),
            None => false,
        }
    }

    fn read_u64(&self, controller: &str, name: &str) -> Option<u64> {
        let text = std::fs::read_to_string(self.file(controller, name)?).ok()?;
        text.trim().parse().ok()
    }

    pub fn memory_usage(&self) -> Option<u64> {
        self.read_u64("memory", self.manager.memory_current())
    }

    /// `memory.stat`'s counters, by the kernel's names (the same file in v1 and v2);
    /// empty without a memory cgroup.
    pub fn memory_stat(&self) -> std::collections::BTreeMap<String, u64> {
        self.file("memory", "memory.stat")
            .and_then(|f| std::fs::read_to_string(f).ok())
            .map(|t| parse_flat_keyed(&t))
            .unwrap_or_default()
    }

    pub fn pids(&self) -> Option<u64> {
        self.read_u64("pids", "pids.current")
    }

    /// Total CPU time in nanoseconds.
    pub fn cpu_nanos(&self) -> Option<u64> {
        let dir: &Path = self
            .manager
            .controller_dir(&self.dirs, "cpuacct")
            .or_else(|| self.manager.controller_dir(&self.dirs, "cpu"))?;
        self.manager.cpu_nanos(dir)
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
    use super::manager::own_cgroup;
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

    /// A fake cgroupfs: the container's cgroup lands below the creator's, and each
    /// reading comes from the hierarchy's own file.
    #[test]
    fn v2_below_the_creator_with_its_files() {
        let fs = tempfile::tempdir().unwrap();
        let own = "0::/user.slice/app.service\n";
        let m = Arc::new(V2 {
            root: fs.path().into(),
        });
        let cg = ContainerCgroup::create_with(m, own, "abc", &[], None);
        let dir = fs.path().join("user.slice/app.service/skiff-abc");
        assert_eq!(cg.dirs, vec![dir.clone()]);
        assert_eq!(cg.version(), Some(CgroupVersion::V2));
        cg.add(42);
        assert_eq!(
            std::fs::read_to_string(dir.join("cgroup.procs")).unwrap(),
            "42"
        );
        assert!(cg.freeze(true));
        assert_eq!(
            std::fs::read_to_string(dir.join("cgroup.freeze")).unwrap(),
            "1"
        );
        std::fs::write(dir.join("memory.current"), "4096\n").unwrap();
        std::fs::write(dir.join("pids.current"), "3\n").unwrap();
        std::fs::write(dir.join("cpu.stat"), "usage_usec 250\nuser_usec 200\n").unwrap();
        assert_eq!(cg.memory_usage(), Some(4096));
        assert_eq!(cg.pids(), Some(3));
        assert_eq!(cg.cpu_nanos(), Some(250_000));
        assert_eq!(cg.procs_file(), Some(dir.join("cgroup.procs")));
    }

    #[test]
    fn v1_one_directory_per_controller() {
        let fs = tempfile::tempdir().unwrap();
        let m = Arc::new(V1 {
            root: fs.path().into(),
        });
        let cg = ContainerCgroup::create_with(m, HYBRID, "abc", &[], None);
        let at = |c: &str, p: &str| fs.path().join(c).join(p).join("skiff-abc");
        // freezer is not in the creator's /proc/self/cgroup: no directory for it.
        assert_eq!(
            cg.dirs,
            vec![
                at("memory", "process_api/abc"),
                at("pids", ""),
                at("cpuacct", "user.slice"),
            ]
        );
        assert!(!cg.freeze(true), "no freezer hierarchy");
        std::fs::write(
            at("memory", "process_api/abc").join("memory.usage_in_bytes"),
            "7",
        )
        .unwrap();
        std::fs::write(at("cpuacct", "user.slice").join("cpuacct.usage"), "99").unwrap();
        assert_eq!(cg.memory_usage(), Some(7));
        assert_eq!(cg.cpu_nanos(), Some(99));
    }

    /// `--cgroup-parent`: relative to the creator's cgroup, or from the root; v2
    /// enables the controllers in each directory made on the way.
    #[test]
    fn cgroup_parent_relative_and_absolute() {
        let fs = tempfile::tempdir().unwrap();
        let own = "0::/svc.service\n";
        let m = Arc::new(V2 {
            root: fs.path().into(),
        });
        let cg =
            ContainerCgroup::create_with(m.clone(), own, "abc", &[], Some(Path::new("pods/p1")));
        let dir = fs.path().join("svc.service/pods/p1/skiff-abc");
        assert_eq!(cg.dirs, vec![dir.clone()]);
        for p in ["svc.service", "svc.service/pods", "svc.service/pods/p1"] {
            let control = std::fs::read_to_string(fs.path().join(p).join("cgroup.subtree_control"));
            assert_eq!(control.unwrap(), "+cpu +cpuset +io +memory +pids", "{p}");
        }
        // Nothing above the creator's own cgroup is touched.
        assert!(!fs.path().join("cgroup.subtree_control").exists());
        let cg =
            ContainerCgroup::create_with(m, own, "def", &[], Some(Path::new("/machine.slice")));
        assert_eq!(cg.dirs, vec![fs.path().join("machine.slice/skiff-def")]);
        let v1 = Arc::new(V1 {
            root: fs.path().into(),
        });
        let cg = ContainerCgroup::create_with(v1, HYBRID, "abc", &[], Some(Path::new("sub")));
        assert!(cg
            .dirs
            .contains(&fs.path().join("memory/process_api/abc/sub/skiff-abc")));
    }

    #[test]
    fn no_cgroups_makes_nothing() {
        let cg = ContainerCgroup::create_with(Arc::new(NoCgroups), HYBRID, "abc", &[], None);
        assert!(cg.is_empty());
        assert_eq!(cg.version(), None);
        assert!(!cg.freeze(true));
        assert_eq!(cg.memory_usage(), None);
    }
}

/// A cgroup "flat keyed" file: `name value` lines.
pub fn parse_flat_keyed(text: &str) -> std::collections::BTreeMap<String, u64> {
    text.lines()
        .filter_map(|l| {
            let (k, v) = l.split_once(' ')?;
            Some((k.to_string(), v.trim().parse().ok()?))
        })
        .collect()
}

#[cfg(test)]
mod flat_keyed_tests {
    #[test]
    fn counters_by_name() {
        let m = super::parse_flat_keyed("cache 4096\nrss 8192\nbad x\n");
        assert_eq!(m.get("rss"), Some(&8192));
        assert_eq!(m.len(), 2);
    }
}
