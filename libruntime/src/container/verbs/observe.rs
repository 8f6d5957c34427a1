//! stats and top: what a running container uses and runs, read from its cgroup and
//! /proc.

use crate::container::handle::Container;
use crate::container::state::Status;
use crate::container::stats::{usage, Usage};
use crate::container::top::{top, Descriptor, Table};
use crate::container::ContainerError;
use crate::error::Result;

impl Container<'_> {
    /// Resource use now; None when the container is not running.
    pub fn stats(&self) -> Option<Usage> {
        usage(self.paths, &self.record)
    }

    /// The container's processes, in the columns `descs` names.
    pub fn top(&self, descs: &[Descriptor]) -> Result<Table> {
        let st = self.state()?;
        if !matches!(st.status, Status::Running | Status::Paused) {
            return Err(ContainerError::StateImproper(format!(
                "{} is not running",
                self.record.name
            ))
            .into());
        }
        Ok(top(st.pid, descs))
    }
}
