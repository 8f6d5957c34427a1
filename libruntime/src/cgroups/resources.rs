//! Resource limits (`--memory`, `--cpus`, `--pids-limit`, …), typed, and the cgroup
//! files that carry them in each hierarchy: a pure function of the limits, so each
//! version's mapping is table-tested.

use super::CgroupVersion;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Resources {
    /// Bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_reservation: Option<u64>,
    /// Memory plus swap, in bytes; -1 for unlimited swap.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_swap: Option<i64>,
    /// CPU time per period, in microseconds (`--cpus` sets it with the period).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_quota: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_period: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_shares: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpuset_cpus: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpuset_mems: Option<String>,
    /// -1 or 0 for no limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pids_limit: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blkio_weight: Option<u16>,
    /// `--device-read-bps`: bytes per second read from a block device.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub device_read_bps: Vec<DeviceRate>,
    /// `--device-write-bps`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub device_write_bps: Vec<DeviceRate>,
}

/// A rate limit on one block device, named by its numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceRate {
    pub major: u64,
    pub minor: u64,
    /// Bytes per second.
    pub rate: u64,
}

impl DeviceRate {
    /// `PATH:RATE` (`/dev/sda:1mb`): the path must be a block device.
    pub fn parse(flag: &str, s: &str) -> crate::Result<DeviceRate> {
        let bad =
            |why: String| crate::Error::InvalidArgument(format!("invalid --{flag} {s:?}: {why}"));
        let (path, rate) = s
            .rsplit_once(':')
            .ok_or_else(|| bad("want DEVICE:RATE, such as /dev/sda:1mb".into()))?;
        let rate = crate::time::parse_size(rate)
            .filter(|r| *r > 0)
            .ok_or_else(|| bad("the rate must be a size such as 10mb".into()))?;
        let meta = std::fs::metadata(path).map_err(|e| bad(format!("{path}: {e}")))?;
        use std::os::unix::fs::{FileTypeExt, MetadataExt};
        if !meta.file_type().is_block_device() {
            return Err(bad(format!("{path} is not a block device")));
        }
        let rdev = meta.rdev();
        Ok(DeviceRate {
            major: nix::sys::stat::major(rdev),
            minor: nix::sys::stat::minor(rdev),
            rate,
        })
    }
}

/// The period `--cpus` uses, as docker and podman.
pub const DEFAULT_CPU_PERIOD: u64 = 100_000;

/// One value for one cgroup file of one controller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitFile {
    pub controller: &'static str,
    pub file: &'static str,
    pub value: String,
}

fn lf(controller: &'static str, file: &'static str, value: impl ToString) -> LimitFile {
    LimitFile {
        controller,
        file,
        value: value.to_string(),
    }
}

impl Resources {
    pub fn is_empty(&self) -> bool {
        *self == Resources::default()
    }

    /// `--cpus N`: N CPUs' worth of time per default period.
    pub fn set_cpus(&mut self, cpus: f64) {
        self.cpu_period = Some(DEFAULT_CPU_PERIOD);
        self.cpu_quota = Some((cpus * DEFAULT_CPU_PERIOD as f64).round() as i64);
    }

