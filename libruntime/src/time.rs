//! Times as podman prints them: RFC 3339 in records, "3 hours ago" in tables.

use chrono::{DateTime, SecondsFormat, Utc};

pub fn now_rfc3339() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Nanos, true)
}

pub fn parse_rfc3339(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Seconds since the epoch; 0 when unknown.
pub fn unix(s: Option<&str>) -> i64 {
    s.and_then(parse_rfc3339)
        .map(|t| t.timestamp())
        .unwrap_or(0)
}

/// Go's units.HumanDuration, as docker and podman use for CREATED columns.
pub fn human_duration(secs: i64) -> String {
    let s = secs.max(0);
    let plural = |n: i64, unit: &str| format!("{n} {unit}{}", if n == 1 { "" } else { "s" });
    match s {
        0 => "Less than a second".into(),
        1..=59 => plural(s, "second"),
        60..=119 => "About a minute".into(),
        120..=2699 => format!("{} minutes", s / 60),
        2700..=5399 => "About an hour".into(),
        _ if s < 48 * 3600 => format!("{} hours", s / 3600),
        _ if s < 7 * 2 * 86400 => format!("{} days", s / 86400),
        _ if s < 30 * 3 * 86400 => format!("{} weeks", s / (7 * 86400)),
        _ if s < 365 * 2 * 86400 => format!("{} months", s / (30 * 86400)),
        _ => plural(s / (365 * 86400), "year"),
    }
}

/// "N units ago" from an RFC 3339 time.
pub fn ago(s: Option<&str>) -> String {
    match s.and_then(parse_rfc3339) {
        Some(t) => format!("{} ago", human_duration((Utc::now() - t).num_seconds())),
        None => "Unknown".into(),
    }
}

/// Go's units.HumanSizeWithPrecision(n, 3): decimal units, three significant digits.
pub fn human_size(n: u64) -> String {
    const UNITS: [&str; 7] = ["B", "kB", "MB", "GB", "TB", "PB", "EB"];
    let mut v = n as f64;
    let mut i = 0;
    while v >= 1000.0 && i < UNITS.len() - 1 {
        v /= 1000.0;
        i += 1;
    }
    let s = format!(
        "{v:.prec$}",
        prec = if v >= 100.0 {
            0
        } else if v >= 10.0 {
            1
        } else {
            2
        }
    );
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    };
    format!("{s} {}", UNITS[i])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_like_go_units() {
        assert_eq!(human_size(0), "0 B");
        assert_eq!(human_size(999), "999 B");
        assert_eq!(human_size(1_234_567), "1.23 MB");
        assert_eq!(human_size(4_270_000), "4.27 MB");
        assert_eq!(human_size(12_300_000), "12.3 MB");
        assert_eq!(human_size(100_000_000), "100 MB");
    }

    #[test]
    fn durations_like_go_units() {
        assert_eq!(human_duration(1), "1 second");
        assert_eq!(human_duration(90), "About a minute");
        assert_eq!(human_duration(7200), "2 hours");
        assert_eq!(human_duration(3 * 86400), "3 days");
    }
}
