//! The kubelet's work for one Pod, done by one small process per Pod (`skiff
//! __kubelet NS/NAME`, started by `kube play` and by any kube command that finds it
//! gone). It reconciles level-triggered from the object store and the containers'
//! states: makes the skiff pod and its containers, runs the init containers in order
//! to completion, starts the app containers and runs their postStart hooks, restarts
//! them by the restart policy with the kubelet's backoff, runs startup, liveness and
//! readiness probes, writes the Pod's status, and when the object is deleted stops
//! everything (preStop hooks first) and exits. Nothing it keeps in memory is needed
//! after a restart: restart counts come back from the status it wrote.

pub mod atomic_writer;
pub mod backoff;
pub mod create;
pub mod image;
pub mod probes;
pub mod sources;
pub mod status;
pub mod volumes;

use crate::container::{Container, ContainerRecord, Status};
use crate::error::Result;
use crate::kube::api::{Kind, Pod, RestartPolicy};
use crate::kube::events::{self, EventType, Involved};
use crate::kube::owner::Owner;
use crate::kube::store;
use crate::paths::Paths;
use crate::userns::IdMaps;
use probes::{ProbeKind, ProbeSpec, ProbeState};
use serde_json::Value;
use status::{ContainerView, Observed};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

pub const SUBCOMMAND: &str = "__kubelet";

/// The longest sleep between passes.
const POLL: Duration = Duration::from_secs(1);

/// The Pod's owner, as `owner.rs` names it.
fn owner(ns: &str, name: &str) -> Owner {
    Owner::new(Kind::Pod, ns, name)
}

/// Whether the Pod's kubelet runs.
pub fn is_running(paths: &Paths, ns: &str, name: &str) -> bool {
    owner(ns, name).is_running(paths)
}

/// Starts the Pod's kubelet unless it runs; returns once it has made its first pass.
pub fn ensure_running(paths: &Paths, ns: &str, name: &str) -> Result<()> {
    owner(ns, name).ensure_running(paths, SUBCOMMAND)
}

/// Stops the Pod's kubelet and waits until it is gone.
pub fn stop(paths: &Paths, ns: &str, name: &str) {
    owner(ns, name).stop(paths)
}

/// Per-container bookkeeping that only speeds things up; rebuilt after a restart.
#[derive(Default)]
struct Track {
    restarts: u32,
    /// When the container may be started again (backoff).
    next_start: Option<Instant>,
    /// The last run's end state, for lastState.
    last: Option<Observed>,
    /// When this run started (for the backoff reset and initial delays).
    running_since: Option<Instant>,
    started_id: Option<String>,
    probes: Vec<(ProbeSpec, ProbeState, Instant)>,
    post_start_done: bool,
}

struct Kubelet<'a> {
    paths: &'a Paths,
    maps: &'a IdMaps,
    ns: String,
    name: String,
    uid: String,
    tracks: BTreeMap<String, Track>,
    start_time: Option<String>,
    /// The spec last seen, for the preStop hooks and grace period once it is deleted.
    last: Option<Pod>,
    /// The phase is final (Succeeded, or Failed): the kubelet's work is done.
    finished: bool,
    /// The skiff pod and containers, once found or made (checked on each pass).
    skiff_pod: Option<crate::pod::PodRecord>,
    records: BTreeMap<String, ContainerRecord>,
    /// Failed image pulls, by container.
    pulls: BTreeMap<String, image::Pulls>,
    /// Why a container cannot be made (CreateContainerConfigError), by container.
    config_errors: BTreeMap<String, String>,
    /// Containers whose image is here: checked (and pulled) once, not on every pass
    /// a container waits for its configuration.
    images_ready: std::collections::BTreeSet<String>,
    /// Where the pod's claim volumes live, once every claim is bound.
    claim_dirs: Option<BTreeMap<String, std::path::PathBuf>>,
    /// Why the pod cannot be placed yet (its claims), as last reported.
    unschedulable: Option<String>,
    /// When emptyDir usage is next measured against the volumes' sizeLimit.
    next_usage_check: Option<Instant>,
    /// Why the pod was evicted: its containers are stopped and not restarted.
    evicted: Option<String>,
    /// The node's capacity, read once (resourceFieldRef's value of an unset limit),
    /// not on every pass that refreshes the downward API's files.
    node: std::cell::OnceCell<sources::NodeCapacity>,
}

/// How often emptyDir usage is measured, as the eviction manager's housekeeping.
const USAGE_CHECK: Duration = Duration::from_secs(5);

