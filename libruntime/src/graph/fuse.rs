//! fuse-overlayfs: the overlay in user space, for kernels whose overlayfs a user
//! namespace cannot mount. It runs in the foreground as a child of whoever needs the
//! mount (the supervisor, or a CLI command) and dies with it, so no FUSE daemon is
//! ever left holding a mount namespace.

use super::driver::{GraphDriver, Lifetime, RootMount};
use super::{GraphError, RootfsPlan};
use crate::error::{Error, Result};
use crate::syscall::Syscall;
use nix::unistd::{fork, ForkResult, Pid};
use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::time::{Duration, Instant};

pub const PROGRAM: &str = "fuse-overlayfs";

pub struct FuseOverlayfs;

impl GraphDriver for FuseOverlayfs {
    fn mount(&self, plan: &RootfsPlan, target: &Path, lifetime: Lifetime) -> Result<RootMount> {
        match lifetime {
            Lifetime::Scoped => {
                spawn(plan, target, None).map(|p| RootMount::served_by(target.into(), p))
            }
            Lifetime::Persistent => {
                mount_daemon(plan, target).map(|_| RootMount::at(target.into()))
            }
        }
    }

    /// The supervisor mounted it already (`serve_container`).
    fn mount_in_sandbox(&self, _: &dyn Syscall, _: &Path, _: &RootfsPlan) -> Result<()> {
        Ok(())
    }

    fn served_from_outside(&self) -> bool {
        true
    }

    fn serve_container(&self, plan: &RootfsPlan, root: &Path, ns_of: Pid) -> Result<RootMount> {
        spawn(plan, root, Some(ns_of)).map(|p| RootMount::served_by(root.into(), p))
    }
}

/// How long fuse-overlayfs may take to mount before we give up on it.
const MOUNT_TIMEOUT: Duration = Duration::from_secs(10);

/// The mount options; `in_container` when it runs in the container's user namespace,
/// where a keep-id container's owners need shifting back.
fn options(plan: &RootfsPlan, in_container: bool) -> String {
    // allow_other: the container's processes run as many users, not only the mounter.
    let mut o = format!(
        "lowerdir={},upperdir={},workdir={},allow_other",
        super::overlay::lowerdir(plan),
        plan.upper.display(),
        plan.work.display()
    );
    if let (Some(shift), true) = (plan.keep_id, in_container) {
        o.push(',');
        o.push_str(&shift.fuse_options());
    }
    o
}

/// Starts fuse-overlayfs on `target`, inside the user and mount namespaces of
/// `ns_of` when given (the container being created), and waits until the mount is
/// there. The caller must be single-threaded. The child gets SIGKILL when its parent
/// dies. Its chatter goes to our stderr only when `ns_of` is given (the supervisor,
/// whose stderr is its log); a CLI command keeps the user's terminal clean.
fn spawn(plan: &RootfsPlan, target: &Path, ns_of: Option<Pid>) -> Result<Pid> {
    // Resolved before the fork: the child must not search directories.
    let program = crate::helpers::find(PROGRAM).unwrap_or_else(|| PROGRAM.into());
    let args: Vec<CString> = [
        program.as_os_str().as_bytes(),
        b"-f",
        b"-o",
        options(plan, ns_of.is_some()).as_bytes(),
        target.as_os_str().as_bytes(),
    ]
    .iter()
    .map(|a| CString::new(*a).expect("no NUL in mount options"))
    .collect();
    // SAFETY: the caller is single-threaded (documented precondition), so the child may
    // run anything before exec.
    match unsafe { fork() }.map_err(|e| Error::sys("fork", e))? {
        ForkResult::Child => {
            let err = exec_in(plan, ns_of, &args);
            crate::log::error(&format!("starting {PROGRAM}: {err}"));
            // SAFETY: _exit skips the parent's destructors, which are not ours to run.
            unsafe { libc::_exit(127) }
        }
        ForkResult::Parent { child } => match wait_mounted(child, target) {
            Ok(()) => Ok(child),
            Err(e) => {
                crate::procinfo::kill_and_reap(child);
                Err(e)
            }
        },
    }
}

