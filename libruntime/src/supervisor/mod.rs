//! The per-container supervisor: a detached process (same binary, hidden subcommand)
//! that starts the container, owns its stdio, writes the log, serves the attach socket,
//! records the exit, applies the restart policy, honours `--rm`, and then exits. It is
//! single-threaded and sleeps in poll(2) between events.

pub mod clients;
pub mod protocol;

use crate::container::logfile::LogWriter;
use crate::container::record::ContainerDirs;
use crate::container::spawn::StartMode;
use crate::container::state::{State, Status};
use crate::container::ContainerError;
use crate::container::ContainerRecord;
use crate::error::{Error, Result};
use crate::events::EventStatus;
use crate::network::backend::{NetContext, NetworkBackend};
use crate::paths::Paths;
use crate::sandbox::{self, process::StartError, Stdio};
use crate::store::StoreError;
use crate::userns::IdMaps;
use crate::{cgroups, fsutil, hooks, procinfo, time};
use clients::Clients;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::unistd::Pid;
use oci_spec::runtime::ContainerState;
use oci_spec::runtime::{LinuxNamespaceType, Spec};
use std::io::Write;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::net::UnixListener;
use std::time::Duration;

pub struct Options {
    pub paths: Paths,
    pub maps: IdMaps,
    pub id: String,
    /// When the program starts: at once, with the first attach client, or on `start`.
    pub mode: StartMode,
    /// Fds the spawning CLI handed over (`run --preserve-fds`), held at
    /// `sandbox::PRESERVED_FDS_BASE` and given to the program at 3, 4, ….
    pub preserve_fds: u32,
    /// Where to tell the spawning CLI how the start went.
    pub status_fd: Option<OwnedFd>,
}

/// What the supervisor tells the CLI that spawned it, one line each.
fn report(status: &mut Option<std::fs::File>, line: &str) {
    if let Some(f) = status {
        if f.write_all(format!("{line}\n").as_bytes()).is_err() {
            *status = None;
        }
    }
}

struct Supervisor {
    mode: StartMode,
    preserve_fds: u32,
    paths: Paths,
    maps: IdMaps,
    record: ContainerRecord,
    dirs: ContainerDirs,
    spec: Spec,
    state: State,
    log: LogWriter,
    clients: Clients,
    listener: UnixListener,
    cgroup: cgroups::ContainerCgroup,
    /// OOM kills the cgroup had counted when the program started.
    oom_kills_before: u64,
    status: Option<std::fs::File>,
    /// The running container's root when the supervisor serves it from outside
    /// (fuse-overlayfs); dropping it stops the daemon.
    served_root: Option<crate::graph::RootMount>,
    /// What makes the running container's network reachable (slirp4netns, pasta, a
    /// bridge), stopped when it exits.
    network: Option<Box<dyn NetworkBackend>>,
    /// Held while this supervisor lives: a second one for the same container fails.
    _lock: crate::lock::StoreLock,
}

pub fn run(mut opts: Options) -> i32 {
    let status = opts.status_fd.take().map(std::fs::File::from);
    match Supervisor::new(opts) {
        Ok(mut s) => {
            s.status = status;
            s.main()
        }
        Err(e) => {
            report(&mut Some(status).flatten(), &format!("error 125 {e}"));
            crate::log::error(&format!("supervisor: {e}"));
            125
        }
    }
}

