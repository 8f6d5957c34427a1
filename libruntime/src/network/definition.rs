//! Network definitions: what `network create` stores, one JSON file per network under
//! `networks/` in the storage root, in the shape `podman network inspect` prints.
//! The default network, `skiff`, is built in and never stored.

use super::subnet::Subnet;
use crate::error::{Context, Error, Result};
use crate::events::{Event, EventStatus, EventType};
use crate::network::NetworkError;
use crate::paths::Paths;
use crate::{fsutil, time};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::path::PathBuf;

pub const DEFAULT_NAME: &str = "skiff";
const DEFAULT_SUBNET: &str = "10.88.0.0/16";
const DEFAULT_INTERFACE: &str = "skiff0";
const HOST_LOOPBACK_OPTION: &str = "allow_host_loopback";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Network {
    pub name: String,
    pub id: String,
    pub driver: String,
    pub network_interface: String,
    pub created: String,
    pub subnets: Vec<SubnetDef>,
    pub ipv6_enabled: bool,
    pub internal: bool,
    pub dns_enabled: bool,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Driver options (`-o`): allow_host_loopback=true opens the host's loopback to
    /// the network's containers at 10.0.2.2.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub options: BTreeMap<String, String>,
    pub ipam_options: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SubnetDef {
    pub subnet: String,
    pub gateway: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease_range: Option<LeaseRange>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct LeaseRange {
    pub start_ip: String,
    pub end_ip: String,
}

/// The parsed addressing of a network, as the holder uses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Addressing {
    pub subnet: Subnet,
    pub gateway: Ipv4Addr,
    /// Addresses handed out automatically come from here (the whole subnet by default).
    pub first: Ipv4Addr,
    pub last: Ipv4Addr,
}

impl Network {
    pub fn addressing(&self) -> Result<Addressing> {
        let def = self.subnets.first().ok_or_else(|| {
            Error::InvalidArgument(format!("network {} has no subnet", self.name))
        })?;
        let subnet = Subnet::parse(&def.subnet)?;
        let ip = |s: &str| {
            s.parse::<Ipv4Addr>().map_err(|_| {
                Error::InvalidArgument(format!("network {}: bad address {s:?}", self.name))
            })
        };
        let (first, last) = match &def.lease_range {
            Some(r) => (ip(&r.start_ip)?, ip(&r.end_ip)?),
            None => (
                subnet.nth(1).unwrap_or(subnet.base),
                Ipv4Addr::from(u32::from(subnet.broadcast()) - 1),
            ),
        };
        Ok(Addressing {
            subnet,
            gateway: ip(&def.gateway)?,
            first,
            last,
        })
    }

    pub fn allows_host_loopback(&self) -> bool {
        self.options
            .get(HOST_LOOPBACK_OPTION)
            .is_some_and(|v| v == "true")
    }

    pub fn short_id(&self) -> &str {
        &self.id[..12.min(self.id.len())]
    }
}

/// What `network create` asks for.
#[derive(Debug, Clone, Default)]
pub struct CreateRequest {
    pub name: Option<String>,
    pub driver: Option<String>,
    pub subnet: Option<String>,
    pub gateway: Option<String>,
    pub ip_range: Option<String>,
    pub internal: bool,
    pub disable_dns: bool,
    pub labels: BTreeMap<String, String>,
    pub options: BTreeMap<String, String>,
}

fn check_options(options: &BTreeMap<String, String>) -> Result<()> {
    for (k, v) in options {
        if k != HOST_LOOPBACK_OPTION || !matches!(v.as_str(), "true" | "false") {
            return Err(Error::InvalidArgument(format!(
                "unsupported network option {k}={v}: only {HOST_LOOPBACK_OPTION}=true|false"
            )));
        }
    }
    Ok(())
}

fn dir(paths: &Paths) -> PathBuf {
    paths.root.join("networks")
}

fn file(paths: &Paths, name: &str) -> PathBuf {
    dir(paths).join(format!("{name}.json"))
}

/// Held while networks are created or removed, so two `create`s cannot pick one subnet.
pub fn lock(paths: &Paths) -> Result<crate::lock::StoreLock> {
    fsutil::create_dir_all(&dir(paths))?;
    crate::lock::StoreLock::exclusive(&dir(paths).join(".lock"))
}

fn default_network() -> Network {
    Network {
        name: DEFAULT_NAME.into(),
        // A fixed id, as podman's default network has one.
        id: crate::digest::Digest::of_bytes(DEFAULT_NAME.as_bytes())
            .hex()
            .to_string(),
        driver: "bridge".into(),
        network_interface: DEFAULT_INTERFACE.into(),
        created: String::new(),
        subnets: vec![SubnetDef {
            subnet: DEFAULT_SUBNET.into(),
            gateway: "10.88.0.1".into(),
            lease_range: None,
        }],
        ipv6_enabled: false,
        internal: false,
        dns_enabled: false,
        labels: BTreeMap::new(),
        options: BTreeMap::new(),
        ipam_options: host_local(),
    }
}

fn host_local() -> BTreeMap<String, String> {
    BTreeMap::from([("driver".to_string(), "host-local".to_string())])
}

/// Every network, the default first, then by name.
pub fn list(paths: &Paths) -> Result<Vec<Network>> {
    let mut out = vec![default_network()];
    let entries = match std::fs::read_dir(dir(paths)) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(Error::io("reading the networks directory", e)),
    };
    let mut stored = Vec::new();
    for e in entries.flatten() {
        let p = e.path();
        if p.extension().is_some_and(|x| x == "json") {
            if let Some(n) = fsutil::read_json::<Network>(&p)? {
                stored.push(n);
            }
        }
    }
    stored.sort_by(|a, b| a.name.cmp(&b.name));
    out.extend(stored);
    Ok(out)
}

