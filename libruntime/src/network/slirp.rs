//! slirp4netns: user-mode networking for a container's network namespace. The
//! supervisor starts it once the namespace exists and before the program runs, asks it
//! (over its API socket) to forward the published ports, and stops it at exit.

use crate::error::{Error, Result};
use crate::network::ports::PortMapping;
use crate::network::subnet::Subnet;
use crate::network::NetworkError;
use serde::{Deserialize, Serialize};
use std::io::{Read, Write};
use std::net::Ipv4Addr;
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

pub const PROGRAM: &str = "slirp4netns";
/// The container's address and the gateway on slirp4netns's default network.
pub const GUEST_ADDR: &str = "10.0.2.100";
pub const DNS_ADDR: &str = "10.0.2.3";
const DEFAULT_CIDR: Subnet = Subnet {
    base: Ipv4Addr::new(10, 0, 2, 0),
    prefix: 24,
};

/// Who forwards published ports into the namespace.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PortHandler {
    /// skiff's own forwarder (network::forwarder), as podman's default rootlessport.
    #[default]
    Rootlesskit,
    /// slirp4netns's built-in forwarding, which lets the container see client addresses.
    Slirp4netns,
}

/// The options of `--network slirp4netns:OPT=VALUE,…`, as podman takes them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlirpOptions {
    /// The network slirp4netns makes; 10.0.2.0/24 when not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cidr: Option<Subnet>,
    #[serde(default)]
    pub port_handler: PortHandler,
    /// 10.0.2.2 leads to the host's loopback.
    #[serde(default)]
    pub allow_host_loopback: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtu: Option<u32>,
    #[serde(default)]
    pub enable_ipv6: bool,
}

impl SlirpOptions {
    /// Parses the part after `slirp4netns:`.
    pub fn parse(s: &str) -> Result<SlirpOptions> {
        let mut o = SlirpOptions::default();
        let bad = |why: String| Error::InvalidArgument(format!("slirp4netns option {why}"));
        let flag = |k: &str, v: &str| -> Result<bool> {
            match v {
                "true" => Ok(true),
                "false" => Ok(false),
                _ => Err(bad(format!("{k}={v:?}: want true or false"))),
            }
        };
        for opt in s.split(',').filter(|o| !o.is_empty()) {
            let (k, v) = opt
                .split_once('=')
                .ok_or_else(|| bad(format!("{opt:?}: want NAME=VALUE")))?;
            match k {
                "cidr" => {
                    let net = Subnet::parse(v)?;
                    if net.prefix > 25 {
                        return Err(bad(format!(
                            "cidr={v}: the prefix length must be 25 or less"
                        )));
                    }
                    o.cidr = Some(net);
                }
                "port_handler" => {
                    o.port_handler = match v {
                        "rootlesskit" => PortHandler::Rootlesskit,
                        "slirp4netns" => PortHandler::Slirp4netns,
                        _ => {
                            return Err(bad(format!(
                                "port_handler={v:?}: use rootlesskit or slirp4netns"
                            )))
                        }
                    }
                }
                "allow_host_loopback" => o.allow_host_loopback = flag(k, v)?,
                "enable_ipv6" => o.enable_ipv6 = flag(k, v)?,
                "mtu" => {
                    o.mtu = Some(
                        v.parse()
                            .ok()
                            .filter(|m| (1280..=65521).contains(m))
                            .ok_or_else(|| bad(format!("mtu={v:?}: want 1280 to 65521")))?,
                    )
                }
                "outbound_addr" | "outbound_addr6" => {
                    return Err(bad(format!("{k} is not supported by skiff")))
                }
                _ => return Err(bad(format!("{k:?} is unknown"))),
            }
        }
        Ok(o)
    }

    fn cidr(&self) -> Subnet {
        self.cidr.unwrap_or(DEFAULT_CIDR)
    }

    /// The container's address: the network's 100th.
    pub fn guest_addr(&self) -> Ipv4Addr {
        self.cidr().nth(100).unwrap_or(Ipv4Addr::new(10, 0, 2, 100))
    }

    /// The gateway, which leads to the host's loopback when that is allowed.
    pub fn gateway(&self) -> Ipv4Addr {
        self.cidr().nth(2).unwrap_or(Ipv4Addr::new(10, 0, 2, 2))
    }

    /// slirp4netns's DNS forwarder.
    pub fn dns(&self) -> Ipv4Addr {
        self.cidr().nth(3).unwrap_or(Ipv4Addr::new(10, 0, 2, 3))
    }

    /// Ports slirp4netns forwards itself: all with its own handler, else only UDP
    /// (skiff's forwarder takes TCP).
    pub fn slirp_forwards(&self, p: &PortMapping) -> bool {
        self.port_handler == PortHandler::Slirp4netns || p.protocol != "tcp"
    }
}
const READY_TIMEOUT: Duration = Duration::from_secs(10);

pub struct Slirp {
    child: Child,
    /// The API socket and the ids of the ports it forwards (a container's slirp4netns).
    forwards: Option<(PathBuf, Vec<i64>)>,
}

