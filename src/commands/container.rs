//! run, create, start, stop, kill, restart, rm, wait, pause, unpause, rename, prune,
//! exists; and the dispatch of every container verb.

use super::attach::{self, Outcome, RelayOptions, Streams};
use crate::cli_container::*;
use crate::exit::{self, with_code};
use crate::output::write_out;
use crate::Ctx;
use anyhow::{anyhow, bail, Context, Result};
use libruntime::container::options::*;
use libruntime::container::spawn::StartError;
use libruntime::container::verbs;
use libruntime::container::ContainerError;
use libruntime::container::{self as ctr, ContainerDirs, ContainerRecord, State, Status};
use libruntime::store::Store;
use libruntime::supervisor::protocol;
use std::time::Duration;

pub fn dispatch(ctx: &Ctx, cmd: ContainerCommand) -> Result<i32> {
    use ContainerCommand as C;
    match cmd {
        C::Run(a) => run(ctx, a),
        C::Create(a) => create(ctx, a),
        C::Start(a) => start(ctx, a),
        C::Stop(a) => stop(ctx, a),
        C::Kill(a) => kill(ctx, a),
        C::Restart(a) => restart(ctx, a),
        C::Rm(a) => rm(ctx, a),
        C::Wait(a) => wait(ctx, a),
        C::Pause(a) => pause(ctx, a, true),
        C::Unpause(a) => pause(ctx, a, false),
        C::Rename(a) => rename(ctx, a),
        C::Update(a) => update(ctx, a),
        C::Prune(a) => prune(ctx, a),
        C::Init(a) => init(ctx, a),
        C::Runlabel(a) => super::runlabel::runlabel(ctx, a),
        C::Clone(a) => super::clone::clone(ctx, a),
        C::Exists(a) => Ok(if ctr::find(&ctx.paths, &a.name).is_ok() {
            0
        } else {
            1
        }),
        C::Ls(a) => super::ps::ps(ctx, a),
        C::Inspect(a) => super::ps::inspect(ctx, a.names, a.format),
        C::Logs(a) => super::logs::logs(ctx, a),
        C::Exec(a) => super::exec::exec(ctx, a),
        C::Attach(a) => attach_cmd(ctx, a),
        C::Top(a) => super::monitor::top(ctx, a),
        C::Port(a) => super::monitor::port(ctx, a),
        C::Stats(a) => super::monitor::stats(ctx, a),
        C::Commit(a) => super::storage::commit(ctx, a),
        C::Diff(a) => super::storage::diff(ctx, a),
        C::Export(a) => super::storage::export(ctx, a),
        C::Cp(a) => super::storage::cp(ctx, a),
        C::Mount(a) => super::storage::mount(ctx, a),
        C::Unmount(a) => super::storage::unmount(ctx, a),
    }
}

/// `container init`: each container's sandbox is built and its program held until
/// `start`; prints what it was given, as podman.
fn init(ctx: &Ctx, a: InitArgs) -> Result<i32> {
    if a.all != a.names.is_empty() {
        bail!("provide one or more container names or use --all");
    }
    let chosen = targets_where(ctx, &a.names, a.all, |st| st.status == Status::Created)?;
    for (n, r) in chosen {
        ctx.handle(&r).initialize()?;
        write_out(&format!("{n}\n"))?;
    }
    Ok(0)
}

fn start_error(f: StartError) -> anyhow::Error {
    with_code(f.code, anyhow!(f.message))
}

/// The command line this process was started with, as a record keeps it.
fn own_command_line() -> Vec<String> {
    std::iter::once("skiff".to_string())
        .chain(std::env::args().skip(1))
        .collect()
}

