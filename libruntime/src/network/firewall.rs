//! The holder namespace's firewall, as one nftables table rewritten whole on every
//! change: masquerade out through slirp4netns, published ports forwarded in, no
//! forwarding between bridges, none out of internal networks, and the host's loopback
//! (slirp4netns's 10.0.2.2) closed to containers.

use crate::error::Result;
use std::net::Ipv4Addr;

/// The device slirp4netns makes in the holder's namespace.
pub const UPLINK: &str = "tap0";
/// slirp4netns's gateway, which leads to the host's loopback.
const HOST_LOOPBACK: &str = "10.0.2.2";

pub struct BridgeRule {
    pub interface: String,
    pub gateway: Ipv4Addr,
    pub internal: bool,
    /// The host's loopback (10.0.2.2) is open to this bridge.
    pub host_loopback: bool,
}

#[derive(Debug, Clone)]
pub struct ForwardRule {
    pub protocol: String,
    /// The port slirp4netns delivers to in the holder's namespace.
    pub uplink_port: u16,
    pub ip: Ipv4Addr,
    pub port: u16,
}

/// The whole table as nft reads it.
pub fn ruleset(bridges: &[BridgeRule], forwards: &[ForwardRule]) -> String {
    let mut pre = String::new();
    for f in forwards {
        pre.push_str(&format!(
            "    iifname \"{UPLINK}\" {} dport {} dnat to {}:{}\n",
            f.protocol, f.uplink_port, f.ip, f.port
        ));
    }
    let mut fwd = String::new();
    let mut input = String::new();
    for b in bridges {
        // A container may use its own network's gateway (DNS), no other address of
        // the holder's: those belong to other networks.
        input.push_str(&format!(
            "    iifname \"{}\" ip daddr != {} drop\n",
            b.interface, b.gateway
        ));
        // Containers on one bridge reach each other (bridged packets pass this hook
        // when the kernel has br_netfilter).
        fwd.push_str(&format!(
            "    iifname \"{0}\" oifname \"{0}\" accept\n",
            b.interface
        ));
        if !b.internal {
            if !b.host_loopback {
                fwd.push_str(&format!(
                    "    iifname \"{}\" oifname \"{UPLINK}\" ip daddr {HOST_LOOPBACK} reject\n",
                    b.interface
                ));
            }
            fwd.push_str(&format!(
                "    iifname \"{}\" oifname \"{UPLINK}\" accept\n",
                b.interface
            ));
        }
    }
    format!(
        "table ip skiff {{\n}}\n\
         delete table ip skiff\n\
         table ip skiff {{\n\
         \x20 chain nat_prerouting {{\n\
         \x20   type nat hook prerouting priority dstnat; policy accept;\n\
         {pre}\
         \x20 }}\n\
         \x20 chain nat_postrouting {{\n\
         \x20   type nat hook postrouting priority srcnat; policy accept;\n\
         \x20   oifname \"{UPLINK}\" masquerade\n\
         \x20 }}\n\
         \x20 chain filter_forward {{\n\
         \x20   type filter hook forward priority filter; policy drop;\n\
         \x20   ct state established,related accept\n\
         \x20   ct status dnat accept\n\
         {fwd}\
         \x20 }}\n\
         \x20 chain filter_input {{\n\
         \x20   type filter hook input priority filter; policy accept;\n\
         \x20   ct state established,related accept\n\
         {input}\
         \x20 }}\n\
         }}\n"
    )
}

/// Replaces the table in the current network namespace.
pub fn apply(rules: &str) -> Result<()> {
    let mut cmd = crate::helpers::command("nft");
    cmd.args(["-f", "-"]);
    super::tool::run_script(cmd, rules, "nftables")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_networks_get_no_way_out() {
        let r = ruleset(
            &[
                BridgeRule {
                    interface: "skiff1".into(),
                    gateway: "10.89.0.1".parse().unwrap(),
                    internal: false,
                    host_loopback: false,
                },
                BridgeRule {
                    interface: "skiff2".into(),
                    gateway: "10.89.1.1".parse().unwrap(),
                    internal: true,
                    host_loopback: true,
                },
            ],
            &[ForwardRule {
                protocol: "tcp".into(),
                uplink_port: 8080,
                ip: "10.89.0.2".parse().unwrap(),
                port: 80,
            }],
        );
        assert!(r.contains("iifname \"skiff1\" oifname \"tap0\" accept"));
        assert!(!r.contains("iifname \"skiff2\" oifname \"tap0\""));
        assert!(r.contains("iifname \"skiff2\" oifname \"skiff2\" accept"));
        assert!(r.contains("tcp dport 8080 dnat to 10.89.0.2:80"));
        assert!(r.contains("policy drop"));
        assert!(r.contains("iifname \"skiff1\" oifname \"tap0\" ip daddr 10.0.2.2 reject"));
    }
}
