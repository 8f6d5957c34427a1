//! PersistentVolumes, claims and StorageClasses through `kube play`: a claim binds the
//! smallest fitting volume, waits (Pending, with Kubernetes' event) when none fits and
//! binds when one is played; a pod whose claim is unbound is Unschedulable; the
//! default class provisions a skiff volume when the first pod uses the claim; data
//! outlives pods; reclaim policies run when claims go; StatefulSet claims stay with
//! their ordinals; admission refuses with the API server's words.

mod common;
use common::*;
use serde_json::Value;

fn play(s: &Skiff, name: &str, yaml: &str) -> String {
    let f = s.share(name, yaml.as_bytes());
    s.ok(&["kube", "play", &f.display().to_string()])
}

fn play_fails(s: &Skiff, name: &str, yaml: &str) -> String {
    let f = s.share(name, yaml.as_bytes());
    s.fails(&["kube", "play", &f.display().to_string()], 125)
}

/// The object as JSON; null when it does not exist (yet).
fn get(s: &Skiff, kind: &str, name: &str) -> Value {
    let out = s.run(&["kube", "get", kind, name, "-o", "json"]);
    serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
}

fn phase(s: &Skiff, kind: &str, name: &str) -> String {
    get(s, kind, name)["status"]["phase"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

fn wait_phase(s: &Skiff, kind: &str, name: &str, want: &str) {
    assert!(
        wait_until(60, || phase(s, kind, name) == want),
        "{kind}/{name} never became {want}: {}",
        get(s, kind, name)
    );
}

fn volume(name: &str, size: &str, dir: &std::path::Path, extra: &str) -> String {
    format!(
        "apiVersion: v1\nkind: PersistentVolume\nmetadata: {{name: {name}}}\nspec:\n  capacity: {{storage: {size}}}\n  accessModes: [ReadWriteOnce]\n  storageClassName: \"\"\n  hostPath: {{path: {}}}\n{extra}---\n",
        dir.display()
    )
}

fn claim(name: &str, size: &str, extra: &str) -> String {
    format!(
        "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {{name: {name}}}\nspec:\n  accessModes: [ReadWriteOnce]\n  resources: {{requests: {{storage: {size}}}}}\n{extra}---\n"
    )
}

/// A pod that writes `line` to /data/log on start, then sleeps.
fn pod(name: &str, claim: &str, line: &str) -> String {
    format!(
        r#"apiVersion: v1
kind: Pod
metadata: {{name: {name}}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: busybox
    command: [sh, -c, "echo {line} >> /data/log; exec sleep 1000"]
    volumeMounts: [{{name: data, mountPath: /data}}]
  volumes:
  - name: data
    persistentVolumeClaim: {{claimName: {claim}}}
---
"#
    )
}

fn events_of(s: &Skiff, kind: &str, name: &str) -> String {
    s.ok(&["kube", "describe", kind, name])
}

#[test]
fn claims_bind_the_smallest_fitting_volume_and_wait_for_one() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        let dirs: Vec<_> = ["small", "mid", "big", "gold", "giant", "recycled", "doomed"]
            .iter()
            .map(|n| host_dir(&s, n))
            .collect();
        let mut yaml = volume("small", "1Gi", &dirs[0], "");
        yaml += &volume("mid", "5Gi", &dirs[1], "");
        yaml += &volume("big", "10Gi", &dirs[2], "");
        yaml += &volume("gold", "20Gi", &dirs[3], "").replace(
            "metadata: {name: gold}",
            "metadata: {name: gold, labels: {tier: gold}}",
        );
        yaml += &claim("data", "2Gi", "  storageClassName: \"\"\n");
        yaml += &claim(
            "picky",
            "1Gi",
            "  storageClassName: \"\"\n  selector: {matchLabels: {tier: gold}}\n",
        );
        yaml += &claim("huge", "40Gi", "  storageClassName: \"\"\n");
        let out = play(&s, "storage.yaml", &yaml);
        assert!(out.contains("persistentvolume/small created"), "{out}");
        assert!(out.contains("persistentvolumeclaim/data created"), "{out}");

        // The smallest volume that holds 2Gi; the selector's pick, though larger.
        assert_eq!(
            get(&s, "pvc", "data")["spec"]["volumeName"],
            "mid",
            "{mode:?}"
        );
        assert_eq!(phase(&s, "pvc", "data"), "Bound");
        assert_eq!(
            get(&s, "pvc", "data")["status"]["capacity"]["storage"],
            "5Gi"
        );
        assert_eq!(get(&s, "pv", "mid")["spec"]["claimRef"]["name"], "data");
        assert_eq!(get(&s, "pvc", "picky")["spec"]["volumeName"], "gold");
        assert_eq!(phase(&s, "pv", "small"), "Available");
        let table = s.ok(&["kube", "get", "pv"]);
        assert!(
            table.lines().next().unwrap().starts_with(
                "NAME    CAPACITY   ACCESS MODES   RECLAIM POLICY   STATUS      CLAIM"
            ),
            "{table}"
        );
        assert!(table.contains("default/data"), "{table}");

        // Nothing holds 40Gi: Pending, with the controller's event; a pod using it
        // is not placed.
        assert_eq!(phase(&s, "pvc", "huge"), "Pending");
        let d = events_of(&s, "pvc", "huge");
        assert!(
            d.contains("FailedBinding")
                && d.contains(
                    "no persistent volumes available for this claim and no storage class is set"
                ),
            "{d}"
        );
        play(&s, "user.yaml", &pod("user", "huge", "first"));
        assert!(wait_until(30, || {
            get(&s, "pod", "user")["status"]["conditions"]
                .as_array()
                .is_some_and(|c| c.iter().any(|c| c["reason"] == "Unschedulable"))
        }));
        let p = get(&s, "pod", "user");
        assert_eq!(p["status"]["phase"], "Pending");
        let why = p["status"]["conditions"][0]["message"].as_str().unwrap();
        assert!(
            why.contains("pod has unbound immediate PersistentVolumeClaims"),
            "{why}"
        );
        let d = events_of(&s, "pod", "user");
        assert!(d.contains("FailedScheduling"), "{d}");
        assert!(s.ok(&["kube", "get", "pods"]).contains("0/1     Pending"));

        // A volume that fits appears: the claim binds, the pod starts and writes.
        play(&s, "giant.yaml", &volume("giant", "50Gi", &dirs[4], ""));
        assert_eq!(phase(&s, "pvc", "huge"), "Bound");
        wait_phase(&s, "pod", "user", "Running");
        assert!(wait_until(20, || std::fs::read_to_string(
            dirs[4].join("log")
        )
        .is_ok_and(|l| l == "first\n")));

        // The claim goes (after its pod): Retain keeps the data and the volume
        // Released; a new claim of the same name does not get it back.
        s.ok(&["kube", "delete", "pod", "user"]);
        s.ok(&["kube", "delete", "pvc", "huge"]);
        assert_eq!(phase(&s, "pv", "giant"), "Released");
        assert!(dirs[4].join("log").exists());
        play(
            &s,
            "again.yaml",
            &claim("huge", "40Gi", "  storageClassName: \"\"\n"),
        );
        assert_eq!(phase(&s, "pvc", "huge"), "Pending");
        s.ok(&["kube", "delete", "pvc", "huge"]);

        // Recycle scrubs the data and offers the volume again; Delete on a volume
        // no provisioner made fails, as it does in Kubernetes.
        let mut yaml = volume(
            "recycled",
            "100Gi",
            &dirs[5],
            "  persistentVolumeReclaimPolicy: Recycle\n",
        );
        yaml += &volume(
            "doomed",
            "200Gi",
            &dirs[6],
            "  persistentVolumeReclaimPolicy: Delete\n",
        );
        yaml += &claim(
            "r",
            "100Gi",
            "  storageClassName: \"\"\n  volumeName: recycled\n",
        );
        yaml += &claim(
            "d",
            "200Gi",
            "  storageClassName: \"\"\n  volumeName: doomed\n",
        );
        play(&s, "policies.yaml", &yaml);
        assert_eq!(get(&s, "pvc", "r")["spec"]["volumeName"], "recycled");
        std::fs::write(dirs[5].join("old"), "x").unwrap();
        s.ok(&["kube", "delete", "pvc", "r"]);
        assert_eq!(phase(&s, "pv", "recycled"), "Available");
        assert!(get(&s, "pv", "recycled")["spec"]["claimRef"].is_null());
        assert!(!dirs[5].join("old").exists());
        s.ok(&["kube", "delete", "pvc", "d"]);
        let pv = get(&s, "pv", "doomed");
        assert_eq!(pv["status"]["phase"], "Failed");
        assert_eq!(
            pv["status"]["message"],
            "error getting deleter volume plugin for volume \"doomed\": no deletable volume plugin matched"
        );
        // A bound volume deleted under its claim: the claim is Lost.
        s.ok(&["kube", "delete", "pv", "mid"]);
        assert_eq!(phase(&s, "pvc", "data"), "Lost");
        let d = events_of(&s, "pvc", "data");
        assert!(d.contains("ClaimLost"), "{d}");
        s.ok(&[
            "kube",
            "down",
            &s.dir.join("storage.yaml").display().to_string(),
        ]);
    }
}

#[test]
fn the_default_class_provisions_a_volume_that_outlives_pods() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        let classes = s.ok(&["kube", "get", "sc"]);
        assert!(
            classes.contains("standard (default)   skiff.io/volume   Delete          WaitForFirstConsumer   true"),
            "{classes}"
        );
        // No pod yet: the claim waits for its first consumer, and no volume is made.
        play(&s, "claim.yaml", &claim("data", "1Gi", ""));
        assert_eq!(
            get(&s, "pvc", "data")["spec"]["storageClassName"],
            "standard"
        );
        assert_eq!(phase(&s, "pvc", "data"), "Pending");
        let d = events_of(&s, "pvc", "data");
        assert!(
            d.contains("WaitForFirstConsumer")
                && d.contains("waiting for first consumer to be created before binding"),
            "{d}"
        );
        assert_eq!(s.ok(&["volume", "ls", "-q"]).trim(), "");

        // The first pod: a volume is provisioned and bound; its data outlives the pod.
        play(&s, "one.yaml", &pod("one", "data", "from-one"));
        wait_phase(&s, "pod", "one", "Running");
        let pv = get(&s, "pvc", "data")["spec"]["volumeName"]
            .as_str()
            .unwrap()
            .to_string();
        let uid = get(&s, "pvc", "data")["metadata"]["uid"]
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(pv, format!("pvc-{uid}"));
        assert_eq!(s.ok(&["volume", "ls", "-q"]).trim(), pv);
        assert_eq!(
            get(&s, "pv", &pv)["metadata"]["annotations"]["pv.kubernetes.io/provisioned-by"],
            "skiff.io/volume"
        );
        let d = events_of(&s, "pvc", "data");
        assert!(d.contains("ProvisioningSucceeded"), "{d}");
        s.ok(&["kube", "delete", "pod", "one"]);
        play(&s, "two.yaml", &pod("two", "data", "from-two"));
        wait_phase(&s, "pod", "two", "Running");
        assert!(wait_until(20, || s.ok(&[
            "kube",
            "exec",
            "two",
            "--",
            "cat",
            "/data/log"
        ]) == "from-one\nfrom-two\n"));

        // Deleting a claim in use only marks it; it goes with its pod, and the
        // Delete policy takes the volume and its data with it.
        s.ok(&["kube", "delete", "pvc", "data"]);
        assert!(get(&s, "pvc", "data")["metadata"]["deletionTimestamp"].is_string());
        assert!(s.ok(&["kube", "get", "pvc"]).contains("Terminating"));
        s.ok(&["kube", "delete", "pod", "two"]);
        assert!(s.run(&["kube", "get", "pvc", "data"]).status.code() == Some(125));
        assert!(s.run(&["kube", "get", "pv", &pv]).status.code() == Some(125));
        assert_eq!(s.ok(&["volume", "ls", "-q"]).trim(), "");

        // A Retain class keeps the volume and its data after the claim.
        let keep = "apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {name: keep}\nprovisioner: skiff.io/volume\nreclaimPolicy: Retain\nvolumeBindingMode: Immediate\nallowVolumeExpansion: true\n---\n";
        play(
            &s,
            "keep.yaml",
            &format!(
                "{keep}{}",
                claim("kept", "1Gi", "  storageClassName: keep\n")
            ),
        );
        // Immediate: bound at once, before any pod.
        assert_eq!(phase(&s, "pvc", "kept"), "Bound");
        let kept_pv = get(&s, "pvc", "kept")["spec"]["volumeName"]
            .as_str()
            .unwrap()
            .to_string();
        s.ok(&["kube", "delete", "pvc", "kept"]);
        assert_eq!(phase(&s, "pv", &kept_pv), "Released");
        assert_eq!(s.ok(&["volume", "ls", "-q"]).trim(), kept_pv);

        // Growing a provisioned claim; shrinking it is refused.
        play(
            &s,
            "grow.yaml",
            &claim("grow", "1Gi", "  storageClassName: keep\n"),
        );
        play(
            &s,
            "grow.yaml",
            &claim("grow", "3Gi", "  storageClassName: keep\n"),
        );
        assert!(wait_until(10, || get(&s, "pvc", "grow")["status"]
            ["capacity"]["storage"]
            == "3Gi"));
        let e = play_fails(
            &s,
            "grow.yaml",
            &claim("grow", "2Gi", "  storageClassName: keep\n"),
        );
        assert!(
            e.contains("field can not be less than previous value"),
            "{e}"
        );

        // An ephemeral volume: a claim made for the pod, gone with it.
        let eph = r#"apiVersion: v1
kind: Pod
metadata: {name: eph}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: busybox
    command: [sh, -c, "echo x > /scratch/f; exec sleep 1000"]
    volumeMounts: [{name: scratch, mountPath: /scratch}]
  volumes:
  - name: scratch
    ephemeral:
      volumeClaimTemplate:
        spec:
          accessModes: [ReadWriteOnce]
          resources: {requests: {storage: 100Mi}}
"#;
        let before = s.ok(&["volume", "ls", "-q"]);
        play(&s, "eph.yaml", eph);
        wait_phase(&s, "pod", "eph", "Running");
        let c = get(&s, "pvc", "eph-scratch");
        assert_eq!(c["metadata"]["ownerReferences"][0]["kind"], "Pod");
        assert_eq!(c["status"]["phase"], "Bound");
        s.ok(&["kube", "delete", "pod", "eph"]);
        assert!(s.run(&["kube", "get", "pvc", "eph-scratch"]).status.code() == Some(125));
        assert_eq!(s.ok(&["volume", "ls", "-q"]), before);

        // A namespace's deletion takes its claims and their volumes, and nothing else.
        s.ok(&["kube", "create", "namespace", "scratch"]);
        let in_ns = pod("p", "c", "x").replace(
            "metadata: {name: p}",
            "metadata: {name: p, namespace: scratch}",
        );
        let c = claim("c", "1Gi", "").replace(
            "metadata: {name: c}",
            "metadata: {name: c, namespace: scratch}",
        );
        play(&s, "ns.yaml", &format!("{c}{in_ns}"));
        assert!(wait_until(60, || {
            let p: Value = serde_json::from_str(
                &s.ok(&["kube", "get", "pod", "p", "-n", "scratch", "-o", "json"]),
            )
            .unwrap();
            p["status"]["phase"] == "Running"
        }));
        assert_eq!(s.ok(&["volume", "ls", "-q"]).lines().count(), 3);
        s.ok(&["kube", "delete", "namespace", "scratch"]);
        assert_eq!(s.ok(&["volume", "ls", "-q"]), before);
    }
}

