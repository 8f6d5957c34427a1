//! The merged view of a stack of overlay-form layers, without mounting anything: what
//! a path is in the image, and what a directory lists, honouring whiteouts and opaque
//! directories. `diff` compares containers against it.

use std::collections::BTreeSet;
use std::fs::Metadata;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

/// Xattrs that mark a directory opaque: the kernel's (trusted for root, user with
/// `userxattr`) and fuse-overlayfs's own.
pub const OPAQUE_XATTRS: [&str; 3] = [
    "user.overlay.opaque",
    "trusted.overlay.opaque",
    "user.fuseoverlayfs.opaque",
];
/// The marker files OCI layers (and fuse-overlayfs without mknod) use instead.
pub const WHITEOUT_PREFIX: &str = ".wh.";
pub const OPAQUE_MARKER: &str = ".wh..wh..opq";

/// Bookkeeping entries, not files: the opaque marker, and the `.wh..opq` whiteout
/// fuse-overlayfs puts beside it.
pub fn is_marker(name: &str) -> bool {
    name == OPAQUE_MARKER || name == ".wh..opq"
}

pub fn is_whiteout(m: &Metadata) -> bool {
    m.file_type().is_char_device() && m.rdev() == 0
}

pub fn is_opaque(dir: &Path) -> bool {
    OPAQUE_XATTRS
        .iter()
        .any(|x| matches!(xattr::get(dir, x), Ok(Some(v)) if v.as_slice() == b"y"))
        || dir.join(OPAQUE_MARKER).exists()
}

/// What one layer says about a path.
enum InLayer {
    /// The path is here.
    Found(PathBuf, Metadata),
    /// Deleted here (whiteout) or shadowed by a non-directory parent.
    Hidden,
    /// Not here; `opaque` when a parent here hides the layers below.
    Absent { opaque: bool },
}

fn look(layer: &Path, comps: &[&str]) -> InLayer {
    let mut cur = layer.to_path_buf();
    let mut opaque = false;
    for (i, c) in comps.iter().enumerate() {
        cur.push(c);
        let m = match std::fs::symlink_metadata(&cur) {
            Ok(m) => m,
            Err(_) => {
                let marker = cur.with_file_name(format!("{WHITEOUT_PREFIX}{c}"));
                if marker.symlink_metadata().is_ok() {
                    return InLayer::Hidden;
                }
                return InLayer::Absent { opaque };
            }
        };
        if is_whiteout(&m) {
            return InLayer::Hidden;
        }
        if i + 1 == comps.len() {
            return InLayer::Found(cur, m);
        }
        if !m.is_dir() {
            return InLayer::Hidden;
        }
        opaque |= is_opaque(&cur);
    }
    // Only reached for an empty path, which callers handle themselves.
    InLayer::Absent { opaque }
}

pub struct LowerView {
    /// Layer directories, top first.
    layers: Vec<PathBuf>,
}

fn components(rel: &str) -> Vec<&str> {
    rel.split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .collect()
}

impl LowerView {
    pub fn new(layers: Vec<PathBuf>) -> LowerView {
        LowerView { layers }
    }

    /// The file that `rel` (relative to the image root) is in the image, if any.
    pub fn find(&self, rel: &str) -> Option<(PathBuf, Metadata)> {
        let comps = components(rel);
        if comps.is_empty() {
            let top = self.layers.first()?;
            return top.metadata().ok().map(|m| (top.clone(), m));
        }
        for layer in &self.layers {
            match look(layer, &comps) {
                InLayer::Found(p, m) => return Some((p, m)),
                InLayer::Hidden => return None,
                InLayer::Absent { opaque: true } => return None,
                InLayer::Absent { opaque: false } => {}
            }
        }
        None
    }

    /// The names a directory of the image lists.
    pub fn list(&self, rel: &str) -> BTreeSet<String> {
        let comps = components(rel);
        let mut names = BTreeSet::new();
        let mut hidden = BTreeSet::new();
        for layer in &self.layers {
            let (dir, stop) = if comps.is_empty() {
                (layer.clone(), false)
            } else {
                match look(layer, &comps) {
                    InLayer::Found(p, m) if m.is_dir() => {
                        let opaque = is_opaque(&p);
                        (p, opaque)
                    }
                    InLayer::Found(..) | InLayer::Hidden => break,
                    InLayer::Absent { opaque } => {
                        if opaque {
                            break;
                        }
                        continue;
                    }
                }
            };
            for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if is_marker(&name) {
                    continue;
                }
                if let Some(target) = name.strip_prefix(WHITEOUT_PREFIX) {
                    hidden.insert(target.to_string());
                    continue;
                }
                let whiteout = e.metadata().map(|m| is_whiteout(&m)).unwrap_or(false);
                if whiteout {
                    hidden.insert(name);
                } else if !hidden.contains(&name) {
                    names.insert(name);
                }
            }
            if stop {
                break;
            }
        }
        names
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn whiteout(p: &Path) {
        nix::sys::stat::mknod(
            p,
            nix::sys::stat::SFlag::S_IFCHR,
            nix::sys::stat::Mode::empty(),
            0,
        )
        .unwrap();
    }

    #[test]
    fn whiteouts_and_opaque_dirs_hide_lower_layers() {
        let t = tempfile::tempdir().unwrap();
        let (l1, l2) = (t.path().join("l1"), t.path().join("l2"));
        for d in ["a", "b/c", "o"] {
            std::fs::create_dir_all(l1.join(d)).unwrap();
        }
        std::fs::write(l1.join("a/x"), "1").unwrap();
        std::fs::write(l1.join("o/old"), "1").unwrap();
        std::fs::create_dir_all(l2.join("o")).unwrap();
        std::fs::write(l2.join("o/new"), "2").unwrap();
        std::fs::write(l2.join("o").join(OPAQUE_MARKER), "").unwrap();
        std::fs::create_dir_all(l2.join("a")).unwrap();
        std::fs::write(l2.join("a").join(".wh.x"), "").unwrap();
        let view = LowerView::new(vec![l2.clone(), l1.clone()]);
        assert!(view.find("a/x").is_none());
        assert!(view.find("o/old").is_none());
        assert!(view.find("o/new").is_some());
        assert!(view.find("b/c").is_some());
        assert_eq!(view.list("o").into_iter().collect::<Vec<_>>(), vec!["new"]);
        assert!(view.list("a").is_empty());
        let root: Vec<_> = view.list("").into_iter().collect();
        assert_eq!(root, vec!["a", "b", "o"]);
        if nix::unistd::geteuid().is_root() {
            whiteout(&l2.join("b"));
            assert!(view.find("b/c").is_none());
        }
    }
}
