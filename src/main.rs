//! skiff: the CLI. Parses arguments, calls libruntime, prints results. Every error ends
//! as one line on stderr and exit code 125 unless a command documents another.

mod cli;
mod commands;
mod exit;
mod output;
mod table;
mod template;

use clap::Parser;
use cli::{Cli, Command, ImageCommand};
use libruntime::paths::Paths;
use libruntime::userns::IdMaps;

/// What every command needs: where the state is, and how ids map.
pub struct Ctx {
    pub paths: Paths,
    pub maps: IdMaps,
}

impl Ctx {
    /// Extraction options for this store: a single-id map cannot own other ids.
    pub fn extract_options(&self) -> libruntime::layer::ExtractOptions {
        libruntime::layer::ExtractOptions {
            ignore_chown_errors: self.paths.rootless && self.maps.is_single(),
        }
    }
}

fn main() {
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
            eprintln!("Error: {}", exit::one_line(&e));
            std::process::exit(code);
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<i32> {
    let level = libruntime::log::parse_level(&cli.log_level).ok_or_else(|| {
        anyhow::anyhow!(
            "invalid --log-level {:?}: use debug, info, warn or error",
            cli.log_level
        )
    })?;
    libruntime::log::set_level(level);
    let paths = Paths::resolve(cli.root.clone(), cli.runroot.clone());
    let maps = if paths.rootless {
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
    use commands::{archive, image, system};
    match cli.command {
        Command::Images(a) | Command::Image(ImageCommand::Ls(a)) => image::list(&ctx, a),
        Command::Inspect(a) | Command::Image(ImageCommand::Inspect(a)) => image::inspect(&ctx, a),
        Command::Tag(a) | Command::Image(ImageCommand::Tag(a)) => image::tag(&ctx, a),
        Command::Rmi(a) | Command::Image(ImageCommand::Rm(a)) => image::remove(&ctx, a),
        Command::Image(ImageCommand::Prune(a)) => image::prune(&ctx, a),
        Command::History(a) | Command::Image(ImageCommand::History(a)) => image::history(&ctx, a),
        Command::Load(a) | Command::Image(ImageCommand::Load(a)) => archive::load(&ctx, a),
        Command::Save(a) | Command::Image(ImageCommand::Save(a)) => archive::save(&ctx, a),
        Command::Import(a) | Command::Image(ImageCommand::Import(a)) => archive::import(&ctx, a),
        Command::Info(a) => system::info(&ctx, a),
        Command::Version(a) => system::version(a),
        Command::Unshare(a) => system::unshare(&ctx, a),
    }
}
