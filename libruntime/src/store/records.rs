//! The records the store keeps: images (in one index file) and layers (one per diff-id).

use crate::digest::Digest;
use serde::{Deserialize, Serialize};

/// A layer as an image refers to it: the blob it was shipped as and what it unpacks to.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LayerRef {
    pub diff_id: Digest,
    /// Uncompressed tar size.
    pub diff_size: u64,
    pub blob: Digest,
    pub blob_size: u64,
    pub media_type: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ImageRecord {
    /// The config digest's hex: podman's and docker's image ID.
    pub id: String,
    pub names: Vec<String>,
    /// Digest of the manifest, which is stored as a blob.
    pub digest: Digest,
    pub config: Digest,
    pub layers: Vec<LayerRef>,
    /// The image's own creation time (from its config), RFC 3339.
    pub created: Option<String>,
    /// Sum of the uncompressed layer sizes.
    pub size: u64,
    /// When this image entered the store, RFC 3339.
    pub added: String,
}

/// What `layers/<diff-id>/layer.json` says of an unpacked layer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LayerRecord {
    #[serde(flatten)]
    pub layer: LayerRef,
    /// Bytes of file content unpacked.
    pub content_size: u64,
    /// The mode the layer gives the image's root directory, when it says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_mode: Option<u32>,
}

/// `images.json`: every image, in insertion order.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ImageIndex {
    pub images: Vec<ImageRecord>,
}
