//! load, save, import.

use crate::cli::{ImportArgs, LoadArgs, SaveArgs};
use crate::output::write_out;
use crate::Ctx;
use anyhow::{bail, Context, Result};
use libruntime::archive::{self, Format, SaveItem};
use libruntime::import::{self, ImportOptions};
use libruntime::reference::{DefaultDomain, Reference};
use libruntime::store::Store;
use std::io::IsTerminal;

pub fn load(ctx: &Ctx, a: LoadArgs) -> Result<i32> {
    let store = Store::open_locked(&ctx.paths)?;
    let spooled;
    let path = match &a.input {
        Some(p) if archive::is_url(&p.to_string_lossy()) => {
            spooled = archive::download(&store, &p.to_string_lossy())?;
            spooled.path().to_path_buf()
        }
        Some(p) => p.clone(),
        None => {
            if std::io::stdin().is_terminal() {
                bail!(
                    "cannot read from terminal: use command-line redirection or the --input flag"
                );
            }
            spooled = archive::spool(&store, &mut std::io::stdin().lock())?;
            spooled.path().to_path_buf()
        }
    };
    let images = archive::load(&store, &path, ctx.extract_options()).with_context(|| {
        format!(
            "loading {}",
            a.input
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| "standard input".into())
        )
    })?;
    let mut out = String::new();
    for img in images {
        if img.names.is_empty() {
            out.push_str(&format!("Loaded image: sha256:{}\n", img.id));
        }
        for n in &img.names {
            out.push_str(&format!("Loaded image: {n}\n"));
        }
    }
    write_out(&out)?;
    Ok(0)
}

pub fn save(ctx: &Ctx, a: SaveArgs) -> Result<i32> {
    let format = Format::parse(&a.format)?;
    let store = Store::open(&ctx.paths);
    let mut items = Vec::new();
    for what in &a.images {
        let image = store.find_image(what)?;
        // Saved by name: that name goes in the archive; saved by ID: none, like docker.
        let names = match Reference::parse(what) {
            Ok(r) => image
                .names
                .iter()
                .filter(|n| r.matches_name(n))
                .take(1)
                .cloned()
                .collect(),
            Err(_) => vec![],
        };
        items.push(SaveItem { image, names });
    }
    match &a.output {
        Some(path) => {
            // Written beside the target and renamed, so a failed save leaves no torn file.
            let dir = path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(std::path::Path::new("."));
            let tmp = dir.join(format!(
                ".{}.skiff-{}",
                path.file_name().and_then(|n| n.to_str()).unwrap_or("save"),
                std::process::id()
            ));
            let result = (|| -> Result<()> {
                let f = std::fs::File::create(&tmp)
                    .with_context(|| format!("creating {}", path.display()))?;
                let w = archive::save(
                    &store,
                    &items,
                    format,
                    std::io::BufWriter::with_capacity(1 << 20, f),
                )?;
                w.into_inner().map_err(|e| e.into_error())?.sync_all()?;
                std::fs::rename(&tmp, path)
                    .with_context(|| format!("writing {}", path.display()))?;
                Ok(())
            })();
            if result.is_err() {
                let _ = std::fs::remove_file(&tmp);
            }
            result?;
        }
        None => {
            if std::io::stdout().is_terminal() {
                bail!("refusing to save to a terminal: use -o or redirect standard output");
            }
            let out = std::io::BufWriter::with_capacity(1 << 20, std::io::stdout().lock());
            let mut w = archive::save(&store, &items, format, out)?;
            std::io::Write::flush(&mut w)?;
        }
    }
    Ok(0)
}

pub fn import(ctx: &Ctx, a: ImportArgs) -> Result<i32> {
    let names = match &a.reference {
        Some(r) => vec![Reference::parse(r)?.tagged_name(DefaultDomain::Localhost)],
        None => vec![],
    };
    let opts = ImportOptions {
        changes: a.change.clone(),
        message: Some(
            a.message
                .clone()
                .unwrap_or_else(|| "imported from tarball".into()),
        ),
        names,
    };
    // Bad input is refused before the store is touched.
    import::config_from_changes(&opts.changes)?;
    let store = Store::open_locked(&ctx.paths)?;
    let img = if archive::is_url(&a.source) {
        let file = archive::download(&store, &a.source)?;
        let mut f = std::fs::File::open(file.path())?;
        import::import(&store, &mut f, &opts, ctx.extract_options())
            .with_context(|| format!("importing {}", a.source))?
    } else if a.source == "-" {
        import::import(
            &store,
            &mut std::io::stdin().lock(),
            &opts,
            ctx.extract_options(),
        )?
    } else {
        let mut f =
            std::fs::File::open(&a.source).with_context(|| format!("opening {}", a.source))?;
        import::import(&store, &mut f, &opts, ctx.extract_options())
            .with_context(|| format!("importing {}", a.source))?
    };
    write_out(&format!("sha256:{}\n", img.id))?;
    Ok(0)
}
