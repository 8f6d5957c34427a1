//! Container lifecycle through the real binary, rootless and as root: detached runs,
//! logs, exec, attach, terminals, restart policies, stop/kill/pause, ps, inspect, hooks.

mod common;
use common::*;
use std::io::{BufRead, BufReader, Write};
use std::time::Duration;

#[test]
fn detached_container_outlives_its_cli_and_its_exit_is_recorded() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        let id = s.ok(&[
            "run",
            "-d",
            "--name",
            "bg",
            "busybox",
            "sh",
            "-c",
            "sleep 1; exit 7",
        ]);
        assert_eq!(id.trim().len(), 64);
        assert_eq!(s.inspect("bg", "{{.State.Status}}"), "running");
        let pid: i32 = s.inspect("bg", "{{.State.Pid}}").parse().unwrap();
        assert!(process_alive(pid));
        assert_eq!(s.ok(&["wait", "bg"]).trim(), "7");
        assert_eq!(
            s.inspect("bg", "{{.State.Status}} {{.State.ExitCode}}"),
            "exited 7"
        );
        assert!(s
            .ok(&["ps", "-a", "--format", "{{.Status}}"])
            .starts_with("Exited (7)"));
        assert!(
            s.ok(&["ps", "-q"]).is_empty(),
            "ps without -a hides exited containers"
        );
        assert!(!process_alive(pid));
        // It can be started again.
        s.ok(&["start", "bg"]);
        assert_eq!(s.ok(&["wait", "bg"]).trim(), "7");
    }
}

#[test]
fn logs_follow_streams_new_lines() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        s.ok(&["run", "-d", "--name", "talker", "busybox", "sh", "-c",
               "i=0; while [ $i -lt 6 ]; do echo line $i; echo err $i >&2; i=$((i+1)); sleep 0.3; done"]);
        let mut follower = s.spawn(&["logs", "-f", "talker"]);
        let stdout = follower.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        // Lines written after logs -f began arrive while the container still runs.
        let first = lines.next().unwrap().unwrap();
        assert_eq!(first, "line 0");
        let mut seen = vec![first];
        for l in lines.by_ref() {
            seen.push(l.unwrap());
        }
        assert_eq!(
            seen,
            (0..6).map(|i| format!("line {i}")).collect::<Vec<_>>()
        );
        assert!(
            follower.wait().unwrap().success(),
            "logs -f ends when the container does"
        );
        assert_eq!(s.ok(&["logs", "--tail", "2", "talker"]), "line 5\n");
        let out = s.run(&["logs", "--tail", "1", "talker"]);
        assert_eq!(String::from_utf8_lossy(&out.stderr), "err 5\n");
        let ts = s.ok(&["logs", "-t", "--tail", "2", "talker"]);
        assert!(
            ts.starts_with("20") && ts.contains("T") && ts.ends_with(" line 5\n"),
            "{ts}"
        );
        assert!(s
            .ok(&["logs", "--since", "2000-01-01T00:00:00Z", "talker"])
            .contains("line 0"));
        assert!(s
            .ok(&["logs", "--until", "2000-01-01T00:00:00Z", "talker"])
            .is_empty());
        assert_eq!(
            s.ok(&["logs", "--since", "1h", "talker"]).lines().count(),
            6
        );
        s.fails(&["logs", "--since", "yesterday", "talker"], 125);
    }
}

