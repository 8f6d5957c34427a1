//! containers.conf: engine defaults, in podman's shape. skiff reads the keys it acts
//! on and leaves the rest alone: `[containers] env` (every new container's base
//! environment, under the image's and `--env`) and `[engine] pull_policy` (what
//! `run`/`create` do without `--pull`). `CONTAINERS_CONF` names the one file to read;
//! otherwise /usr/share/containers, /etc/containers and (rootless) the user's
//! containers.conf apply in that order, a later file's keys over an earlier's.

use super::{parse_toml, user_config_dir};
use crate::error::{Error, Result};
use serde::Deserialize;
use std::path::PathBuf;

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct EngineConf {
    #[serde(default)]
    pub containers: ContainersSection,
    #[serde(default)]
    pub engine: EngineSection,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct ContainersSection {
    /// KEY=VALUE entries.
    pub env: Option<Vec<String>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct EngineSection {
    /// always, missing, never or newer.
    pub pull_policy: Option<String>,
}

impl EngineConf {
    fn over(self, later: EngineConf) -> EngineConf {
        EngineConf {
            containers: ContainersSection {
                env: later.containers.env.or(self.containers.env),
            },
            engine: EngineSection {
                pull_policy: later.engine.pull_policy.or(self.engine.pull_policy),
            },
        }
    }

    /// The files that apply for this user, merged; read once per process (a command
    /// may ask twice: for `--pull`'s default and for the container's environment).
    pub fn load(rootless: bool) -> Result<EngineConf> {
        static LOADED: std::sync::OnceLock<(bool, EngineConf)> = std::sync::OnceLock::new();
        if let Some((r, c)) = LOADED.get() {
            if *r == rootless {
                return Ok(c.clone());
            }
        }
        let conf = Self::read(rootless)?;
        let _ = LOADED.set((rootless, conf.clone()));
        Ok(conf)
    }

    fn read(rootless: bool) -> Result<EngineConf> {
        let mut conf = EngineConf::default();
        for path in files(rootless) {
            match std::fs::read_to_string(&path) {
                Ok(text) => conf = conf.over(parse_toml(&text, &path)?),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(Error::io(format!("reading {}", path.display()), e)),
            }
        }
        Ok(conf)
    }
}

fn files(rootless: bool) -> Vec<PathBuf> {
    if let Some(p) = std::env::var_os("CONTAINERS_CONF").filter(|v| !v.is_empty()) {
        return vec![PathBuf::from(p)];
    }
    let mut out = vec![
        PathBuf::from("/usr/share/containers/containers.conf"),
        PathBuf::from("/etc/containers/containers.conf"),
    ];
    if rootless {
        out.extend(user_config_dir().map(|d| d.join("containers/containers.conf")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn later_files_override_key_by_key() {
        let p = Path::new("containers.conf");
        let system: EngineConf = parse_toml(
            "[containers]\nenv = [\"A=1\"]\nlog_size_max = -1\n[engine]\npull_policy = \"always\"\n",
            p,
        )
        .unwrap();
        let user: EngineConf = parse_toml("[engine]\npull_policy = \"never\"\n", p).unwrap();
        let merged = EngineConf::default().over(system).over(user);
        assert_eq!(merged.containers.env, Some(vec!["A=1".to_string()]));
        assert_eq!(merged.engine.pull_policy.as_deref(), Some("never"));
        let bad: Result<EngineConf> = parse_toml("[engine\n", p);
        assert!(bad
            .unwrap_err()
            .to_string()
            .starts_with("containers.conf: "));
    }
}
