//! Lifecycle verbs on a container: start (by spawning its supervisor), stop, kill,
//! wait, pause, remove, rename. They talk to the supervisor only through the state file,
//! signals and the attach socket; no lock is held while a container runs.

use super::record::{ContainerDirs, ContainerRecord};
use super::state::{State, Status};
use crate::container::ContainerError;
use crate::error::{Context, Error, Result};
use crate::paths::Paths;
use crate::supervisor::protocol;
use crate::userns::IdMaps;
use crate::{cgroups, fsutil, procinfo};
use nix::sys::signal::{kill as send_signal, Signal};
use nix::unistd::Pid;
use std::io::{BufRead, BufReader};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

/// The hidden subcommand that runs a supervisor.
pub const SUPERVISE: &str = "__supervise";

/// A freshly spawned supervisor and the pipe on which it reports.
pub struct Spawned {
    pub status: BufReader<std::fs::File>,
}

impl Spawned {
    /// The next report line ("ready", "started PID", "error CODE MESSAGE"); None when
    /// the supervisor closed the pipe.
    pub fn next_line(&mut self) -> Option<String> {
        let mut line = String::new();
        match self.status.read_line(&mut line) {
            Ok(0) | Err(_) => None,
            Ok(_) => Some(line.trim_end().to_string()),
        }
    }
}

/// How a supervisor begins its container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartMode {
    /// The program starts at once.
    Detached,
    /// The program starts once the first attach client is there (foreground run,
    /// `start -a`), so no output is lost.
    AttachFirst,
    /// `container init`: the sandbox is built, then the program waits until `start`
    /// (or an attach) lets it run.
    Hold,
}

impl StartMode {
    /// The supervisor's command-line flag for this mode.
    pub fn flag(self) -> Option<&'static str> {
        match self {
            StartMode::Detached => None,
            StartMode::AttachFirst => Some("--attach"),
            StartMode::Hold => Some("--hold"),
        }
    }

    pub fn from_flag(flag: &str) -> Option<StartMode> {
        [StartMode::AttachFirst, StartMode::Hold]
            .into_iter()
            .find(|m| m.flag() == Some(flag))
    }

    /// Whether the program waits for a client before it runs.
    pub fn waits(self) -> bool {
        self != StartMode::Detached
    }
}

/// Starts the supervisor of `record` in its own session, detached from the caller.
pub fn spawn_supervisor(
    paths: &Paths,
    record: &ContainerRecord,
    mode: StartMode,
) -> Result<Spawned> {
    spawn_supervisor_with_fds(paths, record, mode, 0)
}

/// As `spawn_supervisor`, handing the program our fds 3 .. 3+`preserve_fds`
/// (`run --preserve-fds`).
pub fn spawn_supervisor_with_fds(
    paths: &Paths,
    record: &ContainerRecord,
    mode: StartMode,
    preserve_fds: u32,
) -> Result<Spawned> {
    let dirs = ContainerDirs::new(paths, &record.id);
    fsutil::create_dir_all(&dirs.run)?;
    let _ = std::fs::remove_file(dirs.stop_marker());
    let _ = std::fs::remove_file(dirs.stopping_marker());
    let errlog = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dirs.dir.join("supervisor.log"))
        .ctx(|| "opening the supervisor log".into())?;
    let mut args: Vec<std::ffi::OsString> = vec![
        SUPERVISE.into(),
        "--root".into(),
        paths.root.clone().into(),
        "--runroot".into(),
        paths.runroot.clone().into(),
    ];
    if let Some(flag) = mode.flag() {
        args.push(flag.into());
    }
    if preserve_fds > 0 {
        args.push("--preserve-fds".into());
        args.push(preserve_fds.to_string().into());
    }
    args.push(record.id.clone().into());
    let r = crate::selfexec::spawn_detached_with_fds(
        &crate::selfexec::own_name(),
        &args,
        errlog,
        preserve_fds,
    )?;
    Ok(Spawned {
        status: BufReader::new(r),
    })
}

/// Why a start failed, with the exit code the CLI should use: the sandbox's own type,
/// as the supervisor reports it.
pub use crate::sandbox::process::StartError;

