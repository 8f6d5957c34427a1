//! The container log in podman's k8s-file format: one line per record,
//! `<RFC 3339 time with nanoseconds> <stdout|stderr> <F|P> <text>`, where P marks a
//! partial line that the next record continues. Times are written in UTC.

use chrono::{DateTime, FixedOffset};
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;

pub struct LogWriter {
    /// None with the `none` log driver: output is relayed to clients, not kept.
    file: Option<File>,
    /// Past this many bytes the file starts again from empty (`--log-opt max-size`).
    max_size: Option<u64>,
    size: u64,
}

impl LogWriter {
    pub fn open(path: Option<&Path>, max_size: Option<u64>) -> std::io::Result<LogWriter> {
        let file = match path {
            Some(p) => Some(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(p)?,
            ),
            None => None,
        };
        let size = match &file {
            Some(f) => f.metadata()?.len(),
            None => 0,
        };
        Ok(LogWriter {
            file,
            max_size,
            size,
        })
    }

    /// Records `data` read from `stream`: each complete line as F, a tail without a
    /// newline as P.
    pub fn write(&mut self, stream: &str, data: &[u8]) {
        let Some(file) = self.file.as_mut() else {
            return;
        };
        let now = crate::time::log_timestamp();
        let mut out = Vec::with_capacity(data.len() + 64);
        let mut rest = data;
        while !rest.is_empty() {
            let (line, tag, next) = match rest.iter().position(|&b| b == b'\n') {
                Some(i) => (&rest[..i], "F", &rest[i + 1..]),
                None => (rest, "P", &rest[rest.len()..]),
            };
            let record_len = now.len() + stream.len() + line.len() + 5;
            let total = self.size + (out.len() + record_len) as u64;
            if self.max_size.is_some_and(|m| total > m) {
                // As podman's k8s-file driver: the file is emptied (not rotated), and
                // what was waiting to be written would be emptied with it.
                if file.set_len(0).is_ok() {
                    self.size = 0;
                    out.clear();
                }
            }
            out.extend_from_slice(format!("{now} {stream} {tag} ").as_bytes());
            out.extend_from_slice(line);
            out.push(b'\n');
            rest = next;
        }
        if file.write_all(&out).is_ok() {
            self.size += out.len() as u64;
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct LogLine {
    pub time: DateTime<FixedOffset>,
    pub stream: String,
    pub partial: bool,
    pub text: String,
}

pub fn parse_line(line: &str) -> Option<LogLine> {
    let mut parts = line.splitn(4, ' ');
    let time = DateTime::parse_from_rfc3339(parts.next()?).ok()?;
    let stream = parts.next()?.to_string();
    let partial = parts.next()? == "P";
    let text = parts.next().unwrap_or("").to_string();
    Some(LogLine {
        time,
        stream,
        partial,
        text,
    })
}

/// Every parseable line of the log from byte `offset`; returns them and the new offset
/// (only complete lines are consumed, so a follower never sees half a line).
pub fn read_from(path: &Path, offset: u64) -> (Vec<LogLine>, u64) {
    match File::open(path) {
        Ok(f) => read_open(&f, offset),
        Err(_) => (vec![], offset),
    }
}

/// `read_from` on a file already open: a follower that holds it reads what was
/// written even after the container (and its log's name) is removed.
pub fn read_open(file: &File, offset: u64) -> (Vec<LogLine>, u64) {
    use std::io::{Seek, SeekFrom};
    let mut f = file;
    if f.seek(SeekFrom::Start(offset)).is_err() {
        return (vec![], offset);
    }
    let mut reader = BufReader::new(f);
    let mut out = Vec::new();
    let mut pos = offset;
    let mut buf = String::new();
    loop {
        buf.clear();
        match reader.read_line(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) if !buf.ends_with('\n') => {
                let _ = n;
                break;
            }
            Ok(n) => {
                pos += n as u64;
                if let Some(l) = parse_line(buf.trim_end_matches('\n')) {
                    out.push(l);
                }
            }
        }
    }
    (out, pos)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_full_and_partial_lines() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("log");
        let mut w = LogWriter::open(Some(&p), None).unwrap();
        w.write("stdout", b"one\ntwo\nthr");
        w.write("stderr", b"oops\n");
        let (lines, _) = read_from(&p, 0);
        let texts: Vec<_> = lines
            .iter()
            .map(|l| (l.stream.as_str(), l.partial, l.text.as_str()))
            .collect();
        assert_eq!(
            texts,
            vec![
                ("stdout", false, "one"),
                ("stdout", false, "two"),
                ("stdout", true, "thr"),
                ("stderr", false, "oops")
            ]
        );
    }
}
