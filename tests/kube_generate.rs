//! kube generate: YAML that kubernetes-validate --strict (Kubernetes' own OpenAPI
//! schemas) accepts, for every workload type, and that kube play runs back into the
//! same container.

mod common;
use common::*;
use std::process::Command;

/// kubernetes-validate, installed by scripts/setup.sh from PyPI.
fn kubernetes_validate(files: &[String]) -> (bool, String) {
    let dir = std::env::var("SKIFF_PY_TOOLS").unwrap_or_else(|_| "/opt/skiff-py".into());
    let out = Command::new(format!("{dir}/bin/kubernetes-validate"))
        .arg("--strict")
        .args(files)
        .output()
        .expect("kubernetes-validate (scripts/setup.sh installs it)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn generated_yaml_is_strictly_valid_and_plays_back_into_the_same_container() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        let port = free_port();
        let published = format!("{port}:8080");
        s.ok(&[
            "run",
            "-d",
            "--name",
            "Web_1",
            "-p",
            &published,
            "-e",
            "GREETING=hello",
            "-w",
            "/tmp",
            "-u",
            "1000:1000",
            "--cap-drop",
            "chown",
            "--health-cmd",
            "true",
            "--stop-timeout",
            "1",
            "busybox",
            "sh",
            "-c",
            "mkdir -p /tmp/www && echo generated > /tmp/www/index.html && exec httpd -f -p 8080 -h /tmp/www",
        ]);
        let kinds = ["pod", "deployment", "statefulset", "daemonset", "job"];
        let files: Vec<String> = kinds
            .iter()
            .map(|kind| {
                let f = s.dir.join(format!("{kind}.yaml")).display().to_string();
                s.ok(&[
                    "kube",
                    "generate",
                    "Web_1",
                    "--type",
                    kind,
                    "--service",
                    "-f",
                    &f,
                ]);
                f
            })
            .collect();
        // One run for all: the validator spends its time loading schemas.
        let (valid, report) = kubernetes_validate(&files);
        assert!(valid, "{mode:?}: {report}");
        for kind in kinds {
            assert!(
                report.contains(&format!("passed for resource {kind}/")),
                "{report}"
            );
        }
        assert_eq!(
            report
                .matches("passed for resource service/web-1-pod")
                .count(),
            5,
            "{report}"
        );
        let yaml = s.ok(&["kube", "generate", "Web_1"]);
        assert!(yaml.contains("name: web-1\n"), "{yaml}");
        assert!(yaml.contains(&format!("hostPort: {port}")), "{yaml}");
        assert!(yaml.contains("runAsUser: 1000"), "{yaml}");
        assert!(yaml.contains("- CHOWN"), "{yaml}");
        assert!(yaml.contains("livenessProbe:"), "{yaml}");
        assert!(yaml.contains("terminationGracePeriodSeconds: 1"), "{yaml}");
        // The runtime's own variables are not the container's to carry.
        assert!(
            !yaml.contains("HOSTNAME") && !yaml.contains("name: PATH"),
            "{yaml}"
        );

        // Played back, it is the same container: user, env, directory, port.
        let pod_yaml = s
            .share("played.yaml", yaml.as_bytes())
            .display()
            .to_string();
        s.ok(&["rm", "-f", "Web_1"]);
        s.ok(&["kube", "play", "--wait", &pod_yaml]);
        assert_eq!(
            http_get(port).as_deref().map(str::trim),
            Some("generated"),
            "{mode:?}"
        );
        let inside = s.ok(&[
            "kube",
            "exec",
            "web-1-pod",
            "--",
            "sh",
            "-c",
            "echo $GREETING $(id -u):$(id -g) $(pwd)",
        ]);
        assert_eq!(inside.trim(), "hello 1000:1000 /tmp");
        s.ok(&["kube", "down", &pod_yaml]);
    }
}

#[test]
fn a_pods_members_come_out_in_order_and_bad_requests_are_refused() {
    let s = Skiff::with_busybox(Mode::Rootless);
    let port = free_port();
    s.ok(&[
        "pod",
        "create",
        "--name",
        "pair",
        "-p",
        &format!("{port}:80"),
    ]);
    s.ok(&[
        "create", "--pod", "pair", "--name", "first", "busybox", "sleep", "60",
    ]);
    s.ok(&[
        "create", "--pod", "pair", "--name", "second", "busybox", "sleep", "60",
    ]);
    let yaml = s.ok(&["kube", "generate", "pair", "-t", "deployment", "-r", "3"]);
    let first = yaml.find("name: first").expect("first");
    let second = yaml.find("name: second").expect("second");
    assert!(first < second, "{yaml}");
    assert!(yaml.contains("replicas: 3") && yaml.contains("name: pair-deployment"));
    // The pod's published port goes with it.
    assert!(yaml.contains(&format!("hostPort: {port}")), "{yaml}");
    let f = s.share("pair.yaml", yaml.as_bytes()).display().to_string();
    let (valid, report) = kubernetes_validate(&[f]);
    assert!(valid, "{report}");

    let e = s.fails(&["kube", "generate", "pair", "--type", "replicaset"], 125);
    assert!(e.contains("\"replicaset\""), "{e}");
    let e = s.fails(&["kube", "generate", "pair", "--replicas", "2"], 125);
    assert!(e.contains("--replicas"), "{e}");
    let e = s.fails(&["kube", "generate", "first"], 125);
    assert!(e.contains("in a pod"), "{e}");
    let e = s.fails(&["kube", "generate", "nothing-here"], 125);
    assert!(e.contains("neither a container nor a pod"), "{e}");
}
