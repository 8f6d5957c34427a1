//! The verbs on a container's file system: commit, diff, export, cp, mount, unmount.

use crate::cli_container::*;
use crate::output::{is_json, print_json, write_out};
use crate::Ctx;
use anyhow::{bail, Context, Result};
use libruntime::container::commit::CommitOptions;
use libruntime::container::copy::{self, CopyOptions};
use libruntime::container::filesystem;
use libruntime::container::{self as ctr, ContainerDirs, State, Status};
use libruntime::reference::{DefaultDomain, Reference};
use libruntime::store::Store;
use libruntime::syscall::Syscall as _;
use std::io::IsTerminal;
use std::path::Path;

pub fn commit(ctx: &Ctx, a: CommitArgs) -> Result<i32> {
    let r = ctr::find(&ctx.paths, &a.container)?;
    let names = match &a.image {
        Some(n) => vec![Reference::parse(n)?.tagged_name(DefaultDomain::Localhost)],
        None => vec![],
    };
    // Bad input is refused before anything is paused or stored.
    libruntime::import::config_from_changes(&a.change)?;
    let opts = CommitOptions {
        changes: a.change.clone(),
        message: a.message.clone(),
        author: a.author.clone(),
        names,
        ..Default::default()
    };
    let st = State::load(&ContainerDirs::new(&ctx.paths, &r.id))?;
    let paused = a.pause && st.status == Status::Running && ctx.handle(&r).pause().is_ok();
    let store = Store::open_locked(&ctx.paths)?;
    let result = ctx.handle(&r).commit(&store, &opts, ctx.extract_options());
    if paused {
        if let Err(e) = ctx.handle(&r).unpause() {
            libruntime::log::warn(&format!("unpausing {}: {e}", r.name));
        }
    }
    let img = result.with_context(|| format!("committing {}", a.container))?;
    write_out(&format!("{}\n", img.id))?;
    Ok(0)
}

pub fn diff(ctx: &Ctx, a: DiffArgs) -> Result<i32> {
    let r = ctr::find(&ctx.paths, &a.container)?;
    let changes = ctx.handle(&r).diff()?;
    if is_json(a.format.as_deref()) {
        let pick = |k: char| -> Vec<&str> {
            changes
                .iter()
                .filter(|c| c.kind.letter() == k)
                .map(|c| c.path.as_str())
                .collect()
        };
        return print_json(&serde_json::json!({
            "changed": pick('C'), "added": pick('A'), "deleted": pick('D'),
        }))
        .map(|_| 0);
    }
    if let Some(f) = &a.format {
        bail!("invalid --format {f:?}: only json is supported");
    }
    let text: String = changes
        .iter()
        .map(|c| format!("{} {}\n", c.kind.letter(), c.path))
        .collect();
    write_out(&text)?;
    Ok(0)
}

pub fn export(ctx: &Ctx, a: ExportArgs) -> Result<i32> {
    let r = ctr::find(&ctx.paths, &a.container)?;
    let out: Box<dyn std::io::Write> = match a.output.as_deref() {
        None | Some("-") => {
            if std::io::stdout().is_terminal() {
                bail!("refusing to write an archive to a terminal: use -o FILE or redirect the output");
            }
            Box::new(std::io::stdout().lock())
        }
        Some(p) => Box::new(std::fs::File::create(p).with_context(|| format!("creating {p}"))?),
    };
    let fs = ctx.handle(&r).open_fs(false)?;
    fs.export(std::io::BufWriter::with_capacity(1 << 20, out))
        .with_context(|| format!("exporting {}", a.container))?;
    Ok(0)
}

/// `NAME:PATH` names a path in a container; anything else is a host path or `-`.
fn container_side(arg: &str) -> Option<(&str, &str)> {
    let (name, path) = arg.split_once(':')?;
    if name.is_empty() || name.contains('/') || name.starts_with('.') {
        return None;
    }
    Some((name, path))
}

pub fn cp(ctx: &Ctx, a: CpArgs) -> Result<i32> {
    let opts = CopyOptions {
        // podman's -a=false is what keeps owners.
        archive: !a.archive,
        follow_link: a.follow_link,
    };
    match (container_side(&a.source), container_side(&a.dest)) {
        (Some(_), Some(_)) => return copy_between(ctx, &a),
        (None, None) => bail!("one of SRC and DEST must be CONTAINER:PATH"),
        (Some((name, path)), None) => {
            let r = ctr::find(&ctx.paths, name)?;
            let fs = ctx.handle(&r).open_fs(true)?;
            let path = &copy::in_container(&r.config.workdir, path);
            if a.dest == "-" {
                let mut out = std::io::BufWriter::new(std::io::stdout().lock());
                copy::copy_out_stream(&fs, path, &mut out, opts)?;
                std::io::Write::flush(&mut out).context("writing standard output")?;
            } else {
                copy::copy_out(&fs, path, Path::new(&a.dest), opts)
                    .with_context(|| format!("copying {} to {}", a.source, a.dest))?;
            }
        }
        (None, Some((name, path))) => {
            let r = ctr::find(&ctx.paths, name)?;
            let fs = ctx.handle(&r).open_fs(true)?;
            let path = &copy::in_container(&r.config.workdir, path);
            if a.source == "-" {
                copy::copy_in_stream(&fs, &mut std::io::stdin().lock(), path)
                    .with_context(|| format!("copying standard input to {}", a.dest))?;
            } else {
                copy::copy_in(&fs, Path::new(&a.source), path, opts)
                    .with_context(|| format!("copying {} to {}", a.source, a.dest))?;
            }
        }
    }
    Ok(0)
}