#[test]
fn stateful_set_claims_bind_per_ordinal() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        let sts = r#"apiVersion: apps/v1
kind: StatefulSet
metadata: {name: web}
spec:
  replicas: 2
  serviceName: web
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: main
        image: busybox
        command: [sh, -c, "hostname >> /data/id; exec sleep 1000"]
        volumeMounts: [{name: data, mountPath: /data}]
  volumeClaimTemplates:
  - metadata: {name: data}
    spec:
      accessModes: [ReadWriteOnce]
      resources: {requests: {storage: 1Gi}}
"#;
        let f = s.share("sts.yaml", sts.as_bytes());
        s.ok(&["kube", "play", "--wait", &f.display().to_string()]);
        assert!(wait_until(60, || phase(&s, "pod", "web-1") == "Running"));
        let v0 = get(&s, "pvc", "data-web-0")["spec"]["volumeName"].clone();
        let v1 = get(&s, "pvc", "data-web-1")["spec"]["volumeName"].clone();
        assert!(v0.is_string() && v1.is_string() && v0 != v1, "{v0} {v1}");
        // web-0 comes back with its own claim: its data is there.
        s.ok(&["kube", "delete", "pod", "web-0"]);
        assert!(wait_until(60, || s
            .run(&["kube", "exec", "web-0", "--", "cat", "/data/id"])
            .stdout
            == b"web-0\nweb-0\n"));
        assert_eq!(get(&s, "pvc", "data-web-0")["spec"]["volumeName"], v0);
        // The set goes; its claims stay, as with Kubernetes' default retention.
        s.ok(&["kube", "delete", "statefulset", "web"]);
        assert_eq!(phase(&s, "pvc", "data-web-1"), "Bound");
        assert_eq!(s.ok(&["volume", "ls", "-q"]).lines().count(), 2);
    }
}

