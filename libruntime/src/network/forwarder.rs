//! Published TCP ports the way podman's rootlessport forwards them: the host side
//! listens in the host's network namespace, and each connection it accepts is joined to
//! a socket opened inside the container's namespace, the bytes moved by splice(2).
//! slirp4netns's own port handler copies every byte through its user-mode TCP stack,
//! which is several times slower.
//!
//! One small process per container does it: forked from the supervisor with the
//! listeners already bound (so a taken port is reported before the container runs), it
//! enters the container's user and network namespaces, and every socket it opens from
//! then on belongs to the container's network while the listeners stay on the host's.

use crate::error::{Error, Result};
use crate::network::ports::PortMapping;
use crate::network::NetworkError;
use nix::unistd::{ForkResult, Pid};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};

/// A host listener and the container port its connections go to.
struct Published {
    listener: TcpListener,
    container_port: u16,
}

/// Binds the host side of every TCP mapping; UDP ones are left to the network's helper.
/// Binding here, before anything runs, turns a taken port into the start's error.
pub fn bind(ports: &[PortMapping]) -> Result<Vec<TcpListener>> {
    ports
        .iter()
        .filter(|p| p.protocol == "tcp")
        .map(|p| {
            let ip = if p.host_ip.is_empty() {
                "0.0.0.0"
            } else {
                &p.host_ip
            };
            TcpListener::bind((ip, p.host_port)).map_err(|e| {
                Error::Network(NetworkError::PortUnavailable {
                    address: format!("{ip}:{}", p.host_port),
                    target: format!("{}/tcp", p.container_port),
                    reason: e.to_string(),
                })
            })
        })
        .collect()
}

/// The forwarding process of one container.
pub struct Forwarder {
    pid: Pid,
}

impl Forwarder {
    /// Ends the forwarder; its listeners close with it. The supervisor reaps it.
    pub fn stop(self) {
        let _ = nix::sys::signal::kill(self.pid, nix::sys::signal::Signal::SIGKILL);
    }
}

/// Starts forwarding `listeners` (from `bind`, in the order of the TCP mappings in
/// `ports`) to `guest` inside the network namespace of process `ns_pid`.
pub fn start(
    ns_pid: i32,
    guest: Ipv4Addr,
    ports: &[PortMapping],
    listeners: Vec<TcpListener>,
) -> Result<Forwarder> {
    let published: Vec<Published> = ports
        .iter()
        .filter(|p| p.protocol == "tcp")
        .zip(listeners)
        .map(|(p, listener)| Published {
            listener,
            container_port: p.container_port,
        })
        .collect();
    let open = |kind: &str| -> Result<OwnedFd> {
        let path = format!("/proc/{ns_pid}/ns/{kind}");
        std::fs::File::open(&path)
            .map(OwnedFd::from)
            .map_err(|e| Error::io(format!("opening {path}"), e))
    };
    let net = open("net")?;
    // The container's user namespace owns its network namespace: entering the network
    // needs privilege there. Under the same user namespace as ours there is none to join.
    let user = if same_namespace(ns_pid, "user") {
        None
    } else {
        Some(open("user")?)
    };
    // SAFETY: the supervisor is single-threaded, so the child starts with a consistent
    // heap and no lock held by a thread that does not exist in it.
    match unsafe { nix::unistd::fork() }.map_err(|e| Error::sys("fork", e))? {
        ForkResult::Parent { child } => Ok(Forwarder { pid: child }),
        ForkResult::Child => {
            let code = match serve(user, net, guest, published) {
                Ok(()) => 0,
                Err(e) => {
                    crate::log::warn(&format!("port forwarder: {e}"));
                    1
                }
            };
            // SAFETY: _exit ends this forked child without running the parent's atexit
            // handlers or flushing its copied buffers twice.
            unsafe { libc::_exit(code) }
        }
    }
}

fn same_namespace(pid: i32, kind: &str) -> bool {
    let ours = std::fs::read_link(format!("/proc/self/ns/{kind}"));
    let theirs = std::fs::read_link(format!("/proc/{pid}/ns/{kind}"));
    matches!((ours, theirs), (Ok(a), Ok(b)) if a == b)
}

