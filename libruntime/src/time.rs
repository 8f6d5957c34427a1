//! Times as podman prints them: RFC 3339 in records, "3 hours ago" in tables.

use chrono::{DateTime, SecondsFormat, Utc};

pub fn now_rfc3339() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Nanos, true)
}

/// Now in Kubernetes' form: RFC 3339 in UTC, whole seconds (`2026-12-06T04:00:00Z`).
pub fn now_rfc3339_seconds() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
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

/// Go-style durations: "90s", "10m", "1h30m", "250ms".
pub fn parse_go_duration(s: &str) -> Option<chrono::Duration> {
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

/// A size with an optional unit: `10k`, `10kb`, `5m`, `1g` (powers of 1024), or bytes.
pub fn parse_size(s: &str) -> Option<u64> {
    let lower = s.trim().to_ascii_lowercase();
    let digits = lower.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let unit = &lower[digits.len()..];
    let n: f64 = digits.parse().ok()?;
    let mult = match unit {
        "" | "b" => 1u64,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        _ => return None,
    };
    (n >= 0.0).then_some((n * mult as f64) as u64)
}

/// Go's units.HumanSizeWithPrecision(n, 3): decimal units, three significant digits.
pub fn human_size(n: u64) -> String {
    let (number, unit) = size_parts(n, 3);
    format!("{number} {unit}")
}

/// Go's units.HumanSizeWithPrecision(n, precision) as written without a space
/// ("4.261MB"), the form of podman's `image tree`.
pub fn compact_size(n: u64, precision: usize) -> String {
    let (number, unit) = size_parts(n, precision);
    format!("{number}{unit}")
}

/// The number (with `precision` significant digits, trailing zeros dropped) and unit.
fn size_parts(n: u64, precision: usize) -> (String, &'static str) {
    const UNITS: [&str; 7] = ["B", "kB", "MB", "GB", "TB", "PB", "EB"];
    let mut v = n as f64;
    let mut i = 0;
    while v >= 1000.0 && i < UNITS.len() - 1 {
        v /= 1000.0;
        i += 1;
    }
    let int_digits = if v >= 100.0 {
        3
    } else if v >= 10.0 {
        2
    } else {
        1
    };
    let s = format!("{v:.prec$}", prec = precision.saturating_sub(int_digits));
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    };
    (s, UNITS[i])
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

/// The current UTC time as `YYYY-MM-DDTHH:MM:SS.nnnnnnnnn+00:00`, formatted by hand:
/// the supervisor stamps every log record with it, and this keeps that hot path to a
/// few instructions instead of a general-purpose formatter.
pub fn log_timestamp() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = now.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:09}+00:00",
        rem / 3600,
        rem / 60 % 60,
        rem % 60,
        now.subsec_nanos()
    )
}

/// Days since 1970-01-01 to a (year, month, day) in the proleptic Gregorian calendar
/// (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod log_time_tests {
    #[test]
    fn civil_dates() {
        assert_eq!(super::civil_from_days(0), (1970, 1, 1));
        assert_eq!(super::civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(super::civil_from_days(20_416), (2025, 11, 24));
        let t = super::log_timestamp();
        assert!(chrono::DateTime::parse_from_rfc3339(&t).is_ok(), "{t}");
    }
}
