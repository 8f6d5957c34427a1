//! `--since`/`--until` values as podman takes them: RFC 3339, Unix seconds, or a Go
//! duration before now.

use anyhow::{bail, Result};
use chrono::{DateTime, Utc};

/// A point in time as logs' --since/--until take it.
pub fn parse_time(flag: &str, s: &str) -> Result<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    if let Ok(secs) = s.parse::<f64>() {
        if let Some(t) = DateTime::from_timestamp_millis((secs * 1000.0) as i64) {
            return Ok(t);
        }
    }
    if let Some(d) = libruntime::time::parse_go_duration(s) {
        return Ok(Utc::now() - d);
    }
    bail!("invalid --{flag} {s:?}: use an RFC 3339 time, Unix seconds or a duration like 10m")
}

#[cfg(test)]
mod tests {
    #[test]
    fn durations() {
        assert_eq!(
            libruntime::time::parse_go_duration("1h30m")
                .unwrap()
                .num_seconds(),
            5400
        );
        assert_eq!(
            libruntime::time::parse_go_duration("250ms")
                .unwrap()
                .num_milliseconds(),
            250
        );
        assert!(libruntime::time::parse_go_duration("10").is_none());
        assert!(libruntime::time::parse_go_duration("5x").is_none());
    }
}
