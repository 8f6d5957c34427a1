//! Making a network probe from inside a container's network namespace: a forked child
//! enters the container's user namespace (when it has its own) and network namespace,
//! makes the probe, and writes the outcome to a pipe; the caller kills it at the
//! deadline. The caller's own namespaces never change.

use super::{NetProbe, Outcome};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::{fork, ForkResult, Pid};
use std::io::Read;
use std::os::fd::{AsFd, OwnedFd};
use std::time::{Duration, Instant};

fn same_namespace(pid: i32, kind: &str) -> bool {
    let ino = |p: String| {
        std::fs::metadata(p)
            .map(|m| std::os::unix::fs::MetadataExt::ino(&m))
            .ok()
    };
    let theirs = ino(format!("/proc/{pid}/ns/{kind}"));
    theirs.is_some() && theirs == ino(format!("/proc/self/ns/{kind}"))
}

fn enter(pid: i32) -> Result<(), String> {
    let open = |kind: &str| {
        std::fs::File::open(format!("/proc/{pid}/ns/{kind}"))
            .map(OwnedFd::from)
            .map_err(|e| format!("opening the container's {kind} namespace: {e}"))
    };
    if same_namespace(pid, "net") {
        // --network host: the probe is made from here.
        return Ok(());
    }
    if !same_namespace(pid, "user") {
        let user = open("user")?;
        nix::sched::setns(user.as_fd(), nix::sched::CloneFlags::CLONE_NEWUSER)
            .map_err(|e| format!("entering the container's user namespace: {e}"))?;
    }
    let net = open("net")?;
    nix::sched::setns(net.as_fd(), nix::sched::CloneFlags::CLONE_NEWNET)
        .map_err(|e| format!("entering the container's network namespace: {e}"))
}

/// Makes `probe` from the network namespace of process `pid` (the container's init),
/// within `timeout`. The caller must be single-threaded (a user namespace is entered).
pub fn run_in_network_of(pid: i32, probe: &NetProbe, timeout: Duration) -> Outcome {
    let (r, w) = match nix::unistd::pipe() {
        Ok(p) => p,
        Err(e) => return Outcome::fail(format!("pipe: {e}")),
    };
    // SAFETY: the caller is single-threaded (healthcheck run, a controller's probe
    // child), so the child may allocate and make system calls freely.
    let child = match unsafe { fork() } {
        Err(e) => return Outcome::fail(format!("fork: {e}")),
        Ok(ForkResult::Child) => {
            drop(r);
            let outcome = match enter(pid) {
                Ok(()) => probe.run_here(timeout),
                Err(e) => Outcome::fail(e),
            };
            let line = serde_json::to_vec(&outcome).unwrap_or_default();
            let _ = nix::unistd::write(&w, &line);
            // SAFETY: _exit ends the child without running the parent's destructors.
            unsafe { libc::_exit(0) }
        }
        Ok(ForkResult::Parent { child }) => child,
    };
    drop(w);
    let deadline = Instant::now() + timeout + Duration::from_millis(500);
    let outcome = read_until(r, deadline);
    reap(child, deadline);
    outcome.unwrap_or_else(|| {
        Outcome::fail(format!(
            "timeout: the probe took longer than {}s",
            timeout.as_secs_f64()
        ))
    })
}

fn read_until(r: OwnedFd, deadline: Instant) -> Option<Outcome> {
    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
    let mut buf = Vec::new();
    let mut f = std::fs::File::from(r);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return None;
        }
        let mut fds = [PollFd::new(f.as_fd(), PollFlags::POLLIN)];
        let t = PollTimeout::try_from(left).unwrap_or(PollTimeout::MAX);
        if poll(&mut fds, t).unwrap_or(0) <= 0 {
            continue;
        }
        let mut chunk = [0u8; 4096];
        match f.read(&mut chunk) {
            Ok(0) => return serde_json::from_slice(&buf).ok(),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(_) => return None,
        }
    }
}

fn reap(child: Pid, deadline: Instant) {
    loop {
        match waitpid(child, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::StillAlive) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(2))
            }
            Ok(WaitStatus::StillAlive) => {
                let _ = nix::sys::signal::kill(child, nix::sys::signal::Signal::SIGKILL);
                let _ = waitpid(child, None);
                return;
            }
            _ => return,
        }
    }
}
