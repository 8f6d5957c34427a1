//! Content-addressed blobs under `blobs/sha256/<hex>`, verified on the way in.

use super::{staging, Store};
use crate::digest::DigestError;
use crate::digest::{Digest, HashingWriter};
use crate::error::{Context, Error, Result};
use crate::layer::LayerError;
use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::path::PathBuf;

impl Store {
    pub fn blob_path(&self, d: &Digest) -> PathBuf {
        self.paths.blobs_dir().join(d.hex())
    }

    pub fn has_blob(&self, d: &Digest) -> bool {
        self.blob_path(d).exists()
    }

    pub fn read_blob(&self, d: &Digest) -> Result<Vec<u8>> {
        std::fs::read(self.blob_path(d)).ctx(|| format!("reading blob {d}"))
    }

    pub fn open_blob(&self, d: &Digest) -> Result<File> {
        File::open(self.blob_path(d)).ctx(|| format!("opening blob {d}"))
    }

    /// Moves a file already verified to hold `d` (a finished download in the staging
    /// area, on the same file system) into the store, unless the blob is there.
    pub fn adopt_blob(&self, file: &std::path::Path, d: &Digest) -> Result<()> {
        self.assert_locked();
        if self.has_blob(d) {
            return Ok(());
        }
        crate::fsutil::create_dir_all(&self.paths.blobs_dir())?;
        std::fs::rename(file, self.blob_path(d)).ctx(|| format!("storing blob {d}"))
    }

    /// Stores a small blob held in memory (configs, manifests).
    pub fn put_blob_bytes(&self, data: &[u8], expected: Option<&Digest>) -> Result<Digest> {
        let (d, _) = self.put_blob(&mut &data[..], expected, "blob")?;
        Ok(d)
    }

    /// Streams `src` into the store. With `expected`, a digest mismatch is an error and
    /// nothing is stored. Returns the digest and size.
    pub fn put_blob(
        &self,
        src: &mut dyn Read,
        expected: Option<&Digest>,
        what: &str,
    ) -> Result<(Digest, u64)> {
        self.assert_locked();
        let tmp = staging::path(&self.paths.tmp_dir(), "blob");
        let result = (|| {
            let f = File::create(&tmp).ctx(|| format!("creating {}", tmp.display()))?;
            let mut w = HashingWriter::new(BufWriter::with_capacity(256 * 1024, f));
            io::copy(src, &mut w).map_err(|e| {
                Error::Layer(LayerError::InvalidArchive(format!("reading {what}: {e}")))
            })?;
            let (buf, digest, size) = w.finish();
            buf.into_inner()
                .map_err(|e| e.into_error())
                .and_then(|mut f| f.flush())
                .ctx(|| format!("writing {}", tmp.display()))?;
            if let Some(exp) = expected {
                if *exp != digest {
                    return Err(Error::Digest(DigestError::Mismatch {
                        what: what.to_string(),
                        expected: exp.to_string(),
                        actual: digest.to_string(),
                    }));
                }
            }
            std::fs::rename(&tmp, self.blob_path(&digest))
                .ctx(|| format!("storing blob {digest}"))?;
            Ok((digest, size))
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result
    }
}
