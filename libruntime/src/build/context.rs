//! The build context: a directory, or an archive (a file or standard input) unpacked
//! into the store's staging area, with its ignore file applied. Sources of COPY and
//! ADD are found here, hashed for the cache, and packed for the container.

use super::ignore::Ignore;
use crate::error::{Error, Result};
use sha2::{Digest, Sha256};
use std::io::Read;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

pub struct Context {
    pub root: PathBuf,
    ignore: Ignore,
    /// Unpacked from an archive: removed with the context.
    temporary: bool,
}

impl Drop for Context {
    fn drop(&mut self) {
        if self.temporary {
            let _ = crate::fsutil::remove_tree(&self.root);
        }
    }
}

/// One file or directory of the context that a COPY names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// Relative to the context root, cleaned ("" for the root itself).
    pub rel: String,
    pub is_dir: bool,
}

impl Context {
    /// A directory context; `ignore_file` is read when it exists.
    pub fn from_dir(root: &Path, ignore_files: &[PathBuf]) -> Result<Context> {
        let meta = std::fs::metadata(root).map_err(|e| {
            Error::InvalidArgument(format!("build context {}: {e}", root.display()))
        })?;
        if !meta.is_dir() {
            return Err(Error::InvalidArgument(format!(
                "build context {} is not a directory",
                root.display()
            )));
        }
        let ignore = ignore_files
            .iter()
            .find_map(|f| std::fs::read_to_string(f).ok())
            .map(|t| Ignore::parse(&t))
            .unwrap_or_default();
        Ok(Context {
            root: root.to_path_buf(),
            ignore,
            temporary: false,
        })
    }

    /// Unpacks a (possibly compressed) tar archive into `dir`, refusing entries that
    /// would land outside it, and uses it as the context.
    pub fn from_archive(input: &mut dyn Read, dir: &Path) -> Result<Context> {
        crate::fsutil::create_dir_all(dir)?;
        let unpacked = (|| {
            let (reader, _) = crate::layer::compression::decompressed(input)?;
            crate::layer::extract::extract(
                reader,
                dir,
                crate::layer::ExtractOptions {
                    ignore_chown_errors: true,
                    plain: true,
                },
            )
        })();
        if let Err(e) = unpacked {
            let _ = crate::fsutil::remove_tree(dir);
            return Err(e);
        }
        let mut c = Context::from_dir(
            dir,
            &[dir.join(".containerignore"), dir.join(".dockerignore")],
        )?;
        c.temporary = true;
        Ok(c)
    }

    pub fn excluded(&self, rel: &str) -> bool {
        self.ignore.excluded(rel)
    }

    /// The sources a COPY argument names: a path or a wildcard pattern, relative to
    /// the context (a leading / or .. cannot leave it).
    pub fn sources(&self, pattern: &str) -> Result<Vec<Source>> {
        let parts: Vec<&str> = pattern
            .split('/')
            .filter(|p| !p.is_empty() && *p != ".")
            .collect();
        let mut found: Vec<String> = vec![String::new()];
        for part in parts {
            let mut next = Vec::new();
            for base in &found {
                if part == ".." {
                    next.push(
                        base.rsplit_once('/')
                            .map(|(a, _)| a.to_string())
                            .unwrap_or_default(),
                    );
                    continue;
                }
                let wild = part.contains(['*', '?', '[']);
                if !wild {
                    next.push(join(base, part));
                    continue;
                }
                for n in sorted_names(&self.root.join(base)) {
                    if super::ignore::fnmatch(part.as_bytes(), n.as_bytes()) {
                        next.push(join(base, &n));
                    }
                }
            }
            found = next;
        }
        let mut out = Vec::new();
        for rel in found {
            if !rel.is_empty() && self.excluded(&rel) {
                continue;
            }
            if let Ok(m) = std::fs::symlink_metadata(self.root.join(&rel)) {
                out.push(Source {
                    is_dir: m.is_dir(),
                    rel,
                });
            }
        }
        if out.is_empty() {
            return Err(Error::InvalidArgument(format!(
                "{pattern}: no such file or directory in the build context"
            )));
        }
        Ok(out)
    }

    /// Everything under `rel` (itself first) that the ignore file keeps, in name order.
    pub fn walk(&self, rel: &str) -> Vec<String> {
        let mut out = Vec::new();
        self.walk_into(rel, &mut out);
        out
    }

    fn walk_into(&self, rel: &str, out: &mut Vec<String>) {
        let path = self.root.join(rel);
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            return;
        };
        let excluded = !rel.is_empty() && self.excluded(rel);
        if !excluded {
            out.push(rel.to_string());
        }
        if meta.is_dir() && (!excluded || self.ignore.may_reinclude_under(rel)) {
            for n in sorted_names(&path) {
                self.walk_into(&join(rel, &n), out);
            }
        }
    }

    /// A digest of the content under the sources: names, types, modes, link targets
    /// and file contents (not times or owners), as the cache keys a COPY.
    pub fn digest(&self, sources: &[Source]) -> Result<String> {
        let mut h = Sha256::new();
        for s in sources {
            for rel in self.walk(&s.rel) {
                let path = self.root.join(&rel);
                let meta = std::fs::symlink_metadata(&path)
                    .map_err(|e| Error::io(format!("reading {rel}"), e))?;
                h.update(rel.as_bytes());
                h.update([0]);
                h.update(meta.permissions().mode().to_le_bytes());
                if meta.file_type().is_symlink() {
                    let t = std::fs::read_link(&path)
                        .map_err(|e| Error::io(format!("reading {rel}"), e))?;
                    h.update(t.as_os_str().as_encoded_bytes());
                } else if meta.is_file() {
                    let mut f = std::fs::File::open(&path)
                        .map_err(|e| Error::io(format!("reading {rel}"), e))?;
                    let mut fh = Sha256::new();
                    std::io::copy(&mut f, &mut fh)
                        .map_err(|e| Error::io(format!("reading {rel}"), e))?;
                    h.update(fh.finalize());
                }
                h.update(meta.size().to_le_bytes());
            }
        }
        Ok(crate::digest::to_hex(&h.finalize()))
    }
}

/// A directory's entries by name; none when it cannot be read.
fn sorted_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|r| {
            r.flatten()
                .filter_map(|e| e.file_name().into_string().ok())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

fn join(base: &str, name: &str) -> String {
    if base.is_empty() {
        name.to_string()
    } else {
        format!("{base}/{name}")
    }
}
