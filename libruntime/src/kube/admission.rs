//! Admission, as the API server's LimitRanger and ResourceQuota plugins do it when a
//! pod (or a counted object) is made: LimitRange defaults are filled in first, then
//! its bounds checked, then every ResourceQuota of the namespace; a refusal uses
//! Kubernetes' texts and stores nothing. Claims get the default StorageClass when
//! they name none, then their storage checked against LimitRanges and quotas. The rules are pure functions; `admit_*` read
//! the namespace's objects from the store.

use super::api::config::{LimitRange, LimitRangeItem, ResourceQuota};
use super::api::pod::ResourceRequirements;
use super::api::storage::{PersistentVolumeClaim, PersistentVolumeClaimSpec};
use super::api::{Kind, PodSpec};
use super::quantity::Quantity;
use super::resources::{qos_class, QosClass};
use super::store::{self, Object};
use super::KubeError;
use crate::error::Result;
use crate::paths::Paths;
use std::collections::BTreeMap;

pub type Amounts = BTreeMap<String, Quantity>;

const COMPUTE: [&str; 2] = ["cpu", "memory"];

/// A LimitRange item as Kubernetes defaults it: defaultRequest from default, default
/// from max.
fn defaulted(item: &LimitRangeItem) -> LimitRangeItem {
    let mut i = item.clone();
    for (k, v) in &item.max {
        i.default.entry(k.clone()).or_insert(*v);
    }
    for (k, v) in i.default.clone() {
        i.default_request.entry(k).or_insert(v);
    }
    i
}

