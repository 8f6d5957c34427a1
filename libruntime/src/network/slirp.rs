//! slirp4netns: user-mode networking for a container's network namespace. The
//! supervisor starts it once the namespace exists and before the program runs, asks it
//! (over its API socket) to forward the published ports, and stops it at exit.

use crate::container::record::PortMapping;
use crate::error::{Error, Result};
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const PROGRAM: &str = "slirp4netns";
/// The container's address and the gateway on slirp4netns's default network.
pub const GUEST_ADDR: &str = "10.0.2.100";
pub const DNS_ADDR: &str = "10.0.2.3";
const READY_TIMEOUT: Duration = Duration::from_secs(10);

pub struct Slirp {
    child: Child,
}

impl Slirp {
    /// Stops slirp4netns; the namespace it served is gone or going.
    pub fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn available() -> bool {
    crate::platform::on_path(PROGRAM)
}

/// Starts slirp4netns for the network namespace of `pid`, waits until the interface
/// is configured, then publishes `ports`.
pub fn start(pid: i32, api_socket: &Path, ports: &[PortMapping]) -> Result<Slirp> {
    let (ready_r, ready_w) =
        nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(|e| Error::sys("pipe", e))?;
    let _ = std::fs::remove_file(api_socket);
    let ready_fd = ready_w.as_raw_fd();
    let mut cmd = Command::new(PROGRAM);
    cmd.args(["--configure", "--mtu=65520", "--ready-fd=3"]);
    // libslirp drops the answers to forwarded UDP when the host's loopback is closed to
    // the container (replies go to 10.0.2.2): only then is it left open.
    // (create warns the user about it.)
    if !ports.iter().any(|p| p.protocol == "udp") {
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
            // The supervisor's death takes the network helper with it.
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
    let mut slirp = Slirp { child };
    let mut ready = std::fs::File::from(ready_r);
    let mut b = [0u8; 1];
    match ready.read(&mut b) {
        Ok(1) => {}
        _ => {
            slirp.child.kill().ok();
            let _ = slirp.child.wait();
            return Err(Error::InvalidArgument(format!(
                "{PROGRAM} did not set up the container's network (see the supervisor log)"
            )));
        }
    }
    for p in ports {
        if let Err(e) = add_hostfwd(api_socket, p) {
            slirp.stop();
            return Err(e);
        }
    }
    Ok(slirp)
}

fn add_hostfwd(api: &Path, p: &PortMapping) -> Result<()> {
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
    let host_addr = if p.host_ip.is_empty() {
        "0.0.0.0"
    } else {
        &p.host_ip
    };
    let req = serde_json::json!({
        "execute": "add_hostfwd",
        "arguments": {
            "proto": p.protocol,
            "host_addr": host_addr,
            "host_port": p.host_port,
            "guest_addr": GUEST_ADDR,
            "guest_port": p.container_port,
        }
    });
    s.write_all(req.to_string().as_bytes())
        .and_then(|_| s.shutdown(std::net::Shutdown::Write))
        .map_err(|e| Error::io("talking to slirp4netns", e))?;
    let mut answer = String::new();
    s.read_to_string(&mut answer)
        .map_err(|e| Error::io("talking to slirp4netns", e))?;
    let v: serde_json::Value = serde_json::from_str(&answer).unwrap_or_default();
    if let Some(err) = v.get("error") {
        let why = err
            .get("desc")
            .and_then(|d| d.as_str())
            .unwrap_or("refused");
        return Err(Error::InvalidArgument(format!(
            "publishing {host_addr}:{} -> {}/{}: {why}",
            p.host_port, p.container_port, p.protocol
        )));
    }
    Ok(())
}

/// The API socket of a container's slirp4netns, in its runtime directory.
pub fn api_socket(run_dir: &Path) -> PathBuf {
    run_dir.join("slirp4netns.sock")
}