pub fn create_record(
    ctx: &Ctx,
    a: &RunArgs,
    create_command: Vec<String>,
) -> Result<ContainerRecord> {
    if (a.rm || a.rmi) && a.restart != "no" {
        bail!("the --restart and --rm options conflict: use one of them");
    }
    if let Some(f) = &a.cidfile {
        if f.exists() {
            bail!(
                "container id file exists. Ensure another container is not using it or delete {}",
                f.display()
            );
        }
    }
    if a.kernel_memory.is_some() {
        libruntime::log::warn(
            "The --kernel-memory flag is no longer supported. This flag is a noop.",
        );
    }
    let mut opts = CreateOptions::try_from(a)?;
    opts.create_command = create_command;
    let pod = super::pod::pod_of_run(ctx, a)?;
    opts.rm |= a.rmi;
    opts.image = super::registry::resolve_source(ctx, &a.image)?;
    // --pull, else containers.conf's pull_policy, else podman's default.
    let policy = match &a.pull {
        Some(p) => p.parse()?,
        None => match libruntime::config::EngineConf::load(ctx.paths.rootless)?
            .engine
            .pull_policy
        {
            Some(p) => p.parse()?,
            None => libruntime::registry::policy::PullPolicy::Missing,
        },
    };
    super::registry::ensure_image(ctx, &opts.image, policy, &a.registry, &a.platform_flags)?;
    let store = Store::open_locked(&ctx.paths)?;
    if let Some(p) = pod {
        let pod = super::pod::resolve_for_run(ctx, &store, p)?;
        libruntime::pod::join(&ctx.paths, &pod, &mut opts, &super::pod::member_flags(a))?;
    }
    let record = ctr::create::create(&store, &ctx.maps, &opts)?;
    if let Some(f) = &a.cidfile {
        std::fs::write(f, &record.id)
            .with_context(|| format!("writing the container id to {}", f.display()))?;
    }
    Ok(record)
}

pub fn create(ctx: &Ctx, a: RunArgs) -> Result<i32> {
    if a.preserve_fds > 0 {
        bail!("--preserve-fds hands over the caller's fds: it works with run, not create");
    }
    let r = create_record(ctx, &a, own_command_line())?;
    write_out(&format!("{}\n", r.id))?;
    Ok(0)
}

/// `--preserve-fds N`: fds 3 .. 3+N must be open in this process, as podman requires.
fn check_preserved_fds(n: u32) -> Result<()> {
    if n > libruntime::sandbox::PRESERVED_FDS_MAX {
        bail!(
            "--preserve-fds {n}: at most {} fds can be handed over",
            libruntime::sandbox::PRESERVED_FDS_MAX
        );
    }
    for fd in 3..3 + n as i32 {
        if nix::fcntl::fcntl(
            // SAFETY: only asks whether the fd number is open; nothing is taken over.
            unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) },
            nix::fcntl::FcntlArg::F_GETFD,
        )
        .is_err()
        {
            bail!("file descriptor {fd} is not available - the preserve-fds option requires that all file descriptors must be passed");
        }
    }
    Ok(())
}

pub fn run(ctx: &Ctx, a: RunArgs) -> Result<i32> {
    check_preserved_fds(a.preserve_fds)?;
    let record = create_record(ctx, &a, own_command_line())?;
    if a.detach {
        ctx.handle(&record)
            .start_with_fds(a.preserve_fds)
            .map_err(start_error)?;
        write_out(&format!("{}\n", record.id))?;
        return Ok(0);
    }
    let streams = Streams::from_flags(&a.attach, a.interactive);
    let outcome = start_attached(
        ctx,
        &record,
        streams,
        a.detach_keys.as_deref(),
        a.sig_proxy,
        a.preserve_fds,
    );
    // podman and docker return from `run --rm` only once the container is gone.
    if (a.rm || a.rmi) && !matches!(outcome, Ok(Outcome::Detached)) {
        ctx.handle(&record).await_auto_removal()?;
        if a.rmi {
            // Removing layers needs the storage user namespace (a forked helper when
            // rootless). An image another container still uses stays, as in podman.
            let id = record.image_id.clone();
            let in_use = libruntime::container::list(&ctx.paths)?
                .iter()
                .any(|c| c.image_id == id);
            if !in_use {
                let store = Store::open_locked(&ctx.paths)?;
                let removed =
                    libruntime::userns::run_in_storage_ns(&ctx.maps, || store.remove_image(&id));
                if let Err(e) = removed {
                    libruntime::log::warn(&format!("removing image {id}: {e}"));
                }
            }
        }
    }
    finish(outcome?)
}

