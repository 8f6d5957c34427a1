//! What fails acting on a container.

#[derive(Debug, thiserror::Error)]
pub enum ContainerError {
    /// podman's text, which scripts match.
    #[error("no container with name or ID {0:?} found: no such container")]
    NotFound(String),
    /// podman's text, which scripts match.
    #[error("cannot remove container {id} as it is {state} - running or paused containers cannot be removed without force: container state improper")]
    Running { id: String, state: String },
    #[error("invalid --change {0:?}: {1}")]
    InvalidChange(String, String),
    /// The verb does not apply to the container's present state (podman says "container
    /// state improper").
    #[error("{0}")]
    StateImproper(String),
    /// The supervisor could not start the program; the code is podman's (125, 126, 127).
    #[error(transparent)]
    Start(#[from] crate::sandbox::process::StartError),
}
