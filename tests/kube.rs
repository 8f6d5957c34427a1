//! kube play with Pods: the object store, the per-Pod kubelet process (init containers,
//! restart policies with backoff, probes, status), kubectl's shapes, validation, and a
//! killed kubelet coming back.

mod common;
use common::*;
use serde_json::Value;

/// The pid of an owner process (kubelet or controller), from its pid file.
fn owner_pid(s: &Skiff, key: &str) -> i32 {
    let f = s.dir.join(format!("run/kube/owners/{key}.pid"));
    std::fs::read_to_string(&f)
        .unwrap_or_else(|e| panic!("{}: {e}", f.display()))
        .split_whitespace()
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap()
}

/// SIGKILL to an owner process this test started.
fn kill_owner(pid: i32) {
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
}

/// Kubelet processes serving this test's store.
fn kubelets_of(s: &Skiff) -> Vec<i32> {
    let marker = s.dir.display().to_string();
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| {
                let c = String::from_utf8_lossy(&c);
                c.contains("__kubelet") && c.contains(&marker)
            }) && process_alive(*pid)
        })
        .collect()
}

/// Writes `yaml` into the test's directory; its path.
fn manifest(s: &Skiff, name: &str, yaml: &str) -> String {
    s.share(name, yaml.as_bytes()).display().to_string()
}

fn condition(pod: &Value, typ: &str) -> String {
    pod["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["type"] == typ)
        .map(|c| c["status"].as_str().unwrap_or("").to_string())
        .unwrap_or_default()
}

fn restarts(pod: &Value) -> u64 {
    pod["status"]["containerStatuses"][0]["restartCount"]
        .as_u64()
        .unwrap_or(0)
}

#[test]
fn a_pod_plays_as_kubernetes_runs_it() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        let port = free_port();
        let yaml = format!(
            r#"apiVersion: v1
kind: Pod
metadata:
  name: web
  labels: {{app: web, tier: front}}
spec:
  terminationGracePeriodSeconds: 1
  initContainers:
  - name: prep
    image: busybox
    command: ["sh", "-c", "echo prepared > /dev/shm/page; echo init-done"]
  containers:
  - name: httpd
    image: busybox
    command: ["sh", "-c"]
    args: ["mkdir -p /tmp/www && cp /dev/shm/page /tmp/www/index.html && exec httpd -f -p 8080 -h /tmp/www"]
    workingDir: /tmp
    env:
    - name: GREETING
      value: hello
    securityContext:
      runAsUser: 1000
      runAsGroup: 1000
    ports:
    - containerPort: 8080
      hostPort: {port}
      name: http
    readinessProbe:
      httpGet: {{path: /, port: http}}
      periodSeconds: 1
"#
        );
        let f = manifest(&s, "web.yaml", &yaml);
        let out = s.ok(&["kube", "play", "--wait", &f]);
        assert!(out.starts_with("Pod:\n"), "{out}");
        assert_eq!(
            http_get(port).as_deref().map(str::trim),
            Some("prepared"),
            "{mode:?}"
        );
        let pod = s.kube_pod("web");
        assert_eq!(pod["status"]["phase"], "Running");
        assert_eq!(condition(&pod, "Ready"), "True");
        assert_eq!(condition(&pod, "Initialized"), "True");
        assert_eq!(condition(&pod, "PodScheduled"), "True");
        assert_eq!(
            pod["status"]["initContainerStatuses"][0]["state"]["terminated"]["reason"],
            "Completed"
        );
        assert_eq!(pod["status"]["containerStatuses"][0]["ready"], true);
        assert_eq!(pod["metadata"]["generation"], 1);
        assert_eq!(pod["metadata"]["uid"].as_str().unwrap().len(), 36);
        assert!(pod["status"]["podIP"].is_string(), "{pod}");
        // The container's env, user and working directory.
        let env = s.ok(&[
            "kube",
            "exec",
            "web",
            "--",
            "sh",
            "-c",
            "echo $GREETING $(id -u):$(id -g) $(pwd)",
        ]);
        assert_eq!(env.trim(), "hello 1000:1000 /tmp");
        assert_eq!(
            s.ok(&["kube", "logs", "web", "-c", "prep"]).trim(),
            "init-done"
        );
        // kubectl's table and selectors.
        let table = s.ok(&["kube", "get", "pods"]);
        let mut lines = table.lines();
        let head: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
        assert_eq!(head, ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]);
        let row: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
        assert_eq!(&row[..4], ["web", "1/1", "Running", "0"], "{table}");
        assert_eq!(
            s.ok(&["kube", "get", "po", "-l", "tier=front", "-o", "name"])
                .trim(),
            "pod/web"
        );
        assert!(s
            .ok(&["kube", "get", "pods", "-l", "tier!=front", "-o", "name"])
            .trim()
            .is_empty());
        let yaml_out = s.ok(&["kube", "get", "pod/web", "-o", "yaml"]);
        assert!(
            yaml_out.contains("kind: Pod") && yaml_out.contains("phase: Running"),
            "{yaml_out}"
        );
        // Re-playing the same manifest changes nothing; kube down removes everything.
        s.ok(&["kube", "play", &f]);
        assert_eq!(s.kube_pod("web")["metadata"]["generation"], 1);
        let down = s.ok(&["kube", "down", &f]);
        assert!(down.contains("Pods removed:"), "{down}");
        assert!(s.ok(&["ps", "-a", "-q"]).trim().is_empty());
        assert!(s.ok(&["pod", "ps", "-q"]).trim().is_empty());
        let none = s.run(&["kube", "get", "pods"]);
        assert!(String::from_utf8_lossy(&none.stderr).contains("No resources found"));
        let gone = s.run(&["kube", "get", "pod", "web"]);
        assert_eq!(gone.status.code(), Some(125));
        assert!(String::from_utf8_lossy(&gone.stderr).contains("pods \"web\" not found"));
        // The Pod's kubelet went with it.
        assert!(
            wait_until(5, || kubelets_of(&s).is_empty()),
            "{:?}",
            kubelets_of(&s)
        );
    }
}