#[test]
fn exec_runs_in_the_containers_namespaces() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        s.ok(&[
            "run",
            "-d",
            "--name",
            "box",
            "-e",
            "FROM_RUN=1",
            "busybox",
            "sleep",
            "100",
        ]);
        let out = s.ok(&[
            "exec",
            "box",
            "sh",
            "-c",
            "ps -o args | grep -c '^sleep 100'; echo $FROM_RUN; hostname",
        ]);
        let l: Vec<&str> = out.lines().collect();
        assert_eq!(l[0], "1", "exec sees the container's processes: {out}");
        assert_eq!(l[1], "1");
        assert_eq!(l[2], &s.inspect("box", "{{.Id}}")[..12]);
        assert_eq!(
            s.ok(&[
                "exec",
                "-u",
                "nobody",
                "-w",
                "/tmp",
                "-e",
                "X=y",
                "box",
                "sh",
                "-c",
                "id -u; pwd; echo $X"
            ]),
            "65534\n/tmp\ny\n"
        );
        let out = s.run(&["exec", "box", "sh", "-c", "exit 5"]);
        assert_eq!(out.status.code(), Some(5));
        s.fails(&["exec", "box", "no-such-program"], 127);
        let cap = s.ok(&["exec", "box", "grep", "CapEff", "/proc/self/status"]);
        assert!(
            cap.trim().ends_with("00000000800405fb"),
            "exec keeps the container's capabilities: {cap}"
        );
        let sec = s.ok(&["exec", "box", "grep", "Seccomp:", "/proc/self/status"]);
        assert!(sec.contains('2'), "exec is under seccomp: {sec}");
        let mut c = s.cmd(&["exec", "-i", "box", "cat"]);
        c.stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped());
        let mut child = c.spawn().unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(b"piped in\n")
            .unwrap();
        assert_eq!(
            String::from_utf8(child.wait_with_output().unwrap().stdout).unwrap(),
            "piped in\n"
        );
        s.ok(&["exec", "-d", "box", "touch", "/tmp/detached"]);
        assert!(wait_until(5, || s
            .run(&["exec", "box", "test", "-f", "/tmp/detached"])
            .status
            .success()));
        s.ok(&["stop", "-t", "0", "box"]);
        s.fails(&["exec", "box", "true"], 125);
    }
}

#[test]
fn attach_and_detach_keys_leave_the_container_running() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        s.ok(&["run", "-d", "-i", "--name", "echoer", "busybox", "cat"]);
        let mut child = s.spawn(&["attach", "echoer"]);
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(b"hello there\n").unwrap();
        stdin.flush().unwrap();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        assert_eq!(line, "hello there\n");
        stdin.write_all(&[0x10, 0x11]).unwrap();
        let status = child.wait().unwrap();
        assert!(status.success(), "detaching exits 0");
        assert_eq!(s.inspect("echoer", "{{.State.Status}}"), "running");
        // Custom keys.
        let mut child = s.spawn(&["attach", "--detach-keys", "ctrl-x", "echoer"]);
        child.stdin.as_mut().unwrap().write_all(&[0x18]).unwrap();
        assert!(child.wait().unwrap().success());
        assert_eq!(s.inspect("echoer", "{{.State.Status}}"), "running");
        s.ok(&["rm", "-f", "echoer"]);
        s.fails(&["attach", "echoer"], 125);
    }
}

#[test]
fn terminal_has_the_size_asked_for() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        let line = s.shell_line(&["run", "--rm", "-t", "busybox", "sh", "-c", "stty size; tty"]);
        let out = std::process::Command::new("script")
            .args([
                "-qec",
                &format!("stty rows 33 cols 77; {line}"),
                "/dev/null",
            ])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("33 77"), "{text}");
        assert!(
            text.contains("/dev/pts/0"),
            "the terminal lives in the container's devpts: {text}"
        );
        s.ok(&["run", "-d", "-t", "--name", "term", "busybox", "sh"]);
        let line = s.shell_line(&["exec", "-t", "term", "stty", "size"]);
        let out = std::process::Command::new("script")
            .args([
                "-qec",
                &format!("stty rows 21 cols 99; {line}"),
                "/dev/null",
            ])
            .output()
            .unwrap();
        assert!(String::from_utf8_lossy(&out.stdout).contains("21 99"));
    }
}

