//! The staging area (`tmp/`): things being written are born here and renamed into
//! place when complete. Each name carries its writer's pid, so leftovers of a crashed
//! writer can be told from the work of a live one.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A fresh staging path for `kind` owned by this process.
pub fn path(tmp_dir: &Path, kind: &str) -> PathBuf {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    tmp_dir.join(format!("{kind}-{}-{n}", std::process::id()))
}

/// Removes entries whose writer is gone.
pub fn clean_stale(tmp_dir: &Path) {
    let Ok(entries) = std::fs::read_dir(tmp_dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        // "{kind}-{pid}-{n}": the kind may hold dashes itself.
        let pid = name.rsplit('-').nth(1).and_then(|p| p.parse::<u32>().ok());
        let alive = pid
            .is_some_and(|p| p == std::process::id() || Path::new(&format!("/proc/{p}")).exists());
        if !alive {
            let _ = crate::fsutil::remove_tree(&e.path());
            let _ = std::fs::remove_file(e.path());
        }
    }
}
