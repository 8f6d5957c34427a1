//! CronJob schedules: the five cron fields (with ranges, steps, lists, month and day
//! names, and the @hourly-style macros), Vixie cron's rule that a restricted
//! day-of-month and day-of-week match either, and time zones read from the system's
//! TZif files. `next_after` is a pure function of the schedule, the zone and the time.

use chrono::{DateTime, Datelike, Duration, TimeZone, Timelike, Utc};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    minutes: Vec<bool>,
    hours: Vec<bool>,
    days: Vec<bool>,
    months: Vec<bool>,
    weekdays: Vec<bool>,
    /// Day-of-month and day-of-week both restricted: either matches.
    either_day: bool,
}

fn names(field: usize) -> &'static [&'static str] {
    match field {
        3 => &[
            "", "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
        ],
        4 => &["sun", "mon", "tue", "wed", "thu", "fri", "sat"],
        _ => &[],
    }
}

fn value(s: &str, field: usize) -> Result<u32, String> {
    if let Some(i) = names(field)
        .iter()
        .position(|n| !n.is_empty() && n.eq_ignore_ascii_case(s))
    {
        return Ok(i as u32);
    }
    s.parse().map_err(|_| format!("{s:?} is not a number"))
}

fn field(text: &str, field: usize, min: u32, max: u32) -> Result<Vec<bool>, String> {
    let mut set = vec![false; max as usize + 1];
    for part in text.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => (
                r,
                s.parse::<u32>()
                    .map_err(|_| format!("bad step in {part:?}"))?,
            ),
            None => (part, 1),
        };
        if step == 0 {
            return Err(format!("bad step in {part:?}"));
        }
        let (lo, hi) = if range == "*" || range == "?" {
            (min, max)
        } else if let Some((a, b)) = range.split_once('-') {
            (value(a, field)?, value(b, field)?)
        } else {
            let v = value(range, field)?;
            (v, if part.contains('/') { max } else { v })
        };
        // Sunday is 0 or 7.
        let top = if field == 4 { 7 } else { max };
        if lo < min || hi > top || lo > hi {
            return Err(format!("{part:?} is out of range {min}-{max}"));
        }
        let mut v = lo;
        while v <= hi {
            set[if field == 4 {
                v as usize % 7
            } else {
                v as usize
            }] = true;
            v += step;
        }
    }
    Ok(set)
}

impl Schedule {
    pub fn parse(s: &str) -> Result<Schedule, String> {
        let expanded = match s.trim() {
            "@yearly" | "@annually" => "0 0 1 1 *",
            "@monthly" => "0 0 1 * *",
            "@weekly" => "0 0 * * 0",
            "@daily" | "@midnight" => "0 0 * * *",
            "@hourly" => "0 * * * *",
            other => other,
        };
        let f: Vec<&str> = expanded.split_whitespace().collect();
        if f.len() != 5 {
            return Err(format!(
                "expected exactly 5 fields, found {}: {s:?}",
                f.len()
            ));
        }
        Ok(Schedule {
            minutes: field(f[0], 0, 0, 59)?,
            hours: field(f[1], 1, 0, 23)?,
            days: field(f[2], 2, 1, 31)?,
            months: field(f[3], 3, 1, 12)?,
            weekdays: field(f[4], 4, 0, 6)?,
            either_day: !f[2].starts_with('*') && !f[4].starts_with('*'),
        })
    }

    fn matches(&self, t: &chrono::NaiveDateTime) -> bool {
        let dom = self.days[t.day() as usize];
        let dow = self.weekdays[t.weekday().num_days_from_sunday() as usize];
        let day = if self.either_day {
            dom || dow
        } else {
            dom && dow
        };
        self.minutes[t.minute() as usize]
            && self.hours[t.hour() as usize]
            && self.months[t.month() as usize]
            && day
    }

    /// The first scheduled time after `after`, in `zone`; None within five years.
    pub fn next_after(&self, after: DateTime<Utc>, zone: &Zone) -> Option<DateTime<Utc>> {
        let start = after.with_second(0)?.with_nanosecond(0)? + Duration::minutes(1);
        let end = after + Duration::days(5 * 366);
        let mut t = start;
        while t < end {
            let local = (t + Duration::seconds(zone.offset_at(t.timestamp()) as i64)).naive_utc();
            if self.matches(&local) {
                return Some(t);
            }
            t += Duration::minutes(1);
        }
        None
    }
}

/// A time zone: the offsets from UTC and the times they start (TZif), or UTC.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Zone {
    /// (start, offset in seconds), sorted; before the first, `initial` applies.
    transitions: Vec<(i64, i32)>,
    initial: i32,
}

impl Zone {
    pub fn utc() -> Zone {
        Zone::default()
    }

    pub fn fixed(offset: i32) -> Zone {
        Zone {
            transitions: vec![],
            initial: offset,
        }
    }

    /// A zone by IANA name from /usr/share/zoneinfo; "UTC", "Etc/UTC" and the like too.
    pub fn named(name: &str) -> Result<Zone, String> {
        if name.is_empty() || name.contains("..") || name.starts_with('/') {
            return Err(format!("unknown time zone {name:?}"));
        }
        let data = std::fs::read(std::path::Path::new("/usr/share/zoneinfo").join(name))
            .map_err(|_| format!("unknown time zone {name:?}"))?;
        Zone::from_tzif(&data).ok_or_else(|| format!("unknown time zone {name:?}: not a TZif file"))
    }