#[test]
fn restart_on_failure_restarts_exactly_three_times() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        s.ok(&[
            "run",
            "-d",
            "--name",
            "flaky",
            "--restart",
            "on-failure:3",
            "busybox",
            "sh",
            "-c",
            "echo attempt; exit 3",
        ]);
        assert_eq!(s.ok(&["wait", "flaky"]).trim(), "3");
        assert_eq!(
            s.inspect("flaky", "{{.RestartCount}} {{.State.Status}}"),
            "3 exited"
        );
        assert_eq!(
            s.ok(&["logs", "flaky"])
                .lines()
                .filter(|l| *l == "attempt")
                .count(),
            4
        );
        // Success is not a failure: no restart.
        s.ok(&[
            "run",
            "-d",
            "--name",
            "fine",
            "--restart",
            "on-failure",
            "busybox",
            "true",
        ]);
        assert_eq!(s.ok(&["wait", "fine"]).trim(), "0");
        assert_eq!(s.inspect("fine", "{{.RestartCount}}"), "0");
        // always: stop ends it for good.
        s.ok(&[
            "run",
            "-d",
            "--name",
            "always",
            "--restart",
            "always",
            "busybox",
            "sh",
            "-c",
            "sleep 0.1",
        ]);
        assert!(wait_until(10, || s.inspect("always", "{{.RestartCount}}") != "0"));
        s.ok(&["stop", "-t", "0", "always"]);
        let count = s.inspect("always", "{{.RestartCount}}");
        std::thread::sleep(Duration::from_millis(400));
        assert_eq!(
            s.inspect("always", "{{.RestartCount}} {{.State.Status}}"),
            format!("{count} exited")
        );
        s.fails(
            &["run", "--rm", "--restart", "always", "busybox", "true"],
            125,
        );
    }
}

#[test]
fn rm_force_leaves_no_process_mount_or_state() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        s.ok(&[
            "run",
            "-d",
            "--name",
            "doomed",
            "busybox",
            "sh",
            "-c",
            "sleep 100 & sleep 100",
        ]);
        let id = s.inspect("doomed", "{{.Id}}");
        let pid: i32 = s.inspect("doomed", "{{.State.Pid}}").parse().unwrap();
        let sup: i32 = s.inspect("doomed", "{{.State.ConmonPid}}").parse().unwrap();
        s.fails(&["rm", "doomed"], 2);
        // rm echoes what it was given, as podman does.
        assert_eq!(s.ok(&["rm", "-f", "doomed"]).trim(), "doomed");
        assert!(s.run(&["container", "exists", &id]).status.code() == Some(1));
        assert!(!process_alive(pid) && !process_alive(sup));
        assert!(
            s.container_leftovers().is_empty(),
            "{:?}",
            s.container_leftovers()
        );
        let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
        assert!(
            !mounts.contains(&id),
            "no mount of the container is visible"
        );
        // Nothing on the host still runs for it.
        for e in std::fs::read_dir("/proc").unwrap().flatten() {
            if let Ok(cmd) = std::fs::read(e.path().join("cmdline")) {
                assert!(
                    !String::from_utf8_lossy(&cmd).contains(&id),
                    "process {:?} remains",
                    e.path()
                );
            }
        }
        s.fails(&["rm", "doomed"], 1);
        s.ok(&["rm", "--ignore", "doomed"]);
    }
}

