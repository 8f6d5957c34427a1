//! Layer blobs may be gzip- or zstd-compressed or plain tar; the first bytes tell which.

use crate::error::{Error, Result};
use std::io::{BufRead, BufReader, Read};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

impl Compression {
    pub fn sniff(head: &[u8]) -> Compression {
        if head.starts_with(&[0x1f, 0x8b]) {
            Compression::Gzip
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Compression::Zstd
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
            let d = ruzstd::streaming_decoder::StreamingDecoder::new(br)
                .map_err(|e| Error::InvalidArchive(format!("reading a zstd layer: {e}")))?;
            Ok((Box::new(d), Compression::Zstd))
        }
    }
}
