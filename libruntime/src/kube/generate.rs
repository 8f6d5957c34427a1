//! `kube generate`: Kubernetes YAML from skiff's containers and pods, written from the
//! typed API structs so that what comes out is what `kube play` reads back. Only what
//! differs from the image is written (command, args, env, working directory), as
//! podman does, so the YAML stays short and moves with the image.

use super::api::meta::{IntOrString, ObjectMeta};
use super::api::pod::{
    Capabilities, ContainerPort, EnvVar, ExecAction, GrpcAction, HttpGetAction, HttpHeader,
    SecurityContext, TcpSocketAction,
};
use super::api::workloads::{DaemonSetSpec, DeploymentSpec, JobSpec, StatefulSetSpec};
use super::api::{
    Container, DaemonSet, Deployment, Job, Kind, LabelSelector, Pod, PodSpec, PodTemplateSpec,
    Probe, RestartPolicy, Service, ServicePort, ServiceSpec, ServiceType, StatefulSet,
};
use crate::container::health::{HealthConfig, HealthTest};
use crate::container::ContainerRecord;
use crate::error::{Error, Result};
use crate::network::mode::NetworkMode;
use crate::network::ports::PortMapping;
use crate::probe::{NetProbe, Scheme};
use crate::store::Store;
use serde::Serialize;
use std::collections::BTreeMap;
use std::str::FromStr;

/// `--type`: the kind of workload the pod is wrapped in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum WorkloadType {
    #[default]
    Pod,
    Deployment,
    StatefulSet,
    DaemonSet,
    Job,
}

impl FromStr for WorkloadType {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s {
            "pod" => WorkloadType::Pod,
            "deployment" => WorkloadType::Deployment,
            "statefulset" => WorkloadType::StatefulSet,
            "daemonset" => WorkloadType::DaemonSet,
            "job" => WorkloadType::Job,
            other => {
                return Err(Error::InvalidArgument(format!(
                    "invalid type {other:?}: use pod, deployment, statefulset, daemonset or job"
                )))
            }
        })
    }
}

#[derive(Debug, Clone, Default)]
pub struct GenerateOptions {
    pub workload: WorkloadType,
    /// Replicas of a Deployment or StatefulSet (1 when not given).
    pub replicas: Option<i64>,
    /// Also write a Service selecting the pod.
    pub service: bool,
}

/// One pod to write: a skiff pod with its members, or loose containers put together.
#[derive(Debug, Clone)]
pub struct Subject {
    pub name: String,
    pub containers: Vec<ContainerRecord>,
    /// Host ports published for the whole pod (a skiff pod publishes on its infra).
    pub published: Vec<PortMapping>,
    pub hostname: Option<String>,
}

impl Subject {
    /// Loose containers become one pod named after the first, `<name>-pod` as podman.
    pub fn from_containers(containers: Vec<ContainerRecord>) -> Subject {
        let name = format!(
            "{}-pod",
            containers.first().map_or("skiff", |c| c.name.as_str())
        );
        Subject {
            name,
            published: Vec::new(),
            hostname: None,
            containers,
        }
    }

    pub fn from_pod(pod: &crate::pod::Pod) -> Result<Subject> {
        let infra = pod.infra()?;
        let mut containers = pod.members()?;
        containers.sort_by(|a, b| a.created.cmp(&b.created));
        Ok(Subject {
            name: pod.record.name.clone(),
            containers,
            published: infra.map(|i| i.config.ports).unwrap_or_default(),
            hostname: Some(pod.record.hostname.clone()).filter(|h| !h.is_empty()),
        })
    }
}

/// One document of the output.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Document {
    Pod(Pod),
    Deployment(Deployment),
    StatefulSet(StatefulSet),
    DaemonSet(DaemonSet),
    Job(Job),
    Service(Service),
}

/// The documents for `subjects`, each pod (or workload) followed by its Service.
pub fn generate(
    store: &Store,
    subjects: &[Subject],
    opts: &GenerateOptions,
) -> Result<Vec<Document>> {
    if opts.replicas.is_some()
        && !matches!(
            opts.workload,
            WorkloadType::Deployment | WorkloadType::StatefulSet
        )
    {
        return Err(Error::InvalidArgument(
            "--replicas is only used with --type deployment or statefulset".into(),
        ));
    }
    if opts.replicas.is_some_and(|r| r < 0) {
        return Err(Error::InvalidArgument(
            "--replicas must not be negative".into(),
        ));
    }
    let mut docs = Vec::new();
    for s in subjects {
        let name = dns_subdomain(&s.name);
        let labels = BTreeMap::from([("app".to_string(), dns_label(&s.name))]);
        let spec = pod_spec(store, s, opts.workload)?;
        docs.push(workload(&name, &labels, spec.clone(), opts));
        if opts.service {
            docs.push(Document::Service(service(&name, &labels, &spec)));
        }
    }
    Ok(docs)
}

