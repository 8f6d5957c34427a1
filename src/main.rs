//! skiff: the CLI. Parses arguments, calls libruntime, prints results. Every error ends
//! as one line on stderr and exit code 125 unless a command documents another.

// `inspect`'s JSON is one large json! literal, as podman's shape is one large object.
#![recursion_limit = "256"]

mod api;
mod cli;
mod cli_build;
mod cli_container;
mod cli_kube;
mod cli_network;
mod cli_pod;
mod cli_registry;
mod cli_secret;
mod commands;
mod diagnostics;
mod exit;
mod output;
mod progress;
mod table;
mod template;
mod time_flags;

use clap::Parser;
use cli::{Cli, Command, ImageCommand, SystemCommand};
use libruntime::container::Container;
use libruntime::paths::Paths;
use libruntime::userns::IdMaps;

/// What every command needs: where the state is, and how ids map.
pub struct Ctx {
    pub paths: Paths,
    pub maps: IdMaps,
}

impl Ctx {
    /// The library's handle on `record`, in this store.
    pub fn handle(&self, record: &libruntime::container::ContainerRecord) -> Container<'_> {
        Container::new(&self.paths, &self.maps, record.clone())
    }

    /// Extraction options for this store: a single-id map cannot own other ids.
    pub fn extract_options(&self) -> libruntime::layer::ExtractOptions {
        libruntime::layer::ExtractOptions {
            ignore_chown_errors: self.paths.rootless && self.maps.is_single(),
            plain: false,
        }
    }
}

