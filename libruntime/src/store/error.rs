//! What fails in the image store.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No image by that name, id or digest.
    #[error("{0}: image not known")]
    ImageNotFound(String),
    /// `rmi` without force while a container uses the image.
    #[error("image {image} is in use by container {container}: remove the container first or use --force")]
    ImageInUse { image: String, container: String },
    /// A record or blob on disk does not parse or does not match what refers to it.
    #[error("storage at {path} is corrupt: {reason}")]
    Corrupt { path: PathBuf, reason: String },
    #[error("{0}: manifest list not found: no such manifest list")]
    ManifestListNotFound(String),
}
