//! A Pod's skiff objects: the skiff pod (its infra holds the network, with the
//! hostPorts published) and one skiff container per container of the spec, named as
//! podman's `kube play` names them (`<pod>-<container>`).

use crate::container::options::{CreateOptions, HealthRequest, NetMode, NsMode, SecurityOpts};
use crate::container::ContainerRecord;
use crate::error::{Error, Result};
use crate::kube::api::{Container, Pod};
use crate::pod::{InfraSettings, PodCreate, PodRecord, SharedNamespace};
use crate::store::Store;
use crate::userns::IdMaps;

/// The skiff pod's name: the Pod's name in the default namespace, `NS_NAME` elsewhere
/// (a Kubernetes name has no `_`, so the two never meet).
pub fn pod_name(ns: &str, name: &str) -> String {
    if ns == crate::kube::store::DEFAULT_NAMESPACE {
        name.to_string()
    } else {
        format!("{ns}_{name}")
    }
}

pub fn container_name(pod: &str, container: &str) -> String {
    format!("{pod}-{container}")
}

/// Labels that tie skiff's objects to the Pod, as the kubelet's do.
pub fn labels(
    ns: &str,
    pod: &Pod,
    container: Option<&str>,
) -> std::collections::BTreeMap<String, String> {
    let mut l = pod.metadata.labels.clone();
    l.insert("io.kubernetes.pod.namespace".into(), ns.into());
    l.insert("io.kubernetes.pod.name".into(), pod.metadata.name.clone());
    l.insert("io.kubernetes.pod.uid".into(), pod.metadata.uid.clone());
    if let Some(c) = container {
        l.insert("io.kubernetes.container.name".into(), c.into());
    }
    l
}

fn publish(pod: &Pod) -> Vec<String> {
    pod.spec
        .containers
        .iter()
        .flat_map(|c| &c.ports)
        .filter_map(|p| {
            let host = p.host_port.filter(|h| *h > 0)?;
            let proto = p.protocol.as_deref().unwrap_or("TCP").to_ascii_lowercase();
            Some(match &p.host_ip {
                Some(ip) if !ip.is_empty() => format!("{ip}:{host}:{}/{proto}", p.container_port),
                _ => format!("{host}:{}/{proto}", p.container_port),
            })
        })
        .collect()
}

/// The cluster's pod network: a skiff bridge network made on first use, so that every
/// Pod gets its own address and reaches the others by it, across namespaces.
pub const POD_NETWORK: &str = "kube";

/// The pod network, made if missing; `store` must be locked.
pub fn pod_network(store: &Store) -> Result<NetMode> {
    use crate::network::definition;
    if definition::get(&store.paths, POD_NETWORK).is_err() {
        definition::create(
            &store.paths,
            &definition::CreateRequest {
                name: Some(POD_NETWORK.into()),
                driver: None,
                subnet: None,
                gateway: None,
                ip_range: None,
                internal: false,
                disable_dns: false,
                labels: [("io.skiff.kube".to_string(), "pod-network".to_string())].into(),
                options: Default::default(),
            },
        )?;
    }
    Ok(NetMode::Bridge(vec![POD_NETWORK.into()]))
}

/// Makes the skiff pod; `store` must be locked.
pub fn make_pod(
    store: &Store,
    maps: &IdMaps,
    ns: &str,
    pod: &Pod,
    network: &NetMode,
) -> Result<PodRecord> {
    let mut shared = vec![SharedNamespace::Net, SharedNamespace::Uts];
    if !pod.spec.host_ipc {
        shared.push(SharedNamespace::Ipc);
    }
    if pod.spec.share_process_namespace == Some(true) {
        shared.push(SharedNamespace::Pid);
    }
    let hostname = pod
        .spec
        .hostname
        .clone()
        .unwrap_or_else(|| pod.metadata.name.clone());
    crate::pod::create(
        store,
        maps,
        &PodCreate {
            name: Some(pod_name(ns, &pod.metadata.name)),
            labels: labels(ns, pod, None),
            hostname: Some(hostname),
            shared,
            exit_policy: crate::pod::ExitPolicy::Continue,
            infra: Some(InfraSettings {
                network: if pod.spec.host_network {
                    NetMode::Host
                } else {
                    network.clone()
                },
                publish: if pod.spec.host_network {
                    vec![]
                } else {
                    publish(pod)
                },
                ..Default::default()
            }),
            create_command: vec![],
        },
    )
}

fn user_of(pod: &Pod, c: &Container) -> Option<String> {
    let sc = c.security_context.as_ref();
    let psc = pod.spec.security_context.as_ref();
    let uid = sc
        .and_then(|s| s.run_as_user)
        .or(psc.and_then(|s| s.run_as_user));
    let gid = sc
        .and_then(|s| s.run_as_group)
        .or(psc.and_then(|s| s.run_as_group));
    match (uid, gid) {
        (Some(u), Some(g)) => Some(format!("{u}:{g}")),
        (Some(u), None) => Some(u.to_string()),
        (None, Some(g)) => Some(format!("0:{g}")),
        (None, None) => None,
    }
}

