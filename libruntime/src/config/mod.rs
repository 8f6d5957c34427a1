//! skiff's configuration files, each read with the toml crate in the shape podman
//! gives it: storage.conf (the graph driver), registries.conf (where images come
//! from) and containers.conf (engine defaults for new containers and pulls). What the
//! registry does with registries.conf (aliases, search, mirrors) is `registry::config`.

pub mod engine;
pub mod registries;
pub mod storage;

pub use engine::EngineConf;
pub use storage::StorageConf;

use crate::error::{Error, Result};
use serde::de::DeserializeOwned;
use std::path::{Path, PathBuf};

/// The user's configuration directory: $XDG_CONFIG_HOME, else ~/.config.
pub fn user_config_dir() -> Option<PathBuf> {
    std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".config")))
}

/// Parses `text` (read from `path`); a malformed file is one line naming it.
pub fn parse_toml<T: DeserializeOwned>(text: &str, path: &Path) -> Result<T> {
    toml::from_str(text).map_err(|e| {
        Error::InvalidArgument(format!(
            "{}: {}",
            path.display(),
            e.message().replace('\n', " ")
        ))
    })
}
