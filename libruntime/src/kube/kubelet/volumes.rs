//! A pod's volumes on this node: where each lives, made ready before the containers
//! that mount it, bound into them, and removed with the pod. emptyDir lives under the
//! storage root (medium Memory: under the runtime root, which is a tmpfs, /run or
//! XDG_RUNTIME_DIR); ConfigMap, Secret, downwardAPI and projected volumes are written
//! by the atomic writer (Secrets under the runtime root, off the disk, as the
//! kubelet keeps them on tmpfs); hostPath is checked against its type.

use super::atomic_writer::{self, Payload};
use super::sources::ConfigError;
use crate::kube::api::volume::{Volume, VolumeMount};
use crate::kube::api::{Container, Pod};
use crate::paths::Paths;
use crate::volume::mounts::{MountKind, MountRequest};
use std::collections::BTreeMap;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// hostPath's `type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostPathType {
    /// "" : no check.
    Unset,
    DirectoryOrCreate,
    Directory,
    FileOrCreate,
    File,
    Socket,
    CharDevice,
    BlockDevice,
}

impl HostPathType {
    pub fn parse(s: Option<&str>) -> Result<HostPathType, String> {
        Ok(match s.unwrap_or("") {
            "" => HostPathType::Unset,
            "DirectoryOrCreate" => HostPathType::DirectoryOrCreate,
            "Directory" => HostPathType::Directory,
            "FileOrCreate" => HostPathType::FileOrCreate,
            "File" => HostPathType::File,
            "Socket" => HostPathType::Socket,
            "CharDevice" => HostPathType::CharDevice,
            "BlockDevice" => HostPathType::BlockDevice,
            other => {
                return Err(format!(
                    "Unsupported value: {other:?}: supported values: \"\", \"BlockDevice\", \"CharDevice\", \"Directory\", \"DirectoryOrCreate\", \"File\", \"FileOrCreate\", \"Socket\""
                ))
            }
        })
    }

    /// Makes or checks `path` as the type says, with the kubelet's messages.
    pub fn prepare(self, path: &Path) -> Result<(), ConfigError> {
        let p = path.display();
        let meta = std::fs::metadata(path);
        let fail = |what: &str| Err(format!("hostPath type check failed: {p} is not a {what}"));
        match self {
            HostPathType::Unset => Ok(()),
            HostPathType::DirectoryOrCreate => {
                if meta.is_err() {
                    std::fs::create_dir_all(path).map_err(|e| format!("creating {p}: {e}"))?;
                    let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755));
                    return Ok(());
                }
                if path.is_dir() {
                    Ok(())
                } else {
                    fail("directory")
                }
            }
            HostPathType::Directory => {
                if path.is_dir() {
                    Ok(())
                } else {
                    fail("directory")
                }
            }
            HostPathType::FileOrCreate => {
                if meta.is_err() {
                    if let Some(parent) = path.parent() {
                        std::fs::create_dir_all(parent)
                            .map_err(|e| format!("creating {p}: {e}"))?;
                    }
                    std::fs::File::create(path).map_err(|e| format!("creating {p}: {e}"))?;
                    let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644));
                    return Ok(());
                }
                if path.is_file() {
                    Ok(())
                } else {
                    fail("file")
                }
            }
            HostPathType::File => {
                if path.is_file() {
                    Ok(())
                } else {
                    fail("file")
                }
            }
            HostPathType::Socket => match meta {
                Ok(m) if m.file_type().is_socket() => Ok(()),
                _ => fail("socket file"),
            },
            HostPathType::CharDevice => match meta {
                Ok(m) if m.file_type().is_char_device() => Ok(()),
                _ => fail("character device"),
            },
            HostPathType::BlockDevice => match meta {
                Ok(m) if m.file_type().is_block_device() => Ok(()),
                _ => fail("block device"),
            },
        }
    }
}

/// A pod's volume directories (by the Pod's uid): on disk, and under the runtime root.
pub fn pod_dirs(paths: &Paths, uid: &str) -> [PathBuf; 2] {
    [
        paths.root.join("kube/pods").join(uid),
        paths.runroot.join("kube/pods").join(uid),
    ]
}

