//! What pull and push show while they work: a bar per blob on a terminal, a line per
//! blob otherwise, nothing with -q. All of it on stderr; stdout keeps the result.

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use libruntime::registry::Progress;
use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::Mutex;

enum Mode {
    Quiet,
    Lines,
    Bars(MultiProgress),
}

pub struct CliProgress {
    mode: Mode,
    bars: Mutex<HashMap<String, ProgressBar>>,
}

impl CliProgress {
    pub fn new(quiet: bool) -> CliProgress {
        let mode = if quiet {
            Mode::Quiet
        } else if std::io::stderr().is_terminal() {
            Mode::Bars(MultiProgress::with_draw_target(ProgressDrawTarget::stderr()))
        } else {
            Mode::Lines
        };
        CliProgress {
            mode,
            bars: Mutex::new(HashMap::new()),
        }
    }
}

/// "blob sha256:cd15f9…" → "blob cd15f904e843": a bar line must fit a terminal.
fn short(id: &str) -> String {
    match id.split_once(" sha256:") {
        Some((kind, hex)) => format!("{kind} {}", &hex[..hex.len().min(12)]),
        None => id.to_string(),
    }
}

fn style() -> ProgressStyle {
    ProgressStyle::with_template(
        "Copying {prefix} [{bar:30}] {bytes}/{total_bytes} {binary_bytes_per_sec}",
    )
    .expect("a valid template")
    .progress_chars("=> ")
}

impl Progress for CliProgress {
    fn begin(&self, id: &str, total: u64) {
        if let Mode::Bars(m) = &self.mode {
            let bar = m.add(ProgressBar::new(total));
            bar.set_style(style());
            bar.set_prefix(short(id));
            self.bars.lock().expect("bars").insert(id.to_string(), bar);
        }
    }

    fn advance(&self, id: &str, bytes: u64) {
        if let Some(b) = self.bars.lock().expect("bars").get(id) {
            b.inc(bytes);
        }
    }

    fn end(&self, id: &str, how: &str) {
        match &self.mode {
            Mode::Quiet => {}
            Mode::Lines => eprintln!("Copying {id} {how}"),
            Mode::Bars(m) => match self.bars.lock().expect("bars").remove(id) {
                Some(b) => {
                    b.finish_and_clear();
                    let _ = m.println(format!("Copying {} {how}", short(id)));
                }
                None => {
                    let _ = m.println(format!("Copying {} {how}", short(id)));
                }
            },
        }
    }

    fn note(&self, msg: &str) {
        match &self.mode {
            Mode::Quiet => {}
            Mode::Lines => eprintln!("{msg}"),
            Mode::Bars(m) => {
                let _ = m.println(msg);
            }
        }
    }
}
