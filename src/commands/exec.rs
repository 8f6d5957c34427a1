//! exec: a process in a running container, started directly by this command (no
//! supervisor round trip): stdio is inherited, or a terminal from the container's devpts
//! is relayed.

use super::attach::{stdin_is_tty, RawMode};
use crate::cli_container::ExecArgs;
use crate::exit::with_code;
use crate::output::write_out;
use crate::Ctx;
use anyhow::{anyhow, bail, Result};
use libruntime::container::options::{expand_env, read_env_file};
use libruntime::container::verbs::ExecOptions;
use libruntime::container::{Container, ContainerError};
use libruntime::ids::new_id;
use libruntime::sandbox::{sys, Pipes};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::wait::{waitpid, WaitPidFlag};
use nix::unistd::Pid;
use std::io::Write;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

pub fn exec(ctx: &Ctx, a: ExecArgs) -> Result<i32> {
    let mut env = Vec::new();
    for f in &a.env_file {
        env.extend(read_env_file(f)?);
    }
    env.extend(a.env.iter().filter_map(|e| expand_env(e)));
    let opts = ExecOptions {
        command: a.command.clone(),
        env,
        workdir: a.workdir.clone(),
        user: a.user.clone(),
        tty: a.tty,
        interactive: a.interactive,
        detach: a.detach,
        privileged: a.privileged,
        size: sys::window_size(0),
    };
    let joined = match Container::find(&ctx.paths, &ctx.maps, &a.container)?.exec(&opts) {
        Ok(j) => j,
        Err(libruntime::Error::Container(ContainerError::Start(e))) => {
            return Err(with_code(e.code, anyhow!(e.message)))
        }
        Err(e) => return Err(e.into()),
    };
    if a.detach {
        write_out(&format!("{}\n", new_id()))?;
        return Ok(0);
    }
    match (joined.terminal, joined.pipes) {
        (Some(master), _) => relay_terminal(joined.pid, master, a.interactive),
        (None, Some(pipes)) => relay_pipes(joined.pid, pipes),
        (None, None) => bail!("exec: the process has neither a terminal nor pipes"),
    }
}

fn signal_fd(sigs: &[Signal]) -> Result<SignalFd> {
    let mut mask = SigSet::empty();
    for s in sigs {
        mask.add(*s);
    }
    mask.thread_block()?;
    Ok(SignalFd::with_flags(
        &mask,
        SfdFlags::SFD_CLOEXEC | SfdFlags::SFD_NONBLOCK,
    )?)
}

/// Copies what is readable on `from` to `to`; false at end of file.
fn pump(from: BorrowedFd, to: &mut dyn Write) -> bool {
    let mut buf = [0u8; 65536];
    match nix::unistd::read(from, &mut buf) {
        Ok(0) => false,
        Ok(n) => {
            let _ = to.write_all(&buf[..n]);
            let _ = to.flush();
            true
        }
        Err(nix::errno::Errno::EINTR | nix::errno::Errno::EAGAIN) => true,
        Err(_) => false,
    }
}