/// Container to container: one child per side, joined by a pipe carrying a tar stream.
/// Each side may need namespaces of its own (a running container's user namespace, the
/// private mount of a stopped one's root), which one process cannot hold both of.
fn copy_between(ctx: &Ctx, a: &CpArgs) -> Result<i32> {
    use std::process::Stdio;
    let flags: Vec<&str> = [(!a.archive, "-a=false"), (a.follow_link, "-L")]
        .into_iter()
        .filter_map(|(on, f)| on.then_some(f))
        .collect();
    let mut out = super::registry::skiff_child(ctx)
        .arg("cp")
        .args(&flags)
        .args([a.source.as_str(), "-"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .context("starting the copy out")?;
    let stream = out.stdout.take().context("the copy out has no output")?;
    let into = super::registry::skiff_child(ctx)
        .args(["cp", "-", a.dest.as_str()])
        .stdin(stream)
        .status()
        .context("running the copy in")?;
    let from = out.wait().context("waiting for the copy out")?;
    // Each child has said why it failed on stderr.
    for st in [from, into] {
        if !st.success() {
            return Err(crate::exit::Reported(st.code().unwrap_or(crate::exit::ENGINE)).into());
        }
    }
    Ok(0)
}

/// Rootless mounts live in the storage user namespace: only `skiff unshare` shows them.
/// Rootless mounts (of containers and images) live in the storage user namespace.
pub fn check_mount_namespace(ctx: &Ctx) -> Result<()> {
    if ctx.paths.rootless && !libruntime::userns::in_user_namespace() {
        bail!("rootless mounts are only visible inside the storage user namespace: run this inside 'skiff unshare'");
    }
    Ok(())
}

pub fn mount(ctx: &Ctx, a: MountArgs) -> Result<i32> {
    check_mount_namespace(ctx)?;
    if a.containers.is_empty() {
        let mut rows = Vec::new();
        for r in ctr::list(&ctx.paths)? {
            let dirs = ContainerDirs::new(&ctx.paths, &r.id);
            if libruntime::syscall::is_mounted(&dirs.merged()) {
                rows.push((r.id.clone(), dirs.merged().display().to_string()));
            }
        }
        if is_json(a.format.as_deref()) {
            let v: Vec<_> = rows
                .iter()
                .map(|(id, p)| serde_json::json!({"id": id, "mountpoint": p}))
                .collect();
            return print_json(&serde_json::Value::Array(v)).map(|_| 0);
        }
        let text: String = rows.iter().map(|(id, p)| format!("{id} {p}\n")).collect();
        write_out(&text)?;
        return Ok(0);
    }
    for name in &a.containers {
        let r = ctr::find(&ctx.paths, name)?;
        let dirs = ContainerDirs::new(&ctx.paths, &r.id);
        let plan = libruntime::container::rootfs_plan::rootfs_plan(&ctx.paths, &r, &dirs);
        let at = filesystem::mount_persistent(&ctx.paths, &r, &plan, &dirs.merged())
            .with_context(|| format!("mounting {name}"))?;
        write_out(&format!("{}\n", at.display()))?;
    }
    Ok(0)
}

pub fn unmount(ctx: &Ctx, a: UnmountArgs) -> Result<i32> {
    check_mount_namespace(ctx)?;
    let records = if a.all {
        ctr::list(&ctx.paths)?
    } else {
        if a.containers.is_empty() {
            bail!("name at least one container, or use --all");
        }
        a.containers
            .iter()
            .map(|n| ctr::find(&ctx.paths, n))
            .collect::<Result<Vec<_>, _>>()?
    };
    for r in records {
        let merged = ContainerDirs::new(&ctx.paths, &r.id).merged();
        if libruntime::syscall::is_mounted(&merged) {
            libruntime::syscall::LINUX
                .unmount(&merged)
                .with_context(|| format!("unmounting {}", r.name))?;
            if !a.all {
                write_out(&format!("{}\n", r.id))?;
            }
        }
    }
    Ok(0)
}