const POLICIES: &str = r#"apiVersion: v1
kind: Pod
metadata: {name: crash}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - {name: c, image: busybox, command: ["sh", "-c", "exit 3"]}
---
apiVersion: v1
kind: Pod
metadata: {name: done}
spec:
  restartPolicy: Never
  containers:
  - {name: c, image: busybox, command: ["true"]}
---
apiVersion: v1
kind: Pod
metadata: {name: failed}
spec:
  restartPolicy: Never
  containers:
  - {name: c, image: busybox, command: ["sh", "-c", "exit 2"]}
---
apiVersion: v1
kind: Pod
metadata: {name: retried}
spec:
  restartPolicy: OnFailure
  terminationGracePeriodSeconds: 0
  containers:
  - {name: c, image: busybox, command: ["sh", "-c", "test -e /dev/shm/again && exit 0; touch /dev/shm/again; exit 1"]}
"#;

#[test]
fn restart_policies_with_the_kubelets_backoff() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        let f = manifest(&s, "policies.yaml", POLICIES);
        s.ok(&["kube", "play", &f]);
        // Always: restarted at once the first time, then held back 10 s.
        assert!(wait_until(10, || {
            let p = s.kube_pod("crash");
            restarts(&p) >= 1
                && p["status"]["containerStatuses"][0]["state"]["waiting"]["reason"]
                    == "CrashLoopBackOff"
        }));
        let p = s.kube_pod("crash");
        assert_eq!(
            p["status"]["containerStatuses"][0]["lastState"]["terminated"]["exitCode"],
            3
        );
        assert_eq!(restarts(&p), 1, "the backoff holds the second restart");
        assert_eq!(p["status"]["phase"], "Running");
        // Never: Succeeded or Failed, with kubectl's reasons.
        assert!(wait_until(10, || s.kube_pod("done")["status"]["phase"] == "Succeeded"));
        assert!(wait_until(10, || s.kube_pod("failed")["status"]["phase"] == "Failed"));
        let table = s.ok(&["kube", "get", "pods"]);
        let status_of = |name: &str| {
            table
                .lines()
                .find(|l| l.split_whitespace().next() == Some(name))
                .and_then(|l| l.split_whitespace().nth(2))
                .unwrap_or("")
                .to_string()
        };
        assert_eq!(status_of("done"), "Completed", "{table}");
        assert_eq!(status_of("failed"), "Error", "{table}");
        // OnFailure: restarted after the failure, then done.
        assert!(wait_until(10, || s.kube_pod("retried")["status"]["phase"]
            == "Succeeded"));
        assert_eq!(restarts(&s.kube_pod("retried")), 1);
        s.ok(&["kube", "down", &f]);
        assert!(s.ok(&["ps", "-a", "-q"]).trim().is_empty());
    }
}

const PROBES: &str = r#"apiVersion: v1
kind: Pod
metadata: {name: probed}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: c
    image: busybox
    command: ["sleep", "1000"]
    ports: [{containerPort: 7000, name: admin}]
    startupProbe:
      exec: {command: ["test", "-e", "/tmp/started"]}
      periodSeconds: 1
      failureThreshold: 60
    readinessProbe:
      exec: {command: ["test", "-e", "/tmp/ready"]}
      periodSeconds: 1
    livenessProbe:
      exec: {command: ["test", "!", "-e", "/tmp/broken"]}
      periodSeconds: 1
      failureThreshold: 2
---
apiVersion: v1
kind: Pod
metadata: {name: tcp}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: c
    image: busybox
    command: ["nc", "-ll", "-p", "7000", "-e", "true"]
    readinessProbe:
      tcpSocket: {port: 7000}
      periodSeconds: 1
"#;

