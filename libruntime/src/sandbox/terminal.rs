//! Terminals made from the container's own devpts, so that `tty` inside names a device
//! that exists there. The master goes to the supervisor (or the `exec` caller) over the
//! sync socket; the slave becomes the process's stdio and controlling terminal.

use super::process::StartError;
use super::{sync, sys};
use crate::syscall::{Syscall, LINUX};
use nix::fcntl::{open, OFlag};
use nix::sys::stat::Mode;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};

fn fail(what: &str, e: impl std::fmt::Display) -> StartError {
    StartError::engine(format!("{what}: {e}"))
}

/// What to do with the new terminal besides making it the process's stdio.
pub struct TerminalSetup<'a> {
    /// The devpts directory: `<root>/dev/pts` before pivot_root, `/dev/pts` after.
    pub pts: PathBuf,
    /// Where to show the slave as the console (the container's init only).
    pub console: Option<PathBuf>,
    /// Initial size, so the program sees it from its first instruction.
    pub size: Option<(u16, u16)>,
    pub sock: &'a OwnedFd,
}

pub fn attach_new(t: TerminalSetup) -> Result<(), StartError> {
    let master = open(
        &t.pts.join("ptmx"),
        OFlag::O_RDWR | OFlag::O_NOCTTY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| fail("opening the container's ptmx", e))?;
    let slave_path = unlock(&master, &t.pts)?;
    let slave = open(&slave_path, OFlag::O_RDWR | OFlag::O_NOCTTY, Mode::empty())
        .map_err(|e| fail("opening the terminal", e))?;
    if let Some((rows, cols)) = t.size {
        sys::set_window_size(slave.as_raw_fd(), rows, cols);
    }
    if let Some(console) = &t.console {
        let _ = std::fs::File::create(console);
        LINUX
            .bind(&slave_path, console, false)
            .map_err(|e| StartError::engine(e.to_string()))?;
    }
    sync::send_with_fd(t.sock, sync::TERMINAL, &[], Some(master.as_raw_fd()))
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
fn unlock(master: &OwnedFd, pts: &Path) -> Result<PathBuf, StartError> {
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
