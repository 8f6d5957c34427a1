//! The cgroup-manager seam: what differs between the hierarchies. A manager knows
//! where a container's cgroup goes below the creator's own cgroup and which file says
//! what; `ContainerCgroup` does the rest the same way for all. Each manager takes the
//! cgroupfs root, so tests run against a fake tree.

use super::{Base, CgroupVersion};
use std::path::{Path, PathBuf};

pub trait CgroupManager: std::fmt::Debug + Send + Sync {
    fn version(&self) -> Option<CgroupVersion>;

    /// The container's cgroup directories: `leaf` below `base` (the creator's own
    /// cgroup, or a path from the root) in each hierarchy, with `extra` v1 controllers
    /// beyond the usual ones.
    fn dirs_for(&self, base: Base, leaf: &Path, extra: &[&str]) -> Vec<PathBuf>;

    /// The file counting OOM kills, and the key on its `oom_kill N` line.
    fn oom_events(&self) -> &'static str;

    /// The directory among `dirs` that holds `controller`'s files.
    fn controller_dir<'a>(&self, dirs: &'a [PathBuf], controller: &str) -> Option<&'a PathBuf>;

    /// The file that freezes, and the values for frozen and thawed.
    fn freezer(&self) -> (&'static str, &'static str, &'static str);

    /// The file with the memory in use, in bytes.
    fn memory_current(&self) -> &'static str;

    /// CPU time used, in nanoseconds, from the files in `dir` (the cpu controller's).
    fn cpu_nanos(&self, dir: &Path) -> Option<u64>;
}

/// The cgroup of the creator in the hierarchy of `controller` (v1), or in the unified
/// hierarchy (`controller` None), relative to that hierarchy's mount.
pub(super) fn own_cgroup(proc_self_cgroup: &str, controller: Option<&str>) -> Option<PathBuf> {
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

fn read_u64(path: &Path) -> Option<u64> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// cgroup v1: one hierarchy per controller, each mounted at root/CONTROLLER.
#[derive(Debug)]
pub struct V1 {
    pub root: PathBuf,
}

/// The v1 controllers skiff uses.
const V1_CONTROLLERS: &[&str] = &["freezer", "memory", "pids", "cpuacct"];

impl CgroupManager for V1 {
    fn version(&self) -> Option<CgroupVersion> {
        Some(CgroupVersion::V1)
    }

    fn dirs_for(&self, base: Base, leaf: &Path, extra: &[&str]) -> Vec<PathBuf> {
        V1_CONTROLLERS
            .iter()
            .chain(extra)
            .filter_map(|c| {
                let from = match base {
                    Base::Creator(own) => own_cgroup(own, Some(c))?,
                    Base::Absolute(p) => p.strip_prefix("/").unwrap_or(p).to_path_buf(),
                };
                Some(self.root.join(c).join(from).join(leaf))
            })
            .collect()
    }

    fn oom_events(&self) -> &'static str {
        "memory.oom_control"
    }

    fn controller_dir<'a>(&self, dirs: &'a [PathBuf], controller: &str) -> Option<&'a PathBuf> {
        dirs.iter().find(|d| {
            d.strip_prefix(&self.root)
                .ok()
                .and_then(|rel| rel.components().next())
                .is_some_and(|c| c.as_os_str() == controller)
        })
    }

    fn freezer(&self) -> (&'static str, &'static str, &'static str) {
        ("freezer.state", "FROZEN", "THAWED")
    }

    fn memory_current(&self) -> &'static str {
        "memory.usage_in_bytes"
    }

    fn cpu_nanos(&self, dir: &Path) -> Option<u64> {
        read_u64(&dir.join("cpuacct.usage"))
    }
}

/// cgroup v2: one unified hierarchy at root.
#[derive(Debug)]
pub struct V2 {
    pub root: PathBuf,
}

impl CgroupManager for V2 {
    fn version(&self) -> Option<CgroupVersion> {
        Some(CgroupVersion::V2)
    }

    fn dirs_for(&self, base: Base, leaf: &Path, _: &[&str]) -> Vec<PathBuf> {
        let from = match base {
            Base::Creator(own) => own_cgroup(own, None),
            Base::Absolute(p) => Some(p.strip_prefix("/").unwrap_or(p).to_path_buf()),
        };
        from.map(|p| self.root.join(p).join(leaf))
            .into_iter()
            .collect()
    }

    fn controller_dir<'a>(&self, dirs: &'a [PathBuf], _: &str) -> Option<&'a PathBuf> {
        dirs.first()
    }

    fn oom_events(&self) -> &'static str {
        "memory.events"
    }

    fn freezer(&self) -> (&'static str, &'static str, &'static str) {
        ("cgroup.freeze", "1", "0")
    }

    fn memory_current(&self) -> &'static str {
        "memory.current"
    }

    fn cpu_nanos(&self, dir: &Path) -> Option<u64> {
        let text = std::fs::read_to_string(dir.join("cpu.stat")).ok()?;
        let usec: u64 = text
            .lines()
            .find_map(|l| l.strip_prefix("usage_usec "))?
            .trim()
            .parse()
            .ok()?;
        Some(usec * 1000)
    }
}

/// No cgroup (rootless on v1, or nothing we may write): every container runs in its
/// creator's cgroup; the freezer falls back to signals and stats to /proc.
#[derive(Debug)]
pub struct NoCgroups;

impl CgroupManager for NoCgroups {
    fn version(&self) -> Option<CgroupVersion> {
        None
    }

    fn dirs_for(&self, _: Base, _: &Path, _: &[&str]) -> Vec<PathBuf> {
        Vec::new()
    }

    fn oom_events(&self) -> &'static str {
        ""
    }

    fn controller_dir<'a>(&self, _: &'a [PathBuf], _: &str) -> Option<&'a PathBuf> {
        None
    }

    fn freezer(&self) -> (&'static str, &'static str, &'static str) {
        ("", "", "")
    }

    fn memory_current(&self) -> &'static str {
        ""
    }

    fn cpu_nanos(&self, _: &Path) -> Option<u64> {
        None
    }
}
