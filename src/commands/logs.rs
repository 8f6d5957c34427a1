//! logs: the container's k8s-file log, filtered by time and tail, optionally followed.

use crate::cli_container::LogsArgs;
use crate::Ctx;
use anyhow::{bail, Result};
use chrono::{DateTime, Utc};
use libruntime::container::logfile::{read_from, LogLine};
use libruntime::container::{self as ctr, ContainerDirs, State};
use std::io::Write;
use std::time::Duration;

struct Filter {
    since: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
    timestamps: bool,
}

impl Filter {
    fn keep(&self, l: &LogLine) -> bool {
        let t = l.time.with_timezone(&Utc);
        self.since.is_none_or(|s| t >= s) && self.until.is_none_or(|u| t <= u)
    }

    fn print(&self, lines: &[LogLine]) {
        let mut out = std::io::stdout().lock();
        let mut err = std::io::stderr().lock();
        for l in lines.iter().filter(|l| self.keep(l)) {
            let w: &mut dyn Write = if l.stream == "stderr" {
                &mut err
            } else {
                &mut out
            };
            if self.timestamps {
                let _ = write!(
                    w,
                    "{} ",
                    l.time.to_rfc3339_opts(chrono::SecondsFormat::Nanos, false)
                );
            }
            let _ = w.write_all(l.text.as_bytes());
            if !l.partial {
                let _ = w.write_all(b"\n");
            }
        }
        let _ = out.flush();
    }
}

pub fn logs(ctx: &Ctx, a: LogsArgs) -> Result<i32> {
    let filter = Filter {
        since: a
            .since
            .as_deref()
            .map(|s| crate::time_flags::parse_time("since", s))
            .transpose()?,
        until: a
            .until
            .as_deref()
            .map(|s| crate::time_flags::parse_time("until", s))
            .transpose()?,
        timestamps: a.timestamps,
    };
    let records = a
        .names
        .iter()
        .map(|n| ctr::find(&ctx.paths, n))
        .collect::<libruntime::Result<Vec<_>>>()?;
    for r in records {
        let dirs = ContainerDirs::new(&ctx.paths, &r.id);
        let Some(log) = r.config.log.file(&dirs) else {
            bail!("this container is using the 'none' log driver, cannot read logs");
        };
        let (mut lines, mut offset) = read_from(&log, 0);
        lines.retain(|l| filter.keep(l));
        if a.tail >= 0 {
            let skip = lines.len().saturating_sub(a.tail as usize);
            lines.drain(..skip);
        }
        filter.print(&lines);
        if !a.follow {
            continue;
        }
        loop {
            let active = State::load(&dirs).map(|s| s.is_active()).unwrap_or(false);
            let (new, next) = read_from(&log, offset);
            offset = next;
            filter.print(&new);
            if !active && new.is_empty() {
                break;
            }
            if filter.until.is_some_and(|u| Utc::now() > u) {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    Ok(0)
}
