//! Image records: adding, naming, finding, removing, and collecting what no image
//! needs any more.

use super::records::{ImageIndex, ImageRecord, LayerRef};
use super::Store;
use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::events::{Event, EventStatus, EventType};
use crate::fsutil;
use crate::layer::LayerError;
use crate::reference::Reference;
use crate::store::StoreError;
use oci_spec::image::ImageConfiguration;
use std::collections::HashSet;

pub const MEDIA_TYPE_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const MEDIA_TYPE_CONFIG: &str = "application/vnd.oci.image.config.v1+json";

/// An image about to be stored. Its layers must be in the store already.
pub struct ImageSpec {
    pub config: Vec<u8>,
    pub layers: Vec<LayerRef>,
    /// The manifest the image came with; one is made when it came without (docker
    /// archives, import, commit).
    pub manifest: Option<Vec<u8>>,
    /// Full names (`domain/path:tag`).
    pub names: Vec<String>,
}

impl Store {
    pub fn image_index(&self) -> Result<ImageIndex> {
        Ok(fsutil::read_json(&self.paths.images_file())?.unwrap_or_default())
    }

    fn write_index(&self, index: &ImageIndex) -> Result<()> {
        self.assert_locked();
        fsutil::write_json(&self.paths.images_file(), index)
    }

    pub fn images(&self) -> Result<Vec<ImageRecord>> {
        Ok(self.image_index()?.images)
    }

    pub fn image_config(&self, image: &ImageRecord) -> Result<ImageConfiguration> {
        let data = self.read_blob(&image.config)?;
        parse_config(&data)
    }

    /// Finds an image by full or short name, full or partial ID, or `name@digest`.
    pub fn find_image(&self, what: &str) -> Result<ImageRecord> {
        let images = self.images()?;
        find_in(&images, what)
            .cloned()
            .ok_or_else(|| Error::Store(StoreError::ImageNotFound(what.to_string())))
    }

    /// Stores a new image, or adds names to the same image stored before.
    pub fn add_image(&self, spec: ImageSpec) -> Result<ImageRecord> {
        self.assert_locked();
        let config = parse_config(&spec.config)?;
        let diff_ids = config.rootfs().diff_ids();
        let layer_ids: Vec<String> = spec.layers.iter().map(|l| l.diff_id.to_string()).collect();
        if diff_ids != &layer_ids {
            return Err(Error::Layer(LayerError::InvalidArchive(format!(
                "image config lists {} layers that differ from the {} layers supplied",
                diff_ids.len(),
                layer_ids.len()
            ))));
        }
        let config_digest = self.put_blob_bytes(&spec.config, None)?;
        let manifest = match spec.manifest {
            Some(m) => m,
            None => make_manifest(&config_digest, spec.config.len(), &spec.layers)?,
        };
        let digest = self.put_blob_bytes(&manifest, None)?;
        let mut index = self.image_index()?;
        take_names(&mut index, &spec.names);
        let id = config_digest.hex().to_string();
        let record = match index.images.iter_mut().find(|i| i.id == id) {
            Some(existing) => {
                for n in &spec.names {
                    if !existing.names.contains(n) {
                        existing.names.push(n.clone());
                    }
                }
                existing.clone()
            }
            None => {
                let rec = ImageRecord {
                    id,
                    names: spec.names.clone(),
                    digest,
                    config: config_digest,
                    size: spec.layers.iter().map(|l| l.diff_size).sum(),
                    layers: spec.layers,
                    created: config.created().clone(),
                    added: crate::time::now_rfc3339(),
                };
                index.images.push(rec.clone());
                rec
            }
        };
        self.write_index(&index)?;
        Ok(record)
    }

    /// Adds `name` (a full name) to the image with `id`, taking it from any other.
    pub fn tag_image(&self, id: &str, name: &str) -> Result<()> {
        let mut index = self.image_index()?;
        take_names(&mut index, &[name.to_string()]);
        let img = index
            .images
            .iter_mut()
            .find(|i| i.id == id)
            .ok_or_else(|| Error::Store(StoreError::ImageNotFound(id.to_string())))?;
        img.names.push(name.to_string());
        self.write_index(&index)?;
        self.image_event(EventStatus::Tag, id, name);
        Ok(())
    }

    fn image_event(&self, status: EventStatus, id: &str, name: &str) {
        let e = Event::new(EventType::Image, status).id(id).name(name);
        crate::events::emit(&self.paths, &e);
    }

