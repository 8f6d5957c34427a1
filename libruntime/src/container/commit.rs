//! `commit` and `diff`: a container's changes as A/C/D lines, or as a new layer on top
//! of its image, with the container's configuration as the new image's.

use super::{ContainerDirs, ContainerRecord};
use crate::error::{Error, Result};
use crate::graph::changes::{self, Change, ChangeKind};
use crate::graph::RootfsPlan;
use crate::image_config::apply_change;
use crate::layer::pack::{Owners, Packer};
use crate::layer::ExtractOptions;
use crate::paths::Paths;
use crate::store::{ImageRecord, ImageSpec, LayerSource, Store};
use nix::fcntl::{open, openat2, OFlag, OpenHow, ResolveFlag};
use nix::sys::stat::Mode;
use oci_spec::runtime::Spec;
use serde_json::{json, Map, Value};
use std::io::{Seek, Write};

#[derive(Debug, Default, Clone)]
pub struct CommitOptions {
    /// Dockerfile-style instructions applied to the new image's config.
    pub changes: Vec<String>,
    pub message: Option<String>,
    pub author: Option<String>,
    /// Full names for the new image.
    pub names: Vec<String>,
    /// The new image's `config` as given, instead of one made from the container's
    /// (builds keep the stage's configuration, not the RUN step's).
    pub config: Option<Map<String, Value>>,
    /// The history entry's `created_by` instead of the container's command line.
    pub created_by: Option<String>,
}

/// The container's mount points, which are not part of its file system.
fn mount_points(dirs: &ContainerDirs) -> Vec<String> {
    let spec: Option<Spec> = crate::fsutil::read_json(&dirs.spec()).ok().flatten();
    spec.and_then(|s| s.mounts().clone())
        .unwrap_or_default()
        .iter()
        .map(|m| m.destination().to_string_lossy().into_owned())
        // The engine's own link (sandbox::rootfs), not the container's change.
        .chain(std::iter::once("/etc/mtab".to_string()))
        .collect()
}

/// What the container changed against its image, sorted by path.
pub fn diff(paths: &Paths, record: &ContainerRecord) -> Result<Vec<Change>> {
    let dirs = ContainerDirs::new(paths, &record.id);
    let plan = crate::container::rootfs_plan::rootfs_plan(paths, record, &dirs);
    changes::changes(&plan, &mount_points(&dirs))
}

/// Writes the container's changes as an OCI layer tarball.
fn write_layer(plan: &RootfsPlan, list: &[Change], out: impl Write) -> Result<()> {
    let root = open(
        &plan.upper,
        OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| Error::sys(format!("opening {}", plan.upper.display()), e))?;
    let mut packer = Packer::new(out, Owners::Keep);
    for c in list {
        let rel = c.path.trim_start_matches('/');
        if c.kind == ChangeKind::Deleted {
            packer.add_whiteout(rel)?;
            continue;
        }
        // The container may still be writing: never let a swapped-in symlink lead out.
        let fd = openat2(
            &root,
            rel,
            OpenHow::new()
                .flags(OFlag::O_PATH | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC)
                .resolve(ResolveFlag::RESOLVE_BENEATH | ResolveFlag::RESOLVE_NO_SYMLINKS),
        );
        match fd {
            Ok(fd) => packer.add(&fd, rel, false)?,
            Err(nix::errno::Errno::ENOENT) => continue, // gone since the diff was taken
            Err(e) => return Err(Error::sys(format!("opening {rel}"), e)),
        }
    }
    packer.finish()?;
    Ok(())
}

fn signal_name(sig: i32) -> Option<String> {
    nix::sys::signal::Signal::try_from(sig)
        .ok()
        .map(|s| s.as_str().to_string())
}

/// The image config's `config`, as the container ran: its command, environment, user,
/// working directory, labels and stop signal, then the `--change`s.
fn container_config(
    base: &Map<String, Value>,
    record: &ContainerRecord,
    changes: &[String],
) -> Result<Map<String, Value>> {
    let rc = &record.config;
    let mut cfg = base.clone();
    let list = |v: &[String]| {
        if v.is_empty() {
            Value::Null
        } else {
            json!(v)
        }
    };
    cfg.insert("Env".into(), json!(rc.env));
    cfg.insert("Cmd".into(), list(&rc.cmd));
    cfg.insert("Entrypoint".into(), list(&rc.entrypoint));
    if !rc.workdir.is_empty() {
        cfg.insert("WorkingDir".into(), json!(rc.workdir));
    }
    if !rc.user.is_empty() {
        cfg.insert("User".into(), json!(rc.user));
    }
    if !rc.labels.is_empty() {
        cfg.insert("Labels".into(), json!(rc.labels));
    }
    if let Some(s) = signal_name(rc.stop_signal).filter(|s| s != "SIGTERM") {
        cfg.insert("StopSignal".into(), json!(s));
    }
    for c in changes {
        apply_change(&mut cfg, c)?;
    }
    Ok(cfg)
}

/// Stores the container's changes as a new image. The store must be locked.
pub fn commit(
    store: &Store,
    record: &ContainerRecord,
    opts: &CommitOptions,
    extract: ExtractOptions,
) -> Result<ImageRecord> {
    let paths = &store.paths;
    let image = store.find_image(&record.image_id)?;
    let mut config: Value = serde_json::from_slice(&store.read_blob(&image.config)?)
        .map_err(|e| Error::json("image config", e))?;
    let base = config["config"].as_object().cloned().unwrap_or_default();
    let cfg = match &opts.config {
        Some(c) => c.clone(),
        None => container_config(&base, record, &opts.changes)?,
    };
    let list = diff(paths, record)?;
    let dirs = ContainerDirs::new(paths, &record.id);
    let plan = crate::container::rootfs_plan::rootfs_plan(paths, record, &dirs);
    let spool_path = store.staging_path("commit");
    let result = (|| {
        let mut spool = std::fs::File::options()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&spool_path)
            .map_err(|e| Error::io("creating the layer", e))?;
        write_layer(&plan, &list, &mut spool)?;
        spool
            .rewind()
            .map_err(|e| Error::io("reading the layer back", e))?;
        let layer = store.ingest_layer(
            LayerSource {
                reader: &mut spool,
                blob: None,
                diff_id: None,
            },
            extract,
        )?;
        let now = crate::time::now_rfc3339();
        config["config"] = Value::Object(cfg);
        config["created"] = json!(now);
        let mut history = json!({
            "created": now,
            "created_by": opts
                .created_by
                .clone()
                .unwrap_or_else(|| record.config.create_command.join(" ")),
        });
        if let Some(a) = &opts.author {
            config["author"] = json!(a);
            history["author"] = json!(a);
        }
        if let Some(m) = &opts.message {
            history["comment"] = json!(m);
        }
        match config["history"].as_array_mut() {
            Some(h) => h.push(history),
            None => config["history"] = json!([history]),
        }
        match config["rootfs"]["diff_ids"].as_array_mut() {
            Some(d) => d.push(json!(layer.diff_id.as_str())),
            None => {
                config["rootfs"] = json!({"type": "layers", "diff_ids": [layer.diff_id.as_str()]})
            }
        }
        let mut layers = image.layers.clone();
        layers.push(layer);
        store.add_image(ImageSpec {
            config: serde_json::to_vec(&config).map_err(|e| Error::json("image config", e))?,
            layers,
            manifest: None,
            names: opts.names.clone(),
        })
    })();
    let _ = std::fs::remove_file(&spool_path);
    if result.is_err() {
        store.discard_unreferenced()?;
    }
    result
}
