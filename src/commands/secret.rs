//! secret create, ls, inspect, rm, exists.

use crate::cli_secret::*;
use crate::output::{print_json, print_listing, print_rows, write_out, Listing};
use crate::Ctx;
use anyhow::{bail, Context, Result};
use libruntime::container::options::parse_key_values;
use libruntime::secret::{self, SecretError, SecretRecord};
use libruntime::store::Store;
use serde_json::{json, Value};
use std::io::Read;

pub fn dispatch(ctx: &Ctx, cmd: SecretCommand) -> Result<i32> {
    match cmd {
        SecretCommand::Create(a) => create(ctx, a),
        SecretCommand::Ls(a) => ls(ctx, a),
        SecretCommand::Inspect(a) => inspect(ctx, a),
        SecretCommand::Rm(a) => rm(ctx, a),
        SecretCommand::Exists(a) => Ok(if secret::find(&ctx.paths, &a.name).is_ok() {
            0
        } else {
            1
        }),
    }
}

/// The value, from a file, standard input or (--env) a variable.
fn read_value(a: &SecretCreateArgs) -> Result<Vec<u8>> {
    if a.env {
        return std::env::var_os(&a.source)
            .map(std::os::unix::ffi::OsStringExt::into_vec)
            .with_context(|| format!("environment variable {} is not set", a.source));
    }
    if a.source == "-" {
        let mut v = Vec::new();
        std::io::stdin()
            .read_to_end(&mut v)
            .context("reading the secret from standard input")?;
        return Ok(v);
    }
    std::fs::read(&a.source).with_context(|| format!("reading {}", a.source))
}

fn create(ctx: &Ctx, a: SecretCreateArgs) -> Result<i32> {
    if a.driver != secret::FILE_DRIVER {
        bail!("unsupported secret driver {:?}: only file", a.driver);
    }
    if !a.driver_opts.is_empty() {
        bail!("the file driver takes no options");
    }
    let labels = parse_key_values("label", &a.label)?;
    let value = read_value(&a)?;
    let _lock = Store::open_locked(&ctx.paths)?;
    let s = secret::create(&ctx.paths, &a.name, &value, labels)?;
    write_out(&format!("{}\n", s.id))?;
    Ok(0)
}

/// podman's inspect shape; the value only when asked for.
fn value_of(ctx: &Ctx, s: &SecretRecord, show: bool) -> Result<Value> {
    let mut v = json!({
        "ID": s.id,
        "CreatedAt": s.created,
        "UpdatedAt": s.updated,
        "Spec": {
            "Name": s.name,
            "Driver": {"Name": s.driver, "Options": {"path": ctx.paths.root.join("secrets").display().to_string()}},
            "Labels": s.labels,
        },
    });
    if show {
        let data = secret::value(&ctx.paths, s)?;
        v["SecretData"] = String::from_utf8_lossy(&data).into_owned().into();
    }
    Ok(v)
}

fn ls(ctx: &Ctx, a: SecretLsArgs) -> Result<i32> {
    let mut rows = Vec::new();
    for s in secret::list(&ctx.paths)? {
        let mut keep = true;
        for f in &a.filter {
            keep &= match f.split_once('=') {
                Some(("name", n)) => s.name.contains(n),
                Some(("id", i)) => s.id.starts_with(i),
                Some(("label", l)) => match l.split_once('=') {
                    Some((k, val)) => s.labels.get(k).is_some_and(|x| x == val),
                    None => s.labels.contains_key(l),
                },
                _ => bail!("invalid filter {f:?}: use name=, id= or label="),
            };
        }
        if keep {
            let mut row = value_of(ctx, &s, false)?;
            // The columns podman's table names.
            row["Name"] = s.name.clone().into();
            row["Driver"] = s.driver.clone().into();
            row["CreatedAt"] = libruntime::time::ago(Some(&s.created)).into();
            row["UpdatedAt"] = libruntime::time::ago(Some(&s.updated)).into();
            rows.push(row);
        }
    }
    print_listing(
        &Listing {
            quiet: a.quiet,
            noheading: a.noheading,
            key: "ID",
            format: a.format.as_deref(),
            default_table: "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.CreatedAt}}\t{{.UpdatedAt}}",
            headers: &[
                ("ID", "ID"),
                ("Name", "NAME"),
                ("Driver", "DRIVER"),
                ("CreatedAt", "CREATED"),
                ("UpdatedAt", "UPDATED"),
            ],
        },
        rows,
    )?;
    Ok(0)
}

fn inspect(ctx: &Ctx, a: SecretInspectArgs) -> Result<i32> {
    let mut values = Vec::new();
    for n in &a.names {
        values.push(value_of(ctx, &secret::find(&ctx.paths, n)?, a.showsecret)?);
    }
    match a.format.as_deref() {
        None | Some("json") => print_json(&Value::Array(values))?,
        Some(f) => print_rows(Some(f), f, &[], &values)?,
    }
    Ok(0)
}

/// Names of the containers that use the secret.
fn users(ctx: &Ctx, s: &SecretRecord) -> Result<Vec<String>> {
    Ok(libruntime::container::list(&ctx.paths)?
        .into_iter()
        .filter(|c| c.config.secrets.iter().any(|u| u.id == s.id))
        .map(|c| c.name)
        .collect())
}

fn rm(ctx: &Ctx, a: SecretRmArgs) -> Result<i32> {
    if a.all != a.names.is_empty() {
        bail!("give secret names or --all, not both and not neither");
    }
    let _lock = Store::open_locked(&ctx.paths)?;
    let targets: Vec<String> = if a.all {
        secret::list(&ctx.paths)?
            .into_iter()
            .map(|s| s.name)
            .collect()
    } else {
        a.names.clone()
    };
    for n in targets {
        let s = match secret::find(&ctx.paths, &n) {
            Ok(s) => s,
            Err(libruntime::Error::Secret(SecretError::NotFound(_))) if a.ignore => continue,
            Err(e) => return Err(crate::exit::with_code(1, e)),
        };
        secret::remove(&ctx.paths, &s, users(ctx, &s)?)?;
        write_out(&format!("{}\n", s.id))?;
    }
    Ok(0)
}