/// The hidden subcommand's body; `target` is `NS/NAME`.
pub fn run(paths: Paths, maps: IdMaps, target: &str, mut report: Option<std::fs::File>) -> i32 {
    let Some((ns, name)) = target.split_once('/') else {
        crate::kube::owner::say(&mut report, "error the kubelet needs NS/NAME");
        return 125;
    };
    let Some(_held) = owner(ns, name).claim(&paths, &mut report) else {
        return 0;
    };
    let _ = nix::sys::prctl::set_child_subreaper(true);
    let mut k = Kubelet {
        paths: &paths,
        maps: &maps,
        ns: ns.into(),
        name: name.into(),
        uid: String::new(),
        tracks: BTreeMap::new(),
        start_time: None,
        last: None,
        finished: false,
        skiff_pod: None,
        records: BTreeMap::new(),
        pulls: BTreeMap::new(),
        config_errors: BTreeMap::new(),
        images_ready: Default::default(),
        claim_dirs: None,
        unschedulable: None,
        next_usage_check: None,
        evicted: None,
        node: std::cell::OnceCell::new(),
    };
    k.main(&mut report, crate::kube::owner::say)
}

impl Kubelet<'_> {
    fn main(
        &mut self,
        report: &mut Option<std::fs::File>,
        say: impl Fn(&mut Option<std::fs::File>, &str),
    ) -> i32 {
        let mut first = true;
        loop {
            reap();
            let obj = match store::get(self.paths, Kind::Pod, &self.ns, &self.name) {
                Ok(o) => o,
                Err(e) => {
                    crate::log::warn(&format!("kubelet {}/{}: {e}", self.ns, self.name));
                    None
                }
            };
            let Some(obj) = obj.filter(|o| self.uid.is_empty() || o.metadata.uid == self.uid)
            else {
                self.tear_down();
                say(report, "ready");
                return 0;
            };
            if self.uid.is_empty() {
                self.uid = obj.metadata.uid.clone();
                self.restore(&obj.status);
            }
            let pod: Pod = match serde_json::from_value(obj.to_api()) {
                Ok(p) => p,
                Err(e) => {
                    say(report, &format!("error {e}"));
                    return 125;
                }
            };
            self.last = Some(pod.clone());
            let wait = match self.reconcile(&pod, &obj.status) {
                Ok(w) => w,
                Err(e) => {
                    crate::log::warn(&format!("kubelet {}/{}: {e}", self.ns, self.name));
                    if first {
                        say(report, &format!("error {e}"));
                        return 125;
                    }
                    Duration::from_secs(1)
                }
            };
            if first {
                say(report, "ready");
                *report = None;
                first = false;
                // From here on it mostly sleeps: give back what start-up touched.
                crate::procinfo::shed_startup_memory();
            }
            if self.finished {
                // Succeeded or Failed for good: nothing is left to run or restart. The
                // containers stay (for logs) until the Pod is deleted.
                return 0;
            }
            // As the kubelet's relist: container exits are seen within a second;
            // probes and backoffs that are due sooner wake it sooner.
            std::thread::sleep(wait.min(POLL));
        }
    }

    /// Restart counts and last states from the status this Pod's kubelet last wrote.
    fn restore(&mut self, status: &Value) {
        self.start_time = status["startTime"].as_str().map(String::from);
        for list in ["initContainerStatuses", "containerStatuses"] {
            for c in status[list].as_array().into_iter().flatten() {
                let name = c["name"].as_str().unwrap_or("").to_string();
                let t = self.tracks.entry(name).or_default();
                t.restarts = c["restartCount"].as_u64().unwrap_or(0) as u32;
            }
        }
    }

    /// Records an event about this Pod, from the kubelet.
    fn event(&self, type_: EventType, reason: &str, message: &str) {
        self.event_from(type_, reason, message, "kubelet");
    }

    fn event_from(&self, type_: EventType, reason: &str, message: &str, source: &str) {
        let about = Involved {
            kind: Kind::Pod,
            namespace: self.ns.clone(),
            name: self.name.clone(),
            uid: self.uid.clone(),
        };
        events::record(self.paths, &about, type_, reason, message, source);
    }

    /// Whether container `c`'s image is here as its pull policy wants, pulling it if
    /// need be (with backoff after failures). Runs without the store lock: a pull may
    /// take long.
    fn image_ready(&mut self, pod: &Pod, c: &crate::kube::api::Container, now: Instant) -> bool {
        if self.images_ready.contains(&c.name) {
            return true;
        }
        let ready = self.get_image(pod, c, now);
        if ready {
            self.images_ready.insert(c.name.clone());
        }
        ready
    }

    /// The credentials the pod's imagePullSecrets hold for `image`'s registry; a
    /// secret that is missing is said in an event, and the pull goes on without.
    fn pull_credentials(
        &self,
        pod: &Pod,
        image: &str,
    ) -> Option<crate::registry::auth::Credentials> {
        let host = crate::reference::Reference::parse(image)
            .ok()
            .map(|r| r.domain.unwrap_or_else(|| "docker.io".into()))?;
        let mut missing = Vec::new();
        let mut found = None;
        for r in &pod.spec.image_pull_secrets {
            match sources::data_of(self.paths, Kind::Secret, &self.ns, &r.name) {
                Ok(Some(data)) => {
                    let doc = data.get(".dockerconfigjson").or(data.get(".dockercfg"));
                    if found.is_none() {
                        found = doc.and_then(|d| image::credentials_for(d, &host));
                    }
                }
                _ => missing.push(format!("{}/{}", self.ns, r.name)),
            }
        }
        if !missing.is_empty() {
            self.event(
                EventType::Warning,
                "FailedToRetrieveImagePullSecret",
                &format!(
                    "Unable to retrieve some image pull secrets ({}); attempting to pull the image may not succeed.",
                    missing.join(", ")
                ),
            );
        }
        found
    }

    fn get_image(&mut self, pod: &Pod, c: &crate::kube::api::Container, now: Instant) -> bool {
        let store = Store::open(self.paths);
        let have = store.find_image(&c.image).is_ok();
        let pulls = self.pulls.entry(c.name.clone()).or_default();
        pulls.just_failed = false;
        match image::decide(image::PullPolicy::of(c), have) {
            image::Action::Use => {
                self.pulls.remove(&c.name);
                self.event(
                    EventType::Normal,
                    "Pulled",
                    &format!("Container image {:?} already present on machine", c.image),
                );
                true
            }
            image::Action::RefuseNeverPull => {
                if pulls.last_error.is_none() {
                    let m = format!(
                        "Container image {:?} is not present with pull policy of Never",
                        c.image
                    );
                    pulls.last_error = Some(m.clone());
                    self.event(EventType::Warning, "ErrImageNeverPull", &m);
                }
                false
            }
            image::Action::Pull if !pulls.may_try(now) => false,
            image::Action::Pull => {
                self.event(
                    EventType::Normal,
                    "Pulling",
                    &format!("Pulling image {:?}", c.image),
                );
                let began = Instant::now();
                let opts = crate::registry::pull::PullOptions {
                    client: crate::registry::client::ClientOptions {
                        creds: self.pull_credentials(pod, &c.image),
                        ..Default::default()
                    },
                    platform: crate::registry::manifest::Platform::host(),
                    extract: crate::layer::ExtractOptions {
                        ignore_chown_errors: self.paths.rootless && self.maps.is_single(),
                        plain: false,
                    },
                };
                let policy = crate::registry::policy::PullPolicy::Always;
                match crate::registry::policy::ensure_image(
                    &store,
                    self.maps,
                    &c.image,
                    policy,
                    &opts,
                    &crate::registry::Silent,
                ) {
                    Ok(()) => {
                        self.pulls.remove(&c.name);
                        self.event(
                            EventType::Normal,
                            "Pulled",
                            &format!(
                                "Successfully pulled image {:?} in {:.3}s",
                                c.image,
                                began.elapsed().as_secs_f64()
                            ),
                        );
                        true
                    }
                    Err(e) => {
                        let m = format!("Failed to pull image {:?}: {e}", c.image);
                        self.pulls
                            .entry(c.name.clone())
                            .or_default()
                            .failed(now, m.clone());
                        self.event(EventType::Warning, "Failed", &m);
                        self.event(EventType::Warning, "Failed", "Error: ErrImagePull");
                        false
                    }
                }
            }
        }
    }

    /// A container's cgroup values and oom_score_adj, as the kubelet sets them; where
    /// this user cannot have limits (rootless without a delegated cgroup) it runs
    /// without, and a Warning event says so.
    fn limits_of(
        &self,
        pod: &Pod,
        c: &crate::kube::api::Container,
    ) -> (crate::cgroups::Resources, Option<i32>) {
        use crate::kube::resources;
        let qos = resources::qos_class(&pod.spec);
        let memory_request = c
            .resources
            .as_ref()
            .and_then(|r| resources::request(r, "memory"));
        let adj =
            resources::oom_score_adj(qos, memory_request.as_ref(), resources::memory_capacity());
        // Lowering it needs CAP_SYS_RESOURCE, which a rootless pod (and root in some
        // sandboxes) does not have: then the kubelet's value is not set.
        let may_lower = caps::has_cap(
            None,
            caps::CapSet::Effective,
            caps::Capability::CAP_SYS_RESOURCE,
        )
        .unwrap_or(false);
        let adj = (adj >= 0 || may_lower).then_some(adj);
        if qos == resources::QosClass::BestEffort {
            return (Default::default(), adj);
        }
        let wanted = resources::cgroup_resources(c);
        match crate::container::create::check_limits_possible(
            self.paths,
            &wanted,
            &Default::default(),
        ) {
            Ok(()) => (wanted, adj),
            Err(e) => {
                self.event(
                    EventType::Warning,
                    "LimitsNotEnforced",
                    &format!(
                        "container {}: requests and limits are not enforced: {e}",
                        c.name
                    ),
                );
                (Default::default(), adj)
            }
        }
    }

    /// Notes why a container cannot be made; the event once per new reason.
    fn config_error(&mut self, container: &str, message: String) {
        if self.config_errors.get(container) != Some(&message) {
            self.event(EventType::Warning, "Failed", &format!("Error: {message}"));
            self.config_errors.insert(container.into(), message);
        }
    }

    /// What the downward API tells of this pod.
    fn facts(&self, pod: &Pod, skiff_pod: &crate::pod::PodRecord) -> sources::PodFacts {
        sources::PodFacts {
            name: self.name.clone(),
            namespace: self.ns.clone(),
            uid: self.uid.clone(),
            labels: pod.metadata.labels.clone(),
            annotations: pod.metadata.annotations.clone(),
            node_name: node_name(),
            pod_ip: pod_ip(self.paths, skiff_pod, pod.spec.host_network).unwrap_or_default(),
            host_ip: "127.0.0.1".into(),
            resources: pod
                .spec
                .init_containers
                .iter()
                .chain(&pod.spec.containers)
                .map(|c| (c.name.clone(), c.resources.clone().unwrap_or_default()))
                .collect(),
            node: self
                .node
                .get_or_init(|| sources::NodeCapacity::of_this_node(&self.paths.root))
                .clone(),
        }
    }

    /// Starts the pod's infra container (its namespaces and address) if it is not up.
    fn start_sandbox(&self, skiff_pod: &crate::pod::PodRecord) {
        let Some(id) = skiff_pod.infra_id.as_deref() else {
            return;
        };
        if let Ok(r) = crate::container::find(self.paths, id) {
            let h = Container::new(self.paths, self.maps, r);
            if h.state().is_ok_and(|s| s.status != Status::Running) {
                if let Err(e) = h.start() {
                    crate::log::warn(&format!(
                        "starting the sandbox of {}: {}",
                        self.name, e.message
                    ));
                }
            }
        }
    }

    /// Rewrites mounted ConfigMap, Secret and downward API files whose sources changed.
    fn refresh_volumes(&self, pod: &Pod) {
        if !pod.spec.volumes.iter().any(volumes::is_projected) {
            return;
        }
        let Some(skiff_pod) = &self.skiff_pod else {
            return;
        };
        let facts = self.facts(pod, skiff_pod);
        if let Ok(p) = sources::volume_payloads(self.paths, &self.ns, &facts, pod) {
            volumes::refresh(self.paths, &self.uid, pod, &p);
        }
    }

    /// The waiting state of a container not yet made.
    fn not_made(&self, c: &crate::kube::api::Container) -> Observed {
        if let Some(m) = self.config_errors.get(&c.name) {
            return Observed::Waiting {
                reason: "CreateContainerConfigError".into(),
                message: Some(m.clone()),
            };
        }
        match self.pulls.get(&c.name) {
            Some(p)
                if p.last_error
                    .as_deref()
                    .is_some_and(|m| m.contains("pull policy of Never")) =>
            {
                Observed::Waiting {
                    reason: "ErrImageNeverPull".into(),
                    message: p.last_error.clone(),
                }
            }
            Some(p) => Observed::Waiting {
                reason: p.reason().into(),
                message: p.last_error.clone(),
            },
            None => Observed::waiting("ContainerCreating"),
        }
    }

    fn skiff_pod_name(&self) -> String {
        create::pod_name(&self.ns, &self.name)
    }

    /// Makes the skiff pod and its containers if they are missing.
    fn ensure_objects(&mut self, pod: &Pod) -> Result<crate::pod::PodRecord> {
        // Known and still there: no listing of the store on every pass.
        if let Some(p) = &self.skiff_pod {
            let all_there = self.records.len()
                == pod.spec.init_containers.len() + pod.spec.containers.len()
                && self.records.values().all(|r| {
                    crate::container::ContainerDirs::new(self.paths, &r.id)
                        .record()
                        .exists()
                })
                && self.paths.pods_dir().join(&p.id).exists();
            if all_there {
                return Ok(p.clone());
            }
        }
        self.skiff_pod = None;
        self.records.clear();
        let pname = self.skiff_pod_name();
        let existing = crate::pod::find(self.paths, &pname).ok();
        if existing.is_none() {
            self.event_from(
                EventType::Normal,
                "Scheduled",
                &format!(
                    "Successfully assigned {}/{} to {}",
                    self.ns,
                    self.name,
                    node_name()
                ),
                "default-scheduler",
            );
        }
        // Images first, outside the lock; a container whose image is not there waits.
        let now = Instant::now();
        let mut found = BTreeMap::new();
        let mut blocked = Vec::new();
        for c in pod.spec.init_containers.iter().chain(&pod.spec.containers) {
            match crate::container::find(self.paths, &create::container_name(&pname, &c.name)) {
                Ok(r) => {
                    found.insert(c.name.clone(), r);
                }
                Err(_) if !self.image_ready(pod, c, now) => blocked.push(c.name.clone()),
                Err(_) => {}
            }
        }
        let skiff_pod = match existing {
            Some(p) => p,
            None => {
                let store = Store::open_locked(self.paths)?;
                // `kube play --network` names another; the cluster's pod network else.
                let network = match crate::kube::overrides::network_of(&pod.metadata) {
                    Some(chosen) => chosen?,
                    None => create::pod_network(&store)?,
                };
                create::make_pod(&store, self.maps, &self.ns, pod, &network)?
            }
        };
        let missing: Vec<&crate::kube::api::Container> = pod
            .spec
            .init_containers
            .iter()
            .chain(&pod.spec.containers)
            .filter(|c| !found.contains_key(&c.name) && !blocked.contains(&c.name))
            .collect();
        let mut inputs = BTreeMap::new();
        if !missing.is_empty() {
            // The sandbox first, as the kubelet makes it: the downward API may need
            // the pod's address.
            if missing.iter().any(|c| sources::wants_pod_ip(c)) {
                self.start_sandbox(&skiff_pod);
            }
            let facts = self.facts(pod, &skiff_pod);
            let claims = self.claim_dirs.clone().unwrap_or_default();
            let volumes_ready = sources::volume_payloads(self.paths, &self.ns, &facts, pod)
                .and_then(|p| volumes::prepare(self.paths, &self.uid, pod, &p, &claims));
            for c in missing {
                let (resources, oom_score_adj) = self.limits_of(pod, c);
                let made = volumes_ready.clone().and_then(|_| {
                    Ok(create::ContainerInputs {
                        env: sources::env_of(self.paths, &self.ns, &facts, c)?,
                        mounts: volumes::mounts_for(self.paths, &self.uid, pod, c, &claims)?,
                        resources,
                        oom_score_adj,
                    })
                });
                match made {
                    Ok(i) => {
                        if self.config_errors.remove(&c.name).is_some() {
                            crate::log::debug(&format!(
                                "container {}: its configuration is there now",
                                c.name
                            ));
                        }
                        inputs.insert(c.name.clone(), i);
                    }
                    Err(m) => self.config_error(&c.name, m),
                }
            }
        }
        let store = Store::open_locked(self.paths)?;
        for c in pod.spec.init_containers.iter().chain(&pod.spec.containers) {
            let record = match (found.remove(&c.name), inputs.remove(&c.name)) {
                (Some(r), _) => r,
                (None, Some(i)) => {
                    create::make_container(&store, self.maps, &self.ns, pod, &skiff_pod, c, i)?
                }
                (None, None) => continue,
            };
            self.records.insert(c.name.clone(), record);
        }
        self.skiff_pod = Some(skiff_pod.clone());
        Ok(skiff_pod)
    }

    fn record_of(&self, container: &str) -> Option<ContainerRecord> {
        self.records.get(container).cloned()
    }

    /// One pass; how long until the next thing is due.
    /// Whether the pod can be placed: its claims bound. Until then it is Pending with
    /// the scheduler's condition and event.
    fn place(&mut self, pod: &Pod, prev: &Value) -> Result<bool> {
        if self.claim_dirs.is_some() {
            return Ok(true);
        }
        let why = match crate::kube::storage::claims::place(self.paths, self.maps, pod)? {
            crate::kube::storage::claims::Placement::Ready(dirs) => {
                self.claim_dirs = Some(dirs);
                return Ok(true);
            }
            crate::kube::storage::claims::Placement::Unschedulable(why) => why,
        };
        if self.unschedulable.as_deref() != Some(why.as_str()) {
            self.event_from(
                EventType::Warning,
                "FailedScheduling",
                &why,
                "default-scheduler",
            );
            self.unschedulable = Some(why.clone());
        }
        let st = status::unschedulable(
            prev,
            &why,
            crate::kube::resources::qos_class(&pod.spec).as_str(),
            &crate::time::now_rfc3339_seconds(),
        );
        if st != *prev {
            store::write_status(self.paths, Kind::Pod, &self.ns, &self.name, &self.uid, st)?;
        }
        Ok(false)
    }

    fn reconcile(&mut self, pod: &Pod, prev: &Value) -> Result<Duration> {
        if !self.place(pod, prev)? {
            return Ok(POLL);
        }
        let skiff_pod = self.ensure_objects(pod)?;
        self.refresh_volumes(pod);
        let now = Instant::now();
        self.check_usage(pod, now);
        // An evicted pod's containers stay down.
        let policy = if self.evicted.is_some() {
            RestartPolicy::Never
        } else {
            pod.spec.restart_policy
        };
        let mut views_init = Vec::new();
        let mut views_app = Vec::new();
        // Init containers, in order: each must have succeeded before the next starts.
        let mut init_done = true;
        for c in &pod.spec.init_containers {
            let view = if init_done {
                self.drive(c, policy, true, now)?
            } else {
                self.view_of(c, Observed::waiting("PodInitializing"), false)
            };
            init_done &= matches!(view.state, Observed::Terminated { exit_code: 0, .. });
            views_init.push(view);
        }
        for c in &pod.spec.containers {
            let view = if init_done {
                self.drive(c, policy, false, now)?
            } else {
                self.view_of(c, Observed::waiting("PodInitializing"), false)
            };
            views_app.push(view);
        }
        let sandbox_ready = skiff_pod.infra_id.as_deref().is_some_and(|id| {
            crate::container::State::load(&crate::container::ContainerDirs::new(self.paths, id))
                .is_ok_and(|s| s.status == Status::Running)
        });
        if self.start_time.is_none() {
            self.start_time = Some(crate::time::now_rfc3339_seconds());
        }
        let st = status::status(
            &status::PodObservation {
                init: &views_init,
                app: &views_app,
                policy,
                sandbox_ready,
                pod_ip: pod_ip(self.paths, &skiff_pod, pod.spec.host_network),
                host_ip: "127.0.0.1".into(),
                start_time: self.start_time.clone(),
                qos_class: crate::kube::resources::qos_class(&pod.spec).as_str(),
            },
            prev,
            &crate::time::now_rfc3339_seconds(),
        );
        let mut st = st;
        if let Some(m) = &self.evicted {
            st["phase"] = Value::from("Failed");
            st["reason"] = Value::from("Evicted");
            st["message"] = Value::from(m.as_str());
        }
        self.finished = matches!(st["phase"].as_str(), Some("Succeeded" | "Failed"));
        if st != *prev {
            store::write_status(self.paths, Kind::Pod, &self.ns, &self.name, &self.uid, st)?;
        }
        Ok(self.next_due(now))
    }

    /// Evicts the pod when an emptyDir holds more than its sizeLimit, as the
    /// eviction manager does: the containers are stopped, the pod Failed/Evicted.
    fn check_usage(&mut self, pod: &Pod, now: Instant) {
        if self.evicted.is_some() || self.next_usage_check.is_some_and(|t| now < t) {
            return;
        }
        self.next_usage_check = Some(now + USAGE_CHECK);
        let Some(message) = volumes::over_size_limit(self.paths, &self.uid, pod) else {
            return;
        };
        self.event(EventType::Warning, "Evicted", &message);
        let grace = Duration::from_secs(
            pod.spec
                .termination_grace_period_seconds
                .unwrap_or(30)
                .clamp(0, 3600) as u64,
        );
        for r in self.records.values() {
            let h = Container::new(self.paths, self.maps, r.clone());
            if h.state().is_ok_and(|s| s.status == Status::Running) {
                let m = format!("Stopping container {}", r.name);
                crate::log::debug(&m);
                let _ = h.stop(grace);
            }
        }
        self.evicted = Some(message);
    }

    fn next_due(&self, now: Instant) -> Duration {
        self.tracks
            .values()
            .flat_map(|t| t.next_start.into_iter().chain(t.probes.iter().map(|p| p.2)))
            .map(|d| d.saturating_duration_since(now))
            .min()
            .unwrap_or(POLL)
    }

    fn view_of(
        &self,
        c: &crate::kube::api::Container,
        state: Observed,
        ready: bool,
    ) -> ContainerView {
        let t = self.tracks.get(&c.name);
        let record = self.record_of(&c.name);
        ContainerView {
            name: c.name.clone(),
            image: c.image.clone(),
            image_id: record
                .as_ref()
                .map(|r| format!("sha256:{}", r.image_id))
                .unwrap_or_default(),
            container_id: record.map(|r| r.id).unwrap_or_default(),
            started: matches!(state, Observed::Running { .. }),
            state,
            last_state: t.and_then(|t| t.last.clone()),
            ready,
            restart_count: t.map_or(0, |t| t.restarts),
        }
    }

    /// Starts, restarts and probes one container; its view for the status.
    fn drive(
        &mut self,
        c: &crate::kube::api::Container,
        policy: RestartPolicy,
        init: bool,
        now: Instant,
    ) -> Result<ContainerView> {
        let Some(record) = self.record_of(&c.name) else {
            return Ok(self.view_of(c, self.not_made(c), false));
        };
        let handle = Container::new(self.paths, self.maps, record.clone());
        let st = handle.state()?;
        let track = self.tracks.entry(c.name.clone()).or_default();
        match st.status {
            Status::Running | Status::Paused => {
                if track.started_id.as_deref() != Some(st.started_at.as_str()) {
                    // A run this kubelet has not seen start (it was restarted itself).
                    track.started_id = Some(st.started_at.clone());
                    track.running_since = Some(now);
                    track.post_start_done = true;
                    track.probes = probe_specs(c, init);
                }
                if !track.post_start_done {
                    track.post_start_done = true;
                }
                let ready = self.run_probes(&c.name, &handle, st.pid, now);
                return Ok(self.view_of(
                    c,
                    Observed::Running {
                        started_at: st.started_at.clone(),
                    },
                    ready,
                ));
            }
            Status::Created | Status::Initialized
                if track.restarts == 0 && track.next_start.is_none() =>
            {
                self.start(c, &handle, init, now);
                let st = handle.state()?;
                let running = st.status == Status::Running;
                let state = if running {
                    Observed::Running {
                        started_at: st.started_at,
                    }
                } else {
                    Observed::waiting("ContainerCreating")
                };
                // Ready at once without a startup or readiness probe; else once they say.
                let gated = c.startup_probe.is_some() || c.readiness_probe.is_some();
                return Ok(self.view_of(c, state, running && !init && !gated));
            }
            _ => {}
        }
        // It has ended (or never ran after a failed start): restart by the policy.
        let exited =
            Observed::terminated(st.exit_code, st.oom_killed, &st.started_at, &st.finished_at);
        let wants_restart = match (policy, init) {
            (RestartPolicy::Never, _) => false,
            (RestartPolicy::OnFailure, _) | (RestartPolicy::Always, true) => st.exit_code != 0,
            (RestartPolicy::Always, false) => true,
        };
        if !wants_restart {
            return Ok(self.view_of(c, exited, false));
        }
        let track = self.tracks.entry(c.name.clone()).or_default();
        let mut backing_off = false;
        if track.running_since.take().is_some() || track.next_start.is_none() {
            // Just ended: schedule the restart.
            let ran = Duration::ZERO;
            track.last = Some(exited.clone());
            track.next_start = Some(now + backoff::delay(track.restarts, ran));
            backing_off = track.restarts > 0;
        }
        if backing_off {
            let m = format!(
                "Back-off restarting failed container {} in pod {}_{}({})",
                c.name, self.name, self.ns, self.uid
            );
            self.event(EventType::Warning, "BackOff", &m);
        }
        let track = self.tracks.entry(c.name.clone()).or_default();
        if track.next_start.is_some_and(|t| now >= t) {
            track.next_start = None;
            track.restarts += 1;
            self.start(c, &handle, init, now);
            let st = handle.state()?;
            if st.status == Status::Running {
                return Ok(self.view_of(
                    c,
                    Observed::Running {
                        started_at: st.started_at,
                    },
                    false,
                ));
            }
        }
        let reason = if self.tracks.get(&c.name).is_some_and(|t| t.restarts > 0) {
            "CrashLoopBackOff"
        } else {
            "ContainerCreating"
        };
        Ok(self.view_of(c, Observed::waiting(reason), false))
    }

    fn start(
        &mut self,
        c: &crate::kube::api::Container,
        handle: &Container,
        init: bool,
        now: Instant,
    ) {
        self.event(
            EventType::Normal,
            "Created",
            &format!("Created container {}", c.name),
        );
        let started = handle.start();
        match &started {
            Ok(_) => self.event(
                EventType::Normal,
                "Started",
                &format!("Started container {}", c.name),
            ),
            Err(e) => self.event(
                EventType::Warning,
                "Failed",
                &format!("Error: {}", e.message),
            ),
        }
        let track = self.tracks.entry(c.name.clone()).or_default();
        track.running_since = Some(now);
        track.post_start_done = false;
        track.probes = probe_specs(c, init);
        match started {
            Ok(_) => {
                track.started_id = handle.state().ok().map(|s| s.started_at);
                if let Some(h) = c.lifecycle.as_ref().and_then(|l| l.post_start.as_ref()) {
                    if !run_handler(handle, h, c) {
                        crate::log::warn(&format!(
                            "container {}: the postStart hook failed: killing it",
                            c.name
                        ));
                        let _ = handle.kill(nix::sys::signal::Signal::SIGKILL);
                    }
                }
                track.post_start_done = true;
            }
            Err(e) => crate::log::warn(&format!("starting container {}: {}", c.name, e.message)),
        }
    }

    /// Runs the probes that are due; whether the container is ready. A failed liveness
    /// or startup probe kills the container, which the restart policy then handles.
    fn run_probes(&mut self, name: &str, handle: &Container, pid: i32, now: Instant) -> bool {
        let Some(track) = self.tracks.get_mut(name) else {
            return false;
        };
        let since = track.running_since.unwrap_or(now);
        let started = track
            .probes
            .iter()
            .find(|p| p.0.kind == ProbeKind::Startup)
            .is_none_or(|p| p.1.ok);
        let mut kill = None;
        let mut failed = Vec::new();
        for (spec, state, due) in track.probes.iter_mut() {
            let gated = spec.kind != ProbeKind::Startup && !started;
            if gated || now < since + spec.initial_delay || now < *due {
                continue;
            }
            if spec.kind == ProbeKind::Startup && state.ok {
                continue;
            }
            *due = now + spec.period;
            let r = handle.run_test(&spec.test, spec.timeout, pid);
            state.record(r.exit_code == 0, spec);
            if r.exit_code != 0 {
                failed.push((spec.kind, r.output.trim().to_string()));
            }
            if matches!(spec.kind, ProbeKind::Liveness | ProbeKind::Startup)
                && !state.ok
                && state.failures >= spec.failure_threshold
            {
                kill = Some(spec.kind);
            }
        }
        for (kind, output) in failed {
            let m = format!("{} probe failed: {output}", kind.title());
            self.event(EventType::Warning, "Unhealthy", &m);
        }
        if let Some(kind) = kill {
            let m = format!(
                "Container {name} failed {} probe, will be restarted",
                kind.title().to_lowercase()
            );
            self.event(EventType::Normal, "Killing", &m);
            let _ = handle.kill(nix::sys::signal::Signal::SIGKILL);
            return false;
        }
        let Some(track) = self.tracks.get_mut(name) else {
            return false;
        };
        let readiness = track
            .probes
            .iter()
            .find(|p| p.0.kind == ProbeKind::Readiness);
        started && readiness.is_none_or(|p| p.1.ok)
    }

    /// The object is gone: its pod goes (the kube command that deleted it usually
    /// did this already).
    fn tear_down(&self) {
        let _ = terminate(
            self.paths,
            self.maps,
            &self.ns,
            &self.name,
            self.last.as_ref(),
        );
    }
}

