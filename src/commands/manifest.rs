//! `manifest`: multi-platform lists, made from images in the store and pushed whole.

use crate::cli::{
    ManifestAddArgs, ManifestAnnotateArgs, ManifestCommand, ManifestCreateArgs, ManifestEntryFlags,
    ManifestPushArgs, ManifestRemoveArgs,
};
use crate::output::write_out;
use crate::Ctx;
use anyhow::{bail, Context, Result};
use libruntime::container::options::parse_key_values;
use libruntime::manifest_list::{self as lists, EntryChanges};
use libruntime::reference::{DefaultDomain, Reference};
use libruntime::registry::push::{self, PushOptions};
use libruntime::store::Store;

pub fn dispatch(ctx: &Ctx, cmd: ManifestCommand) -> Result<i32> {
    match cmd {
        ManifestCommand::Create(a) => create(ctx, a),
        ManifestCommand::Add(a) => add(ctx, a),
        ManifestCommand::Annotate(a) => annotate(ctx, a),
        ManifestCommand::Remove(a) => remove(ctx, a),
        ManifestCommand::Inspect(a) => {
            let index = lists::get(&ctx.paths, &a.name)?;
            write_out(&format!(
                "{}\n",
                String::from_utf8_lossy(&lists::serialized(&index)?)
            ))?;
            Ok(0)
        }
        ManifestCommand::Exists(a) => Ok(if lists::exists(&ctx.paths, &a.name)? {
            0
        } else {
            1
        }),
        ManifestCommand::Rm(a) => {
            for n in &a.names {
                lists::delete(&ctx.paths, n)?;
                write_out(&format!("{}\n", lists::full_name(n)?))?;
            }
            Ok(0)
        }
        ManifestCommand::Push(a) => push_list(ctx, a),
    }
}

fn create(ctx: &Ctx, a: ManifestCreateArgs) -> Result<i32> {
    let store = Store::open_locked(&ctx.paths)?;
    let images = a
        .images
        .iter()
        .map(|i| store.find_image(i))
        .collect::<Result<Vec<_>, _>>()?;
    lists::create(&store, &a.name, &images, a.amend)?;
    write_out(&format!("{}\n", lists::full_name(&a.name)?))?;
    Ok(0)
}

/// The entry changes the flags ask for.
fn changes(f: &ManifestEntryFlags) -> Result<EntryChanges> {
    Ok(EntryChanges {
        os: f.os.clone(),
        arch: f.arch.clone(),
        variant: f.variant.clone(),
        os_version: f.os_version.clone(),
        os_features: f.features.clone(),
        annotations: parse_key_values("annotation", &f.annotation)?,
    })
}

fn add(ctx: &Ctx, a: ManifestAddArgs) -> Result<i32> {
    let store = Store::open_locked(&ctx.paths)?;
    let source = super::registry::resolve_source(ctx, &a.image)?;
    let image = store.find_image(&source)?;
    let c = changes(&a.entry)?;
    let digest = lists::add(&store, &a.list, &image, &c)?;
    write_out(&format!("{digest}\n"))?;
    Ok(0)
}

fn annotate(ctx: &Ctx, a: ManifestAnnotateArgs) -> Result<i32> {
    let _lock = Store::open_locked(&ctx.paths)?;
    let c = changes(&a.entry)?;
    lists::annotate(&ctx.paths, &a.list, &a.digest, &c)?;
    write_out(&format!("{}\n", a.digest))?;
    Ok(0)
}

fn remove(ctx: &Ctx, a: ManifestRemoveArgs) -> Result<i32> {
    let _lock = Store::open_locked(&ctx.paths)?;
    lists::remove_entry(&ctx.paths, &a.list, &a.digest)?;
    write_out(&format!("{}: {}\n", lists::full_name(&a.list)?, a.digest))?;
    Ok(0)
}

fn push_list(ctx: &Ctx, a: ManifestPushArgs) -> Result<i32> {
    let store = Store::open(&ctx.paths);
    let index = lists::get(&ctx.paths, &a.list)?;
    if index.manifests.is_empty() {
        bail!("manifest list {} is empty: add images first", a.list);
    }
    let images = index
        .manifests
        .iter()
        .map(|m| lists::image_of(&store, m))
        .collect::<Result<Vec<_>, _>>()?;
    let dest_name = a.destination.as_deref().unwrap_or(&a.list);
    let dest = Reference::parse(dest_name.strip_prefix("docker://").unwrap_or(dest_name))?;
    if dest.domain.is_none() || dest.domain.as_deref() == Some("localhost") {
        bail!(
            "{dest_name}: name a registry to push to, like 127.0.0.1:5000/{}",
            dest.path
        );
    }
    let dest = Reference::parse(&dest.tagged_name(DefaultDomain::Localhost))?;
    let opts = PushOptions {
        client: super::registry::client_options(&a.registry)?,
    };
    let progress = crate::progress::CliProgress::new(a.quiet);
    let digest = push::push_list(
        &store,
        &lists::serialized(&index)?,
        &images,
        &dest,
        &opts,
        &progress,
    )
    .with_context(|| format!("pushing manifest list {}", a.list))?;
    if let Some(f) = &a.digestfile {
        std::fs::write(f, digest.to_string())
            .with_context(|| format!("writing --digestfile {}", f.display()))?;
    }
    if a.rm {
        lists::delete(&ctx.paths, &a.list)?;
    }
    if !a.quiet {
        write_out(&format!("{digest}\n"))?;
    }
    Ok(0)
}
