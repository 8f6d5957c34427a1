//! registries.conf, as podman reads it: where short names are looked for, aliases,
//! and per-registry `insecure`, `blocked`, `location` rewrites and mirrors.

use crate::error::{Error, Result};
use std::collections::BTreeMap;

pub use crate::config::registries::{Mirror, RegistryEntry};

impl RegistryEntry {
    fn prefix(&self) -> &str {
        if self.prefix.is_empty() {
            &self.location
        } else {
            &self.prefix
        }
    }
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

impl RegistriesConf {
    /// The user's (or the system's) registries.conf and its drop-ins; later files
    /// add registries and aliases and replace the search list.
    pub fn load(rootless: bool) -> Result<RegistriesConf> {
        let mut conf = RegistriesConf::default();
        for parsed in crate::config::registries::load(rootless)? {
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
        let f: crate::config::registries::RegistriesFile = toml::from_str(text).unwrap();
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
