//! wait: until the container has exited for good (after restarts).

use super::polling::{poll_state, wait_until_stopped};
use crate::container::handle::Container;
use crate::container::state::State;
use crate::error::Result;
use crate::supervisor::protocol;
use std::time::Duration;

impl Container<'_> {
    /// Blocks until the container has exited for good; its exit code.
    pub fn wait(&self) -> Result<i32> {
        let dirs = self.dirs();
        if let Ok(mut s) = self.connect(0, None) {
            while let Ok(Some((kind, p))) = protocol::read_frame(&mut s) {
                if kind == protocol::EXIT && p.len() == 4 {
                    return Ok(i32::from_be_bytes([p[0], p[1], p[2], p[3]]));
                }
            }
        }
        wait_until_stopped(&dirs, Duration::from_secs(u64::MAX / 4));
        Ok(State::load(&dirs)?.exit_code)
    }

    /// For `run --rm` in the foreground: returns once the container is gone, so that
    /// the next command can reuse its name. The supervisor removes it after the exit;
    /// if the supervisor died first (or never got that far), it is removed here.
    pub fn await_auto_removal(&self) -> Result<()> {
        let dirs = self.dirs();
        poll_state(&dirs, Duration::from_secs(60), |st| !st.supervisor_alive());
        if !dirs.dir.exists() {
            return Ok(());
        }
        self.remove_files()?;
        crate::container::volumes::remove_anonymous_of(self.paths, self.maps, &self.record)
    }
}
