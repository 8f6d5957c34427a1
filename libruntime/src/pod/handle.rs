//! The pod handle: one pod, the store it lives in, and its containers.

use super::record::PodRecord;
use super::status::{pod_status, PodStatus};
use crate::container::{Container, ContainerRecord, State};
use crate::error::Result;
use crate::paths::Paths;
use crate::userns::IdMaps;

pub struct Pod<'a> {
    pub paths: &'a Paths,
    pub maps: &'a IdMaps,
    pub record: PodRecord,
}

impl<'a> Pod<'a> {
    pub fn new(paths: &'a Paths, maps: &'a IdMaps, record: PodRecord) -> Self {
        Pod {
            paths,
            maps,
            record,
        }
    }

    /// The pod named `what` (a name, an id, or an id's prefix).
    pub fn find(paths: &'a Paths, maps: &'a IdMaps, what: &str) -> Result<Self> {
        Ok(Pod::new(paths, maps, super::find(paths, what)?))
    }

    /// Every container of the pod, the infra first.
    pub fn containers(&self) -> Result<Vec<ContainerRecord>> {
        let mut all: Vec<ContainerRecord> = crate::container::list(self.paths)?
            .into_iter()
            .filter(|c| c.pod_id() == Some(self.record.id.as_str()))
            .collect();
        all.sort_by_key(|c| !c.is_infra());
        Ok(all)
    }

    /// The containers that are not the infra.
    pub fn members(&self) -> Result<Vec<ContainerRecord>> {
        Ok(self
            .containers()?
            .into_iter()
            .filter(|c| !c.is_infra())
            .collect())
    }

    pub fn infra(&self) -> Result<Option<ContainerRecord>> {
        Ok(self.containers()?.into_iter().find(|c| c.is_infra()))
    }

    /// Each container with what its supervisor last recorded.
    pub fn states(&self) -> Result<Vec<(ContainerRecord, State)>> {
        self.containers()?
            .into_iter()
            .map(|c| {
                let st = self.handle(&c).state()?;
                Ok((c, st))
            })
            .collect()
    }

    pub fn status(&self) -> Result<PodStatus> {
        let states: Vec<_> = self.states()?.into_iter().map(|(_, s)| s.status).collect();
        Ok(pod_status(&states))
    }

    pub fn handle(&self, c: &ContainerRecord) -> Container<'a> {
        Container::new(self.paths, self.maps, c.clone())
    }

    /// Records that `status` happened to this pod.
    pub fn emit(&self, status: crate::events::EventStatus) {
        crate::events::emit(self.paths, &self.record.event(status));
    }
}
