//! Where skiff keeps its state: the storage root (images, layers, containers) and the
//! runtime root (sockets, pid files, anything that must vanish on reboot).

use std::path::PathBuf;

#[derive(Debug, Clone)]
pub struct Paths {
    pub root: PathBuf,
    pub runroot: PathBuf,
    /// True when the invoking user is not root: files are owned through a user namespace.
    pub rootless: bool,
    /// The graph driver asked for with `--storage-driver`, for new containers.
    pub storage_driver: Option<String>,
}

impl Paths {
    /// Roots below `dir`, as root: for tests that need a store of their own.
    #[cfg(test)]
    pub fn under(dir: &std::path::Path) -> Paths {
        Paths {
            root: dir.join("root"),
            runroot: dir.join("run"),
            rootless: false,
            storage_driver: None,
        }
    }

    /// Inside `skiff unshare` (its environment says so and we are in a user namespace)
    /// we are uid 0 of the storage namespace, not root: the rootless user's roots, which
    /// unshare put in SKIFF_ROOT and SKIFF_RUNROOT, stay the defaults.
    pub fn inside_unshare(root: Option<PathBuf>, runroot: Option<PathBuf>) -> Option<Paths> {
        if std::env::var_os("SKIFF_UNSHARE").is_none_or(|v| v != "1")
            || !crate::userns::in_user_namespace()
        {
            return None;
        }
        let env = |k: &str| {
            std::env::var_os(k)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        Some(Paths {
            root: absolute(root.or_else(|| env("SKIFF_ROOT"))?),
            runroot: absolute(runroot.or_else(|| env("SKIFF_RUNROOT"))?),
            rootless: true,
            storage_driver: None,
        })
    }

    /// Defaults for the calling user, overridden by `--root` / `--runroot`.
    pub fn resolve(root: Option<PathBuf>, runroot: Option<PathBuf>) -> Paths {
        let uid = nix::unistd::geteuid().as_raw();
        let rootless = uid != 0;
        let env = |k: &str| {
            std::env::var_os(k)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        let root = root.unwrap_or_else(|| {
            if !rootless {
                return PathBuf::from("/var/lib/skiff");
            }
            env("XDG_DATA_HOME")
                .or_else(|| env("HOME").map(|h| h.join(".local/share")))
                .unwrap_or_else(|| PathBuf::from(format!("/tmp/skiff-data-{uid}")))
                .join("skiff")
        });
        let runroot = runroot.unwrap_or_else(|| {
            if !rootless {
                return PathBuf::from("/run/skiff");
            }
            env("XDG_RUNTIME_DIR")
                .map(|d| d.join("skiff"))
                .unwrap_or_else(|| PathBuf::from(format!("/tmp/skiff-run-{uid}")))
        });
        Paths {
            root: absolute(root),
            runroot: absolute(runroot),
            rootless,
            storage_driver: None,
        }
    }

    pub fn lock_file(&self) -> PathBuf {
        self.root.join("storage.lock")
    }
    pub fn blobs_dir(&self) -> PathBuf {
        self.root.join("blobs/sha256")
    }
    pub fn layers_dir(&self) -> PathBuf {
        self.root.join("layers")
    }
    pub fn images_file(&self) -> PathBuf {
        self.root.join("images.json")
    }
    pub fn containers_dir(&self) -> PathBuf {
        self.root.join("containers")
    }
    /// Staging area on the same file system as the store, so renames are atomic.
    /// Pod records, one directory each.
    pub fn pods_dir(&self) -> PathBuf {
        self.root.join("pods")
    }
    pub fn tmp_dir(&self) -> PathBuf {
        self.root.join("tmp")
    }
    /// Compiled seccomp filters, by a digest of profile, architecture and libseccomp.
    pub fn seccomp_cache_dir(&self) -> PathBuf {
        self.root.join("cache/seccomp")
    }
}

fn absolute(p: PathBuf) -> PathBuf {
    if p.is_absolute() {
        return p;
    }
    std::env::current_dir().map(|d| d.join(&p)).unwrap_or(p)
}
