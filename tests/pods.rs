//! Pods: containers sharing an infra's namespaces (network, hostname, IPC), ports
//! published on the pod, the verbs on the whole pod, and what `pod rm -f` leaves (nothing).

mod common;
use common::*;

/// The pid of the container's init, from inspect's JSON.
fn pid_of(s: &Skiff, name: &str) -> i32 {
    let v: serde_json::Value = serde_json::from_str(&s.ok(&["inspect", name])).unwrap();
    v[0]["State"]["Pid"].as_i64().unwrap() as i32
}

fn pod_field(s: &Skiff, pod: &str, field: &str) -> serde_json::Value {
    let v: serde_json::Value = serde_json::from_str(&s.ok(&["pod", "inspect", pod])).unwrap();
    v[0][field].clone()
}

/// Processes whose command line names this store's directory (supervisors, helpers),
/// and pause processes whose parent is one of them.
fn processes_of(s: &Skiff) -> Vec<String> {
    let marker = s.dir.display().to_string();
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(c) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
            continue;
        };
        let c = String::from_utf8_lossy(&c).replace('\0', " ");
        if c.contains(&marker) && process_alive(pid) {
            out.push(format!("{pid} {c}"));
        }
    }
    out
}

#[test]
fn pod_members_share_network_hostname_and_ipc_and_the_pod_publishes_ports() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        let port = free_port();
        let pod_id = s.ok(&[
            "pod",
            "create",
            "--name",
            "shop",
            "-p",
            &format!("{port}:80"),
        ]);
        assert_eq!(pod_id.trim().len(), 64, "{pod_id}");
        s.ok(&[
            "run", "-d", "--pod", "shop", "--name", "web", "busybox", "sh", "-c", WEB,
        ]);
        s.ok(&[
            "run", "-d", "--pod", "shop", "--name", "side", "busybox", "sleep", "1000",
        ]);

        // One network: the sidecar reaches the web server on 127.0.0.1.
        let body = s.ok(&["exec", "side", "wget", "-qO-", "http://127.0.0.1:80/"]);
        assert_eq!(body.trim(), "hello from shop", "{mode:?}");
        // The pod's port answers from the host.
        assert_eq!(
            http_get(port).as_deref().map(str::trim),
            Some("hello from shop")
        );
        // One hostname (the pod's name), one IPC namespace, one /dev/shm.
        assert_eq!(s.ok(&["exec", "side", "hostname"]).trim(), "shop");
        let ipc = |c: &str| s.ok(&["exec", c, "readlink", "/proc/self/ns/ipc"]);
        assert_eq!(ipc("web"), ipc("side"));
        s.ok(&[
            "exec",
            "web",
            "sh",
            "-c",
            "echo segment > /dev/shm/made-in-web",
        ]);
        assert_eq!(
            s.ok(&["exec", "side", "cat", "/dev/shm/made-in-web"])
                .trim(),
            "segment"
        );
        // Each keeps its own mount namespace.
        let mnt = |c: &str| s.ok(&["exec", c, "readlink", "/proc/self/ns/mnt"]);
        assert_ne!(mnt("web"), mnt("side"));

        // pod ps, ps --pod and the filter.
        let ps = s.ok(&["pod", "ps"]);
        let line = ps
            .lines()
            .find(|l| l.contains("shop"))
            .unwrap_or_else(|| panic!("{ps}"));
        assert!(
            line.contains("Running") && line.trim_end().ends_with('3'),
            "{ps}"
        );
        assert!(ps.starts_with("POD ID"), "{ps}");
        let members = s.ok(&["ps", "--filter", "pod=shop", "--format", "{{.Names}}"]);
        let mut names: Vec<&str> = members.lines().collect();
        names.sort();
        assert_eq!(names.len(), 3, "{members}");
        assert!(
            names.contains(&"web") && names.contains(&"side"),
            "{members}"
        );
        let with_pod = s.ok(&["ps", "--pod"]);
        assert!(
            with_pod.lines().next().unwrap().contains("PODNAME"),
            "{with_pod}"
        );
        assert_eq!(pod_field(&s, "shop", "State"), "Running");
        assert_eq!(pod_field(&s, "shop", "NumContainers"), 3);
        assert_eq!(
            pod_field(&s, "shop", "SharedNamespaces"),
            serde_json::json!(["ipc", "net", "uts"])
        );
        let infra_id = pod_field(&s, "shop", "InfraContainerID");
        let infra_id = infra_id.as_str().unwrap();
        // The infra runs skiff's own pause: no image.
        let infra_pid = pid_of(&s, infra_id);
        let comm = std::fs::read_to_string(format!("/proc/{infra_pid}/comm")).unwrap();
        assert_eq!(comm.trim(), "pause");
        // It goes only with its pod.
        let err = s.fails(&["rm", "-f", infra_id], 125);
        assert!(err.contains("infra container of pod"), "{err}");

        // pod rm -f: no process, mount, address or record is left.
        s.ok(&["pod", "rm", "-f", "-t", "0", "shop"]);
        assert!(!process_alive(infra_pid));
        assert!(s.ok(&["ps", "-a", "-q"]).trim().is_empty());
        assert!(s.ok(&["pod", "ps", "-q"]).trim().is_empty());
        assert!(
            s.container_leftovers().is_empty(),
            "{:?}",
            s.container_leftovers()
        );
        let left = std::fs::read_dir(s.root().join("pods"))
            .map(|d| d.count())
            .unwrap_or(0);
        assert_eq!(left, 0);
        assert!(
            wait_until(5, || processes_of(&s).is_empty()),
            "{:?}",
            processes_of(&s)
        );
        let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
        assert!(!mounts.contains(&s.dir.display().to_string()), "{mounts}");
        assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());
        let code = s.run(&["pod", "exists", "shop"]).status.code();
        assert_eq!(code, Some(1));
    }
}

