//! The graph-driver seam: each driver says how a container's root is put in place, for
//! the sandbox (inside the container's mount namespace, through the syscall seam) and
//! for a CLI command that reaches a stopped container's files.

use super::{Driver, RootfsPlan};
use crate::error::Result;
use crate::syscall::Syscall;
use nix::unistd::Pid;
use std::path::{Path, PathBuf};

/// How long a mount made for a command lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lifetime {
    /// Gone with the calling process (its private mount namespace, its FUSE child).
    Scoped,
    /// Left mounted for the user (`skiff mount`), until `skiff unmount`.
    Persistent,
}

/// A mounted root. A FUSE daemon serving it is killed when the guard is dropped.
#[derive(Debug)]
pub struct RootMount {
    /// Where the root's files are: the mount point, or vfs's directory.
    pub path: PathBuf,
    server: Option<Pid>,
}

impl RootMount {
    pub fn at(path: PathBuf) -> Self {
        RootMount { path, server: None }
    }

    pub fn served_by(path: PathBuf, server: Pid) -> Self {
        RootMount {
            path,
            server: Some(server),
        }
    }
}

impl Drop for RootMount {
    fn drop(&mut self) {
        if let Some(p) = self.server.take() {
            crate::procinfo::kill_and_reap(p);
        }
    }
}

pub trait GraphDriver: Sync {
    /// Mounts the root at `target` in the caller's mount namespace.
    fn mount(&self, plan: &RootfsPlan, target: &Path, lifetime: Lifetime) -> Result<RootMount>;

    /// Puts the root at `root` from inside the container's new mount namespace, before
    /// the spec's mounts and pivot_root.
    fn mount_in_sandbox(&self, sys: &dyn Syscall, root: &Path, plan: &RootfsPlan) -> Result<()>;

    /// Whether the supervisor mounts the root from outside the container
    /// (`serve_container`), so that a daemon serving it is not inside the container.
    fn served_from_outside(&self) -> bool {
        false
    }

    /// Mounts the root at `root` inside the user and mount namespaces of the
    /// container's stage-1 process `ns_of`. Only drivers `served_from_outside` do.
    fn serve_container(&self, plan: &RootfsPlan, root: &Path, ns_of: Pid) -> Result<RootMount> {
        let _ = (plan, ns_of);
        Ok(RootMount::at(root.to_path_buf()))
    }
}

impl Driver {
    pub fn backend(self) -> &'static dyn GraphDriver {
        match self {
            Driver::Overlay => &super::overlay::Overlay,
            Driver::FuseOverlayfs => &super::fuse::FuseOverlayfs,
            Driver::Vfs => &super::vfs::Vfs,
        }
    }
}
