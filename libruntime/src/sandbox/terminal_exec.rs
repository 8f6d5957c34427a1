//! The terminal of an `exec -t` process, made in the container's devpts after the
//! process joined its mount namespace.

use super::process::StartError;
use super::{sync, sys};
use nix::fcntl::{open, OFlag};
use nix::sys::stat::Mode;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::Path;

pub fn attach_new(sock: &OwnedFd, size: Option<(u16, u16)>) -> Result<(), StartError> {
    let fail = |what: &str, e: &dyn std::fmt::Display| StartError::engine(format!("{what}: {e}"));
    let master = open(
        Path::new("/dev/pts/ptmx"),
        OFlag::O_RDWR | OFlag::O_NOCTTY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| fail("opening the container's ptmx", &e))?;
    let slave = super::terminal::open_slave(&master, Path::new("/dev/pts"))?;
    if let Some((rows, cols)) = size {
        sys::set_window_size(slave.as_raw_fd(), rows, cols);
    }
    sync::send_with_fd(sock, sync::TERMINAL, &[], Some(master.as_raw_fd()))
        .map_err(|e| fail("passing the terminal", &e))?;
    drop(master);
    for to in 0..3 {
        // SAFETY: dup2 onto the standard fds, which we mean to replace.
        unsafe { libc::dup2(slave.as_raw_fd(), to) };
    }
    drop(slave);
    sys::set_controlling_tty(0).map_err(|e| StartError::engine(e.to_string()))
}
