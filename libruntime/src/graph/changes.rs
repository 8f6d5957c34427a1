//! What a container changed against its image: the A/C/D list `diff` prints and the
//! layer `commit` stores. With an upper directory the changes are read from it; a vfs
//! copy is compared entry by entry with the image, as docker's naive differ does.
//! A directory holding a change is itself listed as changed, on every driver, so the
//! drivers agree.

use super::lower::{is_marker, is_opaque, is_whiteout, LowerView, WHITEOUT_PREFIX};
use super::RootfsPlan;
use crate::error::{Context, Result};
use std::collections::BTreeSet;
use std::fs::Metadata;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum ChangeKind {
    #[serde(rename = "C")]
    Changed,
    #[serde(rename = "A")]
    Added,
    #[serde(rename = "D")]
    Deleted,
}

impl ChangeKind {
    pub fn letter(self) -> char {
        match self {
            ChangeKind::Changed => 'C',
            ChangeKind::Added => 'A',
            ChangeKind::Deleted => 'D',
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// Absolute inside the container: `/etc/passwd`.
    pub path: String,
    pub kind: ChangeKind,
}

fn join(rel: &str, name: &str) -> String {
    format!("{rel}/{name}")
}

fn sorted_names(dir: &Path) -> Result<Vec<String>> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .ctx(|| format!("reading {}", dir.display()))?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    Ok(names)
}

/// The container's changes, sorted by path. Paths at or below `excluded` (the
/// container's mount points: /proc, /etc/hosts, volumes…) are left out, with any
/// directory that only holds them.
pub fn changes(plan: &RootfsPlan, excluded: &[String]) -> Result<Vec<Change>> {
    let lower = LowerView::new(plan.lower_dirs());
    let mut out = Vec::new();
    if plan.driver.has_upper() {
        from_upper(&plan.upper, "", &lower, &mut out)?;
    } else if super::vfs::is_ready(plan) {
        from_copy(&plan.upper, "", &lower, &mut out)?;
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(filter_mount_points(out, excluded))
}

fn from_upper(upper: &Path, rel: &str, lower: &LowerView, out: &mut Vec<Change>) -> Result<()> {
    let dir = upper.join(rel.trim_start_matches('/'));
    for name in sorted_names(&dir)? {
        if is_marker(&name) {
            continue;
        }
        if let Some(target) = name.strip_prefix(WHITEOUT_PREFIX) {
            out.push(Change {
                path: join(rel, target),
                kind: ChangeKind::Deleted,
            });
            continue;
        }
        let path = join(rel, &name);
        let full = dir.join(&name);
        let m = std::fs::symlink_metadata(&full).ctx(|| full.display().to_string())?;
        if is_whiteout(&m) {
            out.push(Change {
                path,
                kind: ChangeKind::Deleted,
            });
            continue;
        }
        let below = lower.find(&path);
        out.push(Change {
            path: path.clone(),
            kind: if below.is_some() {
                ChangeKind::Changed
            } else {
                ChangeKind::Added
            },
        });
        if !m.is_dir() {
            continue;
        }
        if matches!(&below, Some((_, lm)) if lm.is_dir()) && is_opaque(&full) {
            // An opaque directory hides all it had in the image: those entries are gone.
            let here: BTreeSet<String> = sorted_names(&full)?.into_iter().collect();
            for gone in lower.list(&path).difference(&here) {
                out.push(Change {
                    path: join(&path, gone),
                    kind: ChangeKind::Deleted,
                });
            }
        }
        from_upper(upper, &path, lower, out)?;
    }
    Ok(())
}

/// Compares a full copy with the image; true when anything at or below `rel` changed.
fn from_copy(root: &Path, rel: &str, lower: &LowerView, out: &mut Vec<Change>) -> Result<bool> {
    let dir = root.join(rel.trim_start_matches('/'));
    let names = sorted_names(&dir)?;
    let mut changed = false;
    for name in &names {
        let path = join(rel, name);
        let full = dir.join(name);
        let m = std::fs::symlink_metadata(&full).ctx(|| full.display().to_string())?;
        match lower.find(&path) {
            None => {
                changed = true;
                all_added(root, &path, &m, out)?;
            }
            Some((lp, lm)) => {
                let below = m.is_dir() && lm.is_dir() && from_copy(root, &path, lower, out)?;
                if below || differs(&full, &m, &lp, &lm) {
                    changed = true;
                    out.push(Change {
                        path,
                        kind: ChangeKind::Changed,
                    });
                }
            }
        }
    }
    let here: BTreeSet<String> = names.into_iter().collect();
    for gone in lower.list(rel).difference(&here) {
        changed = true;
        out.push(Change {
            path: join(rel, gone),
            kind: ChangeKind::Deleted,
        });
    }
    Ok(changed)
}

fn all_added(root: &Path, path: &str, m: &Metadata, out: &mut Vec<Change>) -> Result<()> {
    out.push(Change {
        path: path.to_string(),
        kind: ChangeKind::Added,
    });
    if m.is_dir() {
        let dir = root.join(path.trim_start_matches('/'));
        for name in sorted_names(&dir)? {
            let child = dir.join(&name);
            let cm = std::fs::symlink_metadata(&child).ctx(|| child.display().to_string())?;
            all_added(root, &join(path, &name), &cm, out)?;
        }
    }
    Ok(())
}

/// Whether a file differs from the image's: type, owner, mode, times, size, device,
/// link target or file capabilities.
fn differs(a: &Path, am: &Metadata, b: &Path, bm: &Metadata) -> bool {
    if am.file_type() != bm.file_type()
        || am.mode() != bm.mode()
        || am.uid() != bm.uid()
        || am.gid() != bm.gid()
        || am.mtime() != bm.mtime()
        || am.mtime_nsec() != bm.mtime_nsec()
    {
        return true;
    }
    if am.is_dir() {
        return false;
    }
    if am.len() != bm.len() || am.rdev() != bm.rdev() {
        return true;
    }
    if am.file_type().is_symlink() {
        return std::fs::read_link(a).ok() != std::fs::read_link(b).ok();
    }
    let cap = |p: &Path| xattr::get(p, "security.capability").ok().flatten();
    cap(a) != cap(b)
}

fn below_or_at(path: &str, mount: &str) -> bool {
    path == mount || path.strip_prefix(mount).is_some_and(|r| r.starts_with('/'))
}

/// Drops the mount points and what lies below them, then the directories left listed
/// only because they held a mount point.
fn filter_mount_points(changes: Vec<Change>, excluded: &[String]) -> Vec<Change> {
    let is_excluded = |p: &str| excluded.iter().any(|m| below_or_at(p, m));
    let kept: Vec<Change> = changes
        .iter()
        .filter(|c| !is_excluded(&c.path))
        .cloned()
        .collect();
    let held_mount = |dir: &str| excluded.iter().any(|m| below_or_at(m, dir) && m != dir);
    let has_other_child = |dir: &str, all: &[Change]| {
        all.iter()
            .any(|c| c.path != dir && below_or_at(&c.path, dir))
    };
    // Deepest first, so a directory that held only directories holding mount points
    // (/run for /run/secrets/x) goes too.
    let mut kept = kept;
    loop {
        let before = kept.len();
        let next: Vec<Change> = kept
            .iter()
            .filter(|c| {
                !(c.kind != ChangeKind::Deleted
                    && held_mount(&c.path)
                    && !has_other_child(&c.path, &kept))
            })
            .cloned()
            .collect();
        kept = next;
        if kept.len() == before {
            return kept;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(path: &str, kind: ChangeKind) -> Change {
        Change {
            path: path.into(),
            kind,
        }
    }

    #[test]
    fn mount_points_and_their_parents_are_not_changes() {
        let all = vec![
            c("/etc", ChangeKind::Changed),
            c("/etc/hosts", ChangeKind::Added),
            c("/proc", ChangeKind::Added),
            c("/tmp", ChangeKind::Changed),
            c("/tmp/x", ChangeKind::Added),
            c("/vol", ChangeKind::Added),
            c("/vol/data", ChangeKind::Added),
            // Directories made only to hold a deeper mount point go too.
            c("/run", ChangeKind::Added),
            c("/run/secrets", ChangeKind::Added),
            c("/run/secrets/pw", ChangeKind::Added),
        ];
        let excluded = vec![
            "/etc/hosts".to_string(),
            "/proc".into(),
            "/vol".into(),
            "/run/secrets/pw".into(),
        ];
        let kept = filter_mount_points(all, &excluded);
        assert_eq!(
            kept,
            vec![
                c("/tmp", ChangeKind::Changed),
                c("/tmp/x", ChangeKind::Added)
            ]
        );
    }
}