impl Supervisor {
    fn new(opts: Options) -> Result<Supervisor> {
        // The CLI passes the full id: read the record directly, no search.
        if opts.id.len() != 64 || !opts.id.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(Error::Container(ContainerError::NotFound(opts.id.clone())));
        }
        let dirs = ContainerDirs::new(&opts.paths, &opts.id);
        let record: ContainerRecord = fsutil::read_json(&dirs.record())?
            .ok_or_else(|| Error::Container(ContainerError::NotFound(opts.id.clone())))?;
        let spec: Spec = fsutil::read_json(&dirs.spec())?.ok_or_else(|| {
            Error::Store(StoreError::Corrupt {
                path: dirs.spec(),
                reason: "missing config.json".into(),
            })
        })?;
        fsutil::create_dir_all(&dirs.run)?;
        let lock = crate::lock::StoreLock::try_exclusive(&dirs.run.join("supervisor.lock"))?
            .ok_or_else(|| {
                Error::InvalidArgument(format!("container {} is already running", record.name))
            })?;
        let _ = std::fs::remove_file(dirs.socket());
        let listener = UnixListener::bind(dirs.socket())
            .map_err(|e| Error::io(format!("binding {}", dirs.socket().display()), e))?;
        listener
            .set_nonblocking(true)
            .map_err(|e| Error::io("attach socket", e))?;
        let log_file = record.config.log.file(&dirs);
        let log =
            LogWriter::open(log_file.as_deref(), record.config.log.max_size).map_err(|e| {
                Error::io(
                    format!("opening the log {}", log_file.unwrap_or_default().display()),
                    e,
                )
            })?;
        if let Some(p) = &record.config.supervisor_pidfile {
            fsutil::replace_file(p, std::process::id().to_string().as_bytes())?;
        }
        let mut state = State::load(&dirs)?;
        state.supervisor_pid = std::process::id() as i32;
        state.supervisor_start = procinfo::start_time(state.supervisor_pid).unwrap_or(0);
        state.error.clear();
        let cgroup = cgroups::ContainerCgroup::create(
            &record.id,
            &record.config.resources,
            &record.config.cgroups,
        );
        state.cgroup = cgroup.dirs.clone();
        state.store(&dirs)?;
        let clients = Clients::default();
        Ok(Supervisor {
            mode: opts.mode,
            preserve_fds: opts.preserve_fds,
            paths: opts.paths,
            maps: opts.maps,
            status: None,
            dirs,
            spec,
            state,
            log,
            clients,
            listener,
            cgroup,
            oom_kills_before: 0,
            record,
            served_root: None,
            network: None,
            _lock: lock,
        })
    }

    fn main(&mut self) -> i32 {
        let _ = nix::sys::prctl::set_child_subreaper(true);
        let mut mask = SigSet::empty();
        mask.add(Signal::SIGCHLD);
        let _ = mask.thread_block();
        let sigfd =
            match SignalFd::with_flags(&mask, SfdFlags::SFD_CLOEXEC | SfdFlags::SFD_NONBLOCK) {
                Ok(f) => f,
                Err(e) => {
                    crate::log::error(&format!("supervisor: signalfd: {e}"));
                    return 125;
                }
            };
        let mut first = true;
        let code = loop {
            let code = match self.start_once(first) {
                Ok(pid) => self.watch(pid, &sigfd),
                Err(e) => {
                    self.state.error = e.message.clone();
                    report(&mut self.status, &format!("error {} {}", e.code, e.message));
                    self.clients.start_error(e.code, &e.message);
                    e.code
                }
            };
            first = false;
            self.record_exit(code);
            let stopped = self.dirs.stop_marker().exists();
            // `--health-on-failure=restart` killed it: restarted whatever the policy.
            let health_restart =
                std::fs::remove_file(crate::container::verbs::health_restart_marker(&self.dirs))
                    .is_ok();
            if self.state.error.is_empty()
                && (health_restart && !stopped
                    || self.record.config.restart.should_restart(
                        code,
                        self.state.restart_count,
                        stopped,
                    ))
            {
                self.state.restarting = true;
                let _ = self.state.store(&self.dirs);
                let backoff = 100u64 << self.state.restart_count.min(4);
                self.pause_serving(Duration::from_millis(backoff));
                if self.dirs.stop_marker().exists() {
                    self.state.restarting = false;
                    let _ = self.state.store(&self.dirs);
                    break code;
                }
                self.state.restart_count += 1;
                crate::events::emit(&self.paths, &self.record.event(EventStatus::Restart));
                continue;
            }
            break code;
        };
        self.finish(code)
    }

    /// Creates the sandbox and starts the program; returns the init's pid.
    fn start_once(&mut self, first: bool) -> std::result::Result<Pid, StartError> {
        self.refresh_joined_namespaces()?;
        crate::container::secrets::materialize(
            &self.paths,
            &self.maps,
            &self.record.config.secrets,
            &self.dirs,
            &mut self.spec,
        )?;
        self.cgroup
            .apply(&self.record.config.resources)
            .map_err(StartError::from)?;
        self.oom_kills_before = self.cgroup.oom_kills();
        let filter = self.seccomp_program()?;
        let tty = self.record.config.tty;
        let (stdio, ours) = Stdio::new(tty, self.record.config.stdin)?;
        let mut network = crate::network::backend::for_mode(
            &self.record.config.network,
            self.record.config.slirp.clone(),
            || {
                Box::new(crate::container::networks::ContainerBridge {
                    paths: self.paths.clone(),
                    record: self.record.clone(),
                    dirs: self.dirs.clone(),
                })
            },
        );
        let prepared = network.prepare(&self.net_context());
        if let Err(e) = prepared {
            network.stop(&self.net_context());
            return Err(e.into());
        }
        if let (Some(ns), true) = (network.user_namespace(), self.paths.rootless) {
            self.join_user_namespace(&ns)?;
        }
        let plan =
            crate::container::rootfs_plan::rootfs_plan(&self.paths, &self.record, &self.dirs);
        let maps = sandbox::spec_maps(&self.spec);
        let rootless = self.paths.rootless;
        let cgroup = self.cgroup.clone();
        let network = std::cell::RefCell::new(network);
        let cx = NetContext {
            paths: &self.paths,
            maps: &self.maps,
            run_dir: &self.dirs.run,
            ports: &self.record.config.ports,
        };
        // The network's first step overlaps the init's building of the root.
        let placed = std::cell::RefCell::new(Ok(()));
        let place = |pid: Pid| {
            cgroup.add(pid.as_raw());
            *placed.borrow_mut() = network.borrow_mut().placed(&cx, pid);
        };
        let setup = move |pid: Pid| -> std::result::Result<(), String> {
            if let Some((u, g)) = &maps {
                crate::userns::write_maps(pid.as_raw(), u, g, rootless)
                    .map_err(|e| e.to_string())?;
            }
            Ok(())
        };
        let workdir = if self.record.config.workdir_must_exist {
            sandbox::Workdir::MustExist {
                container: self.record.id.clone(),
            }
        } else {
            sandbox::Workdir::Create
        };
        let created = sandbox::create(sandbox::Launch {
            spec: &self.spec,
            seccomp: filter.as_ref(),
            rootfs: &plan,
            workdir,
            stdio,
            program: if self.record.runs_pause() {
                sandbox::Program::Pause
            } else if self.record.config.init {
                sandbox::Program::SpecUnderInit
            } else {
                sandbox::Program::Spec
            },
            preserved: (0..self.preserve_fds as i32)
                .map(|i| sandbox::PRESERVED_FDS_BASE + i)
                .collect(),
            setup: &setup,
            place: &place,
        });
        let mut network = network.into_inner();
        let started = match created {
            Ok(c) => placed
                .into_inner()
                .and_then(|_| network.start(&cx, c.pid))
                .map(|_| c)
                .map_err(StartError::from),
            Err(e) => Err(e),
        };
        let mut created = match started {
            Ok(c) => c,
            Err(e) => {
                network.stop(&cx);
                return Err(e);
            }
        };
        self.network = Some(network);
        self.served_root = created.served_root.take();
        let (stdin, stdout, stderr) = match (ours, created.terminal.as_ref()) {
            (_, Some(t)) => {
                let t = t
                    .try_clone()
                    .map_err(|e| StartError::engine(format!("terminal: {e}")))?;
                (
                    Some(
                        t.try_clone()
                            .map_err(|e| StartError::engine(e.to_string()))?,
                    ),
                    Some(t),
                    None,
                )
            }
            (Some(p), None) => (p.stdin, Some(p.stdout), Some(p.stderr)),
            (None, None) => (None, None, None),
        };
        self.clients.set_streams(stdin, stdout, stderr, tty);
        if first {
            match self.mode {
                StartMode::Detached => {}
                StartMode::AttachFirst => {
                    report(&mut self.status, "ready");
                    self.wait_for_first_client();
                }
                StartMode::Hold => self.hold(created.pid)?,
            }
        }
        let state_json = self.oci_state(ContainerState::Created, created.pid.as_raw());
        if let Some(h) = self.spec.hooks() {
            #[allow(deprecated)]
            let pre = h
                .prestart()
                .iter()
                .flatten()
                .chain(h.create_runtime().iter().flatten())
                .cloned()
                .collect::<Vec<_>>();
            hooks::run_stage(&pre, &state_json).map_err(StartError::engine)?;
        }
        let pid = created.start()?;
        self.state.status = Status::Running;
        self.state.pid = pid.as_raw();
        self.state.pid_start = procinfo::start_time(pid.as_raw()).unwrap_or(0);
        self.state.started_at = time::now_rfc3339();
        self.state.restarting = false;
        self.state.error.clear();
        let _ = self.state.store(&self.dirs);
        crate::events::emit(&self.paths, &self.record.event(EventStatus::Start));
        report(&mut self.status, &format!("started {}", pid.as_raw()));
        self.status = None;
        if let Some(h) = self.spec.hooks() {
            let state_json = self.oci_state(ContainerState::Running, pid.as_raw());
            if let Err(e) = hooks::run_stage(h.poststart().as_deref().unwrap_or(&[]), &state_json) {
                crate::log::warn(&e);
            }
        }
        Ok(pid)
    }

    /// The spec's seccomp filter, compiled (or from the store's cache).
    fn seccomp_program(
        &self,
    ) -> std::result::Result<Option<sandbox::seccomp::Program>, StartError> {
        self.spec
            .linux()
            .as_ref()
            .and_then(|l| l.seccomp().as_ref())
            .map(|f| sandbox::seccomp::Program::cached(&self.paths.seccomp_cache_dir(), f))
            .transpose()
            .map_err(StartError::engine)
    }

    /// The OCI state document hooks read on stdin.
    fn oci_state(&self, status: ContainerState, pid: i32) -> oci_spec::runtime::State {
        let mut st = oci_spec::runtime::State::default();
        st.set_version("1.1.0".into());
        st.set_id(self.record.id.clone());
        st.set_status(status);
        st.set_pid((pid > 0).then_some(pid));
        st.set_bundle(self.dirs.dir.clone());
        st.set_annotations(Some(
            self.record
                .config
                .annotations
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ));
        st
    }

    /// `--pid/--ipc/--uts/--network container:NAME`: point the spec at that
    /// container's namespaces as they are now, and at its user namespace.
    fn refresh_joined_namespaces(&mut self) -> std::result::Result<(), StartError> {
        let c = &self.record.config;
        let wanted: Vec<(&str, &str)> = [
            ("pid", c.pid.joined()),
            ("ipc", c.ipc.joined()),
            ("uts", c.uts.joined()),
            ("network", c.network.joined()),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.map(|t| (k, t)))
        .collect();
        if wanted.is_empty() {
            return Ok(());
        }
        let mut joined_user = None;
        for (kind, target) in wanted {
            let other = crate::container::find(&self.paths, target)
                .map_err(|e| StartError::engine(e.to_string()))?;
            let st = State::load(&ContainerDirs::new(&self.paths, &other.id))
                .map_err(|e| StartError::engine(e.to_string()))?;
            if st.status != Status::Running {
                return Err(StartError::engine(format!(
                    "cannot join the {kind} namespace of {target}: it is not running"
                )));
            }
            let (typ, nsname) = match kind {
                "pid" => (LinuxNamespaceType::Pid, "pid"),
                "ipc" => (LinuxNamespaceType::Ipc, "ipc"),
                "uts" => (LinuxNamespaceType::Uts, "uts"),
                _ => (LinuxNamespaceType::Network, "net"),
            };
            let path = format!("/proc/{}/ns/{nsname}", st.pid);
            crate::container::spec::point_namespace(&mut self.spec, typ, path.into())
                .map_err(|e| StartError::engine(e.to_string()))?;
            joined_user = Some(st.pid);
        }
        // Joined namespaces belong to the other container's user namespace: join it too.
        if let Some(pid) = joined_user {
            self.join_user_namespace(std::path::Path::new(&format!("/proc/{pid}/ns/user")))?;
        }
        Ok(())
    }

    fn net_context(&self) -> NetContext<'_> {
        NetContext {
            paths: &self.paths,
            maps: &self.maps,
            run_dir: &self.dirs.run,
            ports: &self.record.config.ports,
        }
    }

    /// Points the spec at an existing user namespace (when it asks for one at all),
    /// whose id maps are already written.
    fn join_user_namespace(
        &mut self,
        path: &std::path::Path,
    ) -> std::result::Result<(), StartError> {
        crate::container::spec::join_user_namespace(&mut self.spec, path)
            .map_err(|e| StartError::engine(e.to_string()))
    }

    /// `container init`: the sandbox stands and the program waits; says so, then waits
    /// for the client (`start` or an attach) that lets it run. A stop meanwhile kills
    /// the waiting init, which ends the wait with an error.
    fn hold(&mut self, init: Pid) -> std::result::Result<(), StartError> {
        self.state.status = Status::Initialized;
        self.state.pid = init.as_raw();
        self.state.pid_start = procinfo::start_time(init.as_raw()).unwrap_or(0);
        let _ = self.state.store(&self.dirs);
        report(&mut self.status, &format!("initialized {}", init.as_raw()));
        // The CLI that ran `init` returns now.
        self.status = None;
        loop {
            if self.clients.accept(&self.listener) {
                return Ok(());
            }
            let gone = matches!(
                nix::sys::wait::waitpid(init, Some(nix::sys::wait::WaitPidFlag::WNOHANG)),
                Ok(nix::sys::wait::WaitStatus::Exited(..)
                    | nix::sys::wait::WaitStatus::Signaled(..))
                    | Err(_)
            );
            if gone {
                self.state.pid = 0;
                return Err(StartError {
                    code: 137,
                    message: "the container was stopped before its program started".into(),
                });
            }
            let mut fds = [PollFd::new(self.listener.as_fd(), PollFlags::POLLIN)];
            let _ = poll(&mut fds, PollTimeout::from(200u16));
        }
    }

    fn wait_for_first_client(&mut self) {
        loop {
            if self.clients.accept(&self.listener) {
                return;
            }
            let status_gone = self.status.as_ref().is_none_or(|f| {
                let mut fds = [PollFd::new(f.as_fd(), PollFlags::empty())];
                matches!(poll(&mut fds, PollTimeout::ZERO), Ok(n) if n > 0)
            });
            if status_gone {
                // The CLI went away before attaching: run without it.
                return;
            }
            let mut fds = [PollFd::new(self.listener.as_fd(), PollFlags::POLLIN)];
            let _ = poll(&mut fds, PollTimeout::from(200u16));
        }
    }

    /// Serves clients and output until the init exits; returns its exit code.
    fn watch(&mut self, pid: Pid, sigfd: &SignalFd) -> i32 {
        // From here on the supervisor mostly sleeps in poll: keep its footprint small.
        // Once more a moment later: pages still shared with the exiting CLI are not
        // paged out the first time.
        procinfo::shed_startup_memory();
        let mut shed_again = Some(std::time::Instant::now() + Duration::from_millis(1500));
        let mut deadline = (self.record.config.timeout > 0).then(|| {
            std::time::Instant::now() + Duration::from_secs(self.record.config.timeout.into())
        });
        // Health checks run from here, each in a `healthcheck run` child, so a slow
        // check never holds up the relay of output.
        let health = self.record.config.health.clone();
        if health.is_some() {
            let _ = crate::container::health::reset(&self.dirs);
        }
        // The startup check's interval until it has passed, then the regular one.
        let dirs = self.dirs.clone();
        let interval = || {
            health
                .as_ref()
                .map(|h| crate::container::health::next_interval(h, &dirs))
        };
        let mut next_check = interval().map(|i| std::time::Instant::now() + i);
        let mut checking: Option<Pid> = None;
        let mut code = None;
        loop {
            if let Some(c) = sandbox::sys::reap_children(pid) {
                code = Some(c);
            }
            if let Some(c) = code {
                // Output may still sit in the pipes: take it before reporting the exit.
                self.clients.drain_output(&mut self.log);
                return c;
            }
            if shed_again.is_some_and(|t| std::time::Instant::now() >= t) {
                procinfo::shed_startup_memory();
                shed_again = None;
            }
            if let (Some(at), Some(i)) = (next_check, interval()) {
                if std::time::Instant::now() >= at {
                    let busy = checking.is_some_and(|c| nix::sys::signal::kill(c, None).is_ok());
                    if !busy {
                        checking = self.spawn_healthcheck();
                        // Spawning faulted code back in: give it back once the check
                        // is under way, so a checked container's supervisor stays small.
                        shed_again.get_or_insert(at + Duration::from_millis(300));
                    }
                    next_check = Some(at + i);
                }
            }
            let left = deadline
                .into_iter()
                .chain(next_check)
                .min()
                .map(|d| d.saturating_duration_since(std::time::Instant::now()));
            if deadline.is_some_and(|d| std::time::Instant::now() >= d) {
                // `--timeout`: the container has had its time. It is not restarted.
                let _ = std::fs::write(self.dirs.stop_marker(), b"");
                let _ = nix::sys::signal::kill(pid, Signal::SIGKILL);
                deadline = None;
            }
            self.serve_once(Some(sigfd), left.map(|l| l.min(Duration::from_secs(1))));
        }
    }

    /// Starts `healthcheck run` for this container; its pid (reaped with the rest).
    fn spawn_healthcheck(&self) -> Option<Pid> {
        let child = std::process::Command::new(crate::selfexec::own_name())
            .arg("--root")
            .arg(&self.paths.root)
            .arg("--runroot")
            .arg(&self.paths.runroot)
            .args(["healthcheck", "run", &self.record.id])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn();
        match child {
            Ok(c) => Some(Pid::from_raw(c.id() as i32)),
            Err(e) => {
                crate::log::warn(&format!("starting the health check: {e}"));
                None
            }
        }
    }

    /// One round of poll over the socket, clients, output and signals.
    fn serve_once(&mut self, sigfd: Option<&SignalFd>, timeout: Option<Duration>) {
        let listener = self.listener.as_fd();
        let sig = sigfd.map(|s| s.as_fd());
        let mut fds: Vec<PollFd> = vec![PollFd::new(listener, PollFlags::POLLIN)];
        if let Some(s) = sig {
            fds.push(PollFd::new(s, PollFlags::POLLIN));
        }
        let base = fds.len();
        let raw = self.clients.poll_fds();
        for (fd, flags) in &raw {
            // SAFETY: the fds belong to self.clients and stay open during this poll.
            fds.push(PollFd::new(unsafe { BorrowedFd::borrow_raw(*fd) }, *flags));
        }
        let t = timeout
            .map(|d| PollTimeout::try_from(d).unwrap_or(PollTimeout::MAX))
            .unwrap_or(PollTimeout::from(1000u16));
        let n = poll(&mut fds, t).unwrap_or(0);
        if n <= 0 {
            return;
        }
        let ready: Vec<(i32, PollFlags)> = fds[base..]
            .iter()
            .zip(&raw)
            .filter_map(|(p, (fd, _))| p.revents().filter(|r| !r.is_empty()).map(|r| (*fd, r)))
            .collect();
        let accept = fds[0]
            .revents()
            .is_some_and(|r| r.contains(PollFlags::POLLIN));
        if let Some(s) = sigfd {
            if fds[1].revents().is_some_and(|r| !r.is_empty()) {
                while let Ok(Some(_)) = s.read_signal() {}
            }
        }
        drop(fds);
        if accept {
            self.clients.accept(&self.listener);
        }
        self.clients.handle(&ready, &mut self.log);
    }

    /// Sleeps for `d` while still serving clients (restart backoff).
    fn pause_serving(&mut self, d: Duration) {
        let end = std::time::Instant::now() + d;
        while let Some(left) = end.checked_duration_since(std::time::Instant::now()) {
            self.serve_once(None, Some(left));
        }
    }

    fn record_exit(&mut self, code: i32) {
        if let Some(mut n) = self.network.take() {
            n.stop(&self.net_context());
        }
        crate::container::secrets::withdraw(&self.dirs);
        // Only fuse-overlayfs is left in the container's mount namespace now.
        drop(self.served_root.take());
        // A container that never started stays "created", as podman shows it.
        self.state.status = if self.state.started_at.is_empty() && !self.state.error.is_empty() {
            Status::Created
        } else {
            Status::Exited
        };
        self.state.exit_code = code;
        self.state.oom_killed = self.cgroup.oom_kills() > self.oom_kills_before;
        if self.state.oom_killed {
            crate::events::emit(&self.paths, &self.record.event(EventStatus::Oom));
        }
        self.state.pid = 0;
        self.state.finished_at = time::now_rfc3339();
        let _ = self.state.store(&self.dirs);
        if self.state.status == Status::Exited {
            let died = self
                .record
                .event(EventStatus::Died)
                .attr("containerExitCode", code.to_string());
            crate::events::emit(&self.paths, &died);
        }
        if let Some(h) = self.spec.hooks() {
            let state_json = self.oci_state(ContainerState::Stopped, 0);
            if let Err(e) = hooks::run_stage(h.poststop().as_deref().unwrap_or(&[]), &state_json) {
                crate::log::warn(&e);
            }
        }
    }

    fn finish(&mut self, code: i32) -> i32 {
        self.cgroup.remove();
        if self.record.is_infra() {
            crate::pod::on_infra_exit(&self.paths, &self.maps, &self.record);
        } else if self.record.pod_id().is_some() {
            crate::pod::on_member_exit(&self.paths, &self.maps, &self.record);
        }
        if self.record.config.auto_remove {
            // podman's --rm takes the container's anonymous volumes with it.
            let removed =
                crate::container::Container::new(&self.paths, &self.maps, self.record.clone())
                    .remove_files()
                    .and_then(|_| {
                        crate::container::volumes::remove_anonymous_of(
                            &self.paths,
                            &self.maps,
                            &self.record,
                        )
                    });
            if let Err(e) = removed {
                crate::log::warn(&format!(
                    "removing container {}: {e}",
                    self.record.short_id()
                ));
            }
        } else {
            self.state.supervisor_pid = 0;
            let _ = self.state.store(&self.dirs);
        }
        self.clients.exit(code);
        code
    }
}
