//! `container clone`: a new container made the way another one was. The record keeps
//! the command line that created it; parsing that again (with a new name, and the
//! image if one is given) goes through the very path `create` takes, so the clone gets
//! fresh volumes, names and files rather than copies of the original's.

use crate::cli::{Cli, Command};
use crate::cli_container::{CloneArgs, ContainerCommand, RunArgs};
use crate::output::write_out;
use crate::Ctx;
use anyhow::{anyhow, bail, Result};
use clap::Parser;
use libruntime::container::{self as ctr, ContainerDirs, State};

pub fn clone(ctx: &Ctx, a: CloneArgs) -> Result<i32> {
    let original = ctr::find(&ctx.paths, &a.container)?;
    let argv = &original.config.create_command;
    let mut args = run_args_of(argv).ok_or_else(|| {
        anyhow!(
            "container {} was not made by run or create, so it cannot be cloned",
            original.name
        )
    })?;
    if a.destroy && !a.force {
        let st = State::load(&ContainerDirs::new(&ctx.paths, &original.id))?;
        if st.is_active() {
            bail!(
                "cannot remove container {} as it is running - running or paused containers cannot be removed without force: container state improper",
                original.id
            );
        }
    }
    args.name = Some(match a.name_flag.clone().or(a.name.clone()) {
        Some(n) => n,
        None => free_clone_name(ctx, &original.name),
    });
    if let Some(image) = &a.image {
        args.image = image.clone();
    }
    // Files named by the original are the original's.
    args.cidfile = None;
    args.conmon_pidfile = None;
    let record = super::container::create_record(ctx, &args, argv.clone())?;
    if a.destroy {
        ctx.handle(&original).remove(true)?;
    }
    if a.run {
        ctx.handle(&record)
            .start()
            .map_err(|f| crate::exit::with_code(f.code, anyhow!(f.message)))?;
    }
    write_out(&format!("{}\n", record.id))?;
    Ok(0)
}

/// The run or create arguments in a recorded command line.
fn run_args_of(argv: &[String]) -> Option<RunArgs> {
    match Cli::try_parse_from(argv).ok()?.command {
        Command::Run(a)
        | Command::Create(a)
        | Command::Container(ContainerCommand::Run(a))
        | Command::Container(ContainerCommand::Create(a)) => Some(a),
        _ => None,
    }
}

/// NAME-clone, or NAME-clone1, NAME-clone2, … when that is taken.
fn free_clone_name(ctx: &Ctx, name: &str) -> String {
    (0..)
        .map(|i| match i {
            0 => format!("{name}-clone"),
            n => format!("{name}-clone{n}"),
        })
        .find(|n| ctr::find(&ctx.paths, n).is_err())
        .unwrap_or_else(|| format!("{name}-clone"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorded_command_lines_give_back_their_run_arguments() {
        let argv: Vec<String> = [
            "skiff", "--root", "/x", "run", "-d", "--name", "a", "-e", "K=V", "busybox", "sleep",
            "9",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let a = run_args_of(&argv).unwrap();
        assert_eq!(a.name.as_deref(), Some("a"));
        assert_eq!(a.image, "busybox");
        assert_eq!(a.command, ["sleep", "9"]);
        assert!(a.detach);
        assert!(run_args_of(&["skiff".into(), "build".into()]).is_none());
    }
}
