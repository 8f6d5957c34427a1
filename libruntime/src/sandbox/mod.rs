//! The sandbox: namespaces, id maps, the root file system, and the container's init.
//! No runc or crun: the supervisor forks two stages. Stage 1 enters or creates the
//! namespaces (the user namespace first, so it owns the rest); stage 2 is the init,
//! pid 1 of the new pid namespace, which builds the root, pivots into it, and waits for
//! the supervisor's word before it becomes the container's program.

pub mod capabilities;
pub mod join;
pub mod pause;
pub mod process;
pub mod reaper;
pub mod rlimits;
pub mod rootfs;
pub mod seccomp;
mod stdio;
pub mod sync;
pub mod sys;
mod terminal;
pub mod user;

use crate::graph::{RootMount, RootfsPlan};
use crate::syscall::{Syscall, LINUX};
use crate::userns::IdMapping;
use nix::sched::CloneFlags;
use nix::unistd::{fork, ForkResult, Pid};
use oci_spec::runtime::{LinuxNamespaceType, Spec};
use process::StartError;
use std::os::fd::{AsRawFd, OwnedFd};
pub use stdio::{Pipes, Stdio};

/// What to do when the process's working directory is not in the root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Workdir {
    Create,
    /// Fail with 126, naming the container, as podman does for a `--workdir` it lacks.
    MustExist {
        container: String,
    },
}

/// Where the supervisor keeps fds handed over with `run --preserve-fds` (the program
/// gets them at 3, 4, …): above any the supervisor or the sandbox opens.
pub const PRESERVED_FDS_BASE: i32 = 256;
/// The most fds `--preserve-fds` may hand over.
pub const PRESERVED_FDS_MAX: u32 = 512;

pub struct Launch<'a> {
    pub spec: &'a Spec,
    /// The spec's seccomp filter, compiled before the fork (`seccomp::Program::cached`).
    pub seccomp: Option<&'a seccomp::Program>,
    pub rootfs: &'a RootfsPlan,
    pub workdir: Workdir,
    pub stdio: Stdio,
    /// What runs once the supervisor says go.
    pub program: Program,
    /// Fds the program gets at 3, 4, … (`--preserve-fds`), as the supervisor holds them.
    pub preserved: Vec<i32>,
    /// Called with the stage-1 pid once its user namespace exists: write the id maps.
    pub setup: &'a dyn Fn(Pid) -> Result<(), String>,
    /// Called with the init's pid as soon as it is known, while the init still builds
    /// its root: put it in the container's cgroup. On cgroup v1 a first move waits for
    /// an RCU grace period (~10 ms), which this way overlaps the init's own work.
    pub place: &'a dyn Fn(Pid),
}

/// What the container's init becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Program {
    /// The spec's process, by execve.
    Spec,
    /// The spec's process under a small reaping, signal-forwarding pid 1 (`--init`).
    SpecUnderInit,
    /// A pod's built-in infra process (`pause.rs`): no root file system, no execve.
    Pause,
}

/// A container whose init waits for `start`.
pub struct Created {
    pub pid: Pid,
    pub terminal: Option<OwnedFd>,
    /// The root when the caller mounted it from outside (fuse-overlayfs, whose daemon
    /// is the caller's child and stops when this is dropped).
    pub served_root: Option<RootMount>,
    sock: OwnedFd,
}

fn namespace_flag(t: LinuxNamespaceType) -> CloneFlags {
    match t {
        LinuxNamespaceType::Mount => CloneFlags::CLONE_NEWNS,
        LinuxNamespaceType::Cgroup => CloneFlags::CLONE_NEWCGROUP,
        LinuxNamespaceType::Uts => CloneFlags::CLONE_NEWUTS,
        LinuxNamespaceType::Ipc => CloneFlags::CLONE_NEWIPC,
        LinuxNamespaceType::User => CloneFlags::CLONE_NEWUSER,
        LinuxNamespaceType::Pid => CloneFlags::CLONE_NEWPID,
        LinuxNamespaceType::Network => CloneFlags::CLONE_NEWNET,
        LinuxNamespaceType::Time => CloneFlags::from_bits_retain(libc::CLONE_NEWTIME),
    }
}

