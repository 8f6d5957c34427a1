//! images, inspect, tag, rmi, image prune, history.

use crate::cli::{
    HistoryArgs, ImageSort, ImagesArgs, InspectArgs, PruneArgs, RmiArgs, TagArgs, UntagArgs,
};
use crate::cli_container::ExistsArgs;
use crate::exit;
use crate::output::{is_json, print_json, print_rows, print_table, write_out};
use crate::Ctx;
use anyhow::{bail, Context, Result};
use libruntime::container::ContainerError;
use libruntime::reference::{split_name, DefaultDomain, Reference};
use libruntime::store::StoreError;
use libruntime::store::{ImageRecord, Store};
use libruntime::time;
use serde_json::{json, Value};

const IMAGE_HEADERS: &[(&str, &str)] = &[
    ("ID", "IMAGE ID"),
    ("Repository", "REPOSITORY"),
    ("Tag", "TAG"),
    ("Digest", "DIGEST"),
    ("Created", "CREATED"),
    ("CreatedSince", "CREATED"),
    ("CreatedAt", "CREATED AT"),
    ("Size", "SIZE"),
];

fn newest_first(mut images: Vec<ImageRecord>) -> Vec<ImageRecord> {
    images.sort_by_key(|i| std::cmp::Reverse(time::unix(i.created.as_deref())));
    images
}

pub(crate) fn matches_filters(
    img: &ImageRecord,
    filters: &[String],
    reference: Option<&str>,
) -> Result<bool> {
    for f in filters {
        let (k, v) = f
            .split_once('=')
            .with_context(|| format!("invalid filter {f:?}: want KEY=VALUE"))?;
        let ok = match k {
            "dangling" => (v == "true") == img.names.is_empty(),
            "reference" => name_matches(img, v),
            "id" => img.id.starts_with(v),
            _ => bail!("invalid filter {k:?}: use dangling, reference or id"),
        };
        if !ok {
            return Ok(false);
        }
    }
    Ok(reference.is_none_or(|r| name_matches(img, r)))
}

fn validate_filters(filters: &[String]) -> Result<()> {
    for f in filters {
        match f.split_once('=') {
            Some(("dangling" | "reference" | "id", _)) => {}
            _ => bail!("invalid filter {f:?}: use dangling=true|false, reference=NAME or id=ID"),
        }
    }
    Ok(())
}

fn name_matches(img: &ImageRecord, pattern: &str) -> bool {
    match Reference::parse(pattern) {
        Ok(r) if r.tag.is_some() => img.names.iter().any(|n| r.matches_name(n)),
        Ok(r) => img.names.iter().any(|n| {
            let (repo, _) = split_name(n);
            repo == r.repository(DefaultDomain::Localhost)
                || repo.ends_with(&format!("/{}", r.path))
        }),
        Err(_) => false,
    }
}

