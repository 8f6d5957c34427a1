//! Starting this binary again for a hidden subcommand (the supervisor, the network
//! holder): detached in a session of its own, with a pipe on fd 3 to report how its
//! start went.

use crate::error::{Context, Result};
use std::ffi::OsStr;
use std::fs::File;
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};

/// Spawns `/proc/self/exe ARGS` (shown as `arg0`) with standard error going to `log`;
/// returns the read end of its report pipe. The child is not waited for: it outlives
/// us, and init (or our subreaper) reaps it.
pub fn spawn_detached<S: AsRef<OsStr>>(arg0: &str, args: &[S], log: File) -> Result<File> {
    spawn_detached_with_fds(arg0, args, log, 0)
}

/// As `spawn_detached`, handing over our fds 3 .. 3+`preserve` as
/// `sandbox::PRESERVED_FDS_BASE` .. (`run --preserve-fds`): fd 3 itself becomes the
/// report pipe.
pub fn spawn_detached_with_fds<S: AsRef<OsStr>>(
    arg0: &str,
    args: &[S],
    log: File,
    preserve: u32,
) -> Result<File> {
    let (r, w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).ctx(|| "pipe".into())?;
    // Through /proc/self/exe: the binary we run, even if an upgrade replaced the file.
    let mut cmd = Command::new("/proc/self/exe");
    cmd.arg0(arg0)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::from(log));
    let wfd = w.as_raw_fd();
    // SAFETY: only async-signal-safe calls (dup2, setsid) between fork and exec; the
    // preserved fds were checked open by the caller.
    unsafe {
        cmd.pre_exec(move || {
            let base = crate::sandbox::PRESERVED_FDS_BASE;
            for i in 0..preserve as i32 {
                if libc::dup2(3 + i, base + i) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            if libc::dup2(wfd, 3) < 0 || libc::setsid() < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    drop(cmd.spawn().ctx(|| format!("starting {arg0}"))?);
    drop(w);
    Ok(File::from(r))
}

/// The name this binary was started as, for `ps` to show its children by.
pub fn own_name() -> String {
    std::fs::read_link("/proc/self/exe")
        .map(|p| {
            p.to_string_lossy()
                .trim_end_matches(" (deleted)")
                .to_string()
        })
        .unwrap_or_else(|_| "skiff".into())
}
