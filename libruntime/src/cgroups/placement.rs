//! Where a container's cgroup goes: `--cgroups` and `--cgroup-parent` as podman takes
//! them, and whether a user without privilege may make one (a cgroup v2 subtree that
//! systemd delegated to the user). The checks read the cgroupfs under a given root, so
//! tests use a fake tree.

use serde::{Deserialize, Serialize};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// `--cgroups`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CgroupsMode {
    /// A cgroup below the creator's (or `--cgroup-parent`).
    #[default]
    Enabled,
    /// No cgroup: no limits, and pause stops processes with signals.
    Disabled,
    /// podman keeps conmon out of the container's cgroup; skiff's supervisor is never
    /// in it, so this is `enabled`.
    NoConmon,
    /// podman's mode for systemd services: the container's cgroup inside the caller's,
    /// which is where skiff always makes it.
    Split,
}

impl CgroupsMode {
    pub fn parse(s: &str) -> crate::Result<CgroupsMode> {
        match s {
            "enabled" => Ok(CgroupsMode::Enabled),
            "disabled" => Ok(CgroupsMode::Disabled),
            "no-conmon" => Ok(CgroupsMode::NoConmon),
            "split" => Ok(CgroupsMode::Split),
            _ => Err(crate::Error::InvalidArgument(format!(
                "invalid --cgroups {s:?}: use enabled, disabled, no-conmon or split"
            ))),
        }
    }
}

/// Where a container's cgroup is made.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Placement {
    #[serde(default)]
    pub mode: CgroupsMode,
    /// `--cgroup-parent`: absolute from the hierarchy's root, or relative to the
    /// creator's own cgroup.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<PathBuf>,
}

impl Placement {
    pub fn is_default(&self) -> bool {
        *self == Placement::default()
    }
}

/// What a container's cgroup path starts from.
#[derive(Debug, Clone, Copy)]
pub enum Base<'a> {
    /// The creator's own cgroup (its /proc/self/cgroup text).
    Creator(&'a str),
    /// A path from the hierarchy's root (`--cgroup-parent /…`).
    Absolute(&'a Path),
}

/// Whether the creator's own v2 cgroup (`own`, its /proc/self/cgroup, under `root`)
/// is delegated to `uid`: the directory and the files that make children and move
/// processes are the user's, as systemd's `Delegate=yes` leaves them.
pub fn delegated(root: &Path, own: &str, uid: u32) -> Result<PathBuf, String> {
    let rel =
        super::manager::own_cgroup(own, None).ok_or("the process is in no cgroup v2 hierarchy")?;
    let dir = root.join(&rel);
    for f in [
        dir.clone(),
        dir.join("cgroup.procs"),
        dir.join("cgroup.subtree_control"),
    ] {
        let meta = std::fs::metadata(&f).map_err(|e| format!("{}: {e}", f.display()))?;
        if meta.uid() != uid {
            return Err(format!(
                "{} is not delegated to this user (systemd's Delegate=yes gives a user its own subtree)",
                f.display()
            ));
        }
    }
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_parse() {
        assert_eq!(CgroupsMode::parse("split").unwrap(), CgroupsMode::Split);
        assert_eq!(
            CgroupsMode::parse("no-conmon").unwrap(),
            CgroupsMode::NoConmon
        );
        assert!(CgroupsMode::parse("sometimes").is_err());
    }

    #[test]
    fn delegation_is_read_from_the_owner_of_the_creators_cgroup() {
        let fs = tempfile::tempdir().unwrap();
        let own = "0::/user.slice/user-1000.slice/user@1000.service/app.slice/x.scope\n";
        let dir = fs
            .path()
            .join("user.slice/user-1000.slice/user@1000.service/app.slice/x.scope");
        std::fs::create_dir_all(&dir).unwrap();
        let me = nix::unistd::getuid().as_raw();
        // Missing files: not delegated.
        assert!(delegated(fs.path(), own, me).is_err());
        std::fs::write(dir.join("cgroup.procs"), "").unwrap();
        std::fs::write(dir.join("cgroup.subtree_control"), "").unwrap();
        assert_eq!(delegated(fs.path(), own, me).unwrap(), dir);
        // Someone else's subtree.
        let err = delegated(fs.path(), own, me + 1).unwrap_err();
        assert!(err.contains("not delegated"), "{err}");
        // A v1-only process.
        assert!(delegated(fs.path(), "4:memory:/x\n", me).is_err());
    }
}