pub fn list(ctx: &Ctx, a: ImagesArgs) -> Result<i32> {
    let store = Store::open(&ctx.paths);
    if let Some(f) = &a.format {
        if !is_json(Some(f)) {
            crate::template::Template::parse(f)?;
        }
    }
    let mut images = Vec::new();
    validate_filters(&a.filter)?;
    let mut all = newest_first(store.images()?);
    if a.sort == ImageSort::Id {
        all.sort_by(|x, y| x.id.cmp(&y.id));
    } else if a.sort == ImageSort::Size {
        all.sort_by_key(|i| std::cmp::Reverse(i.size));
    }
    for img in all {
        // Images a build made along the way show only with --all, as in podman.
        let intermediate =
            img.names.is_empty() && libruntime::build::cache::is_intermediate(&ctx.paths, &img.id);
        if intermediate && !a.all {
            continue;
        }
        if matches_filters(&img, &a.filter, a.reference.as_deref())? {
            images.push(img);
        }
    }
    if a.quiet {
        let mut seen = std::collections::HashSet::new();
        let ids: String = images
            .iter()
            .filter(|i| seen.insert(i.id.clone()))
            .map(|i| {
                format!(
                    "{}\n",
                    if a.no_trunc {
                        format!("sha256:{}", i.id)
                    } else {
                        i.id[..12].to_string()
                    }
                )
            })
            .collect();
        return write_out(&ids).map(|_| 0);
    }
    if is_json(a.format.as_deref()) {
        let containers = libruntime::container::list(&ctx.paths)?;
        let list: Vec<Value> = images
            .iter()
            .map(|i| {
                let labels = store
                    .image_config(i)
                    .ok()
                    .and_then(|c| c.config().as_ref().and_then(|c| c.labels().clone()));
                json!({
                    "Id": i.id,
                    "ParentId": "",
                    "RepoTags": if i.names.is_empty() { Value::Null } else { json!(i.names) },
                    "RepoDigests": repo_digests(i),
                    "Size": i.size,
                    "SharedSize": 0,
                    "VirtualSize": i.size,
                    "Labels": labels,
                    "Containers": containers.iter().filter(|c| c.image_id == i.id).count(),
                    "Names": i.names,
                    "Digest": i.digest,
                    "Created": time::unix(i.created.as_deref()),
                    "CreatedAt": i.created,
                })
            })
            .collect();
        return print_json(&Value::Array(list)).map(|_| 0);
    }
    // Labels cost a read of each image's config: only when the template asks.
    let want_labels = a.format.as_deref().is_some_and(|f| f.contains(".Labels"));
    let mut rows = Vec::new();
    for i in &images {
        let labels = if want_labels {
            store
                .image_config(i)
                .ok()
                .and_then(|c| c.config().as_ref().and_then(|c| c.labels().clone()))
        } else {
            None
        };
        let names: Vec<(String, String)> = if i.names.is_empty() {
            vec![("<none>".into(), "<none>".into())]
        } else {
            i.names
                .iter()
                .map(|n| split_name(n))
                .map(|(r, t)| (r.to_string(), t.to_string()))
                .collect()
        };
        for (repo, tag) in names {
            let id = if a.no_trunc {
                format!("sha256:{}", i.id)
            } else {
                i.id[..12].to_string()
            };
            rows.push(json!({
                "ID": id,
                "Id": i.id,
                "Repository": repo,
                "Tag": tag,
                "Digest": i.digest,
                "Created": time::ago(i.created.as_deref()),
                "CreatedSince": time::ago(i.created.as_deref()),
                "CreatedAt": i.created,
                "Size": time::human_size(i.size),
                "VirtualSize": time::human_size(i.size),
                "Names": i.names,
                "Labels": labels,
            }));
        }
    }
    match a.sort {
        ImageSort::Repository => {
            rows.sort_by(|x, y| x["Repository"].as_str().cmp(&y["Repository"].as_str()))
        }
        ImageSort::Tag => rows.sort_by(|x, y| x["Tag"].as_str().cmp(&y["Tag"].as_str())),
        ImageSort::Created | ImageSort::Id | ImageSort::Size => {}
    }
    let default = if a.digests {
        "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.Created}}\t{{.Size}}"
    } else {
        "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.Created}}\t{{.Size}}"
    };
    print_table(
        a.format.as_deref(),
        default,
        IMAGE_HEADERS,
        &rows,
        !a.noheading,
    )?;
    Ok(0)
}

fn repo_digests(i: &ImageRecord) -> Vec<String> {
    let mut v: Vec<String> = i
        .names
        .iter()
        .map(|n| format!("{}@{}", split_name(n).0, i.digest))
        .collect();
    v.dedup();
    v
}