/// A network by name, full id or unique id prefix.
pub fn get(paths: &Paths, key: &str) -> Result<Network> {
    let all = list(paths)?;
    if let Some(n) = all.iter().find(|n| n.name == key || n.id == key) {
        return Ok(n.clone());
    }
    let by_prefix: Vec<&Network> = all
        .iter()
        .filter(|n| !key.is_empty() && n.id.starts_with(key))
        .collect();
    match by_prefix.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(Error::Network(NetworkError::NotFound(key.to_string()))),
        _ => Err(Error::InvalidArgument(format!(
            "more than one network matches {key:?}: give more of the id or the name"
        ))),
    }
}

/// Creates a network; `lock` must be held.
pub fn create(paths: &Paths, req: &CreateRequest) -> Result<Network> {
    let driver = req.driver.as_deref().unwrap_or("bridge");
    if driver != "bridge" {
        return Err(Error::InvalidArgument(format!(
            "unsupported network driver {driver:?}: only bridge"
        )));
    }
    check_options(&req.options)?;
    let existing = list(paths)?;
    let name = match &req.name {
        Some(n) if !crate::ids::valid_name(n) => {
            return Err(Error::InvalidArgument(format!(
                "invalid network name {n:?}: names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*"
            )))
        }
        Some(n) if existing.iter().any(|x| &x.name == n) => {
            return Err(Error::InvalidArgument(format!(
                "network name {n} already used: network already exists"
            )))
        }
        Some(n) => n.clone(),
        None => (1..)
            .map(|i| format!("skiff{i}"))
            .find(|n| !existing.iter().any(|x| &x.name == n))
            .unwrap_or_default(),
    };
    let subnet = match &req.subnet {
        Some(s) => {
            let s = Subnet::parse(s)?;
            if let Some(other) = existing.iter().find(|n| {
                n.addressing()
                    .map(|a| a.subnet.overlaps(&s))
                    .unwrap_or(false)
            }) {
                return Err(Error::InvalidArgument(format!(
                    "subnet {s} is already used by network {}",
                    other.name
                )));
            }
            s
        }
        None => free_subnet(&existing)?,
    };
    let gateway = match &req.gateway {
        Some(g) => {
            let ip: Ipv4Addr = g.parse().map_err(|_| {
                Error::InvalidArgument(format!("invalid gateway {g:?}: want an IPv4 address"))
            })?;
            if !subnet.is_host(ip) {
                return Err(Error::InvalidArgument(format!(
                    "gateway {ip} is not a host address of subnet {subnet}"
                )));
            }
            ip
        }
        None => subnet.nth(1).unwrap_or(subnet.base),
    };
    let lease_range = match &req.ip_range {
        Some(r) => {
            let range = Subnet::parse(r).map_err(|_| {
                Error::InvalidArgument(format!(
                    "invalid --ip-range {r:?}: want a subnet in CIDR form"
                ))
            })?;
            if !subnet.contains(range.base) || !subnet.contains(range.broadcast()) {
                return Err(Error::InvalidArgument(format!(
                    "--ip-range {range} is not inside subnet {subnet}"
                )));
            }
            let first = range.nth(1).unwrap_or(range.base);
            let last = Ipv4Addr::from(u32::from(range.broadcast()) - 1);
            Some(LeaseRange {
                start_ip: first.to_string(),
                end_ip: last.to_string(),
            })
        }
        None => None,
    };
    let interface = (1..)
        .map(|i| format!("skiff{i}"))
        .find(|i| !existing.iter().any(|x| &x.network_interface == i))
        .unwrap_or_default();
    let net = Network {
        name: name.clone(),
        id: crate::ids::new_id(),
        driver: driver.into(),
        network_interface: interface,
        created: time::now_rfc3339(),
        subnets: vec![SubnetDef {
            subnet: subnet.to_string(),
            gateway: gateway.to_string(),
            lease_range,
        }],
        ipv6_enabled: false,
        internal: req.internal,
        dns_enabled: !req.disable_dns,
        labels: req.labels.clone(),
        options: req.options.clone(),
        ipam_options: host_local(),
    };
    fsutil::create_dir_all(&dir(paths))?;
    fsutil::write_json(&file(paths, &name), &net)?;
    emit_network(paths, EventStatus::Create, &net.id, &net.name);
    Ok(net)
}

/// The first 10.89.N.0/24 no network overlaps, as podman picks them.
fn free_subnet(existing: &[Network]) -> Result<Subnet> {
    let used: Vec<Subnet> = existing
        .iter()
        .filter_map(|n| n.addressing().ok().map(|a| a.subnet))
        .collect();
    (0..=255u32)
        .filter_map(|n| Subnet::parse(&format!("10.89.{n}.0/24")).ok())
        .find(|s| !used.iter().any(|u| u.overlaps(s)))
        .ok_or_else(|| {
            Error::InvalidArgument("no free subnet left in 10.89.0.0/16: give --subnet".into())
        })
}

/// Removes a stored network; `lock` must be held and no container may use it.
pub fn remove(paths: &Paths, name: &str) -> Result<()> {
    if name == DEFAULT_NAME {
        return Err(Error::InvalidArgument(format!(
            "the default network {DEFAULT_NAME} cannot be removed"
        )));
    }
    let id = get(paths, name).map(|n| n.id).unwrap_or_default();
    std::fs::remove_file(file(paths, name)).ctx(|| format!("removing network {name}"))?;
    emit_network(paths, EventStatus::Remove, &id, name);
    Ok(())
}

fn emit_network(paths: &Paths, status: EventStatus, id: &str, name: &str) {
    let e = Event::new(EventType::Network, status).id(id).name(name);
    crate::events::emit(paths, &e);
}