    /// The v1 controllers beyond skiff's usual ones that these limits need.
    pub fn extra_v1_controllers(&self) -> Vec<&'static str> {
        let mut c = Vec::new();
        if self.cpu_quota.is_some() || self.cpu_period.is_some() || self.cpu_shares.is_some() {
            c.push("cpu");
        }
        if self.cpuset_cpus.is_some() || self.cpuset_mems.is_some() {
            c.push("cpuset");
        }
        if self.blkio_weight.is_some()
            || !self.device_read_bps.is_empty()
            || !self.device_write_bps.is_empty()
        {
            c.push("blkio");
        }
        c
    }

    /// The files to write, in order (a memory+swap limit after the memory limit it
    /// must not be below).
    pub fn files(&self, v: CgroupVersion) -> Vec<LimitFile> {
        match v {
            CgroupVersion::V1 => self.v1_files(),
            CgroupVersion::V2 => self.v2_files(),
        }
    }

    fn v1_files(&self) -> Vec<LimitFile> {
        let mut out = Vec::new();
        if let Some(m) = self.memory {
            out.push(lf("memory", "memory.limit_in_bytes", m));
        }
        if let Some(r) = self.memory_reservation {
            out.push(lf("memory", "memory.soft_limit_in_bytes", r));
        }
        if let Some(s) = self.memory_swap {
            out.push(lf("memory", "memory.memsw.limit_in_bytes", s));
        }
        if let Some(p) = self.cpu_period {
            out.push(lf("cpu", "cpu.cfs_period_us", p));
        }
        if let Some(q) = self.cpu_quota {
            out.push(lf("cpu", "cpu.cfs_quota_us", q));
        }
        if let Some(s) = self.cpu_shares {
            out.push(lf("cpu", "cpu.shares", s));
        }
        if let Some(c) = &self.cpuset_cpus {
            out.push(lf("cpuset", "cpuset.cpus", c));
        }
        if let Some(m) = &self.cpuset_mems {
            out.push(lf("cpuset", "cpuset.mems", m));
        }
        if let Some(p) = self.pids_limit {
            out.push(lf("pids", "pids.max", pids_value(p)));
        }
        if let Some(w) = self.blkio_weight {
            out.push(lf("blkio", "blkio.weight", w));
        }
        // One rule per write: each line adds or replaces that device's rule.
        for d in &self.device_read_bps {
            let rule = format!("{}:{} {}", d.major, d.minor, d.rate);
            out.push(lf("blkio", "blkio.throttle.read_bps_device", rule));
        }
        for d in &self.device_write_bps {
            let rule = format!("{}:{} {}", d.major, d.minor, d.rate);
            out.push(lf("blkio", "blkio.throttle.write_bps_device", rule));
        }
        out
    }

    fn v2_files(&self) -> Vec<LimitFile> {
        let mut out = Vec::new();
        if let Some(m) = self.memory {
            out.push(lf("memory", "memory.max", m));
        }
        if let Some(r) = self.memory_reservation {
            out.push(lf("memory", "memory.low", r));
        }
        if let (Some(s), Some(m)) = (self.memory_swap, self.memory) {
            // v2 limits swap alone; docker's value is memory plus swap.
            let swap = if s < 0 {
                "max".to_string()
            } else {
                (s as u64).saturating_sub(m).to_string()
            };
            out.push(lf("memory", "memory.swap.max", swap));
        }
        if self.cpu_quota.is_some() || self.cpu_period.is_some() {
            let quota = match self.cpu_quota {
                Some(q) if q > 0 => q.to_string(),
                _ => "max".into(),
            };
            let period = self.cpu_period.unwrap_or(DEFAULT_CPU_PERIOD);
            out.push(lf("cpu", "cpu.max", format!("{quota} {period}")));
        }
        if let Some(s) = self.cpu_shares {
            out.push(lf("cpu", "cpu.weight", shares_to_weight(s)));
        }
        if let Some(c) = &self.cpuset_cpus {
            out.push(lf("cpuset", "cpuset.cpus", c));
        }
        if let Some(m) = &self.cpuset_mems {
            out.push(lf("cpuset", "cpuset.mems", m));
        }
        if let Some(p) = self.pids_limit {
            out.push(lf("pids", "pids.max", pids_value(p)));
        }
        if let Some(w) = self.blkio_weight {
            out.push(lf("io", "io.weight", format!("default {w}")));
        }
        // io.max takes one line per device with both directions.
        let mut devices: Vec<(u64, u64)> = self
            .device_read_bps
            .iter()
            .chain(&self.device_write_bps)
            .map(|d| (d.major, d.minor))
            .collect();
        devices.sort_unstable();
        devices.dedup();
        for (major, minor) in devices {
            let find = |v: &[DeviceRate]| {
                v.iter()
                    .rfind(|d| (d.major, d.minor) == (major, minor))
                    .map(|d| d.rate)
            };
            let mut rule = format!("{major}:{minor}");
            if let Some(r) = find(&self.device_read_bps) {
                rule.push_str(&format!(" rbps={r}"));
            }
            if let Some(w) = find(&self.device_write_bps) {
                rule.push_str(&format!(" wbps={w}"));
            }
            out.push(lf("io", "io.max", rule));
        }
        out
    }
}

