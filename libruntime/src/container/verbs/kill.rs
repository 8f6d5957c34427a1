//! kill: a signal to the container's init.

use crate::container::handle::Container;
use crate::container::state::{State, Status};
use crate::container::ContainerError;
use crate::error::{Error, Result};
use nix::sys::signal::{kill as send_signal, Signal};
use nix::unistd::Pid;

/// Sends `sig` to the init of `st`, if it is still there.
pub(super) fn signal_init(st: &State, sig: Signal) -> Result<()> {
    if st.pid <= 0 || !st.init_alive() {
        return Ok(());
    }
    match send_signal(Pid::from_raw(st.pid), sig) {
        Ok(()) | Err(nix::errno::Errno::ESRCH) => Ok(()),
        Err(e) => Err(Error::sys(format!("sending {sig} to the container"), e)),
    }
}

impl Container<'_> {
    pub fn kill(&self, sig: Signal) -> Result<()> {
        let dirs = self.dirs();
        let st = State::load(&dirs)?;
        if st.status != Status::Running && st.status != Status::Paused {
            return Err(ContainerError::StateImproper(format!(
                "can only kill running containers. {} is in state {}",
                self.record.short_id(),
                st.status.as_str()
            ))
            .into());
        }
        // A killed container is not restarted, as with podman.
        let _ = std::fs::write(dirs.stop_marker(), b"");
        signal_init(&st, sig)?;
        let e = self
            .record
            .event(crate::events::EventStatus::Kill)
            .attr("signal", sig.as_str().trim_start_matches("SIG"));
        crate::events::emit(self.paths, &e);
        Ok(())
    }
}
