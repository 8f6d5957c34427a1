//! `build`: reads the Containerfile and the context, pulls missing bases, and hands the
//! rest to libruntime, printing its steps and RUN output.

use crate::cli_build::BuildArgs;
use crate::Ctx;
use anyhow::{bail, Context as _, Result};
use libruntime::build::context::Context;
use libruntime::build::executor::{self, BuildOptions, Reporter};
use libruntime::container::options::{parse_key_values, NetMode};
use libruntime::reference::{DefaultDomain, Reference};
use libruntime::registry::policy::PullPolicy;
use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

struct Printer {
    quiet: bool,
    /// `--logfile`: steps and RUN output go there instead of standard output.
    log: Option<std::fs::File>,
}

impl Printer {
    fn write(&self, data: &[u8]) {
        if self.quiet {
            return;
        }
        match &self.log {
            Some(f) => {
                let _ = (&*f).write_all(data);
            }
            None => {
                let mut out = std::io::stdout().lock();
                let _ = out.write_all(data);
                let _ = out.flush();
            }
        }
    }
}

impl Reporter for Printer {
    fn line(&self, text: &str) {
        self.write(format!("{text}\n").as_bytes());
    }
    fn output(&self, data: &[u8]) {
        self.write(data);
    }
}

fn looks_like_archive(head: &[u8]) -> bool {
    head.starts_with(&[0x1f, 0x8b])
        || head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd])
        || (head.len() >= 262 && &head[257..262] == b"ustar")
}

/// The context and the Containerfile's text and name.
fn context_and_file(ctx: &Ctx, a: &BuildArgs) -> Result<(Context, String, String)> {
    let staging = libruntime::store::Store::open(&ctx.paths).staging_path("build-context");
    let read_file = |p: &Path| -> Result<String> {
        std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))
    };
    let (context, text, name) = if a.context == "-" {
        let mut data = Vec::new();
        std::io::stdin()
            .read_to_end(&mut data)
            .context("reading standard input")?;
        if looks_like_archive(&data) {
            let c = Context::from_archive(&mut &data[..], &staging)?;
            let (text, name) = file_in(&c.root, a, read_file)?;
            (c, text, name)
        } else {
            // A Containerfile alone, with an empty context.
            std::fs::create_dir_all(&staging)?;
            let c = Context::from_archive(&mut &empty_tar()[..], &staging)?;
            (
                c,
                String::from_utf8(data).context("the Containerfile is not UTF-8")?,
                "-".into(),
            )
        }
    } else {
        let path = a.context_path();
        let meta = std::fs::metadata(&path)
            .with_context(|| format!("build context {}", path.display()))?;
        if meta.is_file() {
            let mut f = std::fs::File::open(&path)?;
            let c = Context::from_archive(&mut f, &staging)?;
            let (text, name) = file_in(&c.root, a, read_file)?;
            (c, text, name)
        } else {
            let (text, name) = file_in(&path, a, read_file)?;
            let ignores = match &a.ignorefile {
                Some(f) => vec![f.clone()],
                None => {
                    let mut i = vec![path.join(".containerignore"), path.join(".dockerignore")];
                    if let Some(f) = &a.file {
                        i.insert(0, PathBuf::from(format!("{f}.dockerignore")));
                    }
                    i
                }
            };
            (Context::from_dir(&path, &ignores)?, text, name)
        }
    };
    Ok((context, text, name))
}

fn empty_tar() -> Vec<u8> {
    vec![0u8; 1024]
}

/// The Containerfile: -f (relative to the working directory, or `-`), else
/// Containerfile or Dockerfile in the context.
fn file_in(
    root: &Path,
    a: &BuildArgs,
    read: impl Fn(&Path) -> Result<String>,
) -> Result<(String, String)> {
    match a.file.as_deref() {
        Some("-") => {
            let mut s = String::new();
            std::io::stdin().read_to_string(&mut s)?;
            Ok((s, "-".into()))
        }
        Some(f) => {
            let p = PathBuf::from(f);
            let p = if p.exists() || p.is_absolute() {
                p
            } else {
                root.join(f)
            };
            Ok((read(&p)?, f.to_string()))
        }
        None => {
            for n in ["Containerfile", "Dockerfile"] {
                let p = root.join(n);
                if p.exists() {
                    return Ok((read(&p)?, n.to_string()));
                }
            }
            bail!(
                "no Containerfile or Dockerfile in {}: give one with -f",
                root.display()
            )
        }
    }
}