/// The documents as YAML, `---` between them, under podman's kind of header.
pub fn to_yaml(docs: &[Document]) -> Result<String> {
    let mut out = format!(
        "# Save the output of this file and use kubectl create -f to import it into Kubernetes.\n#\n# Created with skiff-{}\n",
        env!("CARGO_PKG_VERSION")
    );
    for d in docs {
        out.push_str("---\n");
        out.push_str(
            &serde_norway::to_string(d)
                .map_err(|e| Error::InvalidArgument(format!("writing YAML: {e}")))?,
        );
    }
    Ok(out)
}

fn meta(name: &str, labels: &BTreeMap<String, String>) -> ObjectMeta {
    ObjectMeta {
        name: name.into(),
        labels: labels.clone(),
        ..Default::default()
    }
}

fn workload(
    name: &str,
    labels: &BTreeMap<String, String>,
    mut spec: PodSpec,
    opts: &GenerateOptions,
) -> Document {
    let selector = LabelSelector {
        match_labels: labels.clone(),
        ..Default::default()
    };
    let mut template = PodTemplateSpec {
        metadata: ObjectMeta {
            labels: labels.clone(),
            ..Default::default()
        },
        spec: spec.clone(),
    };
    let typed = |kind: Kind| (kind.api_version().to_string(), kind.name().to_string());
    match opts.workload {
        WorkloadType::Pod => {
            let (api_version, kind) = typed(Kind::Pod);
            Document::Pod(Pod {
                api_version,
                kind,
                metadata: meta(name, labels),
                spec,
                status: None,
            })
        }
        WorkloadType::Deployment => {
            // Controllers' pods always restart; that is the only policy they allow.
            template.spec.restart_policy = RestartPolicy::Always;
            let (api_version, kind) = typed(Kind::Deployment);
            Document::Deployment(Deployment {
                api_version,
                kind,
                metadata: meta(&format!("{name}-deployment"), labels),
                spec: DeploymentSpec {
                    replicas: Some(opts.replicas.unwrap_or(1)),
                    selector,
                    template,
                    ..Default::default()
                },
                status: None,
            })
        }
        WorkloadType::StatefulSet => {
            template.spec.restart_policy = RestartPolicy::Always;
            let (api_version, kind) = typed(Kind::StatefulSet);
            Document::StatefulSet(StatefulSet {
                api_version,
                kind,
                metadata: meta(name, labels),
                spec: StatefulSetSpec {
                    replicas: Some(opts.replicas.unwrap_or(1)),
                    selector,
                    template,
                    service_name: Some(name.into()),
                    ..Default::default()
                },
                status: None,
            })
        }
        WorkloadType::DaemonSet => {
            template.spec.restart_policy = RestartPolicy::Always;
            let (api_version, kind) = typed(Kind::DaemonSet);
            Document::DaemonSet(DaemonSet {
                api_version,
                kind,
                metadata: meta(&format!("{name}-daemonset"), labels),
                spec: DaemonSetSpec {
                    selector,
                    template,
                    ..Default::default()
                },
                status: None,
            })
        }
        WorkloadType::Job => {
            // A Job's pods may not restart Always: a container that restarts on its
            // own becomes OnFailure, one that does not, Never.
            spec.restart_policy = match spec.restart_policy {
                RestartPolicy::Always | RestartPolicy::OnFailure => RestartPolicy::OnFailure,
                RestartPolicy::Never => RestartPolicy::Never,
            };
            template.spec = spec;
            let (api_version, kind) = typed(Kind::Job);
            Document::Job(Job {
                api_version,
                kind,
                metadata: meta(&format!("{name}-job"), labels),
                spec: JobSpec {
                    template,
                    ..Default::default()
                },
                status: None,
            })
        }
    }
}

/// A Service selecting the pod, a port per container port; NodePort when the pod
/// publishes host ports (the cluster picks the node port), ClusterIP otherwise.
fn service(name: &str, labels: &BTreeMap<String, String>, spec: &PodSpec) -> Service {
    let ports: Vec<(&ContainerPort, bool)> = spec
        .containers
        .iter()
        .flat_map(|c| c.ports.iter())
        .map(|p| (p, p.host_port.is_some()))
        .collect();
    let published = ports.iter().any(|(_, h)| *h);
    Service {
        api_version: Kind::Service.api_version().into(),
        kind: Kind::Service.name().into(),
        metadata: meta(name, labels),
        spec: ServiceSpec {
            type_: Some(if published {
                ServiceType::NodePort
            } else {
                ServiceType::ClusterIP
            }),
            selector: labels.clone(),
            ports: ports
                .iter()
                .map(|(p, _)| ServicePort {
                    name: Some(format!(
                        "{}-{}",
                        p.container_port,
                        p.protocol.as_deref().unwrap_or("TCP").to_lowercase()
                    )),
                    port: p.container_port,
                    target_port: Some(IntOrString::Int(p.container_port)),
                    protocol: p.protocol.clone(),
                    node_port: None,
                })
                .collect(),
        },
    }
}

