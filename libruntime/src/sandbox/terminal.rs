//! The container's terminal, made from its own devpts so that `tty` inside names a
//! device that exists there. The master goes to the supervisor; the slave becomes the
//! init's stdio, controlling terminal and /dev/console.

use super::process::StartError;
use super::{sync, sys};
use nix::fcntl::{open, OFlag};
use nix::sys::stat::Mode;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::Path;

fn fail(what: &str, e: impl std::fmt::Display) -> StartError {
    StartError::engine(format!("{what}: {e}"))
}

pub fn attach_new(root: &Path, sock: &OwnedFd) -> Result<(), StartError> {
    let pts = root.join("dev/pts");
    let master = open(
        &pts.join("ptmx"),
        OFlag::O_RDWR | OFlag::O_NOCTTY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| fail("opening the container's ptmx", e))?;
    let slave_path = open_slave_path(&master, &pts)?;
    let slave = open(&slave_path, OFlag::O_RDWR | OFlag::O_NOCTTY, Mode::empty())
        .map_err(|e| fail("opening the terminal", e))?;
    let console = root.join("dev/console");
    let _ = std::fs::File::create(&console);
    sys::bind(&slave_path, &console, false).map_err(|e| StartError::engine(e.to_string()))?;
    sync::send_with_fd(sock, sync::TERMINAL, &[], Some(master.as_raw_fd()))
        .map_err(|e| fail("passing the terminal", e))?;
    drop(master);
    for to in 0..3 {
        // SAFETY: dup2 onto the standard fds, which we mean to replace.
        if unsafe { libc::dup2(slave.as_raw_fd(), to) } < 0 {
            return Err(fail(
                "setting up the terminal",
                std::io::Error::last_os_error(),
            ));
        }
    }
    drop(slave);
    sys::set_controlling_tty(0).map_err(|e| StartError::engine(e.to_string()))
}

/// Unlocks the pty behind `master` and returns its slave's path under `pts`.
fn open_slave_path(master: &OwnedFd, pts: &Path) -> Result<std::path::PathBuf, StartError> {
    let mut unlock: libc::c_int = 0;
    let mut number: libc::c_uint = 0;
    // SAFETY: TIOCSPTLCK reads an int and TIOCGPTN writes one; both outlive the calls.
    let ok = unsafe {
        libc::ioctl(master.as_raw_fd(), libc::TIOCSPTLCK, &mut unlock) == 0
            && libc::ioctl(master.as_raw_fd(), libc::TIOCGPTN, &mut number) == 0
    };
    if !ok {
        return Err(fail(
            "unlocking the terminal",
            std::io::Error::last_os_error(),
        ));
    }
    Ok(pts.join(number.to_string()))
}

/// Opens the slave side of `master`.
pub fn open_slave(master: &OwnedFd, pts: &Path) -> Result<OwnedFd, StartError> {
    let path = open_slave_path(master, pts)?;
    open(&path, OFlag::O_RDWR | OFlag::O_NOCTTY, Mode::empty())
        .map_err(|e| fail("opening the terminal", e))
}
