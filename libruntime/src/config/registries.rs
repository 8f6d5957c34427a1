//! registries.conf files as podman lays them out: `CONTAINERS_REGISTRIES_CONF`, else
//! the user's (rootless) or /etc/containers's, then each one's `.conf.d` drop-ins in
//! name order. `registry::config` merges them and resolves names with them.

use super::{parse_toml, user_config_dir};
use crate::error::Result;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Mirror {
    pub location: String,
    #[serde(default)]
    pub insecure: bool,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct RegistryEntry {
    /// What references this entry applies to; `location` when empty.
    #[serde(default)]
    pub prefix: String,
    #[serde(default)]
    pub location: String,
    #[serde(default)]
    pub insecure: bool,
    #[serde(default)]
    pub blocked: bool,
    #[serde(default)]
    pub mirror: Vec<Mirror>,
}

/// One registries.conf file.
#[derive(Debug, Default, Deserialize)]
pub struct RegistriesFile {
    #[serde(rename = "unqualified-search-registries", default)]
    pub search: Option<Vec<String>>,
    #[serde(default)]
    pub registry: Vec<RegistryEntry>,
    #[serde(default)]
    pub aliases: BTreeMap<String, String>,
}

fn files(rootless: bool) -> Vec<PathBuf> {
    if let Some(p) = std::env::var_os("CONTAINERS_REGISTRIES_CONF") {
        return vec![PathBuf::from(p)];
    }
    let mut main = vec![PathBuf::from("/etc/containers/registries.conf")];
    if rootless {
        let user = user_config_dir().map(|d| d.join("containers/registries.conf"));
        if let Some(u) = user.filter(|u| u.exists()) {
            main = vec![u];
        }
    }
    let mut files = main.clone();
    for m in main {
        let dropins = m.with_extension("conf.d");
        let mut extra: Vec<PathBuf> = std::fs::read_dir(dropins)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "conf"))
            .collect();
        extra.sort();
        files.extend(extra);
    }
    files
}

/// Every registries.conf file that exists, parsed, in the order they apply.
pub fn load(rootless: bool) -> Result<Vec<RegistriesFile>> {
    let mut out = Vec::new();
    for f in files(rootless) {
        let Ok(text) = std::fs::read_to_string(&f) else {
            continue;
        };
        out.push(parse_toml(&text, &f)?);
    }
    Ok(out)
}
