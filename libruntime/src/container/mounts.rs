//! A container's mounts at create time: mount requests resolved to host sources (named
//! and anonymous volumes made on first use, the image's VOLUMEs, `--volumes-from`), and
//! turned into OCI spec mounts and the records `inspect` shows.

use super::options::CreateOptions;
use super::record::MountRecord;
use super::spec::spec_mount;
use crate::error::{Error, Result};
use crate::paths::Paths;
use crate::volume::{self, mounts::MountKind, mounts::MountRequest};
use oci_spec::runtime::Mount;
use std::collections::BTreeMap;

pub use crate::sandbox::rootfs::{CHOWN, COPY_UP};

pub struct Resolved {
    pub spec: Vec<Mount>,
    pub records: Vec<MountRecord>,
    pub volumes: Vec<String>,
}

fn tmpfs_spec(dst: &str, readonly: bool, extra: &[String]) -> Mount {
    let mut opts = vec!["nosuid".to_string(), "nodev".into()];
    if !extra.iter().any(|o| o == "exec") {
        opts.push("noexec".into());
    }
    if readonly {
        opts.push("ro".into());
    }
    opts.extend(extra.iter().filter(|o| *o != "exec").cloned());
    spec_mount(dst, "tmpfs", "tmpfs", opts)
}

/// Two mounts the user asked for on one destination are an error (podman's text);
/// the user's own mounts still override the image's VOLUMEs and `--volumes-from`.
fn refuse_duplicates(requests: &[MountRequest]) -> Result<()> {
    let mut seen = std::collections::HashSet::new();
    for r in requests {
        let d = r.destination.trim_end_matches('/');
        if !seen.insert(d) {
            return Err(Error::InvalidArgument(format!(
                "{}: duplicate mount destination",
                r.destination
            )));
        }
    }
    Ok(())
}

/// Resolves every mount; volumes are created here, so the store lock must be held.
pub fn resolve(paths: &Paths, opts: &CreateOptions, image_volumes: &[String]) -> Result<Resolved> {
    refuse_duplicates(&opts.mounts)?;
    let mut requests: Vec<MountRequest> = Vec::new();
    for from in &opts.volumes_from {
        let (name, mode) = from.split_once(':').unwrap_or((from, ""));
        let other = super::find(paths, name)?;
        for m in &other.config.mounts {
            let kind = match m.kind.as_str() {
                "bind" => MountKind::Bind {
                    source: m.source.clone().into(),
                },
                "volume" => MountKind::Volume {
                    name: Some(m.name.clone()),
                },
                _ => continue,
            };
            let readonly = match mode {
                "ro" => true,
                "rw" => false,
                "" => !m.rw,
                _ => {
                    return Err(Error::InvalidArgument(format!(
                        "invalid --volumes-from {from:?}: use NAME[:ro|rw]"
                    )))
                }
            };
            requests.push(MountRequest {
                kind,
                destination: m.destination.clone(),
                readonly,
                chown: false,
                options: vec![],
            });
        }
    }
    requests.extend(opts.mounts.iter().cloned());
    for v in image_volumes {
        if !requests
            .iter()
            .any(|r| r.destination.trim_end_matches('/') == v.trim_end_matches('/'))
        {
            requests.push(MountRequest {
                kind: MountKind::Volume { name: None },
                destination: v.clone(),
                readonly: false,
                chown: false,
                options: vec![],
            });
        }
    }
    if opts.read_only && opts.read_only_tmpfs {
        for d in ["/run", "/tmp", "/var/tmp"] {
            if !requests.iter().any(|r| r.destination == d) {
                requests.push(MountRequest {
                    kind: MountKind::Tmpfs,
                    destination: d.into(),
                    readonly: false,
                    chown: false,
                    options: vec!["exec".into()],
                });
            }
        }
    }
    // Later requests for the same destination win, as in podman.
    let mut seen = std::collections::HashSet::new();
    requests.reverse();
    requests.retain(|r| seen.insert(r.destination.trim_end_matches('/').to_string()));
    requests.reverse();
    // Parents before children.
    requests.sort_by_key(|r| r.destination.trim_end_matches('/').matches('/').count());

    let mut out = Resolved {
        spec: vec![],
        records: vec![],
        volumes: vec![],
    };
    for r in requests {
        let mut flags: Vec<String> = vec!["rbind".into()];
        flags.extend(
            r.options
                .iter()
                .filter(|o| !matches!(o.as_str(), "bind" | "rbind"))
                .cloned(),
        );
        if r.readonly {
            flags.push("ro".into());
        }
        if r.chown {
            flags.push(CHOWN.into());
        }
        match &r.kind {
            MountKind::Bind { source } => {
                if std::fs::symlink_metadata(source).is_err() {
                    return Err(Error::InvalidArgument(format!(
                        "bind mount source {}: no such file or directory",
                        source.display()
                    )));
                }
                out.spec
                    .push(spec_mount(&r.destination, "bind", source, flags.clone()));
                out.records.push(MountRecord {
                    kind: "bind".into(),
                    name: String::new(),
                    source: source.display().to_string(),
                    destination: r.destination.clone(),
                    rw: !r.readonly,
                    options: r.options.clone(),
                });
            }
            MountKind::Volume { name } => {
                let rec = match name {
                    Some(n) => match volume::get(paths, n) {
                        Ok(v) => v,
                        Err(_) => volume::create(paths, Some(n), BTreeMap::new(), BTreeMap::new())?,
                    },
                    None => volume::create(paths, None, BTreeMap::new(), BTreeMap::new())?,
                };
                if rec.options.get("type").map(String::as_str) == Some("tmpfs") {
                    let extra: Vec<String> = rec
                        .options
                        .get("o")
                        .map(|o| o.split(',').map(String::from).collect())
                        .unwrap_or_default();
                    out.spec
                        .push(tmpfs_spec(&r.destination, r.readonly, &extra));
                } else {
                    flags.push(COPY_UP.into());
                    out.spec.push(spec_mount(
                        &r.destination,
                        "bind",
                        &rec.mountpoint,
                        flags.clone(),
                    ));
                }
                out.records.push(MountRecord {
                    kind: "volume".into(),
                    name: rec.name.clone(),
                    source: rec.mountpoint.display().to_string(),
                    destination: r.destination.clone(),
                    rw: !r.readonly,
                    options: r.options.clone(),
                });
                out.volumes.push(rec.name);
            }
            MountKind::Tmpfs => {
                out.spec
                    .push(tmpfs_spec(&r.destination, r.readonly, &r.options));
                out.records.push(MountRecord {
                    kind: "tmpfs".into(),
                    name: String::new(),
                    source: "tmpfs".into(),
                    destination: r.destination.clone(),
                    rw: !r.readonly,
                    options: r.options.clone(),
                });
            }
        }
    }
    Ok(out)
}
