//! Random access into an outer archive (docker-archive, oci-archive): one pass records
//! where each member's data lies, then members are read by seeking.

use crate::error::{Context, Error, Result};
use crate::layer::LayerError;
use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

struct Member {
    offset: u64,
    size: u64,
    /// For symlink and hardlink members: the member they stand for.
    link: Option<String>,
}

pub struct TarIndex {
    path: PathBuf,
    members: HashMap<String, Member>,
}

fn clean(name: &str) -> String {
    name.trim_start_matches("./")
        .trim_start_matches('/')
        .to_string()
}

impl TarIndex {
    pub fn open(path: &Path) -> Result<TarIndex> {
        let f = File::open(path).ctx(|| format!("opening {}", path.display()))?;
        let mut archive = tar::Archive::new(f);
        let mut members = HashMap::new();
        let bad = |e: std::io::Error| {
            Error::Layer(LayerError::InvalidArchive(format!(
                "{}: {e}",
                path.display()
            )))
        };
        for entry in archive.entries_with_seek().map_err(bad)? {
            let entry = entry.map_err(bad)?;
            let name = clean(&String::from_utf8_lossy(&entry.path_bytes()));
            let kind = entry.header().entry_type();
            let link = if kind.is_symlink() || kind.is_hard_link() {
                let target = entry
                    .link_name_bytes()
                    .map(|t| String::from_utf8_lossy(&t).into_owned());
                target.map(|t| resolve_link(&name, &t, kind.is_symlink()))
            } else {
                None
            };
            let size = entry.header().entry_size().map_err(bad)?;
            members.insert(
                name,
                Member {
                    offset: entry.raw_file_position(),
                    size,
                    link,
                },
            );
        }
        let idx = TarIndex {
            path: path.to_path_buf(),
            members,
        };
        idx.check_complete()?;
        Ok(idx)
    }

    /// A truncated archive still lists its members; make sure the last one is whole.
    fn check_complete(&self) -> Result<()> {
        let len = std::fs::metadata(&self.path).map(|m| m.len()).unwrap_or(0);
        let end = self
            .members
            .values()
            .map(|m| m.offset + m.size)
            .max()
            .unwrap_or(0);
        if end > len {
            return Err(Error::Layer(LayerError::InvalidArchive(format!(
                "{} is truncated",
                self.path.display()
            ))));
        }
        Ok(())
    }

    pub fn has(&self, name: &str) -> bool {
        self.members.contains_key(&clean(name))
    }

    fn member(&self, name: &str) -> Result<&Member> {
        let mut name = clean(name);
        for _ in 0..16 {
            let m = self.members.get(&name).ok_or_else(|| {
                Error::Layer(LayerError::InvalidArchive(format!(
                    "archive has no member {name:?}"
                )))
            })?;
            match &m.link {
                Some(target) => name = target.clone(),
                None => return Ok(m),
            }
        }
        Err(Error::Layer(LayerError::InvalidArchive(format!(
            "member {name:?}: too many links"
        ))))
    }

    pub fn size(&self, name: &str) -> Result<u64> {
        Ok(self.member(name)?.size)
    }

    /// A reader over one member's content.
    pub fn open_member(&self, name: &str) -> Result<impl Read> {
        let m = self.member(name)?;
        let mut f = File::open(&self.path).ctx(|| format!("opening {}", self.path.display()))?;
        f.seek(SeekFrom::Start(m.offset))
            .ctx(|| format!("reading {}", self.path.display()))?;
        Ok(f.take(m.size))
    }

    /// A small member read whole (manifests, configs, indexes), at most 32 MiB.
    pub fn read_member(&self, name: &str) -> Result<Vec<u8>> {
        if self.size(name)? > 32 << 20 {
            return Err(Error::Layer(LayerError::InvalidArchive(format!(
                "member {name:?} is too large"
            ))));
        }
        let mut data = Vec::new();
        self.open_member(name)?
            .read_to_end(&mut data)
            .ctx(|| format!("reading {name} from {}", self.path.display()))?;
        Ok(data)
    }
}

/// Symlink targets are relative to the member's directory; hardlink targets are
/// archive paths.
fn resolve_link(name: &str, target: &str, symlink: bool) -> String {
    if !symlink || target.starts_with('/') {
        return clean(target);
    }
    let mut parts: Vec<&str> = name.split('/').collect();
    parts.pop();
    for c in target.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    parts.join("/")
}