/// Ends a Pod's containers as the kubelet does: each running container's preStop hook,
/// then its stop signal with the pod's terminationGracePeriodSeconds (30 by
/// default) before SIGKILL; then the skiff pod and everything in it.
pub fn terminate(
    paths: &Paths,
    maps: &IdMaps,
    ns: &str,
    name: &str,
    pod: Option<&Pod>,
) -> Result<()> {
    let skiff = match crate::pod::Pod::find(paths, maps, &create::pod_name(ns, name)) {
        Ok(p) => p,
        Err(crate::Error::Pod(crate::pod::PodError::NotFound(_))) => {
            if let Some(p) = pod {
                volumes::remove(paths, &p.metadata.uid);
                release_claims(paths, maps, ns, p)?;
            }
            return Ok(());
        }
        Err(e) => return Err(e),
    };
    let grace = Duration::from_secs(
        pod.and_then(|p| p.spec.termination_grace_period_seconds)
            .unwrap_or(30)
            .clamp(0, 3600) as u64,
    );
    if let Some(pod) = pod {
        for c in &pod.spec.containers {
            let Some(h) = c.lifecycle.as_ref().and_then(|l| l.pre_stop.as_ref()) else {
                continue;
            };
            let Ok(r) =
                crate::container::find(paths, &create::container_name(&skiff.record.name, &c.name))
            else {
                continue;
            };
            let handle = Container::new(paths, maps, r);
            if handle.state().is_ok_and(|s| s.status == Status::Running) {
                run_handler(&handle, h, c);
            }
        }
    }
    skiff.remove(true, grace)?;
    if let Some(p) = pod {
        volumes::remove(paths, &p.metadata.uid);
        create::remove_secret_env(paths, &p.metadata.uid);
        release_claims(paths, maps, ns, p)?;
    }
    Ok(())
}

