//! Starting the holder. The process `spawn` starts stays outside the namespaces and
//! forks the holder proper into new ones (rootless: a user namespace mapped like the
//! containers' and a network namespace; root: a network namespace). Once that exists,
//! the outside process connects it with slirp4netns, which must run outside, then
//! waits for the holder to end and stops slirp4netns.

use super::{server, Files, Info};
use crate::error::{Context, Error, Result};
use crate::network::NetworkError;
use crate::paths::Paths;
use crate::userns::IdMaps;
use crate::{fsutil, network::slirp};
use nix::sched::CloneFlags;
use nix::unistd::{fork, ForkResult};
use std::io::{BufRead, BufReader, Read, Write};
use std::os::fd::{FromRawFd, OwnedFd};

/// Starts a holder and waits until it serves; the caller holds the lock.
pub fn spawn(paths: &Paths, _maps: &IdMaps, files: &Files) -> Result<Info> {
    let _ = std::fs::remove_file(files.info());
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(files.log())
        .ctx(|| "opening the holder log".into())?;
    let args: Vec<std::ffi::OsString> = vec![
        super::SUBCOMMAND.into(),
        "--root".into(),
        paths.root.clone().into(),
        "--runroot".into(),
        paths.runroot.clone().into(),
    ];
    let r = crate::selfexec::spawn_detached("skiff", &args, log)?;
    let mut status = BufReader::new(r);
    let mut line = String::new();
    let _ = status.read_line(&mut line);
    let line = line.trim_end();
    if line != "ready" {
        let why = line.strip_prefix("error ").unwrap_or(
            "the network holder exited while starting (see netns/holder.log in the runtime root)",
        );
        return Err(Error::Network(NetworkError::HolderUnreachable(
            why.to_string(),
        )));
    }
    fsutil::read_json::<Info>(&files.info())?.ok_or_else(|| {
        Error::Network(NetworkError::HolderUnreachable(
            "the network holder did not say its pid".into(),
        ))
    })
}

fn report(status: &mut Option<std::fs::File>, line: &str) {
    if let Some(f) = status {
        let _ = f.write_all(format!("{line}\n").as_bytes());
    }
}

/// The hidden subcommand: `__network-holder --root DIR --runroot DIR`, fd 3 the
/// report pipe. Returns the exit code.
pub fn run(paths: Paths, maps: IdMaps) -> i32 {
    let files = Files::new(&paths);
    // SAFETY: fd 3 is the report pipe the spawning command placed there for us alone.
    let mut status = Some(unsafe { std::fs::File::from_raw_fd(3) });
    let pipes = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)
        .and_then(|a| nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map(|b| (a, b)));
    let Ok(((ready_r, ready_w), (go_r, go_w))) = pipes else {
        report(&mut status, "error pipe failed");
        return 1;
    };
    // SAFETY: this process is single-threaded (it just started), so the child may run
    // anything.
    match unsafe { fork() } {
        Err(e) => {
            report(&mut status, &format!("error fork: {e}"));
            1
        }
        Ok(ForkResult::Child) => {
            drop((ready_r, go_w));
            let code = inside(&paths, &maps, &files, ready_w, go_r, status);
            // SAFETY: ends the child without the parent's destructors.
            unsafe { libc::_exit(code) }
        }
        Ok(ForkResult::Parent { child }) => {
            drop((ready_w, go_r));
            outside(&files, child, ready_r, go_w, status)
        }
    }
}

/// The outside half: slirp4netns for the holder, then wait for it to end.
fn outside(
    files: &Files,
    holder: nix::unistd::Pid,
    ready: OwnedFd,
    go: OwnedFd,
    mut status: Option<std::fs::File>,
) -> i32 {
    let mut b = [0u8; 1];
    if !matches!(std::fs::File::from(ready).read(&mut b), Ok(1)) {
        report(
            &mut status,
            "error the network holder could not make its namespaces (see netns/holder.log)",
        );
        let _ = nix::sys::wait::waitpid(holder, None);
        return 1;
    }
    let api = files.slirp_socket(holder.as_raw());
    let slirp = match slirp::spawn(holder.as_raw(), &api, true) {
        Ok(s) => s,
        Err(e) => {
            report(&mut status, &format!("error {e}"));
            crate::procinfo::kill_and_reap(holder);
            return 1;
        }
    };
    let _ = std::fs::File::from(go).write_all(b"1");
    // The holder reports "ready" itself.
    drop(status);
    while let Err(nix::errno::Errno::EINTR) = nix::sys::wait::waitpid(holder, None) {}
    slirp.stop();
    let _ = std::fs::remove_file(&api);
    0
}

/// The inside half: make the namespaces, wait for slirp4netns, then serve.
fn inside(
    paths: &Paths,
    maps: &IdMaps,
    files: &Files,
    ready: OwnedFd,
    go: OwnedFd,
    status: Option<std::fs::File>,
) -> i32 {
    let made = (|| -> Result<()> {
        if paths.rootless {
            crate::userns::enter(maps, false)?;
        }
        nix::sched::unshare(CloneFlags::CLONE_NEWNET)
            .map_err(|e| Error::sys("creating the network namespace", e))
    })();
    if let Err(e) = made {
        crate::log::error(&format!("network holder: {e}"));
        return 1;
    }
    let _ = std::fs::File::from(ready).write_all(b"1");
    let mut b = [0u8; 1];
    if !matches!(std::fs::File::from(go).read(&mut b), Ok(1)) {
        return 1;
    }
    let api = files.slirp_socket(std::process::id() as i32);
    server::run(files, api, status)
}
