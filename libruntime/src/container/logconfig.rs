//! Where a container's output is kept: `--log-driver` and `--log-opt`, as podman spells
//! them. k8s-file (the default) writes podman's k8s-file format; json-file is accepted
//! and means k8s-file, as in podman; none keeps nothing. journald is refused: skiff does
//! not speak the journal protocol yet, and a container silently without logs would be
//! worse than a clear error.

use super::record::ContainerDirs;
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LogDriver {
    #[default]
    K8sFile,
    None,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogConfig {
    pub driver: LogDriver,
    /// `--log-opt path=`: the log file instead of the one in the container's directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<PathBuf>,
    /// `--log-opt max-size=`: the file starts again from empty past this many bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_size: Option<u64>,
    /// `--log-opt tag=`: recorded and shown by inspect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
}

impl LogConfig {
    /// From `--log-driver` (None: the default) and `--log-opt KEY=VALUE` flags.
    pub fn parse(driver: Option<&str>, opts: &[String]) -> Result<LogConfig> {
        let driver = match driver.unwrap_or("k8s-file") {
            "k8s-file" | "json-file" | "" => LogDriver::K8sFile,
            "none" => LogDriver::None,
            "journald" => {
                return Err(Error::InvalidArgument(
                    "the journald log driver is not supported by skiff: use k8s-file or none"
                        .into(),
                ))
            }
            other => {
                return Err(Error::InvalidArgument(format!(
                    "invalid --log-driver {other:?}: use k8s-file, json-file or none"
                )))
            }
        };
        let mut c = LogConfig {
            driver,
            ..Default::default()
        };
        for o in opts {
            let (k, v) = o.split_once('=').ok_or_else(|| {
                Error::InvalidArgument(format!("invalid --log-opt {o:?}: want KEY=VALUE"))
            })?;
            match k {
                "path" if v.starts_with('/') => c.path = Some(PathBuf::from(v)),
                "path" => {
                    return Err(Error::InvalidArgument(format!(
                        "invalid --log-opt path={v:?}: the path must be absolute"
                    )))
                }
                "max-size" => {
                    c.max_size = Some(crate::time::parse_size(v).ok_or_else(|| {
                        Error::InvalidArgument(format!(
                            "invalid --log-opt max-size={v:?}: want a size such as 10m"
                        ))
                    })?)
                }
                "tag" => c.tag = Some(v.to_string()),
                _ => {
                    return Err(Error::InvalidArgument(format!(
                        "invalid --log-opt {o:?}: use path=, max-size= or tag="
                    )))
                }
            }
        }
        Ok(c)
    }

    /// The log file of a container with this configuration; None when nothing is kept.
    pub fn file(&self, dirs: &ContainerDirs) -> Option<PathBuf> {
        match self.driver {
            LogDriver::None => None,
            LogDriver::K8sFile => Some(self.path.clone().unwrap_or_else(|| dirs.log())),
        }
    }

    /// The driver's name as podman shows it.
    pub fn driver_name(&self) -> &'static str {
        match self.driver {
            LogDriver::K8sFile => "k8s-file",
            LogDriver::None => "none",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drivers_and_options() {
        assert_eq!(LogConfig::parse(None, &[]).unwrap(), LogConfig::default());
        assert_eq!(
            LogConfig::parse(Some("json-file"), &[]).unwrap().driver,
            LogDriver::K8sFile
        );
        assert_eq!(
            LogConfig::parse(Some("none"), &[]).unwrap().driver,
            LogDriver::None
        );
        assert!(LogConfig::parse(Some("journald"), &[]).is_err());
        assert!(LogConfig::parse(Some("syslog"), &[]).is_err());
        let c = LogConfig::parse(
            None,
            &[
                "max-size=10k".into(),
                "path=/tmp/x.log".into(),
                "tag=web".into(),
            ],
        )
        .unwrap();
        assert_eq!(c.max_size, Some(10240));
        assert_eq!(c.path, Some(PathBuf::from("/tmp/x.log")));
        assert_eq!(c.tag.as_deref(), Some("web"));
        assert!(LogConfig::parse(None, &["path=rel".into()]).is_err());
        assert!(LogConfig::parse(None, &["max-size=lots".into()]).is_err());
        assert!(LogConfig::parse(None, &["color=red".into()]).is_err());
    }

    #[test]
    fn sizes() {
        assert_eq!(crate::time::parse_size("100"), Some(100));
        assert_eq!(crate::time::parse_size("1.5k"), Some(1536));
        assert_eq!(crate::time::parse_size("2MB"), Some(2 << 20));
        assert_eq!(crate::time::parse_size("1g"), Some(1 << 30));
        assert_eq!(crate::time::parse_size("x"), None);
    }
}
