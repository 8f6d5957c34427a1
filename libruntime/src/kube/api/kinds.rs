//! The kinds, with the names kubectl accepts for each (singular, plural, short).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Kind {
    Pod,
    ReplicaSet,
    Deployment,
    StatefulSet,
    DaemonSet,
    Job,
    CronJob,
    Service,
    ConfigMap,
    Secret,
    PersistentVolumeClaim,
    PersistentVolume,
    Namespace,
    HorizontalPodAutoscaler,
    Ingress,
    ResourceQuota,
    LimitRange,
    StorageClass,
}

/// (kind, apiVersion, plural, short names)
const TABLE: &[(Kind, &str, &str, &[&str])] = &[
    (Kind::Pod, "v1", "pods", &["po"]),
    (Kind::ReplicaSet, "apps/v1", "replicasets", &["rs"]),
    (Kind::Deployment, "apps/v1", "deployments", &["deploy"]),
    (Kind::StatefulSet, "apps/v1", "statefulsets", &["sts"]),
    (Kind::DaemonSet, "apps/v1", "daemonsets", &["ds"]),
    (Kind::Job, "batch/v1", "jobs", &[]),
    (Kind::CronJob, "batch/v1", "cronjobs", &["cj"]),
    (Kind::Service, "v1", "services", &["svc"]),
    (Kind::ConfigMap, "v1", "configmaps", &["cm"]),
    (Kind::Secret, "v1", "secrets", &[]),
    (
        Kind::PersistentVolumeClaim,
        "v1",
        "persistentvolumeclaims",
        &["pvc"],
    ),
    (Kind::PersistentVolume, "v1", "persistentvolumes", &["pv"]),
    (Kind::Namespace, "v1", "namespaces", &["ns"]),
    (
        Kind::HorizontalPodAutoscaler,
        "autoscaling/v2",
        "horizontalpodautoscalers",
        &["hpa"],
    ),
    (Kind::Ingress, "networking.k8s.io/v1", "ingresses", &["ing"]),
    (Kind::ResourceQuota, "v1", "resourcequotas", &["quota"]),
    (Kind::LimitRange, "v1", "limitranges", &["limits"]),
    (
        Kind::StorageClass,
        "storage.k8s.io/v1",
        "storageclasses",
        &["sc"],
    ),
];

impl Kind {
    fn row(self) -> &'static (Kind, &'static str, &'static str, &'static [&'static str]) {
        TABLE.iter().find(|r| r.0 == self).unwrap_or(&TABLE[0])
    }

    /// As a manifest's `kind:` spells it.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Pod => "Pod",
            Kind::ReplicaSet => "ReplicaSet",
            Kind::Deployment => "Deployment",
            Kind::StatefulSet => "StatefulSet",
            Kind::DaemonSet => "DaemonSet",
            Kind::Job => "Job",
            Kind::CronJob => "CronJob",
            Kind::Service => "Service",
            Kind::ConfigMap => "ConfigMap",
            Kind::Secret => "Secret",
            Kind::PersistentVolumeClaim => "PersistentVolumeClaim",
            Kind::PersistentVolume => "PersistentVolume",
            Kind::Namespace => "Namespace",
            Kind::HorizontalPodAutoscaler => "HorizontalPodAutoscaler",
            Kind::Ingress => "Ingress",
            Kind::ResourceQuota => "ResourceQuota",
            Kind::LimitRange => "LimitRange",
            Kind::StorageClass => "StorageClass",
        }
    }

    pub fn api_version(self) -> &'static str {
        self.row().1
    }

    pub fn plural(self) -> &'static str {
        self.row().2
    }

    /// Whether objects of the kind live in a namespace.
    pub fn namespaced(self) -> bool {
        !matches!(
            self,
            Kind::PersistentVolume | Kind::Namespace | Kind::StorageClass
        )
    }

    /// Whether its fields sit at the top level of the object rather than under
    /// `spec` (ConfigMap and Secret data, a StorageClass's provisioner).
    pub fn fields_at_top(self) -> bool {
        matches!(self, Kind::ConfigMap | Kind::Secret | Kind::StorageClass)
    }

    /// A manifest's `kind:` value.
    pub fn from_manifest(s: &str) -> Option<Kind> {
        TABLE.iter().map(|r| r.0).find(|k| k.name() == s)
    }

    /// What `kube get` takes: the kind, its plural or a short name, in any case.
    pub fn from_cli(s: &str) -> Option<Kind> {
        let s = s.to_ascii_lowercase();
        TABLE
            .iter()
            .find(|(k, _, plural, short)| {
                k.name().to_ascii_lowercase() == s || *plural == s || short.contains(&s.as_str())
            })
            .map(|r| r.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubectl_names() {
        for (cli, kind) in [
            ("po", Kind::Pod),
            ("pods", Kind::Pod),
            ("Pod", Kind::Pod),
            ("deploy", Kind::Deployment),
            ("rs", Kind::ReplicaSet),
            ("sts", Kind::StatefulSet),
            ("ds", Kind::DaemonSet),
            ("job", Kind::Job),
            ("cj", Kind::CronJob),
            ("svc", Kind::Service),
            ("cm", Kind::ConfigMap),
            ("secret", Kind::Secret),
            ("pvc", Kind::PersistentVolumeClaim),
            ("pv", Kind::PersistentVolume),
            ("ns", Kind::Namespace),
            ("hpa", Kind::HorizontalPodAutoscaler),
            ("ing", Kind::Ingress),
            ("sc", Kind::StorageClass),
        ] {
            assert_eq!(Kind::from_cli(cli), Some(kind), "{cli}");
        }
        assert_eq!(Kind::from_cli("widgets"), None);
        assert_eq!(Kind::from_manifest("Deployment"), Some(Kind::Deployment));
        assert_eq!(Kind::Deployment.api_version(), "apps/v1");
        assert!(!Kind::Namespace.namespaced());
    }
}
