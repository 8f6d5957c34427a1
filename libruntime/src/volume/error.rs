//! What fails with volumes.

#[derive(Debug, thiserror::Error)]
pub enum VolumeError {
    /// podman's text, which scripts match.
    #[error("volume {name} is being used by the following container(s): {}: volume is being used", containers.join(", "))]
    InUse {
        name: String,
        containers: Vec<String>,
    },
}