fn exec_in(plan: &RootfsPlan, ns_of: Option<Pid>, args: &[CString]) -> String {
    if let Some(pid) = ns_of {
        for ns in ["user", "mnt"] {
            let ours = crate::procinfo::ns_inode(std::process::id() as i32, ns);
            if ours == crate::procinfo::ns_inode(pid.as_raw(), ns) {
                continue;
            }
            let joined = std::fs::File::open(format!("/proc/{pid}/ns/{ns}"))
                .map_err(|e| e.to_string())
                .and_then(|f| {
                    nix::sched::setns(f, nix::sched::CloneFlags::empty()).map_err(|e| e.to_string())
                });
            if let Err(e) = joined {
                return format!("joining the {ns} namespace: {e}");
            }
        }
        // fuse-overlayfs mounts by itself only as root; under keep-id our own id is not
        // the namespace's root, so become it (joining the namespace gave us the right).
        if nix::unistd::getuid().as_raw() != 0 {
            let root = (nix::unistd::Gid::from_raw(0), nix::unistd::Uid::from_raw(0));
            if let Err(e) = nix::unistd::setresgid(root.0, root.0, root.0)
                .and_then(|_| nix::unistd::setresuid(root.1, root.1, root.1))
            {
                return format!("becoming the namespace's root: {e}");
            }
        }
    }
    if ns_of.is_none() {
        if let Ok(null) = std::fs::OpenOptions::new().write(true).open("/dev/null") {
            // SAFETY: dup2 onto fd 2 of this single-threaded child, about to exec.
            unsafe { libc::dup2(std::os::fd::AsRawFd::as_raw_fd(&null), 2) };
        }
    }
    if let Err(e) = nix::unistd::chdir(&plan.layers_dir) {
        return format!("entering {}: {e}", plan.layers_dir.display());
    }
    if let Err(e) = nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL) {
        return format!("setting the parent-death signal: {e}");
    }
    match nix::unistd::execvp(&args[0], args) {
        Ok(never) => match never {},
        Err(e) => e.to_string(),
    }
}

/// Polls the child's mount table until `target` shows a FUSE mount.
fn wait_mounted(child: Pid, target: &Path) -> Result<()> {
    use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
    let start = Instant::now();
    let want = target.to_string_lossy().into_owned();
    loop {
        if let Ok(info) = std::fs::read_to_string(format!("/proc/{child}/mountinfo")) {
            let mounted = info.lines().any(|l| {
                let f: Vec<&str> = l.split(' ').collect();
                f.get(4) == Some(&want.as_str()) && l.contains(" - fuse")
            });
            if mounted {
                return Ok(());
            }
        }
        match waitpid(child, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::StillAlive) => {}
            _ => {
                return Err(Error::Graph(GraphError::Mount(format!(
                    "{PROGRAM} exited before mounting {want} (is /dev/fuse usable by this user?)"
                ))))
            }
        }
        if start.elapsed() > MOUNT_TIMEOUT {
            return Err(Error::Graph(GraphError::Mount(format!(
                "{PROGRAM} did not mount {want} within {}s",
                MOUNT_TIMEOUT.as_secs()
            ))));
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Mounts with fuse-overlayfs as a daemon that outlives us (`skiff mount`); it exits
/// when the file system is unmounted.
fn mount_daemon(plan: &RootfsPlan, target: &Path) -> Result<()> {
    let out = crate::helpers::command(PROGRAM)
        .arg("-o")
        .arg(options(plan, false))
        .arg(target)
        .current_dir(&plan.layers_dir)
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| Error::io(format!("running {PROGRAM}"), e))?;
    if out.status.success() {
        return Ok(());
    }
    Err(Error::Graph(GraphError::Mount(format!(
        "{PROGRAM} failed: {}",
        String::from_utf8_lossy(&out.stderr).trim()
    ))))
}
