//! storage.conf, in podman's shape (`[storage]` with `driver`, …): the user's
//! (`$XDG_CONFIG_HOME/skiff/storage.conf`, rootless only) or else /etc/skiff's.

use super::{parse_toml, user_config_dir};
use crate::error::{Error, Result};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// storage.conf: the keys skiff uses; others (podman's options) are left alone.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct StorageConf {
    #[serde(default)]
    pub storage: StorageSection,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct StorageSection {
    /// The graph driver for new containers.
    pub driver: Option<String>,
}

impl StorageConf {
    pub fn parse(text: &str, path: &Path) -> Result<StorageConf> {
        parse_toml(text, path)
    }

    /// The first storage.conf that exists for this user, parsed; None when there is none.
    pub fn load(rootless: bool) -> Result<Option<StorageConf>> {
        for path in storage_conf_paths(rootless) {
            match std::fs::read_to_string(&path) {
                Ok(text) => return StorageConf::parse(&text, &path).map(Some),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(Error::io(format!("reading {}", path.display()), e)),
            }
        }
        Ok(None)
    }
}

/// Where storage.conf is looked for, in order.
fn storage_conf_paths(rootless: bool) -> Vec<PathBuf> {
    let user = user_config_dir().map(|d| d.join("skiff/storage.conf"));
    let system = PathBuf::from("/etc/skiff/storage.conf");
    match (rootless, user) {
        (true, Some(u)) => vec![u, system],
        _ => vec![system],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_conf_as_podman_writes_it() {
        let p = Path::new("storage.conf");
        let c = StorageConf::parse(
            "[storage]\ndriver = \"vfs\"\nrunroot = \"/x\"\n[storage.options.overlay]\nmount_program = \"/usr/bin/fuse-overlayfs\"\n",
            p,
        )
        .unwrap();
        assert_eq!(c.storage.driver.as_deref(), Some("vfs"));
        // A `driver` key outside [storage] is not the driver.
        let c = StorageConf::parse("[other]\ndriver = \"vfs\"\n", p).unwrap();
        assert_eq!(c.storage.driver, None);
        assert_eq!(StorageConf::parse("", p).unwrap(), StorageConf::default());
        let err = StorageConf::parse("[storage\ndriver = vfs", p)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("storage.conf: ") && !err.contains('\n'),
            "{err}"
        );
    }
}
