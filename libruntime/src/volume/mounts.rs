//! Mount requests from `-v`, `--mount` and `--tmpfs`, parsed and checked the way podman
//! reads them.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "Type", rename_all = "lowercase")]
pub enum MountKind {
    /// A host path.
    Bind {
        source: PathBuf,
    },
    /// A named volume; `None` for an anonymous one, named at create time.
    Volume {
        name: Option<String>,
    },
    Tmpfs,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MountRequest {
    pub kind: MountKind,
    pub destination: String,
    pub readonly: bool,
    /// Chown the source to the container's user (`:U`).
    pub chown: bool,
    /// Options passed on: propagation, nosuid/nodev/noexec, tmpfs size and mode.
    pub options: Vec<String>,
}

fn bad(flag: &str, s: &str, why: &str) -> Error {
    Error::InvalidArgument(format!("invalid {flag} {s:?}: {why}"))
}

fn check_destination(flag: &str, s: &str, dst: &str) -> Result<()> {
    if !dst.starts_with('/') {
        return Err(bad(flag, s, "the container path must be absolute"));
    }
    Ok(())
}

/// True for what names a volume rather than a host path.
fn is_volume_name(s: &str) -> bool {
    !s.starts_with('/') && !s.starts_with('.') && !s.contains('/')
}

/// Volume names as podman allows them: `[a-zA-Z0-9][a-zA-Z0-9_.-]*`.
pub fn valid_volume_name(name: &str) -> bool {
    crate::ids::valid_name(name)
}

/// `-v [SRC:]DST[:OPTS]`.
pub fn parse_volume(s: &str) -> Result<MountRequest> {
    let parts: Vec<&str> = s.split(':').collect();
    let (src, dst, opts) = match parts.as_slice() {
        [dst] => (None, *dst, ""),
        [src, dst] if dst.starts_with('/') => (Some(*src), *dst, ""),
        [dst, opts] => (None, *dst, *opts),
        [src, dst, opts] => (Some(*src), *dst, *opts),
        _ => return Err(bad("-v", s, "want [SOURCE:]DEST[:OPTIONS]")),
    };
    check_destination("-v", s, dst)?;
    let kind = match src {
        None => MountKind::Volume { name: None },
        Some(v) if is_volume_name(v) => {
            if !valid_volume_name(v) {
                return Err(bad(
                    "-v",
                    s,
                    "volume names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*",
                ));
            }
            MountKind::Volume {
                name: Some(v.to_string()),
            }
        }
        Some(p) => MountKind::Bind {
            source: absolute(p),
        },
    };
    let mut m = MountRequest {
        kind,
        destination: dst.to_string(),
        readonly: false,
        chown: false,
        options: vec![],
    };
    for o in opts.split(',').filter(|o| !o.is_empty()) {
        apply_option("-v", s, &mut m, o)?;
    }
    Ok(m)
}

fn absolute(p: &str) -> PathBuf {
    let p = PathBuf::from(p);
    if p.is_absolute() {
        p
    } else {
        std::env::current_dir().map(|d| d.join(&p)).unwrap_or(p)
    }
}

fn apply_option(flag: &str, s: &str, m: &mut MountRequest, o: &str) -> Result<()> {
    match o {
        "ro" | "readonly" => m.readonly = true,
        "rw" => m.readonly = false,
        // SELinux relabelling: nothing to do without SELinux.
        "z" | "Z" => {}
        "U" => m.chown = true,
        "bind" | "rbind" | "private" | "rprivate" | "shared" | "rshared" | "slave" | "rslave"
        | "nosuid" | "suid" | "nodev" | "dev" | "noexec" | "exec" => m.options.push(o.to_string()),
        _ if matches!(m.kind, MountKind::Tmpfs)
            && (o.starts_with("size=") || o.starts_with("mode=")) =>
        {
            m.options.push(o.to_string())
        }
        _ => return Err(bad(flag, s, &format!("unknown option {o:?}"))),
    }
    Ok(())
}

/// `--tmpfs DST[:OPTS]`.
pub fn parse_tmpfs(s: &str) -> Result<MountRequest> {
    let (dst, opts) = s.split_once(':').unwrap_or((s, ""));
    check_destination("--tmpfs", s, dst)?;
    let mut m = MountRequest {
        kind: MountKind::Tmpfs,
        destination: dst.into(),
        readonly: false,
        chown: false,
        options: vec![],
    };
    for o in opts.split(',').filter(|o| !o.is_empty()) {
        apply_option("--tmpfs", s, &mut m, o)?;
    }
    Ok(m)
}

/// `--mount type=bind|volume|tmpfs,source=…,destination=…,…`.
pub fn parse_mount(s: &str) -> Result<MountRequest> {
    let mut kind = None;
    let (mut src, mut dst) = (None, None);
    let mut m = MountRequest {
        kind: MountKind::Tmpfs,
        destination: String::new(),
        readonly: false,
        chown: false,
        options: vec![],
    };
    let mut rest = Vec::new();
    for field in s.split(',') {
        let (k, v) = field
            .split_once('=')
            .map(|(k, v)| (k, Some(v)))
            .unwrap_or((field, None));
        match (k, v) {
            ("type", Some(t)) => kind = Some(t.to_string()),
            ("source" | "src", Some(v)) => src = Some(v.to_string()),
            ("destination" | "dst" | "target", Some(v)) => dst = Some(v.to_string()),
            ("readonly" | "ro", None | Some("true")) => m.readonly = true,
            ("readonly" | "ro", Some("false")) => m.readonly = false,
            ("bind-propagation", Some(p)) => rest.push(p.to_string()),
            ("tmpfs-size", Some(v)) => rest.push(format!("size={v}")),
            ("tmpfs-mode", Some(v)) => rest.push(format!("mode={v}")),
            ("U" | "chown", None | Some("true")) => m.chown = true,
            ("relabel", _) | ("consistency", _) => {}
            _ => return Err(bad("--mount", s, &format!("unknown field {field:?}"))),
        }
    }
    let dst = dst.ok_or_else(|| bad("--mount", s, "destination is missing"))?;
    check_destination("--mount", s, &dst)?;
    m.destination = dst;
    m.kind = match (kind.as_deref(), src) {
        (Some("bind"), Some(p)) => MountKind::Bind {
            source: absolute(&p),
        },
        (Some("bind"), None) => return Err(bad("--mount", s, "a bind mount needs a source")),
        (Some("volume"), Some(n)) if valid_volume_name(&n) => MountKind::Volume { name: Some(n) },
        (Some("volume"), Some(_)) => return Err(bad("--mount", s, "invalid volume name")),
        (Some("volume"), None) => MountKind::Volume { name: None },
        (Some("tmpfs"), _) => MountKind::Tmpfs,
        _ => return Err(bad("--mount", s, "type must be bind, volume or tmpfs")),
    };
    for o in rest {
        apply_option("--mount", s, &mut m, &o)?;
    }
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn volume_flags() {
        let m = parse_volume("/srv/data:/data:ro,U").unwrap();
        assert_eq!(
            m.kind,
            MountKind::Bind {
                source: "/srv/data".into()
            }
        );
        assert!(m.readonly && m.chown);
        let m = parse_volume("cache:/var/cache").unwrap();
        assert_eq!(
            m.kind,
            MountKind::Volume {
                name: Some("cache".into())
            }
        );
        let m = parse_volume("/anon").unwrap();
        assert_eq!(m.kind, MountKind::Volume { name: None });
        assert!(parse_volume("data:relative").is_err());
        assert!(parse_volume("/a:/b:bogus").is_err());
        assert!(parse_volume("a:b:c:d").is_err());
    }

    #[test]
    fn mount_and_tmpfs_flags() {
        let m =
            parse_mount("type=tmpfs,destination=/scratch,tmpfs-size=1m,tmpfs-mode=1777").unwrap();
        assert_eq!(m.kind, MountKind::Tmpfs);
        assert_eq!(m.options, vec!["size=1m", "mode=1777"]);
        let m = parse_mount("type=bind,src=/etc,dst=/host-etc,readonly,bind-propagation=rslave")
            .unwrap();
        assert!(m.readonly);
        assert!(parse_mount("type=volume,src=../x,dst=/x").is_err());
        assert!(parse_mount("type=nfs,dst=/x").is_err());
        let m = parse_tmpfs("/run:size=64k,noexec").unwrap();
        assert_eq!(m.options, vec!["size=64k", "noexec"]);
    }
}
