//! What a container's files hold: `GET /containers/{id}/changes` (its changes to the
//! image, as `docker diff` lists them) and `GET /containers/{id}/export` (its whole
//! filesystem as a tar stream). Both run the CLI's command in a child: a rootless
//! container's files are read from inside the storage user namespace.

use super::error::{ApiError, ApiResult};
use crate::Ctx;
use serde::Deserialize;
use serde_json::{json, Value};

/// `skiff diff --format json`'s lists.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Changes {
    changed: Vec<String>,
    added: Vec<String>,
    deleted: Vec<String>,
}

/// docker's change kinds: 0 modified, 1 added, 2 deleted; sorted by path.
fn docker_changes(c: Changes) -> Value {
    let mut rows: Vec<(String, u8)> = Vec::new();
    rows.extend(c.changed.into_iter().map(|p| (p, 0)));
    rows.extend(c.added.into_iter().map(|p| (p, 1)));
    rows.extend(c.deleted.into_iter().map(|p| (p, 2)));
    rows.sort();
    Value::Array(
        rows.into_iter()
            .map(|(p, k)| json!({"Path": p, "Kind": k}))
            .collect(),
    )
}

pub fn changes(ctx: &Ctx, name: &str) -> ApiResult<Value> {
    let r = super::containers::find(ctx, name)?;
    let out = super::child::run(ctx, &["diff", "--format", "json", &r.id], None)?;
    let c: Changes = serde_json::from_slice(&out)
        .map_err(|e| ApiError::Engine(format!("reading the container's changes: {e}")))?;
    Ok(docker_changes(c))
}

/// The arguments that export `name`, checked before the stream begins.
pub fn export_args(ctx: &Ctx, name: &str) -> ApiResult<Vec<String>> {
    let r = super::containers::find(ctx, name)?;
    Ok(vec!["export".into(), r.id])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_as_docker_numbers_them() {
        let v = docker_changes(Changes {
            changed: vec!["/etc".into()],
            added: vec!["/etc/x".into()],
            deleted: vec!["/bin/ls".into()],
        });
        assert_eq!(
            v,
            json!([{"Path": "/bin/ls", "Kind": 2}, {"Path": "/etc", "Kind": 0}, {"Path": "/etc/x", "Kind": 1}])
        );
    }
}
