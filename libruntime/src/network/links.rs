//! Links in the holder's network namespace and the containers': bridges, veth pairs,
//! addresses and routes, made with iproute2's `ip -batch`, one call per namespace.

use crate::error::{Error, Result};
use crate::network::NetworkError;
use std::net::Ipv4Addr;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::CommandExt;

/// Lets the container's root group use ICMP sockets, so ping works without
/// CAP_NET_RAW, as podman sets it.
const PING_GROUP_RANGE: &std::ffi::CStr = c"/proc/sys/net/ipv4/ping_group_range";

/// slirp4netns's MTU: bridges and veths match it, so forwarded connections keep their
/// large segments all the way to the container.
const MTU: u32 = 65520;

/// Runs `ip -batch -` with `script`, in the network namespace `netns` when given.
fn ip_batch(script: &str, netns: Option<&OwnedFd>) -> Result<()> {
    let mut cmd = crate::helpers::command("ip");
    cmd.args(["-batch", "-"]);
    if let Some(fd) = netns {
        let raw = fd.as_raw_fd();
        // SAFETY: setns, open, write and close are async-signal-safe and touch only the
        // child; the path is a static C string.
        unsafe {
            cmd.pre_exec(move || {
                if libc::setns(raw, libc::CLONE_NEWNET) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                // /proc/sys/net shows the namespace of the process that opens it.
                let fd = libc::open(PING_GROUP_RANGE.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
                if fd >= 0 {
                    let v = b"0 0";
                    libc::write(fd, v.as_ptr().cast(), v.len());
                    libc::close(fd);
                }
                Ok(())
            });
        }
    }
    super::tool::run_script(cmd, script, "iproute2")
}

/// Opens the network namespace of process `pid`.
pub fn open_netns(pid: i32) -> Result<OwnedFd> {
    std::fs::File::open(format!("/proc/{pid}/ns/net"))
        .map(OwnedFd::from)
        .map_err(|e| {
            Error::Network(NetworkError::Namespace(format!(
                "opening the network namespace of {pid}: {e}"
            )))
        })
}

/// Makes bridge `name` with `gateway/prefix` (replacing any left by a removed network).
pub fn make_bridge(name: &str, gateway: Ipv4Addr, prefix: u8, replace: bool) -> Result<()> {
    let mut script = String::new();
    if replace {
        script.push_str(&format!("-force link del {name}\n"));
    }
    script.push_str(&format!(
        "link add {name} mtu {MTU} type bridge\naddr add {gateway}/{prefix} dev {name}\nlink set {name} up\n"
    ));
    ip_batch(&script, None).or_else(|e| {
        if replace {
            return Err(e);
        }
        // A bridge of that name is left over: make it again from scratch.
        make_bridge(name, gateway, prefix, true)
    })
}

pub fn delete(name: &str) {
    let _ = ip_batch(&format!("link del {name}\n"), None);
}

/// One end of a veth pair: `host` on `bridge` here, `inside` (with `mac`) in the
/// namespace of `pid`.
pub struct Veth<'a> {
    pub host: &'a str,
    pub bridge: &'a str,
    pub pid: i32,
    pub inside: &'a str,
    pub mac: &'a str,
}

pub fn add_veth(v: &Veth) -> Result<()> {
    ip_batch(
        &format!(
            "link add {} mtu {MTU} type veth peer name {} mtu {MTU} address {} netns {}\nlink set {} master {} up\n",
            v.host, v.inside, v.mac, v.pid, v.host, v.bridge
        ),
        None,
    )
}

/// Gives `iface` in the container's namespace its address, and the default route
/// through `gateway` when given.
pub fn configure_inside(
    netns: &OwnedFd,
    iface: &str,
    ip: Ipv4Addr,
    prefix: u8,
    gateway: Option<Ipv4Addr>,
) -> Result<()> {
    let mut script =
        format!("link set lo up\naddr add {ip}/{prefix} dev {iface}\nlink set {iface} up\n");
    if let Some(gw) = gateway {
        script.push_str(&format!("route add default via {gw} dev {iface}\n"));
    }
    ip_batch(&script, Some(netns))
}

/// A random locally administered unicast MAC address.
pub fn random_mac() -> String {
    let mut b = [0u8; 6];
    if let Ok(mut f) = std::fs::File::open("/dev/urandom") {
        use std::io::Read;
        let _ = f.read_exact(&mut b);
    }
    b[0] = (b[0] & 0xfc) | 0x02;
    b.iter()
        .map(|x| format!("{x:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}