/// Parses a report line; Ok(pid) on "started".
pub fn parse_report(line: Option<String>) -> std::result::Result<i32, StartError> {
    let line = line
        .unwrap_or_else(|| "error 125 the supervisor exited before starting the container".into());
    if let Some(pid) = line.strip_prefix("started ") {
        return Ok(pid.parse().unwrap_or(0));
    }
    let rest = line.strip_prefix("error ").unwrap_or(&line);
    let (code, message) = rest.split_once(' ').unwrap_or(("125", rest));
    Err(StartError {
        code: code.parse().unwrap_or(125),
        message: message.to_string(),
    })
}

/// Fails unless the container may be started now.
pub fn check_startable(dirs: &ContainerDirs) -> Result<State> {
    let st = State::load(dirs)?;
    if st.is_active() || st.supervisor_alive() {
        return Err(
            ContainerError::StateImproper("the container is already running".into()).into(),
        );
    }
    Ok(st)
}

/// Starts a container detached; returns the init's pid.
pub fn start_detached(
    paths: &Paths,
    record: &ContainerRecord,
) -> std::result::Result<i32, StartError> {
    start_detached_with_fds(paths, record, 0)
}

/// As `start_detached`, handing the program our fds 3 .. 3+`preserve_fds`.
pub fn start_detached_with_fds(
    paths: &Paths,
    record: &ContainerRecord,
    preserve_fds: u32,
) -> std::result::Result<i32, StartError> {
    let engine = |e: Error| StartError {
        code: 125,
        message: e.to_string(),
    };
    let dirs = ContainerDirs::new(paths, &record.id);
    let st = State::load(&dirs).map_err(engine)?;
    if st.status == Status::Initialized {
        return release_initialized(&dirs).map_err(engine);
    }
    check_startable(&dirs).map_err(engine)?;
    let mut s = spawn_supervisor_with_fds(paths, record, StartMode::Detached, preserve_fds)
        .map_err(engine)?;
    parse_report(s.next_line())
}

/// `container init`: builds the sandbox without running the program; returns the
/// init's pid. `start` or an attach lets the program run.
pub fn initialize(paths: &Paths, record: &ContainerRecord) -> Result<i32> {
    let dirs = ContainerDirs::new(paths, &record.id);
    let st = State::load(&dirs)?;
    if st.status == Status::Initialized {
        return Ok(st.pid);
    }
    if st.is_active() || st.supervisor_alive() {
        return Err(ContainerError::StateImproper(format!(
            "container {} has already been created in runtime: container state improper",
            record.short_id()
        ))
        .into());
    }
    let mut s = spawn_supervisor(paths, record, StartMode::Hold)?;
    match s.next_line() {
        Some(l) if l.starts_with("initialized ") => {
            Ok(l["initialized ".len()..].parse().unwrap_or(0))
        }
        other => parse_report(other).map_err(|f| ContainerError::Start(f).into()),
    }
}

