//! Image names with a transport in front, as podman takes them where an image is named
//! (`run`, `create`, `pull`): where the image comes from, typed.

use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A plain reference, or `docker://REF`: the store, else a registry.
    Reference(String),
    /// `containers-storage:REF`: the local store only.
    Storage(String),
    /// `docker-archive:PATH`, `oci-archive:PATH` or `oci:DIR`: loaded into the store first.
    Archive(PathBuf),
}

impl Source {
    pub fn parse(name: &str) -> Source {
        if let Some(r) = name.strip_prefix("docker://") {
            return Source::Reference(r.to_string());
        }
        if let Some(r) = name.strip_prefix("containers-storage:") {
            return Source::Storage(r.to_string());
        }
        for prefix in ["docker-archive:", "oci-archive:", "oci:"] {
            if let Some(p) = name.strip_prefix(prefix) {
                return Source::Archive(PathBuf::from(p));
            }
        }
        Source::Reference(name.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transports_as_podman_spells_them() {
        let table = [
            ("busybox", Source::Reference("busybox".into())),
            (
                "docker://quay.io/a/b:1",
                Source::Reference("quay.io/a/b:1".into()),
            ),
            (
                "containers-storage:localhost/x",
                Source::Storage("localhost/x".into()),
            ),
            (
                "docker-archive:/tmp/a.tar",
                Source::Archive("/tmp/a.tar".into()),
            ),
            ("oci-archive:rel.tar", Source::Archive("rel.tar".into())),
            ("oci:/srv/layout", Source::Archive("/srv/layout".into())),
            (
                "localhost:5000/img:tag",
                Source::Reference("localhost:5000/img:tag".into()),
            ),
        ];
        for (s, want) in table {
            assert_eq!(Source::parse(s), want, "{s}");
        }
    }
}
