//! Which repositories a blob is known to live in (`blob-sources/<hex>`, one
//! `host/repository` a line), so that a push can ask the registry to mount a blob from
//! another repository instead of uploading it again.

use crate::digest::Digest;
use crate::paths::Paths;
use std::path::PathBuf;

fn file(paths: &Paths, d: &Digest) -> PathBuf {
    paths.root.join("blob-sources").join(d.hex())
}

pub fn of(paths: &Paths, d: &Digest) -> Vec<String> {
    std::fs::read_to_string(file(paths, d))
        .map(|s| s.lines().map(String::from).collect())
        .unwrap_or_default()
}

/// Best effort: a missing record only costs an upload later.
pub fn record(paths: &Paths, d: &Digest, repo: &str) {
    let mut known = of(paths, d);
    if known.iter().any(|k| k == repo) {
        return;
    }
    known.push(repo.to_string());
    let f = file(paths, d);
    if let Some(dir) = f.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let _ = crate::fsutil::write_atomic(&f, (known.join("\n") + "\n").as_bytes());
}
