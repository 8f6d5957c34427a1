//! The container handle: one container, the store it lives in, and its verbs. The CLI,
//! a kube controller and the API server act on containers through it; each verb is a
//! file under `verbs/`. The verbs talk to the supervisor only through the state file,
//! signals and the attach socket; no lock is held while a container runs.

use super::record::{ContainerDirs, ContainerRecord};
use super::state::State;
use crate::error::Result;
use crate::paths::Paths;
use crate::userns::IdMaps;

pub struct Container<'a> {
    pub paths: &'a Paths,
    pub maps: &'a IdMaps,
    pub record: ContainerRecord,
}

impl<'a> Container<'a> {
    pub fn new(paths: &'a Paths, maps: &'a IdMaps, record: ContainerRecord) -> Self {
        Container {
            paths,
            maps,
            record,
        }
    }

    /// The container named `what` (a name, an id, or an id's prefix).
    pub fn find(paths: &'a Paths, maps: &'a IdMaps, what: &str) -> Result<Self> {
        Ok(Container::new(paths, maps, super::find(paths, what)?))
    }

    pub fn dirs(&self) -> ContainerDirs {
        ContainerDirs::new(self.paths, &self.record.id)
    }

    /// Records that `status` happened to this container.
    pub fn emit(&self, status: crate::events::EventStatus) {
        crate::events::emit(self.paths, &self.record.event(status));
    }

    /// What the supervisor last recorded.
    pub fn state(&self) -> Result<State> {
        State::load(&self.dirs())
    }
}