/// Lets an initialized container's program run: its supervisor waits for a first client.
fn release_initialized(dirs: &ContainerDirs) -> Result<i32> {
    drop(connect(dirs, 0, None)?);
    let end = Instant::now() + Duration::from_secs(10);
    loop {
        let st = State::load(dirs)?;
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

fn signal_init(st: &State, sig: Signal) -> Result<()> {
    if st.pid <= 0 || !st.init_alive() {
        return Ok(());
    }
    match send_signal(Pid::from_raw(st.pid), sig) {
        Ok(()) | Err(nix::errno::Errno::ESRCH) => Ok(()),
        Err(e) => Err(Error::sys(format!("sending {sig} to the container"), e)),
    }
}

/// Sends `sig` to the container's init.
pub fn kill(paths: &Paths, record: &ContainerRecord, sig: Signal) -> Result<()> {
    let dirs = ContainerDirs::new(paths, &record.id);
    let st = State::load(&dirs)?;
    if st.status != Status::Running && st.status != Status::Paused {
        return Err(ContainerError::StateImproper(format!(
            "can only kill running containers. {} is in state {}",
            record.short_id(),
            st.status.as_str()
        ))
        .into());
    }
    // A killed container is not restarted, as with podman.
    let _ = std::fs::write(dirs.stop_marker(), b"");
    signal_init(&st, sig)
}

/// Stops the container: its stop signal, then SIGKILL after `timeout`. Waits until the
/// supervisor has recorded the exit.
pub fn stop(paths: &Paths, record: &ContainerRecord, timeout: Duration) -> Result<()> {
    let dirs = ContainerDirs::new(paths, &record.id);
    fsutil::create_dir_all(&dirs.run)?;
    std::fs::write(dirs.stop_marker(), b"").ctx(|| "marking the container stopped".into())?;
    let st = State::load(&dirs)?;
    if !st.is_active() {
        return Ok(());
    }
    if st.status == Status::Paused {
        unpause(paths, record)?;
    }
    let sig = Signal::try_from(record.config.stop_signal).unwrap_or(Signal::SIGTERM);
    let _ = std::fs::write(dirs.stopping_marker(), b"");
    let stopped = stop_with(&dirs, record, &st, sig, timeout);
    let _ = std::fs::remove_file(dirs.stopping_marker());
    stopped
}

/// The stop signal, then SIGKILL once `timeout` has passed; waits for the exit.
fn stop_with(
    dirs: &ContainerDirs,
    record: &ContainerRecord,
    st: &State,
    sig: Signal,
    timeout: Duration,
) -> Result<()> {
    if !timeout.is_zero() {
        signal_init(st, sig)?;
        if wait_until_stopped(dirs, timeout) {
            return Ok(());
        }
        crate::log::warn(&format!(
            "StopSignal {sig} failed to stop container {} in {} seconds, resorting to SIGKILL",
            record.name,
            timeout.as_secs()
        ));
    }
    let st = State::load(dirs)?;
    signal_init(&st, Signal::SIGKILL)?;
    wait_until_stopped(dirs, Duration::from_secs(30));
    Ok(())
}

/// Polls until the supervisor has gone or recorded the exit; false on timeout.
fn wait_until_stopped(dirs: &ContainerDirs, timeout: Duration) -> bool {
    poll_state(dirs, timeout, |st| {
        !st.is_active() && !st.supervisor_alive()
    })
}

/// Polls the state with a short, growing pause until `done`; false on timeout.
fn poll_state(dirs: &ContainerDirs, timeout: Duration, done: impl Fn(&State) -> bool) -> bool {
    let end = Instant::now() + timeout;
    let mut pause = Duration::from_millis(1);
    loop {
        let st = State::load(dirs).unwrap_or_default();
        if done(&st) {
            return true;
        }
        if Instant::now() >= end {
            return false;
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}

/// For `run --rm` in the foreground: returns once the container is gone, so that the
/// next command can reuse its name. The supervisor removes it after the exit; if the
/// supervisor died first (or never got that far), the container is removed here.
pub fn await_auto_removal(paths: &Paths, maps: &IdMaps, record: &ContainerRecord) -> Result<()> {
    let dirs = ContainerDirs::new(paths, &record.id);
    poll_state(&dirs, Duration::from_secs(60), |st| !st.supervisor_alive());
    if !dirs.dir.exists() {
        return Ok(());
    }
    remove_files(paths, maps, record)?;
    crate::volume::remove_anonymous_of(paths, maps, record)
}

/// Connects to the attach socket and says hello with `flags` and, for a terminal, the
/// caller's window size.
pub fn connect(dirs: &ContainerDirs, flags: u8, size: Option<(u16, u16)>) -> Result<UnixStream> {
    let mut s = UnixStream::connect(dirs.socket())
        .ctx(|| "connecting to the container's supervisor".into())?;
    let mut hello = vec![flags];
    if let Some((rows, cols)) = size {
        hello.extend_from_slice(&rows.to_be_bytes());
        hello.extend_from_slice(&cols.to_be_bytes());
    }
    protocol::write_frame(&mut s, protocol::HELLO, &hello)
        .ctx(|| "greeting the supervisor".into())?;
    Ok(s)
}

/// Blocks until the container has exited for good (after restarts); its exit code.
pub fn wait(paths: &Paths, record: &ContainerRecord) -> Result<i32> {
    let dirs = ContainerDirs::new(paths, &record.id);
    if let Ok(mut s) = connect(&dirs, 0, None) {
        while let Ok(Some((kind, p))) = protocol::read_frame(&mut s) {
            if kind == protocol::EXIT && p.len() == 4 {
                return Ok(i32::from_be_bytes([p[0], p[1], p[2], p[3]]));
            }
        }
    }
    wait_until_stopped(&dirs, Duration::from_secs(u64::MAX / 4));
    Ok(State::load(&dirs)?.exit_code)
}

/// Freezes the container: its cgroup freezer where there is one, else SIGSTOP to every
/// process in its pid namespace (rootless on cgroup v1). Returns the method used.
pub fn pause(paths: &Paths, record: &ContainerRecord) -> Result<&'static str> {
    set_paused(paths, record, true)
}

pub fn unpause(paths: &Paths, record: &ContainerRecord) -> Result<&'static str> {
    set_paused(paths, record, false)
}

fn set_paused(paths: &Paths, record: &ContainerRecord, on: bool) -> Result<&'static str> {
    let dirs = ContainerDirs::new(paths, &record.id);
    let mut st = State::load(&dirs)?;
    let (want, verb) = if on {
        (Status::Running, "pause")
    } else {
        (Status::Paused, "unpause")
    };
    if st.status != want {
        return Err(ContainerError::StateImproper(format!(
            "cannot {verb} {}: it is {}",
            record.name,
            st.status.as_str()
        ))
        .into());
    }
    let cg = cgroups::ContainerCgroup::at(&st.cgroup);
    let method = if cg.freeze(on) {
        "freezer"
    } else {
        let sig = if on { Signal::SIGSTOP } else { Signal::SIGCONT };
        for pid in procinfo::pids_in_pid_ns(st.pid) {
            let _ = send_signal(Pid::from_raw(pid), sig);
        }
        "signals"
    };
    // Re-read: the supervisor may have written meanwhile.
    let fresh = State::load(&dirs)?;
    st = State {
        status: if on { Status::Paused } else { Status::Running },
        ..fresh
    };
    st.store(&dirs)?;
    Ok(method)
}

/// Removes a container; a running one only with `force` (then it is killed first).
pub fn remove(paths: &Paths, maps: &IdMaps, record: &ContainerRecord, force: bool) -> Result<()> {
    let dirs = ContainerDirs::new(paths, &record.id);
    let st = State::load(&dirs)?;
    if !st.is_active() && st.supervisor_alive() {
        // The container has ended and its supervisor is tearing down: let it finish.
        poll_state(&dirs, Duration::from_secs(10), |st| !st.supervisor_alive());
    }
    let st = State::load(&dirs)?;
    if st.is_active() || st.supervisor_alive() {
        if !force {
            return Err(Error::Container(ContainerError::Running {
                id: record.id.clone(),
                state: st.status.as_str().into(),
            }));
        }
        stop(paths, record, Duration::ZERO)?;
        // The supervisor tears down after recording the exit: let it finish.
        let end = Instant::now() + Duration::from_secs(10);
        while State::load(&dirs)?.supervisor_alive() && Instant::now() < end {
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    remove_files(paths, maps, record)
}

/// Deletes everything the container left: record, bundle, upper layer, log, runtime
/// state, cgroup. The directory is first renamed into the staging area so that the
/// container disappears at once and a crash midway leaves only staging debris.
pub fn remove_files(paths: &Paths, maps: &IdMaps, record: &ContainerRecord) -> Result<()> {
    let dirs = ContainerDirs::new(paths, &record.id);
    let trash = crate::store::Store::open(paths).staging_path("rm");
    fsutil::create_dir_all(&paths.tmp_dir())?;
    // `skiff mount` left it mounted: removing through the mount would reach the layers.
    if super::filesystem::is_mounted(&dirs.merged()) {
        super::filesystem::unmount(&dirs.merged())?;
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
    // Files the container made belong to subordinate ids: if removing them as we are
    // fails, remove them from inside the storage user namespace.
    if trash.exists() && fsutil::remove_tree(&trash).is_err() {
        crate::userns::run_in_storage_ns(maps, || fsutil::remove_tree(&trash))?;
    }
    Ok(())
}

/// Renames a container, under the store lock (names are unique across records).
pub fn rename(paths: &Paths, record: &ContainerRecord, new_name: &str) -> Result<()> {
    if !super::names::valid(new_name) {
        return Err(Error::InvalidArgument(format!(
            "invalid container name {new_name:?}"
        )));
    }
    super::record::update(paths, &record.id, |r| {
        if super::list(paths)?.iter().any(|c| c.name == new_name) {
            return Err(Error::InvalidArgument(format!(
                "the container name {new_name:?} is already in use"
            )));
        }
        r.name = new_name.to_string();
        Ok(())
    })
}
