//! Health checks run by the supervisor (no systemd timer): transitions, what ps,
//! inspect and events show, the image's HEALTHCHECK, timeouts, and --health-on-failure.

mod common;
use common::*;

/// inspect's JSON for one container.
fn inspect(s: &Skiff, name: &str) -> serde_json::Value {
    let v: serde_json::Value = serde_json::from_str(&s.ok(&["inspect", name])).unwrap();
    v[0].clone()
}

fn health(s: &Skiff, name: &str) -> String {
    s.inspect(name, "{{.State.Health.Status}}")
}

#[test]
fn checks_move_a_container_from_starting_to_healthy_and_back() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        s.ok(&[
            "run",
            "-d",
            "--name",
            "web",
            "--health-cmd",
            "test -f /tmp/ready",
            "--health-interval",
            "1s",
            "--health-retries",
            "2",
            "busybox",
            "sleep",
            "60",
        ]);
        assert_eq!(health(&s, "web"), "starting");
        assert!(s
            .ok(&["ps", "--format", "{{.Status}}"])
            .contains("(starting)"));
        // Failing checks, run by the supervisor's timer, make it unhealthy.
        assert!(
            wait_until(10, || health(&s, "web") == "unhealthy"),
            "{mode:?}"
        );
        assert_eq!(s.inspect("web", "{{.State.Health.FailingStreak}}"), "2");
        let listed = s.ok(&[
            "ps",
            "--filter",
            "health=unhealthy",
            "--format",
            "{{.Names}} {{.Status}}",
        ]);
        assert!(
            listed.starts_with("web Up ") && listed.trim_end().ends_with("(unhealthy)"),
            "{listed}"
        );
        // healthcheck run: podman's output and code for a failing check.
        let out = s.run(&["healthcheck", "run", "web"]);
        assert_eq!(
            (
                out.status.code(),
                String::from_utf8_lossy(&out.stdout).trim()
            ),
            (Some(1), "unhealthy")
        );
        s.ok(&["exec", "web", "touch", "/tmp/ready"]);
        assert_eq!(s.ok(&["healthcheck", "run", "web"]), "");
        assert_eq!(health(&s, "web"), "healthy");
        assert_eq!(s.inspect("web", "{{.State.Health.FailingStreak}}"), "0");
        let log = inspect(&s, "web")["State"]["Health"]["Log"].clone();
        assert_eq!(log[0]["ExitCode"], 1, "{log}");
        assert_eq!(log.as_array().unwrap().last().unwrap()["ExitCode"], 0);
        // The transitions are events.
        let seen = s.ok(&[
            "events",
            "--stream=false",
            "--filter",
            "event=health_status",
            "--format",
            "{{.Attributes.health_status}}",
        ]);
        assert!(
            seen.contains("unhealthy") && seen.trim_end().ends_with("healthy"),
            "{seen}"
        );
        s.ok(&["rm", "-f", "web"]);
    }
}

#[test]
fn an_unhealthy_container_is_restarted_when_asked() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        s.ok(&[
            "run",
            "-d",
            "--name",
            "flaky",
            "--health-cmd",
            "false",
            "--health-interval",
            "1s",
            "--health-retries",
            "2",
            "--health-on-failure",
            "restart",
            "busybox",
            "sleep",
            "60",
        ]);
        assert!(
            wait_until(15, || s.inspect("flaky", "{{.RestartCount}}") != "0"),
            "{mode:?}"
        );
        assert!(wait_until(5, || s.inspect("flaky", "{{.State.Status}}") == "running"));
        // A restarted container starts over: its checks count again from "starting".
        let events = s.ok(&[
            "events",
            "--stream=false",
            "--filter",
            "container=flaky",
            "--format",
            "{{.Status}}",
        ]);
        assert!(
            events.contains("health_status\ndied\nrestart\nstart"),
            "{events}"
        );
        s.ok(&["rm", "-f", "flaky"]);
        // kill: the container ends and stays down.
        s.ok(&[
            "run",
            "-d",
            "--name",
            "doomed",
            "--health-cmd",
            "false",
            "--health-interval",
            "1s",
            "--health-retries",
            "1",
            "--health-on-failure",
            "kill",
            "busybox",
            "sleep",
            "60",
        ]);
        assert!(wait_until(10, || s.inspect("doomed", "{{.State.Status}}") == "exited"));
        assert_eq!(
            s.inspect("doomed", "{{.State.ExitCode}} {{.RestartCount}}"),
            "137 0"
        );
    }
}

