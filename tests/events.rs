//! events: what commands and supervisors did, in podman's shapes, filtered, and
//! followed as it happens.

mod common;
use common::*;
use std::io::{BufRead, BufReader};
use std::process::Stdio;

fn lines(s: &Skiff, args: &[&str]) -> Vec<String> {
    let mut a = vec!["events", "--stream=false"];
    a.extend_from_slice(args);
    s.ok(&a).lines().map(String::from).collect()
}

#[test]
fn a_containers_life_is_logged_in_order() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        let first = s.run(&[
            "run", "--name", "life", "-l", "tier=web", "busybox", "sh", "-c", "exit 3",
        ]);
        assert_eq!(first.status.code(), Some(3));
        s.ok(&["start", "life"]);
        wait_until(10, || s.inspect("life", "{{.State.Status}}") == "exited");
        s.ok(&["rename", "life", "life2"]);
        s.ok(&["rm", "life2"]);
        s.ok(&["volume", "create", "v1"]);
        s.ok(&["volume", "rm", "v1"]);
        s.ok(&["tag", "busybox", "again:1"]);
        s.ok(&["rmi", "again:1"]);
        let got = lines(
            &s,
            &[
                "--filter",
                "type=container",
                "--format",
                "{{.Status}} {{.Name}}",
            ],
        );
        assert_eq!(
            got,
            [
                "create life",
                "attach life",
                "start life",
                "died life",
                "start life",
                "died life",
                "rename life2",
                "remove life2",
            ],
            "{mode:?}"
        );
        // died carries the exit code, and labels come along as podman gives them.
        let died = lines(
            &s,
            &[
                "--filter",
                "event=died",
                "--format",
                "{{.Attributes.containerExitCode}} {{.Attributes.tier}}",
            ],
        );
        assert_eq!(died, ["3 web", "3 web"]);
        // Filters of one key are alternatives; different keys must all match.
        let vol_or_tag = lines(
            &s,
            &[
                "--filter",
                "type=volume",
                "--filter",
                "type=image",
                "--filter",
                "event=create",
                "--filter",
                "event=tag",
                "--format",
                "{{.Type}} {{.Status}}",
            ],
        );
        assert_eq!(vol_or_tag, ["volume create", "image tag"]);
        // podman's text line and the JSON shape.
        let human = lines(&s, &["--filter", "event=rename"]);
        assert!(
            human[0].contains(" +0000 UTC container rename ")
                && human[0].ends_with("(image=localhost/busybox:latest, name=life2, tier=web)"),
            "{human:?}"
        );
        let json = lines(
            &s,
            &[
                "--filter",
                "event=remove",
                "--filter",
                "type=container",
                "--format",
                "json",
            ],
        );
        let v: serde_json::Value = serde_json::from_str(&json[0]).unwrap();
        assert_eq!(
            (v["Type"].as_str(), v["Status"].as_str(), v["Name"].as_str()),
            (Some("container"), Some("remove"), Some("life2"))
        );
        // --since and --until bound the window.
        assert!(lines(&s, &["--until", "2000-01-01T00:00:00Z"]).is_empty());
        assert_eq!(
            lines(&s, &["--since", "1h", "--filter", "event=rename"]).len(),
            1
        );
        s.fails(&["events", "--stream=false", "--filter", "colour=red"], 125);
        s.fails(&["events", "--stream=false", "--since", "yesterday"], 125);
    }
}

#[test]
fn streaming_shows_new_events_as_they_happen() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        s.ok(&["run", "--rm", "busybox", "true"]);
        // A stream bounded by --until ends by itself.
        let until = (chrono::Utc::now() + chrono::Duration::seconds(4)).to_rfc3339();
        let mut c = s.cmd(&[
            "events",
            "--filter",
            "event=start",
            "--format",
            "{{.Name}}",
            "--until",
            &until,
        ]);
        c.stdout(Stdio::piped());
        let mut child = c.spawn().unwrap();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        // Streaming shows only what happens from now on: not the earlier run.
        std::thread::sleep(std::time::Duration::from_millis(300));
        s.ok(&["run", "--rm", "--name", "fresh", "busybox", "true"]);
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        assert_eq!(line.trim(), "fresh", "{mode:?}");
        let status = child.wait().unwrap();
        assert!(status.success());
    }
}
