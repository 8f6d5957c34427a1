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
