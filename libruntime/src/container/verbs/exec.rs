//! exec: a new process in the running container, built from its init's process
//! (environment, capabilities, seccomp filter, cgroup) with the caller's changes, and
//! started by joining the container's namespaces (`sandbox::join`).

use crate::container::create::merge_env;
use crate::container::handle::Container;
use crate::container::state::Status;
use crate::container::ContainerError;
use crate::error::{Error, Result};
use crate::sandbox::join::{self, ExecSpec, Joined};
use crate::sandbox::process::StartError;
use crate::sandbox::seccomp::Program;
use oci_spec::runtime::Spec;

/// What `exec` changes in the init's process.
#[derive(Debug, Clone, Default)]
pub struct ExecOptions {
    pub command: Vec<String>,
    /// KEY=VALUE, over the container's environment.
    pub env: Vec<String>,
    pub workdir: Option<String>,
    /// `-u`, resolved against the container's own passwd and group files.
    pub user: Option<String>,
    pub tty: bool,
    /// Keep a stdin pipe open to the process.
    pub interactive: bool,
    pub detach: bool,
    /// Every capability of the container's bounding set, effective.
    pub privileged: bool,
    /// The terminal's size (rows, cols), for `tty`.
    pub size: Option<(u16, u16)>,
}

impl Container<'_> {
    /// Starts the process; returns once it has exec'd, with its pid and its terminal
    /// or stdio pipes.
    pub fn exec(&self, opts: &ExecOptions) -> Result<Joined> {
        let joined = self.spawn_in(opts)?;
        self.emit(crate::events::EventStatus::Exec);
        Ok(joined)
    }

    /// `exec` without its event: the engine's own processes (health checks).
    pub(super) fn spawn_in(&self, opts: &ExecOptions) -> Result<Joined> {
        let st = self.state()?;
        if st.status != Status::Running || !st.init_alive() {
            return Err(ContainerError::StateImproper(format!(
                "can only create exec sessions on running containers: {} is {}",
                self.record.name,
                st.status.as_str()
            ))
            .into());
        }
        let spec: Spec = crate::fsutil::read_json(&self.dirs().spec())?
            .ok_or_else(|| Error::InvalidArgument("the container has no config.json".into()))?;
        let mut process = spec
            .process()
            .clone()
            .ok_or_else(|| Error::InvalidArgument("the container's spec has no process".into()))?;
        let with_secrets = merge_env(
            process.env().as_deref().unwrap_or(&[]),
            &crate::container::secrets::env_entries(self.paths, &self.record.config.secrets)?,
        );
        process.set_env(Some(merge_env(&with_secrets, &opts.env)));
        process.set_args(Some(opts.command.clone()));
        process.set_terminal(Some(opts.tty));
        if let Some(w) = &opts.workdir {
            process.set_cwd(w.into());
        }
        if opts.privileged {
            if let Some(mut c) = process.capabilities().clone() {
                c.set_effective(c.bounding().clone());
                c.set_permitted(c.bounding().clone());
                process.set_capabilities(Some(c));
            }
        }
        let seccomp = spec
            .linux()
            .as_ref()
            .and_then(|l| l.seccomp().as_ref())
            .map(|f| Program::cached(&self.paths.seccomp_cache_dir(), f))
            .transpose()
            .map_err(|e| ContainerError::Start(StartError::engine(e)))?;
        let cgroup = crate::cgroups::ContainerCgroup::at(&st.cgroup);
        join::spawn(
            st.pid,
            ExecSpec {
                process,
                seccomp,
                user: opts.user.clone(),
                tty: opts.tty,
                size: opts.size,
                stdin: opts.interactive,
                detach: opts.detach,
                cgroup_procs: cgroup.procs_file(),
            },
        )
        .map_err(|e| ContainerError::from(e).into())
    }
}
