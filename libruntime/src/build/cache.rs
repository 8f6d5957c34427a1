//! The build cache: each step's result is an image, found again by a key made of the
//! parent image, the instruction as it expands, and the content it reads (the files a
//! COPY takes, the variables a RUN sees). Entries whose image was removed are misses.
//! Images a build makes along the way are marked intermediate, so `images` hides them.

use crate::error::Result;
use crate::fsutil;
use crate::paths::Paths;
use crate::store::{ImageRecord, Store};
use sha2::{Digest, Sha256};
use std::path::PathBuf;

pub struct Cache {
    dir: PathBuf,
}

impl Cache {
    pub fn open(paths: &Paths) -> Cache {
        Cache {
            dir: paths.root.join("build-cache"),
        }
    }

    /// The key of a step on `parent` (an image id) with its expanded form.
    pub fn key(parent: &str, step: &str) -> String {
        let mut h = Sha256::new();
        h.update(parent.as_bytes());
        h.update([0]);
        h.update(step.as_bytes());
        crate::digest::to_hex(&h.finalize())
    }

    pub fn lookup(&self, store: &Store, key: &str) -> Option<ImageRecord> {
        let id = std::fs::read_to_string(self.dir.join("steps").join(key)).ok()?;
        store
            .find_image(id.trim())
            .ok()
            .filter(|i| i.id == id.trim())
    }

    pub fn record(&self, key: &str, image_id: &str) -> Result<()> {
        let dir = self.dir.join("steps");
        fsutil::create_dir_all(&dir)?;
        fsutil::write_atomic(&dir.join(key), image_id.as_bytes())
    }

    pub fn mark_intermediate(&self, image_id: &str) -> Result<()> {
        let dir = self.dir.join("intermediate");
        fsutil::create_dir_all(&dir)?;
        fsutil::write_atomic(&dir.join(image_id), b"")
    }

    pub fn unmark(&self, image_id: &str) {
        let _ = std::fs::remove_file(self.dir.join("intermediate").join(image_id));
    }

    /// Where RUN --mount=type=cache keeps a cache between builds.
    pub fn mount_dir(&self, id: &str) -> PathBuf {
        self.dir
            .join("mounts")
            .join(crate::digest::Digest::of_bytes(id.as_bytes()).hex())
    }
}

/// True for an image a build made along the way and nobody named.
pub fn is_intermediate(paths: &Paths, image_id: &str) -> bool {
    paths
        .root
        .join("build-cache/intermediate")
        .join(image_id)
        .exists()
}
