//! The runtime state of a container, written by its supervisor to the runtime root and
//! read by every other command. A reader never trusts a pid alone: it checks that the
//! supervisor still lives, so a killed supervisor shows as exited, never as a ghost.

use super::record::ContainerDirs;
use crate::error::Result;
use crate::fsutil;
use crate::procinfo;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    #[default]
    Created,
    /// `container init` built its sandbox; the program has not run yet.
    Initialized,
    Running,
    Paused,
    Exited,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Created => "created",
            Status::Initialized => "initialized",
            Status::Running => "running",
            Status::Paused => "paused",
            Status::Exited => "exited",
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct State {
    pub status: Status,
    /// Host pid of the container's init; 0 when not running.
    pub pid: i32,
    pub pid_start: u64,
    pub supervisor_pid: i32,
    pub supervisor_start: u64,
    pub started_at: String,
    pub finished_at: String,
    pub exit_code: i32,
    pub restart_count: u32,
    /// Why the last start failed, if it did.
    pub error: String,
    /// True while the supervisor waits to restart the container.
    pub restarting: bool,
    /// The kernel's OOM killer ended the last run.
    #[serde(default)]
    pub oom_killed: bool,
    /// The container's cgroup directories, as its supervisor made them.
    #[serde(default)]
    pub cgroup: Vec<std::path::PathBuf>,
    /// A `stop` is waiting for the container to end (from its marker, not stored).
    #[serde(skip)]
    pub stopping: bool,
    /// What its health checks found, while it runs (from health.json, not stored).
    #[serde(skip)]
    pub health: Option<super::health::HealthState>,
}

impl State {
    /// The state as stored, corrected for processes that died without a word.
    pub fn load(dirs: &ContainerDirs) -> Result<State> {
        let mut s: State = fsutil::read_json(&dirs.state())
            .ok()
            .flatten()
            .unwrap_or_default();
        s.reconcile();
        s.stopping = s.is_active() && dirs.stopping_marker().exists();
        if s.is_active() {
            s.health = super::health::load(dirs);
        }
        Ok(s)
    }

    pub fn store(&self, dirs: &ContainerDirs) -> Result<()> {
        fsutil::create_dir_all(&dirs.run)?;
        let data = serde_json::to_vec(self).map_err(|e| crate::error::Error::json("state", e))?;
        fsutil::replace_file(&dirs.state(), &data)
    }

    pub fn supervisor_alive(&self) -> bool {
        procinfo::alive(self.supervisor_pid, self.supervisor_start)
    }

    pub fn init_alive(&self) -> bool {
        procinfo::alive(self.pid, self.pid_start)
    }

    /// The status as podman names it, "stopping" included.
    pub fn status_name(&self) -> &'static str {
        if self.stopping && self.status == Status::Running {
            "stopping"
        } else {
            self.status.as_str()
        }
    }

    pub fn is_active(&self) -> bool {
        matches!(
            self.status,
            Status::Running | Status::Paused | Status::Initialized
        ) || self.restarting
    }

    fn reconcile(&mut self) {
        if !(self.is_active() || self.status == Status::Created && self.supervisor_pid > 0) {
            return;
        }
        if self.supervisor_alive() {
            return;
        }
        // The supervisor is gone. The container dies with it (parent-death signal), so
        // unless the init somehow lingers, it has exited with an unknown code.
        if self.is_active() && self.init_alive() {
            return;
        }
        if self.status != Status::Created {
            self.status = Status::Exited;
            self.exit_code = -1;
            if self.error.is_empty() {
                self.error = "the container's supervisor died".into();
            }
        }
        self.supervisor_pid = 0;
        self.restarting = false;
        self.pid = 0;
    }
}
