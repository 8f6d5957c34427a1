//! network create, ls, inspect, rm, prune, exists, connect, disconnect.

use crate::cli_network::*;
use crate::output::{print_json, print_listing, print_rows, write_out, Listing};
use crate::Ctx;
use anyhow::{Context, Result};
use libruntime::container::networks;
use libruntime::container::options::parse_key_values;
use libruntime::network::attach::{self, NetworkRequest};
use libruntime::network::definition::{self, CreateRequest, Network};
use serde_json::Value;

pub fn dispatch(ctx: &Ctx, cmd: NetworkCommand) -> Result<i32> {
    match cmd {
        NetworkCommand::Create(a) => create(ctx, a),
        NetworkCommand::Ls(a) => ls(ctx, a),
        NetworkCommand::Inspect(a) => inspect(ctx, a),
        NetworkCommand::Rm(a) => rm(ctx, a),
        NetworkCommand::Prune(a) => prune(ctx, a),
        NetworkCommand::Exists(a) => Ok(if definition::get(&ctx.paths, &a.name).is_ok() {
            0
        } else {
            1
        }),
        NetworkCommand::Connect(a) => connect(ctx, a),
        NetworkCommand::Disconnect(a) => disconnect(ctx, a),
    }
}

fn create(ctx: &Ctx, a: NetworkCreateArgs) -> Result<i32> {
    let req = CreateRequest {
        name: a.name,
        driver: a.driver,
        subnet: a.subnet,
        gateway: a.gateway,
        ip_range: a.ip_range,
        internal: a.internal,
        disable_dns: a.disable_dns,
        labels: parse_key_values("label", &a.label)?,
        options: parse_key_values("opt", &a.opt)?,
    };
    let _lock = definition::lock(&ctx.paths)?;
    let n = definition::create(&ctx.paths, &req)?;
    write_out(&format!("{}\n", n.name))?;
    Ok(0)
}

/// What ls and inspect show: podman's fields, plus the Go-template names docker uses.
fn value(n: &Network, containers: Option<Value>) -> Value {
    let mut v = serde_json::to_value(n).unwrap_or(Value::Null);
    if let Some(c) = containers {
        v["containers"] = c;
    }
    v
}

pub(crate) fn matches_filter(n: &Network, f: &str) -> Result<bool> {
    Ok(match f.split_once('=') {
        Some(("name", x)) => n.name.contains(x),
        Some(("id", x)) => n.id.starts_with(x),
        Some(("driver", x)) => n.driver == x,
        Some(("label", l)) => match l.split_once('=') {
            Some((k, v)) => n.labels.get(k).is_some_and(|x| x == v),
            None => n.labels.contains_key(l),
        },
        _ => anyhow::bail!("invalid filter {f:?}: use name=, id=, driver= or label="),
    })
}

fn ls(ctx: &Ctx, a: NetworkLsArgs) -> Result<i32> {
    let mut rows = Vec::new();
    for n in definition::list(&ctx.paths)? {
        let mut keep = true;
        for f in &a.filter {
            keep &= matches_filter(&n, f)?;
        }
        if keep {
            let mut v = value(&n, None);
            let id = if a.no_trunc { &n.id } else { n.short_id() };
            // Table columns and docker's template names.
            v["ID"] = id.into();
            v["Name"] = n.name.clone().into();
            v["Driver"] = n.driver.clone().into();
            rows.push(v);
        }
    }
    print_listing(
        &Listing {
            quiet: a.quiet,
            noheading: a.noheading,
            key: "name",
            format: a.format.as_deref(),
            default_table: "table {{.ID}}\t{{.Name}}\t{{.Driver}}",
            headers: &[("ID", "NETWORK ID"), ("Name", "NAME"), ("Driver", "DRIVER")],
        },
        rows,
    )?;
    Ok(0)
}

fn inspect(ctx: &Ctx, a: NetworkInspectArgs) -> Result<i32> {
    let mut values = Vec::new();
    for name in &a.names {
        let n = definition::get(&ctx.paths, name)?;
        let mut containers = serde_json::Map::new();
        for c in networks::users(&ctx.paths, &n)? {
            let dirs = libruntime::container::record::ContainerDirs::new(&ctx.paths, &c.id);
            let mut entry = serde_json::json!({"name": c.name});
            if let Some(at) = attach::attached(&dirs.run)
                .into_iter()
                .find(|x| x.network_id == n.id)
            {
                entry["interfaces"] = serde_json::json!({
                    at.interface.clone(): {
                        "subnets": [{"ipnet": format!("{}/{}", at.ip, at.prefix), "gateway": at.gateway}],
                        "mac_address": at.mac,
                    }
                });
            }
            containers.insert(c.id.clone(), entry);
        }
        values.push(value(&n, Some(Value::Object(containers))));
    }
    match a.format.as_deref() {
        None | Some("json") => print_json(&Value::Array(values))?,
        Some(f) => print_rows(Some(f), f, &[], &values)?,
    }
    Ok(0)
}

fn rm(ctx: &Ctx, a: NetworkRmArgs) -> Result<i32> {
    let _lock = definition::lock(&ctx.paths)?;
    for name in &a.names {
        let n = definition::get(&ctx.paths, name)
            .map_err(|e| crate::exit::with_code(crate::exit::code_of_lib(&e), e))?;
        if n.name == definition::DEFAULT_NAME {
            anyhow::bail!(
                "the default network {} cannot be removed",
                definition::DEFAULT_NAME
            );
        }
        let users = networks::users(&ctx.paths, &n)?;
        if let (false, Some(c)) = (a.force, users.first()) {
            return Err(crate::exit::with_code(
                2,
                anyhow::anyhow!(
                    "network {} is being used by container {}: remove it first or use --force",
                    n.name,
                    c.name
                ),
            ));
        }
        for c in &users {
            ctx.handle(c).remove(true)?;
        }
        definition::remove(&ctx.paths, &n.name)?;
        write_out(&format!("{}\n", n.name))?;
    }
    Ok(0)
}

pub fn prune(ctx: &Ctx, a: NetworkPruneArgs) -> Result<i32> {
    if !a.force
        && !super::image::confirm(
            "WARNING! This will remove all networks not used by at least one container.",
        )?
    {
        return Ok(0);
    }
    let _lock = definition::lock(&ctx.paths)?;
    for n in definition::list(&ctx.paths)? {
        if n.name != definition::DEFAULT_NAME && networks::users(&ctx.paths, &n)?.is_empty() {
            definition::remove(&ctx.paths, &n.name)?;
            write_out(&format!("{}\n", n.name))?;
        }
    }
    Ok(0)
}

fn connect(ctx: &Ctx, a: NetworkConnectArgs) -> Result<i32> {
    let record = libruntime::container::find(&ctx.paths, &a.container)?;
    let ip =
        a.ip.as_deref()
            .map(|ip| {
                ip.parse()
                    .with_context(|| format!("invalid --ip {ip:?}: want an IPv4 address"))
            })
            .transpose()?;
    let wanted = NetworkRequest {
        name: a.network,
        aliases: a.alias,
        ip,
    };
    networks::connect(&ctx.paths, &ctx.maps, &record.id, wanted)?;
    Ok(0)
}

fn disconnect(ctx: &Ctx, a: NetworkDisconnectArgs) -> Result<i32> {
    let record = libruntime::container::find(&ctx.paths, &a.container)?;
    networks::disconnect(&ctx.paths, &record.id, &a.network)?;
    Ok(0)
}
