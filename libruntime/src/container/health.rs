//! Health checks: what a container's check is (from `--health-*` or the image's
//! HEALTHCHECK), and what the checks found, kept in `health.json` in its runtime
//! directory. The checks run from the supervisor's timer through `healthcheck run`
//! (`verbs/health.rs`); no systemd timer is needed.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The probe: a command through the container's shell, a command run as it is, or an
/// HTTP, TCP or gRPC probe made from the container's network namespace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HealthTest {
    Shell(String),
    Exec(Vec<String>),
    Net(crate::probe::NetProbe),
}

impl HealthTest {
    /// The command a command check runs in the container; None for a network probe.
    pub fn argv(&self) -> Option<Vec<String>> {
        match self {
            HealthTest::Shell(c) => Some(vec!["/bin/sh".into(), "-c".into(), c.clone()]),
            HealthTest::Exec(a) => Some(a.clone()),
            HealthTest::Net(_) => None,
        }
    }

    /// podman's `Test` array: ["CMD-SHELL", cmd] or ["CMD", arg…]; skiff's network
    /// probes as ["PROBE", "http://…"].
    pub fn podman_form(&self) -> Vec<String> {
        match self {
            HealthTest::Shell(c) => vec!["CMD-SHELL".into(), c.clone()],
            HealthTest::Exec(a) => std::iter::once("CMD".to_string())
                .chain(a.iter().cloned())
                .collect(),
            HealthTest::Net(p) => vec!["PROBE".into(), p.describe()],
        }
    }

    /// From a `Test` array; None for ["NONE"] (the check is disabled).
    pub fn from_podman_form(t: &[String]) -> Result<Option<HealthTest>> {
        match t.split_first() {
            Some((k, rest)) if k == "CMD-SHELL" && !rest.is_empty() => {
                Ok(Some(HealthTest::Shell(rest.join(" "))))
            }
            Some((k, rest)) if k == "CMD" && !rest.is_empty() => {
                Ok(Some(HealthTest::Exec(rest.to_vec())))
            }
            Some((k, [line])) if k == "PROBE" => {
                Ok(Some(HealthTest::Net(crate::probe::NetProbe::parse(line)?)))
            }
            Some((k, _)) if k == "NONE" => Ok(None),
            _ => Err(Error::InvalidArgument(format!(
                "invalid healthcheck test {t:?}: want CMD-SHELL, CMD, PROBE or NONE first"
            ))),
        }
    }
}

/// `--health-startup-*`: a check that runs before the regular one, until it has
/// passed `successes` times in a row; the regular check waits for it. `retries`
/// failures in a row (0: no limit) restart the container, as podman does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StartupCheck {
    pub test: HealthTest,
    pub interval_ms: u64,
    pub timeout_ms: u64,
    pub retries: u32,
    pub successes: u32,
}

impl StartupCheck {
    pub fn interval(&self) -> Duration {
        Duration::from_millis(self.interval_ms)
    }
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms)
    }
}

/// How far the startup check has come since the container started; `startup.json`
/// in its runtime directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct StartupProgress {
    pub passed: bool,
    pub successes: u32,
    pub failures: u32,
}

/// What a startup check's result does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartupStep {
    /// Not there yet.
    Waiting,
    /// It has passed: the regular check takes over.
    Passed,
    /// It failed too often: the container is restarted.
    GaveUp,
}

impl StartupProgress {
    pub fn record(&mut self, passed: bool, check: &StartupCheck) -> StartupStep {
        if passed {
            self.successes += 1;
            self.failures = 0;
            if self.successes >= check.successes.max(1) {
                self.passed = true;
                return StartupStep::Passed;
            }
            return StartupStep::Waiting;
        }
        self.successes = 0;
        self.failures += 1;
        if check.retries > 0 && self.failures >= check.retries {
            StartupStep::GaveUp
        } else {
            StartupStep::Waiting
        }
    }
}

/// `--health-log-destination`: where each check's result goes besides the last five
/// that inspect shows.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogDestination {
    /// Only the container's state (inspect).
    #[default]
    Local,
    /// Also the events log, in each `health_status` event.
    EventsLogger,
    /// Also `<DIR>/<id>-healthcheck.log`, one JSON line per result.
    Directory(std::path::PathBuf),
}