/// What a container gets from outside its spec: its environment with ConfigMap,
/// Secret and downward API values resolved, and its volumes' bind mounts.
#[derive(Debug, Clone, Default)]
pub struct ContainerInputs {
    pub env: super::sources::ResolvedEnv,
    pub mounts: Vec<crate::volume::mounts::MountRequest>,
    /// Its requests and limits as cgroup values (none where they cannot be enforced).
    pub resources: crate::cgroups::Resources,
    pub oom_score_adj: Option<i32>,
}

/// The label that ties the skiff secrets holding a pod's Secret-sourced env values to
/// the pod (by uid), so they go with it.
pub const SECRET_OWNER_LABEL: &str = "io.skiff.kube/pod-uid";

/// Puts each Secret-sourced value in skiff's secret store, for the container to get as
/// an env variable at start; the requests that say so.
fn secret_env(
    store: &Store,
    pod: &Pod,
    container: &str,
    values: &[(String, Vec<u8>)],
) -> Result<Vec<crate::secret::SecretRequest>> {
    let mut out = Vec::new();
    for (i, (var, value)) in values.iter().enumerate() {
        let name = format!("kube-{}-{container}-{i}", pod.metadata.uid);
        if let Ok(old) = crate::secret::find(&store.paths, &name) {
            crate::secret::remove(&store.paths, &old, Vec::new())?;
        }
        if value.is_empty() {
            // The secret store keeps no empty values; an empty variable is no secret.
            continue;
        }
        crate::secret::create(
            &store.paths,
            &name,
            value,
            [(SECRET_OWNER_LABEL.to_string(), pod.metadata.uid.clone())].into(),
        )?;
        out.push(crate::secret::SecretRequest {
            name,
            kind: crate::secret::SecretKind::Env,
            target: Some(var.clone()),
            uid: 0,
            gid: 0,
            mode: 0,
        });
    }
    Ok(out)
}

/// Removes the skiff secrets of a pod's Secret-sourced env values.
pub fn remove_secret_env(paths: &crate::paths::Paths, pod_uid: &str) {
    // The secret index is changed under the store's lock.
    let Ok(_locked) = Store::open_locked(paths) else {
        return;
    };
    for s in crate::secret::list(paths).unwrap_or_default() {
        if s.labels.get(SECRET_OWNER_LABEL).map(String::as_str) == Some(pod_uid) {
            let _ = crate::secret::remove(paths, &s, Vec::new());
        }
    }
}

/// Makes one container of the pod, not started; `store` must be locked.
pub fn make_container(
    store: &Store,
    maps: &IdMaps,
    ns: &str,
    pod: &Pod,
    skiff_pod: &PodRecord,
    c: &Container,
    inputs: ContainerInputs,
) -> Result<ContainerRecord> {
    let sc = c.security_context.clone().unwrap_or_default();
    let caps = sc.capabilities.clone().unwrap_or_default();
    let mut opts = CreateOptions {
        image: c.image.clone(),
        name: Some(container_name(&skiff_pod.name, &c.name)),
        command: c.args.clone(),
        entrypoint: (!c.command.is_empty()).then(|| c.command.clone()),
        env: inputs.env.plain.clone(),
        secrets: secret_env(store, pod, &c.name, &inputs.env.secret)?,
        resources: inputs.resources,
        oom_score_adj: inputs.oom_score_adj,
        mounts: inputs.mounts,
        workdir: c.working_dir.clone(),
        user: user_of(pod, c),
        tty: c.tty,
        interactive: c.stdin,
        read_only: sc.read_only_root_filesystem == Some(true),
        privileged: sc.privileged == Some(true),
        cap_add: caps.add.clone(),
        cap_drop: caps.drop.clone(),
        security: SecurityOpts {
            no_new_privileges: sc.allow_privilege_escalation == Some(false),
            seccomp: None,
        },
        labels: labels(ns, pod, Some(&c.name)),
        health: HealthRequest::Disabled,
        stop_timeout: pod
            .spec
            .termination_grace_period_seconds
            .map(|s| s.clamp(0, 3600) as u32),
        ..Default::default()
    };
    crate::pod::join(&store.paths, skiff_pod, &mut opts, &Default::default())?;
    if pod.spec.host_pid {
        opts.pid = NsMode::Host;
    }
    if pod.spec.host_ipc {
        opts.ipc = NsMode::Host;
    }
    let record = crate::container::create::create(store, maps, &opts)?;
    let non_root = sc.run_as_non_root.or(pod
        .spec
        .security_context
        .as_ref()
        .and_then(|s| s.run_as_non_root));
    if non_root == Some(true) && runs_as_root(&record) {
        let _ = crate::container::Container::new(&store.paths, maps, record).remove(true);
        return Err(Error::InvalidArgument(format!(
            "container {} has runAsNonRoot and image will run as root",
            c.name
        )));
    }
    Ok(record)
}

/// Whether the container's user resolves to uid 0 (its spec says).
fn runs_as_root(r: &ContainerRecord) -> bool {
    let user = r.config.user.split(':').next().unwrap_or("");
    user.is_empty() || user == "0" || user == "root"
}
