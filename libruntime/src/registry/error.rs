//! What fails talking to a registry.

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// No connection: DNS, TCP, TLS, or no answer to the ping.
    #[error("{0}")]
    Unreachable(String),
    /// The registry refused the credentials, or wants some and has none.
    #[error("authentication failed: {0}")]
    Unauthorized(String),
    /// The registry does not have the repository, tag, manifest or blob.
    #[error("{0}")]
    NotFound(String),
    /// The registry answered with an error status.
    #[error("{0}")]
    Refused(String),
    /// The registry sent something we cannot use (a bad digest, manifest or token).
    #[error("{0}")]
    Malformed(String),
    /// A body could not be read to its end.
    #[error("{0}")]
    Transfer(String),
    #[error("downloading {url}: {reason}")]
    Download { url: String, reason: String },
}