fn has_new_ns(spec: &Spec, t: LinuxNamespaceType) -> bool {
    spec.linux()
        .as_ref()
        .and_then(|l| l.namespaces().as_ref())
        .is_some_and(|ns| ns.iter().any(|n| n.typ() == t && n.path().is_none()))
}

/// Forks the container's init and waits until it is ready to run the program.
pub fn create(l: Launch) -> Result<Created, StartError> {
    let (ours, theirs) =
        sync::pair().map_err(|e| StartError::engine(format!("socketpair: {e}")))?;
    // SAFETY: the supervisor is single-threaded, so the child may do anything.
    let stage1 = match unsafe { fork() } {
        Err(e) => return Err(StartError::engine(format!("fork: {e}"))),
        Ok(ForkResult::Child) => {
            drop(ours);
            let code = match stage1(&l, &theirs) {
                Ok(()) => 0,
                Err(e) => {
                    sync::send_failure(&theirs, e.code, &e.message);
                    e.code
                }
            };
            // SAFETY: _exit avoids running the parent's destructors in the child.
            unsafe { libc::_exit(code) }
        }
        Ok(ForkResult::Parent { child }) => child,
    };
    drop(theirs);
    let Launch {
        spec,
        rootfs,
        stdio,
        setup,
        place,
        ..
    } = l;
    drop(stdio);
    let result = talk_to_stages(&ours, stage1, spec, rootfs, (setup, place));
    if result.is_err() {
        // Stage 1 may be waiting for an answer that will not come.
        let _ = nix::sys::signal::kill(stage1, nix::sys::signal::Signal::SIGKILL);
    }
    // Stage 1 exits once it has forked the init; reaping it here also makes the
    // supervisor (a subreaper) the init's parent.
    let _ = nix::sys::wait::waitpid(stage1, None);
    let (pid, terminal, served_root) = result?;
    Ok(Created {
        pid,
        terminal,
        served_root,
        sock: ours,
    })
}

type Staged = (Pid, Option<OwnedFd>, Option<RootMount>);

/// Writes the id maps of the stage-1 process (see `Launch::setup`).
type SetupFn<'a> = &'a dyn Fn(Pid) -> Result<(), String>;

fn talk_to_stages(
    sock: &OwnedFd,
    stage1: Pid,
    spec: &Spec,
    rootfs: &RootfsPlan,
    (setup, place): (SetupFn, &dyn Fn(Pid)),
) -> Result<Staged, StartError> {
    let mut pid = None;
    let mut terminal = None;
    // Dropped on every error return, which stops a FUSE daemon serving the root.
    let mut served = None;
    let mut ready = false;
    // Stage 1 says the pid after its fork, stage 2 says READY when set up: on a busy
    // machine READY can come first, so wait for both.
    while !(ready && pid.is_some()) {
        let msg = sync::recv(sock)
            .map_err(|e| StartError::engine(format!("reading from the container's init: {e}")))?
            .ok_or_else(|| StartError::engine("the container's init exited during setup"))?;
        match msg.tag {
            sync::NEED_MAPS => {
                setup(stage1).map_err(StartError::engine)?;
                sync::send(sock, sync::MAPS_DONE, &[])
                    .map_err(|e| StartError::engine(format!("signalling the init: {e}")))?;
            }
            sync::NEED_ROOT => {
                let root = spec.root().as_ref().map(|r| r.path().clone());
                let root = root.ok_or_else(|| StartError::engine("the spec has no root"))?;
                let driver = rootfs.driver.backend();
                match driver.serve_container(rootfs, &root, stage1) {
                    Ok(m) => served = Some(m),
                    Err(e) => return Err(StartError::engine(e.to_string())),
                }
                sync::send(sock, sync::ROOT_DONE, &[])
                    .map_err(|e| StartError::engine(format!("signalling the init: {e}")))?;
            }
            sync::INIT_PID => {
                let init = Pid::from_raw(msg.int());
                place(init);
                pid = Some(init);
            }
            sync::TERMINAL => terminal = msg.fd,
            sync::READY => ready = true,
            sync::FAILED => {
                let (code, message) = msg.failure();
                return Err(StartError { code, message });
            }
            t => {
                return Err(StartError::engine(format!(
                    "unexpected message {t} from the init"
                )));
            }
        }
    }
    let pid = pid.ok_or_else(|| StartError::engine("the init did not say its pid"))?;
    Ok((pid, terminal, served))
}