#[test]
fn probes_gate_readiness_and_restart_on_liveness() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        let f = manifest(&s, "probes.yaml", PROBES);
        s.ok(&["kube", "play", &f]);
        // The startup probe holds back readiness and liveness.
        std::thread::sleep(std::time::Duration::from_secs(3));
        let p = s.kube_pod("probed");
        assert_eq!(condition(&p, "Ready"), "False", "{mode:?}");
        assert_eq!(restarts(&p), 0);
        s.ok(&[
            "kube",
            "exec",
            "probed",
            "--",
            "touch",
            "/tmp/started",
            "/tmp/ready",
        ]);
        assert!(wait_until(10, || condition(&s.kube_pod("probed"), "Ready") == "True"));
        // Readiness failing: not Ready, and no restart.
        s.ok(&["kube", "exec", "probed", "--", "rm", "/tmp/ready"]);
        assert!(wait_until(10, || condition(&s.kube_pod("probed"), "Ready") == "False"));
        assert_eq!(restarts(&s.kube_pod("probed")), 0);
        // Liveness failing: the container is killed and restarted.
        s.ok(&["kube", "exec", "probed", "--", "touch", "/tmp/broken"]);
        assert!(wait_until(15, || restarts(&s.kube_pod("probed")) >= 1));
        let p = s.kube_pod("probed");
        assert_eq!(
            p["status"]["containerStatuses"][0]["lastState"]["terminated"]["exitCode"],
            137
        );
        // A TCP probe against busybox's nc, made from the pod's network.
        assert!(
            wait_until(10, || condition(&s.kube_pod("tcp"), "Ready") == "True"),
            "{mode:?}"
        );
        s.ok(&["kube", "down", &f]);
    }
}

#[test]
fn validation_names_every_unknown_field_and_strict_refuses() {
    let s = Skiff::with_busybox(Mode::Rootless);
    let yaml = r#"apiVersion: v1
kind: Pod
metadata: {name: typo}
spec:
  terminationGracePeriodSeconds: 0
  nodeSelector: {disk: ssd}
  containers:
  - name: c
    image: busybox
    command: ["sleep", "1000"]
    livenesProbe: {exec: {command: ["true"]}}
---
apiVersion: apps/v1
kind: Widget
metadata: {name: w}
"#;
    let f = manifest(&s, "typo.yaml", yaml);
    let err = s.fails(&["kube", "play", "--validate", "strict", &f], 125);
    assert!(
        err.contains("Pod typo: spec.containers[0].livenesProbe: unknown field"),
        "{err}"
    );
    assert!(err.contains("spec.nodeSelector: not supported"), "{err}");
    assert!(err.contains("kind Widget is not supported"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(s
        .ok(&["kube", "get", "pods", "-o", "name"])
        .trim()
        .is_empty());
    assert!(s.ok(&["ps", "-a", "-q"]).trim().is_empty());
    // warn (the default) plays what it can and says what it left out.
    let out = s.run(&["kube", "play", &f]);
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("livenesProbe: unknown field"), "{stderr}");
    assert!(stderr.contains("kind Widget is not supported"), "{stderr}");
    assert_eq!(
        s.ok(&["kube", "get", "pods", "-o", "name"]).trim(),
        "pod/typo"
    );
    // ignore still names a kind it skips.
    let out = s.run(&["kube", "play", "--validate", "ignore", &f]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("livenesProbe") && stderr.contains("Widget"),
        "{stderr}"
    );
    s.ok(&["kube", "delete", "pod", "typo"]);
    // Bad input: one line, exit 125, nothing stored.
    for (name, text) in [
        ("bad-yaml.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: [x\n"),
        ("bad-name.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: Bad_Name}\nspec: {containers: [{name: c, image: busybox}]}\n"),
        ("no-containers.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: empty}\nspec: {}\n"),
        ("bad-type.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: t}\nspec: {containers: 7}\n"),
        ("dup.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: d}\nspec: {containers: [{name: c, image: busybox}, {name: c, image: busybox}]}\n"),
    ] {
        let f = manifest(&s, name, text);
        let err = s.fails(&["kube", "play", &f], 125);
        assert_eq!(err.trim().lines().count(), 1, "{name}: {err}");
    }
    assert!(s
        .ok(&["kube", "get", "pods", "-o", "name"])
        .trim()
        .is_empty());
    let err = s.fails(&["kube", "get", "widgets"], 125);
    assert!(err.contains("unknown resource type"), "{err}");
}

#[test]
fn a_killed_kubelet_comes_back_with_the_next_kube_command() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        let yaml = "apiVersion: v1\nkind: Pod\nmetadata: {name: steady}\nspec:\n  terminationGracePeriodSeconds: 0\n  containers:\n  - {name: c, image: busybox, command: [sleep, \"1000\"]}\n";
        let f = manifest(&s, "steady.yaml", yaml);
        s.ok(&["kube", "play", "--wait", &f]);
        let first = owner_pid(&s, "default_pod_steady");
        kill_owner(first);
        assert!(wait_until(5, || !process_alive(first)));
        let containers_before = s.ok(&["ps", "-a", "-q"]).lines().count();
        s.ok(&["kube", "get", "pods"]);
        let second = owner_pid(&s, "default_pod_steady");
        assert_ne!(first, second);
        assert!(process_alive(second));
        // It took over the running pod: no duplicates, the same container, Ready.
        assert_eq!(s.ok(&["ps", "-a", "-q"]).lines().count(), containers_before);
        assert!(wait_until(10, || condition(&s.kube_pod("steady"), "Ready") == "True"));
        assert_eq!(restarts(&s.kube_pod("steady")), 0);
        s.ok(&["kube", "down", &f]);
        assert!(wait_until(5, || !process_alive(second)));
    }
}