/// Whether the volume's files are the atomic writer's (they follow their source).
pub fn is_projected(v: &Volume) -> bool {
    v.config_map.is_some()
        || v.secret.is_some()
        || v.downward_api.is_some()
        || v.projected.is_some()
}

/// The directories of a pod's bound claims, by volume name.
pub type ClaimDirs = BTreeMap<String, PathBuf>;

/// Where volume `v` of the pod with `uid` lives on this node.
pub fn location(paths: &Paths, uid: &str, v: &Volume, claims: &ClaimDirs) -> PathBuf {
    if let Some(d) = claims.get(&v.name) {
        return d.clone();
    }
    let [disk, run] = pod_dirs(paths, uid);
    let memory = v
        .empty_dir
        .as_ref()
        .is_some_and(|e| e.medium.as_deref() == Some("Memory"));
    let base = if memory || v.secret.is_some() || v.projected.is_some() {
        run
    } else {
        disk
    };
    match &v.host_path {
        Some(h) => PathBuf::from(&h.path),
        None => base.join("volumes").join(&v.name),
    }
}

/// Makes every volume ready: directories made (0777 for emptyDir, as the kubelet
/// does, so any user of the pod may write), files written, host paths checked.
pub fn prepare(
    paths: &Paths,
    uid: &str,
    pod: &Pod,
    payloads: &BTreeMap<String, Payload>,
    claims: &ClaimDirs,
) -> Result<(), ConfigError> {
    for d in pod_dirs(paths, uid) {
        crate::fsutil::create_dir_all(&d).map_err(|e| e.to_string())?;
        let _ = std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o700));
    }
    for v in &pod.spec.volumes {
        let at = location(paths, uid, v, claims);
        if let Some(h) = &v.host_path {
            HostPathType::parse(h.type_.as_deref())?.prepare(&at)?;
        } else if let Some(e) = &v.empty_dir {
            if !at.exists() {
                crate::fsutil::create_dir_all(&at).map_err(|e| e.to_string())?;
                let _ = std::fs::set_permissions(&at, std::fs::Permissions::from_mode(0o777));
            }
            if let (Some("Memory"), Some(limit)) = (e.medium.as_deref(), e.size_limit) {
                sized_tmpfs(&at, limit.value());
            }
        } else if v.claim_name("").is_some() {
            if !claims.contains_key(&v.name) {
                return Err(format!("volume {:?}: its claim is not bound", v.name));
            }
        } else if let Some(files) = payloads.get(&v.name) {
            atomic_writer::write(&at, files).map_err(|e| e.to_string())?;
            let _ = std::fs::set_permissions(&at, std::fs::Permissions::from_mode(0o755));
        }
    }
    Ok(())
}

/// Mounts a tmpfs of `bytes` at `at` (medium Memory with a sizeLimit), where this
/// process may mount on the host (as root); elsewhere the size is held by eviction.
fn sized_tmpfs(at: &Path, bytes: i128) {
    use crate::syscall::Syscall;
    if !nix::unistd::geteuid().is_root() || crate::syscall::is_mounted(at) {
        return;
    }
    let flags = nix::mount::MsFlags::MS_NOSUID | nix::mount::MsFlags::MS_NODEV;
    let data = format!("size={bytes},mode=0777");
    if let Err(e) = crate::syscall::LINUX.mount_fs("tmpfs", at, "tmpfs", flags, Some(&data)) {
        crate::log::warn(&format!("sizing the memory volume {}: {e}", at.display()));
    }
}

/// Rewrites the files of ConfigMap, Secret, downwardAPI and projected volumes whose
/// sources changed; whether any did.
pub fn refresh(paths: &Paths, uid: &str, pod: &Pod, payloads: &BTreeMap<String, Payload>) -> bool {
    let mut changed = false;
    for v in pod.spec.volumes.iter().filter(|v| is_projected(v)) {
        if let Some(files) = payloads.get(&v.name) {
            let at = location(paths, uid, v, &ClaimDirs::new());
            changed |= atomic_writer::write(&at, files).unwrap_or(false);
        }
    }
    changed
}

