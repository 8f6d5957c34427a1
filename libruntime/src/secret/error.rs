//! What fails with secrets.

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// podman's text.
    #[error("no secret with name or id {0:?}: no such secret")]
    NotFound(String),
    /// podman's text.
    #[error("{0}: secret name in use")]
    NameInUse(String),
    #[error("secret {name} is in use by container(s) {}: remove them first", containers.join(", "))]
    InUse {
        name: String,
        containers: Vec<String>,
    },
}
