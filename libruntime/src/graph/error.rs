//! What fails putting a container's root in place.

#[derive(Debug, thiserror::Error)]
pub enum GraphError {
    /// The storage driver named in a flag or storage.conf is not one skiff has.
    #[error("unknown storage driver {0:?}: use overlay, fuse-overlayfs or vfs")]
    UnknownDriver(String),
    /// The driver needs a program this host does not have.
    #[error(
        "storage driver {driver} needs the {program} program: install it (scripts/setup.sh does)"
    )]
    MissingProgram { driver: String, program: String },
    /// The driver could not mount the root.
    #[error("{0}")]
    Mount(String),
}
