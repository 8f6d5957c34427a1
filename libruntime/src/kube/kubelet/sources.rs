//! What a pod's containers read from elsewhere: ConfigMap and Secret keys, and the pod
//! itself (the downward API), as env values, envFrom, and volume files. A source that
//! is missing and not optional is the kubelet's CreateContainerConfigError, with
//! Kubernetes' texts.

use super::atomic_writer::{check_path, Payload};
use crate::kube::api::pod::ResourceRequirements;
use crate::kube::api::volume::{
    ConfigMapVolume, DownwardApiVolume, EnvVarSource, KeyToPath, ObjectFieldSelector,
    ResourceFieldSelector,
};
use crate::kube::api::{Container, Kind, Pod};
use crate::kube::quantity::Quantity;
use crate::kube::store;
use crate::paths::Paths;
use base64::Engine;
use std::collections::BTreeMap;

/// Why a container cannot be made yet (the message of CreateContainerConfigError).
pub type ConfigError = String;

/// The pod's own values the downward API gives.
#[derive(Debug, Clone, Default)]
pub struct PodFacts {
    pub name: String,
    pub namespace: String,
    pub uid: String,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub node_name: String,
    pub pod_ip: String,
    pub host_ip: String,
    /// Each container's requests and limits, by name.
    pub resources: BTreeMap<String, ResourceRequirements>,
    /// What the node has: a limit not set reads as this, as the kubelet gives it.
    pub node: NodeCapacity,
}

/// The node's allocatable cpu, memory and ephemeral storage.
#[derive(Debug, Clone, Default)]
pub struct NodeCapacity {
    pub cpu: Quantity,
    pub memory: Quantity,
    pub ephemeral_storage: Quantity,
}

impl NodeCapacity {
    /// This machine's: its cpus, its memory, the free space of the storage root.
    pub fn of_this_node(root: &std::path::Path) -> NodeCapacity {
        let q = |n: u64| n.to_string().parse().unwrap_or_else(|_| Quantity::zero());
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get() as u64);
        let memory = std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|m| {
                m.lines()
                    .find_map(|l| l.strip_prefix("MemTotal:"))
                    .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            })
            .unwrap_or(0)
            * 1024;
        let disk = nix::sys::statvfs::statvfs(root)
            .map(|v| v.blocks() * v.fragment_size())
            .unwrap_or(0);
        NodeCapacity {
            cpu: q(cpus),
            memory: q(memory),
            ephemeral_storage: q(disk),
        }
    }
}

/// A resourceFieldRef's value for a container with `r`, as the kubelet computes it:
/// a limit not set is the node's, a request not set is its limit's (if set) or 0;
/// cpu divides in millicores and rounds up, memory and storage in bytes.
pub fn resource_value(
    sel: &ResourceFieldSelector,
    r: &ResourceRequirements,
    node: &NodeCapacity,
) -> Result<String, ConfigError> {
    let divisor: Quantity = match sel.divisor.as_deref() {
        None | Some("") => "1".parse().unwrap_or_else(|_| Quantity::zero()),
        Some(d) => d
            .parse()
            .map_err(|_| format!("invalid divisor {d:?} for resource {}", sel.resource))?,
    };
    if divisor.is_zero() {
        return Err(format!(
            "divisor of {} must be greater than zero",
            sel.resource
        ));
    }
    let (field, name) = sel
        .resource
        .split_once('.')
        .ok_or_else(|| format!("unsupported container resource : {}", sel.resource))?;
    let node_value = match name {
        "cpu" => node.cpu,
        "memory" => node.memory,
        "ephemeral-storage" => node.ephemeral_storage,
        _ => return Err(format!("unsupported container resource : {}", sel.resource)),
    };
    let value = match field {
        "limits" => r.limits.get(name).copied().unwrap_or(node_value),
        "requests" => r
            .requests
            .get(name)
            .or(r.limits.get(name))
            .copied()
            .unwrap_or_else(Quantity::zero),
        _ => return Err(format!("unsupported container resource : {}", sel.resource)),
    };
    let n = if name == "cpu" {
        ceil_div(value.milli_value(), divisor.milli_value())
    } else {
        ceil_div(value.value(), divisor.value())
    };
    Ok(n.to_string())
}

