//! Stored registry credentials: podman's auth.json (`{"auths": {"host": {"auth":
//! base64("user:pass")}}}`), read from the files podman and docker use and written
//! where podman writes them.

use crate::error::{Error, Result};
use base64::Engine;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

impl Credentials {
    /// `user:password`, as `--creds` takes it.
    pub fn parse(s: &str) -> Result<Credentials> {
        match s.split_once(':') {
            Some((u, p)) if !u.is_empty() => Ok(Credentials {
                username: u.into(),
                password: p.into(),
            }),
            _ => Err(Error::InvalidArgument(
                "credentials must be USERNAME:PASSWORD".into(),
            )),
        }
    }

    pub fn basic_header(&self) -> String {
        let raw = format!("{}:{}", self.username, self.password);
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(raw)
        )
    }
}

/// The auth file `login` writes: `--authfile`, `$REGISTRY_AUTH_FILE`, else
/// `$XDG_RUNTIME_DIR/containers/auth.json` (root: /run/containers/0/auth.json).
pub fn default_file(explicit: Option<&Path>) -> PathBuf {
    if let Some(p) = explicit {
        return p.to_path_buf();
    }
    if let Some(p) = std::env::var_os("REGISTRY_AUTH_FILE") {
        return PathBuf::from(p);
    }
    if nix::unistd::geteuid().is_root() {
        return PathBuf::from("/run/containers/0/auth.json");
    }
    match std::env::var_os("XDG_RUNTIME_DIR") {
        Some(d) => Path::new(&d).join("containers/auth.json"),
        None => PathBuf::from(format!(
            "/tmp/skiff-run-{}/containers/auth.json",
            nix::unistd::geteuid()
        )),
    }
}

/// Every file credentials are read from, first match wins.
fn read_files(explicit: Option<&Path>) -> Vec<PathBuf> {
    let mut files = vec![default_file(explicit)];
    if explicit.is_none() {
        if let Some(home) = std::env::var_os("HOME") {
            let home = Path::new(&home);
            let config = std::env::var_os("XDG_CONFIG_HOME")
                .map(PathBuf::from)
                .unwrap_or_else(|| home.join(".config"));
            files.push(config.join("containers/auth.json"));
            files.push(home.join(".docker/config.json"));
        }
    }
    files
}

fn read(path: &Path) -> Value {
    std::fs::read(path)
        .ok()
        .and_then(|d| serde_json::from_slice(&d).ok())
        .unwrap_or_else(|| json!({}))
}

fn decode(entry: &Value) -> Option<Credentials> {
    let raw = entry.get("auth")?.as_str()?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(raw.trim())
        .ok()?;
    Credentials::parse(&String::from_utf8(bytes).ok()?).ok()
}

/// Keys an auth file may use for `registry`: the host, or a URL of it.
fn matches(key: &str, registry: &str) -> bool {
    let k = key
        .trim_start_matches("https://")
        .trim_start_matches("http://");
    k == registry || k.strip_suffix("/v1/").or(k.strip_suffix("/v2/")) == Some(registry)
}

/// Credentials stored for `registry` (host[:port]).
pub fn lookup(registry: &str, explicit: Option<&Path>) -> Option<Credentials> {
    let want = if registry == "docker.io" {
        vec!["docker.io", "index.docker.io", "registry-1.docker.io"]
    } else {
        vec![registry]
    };
    read_files(explicit).iter().find_map(|f| {
        let v = read(f);
        let auths = v.get("auths")?.as_object()?;
        auths
            .iter()
            .find(|(k, _)| want.iter().any(|w| matches(k, w)))
            .and_then(|(_, e)| decode(e))
    })
}

fn write(path: &Path, v: &Value) -> Result<()> {
    if let Some(dir) = path.parent() {
        crate::fsutil::create_dir_all(dir)?;
    }
    let data = serde_json::to_vec_pretty(v).map_err(|e| Error::json("auth file", e))?;
    crate::fsutil::write_atomic(path, &data)?;
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .map_err(|e| Error::io(format!("protecting {}", path.display()), e))
}

/// Stores credentials for `registry`; returns the file written.
pub fn store(registry: &str, c: &Credentials, explicit: Option<&Path>) -> Result<PathBuf> {
    let path = default_file(explicit);
    let mut v = read(&path);
    let raw = format!("{}:{}", c.username, c.password);
    v["auths"][registry] = json!({ "auth": base64::engine::general_purpose::STANDARD.encode(raw) });
    write(&path, &v)?;
    Ok(path)
}

/// Forgets `registry` (every registry when `None`); false when nothing was stored.
pub fn remove(registry: Option<&str>, explicit: Option<&Path>) -> Result<bool> {
    let path = default_file(explicit);
    let mut v = read(&path);
    let Some(auths) = v.get_mut("auths").and_then(Value::as_object_mut) else {
        return Ok(false);
    };
    let removed = match registry {
        Some(r) => {
            let keys: Vec<String> = auths.keys().filter(|k| matches(k, r)).cloned().collect();
            keys.iter().for_each(|k| {
                auths.remove(k);
            });
            !keys.is_empty()
        }
        None => {
            let any = !auths.is_empty();
            auths.clear();
            any
        }
    };
    if removed {
        write(&path, &v)?;
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_lookup_remove() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("auth.json");
        let c = Credentials::parse("me:s3cr:et").unwrap();
        assert_eq!(c.password, "s3cr:et");
        store("127.0.0.1:5000", &c, Some(&f)).unwrap();
        assert_eq!(lookup("127.0.0.1:5000", Some(&f)), Some(c));
        assert_eq!(lookup("other:1", Some(&f)), None);
        assert!(remove(Some("127.0.0.1:5000"), Some(&f)).unwrap());
        assert_eq!(lookup("127.0.0.1:5000", Some(&f)), None);
        assert!(Credentials::parse("nopass").is_err());
    }
}