impl Created {
    /// Lets the init exec the program; returns once execve succeeded (the sync socket is
    /// close-on-exec) or with the reason it failed.
    pub fn start(self) -> Result<Pid, StartError> {
        sync::send(&self.sock, sync::GO, &[])
            .map_err(|e| StartError::engine(format!("starting the container: {e}")))?;
        match sync::recv(&self.sock) {
            Ok(None) => Ok(self.pid),
            Ok(Some(m)) if m.tag == sync::FAILED => {
                let (code, message) = m.failure();
                Err(StartError { code, message })
            }
            Ok(Some(m)) => Err(StartError::engine(format!(
                "unexpected message {} from the init",
                m.tag
            ))),
            Err(e) => Err(StartError::engine(format!(
                "waiting for the program to start: {e}"
            ))),
        }
    }
}

fn fail(what: &str, e: impl std::fmt::Display) -> StartError {
    StartError::engine(format!("{what}: {e}"))
}

/// Stage 1: namespaces. Runs in the host's namespaces, ends after forking the init.
fn stage1(l: &Launch, sock: &OwnedFd) -> Result<(), StartError> {
    let spec = l.spec;
    let namespaces = spec
        .linux()
        .as_ref()
        .and_then(|x| x.namespaces().clone())
        .unwrap_or_default();
    let open_ns = |p: &std::path::Path| {
        std::fs::File::open(p)
            .map(OwnedFd::from)
            .map_err(|e| fail(&format!("opening namespace {}", p.display()), e))
    };
    // The user namespace first: it must own every namespace made after it.
    let mut flags = CloneFlags::empty();
    for n in &namespaces {
        if n.typ() != LinuxNamespaceType::User {
            continue;
        }
        match n.path() {
            Some(p) => sys::setns(&open_ns(p)?, "user").map_err(|e| fail("user namespace", e))?,
            None => {
                nix::sched::unshare(CloneFlags::CLONE_NEWUSER)
                    .map_err(|e| fail("creating the user namespace", e))?;
                // Gaining capabilities in the new namespace made us non-dumpable, which
                // would hide /proc/PID/ns from the user's own helpers (pasta) until
                // exec. Everything here belongs to that user anyway.
                sys::set_dumpable().map_err(|e| StartError::engine(e.to_string()))?;
            }
        }
    }
    sync::send(sock, sync::NEED_MAPS, &[]).map_err(|e| fail("sync", e))?;
    match sync::recv(sock) {
        Ok(Some(m)) if m.tag == sync::MAPS_DONE => {}
        _ => {
            return Err(StartError::engine(
                "the supervisor did not set up the namespace",
            ))
        }
    }
    if l.rootfs.driver.backend().served_from_outside() {
        mount_ns_for_served_root(sock)?;
    }
    for n in &namespaces {
        if n.typ() == LinuxNamespaceType::User {
            continue;
        }
        match n.path() {
            Some(p) => sys::setns(&open_ns(p)?, &format!("{:?}", n.typ()))
                .map_err(|e| fail("joining", e))?,
            None => flags |= namespace_flag(n.typ()),
        }
    }
    nix::sched::unshare(flags).map_err(|e| fail("creating namespaces", e))?;
    // SAFETY: single-threaded child of a single-threaded process.
    match unsafe { fork() }.map_err(|e| fail("fork", e))? {
        ForkResult::Parent { child } => {
            sync::send(sock, sync::INIT_PID, &child.as_raw().to_ne_bytes())
                .map_err(|e| fail("sync", e))?;
            Ok(())
        }
        ForkResult::Child => {
            let code = match stage2(l, sock) {
                Ok(never) => match never {},
                Err(e) => {
                    sync::send_failure(sock, e.code, &e.message);
                    e.code
                }
            };
            // SAFETY: as in create().
            unsafe { libc::_exit(code) }
        }
    }
}

