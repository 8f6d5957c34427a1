//! What a container asks of bridge networks (`NetworkRequest`), checked against the
//! definitions, and the addresses a running one got, kept in `networks.json` in its
//! runtime directory for `inspect`. Plugging containers in and out is the container
//! side's (`container::networks`).

use super::definition;
use super::holder::Attached;
use crate::error::{Error, Result};
use crate::fsutil;
use crate::paths::Paths;
use serde::{Deserialize, Serialize};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

/// One network a container is on, as its record keeps it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkRequest {
    pub name: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub ip: Option<Ipv4Addr>,
}

/// Where a running container's addresses are kept, in its runtime directory.
pub fn runtime_file(run_dir: &Path) -> PathBuf {
    run_dir.join("networks.json")
}

/// The addresses a running container holds, from its runtime directory.
pub fn attached(run_dir: &Path) -> Vec<Attached> {
    fsutil::read_json(&runtime_file(run_dir))
        .ok()
        .flatten()
        .unwrap_or_default()
}

/// Checks a create request's networks against the stored definitions.
pub fn check(paths: &Paths, wanted: &[NetworkRequest]) -> Result<()> {
    for w in wanted {
        let n = definition::get(paths, &w.name)?;
        if let Some(ip) = w.ip {
            let a = n.addressing()?;
            if !a.subnet.is_host(ip) || ip == a.gateway {
                return Err(Error::InvalidArgument(format!(
                    "--ip {ip} is not a free host address of network {}'s subnet {}",
                    n.name, a.subnet
                )));
            }
        }
    }
    Ok(())
}

/// The first network's resolver for /etc/resolv.conf: its gateway when it has DNS.
pub fn resolver(paths: &Paths, wanted: &[NetworkRequest]) -> Option<String> {
    let n = definition::get(paths, &wanted.first()?.name).ok()?;
    if !n.dns_enabled {
        return None;
    }
    n.addressing().ok().map(|a| a.gateway.to_string())
}