fn pod_spec(store: &Store, s: &Subject, workload: WorkloadType) -> Result<PodSpec> {
    if s.containers.is_empty() {
        return Err(Error::InvalidArgument(format!(
            "pod {} has no containers to generate YAML from",
            s.name
        )));
    }
    let mut containers: Vec<Container> = s.containers.iter().map(|r| container(store, r)).collect();
    // The pod's published ports go to the container that exposes them, else the first.
    let mut published: Vec<PortMapping> = s.published.clone();
    for r in &s.containers {
        published.extend(r.config.ports.iter().cloned());
    }
    for p in published {
        let port = ContainerPort {
            container_port: p.container_port.into(),
            host_port: Some(p.host_port.into()),
            host_ip: Some(p.host_ip.clone())
                .filter(|h| !h.is_empty() && h != "0.0.0.0" && h != "::"),
            name: None,
            protocol: Some(p.protocol.to_uppercase()),
        };
        if !containers.iter().any(|c| c.ports.contains(&port)) {
            containers[0].ports.push(port);
        }
    }
    let first = &s.containers[0].config;
    let restart_policy = match first.restart.name.as_str() {
        "always" | "unless-stopped" => RestartPolicy::Always,
        "on-failure" => RestartPolicy::OnFailure,
        _ if workload == WorkloadType::Pod => RestartPolicy::Never,
        _ => RestartPolicy::Always,
    };
    // The stop timeout is the grace period the container had; Kubernetes' default is 30.
    let grace = s.containers.iter().map(|r| r.config.stop_timeout).max();
    Ok(PodSpec {
        containers,
        restart_policy,
        termination_grace_period_seconds: grace.filter(|g| *g != 30).map(i64::from),
        host_network: first.network == NetworkMode::Host,
        hostname: s.hostname.as_deref().map(dns_label),
        ..Default::default()
    })
}

/// What the image would do by itself, to leave out of the YAML.
#[derive(Default)]
struct ImageDefaults {
    entrypoint: Vec<String>,
    cmd: Vec<String>,
    env: Vec<String>,
    workdir: String,
}

fn image_defaults(store: &Store, r: &ContainerRecord) -> ImageDefaults {
    let Some(cfg) = store
        .find_image(&r.image_id)
        .and_then(|i| store.image_config(&i))
        .ok()
        .and_then(|c| c.config().clone())
    else {
        return ImageDefaults::default();
    };
    ImageDefaults {
        entrypoint: cfg.entrypoint().clone().unwrap_or_default(),
        cmd: cfg.cmd().clone().unwrap_or_default(),
        env: cfg.env().clone().unwrap_or_default(),
        workdir: cfg.working_dir().clone().unwrap_or_default(),
    }
}

fn container(store: &Store, r: &ContainerRecord) -> Container {
    let c = &r.config;
    let image = image_defaults(store, r);
    // Kubernetes' command replaces the entrypoint and drops the image's CMD; args
    // replaces the CMD alone.
    let (command, args) = if c.entrypoint != image.entrypoint {
        (c.entrypoint.clone(), c.cmd.clone())
    } else if c.cmd != image.cmd {
        (Vec::new(), c.cmd.clone())
    } else {
        (Vec::new(), Vec::new())
    };
    let env = c
        .env
        .iter()
        .filter(|e| !image.env.contains(e) && !crate::container::create::is_runtime_default_env(e))
        .filter_map(|e| e.split_once('='))
        .map(|(k, v)| EnvVar {
            name: k.into(),
            value: Some(v.into()),
            value_from: None,
        })
        .collect();
    let working_dir =
        Some(c.workdir.clone()).filter(|w| !w.is_empty() && *w != image.workdir && w != "/");
    Container {
        name: dns_label(&r.name),
        image: if r.image_name.is_empty() {
            r.image_id.clone()
        } else {
            r.image_name.clone()
        },
        command,
        args,
        working_dir,
        env,
        security_context: security_context(r),
        liveness_probe: c.health.as_ref().map(liveness),
        startup_probe: c
            .health
            .as_ref()
            .and_then(|h| h.startup.as_ref())
            .map(|s| Probe {
                period_seconds: Some(seconds(s.interval_ms)),
                timeout_seconds: Some(seconds(s.timeout_ms)),
                failure_threshold: Some(i64::from(s.retries.max(1))),
                ..action(&s.test)
            }),
        stdin: c.stdin,
        tty: c.tty,
        ..Default::default()
    }
}

