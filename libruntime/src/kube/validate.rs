//! `kube play --validate`: every field a manifest has that skiff's API types do not is
//! reported once, with its path, as unknown (a misspelling, or not Kubernetes at all)
//! or as a Kubernetes field skiff does not act on. Strict refuses the whole play.

use serde::de::DeserializeOwned;
use serde_json::Value;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ValidateMode {
    Ignore,
    #[default]
    Warn,
    Strict,
}

impl ValidateMode {
    pub fn parse(s: &str) -> crate::Result<ValidateMode> {
        match s {
            "ignore" => Ok(ValidateMode::Ignore),
            "warn" => Ok(ValidateMode::Warn),
            "strict" => Ok(ValidateMode::Strict),
            _ => Err(crate::Error::InvalidArgument(format!(
                "invalid --validate {s:?}: use ignore, warn or strict"
            ))),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Problem {
    /// Not a field of the Kubernetes API.
    Unknown,
    /// A Kubernetes field skiff does not act on.
    Unsupported,
    /// A kind skiff does not play.
    UnsupportedKind,
}

/// One finding: `Deployment web: spec.template.spec.containers[0].livenesProbe: unknown field`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldIssue {
    pub kind: String,
    pub name: String,
    pub path: String,
    pub problem: Problem,
}

impl std::fmt::Display for FieldIssue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.problem {
            Problem::Unknown => write!(
                f,
                "{} {}: {}: unknown field",
                self.kind, self.name, self.path
            ),
            Problem::Unsupported => write!(
                f,
                "{} {}: {}: not supported by skiff, ignored",
                self.kind, self.name, self.path
            ),
            Problem::UnsupportedKind => {
                write!(
                    f,
                    "{} {}: kind {} is not supported by skiff",
                    self.kind, self.name, self.kind
                )
            }
        }
    }
}

/// Kubernetes fields skiff reads past (the last segment of the path).
const UNSUPPORTED: &[&str] = &[
    // PodSpec
    "affinity",
    "tolerations",
    "nodeSelector",
    "nodeName",
    "serviceAccountName",
    "serviceAccount",
    "automountServiceAccountToken",
    "priorityClassName",
    "priority",
    "schedulerName",
    "dnsConfig",
    "hostAliases",
    "runtimeClassName",
    "topologySpreadConstraints",
    "enableServiceLinks",
    "preemptionPolicy",
    "overhead",
    "readinessGates",
    "ephemeralContainers",
    "activeDeadlineSeconds",
    "os",
    "hostUsers",
    "schedulingGates",
    "resourceClaims",
    "setHostnameAsFQDN",
    // Volume sources
    "ephemeral",
    "nfs",
    "csi",
    "iscsi",
    "gitRepo",
    "cephfs",
    "rbd",
    "fc",
    "awsElasticBlockStore",
    "gcePersistentDisk",
    "azureDisk",
    "azureFile",
    // Container
    "volumeDevices",
    "stdinOnce",
    "resizePolicy",
    "restartPolicy",
    // security contexts
    "seccompProfile",
    "seLinuxOptions",
    "procMount",
    "windowsOptions",
    "appArmorProfile",
    "fsGroup",
    "fsGroupChangePolicy",
    "supplementalGroups",
    "sysctls",
    // probes and handlers
    "terminationGracePeriodSeconds",
    "sleep",
    // metadata
    "managedFields",
    "selfLink",
];

/// kubectl's path form: `containers[0]` rather than serde_ignored's `containers.0`.
fn kubectl_path(raw: &str) -> String {
    let mut out = String::new();
    for seg in raw.split('.') {
        if !seg.is_empty() && seg.chars().all(|c| c.is_ascii_digit()) {
            out.push_str(&format!("[{seg}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(seg);
        }
    }
    out
}

/// Reads `doc` as `T`, with each field `T` does not have reported.
pub fn typed<T: DeserializeOwned>(doc: &Value) -> Result<(T, Vec<(String, Problem)>), String> {
    let mut ignored = Vec::new();
    let t: T = serde_ignored::deserialize(doc.clone(), |p| ignored.push(p.to_string()))
        .map_err(|e| e.to_string())?;
    let issues = ignored
        .into_iter()
        .map(|raw| {
            let path = kubectl_path(&raw);
            let last = path.rsplit('.').next().unwrap_or("");
            let last = last.split('[').next().unwrap_or(last);
            let problem = if UNSUPPORTED.contains(&last) {
                Problem::Unsupported
            } else {
                Problem::Unknown
            };
            (path, problem)
        })
        .collect();
    Ok((t, issues))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kube::api::Pod;

    #[test]
    fn unknown_and_unsupported_fields_with_their_paths() {
        let doc = serde_json::json!({
            "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "labels": {"a.b/c": "d"}},
            "spec": {
                "nodeSelector": {"disk": "ssd"},
                "containers": [
                    {"name": "a", "image": "busybox"},
                    {"name": "b", "image": "busybox", "livenesProbe": {}, "volumeDevices": []}
                ]
            }
        });
        let (pod, mut issues): (Pod, _) = typed(&doc).unwrap();
        issues.sort();
        assert_eq!(pod.spec.containers.len(), 2);
        assert_eq!(
            issues,
            [
                (
                    "spec.containers[1].livenesProbe".to_string(),
                    Problem::Unknown
                ),
                (
                    "spec.containers[1].volumeDevices".to_string(),
                    Problem::Unsupported
                ),
                ("spec.nodeSelector".to_string(), Problem::Unsupported),
            ]
        );
        let shown = FieldIssue {
            kind: "Deployment".into(),
            name: "web".into(),
            path: "spec.template.spec.containers[0].livenesProbe".into(),
            problem: Problem::Unknown,
        }
        .to_string();
        assert_eq!(
            shown,
            "Deployment web: spec.template.spec.containers[0].livenesProbe: unknown field"
        );
        // A wrong type is an error, not an issue.
        assert!(typed::<Pod>(&serde_json::json!({"spec": {"containers": "no"}})).is_err());
    }
}