/// kubectl's own Deployment manifest (no API server is needed for --dry-run=client),
/// with a command that ends on SIGTERM so pods go without the 30 s grace period.
fn kubectl_deployment(name: &str, replicas: u32, marker: &str) -> String {
    let out = std::process::Command::new("kubectl")
        .args([
            "create",
            "deployment",
            name,
            "--image=localhost/busybox:latest",
            &format!("--replicas={replicas}"),
            "--dry-run=client",
            "-o",
            "yaml",
            "--",
            "sh",
            "-c",
            &format!("trap 'exit 0' TERM; echo {marker}; sleep 1000 & wait"),
        ])
        .output()
        .expect("kubectl is on this machine (scripts/setup.sh)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn names(s: &Skiff, kind: &str) -> Vec<String> {
    s.ok(&["kube", "get", kind, "-o", "name"])
        .lines()
        .map(|l| l.split('/').nth(1).unwrap_or("").to_string())
        .collect()
}

fn running_pods(s: &Skiff) -> usize {
    let table = s.ok(&["kube", "get", "pods"]);
    table
        .lines()
        .skip(1)
        .filter(|l| l.split_whitespace().nth(2) == Some("Running"))
        .count()
}

#[test]
fn a_deployment_keeps_its_replicas_and_makes_a_replicaset_per_template() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        let f = manifest(&s, "web.yaml", &kubectl_deployment("web", 3, "v1"));
        let out = s.ok(&["kube", "play", "--validate", "strict", &f]);
        assert_eq!(out.trim(), "deployment.apps/web created");
        assert!(
            wait_until(20, || running_pods(&s) == 3),
            "{mode:?}: {}",
            s.ok(&["kube", "get", "pods"])
        );
        let rs = names(&s, "rs");
        assert_eq!(rs.len(), 1);
        let rs0 = rs[0].clone();
        assert!(
            rs0.starts_with("web-") && rs0.len() == "web-".len() + 10,
            "{rs0}"
        );
        let pods = names(&s, "pods");
        assert!(
            pods.iter()
                .all(|p| p.starts_with(&format!("{rs0}-")) && p.len() == rs0.len() + 6),
            "{pods:?}"
        );
        let d: Value =
            serde_json::from_str(&s.ok(&["kube", "get", "deploy", "web", "-o", "json"])).unwrap();
        assert!(
            wait_until(10, || {
                let d: Value =
                    serde_json::from_str(&s.ok(&["kube", "get", "deploy", "web", "-o", "json"]))
                        .unwrap();
                d["status"]["availableReplicas"] == 3
            }),
            "{d}"
        );
        let table = s.ok(&["kube", "get", "deploy"]);
        let head: Vec<&str> = table.lines().next().unwrap().split_whitespace().collect();
        assert_eq!(head, ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]);
        assert!(table.lines().nth(1).unwrap().contains("3/3"), "{table}");

        // A deleted pod is replaced; a killed container is restarted in its pod.
        s.ok(&["kube", "delete", "pod", &pods[0]]);
        assert!(wait_until(20, || running_pods(&s) == 3
            && !names(&s, "pods").contains(&pods[0])));
        let victim = names(&s, "pods")[0].clone();
        s.ok(&["kill", &format!("{victim}-busybox")]);
        assert!(wait_until(20, || restarts(&s.kube_pod(&victim)) == 1
            && running_pods(&s) == 3));
        assert_eq!(
            names(&s, "pods").len(),
            3,
            "no pod is added for a restarted container"
        );

        // Scaling to 1 leaves 1.
        let one = manifest(&s, "web1.yaml", &kubectl_deployment("web", 1, "v1"));
        s.ok(&["kube", "play", &one]);
        assert!(wait_until(30, || names(&s, "pods").len() == 1 && running_pods(&s) == 1));
        let d: Value =
            serde_json::from_str(&s.ok(&["kube", "get", "deploy", "web", "-o", "json"])).unwrap();
        assert_eq!(d["metadata"]["generation"], 2);

        // A changed template makes a second ReplicaSet (revision 2); the first goes to 0.
        let v2 = manifest(&s, "web2.yaml", &kubectl_deployment("web", 1, "v2"));
        s.ok(&["kube", "play", &v2]);
        assert!(wait_until(30, || names(&s, "rs").len() == 2
            && names(&s, "pods").len() == 1
            && running_pods(&s) == 1
            && !names(&s, "pods")[0].starts_with(&rs0)));
        let all: Value = serde_json::from_str(&s.ok(&["kube", "get", "rs", "-o", "json"])).unwrap();
        for rs in all["items"].as_array().unwrap() {
            let rev = rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"]
                .as_str()
                .unwrap();
            let want = if rs["metadata"]["name"] == rs0.as_str() {
                ("1", 0)
            } else {
                ("2", 1)
            };
            assert_eq!(
                (rev, rs["spec"]["replicas"].as_i64().unwrap()),
                want,
                "{rs}"
            );
            assert_eq!(rs["metadata"]["ownerReferences"][0]["kind"], "Deployment");
        }
        let pod = names(&s, "pods")[0].clone();
        assert_eq!(s.ok(&["kube", "logs", &pod]).trim(), "v2");

        // Deleting the Deployment deletes its ReplicaSets and their pods.
        s.ok(&["kube", "delete", "deploy", "web"]);
        assert!(names(&s, "rs").is_empty() && names(&s, "pods").is_empty());
        // Pods scaled away earlier end in their own time (Terminating), as on a cluster.
        assert!(
            wait_until(15, || s.ok(&["ps", "-a", "-q"]).trim().is_empty()),
            "{}",
            s.ok(&["ps", "-a", "--format", "{{.Names}} {{.Status}}"])
        );
        assert!(wait_until(5, || kubelets_of(&s).is_empty()));
    }
}

