//! The network endpoints: list, create (with IPAM), inspect, connect, disconnect,
//! remove, prune, in docker's shapes. skiff's default network answers to docker's
//! `bridge` as well as its own name.

use super::error::{ApiError, ApiResult};
use super::query::Query;
use crate::Ctx;
use libruntime::container::networks;
use libruntime::network::attach::{self, NetworkRequest};
use libruntime::network::definition::{self, CreateRequest, Network};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;

fn find(ctx: &Ctx, name: &str) -> ApiResult<Network> {
    let name = if name == "bridge" {
        definition::DEFAULT_NAME
    } else {
        name
    };
    definition::get(&ctx.paths, name)
        .map_err(|_| ApiError::NotFound(format!("network {name} not found")))
}

fn value(ctx: &Ctx, n: &Network) -> ApiResult<Value> {
    let mut containers = serde_json::Map::new();
    for c in networks::users(&ctx.paths, n)? {
        let dirs = libruntime::container::record::ContainerDirs::new(&ctx.paths, &c.id);
        let at = attach::attached(&dirs.run)
            .into_iter()
            .find(|x| x.network_id == n.id);
        containers.insert(
            c.id.clone(),
            json!({
                "Name": c.name,
                "EndpointID": "",
                "MacAddress": at.as_ref().map(|a| a.mac.clone()).unwrap_or_default(),
                "IPv4Address": at.as_ref().map(|a| format!("{}/{}", a.ip, a.prefix)).unwrap_or_default(),
                "IPv6Address": "",
            }),
        );
    }
    Ok(json!({
        "Name": n.name,
        "Id": n.id,
        "Created": n.created,
        "Scope": "local",
        "Driver": n.driver,
        "EnableIPv6": n.ipv6_enabled,
        "IPAM": {
            "Driver": "default",
            "Options": n.ipam_options,
            "Config": n.subnets.iter().map(|s| json!({"Subnet": s.subnet, "Gateway": s.gateway})).collect::<Vec<_>>(),
        },
        "Internal": n.internal,
        "Attachable": false,
        "Ingress": false,
        "ConfigFrom": {"Network": ""},
        "ConfigOnly": false,
        "Containers": containers,
        "Options": n.options,
        "Labels": n.labels,
    }))
}

pub fn list(ctx: &Ctx, q: &Query) -> ApiResult<Value> {
    let filters = q.filters().map_err(ApiError::BadRequest)?;
    let mut out = Vec::new();
    for n in definition::list(&ctx.paths)? {
        let mut keep = true;
        for f in &filters {
            keep &= crate::commands::network::matches_filter(&n, f)
                .map_err(|e| ApiError::BadRequest(crate::exit::one_line(&e)))?;
        }
        if keep {
            out.push(value(ctx, &n)?);
        }
    }
    Ok(Value::Array(out))
}

pub fn inspect(ctx: &Ctx, name: &str) -> ApiResult<Value> {
    value(ctx, &find(ctx, name)?)
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct IpamConfig {
    subnet: String,
    gateway: String,
    #[serde(rename = "IPRange")]
    ip_range: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct Ipam {
    config: Option<Vec<IpamConfig>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct CreateBody {
    name: String,
    driver: String,
    internal: bool,
    #[serde(rename = "IPAM")]
    ipam: Option<Ipam>,
    labels: Option<BTreeMap<String, String>>,
    options: Option<BTreeMap<String, String>>,
}

pub fn create(ctx: &Ctx, body: &[u8]) -> ApiResult<Value> {
    let b: CreateBody = serde_json::from_slice(body)
        .map_err(|e| ApiError::BadRequest(format!("invalid network request: {e}")))?;
    if b.name.is_empty() {
        return Err(ApiError::BadRequest(
            "network name must not be empty".into(),
        ));
    }
    if definition::get(&ctx.paths, &b.name).is_ok() {
        return Err(ApiError::Conflict(format!(
            "network with name {} already exists",
            b.name
        )));
    }
    let first = b
        .ipam
        .and_then(|i| i.config)
        .and_then(|c| c.into_iter().next())
        .unwrap_or_default();
    let some = |s: String| Some(s).filter(|s| !s.is_empty());
    let req = CreateRequest {
        name: Some(b.name),
        driver: some(b.driver),
        subnet: some(first.subnet),
        gateway: some(first.gateway),
        ip_range: some(first.ip_range),
        internal: b.internal,
        disable_dns: false,
        labels: b.labels.unwrap_or_default(),
        // docker's bridge options (com.docker.network.*) have no meaning here.
        options: b
            .options
            .unwrap_or_default()
            .into_iter()
            .filter(|(k, _)| !k.starts_with("com.docker."))
            .collect(),
    };
    let _lock = definition::lock(&ctx.paths)?;
    let n =
        definition::create(&ctx.paths, &req).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    Ok(json!({"Id": n.id, "Warning": ""}))
}

pub fn delete(ctx: &Ctx, name: &str) -> ApiResult<()> {
    let n = find(ctx, name)?;
    if n.name == definition::DEFAULT_NAME {
        return Err(ApiError::Conflict(format!(
            "{} is a pre-defined network and cannot be removed",
            n.name
        )));
    }
    if let Some(c) = networks::users(&ctx.paths, &n)?.first() {
        return Err(ApiError::Conflict(format!(
            "error while removing network: network {} id {} has active endpoints (container {})",
            n.name, n.id, c.name
        )));
    }
    let _lock = definition::lock(&ctx.paths)?;
    definition::remove(&ctx.paths, &n.name)?;
    Ok(())
}

pub fn prune(ctx: &Ctx) -> ApiResult<Value> {
    let _lock = definition::lock(&ctx.paths)?;
    let mut gone = Vec::new();
    for n in definition::list(&ctx.paths)? {
        if n.name != definition::DEFAULT_NAME && networks::users(&ctx.paths, &n)?.is_empty() {
            definition::remove(&ctx.paths, &n.name)?;
            gone.push(n.name);
        }
    }
    Ok(json!({"NetworksDeleted": gone}))
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct EndpointIpam {
    #[serde(rename = "IPv4Address")]
    ipv4_address: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct EndpointConfig {
    aliases: Option<Vec<String>>,
    #[serde(rename = "IPAMConfig")]
    ipam_config: Option<EndpointIpam>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct ConnectBody {
    container: String,
    endpoint_config: Option<EndpointConfig>,
}

pub fn connect(ctx: &Ctx, name: &str, body: &[u8], on: bool) -> ApiResult<()> {
    let b: ConnectBody = serde_json::from_slice(body)
        .map_err(|e| ApiError::BadRequest(format!("invalid request: {e}")))?;
    let n = find(ctx, name)?;
    let r = super::containers::find(ctx, &b.container)?;
    if !on {
        networks::disconnect(&ctx.paths, &r.id, &n.name)
            .map_err(|e| ApiError::Conflict(e.to_string()))?;
        return Ok(());
    }
    let ep = b.endpoint_config.unwrap_or_default();
    let ip = match ep
        .ipam_config
        .map(|i| i.ipv4_address)
        .filter(|a| !a.is_empty())
    {
        Some(a) => Some(
            a.parse()
                .map_err(|_| ApiError::BadRequest(format!("invalid IPv4 address {a:?}")))?,
        ),
        None => None,
    };
    let wanted = NetworkRequest {
        name: n.name,
        aliases: ep.aliases.unwrap_or_default(),
        ip,
    };
    networks::connect(&ctx.paths, &ctx.maps, &r.id, wanted)
        .map_err(|e| ApiError::Conflict(e.to_string()))?;
    Ok(())
}
