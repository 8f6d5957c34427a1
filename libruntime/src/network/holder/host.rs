//! The holder's seam to the host: links (ip), the firewall (nft), slirp4netns's port
//! forwards, DNS sockets and whether a container's init still lives. `Kernel` does it
//! for real; the holder's state (addresses, names, forwards) is tested against a
//! recording double, without root or a network namespace.

use crate::error::{Error, Result};
use crate::network::firewall::{self, BridgeRule, ForwardRule};
use crate::network::{dns, links, slirp, NetworkError};
use std::net::{Ipv4Addr, UdpSocket};
use std::path::PathBuf;

/// One end of a veth pair in the holder's namespace, the other in the container's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VethPlan {
    pub host: String,
    pub bridge: String,
    pub pid: i32,
    pub inside: String,
    pub mac: String,
}

/// The container's side of a link: its address and, for its first network with a
/// way out, the default route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InsidePlan {
    pub pid: i32,
    pub interface: String,
    pub ip: Ipv4Addr,
    pub prefix: u8,
    pub gateway: Option<Ipv4Addr>,
}

pub trait HostNetwork {
    fn make_bridge(&mut self, name: &str, gateway: Ipv4Addr, prefix: u8) -> Result<()>;
    /// Quietly: a link may be gone with its namespace already.
    fn delete_link(&mut self, name: &str);
    fn add_veth(&mut self, v: &VethPlan) -> Result<()>;
    fn configure_inside(&mut self, p: &InsidePlan) -> Result<()>;
    fn apply_firewall(&mut self, bridges: &[BridgeRule], forwards: &[ForwardRule]) -> Result<()>;
    /// Forwards a host port through slirp4netns; its forward id.
    fn add_forward(&mut self, f: &slirp::Forward) -> Result<i64>;
    fn remove_forward(&mut self, id: i64);
    /// Answers DNS on `gateway`:53 from `table`, for the network `serving` says.
    fn serve_dns(
        &mut self,
        gateway: Ipv4Addr,
        table: dns::Table,
        serving: dns::Assignment,
    ) -> Result<()>;
    fn new_mac(&mut self) -> String;
    /// The start time of `pid`, which with the pid names a process for good.
    fn start_time(&self, pid: i32) -> Option<u64>;
    fn alive(&self, pid: i32, start: u64) -> bool;
}

/// The real host, from inside the holder's namespaces.
pub struct Kernel {
    pub slirp_api: PathBuf,
}

impl HostNetwork for Kernel {
    fn make_bridge(&mut self, name: &str, gateway: Ipv4Addr, prefix: u8) -> Result<()> {
        links::make_bridge(name, gateway, prefix, false)
    }

    fn delete_link(&mut self, name: &str) {
        links::delete(name);
    }

    fn add_veth(&mut self, v: &VethPlan) -> Result<()> {
        links::add_veth(&links::Veth {
            host: &v.host,
            bridge: &v.bridge,
            pid: v.pid,
            inside: &v.inside,
            mac: &v.mac,
        })
    }

    fn configure_inside(&mut self, p: &InsidePlan) -> Result<()> {
        let ns = links::open_netns(p.pid)?;
        links::configure_inside(&ns, &p.interface, p.ip, p.prefix, p.gateway)
    }

    fn apply_firewall(&mut self, bridges: &[BridgeRule], forwards: &[ForwardRule]) -> Result<()> {
        firewall::apply(&firewall::ruleset(bridges, forwards))
    }

    fn add_forward(&mut self, f: &slirp::Forward) -> Result<i64> {
        slirp::add_forward(&self.slirp_api, f)
    }

    fn remove_forward(&mut self, id: i64) {
        let _ = slirp::remove_forward(&self.slirp_api, id);
    }

    fn serve_dns(
        &mut self,
        gateway: Ipv4Addr,
        table: dns::Table,
        serving: dns::Assignment,
    ) -> Result<()> {
        let sock = UdpSocket::bind((gateway, 53)).map_err(|e| {
            Error::Network(NetworkError::Namespace(format!(
                "binding DNS on {gateway}:53: {e}"
            )))
        })?;
        std::thread::spawn(move || dns::serve(sock, table, serving));
        Ok(())
    }

    fn new_mac(&mut self) -> String {
        links::random_mac()
    }

    fn start_time(&self, pid: i32) -> Option<u64> {
        crate::procinfo::start_time(pid)
    }

    fn alive(&self, pid: i32, start: u64) -> bool {
        crate::procinfo::alive(pid, start)
    }
}
