//! The holder's loop: set up its namespace, answer requests, collect what dead
//! containers left, and exit once nothing is attached.

use super::state::State;
use super::{Answer, Files, HolderError, Info, Request};
use crate::lock::StoreLock;
use crate::{fsutil, procinfo};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use std::io::{BufRead, BufReader, Write};
use std::os::fd::AsFd;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// How long the holder stays with nothing attached, so back-to-back runs share it.
const IDLE_GRACE: Duration = Duration::from_secs(2);
const TICK: u16 = 500;

pub fn run(files: &Files, slirp_api: PathBuf, mut status: Option<std::fs::File>) -> i32 {
    let mut report = |line: &str| {
        if let Some(f) = &mut status {
            let _ = f.write_all(format!("{line}\n").as_bytes());
        }
    };
    let listener = match prepare(files) {
        Ok(l) => l,
        Err(e) => {
            report(&format!("error {e}"));
            crate::log::error(&format!("network holder: {e}"));
            return 1;
        }
    };
    report("ready");
    drop(status);
    let mut state = State::new(Box::new(super::host::Kernel { slirp_api }));
    let mut idle_since = Instant::now();
    loop {
        let mut fds = [PollFd::new(listener.as_fd(), PollFlags::POLLIN)];
        if matches!(poll(&mut fds, PollTimeout::from(TICK)), Ok(n) if n > 0) {
            if let Ok((conn, _)) = listener.accept() {
                serve(&mut state, conn);
            }
        }
        state.collect_garbage();
        if state.is_empty() {
            if idle_since.elapsed() >= IDLE_GRACE && try_exit(files) {
                state.shut_down();
                return 0;
            }
        } else {
            idle_since = Instant::now();
        }
    }
}

/// Loopback, forwarding, the firewall, the socket, and the info file.
fn prepare(files: &Files) -> crate::Result<UnixListener> {
    crate::sandbox::sys::loopback_up()?;
    std::fs::write("/proc/sys/net/ipv4/ip_forward", "1")
        .map_err(|e| crate::Error::io("enabling forwarding in the holder's namespace", e))?;
    crate::network::firewall::apply(&crate::network::firewall::ruleset(&[], &[]))?;
    let _ = std::fs::remove_file(files.socket());
    let listener = UnixListener::bind(files.socket())
        .map_err(|e| crate::Error::io(format!("binding {}", files.socket().display()), e))?;
    let pid = std::process::id() as i32;
    fsutil::write_json(
        &files.info(),
        &Info {
            pid,
            start: procinfo::start_time(pid).unwrap_or(0),
        },
    )?;
    Ok(listener)
}

fn serve(state: &mut State, conn: UnixStream) {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(5)));
    let mut line = String::new();
    if BufReader::new(&conn).read_line(&mut line).is_err() {
        return;
    }
    let answer = match serde_json::from_str::<Request>(&line) {
        Err(e) => Answer {
            error: Some(HolderError::BadRequest(e.to_string())),
            ..Answer::default()
        },
        Ok(Request::Attach(a)) => match state.attach(&a) {
            Ok(attached) => Answer {
                error: None,
                attached,
            },
            Err(e) => Answer {
                error: Some(e.into()),
                ..Answer::default()
            },
        },
        Ok(Request::Detach { container, network }) => {
            state.detach(&container, network.as_deref());
            Answer::default()
        }
    };
    let mut out = serde_json::to_vec(&answer).unwrap_or_default();
    out.push(b'\n');
    let mut conn = conn;
    let _ = conn.write_all(&out);
}

/// Leaves if nobody is about to use us: a client holds the lock from finding the
/// holder until its request is answered.
fn try_exit(files: &Files) -> bool {
    // With its directory gone (the runtime root removed) nobody can find us: leave.
    if !files.dir.exists() {
        return true;
    }
    match StoreLock::try_exclusive(&files.lock()) {
        Ok(Some(lock)) => {
            let _ = std::fs::remove_file(files.info());
            let _ = std::fs::remove_file(files.socket());
            // Held until the process ends, so no client starts a holder before the
            // files are gone.
            std::mem::forget(lock);
            true
        }
        Ok(None) => false,
        // The lock cannot be had at all (its directory went meanwhile): nobody can
        // ask us anything either.
        Err(_) => !files.dir.exists(),
    }
}
