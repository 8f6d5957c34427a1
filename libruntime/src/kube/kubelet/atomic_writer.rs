//! The kubelet's atomic writer: a ConfigMap, Secret, projected or downward API volume
//! is a directory whose files change all at once. The files live in a timestamped
//! directory `..<stamp>`; `..data` is a symlink to it; each top-level name is a
//! symlink through `..data`. An update writes a new timestamped directory and renames
//! a new `..data` link over the old one, so a reader sees the old set or the new one,
//! never a mix. A subPath mount binds one file of one generation, so it does not
//! follow updates, as in Kubernetes.

use crate::error::{Error, Result};
use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Component, Path, PathBuf};

const DATA: &str = "..data";

/// One file: its bytes and mode.
pub type Payload = BTreeMap<String, (Vec<u8>, u32)>;

fn io(what: &str, p: &Path, e: std::io::Error) -> Error {
    Error::io(format!("{what} {}", p.display()), e)
}

/// A payload path as the API allows it: relative, no `..` element, not starting
/// with `..` (those names are the writer's own).
pub fn check_path(p: &str) -> std::result::Result<(), String> {
    let path = Path::new(p);
    if p.is_empty() || path.is_absolute() {
        return Err(format!("{p:?}: must be a relative path"));
    }
    if path
        .components()
        .any(|c| !matches!(c, Component::Normal(_)))
        || p.starts_with("..")
    {
        return Err(format!("{p:?}: must not contain '..'"));
    }
    Ok(())
}

/// What `..data` holds now.
fn current(dir: &Path) -> Payload {
    let mut out = Payload::new();
    let data = dir.join(DATA);
    let Ok(gen) = std::fs::canonicalize(&data) else {
        return out;
    };
    collect(&gen, &gen, &mut out);
    out
}

fn collect(root: &Path, at: &Path, out: &mut Payload) {
    for e in std::fs::read_dir(at).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            collect(root, &p, out);
        } else if let (Ok(bytes), Ok(meta)) = (std::fs::read(&p), e.metadata()) {
            let rel = p
                .strip_prefix(root)
                .unwrap_or(&p)
                .to_string_lossy()
                .into_owned();
            out.insert(rel, (bytes, meta.permissions().mode() & 0o7777));
        }
    }
}

/// Makes `dir` hold exactly `payload`; whether anything changed.
pub fn write(dir: &Path, payload: &Payload) -> Result<bool> {
    for p in payload.keys() {
        check_path(p).map_err(Error::InvalidArgument)?;
    }
    crate::fsutil::create_dir_all(dir)?;
    if current(dir) == *payload && dir.join(DATA).exists() {
        return Ok(false);
    }
    let old = std::fs::read_link(dir.join(DATA)).ok();
    let stamp = format!(
        "..{}.{}",
        chrono::Utc::now().format("%Y_%m_%d_%H_%M_%S%.9f"),
        std::process::id()
    );
    let gen = dir.join(&stamp);
    std::fs::create_dir(&gen).map_err(|e| io("creating", &gen, e))?;
    for (rel, (bytes, mode)) in payload {
        let f = gen.join(rel);
        if let Some(parent) = f.parent() {
            crate::fsutil::create_dir_all(parent)?;
        }
        std::fs::write(&f, bytes).map_err(|e| io("writing", &f, e))?;
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(*mode))
            .map_err(|e| io("setting the mode of", &f, e))?;
    }
    // The new generation takes over in one rename.
    let tmp = dir.join("..data_tmp");
    let _ = std::fs::remove_file(&tmp);
    std::os::unix::fs::symlink(&stamp, &tmp).map_err(|e| io("linking", &tmp, e))?;
    std::fs::rename(&tmp, dir.join(DATA)).map_err(|e| io("renaming", &tmp, e))?;
    let tops: std::collections::BTreeSet<String> = payload
        .keys()
        .filter_map(|k| k.split('/').next().map(String::from))
        .collect();
    for top in &tops {
        let link = dir.join(top);
        if std::fs::symlink_metadata(&link).is_err() {
            std::os::unix::fs::symlink(PathBuf::from(DATA).join(top), &link)
                .map_err(|e| io("linking", &link, e))?;
        }
    }
    // Names of the old generation that are gone, and the old generation itself.
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if !name.starts_with("..") && !tops.contains(&name) {
            let _ = std::fs::remove_file(e.path());
        }
    }
    if let Some(old) = old {
        let _ = std::fs::remove_dir_all(dir.join(old));
    }
    Ok(true)
}

/// The real file or directory behind `rel` in the current generation (for subPath).
pub fn resolve(dir: &Path, rel: &str) -> Option<PathBuf> {
    check_path(rel).ok()?;
    std::fs::canonicalize(dir.join(DATA).join(rel)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload(items: &[(&str, &str, u32)]) -> Payload {
        items
            .iter()
            .map(|(k, v, m)| (k.to_string(), (v.as_bytes().to_vec(), *m)))
            .collect()
    }

    #[test]
    fn writes_then_swaps_a_whole_generation() {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path().join("vol");
        assert!(write(&dir, &payload(&[("a", "1", 0o644), ("sub/b", "2", 0o600)])).unwrap());
        assert_eq!(std::fs::read_to_string(dir.join("a")).unwrap(), "1");
        assert_eq!(std::fs::read_to_string(dir.join("sub/b")).unwrap(), "2");
        let mode = std::fs::metadata(dir.join("sub/b"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600);
        let pinned = resolve(&dir, "a").unwrap();
        // The same payload changes nothing.
        assert!(!write(&dir, &payload(&[("a", "1", 0o644), ("sub/b", "2", 0o600)])).unwrap());
        assert!(write(&dir, &payload(&[("a", "3", 0o644)])).unwrap());
        assert_eq!(std::fs::read_to_string(dir.join("a")).unwrap(), "3");
        assert!(!dir.join("sub").exists(), "a name that is gone goes");
        // The old generation is removed; one timestamped directory remains.
        let gens = std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .filter(|e| e.path().is_dir() && e.file_name().to_string_lossy().starts_with("..2"))
            .count();
        assert_eq!(gens, 1);
        assert!(!pinned.exists());
    }

    #[test]
    fn hostile_paths_are_refused() {
        for bad in ["/etc/passwd", "../x", "a/../../x", "..data", "", "..hidden"] {
            assert!(check_path(bad).is_err(), "{bad}");
        }
        for good in ["a", "a/b", "a.b", ".hidden"] {
            assert!(check_path(good).is_ok(), "{good}");
        }
        let d = tempfile::tempdir().unwrap();
        assert!(write(d.path(), &payload(&[("../escape", "x", 0o644)])).is_err());
        assert!(!d.path().parent().unwrap().join("escape").exists());
    }
}