/// A mount namespace for a root served from outside (fuse-overlayfs), which the
/// supervisor mounts in it (the FUSE daemon is then the supervisor's child, outside
/// the container). The container's
/// own mount namespace is made after, as a copy holding the mount: pivot_root would
/// otherwise move the daemon's root too.
fn mount_ns_for_served_root(sock: &OwnedFd) -> Result<(), StartError> {
    nix::sched::unshare(CloneFlags::CLONE_NEWNS)
        .map_err(|e| fail("creating the mount namespace", e))?;
    LINUX
        .make_private(std::path::Path::new("/"))
        .map_err(|e| StartError::engine(e.to_string()))?;
    sync::send(sock, sync::NEED_ROOT, &[]).map_err(|e| fail("sync", e))?;
    match sync::recv(sock) {
        Ok(Some(m)) if m.tag == sync::ROOT_DONE => Ok(()),
        Ok(Some(m)) if m.tag == sync::FAILED => {
            let (code, message) = m.failure();
            Err(StartError { code, message })
        }
        _ => Err(StartError::engine(
            "the supervisor did not mount the root file system",
        )),
    }
}

/// Makes the working directory, or refuses to start without it.
fn prepare_workdir(
    spec: &Spec,
    root: &std::path::Path,
    policy: &Workdir,
) -> Result<(), StartError> {
    let Some(p) = spec.process() else {
        return Ok(());
    };
    let cwd = rootfs::secure_join(root, p.cwd()).map_err(|e| StartError::engine(e.to_string()))?;
    match policy {
        Workdir::Create => std::fs::create_dir_all(&cwd).map_err(|e| {
            fail(
                &format!("creating working directory {}", p.cwd().display()),
                e,
            )
        }),
        Workdir::MustExist { .. } if cwd.is_dir() => Ok(()),
        Workdir::MustExist { container } => Err(StartError {
            code: 126,
            message: format!(
                "workdir {:?} does not exist on container {container}",
                p.cwd().display().to_string()
            ),
        }),
    }
}

