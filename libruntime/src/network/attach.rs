//! Containers on bridge networks: what their records ask for, plugging them in through
//! the holder when they start, and `network connect`/`disconnect` while they run.
//! The addresses a running container got are kept in `networks.json` in its runtime
//! directory, for `inspect`.

use super::definition::{self, Network};
use super::holder::{self, AttachRequest, Attached, NetworkAttach, Request, Session};
use crate::container::record::{ContainerDirs, ContainerRecord};
use crate::container::state::State;
use crate::error::{Error, Result};
use crate::fsutil;
use crate::paths::Paths;
use crate::userns::IdMaps;
use serde::{Deserialize, Serialize};
use std::net::Ipv4Addr;
use std::path::PathBuf;

/// One network a container is on, as its record keeps it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkRequest {
    pub name: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub ip: Option<Ipv4Addr>,
}

pub fn runtime_file(dirs: &ContainerDirs) -> PathBuf {
    dirs.run.join("networks.json")
}

/// The addresses a running container holds, from its runtime directory.
pub fn attached(dirs: &ContainerDirs) -> Vec<Attached> {
    fsutil::read_json(&runtime_file(dirs))
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

fn names_of(record: &ContainerRecord) -> Vec<String> {
    vec![record.name.clone(), record.short_id().to_string()]
}

fn request_for(
    record: &ContainerRecord,
    pid: i32,
    networks: Vec<(Network, &NetworkRequest)>,
    first_interface: usize,
    with_ports: bool,
) -> AttachRequest {
    AttachRequest {
        container: record.id.clone(),
        pid,
        names: names_of(record),
        networks: networks
            .into_iter()
            .enumerate()
            .map(|(i, (network, r))| NetworkAttach {
                network,
                aliases: r.aliases.clone(),
                ip: r.ip,
                interface: format!("eth{}", first_interface + i),
            })
            .collect(),
        ports: if with_ports {
            record.config.ports.clone()
        } else {
            vec![]
        },
    }
}

/// Plugs a starting container (its init is `pid`) into its networks; the session
/// keeps the holder alive meanwhile.
pub fn attach_on_start(
    paths: &Paths,
    session: &Session,
    record: &ContainerRecord,
    dirs: &ContainerDirs,
    pid: i32,
) -> Result<Vec<Attached>> {
    let mut nets = Vec::new();
    for r in &record.config.networks {
        nets.push((definition::get(paths, &r.name)?, r));
    }
    let answer = session.request(&Request::Attach(request_for(record, pid, nets, 0, true)))?;
    fsutil::write_json(&runtime_file(dirs), &answer.attached)?;
    if let Some(first) = answer.attached.first() {
        update_hosts(dirs, record, first.ip);
    }
    Ok(answer.attached)
}

/// Frees a stopped container's addresses (quietly: the holder also notices by itself).
pub fn detach_on_exit(paths: &Paths, record: &ContainerRecord, dirs: &ContainerDirs) {
    if let Err(e) = holder::detach(paths, &record.id, None) {
        crate::log::warn(&format!("releasing the container's network: {e}"));
    }
    let _ = std::fs::remove_file(runtime_file(dirs));
}

/// Points the container's own name in its /etc/hosts at its address.
fn update_hosts(dirs: &ContainerDirs, record: &ContainerRecord, ip: Ipv4Addr) {
    let file = dirs.userdata().join("hosts");
    let Ok(text) = std::fs::read_to_string(&file) else {
        return;
    };
    let own = format!("\t{} {}", record.config.hostname, record.name);
    let out: String = text
        .lines()
        .map(|l| match l.split_once('\t') {
            Some((_, rest)) if format!("\t{rest}") == own => format!("{ip}{own}\n"),
            _ => format!("{l}\n"),
        })
        .collect();
    // Written in place: the file is bind-mounted into the container.
    let _ = std::fs::write(&file, out);
}

/// `network connect`: records the network and, when the container runs, plugs it in.
/// The record changes under the store lock.
pub fn connect(paths: &Paths, maps: &IdMaps, id: &str, wanted: NetworkRequest) -> Result<()> {
    crate::container::record::update(paths, id, |record| {
        connect_record(paths, maps, record, wanted)
    })
}

fn connect_record(
    paths: &Paths,
    maps: &IdMaps,
    record: &mut ContainerRecord,
    wanted: NetworkRequest,
) -> Result<()> {
    if record.config.network != crate::container::record::NetworkMode::Bridge {
        return Err(Error::InvalidArgument(format!(
            "container {} uses the {} network mode: only containers on bridge networks can be connected",
            record.name,
            record.config.network.describe()
        )));
    }
    let network = definition::get(paths, &wanted.name)?;
    if record
        .config
        .networks
        .iter()
        .any(|n| definition::get(paths, &n.name).is_ok_and(|x| x.id == network.id))
    {
        return Err(Error::InvalidArgument(format!(
            "container {} is already connected to network {}",
            record.name, network.name
        )));
    }
    check(paths, std::slice::from_ref(&wanted))?;
    let dirs = ContainerDirs::new(paths, &record.id);
    let st = State::load(&dirs)?;
    if st.is_active() {
        let mut now = attached(&dirs);
        let next = (0..)
            .find(|i| !now.iter().any(|a| a.interface == format!("eth{i}")))
            .unwrap_or(0);
        let session = Session::open(paths, maps)?;
        let req = request_for(
            record,
            st.pid,
            vec![(network.clone(), &wanted)],
            next,
            false,
        );
        let answer = session.request(&Request::Attach(req))?;
        now.extend(answer.attached);
        fsutil::write_json(&runtime_file(&dirs), &now)?;
    }
    record.config.networks.push(NetworkRequest {
        name: network.name,
        ..wanted
    });
    Ok(())
}

/// `network disconnect`: unplugs a running container and forgets the network. The
/// record changes under the store lock.
pub fn disconnect(paths: &Paths, id: &str, network: &str) -> Result<()> {
    crate::container::record::update(paths, id, |record| {
        disconnect_record(paths, record, network)
    })
}

fn disconnect_record(paths: &Paths, record: &mut ContainerRecord, network: &str) -> Result<()> {
    let network = definition::get(paths, network)?;
    let before = record.config.networks.len();
    record
        .config
        .networks
        .retain(|n| definition::get(paths, &n.name).map_or(true, |x| x.id != network.id));
    if record.config.networks.len() == before {
        return Err(Error::InvalidArgument(format!(
            "container {} is not connected to network {}",
            record.name, network.name
        )));
    }
    let dirs = ContainerDirs::new(paths, &record.id);
    if State::load(&dirs)?.is_active() {
        holder::detach(paths, &record.id, Some(&network.id))?;
        let mut now = attached(&dirs);
        now.retain(|a| a.network_id != network.id);
        fsutil::write_json(&runtime_file(&dirs), &now)?;
    }
    Ok(())
}

/// Containers whose records name `network`.
pub fn users(paths: &Paths, network: &Network) -> Result<Vec<ContainerRecord>> {
    Ok(crate::container::list(paths)?
        .into_iter()
        .filter(|c| {
            c.config
                .networks
                .iter()
                .any(|n| n.name == network.name || n.name == network.id)
        })
        .collect())
}
