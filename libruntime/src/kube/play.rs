//! `kube play` and `kube down`: manifests into stored objects and running owners, and
//! back out. Every document is validated before anything is created, so `--validate
//! strict` refuses a whole play.

use super::api::storage::{PersistentVolume, PersistentVolumeClaim, StorageClass};
use super::api::{
    ConfigMap, CronJob, DaemonSet, Deployment, Job, Kind, Pod, PodSpec, ReplicaSet, RestartPolicy,
    Secret, StatefulSet,
};
use super::controller;
use super::kubelet;
use super::store::{self, Applied, Object, DEFAULT_NAMESPACE};
use super::validate::{self, FieldIssue, Problem};
use super::KubeError;
use crate::error::Result;
use crate::paths::Paths;
use crate::userns::IdMaps;
use serde_json::Value;

#[derive(Debug, Clone, Default)]
pub struct PlayOptions {
    /// Start what is played (`--start=false` only stores it).
    pub start: bool,
    /// Take down what exists under the same names first.
    pub replace: bool,
}

/// A document, typed and checked.
#[derive(Debug, Clone)]
pub enum Planned {
    Pod(Box<Pod>),
    ReplicaSet(Box<ReplicaSet>),
    Deployment(Box<Deployment>),
    DaemonSet(Box<DaemonSet>),
    Job(Box<Job>),
    StatefulSet(Box<StatefulSet>),
    CronJob(Box<CronJob>),
    ConfigMap(Box<ConfigMap>),
    Secret(Box<Secret>),
    Namespace(Box<super::api::meta::Namespace>),
    ResourceQuota(Box<super::api::config::ResourceQuota>),
    LimitRange(Box<super::api::config::LimitRange>),
    PersistentVolume(Box<PersistentVolume>),
    PersistentVolumeClaim(Box<PersistentVolumeClaim>),
    StorageClass(Box<StorageClass>),
}

impl Planned {
    pub fn kind(&self) -> Kind {
        match self {
            Planned::Pod(_) => Kind::Pod,
            Planned::ReplicaSet(_) => Kind::ReplicaSet,
            Planned::Deployment(_) => Kind::Deployment,
            Planned::DaemonSet(_) => Kind::DaemonSet,
            Planned::Job(_) => Kind::Job,
            Planned::StatefulSet(_) => Kind::StatefulSet,
            Planned::CronJob(_) => Kind::CronJob,
            Planned::ConfigMap(_) => Kind::ConfigMap,
            Planned::Secret(_) => Kind::Secret,
            Planned::Namespace(_) => Kind::Namespace,
            Planned::ResourceQuota(_) => Kind::ResourceQuota,
            Planned::LimitRange(_) => Kind::LimitRange,
            Planned::PersistentVolume(_) => Kind::PersistentVolume,
            Planned::PersistentVolumeClaim(_) => Kind::PersistentVolumeClaim,
            Planned::StorageClass(_) => Kind::StorageClass,
        }
    }

    fn metadata(&self) -> &super::api::ObjectMeta {
        match self {
            Planned::Pod(p) => &p.metadata,
            Planned::ReplicaSet(r) => &r.metadata,
            Planned::Deployment(d) => &d.metadata,
            Planned::DaemonSet(d) => &d.metadata,
            Planned::Job(j) => &j.metadata,
            Planned::StatefulSet(s) => &s.metadata,
            Planned::CronJob(c) => &c.metadata,
            Planned::ConfigMap(c) => &c.metadata,
            Planned::Secret(c) => &c.metadata,
            Planned::Namespace(n) => &n.metadata,
            Planned::ResourceQuota(q) => &q.metadata,
            Planned::LimitRange(l) => &l.metadata,
            Planned::PersistentVolume(v) => &v.metadata,
            Planned::PersistentVolumeClaim(c) => &c.metadata,
            Planned::StorageClass(c) => &c.metadata,
        }
    }

    /// Its namespace; "" for a cluster-wide kind.
    pub fn namespace(&self) -> String {
        if !self.kind().namespaced() {
            return String::new();
        }
        self.metadata()
            .namespace
            .clone()
            .unwrap_or_else(|| DEFAULT_NAMESPACE.into())
    }