#[test]
fn the_images_healthcheck_timeouts_and_refusals() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        let ctx = host_dir(&s, "ctx");
        std::fs::write(
            ctx.join("Containerfile"),
            "FROM busybox\nHEALTHCHECK --interval=1s --retries=1 CMD test -e /etc/hostname\n",
        )
        .unwrap();
        s.ok(&["build", "-q", "-t", "checked", ctx.to_str().unwrap()]);
        s.ok(&["run", "-d", "--name", "img", "checked", "sleep", "60"]);
        assert!(
            wait_until(10, || health(&s, "img") == "healthy"),
            "{mode:?}"
        );
        assert_eq!(
            inspect(&s, "img")["Config"]["Healthcheck"]["Test"][0],
            "CMD-SHELL"
        );
        // --no-healthcheck turns the image's off.
        s.ok(&[
            "run",
            "-d",
            "--name",
            "plain",
            "--no-healthcheck",
            "checked",
            "sleep",
            "60",
        ]);
        let err = s.fails(&["healthcheck", "run", "plain"], 125);
        assert!(err.contains("has no defined healthcheck"), "{err}");
        assert_eq!(
            s.ok(&["ps", "--filter", "health=none", "--format", "{{.Names}}"])
                .trim(),
            "plain"
        );
        // A check that outlives its timeout fails, and is ended.
        s.ok(&[
            "run",
            "-d",
            "--name",
            "slow",
            "--health-cmd",
            "sleep 30",
            "--health-timeout",
            "1s",
            "--health-interval",
            "1h",
            "busybox",
            "sleep",
            "60",
        ]);
        let t = std::time::Instant::now();
        assert_eq!(
            s.run(&["healthcheck", "run", "slow"]).status.code(),
            Some(1)
        );
        assert!(t.elapsed() < std::time::Duration::from_secs(10));
        assert_eq!(
            inspect(&s, "slow")["State"]["Health"]["Log"][0]["ExitCode"],
            -1
        );
        // Bad options are one-line errors.
        for bad in [
            vec!["--health-interval", "0.1s", "--health-cmd", "true"],
            vec!["--health-on-failure", "explode", "--health-cmd", "true"],
            vec!["--no-healthcheck", "--health-cmd", "true"],
            vec!["--health-cmd", "[\"CMD\""],
        ] {
            let mut args = vec!["create"];
            args.extend(bad.iter().copied());
            args.extend(["busybox", "true"]);
            let err = s.fails(&args, 125);
            assert_eq!(err.lines().count(), 1, "{bad:?}: {err}");
        }
        s.ok(&["rm", "-af"]);
    }
}

#[test]
fn http_tcp_and_grpc_probes_need_nothing_in_the_image() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        // busybox has no curl and no nc: the probes come from skiff, in the container's
        // network namespace (127.0.0.1 there is the container's own).
        s.ok(&[
            "run",
            "-d",
            "--name",
            "web",
            "--health-probe",
            "http://:80/",
            "--health-interval",
            "1s",
            "busybox",
            "sh",
            "-c",
            WEB,
        ]);
        s.ok(&[
            "run",
            "-d",
            "--name",
            "port",
            "--health-probe",
            "tcp://:80",
            "--health-interval",
            "1s",
            "busybox",
            "httpd",
            "-f",
            "-p",
            "80",
        ]);
        s.ok(&[
            "run",
            "-d",
            "--name",
            "closed",
            "--health-probe",
            "tcp://:81",
            "--health-interval",
            "1s",
            "--health-retries",
            "2",
            "busybox",
            "sleep",
            "1000",
        ]);
        s.ok(&[
            "run",
            "-d",
            "--name",
            "missing",
            "--health-probe",
            "http://:80/nosuchpage",
            "--health-interval",
            "1s",
            "--health-retries",
            "1",
            "busybox",
            "sh",
            "-c",
            WEB,
        ]);
        assert!(
            wait_until(15, || health(&s, "web") == "healthy"),
            "{mode:?} web"
        );
        assert!(
            wait_until(15, || health(&s, "port") == "healthy"),
            "{mode:?} port"
        );
        assert!(
            wait_until(15, || health(&s, "closed") == "unhealthy"),
            "{mode:?} closed"
        );
        assert!(
            wait_until(15, || health(&s, "missing") == "unhealthy"),
            "{mode:?} 404"
        );
        let log = inspect(&s, "web")["State"]["Health"]["Log"].clone();
        let out = log[0]["Output"].as_str().unwrap_or("");
        assert!(out.contains("statuscode: 200"), "{log}");
        let log = inspect(&s, "missing")["State"]["Health"]["Log"].clone();
        assert!(
            log[0]["Output"].as_str().unwrap_or("").contains("404"),
            "{log}"
        );
        let log = inspect(&s, "closed")["State"]["Health"]["Log"].clone();
        assert!(
            log[0]["Output"].as_str().unwrap_or("").contains("refused"),
            "{log}"
        );
        let test = inspect(&s, "web")["Config"]["Healthcheck"]["Test"].clone();
        assert_eq!(test, serde_json::json!(["PROBE", "http://127.0.0.1:80/"]));
    }
}

