//! The last steps before the container's program runs, shared by a container's init
//! and by `exec`: limits, working directory, user, capabilities, no_new_privs, seccomp,
//! then execve. Failures end the process with podman's exit codes: 127 when the program
//! is not found, 126 when it cannot be run, 125 for anything else.

use super::{capabilities, rlimits, seccomp};
use nix::unistd::{Gid, Uid};
use oci_spec::runtime::Process;
use std::ffi::CString;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// The PATH a container gets when its image sets none.
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// A failure before execve: the exit code it maps to and one line saying why.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct StartError {
    pub code: i32,
    pub message: String,
}

impl StartError {
    pub fn engine(message: impl Into<String>) -> StartError {
        StartError {
            code: 125,
            message: message.into(),
        }
    }
}

/// Finds the program as execvp would, with the container's PATH, so that "not found"
/// and "not executable" can be told apart before execve.
pub fn find_program(prog: &str, env: &[String]) -> Result<PathBuf, StartError> {
    let not_found = || StartError {
        code: 127,
        message: format!("executable file `{prog}` not found in $PATH: No such file or directory"),
    };
    let check = |p: &Path| -> Option<Result<PathBuf, StartError>> {
        let meta = std::fs::metadata(p).ok()?;
        if meta.is_dir() || meta.permissions().mode() & 0o111 == 0 {
            return Some(Err(StartError {
                code: 126,
                message: format!("{}: permission denied", p.display()),
            }));
        }
        Some(Ok(p.to_path_buf()))
    };
    if prog.is_empty() {
        return Err(StartError::engine(
            "no command given: the image has no CMD or ENTRYPOINT",
        ));
    }
    if prog.contains('/') {
        return check(Path::new(prog)).unwrap_or_else(|| {
            Err(StartError {
                code: 127,
                message: format!("{prog}: no such file or directory"),
            })
        });
    }
    let path = env
        .iter()
        .find_map(|e| e.strip_prefix("PATH="))
        .unwrap_or(DEFAULT_PATH);
    let mut denied = None;
    for dir in path.split(':').filter(|d| !d.is_empty()) {
        match check(&Path::new(dir).join(prog)) {
            Some(Ok(p)) => return Ok(p),
            Some(Err(e)) => denied = denied.or(Some(e)),
            None => {}
        }
    }
    Err(denied.unwrap_or_else(not_found))
}

fn switch_user(p: &Process) -> Result<(), StartError> {
    let u = p.user();
    let groups: Vec<Gid> = u
        .additional_gids()
        .iter()
        .flatten()
        .map(|g| Gid::from_raw(*g))
        .collect();
    // With a single-id map the kernel denies setgroups; with no extra groups that is fine.
    if let Err(e) = nix::unistd::setgroups(&groups) {
        if !groups.is_empty() {
            return Err(StartError::engine(format!(
                "setting supplementary groups: {e}"
            )));
        }
    }
    let gid = Gid::from_raw(u.gid());
    let uid = Uid::from_raw(u.uid());
    nix::unistd::setresgid(gid, gid, gid)
        .map_err(|e| StartError::engine(format!("setting gid {gid}: {e} (is it mapped?)")))?;
    nix::unistd::setresuid(uid, uid, uid)
        .map_err(|e| StartError::engine(format!("setting uid {uid}: {e} (is it mapped?)")))?;
    Ok(())
}

/// Everything from limits to seccomp; returns the resolved program and the C strings
/// for execve, so that the caller may fork (the `--init` reaper) before the exec.
pub fn prepare(p: &Process, filter: Option<&seccomp::Program>) -> Result<Exec, StartError> {
    rlimits::apply(p.rlimits().as_deref().unwrap_or(&[])).map_err(StartError::engine)?;
    if let Some(adj) = p.oom_score_adj() {
        std::fs::write("/proc/self/oom_score_adj", adj.to_string())
            .map_err(|e| StartError::engine(format!("setting oom_score_adj to {adj}: {e}")))?;
    }
    let cwd = p.cwd();
    nix::unistd::chdir(cwd).map_err(|e| {
        StartError::engine(format!(
            "changing to working directory {}: {e}",
            cwd.display()
        ))
    })?;
    let env = p.env().clone().unwrap_or_default();
    let args = p.args().clone().unwrap_or_default();
    let program = find_program(args.first().map(String::as_str).unwrap_or(""), &env)?;
    let nnp = p.no_new_privileges().unwrap_or(false);
    // Without no_new_privs, loading a filter needs CAP_SYS_ADMIN: load it while we have it.
    if let (Some(f), false) = (filter, nnp) {
        f.load().map_err(StartError::engine)?;
    }
    if let Some(c) = p.capabilities() {
        capabilities::drop_bounding(c).map_err(StartError::engine)?;
    }
    nix::sys::prctl::set_keepcaps(true)
        .map_err(|e| StartError::engine(format!("keeping capabilities: {e}")))?;
    switch_user(p)?;
    if let Some(c) = p.capabilities() {
        capabilities::set_process_caps(c).map_err(StartError::engine)?;
    }
    if nnp {
        nix::sys::prctl::set_no_new_privs()
            .map_err(|e| StartError::engine(format!("setting no_new_privs: {e}")))?;
        if let Some(f) = filter {
            f.load().map_err(StartError::engine)?;
        }
    }
    let cstr = |s: &str| {
        CString::new(s).map_err(|_| StartError::engine("NUL byte in command or environment"))
    };
    Ok(Exec {
        program: cstr(&program.to_string_lossy())?,
        args: args.iter().map(|a| cstr(a)).collect::<Result<_, _>>()?,
        env: env.iter().map(|e| cstr(e)).collect::<Result<_, _>>()?,
        preserved: Vec::new(),
    })
}

pub struct Exec {
    pub program: CString,
    pub args: Vec<CString>,
    pub env: Vec<CString>,
    /// Fds the program gets at 3, 4, … (`--preserve-fds`).
    pub preserved: Vec<i32>,
}

impl Exec {
    /// execve; returns only on failure, mapped to podman's codes.
    pub fn run(&self) -> StartError {
        for (i, &from) in self.preserved.iter().enumerate() {
            // SAFETY: dup2 and fcntl on fd numbers this process holds; no memory touched.
            // The sources lie above every target (PRESERVED_FDS_BASE), so none is
            // overwritten before it is copied, and they close at exec.
            unsafe {
                if libc::dup2(from, 3 + i as i32) < 0 {
                    return StartError::engine(format!(
                        "handing over preserved fd {}: {}",
                        3 + i,
                        std::io::Error::last_os_error()
                    ));
                }
                libc::fcntl(from, libc::F_SETFD, libc::FD_CLOEXEC);
            }
        }
        let err = nix::unistd::execve(&self.program, &self.args, &self.env).unwrap_err();
        let prog = self.program.to_string_lossy();
        match err {
            nix::errno::Errno::ENOENT => StartError {
                code: 127,
                message: format!("{prog}: no such file or directory"),
            },
            nix::errno::Errno::EACCES | nix::errno::Errno::ENOEXEC | nix::errno::Errno::EPERM => {
                StartError {
                    code: 126,
                    message: format!("{prog}: {}", err.desc().to_lowercase()),
                }
            }
            e => StartError::engine(format!("executing {prog}: {e}")),
        }
    }
}