fn main() {
    libruntime::log::set_sink(Box::new(diagnostics::PodmanLines));
    // The supervisor is the same binary; it skips clap to start fast and stay small.
    if std::env::args().nth(1).as_deref() == Some(libruntime::container::spawn::SUPERVISE) {
        std::process::exit(supervise());
    }
    if std::env::args().nth(1).as_deref() == Some(libruntime::kube::kubelet::SUBCOMMAND) {
        let h = hidden_args();
        let (paths, maps) = hidden_command_context();
        // SAFETY: fd 3 is the report pipe selfexec set up for this child.
        let report = Some(unsafe { <std::fs::File as std::os::fd::FromRawFd>::from_raw_fd(3) });
        std::process::exit(libruntime::kube::kubelet::run(
            paths,
            maps,
            h.id.as_deref().unwrap_or(""),
            report,
        ));
    }
    if std::env::args().nth(1).as_deref() == Some(libruntime::kube::controller::SUBCOMMAND) {
        let h = hidden_args();
        let (paths, maps) = hidden_command_context();
        // SAFETY: fd 3 is the report pipe selfexec set up for this child.
        let report = Some(unsafe { <std::fs::File as std::os::fd::FromRawFd>::from_raw_fd(3) });
        std::process::exit(libruntime::kube::controller::run(
            paths,
            maps,
            h.id.as_deref().unwrap_or(""),
            report,
        ));
    }
    if std::env::args().nth(1).as_deref() == Some(libruntime::network::holder::SUBCOMMAND) {
        let (paths, maps) = hidden_command_context();
        std::process::exit(libruntime::network::holder::run_holder(paths, maps));
    }
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
                let _ = e.print();
                std::process::exit(0);
            }
            let msg = e.to_string();
            let first = msg
                .lines()
                .next()
                .unwrap_or("invalid arguments")
                .trim_start_matches("error: ");
            eprintln!("Error: {first} (see 'skiff --help')");
            std::process::exit(exit::ENGINE);
        }
    };
    match run(cli) {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            let code = exit::code_of(&e);
            if e.downcast_ref::<exit::Reported>().is_none() {
                eprintln!("Error: {}", exit::one_line(&e));
            }
            std::process::exit(code);
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<i32> {
    let level = libruntime::log::parse_level(&cli.log_level).ok_or_else(|| {
        // podman's text and exit code 1, which scripts check.
        exit::with_code(
            1,
            anyhow::anyhow!(
                "Log Level {:?} is not supported, choose from: trace, debug, info, warn, warning, error, fatal, panic",
                cli.log_level
            ),
        )
    })?;
    libruntime::log::set_level(level);
    output::set_noout(cli.noout);
    let unshared = Paths::inside_unshare(cli.root.clone(), cli.runroot.clone());
    let in_unshare = unshared.is_some();
    let mut paths =
        unshared.unwrap_or_else(|| Paths::resolve(cli.root.clone(), cli.runroot.clone()));
    paths.storage_driver = cli.storage_driver.clone();
    let maps = if in_unshare {
        IdMaps::of_current_namespace()
    } else if paths.rootless {
        let (maps, warning) = IdMaps::for_current_user();
        if let (Some(w), true) = (warning, cli.command.needs_user_namespace()) {
            libruntime::log::warn(&w);
        }
        maps
    } else {
        IdMaps::host()
    };
    if paths.rootless
        && cli.command.needs_user_namespace()
        && !libruntime::userns::in_user_namespace()
    {
        let mount_ns = matches!(cli.command, Command::Unshare(_));
        libruntime::userns::enter(&maps, mount_ns)?;
    }
    let ctx = Ctx { paths, maps };
    use commands::{archive, image, image_files, registry, system};
    let command = match cli.command.into_container() {
        Ok(c) => return commands::container::dispatch(&ctx, c),
        Err(other) => other,
    };
    match *command {
        Command::Images(a) | Command::Image(ImageCommand::Ls(a)) => image::list(&ctx, a),
        Command::Inspect(a) | Command::Image(ImageCommand::Inspect(a)) => image::inspect(&ctx, a),
        Command::Tag(a) | Command::Image(ImageCommand::Tag(a)) => image::tag(&ctx, a),
        Command::Untag(a) | Command::Image(ImageCommand::Untag(a)) => image::untag(&ctx, a),
        Command::Image(ImageCommand::Exists(a)) => image::exists(&ctx, a),
        Command::Search(a) => commands::search::search(&ctx, a),
        Command::Manifest(m) => commands::manifest::dispatch(&ctx, m),
        Command::Image(ImageCommand::Tree(a)) => image_files::tree(&ctx, a),
        Command::Image(ImageCommand::Mount(a)) => image_files::mount(&ctx, a),
        Command::Image(ImageCommand::Unmount(a)) => image_files::unmount(&ctx, a),
        Command::Rmi(a) | Command::Image(ImageCommand::Rm(a)) => image::remove(&ctx, a),
        Command::Image(ImageCommand::Prune(a)) => image::prune(&ctx, a),
        Command::History(a) | Command::Image(ImageCommand::History(a)) => image::history(&ctx, a),
        Command::Load(a) | Command::Image(ImageCommand::Load(a)) => archive::load(&ctx, a),
        Command::Save(a) | Command::Image(ImageCommand::Save(a)) => archive::save(&ctx, a),
        Command::Import(a) | Command::Image(ImageCommand::Import(a)) => archive::import(&ctx, a),
        Command::Pull(a) | Command::Image(ImageCommand::Pull(a)) => registry::pull(&ctx, a),
        Command::Push(a) | Command::Image(ImageCommand::Push(a)) => registry::push(&ctx, a),
        Command::Build(a) | Command::Image(ImageCommand::Build(a)) => {
            commands::build::build(&ctx, *a)
        }
        Command::Login(a) => registry::login(&ctx, a),
        Command::Logout(a) => registry::logout(a),
        Command::Info(a) | Command::System(SystemCommand::Info(a)) => system::info(&ctx, a),
        Command::System(SystemCommand::Df(a)) => commands::system_store::df(&ctx, a),
        Command::System(SystemCommand::Prune(a)) => commands::system_store::prune(&ctx, a),
        Command::System(SystemCommand::Reset(a)) => commands::system_store::reset(&ctx, a),
        Command::System(SystemCommand::Service(a)) => {
            let listen = api::Listen::parse(a.uri.as_deref(), &ctx)?;
            api::serve(ctx, listen, std::time::Duration::from_secs(a.time))?;
            Ok(0)
        }
        Command::Version(a) => system::version(a),
        Command::Unshare(a) => system::unshare(&ctx, a),
        Command::Completion(a) => commands::completion::completion(a),
        Command::GenerateManpages(a) => commands::manpages::generate(a),
        Command::Volume(v) => commands::volume::dispatch(&ctx, v),
        Command::Secret(s) => commands::secret::dispatch(&ctx, s),
        Command::Healthcheck(crate::cli_container::HealthcheckCommand::Run(a)) => {
            commands::health::run(&ctx, a)
        }
        Command::Events(a) | Command::System(SystemCommand::Events(a)) => {
            commands::events::events(&ctx, a)
        }
        Command::Network(n) => commands::network::dispatch(&ctx, n),
        Command::Pod(p) => commands::pod::dispatch(&ctx, p),
        Command::Kube(k) => commands::kube::dispatch(&ctx, k),
        _ => unreachable!("container verbs are dispatched above"),
    }
}

/// The arguments of a hidden subcommand: `--root DIR --runroot DIR [--attach] [ID]`.
struct HiddenArgs {
    root: Option<std::path::PathBuf>,
    runroot: Option<std::path::PathBuf>,
    mode: libruntime::container::spawn::StartMode,
    preserve_fds: u32,
    id: Option<String>,
}

fn hidden_args() -> HiddenArgs {
    let mut h = HiddenArgs {
        root: None,
        runroot: None,
        mode: libruntime::container::spawn::StartMode::Detached,
        preserve_fds: 0,
        id: None,
    };
    let mut it = std::env::args().skip(2);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--root" => h.root = it.next().map(Into::into),
            "--runroot" => h.runroot = it.next().map(Into::into),
            "--preserve-fds" => {
                h.preserve_fds = it.next().and_then(|n| n.parse().ok()).unwrap_or(0)
            }
            _ => match libruntime::container::spawn::StartMode::from_flag(&a) {
                Some(m) => h.mode = m,
                None => h.id = Some(a),
            },
        }
    }
    h
}

