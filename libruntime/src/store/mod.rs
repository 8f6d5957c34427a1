//! The image store: verified content-addressed blobs, layers unpacked once per diff-id,
//! and image records in one atomically replaced index. Mutations hold the store lock.

mod error;
pub use error::StoreError;
mod blobs;
mod images;
mod layers;
mod records;
mod staging;

pub use images::{
    parse_config as parse_config_bytes, ImageSpec, MEDIA_TYPE_CONFIG, MEDIA_TYPE_MANIFEST,
};
pub use layers::{LayerSource, MEDIA_TYPE_LAYER, MEDIA_TYPE_LAYER_GZIP};
pub use records::{ImageIndex, ImageRecord, LayerRecord, LayerRef};

use crate::error::Result;
use crate::fsutil;
use crate::lock::StoreLock;
use crate::paths::Paths;

pub struct Store {
    pub paths: Paths,
    /// Set when the store is opened for writing and this process is the only writer.
    lock: Option<StoreLock>,
}

impl Store {
    /// Opens the store for reading; creates nothing.
    pub fn open(paths: &Paths) -> Store {
        Store {
            paths: paths.clone(),
            lock: None,
        }
    }

    /// Opens the store for writing: creates its directories, takes the lock, and clears
    /// what crashed writers left in the staging area.
    pub fn open_locked(paths: &Paths) -> Result<Store> {
        for d in [
            paths.root.clone(),
            paths.blobs_dir(),
            paths.layers_dir(),
            paths.tmp_dir(),
        ] {
            fsutil::create_dir_all(&d)?;
        }
        let lock = StoreLock::exclusive(&paths.lock_file())?;
        let store = Store {
            paths: paths.clone(),
            lock: Some(lock),
        };
        staging::clean_stale(&paths.tmp_dir());
        Ok(store)
    }

    /// A fresh path in the staging area for this process.
    pub fn staging_path(&self, kind: &str) -> std::path::PathBuf {
        staging::path(&self.paths.tmp_dir(), kind)
    }

    /// Drops layers and blobs that no image refers to (what a failed load left).
    pub fn discard_unreferenced(&self) -> Result<()> {
        let index = self.image_index()?;
        self.collect_garbage(&index)
    }

    fn assert_locked(&self) {
        debug_assert!(self.lock.is_some(), "store mutation without the lock");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(dir: &std::path::Path) -> Paths {
        Paths::under(dir)
    }

    fn config(n: usize) -> Vec<u8> {
        format!(
            r#"{{"architecture":"amd64","os":"linux","config":{{"Env":["N={n}"]}},"rootfs":{{"type":"layers","diff_ids":[]}}}}"#
        )
        .into_bytes()
    }

    /// Writers in parallel, each under its own lock: none loses another's image.
    #[test]
    fn concurrent_writers_keep_every_image() {
        let dir = tempfile::tempdir().unwrap();
        let p = paths(dir.path());
        std::thread::scope(|s| {
            for n in 0..8 {
                let p = &p;
                s.spawn(move || {
                    let store = Store::open_locked(p).unwrap();
                    store
                        .add_image(ImageSpec {
                            config: config(n),
                            layers: vec![],
                            manifest: None,
                            names: vec![format!("localhost/img{n}:latest")],
                        })
                        .unwrap();
                });
            }
        });
        let images = Store::open(&p).images().unwrap();
        assert_eq!(images.len(), 8);
        for n in 0..8 {
            let name = format!("localhost/img{n}:latest");
            assert!(
                images.iter().any(|i| i.names == vec![name.clone()]),
                "{name}"
            );
        }
    }

    /// Opening for writing sweeps what dead writers left in staging, and only that.
    #[test]
    fn staging_sweep_takes_only_dead_writers_leftovers() {
        let dir = tempfile::tempdir().unwrap();
        let p = paths(dir.path());
        let tmp = p.tmp_dir();
        std::fs::create_dir_all(&tmp).unwrap();
        // Above the kernel's largest pid, so never a live process.
        let dead = tmp.join("layer-extract-4194305-0");
        std::fs::create_dir_all(dead.join("usr/bin")).unwrap();
        std::fs::write(tmp.join("blob-4194305-1"), "partial").unwrap();
        let ours = staging::path(&tmp, "blob");
        std::fs::write(&ours, "in progress").unwrap();
        let _store = Store::open_locked(&p).unwrap();
        assert!(!dead.exists());
        assert!(!tmp.join("blob-4194305-1").exists());
        assert!(ours.exists(), "a live writer's file stays");
    }

    /// A record that does not parse is an error naming the file, not an empty store.
    #[test]
    fn a_corrupt_index_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let p = paths(dir.path());
        std::fs::create_dir_all(&p.root).unwrap();
        std::fs::write(p.images_file(), "{not json").unwrap();
        assert!(Store::open(&p).images().is_err());
    }
}