#[test]
fn a_replicaset_adopts_matching_orphans_and_refuses_a_foreign_selector() {
    let s = Skiff::with_busybox(Mode::Rootless);
    let orphan = "apiVersion: v1\nkind: Pod\nmetadata: {name: stray, labels: {app: cache, tier: mem}}\nspec:\n  terminationGracePeriodSeconds: 0\n  containers:\n  - {name: c, image: busybox, command: [sleep, \"1000\"]}\n";
    let f = manifest(&s, "stray.yaml", orphan);
    s.ok(&["kube", "play", "--wait", &f]);
    let rs = "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {name: cache}\nspec:\n  replicas: 2\n  selector:\n    matchLabels: {app: cache}\n    matchExpressions:\n    - {key: tier, operator: In, values: [mem, disk]}\n  template:\n    metadata: {labels: {app: cache, tier: mem}}\n    spec:\n      terminationGracePeriodSeconds: 0\n      containers:\n      - {name: c, image: busybox, command: [sleep, \"1000\"]}\n";
    let f2 = manifest(&s, "cache.yaml", rs);
    s.ok(&["kube", "play", &f2]);
    assert!(wait_until(20, || names(&s, "pods").len() == 2 && running_pods(&s) == 2));
    let stray = s.kube_pod("stray");
    assert_eq!(
        stray["metadata"]["ownerReferences"][0]["name"], "cache",
        "{stray}"
    );
    let table = s.ok(&["kube", "get", "rs"]);
    let head: Vec<&str> = table.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(head, ["NAME", "DESIRED", "CURRENT", "READY", "AGE"]);
    // A killed controller comes back with the next kube command, without duplicates.
    let pid = owner_pid(&s, "default_replicaset_cache");
    kill_owner(pid);
    assert!(wait_until(5, || !process_alive(pid)));
    s.ok(&["kube", "get", "rs"]);
    std::thread::sleep(std::time::Duration::from_secs(2));
    assert_eq!(names(&s, "pods").len(), 2);
    s.ok(&["kube", "delete", "rs", "cache"]);
    assert!(names(&s, "pods").is_empty());
    // A selector that does not select the template is refused before anything is made.
    let bad = rs.replace(
        "{labels: {app: cache, tier: mem}}",
        "{labels: {app: other}}",
    );
    let f3 = manifest(&s, "bad.yaml", &bad);
    let err = s.fails(&["kube", "play", &f3], 125);
    assert!(
        err.contains("selector does not match template labels"),
        "{err}"
    );
    assert!(names(&s, "rs").is_empty());
}

#[test]
fn pods_reach_each_other_by_address_across_namespaces() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        let port = free_port();
        let yaml = format!(
            r#"apiVersion: v1
kind: Pod
metadata: {{name: server}}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: web
    image: busybox
    command: ["sh", "-c", "echo from-server > /tmp/index.html; exec httpd -f -p 8080 -h /tmp"]
    ports: [{{containerPort: 8080, hostPort: {port}}}]
---
apiVersion: v1
kind: Pod
metadata: {{name: client, namespace: other}}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - {{name: c, image: busybox, command: ["sleep", "1000"]}}
"#
        );
        let f = manifest(&s, "net.yaml", &yaml);
        // As on a cluster, a namespace must exist first; nothing is stored otherwise.
        let e = s.fails(&["kube", "play", &f], 125);
        assert!(e.contains("namespaces \"other\" not found"), "{e}");
        assert!(!s.run(&["kube", "get", "pod", "server"]).status.success());
        assert_eq!(
            s.ok(&["kube", "create", "namespace", "other"]).trim(),
            "namespace/other created"
        );
        s.ok(&["kube", "play", "--wait", &f]);
        let server = s.kube_pod("server");
        let ip = server["status"]["podIP"].as_str().unwrap().to_string();
        let client: Value = serde_json::from_str(
            &s.ok(&["kube", "get", "pod", "client", "-n", "other", "-o", "json"]),
        )
        .unwrap();
        assert_ne!(
            client["status"]["podIP"].as_str().unwrap(),
            ip,
            "each pod has its own address"
        );
        let body = s.ok(&[
            "kube",
            "exec",
            "client",
            "-n",
            "other",
            "--",
            "wget",
            "-qO-",
            &format!("http://{ip}:8080/"),
        ]);
        assert_eq!(body.trim(), "from-server", "{mode:?}");
        assert_eq!(
            http_get(port).as_deref().map(str::trim),
            Some("from-server")
        );
        let wide = s.ok(&["kube", "get", "pods", "-A", "-o", "wide"]);
        assert!(wide.contains(&ip), "{wide}");
        // Deleting the namespace takes what is in it, and nothing else.
        let containers_before = s.ok(&["ps", "-a", "-q"]).lines().count();
        s.ok(&["kube", "delete", "namespace", "other"]);
        let pods = s.ok(&["kube", "get", "pods", "-A"]);
        assert!(
            pods.contains("server") && !pods.contains("client"),
            "{pods}"
        );
        assert!(s.ok(&["ps", "-a", "-q"]).lines().count() < containers_before);
        let namespaces = s.ok(&["kube", "get", "ns"]);
        for n in ["default", "kube-public", "kube-system"] {
            assert!(namespaces.contains(n), "{namespaces}");
        }
        assert!(!namespaces.contains("other"), "{namespaces}");
        let e = s.fails(&["kube", "delete", "namespace", "default"], 125);
        assert!(e.contains("this namespace may not be deleted"), "{e}");
        s.ok(&["kube", "down", &f]);
        assert!(s.ok(&["ps", "-a", "-q"]).trim().is_empty());
    }
}

