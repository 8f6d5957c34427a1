//! docker-archive: `manifest.json` lists each image's config member, layer members and
//! tags. Layers are usually plain tars whose digest is the diff-id.

use super::tar_index::TarIndex;
use crate::digest::Digest;
use crate::digest::DigestError;
use crate::error::{Error, Result};
use crate::layer::ExtractOptions;
use crate::layer::LayerError;
use crate::reference::{DefaultDomain, Reference};
use crate::store::LayerSource;
use crate::store::{ImageRecord, ImageSpec, Store};
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize)]
pub struct ManifestItem {
    #[serde(rename = "Config")]
    pub config: String,
    #[serde(rename = "RepoTags", default)]
    pub repo_tags: Option<Vec<String>>,
    #[serde(rename = "Layers")]
    pub layers: Vec<String>,
}

pub fn load(store: &Store, idx: &TarIndex, opts: ExtractOptions) -> Result<Vec<ImageRecord>> {
    let data = idx.read_member("manifest.json")?;
    let items: Vec<ManifestItem> = serde_json::from_slice(&data)
        .map_err(|e| Error::json("manifest.json of docker-archive", e))?;
    if items.is_empty() {
        return Err(Error::Layer(LayerError::InvalidArchive(
            "manifest.json lists no image".into(),
        )));
    }
    items
        .iter()
        .map(|item| load_one(store, idx, item, opts))
        .collect()
}

fn load_one(
    store: &Store,
    idx: &TarIndex,
    item: &ManifestItem,
    opts: ExtractOptions,
) -> Result<ImageRecord> {
    let config = idx.read_member(&item.config)?;
    // Docker names the config after its digest; a mismatch means a corrupted archive.
    if let Some(hex) = item
        .config
        .strip_suffix(".json")
        .and_then(|n| n.rsplit('/').next())
    {
        if let Ok(named) = Digest::from_hex(hex) {
            let actual = Digest::of_bytes(&config);
            if named != actual {
                return Err(Error::Digest(DigestError::Mismatch {
                    what: format!("config {}", item.config),
                    expected: named.to_string(),
                    actual: actual.to_string(),
                }));
            }
        }
    }
    let parsed = crate::store::parse_config_bytes(&config)?;
    let diff_ids = parsed.rootfs().diff_ids();
    if diff_ids.len() != item.layers.len() {
        return Err(Error::Layer(LayerError::InvalidArchive(format!(
            "config lists {} layers, manifest.json {}",
            diff_ids.len(),
            item.layers.len()
        ))));
    }
    let mut layers = Vec::with_capacity(item.layers.len());
    for (member, diff_id) in item.layers.iter().zip(diff_ids) {
        let diff_id = Digest::parse(diff_id)?;
        let mut reader = idx.open_member(member)?;
        let src = LayerSource {
            reader: &mut reader,
            blob: None,
            diff_id: Some(diff_id),
        };
        layers.push(store.ingest_layer(src, opts)?);
    }
    let names = item
        .repo_tags
        .iter()
        .flatten()
        .map(|t| Reference::parse(t).map(|r| r.tagged_name(DefaultDomain::DockerHub)))
        .collect::<Result<Vec<_>>>()?;
    store.add_image(ImageSpec {
        config,
        layers,
        manifest: None,
        names,
    })
}