    pub fn name(&self) -> &str {
        &self.metadata().name
    }

    /// The metadata and spec of the pods it makes (its own, or its template's).
    pub fn pod_template_mut(&mut self) -> Option<(&mut super::api::ObjectMeta, &mut PodSpec)> {
        Some(match self {
            Planned::Pod(p) => (&mut p.metadata, &mut p.spec),
            Planned::ReplicaSet(r) => (&mut r.spec.template.metadata, &mut r.spec.template.spec),
            Planned::Deployment(d) => (&mut d.spec.template.metadata, &mut d.spec.template.spec),
            Planned::DaemonSet(d) => (&mut d.spec.template.metadata, &mut d.spec.template.spec),
            Planned::Job(j) => (&mut j.spec.template.metadata, &mut j.spec.template.spec),
            Planned::StatefulSet(s) => (&mut s.spec.template.metadata, &mut s.spec.template.spec),
            Planned::CronJob(c) => {
                let t = &mut c.spec.job_template.spec.template;
                (&mut t.metadata, &mut t.spec)
            }
            Planned::ConfigMap(_)
            | Planned::Secret(_)
            | Planned::Namespace(_)
            | Planned::ResourceQuota(_)
            | Planned::LimitRange(_)
            | Planned::PersistentVolume(_)
            | Planned::PersistentVolumeClaim(_)
            | Planned::StorageClass(_) => return None,
        })
    }

    /// The pod specs it runs (its own, or its template's).
    pub fn pod_specs(&self) -> Vec<&PodSpec> {
        match self {
            Planned::Pod(p) => vec![&p.spec],
            Planned::ReplicaSet(r) => vec![&r.spec.template.spec],
            Planned::Deployment(d) => vec![&d.spec.template.spec],
            Planned::DaemonSet(d) => vec![&d.spec.template.spec],
            Planned::Job(j) => vec![&j.spec.template.spec],
            Planned::StatefulSet(s) => vec![&s.spec.template.spec],
            Planned::CronJob(c) => vec![&c.spec.job_template.spec.template.spec],
            Planned::ConfigMap(_)
            | Planned::Secret(_)
            | Planned::Namespace(_)
            | Planned::ResourceQuota(_)
            | Planned::LimitRange(_)
            | Planned::PersistentVolume(_)
            | Planned::PersistentVolumeClaim(_)
            | Planned::StorageClass(_) => vec![],
        }
    }
}

