//! `stats`: what a running container uses, from its cgroup where it has one, else
//! summed over its processes (rootless on cgroup v1), and its interfaces' counters.

use super::record::{ContainerDirs, ContainerRecord};
use super::state::{State, Status};
use crate::cgroups::ContainerCgroup;
use crate::paths::Paths;
use crate::procinfo;

/// One container's usage at one moment.
#[derive(Debug, Clone, PartialEq)]
pub struct Usage {
    /// CPU time over the container's life, as a share of one CPU (1.0 = 100 %).
    pub cpu_share: f64,
    /// CPU time over the container's life, in nanoseconds.
    pub cpu_nanos: u64,
    pub memory_bytes: u64,
    /// The memory cgroup's `memory.stat` counters; empty without one.
    pub memory_stat: std::collections::BTreeMap<String, u64>,
    /// `--memory`, or the machine's memory for a container without a limit.
    pub memory_limit: u64,
    pub net_rx: u64,
    pub net_tx: u64,
    pub pids: u64,
}

impl Usage {
    pub fn memory_share(&self) -> f64 {
        if self.memory_limit > 0 {
            self.memory_bytes as f64 / self.memory_limit as f64
        } else {
            0.0
        }
    }
}

/// The usage of `record`'s container, or None when it does not run.
pub fn usage(paths: &Paths, record: &ContainerRecord) -> Option<Usage> {
    let st = State::load(&ContainerDirs::new(paths, &record.id)).ok()?;
    if st.status != Status::Running && st.status != Status::Paused {
        return None;
    }
    let pids = procinfo::pids_in_pid_ns(st.pid);
    let cg = ContainerCgroup::at(&st.cgroup);
    let ticks = procinfo::clock_ticks();
    let stats: Vec<_> = pids.iter().filter_map(|p| procinfo::stat(*p)).collect();
    let memory_bytes = cg.memory_usage().unwrap_or_else(|| {
        stats
            .iter()
            .map(|s| s.rss_pages * procinfo::page_size())
            .sum()
    });
    let cpu_secs = cg.cpu_nanos().map(|n| n as f64 / 1e9).unwrap_or_else(|| {
        stats
            .iter()
            .map(|s| s.cpu_ticks as f64 / ticks as f64)
            .sum()
    });
    let started = crate::time::unix(Some(&st.started_at));
    let elapsed = (chrono::Utc::now().timestamp() - started).max(1) as f64;
    let (net_rx, net_tx) =
        net_io(&std::fs::read_to_string(format!("/proc/{}/net/dev", st.pid)).unwrap_or_default());
    Some(Usage {
        cpu_share: cpu_secs / elapsed,
        cpu_nanos: (cpu_secs * 1e9) as u64,
        memory_bytes,
        memory_stat: cg.memory_stat(),
        // The container's own limit when it has one, else the machine's memory.
        memory_limit: record.config.resources.memory.unwrap_or_else(|| {
            mem_total(&std::fs::read_to_string("/proc/meminfo").unwrap_or_default())
        }),
        net_rx,
        net_tx,
        pids: cg.pids().unwrap_or(pids.len() as u64),
    })
}

/// MemTotal of a /proc/meminfo text, in bytes.
pub fn mem_total(meminfo: &str) -> u64 {
    meminfo
        .lines()
        .find(|l| l.starts_with("MemTotal:"))
        .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        .unwrap_or(0)
        * 1024
}

/// Bytes received and sent on the interfaces of a /proc/PID/net/dev text, loopback
/// left out.
fn net_io(dev: &str) -> (u64, u64) {
    dev.lines()
        .skip(2)
        .filter_map(|l| {
            let (name, rest) = l.split_once(':')?;
            if name.trim() == "lo" {
                return None;
            }
            let f: Vec<u64> = rest
                .split_whitespace()
                .filter_map(|x| x.parse().ok())
                .collect();
            Some((*f.first()?, *f.get(8)?))
        })
        .fold((0, 0), |(a, b), (x, y)| (a + x, b + y))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_texts_read_as_usage() {
        let dev = "Inter-|   Receive                                                |  Transmit\n face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n    lo:     100       1    0    0    0     0          0         0      100       1    0    0    0     0       0          0\n  tap0:    2000      10    0    0    0     0          0         0      300       3    0    0    0     0       0          0\n  eth1:      50       1    0    0    0     0          0         0        5       1    0    0    0     0       0          0\n";
        assert_eq!(net_io(dev), (2050, 305));
        assert_eq!(
            mem_total("MemTotal:       1000 kB\nMemFree: 5 kB\n"),
            1_024_000
        );
        assert_eq!(mem_total(""), 0);
        let u = Usage {
            cpu_share: 0.5,
            cpu_nanos: 0,
            memory_bytes: 25,
            memory_stat: Default::default(),
            memory_limit: 100,
            net_rx: 0,
            net_tx: 0,
            pids: 1,
        };
        assert_eq!(u.memory_share(), 0.25);
    }
}
