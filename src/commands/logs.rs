//! logs: the container's k8s-file log, filtered by time and tail, optionally followed.

use crate::cli_container::LogsArgs;
use crate::Ctx;
use anyhow::{bail, Result};
use chrono::{DateTime, Utc};
use libruntime::container::logfile::{read_from, LogLine};
use libruntime::container::{self as ctr, ContainerDirs, State};
use std::io::Write;
use std::time::Duration;

/// Go-style durations: "90s", "10m", "1h30m", "250ms".
fn parse_duration(s: &str) -> Option<chrono::Duration> {
    let mut total = 0f64;
    let mut num = String::new();
    let mut chars = s.chars().peekable();
    let mut any = false;
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() || c == '.' {
            num.push(c);
            continue;
        }
        let unit = if c == 'm' && chars.peek() == Some(&'s') {
            chars.next();
            "ms".to_string()
        } else {
            c.to_string()
        };
        let n: f64 = num.parse().ok()?;
        num.clear();
        total += n * match unit.as_str() {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 0.001,
            _ => return None,
        };
        any = true;
    }
    (any && num.is_empty()).then(|| chrono::Duration::milliseconds((total * 1000.0) as i64))
}

/// A point in time as logs' --since/--until take it.
fn parse_time(flag: &str, s: &str) -> Result<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    if let Ok(secs) = s.parse::<f64>() {
        if let Some(t) = DateTime::from_timestamp_millis((secs * 1000.0) as i64) {
            return Ok(t);
        }
    }
    if let Some(d) = parse_duration(s) {
        return Ok(Utc::now() - d);
    }
    bail!("invalid --{flag} {s:?}: use an RFC 3339 time, Unix seconds or a duration like 10m")
}

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
            .map(|s| parse_time("since", s))
            .transpose()?,
        until: a
            .until
            .as_deref()
            .map(|s| parse_time("until", s))
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

#[cfg(test)]
mod tests {
    #[test]
    fn durations() {
        assert_eq!(super::parse_duration("1h30m").unwrap().num_seconds(), 5400);
        assert_eq!(
            super::parse_duration("250ms").unwrap().num_milliseconds(),
            250
        );
        assert!(super::parse_duration("10").is_none());
        assert!(super::parse_duration("5x").is_none());
    }
}
