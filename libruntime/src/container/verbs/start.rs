//! start: spawn the supervisor and wait for its report, or release an initialized
//! container's program.

use crate::container::handle::Container;
use crate::container::record::ContainerDirs;
use crate::container::spawn::{
    parse_report, spawn_supervisor_with_fds, Spawned, StartError, StartMode,
};
use crate::container::state::{State, Status};
use crate::container::ContainerError;
use crate::error::{Error, Result};
use std::time::{Duration, Instant};

/// Fails unless the container in `dirs` may be started now.
pub fn check_startable(dirs: &ContainerDirs) -> Result<State> {
    let st = State::load(dirs)?;
    if st.is_active() || st.supervisor_alive() {
        return Err(
            ContainerError::StateImproper("the container is already running".into()).into(),
        );
    }
    Ok(st)
}

impl Container<'_> {
    /// Starts the container detached; returns the init's pid.
    pub fn start(&self) -> std::result::Result<i32, StartError> {
        self.start_with_fds(0)
    }

    /// As `start`, handing the program our fds 3 .. 3+`preserve_fds`.
    pub fn start_with_fds(&self, preserve_fds: u32) -> std::result::Result<i32, StartError> {
        let engine = |e: Error| StartError {
            code: 125,
            message: e.to_string(),
        };
        let dirs = self.dirs();
        let st = State::load(&dirs).map_err(engine)?;
        if st.status == Status::Initialized {
            return release_initialized(self).map_err(engine);
        }
        check_startable(&dirs).map_err(engine)?;
        self.start_joined().map_err(engine)?;
        let mut s =
            spawn_supervisor_with_fds(self.paths, &self.record, StartMode::Detached, preserve_fds)
                .map_err(engine)?;
        parse_report(s.next_line())
    }

    /// Spawns the supervisor so that the program starts once the first client
    /// attaches (a foreground run, `start -a`, a build step), so no output is lost;
    /// returns when the supervisor waits for that client. Keep the returned report
    /// pipe until connected: a supervisor whose caller closed it runs the program
    /// without waiting (the caller went away).
    pub fn start_when_attached(
        &self,
        preserve_fds: u32,
    ) -> std::result::Result<Spawned, StartError> {
        self.start_joined().map_err(StartError::from)?;
        let mut s = spawn_supervisor_with_fds(
            self.paths,
            &self.record,
            StartMode::AttachFirst,
            preserve_fds,
        )
        .map_err(StartError::from)?;
        match s.next_line() {
            Some(l) if l == "ready" => Ok(s),
            other => parse_report(other).map(|_| s),
        }
    }
}

impl Container<'_> {
    /// Starts the containers whose namespaces this one joins (a pod's infra), as
    /// podman does; one another command is starting meanwhile is waited for.
    fn start_joined(&self) -> Result<()> {
        let c = &self.record.config;
        let mut targets: Vec<&str> = [
            c.network.joined(),
            c.pid.joined(),
            c.ipc.joined(),
            c.uts.joined(),
        ]
        .into_iter()
        .flatten()
        .collect();
        targets.sort_unstable();
        targets.dedup();
        for t in targets {
            let other = Container::find(self.paths, self.maps, t)?;
            if other.state()?.status == Status::Running {
                continue;
            }
            if let Err(e) = other.start() {
                let running =
                    super::polling::poll_state(&other.dirs(), Duration::from_secs(10), |st| {
                        st.status == Status::Running || !st.supervisor_alive()
                    }) && other.state()?.status == Status::Running;
                if !running {
                    return Err(ContainerError::StateImproper(format!(
                        "starting {}, whose namespaces {} joins: {}",
                        other.record.name, self.record.name, e.message
                    ))
                    .into());
                }
            }
        }
        Ok(())
    }
}

/// Lets an initialized container's program run: its supervisor waits for a first client.
fn release_initialized(c: &Container) -> Result<i32> {
    drop(c.connect(0, None)?);
    let end = Instant::now() + Duration::from_secs(10);
    loop {
        let st = c.state()?;
        if st.status != Status::Initialized {
            return Ok(st.pid);
        }
        if Instant::now() > end {
            return Err(ContainerError::StateImproper(
                "the initialized container did not start".into(),
            )
            .into());
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}
