//! Manifests as registries serve them: docker schema 2 and OCI image manifests, and
//! the lists and indexes that point to one per platform.

use crate::error::{Error, Result};
use crate::registry::RegistryError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";

/// The Accept header of a manifest request: every kind we can read.
pub fn accept() -> String {
    [OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST].join(", ")
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlatformSpec {
    pub architecture: String,
    pub os: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    #[serde(
        rename = "os.version",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub os_version: Option<String>,
    #[serde(rename = "os.features", default, skip_serializing_if = "Vec::is_empty")]
    pub os_features: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Descriptor {
    #[serde(rename = "mediaType", default)]
    pub media_type: String,
    pub digest: String,
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<PlatformSpec>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
struct Raw {
    #[serde(rename = "mediaType", default)]
    media_type: Option<String>,
    #[serde(rename = "schemaVersion", default)]
    schema_version: Option<u32>,
    config: Option<Descriptor>,
    layers: Option<Vec<Descriptor>>,
    manifests: Option<Vec<Descriptor>>,
}

#[derive(Debug)]
pub enum Manifest {
    Image {
        config: Descriptor,
        layers: Vec<Descriptor>,
    },
    Index(Vec<Descriptor>),
}

/// Reads a manifest; `content_type` is the registry's word for it, the body's own
/// `mediaType` wins when present.
pub fn parse(bytes: &[u8], content_type: &str) -> Result<Manifest> {
    let raw: Raw = serde_json::from_slice(bytes).map_err(|e| Error::json("manifest", e))?;
    if raw.schema_version == Some(1) {
        return Err(Error::Registry(RegistryError::Malformed(
            "docker schema 1 manifests are not supported: push the image again with a current client".into(),
        )));
    }
    let kind = raw
        .media_type
        .clone()
        .unwrap_or_else(|| content_type.to_string());
    match (raw.manifests, raw.config, raw.layers) {
        (Some(m), _, _) => Ok(Manifest::Index(m)),
        (None, Some(config), layers) if kind != OCI_INDEX && kind != DOCKER_LIST => {
            Ok(Manifest::Image {
                config,
                layers: layers.unwrap_or_default(),
            })
        }
        _ => Err(Error::Registry(RegistryError::Malformed(format!(
            "unreadable manifest of type {kind:?}"
        )))),
    }
}

/// os/arch[/variant], as `--platform` spells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Platform {
    pub os: String,
    pub arch: String,
    pub variant: Option<String>,
}

impl Platform {
    pub fn host() -> Platform {
        let arch = crate::platform::go_arch().to_string();
        let variant = match arch.as_str() {
            "arm64" => Some("v8".to_string()),
            "arm" => Some("v7".to_string()),
            _ => None,
        };
        Platform {
            os: "linux".into(),
            arch,
            variant,
        }
    }

    /// `--platform`, then `--os`/`--arch`/`--variant` over it (or over the host's).
    pub fn from_flags(
        platform: Option<&str>,
        os: Option<&str>,
        arch: Option<&str>,
        variant: Option<&str>,
    ) -> Result<Platform> {
        let mut p = Platform::host();
        if let Some(s) = platform {
            let parts: Vec<&str> = s.split('/').collect();
            if !(2..=3).contains(&parts.len()) || parts.iter().any(|x| x.is_empty()) {
                return Err(Error::InvalidArgument(format!(
                    "invalid platform {s:?}: want OS/ARCH[/VARIANT]"
                )));
            }
            p = Platform {
                os: parts[0].into(),
                arch: parts[1].into(),
                variant: parts.get(2).map(|v| v.to_string()),
            };
        }
        if let Some(o) = os {
            p.os = o.into();
        }
        if let Some(a) = arch {
            if a != p.arch {
                p.variant = None;
            }
            p.arch = a.into();
        }
        if let Some(v) = variant {
            p.variant = Some(v.into());
        }
        Ok(p)
    }

    pub fn describe(&self) -> String {
        match &self.variant {
            Some(v) => format!("{}/{}/{v}", self.os, self.arch),
            None => format!("{}/{}", self.os, self.arch),
        }
    }
}

/// The entry of an index for `want`; a missing variant matches the architecture's
/// usual one.
pub fn choose<'a>(entries: &'a [Descriptor], want: &Platform) -> Result<&'a Descriptor> {
    let fits = |d: &&Descriptor, strict: bool| {
        d.platform.as_ref().is_some_and(|p| {
            p.os == want.os
                && p.architecture == want.arch
                && match (&want.variant, &p.variant) {
                    (Some(w), Some(v)) => w == v,
                    (Some(_), None) => !strict,
                    (None, _) => true,
                }
        })
    };
    entries
        .iter()
        .find(|d| fits(d, true))
        .or_else(|| entries.iter().find(|d| fits(d, false)))
        .ok_or_else(|| {
            let have: Vec<String> = entries
                .iter()
                .filter_map(|d| d.platform.as_ref())
                .map(|p| match &p.variant {
                    Some(v) => format!("{}/{}/{v}", p.os, p.architecture),
                    None => format!("{}/{}", p.os, p.architecture),
                })
                .collect();
            Error::Registry(RegistryError::NotFound(format!(
                "no image for {} in the manifest list (it has {})",
                want.describe(),
                have.join(", ")
            )))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_the_platform() {
        let idx = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[
          {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:aa","size":1,"platform":{"architecture":"arm64","os":"linux","variant":"v8"}},
          {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:bb","size":1,"platform":{"architecture":"amd64","os":"linux"}},
          {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:cc","size":1,"platform":{"architecture":"arm","os":"linux","variant":"v6"}}]}"#;
        let Manifest::Index(entries) = parse(idx, "").unwrap() else {
            panic!("not an index")
        };
        let p = Platform::from_flags(Some("linux/arm64"), None, None, None).unwrap();
        assert_eq!(choose(&entries, &p).unwrap().digest, "sha256:aa");
        let p = Platform::from_flags(None, None, Some("amd64"), None).unwrap();
        assert_eq!(choose(&entries, &p).unwrap().digest, "sha256:bb");
        let p = Platform::from_flags(Some("linux/arm/v7"), None, None, None).unwrap();
        assert!(choose(&entries, &p).is_err());
        assert!(Platform::from_flags(Some("linux"), None, None, None).is_err());
    }
}
