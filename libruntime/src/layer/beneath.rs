//! Path resolution confined to a directory: every component is opened with O_NOFOLLOW,
//! so no symlink (from a hostile archive or container) can carry a write outside.

use crate::error::{Error, Result};
use crate::layer::LayerError;
use nix::errno::Errno;
use nix::fcntl::{openat, OFlag};
use nix::sys::stat::{mkdirat, Mode};
use std::os::fd::{AsFd, OwnedFd};

/// A relative path split into its normal components: leading `/` and `.` dropped,
/// `..` refused. `entry` names the archive entry in errors.
pub fn clean_components(path: &[u8], entry: &str) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for comp in path.split(|&b| b == b'/') {
        match comp {
            b"" | b"." => continue,
            b".." => {
                return Err(Error::Layer(LayerError::HostileEntry {
                    entry: entry.to_string(),
                    reason: "path contains '..'".into(),
                }))
            }
            c => out.push(String::from_utf8(c.to_vec()).map_err(|_| {
                Error::Layer(LayerError::HostileEntry {
                    entry: entry.to_string(),
                    reason: "path is not valid UTF-8".into(),
                })
            })?),
        }
    }
    Ok(out)
}

fn open_dir_at<Fd: AsFd>(dir: Fd, name: &str) -> nix::Result<OwnedFd> {
    openat(
        dir,
        name,
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
}

/// Opens the directory at `components` below `root`, creating missing directories
/// (mode 0755) when `create`. A component that is a symlink or not a directory is an
/// error: that is how a hostile archive would try to escape.
pub fn open_dir<Fd: AsFd>(
    root: Fd,
    components: &[String],
    create: bool,
    entry: &str,
) -> Result<OwnedFd> {
    let mut cur = open_dir_at(root, ".").map_err(|e| Error::sys("opening extraction root", e))?;
    for (i, name) in components.iter().enumerate() {
        let next = match open_dir_at(&cur, name) {
            Err(Errno::ENOENT) if create => {
                match mkdirat(&cur, name.as_str(), Mode::from_bits_truncate(0o755)) {
                    Ok(()) | Err(Errno::EEXIST) => {}
                    Err(e) => return Err(Error::sys(format!("creating directory for {entry}"), e)),
                }
                open_dir_at(&cur, name)
            }
            r => r,
        };
        cur = next.map_err(|e| match e {
            Errno::ELOOP | Errno::ENOTDIR => Error::Layer(LayerError::HostileEntry {
                entry: entry.to_string(),
                reason: format!(
                    "parent {:?} is a symlink or not a directory",
                    components[..=i].join("/")
                ),
            }),
            e => Error::sys(format!("opening parent of {entry}"), e),
        })?;
    }
    Ok(cur)
}
