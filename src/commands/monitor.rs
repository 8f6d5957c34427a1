//! top, stats and port: looking at a running container from outside.

use crate::cli_container::{PortArgs, StatsArgs, TopArgs};
use crate::output::{is_json, print_json, print_rows, write_out};
use crate::Ctx;
use anyhow::{bail, Result};
use libruntime::cgroups::ContainerCgroup;
use libruntime::container::top::Descriptor;
use libruntime::container::{self as ctr, ContainerDirs, ContainerRecord, State, Status};
use libruntime::procinfo;
use libruntime::time::human_size;
use serde_json::{json, Value};

fn running_state(ctx: &Ctx, r: &ContainerRecord) -> Result<State> {
    let st = State::load(&ContainerDirs::new(&ctx.paths, &r.id))?;
    if st.status != Status::Running && st.status != Status::Paused {
        bail!("{} is not running", r.name);
    }
    Ok(st)
}

pub fn top(ctx: &Ctx, a: TopArgs) -> Result<i32> {
    let descs = Descriptor::parse_all(&a.descriptors)?;
    let r = ctr::find(&ctx.paths, &a.name)?;
    let st = running_state(ctx, &r)?;
    let table = libruntime::container::top::top(st.pid, &descs);
    let lines: Vec<String> = std::iter::once(table.headers.join("\t"))
        .chain(table.rows.iter().map(|r| r.join("\t")))
        .collect();
    write_out(&crate::table::align(&lines))?;
    Ok(0)
}

pub fn port(ctx: &Ctx, a: PortArgs) -> Result<i32> {
    let r = ctr::find(&ctx.paths, &a.name)?;
    let mut out = String::new();
    for p in &r.config.ports {
        let key = format!("{}/{}", p.container_port, p.protocol);
        if let Some(want) = &a.port {
            let want = if want.contains('/') {
                want.clone()
            } else {
                format!("{want}/tcp")
            };
            if want != key {
                continue;
            }
        }
        let ip = if p.host_ip.is_empty() {
            "0.0.0.0"
        } else {
            &p.host_ip
        };
        out.push_str(&format!("{key} -> {ip}:{}\n", p.host_port));
    }
    write_out(&out)?;
    Ok(0)
}

fn mem_total() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .unwrap_or(0)
        * 1024
}

/// Bytes received and sent on the container's interfaces other than loopback.
fn net_io(pid: i32) -> (u64, u64) {
    let text = std::fs::read_to_string(format!("/proc/{pid}/net/dev")).unwrap_or_default();
    text.lines()
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

fn stats_row(ctx: &Ctx, r: &ContainerRecord) -> Option<Value> {
    let st = State::load(&ContainerDirs::new(&ctx.paths, &r.id)).ok()?;
    if st.status != Status::Running && st.status != Status::Paused {
        return None;
    }
    let pids = procinfo::pids_in_pid_ns(st.pid);
    let cg = ContainerCgroup::at(&st.cgroup);
    let ticks = procinfo::clock_ticks();
    let stats: Vec<_> = pids.iter().filter_map(|p| procinfo::stat(*p)).collect();
    // Without a cgroup (rootless on v1) the figures are summed over the processes.
    let mem = cg.memory_usage().unwrap_or_else(|| {
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
    let started = libruntime::time::unix(Some(&st.started_at));
    let elapsed = (chrono::Utc::now().timestamp() - started).max(1) as f64;
    let limit = mem_total();
    let (rx, tx) = net_io(st.pid);
    Some(json!({
        "ID": r.short_id(),
        "Name": r.name,
        "CPUPerc": format!("{:.2}%", cpu_secs / elapsed * 100.0),
        "MemUsage": format!("{} / {}", human_size(mem), human_size(limit)),
        "MemPerc": format!("{:.2}%", if limit > 0 { mem as f64 / limit as f64 * 100.0 } else { 0.0 }),
        "NetIO": format!("{} / {}", human_size(rx), human_size(tx)),
        "BlockIO": "-- / --",
        "PIDs": cg.pids().unwrap_or(pids.len() as u64),
    }))
}

const STATS_HEADERS: &[(&str, &str)] = &[
    ("ID", "ID"),
    ("Name", "NAME"),
    ("CPUPerc", "CPU %"),
    ("MemUsage", "MEM USAGE / LIMIT"),
    ("MemPerc", "MEM %"),
    ("NetIO", "NET IO"),
    ("BlockIO", "BLOCK IO"),
    ("PIDs", "PIDS"),
];

pub fn stats(ctx: &Ctx, a: StatsArgs) -> Result<i32> {
    let records: Vec<ContainerRecord> = if a.names.is_empty() {
        ctr::list(&ctx.paths)?
    } else {
        a.names
            .iter()
            .map(|n| ctr::find(&ctx.paths, n))
            .collect::<libruntime::Result<_>>()?
    };
    let default = "table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}";
    loop {
        let rows: Vec<Value> = records.iter().filter_map(|r| stats_row(ctx, r)).collect();
        if is_json(a.format.as_deref()) {
            print_json(&Value::Array(rows))?;
        } else {
            print_rows(a.format.as_deref(), default, STATS_HEADERS, &rows)?;
        }
        if a.no_stream {
            return Ok(0);
        }
        std::thread::sleep(std::time::Duration::from_secs(1));
    }
}