#[test]
fn storage_is_admitted_as_the_api_server_does() {
    let s = Skiff::with_busybox(Mode::Rootless);
    let before = s.ok(&["kube", "get", "pvc", "-A", "-o", "name"]);
    for (yaml, want) in [
        (
            "apiVersion: v1\nkind: PersistentVolume\nmetadata: {name: rel}\nspec:\n  capacity: {storage: 1Gi}\n  accessModes: [ReadWriteOnce]\n  hostPath: {path: relative/dir}\n".to_string(),
            "spec.hostPath.path: Invalid value: \"relative/dir\": must be an absolute path",
        ),
        (
            "apiVersion: v1\nkind: PersistentVolume\nmetadata: {name: nosrc}\nspec:\n  capacity: {storage: 1Gi}\n  accessModes: [ReadWriteOnce]\n".to_string(),
            "spec: Required value: must specify a volume type",
        ),
        (
            "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: nomode}\nspec:\n  resources: {requests: {storage: 1Gi}}\n".to_string(),
            "spec.accessModes: Required value: at least 1 access mode is required",
        ),
        (
            claim("zero", "0", ""),
            "spec.resources[storage]: Invalid value: \"0\": must be greater than zero",
        ),
        (
            claim("badmode", "1Gi", "").replace("[ReadWriteOnce]", "[WriteSometimes]"),
            "WriteSometimes",
        ),
        (
            "apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {name: r}\nprovisioner: skiff.io/volume\nreclaimPolicy: Recycle\n".to_string(),
            "reclaimPolicy: Unsupported value: \"Recycle\"",
        ),
    ] {
        let e = play_fails(&s, "bad.yaml", &yaml);
        assert!(e.contains(want), "{yaml}\n{e}");
    }
    // LimitRange and quota on claims, with their texts; nothing is stored.
    let rules = r#"apiVersion: v1
kind: LimitRange
metadata: {name: storage}
spec:
  limits:
  - type: PersistentVolumeClaim
    min: {storage: 1Gi}
    max: {storage: 2Gi}
---
apiVersion: v1
kind: ResourceQuota
metadata: {name: q}
spec:
  hard: {requests.storage: 3Gi, persistentvolumeclaims: "2"}
"#;
    play(&s, "rules.yaml", rules);
    let e = play_fails(&s, "c.yaml", &claim("tiny", "500Mi", ""));
    assert!(e.contains("persistentvolumeclaims \"tiny\" is forbidden: minimum storage usage per PersistentVolumeClaim is 1Gi, but request is 500Mi"), "{e}");
    let e = play_fails(&s, "c.yaml", &claim("vast", "5Gi", ""));
    assert!(
        e.contains("maximum storage usage per PersistentVolumeClaim is 2Gi, but request is 5Gi"),
        "{e}"
    );
    play(&s, "c.yaml", &claim("a", "2Gi", ""));
    let e = play_fails(&s, "c.yaml", &claim("b", "2Gi", ""));
    assert!(
        e.contains("persistentvolumeclaims \"b\" is forbidden: exceeded quota: q, requested: requests.storage=2Gi, used: requests.storage=2Gi, limited: requests.storage=3Gi"),
        "{e}"
    );
    let q = get(&s, "quota", "q");
    assert_eq!(q["status"]["used"]["requests.storage"], "2Gi");
    assert_eq!(q["status"]["used"]["persistentvolumeclaims"], "1");
    // A claim's spec is fixed once made, but for its requested storage.
    let e = play_fails(
        &s,
        "c.yaml",
        &claim("a", "2Gi", "  volumeName: elsewhere\n"),
    );
    assert!(e.contains("spec is immutable after creation"), "{e}");
    let after = s.ok(&["kube", "get", "pvc", "-A", "-o", "name"]);
    assert_eq!(
        after.trim(),
        format!("{}persistentvolumeclaim/a", before).trim()
    );
}

