//! The standard streams of a process in a container: pipes that the supervisor (for
//! the container's init) or the exec caller relays, or a terminal made inside the
//! container's devpts. A container process never receives a descriptor of the host's
//! own files: through /proc/self/fd it could reopen whatever the caller's stdout points
//! at.

use super::process::StartError;
use std::os::fd::{AsRawFd, OwnedFd};

/// The streams, as the child receives them.
pub enum Stdio {
    /// Pipes for 1 and 2, and for 0 when stdin is kept (else /dev/null).
    Fds {
        stdin: Option<OwnedFd>,
        stdout: OwnedFd,
        stderr: OwnedFd,
    },
    /// A terminal made inside the container's own devpts; its master is sent back.
    Terminal,
    /// /dev/null for all three (a detached exec).
    Null,
}

/// The caller's ends of the pipes of `Stdio::Fds`.
pub struct Pipes {
    pub stdin: Option<OwnedFd>,
    pub stdout: OwnedFd,
    pub stderr: OwnedFd,
}

fn pipe() -> Result<(OwnedFd, OwnedFd), StartError> {
    nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)
        .map_err(|e| StartError::engine(format!("pipe: {e}")))
}

impl Stdio {
    /// A terminal, or fresh pipes (close-on-exec on both ends until installed).
    pub fn new(tty: bool, stdin: bool) -> Result<(Stdio, Option<Pipes>), StartError> {
        if tty {
            return Ok((Stdio::Terminal, None));
        }
        let (out_r, out_w) = pipe()?;
        let (err_r, err_w) = pipe()?;
        let (in_theirs, in_ours) = if stdin {
            let (r, w) = pipe()?;
            (Some(r), Some(w))
        } else {
            (None, None)
        };
        Ok((
            Stdio::Fds {
                stdin: in_theirs,
                stdout: out_w,
                stderr: err_w,
            },
            Some(Pipes {
                stdin: in_ours,
                stdout: out_r,
                stderr: err_r,
            }),
        ))
    }

    /// In the child: puts the pipes (or /dev/null) on 0, 1 and 2. A terminal is set up
    /// by the caller, since where its devpts lives differs.
    pub fn install_fds(&self) -> Result<(), StartError> {
        let fail = |what: &str, e: std::io::Error| StartError::engine(format!("{what}: {e}"));
        let null = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/null")
            .map_err(|e| fail("opening /dev/null", e))?;
        let n = null.as_raw_fd();
        let targets = match self {
            Stdio::Terminal => return Ok(()),
            Stdio::Null => [n, n, n],
            Stdio::Fds {
                stdin,
                stdout,
                stderr,
            } => [
                stdin.as_ref().map_or(n, |f| f.as_raw_fd()),
                stdout.as_raw_fd(),
                stderr.as_raw_fd(),
            ],
        };
        for (to, from) in targets.into_iter().enumerate() {
            // SAFETY: dup2 of a valid fd onto 0-2, which we mean to replace; the copy
            // does not inherit close-on-exec.
            if unsafe { libc::dup2(from, to as i32) } < 0 {
                return Err(fail("setting up stdio", std::io::Error::last_os_error()));
            }
        }
        Ok(())
    }
}