/// A real gRPC server (python3-grpcio) answering grpc.health.v1.Health/Check: SERVING
/// for "" and "ok", NOT_SERVING otherwise.
const GRPC_SERVER: &str = r#"
import grpc, sys
from concurrent import futures

def check(request, context):
    service = request[2:].decode() if len(request) > 2 else ""
    return bytes([0x08, 1 if service in ("", "ok") else 2])

handler = grpc.method_handlers_generic_handler(
    "grpc.health.v1.Health", {"Check": grpc.unary_unary_rpc_method_handler(check)})
server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
server.add_generic_rpc_handlers((handler,))
server.add_insecure_port("127.0.0.1:%s" % sys.argv[1])
server.start()
print("ready", flush=True)
server.wait_for_termination()
"#;

#[test]
fn grpc_health_probes_against_a_real_grpc_server() {
    use std::io::BufRead;
    let port = free_port();
    let dir = tempfile_dir("grpc");
    let script = dir.join("server.py");
    std::fs::write(&script, GRPC_SERVER).unwrap();
    let mut server = std::process::Command::new("/usr/bin/python3")
        .arg(&script)
        .arg(port.to_string())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3-grpcio (scripts/setup.sh installs it)");
    let mut first = String::new();
    std::io::BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert_eq!(first.trim(), "ready");
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        // --network host: the server on the host's loopback is the container's.
        for (name, service) in [("serving", ""), ("named", "/ok"), ("not", "/other")] {
            let probe = format!("grpc://:{port}{service}");
            s.ok(&[
                "run",
                "-d",
                "--name",
                name,
                "--network",
                "host",
                "--health-probe",
                &probe,
                "--health-interval",
                "1s",
                "--health-retries",
                "1",
                "busybox",
                "sleep",
                "1000",
            ]);
        }
        assert!(
            wait_until(15, || health(&s, "serving") == "healthy"),
            "{mode:?}"
        );
        assert!(
            wait_until(15, || health(&s, "named") == "healthy"),
            "{mode:?}"
        );
        assert!(
            wait_until(15, || health(&s, "not") == "unhealthy"),
            "{mode:?}"
        );
        let log = inspect(&s, "not")["State"]["Health"]["Log"].clone();
        assert!(
            log[0]["Output"]
                .as_str()
                .unwrap_or("")
                .contains("NOT_SERVING"),
            "{log}"
        );
        // The same server as a Kubernetes grpc readiness probe.
        let yaml = format!(
            r#"apiVersion: v1
kind: Pod
metadata: {{name: grpc-ready}}
spec:
  hostNetwork: true
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: busybox
    command: [sleep, "1000"]
    readinessProbe:
      grpc: {{port: {port}, service: ok}}
      periodSeconds: 1
---
apiVersion: v1
kind: Pod
metadata: {{name: grpc-not}}
spec:
  hostNetwork: true
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: busybox
    command: [sleep, "1000"]
    readinessProbe:
      grpc: {{port: {port}, service: other}}
      periodSeconds: 1
"#
        );
        let f = s.share("grpc.yaml", yaml.as_bytes()).display().to_string();
        s.ok(&["kube", "play", &f]);
        let ready = |pod: &str| {
            let v: serde_json::Value =
                serde_json::from_str(&s.ok(&["kube", "get", "pod", pod, "-o", "json"])).unwrap();
            v["status"]["containerStatuses"][0]["ready"] == true
        };
        assert!(wait_until(15, || ready("grpc-ready")), "{mode:?}");
        assert!(
            wait_until(15, || s
                .ok(&["kube", "describe", "pod", "grpc-not"])
                .contains("Readiness probe failed")),
            "{}",
            s.ok(&["kube", "describe", "pod", "grpc-not"])
        );
        assert!(!ready("grpc-not"));
        s.ok(&["kube", "down", &f]);
    }
    let _ = server.kill();
    let _ = server.wait();
    let _ = std::fs::remove_dir_all(dir);
}

