//! `--init`: pid 1 stays a small reaper that forwards signals to the program and
//! collects orphans, so that zombies do not pile up and SIGTERM reaches the program.
//! It is skiff's own code, already mapped in the process: nothing is added to the
//! container's file system.

use super::process::Exec;
use super::sync;
use nix::sys::signal::{kill, SigSet, SigmaskHow, Signal};
use nix::unistd::{fork, pipe, read, ForkResult};
use std::os::fd::OwnedFd;

pub fn run(exec: &Exec, sock: &OwnedFd) -> ! {
    let all = SigSet::all();
    let mut old = SigSet::empty();
    let _ = nix::sys::signal::sigprocmask(SigmaskHow::SIG_SETMASK, Some(&all), Some(&mut old));
    // The child's copy of this pipe closes when its execve succeeds.
    let (exec_r, exec_w) = match pipe() {
        Ok(p) => p,
        Err(e) => exit_with(sock, 125, &format!("pipe: {e}")),
    };
    let _ = nix::fcntl::fcntl(
        &exec_w,
        nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::FD_CLOEXEC),
    );
    // SAFETY: single-threaded process.
    let child = match unsafe { fork() } {
        Err(e) => exit_with(sock, 125, &format!("fork: {e}")),
        Ok(ForkResult::Child) => {
            drop(exec_r);
            let _ = nix::sys::signal::sigprocmask(SigmaskHow::SIG_SETMASK, Some(&old), None);
            let e = exec.run();
            exit_with(sock, e.code, &e.message)
        }
        Ok(ForkResult::Parent { child }) => child,
    };
    drop(exec_w);
    let mut b = [0u8; 1];
    let _ = read(&exec_r, &mut b);
    drop(exec_r);
    let _ = nix::sys::prctl::set_name(c"skiff-init");
    let program: Vec<String> = exec
        .args
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let mut title = vec!["/run/skiff-init", "--"];
    title.extend(program.iter().map(String::as_str));
    super::sys::set_cmdline(&title);
    // SAFETY: closing our copy of the sync socket; the supervisor sees EOF only once the
    // program's execve closed its copy too (or it reported failure).
    unsafe { libc::close(std::os::fd::AsRawFd::as_raw_fd(sock)) };
    loop {
        let Ok(sig) = all.wait() else { continue };
        if sig == Signal::SIGCHLD {
            if let Some(code) = super::sys::reap_children(child) {
                // SAFETY: _exit ends pid 1 and with it the namespace.
                unsafe { libc::_exit(code) }
            }
        } else {
            let _ = kill(child, sig);
        }
    }
}

fn exit_with(sock: &OwnedFd, code: i32, message: &str) -> ! {
    sync::send_failure(sock, code, message);
    // SAFETY: ends this process without running destructors meant for the parent.
    unsafe { libc::_exit(code) }
}
