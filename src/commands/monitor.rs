//! top, stats and port: looking at a running container from outside.

use crate::cli_container::{PortArgs, StatsArgs, TopArgs};
use crate::output::{is_json, print_json, print_rows, write_out};
use crate::Ctx;
use anyhow::Result;
use libruntime::container::top::Descriptor;
use libruntime::container::Container;
use libruntime::container::{self as ctr, ContainerRecord};
use libruntime::time::human_size;
use serde_json::{json, Value};

pub fn top(ctx: &Ctx, a: TopArgs) -> Result<i32> {
    let descs = Descriptor::parse_all(&a.descriptors)?;
    let table = Container::find(&ctx.paths, &ctx.maps, &a.name)?.top(&descs)?;
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

pub fn stats_row(ctx: &Ctx, r: &ContainerRecord) -> Option<Value> {
    let u = libruntime::container::stats::usage(&ctx.paths, r)?;
    Some(json!({
        "ID": r.short_id(),
        "Name": r.name,
        "CPUPerc": format!("{:.2}%", u.cpu_share * 100.0),
        "MemUsage": format!("{} / {}", human_size(u.memory_bytes), human_size(u.memory_limit)),
        "MemPerc": format!("{:.2}%", u.memory_share() * 100.0),
        "NetIO": format!("{} / {}", human_size(u.net_rx), human_size(u.net_tx)),
        "BlockIO": "-- / --",
        "PIDs": u.pids,
    }))
}

pub const STATS_HEADERS: &[(&str, &str)] = &[
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