/// Relays our stdin to the process's stdin pipe and its stdout and stderr pipes to
/// ours, passing on the signals a user sends to this command, until the process has
/// exited and its output is drained; its exit code.
fn relay_pipes(pid: Pid, pipes: Pipes) -> Result<i32> {
    let mut sigs = vec![Signal::SIGCHLD];
    sigs.extend_from_slice(super::attach::PROXIED);
    let sfd = signal_fd(&sigs)?;
    let Pipes {
        stdin: mut to_stdin,
        stdout,
        stderr,
    } = pipes;
    let (mut out_open, mut err_open) = (true, true);
    let mut code = None;
    let (mut out, mut err) = (std::io::stdout(), std::io::stderr());
    loop {
        if code.is_none() {
            if let Ok(s) = waitpid(pid, Some(WaitPidFlag::WNOHANG)) {
                code = sys::exit_code(s);
            }
        }
        // The process is gone: what is still in the pipes is taken without waiting
        // for a background child that may keep them open.
        let timeout = if code.is_some() {
            PollTimeout::ZERO
        } else {
            PollTimeout::from(1000u16)
        };
        if code.is_some() && !out_open && !err_open {
            break;
        }
        // SAFETY: fd 0 stays open for the life of the process.
        let our_stdin = unsafe { BorrowedFd::borrow_raw(0) };
        let wanted = |open: bool| {
            if open {
                PollFlags::POLLIN
            } else {
                PollFlags::empty()
            }
        };
        let mut fds = vec![
            PollFd::new(sfd.as_fd(), PollFlags::POLLIN),
            PollFd::new(stdout.as_fd(), wanted(out_open)),
            PollFd::new(stderr.as_fd(), wanted(err_open)),
        ];
        if to_stdin.is_some() {
            fds.push(PollFd::new(our_stdin, PollFlags::POLLIN));
        }
        let n = match poll(&mut fds, timeout) {
            Ok(n) => n,
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(e.into()),
        };
        if n == 0 && code.is_some() {
            break;
        }
        let ready: Vec<bool> = fds
            .iter()
            .map(|f| f.revents().is_some_and(|r| !r.is_empty()))
            .collect();
        drop(fds);
        if ready[0] {
            while let Ok(Some(info)) = sfd.read_signal() {
                if let Ok(sig) = Signal::try_from(info.ssi_signo as i32) {
                    if sig != Signal::SIGCHLD {
                        let _ = nix::sys::signal::kill(pid, sig);
                    }
                }
            }
        }
        if out_open && ready[1] {
            out_open = pump(stdout.as_fd(), &mut out);
        }
        if err_open && ready[2] {
            err_open = pump(stderr.as_fd(), &mut err);
        }
        if ready.get(3) == Some(&true) {
            let mut buf = [0u8; 65536];
            let sent = match nix::unistd::read(our_stdin, &mut buf) {
                Ok(0) | Err(_) => false,
                Ok(n) => to_stdin
                    .as_ref()
                    .is_some_and(|w| nix::unistd::write(w, &buf[..n]).is_ok()),
            };
            if !sent {
                // End of our input (or the process closed its side): close its stdin.
                to_stdin = None;
            }
        }
    }
    Ok(code.unwrap_or(125))
}

/// Relays the terminal between our stdin/stdout and the process's pty master.
fn relay_terminal(pid: Pid, master: OwnedFd, stdin: bool) -> Result<i32> {
    let sfd = signal_fd(&[Signal::SIGCHLD, Signal::SIGWINCH])?;
    if let Some((rows, cols)) = sys::window_size(0) {
        sys::set_window_size(master.as_raw_fd(), rows, cols);
    }
    let _raw = (stdin && stdin_is_tty()).then(RawMode::enable);
    let mut stdin_open = stdin;
    let mut out = std::io::stdout();
    let mut buf = [0u8; 65536];
    let mut master_open = true;
    while master_open {
        // SAFETY: fd 0 stays open for the life of the process.
        let stdin_fd = unsafe { BorrowedFd::borrow_raw(0) };
        let mut fds = vec![
            PollFd::new(master.as_fd(), PollFlags::POLLIN),
            PollFd::new(sfd.as_fd(), PollFlags::POLLIN),
        ];
        if stdin_open {
            fds.push(PollFd::new(stdin_fd, PollFlags::POLLIN));
        }
        if poll(&mut fds, PollTimeout::NONE).is_err() {
            continue;
        }
        let m = fds[0].revents().is_some_and(|r| !r.is_empty());
        let s = fds[1].revents().is_some_and(|r| !r.is_empty());
        let i = stdin_open && fds[2].revents().is_some_and(|r| !r.is_empty());
        drop(fds);
        if m {
            match nix::unistd::read(&master, &mut buf) {
                Ok(0) | Err(_) => master_open = false,
                Ok(n) => {
                    let _ = out.write_all(&buf[..n]);
                    let _ = out.flush();
                }
            }
        }
        if s {
            while let Ok(Some(info)) = sfd.read_signal() {
                if info.ssi_signo as i32 == Signal::SIGWINCH as i32 {
                    if let Some((rows, cols)) = sys::window_size(0) {
                        sys::set_window_size(master.as_raw_fd(), rows, cols);
                    }
                }
            }
        }
        if i {
            match nix::unistd::read(std::io::stdin(), &mut buf) {
                Ok(0) | Err(_) => stdin_open = false,
                Ok(n) => {
                    let _ = nix::unistd::write(&master, &buf[..n]);
                }
            }
        }
    }
    let status = waitpid(pid, None)?;
    Ok(sys::exit_code(status).unwrap_or(125))
}
