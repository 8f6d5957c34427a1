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
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

pub const PROGRAM: &str = "slirp4netns";
/// The container's address and the gateway on slirp4netns's default network.
pub const GUEST_ADDR: &str = "10.0.2.100";
pub const DNS_ADDR: &str = "10.0.2.3";
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
}

/// Starts slirp4netns for `pid`'s network namespace without waiting for it.
pub fn begin(pid: i32, api_socket: &Path, ports: &[PortMapping]) -> Result<Pending> {
    // libslirp drops the answers to forwarded UDP when the host's loopback is closed to
    // the container (replies go to 10.0.2.2): only then is it left open.
    // (create warns the user about it.)
    let host_loopback = ports.iter().any(|p| p.protocol == "udp");
    let (slirp, ready) = launch(pid, api_socket, host_loopback)?;
    Ok(Pending {
        slirp,
        ready,
        api_socket: api_socket.to_path_buf(),
        ports: ports.to_vec(),
    })
}

impl Pending {
    /// Waits until the interface is configured, then publishes the ports.
    pub fn finish(self) -> Result<Slirp> {
        let mut slirp = wait_ready(self.slirp, self.ready)?;
        let mut ids = Vec::new();
        for p in &self.ports {
            let fwd = Forward {
                protocol: &p.protocol,
                host_ip: &p.host_ip,
                host_port: p.host_port,
                guest_addr: GUEST_ADDR,
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
    let (slirp, ready) = launch(pid, api_socket, host_loopback)?;
    wait_ready(slirp, ready)
}

/// Forks slirp4netns; its ready pipe says when the interface is up.
fn launch(pid: i32, api_socket: &Path, host_loopback: bool) -> Result<(Slirp, std::fs::File)> {
    let (ready_r, ready_w) =
        nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(|e| Error::sys("pipe", e))?;
    let _ = std::fs::remove_file(api_socket);
    let ready_fd = ready_w.as_raw_fd();
    let mut cmd = crate::helpers::command(PROGRAM);
    cmd.args(["--configure", "--mtu=65520", "--ready-fd=3"]);
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
            Err(Error::InvalidArgument(format!(
                "{PROGRAM} did not set up the network (see the supervisor log)"
            )))
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
        return Err(Error::PortUnavailable {
            address: format!("{host_addr}:{}", f.host_port),
            target: format!("{}/{}", f.guest_port, f.protocol),
            reason: why.to_string(),
        });
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