/// Stage 2: the init. Builds the root, then becomes the program (or its reaper).
fn stage2(l: &Launch, sock: &OwnedFd) -> Result<std::convert::Infallible, StartError> {
    // Preserved fds go to 3, 4, … just before execve: the sync socket must not sit there.
    let relocated;
    let sock = if l.preserved.is_empty() {
        sock
    } else {
        let floor = PRESERVED_FDS_BASE + l.preserved.len() as i32;
        relocated = nix::fcntl::fcntl(sock, nix::fcntl::FcntlArg::F_DUPFD_CLOEXEC(floor))
            .map(|fd| {
                // SAFETY: fcntl just returned this new fd, owned by nobody else.
                unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) }
            })
            .map_err(|e| fail("moving the sync socket", e))?;
        &relocated
    };
    let spec = l.spec;
    nix::unistd::setsid().map_err(|e| fail("setsid", e))?;
    nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o022));
    if l.program == Program::Pause {
        return pause_stage2(l, sock);
    }
    let root =
        rootfs::build(LINUX, spec, l.rootfs).map_err(|e| StartError::engine(e.to_string()))?;
    prepare_workdir(spec, &root, &l.workdir)?;
    match &l.stdio {
        Stdio::Terminal => terminal::attach_new(terminal::TerminalSetup {
            pts: root.join("dev/pts"),
            console: Some(root.join("dev/console")),
            size: None,
            sock,
        })?,
        other => other.install_fds()?,
    }
    if has_new_ns(spec, LinuxNamespaceType::Uts) {
        if let Some(h) = spec.hostname() {
            nix::unistd::sethostname(h).map_err(|e| fail("setting the hostname", e))?;
        }
    }
    if has_new_ns(spec, LinuxNamespaceType::Network) {
        sys::loopback_up().map_err(|e| StartError::engine(e.to_string()))?;
    }
    rootfs::finish(LINUX, spec, &root).map_err(|e| StartError::engine(e.to_string()))?;
    let keep: Vec<i32> = std::iter::once(sock.as_raw_fd())
        .chain(l.preserved.iter().copied())
        .collect();
    sys::close_fds_except(&keep);
    sync::send(sock, sync::READY, &[]).map_err(|e| fail("sync", e))?;
    match sync::recv(sock) {
        Ok(Some(m)) if m.tag == sync::GO => {}
        // The supervisor went away: nobody wants this container any more.
        _ => return Err(StartError::engine("the supervisor went away before start")),
    }
    sys::die_with_parent().map_err(|e| StartError::engine(e.to_string()))?;
    let process = spec
        .process()
        .as_ref()
        .ok_or_else(|| StartError::engine("the spec has no process"))?;
    let mut exec = process::prepare(process, l.seccomp)?;
    exec.preserved = l.preserved.clone();
    if l.program == Program::SpecUnderInit {
        reaper::run(&exec, sock)
    } else {
        let e = exec.run();
        // Said on the socket in use here, which may be a moved copy.
        sync::send_failure(sock, e.code, &e.message);
        // SAFETY: _exit ends this stage without unwinding into the caller's copy.
        unsafe { libc::_exit(e.code) }
    }
}

/// Stage 2 of a pod's infra: the namespaces only (hostname, loopback), then the pause.
fn pause_stage2(l: &Launch, sock: &OwnedFd) -> Result<std::convert::Infallible, StartError> {
    let spec = l.spec;
    l.stdio.install_fds()?;
    if has_new_ns(spec, LinuxNamespaceType::Uts) {
        if let Some(h) = spec.hostname() {
            nix::unistd::sethostname(h).map_err(|e| fail("setting the hostname", e))?;
        }
    }
    if has_new_ns(spec, LinuxNamespaceType::Network) {
        sys::loopback_up().map_err(|e| StartError::engine(e.to_string()))?;
    }
    sys::close_fds_except(&[sock.as_raw_fd()]);
    sync::send(sock, sync::READY, &[]).map_err(|e| fail("sync", e))?;
    match sync::recv(sock) {
        Ok(Some(m)) if m.tag == sync::GO => {}
        _ => return Err(StartError::engine("the supervisor went away before start")),
    }
    sys::die_with_parent().map_err(|e| StartError::engine(e.to_string()))?;
    pause::run(sock)
}

/// Id maps from the spec in the user-namespace form.
pub fn spec_maps(spec: &Spec) -> Option<(Vec<IdMapping>, Vec<IdMapping>)> {
    let linux = spec.linux().as_ref()?;
    let conv = |v: &Vec<oci_spec::runtime::LinuxIdMapping>| {
        v.iter()
            .map(|m| IdMapping {
                container_id: m.container_id(),
                host_id: m.host_id(),
                size: m.size(),
            })
            .collect::<Vec<_>>()
    };
    Some((
        conv(linux.uid_mappings().as_ref()?),
        conv(linux.gid_mappings().as_ref()?),
    ))
}