/// Once a pod is gone: its ephemeral claims are deleted, and claims whose deletion
/// waited for it go.
fn release_claims(paths: &Paths, maps: &IdMaps, ns: &str, p: &Pod) -> Result<()> {
    if !p.spec.volumes.iter().any(|v| v.claim_name("").is_some()) {
        return Ok(());
    }
    crate::kube::storage::claims::release_ephemeral(paths, maps, ns, &p.metadata.uid)?;
    crate::kube::storage::sync(paths, maps)
}

fn probe_specs(
    c: &crate::kube::api::Container,
    init: bool,
) -> Vec<(ProbeSpec, ProbeState, Instant)> {
    if init {
        return vec![];
    }
    let now = Instant::now();
    [
        (ProbeKind::Startup, &c.startup_probe),
        (ProbeKind::Liveness, &c.liveness_probe),
        (ProbeKind::Readiness, &c.readiness_probe),
    ]
    .into_iter()
    .filter_map(|(k, p)| {
        let spec = ProbeSpec::from_api(k, p.as_ref()?, c)
            .map_err(|e| crate::log::warn(&format!("container {}: {e}", c.name)))
            .ok()?;
        Some((spec, ProbeState::initial(k), now))
    })
    .collect()
}

/// A lifecycle handler (exec or httpGet) run against a running container.
fn run_handler(
    handle: &Container,
    h: &crate::kube::api::pod::LifecycleHandler,
    c: &crate::kube::api::Container,
) -> bool {
    let pid = handle.state().map(|s| s.pid).unwrap_or(0);
    let test = if let Some(e) = &h.exec {
        crate::container::health::HealthTest::Exec(e.command.clone())
    } else if let Some(g) = &h.http_get {
        let probe = crate::kube::api::Probe {
            http_get: Some(g.clone()),
            ..Default::default()
        };
        match ProbeSpec::from_api(ProbeKind::Readiness, &probe, c) {
            Ok(s) => s.test,
            Err(_) => return false,
        }
    } else {
        return true;
    };
    handle
        .run_test(&test, Duration::from_secs(30), pid)
        .exit_code
        == 0
}

/// The pod's address on the pod network (the host's with hostNetwork).
fn pod_ip(paths: &Paths, skiff_pod: &crate::pod::PodRecord, host_network: bool) -> Option<String> {
    if host_network {
        return Some("127.0.0.1".into());
    }
    let infra = skiff_pod.infra_id.as_deref()?;
    let dirs = crate::container::ContainerDirs::new(paths, infra);
    crate::network::attach::attached(&dirs.run)
        .first()
        .map(|a| a.ip.to_string())
}

/// The node's name in events and `-o wide`: this machine's hostname.
pub fn node_name() -> String {
    nix::unistd::gethostname()
        .map(|h| h.to_string_lossy().into_owned())
        .unwrap_or_else(|_| "localhost".into())
}

/// Collects children that ended (checks, hooks), as a subreaper must.
fn reap() {
    use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
    while let Ok(s) = waitpid(None, Some(WaitPidFlag::WNOHANG)) {
        if s == WaitStatus::StillAlive {
            break;
        }
    }
}

use crate::store::Store;
