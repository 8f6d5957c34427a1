//! Unpacked layers under `layers/<diff-id hex>/`: `diff/` holds the files in overlay
//! form, `layer.json` the record. A layer directory appears by rename only when whole.

use super::records::{LayerRecord, LayerRef};
use super::{staging, Store};
use crate::digest::DigestError;
use crate::digest::{Digest, HashingReader};
use crate::error::{Context, Error, Result};
use crate::fsutil;
use crate::layer::LayerError;
use crate::layer::{self, Compression, ExtractOptions};
use std::io::{BufReader, Read};
use std::path::PathBuf;

pub const MEDIA_TYPE_LAYER: &str = "application/vnd.oci.image.layer.v1.tar";
pub const MEDIA_TYPE_LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";

/// How a layer blob comes in.
pub struct LayerSource<'a> {
    pub reader: &'a mut dyn Read,
    /// The blob digest a manifest promised, if any.
    pub blob: Option<Digest>,
    /// The diff-id the image config promises; unknown for a plain tarball (`import`).
    pub diff_id: Option<Digest>,
}

impl Store {
    pub fn layer_dir(&self, diff_id: &Digest) -> PathBuf {
        self.paths.layers_dir().join(diff_id.hex())
    }

    /// The directory holding the layer's files, as overlay's lowerdir wants it.
    pub fn layer_diff_dir(&self, diff_id: &Digest) -> PathBuf {
        self.layer_dir(diff_id).join("diff")
    }

    pub fn layer_record(&self, diff_id: &Digest) -> Result<Option<LayerRecord>> {
        fsutil::read_json(&self.layer_dir(diff_id).join("layer.json"))
    }

    /// Makes sure the layer and its blob are in the store, reading `src` only when
    /// something is missing. Every digest known in advance is verified before anything
    /// is kept.
    pub fn ingest_layer(&self, src: LayerSource<'_>, opts: ExtractOptions) -> Result<LayerRef> {
        self.assert_locked();
        if let Some(diff_id) = &src.diff_id {
            if let Some(rec) = self.layer_record(diff_id)? {
                match &src.blob {
                    None => return Ok(rec.layer),
                    Some(b) if *b == rec.layer.blob => return Ok(rec.layer),
                    Some(_) => {}
                }
            }
        }
        let what = match &src.diff_id {
            Some(d) => format!("layer {d}"),
            None => "layer".to_string(),
        };
        let (blob, blob_size) = match &src.blob {
            Some(b) if self.has_blob(b) => (
                b.clone(),
                std::fs::metadata(self.blob_path(b))
                    .map(|m| m.len())
                    .unwrap_or(0),
            ),
            _ => self.put_blob(src.reader, src.blob.as_ref(), &what)?,
        };
        let layer = self.layer_from_blob(&blob, blob_size, src.diff_id.as_ref(), opts);
        if layer.is_err() && !self.blob_in_use(&blob) {
            let _ = std::fs::remove_file(self.blob_path(&blob));
        }
        layer
    }

    /// Unpacks a stored blob as a layer, unless that layer is unpacked already (then the
    /// blob must still unpack to it).
    fn layer_from_blob(
        &self,
        blob: &Digest,
        blob_size: u64,
        diff_id: Option<&Digest>,
        opts: ExtractOptions,
    ) -> Result<LayerRef> {
        let media_type = media_type_of(&self.blob_path(blob));
        if let Some(d) = diff_id {
            if let Some(rec) = self.layer_record(d)? {
                let (diff, _) = self.hash_blob_diff(blob)?;
                check_diff(d, &diff, blob)?;
                return Ok(LayerRef {
                    blob: blob.clone(),
                    blob_size,
                    media_type,
                    ..rec.layer
                });
            }
        }
        self.unpack(blob, blob_size, &media_type, diff_id, opts)
    }

    fn hash_blob_diff(&self, blob: &Digest) -> Result<(Digest, u64)> {
        let f = self.open_blob(blob)?;
        let (r, _) = layer::decompressed(f)?;
        HashingReader::new(r).finish().map_err(|e| {
            Error::Layer(LayerError::InvalidArchive(format!(
                "reading layer {blob}: {e}"
            )))
        })
    }

