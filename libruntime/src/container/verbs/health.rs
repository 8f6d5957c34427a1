//! healthcheck run: one check of a running container, recorded, announced, and acted
//! on (`--health-on-failure`) when it makes the container unhealthy.

use super::ExecOptions;
use crate::container::handle::Container;
use crate::container::health::{
    self, HealthResult, HealthStatus, HealthTest, LogDestination, OnFailure, StartupCheck,
    StartupStep,
};
use crate::container::ContainerError;
use crate::error::{Error, Result};
use crate::events::EventStatus;
use crate::sandbox::Pipes;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

/// A check's output kept in inspect, as docker keeps it.
const MAX_OUTPUT: usize = 4096;

/// Exit code of a check that ran out of time.
const TIMED_OUT: i32 = -1;

impl Container<'_> {
    /// Runs the container's check once; whether it passed, and the container's health
    /// after it.
    pub fn healthcheck(&self) -> Result<(bool, HealthStatus)> {
        let cfg = self.record.config.health.clone().ok_or_else(|| {
            Error::from(ContainerError::StateImproper(format!(
                "container {} has no defined healthcheck",
                self.record.name
            )))
        })?;
        let st = self.state()?;
        if !st.is_active() {
            return Err(ContainerError::StateImproper(format!(
                "container {} is not running",
                self.record.name
            ))
            .into());
        }
        let dirs = self.dirs();
        if let Some(startup) = &cfg.startup {
            if !health::startup_progress(&dirs).passed {
                return self.startup_check(startup, st.pid);
            }
        }
        let result = self.run_test(&cfg.test, cfg.timeout(), st.pid);
        let started = crate::time::parse_rfc3339(&st.started_at);
        let in_start_period = started.is_some_and(|t| {
            chrono::Utc::now() - t < chrono::Duration::milliseconds(cfg.start_period_ms as i64)
        });
        let _lock = crate::lock::StoreLock::exclusive(&dirs.run.join("health.lock"))?;
        let mut h = health::load(&dirs).unwrap_or_default();
        let before = h.status;
        let passed = result.exit_code == 0;
        self.log_elsewhere(&cfg.log_destination, &result)?;
        let output = result.output.clone();
        h.record(result, &cfg, in_start_period);
        crate::fsutil::replace_file(
            &health::file(&dirs),
            &serde_json::to_vec(&h).map_err(|e| Error::json("health", e))?,
        )?;
        let mut e = self
            .record
            .event(EventStatus::HealthStatus)
            .attr("health_status", h.status.word());
        if cfg.log_destination == LogDestination::EventsLogger {
            e = e
                .attr("health_log", output)
                .attr("health_failing_streak", h.failing_streak.to_string());
        }
        crate::events::emit(self.paths, &e);
        if h.status == HealthStatus::Unhealthy && before != HealthStatus::Unhealthy {
            self.on_failure(cfg.on_failure)?;
        }
        Ok((passed, h.status))
    }

    /// One run of a check: a command in the container, or a network probe from its
    /// network namespace (`init` is the container's init pid). The kube probes and
    /// lifecycle hooks use it too.
    pub fn run_test(&self, test: &HealthTest, timeout: Duration, init: i32) -> HealthResult {
        let start = crate::time::now_rfc3339();
        let (exit_code, output) = match (test, test.argv()) {
            (HealthTest::Net(p), _) => {
                let o = crate::probe::run_in_network_of(init, p, timeout);
                (if o.passed { 0 } else { 1 }, o.output)
            }
            (_, Some(argv)) => self.probe(&argv, timeout),
            (_, None) => (125, "the check has no command".into()),
        };
        HealthResult {
            start,
            end: crate::time::now_rfc3339(),
            exit_code,
            output,
        }
    }

    /// The startup check, until it has passed: its result is logged, the health stays
    /// `starting`, and too many failures restart the container.
    fn startup_check(&self, check: &StartupCheck, init: i32) -> Result<(bool, HealthStatus)> {
        let result = self.run_test(&check.test, check.timeout(), init);
        let passed = result.exit_code == 0;
        let dirs = self.dirs();
        let _lock = crate::lock::StoreLock::exclusive(&dirs.run.join("health.lock"))?;
        let mut progress = health::startup_progress(&dirs);
        let step = progress.record(passed, check);
        crate::fsutil::replace_file(
            &health::startup_file(&dirs),
            &serde_json::to_vec(&progress).map_err(|e| Error::json("startup check", e))?,
        )?;
        let mut h = health::load(&dirs).unwrap_or_default();
        h.log.push(result);
        if h.log.len() > health::KEPT_RESULTS {
            h.log.remove(0);
        }
        crate::fsutil::replace_file(
            &health::file(&dirs),
            &serde_json::to_vec(&h).map_err(|e| Error::json("health", e))?,
        )?;
        let e = self
            .record
            .event(EventStatus::HealthStatus)
            .attr("health_status", h.status.word())
            .attr("startup_check", if passed { "passed" } else { "failed" });
        crate::events::emit(self.paths, &e);
        if step == StartupStep::GaveUp {
            crate::log::warn(&format!(
                "the startup check of {} failed {} times: restarting it",
                self.record.name, progress.failures
            ));
            self.on_failure(OnFailure::Restart)?;
        }
        Ok((passed, h.status))
    }

    /// `--health-log-destination DIR`: one JSON line per result.
    fn log_elsewhere(&self, dest: &LogDestination, r: &HealthResult) -> Result<()> {
        let LogDestination::Directory(dir) = dest else {
            return Ok(());
        };
        let path = dir.join(format!("{}-healthcheck.log", self.record.id));
        let mut line = serde_json::to_vec(r).map_err(|e| Error::json("health result", e))?;
        line.push(b'\n');
        use std::io::Write;
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .and_then(|mut f| f.write_all(&line))
            .map_err(|e| Error::io(format!("writing {}", path.display()), e))
    }

    fn on_failure(&self, action: OnFailure) -> Result<()> {
        match action {
            OnFailure::None => Ok(()),
            OnFailure::Kill => self.kill(nix::sys::signal::Signal::SIGKILL),
            OnFailure::Stop => {
                self.stop(Duration::from_secs(self.record.config.stop_timeout.into()))
            }
            // The supervisor restarts a container that its check killed with this mark.
            OnFailure::Restart => {
                std::fs::write(health_restart_marker(&self.dirs()), b"")
                    .map_err(|e| Error::io("marking the container for restart", e))?;
                let st = self.state()?;
                if st.pid > 0 && st.init_alive() {
                    let _ = nix::sys::signal::kill(
                        Pid::from_raw(st.pid),
                        nix::sys::signal::Signal::SIGKILL,
                    );
                }
                Ok(())
            }
        }
    }

    /// Runs `argv` in the container; its exit code and output, or TIMED_OUT.
    fn probe(&self, argv: &[String], timeout: Duration) -> (i32, String) {
        let opts = ExecOptions {
            command: argv.to_vec(),
            ..Default::default()
        };
        let joined = match self.spawn_in(&opts) {
            Ok(j) => j,
            Err(e) => return (125, e.to_string()),
        };
        let Some(pipes) = joined.pipes else {
            return (125, "the check has no output pipes".into());
        };
        let deadline = Instant::now() + timeout;
        let output = collect(pipes, deadline);
        (wait_until(joined.pid, deadline), output)
    }
}

