//! What fails reading a layer or an image archive.

#[derive(Debug, thiserror::Error)]
pub enum LayerError {
    /// An entry that would write outside the target or is otherwise unsafe to apply.
    #[error("refusing hostile archive entry {entry:?}: {reason}")]
    HostileEntry { entry: String, reason: String },
    /// The stream is not a tar archive we can read (truncated, bad header, bad member).
    #[error("invalid archive: {0}")]
    InvalidArchive(String),
    /// `load` got neither an OCI nor a docker archive.
    #[error("payload does not match any of the supported image formats:\n * oci-archive, docker-archive: {0}")]
    UnknownImageFormat(String),
}
