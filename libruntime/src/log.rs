//! Diagnostics, filtered by `--log-level`, handed to the sink the caller installed. The
//! library reports through here so that the caller decides what a user sees.

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

/// Where the library's diagnostics go. The library never writes to a terminal itself:
/// the caller installs a sink (the CLI formats lines as podman does; a controller or
/// API server may collect them), else they go to standard error plainly.
pub trait Sink: Send + Sync {
    fn emit(&self, level: Level, msg: &str);
}

static SINK: std::sync::OnceLock<Box<dyn Sink>> = std::sync::OnceLock::new();

/// Installs the sink for this process; the first one installed stays.
pub fn set_sink(sink: Box<dyn Sink>) {
    let _ = SINK.set(sink);
}

fn emit(level: Level, msg: &str) {
    match SINK.get() {
        Some(s) => s.emit(level, msg),
        None => eprintln!("{}: {msg}", level.name()),
    }
}

impl Level {
    pub fn name(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warn => "warning",
            Level::Info => "info",
            Level::Debug => "debug",
        }
    }
}

pub fn warn(msg: &str) {
    if enabled(Level::Warn) {
        emit(Level::Warn, msg);
    }
}

pub fn info(msg: &str) {
    if enabled(Level::Info) {
        emit(Level::Info, msg);
    }
}

pub fn debug(msg: &str) {
    if enabled(Level::Debug) {
        emit(Level::Debug, msg);
    }
}

pub fn error(msg: &str) {
    emit(Level::Error, msg);
}