#[test]
fn a_killed_infra_takes_its_pod_down_and_pod_ps_says_so() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        s.ok(&["pod", "create", "--name", "p"]);
        s.ok(&[
            "run", "-d", "--pod", "p", "--name", "a", "busybox", "sleep", "1000",
        ]);
        s.ok(&[
            "run", "-d", "--pod", "p", "--name", "b", "busybox", "sleep", "1000",
        ]);
        let infra = pod_field(&s, "p", "InfraContainerID");
        let pause = pid_of(&s, infra.as_str().unwrap());
        let member = pid_of(&s, "a");
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pause),
            nix::sys::signal::Signal::SIGKILL,
        )
        .unwrap();
        assert!(
            wait_until(10, || !process_alive(member)),
            "{mode:?}: member survived"
        );
        assert!(wait_until(10, || {
            s.ok(&["pod", "ps", "--format", "{{.Status}}"]).trim() == "Exited"
        }));
        let states = s.ok(&["ps", "-a", "--filter", "pod=p", "--format", "{{.State}}"]);
        assert!(states.lines().all(|l| l == "exited"), "{states}");
        // The pod starts again as a whole.
        s.ok(&["pod", "start", "p"]);
        assert_eq!(
            s.ok(&["pod", "ps", "--format", "{{.Status}}"]).trim(),
            "Running"
        );
        assert_eq!(s.ok(&["exec", "a", "hostname"]).trim(), "p");
    }
}

