//! ConfigMaps, Secrets and pod volumes: kubectl's own manifests reach pods as env,
//! envFrom, files with their modes and items, and downward API values; a changed
//! ConfigMap reaches a running pod's files; Secret values stay out of records,
//! inspect output, events and `kube get`.

mod common;
use common::*;
use std::process::Command;

/// `kubectl create … --dry-run=client -o yaml` (client side only).
fn kubectl(args: &[&str]) -> String {
    let out = Command::new("kubectl")
        .args(args)
        .args(["--dry-run=client", "-o", "yaml"])
        .output()
        .expect("kubectl");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

const SECRET_VALUE: &str = "s3cr3t-Value-42";

fn config_map(greeting: &str, conf: &std::path::Path) -> String {
    kubectl(&[
        "create",
        "configmap",
        "app-config",
        &format!("--from-literal=GREETING={greeting}"),
        "--from-literal=mode=fast",
        &format!("--from-file=app.conf={}", conf.display()),
    ])
}

fn pod_yaml(host_dir: &str) -> String {
    format!(
        r#"apiVersion: v1
kind: Pod
metadata:
  name: cfg
  labels: {{app: cfg}}
  annotations: {{note: hi}}
spec:
  terminationGracePeriodSeconds: 1
  volumes:
  - name: conf
    configMap: {{name: app-config}}
  - name: items
    configMap:
      name: app-config
      defaultMode: 0640
      items: [{{key: mode, path: sub/mode.txt, mode: 0400}}]
  - name: sec
    secret: {{secretName: db, defaultMode: 0600}}
  - name: info
    downwardAPI:
      items:
      - {{path: labels, fieldRef: {{fieldPath: metadata.labels}}}}
      - {{path: name, fieldRef: {{fieldPath: metadata.name}}}}
  - name: both
    projected:
      sources:
      - configMap: {{name: app-config, items: [{{key: GREETING, path: greeting}}]}}
      - downwardAPI: {{items: [{{path: ns, fieldRef: {{fieldPath: metadata.namespace}}}}]}}
  - name: scratch
    emptyDir: {{}}
  - name: mem
    emptyDir: {{medium: Memory}}
  - name: host
    hostPath: {{path: {host_dir}, type: DirectoryOrCreate}}
  containers:
  - name: main
    image: busybox
    command: [sleep, "1000"]
    env:
    - name: FROM_CM
      valueFrom: {{configMapKeyRef: {{name: app-config, key: GREETING}}}}
    - name: PASSWORD
      valueFrom: {{secretKeyRef: {{name: db, key: password}}}}
    - name: MISSING_OK
      valueFrom: {{configMapKeyRef: {{name: nope, key: x, optional: true}}}}
    - name: POD_NAME
      valueFrom: {{fieldRef: {{fieldPath: metadata.name}}}}
    - name: POD_IP
      valueFrom: {{fieldRef: {{fieldPath: status.podIP}}}}
    envFrom:
    - prefix: CFG_
      configMapRef: {{name: app-config}}
    volumeMounts:
    - {{name: conf, mountPath: /etc/conf}}
    - {{name: conf, mountPath: /etc/pinned.conf, subPath: app.conf}}
    - {{name: items, mountPath: /etc/items}}
    - {{name: sec, mountPath: /etc/sec}}
    - {{name: info, mountPath: /etc/info}}
    - {{name: both, mountPath: /etc/both}}
    - {{name: scratch, mountPath: /scratch}}
    - {{name: mem, mountPath: /mem}}
    - {{name: host, mountPath: /host}}
  - name: second
    image: busybox
    command: [sleep, "1000"]
    volumeMounts:
    - {{name: scratch, mountPath: /shared}}
"#
    )
}

fn sh(s: &Skiff, container: &str, script: &str) -> String {
    s.ok(&[
        "kube", "exec", "cfg", "-c", container, "--", "sh", "-c", script,
    ])
    .trim()
    .to_string()
}

#[test]
fn config_maps_secrets_and_volumes_reach_pods_as_kubernetes_gives_them() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        let conf = s.share("app.conf", b"listen=8080\n");
        let host_dir = s.dir.join("hostdir");
        let cm = s.share("cm.yaml", config_map("hello", &conf).as_bytes());
        let secret = kubectl(&[
            "create",
            "secret",
            "generic",
            "db",
            &format!("--from-literal=password={SECRET_VALUE}"),
        ]);
        let sec = s.share("secret.yaml", secret.as_bytes());
        let pod = s.share(
            "pod.yaml",
            pod_yaml(&host_dir.display().to_string()).as_bytes(),
        );
        // The pod first: its kubelet waits for what it reads, as on a cluster.
        s.ok(&["kube", "play", "--start=false", &pod.display().to_string()]);
        s.ok(&["kube", "play", &sec.display().to_string()]);
        s.ok(&["kube", "play", &cm.display().to_string()]);
        s.ok(&["kube", "play", "--wait", &pod.display().to_string()]);

        let env = sh(
            &s,
            "main",
            "echo $FROM_CM $PASSWORD $POD_NAME $CFG_mode ${MISSING_OK-unset}",
        );
        assert_eq!(
            env,
            format!("hello {SECRET_VALUE} cfg fast unset"),
            "{mode:?}"
        );
        let v = s.kube_pod("cfg");
        assert_eq!(
            sh(&s, "main", "echo $POD_IP"),
            v["status"]["podIP"].as_str().unwrap()
        );

        assert_eq!(
            sh(&s, "main", "cat /etc/conf/GREETING /etc/conf/app.conf"),
            "hellolisten=8080"
        );
        assert_eq!(sh(&s, "main", "cat /etc/pinned.conf"), "listen=8080");
        assert_eq!(
            sh(
                &s,
                "main",
                "stat -L -c %a /etc/items/sub/mode.txt; cat /etc/items/sub/mode.txt"
            ),
            "400\nfast"
        );
        assert_eq!(sh(&s, "main", "ls /etc/items"), "sub");
        assert_eq!(
            sh(
                &s,
                "main",
                "stat -L -c %a /etc/sec/password; cat /etc/sec/password"
            ),
            format!("600\n{SECRET_VALUE}")
        );
        assert_eq!(sh(&s, "main", "cat /etc/info/name"), "cfg");
        assert_eq!(sh(&s, "main", "cat /etc/info/labels"), "app=\"cfg\"");
        assert_eq!(
            sh(&s, "main", "cat /etc/both/greeting; echo; cat /etc/both/ns"),
            "hello\ndefault"
        );
        // Mounted configuration is read-only; emptyDir is shared and writable.
        assert!(
            s.run(&[
                "kube",
                "exec",
                "cfg",
                "-c",
                "main",
                "--",
                "touch",
                "/etc/conf/new"
            ])
            .status
            .code()
                != Some(0)
        );
        sh(
            &s,
            "main",
            "echo shared > /scratch/x && echo mem > /mem/y && echo host > /host/z",
        );
        assert_eq!(sh(&s, "second", "cat /shared/x"), "shared");
        assert_eq!(
            std::fs::read_to_string(host_dir.join("z")).unwrap().trim(),
            "host"
        );

        // A new play of the ConfigMap reaches the files; env and subPath stay.
        let cm2 = s.share("cm2.yaml", config_map("bye", &conf).as_bytes());
        s.ok(&["kube", "play", &cm2.display().to_string()]);
        assert!(
            wait_until(10, || sh(&s, "main", "cat /etc/conf/GREETING") == "bye"),
            "{mode:?}: the mounted ConfigMap did not change"
        );
        assert_eq!(sh(&s, "main", "cat /etc/both/greeting"), "bye");
        assert_eq!(sh(&s, "main", "echo $FROM_CM"), "hello");

        // The Secret's value is nowhere it must not be.
        let cid = v["status"]["containerStatuses"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == "main")
            .unwrap()["containerID"]
            .as_str()
            .unwrap()
            .trim_start_matches("skiff://")
            .to_string();
        let b64 = "czNjcjN0LVZhbHVlLTQy";
        for (what, text) in [
            ("inspect", s.ok(&["inspect", &cid])),
            (
                "get -o yaml",
                s.ok(&["kube", "get", "secret", "db", "-o", "yaml"]),
            ),
            (
                "get pod -o yaml",
                s.ok(&["kube", "get", "pod", "cfg", "-o", "yaml"]),
            ),
            ("describe", s.ok(&["kube", "describe", "secret", "db"])),
            ("events", s.ok(&["kube", "get", "events"])),
            ("logs", s.ok(&["kube", "logs", "cfg", "-c", "main"])),
        ] {
            assert!(
                !text.contains(SECRET_VALUE) && !text.contains(b64),
                "{what} shows the secret:\n{text}"
            );
        }
        assert!(s
            .ok(&["kube", "describe", "secret", "db"])
            .contains("password:  15 bytes"));
        let shown = s.ok(&[
            "kube",
            "get",
            "secret",
            "db",
            "-o",
            "yaml",
            "--show-secrets",
        ]);
        assert!(shown.contains(b64), "{shown}");
        let table = s.ok(&["kube", "get", "cm"]);
        assert!(
            table.starts_with("NAME") && table.contains("app-config   3"),
            "{table}"
        );
        let table = s.ok(&["kube", "get", "secrets"]);
        assert!(table.contains("db     Opaque   1"), "{table}");

        // Gone with the pod: its volumes (host paths stay) and its env secrets.
        let uid = v["metadata"]["uid"].as_str().unwrap().to_string();
        s.ok(&["kube", "delete", "pod", "cfg"]);
        assert!(!s.dir.join(format!("root/kube/pods/{uid}")).exists());
        assert!(!s.dir.join(format!("run/kube/pods/{uid}")).exists());
        assert!(host_dir.join("z").exists());
        assert!(!s.ok(&["secret", "ls"]).contains(&uid));
    }
}

