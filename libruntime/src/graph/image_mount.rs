//! `image mount`: an image's layers shown read-only at a directory of the store, for
//! tools that inspect an image's files without a container. One layer is bound
//! read-only; several are stacked by a read-only overlay (no upper directory).

use crate::error::{Error, Result};
use crate::paths::Paths;
use crate::store::ImageRecord;
use crate::syscall::Syscall as _;
use nix::mount::{mount, MsFlags};
use std::path::{Path, PathBuf};

/// Where image `id` is mounted.
pub fn mount_point(paths: &Paths, id: &str) -> PathBuf {
    paths.root.join("image-mounts").join(id)
}

/// Mounts `image` (once; a second call returns the same place).
pub fn mount_image(paths: &Paths, image: &ImageRecord) -> Result<PathBuf> {
    let target = mount_point(paths, &image.id);
    if crate::syscall::is_mounted(&target) {
        return Ok(target);
    }
    crate::fsutil::create_dir_all(&target)?;
    let diffs: Vec<String> = image.layers.iter().map(|l| l.diff_id.to_string()).collect();
    let lowers = super::unique_lowers(&diffs);
    let layers = paths.layers_dir();
    let ro = MsFlags::MS_RDONLY | MsFlags::MS_NODEV | MsFlags::MS_NOSUID;
    let mounted = match lowers.as_slice() {
        [] => Err(Error::InvalidArgument(format!(
            "image {} has no layers to mount",
            &image.id[..12]
        ))),
        [one] => bind_read_only(&layers.join(one), &target),
        many => {
            // Relative lower paths keep the option string under the kernel's page limit.
            let cwd = std::env::current_dir().ok();
            nix::unistd::chdir(&layers).map_err(|e| Error::sys("entering the layers", e))?;
            let data = format!("lowerdir={},userxattr", many.join(":"));
            let r = mount(
                Some("overlay"),
                &target,
                Some("overlay"),
                ro,
                Some(data.as_str()),
            )
            .map_err(|e| Error::sys(format!("mounting overlay on {}", target.display()), e));
            if let Some(d) = cwd {
                let _ = std::env::set_current_dir(d);
            }
            r
        }
    };
    if let Err(e) = mounted {
        let _ = std::fs::remove_dir(&target);
        return Err(e);
    }
    Ok(target)
}

fn bind_read_only(source: &Path, target: &Path) -> Result<()> {
    let fail = |e| {
        Error::sys(
            format!("binding {} on {}", source.display(), target.display()),
            e,
        )
    };
    mount(
        Some(source),
        target,
        None::<&str>,
        MsFlags::MS_BIND,
        None::<&str>,
    )
    .map_err(fail)?;
    let ro = MsFlags::MS_BIND
        | MsFlags::MS_REMOUNT
        | MsFlags::MS_RDONLY
        | MsFlags::MS_NODEV
        | MsFlags::MS_NOSUID;
    mount(None::<&str>, target, None::<&str>, ro, None::<&str>).map_err(fail)
}

/// Unmounts image `id`; false when it was not mounted.
pub fn unmount_image(paths: &Paths, id: &str) -> Result<bool> {
    let target = mount_point(paths, id);
    if !crate::syscall::is_mounted(&target) {
        return Ok(false);
    }
    crate::syscall::LINUX.unmount(&target)?;
    let _ = std::fs::remove_dir(&target);
    Ok(true)
}

/// The ids of the images mounted now.
pub fn mounted(paths: &Paths) -> Vec<String> {
    let Ok(dir) = std::fs::read_dir(paths.root.join("image-mounts")) else {
        return vec![];
    };
    let mut ids: Vec<String> = dir
        .flatten()
        .filter(|e| crate::syscall::is_mounted(&e.path()))
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    ids.sort();
    ids
}