fn ceil_div(a: i128, b: i128) -> i128 {
    if b <= 0 {
        return 0;
    }
    (a + b - 1).div_euclid(b)
}

impl PodFacts {
    /// A resourceFieldRef's value; `current` is the container whose env asks.
    pub fn resource(
        &self,
        sel: &ResourceFieldSelector,
        current: Option<&str>,
    ) -> Result<String, ConfigError> {
        let name = sel
            .container_name
            .as_deref()
            .filter(|n| !n.is_empty())
            .or(current)
            .ok_or("resourceFieldRef.containerName: Required value")?;
        let r = self
            .resources
            .get(name)
            .ok_or_else(|| format!("container {name:?} not found in the pod"))?;
        resource_value(sel, r, &self.node)
    }

    /// A fieldRef's value, or why it has none.
    pub fn field(&self, f: &ObjectFieldSelector) -> Result<String, ConfigError> {
        let p = f.field_path.as_str();
        let quoted = |prefix: &str| {
            p.strip_prefix(prefix)
                .and_then(|r| r.strip_prefix("['").or_else(|| r.strip_prefix("[\"")))
                .and_then(|r| r.strip_suffix("']").or_else(|| r.strip_suffix("\"]")))
                .map(String::from)
        };
        Ok(match p {
            "metadata.name" => self.name.clone(),
            "metadata.namespace" => self.namespace.clone(),
            "metadata.uid" => self.uid.clone(),
            "spec.nodeName" => self.node_name.clone(),
            "spec.serviceAccountName" => "default".into(),
            "status.podIP" | "status.podIPs" => self.pod_ip.clone(),
            "status.hostIP" | "status.hostIPs" => self.host_ip.clone(),
            "metadata.labels" => lines(&self.labels),
            "metadata.annotations" => lines(&self.annotations),
            _ => {
                if let Some(k) = quoted("metadata.labels") {
                    self.labels.get(&k).cloned().unwrap_or_default()
                } else if let Some(k) = quoted("metadata.annotations") {
                    self.annotations.get(&k).cloned().unwrap_or_default()
                } else {
                    return Err(format!("unsupported fieldPath: {p}"));
                }
            }
        })
    }
}