/// The bind mounts of one container's volumeMounts.
pub fn mounts_for(
    paths: &Paths,
    uid: &str,
    pod: &Pod,
    c: &Container,
    claims: &ClaimDirs,
) -> Result<Vec<MountRequest>, ConfigError> {
    c.volume_mounts
        .iter()
        .map(|m| mount(paths, uid, pod, m, claims))
        .collect()
}

fn mount(
    paths: &Paths,
    uid: &str,
    pod: &Pod,
    m: &VolumeMount,
    claims: &ClaimDirs,
) -> Result<MountRequest, ConfigError> {
    let v = pod
        .spec
        .volumes
        .iter()
        .find(|v| v.name == m.name)
        .ok_or_else(|| format!("volume {:?} not found", m.name))?;
    let at = location(paths, uid, v, claims);
    let claim_read_only = v
        .persistent_volume_claim
        .as_ref()
        .is_some_and(|c| c.read_only == Some(true));
    let source = match m.sub_path.as_deref().filter(|s| !s.is_empty()) {
        // One file of one generation: it does not follow updates, as in Kubernetes.
        Some(sp) if is_projected(v) => atomic_writer::resolve(&at, sp)
            .ok_or_else(|| format!("subPath {sp:?} of volume {:?} does not exist", v.name))?,
        Some(sp) => {
            atomic_writer::check_path(sp)?;
            let p = at.join(sp);
            if !p.exists() {
                crate::fsutil::create_dir_all(&p).map_err(|e| e.to_string())?;
                let _ = std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o777));
            }
            p
        }
        None => at,
    };
    Ok(MountRequest {
        kind: MountKind::Bind { source },
        destination: m.mount_path.clone(),
        // The kubelet mounts these read-only whatever the mount says.
        readonly: m.read_only == Some(true) || is_projected(v) || claim_read_only,
        chown: false,
        options: Vec::new(),
    })
}

/// The first emptyDir that holds more than its sizeLimit, in the eviction
/// manager's words.
pub fn over_size_limit(paths: &Paths, uid: &str, pod: &Pod) -> Option<String> {
    pod.spec.volumes.iter().find_map(|v| {
        let limit = v.empty_dir.as_ref()?.size_limit?;
        let used = disk_usage(&location(paths, uid, v, &ClaimDirs::new()));
        (used > limit.value()).then(|| {
            format!(
                "Usage of EmptyDir volume {:?} exceeds the limit {:?}. ",
                v.name,
                limit.to_string()
            )
        })
    })
}

/// Bytes a tree takes on disk, as du counts them (allocated blocks).
fn disk_usage(dir: &Path) -> i128 {
    use std::os::unix::fs::MetadataExt;
    let Ok(m) = std::fs::symlink_metadata(dir) else {
        return 0;
    };
    let mut total = m.blocks() as i128 * 512;
    if m.is_dir() {
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            total += disk_usage(&e.path());
        }
    }
    total
}

/// Removes a pod's volume directories (not host paths); a sized tmpfs is unmounted
/// first.
pub fn remove(paths: &Paths, uid: &str) {
    use crate::syscall::Syscall;
    for d in pod_dirs(paths, uid) {
        for v in std::fs::read_dir(d.join("volumes"))
            .into_iter()
            .flatten()
            .flatten()
        {
            if crate::syscall::is_mounted(&v.path()) {
                let _ = crate::syscall::LINUX.unmount(&v.path());
            }
        }
        let _ = std::fs::remove_dir_all(d);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_path_types_check_and_create() {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path().join("made");
        HostPathType::DirectoryOrCreate.prepare(&dir).unwrap();
        assert!(dir.is_dir());
        let file = d.path().join("sub/file");
        HostPathType::FileOrCreate.prepare(&file).unwrap();
        assert!(file.is_file());
        let e = HostPathType::Directory.prepare(&file).unwrap_err();
        assert!(e.ends_with("is not a directory"), "{e}");
        let e = HostPathType::File.prepare(&dir).unwrap_err();
        assert!(e.ends_with("is not a file"), "{e}");
        assert!(HostPathType::Socket.prepare(&file).is_err());
        assert!(HostPathType::CharDevice
            .prepare(Path::new("/dev/null"))
            .is_ok());
        assert!(HostPathType::parse(Some("Dir"))
            .unwrap_err()
            .starts_with("Unsupported value"));
    }
}
