//! pasta (from passt): the container's network namespace gets a copy of the host's
//! addresses and routes, and published ports are spliced to it. pasta sets up, then
//! goes to the background; the supervisor (a subreaper) adopts it and stops it at exit.

use crate::container::record::PortMapping;
use crate::error::{Error, Result};
use nix::unistd::Pid;
use std::path::Path;
use std::process::{Command, Stdio};

pub const PROGRAM: &str = "pasta";
/// The address the container asks for names; pasta forwards it to the host's resolver,
/// even one on the host's loopback.
pub const DNS_FORWARD: &str = "169.254.1.1";

pub fn available() -> bool {
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(PROGRAM).is_file()))
        .unwrap_or(false)
}

/// `-t`/`-u` values for the published ports; "none" keeps pasta from forwarding every
/// port the container happens to listen on.
fn port_args(ports: &[PortMapping], protocol: &str) -> String {
    let specs: Vec<String> = ports
        .iter()
        .filter(|p| p.protocol == protocol)
        .map(|p| {
            let addr = if p.host_ip.is_empty() {
                String::new()
            } else {
                format!("{}/", p.host_ip)
            };
            format!("{addr}{}:{}", p.host_port, p.container_port)
        })
        .collect();
    if specs.is_empty() {
        "none".into()
    } else {
        specs.join(",")
    }
}

/// Connects the network namespace of `pid`; returns pasta's pid once it is ready.
pub fn start(pid: i32, pid_file: &Path, ports: &[PortMapping]) -> Result<Pid> {
    let _ = std::fs::remove_file(pid_file);
    let out = Command::new(PROGRAM)
        .args(["--config-net", "--quiet", "--dns-forward", DNS_FORWARD])
        .args([
            "-t",
            &port_args(ports, "tcp"),
            "-u",
            &port_args(ports, "udp"),
        ])
        // Nothing of the host's loopback is reachable from the container.
        .args(["-T", "none", "-U", "none"])
        .arg("--pid")
        .arg(pid_file)
        .arg(pid.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .output()
        .map_err(|e| Error::io(format!("starting {PROGRAM}"), e))?;
    if !out.status.success() {
        let why = String::from_utf8_lossy(&out.stderr);
        return Err(Error::InvalidArgument(format!(
            "{PROGRAM} could not set up the container's network: {}",
            why.lines()
                .filter(|l| !l.contains("syslog"))
                .collect::<Vec<_>>()
                .join(" | ")
        )));
    }
    std::fs::read_to_string(pid_file)
        .ok()
        .and_then(|s| s.trim().parse::<i32>().ok())
        .map(Pid::from_raw)
        .ok_or_else(|| Error::InvalidArgument(format!("{PROGRAM} did not write its pid")))
}
