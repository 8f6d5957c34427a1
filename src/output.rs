//! Printing records the podman way: a default table, a Go template, or JSON.

use crate::table;
use crate::template::Template;
use anyhow::Result;
use serde_json::Value;
use std::io::Write;

/// Prints `rows` through `format` (a Go template, possibly `table …`), or through
/// `default_table` when no format was given. `headers` maps field names to titles.
pub fn print_rows(
    format: Option<&str>,
    default_table: &str,
    headers: &[(&str, &str)],
    rows: &[Value],
) -> Result<()> {
    print_table(format, default_table, headers, rows, true)
}

/// As `print_rows`; `heading` false leaves out a table's header line (`--noheading`)
/// and keeps its columns aligned.
pub fn print_table(
    format: Option<&str>,
    default_table: &str,
    headers: &[(&str, &str)],
    rows: &[Value],
    heading: bool,
) -> Result<()> {
    let t = Template::parse(format.unwrap_or(default_table))?;
    let mut lines = Vec::with_capacity(rows.len() + 1);
    if t.table && heading {
        lines.push(t.header(headers));
    }
    for r in rows {
        lines.push(t.render(r)?);
    }
    let text = if t.table {
        table::align(&lines)
    } else {
        lines.iter().map(|l| format!("{l}\n")).collect()
    };
    write_out(&text)
}

/// How an `ls` prints: the `key` field alone with `-q`, JSON, or a table.
pub struct Listing<'a> {
    pub quiet: bool,
    /// Leave out the table's header line.
    pub noheading: bool,
    pub key: &'a str,
    pub format: Option<&'a str>,
    pub default_table: &'a str,
    pub headers: &'a [(&'a str, &'a str)],
}

pub fn print_listing(l: &Listing, rows: Vec<Value>) -> Result<()> {
    if l.quiet {
        let text: String = rows
            .iter()
            .map(|r| format!("{}\n", r[l.key].as_str().unwrap_or("")))
            .collect();
        write_out(&text)
    } else if is_json(l.format) {
        print_json(&Value::Array(rows))
    } else {
        print_table(l.format, l.default_table, l.headers, &rows, !l.noheading)
    }
}

/// Pretty JSON with podman's four-space indent.
pub fn print_json(v: &Value) -> Result<()> {
    let mut buf = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
    serde::Serialize::serialize(v, &mut ser)?;
    buf.push(b'\n');
    write_out(&String::from_utf8_lossy(&buf))
}

static NOOUT: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// `--noout`: what commands print on stdout is dropped (errors still go to stderr).
pub fn set_noout(on: bool) {
    NOOUT.store(on, std::sync::atomic::Ordering::Relaxed);
}

/// Writes to stdout; a closed pipe (`| head`) is not an error worth a message.
pub fn write_out(text: &str) -> Result<()> {
    if NOOUT.load(std::sync::atomic::Ordering::Relaxed) {
        return Ok(());
    }
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        r => Ok(r?),
    }
}

/// Whether `format` asks for JSON rather than a template.
pub fn is_json(format: Option<&str>) -> bool {
    matches!(format, Some("json"))
}
