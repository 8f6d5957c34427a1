//! What fails in networking: definitions, published ports, and the helpers that make
//! namespaces reachable (the holder, slirp4netns, pasta, ip and nft).

use super::holder::HolderError;

#[derive(Debug, thiserror::Error)]
pub enum NetworkError {
    #[error("unable to find network with name or ID {0}: network not found")]
    NotFound(String),
    /// A host port could not be bound for publishing (taken, or not ours to bind).
    #[error("publishing {address} -> {target}: {reason}")]
    PortUnavailable {
        address: String,
        target: String,
        reason: String,
    },
    /// The network holder refused a request, for the reason it gave.
    #[error(transparent)]
    Holder(#[from] HolderError),
    /// The holder could not be started, reached or understood.
    #[error("{0}")]
    HolderUnreachable(String),
    /// A helper program (ip, nft, slirp4netns, pasta) failed or is missing.
    #[error("{0}")]
    Tool(String),
    /// A namespace could not be opened or entered, or a socket in it made.
    #[error("{0}")]
    Namespace(String),
}

impl From<HolderError> for crate::error::Error {
    fn from(e: HolderError) -> Self {
        crate::error::Error::Network(NetworkError::Holder(e))
    }
}
