//! Reaching a container's files from a CLI command (`cp`, `export`, `mount`): through
//! the running container's own root, or through a mount of its storage made in a
//! private mount namespace that vanishes with the command. Paths inside are always
//! resolved by the kernel within the container's root (RESOLVE_IN_ROOT), so a symlink
//! in the container can never lead to a host file.

use super::{ContainerDirs, ContainerRecord, State, Status};
use crate::error::{Error, Result};
use crate::graph::{Lifetime, RootMount, RootfsPlan};
use crate::paths::Paths;
use crate::syscall::{Syscall, LINUX};
use crate::userns::IdMaps;
use nix::fcntl::{open, openat2, OFlag, OpenHow, ResolveFlag};
use nix::sys::stat::Mode;
use std::os::fd::OwnedFd;
use std::path::Path;

pub struct ContainerFs {
    root: OwnedFd,
    /// A stopped container's root mounted for us (a FUSE daemon serving it stops
    /// when this is dropped).
    _mounted: Option<RootMount>,
}

fn open_dir_path(p: &Path) -> Result<OwnedFd> {
    open(
        p,
        OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| Error::sys(format!("opening {}", p.display()), e))
}

fn join_user_namespace(pid: i32) -> Result<()> {
    let me = std::process::id() as i32;
    if crate::procinfo::ns_inode(me, "user") == crate::procinfo::ns_inode(pid, "user") {
        return Ok(());
    }
    let f = std::fs::File::open(format!("/proc/{pid}/ns/user"))
        .map_err(|e| Error::io("opening the container's user namespace", e))?;
    nix::sched::setns(f, nix::sched::CloneFlags::CLONE_NEWUSER)
        .map_err(|e| Error::sys("joining the container's user namespace", e))
}

/// A private mount namespace (inside the storage user namespace when rootless), so
/// that what we mount goes away with this process.
fn private_mount_namespace(paths: &Paths, maps: &IdMaps) -> Result<()> {
    if paths.rootless && !crate::userns::in_user_namespace() {
        crate::userns::enter(maps, true)?;
    } else {
        nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNS)
            .map_err(|e| Error::sys("creating a mount namespace", e))?;
    }
    LINUX.make_private(Path::new("/"))
}

/// Bind and volume mounts where the container would see them, so that a copy into a
/// stopped container's volume lands in the volume, as it would while it runs. Targets
/// missing from the root (never started) are left alone.
fn mount_volumes(root: &Path, record: &ContainerRecord) -> Result<()> {
    for m in &record.config.mounts {
        if m.kind != "bind" && m.kind != "volume" {
            continue;
        }
        let target = crate::sandbox::rootfs::secure_join(root, Path::new(&m.destination))?;
        if target.symlink_metadata().is_err() {
            continue;
        }
        LINUX.bind(Path::new(&m.source), &target, true)?;
        if !m.rw {
            LINUX.remount(&target, nix::mount::MsFlags::MS_RDONLY)?;
        }
    }
    Ok(())
}

impl ContainerFs {
    /// Opens the container's root; `volumes` mounts its binds and volumes in it too
    /// when it is not running (`cp` wants them, `export` does not). The caller must be
    /// single-threaded: this may enter namespaces.
    pub fn open(
        paths: &Paths,
        maps: &IdMaps,
        record: &ContainerRecord,
        volumes: bool,
    ) -> Result<ContainerFs> {
        let dirs = ContainerDirs::new(paths, &record.id);
        let st = State::load(&dirs)?;
        if matches!(st.status, Status::Running | Status::Paused) && st.init_alive() {
            if paths.rootless {
                join_user_namespace(st.pid)?;
            }
            let root = open_dir_path(Path::new(&format!("/proc/{}/root", st.pid)))?;
            return Ok(ContainerFs {
                root,
                _mounted: None,
            });
        }
        private_mount_namespace(paths, maps)?;
        let plan = crate::container::rootfs_plan::rootfs_plan(paths, record, &dirs);
        let mounted = plan
            .driver
            .backend()
            .mount(&plan, &dirs.merged(), Lifetime::Scoped)?;
        if volumes {
            mount_volumes(&mounted.path, record)?;
        }
        Ok(ContainerFs {
            root: open_dir_path(&mounted.path)?,
            _mounted: Some(mounted),
        })
    }

    pub fn root(&self) -> &OwnedFd {
        &self.root
    }

    /// Opens `path` (absolute in the container) as an O_PATH descriptor, symlinks
    /// resolved within the container's root; the last one is followed only when
    /// `follow`.
    pub fn resolve(&self, path: &str, follow: bool) -> Result<OwnedFd> {
        let mut flags = OFlag::O_PATH | OFlag::O_CLOEXEC;
        if !follow {
            flags |= OFlag::O_NOFOLLOW;
        }
        let rel = path.trim_start_matches('/');
        let rel = if rel.is_empty() { "." } else { rel };
        openat2(
            &self.root,
            rel,
            OpenHow::new()
                .flags(flags)
                .resolve(ResolveFlag::RESOLVE_IN_ROOT | ResolveFlag::RESOLVE_NO_MAGICLINKS),
        )
        .map_err(|e| match e {
            nix::errno::Errno::ENOENT => Error::InvalidArgument(format!(
                "{path}: no such file or directory in the container"
            )),
            e => Error::sys(format!("resolving {path} in the container"), e),
        })
    }
}

impl ContainerFs {
    /// The whole file system as a tar stream, mounts inside it left out.
    pub fn export(&self, out: impl std::io::Write) -> Result<()> {
        let mut p = crate::layer::pack::Packer::new(out, crate::layer::pack::Owners::Keep);
        p.one_file_system(&self.root)?;
        p.add(&self.root, "", true)?;
        p.finish()?
            .flush()
            .map_err(|e| Error::io("writing the archive", e))
    }
}

/// `skiff mount`: the container's root at `target`, left mounted. A running
/// container's root is its own (`/proc/PID/root`); vfs needs no mount.
pub fn mount_persistent(
    paths: &Paths,
    record: &ContainerRecord,
    plan: &RootfsPlan,
    target: &Path,
) -> Result<std::path::PathBuf> {
    let st = State::load(&ContainerDirs::new(paths, &record.id))?;
    if matches!(st.status, Status::Running | Status::Paused) && st.init_alive() {
        return Ok(format!("/proc/{}/root", st.pid).into());
    }
    if crate::syscall::is_mounted(target) {
        return Ok(target.to_path_buf());
    }
    let mounted = plan
        .driver
        .backend()
        .mount(plan, target, Lifetime::Persistent)?;
    Ok(mounted.path.clone())
}
