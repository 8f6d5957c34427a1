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