fn tempfile_dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("skiff-test-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn a_startup_check_holds_back_the_regular_one() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        // The regular check fails at once; while the startup check waits for
        // /tmp/ready it does not run, so the container stays "starting".
        s.ok(&[
            "run",
            "-d",
            "--name",
            "app",
            "--health-startup-cmd",
            "test -e /tmp/ready",
            "--health-startup-interval",
            "1s",
            "--health-cmd",
            "false",
            "--health-interval",
            "1s",
            "--health-retries",
            "1",
            "busybox",
            "sleep",
            "1000",
        ]);
        std::thread::sleep(std::time::Duration::from_millis(3500));
        assert_eq!(health(&s, "app"), "starting", "{mode:?}");
        let startup = inspect(&s, "app")["Config"]["StartupHealthCheck"].clone();
        assert_eq!(
            startup["Test"],
            serde_json::json!(["CMD-SHELL", "test -e /tmp/ready"])
        );
        s.ok(&["exec", "app", "touch", "/tmp/ready"]);
        assert!(
            wait_until(15, || health(&s, "app") == "unhealthy"),
            "{mode:?}"
        );
        let ev = s.ok(&[
            "events",
            "--stream=false",
            "--filter",
            "event=health_status",
            "--format",
            "{{.Attributes.health_status}}",
        ]);
        assert!(ev.lines().any(|l| l == "starting"), "{ev}");
        assert!(ev.lines().any(|l| l == "unhealthy"), "{ev}");

        // A startup check that keeps failing restarts the container, as podman's.
        s.ok(&[
            "run",
            "-d",
            "--name",
            "never",
            "--health-startup-cmd",
            "false",
            "--health-startup-interval",
            "1s",
            "--health-startup-retries",
            "2",
            "--health-cmd",
            "true",
            "busybox",
            "sleep",
            "1000",
        ]);
        assert!(
            wait_until(20, || inspect(&s, "never")["RestartCount"].as_u64()
                >= Some(1)),
            "{mode:?}: not restarted"
        );
        assert_eq!(s.inspect("never", "{{.State.Status}}"), "running");
    }
}

#[test]
fn health_results_go_to_the_log_destination() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        let dir = host_dir(&s, "healthlog");
        let d = dir.to_str().unwrap();
        let id = s.ok(&[
            "run",
            "-d",
            "--health-cmd",
            "echo checked",
            "--health-interval",
            "1s",
            "--health-log-destination",
            d,
            "busybox",
            "sleep",
            "1000",
        ]);
        let file = dir.join(format!("{}-healthcheck.log", id.trim()));
        assert!(wait_until(10, || std::fs::read_to_string(&file)
            .is_ok_and(|t| t.lines().count() >= 2)));
        let text = std::fs::read_to_string(&file).unwrap();
        let first: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        assert_eq!(first["Output"], "checked");
        assert_eq!(first["ExitCode"], 0);
        let err = s.fails(
            &[
                "run",
                "--rm",
                "--health-cmd",
                "true",
                "--health-log-destination",
                "nowhere",
                "busybox",
                "true",
            ],
            125,
        );
        assert!(err.contains("--health-log-destination"), "{err}");
        let err = s.fails(
            &[
                "run",
                "--rm",
                "--health-probe",
                "ftp://:21",
                "busybox",
                "true",
            ],
            125,
        );
        assert!(err.contains("invalid health probe"), "{err}");
    }
}