/// Spawns the supervisor, attaches before the program starts, relays until it ends.
fn start_attached(
    ctx: &Ctx,
    record: &ContainerRecord,
    streams: Streams,
    detach_keys: Option<&str>,
    sig_proxy: bool,
    preserve_fds: u32,
) -> Result<Outcome> {
    let st = State::load(&ContainerDirs::new(&ctx.paths, &record.id))?;
    if st.status == libruntime::container::Status::Initialized {
        // Its supervisor is waiting for a first client: this attach starts it.
        return attach_and_relay(ctx, record, streams, detach_keys, sig_proxy);
    }
    // Held until the relay ends: the supervisor waits for us while it is open.
    let _supervisor = ctx
        .handle(record)
        .start_when_attached(preserve_fds)
        .map_err(start_error)?;
    attach_and_relay(ctx, record, streams, detach_keys, sig_proxy)
}

/// Connects to the container's supervisor and relays the terminal or pipes until the
/// container exits or the user detaches.
fn attach_and_relay(
    ctx: &Ctx,
    record: &ContainerRecord,
    streams: Streams,
    detach_keys: Option<&str>,
    sig_proxy: bool,
) -> Result<Outcome> {
    let dirs = ContainerDirs::new(&ctx.paths, &record.id);
    let keys = attach::parse_detach_keys(detach_keys.unwrap_or(attach::DEFAULT_DETACH_KEYS))?;
    let mut flags = protocol::WANT_OUTPUT;
    if streams.stdin {
        flags |= protocol::WANT_STDIN;
    }
    let tty = record.config.tty;
    let size = tty
        .then(|| libruntime::sandbox::sys::window_size(0))
        .flatten();
    let stream = ctx.handle(record).connect(flags, size)?;
    attach::relay(
        stream,
        RelayOptions {
            dirs: &dirs,
            streams,
            tty,
            detach_keys: keys,
            // With a terminal, ctrl-c travels as a byte to the container.
            sig_proxy: sig_proxy && !tty,
        },
    )
}

fn finish(outcome: Outcome) -> Result<i32> {
    match outcome {
        Outcome::Exited(c) => Ok(c),
        Outcome::Detached => Ok(0),
        Outcome::StartFailed(code, msg) => Err(with_code(code, anyhow!(msg))),
    }
}

fn attach_cmd(ctx: &Ctx, a: AttachArgs) -> Result<i32> {
    let r = ctr::find(&ctx.paths, &a.name)?;
    let dirs = ContainerDirs::new(&ctx.paths, &r.id);
    let st = State::load(&dirs)?;
    if st.status != Status::Running && st.status != Status::Paused {
        bail!(
            "you can only attach to running containers: {} is {}",
            a.name,
            st.status.as_str()
        );
    }
    let stdin = r.config.stdin && !a.no_stdin;
    finish(attach_and_relay(
        ctx,
        &r,
        Streams::all(stdin),
        a.detach_keys.as_deref(),
        a.sig_proxy,
    )?)
}

