//! Starting a container's supervisor: a detached child in its own session that reports
//! on a pipe ("ready", "started PID", "initialized PID", "error CODE MESSAGE").

use super::record::{ContainerDirs, ContainerRecord};
use crate::error::{Context, Result};
use crate::fsutil;
use crate::paths::Paths;
use std::io::{BufRead, BufReader};

/// The hidden subcommand that runs a supervisor.
pub const SUPERVISE: &str = "__supervise";

/// A freshly spawned supervisor and the pipe on which it reports.
pub struct Spawned {
    pub status: BufReader<std::fs::File>,
}

impl Spawned {
    /// The next report line ("ready", "started PID", "error CODE MESSAGE"); None when
    /// the supervisor closed the pipe.
    pub fn next_line(&mut self) -> Option<String> {
        let mut line = String::new();
        match self.status.read_line(&mut line) {
            Ok(0) | Err(_) => None,
            Ok(_) => Some(line.trim_end().to_string()),
        }
    }
}

/// How a supervisor begins its container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartMode {
    /// The program starts at once.
    Detached,
    /// The program starts once the first attach client is there (foreground run,
    /// `start -a`), so no output is lost.
    AttachFirst,
    /// `container init`: the sandbox is built, then the program waits until `start`
    /// (or an attach) lets it run.
    Hold,
}

impl StartMode {
    /// The supervisor's command-line flag for this mode.
    pub fn flag(self) -> Option<&'static str> {
        match self {
            StartMode::Detached => None,
            StartMode::AttachFirst => Some("--attach"),
            StartMode::Hold => Some("--hold"),
        }
    }

    pub fn from_flag(flag: &str) -> Option<StartMode> {
        [StartMode::AttachFirst, StartMode::Hold]
            .into_iter()
            .find(|m| m.flag() == Some(flag))
    }

    /// Whether the program waits for a client before it runs.
    pub fn waits(self) -> bool {
        self != StartMode::Detached
    }
}

/// Starts the supervisor of `record` in its own session, detached from the caller.
pub fn spawn_supervisor(
    paths: &Paths,
    record: &ContainerRecord,
    mode: StartMode,
) -> Result<Spawned> {
    spawn_supervisor_with_fds(paths, record, mode, 0)
}

/// As `spawn_supervisor`, handing the program our fds 3 .. 3+`preserve_fds`
/// (`run --preserve-fds`).
pub fn spawn_supervisor_with_fds(
    paths: &Paths,
    record: &ContainerRecord,
    mode: StartMode,
    preserve_fds: u32,
) -> Result<Spawned> {
    let dirs = ContainerDirs::new(paths, &record.id);
    fsutil::create_dir_all(&dirs.run)?;
    let _ = std::fs::remove_file(dirs.stop_marker());
    let _ = std::fs::remove_file(dirs.stopping_marker());
    let errlog = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dirs.dir.join("supervisor.log"))
        .ctx(|| "opening the supervisor log".into())?;
    let mut args: Vec<std::ffi::OsString> = vec![
        SUPERVISE.into(),
        "--root".into(),
        paths.root.clone().into(),
        "--runroot".into(),
        paths.runroot.clone().into(),
    ];
    if let Some(flag) = mode.flag() {
        args.push(flag.into());
    }
    if preserve_fds > 0 {
        args.push("--preserve-fds".into());
        args.push(preserve_fds.to_string().into());
    }
    args.push(record.id.clone().into());
    let r = crate::selfexec::spawn_detached_with_fds(
        &crate::selfexec::own_name(),
        &args,
        errlog,
        preserve_fds,
    )?;
    Ok(Spawned {
        status: BufReader::new(r),
    })
}

/// Why a start failed, with the exit code the CLI should use: the sandbox's own type,
/// as the supervisor reports it.
pub use crate::sandbox::process::StartError;

/// Parses a report line; Ok(pid) on "started".
pub fn parse_report(line: Option<String>) -> std::result::Result<i32, StartError> {
    let line = line
        .unwrap_or_else(|| "error 125 the supervisor exited before starting the container".into());
    if let Some(pid) = line.strip_prefix("started ") {
        return Ok(pid.parse().unwrap_or(0));
    }
    let rest = line.strip_prefix("error ").unwrap_or(&line);
    let (code, message) = rest.split_once(' ').unwrap_or(("125", rest));
    Err(StartError {
        code: code.parse().unwrap_or(125),
        message: message.to_string(),
    })
}