const BATCH: &str = r#"apiVersion: batch/v1
kind: Job
metadata: {name: calc}
spec:
  completions: 3
  parallelism: 2
  template:
    spec:
      restartPolicy: Never
      containers:
      - {name: c, image: busybox, command: ["sh", "-c", "date +%s.%N > /dev/shm/t; sleep 1; echo done"]}
---
apiVersion: batch/v1
kind: Job
metadata: {name: idx}
spec:
  completions: 3
  parallelism: 3
  completionMode: Indexed
  template:
    spec:
      restartPolicy: Never
      containers:
      - {name: c, image: busybox, command: ["sh", "-c", "echo index=$JOB_COMPLETION_INDEX"]}
---
apiVersion: batch/v1
kind: Job
metadata: {name: doomed}
spec:
  backoffLimit: 1
  template:
    spec:
      restartPolicy: Never
      containers:
      - {name: c, image: busybox, command: ["false"]}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      terminationGracePeriodSeconds: 0
      containers:
      - {name: c, image: busybox, command: ["sleep", "1000"]}
"#;

fn job_json(s: &Skiff, name: &str) -> Value {
    serde_json::from_str(&s.ok(&["kube", "get", "job", name, "-o", "json"])).unwrap()
}

fn job_condition(j: &Value) -> String {
    j["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["status"] == "True")
        .filter_map(|c| c["type"].as_str())
        .find(|t| *t == "Complete" || *t == "Failed")
        .unwrap_or("")
        .to_string()
}

#[test]
fn jobs_complete_fail_by_their_limits_and_a_daemonset_keeps_one_pod() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        let f = manifest(&s, "batch.yaml", BATCH);
        let out = s.ok(&["kube", "play", "--validate", "strict", &f]);
        assert!(
            out.contains("job.batch/calc created") && out.contains("daemonset.apps/agent created"),
            "{out}"
        );
        // completions 3, parallelism 2: three pods succeed, never more than two at once.
        assert!(
            wait_until(30, || job_condition(&job_json(&s, "calc")) == "Complete"),
            "{mode:?}"
        );
        let calc = job_json(&s, "calc");
        assert_eq!(calc["status"]["succeeded"], 3);
        assert!(calc["status"]["completionTime"].is_string());
        let calc_pods: Vec<String> = names(&s, "pods")
            .into_iter()
            .filter(|p| p.starts_with("calc-"))
            .collect();
        assert_eq!(calc_pods.len(), 3, "{calc_pods:?}");
        let mut starts: Vec<f64> = calc_pods
            .iter()
            .map(|p| {
                let c = s.kube_pod(p);
                let t = c["status"]["containerStatuses"][0]["state"]["terminated"]["startedAt"]
                    .as_str()
                    .unwrap()
                    .to_string();
                libruntime_time(&t)
            })
            .collect();
        starts.sort_by(|a, b| a.partial_cmp(b).unwrap());
        assert!(
            starts[2] - starts[0] >= 1.0,
            "the third waited for a slot: {starts:?}"
        );
        // Indexed: each index once, with JOB_COMPLETION_INDEX.
        assert!(wait_until(30, || job_condition(&job_json(&s, "idx")) == "Complete"));
        assert_eq!(job_json(&s, "idx")["status"]["completedIndexes"], "0-2");
        let mut seen: Vec<String> = names(&s, "pods")
            .into_iter()
            .filter(|p| p.starts_with("idx-"))
            .map(|p| s.ok(&["kube", "logs", &p]).trim().to_string())
            .collect();
        seen.sort();
        assert_eq!(seen, ["index=0", "index=1", "index=2"]);
        // backoffLimit 1: two failures, the second after the 10 s backoff, then Failed.
        assert!(wait_until(40, || job_condition(&job_json(&s, "doomed")) == "Failed"));
        let doomed = job_json(&s, "doomed");
        assert_eq!(doomed["status"]["failed"], 2);
        let reason = doomed["status"]["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["type"] == "Failed")
            .unwrap()["reason"]
            .clone();
        assert_eq!(reason, "BackoffLimitExceeded");
        let jobs = s.ok(&["kube", "get", "jobs"]);
        let head: Vec<&str> = jobs.lines().next().unwrap().split_whitespace().collect();
        assert_eq!(head, ["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"]);
        assert!(
            jobs.lines()
                .any(|l| l.starts_with("calc") && l.contains("Complete") && l.contains("3/3")),
            "{jobs}"
        );
        // The DaemonSet: one pod on this node, replaced when deleted.
        let agents = || {
            names(&s, "pods")
                .into_iter()
                .filter(|p| p.starts_with("agent-"))
                .collect::<Vec<_>>()
        };
        assert_eq!(agents().len(), 1);
        let first = agents()[0].clone();
        s.ok(&["kube", "delete", "pod", &first]);
        assert!(wait_until(20, || agents().len() == 1 && agents()[0] != first));
        // Finished work has no process left; deleting a Job deletes its pods.
        s.ok(&["kube", "delete", "job", "calc"]);
        assert!(!names(&s, "pods").iter().any(|p| p.starts_with("calc-")));
        s.ok(&["kube", "down", &f]);
        assert!(names(&s, "pods").is_empty());
        assert!(wait_until(10, || s
            .ok(&["ps", "-a", "-q"])
            .trim()
            .is_empty()));
        assert!(wait_until(5, || kubelets_of(&s).is_empty()));
    }
    // A Job's pods may not restart Always.
    let s = Skiff::with_busybox(Mode::Rootless);
    let bad = BATCH
        .split("---")
        .next()
        .unwrap()
        .replace("restartPolicy: Never", "restartPolicy: Always");
    let f = manifest(&s, "bad.yaml", &bad);
    let err = s.fails(&["kube", "play", &f], 125);
    assert!(
        err.contains("restartPolicy") && err.contains("OnFailure"),
        "{err}"
    );
}