#[test]
fn an_empty_dir_over_its_size_limit_evicts_the_pod() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        let yaml = r#"apiVersion: v1
kind: Pod
metadata: {name: greedy}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: busybox
    command: [sh, -c, "sleep 1; head -c 3000000 /dev/zero > /scratch/big; exec sleep 1000"]
    volumeMounts:
    - {name: scratch, mountPath: /scratch}
    - {name: mem, mountPath: /mem}
  volumes:
  - name: scratch
    emptyDir: {sizeLimit: 1Mi}
  - name: mem
    emptyDir: {medium: Memory, sizeLimit: 2Mi}
"#;
        play(&s, "greedy.yaml", yaml);
        wait_phase(&s, "pod", "greedy", "Failed");
        let p = get(&s, "pod", "greedy");
        assert_eq!(p["status"]["reason"], "Evicted");
        assert_eq!(
            p["status"]["message"],
            "Usage of EmptyDir volume \"scratch\" exceeds the limit \"1Mi\". "
        );
        assert!(events_of(&s, "pod", "greedy").contains("Evicted"));
        s.ok(&["kube", "delete", "pod", "greedy"]);
        if mode == Mode::Root {
            // As root, a memory volume is a tmpfs of its size: writes past it fail.
            let yaml = r#"apiVersion: v1
kind: Pod
metadata: {name: mem}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: busybox
    command: [sleep, "1000"]
    volumeMounts: [{name: mem, mountPath: /mem}]
  volumes:
  - name: mem
    emptyDir: {medium: Memory, sizeLimit: 2Mi}
"#;
            play(&s, "mem.yaml", yaml);
            wait_phase(&s, "pod", "mem", "Running");
            let out = s.run(&[
                "kube",
                "exec",
                "mem",
                "--",
                "sh",
                "-c",
                "grep ' /mem ' /proc/mounts; head -c 3000000 /dev/zero > /mem/big",
            ]);
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(
                text.contains("tmpfs /mem tmpfs") && text.contains("size=2048k"),
                "{text}"
            );
            assert!(!out.status.success());
            s.ok(&["kube", "delete", "pod", "mem"]);
        }
    }
}
