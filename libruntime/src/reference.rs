//! Image references: `[domain/]path[:tag][@sha256:…]`, normalised the way podman does
//! (`busybox` → `docker.io/library/busybox:latest` from registries and archives,
//! `localhost/busybox:latest` for names given locally).

use crate::digest::Digest;
use crate::error::{Error, Result};

pub const DEFAULT_TAG: &str = "latest";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    pub domain: Option<String>,
    pub path: String,
    pub tag: Option<String>,
    pub digest: Option<Digest>,
}

/// Which domain an unqualified name belongs to.
#[derive(Debug, Clone, Copy)]
pub enum DefaultDomain {
    /// Names the user gives to local images (`tag`, `import`, `commit`, `build`).
    Localhost,
    /// Names that come from docker archives and registries.
    DockerHub,
}

impl Reference {
    pub fn parse(s: &str) -> Result<Reference> {
        let bad = |why: &str| Error::InvalidReference(format!("{s:?}: {why}"));
        if s.is_empty() {
            return Err(bad("empty"));
        }
        let (rest, digest) = match s.split_once('@') {
            Some((r, d)) => (r, Some(Digest::parse(d).map_err(|_| bad("bad digest"))?)),
            None => (s, None),
        };
        // A tag is after the last ':' that follows the last '/', so a port stays put.
        let last_slash = rest.rfind('/').map(|i| i + 1).unwrap_or(0);
        let (name, tag) = match rest[last_slash..].rfind(':') {
            Some(i) => (
                &rest[..last_slash + i],
                Some(rest[last_slash + i + 1..].to_string()),
            ),
            None => (rest, None),
        };
        if let Some(t) = &tag {
            let ok = !t.is_empty()
                && t.len() <= 128
                && t.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
                && !t.starts_with(['.', '-']);
            if !ok {
                return Err(bad("bad tag"));
            }
        }
        let (domain, path) = match name.split_once('/') {
            Some((first, rest)) if first.contains(['.', ':']) || first == "localhost" => {
                (Some(first.to_string()), rest)
            }
            _ => (None, name),
        };
        let path_ok = !path.is_empty()
            && path.split('/').all(|c| {
                !c.is_empty()
                    && c.chars().all(|ch| {
                        ch.is_ascii_lowercase()
                            || ch.is_ascii_digit()
                            || matches!(ch, '.' | '_' | '-')
                    })
                    && c.starts_with(|ch: char| ch.is_ascii_alphanumeric())
                    && c.ends_with(|ch: char| ch.is_ascii_alphanumeric())
            });
        if !path_ok {
            return Err(bad(
                "repository names must be lowercase letters, digits and separators",
            ));
        }
        Ok(Reference {
            domain,
            path: path.to_string(),
            tag,
            digest,
        })
    }

    /// The fully qualified repository, e.g. `docker.io/library/busybox`.
    pub fn repository(&self, default: DefaultDomain) -> String {
        match (&self.domain, default) {
            (Some(d), _) => format!("{d}/{}", self.path),
            (None, DefaultDomain::Localhost) => format!("localhost/{}", self.path),
            (None, DefaultDomain::DockerHub) if !self.path.contains('/') => {
                format!("docker.io/library/{}", self.path)
            }
            (None, DefaultDomain::DockerHub) => format!("docker.io/{}", self.path),
        }
    }

    /// `repository:tag`, with `latest` when no tag (and no digest) was given.
    pub fn tagged_name(&self, default: DefaultDomain) -> String {
        format!(
            "{}:{}",
            self.repository(default),
            self.tag.as_deref().unwrap_or(DEFAULT_TAG)
        )
    }

    /// Whether a stored full name `domain/path:tag` is what this (possibly short)
    /// reference means. Short names match any domain, as podman's local lookup does.
    pub fn matches_name(&self, stored: &str) -> bool {
        let tag = self.tag.as_deref().unwrap_or(DEFAULT_TAG);
        let want = format!("{}:{tag}", self.path);
        match &self.domain {
            Some(d) => stored == format!("{d}/{want}"),
            None => {
                stored == format!("localhost/{want}")
                    || stored == format!("docker.io/library/{want}")
                    || stored.ends_with(&format!("/{want}"))
            }
        }
    }
}

/// Splits a stored full name into (repository, tag).
pub fn split_name(name: &str) -> (&str, &str) {
    let last_slash = name.rfind('/').map(|i| i + 1).unwrap_or(0);
    match name[last_slash..].rfind(':') {
        Some(i) => (&name[..last_slash + i], &name[last_slash + i + 1..]),
        None => (name, "<none>"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises() {
        let r = Reference::parse("busybox").unwrap();
        assert_eq!(
            r.tagged_name(DefaultDomain::DockerHub),
            "docker.io/library/busybox:latest"
        );
        assert_eq!(
            r.tagged_name(DefaultDomain::Localhost),
            "localhost/busybox:latest"
        );
        let r = Reference::parse("127.0.0.1:5000/a/b:v1").unwrap();
        assert_eq!(r.domain.as_deref(), Some("127.0.0.1:5000"));
        assert_eq!(
            r.tagged_name(DefaultDomain::Localhost),
            "127.0.0.1:5000/a/b:v1"
        );
        assert!(Reference::parse("Busybox").is_err());
        assert!(Reference::parse("a:b:c").is_err());
        assert!(Reference::parse("x/../y").is_err());
    }

    #[test]
    fn short_names_match_any_domain() {
        let r = Reference::parse("busybox").unwrap();
        assert!(r.matches_name("localhost/busybox:latest"));
        assert!(r.matches_name("docker.io/library/busybox:latest"));
        assert!(!r.matches_name("localhost/notbusybox:latest"));
        assert_eq!(split_name("localhost:5000/x:1"), ("localhost:5000/x", "1"));
    }
}