    /// Removes one name; returns whether the image still has others.
    pub fn untag_image(&self, id: &str, name: &str) -> Result<bool> {
        let mut index = self.image_index()?;
        let img = index
            .images
            .iter_mut()
            .find(|i| i.id == id)
            .ok_or_else(|| Error::Store(StoreError::ImageNotFound(id.to_string())))?;
        img.names.retain(|n| n != name);
        let left = !img.names.is_empty();
        self.write_index(&index)?;
        self.image_event(EventStatus::Untag, id, name);
        Ok(left)
    }

    /// Removes the image record, then whatever layers and blobs nothing else needs.
    pub fn remove_image(&self, id: &str) -> Result<()> {
        let mut index = self.image_index()?;
        let name = index
            .images
            .iter()
            .find(|i| i.id == id)
            .and_then(|i| i.names.first().cloned())
            .unwrap_or_default();
        index.images.retain(|i| i.id != id);
        self.write_index(&index)?;
        self.image_event(EventStatus::Remove, id, &name);
        self.collect_garbage(&index)
    }

    pub(super) fn blob_in_use(&self, blob: &Digest) -> bool {
        self.images()
            .map(|imgs| {
                imgs.iter().any(|i| {
                    i.config == *blob
                        || i.digest == *blob
                        || i.layers.iter().any(|l| l.blob == *blob)
                })
            })
            .unwrap_or(true)
    }

    pub(super) fn collect_garbage(&self, index: &ImageIndex) -> Result<()> {
        let mut blobs = HashSet::new();
        let mut layers = HashSet::new();
        for img in &index.images {
            blobs.insert(img.digest.hex().to_string());
            blobs.insert(img.config.hex().to_string());
            for l in &img.layers {
                blobs.insert(l.blob.hex().to_string());
                layers.insert(l.diff_id.clone());
            }
        }
        for l in self.layer_ids() {
            if !layers.contains(&l) {
                self.remove_layer(&l)?;
            }
        }
        if let Ok(entries) = std::fs::read_dir(self.paths.blobs_dir()) {
            for e in entries.flatten() {
                if !blobs.contains(e.file_name().to_string_lossy().as_ref()) {
                    let _ = std::fs::remove_file(e.path());
                }
            }
        }
        Ok(())
    }
}

pub fn parse_config(data: &[u8]) -> Result<ImageConfiguration> {
    serde_json::from_slice(data).map_err(|e| Error::json("image config", e))
}

/// Removes `names` from every image that has them: a name points at one image.
fn take_names(index: &mut ImageIndex, names: &[String]) {
    for img in &mut index.images {
        img.names.retain(|n| !names.contains(n));
    }
}

fn find_in<'a>(images: &'a [ImageRecord], what: &str) -> Option<&'a ImageRecord> {
    let id = what.strip_prefix("sha256:").unwrap_or(what);
    let is_hex = id.len() >= 3 && id.bytes().all(|b| b.is_ascii_hexdigit());
    if is_hex {
        if let Some(img) = images.iter().find(|i| i.id == id) {
            return Some(img);
        }
    }
    if let Ok(r) = Reference::parse(what) {
        let by_name = |i: &&ImageRecord| {
            let name_ok =
                r.tag.is_none() && r.digest.is_some() || i.names.iter().any(|n| r.matches_name(n));
            let digest_ok = r.digest.as_ref().is_none_or(|d| *d == i.digest);
            name_ok && digest_ok
        };
        // Exact localhost names win over the same short name elsewhere.
        if let Some(img) = images
            .iter()
            .filter(by_name)
            .find(|i| r.domain.is_some() || i.names.iter().any(|n| n.starts_with("localhost/")))
        {
            return Some(img);
        }
        if let Some(img) = images.iter().find(by_name) {
            return Some(img);
        }
    }
    if is_hex {
        let mut hits = images.iter().filter(|i| i.id.starts_with(id));
        let first = hits.next()?;
        return hits.next().is_none().then_some(first);
    }
    None
}

fn make_manifest(config: &Digest, config_size: usize, layers: &[LayerRef]) -> Result<Vec<u8>> {
    let layers: Vec<serde_json::Value> = layers
        .iter()
        .map(|l| {
            serde_json::json!({
                "mediaType": l.media_type,
                "digest": l.blob.as_str(),
                "size": l.blob_size,
            })
        })
        .collect();
    let m = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": MEDIA_TYPE_MANIFEST,
        "config": { "mediaType": MEDIA_TYPE_CONFIG, "digest": config.as_str(), "size": config_size },
        "layers": layers,
    });
    serde_json::to_vec(&m).map_err(|e| Error::json("manifest", e))
}
