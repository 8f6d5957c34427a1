//! Layer blobs may be gzip- or zstd-compressed or plain tar; the first bytes tell which.
//! Archives users hand over (ADD, import, load) may also be xz or bzip2, as podman's.

use crate::error::{Error, Result};
use crate::layer::LayerError;
use std::io::{BufRead, BufReader, Read};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
    Xz,
    Bzip2,
}

/// The most memory an xz stream may ask for: a hostile header cannot exhaust the host.
const XZ_MEMORY_LIMIT_KIB: u32 = 256 * 1024;

impl Compression {
    pub fn sniff(head: &[u8]) -> Compression {
        if head.starts_with(&[0x1f, 0x8b]) {
            Compression::Gzip
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Compression::Zstd
        } else if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0x00]) {
            Compression::Xz
        } else if head.starts_with(b"BZh") {
            Compression::Bzip2
        } else {
            Compression::None
        }
    }
}

/// Wraps `r` so that reading yields the uncompressed tar stream.
pub fn decompressed<'a, R: Read + 'a>(r: R) -> Result<(Box<dyn Read + 'a>, Compression)> {
    let mut br = BufReader::with_capacity(256 * 1024, r);
    let head = br
        .fill_buf()
        .map_err(|e| Error::io("reading layer", e))?
        .to_vec();
    match Compression::sniff(&head) {
        Compression::Gzip => Ok((
            Box::new(flate2::bufread::MultiGzDecoder::new(br)),
            Compression::Gzip,
        )),
        Compression::None => Ok((Box::new(br), Compression::None)),
        Compression::Zstd => {
            let d = ruzstd::streaming_decoder::StreamingDecoder::new(br).map_err(|e| {
                Error::Layer(LayerError::InvalidArchive(format!(
                    "reading a zstd layer: {e}"
                )))
            })?;
            Ok((Box::new(d), Compression::Zstd))
        }
        Compression::Xz => Ok((
            Box::new(lzma_rust2::XzReader::new_mem_limit(
                br,
                true,
                XZ_MEMORY_LIMIT_KIB,
            )),
            Compression::Xz,
        )),
        Compression::Bzip2 => Ok((
            Box::new(bzip2::bufread::MultiBzDecoder::new(br)),
            Compression::Bzip2,
        )),
    }
}
