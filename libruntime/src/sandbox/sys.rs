//! The sandbox's other system calls (namespaces, terminals, fds, process state), with
//! errors that say what was being done; mounts go through `crate::syscall`. Everything
//! here runs in a freshly forked, single-threaded child.

use crate::error::{Context, Result};
use std::os::fd::{AsRawFd, OwnedFd};

pub fn setns(fd: &OwnedFd, what: &str) -> Result<()> {
    nix::sched::setns(fd, nix::sched::CloneFlags::empty())
        .ctx(|| format!("joining {what} namespace"))
}

/// Brings the loopback interface of the current network namespace up.
pub fn loopback_up() -> Result<()> {
    use nix::sys::socket::{socket, AddressFamily, SockFlag, SockType};
    let sock = socket(
        AddressFamily::Inet,
        SockType::Datagram,
        SockFlag::SOCK_CLOEXEC,
        None,
    )
    .ctx(|| "socket for loopback".into())?;
    // SAFETY: ifreq is plain data; zeroed is a valid value for it.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (d, s) in req.ifr_name.iter_mut().zip(b"lo\0") {
        *d = *s as libc::c_char;
    }
    // SAFETY: the ioctls read and write only `req`, which outlives the calls.
    let r = unsafe { libc::ioctl(sock.as_raw_fd(), libc::SIOCGIFFLAGS, &mut req) };
    nix::errno::Errno::result(r).ctx(|| "reading loopback flags".into())?;
    // SAFETY: SIOCGIFFLAGS filled the flags member of the union.
    unsafe { req.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short };
    // SAFETY: as above.
    let r = unsafe { libc::ioctl(sock.as_raw_fd(), libc::SIOCSIFFLAGS, &req) };
    nix::errno::Errno::result(r).ctx(|| "bringing loopback up".into())?;
    Ok(())
}

/// Makes the terminal on `fd` the controlling terminal of this (new) session.
pub fn set_controlling_tty(fd: i32) -> Result<()> {
    // SAFETY: TIOCSCTTY takes an int argument and touches no memory of ours.
    let r = unsafe { libc::ioctl(fd, libc::TIOCSCTTY, 0) };
    nix::errno::Errno::result(r)
        .map(drop)
        .ctx(|| "setting the controlling terminal".into())
}

pub fn set_window_size(fd: i32, rows: u16, cols: u16) {
    let ws = libc::winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCSWINSZ reads `ws`, which outlives the call.
    unsafe { libc::ioctl(fd, libc::TIOCSWINSZ, &ws) };
}

pub fn window_size(fd: i32) -> Option<(u16, u16)> {
    // SAFETY: winsize is plain data; TIOCGWINSZ fills it.
    let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
    // SAFETY: TIOCGWINSZ writes only `ws`.
    let r = unsafe { libc::ioctl(fd, libc::TIOCGWINSZ, &mut ws) };
    (r == 0 && ws.ws_row > 0).then_some((ws.ws_row, ws.ws_col))
}

/// The fd numbers this process has open now.
pub fn open_fds() -> Vec<i32> {
    std::fs::read_dir("/proc/self/fd")
        .map(|dir| {
            dir.flatten()
                .filter_map(|e| e.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// Leaves the process with only fds 0, 1, 2 and `keep` open: the container must not
/// inherit the supervisor's sockets or log files.
pub fn close_fds_except(keep: &[i32]) {
    for fd in open_fds()
        .into_iter()
        .filter(|fd| *fd > 2 && !keep.contains(fd))
    {
        // Setting CLOEXEC instead of closing keeps the read_dir fd valid while we walk.
        // SAFETY: fcntl on an fd number touches no memory.
        unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
    }
}

/// Blocks until the parent-death signal is set and then checks the parent is still
/// the expected one (it may have died before the prctl).
pub fn set_dumpable() -> Result<()> {
    nix::sys::prctl::set_dumpable(true).ctx(|| "making the process dumpable".into())
}

pub fn die_with_parent() -> Result<()> {
    nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL)
        .ctx(|| "setting the parent-death signal".into())
}

/// Replaces what /proc/self/cmdline shows, within the space of the original arguments:
/// the `--init` reaper would otherwise show the supervisor's host command line inside
/// the container. `args` are joined with NULs, as argv is.
pub fn set_cmdline(args: &[&str]) {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return;
    };
    let Some(close) = stat.rfind(')') else { return };
    let f: Vec<&str> = stat[close + 1..].split_whitespace().collect();
    // Fields 48 and 49 of stat (arg_start, arg_end); f[0] is field 3.
    let (Some(start), Some(end)) = (
        f.get(45).and_then(|x| x.parse::<usize>().ok()),
        f.get(46).and_then(|x| x.parse::<usize>().ok()),
    ) else {
        return;
    };
    if end <= start {
        return;
    }
    let text = args.join("\0");
    let n = text.len().min(end - start - 1);
    // SAFETY: [start, end) is this process's own argv area: mapped and writable for its
    // whole life. Nothing reads argv after this point (the reaper only waits).
    unsafe {
        std::ptr::write_bytes(start as *mut u8, 0, end - start);
        std::ptr::copy_nonoverlapping(text.as_ptr(), start as *mut u8, n);
    }
}

/// The shell's view of how a process ended: its code, or 128 + the signal that killed it.
pub fn exit_code(s: nix::sys::wait::WaitStatus) -> Option<i32> {
    use nix::sys::wait::WaitStatus;
    match s {
        WaitStatus::Exited(_, c) => Some(c),
        WaitStatus::Signaled(_, sig, _) => Some(128 + sig as i32),
        _ => None,
    }
}

/// Reaps every child that has exited, without blocking; returns `main`'s exit code once
/// it is among them. A subreaper or pid 1 collects orphans this way.
pub fn reap_children(main: nix::unistd::Pid) -> Option<i32> {
    use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
    let mut result = None;
    loop {
        match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::StillAlive) | Err(_) => return result,
            Ok(s) if s.pid() == Some(main) => result = exit_code(s).or(result),
            Ok(_) => {}
        }
    }
}
