//! Manifest lists (`manifest create|add|annotate|remove|inspect|push|rm|exists`): an
//! OCI image index naming one image manifest per platform, kept in the store under a
//! name until it is pushed. Entries point at images of the store by manifest digest;
//! pushing sends each image by digest, then the index under the tag asked for.

use crate::error::{Error, Result};
use crate::fsutil;
use crate::paths::Paths;
use crate::reference::{DefaultDomain, Reference};
use crate::registry::manifest::{Descriptor, PlatformSpec, OCI_INDEX};
use crate::store::StoreError;
use crate::store::{ImageRecord, Store};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The index as it is pushed and inspected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Index {
    #[serde(rename = "schemaVersion")]
    pub schema_version: u32,
    #[serde(rename = "mediaType")]
    pub media_type: String,
    pub manifests: Vec<Descriptor>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

impl Default for Index {
    fn default() -> Index {
        Index {
            schema_version: 2,
            media_type: OCI_INDEX.into(),
            manifests: Vec::new(),
            annotations: BTreeMap::new(),
        }
    }
}

/// What `annotate` (and `add`) may set on an entry.
#[derive(Debug, Clone, Default)]
pub struct EntryChanges {
    pub os: Option<String>,
    pub arch: Option<String>,
    pub variant: Option<String>,
    pub os_version: Option<String>,
    pub os_features: Vec<String>,
    pub annotations: BTreeMap<String, String>,
}

fn lists_file(paths: &Paths) -> PathBuf {
    paths.root.join("manifest-lists.json")
}

/// Every list by its full name.
fn load_all(paths: &Paths) -> Result<BTreeMap<String, Index>> {
    Ok(fsutil::read_json(&lists_file(paths))?.unwrap_or_default())
}

fn store_all(paths: &Paths, lists: &BTreeMap<String, Index>) -> Result<()> {
    let data = serde_json::to_vec_pretty(lists).map_err(|e| Error::json("manifest lists", e))?;
    fsutil::create_dir_all(&paths.root)?;
    fsutil::write_atomic(&lists_file(paths), &data)
}

/// A list's full name, as images are named (`list` is `localhost/list:latest`).
pub fn full_name(name: &str) -> Result<String> {
    Ok(Reference::parse(name)?.tagged_name(DefaultDomain::Localhost))
}

pub fn exists(paths: &Paths, name: &str) -> Result<bool> {
    Ok(load_all(paths)?.contains_key(&full_name(name)?))
}

pub fn get(paths: &Paths, name: &str) -> Result<Index> {
    let full = full_name(name)?;
    load_all(paths)?
        .remove(&full)
        .ok_or_else(|| Error::Store(StoreError::ManifestListNotFound(name.to_string())))
}

/// Makes an empty list (or, with `amend`, keeps an existing one) and adds `images`.
/// The caller holds the store lock.
pub fn create(store: &Store, name: &str, images: &[ImageRecord], amend: bool) -> Result<Index> {
    let full = full_name(name)?;
    let mut lists = load_all(&store.paths)?;
    if lists.contains_key(&full) && !amend {
        return Err(Error::InvalidArgument(format!(
            "creating manifest list: name {full:?} is already in use: use --amend to change it"
        )));
    }
    if store.find_image(&full).is_ok() {
        return Err(Error::InvalidArgument(format!(
            "creating manifest list: name {full:?} is already used by an image"
        )));
    }
    let index = lists.entry(full).or_default();
    for image in images {
        upsert(index, entry_for(store, image)?);
    }
    let out = index.clone();
    store_all(&store.paths, &lists)?;
    Ok(out)
}

/// Adds `image` to the list (replacing an entry for the same manifest); returns the
/// list's digest as podman prints it after `add`.
pub fn add(
    store: &Store,
    name: &str,
    image: &ImageRecord,
    changes: &EntryChanges,
) -> Result<String> {
    let full = full_name(name)?;
    let mut lists = load_all(&store.paths)?;
    let index = lists
        .get_mut(&full)
        .ok_or_else(|| Error::Store(StoreError::ManifestListNotFound(name.to_string())))?;
    let mut entry = entry_for(store, image)?;
    apply(&mut entry, changes);
    upsert(index, entry);
    let digest = digest_of(index)?;
    store_all(&store.paths, &lists)?;
    Ok(digest)
}

/// Changes the entry whose manifest digest is `digest`.
pub fn annotate(paths: &Paths, name: &str, digest: &str, changes: &EntryChanges) -> Result<()> {
    edit_entry(paths, name, digest, |index, i| {
        apply(&mut index.manifests[i], changes)
    })
}

/// Drops the entry whose manifest digest is `digest`.
pub fn remove_entry(paths: &Paths, name: &str, digest: &str) -> Result<()> {
    edit_entry(paths, name, digest, |index, i| {
        index.manifests.remove(i);
    })
}

fn edit_entry(
    paths: &Paths,
    name: &str,
    digest: &str,
    f: impl FnOnce(&mut Index, usize),
) -> Result<()> {
    let full = full_name(name)?;
    let mut lists = load_all(paths)?;
    let index = lists
        .get_mut(&full)
        .ok_or_else(|| Error::Store(StoreError::ManifestListNotFound(name.to_string())))?;
    let i = index
        .manifests
        .iter()
        .position(|m| m.digest == digest)
        .ok_or_else(|| {
            Error::InvalidArgument(format!(
                "no entry with digest {digest} in manifest list {name}"
            ))
        })?;
    f(index, i);
    store_all(paths, &lists)
}

/// Deletes a list; the images it names stay.
pub fn delete(paths: &Paths, name: &str) -> Result<()> {
    let full = full_name(name)?;
    let mut lists = load_all(paths)?;
    if lists.remove(&full).is_none() {
        return Err(Error::Store(StoreError::ManifestListNotFound(
            name.to_string(),
        )));
    }
    store_all(paths, &lists)
}

/// The index's bytes as stored and pushed, and their digest.
pub fn serialized(index: &Index) -> Result<Vec<u8>> {
    serde_json::to_vec_pretty(index).map_err(|e| Error::json("manifest list", e))
}

fn digest_of(index: &Index) -> Result<String> {
    Ok(crate::digest::Digest::of_bytes(&serialized(index)?).to_string())
}

/// The store's image whose manifest an entry names.
pub fn image_of(store: &Store, entry: &Descriptor) -> Result<ImageRecord> {
    store
        .images()?
        .into_iter()
        .find(|i| i.digest.as_str() == entry.digest)
        .ok_or_else(|| {
            Error::InvalidArgument(format!(
                "the image of manifest {} is not in the store: add it again",
                entry.digest
            ))
        })
}

/// The entry that names `image`: its manifest, and its platform from its config.
fn entry_for(store: &Store, image: &ImageRecord) -> Result<Descriptor> {
    let manifest = store.read_blob(&image.digest)?;
    let media_type = serde_json::from_slice::<serde_json::Value>(&manifest)
        .ok()
        .and_then(|v| v.get("mediaType")?.as_str().map(String::from))
        .unwrap_or_else(|| crate::registry::manifest::OCI_MANIFEST.to_string());
    let config = store.image_config(image)?;
    let platform = PlatformSpec {
        architecture: config.architecture().to_string(),
        os: config.os().to_string(),
        variant: config.variant().clone(),
        ..PlatformSpec::default()
    };
    Ok(Descriptor {
        media_type,
        digest: image.digest.to_string(),
        size: manifest.len() as u64,
        platform: Some(platform),
        annotations: BTreeMap::new(),
    })
}

/// Adds `entry`, or replaces the one for the same manifest.
fn upsert(index: &mut Index, entry: Descriptor) {
    match index
        .manifests
        .iter_mut()
        .find(|m| m.digest == entry.digest)
    {
        Some(m) => *m = entry,
        None => index.manifests.push(entry),
    }
}

fn apply(entry: &mut Descriptor, c: &EntryChanges) {
    let p = entry.platform.get_or_insert_with(PlatformSpec::default);
    if let Some(os) = &c.os {
        p.os = os.clone();
    }
    if let Some(a) = &c.arch {
        p.architecture = a.clone();
    }
    if let Some(v) = &c.variant {
        p.variant = Some(v.clone());
    }
    if let Some(v) = &c.os_version {
        p.os_version = Some(v.clone());
    }
    if !c.os_features.is_empty() {
        p.os_features = c.os_features.clone();
    }
    entry
        .annotations
        .extend(c.annotations.iter().map(|(k, v)| (k.clone(), v.clone())));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(d: &str) -> Descriptor {
        Descriptor {
            media_type: "m".into(),
            digest: d.into(),
            size: 1,
            platform: Some(PlatformSpec {
                architecture: "amd64".into(),
                os: "linux".into(),
                ..PlatformSpec::default()
            }),
            annotations: BTreeMap::new(),
        }
    }

    #[test]
    fn entries_are_replaced_by_digest_and_annotated() {
        let mut index = Index::default();
        upsert(&mut index, entry("sha256:a"));
        upsert(&mut index, entry("sha256:b"));
        upsert(&mut index, entry("sha256:a"));
        assert_eq!(index.manifests.len(), 2);
        let changes = EntryChanges {
            arch: Some("arm64".into()),
            variant: Some("v8".into()),
            annotations: [("k".to_string(), "v".to_string())].into(),
            ..EntryChanges::default()
        };
        apply(&mut index.manifests[1], &changes);
        let p = index.manifests[1].platform.clone().unwrap();
        assert_eq!(
            (p.architecture.as_str(), p.variant.as_deref()),
            ("arm64", Some("v8"))
        );
        assert_eq!(index.manifests[1].annotations["k"], "v");
        let text = String::from_utf8(serialized(&index).unwrap()).unwrap();
        assert!(
            text.contains("\"mediaType\": \"application/vnd.oci.image.index.v1+json\""),
            "{text}"
        );
        assert!(
            !text.contains("os.version"),
            "empty fields stay out: {text}"
        );
    }
}
