//! The events log: appending, rotating, reading and following.

use super::{Event, MAX_LOG_BYTES};
use crate::paths::Paths;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Seek, SeekFrom, Write};
use std::path::PathBuf;

fn dir(paths: &Paths) -> PathBuf {
    paths.runroot.join("events")
}

fn current(paths: &Paths) -> PathBuf {
    dir(paths).join("events.log")
}

fn previous(paths: &Paths) -> PathBuf {
    dir(paths).join("events.log.1")
}

/// The log files, oldest first.
fn log_files(paths: &Paths) -> Vec<PathBuf> {
    vec![previous(paths), current(paths)]
}

/// Appends `e` to the log. Best effort: an event that cannot be written must not fail
/// what it reports, so a failure is only a debug message.
pub fn emit(paths: &Paths, e: &Event) {
    if let Err(err) = append(paths, e) {
        crate::log::debug(&format!("writing event: {err}"));
    }
}

fn append(paths: &Paths, e: &Event) -> std::io::Result<()> {
    std::fs::create_dir_all(dir(paths))?;
    let mut line = serde_json::to_vec(e).map_err(std::io::Error::other)?;
    line.push(b'\n');
    let mut f = OpenOptions::new()
        .create(true)
        .append(true)
        .open(current(paths))?;
    // One write per line: O_APPEND keeps concurrent writers' lines whole.
    f.write_all(&line)?;
    if f.metadata()?.len() > MAX_LOG_BYTES {
        rotate(paths)?;
    }
    Ok(())
}

/// Moves the full log aside, once: under the lock, a writer that finds it already
/// moved does nothing.
fn rotate(paths: &Paths) -> std::io::Result<()> {
    let _lock = crate::lock::StoreLock::exclusive(&dir(paths).join("events.lock"))
        .map_err(std::io::Error::other)?;
    if std::fs::metadata(current(paths))?.len() > MAX_LOG_BYTES {
        std::fs::rename(current(paths), previous(paths))?;
    }
    Ok(())
}

fn parse_lines(r: impl BufRead, out: &mut Vec<Event>) {
    for line in r.lines().map_while(Result::ok) {
        // A line cut short by a crash, or from a newer version, is skipped.
        if let Ok(e) = serde_json::from_str(&line) {
            out.push(e);
        }
    }
}

/// Every event still logged, oldest first.
pub fn read_all(paths: &Paths) -> Vec<Event> {
    let mut out = Vec::new();
    for f in log_files(paths) {
        if let Ok(file) = File::open(&f) {
            parse_lines(BufReader::new(file), &mut out);
        }
    }
    out
}

/// Follows the log from its end: new events as they are appended, across rotations.
pub struct Follower {
    path: PathBuf,
    file: Option<File>,
    offset: u64,
    inode: u64,
    partial: String,
}

impl Follower {
    /// Starts at the current end of the log.
    pub fn at_end(paths: &Paths) -> Follower {
        let path = current(paths);
        let mut f = Follower {
            path,
            file: None,
            offset: 0,
            inode: 0,
            partial: String::new(),
        };
        f.reopen(true);
        f
    }

    fn reopen(&mut self, to_end: bool) {
        use std::os::unix::fs::MetadataExt;
        self.file = File::open(&self.path).ok();
        self.partial.clear();
        let meta = self.file.as_ref().and_then(|f| f.metadata().ok());
        self.inode = meta.as_ref().map_or(0, |m| m.ino());
        self.offset = if to_end {
            meta.map_or(0, |m| m.len())
        } else {
            0
        };
    }

    /// Events appended since the last call (the log may have been rotated meanwhile:
    /// what the old file got after our last read is taken first).
    pub fn poll(&mut self) -> Vec<Event> {
        use std::os::unix::fs::MetadataExt;
        let mut out = self.read_more();
        let now = std::fs::metadata(&self.path).ok();
        if now.as_ref().map(|m| m.ino()) != Some(self.inode) {
            self.reopen(false);
            out.extend(self.read_more());
        }
        out
    }

    fn read_more(&mut self) -> Vec<Event> {
        let mut out = Vec::new();
        let Some(f) = self.file.as_mut() else {
            return out;
        };
        if f.seek(SeekFrom::Start(self.offset)).is_err() {
            return out;
        }
        let mut text = String::new();
        if std::io::Read::read_to_string(f, &mut text).is_err() {
            return out;
        }
        self.offset += text.len() as u64;
        self.partial.push_str(&text);
        // Only whole lines: a writer may be in the middle of one.
        if let Some(end) = self.partial.rfind('\n') {
            let whole: String = self.partial.drain(..=end).collect();
            parse_lines(whole.as_bytes(), &mut out);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::super::{EventStatus, EventType};
    use super::*;

    fn paths(dir: &std::path::Path) -> Paths {
        Paths::under(dir)
    }

    #[test]
    fn concurrent_writers_rotate_without_losing_lines_or_growing_without_bound() {
        let d = tempfile::tempdir().unwrap();
        let p = paths(d.path());
        let mut follow = Follower::at_end(&p);
        let per = 2000;
        std::thread::scope(|s| {
            for t in 0..4 {
                let p = &p;
                s.spawn(move || {
                    for i in 0..per {
                        let e = Event::new(EventType::Container, EventStatus::Start)
                            .id(&format!("{t}-{i}"))
                            .attr("pad", "x".repeat(200));
                        emit(p, &e);
                    }
                });
            }
        });
        let size = |f: PathBuf| std::fs::metadata(f).map(|m| m.len()).unwrap_or(0);
        assert!(size(current(&p)) <= MAX_LOG_BYTES + 4096);
        assert!(size(previous(&p)) <= MAX_LOG_BYTES + 4096);
        // Whole lines only, each writer's in its own order.
        let all = read_all(&p);
        assert!(all.len() > 1000);
        for t in 0..4 {
            let mine: Vec<usize> = all
                .iter()
                .filter_map(|e| e.id.strip_prefix(&format!("{t}-")))
                .map(|i| i.parse().unwrap())
                .collect();
            assert!(
                mine.windows(2).all(|w| w[0] < w[1]),
                "writer {t} out of order"
            );
        }
        // The follower, polled only now, still has the newest events.
        let seen = follow.poll();
        assert!(!seen.is_empty());
        let e = Event::new(EventType::Image, EventStatus::Pull).id("late");
        emit(&p, &e);
        assert_eq!(follow.poll().last().map(|e| e.id.as_str()), Some("late"));
    }
}
