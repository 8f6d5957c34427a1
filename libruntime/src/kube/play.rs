//! `kube play` and `kube down`: manifests into stored objects and running owners, and
//! back out. Every document is validated before anything is created, so `--validate
//! strict` refuses a whole play.

use super::api::{Kind, Pod};
use super::kubelet;
use super::store::{self, Applied, Object, DEFAULT_NAMESPACE};
use super::validate::{self, FieldIssue, Problem, ValidateMode};
use super::KubeError;
use crate::error::Result;
use crate::paths::Paths;
use crate::userns::IdMaps;
use serde_json::Value;

#[derive(Debug, Clone, Default)]
pub struct PlayOptions {
    pub validate: ValidateMode,
    /// Start what is played (`--start=false` only stores it).
    pub start: bool,
    /// Take down what exists under the same names first.
    pub replace: bool,
}

/// A document, typed and checked.
#[derive(Debug, Clone)]
pub enum Planned {
    Pod(Box<Pod>),
}

impl Planned {
    pub fn kind(&self) -> Kind {
        match self {
            Planned::Pod(_) => Kind::Pod,
        }
    }

    pub fn namespace(&self) -> String {
        match self {
            Planned::Pod(p) => p
                .metadata
                .namespace
                .clone()
                .unwrap_or_else(|| DEFAULT_NAMESPACE.into()),
        }
    }

    pub fn name(&self) -> &str {
        match self {
            Planned::Pod(p) => &p.metadata.name,
        }
    }
}

/// What one played object became.
#[derive(Debug, Clone)]
pub struct Played {
    pub kind: Kind,
    pub namespace: String,
    pub name: String,
    pub applied: Applied,
}

fn describe(doc: &Value) -> (String, String) {
    (
        doc["kind"].as_str().unwrap_or("?").to_string(),
        doc["metadata"]["name"].as_str().unwrap_or("?").to_string(),
    )
}

/// Types and checks every document; the findings besides.
pub fn plan(docs: &[Value]) -> Result<(Vec<Planned>, Vec<FieldIssue>)> {
    let mut planned = Vec::new();
    let mut issues = Vec::new();
    for doc in docs {
        let (kind, name) = describe(doc);
        let invalid = |reason: String| KubeError::Invalid {
            kind: kind.clone(),
            name: name.clone(),
            reason,
        };
        match Kind::from_manifest(&kind) {
            Some(Kind::Pod) => {
                let (mut pod, found): (Pod, _) = validate::typed(doc).map_err(invalid)?;
                issues.extend(found.into_iter().map(|(path, problem)| FieldIssue {
                    kind: kind.clone(),
                    name: name.clone(),
                    path,
                    problem,
                }));
                store::check_name(Kind::Pod, &pod.metadata.name)?;
                if pod.spec.containers.is_empty() {
                    return Err(invalid("spec.containers: Required value".into()).into());
                }
                let mut seen = std::collections::BTreeSet::new();
                for c in pod.spec.init_containers.iter().chain(&pod.spec.containers) {
                    store::check_name(Kind::Pod, &c.name).map_err(|_| {
                        invalid(format!("container name {:?} is not a DNS label", c.name))
                    })?;
                    if !seen.insert(c.name.clone()) {
                        return Err(invalid(format!(
                            "container name {:?}: Duplicate value",
                            c.name
                        ))
                        .into());
                    }
                    if c.image.is_empty() {
                        return Err(invalid(format!(
                            "containers {:?}: image: Required value",
                            c.name
                        ))
                        .into());
                    }
                }
                if pod.metadata.namespace.is_none() {
                    pod.metadata.namespace = Some(DEFAULT_NAMESPACE.into());
                }
                planned.push(Planned::Pod(Box::new(pod)));
            }
            _ => issues.push(FieldIssue {
                kind,
                name,
                path: String::new(),
                problem: Problem::UnsupportedKind,
            }),
        }
    }
    Ok((planned, issues))
}

fn object_of(p: &Planned) -> Result<Object> {
    match p {
        Planned::Pod(pod) => Ok(Object {
            api_version: "v1".into(),
            kind: Kind::Pod,
            metadata: pod.metadata.clone(),
            spec: serde_json::to_value(&pod.spec).map_err(|e| crate::Error::json("pod spec", e))?,
            status: Value::Null,
        }),
    }
}

/// Stores and starts what was planned; a changed Pod is made anew (Kubernetes does not
/// change a running Pod's containers in place).
pub fn play(
    paths: &Paths,
    maps: &IdMaps,
    planned: &[Planned],
    opts: &PlayOptions,
) -> Result<Vec<Played>> {
    let mut out = Vec::new();
    for p in planned {
        let ns = p.namespace();
        if opts.replace {
            take_down(paths, maps, p.kind(), &ns, p.name())?;
        }
        let (obj, applied) = store::apply(paths, object_of(p)?)?;
        if applied == Applied::Configured {
            kubelet::stop(paths, &ns, obj.name());
            kubelet::terminate(paths, maps, &ns, obj.name(), typed_pod(&obj).as_ref())?;
        }
        if opts.start {
            kubelet::ensure_running(paths, &ns, obj.name())?;
        }
        out.push(Played {
            kind: p.kind(),
            namespace: ns,
            name: obj.name().to_string(),
            applied,
        });
    }
    Ok(out)
}

fn typed_pod(o: &Object) -> Option<Pod> {
    serde_json::from_value(o.to_api()).ok()
}

/// Deletes an object and what runs for it (preStop hooks, then the grace period);
/// whether it existed.
pub fn take_down(paths: &Paths, maps: &IdMaps, kind: Kind, ns: &str, name: &str) -> Result<bool> {
    let old = store::delete(paths, kind, ns, name)?;
    if kind == Kind::Pod {
        kubelet::stop(paths, ns, name);
        kubelet::terminate(
            paths,
            maps,
            ns,
            name,
            old.as_ref().and_then(typed_pod).as_ref(),
        )?;
    }
    Ok(old.is_some())
}

/// Restarts the owners of stored objects that lost theirs (a killed kubelet).
pub fn revive_owners(paths: &Paths) -> Result<()> {
    for o in store::list(paths, Kind::Pod, None)? {
        if !kubelet::is_running(paths, o.namespace(), o.name()) {
            kubelet::ensure_running(paths, o.namespace(), o.name())?;
        }
    }
    Ok(())
}