/// Seconds since the epoch of an RFC 3339 time.
fn libruntime_time(t: &str) -> f64 {
    chrono::DateTime::parse_from_rfc3339(t)
        .unwrap()
        .timestamp_millis() as f64
        / 1000.0
}

const STS: &str = r#"apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  replicas: 3
  serviceName: db
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      terminationGracePeriodSeconds: 0
      containers:
      - name: c
        image: busybox
        command: ["sh", "-c", "sleep 1; touch /tmp/up; exec sleep 1000"]
        readinessProbe:
          exec: {command: ["test", "-e", "/tmp/up"]}
          periodSeconds: 1
  volumeClaimTemplates:
  - metadata: {name: data}
    spec:
      accessModes: [ReadWriteOnce]
      resources: {requests: {storage: 1Gi}}
"#;

fn started_at(s: &Skiff, pod: &str) -> f64 {
    let p = s.kube_pod(pod);
    let c = &p["status"]["containerStatuses"][0];
    let t = c["state"]["running"]["startedAt"]
        .as_str()
        .unwrap_or("1970-01-01T00:00:00Z");
    libruntime_time(t)
}

#[test]
fn a_statefulset_starts_in_order_scales_down_in_reverse_and_keeps_its_claims() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        let f = manifest(&s, "db.yaml", STS);
        s.ok(&["kube", "play", "--validate", "strict", &f]);
        assert!(
            wait_until(40, || running_pods(&s) == 3
                && s.ok(&["kube", "get", "sts"]).contains("3/3")),
            "{mode:?}"
        );
        assert_eq!(names(&s, "pods"), ["db-0", "db-1", "db-2"]);
        // Each started only once the one before was Ready (a second after its start).
        let (t0, t1, t2) = (
            started_at(&s, "db-0"),
            started_at(&s, "db-1"),
            started_at(&s, "db-2"),
        );
        assert!(t1 - t0 >= 1.0 && t2 - t1 >= 1.0, "{t0} {t1} {t2}");
        assert_eq!(
            s.ok(&["kube", "exec", "db-2", "--", "hostname"]).trim(),
            "db-2"
        );
        assert_eq!(names(&s, "pvc"), ["data-db-0", "data-db-1", "data-db-2"]);
        // Scaling to 1 removes db-2, then db-1: never a gap below the highest.
        let one = manifest(&s, "db1.yaml", &STS.replace("replicas: 3", "replicas: 1"));
        s.ok(&["kube", "play", &one]);
        let mut seen = Vec::new();
        assert!(wait_until(30, || {
            let now = names(&s, "pods");
            if seen.last() != Some(&now) {
                seen.push(now.clone());
            }
            now == ["db-0"]
        }));
        for state in &seen {
            let ordinals: Vec<usize> = state.iter().map(|p| p[3..].parse().unwrap()).collect();
            assert!(
                ordinals.iter().enumerate().all(|(i, o)| i == *o),
                "a gap: {seen:?}"
            );
        }
        // A deleted pod comes back with the same name.
        s.ok(&["kube", "delete", "pod", "db-0"]);
        assert!(wait_until(20, || names(&s, "pods") == ["db-0"]
            && running_pods(&s) == 1));
        // The claims outlive the StatefulSet.
        s.ok(&["kube", "delete", "sts", "db"]);
        assert!(names(&s, "pods").is_empty());
        assert_eq!(names(&s, "pvc"), ["data-db-0", "data-db-1", "data-db-2"]);
        assert!(wait_until(10, || s
            .ok(&["ps", "-a", "-q"])
            .trim()
            .is_empty()));
    }
}