fn pids_value(p: i64) -> String {
    if p <= 0 {
        "max".into()
    } else {
        p.to_string()
    }
}

/// crun's conversion of v1 shares (2..262144) to v2 weight (1..10000).
fn shares_to_weight(shares: u64) -> u64 {
    if shares == 0 {
        return 100;
    }
    1 + ((shares.clamp(2, 262_144) - 2) * 9999) / 262_142
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_map_to_each_versions_files() {
        let mut r = Resources {
            memory: Some(64 << 20),
            memory_swap: Some(128 << 20),
            pids_limit: Some(10),
            cpu_shares: Some(1024),
            ..Default::default()
        };
        r.set_cpus(0.5);
        let names = |v| {
            r.files(v)
                .into_iter()
                .map(|f| format!("{}={}", f.file, f.value))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            names(CgroupVersion::V1),
            [
                "memory.limit_in_bytes=67108864",
                "memory.memsw.limit_in_bytes=134217728",
                "cpu.cfs_period_us=100000",
                "cpu.cfs_quota_us=50000",
                "cpu.shares=1024",
                "pids.max=10",
            ]
        );
        assert_eq!(
            names(CgroupVersion::V2),
            [
                "memory.max=67108864",
                "memory.swap.max=67108864",
                "cpu.max=50000 100000",
                "cpu.weight=39",
                "pids.max=10",
            ]
        );
        assert_eq!(r.extra_v1_controllers(), ["cpu"]);
        let unlimited = Resources {
            pids_limit: Some(-1),
            memory: Some(1),
            memory_swap: Some(-1),
            ..Default::default()
        };
        assert!(unlimited.files(CgroupVersion::V2).contains(&lf(
            "memory",
            "memory.swap.max",
            "max"
        )));
        assert!(unlimited
            .files(CgroupVersion::V1)
            .contains(&lf("pids", "pids.max", "max")));
        assert!(
            Resources::default().is_empty()
                && Resources::default().files(CgroupVersion::V1).is_empty()
        );
    }

    #[test]
    fn device_rates_per_version() {
        let dev = |minor, rate| DeviceRate {
            major: 8,
            minor,
            rate,
        };
        let r = Resources {
            device_read_bps: vec![dev(0, 1_048_576), dev(16, 100)],
            device_write_bps: vec![dev(0, 2_097_152)],
            ..Default::default()
        };
        let lines = |v| {
            r.files(v)
                .into_iter()
                .map(|f| format!("{}={}", f.file, f.value))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            lines(CgroupVersion::V1),
            [
                "blkio.throttle.read_bps_device=8:0 1048576",
                "blkio.throttle.read_bps_device=8:16 100",
                "blkio.throttle.write_bps_device=8:0 2097152",
            ]
        );
        assert_eq!(
            lines(CgroupVersion::V2),
            [
                "io.max=8:0 rbps=1048576 wbps=2097152",
                "io.max=8:16 rbps=100"
            ]
        );
        assert_eq!(r.extra_v1_controllers(), ["blkio"]);
        assert!(DeviceRate::parse("device-read-bps", "/dev/null:1mb").is_err());
        assert!(DeviceRate::parse("device-read-bps", "/nonexistent:1mb").is_err());
        assert!(DeviceRate::parse("device-read-bps", "nocolon").is_err());
    }
}