#[test]
fn stop_kill_restart_pause_rename_and_prune() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        s.ok(&[
            "run", "-d", "--name", "svc", "--init", "busybox", "sleep", "100",
        ]);
        // --init forwards SIGTERM, so stop does not need to wait for the kill.
        let t = std::time::Instant::now();
        assert_eq!(s.ok(&["stop", "svc"]).trim(), "svc");
        assert!(t.elapsed() < Duration::from_secs(8));
        assert_eq!(s.inspect("svc", "{{.State.ExitCode}}"), "143");
        assert_eq!(
            s.ok(&["restart", "svc"]).trim(),
            s.inspect("svc", "{{.Id}}")
        );
        assert_eq!(s.inspect("svc", "{{.State.Status}}"), "running");
        s.ok(&["kill", "-s", "USR1", "svc"]);
        assert_eq!(s.ok(&["wait", "svc"]).trim(), "138");
        s.ok(&["start", "svc"]);
        s.ok(&["pause", "svc"]);
        assert_eq!(s.inspect("svc", "{{.State.Status}}"), "paused");
        let pid = s.inspect("svc", "{{.State.Pid}}");
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
        let state = stat
            .rsplit_once(')')
            .unwrap()
            .1
            .trim_start()
            .chars()
            .next()
            .unwrap();
        assert!(matches!(state, 'T' | 'D' | 'S'), "{state}");
        s.fails(&["pause", "svc"], 125);
        s.ok(&["unpause", "svc"]);
        assert_eq!(s.inspect("svc", "{{.State.Status}}"), "running");
        s.ok(&["rename", "svc", "service"]);
        assert_eq!(s.inspect("service", "{{.Name}}"), "service");
        s.ok(&["run", "--name", "done", "busybox", "true"]);
        s.fails(&["rename", "service", "done"], 125);
        s.fails(&["run", "--name", "done", "busybox", "true"], 125);
        let pruned = s.ok(&["container", "prune", "-f"]);
        assert_eq!(
            pruned.lines().count(),
            1,
            "only the exited container goes: {pruned}"
        );
        assert_eq!(
            s.ok(&["ps", "-a", "--format", "{{.Names}}"]).trim(),
            "service"
        );
        s.ok(&["kill", "service"]);
        assert_eq!(s.ok(&["wait", "service"]).trim(), "137");
        s.fails(&["kill", "service"], 125);
    }
}

#[test]
fn ps_filters_and_formats() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        s.ok(&[
            "run", "-d", "--name", "alpha", "-l", "tier=web", "busybox", "sleep", "100",
        ]);
        s.ok(&["run", "--name", "beta", "-l", "tier=db", "busybox", "true"]);
        s.ok(&["create", "--name", "gamma", "busybox", "true"]);
        let names = |args: &[&str]| {
            let mut a = vec!["ps", "--format", "{{.Names}}"];
            a.extend_from_slice(args);
            let mut v: Vec<String> = s.ok(&a).lines().map(String::from).collect();
            v.sort();
            v
        };
        assert_eq!(names(&[]), vec!["alpha"]);
        assert_eq!(names(&["-a"]), vec!["alpha", "beta", "gamma"]);
        assert_eq!(names(&["-a", "--filter", "label=tier=db"]), vec!["beta"]);
        assert_eq!(
            names(&["-a", "--filter", "label=tier"]),
            vec!["alpha", "beta"]
        );
        assert_eq!(names(&["--filter", "status=created"]), vec!["gamma"]);
        assert_eq!(names(&["--filter", "status=exited"]), vec!["beta"]);
        assert_eq!(names(&["-a", "--filter", "name=^al"]), vec!["alpha"]);
        assert_eq!(names(&["-a", "--filter", "ancestor=busybox"]).len(), 3);
        let id = s.inspect("alpha", "{{.Id}}");
        assert_eq!(
            names(&["-a", "--filter", &format!("id={}", &id[..6])]),
            vec!["alpha"]
        );
        assert_eq!(names(&["-l"]), vec!["gamma"]);
        assert_eq!(names(&["-n", "2"]).len(), 2);
        assert_eq!(s.ok(&["ps", "-q", "--no-trunc"]).trim(), id);
        let table = s.ok(&["ps", "-a", "--size"]);
        assert!(
            table.starts_with("CONTAINER ID")
                && table.contains("SIZE")
                && table.contains("virtual"),
            "{table}"
        );
        let json: serde_json::Value =
            serde_json::from_str(&s.ok(&["ps", "-a", "--format", "json"])).unwrap();
        assert_eq!(json.as_array().unwrap().len(), 3);
        s.fails(&["ps", "--filter", "color=red"], 125);
        let inspect: serde_json::Value =
            serde_json::from_str(&s.ok(&["container", "inspect", "alpha"])).unwrap();
        let c = &inspect[0];
        assert_eq!(c["Name"], "alpha");
        assert_eq!(c["State"]["Running"], true);
        assert_eq!(c["Config"]["Labels"]["tier"], "web");
        assert_eq!(c["Config"]["Cmd"][0], "sleep");
        assert_eq!(c["HostConfig"]["RestartPolicy"]["Name"], "no");
        s.ok(&["container", "exists", "alpha"]);
        assert_eq!(
            s.run(&["container", "exists", "nope"]).status.code(),
            Some(1)
        );
    }
}

