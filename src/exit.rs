//! Exit codes, as podman documents them.

use libruntime::container::ContainerError;
use libruntime::network::NetworkError;
use libruntime::pod::PodError;
use libruntime::store::StoreError;
use libruntime::volume::VolumeError;
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
    if let Some(Error::Container(ContainerError::Start(s))) = e.downcast_ref::<Error>() {
        return s.code;
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
        Error::Store(StoreError::ImageNotFound(_))
        | Error::Container(ContainerError::NotFound(_))
        | Error::Network(NetworkError::NotFound(_))
        | Error::Pod(PodError::NotFound(_)) => 1,
        Error::Store(StoreError::ImageInUse { .. })
        | Error::Container(ContainerError::Running { .. })
        | Error::Pod(PodError::Running(_))
        | Error::Volume(VolumeError::InUse { .. }) => 2,
        _ => ENGINE,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removing_verbs_take_codes_from_variants() {
        let cases: Vec<(Error, i32)> = vec![
            (StoreError::ImageNotFound("x".into()).into(), 1),
            (ContainerError::NotFound("x".into()).into(), 1),
            (NetworkError::NotFound("x".into()).into(), 1),
            (PodError::NotFound("x".into()).into(), 1),
            (PodError::Running("p".into()).into(), 2),
            (
                StoreError::ImageInUse {
                    image: "i".into(),
                    container: "c".into(),
                }
                .into(),
                2,
            ),
            (
                ContainerError::Running {
                    id: "c".into(),
                    state: "running".into(),
                }
                .into(),
                2,
            ),
            (
                VolumeError::InUse {
                    name: "v".into(),
                    containers: vec!["c".into()],
                }
                .into(),
                2,
            ),
            // Text that reads like "not found" is not the variant.
            (Error::InvalidArgument("no such container".into()), ENGINE),
            (
                Error::io("x", std::io::Error::from(std::io::ErrorKind::NotFound)),
                ENGINE,
            ),
        ];
        for (e, want) in cases {
            assert_eq!(code_of_lib(&e), want, "{e}");
        }
    }

    #[test]
    fn coded_and_reported_errors_keep_their_codes() {
        assert_eq!(code_of(&with_code(126, anyhow::anyhow!("x"))), 126);
        assert_eq!(code_of(&anyhow::Error::new(Reported(3))), 3);
        assert_eq!(code_of(&anyhow::anyhow!("plain")), ENGINE);
        let start = libruntime::sandbox::process::StartError {
            code: 127,
            message: "x: not found".into(),
        };
        let e: Error = ContainerError::Start(start).into();
        assert_eq!(code_of(&anyhow::Error::new(e)), 127);
    }
}
