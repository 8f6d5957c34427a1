//! What the holder keeps: the bridges it made, which container holds which address on
//! which of them, the ports it forwards, and the names its DNS responders answer.
//! One thread changes it (the request loop), so no address is ever handed out twice.

use super::{AttachRequest, Attached, HolderError, NetworkAttach};
use crate::error::{Error, Result};
use crate::network::definition::Addressing;
use crate::network::firewall::{self, BridgeRule, ForwardRule};
use crate::network::NetworkError;
use crate::network::{dns, links, slirp};
use crate::procinfo;
use std::collections::HashMap;
use std::net::{Ipv4Addr, UdpSocket};
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

/// slirp4netns's address for the holder, where forwarded ports arrive.
const UPLINK_ADDR: &str = slirp::GUEST_ADDR;
/// slirp4netns's DNS forwarder, the upstream of the responders.
const UPSTREAM_DNS: &str = "10.0.2.3:53";
/// Uplink ports for forwards whose host port another forward already uses.
const SPARE_PORTS: std::ops::Range<u16> = 40000..60000;

struct Bridge {
    network_id: String,
    interface: String,
    addressing: Addressing,
    internal: bool,
    host_loopback: bool,
}

struct Attachment {
    container: String,
    pid: i32,
    pid_start: u64,
    network_id: String,
    host_veth: String,
    attached: Attached,
}

struct Forward {
    container: String,
    slirp_id: i64,
    rule: ForwardRule,
}

pub struct State {
    slirp_api: PathBuf,
    bridges: Vec<Bridge>,
    attachments: Vec<Attachment>,
    forwards: Vec<Forward>,
    names: dns::Table,
    /// DNS responders by the gateway address they listen on.
    responders: HashMap<Ipv4Addr, dns::Assignment>,
}

