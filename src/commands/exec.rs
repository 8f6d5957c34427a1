//! exec: a process in a running container, started directly by this command (no
//! supervisor round trip): stdio is inherited, or a terminal from the container's devpts
//! is relayed.

use super::attach::{stdin_is_tty, RawMode};
use crate::cli_container::ExecArgs;
use crate::exit::with_code;
use crate::output::write_out;
use crate::Ctx;
use anyhow::{anyhow, bail, Context, Result};
use libruntime::container::create::{merge_env, new_id};
use libruntime::container::options::{expand_env, read_env_file};
use libruntime::container::{self as ctr, ContainerDirs, State, Status};
use libruntime::oci_spec::runtime::Spec;
use libruntime::sandbox::join::{self, ExecSpec};
use libruntime::sandbox::sys;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::wait::{waitpid, WaitPidFlag};
use nix::unistd::Pid;
use std::io::Write;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

pub fn exec(ctx: &Ctx, a: ExecArgs) -> Result<i32> {
    let r = ctr::find(&ctx.paths, &a.container)?;
    let dirs = ContainerDirs::new(&ctx.paths, &r.id);
    let st = State::load(&dirs)?;
    if st.status != Status::Running || !st.init_alive() {
        bail!(
            "can only create exec sessions on running containers: {} is {}",
            a.container,
            st.status.as_str()
        );
    }
    let spec: Spec =
        libruntime::fsutil::read_json(&dirs.spec())?.context("the container has no config.json")?;
    let mut process = spec
        .process()
        .clone()
        .context("the container's spec has no process")?;
    let mut env = Vec::new();
    for f in &a.env_file {
        env.extend(read_env_file(f)?);
    }
    env.extend(a.env.iter().filter_map(|e| expand_env(e)));
    process.set_env(Some(merge_env(
        process.env().as_deref().unwrap_or(&[]),
        &env,
    )));
    process.set_args(Some(a.command.clone()));
    process.set_terminal(Some(a.tty));
    if let Some(w) = &a.workdir {
        process.set_cwd(w.into());
    }
    if a.privileged {
        if let Some(mut c) = process.capabilities().clone() {
            c.set_effective(c.bounding().clone());
            c.set_permitted(c.bounding().clone());
            process.set_capabilities(Some(c));
        }
    }
    let cgroup = libruntime::cgroups::ContainerCgroup::of(&r.id);
    let joined = join::spawn(
        st.pid,
        ExecSpec {
            process,
            seccomp: spec.linux().as_ref().and_then(|l| l.seccomp().clone()),
            user: a.user.clone(),
            tty: a.tty,
            size: sys::window_size(0),
            stdin: a.interactive,
            detach: a.detach,
            cgroup_procs: cgroup.procs_file(),
        },
    )
    .map_err(|e| with_code(e.code, anyhow!(e.message)))?;
    if a.detach {
        write_out(&format!("{}\n", new_id()))?;
        return Ok(0);
    }
    match joined.terminal {
        Some(master) => relay_terminal(joined.pid, master, a.interactive),
        None => wait_forwarding(joined.pid),
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

/// Waits for the process, passing on the signals a user sends to this command.
fn wait_forwarding(pid: Pid) -> Result<i32> {
    let mut sigs = vec![Signal::SIGCHLD];
    sigs.extend_from_slice(super::attach::PROXIED);
    let sfd = signal_fd(&sigs)?;
    loop {
        if let Ok(s) = waitpid(pid, Some(WaitPidFlag::WNOHANG)) {
            if let Some(c) = sys::exit_code(s) {
                return Ok(c);
            }
        }
        let mut fds = [PollFd::new(sfd.as_fd(), PollFlags::POLLIN)];
        let _ = poll(&mut fds, PollTimeout::from(1000u16));
        while let Ok(Some(info)) = sfd.read_signal() {
            if let Ok(sig) = Signal::try_from(info.ssi_signo as i32) {
                if sig != Signal::SIGCHLD {
                    let _ = nix::sys::signal::kill(pid, sig);
                }
            }
        }
    }
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
