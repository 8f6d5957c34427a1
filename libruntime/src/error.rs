//! The library's error type. Every variant names what failed so that the CLI can print
//! one clear line; the CLI maps them all to exit code 125.

use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{context}: {source}")]
    Sys {
        context: String,
        #[source]
        source: nix::Error,
    },
    #[error("parsing {what}: {source}")]
    Json {
        what: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("invalid reference format: {0}")]
    InvalidReference(String),
    #[error("{0}: image not known")]
    ImageNotFound(String),
    #[error("no container with name or ID {0:?} found: no such container")]
    ContainerNotFound(String),
    /// podman's text, which scripts match.
    #[error("cannot remove container {id} as it is {state} - running or paused containers cannot be removed without force: container state improper")]
    ContainerRunning { id: String, state: String },
    /// A host port could not be bound for publishing (taken, or not ours to bind).
    #[error("publishing {address} -> {target}: {reason}")]
    PortUnavailable {
        address: String,
        target: String,
        reason: String,
    },
    #[error("unable to find network with name or ID {0}: network not found")]
    NetworkNotFound(String),
    #[error("volume {name} is being used by the following container(s): {}: volume is being used", containers.join(", "))]
    VolumeInUse {
        name: String,
        containers: Vec<String>,
    },
    #[error("digest mismatch for {what}: expected {expected}, got {actual}")]
    DigestMismatch {
        what: String,
        expected: String,
        actual: String,
    },
    #[error("invalid digest {0:?}: want sha256:<64 hex digits>")]
    InvalidDigest(String),
    #[error("refusing hostile archive entry {entry:?}: {reason}")]
    HostileEntry { entry: String, reason: String },
    #[error("invalid archive: {0}")]
    InvalidArchive(String),
    #[error("payload does not match any of the supported image formats:\n * oci-archive, docker-archive: {0}")]
    UnknownImageFormat(String),
    #[error(transparent)]
    Holder(#[from] crate::network::holder::HolderError),
    #[error("{0}: manifest list not found: no such manifest list")]
    ManifestListNotFound(String),
    #[error("downloading {url}: {reason}")]
    Download { url: String, reason: String },
    #[error("image {image} is in use by container {container}: remove the container first or use --force")]
    ImageInUse { image: String, container: String },
    #[error("invalid --change {0:?}: {1}")]
    InvalidChange(String, String),
    #[error("user namespace: {0}")]
    UserNamespace(String),
    #[error("{0}")]
    InvalidArgument(String),
    #[error("{0}")]
    Registry(String),
    #[error("authentication failed: {0}")]
    Unauthorized(String),
    #[error("{0}")]
    NotFound(String),
    #[error("network: {0}")]
    Network(String),
    #[error("storage at {path} is corrupt: {reason}")]
    Corrupt { path: PathBuf, reason: String },
}

impl Error {
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }

    pub fn sys(context: impl Into<String>, source: nix::Error) -> Self {
        Error::Sys {
            context: context.into(),
            source,
        }
    }

    pub fn json(what: impl Into<String>, source: serde_json::Error) -> Self {
        Error::Json {
            what: what.into(),
            source,
        }
    }
}

/// Attaches a human context to io and nix results, anyhow-style, without losing the type.
pub trait Context<T> {
    fn ctx(self, context: impl FnOnce() -> String) -> Result<T>;
}

impl<T> Context<T> for std::result::Result<T, std::io::Error> {
    fn ctx(self, context: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|e| Error::io(context(), e))
    }
}

impl<T> Context<T> for std::result::Result<T, nix::Error> {
    fn ctx(self, context: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|e| Error::sys(context(), e))
    }
}
