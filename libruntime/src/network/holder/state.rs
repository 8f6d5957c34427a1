//! What the holder keeps: the bridges it made, which container holds which address on
//! which of them, the ports it forwards, and the names its DNS responders answer.
//! One thread changes it (the request loop), so no address is ever handed out twice.

use super::host::{HostNetwork, InsidePlan, VethPlan};
use super::{AttachRequest, Attached, HolderError, NetworkAttach};
use crate::error::{Error, Result};
use crate::network::definition::Addressing;
use crate::network::firewall::{BridgeRule, ForwardRule};
use crate::network::NetworkError;
use crate::network::{dns, slirp};
use std::collections::HashMap;
use std::net::Ipv4Addr;
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
    host: Box<dyn HostNetwork>,
    bridges: Vec<Bridge>,
    attachments: Vec<Attachment>,
    forwards: Vec<Forward>,
    names: dns::Table,
    /// DNS responders by the gateway address they listen on.
    responders: HashMap<Ipv4Addr, dns::Assignment>,
}

impl State {
    pub fn new(host: Box<dyn HostNetwork>) -> State {
        State {
            host,
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
        let pid_start =
            self.host
                .start_time(req.pid)
                .ok_or(Error::Network(NetworkError::Holder(
                    HolderError::ProcessGone(req.pid),
                )))?;
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
            self.host.delete_link(&a.host_veth);
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
        let host_veth = format!("veth{}", &self.host.new_mac().replace(':', "")[4..12]);
        let mac = self.host.new_mac();
        self.host.add_veth(&VethPlan {
            host: host_veth.clone(),
            bridge: iface,
            pid: req.pid,
            inside: net.interface.clone(),
            mac: mac.clone(),
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
        let configured = self.host.configure_inside(&InsidePlan {
            pid: req.pid,
            interface: net.interface.clone(),
            ip,
            prefix: addressing.subnet.prefix,
            gateway,
        });
        if let Err(e) = configured {
            self.host.delete_link(&host_veth);
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
            let stale = self.bridges.remove(i);
            self.host.delete_link(&stale.interface);
        }
        self.host.make_bridge(
            &n.network_interface,
            addressing.gateway,
            addressing.subnet.prefix,
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
        let assignment: dns::Assignment = Arc::new(RwLock::new(serving));
        self.host
            .serve_dns(gateway, self.names.clone(), assignment.clone())?;
        self.responders.insert(gateway, assignment);
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
            let id = self.host.add_forward(&slirp::Forward {
                protocol: &p.protocol,
                host_ip: &p.host_ip,
                host_port: p.host_port,
                guest_addr: UPLINK_ADDR,
                guest_port: uplink_port,
            })?;
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
            self.host.remove_forward(f.slirp_id);
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
            self.host.delete_link(&a.host_veth);
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
            .filter(|a| !self.host.alive(a.pid, a.pid_start))
            .map(|a| a.container.clone())
            .collect();
        for c in dead {
            self.detach(&c, None);
        }
    }

    fn refresh_firewall(&mut self) -> Result<()> {
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
        self.host.apply_firewall(&bridges, &forwards)
    }

    /// Before exit: nothing should be attached; drop any forward slirp4netns still has.
    pub fn shut_down(&mut self) {
        for f in std::mem::take(&mut self.forwards) {
            self.host.remove_forward(f.slirp_id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::definition::{Network, SubnetDef};
    use crate::network::ports::PortMapping;
    use std::cell::RefCell;
    use std::rc::Rc;

    /// What the fake host saw, and how it answers.
    #[derive(Default)]
    struct Seen {
        calls: Vec<String>,
        /// configure_inside fails for this interface name.
        refuse_inside: Option<String>,
        dead: Vec<i32>,
        dns: Option<dns::Table>,
        macs: u32,
        forward_ids: i64,
    }

    struct FakeHost(Rc<RefCell<Seen>>);

    impl HostNetwork for FakeHost {
        fn make_bridge(&mut self, name: &str, gw: Ipv4Addr, prefix: u8) -> Result<()> {
            self.0
                .borrow_mut()
                .calls
                .push(format!("bridge {name} {gw}/{prefix}"));
            Ok(())
        }
        fn delete_link(&mut self, name: &str) {
            self.0.borrow_mut().calls.push(format!("del {name}"));
        }
        fn add_veth(&mut self, v: &VethPlan) -> Result<()> {
            let c = format!("veth {} {} {}", v.host, v.bridge, v.inside);
            self.0.borrow_mut().calls.push(c);
            Ok(())
        }
        fn configure_inside(&mut self, p: &InsidePlan) -> Result<()> {
            let mut s = self.0.borrow_mut();
            if s.refuse_inside.as_deref() == Some(p.interface.as_str()) {
                return Err(Error::Network(NetworkError::Namespace("refused".into())));
            }
            s.calls
                .push(format!("inside {} {} {:?}", p.interface, p.ip, p.gateway));
            Ok(())
        }
        fn apply_firewall(&mut self, b: &[BridgeRule], f: &[ForwardRule]) -> Result<()> {
            let c = format!("firewall {} bridges {} forwards", b.len(), f.len());
            self.0.borrow_mut().calls.push(c);
            Ok(())
        }
        fn add_forward(&mut self, f: &slirp::Forward) -> Result<i64> {
            let mut s = self.0.borrow_mut();
            s.forward_ids += 1;
            let c = format!("forward {} {}->{}", f.protocol, f.host_port, f.guest_port);
            s.calls.push(c);
            Ok(s.forward_ids)
        }
        fn remove_forward(&mut self, id: i64) {
            self.0.borrow_mut().calls.push(format!("unforward {id}"));
        }
        fn serve_dns(&mut self, gw: Ipv4Addr, t: dns::Table, _: dns::Assignment) -> Result<()> {
            let mut s = self.0.borrow_mut();
            s.calls.push(format!("dns {gw}"));
            s.dns = Some(t);
            Ok(())
        }
        fn new_mac(&mut self) -> String {
            let mut s = self.0.borrow_mut();
            s.macs += 1;
            format!("02:00:00:00:{:02x}:{:02x}", s.macs / 256, s.macs % 256)
        }
        fn start_time(&self, pid: i32) -> Option<u64> {
            (!self.0.borrow().dead.contains(&pid)).then_some(pid as u64)
        }
        fn alive(&self, pid: i32, _: u64) -> bool {
            !self.0.borrow().dead.contains(&pid)
        }
    }

    fn network(name: &str, subnet: &str, gateway: &str) -> Network {
        Network {
            name: name.into(),
            id: format!("{name}-id"),
            driver: "bridge".into(),
            network_interface: format!("br-{name}"),
            created: String::new(),
            subnets: vec![SubnetDef {
                subnet: subnet.into(),
                gateway: gateway.into(),
                lease_range: None,
            }],
            ipv6_enabled: false,
            internal: false,
            dns_enabled: true,
            labels: Default::default(),
            options: Default::default(),
            ipam_options: Default::default(),
        }
    }

    fn request(container: &str, pid: i32, nets: &[(&Network, Option<&str>)]) -> AttachRequest {
        AttachRequest {
            container: container.into(),
            pid,
            names: vec![container.to_string()],
            networks: nets
                .iter()
                .enumerate()
                .map(|(i, (n, ip))| NetworkAttach {
                    network: (*n).clone(),
                    aliases: vec![],
                    ip: ip.map(|s| s.parse().unwrap()),
                    interface: format!("eth{i}"),
                })
                .collect(),
            ports: vec![],
        }
    }

    fn state() -> (State, Rc<RefCell<Seen>>) {
        let seen = Rc::new(RefCell::new(Seen::default()));
        (State::new(Box::new(FakeHost(seen.clone()))), seen)
    }

    fn ip(a: &[Attached]) -> Ipv4Addr {
        a[0].ip
    }

    #[test]
    fn addresses_are_handed_out_once_and_reused_after_detach() {
        let (mut st, seen) = state();
        // A /29: .1 is the gateway, .2 to .6 are for containers.
        let n = network("small", "10.89.9.0/29", "10.89.9.1");
        let a = st.attach(&request("a", 10, &[(&n, None)])).unwrap();
        let b = st.attach(&request("b", 11, &[(&n, None)])).unwrap();
        assert_eq!(
            (ip(&a), ip(&b)),
            ("10.89.9.2".parse().unwrap(), "10.89.9.3".parse().unwrap())
        );
        // One bridge and one DNS responder for the network, made once.
        let calls = seen.borrow().calls.clone();
        assert_eq!(calls.iter().filter(|c| c.starts_with("bridge")).count(), 1);
        assert_eq!(calls.iter().filter(|c| c.starts_with("dns")).count(), 1);
        // Named by the container, on the network's own table.
        let table = seen.borrow().dns.clone().unwrap();
        let names: Vec<String> = table.read().unwrap()["small-id"]
            .iter()
            .flat_map(|e| e.names.clone())
            .collect();
        assert_eq!(names, vec!["a".to_string(), "b".to_string()]);
        st.detach("a", None);
        let c = st.attach(&request("c", 12, &[(&n, None)])).unwrap();
        assert_eq!(
            ip(&c),
            "10.89.9.2".parse::<Ipv4Addr>().unwrap(),
            "a's address is free again"
        );
        assert!(!table.read().unwrap()["small-id"]
            .iter()
            .any(|e| e.container == "a"));
    }

    #[test]
    fn refusals_say_why() {
        let (mut st, seen) = state();
        let n = network("small", "10.89.9.0/29", "10.89.9.1");
        st.attach(&request("a", 10, &[(&n, Some("10.89.9.5"))]))
            .unwrap();
        let err = |r: Result<Vec<Attached>>| match r {
            Err(Error::Network(NetworkError::Holder(h))) => h,
            other => panic!("{other:?}"),
        };
        assert!(matches!(
            err(st.attach(&request("b", 11, &[(&n, Some("10.89.9.5"))]))),
            HolderError::AddressInUse { .. }
        ));
        assert!(matches!(
            err(st.attach(&request("b", 11, &[(&n, Some("10.89.8.5"))]))),
            HolderError::AddressOutsideSubnet { .. }
        ));
        assert!(matches!(
            err(st.attach(&request("a", 10, &[(&n, None)]))),
            HolderError::AlreadyConnected(_)
        ));
        for (i, c) in ["c", "d", "e", "f"].iter().enumerate() {
            st.attach(&request(c, 20 + i as i32, &[(&n, None)]))
                .unwrap();
        }
        assert!(matches!(
            err(st.attach(&request("g", 30, &[(&n, None)]))),
            HolderError::NoFreeAddress(_)
        ));
        seen.borrow_mut().dead.push(40);
        let gone = request("h", 40, &[(&n, None)]);
        assert!(matches!(
            err(st.attach(&gone)),
            HolderError::ProcessGone(40)
        ));
    }

    #[test]
    fn a_failure_on_the_second_network_undoes_the_first() {
        let (mut st, seen) = state();
        let one = network("one", "10.89.1.0/24", "10.89.1.1");
        let two = network("two", "10.89.2.0/24", "10.89.2.1");
        seen.borrow_mut().refuse_inside = Some("eth1".into());
        assert!(st
            .attach(&request("a", 10, &[(&one, None), (&two, None)]))
            .is_err());
        let calls = seen.borrow().calls.clone();
        let veths: Vec<&String> = calls.iter().filter(|c| c.starts_with("veth")).collect();
        assert_eq!(veths.len(), 2);
        let first = veths[0].split(' ').nth(1).unwrap();
        let second = veths[1].split(' ').nth(1).unwrap();
        assert!(calls.contains(&format!("del {first}")), "{calls:?}");
        assert!(calls.contains(&format!("del {second}")), "{calls:?}");
        assert!(st.is_empty());
        // The address on the first network was given back.
        seen.borrow_mut().refuse_inside = None;
        let a = st.attach(&request("a", 10, &[(&one, None)])).unwrap();
        assert_eq!(ip(&a), "10.89.1.2".parse::<Ipv4Addr>().unwrap());
    }

    #[test]
    fn forwards_share_no_uplink_port_and_leave_with_their_container() {
        let (mut st, seen) = state();
        let n = network("web", "10.89.3.0/24", "10.89.3.1");
        let port = |host_port| PortMapping {
            host_ip: String::new(),
            host_port,
            container_port: 80,
            protocol: "tcp".into(),
        };
        let mut a = request("a", 10, &[(&n, None)]);
        a.ports = vec![port(8080)];
        let mut b = request("b", 11, &[(&n, None)]);
        b.ports = vec![port(8080)];
        st.attach(&a).unwrap();
        st.attach(&b).unwrap();
        let calls = seen.borrow().calls.clone();
        assert!(calls.contains(&"forward tcp 8080->8080".to_string()));
        assert!(
            calls.contains(&"forward tcp 8080->40000".to_string()),
            "{calls:?}"
        );
        st.detach("a", None);
        assert!(seen.borrow().calls.contains(&"unforward 1".to_string()));
        assert_eq!(
            seen.borrow().calls.last().unwrap(),
            "firewall 1 bridges 1 forwards"
        );
    }

    #[test]
    fn dead_containers_are_collected() {
        let (mut st, seen) = state();
        let n = network("gc", "10.89.4.0/24", "10.89.4.1");
        st.attach(&request("a", 10, &[(&n, None)])).unwrap();
        st.attach(&request("b", 11, &[(&n, None)])).unwrap();
        seen.borrow_mut().dead.push(10);
        st.collect_garbage();
        let b_again = st.attach(&request("c", 12, &[(&n, None)])).unwrap();
        assert_eq!(ip(&b_again), "10.89.4.2".parse::<Ipv4Addr>().unwrap());
    }
}
