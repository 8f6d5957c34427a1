//! info, version, unshare.

use crate::cli::{FormatArgs, UnshareArgs};
use crate::output::{print_json, print_rows, write_out};
use crate::Ctx;
use anyhow::{Context, Result};
use serde_json::{json, Value};
use std::os::unix::process::CommandExt;

pub fn info(ctx: &Ctx, a: FormatArgs) -> Result<i32> {
    let v = libruntime::info::collect(&ctx.paths);
    match a.format.as_deref() {
        Some("json") => print_json(&v)?,
        Some(f) => print_rows(Some(f), f, &[], &[v])?,
        None => write_out(&to_yaml(&v, 0))?,
    }
    Ok(0)
}

/// podman prints info as YAML; this is the small subset that JSON values need.
fn to_yaml(v: &Value, indent: usize) -> String {
    let pad = " ".repeat(indent);
    let scalar = |v: &Value| match v {
        Value::String(s)
            if s.is_empty() || s.contains(": ") || s.starts_with(['*', '&', '!', '{', '[']) =>
        {
            format!("{s:?}")
        }
        Value::String(s) => s.clone(),
        Value::Null => "null".into(),
        other => other.to_string(),
    };
    let mut out = String::new();
    match v {
        Value::Object(o) => {
            for (k, val) in o {
                match val {
                    Value::Object(m) if !m.is_empty() => {
                        out.push_str(&format!("{pad}{k}:\n{}", to_yaml(val, indent + 2)))
                    }
                    Value::Array(a) if !a.is_empty() => {
                        out.push_str(&format!("{pad}{k}:\n{}", to_yaml(val, indent)))
                    }
                    Value::Object(_) => out.push_str(&format!("{pad}{k}: {{}}\n")),
                    Value::Array(_) => out.push_str(&format!("{pad}{k}: []\n")),
                    s => out.push_str(&format!("{pad}{k}: {}\n", scalar(s))),
                }
            }
        }
        Value::Array(a) => {
            for item in a {
                let inner = to_yaml(item, indent + 2);
                let inner = inner.trim_start();
                out.push_str(&format!("{pad}- {inner}"));
                if !inner.ends_with('\n') {
                    out.push('\n');
                }
            }
        }
        s => out.push_str(&format!("{pad}{}\n", scalar(s))),
    }
    out
}

pub fn version(a: FormatArgs) -> Result<i32> {
    let v = json!({
        "Client": {
            "APIVersion": libruntime::VERSION,
            "Version": libruntime::VERSION,
            "OsArch": format!("linux/{}", libruntime::platform::go_arch()),
        }
    });
    match a.format.as_deref() {
        Some("json") => print_json(&v)?,
        Some(f) => print_rows(Some(f), f, &[], &[v])?,
        None => write_out(&format!(
            "Version:      {v}\nAPI Version:  {v}\nOS/Arch:      linux/{}\n",
            libruntime::platform::go_arch(),
            v = libruntime::VERSION,
        ))?,
    }
    Ok(0)
}

/// Runs a command in the storage user namespace, where layer files show their
/// in-image owners. main() has already entered it.
pub fn unshare(ctx: &Ctx, a: UnshareArgs) -> Result<i32> {
    let mut argv = a.command.clone();
    if argv.is_empty() {
        argv.push(std::env::var("SHELL").unwrap_or_else(|_| "/bin/sh".into()));
    }
    let err = std::process::Command::new(&argv[0])
        .args(&argv[1..])
        .env("SKIFF_ROOT", &ctx.paths.root)
        .env("SKIFF_RUNROOT", &ctx.paths.runroot)
        .env("SKIFF_UNSHARE", "1")
        .exec();
    // podman's codes: 127 for a program that is not there, 126 for one that cannot run.
    let code = if err.kind() == std::io::ErrorKind::NotFound {
        127
    } else {
        126
    };
    Err(err)
        .with_context(|| format!("running {}", argv[0]))
        .map_err(|e| crate::exit::with_code(code, e))
}