/// podman's image inspect shape, for the fields skiff has.
pub fn inspect_value(store: &Store, i: &ImageRecord) -> Result<Value> {
    let raw: Value =
        serde_json::from_slice(&store.read_blob(&i.config)?).context("parsing image config")?;
    let cfg = raw.get("config").cloned().unwrap_or(json!({}));
    let history = raw.get("history").cloned().unwrap_or(json!([]));
    let diff_ids: Vec<String> = i.layers.iter().map(|l| l.diff_id.to_string()).collect();
    let graph = libruntime::graph::driver_for(&store.paths);
    let layer_dirs: Vec<String> = i
        .layers
        .iter()
        .rev()
        .map(|l| store.layer_diff_dir(&l.diff_id).display().to_string())
        .collect();
    Ok(json!({
        "Id": i.id,
        "Digest": i.digest,
        "RepoTags": i.names,
        "RepoDigests": repo_digests(i),
        "Parent": "",
        "Comment": history.as_array().and_then(|h| h.last()).and_then(|h| h.get("comment")).cloned().unwrap_or(json!("")),
        "Created": i.created,
        "Config": cfg,
        "Version": raw.get("docker_version").cloned().unwrap_or(json!("")),
        "Author": raw.get("author").cloned().unwrap_or(json!("")),
        "Architecture": raw.get("architecture").cloned().unwrap_or(json!("")),
        "Os": raw.get("os").cloned().unwrap_or(json!("")),
        "Size": i.size,
        "VirtualSize": i.size,
        "GraphDriver": {
            "Name": graph.name(),
            "Data": {
                "UpperDir": layer_dirs.first(),
                "LowerDir": layer_dirs.iter().skip(1).cloned().collect::<Vec<_>>().join(":"),
            }
        },
        "RootFS": { "Type": "layers", "Layers": diff_ids },
        "Labels": cfg.get("Labels").cloned().unwrap_or(Value::Null),
        "Annotations": {},
        "ManifestType": libruntime::store::MEDIA_TYPE_MANIFEST,
        "User": cfg.get("User").cloned().unwrap_or(json!("")),
        "History": history,
        "NamesHistory": i.names,
    }))
}

pub fn inspect(ctx: &Ctx, a: InspectArgs) -> Result<i32> {
    let kind = a.r#type.as_deref().unwrap_or("all");
    if !matches!(kind, "image" | "container" | "all") {
        bail!("invalid --type {kind:?}: use container, image or all");
    }
    let store = Store::open(&ctx.paths);
    let mut values = Vec::new();
    let mut missing: Option<anyhow::Error> = None;
    for n in &a.names {
        if kind != "image" {
            if let Ok(c) = libruntime::container::find(&ctx.paths, n) {
                values.push(super::ps::inspect_value(ctx, &c)?);
                continue;
            }
        }
        if kind == "container" {
            missing =
                Some(libruntime::Error::Container(ContainerError::NotFound(n.clone())).into());
            continue;
        }
        match store.find_image(n) {
            Ok(i) => values.push(inspect_value(&store, &i)?),
            Err(_) if kind == "all" => missing = Some(anyhow::anyhow!("no such object: {n:?}")),
            Err(e) => missing = Some(e.into()),
        }
    }
    match a.format.as_deref() {
        None | Some("json") => print_json(&Value::Array(values))?,
        Some(f) => print_rows(Some(f), f, &[], &values)?,
    }
    match missing {
        Some(e) => Err(e),
        None => Ok(0),
    }
}

/// Names as the store keeps them: a short name is localhost's, a missing tag `latest`.
fn full_names(names: &[String]) -> libruntime::Result<Vec<String>> {
    names
        .iter()
        .map(|t| Reference::parse(t).map(|r| r.tagged_name(DefaultDomain::Localhost)))
        .collect()
}

pub fn tag(ctx: &Ctx, a: TagArgs) -> Result<i32> {
    let targets = full_names(&a.targets)?;
    let store = Store::open_locked(&ctx.paths)?;
    let img = store.find_image(&a.image)?;
    for t in targets {
        store.tag_image(&img.id, &t)?;
    }
    Ok(0)
}

