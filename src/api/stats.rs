//! `GET /containers/{id}/stats`: a container's use in dockerd's JSON shape, one
//! object (`stream=false`) or one a second. Clients compute CPU % from the change of
//! `cpu_stats` over `precpu_stats` against the change of the machine's CPU time, so
//! every sample carries the previous one.

use super::error::ApiResult;
use super::query::Query;
use crate::Ctx;
use libruntime::container::stats::Usage;
use libruntime::container::ContainerRecord;
use serde_json::{json, Value};
use std::time::Duration;

/// One reading: the container's use (None when it does not run) and the machine's
/// CPU time, taken together.
#[derive(Clone)]
struct Sample {
    at: chrono::DateTime<chrono::Utc>,
    usage: Option<Usage>,
    system_nanos: u64,
}

fn sample(ctx: &Ctx, r: &ContainerRecord) -> Sample {
    Sample {
        at: chrono::Utc::now(),
        usage: libruntime::container::stats::usage(&ctx.paths, r),
        system_nanos: system_cpu_nanos(
            &std::fs::read_to_string("/proc/stat").unwrap_or_default(),
            libruntime::procinfo::clock_ticks(),
        ),
    }
}

/// The machine's CPU time since boot, from /proc/stat's `cpu` line, in nanoseconds,
/// as dockerd reports `system_cpu_usage`.
pub fn system_cpu_nanos(proc_stat: &str, ticks: u64) -> u64 {
    let Some(line) = proc_stat.lines().find(|l| l.starts_with("cpu ")) else {
        return 0;
    };
    let jiffies: u64 = line
        .split_whitespace()
        .skip(1)
        .take(7)
        .filter_map(|f| f.parse::<u64>().ok())
        .sum();
    jiffies * (1_000_000_000 / ticks.max(1))
}

fn online_cpus() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

fn cpu_stats(s: Option<&Sample>) -> Value {
    let total = s.and_then(|s| s.usage.as_ref()).map_or(0, |u| u.cpu_nanos);
    let system = s.map_or(0, |s| s.system_nanos);
    let mut v = json!({
        "cpu_usage": {"total_usage": total, "usage_in_kernelmode": 0, "usage_in_usermode": total},
        "throttling_data": {"periods": 0, "throttled_periods": 0, "throttled_time": 0},
    });
    if s.is_some_and(|s| s.usage.is_some()) {
        v["system_cpu_usage"] = json!(system);
        v["online_cpus"] = json!(online_cpus());
    }
    v
}

/// The JSON dockerd sends for one reading, `pre` being the one before.
fn value(r: &ContainerRecord, now: &Sample, pre: Option<&Sample>) -> Value {
    let zero_time = "0001-01-01T00:00:00Z".to_string();
    let stamp = |s: Option<&Sample>| {
        s.filter(|s| s.usage.is_some())
            .map(|s| s.at.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true))
            .unwrap_or_else(|| zero_time.clone())
    };
    let u = now.usage.as_ref();
    let blkio = json!({
        "io_service_bytes_recursive": null, "io_serviced_recursive": null,
        "io_queue_recursive": null, "io_service_time_recursive": null,
        "io_wait_time_recursive": null, "io_merged_recursive": null,
        "io_time_recursive": null, "sectors_recursive": null,
    });
    let mut v = json!({
        "read": stamp(Some(now)),
        "preread": stamp(pre),
        "pids_stats": u.map_or(json!({}), |u| json!({"current": u.pids})),
        "blkio_stats": blkio,
        "num_procs": 0,
        "storage_stats": {},
        "cpu_stats": cpu_stats(Some(now)),
        "precpu_stats": cpu_stats(pre),
        "memory_stats": u.map_or(json!({}), |u| json!({
            "usage": u.memory_bytes,
            "stats": u.memory_stat,
            "limit": u.memory_limit,
        })),
        "name": format!("/{}", r.name),
        "id": r.id,
    });
    if let Some(u) = u {
        v["networks"] = json!({"eth0": {
            "rx_bytes": u.net_rx, "rx_packets": 0, "rx_errors": 0, "rx_dropped": 0,
            "tx_bytes": u.net_tx, "tx_packets": 0, "tx_errors": 0, "tx_dropped": 0,
        }});
    }
    v
}

/// Writes readings through `send` until it refuses one (the client left), or once
/// with `stream=false`. `one-shot` skips the second reading a single answer
/// otherwise waits for, as dockerd does.
pub fn stats(
    ctx: &Ctx,
    r: &ContainerRecord,
    q: &Query,
    mut send: impl FnMut(Value) -> bool,
) -> ApiResult<()> {
    let streaming = q.get("stream").is_none_or(|_| q.flag("stream"));
    let one_shot = q.flag("one-shot");
    let mut pre = None;
    if !streaming && !one_shot {
        pre = Some(sample(ctx, r));
        std::thread::sleep(Duration::from_secs(1));
    }
    loop {
        let now = sample(ctx, r);
        if !send(value(r, &now, pre.as_ref())) || !streaming {
            return Ok(());
        }
        pre = Some(now);
        std::thread::sleep(Duration::from_secs(1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn machine_cpu_time_from_proc_stat() {
        let text = "cpu  100 5 50 1000 10 0 2 7 0 0\ncpu0 50 2 25 500 5 0 1 0 0 0\n";
        // user..softirq, not steal or guest: dockerd's sum.
        assert_eq!(system_cpu_nanos(text, 100), 1167 * 10_000_000);
        assert_eq!(system_cpu_nanos("", 100), 0);
    }
}
