//! Diagnostics to stderr, filtered by `--log-level`. The library reports through here
//! so that the CLI decides what a user sees.

use std::sync::atomic::{AtomicU8, Ordering};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Error = 0,
    Warn = 1,
    Info = 2,
    Debug = 3,
}

static LEVEL: AtomicU8 = AtomicU8::new(Level::Warn as u8);

pub fn set_level(l: Level) {
    LEVEL.store(l as u8, Ordering::Relaxed);
}

pub fn parse_level(s: &str) -> Option<Level> {
    Some(match s {
        "error" | "fatal" | "panic" => Level::Error,
        "warn" | "warning" => Level::Warn,
        "info" => Level::Info,
        "debug" | "trace" => Level::Debug,
        _ => return None,
    })
}

fn enabled(l: Level) -> bool {
    l as u8 <= LEVEL.load(Ordering::Relaxed)
}

pub fn warn(msg: &str) {
    if enabled(Level::Warn) {
        eprintln!("WARN[0000] {msg}");
    }
}

pub fn info(msg: &str) {
    if enabled(Level::Info) {
        eprintln!("INFO[0000] {msg}");
    }
}

pub fn debug(msg: &str) {
    if enabled(Level::Debug) {
        eprintln!("DEBU[0000] {msg}");
    }
}

pub fn error(msg: &str) {
    eprintln!("ERRO[0000] {msg}");
}
