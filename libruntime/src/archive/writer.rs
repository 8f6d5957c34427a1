//! Writes images into a docker-archive or an oci-archive.

use super::docker::ManifestItem;
use super::oci::{CONTAINERD_NAME, REF_NAME};
use super::{Format, SaveItem};
use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::store::StoreError;
use crate::store::{ImageRecord, Store};
use std::collections::HashSet;
use std::io::{Read, Write};

pub fn save<W: Write>(store: &Store, items: &[SaveItem], format: Format, out: W) -> Result<W> {
    let mut tar = tar::Builder::new(out);
    match format {
        Format::DockerArchive => write_docker(store, items, &mut tar)?,
        Format::OciArchive => write_oci(store, items, &mut tar)?,
    }
    for i in items {
        let name = i.names.first().cloned().unwrap_or_default();
        let e = crate::events::Event::new(
            crate::events::EventType::Image,
            crate::events::EventStatus::Save,
        );
        crate::events::emit(&store.paths, &e.id(&i.image.id).name(&name));
    }
    tar.into_inner()
        .map_err(|e| Error::io("writing archive", e))
}

fn header(size: u64) -> tar::Header {
    let mut h = tar::Header::new_ustar();
    h.set_size(size);
    h.set_mode(0o644);
    h.set_mtime(0);
    h.set_entry_type(tar::EntryType::Regular);
    h
}

fn append<W: Write>(
    tar: &mut tar::Builder<W>,
    name: &str,
    size: u64,
    data: impl Read,
) -> Result<()> {
    let mut h = header(size);
    tar.append_data(&mut h, name, data)
        .map_err(|e| Error::io(format!("writing {name} to archive"), e))
}

fn append_bytes<W: Write>(tar: &mut tar::Builder<W>, name: &str, data: &[u8]) -> Result<()> {
    append(tar, name, data.len() as u64, data)
}

fn write_docker<W: Write>(
    store: &Store,
    items: &[SaveItem],
    tar: &mut tar::Builder<W>,
) -> Result<()> {
    let mut written = HashSet::new();
    let mut manifest = Vec::new();
    for item in items {
        let img = &item.image;
        let config_name = format!("{}.json", img.id);
        if written.insert(config_name.clone()) {
            append_bytes(tar, &config_name, &store.read_blob(&img.config)?)?;
        }
        let mut layers = Vec::new();
        for l in &img.layers {
            let name = format!("{}.tar", l.diff_id.hex());
            if written.insert(name.clone()) {
                write_plain_layer(store, tar, &name, &l.blob, l.diff_size)?;
            }
            layers.push(name);
        }
        manifest.push(ManifestItem {
            config: config_name,
            repo_tags: (!item.names.is_empty()).then(|| item.names.clone()),
            layers,
        });
    }
    let data = serde_json::to_vec(&manifest).map_err(|e| Error::json("manifest.json", e))?;
    append_bytes(tar, "manifest.json", &data)
}

/// docker-archive layers are uncompressed; a gzip blob is inflated on the way out.
fn write_plain_layer<W: Write>(
    store: &Store,
    tar: &mut tar::Builder<W>,
    name: &str,
    blob: &Digest,
    size: u64,
) -> Result<()> {
    let (r, _) = crate::layer::decompressed(store.open_blob(blob)?)?;
    let mut counted = CountingReader { inner: r, n: 0 };
    append(tar, name, size, &mut counted)?;
    if counted.n != size {
        return Err(Error::Store(StoreError::Corrupt {
            path: store.blob_path(blob),
            reason: format!("layer unpacks to {} bytes, recorded {size}", counted.n),
        }));
    }
    Ok(())
}

struct CountingReader<R> {
    inner: R,
    n: u64,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.n += n as u64;
        Ok(n)
    }
}

fn write_oci<W: Write>(store: &Store, items: &[SaveItem], tar: &mut tar::Builder<W>) -> Result<()> {
    append_bytes(tar, "oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#)?;
    let mut written = HashSet::new();
    let mut manifests = Vec::new();
    for item in items {
        let img = &item.image;
        for d in blobs_of(img) {
            if written.insert(d.clone()) {
                let f = store.open_blob(&d)?;
                let size = f.metadata().map_err(|e| Error::io("stat blob", e))?.len();
                append(tar, &format!("blobs/sha256/{}", d.hex()), size, f)?;
            }
        }
        let manifest = store.read_blob(&img.digest)?;
        let mt = serde_json::from_slice::<serde_json::Value>(&manifest)
            .ok()
            .and_then(|v| {
                v.get("mediaType")
                    .and_then(|m| m.as_str())
                    .map(String::from)
            })
            .unwrap_or_else(|| crate::store::MEDIA_TYPE_MANIFEST.to_string());
        let mut desc = serde_json::json!({
            "mediaType": mt,
            "digest": img.digest.as_str(),
            "size": manifest.len(),
        });
        if let Some(name) = item.names.first() {
            desc["annotations"] = serde_json::json!({ REF_NAME: name, CONTAINERD_NAME: name });
        }
        manifests.push(desc);
    }
    let index = serde_json::json!({ "schemaVersion": 2, "manifests": manifests });
    append_bytes(
        tar,
        "index.json",
        &serde_json::to_vec(&index).map_err(|e| Error::json("index.json", e))?,
    )
}

fn blobs_of(img: &ImageRecord) -> Vec<Digest> {
    let mut v = vec![img.config.clone()];
    v.extend(img.layers.iter().map(|l| l.blob.clone()));
    v.push(img.digest.clone());
    v
}