impl std::str::FromStr for LogDestination {
    type Err = Error;
    fn from_str(s: &str) -> Result<LogDestination> {
        match s {
            "local" => Ok(LogDestination::Local),
            "events_logger" => Ok(LogDestination::EventsLogger),
            d if d.starts_with('/') => {
                if !std::path::Path::new(d).is_dir() {
                    return Err(Error::InvalidArgument(format!(
                        "invalid --health-log-destination {d:?}: no such directory"
                    )));
                }
                Ok(LogDestination::Directory(d.into()))
            }
            _ => Err(Error::InvalidArgument(format!(
                "invalid --health-log-destination {s:?}: use local, events_logger or an absolute directory"
            ))),
        }
    }
}

/// `--health-on-failure`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnFailure {
    #[default]
    None,
    Kill,
    Restart,
    Stop,
}

impl std::str::FromStr for OnFailure {
    type Err = Error;
    fn from_str(s: &str) -> Result<OnFailure> {
        match s {
            "none" => Ok(OnFailure::None),
            "kill" => Ok(OnFailure::Kill),
            "restart" => Ok(OnFailure::Restart),
            "stop" => Ok(OnFailure::Stop),
            _ => Err(Error::InvalidArgument(format!(
                "invalid --health-on-failure {s:?}: use none, kill, restart or stop"
            ))),
        }
    }
}

/// A container's check, as its record keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthConfig {
    pub test: HealthTest,
    pub interval_ms: u64,
    pub timeout_ms: u64,
    pub retries: u32,
    pub start_period_ms: u64,
    #[serde(default)]
    pub on_failure: OnFailure,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub startup: Option<StartupCheck>,
    #[serde(default)]
    pub log_destination: LogDestination,
}

/// podman's defaults.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(30);
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
pub const DEFAULT_RETRIES: u32 = 3;

impl HealthConfig {
    pub fn interval(&self) -> Duration {
        Duration::from_millis(self.interval_ms)
    }
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms)
    }
    pub fn start_period(&self) -> Duration {
        Duration::from_millis(self.start_period_ms)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HealthStatus {
    #[default]
    Starting,
    Healthy,
    Unhealthy,
}

impl HealthStatus {
    pub fn word(self) -> &'static str {
        match self {
            HealthStatus::Starting => "starting",
            HealthStatus::Healthy => "healthy",
            HealthStatus::Unhealthy => "unhealthy",
        }
    }
}

/// One check's result, as inspect shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthResult {
    #[serde(rename = "Start")]
    pub start: String,
    #[serde(rename = "End")]
    pub end: String,
    #[serde(rename = "ExitCode")]
    pub exit_code: i32,
    #[serde(rename = "Output")]
    pub output: String,
}

/// What the checks found; inspect's `.State.Health`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct HealthState {
    #[serde(rename = "Status")]
    pub status: HealthStatus,
    #[serde(rename = "FailingStreak")]
    pub failing_streak: u32,
    #[serde(rename = "Log")]
    pub log: Vec<HealthResult>,
}

/// Results inspect keeps, as docker and podman.
pub const KEPT_RESULTS: usize = 5;

impl HealthState {
    /// The state after one more result. Failures inside the start period do not
    /// count; `retries` failures in a row make the container unhealthy.
    pub fn record(&mut self, r: HealthResult, cfg: &HealthConfig, in_start_period: bool) {
        let ok = r.exit_code == 0;
        self.log.push(r);
        if self.log.len() > KEPT_RESULTS {
            self.log.remove(0);
        }
        if ok {
            self.failing_streak = 0;
            self.status = HealthStatus::Healthy;
            return;
        }
        if in_start_period && self.status == HealthStatus::Starting {
            return;
        }
        self.failing_streak += 1;
        if self.failing_streak >= cfg.retries.max(1) {
            self.status = HealthStatus::Unhealthy;
        }
    }
}

/// Where a container's health is kept.
pub fn file(dirs: &super::ContainerDirs) -> std::path::PathBuf {
    dirs.run.join("health.json")
}

/// The container's health now; None when it has no check or never ran.
pub fn load(dirs: &super::ContainerDirs) -> Option<HealthState> {
    crate::fsutil::read_json(&file(dirs)).ok().flatten()
}

