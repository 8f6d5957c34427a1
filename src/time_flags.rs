//! `--since`/`--until` values as podman takes them: RFC 3339, Unix seconds, or a Go
//! duration before now.

use anyhow::{bail, Result};
use chrono::{DateTime, Utc};

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
pub fn parse_time(flag: &str, s: &str) -> Result<DateTime<Utc>> {
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
