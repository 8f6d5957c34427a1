//! A container on bridge networks: plugging it in through the holder when it starts
//! and out when it ends, and `network connect`/`disconnect` while it runs (the record
//! changes under the store lock).

use super::record::{ContainerDirs, ContainerRecord, NetworkMode};
use super::state::State;
use crate::error::{Error, Result};
use crate::events::{Event, EventStatus, EventType};
use crate::fsutil;
use crate::network::attach::{attached, check, runtime_file, NetworkRequest};
use crate::network::backend::BridgeAttach;
use crate::network::definition::{self, Network};
use crate::network::holder::{self, AttachRequest, Attached, NetworkAttach, Request, Session};
use crate::paths::Paths;
use crate::userns::IdMaps;
use nix::unistd::Pid;
use std::net::Ipv4Addr;

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
    fsutil::write_json(&runtime_file(&dirs.run), &answer.attached)?;
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
    let _ = std::fs::remove_file(runtime_file(&dirs.run));
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
    let name = wanted.name.clone();
    let record = super::record::update(paths, id, |record| {
        connect_record(paths, maps, record, wanted)?;
        Ok(record.clone())
    })?;
    emit_link(paths, EventStatus::Connect, &record, &name);
    Ok(())
}

/// podman's network connect/disconnect event: the network's, naming the container.
fn emit_link(paths: &Paths, status: EventStatus, record: &ContainerRecord, network: &str) {
    let (id, name) = match definition::get(paths, network) {
        Ok(n) => (n.id, n.name),
        Err(_) => (String::new(), network.to_string()),
    };
    let e = Event::new(EventType::Network, status)
        .id(&id)
        .name(&name)
        .attr("container", record.id.clone());
    crate::events::emit(paths, &e);
}

fn connect_record(
    paths: &Paths,
    maps: &IdMaps,
    record: &mut ContainerRecord,
    wanted: NetworkRequest,
) -> Result<()> {
    if record.config.network != NetworkMode::Bridge {
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
        let mut now = attached(&dirs.run);
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
        fsutil::write_json(&runtime_file(&dirs.run), &now)?;
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
    let record = super::record::update(paths, id, |record| {
        disconnect_record(paths, record, network)?;
        Ok(record.clone())
    })?;
    emit_link(paths, EventStatus::Disconnect, &record, network);
    Ok(())
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
        let mut now = attached(&dirs.run);
        now.retain(|a| a.network_id != network.id);
        fsutil::write_json(&runtime_file(&dirs.run), &now)?;
    }
    Ok(())
}

/// Containers whose records name `network`.
pub fn users(paths: &Paths, network: &Network) -> Result<Vec<ContainerRecord>> {
    Ok(super::list(paths)?
        .into_iter()
        .filter(|c| {
            c.config
                .networks
                .iter()
                .any(|n| n.name == network.name || n.name == network.id)
        })
        .collect())
}

/// The bridge backend's container side, for the supervisor.
pub struct ContainerBridge {
    pub paths: Paths,
    pub record: ContainerRecord,
    pub dirs: ContainerDirs,
}

impl BridgeAttach for ContainerBridge {
    fn attach(&self, session: &Session, init: Pid) -> Result<()> {
        attach_on_start(
            &self.paths,
            session,
            &self.record,
            &self.dirs,
            init.as_raw(),
        )
        .map(drop)
    }

    fn detach(&self) {
        detach_on_exit(&self.paths, &self.record, &self.dirs);
    }
}