fn start(ctx: &Ctx, a: StartArgs) -> Result<i32> {
    if a.all && !a.names.is_empty() {
        bail!("either start all containers or the container(s) provided in the arguments");
    }
    if a.attach && a.all {
        bail!("you cannot start and attach all containers at once");
    }
    if a.attach && a.names.len() > 1 {
        bail!("you cannot start and attach multiple containers at once");
    }
    if a.names.is_empty() && !a.all && a.filter.is_empty() {
        bail!("start requires at least one argument");
    }
    let filters = super::ps::parse_filters(&a.filter)?;
    let pods = super::ps::PodNames::load(ctx)?;
    // Names as given, or every container (--all, or --filter alone), in creation order.
    let chosen: Vec<(String, ContainerRecord)> = if a.names.is_empty() {
        let mut all = ctr::list(&ctx.paths)?;
        all.sort_by(|x, y| x.created.cmp(&y.created));
        all.into_iter().map(|c| (c.id.clone(), c)).collect()
    } else {
        named(ctx, &a.names)?
    };
    for (n, r) in chosen {
        let dirs = ContainerDirs::new(&ctx.paths, &r.id);
        let st = State::load(&dirs)?;
        if !super::ps::matches(&r, &st, &filters, &pods)? {
            continue;
        }
        if a.attach {
            if st.status != libruntime::container::Status::Initialized {
                verbs::check_startable(&dirs)?;
            }
            let stdin = a.interactive && r.config.stdin;
            return finish(start_attached(
                ctx,
                &r,
                Streams::all(stdin),
                a.detach_keys.as_deref(),
                true,
                0,
            )?);
        }
        if !st.is_active() || st.status == libruntime::container::Status::Initialized {
            // podman: a program that cannot be run fails `start` with 125, not 126/127.
            ctx.handle(&r).start().map_err(|f| {
                start_error(StartError {
                    code: exit::ENGINE,
                    ..f
                })
            })?;
        } else if a.all {
            continue;
        }
        write_out(&format!("{n}\n"))?;
    }
    Ok(0)
}

/// The containers named, or all running ones with `all`.
fn targets(ctx: &Ctx, names: &[String], all: bool) -> Result<Vec<(String, ContainerRecord)>> {
    targets_where(ctx, names, all, State::is_active)
}

/// The containers named, or with `all` every one whose state passes `keep`.
fn targets_where(
    ctx: &Ctx,
    names: &[String],
    all: bool,
    keep: impl Fn(&State) -> bool,
) -> Result<Vec<(String, ContainerRecord)>> {
    if all {
        return Ok(ctr::list(&ctx.paths)?
            .into_iter()
            .filter(|c| State::load(&ContainerDirs::new(&ctx.paths, &c.id)).is_ok_and(|s| keep(&s)))
            .map(|c| (c.id.clone(), c))
            .collect());
    }
    if names.is_empty() {
        bail!("give at least one container name or id, or --all");
    }
    named(ctx, names)
}

/// Each name as given, with its container's record.
fn named(ctx: &Ctx, names: &[String]) -> Result<Vec<(String, ContainerRecord)>> {
    names
        .iter()
        .map(|n| Ok((n.clone(), ctr::find(&ctx.paths, n)?)))
        .collect()
}

fn stop(ctx: &Ctx, a: StopArgs) -> Result<i32> {
    let names: Vec<String> = if a.ignore {
        // `--ignore`: names that are not there are skipped without a word.
        a.names
            .iter()
            .filter(|n| ctr::find(&ctx.paths, n).is_ok())
            .cloned()
            .collect()
    } else {
        a.names.clone()
    };
    if a.ignore && names.is_empty() && !a.all {
        return Ok(0);
    }
    for (n, r) in targets(ctx, &names, a.all)? {
        let t = a.time.unwrap_or(r.config.stop_timeout);
        ctx.handle(&r).stop(Duration::from_secs(t as u64))?;
        write_out(&format!("{n}\n"))?;
    }
    Ok(0)
}

fn kill(ctx: &Ctx, a: KillArgs) -> Result<i32> {
    let sig = libruntime::signals::parse(&a.signal)?;
    for (n, r) in targets(ctx, &a.names, a.all)? {
        ctx.handle(&r).kill(sig)?;
        write_out(&format!("{n}\n"))?;
    }
    Ok(0)
}

fn restart(ctx: &Ctx, a: StopArgs) -> Result<i32> {
    for (_, r) in targets(ctx, &a.names, a.all)? {
        let t = a.time.unwrap_or(r.config.stop_timeout);
        ctx.handle(&r).stop(Duration::from_secs(t as u64))?;
        ctx.handle(&r).start().map_err(start_error)?;
        write_out(&format!("{}\n", r.id))?;
    }
    Ok(0)
}

