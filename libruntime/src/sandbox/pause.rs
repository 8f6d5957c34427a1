//! A pod's built-in infra process: it holds the pod's namespaces open, reaps whatever
//! is reparented to it (it is pid 1 when the pod shares its pid namespace), and ends on
//! SIGTERM, SIGINT or SIGHUP. It is skiff's own code, already mapped in the process,
//! so an infra needs no image, no root file system and no execve.

use super::sync;
use nix::sys::signal::{SigSet, SigmaskHow, Signal};
use std::os::fd::{AsRawFd, OwnedFd};

/// The name `ps` and `top` show for it, as Kubernetes' pause container has.
pub const COMMAND: &str = "/pause";

pub fn run(sock: &OwnedFd) -> ! {
    let all = SigSet::all();
    let _ = nix::sys::signal::sigprocmask(SigmaskHow::SIG_SETMASK, Some(&all), None);
    // Nothing here needs a privilege: holding a namespace takes none.
    if let Err(e) = drop_capabilities() {
        sync::send_failure(sock, 125, &format!("dropping capabilities: {e}"));
        // SAFETY: ends this child without running destructors meant for the parent.
        unsafe { libc::_exit(125) }
    }
    let _ = nix::sys::prctl::set_name(c"pause");
    super::sys::set_cmdline(&[COMMAND]);
    let _ = nix::unistd::chdir("/");
    // SAFETY: closing our only copy of the sync socket tells the supervisor that the
    // program runs, as a successful execve does for other containers.
    unsafe { libc::close(sock.as_raw_fd()) };
    loop {
        let Ok(sig) = all.wait() else { continue };
        match sig {
            Signal::SIGCHLD => {
                super::sys::reap_children(nix::unistd::Pid::from_raw(-1));
            }
            Signal::SIGTERM | Signal::SIGINT | Signal::SIGHUP => {
                // SAFETY: _exit ends the process; there is nothing to flush.
                unsafe { libc::_exit(0) }
            }
            _ => {}
        }
    }
}

fn drop_capabilities() -> Result<(), String> {
    for set in [
        caps::CapSet::Ambient,
        caps::CapSet::Inheritable,
        caps::CapSet::Effective,
        caps::CapSet::Permitted,
    ] {
        caps::clear(None, set).map_err(|e| e.to_string())?;
    }
    nix::sys::prctl::set_no_new_privs().map_err(|e| e.to_string())
}
