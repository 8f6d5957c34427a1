//! Image archives in and out: docker-archive (`docker save`) and oci-archive (an OCI
//! image layout in a tar), as podman, skopeo and docker write and read them.

pub mod docker;
pub mod oci;
pub mod tar_index;
mod writer;

use crate::error::{Context, Error, Result};
use crate::layer::LayerError;
use crate::layer::{Compression, ExtractOptions};
use crate::registry::RegistryError;
use crate::store::{ImageRecord, Store};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use tar_index::TarIndex;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    DockerArchive,
    OciArchive,
}

impl Format {
    pub fn parse(s: &str) -> Result<Format> {
        match s {
            "docker-archive" => Ok(Format::DockerArchive),
            "oci-archive" => Ok(Format::OciArchive),
            other => Err(Error::InvalidArgument(format!(
                "unsupported format {other:?}: use docker-archive or oci-archive"
            ))),
        }
    }
}

/// An image about to be written into an archive, with the names it goes under.
pub struct SaveItem {
    pub image: ImageRecord,
    pub names: Vec<String>,
}

/// Loads every image in the archive at `path` (either format, gzip or not). On error
/// the store keeps no part of what was read.
pub fn load(store: &Store, path: &Path, opts: ExtractOptions) -> Result<Vec<ImageRecord>> {
    let plain = plain_tar(store, path)?;
    let result = (|| {
        let idx = TarIndex::open(plain.path())?;
        if idx.has("manifest.json") {
            docker::load(store, &idx, opts)
        } else if idx.has("index.json") {
            oci::load(store, &idx, opts)
        } else {
            Err(Error::Layer(LayerError::InvalidArchive(
                "neither a docker-archive (no manifest.json) nor an oci-archive (no index.json)"
                    .into(),
            )))
        }
    })()
    .map_err(|e| match e {
        // podman's words for input that is no image archive at all; scripts match them.
        Error::Layer(LayerError::InvalidArchive(why)) => {
            Error::Layer(LayerError::UnknownImageFormat(why))
        }
        e => e,
    });
    match &result {
        Ok(images) => {
            for i in images {
                let name = i.names.first().cloned().unwrap_or_default();
                let e = crate::events::Event::new(
                    crate::events::EventType::Image,
                    crate::events::EventStatus::Load,
                );
                crate::events::emit(&store.paths, &e.id(&i.id).name(&name));
            }
        }
        Err(_) => store.discard_unreferenced()?,
    }
    result
}

/// The archive as a seekable plain tar: the file itself, or a decompressed copy.
enum PlainTar {
    Original(PathBuf),
    Temp(PathBuf),
}

impl PlainTar {
    fn path(&self) -> &Path {
        match self {
            PlainTar::Original(p) | PlainTar::Temp(p) => p,
        }
    }
}

impl Drop for PlainTar {
    fn drop(&mut self) {
        if let PlainTar::Temp(p) = self {
            let _ = std::fs::remove_file(p);
        }
    }
}

fn plain_tar(store: &Store, path: &Path) -> Result<PlainTar> {
    if path.is_dir() {
        return layout_as_tar(store, path);
    }
    let f = std::fs::File::open(path).ctx(|| format!("opening {}", path.display()))?;
    let mut br = BufReader::new(f);
    let head = br
        .fill_buf()
        .ctx(|| format!("reading {}", path.display()))?
        .to_vec();
    if head.is_empty() {
        return Err(Error::Layer(LayerError::InvalidArchive(format!(
            "{} is empty",
            path.display()
        ))));
    }
    if Compression::sniff(&head) == Compression::None {
        return Ok(PlainTar::Original(path.to_path_buf()));
    }
    let (mut r, _) = crate::layer::decompressed(br)?;
    let tmp = store.staging_path("archive");
    let out = PlainTar::Temp(tmp.clone());
    let mut w = std::fs::File::create(&tmp).ctx(|| format!("creating {}", tmp.display()))?;
    std::io::copy(&mut r, &mut w).map_err(|e| {
        Error::Layer(LayerError::InvalidArchive(format!(
            "decompressing {}: {e}",
            path.display()
        )))
    })?;
    Ok(out)
}

/// An OCI layout directory (`oci:DIR`) packed into a staging tar, which is then read
/// like an oci-archive. Links are stored as links, never followed out of the directory.
fn layout_as_tar(store: &Store, dir: &Path) -> Result<PlainTar> {
    let tmp = store.staging_path("layout");
    let out = PlainTar::Temp(tmp.clone());
    let f = std::fs::File::create(&tmp).ctx(|| format!("creating {}", tmp.display()))?;
    let mut b = tar::Builder::new(f);
    b.follow_symlinks(false);
    b.append_dir_all(".", dir)
        .and_then(|_| b.finish())
        .map_err(|e| {
            Error::Layer(LayerError::InvalidArchive(format!(
                "reading the layout {}: {e}",
                dir.display()
            )))
        })?;
    Ok(out)
}

/// Copies stdin to a staging file so that it can be read like any archive file.
pub fn spool(store: &Store, src: &mut dyn Read) -> Result<SpooledFile> {
    let tmp = store.staging_path("spool");
    let mut f = std::fs::File::create(&tmp).ctx(|| format!("creating {}", tmp.display()))?;
    let guard = SpooledFile(tmp);
    std::io::copy(src, &mut f).ctx(|| "reading standard input".into())?;
    Ok(guard)
}

/// True for an archive given as an http:// or https:// address.
pub fn is_url(s: &str) -> bool {
    s.starts_with("http://") || s.starts_with("https://")
}

/// Downloads `url` to a staging file, for `load -i URL` and `import URL`.
pub fn download(store: &Store, url: &str) -> Result<SpooledFile> {
    let answer = ureq::get(url).call().map_err(|e| {
        Error::Registry(RegistryError::Download {
            url: url.to_string(),
            reason: e.to_string(),
        })
    })?;
    spool(store, &mut answer.into_reader())
}

/// A staging file removed when dropped.
pub struct SpooledFile(PathBuf);

impl SpooledFile {
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for SpooledFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

pub use writer::save;