#[test]
fn top_stats_and_port() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        s.ok(&["run", "-d", "--name", "busy", "busybox", "sleep", "100"]);
        let top = s.ok(&["top", "busy"]);
        assert!(top.starts_with("USER"), "{top}");
        assert!(
            top.lines()
                .any(|l| l.starts_with("root") && l.contains("sleep 100")),
            "{top}"
        );
        let top = s.ok(&["top", "busy", "pid", "comm"]);
        assert!(top.contains("1") && top.contains("sleep"), "{top}");
        let stats = s.ok(&[
            "stats",
            "--no-stream",
            "--format",
            "{{.Name}} {{.PIDs}}",
            "busy",
        ]);
        assert_eq!(stats.trim(), "busy 1");
        assert_eq!(s.ok(&["port", "busy"]), "");
    }
}

#[test]
fn oci_hooks_run_at_their_stages() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        let dir = s.dir.join("hooks.d");
        std::fs::create_dir_all(&dir).unwrap();
        let log = s.dir.join("hook.log");
        let script = s.dir.join("hook.sh");
        std::fs::write(
            &script,
            format!(
                "#!/bin/sh\nread state\necho \"$1 $state\" >> {}\n",
                log.display()
            ),
        )
        .unwrap();
        for stage in ["prestart", "poststart", "poststop"] {
            std::fs::write(
                dir.join(format!("{stage}.json")),
                format!(r#"{{"version":"1.0.0","hook":{{"path":"{}","args":["hook","{stage}"]}},"when":{{"annotations":{{"^run\\.hook$":"yes"}}}},"stages":["{stage}"]}}"#, script.display()),
            )
            .unwrap();
        }
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::set_permissions(&s.dir, std::fs::Permissions::from_mode(0o777)).unwrap();
        let hd = dir.to_str().unwrap();
        s.ok(&["run", "--rm", "--hooks-dir", hd, "busybox", "true"]);
        assert!(!log.exists(), "hooks apply only when their condition holds");
        s.ok(&[
            "run",
            "--name",
            "hooked",
            "--hooks-dir",
            hd,
            "--annotation",
            "run.hook=yes",
            "busybox",
            "true",
        ]);
        let id = s.inspect("hooked", "{{.Id}}");
        let text = std::fs::read_to_string(&log).unwrap();
        let stages: Vec<&str> = text.lines().map(|l| l.split(' ').next().unwrap()).collect();
        assert_eq!(stages, vec!["prestart", "poststart", "poststop"]);
        assert!(
            text.contains(&id),
            "the hook got the state on stdin: {text}"
        );
        std::fs::write(dir.join("bad.json"), b"{").unwrap();
        s.fails(&["run", "--rm", "--hooks-dir", hd, "busybox", "true"], 125);
    }
}

#[test]
fn rmi_refuses_an_image_in_use_and_force_removes_its_containers() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        s.ok(&["run", "-d", "--name", "user", "busybox", "sleep", "100"]);
        s.fails(&["rmi", "busybox"], 2);
        s.ok(&["rmi", "-f", "busybox"]);
        assert!(s.ok(&["ps", "-aq"]).is_empty());
        assert!(
            s.container_leftovers().is_empty(),
            "{:?}",
            s.container_leftovers()
        );
    }
}
