//! How the library's diagnostics look on a terminal: podman's (logrus's) line shape,
//! which scripts grep for (`WARN[0000] …`).

use libruntime::log::{Level, Sink};

pub struct PodmanLines;

impl Sink for PodmanLines {
    fn emit(&self, level: Level, msg: &str) {
        let tag = match level {
            Level::Error => "ERRO",
            Level::Warn => "WARN",
            Level::Info => "INFO",
            Level::Debug => "DEBU",
        };
        eprintln!("{tag}[0000] {msg}");
    }
}