/// The child: drop what was inherited, enter the namespaces, accept forever.
fn serve(
    user: Option<OwnedFd>,
    net: OwnedFd,
    guest: Ipv4Addr,
    published: Vec<Published>,
) -> Result<()> {
    // SAFETY: prctl with PR_SET_PDEATHSIG takes a signal number and touches no memory.
    unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) };
    // Named for ps, as the supervisor's other helpers are.
    let _ = nix::sys::prctl::set_name(c"skiff-ports");
    let mut keep: Vec<RawFd> = published.iter().map(|p| p.listener.as_raw_fd()).collect();
    keep.push(net.as_raw_fd());
    keep.extend(user.as_ref().map(|u| u.as_raw_fd()));
    // The supervisor's copies of the container's pipes and sockets must not live on
    // here: a held write end would keep the container's stdin from ever ending.
    close_all_but(&keep);
    use nix::sched::{setns, CloneFlags};
    if let Some(u) = &user {
        setns(u.as_fd(), CloneFlags::CLONE_NEWUSER).map_err(|e| Error::sys("setns user", e))?;
    }
    setns(net.as_fd(), CloneFlags::CLONE_NEWNET).map_err(|e| Error::sys("setns net", e))?;
    drop(user);
    drop(net);
    accept_loop(guest, &published)
}

fn close_all_but(keep: &[RawFd]) {
    // Unlike the sandbox, which marks fds close-on-exec, this process never execs.
    for fd in crate::sandbox::sys::open_fds() {
        if fd > 2 && !keep.contains(&fd) {
            // SAFETY: closing a descriptor this process owns and no Rust object wraps
            // any more (the forked child never returns into the supervisor's code).
            unsafe { libc::close(fd) };
        }
    }
}

fn accept_loop(guest: Ipv4Addr, published: &[Published]) -> Result<()> {
    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
    loop {
        let mut fds: Vec<PollFd> = published
            .iter()
            .map(|p| PollFd::new(p.listener.as_fd(), PollFlags::POLLIN))
            .collect();
        match poll(&mut fds, PollTimeout::NONE) {
            Ok(_) => {}
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(Error::sys("poll", e)),
        }
        let ready: Vec<usize> = fds
            .iter()
            .enumerate()
            .filter(|(_, f)| f.revents().is_some_and(|r| !r.is_empty()))
            .map(|(i, _)| i)
            .collect();
        for i in ready {
            let p = &published[i];
            if let Ok((client, _)) = p.listener.accept() {
                let target = SocketAddr::from((guest, p.container_port));
                // A small stack: the relay threads only move bytes between descriptors.
                let _ = std::thread::Builder::new()
                    .stack_size(64 * 1024)
                    .spawn(move || relay(client, target));
            }
        }
    }
}

/// Joins one accepted connection to the container's port; closes both when done.
fn relay(client: TcpStream, target: SocketAddr) {
    let Ok(server) = TcpStream::connect(target) else {
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (Ok(c2), Ok(s2)) = (client.try_clone(), server.try_clone()) else {
        return;
    };
    let back = std::thread::Builder::new()
        .stack_size(64 * 1024)
        .spawn(move || pump(&s2, &c2));
    pump(&client, &server);
    if let Ok(t) = back {
        let _ = t.join();
    }
}

/// Moves bytes from `from` to `to` until `from` ends, then ends `to`'s writing side.
fn pump(from: &TcpStream, to: &TcpStream) {
    if splice_all(from, to).is_err() {
        // A broken side: stop the other direction too.
        let _ = from.shutdown(std::net::Shutdown::Both);
        let _ = to.shutdown(std::net::Shutdown::Both);
        return;
    }
    let _ = to.shutdown(std::net::Shutdown::Write);
}

/// splice(2) through a pipe: the bytes never enter this process's memory.
fn splice_all(from: &TcpStream, to: &TcpStream) -> std::io::Result<()> {
    use nix::fcntl::{splice, SpliceFFlags};
    let (r, w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)?;
    // A larger pipe moves more per call; the default 64 KiB is kept if refused.
    let _ = nix::fcntl::fcntl(&w, nix::fcntl::FcntlArg::F_SETPIPE_SZ(1 << 20));
    const CHUNK: usize = 1 << 20;
    let flags = SpliceFFlags::SPLICE_F_MOVE;
    loop {
        let n = retry(|| splice(from.as_fd(), None, w.as_fd(), None, CHUNK, flags))?;
        if n == 0 {
            return Ok(());
        }
        let mut left = n;
        while left > 0 {
            let m = retry(|| splice(r.as_fd(), None, to.as_fd(), None, left, flags))?;
            if m == 0 {
                return Err(std::io::ErrorKind::WriteZero.into());
            }
            left -= m;
        }
    }
}

fn retry(mut f: impl FnMut() -> nix::Result<usize>) -> std::io::Result<usize> {
    loop {
        match f() {
            Err(nix::errno::Errno::EINTR) => continue,
            r => return r.map_err(std::io::Error::from),
        }
    }
}
