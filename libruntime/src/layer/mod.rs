//! Layer tarballs: safe extraction with whiteouts turned into the overlay form, and
//! compression detection.

mod error;
pub use error::LayerError;
pub mod beneath;
pub mod compression;
pub mod extract;
pub mod pack;

pub use compression::{decompressed, Compression};
pub use extract::{extract, ExtractOptions, ExtractStats};

/// The xattr that marks a directory opaque. skiff mounts overlay with `userxattr` in
/// both modes, so one on-disk form serves root and rootless stores alike.
pub const OPAQUE_XATTR: &str = "user.overlay.opaque";
