//! Health checks: what a container's check is (from `--health-*` or the image's
//! HEALTHCHECK), and what the checks found, kept in `health.json` in its runtime
//! directory. The checks run from the supervisor's timer through `healthcheck run`
//! (`verbs/health.rs`); no systemd timer is needed.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The probe: a command through the container's shell, or run as it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HealthTest {
    Shell(String),
    Exec(Vec<String>),
}

impl HealthTest {
    pub fn argv(&self) -> Vec<String> {
        match self {
            HealthTest::Shell(c) => vec!["/bin/sh".into(), "-c".into(), c.clone()],
            HealthTest::Exec(a) => a.clone(),
        }
    }

    /// podman's `Test` array: ["CMD-SHELL", cmd] or ["CMD", arg…].
    pub fn podman_form(&self) -> Vec<String> {
        match self {
            HealthTest::Shell(c) => vec!["CMD-SHELL".into(), c.clone()],
            HealthTest::Exec(a) => std::iter::once("CMD".to_string())
                .chain(a.iter().cloned())
                .collect(),
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
            Some((k, _)) if k == "NONE" => Ok(None),
            _ => Err(Error::InvalidArgument(format!(
                "invalid healthcheck test {t:?}: want CMD-SHELL, CMD or NONE first"
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

/// A fresh start: starting, no streak, no results.
pub fn reset(dirs: &super::ContainerDirs) -> Result<()> {
    crate::fsutil::replace_file(
        &file(dirs),
        &serde_json::to_vec(&HealthState::default()).map_err(|e| Error::json("health", e))?,
    )
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
