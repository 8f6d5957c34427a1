//! Waiting on the supervisor's state file, shared by stop, wait and remove.

use crate::container::record::ContainerDirs;
use crate::container::state::State;
use std::time::{Duration, Instant};

/// Polls until the supervisor has gone or recorded the exit; false on timeout.
pub(super) fn wait_until_stopped(dirs: &ContainerDirs, timeout: Duration) -> bool {
    poll_state(dirs, timeout, |st| {
        !st.is_active() && !st.supervisor_alive()
    })
}

/// Polls the state with a short, growing pause until `done`; false on timeout.
pub(super) fn poll_state(
    dirs: &ContainerDirs,
    timeout: Duration,
    done: impl Fn(&State) -> bool,
) -> bool {
    let end = Instant::now() + timeout;
    let mut pause = Duration::from_millis(1);
    loop {
        let st = State::load(dirs).unwrap_or_default();
        if done(&st) {
            return true;
        }
        if Instant::now() >= end {
            return false;
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}
