//! oci-archive: an OCI image layout (`oci-layout`, `index.json`, `blobs/`) in a tar.
//! Every blob read is checked against the digest that names it.

use super::tar_index::TarIndex;
use crate::digest::Digest;
use crate::digest::DigestError;
use crate::error::{Error, Result};
use crate::layer::ExtractOptions;
use crate::layer::LayerError;
use crate::reference::{DefaultDomain, Reference};
use crate::store::{ImageRecord, ImageSpec, LayerSource, Store};
use oci_spec::image::{Descriptor, ImageIndex, ImageManifest, MediaType};

pub const REF_NAME: &str = "org.opencontainers.image.ref.name";
pub const CONTAINERD_NAME: &str = "io.containerd.image.name";
const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";

pub fn load(store: &Store, idx: &TarIndex, opts: ExtractOptions) -> Result<Vec<ImageRecord>> {
    let index: ImageIndex = serde_json::from_slice(&idx.read_member("index.json")?)
        .map_err(|e| Error::json("index.json of oci-archive", e))?;
    if index.manifests().is_empty() {
        return Err(Error::Layer(LayerError::InvalidArchive(
            "index.json lists no image".into(),
        )));
    }
    let mut out = Vec::new();
    for desc in index.manifests() {
        let names = names_of(desc)?;
        let manifest_desc = pick_manifest(idx, desc)?;
        out.push(load_manifest(store, idx, &manifest_desc, names, opts)?);
    }
    Ok(out)
}

fn names_of(desc: &Descriptor) -> Result<Vec<String>> {
    let ann = desc.annotations().clone().unwrap_or_default();
    let name = ann.get(CONTAINERD_NAME).or_else(|| ann.get(REF_NAME));
    Ok(name
        .and_then(|n| Reference::parse(n).ok())
        .map(|r| r.tagged_name(DefaultDomain::Localhost))
        .into_iter()
        .collect())
}

fn is_index(mt: &MediaType) -> bool {
    matches!(mt, MediaType::ImageIndex) || mt.to_string() == DOCKER_LIST
}

/// Follows image indexes down to the manifest for this machine's platform.
fn pick_manifest(idx: &TarIndex, desc: &Descriptor) -> Result<Descriptor> {
    let mut desc = desc.clone();
    for _ in 0..4 {
        if !is_index(desc.media_type()) {
            return Ok(desc);
        }
        let data = read_verified(idx, &desc)?;
        let index: ImageIndex =
            serde_json::from_slice(&data).map_err(|e| Error::json("nested image index", e))?;
        let arch = crate::platform::go_arch();
        desc = index
            .manifests()
            .iter()
            .find(|m| {
                m.platform().as_ref().is_none_or(|p| {
                    p.architecture().to_string() == arch && p.os().to_string() == "linux"
                })
            })
            .cloned()
            .ok_or_else(|| {
                Error::Layer(LayerError::InvalidArchive(format!(
                    "no image for linux/{arch} in the archive's index"
                )))
            })?;
    }
    Err(Error::Layer(LayerError::InvalidArchive(
        "image indexes nested too deep".into(),
    )))
}

fn blob_member(d: &Digest) -> String {
    format!("blobs/sha256/{}", d.hex())
}

fn read_verified(idx: &TarIndex, desc: &Descriptor) -> Result<Vec<u8>> {
    let d = Digest::parse(desc.digest().as_ref())?;
    let data = idx.read_member(&blob_member(&d))?;
    let actual = Digest::of_bytes(&data);
    if actual != d {
        return Err(Error::Digest(DigestError::Mismatch {
            what: format!("blob {}", d.short()),
            expected: d.to_string(),
            actual: actual.to_string(),
        }));
    }
    Ok(data)
}

fn load_manifest(
    store: &Store,
    idx: &TarIndex,
    desc: &Descriptor,
    names: Vec<String>,
    opts: ExtractOptions,
) -> Result<ImageRecord> {
    let mt = desc.media_type().to_string();
    if !matches!(desc.media_type(), MediaType::ImageManifest) && mt != DOCKER_MANIFEST {
        return Err(Error::Layer(LayerError::InvalidArchive(format!(
            "unsupported manifest type {mt}"
        ))));
    }
    let manifest_bytes = read_verified(idx, desc)?;
    let manifest: ImageManifest =
        serde_json::from_slice(&manifest_bytes).map_err(|e| Error::json("image manifest", e))?;
    let config = read_verified(idx, manifest.config())?;
    let parsed = crate::store::parse_config_bytes(&config)?;
    let diff_ids = parsed.rootfs().diff_ids();
    if diff_ids.len() != manifest.layers().len() {
        return Err(Error::Layer(LayerError::InvalidArchive(format!(
            "config lists {} layers, manifest {}",
            diff_ids.len(),
            manifest.layers().len()
        ))));
    }
    let mut layers = Vec::new();
    for (l, diff_id) in manifest.layers().iter().zip(diff_ids) {
        let blob = Digest::parse(l.digest().as_ref())?;
        let mut reader: Box<dyn std::io::Read> = if store.has_blob(&blob) {
            Box::new(std::io::empty())
        } else {
            Box::new(idx.open_member(&blob_member(&blob))?)
        };
        let src = LayerSource {
            reader: &mut reader,
            blob: Some(blob),
            diff_id: Some(Digest::parse(diff_id)?),
        };
        layers.push(store.ingest_layer(src, opts)?);
    }
    store.add_image(ImageSpec {
        config,
        layers,
        manifest: Some(manifest_bytes),
        names,
    })
}