/// `image exists`: 0 when the store has the image, 1 when not (podman's codes).
pub fn exists(ctx: &Ctx, a: ExistsArgs) -> Result<i32> {
    match Store::open(&ctx.paths).find_image(&a.name) {
        Ok(_) => Ok(0),
        Err(libruntime::Error::Store(StoreError::ImageNotFound(_))) => Ok(1),
        Err(e) => Err(e.into()),
    }
}

/// `untag IMAGE [NAME...]`: removes the names given, or all of them; the image stays.
pub fn untag(ctx: &Ctx, a: UntagArgs) -> Result<i32> {
    let names = full_names(&a.names)?;
    let store = Store::open_locked(&ctx.paths)?;
    let img = store.find_image(&a.image)?;
    let names = if a.names.is_empty() {
        img.names.clone()
    } else {
        names
    };
    for n in &names {
        if !img.names.contains(n) {
            bail!("{n}: tag not known");
        }
    }
    for n in &names {
        store.untag_image(&img.id, n)?;
    }
    Ok(0)
}

pub fn remove(ctx: &Ctx, a: RmiArgs) -> Result<i32> {
    if a.all != a.images.is_empty() {
        bail!("name or ID of at least one image must be given (or --all, but not both)");
    }
    let store = Store::open_locked(&ctx.paths)?;
    let targets = if a.all {
        store.images()?.into_iter().map(|i| i.id).collect()
    } else {
        a.images.clone()
    };
    let mut out = String::new();
    let mut first_err: Option<libruntime::Error> = None;
    for t in &targets {
        match remove_one(ctx, &store, t, a.force, &mut out) {
            Ok(()) => {}
            // podman: --force also means an image that is not there is no error.
            Err(libruntime::Error::Store(StoreError::ImageNotFound(_))) if a.ignore || a.force => {}
            Err(e) => {
                if first_err.is_some() {
                    eprintln!("Error: {e}");
                } else {
                    first_err = Some(e);
                }
            }
        }
    }
    write_out(&out)?;
    match first_err {
        Some(e) => Err(exit::with_code(exit::code_of_lib(&e), e)),
        None => Ok(0),
    }
}

/// Removes one name, or the whole image when it is named by ID or by its last name.
pub fn remove_one(
    ctx: &Ctx,
    store: &Store,
    what: &str,
    force: bool,
    out: &mut String,
) -> libruntime::Result<()> {
    let img = store.find_image(what)?;
    let by_name = img
        .names
        .iter()
        .find(|n| Reference::parse(what).is_ok_and(|r| r.matches_name(n)))
        .cloned();
    if let Some(name) = &by_name {
        if img.names.len() > 1 {
            store.untag_image(&img.id, name)?;
            out.push_str(&format!("Untagged: {name}\n"));
            return Ok(());
        }
    }
    let users: Vec<_> = libruntime::container::list(&ctx.paths)?
        .into_iter()
        .filter(|c| c.image_id == img.id)
        .collect();
    if let (false, Some(c)) = (force, users.first()) {
        return Err(libruntime::Error::Store(StoreError::ImageInUse {
            image: what.to_string(),
            container: c.short_id().to_string(),
        }));
    }
    // podman's --force removes the containers that use the image first.
    for c in &users {
        ctx.handle(c).remove(true)?;
    }
    for n in &img.names {
        out.push_str(&format!("Untagged: {n}\n"));
    }
    store.remove_image(&img.id)?;
    out.push_str(&format!("Deleted: {}\n", img.id));
    Ok(())
}

pub fn prune(ctx: &Ctx, a: PruneArgs) -> Result<i32> {
    if !a.force
        && !confirm(if a.all {
            "WARNING! This command removes all images without at least one container associated with them."
        } else {
            "WARNING! This command removes all dangling images."
        })?
    {
        return Ok(0);
    }
    let store = Store::open_locked(&ctx.paths)?;
    let used: std::collections::HashSet<String> = libruntime::container::list(&ctx.paths)?
        .into_iter()
        .map(|c| c.image_id)
        .collect();
    let mut out = String::new();
    for img in store.images()? {
        if used.contains(&img.id) || (!a.all && !img.names.is_empty()) {
            continue;
        }
        store.remove_image(&img.id)?;
        out.push_str(&format!("{}\n", img.id));
    }
    write_out(&out)?;
    Ok(0)
}

