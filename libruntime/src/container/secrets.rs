//! A container's secrets: resolved by name at create (the record keeps ids and
//! targets), and given to it by its supervisor at each start: a file in its runtime
//! directory (tmpfs) bound read-only at the target, or a variable added to the
//! environment of the process it starts. Values never reach the record, the spec on
//! disk, the container's layer or its log, and the files go when it stops.

use super::ContainerDirs;
use crate::error::{Context, Result};
use crate::paths::Paths;
use crate::secret::{self, SecretKind, SecretRequest, SecretUse};
use crate::userns::IdMaps;
use oci_spec::runtime::{Mount, Spec};
use std::path::PathBuf;

/// The secrets asked for, by id, with where each goes.
pub fn resolve(paths: &Paths, wanted: &[SecretRequest]) -> Result<Vec<SecretUse>> {
    let mut out: Vec<SecretUse> = Vec::new();
    for w in wanted {
        let s = secret::find(paths, &w.name)?;
        let target = w.resolved_target()?;
        if out.iter().any(|u| u.kind == w.kind && u.target == target) {
            return Err(crate::error::Error::InvalidArgument(format!(
                "--secret {}: {target} is given twice",
                w.name
            )));
        }
        out.push(SecretUse {
            id: s.id,
            name: s.name,
            kind: w.kind,
            target,
            uid: w.uid,
            gid: w.gid,
            mode: w.mode,
        });
    }
    Ok(out)
}

/// The file the supervisor writes for the `index`th secret (one secret may be
/// mounted twice with other owners), in the runtime directory.
fn file_for(dirs: &ContainerDirs, index: usize) -> PathBuf {
    dirs.run.join("secrets").join(index.to_string())
}

/// The spec's bind mounts of the secret files.
pub fn spec_mounts(dirs: &ContainerDirs, uses: &[SecretUse]) -> Vec<Mount> {
    uses.iter()
        .enumerate()
        .filter(|(_, u)| u.kind == SecretKind::Mount)
        .map(|(i, u)| {
            super::spec::spec_mount(
                &u.target,
                "bind",
                file_for(dirs, i),
                ["bind", "rprivate", "ro"],
            )
        })
        .collect()
}

/// `NAME=value` for each env secret: the container's process gets them at start, and
/// each exec'd process too (as podman gives them), read from the secret store then,
/// never from the container's files.
pub fn env_entries(paths: &Paths, uses: &[SecretUse]) -> Result<Vec<String>> {
    let mut env = Vec::new();
    for u in uses.iter().filter(|u| u.kind == SecretKind::Env) {
        let s = secret::find(paths, &u.id)?;
        let value = secret::value(paths, &s)?;
        env.push(format!("{}={}", u.target, String::from_utf8_lossy(&value)));
    }
    Ok(env)
}

/// Before the sandbox is made: writes each mounted secret with its mode and owner,
/// and adds each env secret to `spec`'s process (in memory only).
pub fn materialize(
    paths: &Paths,
    maps: &IdMaps,
    uses: &[SecretUse],
    dirs: &ContainerDirs,
    spec: &mut Spec,
) -> Result<()> {
    if uses.is_empty() {
        return Ok(());
    }
    let dir = dirs.run.join("secrets");
    crate::fsutil::create_dir_all(&dir)?;
    let mut env = Vec::new();
    for (i, u) in uses.iter().enumerate() {
        let s = secret::find(paths, &u.id)?;
        let value = secret::value(paths, &s)?;
        match u.kind {
            SecretKind::Env => {
                env.push(format!("{}={}", u.target, String::from_utf8_lossy(&value)))
            }
            SecretKind::Mount => write_file(maps, &file_for(dirs, i), &value, u)?,
        }
    }
    if let Some(p) = spec.process_mut() {
        let mut all = p.env().clone().unwrap_or_default();
        all.retain(|e| {
            !env.iter()
                .any(|s| e.split('=').next() == s.split('=').next())
        });
        all.extend(env);
        p.set_env(Some(all));
    }
    Ok(())
}

/// Writes one secret file with its mode, then gives it its owner: root of the
/// container as written, or another owner changed directly (root) or from inside the
/// storage user namespace (rootless, where the owner is a subordinate id).
fn write_file(maps: &IdMaps, file: &std::path::Path, value: &[u8], u: &SecretUse) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    crate::fsutil::write_private(file, value)?;
    std::fs::set_permissions(file, std::fs::Permissions::from_mode(u.mode))
        .ctx(|| format!("setting the mode of secret {}", u.name))?;
    if u.uid == 0 && u.gid == 0 {
        return Ok(());
    }
    let own = || {
        std::os::unix::fs::chown(file, Some(u.uid), Some(u.gid))
            .ctx(|| format!("changing the owner of secret {}", u.name))
    };
    if nix::unistd::geteuid().is_root() {
        own()
    } else {
        crate::userns::run_in_storage_ns(maps, own)
    }
}

/// After the container stopped: its secret files go.
pub fn withdraw(dirs: &ContainerDirs) {
    let dir = dirs.run.join("secrets");
    if dir.exists() && crate::fsutil::remove_tree(&dir).is_err() {
        let _ = std::fs::remove_dir_all(&dir);
    }
}