/// Fills in LimitRange defaults and checks the bounds; the messages of what breaks them.
pub fn limit_ranges(
    ranges: &[LimitRange],
    spec: &mut PodSpec,
) -> std::result::Result<(), Vec<String>> {
    let items: Vec<LimitRangeItem> = ranges
        .iter()
        .flat_map(|r| r.spec.limits.iter().map(defaulted))
        .collect();
    let mut errors = Vec::new();
    for item in items.iter().filter(|i| i.type_ == "Container") {
        for c in spec
            .init_containers
            .iter_mut()
            .chain(spec.containers.iter_mut())
        {
            let r = c
                .resources
                .get_or_insert_with(ResourceRequirements::default);
            for (k, v) in &item.default {
                r.limits.entry(k.clone()).or_insert(*v);
            }
            for (k, v) in &item.default_request {
                // A request never defaults above the container's own limit.
                let v = r.limits.get(k).map_or(*v, |l| (*l).min(*v));
                r.requests.entry(k.clone()).or_insert(v);
            }
            errors.extend(bounds(item, "Container", &r.requests, &r.limits));
        }
    }
    for item in items.iter().filter(|i| i.type_ == "Pod") {
        let (requests, limits) = pod_totals(spec);
        errors.extend(bounds(item, "Pod", &requests, &limits));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

fn pod_totals(spec: &PodSpec) -> (Amounts, Amounts) {
    let mut requests = Amounts::new();
    let mut limits = Amounts::new();
    for c in &spec.containers {
        let r = c.resources.clone().unwrap_or_default();
        for (k, v) in &r.requests {
            let e = requests.entry(k.clone()).or_insert_with(Quantity::zero);
            *e = e.add(v);
        }
        for (k, v) in &r.limits {
            let e = limits.entry(k.clone()).or_insert_with(Quantity::zero);
            *e = e.add(v);
        }
    }
    (requests, limits)
}

/// One item's min, max and ratio against requests and limits, in LimitRanger's words.
fn bounds(item: &LimitRangeItem, what: &str, requests: &Amounts, limits: &Amounts) -> Vec<String> {
    let mut out = Vec::new();
    for (k, min) in &item.min {
        match requests.get(k) {
            Some(r) if r < min => out.push(format!(
                "minimum {k} usage per {what} is {min}, but request is {r}"
            )),
            None => out.push(format!(
                "minimum {k} usage per {what} is {min}.  No request is specified"
            )),
            _ => {}
        }
    }
    for (k, max) in &item.max {
        match limits.get(k) {
            Some(l) if l > max => out.push(format!(
                "maximum {k} usage per {what} is {max}, but limit is {l}"
            )),
            None => out.push(format!(
                "maximum {k} usage per {what} is {max}.  No limit is specified"
            )),
            _ => {}
        }
    }
    for (k, ratio) in &item.max_limit_request_ratio {
        if let (Some(l), Some(r)) = (limits.get(k), requests.get(k)) {
            let actual = l.ratio_to(r);
            let allowed = ratio.milli_value() as f64 / 1000.0;
            if actual > allowed {
                out.push(format!(
                    "{k} max limit to request ratio per {what} is {ratio}, but provided ratio is {actual:.6}"
                ));
            }
        }
    }
    out
}

/// What a pod counts against quotas: pods, and its compute requests and limits.
pub fn pod_demand(spec: &PodSpec) -> Amounts {
    let (requests, limits) = pod_totals(spec);
    let mut out = Amounts::new();
    out.insert(
        "pods".into(),
        "1".parse().unwrap_or_else(|_| Quantity::zero()),
    );
    for r in COMPUTE {
        if let Some(q) = requests.get(r) {
            out.insert(r.into(), *q);
            out.insert(format!("requests.{r}"), *q);
        }
        if let Some(q) = limits.get(r) {
            out.insert(format!("limits.{r}"), *q);
        }
    }
    out
}

/// Whether a quota's scopes take in a pod of this QoS class.
pub fn in_scope(quota: &ResourceQuota, qos: QosClass) -> bool {
    quota.spec.scopes.iter().all(|s| match s.as_str() {
        "BestEffort" => qos == QosClass::BestEffort,
        "NotBestEffort" => qos != QosClass::BestEffort,
        _ => true,
    })
}

fn add_into(total: &mut Amounts, more: &Amounts) {
    for (k, v) in more {
        let e = total.entry(k.clone()).or_insert_with(Quantity::zero);
        *e = e.add(v);
    }
}

/// The quota's verdict on `requested` given `used`, in the ResourceQuota plugin's words.
pub fn check_quota(
    quota: &ResourceQuota,
    used: &Amounts,
    requested: &Amounts,
    pod: Option<&PodSpec>,
) -> std::result::Result<(), String> {
    let name = &quota.metadata.name;
    // Compute quotas need every container to say what it asks for.
    if let Some(spec) = pod {
        for key in quota.spec.hard.keys() {
            let (field, res) = match key.split_once('.') {
                Some(("requests", r)) => ("requests", r),
                Some(("limits", r)) => ("limits", r),
                None if COMPUTE.contains(&key.as_str()) => ("requests", key.as_str()),
                _ => continue,
            };
            let missing = spec.containers.iter().any(|c| {
                let r = c.resources.clone().unwrap_or_default();
                let m = if field == "requests" {
                    &r.requests
                } else {
                    &r.limits
                };
                !m.contains_key(res)
            });
            if missing {
                return Err(format!("failed quota: {name}: must specify {field}.{res}"));
            }
        }
    }
    let mut exceeded: Vec<&String> = Vec::new();
    for (k, hard) in &quota.spec.hard {
        let Some(want) = requested.get(k) else {
            continue;
        };
        let now = used.get(k).copied().unwrap_or_else(Quantity::zero);
        if now.add(want) > *hard {
            exceeded.push(k);
        }
    }
    if exceeded.is_empty() {
        return Ok(());
    }
    let list = |m: &Amounts| {
        exceeded
            .iter()
            .map(|k| format!("{k}={}", m.get(*k).copied().unwrap_or_else(Quantity::zero)))
            .collect::<Vec<_>>()
            .join(",")
    };
    Err(format!(
        "exceeded quota: {name}, requested: {}, used: {}, limited: {}",
        list(requested),
        list(used),
        list(&quota.spec.hard)
    ))
}

fn typed<T: serde::de::DeserializeOwned>(o: &Object) -> Option<T> {
    serde_json::from_value(o.to_api()).ok()
}

/// What the namespace's objects use of each quota's resources, `skip` left out (the
/// object being admitted again).
pub fn usage(
    paths: &Paths,
    ns: &str,
    quota: &ResourceQuota,
    skip: Option<(Kind, &str)>,
) -> Result<Amounts> {
    let mut used = Amounts::new();
    for p in store::list(paths, Kind::Pod, Some(ns))? {
        if skip == Some((Kind::Pod, p.name()))
            || matches!(p.status["phase"].as_str(), Some("Succeeded" | "Failed"))
        {
            continue;
        }
        let Ok(spec) = serde_json::from_value::<PodSpec>(p.spec.clone()) else {
            continue;
        };
        if in_scope(quota, qos_class(&spec)) {
            add_into(&mut used, &pod_demand(&spec));
        }
    }
    for (kind, keys) in [
        (Kind::ConfigMap, ["configmaps", "count/configmaps"]),
        (Kind::Secret, ["secrets", "count/secrets"]),
        (Kind::Service, ["services", "count/services"]),
    ] {
        let n = store::list(paths, kind, Some(ns))?
            .iter()
            .filter(|o| skip != Some((kind, o.name())))
            .count();
        for k in keys {
            used.insert(
                k.into(),
                n.to_string().parse().unwrap_or_else(|_| Quantity::zero()),
            );
        }
    }
    for c in store::list(paths, Kind::PersistentVolumeClaim, Some(ns))? {
        if skip == Some((Kind::PersistentVolumeClaim, c.name())) {
            continue;
        }
        if let Some(claim) = typed::<PersistentVolumeClaim>(&c) {
            add_into(&mut used, &claim_demand(&claim.spec));
        }
    }
    Ok(used)
}

/// What a claim counts against quotas: itself, and the storage it requests, in all
/// and in its class.
pub fn claim_demand(spec: &PersistentVolumeClaimSpec) -> Amounts {
    let one: Quantity = "1".parse().unwrap_or_else(|_| Quantity::zero());
    let mut out: Amounts = [
        ("persistentvolumeclaims".to_string(), one),
        ("count/persistentvolumeclaims".to_string(), one),
        ("requests.storage".to_string(), spec.request()),
    ]
    .into();
    let class = spec.class();
    if !class.is_empty() {
        let k = format!("{class}.storageclass.storage.k8s.io");
        out.insert(format!("{k}/requests.storage"), spec.request());
        out.insert(format!("{k}/persistentvolumeclaims"), one);
    }
    out
}

/// LimitRanger's PersistentVolumeClaim bounds: min and max of the requested storage.
pub fn claim_bounds(ranges: &[LimitRange], spec: &PersistentVolumeClaimSpec) -> Vec<String> {
    let mut out = Vec::new();
    let what = "PersistentVolumeClaim";
    for item in ranges
        .iter()
        .flat_map(|r| &r.spec.limits)
        .filter(|i| i.type_ == what)
    {
        for (k, min) in &item.min {
            match spec.resources.requests.get(k) {
                Some(r) if r < min => out.push(format!(
                    "minimum {k} usage per {what} is {min}, but request is {r}"
                )),
                None => out.push(format!("{k} is required")),
                _ => {}
            }
        }
        for (k, max) in &item.max {
            match spec.resources.requests.get(k) {
                Some(r) if r > max => out.push(format!(
                    "maximum {k} usage per {what} is {max}, but request is {r}"
                )),
                None => out.push(format!("{k} is required")),
                _ => {}
            }
        }
    }
    out
}

/// Admits a claim about to be made: the default class given to one that names none
/// (DefaultStorageClass), then LimitRange bounds and quotas.
pub fn admit_claim(paths: &Paths, obj: &mut Object) -> Result<()> {
    let ns = obj.namespace().to_string();
    if obj.spec.get("storageClassName").is_none() {
        if let Some(class) = super::storage::default_class(paths)? {
            obj.spec["storageClassName"] = serde_json::json!(class);
        }
    }
    let spec: PersistentVolumeClaimSpec = serde_json::from_value(obj.spec.clone())
        .map_err(|e| crate::Error::json("claim spec", e))?;
    let ranges: Vec<LimitRange> = store::list(paths, Kind::LimitRange, Some(&ns))?
        .iter()
        .filter_map(typed)
        .collect();
    let errors = claim_bounds(&ranges, &spec);
    if !errors.is_empty() {
        return Err(forbidden(Kind::PersistentVolumeClaim, obj.name(), errors));
    }
    let demand = claim_demand(&spec);
    for q in quotas(paths, &ns)? {
        let used = usage(
            paths,
            &ns,
            &q,
            Some((Kind::PersistentVolumeClaim, obj.name())),
        )?;
        check_quota(&q, &used, &demand, None)
            .map_err(|m| forbidden(Kind::PersistentVolumeClaim, obj.name(), vec![m]))?;
    }
    Ok(())
}

fn quotas(paths: &Paths, ns: &str) -> Result<Vec<ResourceQuota>> {
    Ok(store::list(paths, Kind::ResourceQuota, Some(ns))?
        .iter()
        .filter_map(typed)
        .collect())
}

fn forbidden(kind: Kind, name: &str, messages: Vec<String>) -> crate::Error {
    let text = if messages.len() == 1 {
        messages[0].clone()
    } else {
        format!("[{}]", messages.join(", "))
    };
    KubeError::Forbidden(format!("{} {name:?} is forbidden: {text}", kind.plural())).into()
}

/// Admits a pod about to be stored: LimitRange defaults written into `obj`'s spec,
/// then the bounds and quotas checked.
pub fn admit_pod(paths: &Paths, obj: &mut Object) -> Result<()> {
    let ns = obj.namespace().to_string();
    let ranges: Vec<LimitRange> = store::list(paths, Kind::LimitRange, Some(&ns))?
        .iter()
        .filter_map(typed)
        .collect();
    let mut spec: PodSpec =
        serde_json::from_value(obj.spec.clone()).map_err(|e| crate::Error::json("pod spec", e))?;
    if !ranges.is_empty() {
        limit_ranges(&ranges, &mut spec).map_err(|m| forbidden(Kind::Pod, obj.name(), m))?;
        obj.spec = serde_json::to_value(&spec).map_err(|e| crate::Error::json("pod spec", e))?;
    }
    let demand = pod_demand(&spec);
    for q in quotas(paths, &ns)? {
        if !in_scope(&q, qos_class(&spec)) {
            continue;
        }
        let used = usage(paths, &ns, &q, Some((Kind::Pod, obj.name())))?;
        check_quota(&q, &used, &demand, Some(&spec))
            .map_err(|m| forbidden(Kind::Pod, obj.name(), vec![m]))?;
    }
    Ok(())
}

/// Admits a counted object (ConfigMap, Secret, PersistentVolumeClaim, Service).
pub fn admit_count(paths: &Paths, kind: Kind, ns: &str, name: &str) -> Result<()> {
    let plural = kind.plural();
    let one: Quantity = "1".parse().unwrap_or_else(|_| Quantity::zero());
    let demand: Amounts = [(plural.to_string(), one), (format!("count/{plural}"), one)].into();
    for q in quotas(paths, ns)? {
        let used = usage(paths, ns, &q, Some((kind, name)))?;
        check_quota(&q, &used, &demand, None).map_err(|m| forbidden(kind, name, vec![m]))?;
    }
    Ok(())
}

/// Writes each quota's `status.hard` and `status.used` as they are now.
pub fn refresh_quota_status(paths: &Paths) -> Result<()> {
    for o in store::list(paths, Kind::ResourceQuota, None)? {
        let Some(q) = typed::<ResourceQuota>(&o) else {
            continue;
        };
        let used = usage(paths, o.namespace(), &q, None)?;
        let used: Amounts = used
            .into_iter()
            .filter(|(k, _)| q.spec.hard.contains_key(k))
            .collect();
        let status = serde_json::json!({"hard": q.spec.hard, "used": used});
        store::write_status(
            paths,
            Kind::ResourceQuota,
            o.namespace(),
            o.name(),
            &o.metadata.uid,
            status,
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kube::api::Container;

    fn amounts(v: &[(&str, &str)]) -> Amounts {
        v.iter()
            .map(|(k, x)| (k.to_string(), x.parse().unwrap()))
            .collect()
    }

    fn range(item: LimitRangeItem) -> LimitRange {
        LimitRange {
            spec: crate::kube::api::config::LimitRangeSpec { limits: vec![item] },
            ..Default::default()
        }
    }

    fn pod(limits: &[(&str, &str)], requests: &[(&str, &str)]) -> PodSpec {
        PodSpec {
            containers: vec![Container {
                name: "main".into(),
                resources: Some(ResourceRequirements {
                    limits: amounts(limits),
                    requests: amounts(requests),
                }),
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    #[test]
    fn limit_range_defaults_then_bounds() {
        let r = range(LimitRangeItem {
            type_: "Container".into(),
            default: amounts(&[("cpu", "500m"), ("memory", "128Mi")]),
            default_request: amounts(&[("cpu", "100m")]),
            max: amounts(&[("cpu", "1")]),
            min: amounts(&[("cpu", "50m")]),
            max_limit_request_ratio: amounts(&[("cpu", "5")]),
        });
        let mut p = pod(&[], &[]);
        limit_ranges(std::slice::from_ref(&r), &mut p).unwrap();
        let res = p.containers[0].resources.clone().unwrap();
        assert_eq!(res.limits, amounts(&[("cpu", "500m"), ("memory", "128Mi")]));
        // defaultRequest for cpu; memory's request defaults to its default limit.
        assert_eq!(
            res.requests,
            amounts(&[("cpu", "100m"), ("memory", "128Mi")])
        );

        for (limits, requests, want) in [
            (&[("cpu", "2")][..], &[("cpu", "1")][..], "maximum cpu usage per Container is 1, but limit is 2"),
            (&[("cpu", "200m")][..], &[("cpu", "40m")][..], "minimum cpu usage per Container is 50m, but request is 40m"),
            (&[("cpu", "1")][..], &[("cpu", "100m")][..], "cpu max limit to request ratio per Container is 5, but provided ratio is 10.000000"),
        ] {
            let mut p = pod(limits, requests);
            let e = limit_ranges(std::slice::from_ref(&r), &mut p).unwrap_err();
            assert_eq!(e, vec![want.to_string()]);
        }
    }

    #[test]
    fn quotas_refuse_with_the_plugins_words() {
        let q = ResourceQuota {
            metadata: crate::kube::api::ObjectMeta {
                name: "compute".into(),
                ..Default::default()
            },
            spec: crate::kube::api::config::ResourceQuotaSpec {
                hard: amounts(&[("pods", "2"), ("requests.cpu", "1")]),
                scopes: vec![],
            },
            ..Default::default()
        };
        let p = pod(&[], &[("cpu", "600m")]);
        let d = pod_demand(&p);
        assert!(check_quota(
            &q,
            &amounts(&[("pods", "0"), ("requests.cpu", "0")]),
            &d,
            Some(&p)
        )
        .is_ok());
        let e = check_quota(
            &q,
            &amounts(&[("pods", "1"), ("requests.cpu", "600m")]),
            &d,
            Some(&p),
        )
        .unwrap_err();
        assert_eq!(
            e,
            "exceeded quota: compute, requested: requests.cpu=600m, used: requests.cpu=600m, limited: requests.cpu=1"
        );
        let e = check_quota(
            &q,
            &amounts(&[("pods", "2")]),
            &pod_demand(&pod(&[], &[("cpu", "1m")])),
            None,
        )
        .unwrap_err();
        assert!(
            e.starts_with(
                "exceeded quota: compute, requested: pods=1, used: pods=2, limited: pods=2"
            ),
            "{e}"
        );
        let bare = pod(&[], &[]);
        let e = check_quota(&q, &Amounts::new(), &pod_demand(&bare), Some(&bare)).unwrap_err();
        assert_eq!(e, "failed quota: compute: must specify requests.cpu");
        let mut best = q.clone();
        best.spec.scopes = vec!["NotBestEffort".into()];
        assert!(!in_scope(&best, QosClass::BestEffort));
    }
}