#[test]
fn pod_verbs_act_on_every_container_as_podman_does() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        // run --pod new:NAME makes the pod; a member cannot set what the pod decides.
        s.ok(&[
            "run", "-d", "--pod", "new:team", "--name", "one", "busybox", "sleep", "1000",
        ]);
        let err = s.fails(
            &[
                "run",
                "--rm",
                "--pod",
                "team",
                "--network",
                "none",
                "busybox",
                "true",
            ],
            125,
        );
        assert!(err.contains("--network") && err.contains("team"), "{err}");
        let err = s.fails(
            &[
                "run", "--rm", "--pod", "team", "-p", "8080:80", "busybox", "true",
            ],
            125,
        );
        assert!(err.contains("--publish"), "{err}");
        let err = s.fails(&["run", "--rm", "--pod", "nosuch", "busybox", "true"], 125);
        assert!(err.contains("no pod with name or ID nosuch found"), "{err}");
        s.ok(&[
            "create", "--pod", "team", "--name", "two", "busybox", "sleep", "1000",
        ]);
        assert_eq!(
            s.ok(&["pod", "ps", "--format", "{{.Status}}"]).trim(),
            "Degraded"
        );

        s.ok(&["pod", "stop", "-t", "0", "team"]);
        assert_eq!(
            s.ok(&["pod", "ps", "--format", "{{.Status}}"]).trim(),
            "Exited"
        );
        s.ok(&["pod", "start", "team"]);
        assert_eq!(
            s.ok(&["pod", "ps", "--format", "{{.Status}}"]).trim(),
            "Running"
        );
        let restarted_before = pid_of(&s, "one");
        s.ok(&["pod", "restart", "-t", "0", "team"]);
        assert_ne!(pid_of(&s, "one"), restarted_before);
        assert_eq!(s.ok(&["exec", "two", "hostname"]).trim(), "team");
        // A running pod is removed only with --force.
        let out = s.run(&["pod", "rm", "team"]);
        assert_eq!(out.status.code(), Some(2), "{out:?}");
        s.ok(&["pod", "kill", "--all"]);
        assert!(wait_until(10, || {
            s.ok(&["pod", "ps", "--format", "{{.Status}}"]).trim() == "Exited"
        }));

        // --exit-policy stop: the pod stops when its last container exits.
        s.ok(&["pod", "create", "--name", "batch", "--exit-policy", "stop"]);
        s.ok(&["run", "--rm", "--pod", "batch", "busybox", "true"]);
        assert!(wait_until(10, || {
            let v = s.ok(&[
                "pod",
                "ps",
                "--filter",
                "name=^batch$",
                "--format",
                "{{.Status}}",
            ]);
            v.trim() == "Exited"
        }));

        // pod clone copies the settings, not the containers.
        s.ok(&["pod", "clone", "--name", "batch2", "batch"]);
        assert_eq!(pod_field(&s, "batch2", "ExitPolicy"), "stop");
        assert_eq!(pod_field(&s, "batch2", "NumContainers"), 1);

        // Pod events are in the log.
        let ev = s.ok(&[
            "events",
            "--stream=false",
            "--filter",
            "type=pod",
            "--format",
            "{{.Status}} {{.Name}}",
        ]);
        for want in [
            "create team",
            "stop team",
            "start team",
            "kill team",
            "create batch",
        ] {
            assert!(ev.lines().any(|l| l == want), "{want}: {ev}");
        }

        // How scripts clean up: -t 0 --all --force --ignore, twice (nothing left the
        // second time is not an error); and a missing pod is exit 1 without --ignore.
        s.ok(&["pod", "rm", "-t", "0", "--all", "--force", "--ignore"]);
        s.ok(&["pod", "rm", "-t", "0", "--all", "--force", "--ignore"]);
        assert_eq!(s.run(&["pod", "rm", "gone"]).status.code(), Some(1));
        s.ok(&["pod", "rm", "--ignore", "gone"]);
        assert!(s.ok(&["ps", "-a", "-q"]).trim().is_empty());
        assert!(s.ok(&["pod", "ps", "-q"]).trim().is_empty());
    }
}

#[test]
fn pod_create_refuses_bad_input_and_stores_nothing() {
    let s = Skiff::with_busybox(Mode::Rootless);
    let before = s.snapshot();
    let bad: &[&[&str]] = &[
        &["pod", "create", "--share", "mnt"],
        &["pod", "create", "--exit-policy", "sometimes"],
        &["pod", "create", "--name", "bad/name"],
        &["pod", "create", "--infra=false", "-p", "8080:80"],
        &["pod", "create", "--infra-command", "/x"],
        &["pod", "create", "-p", "notaport"],
    ];
    for args in bad {
        let err = s.fails(args, 125);
        assert_eq!(err.trim().lines().count(), 1, "{args:?}: {err}");
    }
    assert_eq!(s.snapshot(), before);
    s.ok(&["pod", "create", "--name", "dup"]);
    let err = s.fails(&["pod", "create", "--name", "dup"], 125);
    assert!(err.contains("already in use"), "{err}");
}