impl Slirp {
    /// Stops slirp4netns and waits for it; the namespace it served is gone or going.
    pub fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Stops slirp4netns without waiting for its exit, which tears down its tap device
    /// and takes ~20 ms the container's exit need not wait for. Its published ports are
    /// withdrawn first, so they are free at once. The caller reaps the child later (the
    /// supervisor reaps every child; init does once the supervisor is gone).
    pub fn release(mut self) {
        if let Some((api, ids)) = &self.forwards {
            for id in ids {
                let _ = remove_forward(api, *id);
            }
        }
        let _ = self.child.kill();
        // Wait only until it has let go of its memory (its command line reads empty):
        // it is no longer running anything, and no one sees it as alive.
        let cmdline = format!("/proc/{}/cmdline", self.child.id());
        let end = Instant::now() + Duration::from_millis(200);
        while std::fs::read(&cmdline).is_ok_and(|c| !c.is_empty()) && Instant::now() < end {
            std::thread::sleep(Duration::from_micros(200));
        }
    }
}

pub fn available() -> bool {
    crate::helpers::available(PROGRAM)
}

/// slirp4netns started and still setting up; `finish` waits for it. Starting it as soon
/// as the namespace exists lets its start-up overlap the container's own.
pub struct Pending {
    slirp: Slirp,
    ready: std::fs::File,
    api_socket: PathBuf,
    ports: Vec<PortMapping>,
    guest: Ipv4Addr,
}

/// Starts slirp4netns for `pid`'s network namespace without waiting for it. It
/// forwards the `ports` that `opts` leaves to it.
pub fn begin(
    pid: i32,
    api_socket: &Path,
    opts: &SlirpOptions,
    ports: &[PortMapping],
) -> Result<Pending> {
    let ports: Vec<PortMapping> = ports
        .iter()
        .filter(|p| opts.slirp_forwards(p))
        .cloned()
        .collect();
    // libslirp drops the answers to forwarded UDP when the host's loopback is closed to
    // the container (replies go to 10.0.2.2): only then is it left open.
    // (create warns the user about it.)
    let host_loopback = opts.allow_host_loopback || ports.iter().any(|p| p.protocol == "udp");
    let (slirp, ready) = launch(pid, api_socket, opts, host_loopback)?;
    Ok(Pending {
        slirp,
        ready,
        api_socket: api_socket.to_path_buf(),
        ports,
        guest: opts.guest_addr(),
    })
}

impl Pending {
    /// Waits until the interface is configured, then publishes the ports.
    pub fn finish(self) -> Result<Slirp> {
        let mut slirp = wait_ready(self.slirp, self.ready)?;
        let mut ids = Vec::new();
        let guest = self.guest.to_string();
        for p in &self.ports {
            let fwd = Forward {
                protocol: &p.protocol,
                host_ip: &p.host_ip,
                host_port: p.host_port,
                guest_addr: &guest,
                guest_port: p.container_port,
            };
            match add_forward(&self.api_socket, &fwd) {
                Ok(id) => ids.push(id),
                Err(e) => {
                    slirp.stop();
                    return Err(e);
                }
            }
        }
        slirp.forwards = Some((self.api_socket, ids));
        Ok(slirp)
    }

    /// Gives up: the container did not start.
    pub fn abandon(self) {
        self.slirp.stop();
    }
}

/// Starts slirp4netns for `pid`'s network namespace and waits until it is configured.
/// With `host_loopback`, 10.0.2.2 leads to the host's loopback (callers filter it).
pub fn spawn(pid: i32, api_socket: &Path, host_loopback: bool) -> Result<Slirp> {
    let (slirp, ready) = launch(pid, api_socket, &SlirpOptions::default(), host_loopback)?;
    wait_ready(slirp, ready)
}

