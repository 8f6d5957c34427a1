//! Finding the helper programs skiff drives (newuidmap, newgidmap, slirp4netns, pasta,
//! fuse-overlayfs, ip, nft). A plain user's PATH on Debian is
//! `/usr/local/bin:/usr/bin:/bin`, without the sbin and libexec directories where
//! distributions put some of them, so PATH alone is not enough (podman has
//! `helper_binaries_dir` for the same reason). `$SKIFF_HELPER_DIRS` (colon-separated)
//! is searched first, then PATH, then the usual system directories.

use std::ffi::OsStr;
use std::path::PathBuf;
use std::process::Command;

/// Directories searched after PATH, in order.
const SYSTEM_DIRS: &[&str] = &[
    "/usr/local/libexec/skiff",
    "/usr/local/lib/skiff",
    "/usr/libexec/skiff",
    "/usr/lib/skiff",
    "/usr/local/sbin",
    "/usr/local/bin",
    "/usr/sbin",
    "/usr/bin",
    "/sbin",
    "/bin",
    "/usr/libexec/podman",
    "/usr/lib/podman",
];

/// Every directory searched, in order, without repeats.
fn search_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = Vec::new();
    for var in ["SKIFF_HELPER_DIRS", "PATH"] {
        if let Some(v) = std::env::var_os(var) {
            dirs.extend(std::env::split_paths(&v).filter(|d| d.is_absolute()));
        }
    }
    dirs.extend(SYSTEM_DIRS.iter().map(PathBuf::from));
    let mut seen = std::collections::HashSet::new();
    dirs.retain(|d| seen.insert(d.clone()));
    dirs
}

fn is_executable(p: &std::path::Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// The full path of helper `prog`, or None when no searched directory has it.
pub fn find(prog: &str) -> Option<PathBuf> {
    if prog.contains('/') {
        let p = PathBuf::from(prog);
        return is_executable(&p).then_some(p);
    }
    search_dirs()
        .into_iter()
        .map(|d| d.join(prog))
        .find(|p| is_executable(p))
}

/// Whether helper `prog` is installed.
pub fn available(prog: &str) -> bool {
    find(prog).is_some()
}

/// A command for helper `prog` by its full path; by its bare name when it is nowhere,
/// so that spawning fails with "No such file or directory" and the caller says which
/// package to install.
pub fn command(prog: &str) -> Command {
    match find(prog) {
        Some(p) => Command::new(p),
        None => Command::new(OsStr::new(prog)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_directories_follow_path() {
        let dirs = search_dirs();
        let sbin = dirs
            .iter()
            .position(|d| d == std::path::Path::new("/usr/sbin"));
        assert!(sbin.is_some(), "{dirs:?}");
        let unique: std::collections::HashSet<_> = dirs.iter().collect();
        assert_eq!(unique.len(), dirs.len(), "no directory twice: {dirs:?}");
    }

    #[test]
    fn a_missing_helper_is_none_and_a_path_is_taken_as_is() {
        assert!(find("skiff-no-such-helper-xyz").is_none());
        assert_eq!(find("/bin/sh"), Some(PathBuf::from("/bin/sh")));
        assert!(find("/nonexistent/sh").is_none());
    }
}
