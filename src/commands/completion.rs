//! `skiff completion SHELL`: a completion script generated from the CLI definition, so
//! it never disagrees with the flags that exist.

use crate::cli::{Cli, CompletionArgs};
use anyhow::Result;
use clap::CommandFactory;

pub fn completion(a: CompletionArgs) -> Result<i32> {
    let mut cmd = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(a.shell, &mut cmd, "skiff", &mut out);
    crate::output::write_out(&String::from_utf8_lossy(&out))?;
    Ok(0)
}
