//! pasta (from passt): the container's network namespace gets a copy of the host's
//! addresses and routes, and published ports are spliced to it. pasta sets up, then
//! goes to the background; the supervisor (a subreaper) adopts it and stops it at exit.

use crate::error::{Error, Result};
use crate::network::ports::PortMapping;
use crate::network::NetworkError;
use crate::syscall::{Syscall, LINUX};
use nix::unistd::Pid;
use std::path::Path;
use std::process::Stdio;

pub const PROGRAM: &str = "pasta";
/// The address the container asks for names; pasta forwards it to the host's resolver,
/// even one on the host's loopback.
pub const DNS_FORWARD: &str = "169.254.1.1";

pub fn available() -> bool {
    crate::helpers::available(PROGRAM)
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

/// As root, pasta turns itself into nobody (or drops its capabilities with `--runas
/// 0`) before it opens the target, and may then not open a fully privileged process's
/// namespaces through /proc. A bind mount of the namespace is an ordinary file it can
/// open, as `ip netns` makes them.
fn pin_netns(pid: i32, file: &Path) -> Result<()> {
    std::fs::write(file, b"").map_err(|e| Error::io(format!("creating {}", file.display()), e))?;
    LINUX.bind(Path::new(&format!("/proc/{pid}/ns/net")), file, false)
}

/// Connects the network namespace of `pid`; returns pasta's pid once it is ready.
/// `run_dir` is the container's runtime directory.
pub fn start(pid: i32, run_dir: &Path, ports: &[PortMapping]) -> Result<Pid> {
    let pid_file = run_dir.join("pasta.pid");
    let _ = std::fs::remove_file(&pid_file);
    let mut cmd = crate::helpers::command(PROGRAM);
    // The target comes last: pasta takes a PID only as its final argument.
    let target: Vec<String> = if nix::unistd::geteuid().is_root() {
        let netns = run_dir.join("netns");
        pin_netns(pid, &netns)?;
        cmd.args(["--runas", "0:0", "--netns-only"]);
        vec!["--netns".into(), netns.display().to_string()]
    } else {
        vec![pid.to_string()]
    };
    let out = cmd
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
        .arg(&pid_file)
        .args(&target)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .output()
        .map_err(|e| Error::io(format!("starting {PROGRAM}"), e))?;
    if !out.status.success() {
        unpin_netns(run_dir);
        let why = String::from_utf8_lossy(&out.stderr);
        return Err(Error::Network(NetworkError::Tool(format!(
            "{PROGRAM} could not set up the container's network: {}",
            why.lines()
                .filter(|l| !l.contains("syslog"))
                .collect::<Vec<_>>()
                .join(" | ")
        ))));
    }
    std::fs::read_to_string(&pid_file)
        .ok()
        .and_then(|s| s.trim().parse::<i32>().ok())
        .map(Pid::from_raw)
        .ok_or_else(|| NetworkError::Tool(format!("{PROGRAM} did not write its pid")).into())
}

fn unpin_netns(run_dir: &Path) {
    let netns = run_dir.join("netns");
    if netns.exists() {
        let _ = nix::mount::umount2(&netns, nix::mount::MntFlags::MNT_DETACH);
        let _ = std::fs::remove_file(&netns);
    }
}

/// Stops pasta and lets go of the namespace it served.
pub fn stop(pasta: Pid, run_dir: &Path) {
    crate::procinfo::kill_and_reap(pasta);
    unpin_netns(run_dir);
}

/// After a supervisor died without cleaning up: stops the pasta it left (only if the
/// pid recorded is still pasta) and unpins the namespace, so the runtime directory can
/// go.
pub fn clean_up_after(run_dir: &Path) {
    let pid = std::fs::read_to_string(run_dir.join("pasta.pid"))
        .ok()
        .and_then(|s| s.trim().parse::<i32>().ok());
    if let Some(p) = pid {
        let ours = crate::procinfo::cmdline(p)
            .and_then(|c| c.split(' ').next().map(String::from))
            .is_some_and(|c| c == PROGRAM || c.ends_with("/pasta"));
        if ours {
            let _ = nix::sys::signal::kill(Pid::from_raw(p), nix::sys::signal::Signal::SIGKILL);
        }
    }
    unpin_netns(run_dir);
}