/// The mark a failing check leaves for the supervisor to restart the container.
pub fn health_restart_marker(dirs: &crate::container::ContainerDirs) -> std::path::PathBuf {
    dirs.run.join("health-restart")
}

/// Reads stdout and stderr together until both end or the deadline passes.
fn collect(pipes: Pipes, deadline: Instant) -> String {
    let mut out = Vec::new();
    let mut open = [Some(pipes.stdout), Some(pipes.stderr)];
    drop(pipes.stdin);
    while open.iter().any(Option::is_some) {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        let mut fds: Vec<PollFd> = open
            .iter()
            .flatten()
            .map(|f| PollFd::new(f.as_fd(), PollFlags::POLLIN))
            .collect();
        let t = PollTimeout::try_from(left).unwrap_or(PollTimeout::MAX);
        if poll(&mut fds, t).unwrap_or(0) <= 0 {
            continue;
        }
        drop(fds);
        for slot in open.iter_mut() {
            let Some(f) = slot else { continue };
            let mut buf = [0u8; 4096];
            match nix::unistd::read(f.as_fd(), &mut buf) {
                Ok(0) | Err(nix::errno::Errno::EBADF) => *slot = None,
                Ok(n) => {
                    if out.len() < MAX_OUTPUT {
                        out.extend_from_slice(&buf[..n.min(MAX_OUTPUT - out.len())]);
                    }
                }
                Err(nix::errno::Errno::EAGAIN | nix::errno::Errno::EINTR) => {}
                Err(_) => *slot = None,
            }
        }
    }
    String::from_utf8_lossy(&out).trim_end().to_string()
}

/// The check's exit code, or TIMED_OUT after killing it at the deadline.
fn wait_until(pid: Pid, deadline: Instant) -> i32 {
    loop {
        match waitpid(pid, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::StillAlive) => {}
            Ok(s) => return crate::sandbox::sys::exit_code(s).unwrap_or(125),
            Err(_) => return 125,
        }
        if Instant::now() >= deadline {
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
            let _ = waitpid(pid, None);
            return TIMED_OUT;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}
