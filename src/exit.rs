//! Exit codes, as podman documents them.

use libruntime::Error;

/// The engine itself failed.
pub const ENGINE: i32 = 125;

/// A command-specific exit code carried through anyhow.
#[derive(Debug)]
pub struct Coded {
    pub code: i32,
    pub error: anyhow::Error,
}

impl std::fmt::Display for Coded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:#}", self.error)
    }
}

impl std::error::Error for Coded {}

pub fn with_code(code: i32, error: impl Into<anyhow::Error>) -> anyhow::Error {
    anyhow::Error::new(Coded {
        code,
        error: error.into(),
    })
}

/// A failure a child process has already explained on our stderr: exit with `code`,
/// print nothing more.
#[derive(Debug)]
pub struct Reported(pub i32);

impl std::fmt::Display for Reported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "exit status {}", self.0)
    }
}

impl std::error::Error for Reported {}

pub fn code_of(e: &anyhow::Error) -> i32 {
    if let Some(r) = e.downcast_ref::<Reported>() {
        return r.0;
    }
    match e.downcast_ref::<Coded>() {
        Some(c) => c.code,
        None => ENGINE,
    }
}

/// The whole error chain on one line.
pub fn one_line(e: &anyhow::Error) -> String {
    format!("{e:#}").replace('\n', " ")
}

/// The documented codes of the removing verbs (rm, rmi, volume rm, network rm): 1 for
/// something that is not there, 2 for something in use; 125 otherwise.
pub fn code_of_lib(e: &Error) -> i32 {
    match e {
        Error::ImageNotFound(_) | Error::ContainerNotFound(_) | Error::NetworkNotFound(_) => 1,
        Error::ImageInUse { .. } | Error::ContainerRunning { .. } | Error::VolumeInUse { .. } => 2,
        _ => ENGINE,
    }
}