/// Base images the build needs from outside (not stages, not scratch).
fn external_bases(text: &str, args: &HashMap<String, String>) -> Vec<String> {
    let Ok(file) = libruntime::build::containerfile::Containerfile::parse(text) else {
        return vec![];
    };
    let mut vars: HashMap<String, String> = HashMap::new();
    for (k, d) in &file.global_args {
        if let Some(v) = args.get(k).cloned().or_else(|| d.clone()) {
            vars.insert(k.clone(), v);
        }
    }
    let mut out = Vec::new();
    for s in &file.stages {
        let Ok(b) = libruntime::build::expand::word(&s.base, &vars, file.escape) else {
            continue;
        };
        let is_stage = file.stages[..s.index]
            .iter()
            .any(|x| x.name.as_deref() == Some(b.to_ascii_lowercase().as_str()));
        if b != "scratch" && !is_stage && !out.contains(&b) {
            out.push(b);
        }
    }
    out
}

/// `--pull`, or podman's older `--pull-always`/`--pull-never`.
fn pull_policy(a: &BuildArgs) -> Result<PullPolicy> {
    if a.pull_always {
        Ok(PullPolicy::Always)
    } else if a.pull_never {
        Ok(PullPolicy::Never)
    } else {
        Ok(a.pull.parse()?)
    }
}

pub fn build(ctx: &Ctx, a: BuildArgs) -> Result<i32> {
    let mut build_args = HashMap::new();
    for b in &a.build_arg {
        match b.split_once('=') {
            Some((k, v)) => build_args.insert(k.to_string(), v.to_string()),
            None => match std::env::var(b) {
                Ok(v) => build_args.insert(b.clone(), v),
                Err(_) => None,
            },
        };
    }
    let mut secrets = HashMap::new();
    for s in &a.secret {
        let kv = parse_key_values(
            "secret",
            &s.split(',').map(String::from).collect::<Vec<_>>(),
        )?;
        let (Some(id), Some(src)) = (kv.get("id"), kv.get("src").or(kv.get("source"))) else {
            bail!("invalid --secret {s:?}: want id=ID,src=PATH");
        };
        let src = PathBuf::from(src);
        if !src.is_file() {
            bail!("--secret {id}: {} is not a file", src.display());
        }
        secrets.insert(id.clone(), std::fs::canonicalize(src)?);
    }
    super::registry::client_options(&a.registry)?;
    if let Some(f) = &a.ignorefile {
        if !f.is_file() {
            bail!("--ignorefile {}: no such file", f.display());
        }
    }
    let log = a
        .logfile
        .as_ref()
        .map(|f| {
            std::fs::File::create(f).with_context(|| format!("creating --logfile {}", f.display()))
        })
        .transpose()?;
    let tags = a
        .tag
        .iter()
        .map(|t| Ok(Reference::parse(t)?.tagged_name(DefaultDomain::Localhost)))
        .collect::<libruntime::Result<Vec<_>>>()?;
    let (context, text, file_name) = context_and_file(ctx, &a)?;
    for base in external_bases(&text, &build_args) {
        super::registry::ensure_image(ctx, &base, pull_policy(&a)?, &a.registry, &a.platform)?;
    }
    let opts = BuildOptions {
        containerfile: text,
        file_name,
        context,
        tags,
        build_args,
        target: a.target.clone(),
        // Without layers there is nothing to cache by, as in podman.
        no_cache: a.no_cache || !a.layers,
        labels: parse_key_values("label", &a.label)?,
        network: NetMode::parse(&a.network)?,
        secrets,
        extract: ctx.extract_options(),
        squash: a.squash || !a.layers,
        ulimits: a
            .ulimit
            .iter()
            .map(|u| libruntime::container::options::Ulimit::parse(u))
            .collect::<libruntime::Result<_>>()?,
    };
    let printer = Printer {
        quiet: a.quiet,
        log,
    };
    let id = executor::build(&ctx.paths, &ctx.maps, &opts, &printer)?;
    if let Some(f) = &a.iidfile {
        std::fs::write(f, format!("sha256:{id}"))
            .with_context(|| format!("writing --iidfile {}", f.display()))?;
    }
    crate::output::write_out(&format!("{id}\n"))?;
    Ok(0)
}