    /// The version 2+ (64-bit) section of a TZif file (RFC 8536).
    pub fn from_tzif(d: &[u8]) -> Option<Zone> {
        let header = |at: usize| -> Option<[usize; 6]> {
            if d.get(at..at + 4)? != b"TZif" {
                return None;
            }
            let n = |i: usize| -> Option<usize> {
                Some(
                    u32::from_be_bytes(d.get(at + 20 + i * 4..at + 24 + i * 4)?.try_into().ok()?)
                        as usize,
                )
            };
            // isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt
            Some([n(0)?, n(1)?, n(2)?, n(3)?, n(4)?, n(5)?])
        };
        let v1 = header(0)?;
        let v1_len = v1[3] * 5 + v1[4] * 6 + v1[5] + v1[2] * 8 + v1[1] + v1[0];
        let at = 44 + v1_len;
        let [_, _, _, timecnt, typecnt, _] = header(at)?;
        let body = at + 44;
        let times = d.get(body..body + timecnt * 8)?;
        let idx = d.get(body + timecnt * 8..body + timecnt * 9)?;
        let types = d.get(body + timecnt * 9..body + timecnt * 9 + typecnt * 6)?;
        let offset = |i: usize| -> Option<i32> {
            Some(i32::from_be_bytes(
                types.get(i * 6..i * 6 + 4)?.try_into().ok()?,
            ))
        };
        let mut transitions = Vec::with_capacity(timecnt);
        for i in 0..timecnt {
            let t = i64::from_be_bytes(times[i * 8..i * 8 + 8].try_into().ok()?);
            transitions.push((t, offset(idx[i] as usize)?));
        }
        Some(Zone {
            transitions,
            initial: offset(0)?,
        })
    }

    pub fn offset_at(&self, t: i64) -> i32 {
        match self.transitions.partition_point(|(s, _)| *s <= t) {
            0 => self.initial,
            // Past the table's end a zone keeps its last rule's offsets in the TZ
            // footer; the last transition's offset is the nearest stand-in.
            i => self.transitions[i - 1].1,
        }
    }
}

/// The machine's own zone (/etc/localtime), as the controller manager uses without
/// `timeZone`.
pub fn local_zone() -> Zone {
    std::fs::read("/etc/localtime")
        .ok()
        .and_then(|d| Zone::from_tzif(&d))
        .unwrap_or_else(|| {
            Zone::fixed(
                chrono::Local
                    .timestamp_opt(0, 0)
                    .single()
                    .map_or(0, |t| t.offset().local_minus_utc()),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn next_times_on_a_fake_clock() {
        let utc = Zone::utc();
        let table = [
            (
                "*/5 * * * *",
                "2026-12-06T04:31:10Z",
                "2026-12-06T04:35:00Z",
            ),
            ("0 * * * *", "2026-12-06T04:00:00Z", "2026-12-06T05:00:00Z"),
            ("@daily", "2026-12-06T04:31:00Z", "2026-12-07T00:00:00Z"),
            (
                "30 8 * * mon-fri",
                "2026-12-05T09:00:00Z",
                "2026-12-07T08:30:00Z",
            ),
            (
                "0 0 1 jan *",
                "2026-12-06T00:00:00Z",
                "2027-01-01T00:00:00Z",
            ),
            ("0 0 29 2 *", "2026-03-01T00:00:00Z", "2028-02-29T00:00:00Z"),
            // Vixie cron: restricted day-of-month OR day-of-week.
            (
                "0 12 13 * 5",
                "2026-12-06T00:00:00Z",
                "2026-12-11T12:00:00Z",
            ),
            ("0 0 * * 7", "2026-12-06T00:00:00Z", "2026-12-13T00:00:00Z"),
            (
                "15,45 1-3/2 * * *",
                "2026-12-06T01:20:00Z",
                "2026-12-06T01:45:00Z",
            ),
        ];
        for (s, after, want) in table {
            let sch = Schedule::parse(s).unwrap();
            assert_eq!(
                sch.next_after(at(after), &utc),
                Some(at(want)),
                "{s} after {after}"
            );
        }
        for bad in [
            "* * * *",
            "61 * * * *",
            "* * * 13 *",
            "*/0 * * * *",
            "a b c d e",
            "5-1 * * * *",
        ] {
            assert!(Schedule::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn time_zones_from_tzif() {
        let sch = Schedule::parse("0 9 * * *").unwrap();
        // Berlin is UTC+1 in winter and UTC+2 in summer.
        let berlin = Zone::named("Europe/Berlin").unwrap();
        assert_eq!(
            sch.next_after(at("2026-12-06T00:00:00Z"), &berlin),
            Some(at("2026-12-06T08:00:00Z"))
        );
        assert_eq!(
            sch.next_after(at("2026-07-06T00:00:00Z"), &berlin),
            Some(at("2026-07-06T07:00:00Z"))
        );
        let ny = Zone::named("America/New_York").unwrap();
        assert_eq!(
            sch.next_after(at("2026-12-06T00:00:00Z"), &ny),
            Some(at("2026-12-06T14:00:00Z"))
        );
        assert_eq!(Zone::named("Etc/UTC").unwrap().offset_at(0), 0);
        assert!(Zone::named("Mars/Olympus").is_err());
        assert!(Zone::named("../../etc/passwd").is_err());
    }
}