/// The API server's checks of volumes and the mounts that name them; `claimed` are
/// the names a StatefulSet's claim templates add.
fn check_volumes(spec: &PodSpec, at: &str, claimed: &[&str]) -> std::result::Result<(), String> {
    let mut names = std::collections::BTreeSet::new();
    for (i, v) in spec.volumes.iter().enumerate() {
        if store::check_name(Kind::Pod, &v.name).is_err() || v.name.contains('.') {
            return Err(format!("{at}volumes[{i}].name: Invalid value: {:?}: a lowercase RFC 1123 label is required", v.name));
        }
        if !names.insert(v.name.as_str()) {
            return Err(format!(
                "{at}volumes[{i}].name: Duplicate value: {:?}",
                v.name
            ));
        }
        match v.sources() {
            0 => {
                return Err(format!(
                    "{at}volumes[{i}]: Required value: must specify a volume type"
                ))
            }
            1 => {}
            _ => {
                return Err(format!(
                    "{at}volumes[{i}]: Forbidden: may not specify more than 1 volume type"
                ))
            }
        }
        let mut item_paths: Vec<(&str, &str)> = Vec::new();
        if let Some(c) = &v.config_map {
            item_paths.extend(c.items.iter().map(|i| ("configMap", i.path.as_str())));
        }
        if let Some(c) = &v.secret {
            item_paths.extend(c.items.iter().map(|i| ("secret", i.path.as_str())));
        }
        if let Some(d) = &v.downward_api {
            item_paths.extend(d.items.iter().map(|i| ("downwardAPI", i.path.as_str())));
        }
        for src in v.projected.iter().flat_map(|p| &p.sources) {
            for c in src.config_map.iter().chain(&src.secret) {
                item_paths.extend(c.items.iter().map(|i| ("projected", i.path.as_str())));
            }
            if let Some(d) = &src.downward_api {
                item_paths.extend(d.items.iter().map(|i| ("projected", i.path.as_str())));
            }
        }
        for (source, p) in item_paths {
            super::kubelet::atomic_writer::check_path(p)
                .map_err(|e| format!("{at}volumes[{i}].{source}.items.path: Invalid value: {e}"))?;
        }
        if let Some(e) = &v.ephemeral {
            super::storage::check_claim(
                &e.volume_claim_template.spec,
                &format!("{at}volumes[{i}].ephemeral.volumeClaimTemplate.spec."),
            )?;
        }
        if let Some(h) = &v.host_path {
            super::kubelet::volumes::HostPathType::parse(h.type_.as_deref())
                .map_err(|e| format!("{at}volumes[{i}].hostPath.type: {e}"))?;
            if !h.path.starts_with('/') {
                return Err(format!(
                    "{at}volumes[{i}].hostPath.path: Invalid value: {:?}: must be an absolute path",
                    h.path
                ));
            }
        }
    }
    names.extend(claimed.iter().copied());
    for (list, containers) in [
        ("initContainers", &spec.init_containers),
        ("containers", &spec.containers),
    ] {
        for (ci, c) in containers.iter().enumerate() {
            let mut paths = std::collections::BTreeSet::new();
            for (mi, m) in c.volume_mounts.iter().enumerate() {
                let here = format!("{at}{list}[{ci}].volumeMounts[{mi}]");
                if !names.contains(m.name.as_str()) {
                    return Err(format!("{here}.name: Not found: {:?}", m.name));
                }
                if m.mount_path.is_empty() {
                    return Err(format!("{here}.mountPath: Required value"));
                }
                if !paths.insert(m.mount_path.as_str()) {
                    return Err(format!(
                        "{here}.mountPath: Invalid value: {:?}: must be unique",
                        m.mount_path
                    ));
                }
                if let Some(sp) = m.sub_path.as_deref().filter(|p| !p.is_empty()) {
                    super::kubelet::atomic_writer::check_path(sp)
                        .map_err(|e| format!("{here}.subPath: Invalid value: {e}"))?;
                }
            }
        }
    }
    Ok(())
}

/// The checks the API server makes on a pod spec.
fn check_pod_spec(spec: &PodSpec, at: &str) -> std::result::Result<(), String> {
    check_pod_spec_claiming(spec, at, &[])
}

/// The checks of a pod spec whose volumes `claimed` come from claim templates.
fn check_pod_spec_claiming(
    spec: &PodSpec,
    at: &str,
    claimed: &[&str],
) -> std::result::Result<(), String> {
    if spec.containers.is_empty() {
        return Err(format!("{at}containers: Required value"));
    }
    check_volumes(spec, at, claimed)?;
    let mut seen = std::collections::BTreeSet::new();
    for c in spec.init_containers.iter().chain(&spec.containers) {
        if store::check_name(Kind::Pod, &c.name).is_err() || c.name.contains('.') {
            return Err(format!("container name {:?} is not a DNS label", c.name));
        }
        if !seen.insert(c.name.clone()) {
            return Err(format!("container name {:?}: Duplicate value", c.name));
        }
        if c.image.is_empty() {
            return Err(format!(
                "{at}containers {:?}: image: Required value",
                c.name
            ));
        }
    }
    Ok(())
}