pub(crate) fn confirm(warning: &str) -> Result<bool> {
    eprint!("{warning}\nAre you sure you want to continue? [y/N] ");
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    Ok(matches!(line.trim(), "y" | "Y" | "yes" | "Yes"))
}

/// `history --format json` in podman's shape: the full id (or `<missing>`), `created` as
/// RFC 3339, `CreatedBy` whole, `size` in bytes, `comment`.
fn history_json(rows: &[Value], image_id: &str) -> Vec<Value> {
    rows.iter()
        .enumerate()
        .map(|(i, r)| {
            json!({
                "id": if i == 0 { image_id } else { "<missing>" },
                "created": r["CreatedAt"],
                "CreatedBy": r["FullCreatedBy"],
                "size": r["SizeBytes"],
                "comment": r["Comment"],
            })
        })
        .collect()
}

pub fn history(ctx: &Ctx, a: HistoryArgs) -> Result<i32> {
    let store = Store::open(&ctx.paths);
    let img = store.find_image(&a.image)?;
    let raw: Value =
        serde_json::from_slice(&store.read_blob(&img.config)?).context("parsing image config")?;
    let entries = raw
        .get("history")
        .and_then(|h| h.as_array())
        .cloned()
        .unwrap_or_default();
    let mut layers = img.layers.iter();
    let mut rows = Vec::new();
    for h in &entries {
        let empty = h
            .get("empty_layer")
            .and_then(|e| e.as_bool())
            .unwrap_or(false);
        let size = if empty {
            0
        } else {
            layers.next().map(|l| l.diff_size).unwrap_or(0)
        };
        let created = h.get("created").and_then(|c| c.as_str());
        let full_by = h.get("created_by").and_then(|c| c.as_str()).unwrap_or("");
        let by = full_by;
        let by = if a.no_trunc || by.chars().count() <= 45 {
            by.to_string()
        } else {
            format!("{}...", by.chars().take(42).collect::<String>())
        };
        let seconds = created.map(|c| {
            // --human=false: RFC 3339 to the second, as podman prints it.
            c.split_once('.').map_or(c.to_string(), |(s, rest)| {
                let zone = rest.trim_start_matches(|ch: char| ch.is_ascii_digit());
                format!("{s}{zone}")
            })
        });
        rows.push(json!({
            "ID": "<missing>",
            "Created": if a.human { time::ago(created) } else { seconds.unwrap_or_default() },
            "FullCreatedBy": full_by,
            "SizeBytes": size,
            "CreatedAt": created,
            "CreatedBy": by,
            "Size": if a.human { time::human_size(size) } else { size.to_string() },
            "Comment": h.get("comment").and_then(|c| c.as_str()).unwrap_or(""),
            "Tags": Value::Null,
        }));
    }
    rows.reverse();
    if let Some(top) = rows.first_mut() {
        top["ID"] = json!(if a.no_trunc {
            img.id.clone()
        } else {
            img.id[..12].to_string()
        });
        top["Tags"] = json!(img.names);
    }
    if a.quiet {
        let ids: String = rows
            .iter()
            .map(|r| format!("{}\n", r["ID"].as_str().unwrap_or("")))
            .collect();
        return write_out(&ids).map(|_| 0);
    }
    if is_json(a.format.as_deref()) {
        return print_json(&Value::Array(history_json(&rows, &img.id))).map(|_| 0);
    }
    let headers = &[
        ("ID", "ID"),
        ("Created", "CREATED"),
        ("CreatedBy", "CREATED BY"),
        ("Size", "SIZE"),
        ("Comment", "COMMENT"),
    ];
    print_rows(
        a.format.as_deref(),
        "table {{.ID}}\t{{.Created}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}",
        headers,
        &rows,
    )?;
    Ok(0)
}
