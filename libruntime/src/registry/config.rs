//! registries.conf, as podman reads it: where short names are looked for, aliases,
//! and per-registry `insecure`, `blocked`, `location` rewrites and mirrors.

use crate::error::{Error, Result};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

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

impl RegistryEntry {
    fn prefix(&self) -> &str {
        if self.prefix.is_empty() {
            &self.location
        } else {
            &self.prefix
        }
    }
}

#[derive(Debug, Default, Deserialize)]
struct ConfFile {
    #[serde(rename = "unqualified-search-registries", default)]
    search: Option<Vec<String>>,
    #[serde(default)]
    registry: Vec<RegistryEntry>,
    #[serde(default)]
    aliases: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default)]
pub struct RegistriesConf {
    pub search: Vec<String>,
    pub registries: Vec<RegistryEntry>,
    pub aliases: BTreeMap<String, String>,
}

/// Where one endpoint of a repository is: the registry host and the repository path
/// there, and whether plain HTTP or unverified TLS is allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub host: String,
    pub repository: String,
    pub insecure: bool,
}

fn config_files(rootless: bool) -> Vec<PathBuf> {
    if let Some(p) = std::env::var_os("CONTAINERS_REGISTRIES_CONF") {
        return vec![PathBuf::from(p)];
    }
    let mut main = vec![PathBuf::from("/etc/containers/registries.conf")];
    if rootless {
        let user = std::env::var_os("XDG_CONFIG_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".config")))
            .map(|d| d.join("containers/registries.conf"));
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

impl RegistriesConf {
    /// The user's (or the system's) registries.conf and its drop-ins; later files
    /// add registries and aliases and replace the search list.
    pub fn load(rootless: bool) -> Result<RegistriesConf> {
        let mut conf = RegistriesConf::default();
        for f in config_files(rootless) {
            let Ok(text) = std::fs::read_to_string(&f) else {
                continue;
            };
            let parsed: ConfFile = toml::from_str(&text).map_err(|e| {
                Error::InvalidArgument(format!(
                    "{}: {}",
                    f.display(),
                    e.to_string().lines().next().unwrap_or("invalid TOML")
                ))
            })?;
            if let Some(s) = parsed.search {
                conf.search = s;
            }
            conf.registries.extend(parsed.registry);
            conf.aliases.extend(parsed.aliases);
        }
        Ok(conf)
    }

    /// The entry whose prefix matches `name` (domain/path) best.
    fn entry_for(&self, name: &str) -> Option<&RegistryEntry> {
        self.registries
            .iter()
            .filter(|r| {
                let p = r.prefix();
                !p.is_empty()
                    && (name == p
                        || name.starts_with(&format!("{p}/"))
                        || name.starts_with(&format!("{p}:"))
                        || name.starts_with(&format!("{p}@")))
            })
            .max_by_key(|r| r.prefix().len())
    }

    /// Refuses a registry the configuration blocks.
    pub fn check_allowed(&self, name: &str) -> Result<()> {
        match self.entry_for(name) {
            Some(e) if e.blocked => Err(Error::InvalidArgument(format!(
                "registry for {name} is blocked in registries.conf"
            ))),
            _ => Ok(()),
        }
    }

    /// Where to fetch `host/repository` from, mirrors first (pulls only).
    pub fn endpoints(&self, host: &str, repository: &str, mirrors: bool) -> Vec<Endpoint> {
        let name = format!("{host}/{repository}");
        let Some(entry) = self.entry_for(&name) else {
            return vec![Endpoint {
                host: host.into(),
                repository: repository.into(),
                insecure: false,
            }];
        };
        let rest = &name[entry.prefix().len()..];
        let rewrite = |location: &str| -> Endpoint {
            let full = format!("{location}{rest}");
            let (h, r) = full.split_once('/').unwrap_or((&full, ""));
            Endpoint {
                host: h.into(),
                repository: r.into(),
                insecure: false,
            }
        };
        let mut out = Vec::new();
        if mirrors {
            for m in &entry.mirror {
                out.push(Endpoint {
                    insecure: m.insecure,
                    ..rewrite(&m.location)
                });
            }
        }
        let location = if entry.location.is_empty() {
            entry.prefix()
        } else {
            &entry.location
        };
        out.push(Endpoint {
            insecure: entry.insecure,
            ..rewrite(location)
        });
        out
    }

    /// Whether the configuration marks `host` insecure.
    pub fn is_insecure(&self, host: &str) -> bool {
        self.registries
            .iter()
            .any(|r| r.insecure && (r.location == host || r.prefix() == host))
    }

    /// The fully qualified names a short name may mean, in the order to try them.
    pub fn candidates(&self, short: &str) -> Vec<String> {
        if let Some(a) = self.aliases.get(short) {
            return vec![a.clone()];
        }
        self.search
            .iter()
            .map(|reg| {
                if reg == "docker.io" && !short.contains('/') {
                    format!("docker.io/library/{short}")
                } else {
                    format!("{reg}/{short}")
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conf(text: &str) -> RegistriesConf {
        let f: ConfFile = toml::from_str(text).unwrap();
        RegistriesConf {
            search: f.search.unwrap_or_default(),
            registries: f.registry,
            aliases: f.aliases,
        }
    }

    #[test]
    fn search_aliases_mirrors_and_rewrites() {
        let c = conf(
            r#"
unqualified-search-registries = ["localhost:5000", "docker.io"]
[aliases]
"tool" = "quay.io/team/tool"
[[registry]]
prefix = "example.com/foo"
location = "127.0.0.1:5001/mirror/foo"
insecure = true
[[registry.mirror]]
location = "127.0.0.1:5002/cache/foo"
[[registry]]
location = "blocked.example"
blocked = true
"#,
        );
        assert_eq!(
            c.candidates("busybox"),
            vec!["localhost:5000/busybox", "docker.io/library/busybox"]
        );
        assert_eq!(c.candidates("tool"), vec!["quay.io/team/tool"]);
        let e = c.endpoints("example.com", "foo/bar", true);
        assert_eq!(e.len(), 2);
        assert_eq!(
            (e[0].host.as_str(), e[0].repository.as_str()),
            ("127.0.0.1:5002", "cache/foo/bar")
        );
        assert_eq!(
            (e[1].host.as_str(), e[1].repository.as_str(), e[1].insecure),
            ("127.0.0.1:5001", "mirror/foo/bar", true)
        );
        assert!(c.check_allowed("blocked.example/x").is_err());
        assert!(c.check_allowed("example.com/x").is_ok());
        assert_eq!(c.endpoints("other.io", "x", true)[0].host, "other.io");
    }
}
