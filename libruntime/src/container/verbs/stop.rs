//! stop: the container's stop signal, then SIGKILL after the timeout.

use super::kill::signal_init;
use super::polling::wait_until_stopped;
use crate::container::handle::Container;
use crate::container::state::{State, Status};
use crate::error::{Context, Result};
use crate::fsutil;
use nix::sys::signal::Signal;
use std::time::Duration;

impl Container<'_> {
    /// Stops the container and waits until the supervisor has recorded the exit.
    pub fn stop(&self, timeout: Duration) -> Result<()> {
        let dirs = self.dirs();
        fsutil::create_dir_all(&dirs.run)?;
        std::fs::write(dirs.stop_marker(), b"").ctx(|| "marking the container stopped".into())?;
        let st = State::load(&dirs)?;
        if !st.is_active() {
            return Ok(());
        }
        if st.status == Status::Paused {
            self.unpause()?;
        }
        let sig = Signal::try_from(self.record.config.stop_signal).unwrap_or(Signal::SIGTERM);
        let _ = std::fs::write(dirs.stopping_marker(), b"");
        let stopped = self.stop_with(&st, sig, timeout);
        let _ = std::fs::remove_file(dirs.stopping_marker());
        if stopped.is_ok() {
            self.emit(crate::events::EventStatus::Stop);
        }
        stopped
    }

    fn stop_with(&self, st: &State, sig: Signal, timeout: Duration) -> Result<()> {
        let dirs = self.dirs();
        if !timeout.is_zero() {
            signal_init(st, sig)?;
            if wait_until_stopped(&dirs, timeout) {
                return Ok(());
            }
            crate::log::warn(&format!(
                "StopSignal {sig} failed to stop container {} in {} seconds, resorting to SIGKILL",
                self.record.name,
                timeout.as_secs()
            ));
        }
        let st = State::load(&dirs)?;
        signal_init(&st, Signal::SIGKILL)?;
        wait_until_stopped(&dirs, Duration::from_secs(30));
        Ok(())
    }
}
