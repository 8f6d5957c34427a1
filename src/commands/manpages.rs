//! `skiff generate-manpages DIR`: one man page per verb (`skiff.1`, `skiff-run.1`,
//! `skiff-container-run.1`, …) rendered from the CLI definition, which is what
//! `scripts/install.sh` installs into man1.

use crate::cli::{Cli, ManpagesArgs};
use anyhow::{Context, Result};
use clap::CommandFactory;
use std::path::Path;

pub fn generate(a: ManpagesArgs) -> Result<i32> {
    std::fs::create_dir_all(&a.dir).with_context(|| format!("creating {}", a.dir.display()))?;
    let mut cmd = Cli::command();
    cmd.build();
    let n = write_tree(&cmd, "skiff", &a.dir)?;
    crate::output::write_out(&format!("{n} man pages in {}\n", a.dir.display()))?;
    Ok(0)
}

/// Writes the page of `cmd` under `name`, then those of its visible subcommands.
fn write_tree(cmd: &clap::Command, name: &str, dir: &Path) -> Result<usize> {
    let page = cmd.clone().name(name.to_string());
    let mut buf = Vec::new();
    clap_mangen::Man::new(page).render(&mut buf)?;
    let file = dir.join(format!("{name}.1"));
    std::fs::write(&file, buf).with_context(|| format!("writing {}", file.display()))?;
    let mut n = 1;
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        n += write_tree(sub, &format!("{name}-{}", sub.get_name()), dir)?;
    }
    Ok(n)
}