/// A workload's selector must be valid and select its own template.
fn check_selector(
    sel: &super::api::LabelSelector,
    template_labels: &std::collections::BTreeMap<String, String>,
) -> std::result::Result<(), String> {
    sel.check()?;
    if !sel.matches(template_labels) {
        return Err(
            "spec.template.metadata.labels: Invalid value: selector does not match template labels"
                .into(),
        );
    }
    Ok(())
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
        let mut record = |found: Vec<(String, Problem)>| {
            issues.extend(found.into_iter().map(|(path, problem)| FieldIssue {
                kind: kind.clone(),
                name: name.clone(),
                path,
                problem,
            }))
        };
        let default_ns = |m: &mut super::api::ObjectMeta| {
            if m.namespace.is_none() {
                m.namespace = Some(DEFAULT_NAMESPACE.into());
            }
        };
        match Kind::from_manifest(&kind) {
            Some(Kind::Pod) => {
                let (mut pod, found): (Pod, _) = validate::typed(doc).map_err(invalid)?;
                record(found);
                store::check_name(Kind::Pod, &pod.metadata.name)?;
                check_pod_spec(&pod.spec, "spec.").map_err(invalid)?;
                default_ns(&mut pod.metadata);
                planned.push(Planned::Pod(Box::new(pod)));
            }
            Some(Kind::ReplicaSet) => {
                let (mut rs, found): (ReplicaSet, _) = validate::typed(doc).map_err(invalid)?;
                record(found);
                store::check_name(Kind::ReplicaSet, &rs.metadata.name)?;
                check_pod_spec(&rs.spec.template.spec, "spec.template.spec.").map_err(invalid)?;
                check_selector(&rs.spec.selector, &rs.spec.template.metadata.labels)
                    .map_err(invalid)?;
                default_ns(&mut rs.metadata);
                planned.push(Planned::ReplicaSet(Box::new(rs)));
            }
            Some(Kind::Deployment) => {
                let (mut d, found): (Deployment, _) = validate::typed(doc).map_err(invalid)?;
                record(found);
                store::check_name(Kind::Deployment, &d.metadata.name)?;
                check_pod_spec(&d.spec.template.spec, "spec.template.spec.").map_err(invalid)?;
                check_selector(&d.spec.selector, &d.spec.template.metadata.labels)
                    .map_err(invalid)?;
                default_ns(&mut d.metadata);
                planned.push(Planned::Deployment(Box::new(d)));
            }
            Some(Kind::DaemonSet) => {
                let (mut d, found): (DaemonSet, _) = validate::typed(doc).map_err(invalid)?;
                record(found);
                store::check_name(Kind::DaemonSet, &d.metadata.name)?;
                check_pod_spec(&d.spec.template.spec, "spec.template.spec.").map_err(invalid)?;
                check_selector(&d.spec.selector, &d.spec.template.metadata.labels)
                    .map_err(invalid)?;
                default_ns(&mut d.metadata);
                planned.push(Planned::DaemonSet(Box::new(d)));
            }
            Some(Kind::Job) => {
                let (mut j, found): (Job, _) = validate::typed(doc).map_err(invalid)?;
                record(found);
                store::check_name(Kind::Job, &j.metadata.name)?;
                check_pod_spec(&j.spec.template.spec, "spec.template.spec.").map_err(invalid)?;
                if j.spec.template.spec.restart_policy == RestartPolicy::Always {
                    return Err(invalid(
                        "spec.template.spec.restartPolicy: Required value: valid values: \"OnFailure\", \"Never\"".into(),
                    )
                    .into());
                }
                for (field, v) in [
                    ("completions", j.spec.completions),
                    ("parallelism", j.spec.parallelism),
                    ("backoffLimit", j.spec.backoff_limit),
                ] {
                    if v.is_some_and(|n| n < 0) {
                        return Err(invalid(format!(
                            "spec.{field}: Invalid value: must be greater than or equal to 0"
                        ))
                        .into());
                    }
                }
                default_ns(&mut j.metadata);
                planned.push(Planned::Job(Box::new(j)));
            }
            Some(Kind::StatefulSet) => {
                let (mut st, found): (StatefulSet, _) = validate::typed(doc).map_err(invalid)?;
                record(found);
                store::check_name(Kind::StatefulSet, &st.metadata.name)?;
                let claimed: Vec<&str> = st
                    .spec
                    .volume_claim_templates
                    .iter()
                    .map(|t| t.metadata.name.as_str())
                    .collect();
                check_pod_spec_claiming(&st.spec.template.spec, "spec.template.spec.", &claimed)
                    .map_err(invalid)?;
                check_selector(&st.spec.selector, &st.spec.template.metadata.labels)
                    .map_err(invalid)?;
                for (i, t) in st.spec.volume_claim_templates.iter().enumerate() {
                    store::check_name(Kind::PersistentVolumeClaim, &t.metadata.name)?;
                    super::storage::check_claim(
                        &t.spec,
                        &format!("spec.volumeClaimTemplates[{i}].spec."),
                    )
                    .map_err(invalid)?;
                }
                default_ns(&mut st.metadata);
                planned.push(Planned::StatefulSet(Box::new(st)));
            }
            Some(Kind::CronJob) => {
                let (mut c, found): (CronJob, _) = validate::typed(doc).map_err(invalid)?;
                record(found);
                store::check_name(Kind::CronJob, &c.metadata.name)?;
                if c.metadata.name.len() > 52 {
                    return Err(invalid(
                        "metadata.name: must be no more than 52 characters".into(),
                    )
                    .into());
                }
                super::controller::schedule::Schedule::parse(&c.spec.schedule)
                    .map_err(|e| invalid(format!("spec.schedule: Invalid value: {e}")))?;
                super::controller::cronjob::zone_of(&c)
                    .map_err(|e| invalid(format!("spec.timeZone: Invalid value: {e}")))?;
                let pod = &c.spec.job_template.spec.template.spec;
                check_pod_spec(pod, "spec.jobTemplate.spec.template.spec.").map_err(invalid)?;
                if pod.restart_policy == RestartPolicy::Always {
                    return Err(invalid(
                        "spec.jobTemplate.spec.template.spec.restartPolicy: Required value: valid values: \"OnFailure\", \"Never\"".into(),
                    )
                    .into());
                }
                default_ns(&mut c.metadata);
                planned.push(Planned::CronJob(Box::new(c)));
            }
            Some(Kind::Namespace) => {
                let (mut n, found): (super::api::meta::Namespace, _) =
                    validate::typed(doc).map_err(invalid)?;
                record(found);
                store::check_name(Kind::Namespace, &n.metadata.name)?;
                if n.metadata.name.contains('.') || n.metadata.name.len() > 63 {
                    return Err(invalid(format!(
                        "metadata.name: Invalid value: {:?}: a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-'",
                        n.metadata.name
                    ))
                    .into());
                }
                n.metadata.namespace = None;
                planned.push(Planned::Namespace(Box::new(n)));
            }
            Some(Kind::ResourceQuota) => {
                let (mut q, found): (super::api::config::ResourceQuota, _) =
                    validate::typed(doc).map_err(invalid)?;
                record(found);
                store::check_name(Kind::ResourceQuota, &q.metadata.name)?;
                if let Some(bad) = q
                    .spec
                    .scopes
                    .iter()
                    .find(|s| !matches!(s.as_str(), "BestEffort" | "NotBestEffort"))
                {
                    return Err(invalid(format!(
                        "spec.scopes: Unsupported value: {bad:?}: supported values: \"BestEffort\", \"NotBestEffort\""
                    ))
                    .into());
                }
                default_ns(&mut q.metadata);
                planned.push(Planned::ResourceQuota(Box::new(q)));
            }
            Some(Kind::LimitRange) => {
                let (mut l, found): (super::api::config::LimitRange, _) =
                    validate::typed(doc).map_err(invalid)?;
                record(found);
                store::check_name(Kind::LimitRange, &l.metadata.name)?;
                if let Some(bad) = l.spec.limits.iter().find(|i| {
                    !matches!(
                        i.type_.as_str(),
                        "Container" | "Pod" | "PersistentVolumeClaim"
                    )
                }) {
                    return Err(invalid(format!(
                        "spec.limits.type: Unsupported value: {:?}: supported values: \"Container\", \"Pod\", \"PersistentVolumeClaim\"",
                        bad.type_
                    ))
                    .into());
                }
                default_ns(&mut l.metadata);
                planned.push(Planned::LimitRange(Box::new(l)));
            }
            Some(Kind::PersistentVolume) => {
                let (mut v, found): (PersistentVolume, _) =
                    validate::typed(doc).map_err(invalid)?;
                record(found);
                store::check_name(Kind::PersistentVolume, &v.metadata.name)?;
                super::storage::check_volume(&v).map_err(invalid)?;
                v.metadata.namespace = None;
                planned.push(Planned::PersistentVolume(Box::new(v)));
            }
            Some(Kind::PersistentVolumeClaim) => {
                let (mut c, found): (PersistentVolumeClaim, _) =
                    validate::typed(doc).map_err(invalid)?;
                record(found);
                store::check_name(Kind::PersistentVolumeClaim, &c.metadata.name)?;
                super::storage::check_claim(&c.spec, "spec.").map_err(invalid)?;
                default_ns(&mut c.metadata);
                planned.push(Planned::PersistentVolumeClaim(Box::new(c)));
            }
            Some(Kind::StorageClass) => {
                let (mut c, found): (StorageClass, _) = validate::typed(doc).map_err(invalid)?;
                record(found);
                store::check_name(Kind::StorageClass, &c.metadata.name)?;
                super::storage::check_class(&c).map_err(invalid)?;
                c.metadata.namespace = None;
                planned.push(Planned::StorageClass(Box::new(c)));
            }
            Some(Kind::ConfigMap) => {
                let (mut c, found): (ConfigMap, _) = validate::typed(doc).map_err(invalid)?;
                record(found);
                store::check_name(Kind::ConfigMap, &c.metadata.name)?;
                super::config::check_config_map(&c).map_err(invalid)?;
                default_ns(&mut c.metadata);
                planned.push(Planned::ConfigMap(Box::new(c)));
            }
            Some(Kind::Secret) => {
                let (mut sec, found): (Secret, _) = validate::typed(doc).map_err(invalid)?;
                record(found);
                store::check_name(Kind::Secret, &sec.metadata.name)?;
                super::config::check_secret(&sec).map_err(invalid)?;
                default_ns(&mut sec.metadata);
                planned.push(Planned::Secret(Box::new(sec)));
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
    let spec = match p {
        Planned::Pod(pod) => serde_json::to_value(&pod.spec),
        Planned::ReplicaSet(rs) => serde_json::to_value(&rs.spec),
        Planned::Deployment(d) => serde_json::to_value(&d.spec),
        Planned::DaemonSet(d) => serde_json::to_value(&d.spec),
        Planned::Job(j) => serde_json::to_value(&j.spec),
        Planned::StatefulSet(s) => serde_json::to_value(&s.spec),
        Planned::CronJob(c) => serde_json::to_value(&c.spec),
        Planned::ConfigMap(c) => Ok(super::config::stored_config_map(c)),
        Planned::Secret(s) => Ok(super::config::stored_secret(s)),
        Planned::Namespace(_) => Ok(serde_json::json!({"finalizers": ["kubernetes"]})),
        Planned::ResourceQuota(q) => serde_json::to_value(&q.spec),
        Planned::LimitRange(l) => serde_json::to_value(&l.spec),
        Planned::PersistentVolume(v) => serde_json::to_value(&v.spec),
        Planned::PersistentVolumeClaim(c) => serde_json::to_value(&c.spec),
        Planned::StorageClass(c) => {
            let mut v = serde_json::to_value(c.as_ref());
            if let Ok(Value::Object(m)) = &mut v {
                for k in ["apiVersion", "kind", "metadata"] {
                    m.remove(k);
                }
            }
            v
        }
    }
    .map_err(|e| crate::Error::json("spec", e))?;
    let status = match p {
        Planned::Namespace(_) => serde_json::json!({"phase": "Active"}),
        _ => Value::Null,
    };
    Ok(Object {
        api_version: p.kind().api_version().into(),
        kind: p.kind(),
        metadata: p.metadata().clone(),
        spec,
        status,
    })
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
    // Namespaces first, then ConfigMaps and Secrets: what comes after finds them.
    let rank = |p: &&Planned| match p.kind() {
        Kind::Namespace | Kind::StorageClass | Kind::PersistentVolume => 0,
        Kind::LimitRange | Kind::ResourceQuota => 1,
        Kind::ConfigMap | Kind::Secret | Kind::PersistentVolumeClaim => 2,
        _ => 3,
    };
    let mut ordered: Vec<&Planned> = planned.iter().collect();
    ordered.sort_by_key(rank);
    // Every namespace must exist (or come in this play) before anything is stored.
    super::namespaces::ensure_built_in(paths)?;
    super::storage::ensure_built_in(paths)?;
    for p in &ordered {
        let made_here = planned
            .iter()
            .any(|n| n.kind() == Kind::Namespace && n.name() == p.namespace());
        if p.kind().namespaced() && !made_here {
            super::namespaces::check_open(paths, &p.namespace())?;
        }
    }
    let mut storage_changed = false;
    for p in ordered {
        let ns = p.namespace();
        if opts.replace {
            take_down(paths, maps, p.kind(), &ns, p.name())?;
        }
        let mut obj = object_of(p)?;
        match p.kind() {
            Kind::Pod => super::admission::admit_pod(paths, &mut obj)?,
            Kind::ConfigMap | Kind::Secret => {
                super::admission::admit_count(paths, p.kind(), &ns, p.name())?
            }
            _ => {}
        }
        if matches!(
            p.kind(),
            Kind::PersistentVolume | Kind::PersistentVolumeClaim | Kind::StorageClass
        ) {
            match store::get(paths, p.kind(), &ns, p.name())? {
                Some(old) => super::storage::merge_on_apply(paths, &old, &mut obj)
                    .map_err(|reason| invalid_object(p, reason))?,
                None if p.kind() == Kind::PersistentVolumeClaim => {
                    super::admission::admit_claim(paths, &mut obj)?
                }
                None => {}
            }
            storage_changed = true;
        }
        let (obj, applied) = store::apply(paths, obj)?;
        if applied == Applied::Configured && p.kind() == Kind::Pod {
            kubelet::stop(paths, &ns, obj.name());
            kubelet::terminate(paths, maps, &ns, obj.name(), typed_pod(&obj).as_ref())?;
        }
        if opts.start {
            start_owner(paths, p.kind(), &ns, obj.name())?;
        }
        out.push(Played {
            kind: p.kind(),
            namespace: ns,
            name: obj.name().to_string(),
            applied,
        });
    }
    if storage_changed {
        super::storage::sync(paths, maps)?;
    }
    Ok(out)
}

fn invalid_object(p: &Planned, reason: String) -> crate::Error {
    if reason.contains(" is forbidden: ") {
        return KubeError::Forbidden(reason).into();
    }
    KubeError::Invalid {
        kind: p.kind().name().into(),
        name: p.name().into(),
        reason,
    }
    .into()
}

fn typed_pod(o: &Object) -> Option<Pod> {
    serde_json::from_value(o.to_api()).ok()
}

fn start_owner(paths: &Paths, kind: Kind, ns: &str, name: &str) -> Result<()> {
    match kind {
        Kind::Pod => kubelet::ensure_running(paths, ns, name),
        Kind::ReplicaSet
        | Kind::Deployment
        | Kind::DaemonSet
        | Kind::Job
        | Kind::StatefulSet
        | Kind::CronJob => controller::ensure_running(paths, kind, ns, name),
        _ => Ok(()),
    }
}

/// Deletes an object and what runs for it (preStop hooks, then the grace period), and
/// what it owns, as Kubernetes' garbage collector would; whether it existed.
pub fn take_down(paths: &Paths, maps: &IdMaps, kind: Kind, ns: &str, name: &str) -> Result<bool> {
    if kind == Kind::Namespace {
        return super::namespaces::delete(paths, maps, name);
    }
    match kind {
        Kind::PersistentVolumeClaim => return super::storage::delete_claim(paths, maps, ns, name),
        Kind::PersistentVolume => {
            let gone = store::delete(paths, kind, ns, name)?.is_some();
            super::storage::sync(paths, maps)?;
            return Ok(gone);
        }
        _ => {}
    }
    if kind == Kind::Pod {
        return take_down_pod(paths, maps, ns, name);
    }
    let old = store::delete(paths, kind, ns, name)?;
    match kind {
        Kind::ReplicaSet
        | Kind::Deployment
        | Kind::DaemonSet
        | Kind::Job
        | Kind::StatefulSet
        | Kind::CronJob => {
            controller::stop(paths, kind, ns, name);
            if let Some(o) = &old {
                let owned_kind = match kind {
                    Kind::Deployment => Kind::ReplicaSet,
                    Kind::CronJob => Kind::Job,
                    _ => Kind::Pod,
                };
                let owned: Vec<Object> = store::list(paths, owned_kind, Some(ns))?
                    .into_iter()
                    .filter(|x| controller::controlled_by(x, &o.metadata.uid))
                    .collect();
                take_down_all(paths, maps, owned_kind, ns, &owned)?;
            }
        }
        _ => {}
    }
    Ok(old.is_some())
}

/// Deletes a Pod gracefully: marked (deletionTimestamp) first, its containers ended,
/// and only then removed from the store, so that a deletion cut short is seen and
/// finished by the next command rather than leaving containers nobody owns.
fn take_down_pod(paths: &Paths, maps: &IdMaps, ns: &str, name: &str) -> Result<bool> {
    let Some(old) = store::get(paths, Kind::Pod, ns, name)? else {
        return Ok(false);
    };
    store::update(paths, Kind::Pod, ns, name, &old.metadata.uid, |o| {
        if o.metadata.deletion_timestamp.is_none() {
            o.metadata.deletion_timestamp = Some(crate::time::now_rfc3339_seconds());
        }
    })?;
    kubelet::stop(paths, ns, name);
    kubelet::terminate(paths, maps, ns, name, typed_pod(&old).as_ref())?;
    store::delete(paths, Kind::Pod, ns, name)?;
    Ok(true)
}

/// Takes down `objects` of one kind side by side, so that each pod's grace period runs
/// at the same time.
pub fn take_down_all(
    paths: &Paths,
    maps: &IdMaps,
    kind: Kind,
    ns: &str,
    objects: &[Object],
) -> Result<()> {
    let results: Vec<Result<bool>> = std::thread::scope(|s| {
        let running: Vec<_> = objects
            .iter()
            .map(|x| s.spawn(move || take_down(paths, maps, kind, ns, x.name())))
            .collect();
        running
            .into_iter()
            .map(|t| t.join().unwrap_or(Ok(false)))
            .collect()
    });
    for r in results {
        r?;
    }
    Ok(())
}

/// Restarts the owners of stored objects that lost theirs (a killed kubelet or
/// controller), and finishes pod deletions a killed command left.
pub fn revive_owners(paths: &Paths, maps: &IdMaps) -> Result<()> {
    let deleting: Vec<Object> = store::list(paths, Kind::Pod, None)?
        .into_iter()
        .filter(|p| p.metadata.deletion_timestamp.is_some())
        .collect();
    for p in &deleting {
        if !kubelet::is_running(paths, p.namespace(), p.name()) {
            take_down_pod(paths, maps, p.namespace(), p.name())?;
        }
    }
    for kind in [
        Kind::Deployment,
        Kind::ReplicaSet,
        Kind::StatefulSet,
        Kind::CronJob,
        Kind::DaemonSet,
        Kind::Job,
        Kind::Pod,
    ] {
        for o in store::list(paths, kind, None)? {
            // A finished Pod needs no kubelet; a finished Job no controller.
            let finished = match kind {
                Kind::Pod => matches!(o.status["phase"].as_str(), Some("Succeeded" | "Failed")),
                Kind::Job => o.status["conditions"].as_array().is_some_and(|c| {
                    c.iter().any(|c| {
                        (c["type"] == "Complete" || c["type"] == "Failed") && c["status"] == "True"
                    })
                }),
                _ => false,
            };
            // Played with --start=false and never started: nothing to bring back.
            // (A started owner writes a status on its first pass; an owned object
            // always has an owner that wants it run.)
            let never_started = o.status.is_null() && !controller::has_controller(&o);
            if finished || never_started || o.metadata.deletion_timestamp.is_some() {
                continue;
            }
            let running = match kind {
                Kind::Pod => kubelet::is_running(paths, o.namespace(), o.name()),
                _ => controller::is_running(paths, kind, o.namespace(), o.name()),
            };
            if !running {
                start_owner(paths, kind, o.namespace(), o.name())?;
            }
        }
    }
    Ok(())
}
