//! Container requests and limits as the kubelet applies them: a pod's QoS class,
//! cgroup values (cpu limit → CFS quota, cpu request → shares, memory limit → the
//! memory limit) and oom_score_adj. Pure functions, table-tested.

use super::api::pod::ResourceRequirements;
use super::api::{Container, PodSpec};
use super::quantity::Quantity;
use crate::cgroups::Resources;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QosClass {
    Guaranteed,
    Burstable,
    BestEffort,
}

impl QosClass {
    pub fn as_str(self) -> &'static str {
        match self {
            QosClass::Guaranteed => "Guaranteed",
            QosClass::Burstable => "Burstable",
            QosClass::BestEffort => "BestEffort",
        }
    }
}

const CPU: &str = "cpu";
const MEMORY: &str = "memory";
/// The CFS period the kubelet uses, and the smallest quota it sets.
const CFS_PERIOD_US: i64 = 100_000;
const MIN_QUOTA_US: i64 = 1_000;
const MIN_SHARES: u64 = 2;

/// A request, defaulted to the limit when only the limit is given (the API server's
/// defaulting).
pub fn request(r: &ResourceRequirements, name: &str) -> Option<Quantity> {
    r.requests.get(name).or_else(|| r.limits.get(name)).copied()
}

/// The pod's QoS class, by Kubernetes' rule over cpu and memory of every container.
pub fn qos_class(spec: &PodSpec) -> QosClass {
    let all: Vec<&Container> = spec
        .init_containers
        .iter()
        .chain(&spec.containers)
        .collect();
    let res = |c: &Container| c.resources.clone().unwrap_or_default();
    let any = all.iter().any(|c| {
        let r = res(c);
        [CPU, MEMORY].iter().any(|n| {
            r.requests.get(*n).is_some_and(|q| !q.is_zero())
                || r.limits.get(*n).is_some_and(|q| !q.is_zero())
        })
    });
    if !any {
        return QosClass::BestEffort;
    }
    let guaranteed = all.iter().all(|c| {
        let r = res(c);
        [CPU, MEMORY]
            .iter()
            .all(|n| match (r.limits.get(*n), request(&r, n)) {
                (Some(l), Some(q)) => *l == q && !l.is_zero(),
                _ => false,
            })
    });
    if guaranteed {
        QosClass::Guaranteed
    } else {
        QosClass::Burstable
    }
}

/// The cgroup values of one container.
pub fn cgroup_resources(c: &Container) -> Resources {
    let r = c.resources.clone().unwrap_or_default();
    let mut out = Resources::default();
    if let Some(limit) = r.limits.get(CPU) {
        let quota = (limit.milli_value() as i64 * CFS_PERIOD_US) / 1000;
        out.cpu_period = Some(CFS_PERIOD_US as u64);
        out.cpu_quota = Some(quota.max(MIN_QUOTA_US));
    }
    let shares = request(&r, CPU).map_or(MIN_SHARES, |q| {
        ((q.milli_value() as u64) * 1024 / 1000).max(MIN_SHARES)
    });
    out.cpu_shares = Some(shares);
    if let Some(limit) = r.limits.get(MEMORY) {
        out.memory = Some(limit.value().max(0) as u64);
    }
    out
}

/// The kubelet's oom_score_adj for a container of a pod of `qos`.
pub fn oom_score_adj(
    qos: QosClass,
    memory_request: Option<&Quantity>,
    memory_capacity: u64,
) -> i32 {
    match qos {
        QosClass::Guaranteed => -997,
        QosClass::BestEffort => 1000,
        QosClass::Burstable => {
            let req = memory_request.map_or(0, |q| q.value().max(0) as u64);
            let cap = memory_capacity.max(1);
            let adj = 1000 - ((1000 * req as u128) / cap as u128) as i64;
            if adj < 3 {
                3
            } else if adj >= 1000 {
                999
            } else {
                adj as i32
            }
        }
    }
}

/// The machine's memory, for oom_score_adj (MemTotal).
pub fn memory_capacity() -> u64 {
    crate::container::stats::mem_total(
        &std::fs::read_to_string("/proc/meminfo").unwrap_or_default(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn q(s: &str) -> Quantity {
        s.parse().unwrap()
    }

    fn container(limits: &[(&str, &str)], requests: &[(&str, &str)]) -> Container {
        let map = |v: &[(&str, &str)]| -> BTreeMap<String, Quantity> {
            v.iter().map(|(k, x)| (k.to_string(), q(x))).collect()
        };
        Container {
            name: "c".into(),
            resources: Some(ResourceRequirements {
                limits: map(limits),
                requests: map(requests),
            }),
            ..Default::default()
        }
    }

    fn pod(cs: Vec<Container>) -> PodSpec {
        PodSpec {
            containers: cs,
            ..Default::default()
        }
    }

    #[test]
    fn qos_classes_by_kubernetes_rule() {
        use QosClass::*;
        for (cs, want) in [
            (vec![container(&[], &[])], BestEffort),
            (
                vec![container(&[("cpu", "1"), ("memory", "1Gi")], &[])],
                Guaranteed,
            ),
            (
                vec![container(
                    &[("cpu", "1"), ("memory", "1Gi")],
                    &[("cpu", "1"), ("memory", "1Gi")],
                )],
                Guaranteed,
            ),
            (
                vec![container(
                    &[("cpu", "1"), ("memory", "1Gi")],
                    &[("cpu", "500m")],
                )],
                Burstable,
            ),
            (vec![container(&[("cpu", "1")], &[])], Burstable),
            (vec![container(&[], &[("memory", "10Mi")])], Burstable),
            (
                vec![
                    container(&[("cpu", "1"), ("memory", "1Gi")], &[]),
                    container(&[], &[]),
                ],
                Burstable,
            ),
        ] {
            assert_eq!(qos_class(&pod(cs.clone())), want, "{cs:?}");
        }
    }

    #[test]
    fn cgroup_values_as_the_kubelet_sets_them() {
        let r = cgroup_resources(&container(
            &[("cpu", "500m"), ("memory", "128Mi")],
            &[("cpu", "250m")],
        ));
        assert_eq!((r.cpu_quota, r.cpu_period), (Some(50_000), Some(100_000)));
        assert_eq!(r.cpu_shares, Some(256));
        assert_eq!(r.memory, Some(128 << 20));
        let tiny = cgroup_resources(&container(&[("cpu", "1m")], &[]));
        assert_eq!(tiny.cpu_quota, Some(1_000));
        assert_eq!(tiny.cpu_shares, Some(2));
        let none = cgroup_resources(&container(&[], &[]));
        assert_eq!(
            (none.cpu_quota, none.memory, none.cpu_shares),
            (None, None, Some(2))
        );
    }

    #[test]
    fn oom_score_adj_by_class_and_request() {
        let cap = 1000 << 20;
        assert_eq!(oom_score_adj(QosClass::Guaranteed, None, cap), -997);
        assert_eq!(oom_score_adj(QosClass::BestEffort, None, cap), 1000);
        assert_eq!(
            oom_score_adj(QosClass::Burstable, Some(&q("500Mi")), cap),
            500
        );
        assert_eq!(
            oom_score_adj(QosClass::Burstable, Some(&q("999Mi")), cap),
            3
        );
        assert_eq!(oom_score_adj(QosClass::Burstable, None, cap), 999);
    }
}
