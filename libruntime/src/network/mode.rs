//! A container's network mode, as its record keeps it.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// The network mode a record keeps, as podman spells it ("slirp4netns", "bridge",
/// "container:NAME", …). What a mode needs besides (bridge networks, slirp4netns's
/// options) is kept beside it in the record.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum NetworkMode {
    #[default]
    Private,
    Slirp4netns,
    Pasta,
    None,
    Host,
    Container(String),
    Bridge,
}

impl NetworkMode {
    pub fn describe(&self) -> String {
        match self {
            NetworkMode::Private => "private".into(),
            NetworkMode::Slirp4netns => "slirp4netns".into(),
            NetworkMode::Pasta => "pasta".into(),
            NetworkMode::None => "none".into(),
            NetworkMode::Host => "host".into(),
            NetworkMode::Container(c) => format!("container:{c}"),
            NetworkMode::Bridge => "bridge".into(),
        }
    }

    /// The container whose network namespace is joined, if any.
    pub fn joined(&self) -> Option<&str> {
        match self {
            NetworkMode::Container(c) => Some(c),
            _ => None,
        }
    }
}

impl TryFrom<String> for NetworkMode {
    type Error = Error;
    fn try_from(s: String) -> Result<NetworkMode> {
        Ok(match s.as_str() {
            "private" => NetworkMode::Private,
            "slirp4netns" => NetworkMode::Slirp4netns,
            "pasta" => NetworkMode::Pasta,
            "none" => NetworkMode::None,
            "host" => NetworkMode::Host,
            "bridge" => NetworkMode::Bridge,
            _ => match s.strip_prefix("container:") {
                Some(c) if !c.is_empty() => NetworkMode::Container(c.to_string()),
                _ => {
                    return Err(Error::InvalidArgument(format!(
                        "unknown network mode {s:?} in a container record"
                    )))
                }
            },
        })
    }
}

impl From<NetworkMode> for String {
    fn from(m: NetworkMode) -> String {
        m.describe()
    }
}