/// A fresh start: starting, no streak, no results, the startup check not passed.
pub fn reset(dirs: &super::ContainerDirs) -> Result<()> {
    let _ = std::fs::remove_file(startup_file(dirs));
    crate::fsutil::replace_file(
        &file(dirs),
        &serde_json::to_vec(&HealthState::default()).map_err(|e| Error::json("health", e))?,
    )
}

pub fn startup_file(dirs: &super::ContainerDirs) -> std::path::PathBuf {
    dirs.run.join("startup.json")
}

/// The startup check's progress since the container started.
pub fn startup_progress(dirs: &super::ContainerDirs) -> StartupProgress {
    crate::fsutil::read_json(&startup_file(dirs))
        .ok()
        .flatten()
        .unwrap_or_default()
}

/// The time until the next check: the startup check's interval until it has passed.
pub fn next_interval(cfg: &HealthConfig, dirs: &super::ContainerDirs) -> Duration {
    match &cfg.startup {
        Some(s) if !startup_progress(dirs).passed => s.interval(),
        _ => cfg.interval(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(retries: u32) -> HealthConfig {
        HealthConfig {
            test: HealthTest::Shell("true".into()),
            interval_ms: 1000,
            timeout_ms: 1000,
            retries,
            start_period_ms: 0,
            on_failure: OnFailure::None,
            startup: None,
            log_destination: LogDestination::Local,
        }
    }

    fn result(code: i32) -> HealthResult {
        HealthResult {
            start: String::new(),
            end: String::new(),
            exit_code: code,
            output: String::new(),
        }
    }

    #[test]
    fn streaks_and_the_start_period() {
        use HealthStatus::*;
        // (results, in start period, status, streak)
        let table: &[(&[i32], bool, HealthStatus, u32)] = &[
            (&[0], false, Healthy, 0),
            (&[1], false, Starting, 1),
            (&[1, 1, 1], false, Unhealthy, 3),
            (&[1, 1, 0], false, Healthy, 0),
            (&[1, 1, 1], true, Starting, 0),
            (&[0, 1, 1, 1], true, Unhealthy, 3),
        ];
        for (codes, start, status, streak) in table {
            let mut h = HealthState::default();
            for c in *codes {
                h.record(result(*c), &cfg(3), *start);
            }
            assert_eq!(
                (h.status, h.failing_streak),
                (*status, *streak),
                "{codes:?} {start}"
            );
        }
        let mut h = HealthState::default();
        for _ in 0..8 {
            h.record(result(0), &cfg(3), false);
        }
        assert_eq!(h.log.len(), KEPT_RESULTS);
    }

    #[test]
    fn startup_checks_gate_and_give_up() {
        let check = |retries, successes| StartupCheck {
            test: HealthTest::Shell("true".into()),
            interval_ms: 1000,
            timeout_ms: 1000,
            retries,
            successes,
        };
        use StartupStep::*;
        // (results, retries, successes needed, last step)
        let table: &[(&[bool], u32, u32, StartupStep)] = &[
            (&[true], 0, 0, Passed),
            (&[true], 0, 1, Passed),
            (&[true], 0, 2, Waiting),
            (&[true, false, true], 0, 2, Waiting),
            (&[true, true], 0, 2, Passed),
            (&[false, false, false], 0, 1, Waiting),
            (&[false, false, false], 3, 1, GaveUp),
            (&[false, false, true, false], 3, 1, Passed),
        ];
        for (results, retries, successes, want) in table {
            let mut p = StartupProgress::default();
            let mut last = Waiting;
            for r in *results {
                if p.passed {
                    break;
                }
                last = p.record(*r, &check(*retries, *successes));
            }
            assert_eq!(last, *want, "{results:?} {retries} {successes}");
        }
    }

    #[test]
    fn tests_in_podmans_form() {
        let t = HealthTest::from_podman_form(&["CMD-SHELL".into(), "curl x".into()]).unwrap();
        assert_eq!(t, Some(HealthTest::Shell("curl x".into())));
        assert_eq!(t.unwrap().podman_form(), ["CMD-SHELL", "curl x"]);
        assert_eq!(
            HealthTest::from_podman_form(&["NONE".into()]).unwrap(),
            None
        );
        assert!(HealthTest::from_podman_form(&["BOGUS".into()]).is_err());
        assert!("sometimes".parse::<OnFailure>().is_err());
    }
}
