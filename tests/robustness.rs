//! Many containers at once, and processes killed at the worst moment: the next command
//! must tell the truth without hanging, and `rm` must clean up.

mod common;
use common::*;
use std::time::{Duration, Instant};

#[test]
fn twenty_concurrent_run_rm_succeed_and_leave_nothing() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        let children: Vec<_> = (0..20)
            .map(|i| {
                let mut c = s.cmd(&["run", "--rm", "busybox", "echo", &format!("container {i}")]);
                c.stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped());
                (i, c.spawn().unwrap())
            })
            .collect();
        for (i, c) in children {
            let out = c.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "{i}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert_eq!(
                String::from_utf8_lossy(&out.stdout),
                format!("container {i}\n")
            );
        }
        assert!(s.ok(&["ps", "-aq"]).is_empty());
        assert!(
            s.container_leftovers().is_empty(),
            "{:?}",
            s.container_leftovers()
        );
    }
}

/// `ps -a` must answer quickly whatever state the container is in.
fn ps_status(s: &Skiff, name: &str) -> String {
    let t = Instant::now();
    let out = s.ok(&[
        "ps",
        "-a",
        "--filter",
        &format!("name=^{name}$"),
        "--format",
        "{{.State}}",
    ]);
    assert!(t.elapsed() < Duration::from_secs(5), "ps hung");
    out.trim().to_string()
}

#[test]
fn killed_supervisor_shows_as_exited_and_rm_cleans() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        s.ok(&["run", "-d", "--name", "orphan", "busybox", "sleep", "100"]);
        let sup: i32 = s.inspect("orphan", "{{.State.ConmonPid}}").parse().unwrap();
        let pid: i32 = s.inspect("orphan", "{{.State.Pid}}").parse().unwrap();
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(sup),
            nix::sys::signal::Signal::SIGKILL,
        )
        .unwrap();
        // The container dies with its supervisor.
        assert!(wait_until(5, || !process_alive(pid)));
        assert!(wait_until(5, || ps_status(&s, "orphan") == "exited"));
        assert_eq!(s.inspect("orphan", "{{.State.ExitCode}}"), "-1");
        s.ok(&["rm", "orphan"]);
        assert!(
            s.container_leftovers().is_empty(),
            "{:?}",
            s.container_leftovers()
        );
    }
}

#[test]
fn killed_cli_during_run_leaves_a_truthful_container() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        let mut cli = s.spawn(&[
            "run",
            "--name",
            "kept",
            "busybox",
            "sh",
            "-c",
            "sleep 1; exit 4",
        ]);
        assert!(wait_until(5, || ps_status(&s, "kept") == "running"));
        cli.kill().unwrap();
        cli.wait().unwrap();
        // The container runs on without its CLI, and its exit is recorded.
        assert_eq!(ps_status(&s, "kept"), "running");
        assert_eq!(s.ok(&["wait", "kept"]).trim(), "4");
        assert_eq!(ps_status(&s, "kept"), "exited");
        s.ok(&["rm", "kept"]);
        // Killed before the supervisor existed: a created container, removable.
        s.ok(&["create", "--name", "never", "busybox", "true"]);
        assert_eq!(ps_status(&s, "never"), "created");
        s.ok(&["rm", "never"]);
        assert!(
            s.container_leftovers().is_empty(),
            "{:?}",
            s.container_leftovers()
        );
    }
}

#[test]
fn concurrent_creates_never_share_a_name() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        let children: Vec<_> = (0..8)
            .map(|_| {
                let mut c = s.cmd(&["create", "--name", "only-one", "busybox", "true"]);
                c.stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::null());
                c.spawn().unwrap()
            })
            .collect();
        let ok = children
            .into_iter()
            .filter_map(|mut c| c.wait().ok())
            .filter(|st| st.success())
            .count();
        assert_eq!(ok, 1);
        assert_eq!(s.ok(&["ps", "-aq"]).lines().count(), 1);
    }
}

#[test]
fn concurrent_starts_make_one_supervisor() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        s.ok(&[
            "create",
            "--name",
            "racer",
            "busybox",
            "sh",
            "-c",
            "echo started; sleep 2",
        ]);
        let children: Vec<_> = (0..4)
            .map(|_| {
                let mut c = s.cmd(&["start", "racer"]);
                c.stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::null());
                c.spawn().unwrap()
            })
            .collect();
        for mut c in children {
            c.wait().unwrap();
        }
        assert_eq!(s.ok(&["wait", "racer"]).trim(), "0");
        assert_eq!(
            s.ok(&["logs", "racer"]),
            "started\n",
            "the program ran once"
        );
    }
}