#[test]
fn a_cronjob_runs_its_job_on_schedule() {
    let s = Skiff::with_busybox(Mode::Rootless);
    let yaml = r#"apiVersion: batch/v1
kind: CronJob
metadata: {name: tick}
spec:
  schedule: "* * * * *"
  timeZone: Etc/UTC
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers:
          - {name: c, image: busybox, command: ["echo", "ticked"]}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: paused}
spec:
  schedule: "* * * * *"
  suspend: true
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers:
          - {name: c, image: busybox, command: ["true"]}
"#;
    let f = manifest(&s, "cron.yaml", yaml);
    s.ok(&["kube", "play", "--validate", "strict", &f]);
    // The next minute's run: a Job named after its minute, which completes.
    assert!(wait_until(75, || names(&s, "jobs")
        .iter()
        .any(|j| j.starts_with("tick-"))));
    let job = names(&s, "jobs")
        .into_iter()
        .find(|j| j.starts_with("tick-"))
        .unwrap();
    let minute: i64 = job["tick-".len()..].parse().unwrap();
    assert_eq!(minute * 60 % 60, 0);
    assert!(wait_until(30, || job_condition(&job_json(&s, &job)) == "Complete"));
    let pod = names(&s, "pods")
        .into_iter()
        .find(|p| p.starts_with(&job))
        .unwrap();
    assert_eq!(s.ok(&["kube", "logs", &pod]).trim(), "ticked");
    let table = s.ok(&["kube", "get", "cj"]);
    let head: Vec<&str> = table.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(
        head,
        ["NAME", "SCHEDULE", "TIMEZONE", "SUSPEND", "ACTIVE", "LAST", "SCHEDULE", "AGE"]
    );
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("paused") && l.contains("True")),
        "{table}"
    );
    assert!(
        !names(&s, "jobs").iter().any(|j| j.starts_with("paused-")),
        "a suspended CronJob runs nothing"
    );
    // Deleting the CronJob deletes its Jobs and their pods.
    s.ok(&["kube", "down", &f]);
    assert!(names(&s, "jobs").is_empty() && names(&s, "pods").is_empty());
    assert!(wait_until(10, || s
        .ok(&["ps", "-a", "-q"])
        .trim()
        .is_empty()));
    for (bad, why) in [
        (
            yaml.replace("* * * * *\"\n  timeZone", "61 * * * *\"\n  timeZone"),
            "spec.schedule",
        ),
        (yaml.replace("Etc/UTC", "Mars/Olympus"), "spec.timeZone"),
    ] {
        let f = manifest(&s, "bad-cron.yaml", &bad);
        let err = s.fails(&["kube", "play", &f], 125);
        assert!(err.contains(why), "{err}");
    }
}

/// A namespace deletion cut short (the command killed while a pod's grace period
/// runs) leaves it Terminating; the next kube command finishes it.
#[test]
fn an_interrupted_namespace_deletion_is_finished_by_the_next_command() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        s.ok(&["kube", "create", "namespace", "slow"]);
        let yaml = r#"apiVersion: v1
kind: Pod
metadata: {name: stubborn, namespace: slow}
spec:
  terminationGracePeriodSeconds: 4
  containers:
  - name: main
    image: busybox
    command: [sh, -c, "trap '' TERM; while true; do sleep 1; done"]
"#;
        let f = s.share("slow.yaml", yaml.as_bytes());
        s.ok(&["kube", "play", "--wait", &f.display().to_string()]);
        let mut delete = s.spawn(&["kube", "delete", "namespace", "slow"]);
        // Read from the store itself: a kube command would finish the deletion.
        let stored = s.root().join("kube/objects/_cluster/namespaces/slow.json");
        assert!(wait_until(10, || std::fs::read_to_string(&stored)
            .is_ok_and(|t| t.contains("Terminating"))));
        // Killed mid-way, as a closed terminal or an OOM kill would (rootless, the
        // skiff under runuser).
        kill_spawned(&mut delete, nix::sys::signal::Signal::SIGKILL);
        assert!(std::fs::read_to_string(&stored).is_ok_and(|t| t.contains("Terminating")));
        let listed = s.run(&["kube", "get", "ns", "slow", "-o", "json"]);
        // This command (or the killed one, had it got that far) finished it.
        assert!(
            !listed.status.success(),
            "{}",
            String::from_utf8_lossy(&listed.stdout)
        );
        assert!(
            !s.ok(&["ps", "-a"]).contains("stubborn"),
            "{}",
            s.ok(&["ps", "-a"])
        );
        assert!(!s.ok(&["kube", "get", "pods", "-A"]).contains("stubborn"));
    }
}