/// Forks slirp4netns; its ready pipe says when the interface is up.
fn launch(
    pid: i32,
    api_socket: &Path,
    opts: &SlirpOptions,
    host_loopback: bool,
) -> Result<(Slirp, std::fs::File)> {
    let (ready_r, ready_w) =
        nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(|e| Error::sys("pipe", e))?;
    let _ = std::fs::remove_file(api_socket);
    let ready_fd = ready_w.as_raw_fd();
    let mut cmd = crate::helpers::command(PROGRAM);
    cmd.args(["--configure", "--ready-fd=3"]);
    cmd.arg(format!("--mtu={}", opts.mtu.unwrap_or(65520)));
    if let Some(c) = opts.cidr {
        cmd.arg(format!("--cidr={c}"));
    }
    if opts.enable_ipv6 {
        cmd.arg("--enable-ipv6");
    }
    if !host_loopback {
        cmd.arg("--disable-host-loopback");
    }
    cmd.arg(format!("--api-socket={}", api_socket.display()))
        .arg(pid.to_string())
        .arg("tap0")
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    // SAFETY: between fork and exec only async-signal-safe calls: dup2 and prctl.
    unsafe {
        cmd.pre_exec(move || {
            if libc::dup2(ready_fd, 3) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            // The parent's death takes the network helper with it.
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let child = cmd
        .spawn()
        .map_err(|e| Error::io(format!("starting {PROGRAM}"), e))?;
    drop(ready_w);
    let slirp = Slirp {
        child,
        forwards: None,
    };
    Ok((slirp, std::fs::File::from(ready_r)))
}

fn wait_ready(slirp: Slirp, mut ready: std::fs::File) -> Result<Slirp> {
    let mut b = [0u8; 1];
    match ready.read(&mut b) {
        Ok(1) => Ok(slirp),
        _ => {
            slirp.stop();
            Err(NetworkError::Tool(format!(
                "{PROGRAM} did not set up the network (see the supervisor log)"
            ))
            .into())
        }
    }
}

/// One port forwarded by slirp4netns from the host into its namespace.
pub struct Forward<'a> {
    pub protocol: &'a str,
    /// Empty for every address.
    pub host_ip: &'a str,
    pub host_port: u16,
    pub guest_addr: &'a str,
    pub guest_port: u16,
}

/// Asks slirp4netns to forward a port; returns the forward's id.
pub fn add_forward(api: &Path, f: &Forward) -> Result<i64> {
    let host_addr = if f.host_ip.is_empty() {
        "0.0.0.0"
    } else {
        f.host_ip
    };
    let answer = call(
        api,
        serde_json::json!({
            "execute": "add_hostfwd",
            "arguments": {
                "proto": f.protocol,
                "host_addr": host_addr,
                "host_port": f.host_port,
                "guest_addr": f.guest_addr,
                "guest_port": f.guest_port,
            }
        }),
    )?;
    if let Some(err) = answer.get("error") {
        let why = err
            .get("desc")
            .and_then(|d| d.as_str())
            .unwrap_or("refused");
        return Err(Error::Network(NetworkError::PortUnavailable {
            address: format!("{host_addr}:{}", f.host_port),
            target: format!("{}/{}", f.guest_port, f.protocol),
            reason: why.to_string(),
        }));
    }
    Ok(answer["return"]["id"].as_i64().unwrap_or(-1))
}

/// Stops a forward made by add_forward.
pub fn remove_forward(api: &Path, id: i64) -> Result<()> {
    call(
        api,
        serde_json::json!({"execute": "remove_hostfwd", "arguments": {"id": id}}),
    )
    .map(|_| ())
}

/// One request on the API socket and its answer.
fn call(api: &Path, req: serde_json::Value) -> Result<serde_json::Value> {
    let deadline = Instant::now() + READY_TIMEOUT;
    let mut s = loop {
        match UnixStream::connect(api) {
            Ok(s) => break s,
            Err(e) if Instant::now() > deadline => {
                return Err(Error::io(format!("connecting to {}", api.display()), e))
            }
            Err(_) => std::thread::sleep(Duration::from_millis(5)),
        }
    };
    s.write_all(req.to_string().as_bytes())
        .and_then(|_| s.shutdown(std::net::Shutdown::Write))
        .map_err(|e| Error::io("talking to slirp4netns", e))?;
    let mut answer = String::new();
    s.read_to_string(&mut answer)
        .map_err(|e| Error::io("talking to slirp4netns", e))?;
    Ok(serde_json::from_str(&answer).unwrap_or_default())
}

/// The API socket of a container's slirp4netns, in its runtime directory.
pub fn api_socket(run_dir: &Path) -> PathBuf {
    run_dir.join("slirp4netns.sock")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_parse_as_podman_spells_them() {
        let o = SlirpOptions::parse(
            "cidr=10.5.0.0/24,port_handler=slirp4netns,allow_host_loopback=true,mtu=1500",
        )
        .unwrap();
        assert_eq!(o.guest_addr(), Ipv4Addr::new(10, 5, 0, 100));
        assert_eq!(o.dns(), Ipv4Addr::new(10, 5, 0, 3));
        assert_eq!(o.port_handler, PortHandler::Slirp4netns);
        assert!(o.allow_host_loopback);
        assert_eq!(o.mtu, Some(1500));
        let d = SlirpOptions::parse("").unwrap();
        assert_eq!(d, SlirpOptions::default());
        assert_eq!(d.guest_addr().to_string(), GUEST_ADDR);
        assert_eq!(d.dns().to_string(), DNS_ADDR);
        for bad in [
            "cidr=10.5.0.0/28",
            "cidr=nonsense",
            "port_handler=socat",
            "allow_host_loopback=yes",
            "mtu=70000",
            "nonsense",
            "color=blue",
        ] {
            assert!(SlirpOptions::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_forwarder_takes_tcp_unless_slirp_handles_ports() {
        let tcp = PortMapping {
            host_ip: String::new(),
            host_port: 8080,
            container_port: 80,
            protocol: "tcp".into(),
        };
        let udp = PortMapping {
            protocol: "udp".into(),
            ..tcp.clone()
        };
        let ours = SlirpOptions::default();
        assert!(!ours.slirp_forwards(&tcp));
        assert!(ours.slirp_forwards(&udp));
        let theirs = SlirpOptions::parse("port_handler=slirp4netns").unwrap();
        assert!(theirs.slirp_forwards(&tcp));
    }
}