#[test]
fn missing_sources_wait_and_bad_configuration_is_refused() {
    let s = Skiff::with_busybox(Mode::Rootless);
    let pod = s.share(
        "p.yaml",
        br#"apiVersion: v1
kind: Pod
metadata: {name: waits}
spec:
  containers:
  - name: main
    image: busybox
    command: [sleep, "1000"]
    env:
    - name: X
      valueFrom: {configMapKeyRef: {name: later, key: x}}
"#,
    );
    s.ok(&["kube", "play", &pod.display().to_string()]);
    let reason = || {
        let v = s.kube_pod("waits");
        v["status"]["containerStatuses"][0]["state"]["waiting"].clone()
    };
    assert!(
        wait_until(5, || reason()["reason"] == "CreateContainerConfigError"),
        "{}",
        reason()
    );
    assert_eq!(reason()["message"], "configmap \"later\" not found");
    let cm = s.share(
        "later.yaml",
        b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: later}\ndata: {y: '1'}\n",
    );
    s.ok(&["kube", "play", &cm.display().to_string()]);
    assert!(
        wait_until(5, || reason()["message"]
            == "couldn't find key x in ConfigMap default/later"),
        "{}",
        reason()
    );
    let cm = s.share("later2.yaml", b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: later}\ndata: {x: '1'}\nimmutable: true\n");
    s.ok(&["kube", "play", &cm.display().to_string()]);
    assert!(wait_until(10, || s
        .ok(&["kube", "get", "pod", "waits"])
        .contains("Running")));

    // Immutable data stays as it is.
    let changed = s.share("later3.yaml", b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: later}\ndata: {x: '2'}\nimmutable: true\n");
    let e = s.fails(&["kube", "play", &changed.display().to_string()], 125);
    assert!(
        e.contains("field is immutable when `immutable` is set"),
        "{e}"
    );

    for (yaml, want) in [
        ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bad}\ndata: {'a b': x}\n", "a valid config key"),
        ("apiVersion: v1\nkind: Secret\nmetadata: {name: tls}\ntype: kubernetes.io/tls\nstringData: {tls.crt: x}\n", "data[tls.key]: Required value"),
        ("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: a, image: busybox, volumeMounts: [{name: nope, mountPath: /x}]}]\n", "volumeMounts[0].name: Not found: \"nope\""),
        ("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  volumes: [{name: v}]\n  containers: [{name: a, image: busybox}]\n", "must specify a volume type"),
        ("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  volumes: [{name: v, configMap: {name: c, items: [{key: k, path: ../../etc/passwd}]}}]\n  containers: [{name: a, image: busybox}]\n", "must not contain '..'"),
        ("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  volumes: [{name: v, hostPath: {path: /tmp, type: Dir}}]\n  containers: [{name: a, image: busybox}]\n", "Unsupported value: \"Dir\""),
    ] {
        let f = s.share("bad.yaml", yaml.as_bytes());
        let e = s.fails(&["kube", "play", &f.display().to_string()], 125);
        assert!(e.contains(want), "{yaml}: {e}");
    }
    let out = s.run(&["kube", "get", "cm", "bad"]);
    assert!(!out.status.success());
}
