//! pause and unpause: the cgroup freezer where there is one, else SIGSTOP/SIGCONT to
//! every process in the container's pid namespace (rootless on cgroup v1).

use crate::container::handle::Container;
use crate::container::state::{State, Status};
use crate::container::ContainerError;
use crate::error::Result;
use crate::{cgroups, procinfo};
use nix::sys::signal::{kill as send_signal, Signal};
use nix::unistd::Pid;

/// How a container was frozen or thawed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PauseMethod {
    Freezer,
    Signals,
}

impl Container<'_> {
    pub fn pause(&self) -> Result<PauseMethod> {
        self.set_paused(true)
    }

    pub fn unpause(&self) -> Result<PauseMethod> {
        self.set_paused(false)
    }

    fn set_paused(&self, on: bool) -> Result<PauseMethod> {
        let dirs = self.dirs();
        let st = State::load(&dirs)?;
        let (want, verb) = if on {
            (Status::Running, "pause")
        } else {
            (Status::Paused, "unpause")
        };
        if st.status != want {
            return Err(ContainerError::StateImproper(format!(
                "cannot {verb} {}: it is {}",
                self.record.name,
                st.status.as_str()
            ))
            .into());
        }
        let method = if cgroups::ContainerCgroup::at(&st.cgroup).freeze(on) {
            PauseMethod::Freezer
        } else {
            let sig = if on { Signal::SIGSTOP } else { Signal::SIGCONT };
            for pid in procinfo::pids_in_pid_ns(st.pid) {
                let _ = send_signal(Pid::from_raw(pid), sig);
            }
            PauseMethod::Signals
        };
        // Re-read: the supervisor may have written meanwhile.
        let fresh = State::load(&dirs)?;
        State {
            status: if on { Status::Paused } else { Status::Running },
            ..fresh
        }
        .store(&dirs)?;
        self.emit(if on {
            crate::events::EventStatus::Pause
        } else {
            crate::events::EventStatus::Unpause
        });
        Ok(method)
    }
}
