//! rm: a running container only with force (it is killed first); then every file it
//! left.

use super::polling::poll_state;
use crate::container::handle::Container;
use crate::container::state::State;
use crate::container::ContainerError;
use crate::error::{Error, Result};
use crate::syscall::Syscall as _;
use crate::{cgroups, fsutil};
use std::time::{Duration, Instant};

impl Container<'_> {
    /// The pod whose infra this is, while that pod exists: its members live in this
    /// container's namespaces, so it goes only with the pod (`pod rm`).
    pub fn held_by_pod(&self) -> Option<&str> {
        let pod = self.record.pod_id()?;
        (self.record.is_infra() && self.paths.pods_dir().join(pod).exists()).then_some(pod)
    }

    pub fn remove(&self, force: bool) -> Result<()> {
        if let Some(pod) = self.held_by_pod() {
            return Err(ContainerError::StateImproper(format!(
                "container {} is the infra container of pod {}: remove the pod instead (pod rm)",
                self.record.name,
                &pod[..12.min(pod.len())]
            ))
            .into());
        }
        let dirs = self.dirs();
        let st = State::load(&dirs)?;
        if !st.is_active() && st.supervisor_alive() {
            // The container has ended and its supervisor is tearing down: let it finish.
            poll_state(&dirs, Duration::from_secs(10), |st| !st.supervisor_alive());
        }
        let st = State::load(&dirs)?;
        if st.is_active() || st.supervisor_alive() {
            if !force {
                return Err(Error::Container(ContainerError::Running {
                    id: self.record.id.clone(),
                    state: st.status.as_str().into(),
                }));
            }
            self.stop(Duration::ZERO)?;
            // The supervisor tears down after recording the exit: let it finish.
            let end = Instant::now() + Duration::from_secs(10);
            while State::load(&dirs)?.supervisor_alive() && Instant::now() < end {
                std::thread::sleep(Duration::from_millis(2));
            }
        }
        self.remove_files()
    }

    /// Deletes everything the container left: record, bundle, upper layer, log,
    /// runtime state, cgroup. The directory is first renamed into the staging area so
    /// that the container disappears at once and a crash midway leaves only staging
    /// debris.
    pub fn remove_files(&self) -> Result<()> {
        let dirs = self.dirs();
        let trash = crate::store::Store::open(self.paths).staging_path("rm");
        fsutil::create_dir_all(&self.paths.tmp_dir())?;
        // `skiff mount` left it mounted: removing through the mount would reach the layers.
        let merged = dirs.merged();
        if crate::syscall::is_mounted(&merged) {
            crate::syscall::LINUX.unmount(&merged)?;
        }
        match std::fs::rename(&dirs.dir, &trash) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io(format!("removing {}", dirs.dir.display()), e)),
        }
        let cgroup = State::load(&dirs).map(|st| st.cgroup).unwrap_or_default();
        crate::network::pasta::clean_up_after(&dirs.run);
        let _ = std::fs::remove_dir_all(&dirs.run);
        cgroups::ContainerCgroup::at(&cgroup).remove();
        // Files the container made belong to subordinate ids: if removing them as we
        // are fails, remove them from inside the storage user namespace.
        if trash.exists() && fsutil::remove_tree(&trash).is_err() {
            crate::userns::run_in_storage_ns(self.maps, || fsutil::remove_tree(&trash))?;
        }
        self.emit(crate::events::EventStatus::Remove);
        Ok(())
    }
}