impl State {
    pub fn new(slirp_api: PathBuf) -> State {
        State {
            slirp_api,
            bridges: Vec::new(),
            attachments: Vec::new(),
            forwards: Vec::new(),
            names: Default::default(),
            responders: HashMap::new(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.attachments.is_empty()
    }

    /// Plugs the container into every network asked for, and forwards its ports; on
    /// any failure, undoes what this request did.
    pub fn attach(&mut self, req: &AttachRequest) -> Result<Vec<Attached>> {
        let pid_start = procinfo::start_time(req.pid).ok_or(Error::Network(
            NetworkError::Holder(HolderError::ProcessGone(req.pid)),
        ))?;
        let before = self.attachments.len();
        let mut done = Vec::new();
        for net in &req.networks {
            match self.attach_one(req, net, pid_start) {
                Ok(a) => done.push(a),
                Err(e) => {
                    self.undo_since(before, &req.container);
                    return Err(e);
                }
            }
        }
        if let Err(e) = self.forward_ports(req, done.first()) {
            self.undo_since(before, &req.container);
            return Err(e);
        }
        if let Err(e) = self.refresh_firewall() {
            self.undo_since(before, &req.container);
            return Err(e);
        }
        Ok(done)
    }

    fn undo_since(&mut self, before: usize, container: &str) {
        let undone: Vec<Attachment> = self.attachments.drain(before..).collect();
        for a in &undone {
            links::delete(&a.host_veth);
            self.forget_names(a);
        }
        self.remove_forwards(container);
        let _ = self.refresh_firewall();
    }

    fn attach_one(
        &mut self,
        req: &AttachRequest,
        net: &NetworkAttach,
        pid_start: u64,
    ) -> Result<Attached> {
        let n = &net.network;
        if self
            .attachments
            .iter()
            .any(|a| a.container == req.container && a.network_id == n.id)
        {
            return Err(HolderError::AlreadyConnected(n.name.clone()).into());
        }
        let bridge = self.bridge_for(n)?;
        let (iface, addressing, internal) = {
            let b = &self.bridges[bridge];
            (b.interface.clone(), b.addressing, b.internal)
        };
        let ip = self.allocate(&n.id, &addressing, net.ip, &n.name)?;
        let host_veth = format!("veth{}", &links::random_mac().replace(':', "")[4..12]);
        let mac = links::random_mac();
        links::add_veth(&links::Veth {
            host: &host_veth,
            bridge: &iface,
            pid: req.pid,
            inside: &net.interface,
            mac: &mac,
        })?;
        // The first network with a way out gives the default route.
        let has_route = self.attachments.iter().any(|a| {
            a.container == req.container
                && self
                    .bridges
                    .iter()
                    .any(|b| b.network_id == a.network_id && !b.internal)
        });
        let gateway = (!internal && !has_route).then_some(addressing.gateway);
        let configured = links::open_netns(req.pid).and_then(|ns| {
            links::configure_inside(&ns, &net.interface, ip, addressing.subnet.prefix, gateway)
        });
        if let Err(e) = configured {
            links::delete(&host_veth);
            return Err(e);
        }
        let mut aliases = net.aliases.clone();
        aliases.extend(req.names.iter().cloned());
        let attached = Attached {
            network: n.name.clone(),
            network_id: n.id.clone(),
            interface: net.interface.clone(),
            ip,
            prefix: addressing.subnet.prefix,
            gateway: addressing.gateway,
            mac,
            aliases: net.aliases.clone(),
        };
        if let Ok(mut t) = self.names.write() {
            t.entry(n.id.clone()).or_default().push(dns::Entry {
                container: req.container.clone(),
                names: aliases,
                ip,
            });
        }
        self.attachments.push(Attachment {
            container: req.container.clone(),
            pid: req.pid,
            pid_start,
            network_id: n.id.clone(),
            host_veth,
            attached: attached.clone(),
        });
        Ok(attached)
    }

    /// The index of the network's bridge, made (with its DNS responder) if new.
    fn bridge_for(&mut self, n: &crate::network::definition::Network) -> Result<usize> {
        if let Some(i) = self.bridges.iter().position(|b| b.network_id == n.id) {
            return Ok(i);
        }
        let addressing = n.addressing()?;
        // A network removed and made again may reuse the interface name.
        let stale = self
            .bridges
            .iter()
            .position(|b| b.interface == n.network_interface);
        if let Some(i) = stale {
            if self
                .attachments
                .iter()
                .any(|a| a.network_id == self.bridges[i].network_id)
            {
                return Err(HolderError::InterfaceInUse(n.network_interface.clone()).into());
            }
            links::delete(&self.bridges[i].interface);
            self.bridges.remove(i);
        }
        links::make_bridge(
            &n.network_interface,
            addressing.gateway,
            addressing.subnet.prefix,
            false,
        )?;
        if n.dns_enabled {
            self.start_dns(&n.id, addressing.gateway, n.internal)?;
        }
        self.bridges.push(Bridge {
            network_id: n.id.clone(),
            interface: n.network_interface.clone(),
            addressing,
            internal: n.internal,
            host_loopback: n.allows_host_loopback(),
        });
        Ok(self.bridges.len() - 1)
    }

    /// Points the responder on `gateway` at the network, starting it if new.
    fn start_dns(&mut self, network_id: &str, gateway: Ipv4Addr, internal: bool) -> Result<()> {
        let serving = dns::Serving {
            network: network_id.to_string(),
            upstream: (!internal).then(|| UPSTREAM_DNS.parse().unwrap()),
        };
        if let Some(a) = self.responders.get(&gateway) {
            if let Ok(mut s) = a.write() {
                *s = serving;
            }
            return Ok(());
        }
        let sock = UdpSocket::bind((gateway, 53)).map_err(|e| {
            Error::Network(NetworkError::Namespace(format!(
                "binding DNS on {gateway}:53: {e}"
            )))
        })?;
        let assignment: dns::Assignment = Arc::new(RwLock::new(serving));
        self.responders.insert(gateway, assignment.clone());
        let table = self.names.clone();
        std::thread::spawn(move || dns::serve(sock, table, assignment));
        Ok(())
    }

    /// The wanted address if free, else the lowest free one in the lease range.
    fn allocate(
        &self,
        network_id: &str,
        a: &Addressing,
        wanted: Option<Ipv4Addr>,
        name: &str,
    ) -> Result<Ipv4Addr> {
        let used = |ip: Ipv4Addr| {
            ip == a.gateway
                || self
                    .attachments
                    .iter()
                    .any(|x| x.network_id == network_id && x.attached.ip == ip)
        };
        if let Some(ip) = wanted {
            if !a.subnet.is_host(ip) {
                return Err(HolderError::AddressOutsideSubnet {
                    ip,
                    network: name.to_string(),
                    subnet: a.subnet.to_string(),
                }
                .into());
            }
            if used(ip) {
                return Err(HolderError::AddressInUse {
                    ip,
                    network: name.to_string(),
                }
                .into());
            }
            return Ok(ip);
        }
        let (first, last) = (u32::from(a.first), u32::from(a.last));
        (first..=last)
            .map(Ipv4Addr::from)
            .find(|ip| a.subnet.is_host(*ip) && !used(*ip))
            .ok_or_else(|| HolderError::NoFreeAddress(name.to_string()).into())
    }

    fn forward_ports(&mut self, req: &AttachRequest, first: Option<&Attached>) -> Result<()> {
        if req.ports.is_empty() {
            return Ok(());
        }
        let Some(target) = first else {
            return Ok(());
        };
        for p in &req.ports {
            let taken = |port: u16| {
                self.forwards
                    .iter()
                    .any(|f| f.rule.protocol == p.protocol && f.rule.uplink_port == port)
            };
            let uplink_port = if taken(p.host_port) {
                SPARE_PORTS
                    .clone()
                    .find(|x| !taken(*x))
                    .ok_or(Error::Network(NetworkError::Holder(
                        HolderError::NoSparePort,
                    )))?
            } else {
                p.host_port
            };
            let id = slirp::add_forward(
                &self.slirp_api,
                &slirp::Forward {
                    protocol: &p.protocol,
                    host_ip: &p.host_ip,
                    host_port: p.host_port,
                    guest_addr: UPLINK_ADDR,
                    guest_port: uplink_port,
                },
            )?;
            self.forwards.push(Forward {
                container: req.container.clone(),
                slirp_id: id,
                rule: ForwardRule {
                    protocol: p.protocol.clone(),
                    uplink_port,
                    ip: target.ip,
                    port: p.container_port,
                },
            });
        }
        Ok(())
    }

    fn remove_forwards(&mut self, container: &str) {
        let (gone, kept): (Vec<Forward>, Vec<Forward>) = std::mem::take(&mut self.forwards)
            .into_iter()
            .partition(|f| f.container == container);
        self.forwards = kept;
        for f in gone {
            let _ = slirp::remove_forward(&self.slirp_api, f.slirp_id);
        }
    }

    fn forget_names(&self, a: &Attachment) {
        if let Ok(mut t) = self.names.write() {
            if let Some(v) = t.get_mut(&a.network_id) {
                v.retain(|e| e.ip != a.attached.ip);
            }
        }
    }

    /// Unplugs a container from one network (by id or name) or from all.
    pub fn detach(&mut self, container: &str, network: Option<&str>) {
        let matches = |a: &Attachment| {
            a.container == container
                && network.is_none_or(|n| a.network_id == n || a.attached.network == n)
        };
        let (gone, kept): (Vec<Attachment>, Vec<Attachment>) =
            std::mem::take(&mut self.attachments)
                .into_iter()
                .partition(|a| matches(a));
        self.attachments = kept;
        for a in &gone {
            // Gone already when the container's namespace went.
            links::delete(&a.host_veth);
            self.forget_names(a);
        }
        if !self.attachments.iter().any(|a| a.container == container) {
            self.remove_forwards(container);
        }
        if !gone.is_empty() {
            let _ = self.refresh_firewall();
        }
    }

    /// Detaches containers whose init has ended (their supervisor may have been killed).
    pub fn collect_garbage(&mut self) {
        let dead: Vec<String> = self
            .attachments
            .iter()
            .filter(|a| !procinfo::alive(a.pid, a.pid_start))
            .map(|a| a.container.clone())
            .collect();
        for c in dead {
            self.detach(&c, None);
        }
    }

    fn refresh_firewall(&self) -> Result<()> {
        let bridges: Vec<BridgeRule> = self
            .bridges
            .iter()
            .map(|b| BridgeRule {
                interface: b.interface.clone(),
                gateway: b.addressing.gateway,
                internal: b.internal,
                host_loopback: b.host_loopback,
            })
            .collect();
        let forwards: Vec<ForwardRule> = self.forwards.iter().map(|f| f.rule.clone()).collect();
        firewall::apply(&firewall::ruleset(&bridges, &forwards))
    }

    /// Before exit: nothing should be attached; drop any forward slirp4netns still has.
    pub fn shut_down(&mut self) {
        for f in std::mem::take(&mut self.forwards) {
            let _ = slirp::remove_forward(&self.slirp_api, f.slirp_id);
        }
    }
}
