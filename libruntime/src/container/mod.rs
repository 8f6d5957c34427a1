//! Container records. Each container lives in `containers/<id>/` with its record in
//! `container.json`; the record names the image it was made from, which is what keeps
//! that image from being removed.

use crate::error::Result;
use crate::fsutil;
use crate::paths::Paths;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ContainerRecord {
    pub id: String,
    pub name: String,
    pub image_id: String,
    #[serde(default)]
    pub image_name: String,
    #[serde(default)]
    pub created: String,
}

/// Every container record that can be read; unreadable (half-written) ones are skipped.
pub fn list(paths: &Paths) -> Result<Vec<ContainerRecord>> {
    let Ok(entries) = std::fs::read_dir(paths.containers_dir()) else {
        return Ok(vec![]);
    };
    let mut out = Vec::new();
    for e in entries.flatten() {
        if let Ok(Some(rec)) =
            fsutil::read_json::<ContainerRecord>(&e.path().join("container.json"))
        {
            out.push(rec);
        }
    }
    Ok(out)
}

/// The first container that uses image `image_id`, if any.
pub fn user_of_image(paths: &Paths, image_id: &str) -> Result<Option<ContainerRecord>> {
    Ok(list(paths)?.into_iter().find(|c| c.image_id == image_id))
}