fn context_of(h: &HiddenArgs) -> (Paths, IdMaps) {
    let paths = Paths::resolve(h.root.clone(), h.runroot.clone());
    let maps = if paths.rootless {
        IdMaps::for_current_user().0
    } else {
        IdMaps::host()
    };
    (paths, maps)
}

fn hidden_command_context() -> (Paths, IdMaps) {
    context_of(&hidden_args())
}

/// `skiff __supervise --root DIR --runroot DIR [--attach|--hold] ID`, with fd 3 the report pipe.
fn supervise() -> i32 {
    let h = hidden_args();
    let Some(id) = h.id.clone() else {
        eprintln!("Error: the supervisor needs a container id");
        return exit::ENGINE;
    };
    let mode = h.mode;
    let (paths, maps) = context_of(&h);
    // SAFETY: fd 3 is the report pipe the spawning CLI placed there for us alone.
    // SAFETY: F_GETFD only asks whether fd 3 is open; it touches no memory.
    let open = unsafe { libc_fcntl_getfd(3) } >= 0;
    // SAFETY: fd 3 is the report pipe the spawning CLI placed there for us alone.
    let status_fd = open.then(|| unsafe { std::os::fd::FromRawFd::from_raw_fd(3) });
    libruntime::supervisor::run(libruntime::supervisor::Options {
        paths,
        maps,
        id,
        mode,
        preserve_fds: h.preserve_fds,
        status_fd,
    })
}

/// fcntl(fd, F_GETFD) on a raw fd number.
unsafe fn libc_fcntl_getfd(fd: i32) -> i32 {
    // SAFETY: guaranteed by the caller; F_GETFD has no memory effects.
    unsafe { nix::libc::fcntl(fd, nix::libc::F_GETFD) }
}