fn rm(ctx: &Ctx, a: RmArgs) -> Result<i32> {
    let list: Vec<(String, Option<ContainerRecord>)> = if a.all {
        // A pod's infra goes with its pod, not with `rm --all`.
        ctr::list(&ctx.paths)?
            .into_iter()
            .filter(|c| ctx.handle(c).held_by_pod().is_none())
            .map(|c| (c.id.clone(), Some(c)))
            .collect()
    } else {
        if a.names.is_empty() {
            bail!("give at least one container name or id, or --all");
        }
        a.names
            .iter()
            .map(|n| (n.clone(), ctr::find(&ctx.paths, n).ok()))
            .collect()
    };
    let mut failure = None;
    for (n, r) in list {
        let Some(r) = r else {
            if !a.ignore {
                let e = libruntime::Error::Container(ContainerError::NotFound(n.clone()));
                failure.get_or_insert(with_code(1, e));
            }
            continue;
        };
        if a.force && a.time.is_some() {
            // `rm -f -t N`: the stop signal first, as `stop -t N` would.
            let t = Duration::from_secs(a.time.unwrap_or(0) as u64);
            if let Err(e) = ctx.handle(&r).stop(t) {
                failure.get_or_insert(e.into());
                continue;
            }
        }
        match ctx.handle(&r).remove(a.force) {
            Ok(()) => {
                if a.volumes {
                    super::volume::remove_anonymous(ctx, &r)?;
                }
                // podman echoes what it was given; `--all` gives ids.
                write_out(&format!("{n}\n"))?
            }
            Err(e) => {
                let code = crate::exit::code_of_lib(&e);
                failure.get_or_insert(with_code(code, e));
            }
        }
    }
    match failure {
        Some(e) => Err(e),
        None => Ok(0),
    }
}

fn wait(ctx: &Ctx, a: NamesArgs) -> Result<i32> {
    for n in &a.names {
        let r = ctr::find(&ctx.paths, n)?;
        let code = ctx.handle(&r).wait()?;
        write_out(&format!("{code}\n"))?;
    }
    Ok(0)
}

fn pause(ctx: &Ctx, a: NamesArgs, on: bool) -> Result<i32> {
    for n in &a.names {
        let r = ctr::find(&ctx.paths, n)?;
        let method = if on {
            ctx.handle(&r).pause()?
        } else {
            ctx.handle(&r).unpause()?
        };
        libruntime::log::debug(&format!("{n}: paused state changed with {method:?}"));
        write_out(&format!("{n}\n"))?;
    }
    Ok(0)
}

/// podman prints the container's id once its limits changed.
fn update(ctx: &Ctx, a: UpdateArgs) -> Result<i32> {
    let changes = super::create_options::resources_of(&a.resources)?;
    if changes.is_empty() {
        bail!("nothing to update: give --memory, --cpus, --pids-limit or another limit");
    }
    let r = ctr::find(&ctx.paths, &a.name)?;
    ctx.handle(&r).update(&changes)?;
    write_out(&format!("{}\n", r.id))?;
    Ok(0)
}

fn rename(ctx: &Ctx, a: RenameArgs) -> Result<i32> {
    let r = ctr::find(&ctx.paths, &a.name)?;
    ctx.handle(&r).rename(&a.new_name)?;
    Ok(0)
}

pub fn prune(ctx: &Ctx, a: ForceArgs) -> Result<i32> {
    if !a.force && !super::image::confirm("WARNING! This will remove all non running containers.")?
    {
        return Ok(0);
    }
    let mut out = String::new();
    for r in ctr::list(&ctx.paths)? {
        let st = State::load(&ContainerDirs::new(&ctx.paths, &r.id))?;
        if st.is_active() || st.supervisor_alive() || ctx.handle(&r).held_by_pod().is_some() {
            continue;
        }
        ctx.handle(&r).remove_files()?;
        out.push_str(&format!("{}\n", r.id));
    }
    write_out(&out)?;
    Ok(0)
}
