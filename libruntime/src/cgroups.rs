//! Which cgroup hierarchy the host runs.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum CgroupVersion {
    #[serde(rename = "v1")]
    V1,
    #[serde(rename = "v2")]
    V2,
}

const CGROUP2_SUPER_MAGIC: i64 = 0x6367_7270;

/// v2 only when /sys/fs/cgroup itself is cgroup2; a hybrid host (v1 controllers, an
/// empty cgroup2 at /sys/fs/cgroup/unified) counts as v1, as podman says too.
pub fn version() -> CgroupVersion {
    match nix::sys::statfs::statfs("/sys/fs/cgroup") {
        Ok(s) if s.filesystem_type().0 as i64 == CGROUP2_SUPER_MAGIC => CgroupVersion::V2,
        _ => CgroupVersion::V1,
    }
}
