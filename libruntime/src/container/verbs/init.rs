//! `container init`: the sandbox is built, the program waits for `start`.

use crate::container::handle::Container;
use crate::container::spawn::{parse_report, spawn_supervisor, StartMode};
use crate::container::state::Status;
use crate::container::ContainerError;
use crate::error::Result;
use crate::events::EventStatus;

impl Container<'_> {
    /// Builds the sandbox without running the program; returns the init's pid.
    /// `start` or an attach lets the program run.
    pub fn initialize(&self) -> Result<i32> {
        let st = self.state()?;
        if st.status == Status::Initialized {
            return Ok(st.pid);
        }
        if st.is_active() || st.supervisor_alive() {
            return Err(ContainerError::StateImproper(format!(
                "container {} has already been created in runtime: container state improper",
                self.record.short_id()
            ))
            .into());
        }
        let mut s = spawn_supervisor(self.paths, &self.record, StartMode::Hold)?;
        match s.next_line() {
            Some(l) if l.starts_with("initialized ") => {
                self.emit(EventStatus::Init);
                Ok(l["initialized ".len()..].parse().unwrap_or(0))
            }
            other => parse_report(other).map_err(|f| ContainerError::Start(f).into()),
        }
    }
}