/// `key="value"` lines, as the downward API writes a map.
fn lines(m: &BTreeMap<String, String>) -> String {
    m.iter()
        .map(|(k, v)| format!("{k}={v:?}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A ConfigMap's or Secret's keys and bytes, or None when it does not exist.
pub fn data_of(
    paths: &Paths,
    kind: Kind,
    ns: &str,
    name: &str,
) -> crate::Result<Option<BTreeMap<String, Vec<u8>>>> {
    let Some(obj) = store::get(paths, kind, ns, name)? else {
        return Ok(None);
    };
    let b64 = base64::engine::general_purpose::STANDARD;
    // A ConfigMap's data is text and its binaryData base64; a Secret's data is base64.
    let fields: &[(&str, bool)] = if kind == Kind::ConfigMap {
        &[("data", false), ("binaryData", true)]
    } else {
        &[("data", true)]
    };
    let mut out = BTreeMap::new();
    for (field, encoded) in fields {
        for (k, v) in obj.spec[*field].as_object().into_iter().flatten() {
            let s = v.as_str().unwrap_or("");
            let bytes = if *encoded {
                b64.decode(s).unwrap_or_default()
            } else {
                s.as_bytes().to_vec()
            };
            out.insert(k.clone(), bytes);
        }
    }
    Ok(Some(out))
}

fn kind_word(kind: Kind) -> &'static str {
    if kind == Kind::ConfigMap {
        "configmap"
    } else {
        "secret"
    }
}

fn lookup(
    paths: &Paths,
    kind: Kind,
    ns: &str,
    name: &str,
    optional: bool,
) -> Result<Option<BTreeMap<String, Vec<u8>>>, ConfigError> {
    match data_of(paths, kind, ns, name).map_err(|e| e.to_string())? {
        Some(d) => Ok(Some(d)),
        None if optional => Ok(None),
        None => Err(format!("{} {name:?} not found", kind_word(kind))),
    }
}

fn env_value(
    paths: &Paths,
    ns: &str,
    facts: &PodFacts,
    src: &EnvVarSource,
    container: &str,
) -> Result<Option<Vec<u8>>, ConfigError> {
    for (kind, sel) in [
        (Kind::ConfigMap, &src.config_map_key_ref),
        (Kind::Secret, &src.secret_key_ref),
    ] {
        let Some(sel) = sel else { continue };
        let optional = sel.optional == Some(true);
        let Some(data) = lookup(paths, kind, ns, &sel.name, optional)? else {
            return Ok(None);
        };
        return match data.get(&sel.key) {
            Some(v) => Ok(Some(v.clone())),
            None if optional => Ok(None),
            None => Err(format!(
                "couldn't find key {} in {} {ns}/{}",
                sel.key,
                kind.name(),
                sel.name
            )),
        };
    }
    if let Some(f) = &src.field_ref {
        return facts.field(f).map(|v| Some(v.into_bytes()));
    }
    if let Some(r) = &src.resource_field_ref {
        return facts
            .resource(r, Some(container))
            .map(|v| Some(v.into_bytes()));
    }
    Ok(None)
}

/// A container's environment: plain values, and the values read from Secrets, which
/// reach the container through skiff's secret store so that no record, `inspect` or
/// event ever holds them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResolvedEnv {
    pub plain: Vec<String>,
    pub secret: Vec<(String, Vec<u8>)>,
}

impl ResolvedEnv {
    fn set(&mut self, name: String, value: Vec<u8>, from_secret: bool) {
        self.plain
            .retain(|e| e.split_once('=').map(|(k, _)| k) != Some(name.as_str()));
        self.secret.retain(|(k, _)| *k != name);
        if from_secret {
            self.secret.push((name, value));
        } else {
            self.plain
                .push(format!("{name}={}", String::from_utf8_lossy(&value)));
        }
    }
}

/// The container's environment from env and envFrom: envFrom first, env over it, as
/// the kubelet orders them.
pub fn env_of(
    paths: &Paths,
    ns: &str,
    facts: &PodFacts,
    c: &Container,
) -> Result<ResolvedEnv, ConfigError> {
    let mut out = ResolvedEnv::default();
    for from in &c.env_from {
        for (kind, r) in [
            (Kind::ConfigMap, &from.config_map_ref),
            (Kind::Secret, &from.secret_ref),
        ] {
            let Some(r) = r else { continue };
            let Some(data) = lookup(paths, kind, ns, &r.name, r.optional == Some(true))? else {
                continue;
            };
            for (k, v) in data {
                let name = format!("{}{k}", from.prefix.as_deref().unwrap_or(""));
                // Names an environment cannot hold are skipped, as the kubelet does.
                if name.is_empty() || name.contains('=') {
                    continue;
                }
                out.set(name, v, kind == Kind::Secret);
            }
        }
    }
    for e in &c.env {
        let from_secret = e
            .value_from
            .as_ref()
            .is_some_and(|s| s.secret_key_ref.is_some());
        let value = match &e.value_from {
            Some(src) => match env_value(paths, ns, facts, src, &c.name)? {
                Some(v) => v,
                None => continue,
            },
            None => e.value.clone().unwrap_or_default().into_bytes(),
        };
        out.set(e.name.clone(), value, from_secret);
    }
    Ok(out)
}

/// The files of a ConfigMap- or Secret-backed volume: every key, or the items asked.
fn keyed_files(
    data: &BTreeMap<String, Vec<u8>>,
    items: &[KeyToPath],
    mode: u32,
    optional: bool,
    kind: Kind,
) -> Result<Payload, ConfigError> {
    let mut out = Payload::new();
    if items.is_empty() {
        for (k, v) in data {
            out.insert(k.clone(), (v.clone(), mode));
        }
        return Ok(out);
    }
    for i in items {
        check_path(&i.path)?;
        match data.get(&i.key) {
            Some(v) => {
                out.insert(i.path.clone(), (v.clone(), i.mode.unwrap_or(mode)));
            }
            None if optional => {}
            // The kubelet's texts.
            None if kind == Kind::Secret => {
                return Err(format!(
                    "secret references non-existent secret key: {}",
                    i.key
                ))
            }
            None => {
                return Err(format!(
                    "configmap references non-existent config key: {}",
                    i.key
                ))
            }
        }
    }
    Ok(out)
}

fn downward_files(
    facts: &PodFacts,
    d: &DownwardApiVolume,
    mode: u32,
) -> Result<Payload, ConfigError> {
    let mut out = Payload::new();
    for i in &d.items {
        check_path(&i.path)?;
        let value = match (&i.field_ref, &i.resource_field_ref) {
            (Some(f), _) => facts.field(f)?,
            (None, Some(r)) => facts.resource(r, None)?,
            (None, None) => continue,
        };
        out.insert(i.path.clone(), (value.into_bytes(), i.mode.unwrap_or(mode)));
    }
    Ok(out)
}

fn config_source(
    paths: &Paths,
    ns: &str,
    kind: Kind,
    v: &ConfigMapVolume,
    mode: u32,
) -> Result<Payload, ConfigError> {
    let optional = v.optional == Some(true);
    match lookup(paths, kind, ns, &v.name, optional)? {
        Some(data) => keyed_files(
            &data,
            &v.items,
            v.default_mode.unwrap_or(mode),
            optional,
            kind,
        ),
        None => Ok(Payload::new()),
    }
}

/// The files of every ConfigMap, Secret, downwardAPI or projected volume of the pod.
pub fn volume_payloads(
    paths: &Paths,
    ns: &str,
    facts: &PodFacts,
    pod: &Pod,
) -> Result<BTreeMap<String, Payload>, ConfigError> {
    const DEFAULT_MODE: u32 = 0o644;
    let mut out = BTreeMap::new();
    for v in &pod.spec.volumes {
        let payload = if let Some(cm) = &v.config_map {
            config_source(paths, ns, Kind::ConfigMap, cm, DEFAULT_MODE)?
        } else if let Some(s) = &v.secret {
            let as_cm = ConfigMapVolume {
                name: s.secret_name.clone(),
                items: s.items.clone(),
                default_mode: s.default_mode,
                optional: s.optional,
            };
            config_source(paths, ns, Kind::Secret, &as_cm, DEFAULT_MODE)?
        } else if let Some(d) = &v.downward_api {
            downward_files(facts, d, d.default_mode.unwrap_or(DEFAULT_MODE))?
        } else if let Some(p) = &v.projected {
            let mode = p.default_mode.unwrap_or(DEFAULT_MODE);
            let mut all = Payload::new();
            for s in &p.sources {
                if let Some(cm) = &s.config_map {
                    all.extend(config_source(paths, ns, Kind::ConfigMap, cm, mode)?);
                }
                if let Some(sec) = &s.secret {
                    all.extend(config_source(paths, ns, Kind::Secret, sec, mode)?);
                }
                if let Some(d) = &s.downward_api {
                    all.extend(downward_files(facts, d, mode)?);
                }
            }
            all
        } else {
            continue;
        };
        out.insert(v.name.clone(), payload);
    }
    Ok(out)
}

/// Whether the container reads the pod's address (so the sandbox must be up first).
pub fn wants_pod_ip(c: &Container) -> bool {
    c.env.iter().any(|e| {
        e.value_from
            .as_ref()
            .and_then(|s| s.field_ref.as_ref())
            .is_some_and(|f| f.field_path.starts_with("status.podIP"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_field_refs_as_the_kubelet_computes_them() {
        let q = |s: &str| -> Quantity { s.parse().unwrap() };
        let r = ResourceRequirements {
            limits: [
                ("cpu".to_string(), q("1500m")),
                ("memory".to_string(), q("128Mi")),
            ]
            .into(),
            requests: [("cpu".to_string(), q("250m"))].into(),
        };
        let node = NodeCapacity {
            cpu: q("4"),
            memory: q("8Gi"),
            ephemeral_storage: q("100Gi"),
        };
        let sel = |resource: &str, divisor: Option<&str>| ResourceFieldSelector {
            container_name: None,
            resource: resource.into(),
            divisor: divisor.map(String::from),
        };
        for (resource, divisor, want) in [
            ("limits.cpu", None, "2"),
            ("limits.cpu", Some("1m"), "1500"),
            ("requests.cpu", Some("1m"), "250"),
            ("requests.cpu", None, "1"),
            ("limits.memory", None, "134217728"),
            ("limits.memory", Some("1Mi"), "128"),
            // No memory request: the limit's.
            ("requests.memory", Some("1Mi"), "128"),
            // No storage limit: the node's.
            ("limits.ephemeral-storage", Some("1Gi"), "100"),
            ("requests.ephemeral-storage", None, "0"),
        ] {
            assert_eq!(
                resource_value(&sel(resource, divisor), &r, &node).unwrap(),
                want,
                "{resource} / {divisor:?}"
            );
        }
        let empty = ResourceRequirements::default();
        assert_eq!(
            resource_value(&sel("limits.cpu", Some("1m")), &empty, &node).unwrap(),
            "4000"
        );
        assert!(resource_value(&sel("limits.gpu", None), &r, &node).is_err());
        assert!(resource_value(&sel("limits.cpu", Some("0")), &r, &node).is_err());
    }

    #[test]
    fn downward_fields_as_the_api_names_them() {
        let facts = PodFacts {
            name: "web".into(),
            namespace: "prod".into(),
            uid: "u-1".into(),
            labels: [
                ("app".to_string(), "web".to_string()),
                ("tier".to_string(), "front".to_string()),
            ]
            .into(),
            annotations: [("note".to_string(), "hi".to_string())].into(),
            node_name: "node".into(),
            pod_ip: "10.0.0.2".into(),
            host_ip: "127.0.0.1".into(),
            ..Default::default()
        };
        let f = |p: &str| {
            facts.field(&ObjectFieldSelector {
                field_path: p.into(),
                api_version: None,
            })
        };
        for (path, want) in [
            ("metadata.name", "web"),
            ("metadata.namespace", "prod"),
            ("metadata.uid", "u-1"),
            ("metadata.labels['app']", "web"),
            ("metadata.annotations['note']", "hi"),
            ("metadata.labels", "app=\"web\"\ntier=\"front\""),
            ("spec.nodeName", "node"),
            ("status.podIP", "10.0.0.2"),
            ("status.hostIP", "127.0.0.1"),
        ] {
            assert_eq!(f(path).unwrap(), want, "{path}");
        }
        assert!(f("spec.nope")
            .unwrap_err()
            .contains("unsupported fieldPath"));
    }

    #[test]
    fn items_pick_keys_and_modes_and_refuse_escapes() {
        let data: BTreeMap<String, Vec<u8>> = [
            ("a".to_string(), b"1".to_vec()),
            ("b".to_string(), b"2".to_vec()),
        ]
        .into();
        let all = keyed_files(&data, &[], 0o644, false, Kind::ConfigMap).unwrap();
        assert_eq!(all.len(), 2);
        let items = [KeyToPath {
            key: "b".into(),
            path: "dir/b.txt".into(),
            mode: Some(0o400),
        }];
        let some = keyed_files(&data, &items, 0o644, false, Kind::ConfigMap).unwrap();
        assert_eq!(some.get("dir/b.txt"), Some(&(b"2".to_vec(), 0o400)));
        let missing = [KeyToPath {
            key: "zz".into(),
            path: "z".into(),
            mode: None,
        }];
        assert!(keyed_files(&data, &missing, 0o644, false, Kind::ConfigMap).is_err());
        assert!(keyed_files(&data, &missing, 0o644, true, Kind::ConfigMap)
            .unwrap()
            .is_empty());
        let escape = [KeyToPath {
            key: "a".into(),
            path: "../../etc/x".into(),
            mode: None,
        }];
        assert!(keyed_files(&data, &escape, 0o644, false, Kind::ConfigMap).is_err());
    }
}