    fn unpack(
        &self,
        blob: &Digest,
        blob_size: u64,
        media_type: &str,
        expected: Option<&Digest>,
        opts: ExtractOptions,
    ) -> Result<LayerRef> {
        let tmp = staging::path(&self.paths.tmp_dir(), "layer");
        let result = (|| {
            let diff_dir = tmp.join("diff");
            fsutil::create_dir_all(&diff_dir)?;
            let f = self.open_blob(blob)?;
            let (r, _) = layer::decompressed(f)?;
            let mut hashing = HashingReader::new(r);
            let stats = layer::extract(&mut hashing, &diff_dir, opts)?;
            let (diff, diff_size) = hashing.finish().map_err(|e| {
                Error::Layer(LayerError::InvalidArchive(format!(
                    "reading layer {blob}: {e}"
                )))
            })?;
            if let Some(exp) = expected {
                check_diff(exp, &diff, blob)?;
            }
            let diff_id = &diff;
            if let Some(rec) = self.layer_record(diff_id)? {
                fsutil::remove_tree(&tmp)?;
                return Ok(LayerRef {
                    blob: blob.clone(),
                    blob_size,
                    media_type: media_type.to_string(),
                    ..rec.layer
                });
            }
            for dev in &stats.skipped_devices {
                log::debug(&format!(
                    "layer {}: device {dev} left out (no CAP_MKNOD)",
                    diff_id.short()
                ));
            }
            let layer = LayerRef {
                diff_id: diff_id.clone(),
                diff_size,
                blob: blob.clone(),
                blob_size,
                media_type: media_type.to_string(),
            };
            let rec = LayerRecord {
                layer: layer.clone(),
                content_size: stats.size,
                root_mode: stats.root_mode,
            };
            fsutil::write_json(&tmp.join("layer.json"), &rec)?;
            std::fs::rename(&tmp, self.layer_dir(diff_id))
                .ctx(|| format!("storing layer {diff_id}"))?;
            Ok(layer)
        })();
        if result.is_err() {
            let _ = fsutil::remove_tree(&tmp);
        }
        result
    }

    /// Every unpacked layer's diff-id.
    pub fn layer_ids(&self) -> Vec<Digest> {
        let Ok(entries) = std::fs::read_dir(self.paths.layers_dir()) else {
            return vec![];
        };
        entries
            .flatten()
            .filter_map(|e| Digest::from_hex(&e.file_name().to_string_lossy()).ok())
            .collect()
    }

    pub fn remove_layer(&self, diff_id: &Digest) -> Result<()> {
        self.assert_locked();
        // Rename first so a crash mid-removal leaves no half layer under its real name.
        let tmp = staging::path(&self.paths.tmp_dir(), "gone");
        std::fs::rename(self.layer_dir(diff_id), &tmp)
            .ctx(|| format!("removing layer {diff_id}"))?;
        fsutil::remove_tree(&tmp)
    }
}

fn check_diff(expected: &Digest, actual: &Digest, blob: &Digest) -> Result<()> {
    if expected != actual {
        return Err(Error::Digest(DigestError::Mismatch {
            what: format!("uncompressed layer of blob {}", blob.short()),
            expected: expected.to_string(),
            actual: actual.to_string(),
        }));
    }
    Ok(())
}

fn media_type_of(path: &std::path::Path) -> String {
    let mut head = [0u8; 4];
    let n = std::fs::File::open(path)
        .map(BufReader::new)
        .and_then(|mut r| r.read(&mut head))
        .unwrap_or(0);
    match Compression::sniff(&head[..n]) {
        Compression::Gzip => MEDIA_TYPE_LAYER_GZIP.to_string(),
        Compression::Zstd => format!("{MEDIA_TYPE_LAYER}+zstd"),
        // No registry serves these; named for what they are should one be stored.
        Compression::Xz => format!("{MEDIA_TYPE_LAYER}+xz"),
        Compression::Bzip2 => format!("{MEDIA_TYPE_LAYER}+bzip2"),
        Compression::None => MEDIA_TYPE_LAYER.to_string(),
    }
}

use crate::log;
