//! `exec`: a new process in a running container's namespaces, under the same limits,
//! capabilities and seccomp filter as its init. The caller becomes a child subreaper,
//! forks a helper that joins the namespaces, and the helper forks the process itself
//! (a pid namespace only takes effect for children), then leaves.

use super::process::{self, StartError};
use super::{sync, sys, terminal, Pipes, Stdio};
use nix::sys::wait::waitpid;
use nix::unistd::{fork, ForkResult, Pid};
use oci_spec::runtime::Process;
use std::os::fd::{AsRawFd, OwnedFd};

/// Namespace kinds in the order they are joined: user first so it owns the rest.
const KINDS: &[&str] = &["user", "mnt", "pid", "uts", "ipc", "net", "cgroup"];

pub struct ExecSpec {
    pub process: Process,
    /// The container's filter, compiled.
    pub seccomp: Option<super::seccomp::Program>,
    /// `-u`, resolved against the container's own passwd and group files.
    pub user: Option<String>,
    pub tty: bool,
    /// The terminal's size (rows, cols), set before the program starts.
    pub size: Option<(u16, u16)>,
    /// Give the process a stdin pipe; otherwise /dev/null.
    pub stdin: bool,
    /// Detached: stdio to /dev/null.
    pub detach: bool,
    /// A cgroup.procs file to join, if the container has a cgroup.
    pub cgroup_procs: Option<std::path::PathBuf>,
}

pub struct Joined {
    pub pid: Pid,
    pub terminal: Option<OwnedFd>,
    /// Our ends of the process's stdio pipes (neither terminal nor detached).
    pub pipes: Option<Pipes>,
}

fn fail(what: &str, e: impl std::fmt::Display) -> StartError {
    StartError::engine(format!("{what}: {e}"))
}

/// Opens the namespaces of `init_pid` that differ from ours.
fn open_namespaces(init_pid: i32) -> Result<Vec<(&'static str, OwnedFd)>, StartError> {
    let mut out = Vec::new();
    for kind in KINDS {
        let theirs = crate::procinfo::ns_inode(init_pid, kind);
        let ours = crate::procinfo::ns_inode(std::process::id() as i32, kind);
        if theirs.is_none() || theirs == ours {
            continue;
        }
        let f = std::fs::File::open(format!("/proc/{init_pid}/ns/{kind}"))
            .map_err(|e| fail(&format!("opening the container's {kind} namespace"), e))?;
        out.push((*kind, OwnedFd::from(f)));
    }
    Ok(out)
}

/// Starts the process; returns once it has exec'd (or why it could not).
pub fn spawn(init_pid: i32, spec: ExecSpec) -> Result<Joined, StartError> {
    let namespaces = open_namespaces(init_pid)?;
    nix::sys::prctl::set_child_subreaper(true).map_err(|e| fail("becoming a subreaper", e))?;
    let (stdio, pipes) = if spec.detach {
        (Stdio::Null, None)
    } else {
        Stdio::new(spec.tty, spec.stdin)?
    };
    let (ours, theirs) = sync::pair().map_err(|e| fail("socketpair", e))?;
    // SAFETY: the CLI is single-threaded when it calls this.
    let helper = match unsafe { fork() }.map_err(|e| fail("fork", e))? {
        ForkResult::Child => {
            drop(ours);
            let code = match helper(&namespaces, &spec, &stdio, &theirs) {
                Ok(()) => 0,
                Err(e) => {
                    sync::send_failure(&theirs, e.code, &e.message);
                    e.code
                }
            };
            // SAFETY: ends the helper without the parent's destructors.
            unsafe { libc::_exit(code) }
        }
        ForkResult::Parent { child } => child,
    };
    drop(theirs);
    drop(namespaces);
    drop(stdio);
    let mut pid = None;
    let mut terminal = None;
    let result = loop {
        match sync::recv(&ours) {
            Ok(None) => break Ok(()),
            Ok(Some(m)) => match m.tag {
                sync::INIT_PID => pid = Some(Pid::from_raw(m.int())),
                sync::TERMINAL => terminal = m.fd,
                sync::FAILED => {
                    let (code, message) = m.failure();
                    break Err(StartError { code, message });
                }
                _ => {}
            },
            Err(e) => break Err(fail("waiting for exec", e)),
        }
    };
    let _ = waitpid(helper, None);
    if let (Err(_), Some(p)) = (&result, pid) {
        // The process reported its failure and exits: reap it here, or it lingers as a
        // zombie in the container.
        let _ = waitpid(p, None);
    }
    result?;
    let pid = pid.ok_or_else(|| StartError::engine("exec: the process did not start"))?;
    Ok(Joined {
        pid,
        terminal,
        pipes,
    })
}

fn helper(
    namespaces: &[(&'static str, OwnedFd)],
    spec: &ExecSpec,
    stdio: &Stdio,
    sock: &OwnedFd,
) -> Result<(), StartError> {
    if let Some(p) = &spec.cgroup_procs {
        let _ = std::fs::write(p, std::process::id().to_string());
    }
    for (kind, fd) in namespaces {
        sys::setns(fd, kind).map_err(|e| StartError::engine(e.to_string()))?;
    }
    // SAFETY: single-threaded child.
    match unsafe { fork() }.map_err(|e| fail("fork", e))? {
        ForkResult::Parent { child } => {
            sync::send(sock, sync::INIT_PID, &child.as_raw().to_ne_bytes())
                .map_err(|e| fail("sync", e))
        }
        ForkResult::Child => {
            let e = match run_process(spec, stdio, sock) {
                Ok(never) => match never {},
                Err(e) => e,
            };
            sync::send_failure(sock, e.code, &e.message);
            // SAFETY: as above.
            unsafe { libc::_exit(e.code) }
        }
    }
}

fn run_process(
    spec: &ExecSpec,
    stdio: &Stdio,
    sock: &OwnedFd,
) -> Result<std::convert::Infallible, StartError> {
    nix::unistd::setsid().map_err(|e| fail("setsid", e))?;
    let mut p = spec.process.clone();
    if let Some(u) = &spec.user {
        let passwd = std::fs::read_to_string("/etc/passwd").ok();
        let group = std::fs::read_to_string("/etc/group").ok();
        let r = super::user::resolve(u, passwd.as_deref(), group.as_deref())
            .map_err(|e| StartError::engine(e.to_string()))?;
        let user = p.user_mut();
        user.set_uid(r.uid);
        user.set_gid(r.gid);
        user.set_additional_gids(Some(r.additional_gids));
        if r.uid != 0 {
            // A non-root user keeps only the bounding set, as in the container.
            if let Some(c) = p.capabilities().clone() {
                let mut c = c;
                c.set_effective(Some(Default::default()));
                c.set_permitted(Some(Default::default()));
                p.set_capabilities(Some(c));
            }
        }
    }
    if spec.tty {
        terminal::attach_new(terminal::TerminalSetup {
            pts: "/dev/pts".into(),
            console: None,
            size: spec.size,
            sock,
        })?;
    } else {
        stdio.install_fds()?;
    }
    sys::close_fds_except(&[sock.as_raw_fd()]);
    let exec = process::prepare(&p, spec.seccomp.as_ref())?;
    Err(exec.run())
}
