//! The pod verbs: each applies the container verb to the pod's containers in the order
//! a pod needs (the infra first up and last down), collects what failed, and records
//! one pod event. The two `on_*_exit` hooks are what the supervisors do for pods.

use super::handle::Pod;
use super::record::{self, ExitPolicy};
use super::PodError;
use crate::container::{Container, ContainerRecord, Status};
use crate::error::Result;
use crate::events::EventStatus;
use crate::paths::Paths;
use crate::userns::IdMaps;
use nix::sys::signal::Signal;
use std::time::Duration;

/// What a pod verb did to each container: the ones it acted on, and one line for each
/// it could not act on.
#[derive(Debug, Default)]
pub struct Outcome {
    pub done: Vec<String>,
    pub failed: Vec<String>,
}

impl Outcome {
    fn record(&mut self, c: &ContainerRecord, r: Result<()>) {
        match r {
            Ok(()) => self.done.push(c.id.clone()),
            Err(e) => self.failed.push(format!("{}: {e}", c.name)),
        }
    }

    /// Ok when every container went as asked.
    pub fn into_result(self) -> Result<Outcome> {
        if self.failed.is_empty() {
            Ok(self)
        } else {
            Err(PodError::Members(self.failed).into())
        }
    }
}

impl Pod<'_> {
    /// Starts the infra, then every member that is not running.
    pub fn start(&self) -> Result<Outcome> {
        let mut out = Outcome::default();
        for (c, st) in self.states()? {
            if st.is_active() {
                continue;
            }
            let started = self.handle(&c).start().map(|_| ()).map_err(|e| {
                crate::error::Error::Container(crate::container::ContainerError::Start(e))
            });
            let infra_failed = c.is_infra() && started.is_err();
            out.record(&c, started);
            if infra_failed {
                // Nothing can join namespaces that do not exist.
                break;
            }
        }
        self.emit(EventStatus::Start);
        out.into_result()
    }

    /// Stops the members side by side, each with its stop signal and `timeout`, then
    /// the infra.
    pub fn stop(&self, timeout: Duration) -> Result<Outcome> {
        let mut out = Outcome::default();
        let members = self.members()?;
        let results: Vec<Result<()>> = std::thread::scope(|s| {
            let running: Vec<_> = members
                .iter()
                .map(|c| {
                    let h = self.handle(c);
                    s.spawn(move || h.stop(timeout))
                })
                .collect();
            running
                .into_iter()
                .map(|t| {
                    t.join().unwrap_or_else(|_| {
                        Err(crate::error::Error::InvalidArgument("stop panicked".into()))
                    })
                })
                .collect()
        });
        for (c, r) in members.iter().zip(results) {
            out.record(c, r);
        }
        if let Some(infra) = self.infra()? {
            let r = self.handle(&infra).stop(timeout);
            out.record(&infra, r);
        }
        self.emit(EventStatus::Stop);
        out.into_result()
    }

    pub fn restart(&self, timeout: Duration) -> Result<Outcome> {
        self.stop(timeout)?;
        self.start()
    }

    /// Sends `sig` to every running container, the members before the infra.
    pub fn kill(&self, sig: Signal) -> Result<Outcome> {
        let mut out = Outcome::default();
        let mut states = self.states()?;
        states.reverse();
        for (c, st) in states {
            if matches!(st.status, Status::Running | Status::Paused) {
                let r = self.handle(&c).kill(sig);
                out.record(&c, r);
            }
        }
        if out.done.is_empty() && out.failed.is_empty() {
            return Err(PodError::Members(vec![format!(
                "no container of pod {} is running",
                self.record.name
            )])
            .into());
        }
        self.emit(EventStatus::Kill);
        out.into_result()
    }

    pub fn pause(&self) -> Result<Outcome> {
        self.each_in(Status::Running, EventStatus::Pause, |h| {
            h.pause().map(|_| ())
        })
    }

    pub fn unpause(&self) -> Result<Outcome> {
        self.each_in(Status::Paused, EventStatus::Unpause, |h| {
            h.unpause().map(|_| ())
        })
    }

    fn each_in(
        &self,
        wanted: Status,
        event: EventStatus,
        verb: impl Fn(&Container) -> Result<()>,
    ) -> Result<Outcome> {
        let mut out = Outcome::default();
        for (c, st) in self.states()? {
            if st.status == wanted {
                let r = verb(&self.handle(&c));
                out.record(&c, r);
            }
        }
        self.emit(event);
        out.into_result()
    }

    /// Removes the members, the pod's record, then the infra; running containers only
    /// with `force` (stopped first, with `timeout`). The record goes before the infra
    /// so that a crash midway leaves an infra that `rm` can remove, never a pod
    /// without its infra.
    pub fn remove(&self, force: bool, timeout: Duration) -> Result<()> {
        let states = self.states()?;
        let active = states
            .iter()
            .any(|(_, st)| st.is_active() || st.supervisor_alive());
        if active {
            if !force {
                return Err(PodError::Running(self.record.name.clone()).into());
            }
            self.stop(timeout)?;
        }
        let mut out = Outcome::default();
        for c in self.members()? {
            let r = self.handle(&c).remove(true);
            out.record(&c, r);
        }
        out.into_result()?;
        crate::fsutil::remove_tree(&record::pods_dir(self.paths).join(&self.record.id))?;
        let _ = crate::fsutil::remove_tree(&record::runtime_dir(self.paths, &self.record.id));
        if let Some(infra) = self.infra()? {
            self.handle(&infra).remove(true)?;
        }
        self.emit(EventStatus::Remove);
        Ok(())
    }
}

/// The infra's supervisor, once its process ended: the pod's namespaces are going, so
/// its members are killed (they would otherwise keep a network nobody serves).
pub fn on_infra_exit(paths: &Paths, maps: &IdMaps, infra: &ContainerRecord) {
    let Some(pod_id) = infra.pod_id() else { return };
    let Ok(pod) = Pod::find(paths, maps, pod_id) else {
        return;
    };
    for (c, st) in pod.states().unwrap_or_default() {
        if !c.is_infra() && st.is_active() {
            let _ = pod.handle(&c).kill(Signal::SIGKILL);
        }
    }
}

/// A member's supervisor, once the member ended for good: with `--exit-policy stop`
/// the last member to end stops the infra.
pub fn on_member_exit(paths: &Paths, maps: &IdMaps, member: &ContainerRecord) {
    let Some(pod_id) = member.pod_id() else {
        return;
    };
    let Ok(pod) = Pod::find(paths, maps, pod_id) else {
        return;
    };
    if pod.record.exit_policy != ExitPolicy::Stop {
        return;
    }
    let states = pod.states().unwrap_or_default();
    let others_active = states
        .iter()
        .any(|(c, st)| !c.is_infra() && c.id != member.id && st.is_active());
    if others_active {
        return;
    }
    if let Some((infra, st)) = states.iter().find(|(c, _)| c.is_infra()) {
        if st.is_active() {
            let _ = pod.handle(infra).stop(Duration::from_secs(10));
        }
    }
}