fn security_context(r: &ContainerRecord) -> Option<SecurityContext> {
    let c = &r.config;
    let (user, group) = c.user.split_once(':').unwrap_or((&c.user, ""));
    let sc = SecurityContext {
        run_as_user: user.parse().ok(),
        run_as_group: group.parse().ok(),
        capabilities: Some(Capabilities {
            add: c.cap_add.iter().map(|s| cap_name(s)).collect(),
            drop: c.cap_drop.iter().map(|s| cap_name(s)).collect(),
        })
        .filter(|caps| !caps.add.is_empty() || !caps.drop.is_empty()),
        read_only_root_filesystem: c.read_only.then_some(true),
        privileged: c.privileged.then_some(true),
        ..Default::default()
    };
    (sc != SecurityContext::default()).then_some(sc)
}

/// Kubernetes names capabilities without the CAP_ prefix.
fn cap_name(s: &str) -> String {
    let up = s.to_uppercase();
    up.strip_prefix("CAP_").unwrap_or(&up).to_string()
}

/// Whole seconds, at least one (Kubernetes' periods and timeouts).
fn seconds(ms: u64) -> i64 {
    (ms / 1000).max(1) as i64
}

fn liveness(h: &HealthConfig) -> Probe {
    Probe {
        initial_delay_seconds: Some((h.start_period_ms / 1000) as i64).filter(|s| *s > 0),
        period_seconds: Some(seconds(h.interval_ms)),
        timeout_seconds: Some(seconds(h.timeout_ms)),
        failure_threshold: Some(i64::from(h.retries.max(1))),
        ..action(&h.test)
    }
}

fn action(t: &HealthTest) -> Probe {
    let mut p = Probe::default();
    match t {
        HealthTest::Shell(_) | HealthTest::Exec(_) => {
            p.exec = Some(ExecAction {
                command: t.argv().unwrap_or_default(),
            })
        }
        HealthTest::Net(NetProbe::HttpGet(h)) => {
            p.http_get = Some(HttpGetAction {
                path: Some(h.path.clone()),
                port: IntOrString::Int(h.port.into()),
                host: h.host.clone(),
                scheme: Some(match h.scheme {
                    Scheme::Http => "HTTP".into(),
                    Scheme::Https => "HTTPS".into(),
                }),
                http_headers: h
                    .headers
                    .iter()
                    .map(|(name, value)| HttpHeader {
                        name: name.clone(),
                        value: value.clone(),
                    })
                    .collect(),
            })
        }
        HealthTest::Net(NetProbe::TcpSocket(t)) => {
            p.tcp_socket = Some(TcpSocketAction {
                port: IntOrString::Int(t.port.into()),
                host: t.host.clone(),
            })
        }
        HealthTest::Net(NetProbe::Grpc(g)) => {
            p.grpc = Some(GrpcAction {
                port: g.port.into(),
                service: g.service.clone(),
            })
        }
    }
    p
}

/// A DNS-1123 label (container names, label values, hostnames): lowercase letters,
/// digits and '-', starting and ending alphanumeric, at most 63 characters.
pub fn dns_label(s: &str) -> String {
    let mapped: String = s
        .to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() {
                c
            } else {
                '-'
            }
        })
        .collect();
    let mut out: String = mapped.trim_matches('-').chars().take(63).collect();
    while out.ends_with('-') {
        out.pop();
    }
    if out.is_empty() {
        "skiff".into()
    } else {
        out
    }
}

/// A DNS-1123 subdomain (object names): labels joined by dots, 253 at most.
pub fn dns_subdomain(s: &str) -> String {
    let joined: Vec<String> = s
        .split('.')
        .filter(|p| !p.is_empty())
        .map(dns_label)
        .collect();
    let mut out = joined.join(".");
    out.truncate(253 - "-deployment".len());
    out.trim_end_matches(['-', '.']).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_what_kubernetes_accepts() {
        for (given, label) in [
            ("web", "web"),
            ("Web_1", "web-1"),
            ("_x_", "x"),
            ("a.b", "a-b"),
            ("___", "skiff"),
            (&"a".repeat(80), &"a".repeat(63)),
        ] {
            assert_eq!(dns_label(given), label, "{given}");
        }
        assert_eq!(dns_subdomain("My_Pod.v1"), "my-pod.v1");
    }

    #[test]
    fn workload_types_parse_and_bad_ones_are_named() {
        assert_eq!(
            "statefulset".parse::<WorkloadType>().unwrap(),
            WorkloadType::StatefulSet
        );
        let e = "replicaset"
            .parse::<WorkloadType>()
            .unwrap_err()
            .to_string();
        assert!(e.contains("\"replicaset\""), "{e}");
    }

    #[test]
    fn capabilities_lose_their_prefix() {
        assert_eq!(cap_name("cap_net_admin"), "NET_ADMIN");
        assert_eq!(cap_name("SYS_TIME"), "SYS_TIME");
    }
}
