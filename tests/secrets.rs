//! Secrets: stored 0600 under the storage root, given to containers as a file or a
//! variable, and never found in inspect, a layer, an export, a diff or a log.

mod common;
use common::*;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::process::Stdio;

const VALUE: &str = "s3cr3t-5a1t-vaLue";

fn create_from_stdin(s: &Skiff, name: &str, value: &str) -> String {
    let mut c = s.cmd(&["secret", "create", name, "-"]);
    c.stdin(Stdio::piped()).stdout(Stdio::piped());
    let mut child = c.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(value.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_ok(&out);
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Every file under `dir` whose bytes contain `needle`.
fn files_containing(dir: &std::path::Path, needle: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            let Ok(m) = std::fs::symlink_metadata(&p) else {
                continue;
            };
            if m.is_dir() {
                stack.push(p);
            } else if m.is_file() {
                if let Ok(data) = std::fs::read(&p) {
                    if data.windows(needle.len()).any(|w| w == needle) {
                        out.push(p.display().to_string());
                    }
                }
            }
        }
    }
    out
}

#[test]
fn secrets_are_made_listed_and_removed_as_podman_does() {
    for mode in modes() {
        let s = Skiff::new(mode);
        let id = create_from_stdin(&s, "pw", VALUE);
        assert_eq!(id.len(), 25, "{id}");
        // From a file, and from a variable with --env.
        let f = s.share("value.txt", b"from-a-file");
        s.ok(&[
            "secret",
            "create",
            "--label",
            "team=a",
            "filed",
            f.to_str().unwrap(),
        ]);
        let mut c = s.cmd(&["secret", "create", "--env", "fromenv", "SKIFF_TEST_SECRET"]);
        c.env("SKIFF_TEST_SECRET", "from-env");
        if mode == Mode::Rootless && is_root() {
            // runuser resets the environment: set it in the shell it runs.
            let line = format!(
                "SKIFF_TEST_SECRET=from-env {}",
                s.inner_line(&["secret", "create", "--env", "fromenv", "SKIFF_TEST_SECRET"])
            );
            assert_ok(&s.command_for("sh").args(["-c", &line]).output().unwrap());
        } else {
            assert_ok(&c.output().unwrap());
        }
        let ls = s.ok(&["secret", "ls"]);
        let header = ls.lines().next().unwrap();
        assert!(header.starts_with("ID") && header.contains("NAME") && header.contains("DRIVER"));
        for n in ["pw", "filed", "fromenv"] {
            assert!(ls.contains(n), "{ls}");
        }
        assert_eq!(
            s.ok(&[
                "secret",
                "ls",
                "--filter",
                "label=team=a",
                "--format",
                "{{.Name}}"
            ])
            .trim(),
            "filed"
        );
        assert_eq!(
            s.ok(&["secret", "ls", "-q", "--filter", "name=pw"]).trim(),
            id
        );
        // inspect never shows the value, unless asked.
        let inspect = s.ok(&["secret", "inspect", "pw"]);
        assert!(
            !inspect.contains(VALUE) && inspect.contains("\"Name\": \"pw\""),
            "{inspect}"
        );
        assert_eq!(
            s.ok(&[
                "secret",
                "inspect",
                "--showsecret",
                "--format",
                "{{.SecretData}}",
                "fromenv"
            ])
            .trim(),
            "from-env"
        );
        // Stored 0600 in a 0700 directory; nothing else in the store holds the value.
        let data = s.root().join("secrets/data").join(&id);
        assert_eq!(
            std::fs::metadata(&data).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(
            std::fs::metadata(s.root().join("secrets"))
                .unwrap()
                .permissions()
                .mode()
                & 0o777,
            0o700
        );
        assert_eq!(
            files_containing(&s.root(), VALUE.as_bytes()),
            vec![data.display().to_string()]
        );
        // podman's errors and codes.
        let err = s.fails(&["secret", "create", "pw", f.to_str().unwrap()], 125);
        assert!(err.contains("pw: secret name in use"), "{err}");
        assert_eq!(s.run(&["secret", "exists", "pw"]).status.code(), Some(0));
        assert_eq!(s.run(&["secret", "exists", "nope"]).status.code(), Some(1));
        let err = s.fails(&["secret", "rm", "nope"], 1);
        assert!(
            err.contains("no secret with name or id \"nope\": no such secret"),
            "{err}"
        );
        s.ok(&["secret", "rm", "--ignore", "nope"]);
        s.ok(&["secret", "rm", "filed", "fromenv"]);
        assert_eq!(s.ok(&["secret", "ls", "-q"]).trim(), id);
        s.ok(&["secret", "rm", "--all"]);
        assert!(!data.exists());
        assert!(s.ok(&["secret", "ls", "-q"]).trim().is_empty());
    }
}

#[test]
fn containers_get_secrets_and_nothing_else_keeps_them() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        create_from_stdin(&s, "pw", VALUE);
        // As a file (default place and mode), as a variable, and at a path with an owner.
        let out = s.ok(&[
            "run", "--rm",
            "--secret", "pw",
            "--secret", "pw,type=env,target=DB_PASSWORD",
            "--secret", "pw,target=/etc/app/pw,uid=1000,gid=100,mode=0400",
            "busybox", "sh", "-c",
            "cat /run/secrets/pw; echo; echo \"$DB_PASSWORD\"; stat -c '%u %g %a' /run/secrets/pw /etc/app/pw; cat /etc/app/pw",
        ]);
        assert_eq!(
            out,
            format!("{VALUE}\n{VALUE}\n0 0 444\n1000 100 400\n{VALUE}"),
            "{mode:?}"
        );
        // A container that uses the secret without printing it leaves it nowhere.
        s.ok(&[
            "run",
            "--name",
            "quiet",
            "--secret",
            "pw",
            "--secret",
            "pw,type=env,target=DB_PASSWORD",
            "busybox",
            "sh",
            "-c",
            "test \"$DB_PASSWORD\" = \"$(cat /run/secrets/pw)\" && echo ok > /marker",
        ]);
        assert_eq!(s.ok(&["logs", "quiet"]), "");
        assert_eq!(
            s.ok(&["diff", "quiet"]).trim(),
            "A /marker",
            "only the container's own file"
        );
        for args in [
            vec!["inspect", "quiet"],
            vec!["logs", "quiet"],
            vec!["diff", "quiet"],
        ] {
            assert!(!s.ok(&args).contains(VALUE), "{args:?}");
        }
        let export = s.dir.join("quiet.tar");
        s.ok(&["export", "-o", export.to_str().unwrap(), "quiet"]);
        s.ok(&["commit", "quiet", "committed"]);
        let saved = s.save("committed.tar", "docker-archive", "committed");
        for f in [&export, &saved] {
            let data = std::fs::read(f).unwrap();
            assert!(
                !data.windows(VALUE.len()).any(|w| w == VALUE.as_bytes()),
                "{f:?}"
            );
        }
        // The stopped container's runtime files are gone; only the secret store holds it.
        assert!(files_containing(&s.dir.join("run"), VALUE.as_bytes()).is_empty());
        let holders = files_containing(&s.root(), VALUE.as_bytes());
        assert!(
            holders.len() == 1 && holders[0].contains("/secrets/data/"),
            "{holders:?}"
        );
        // In use: not removed, and the container still starts with it.
        let err = s.fails(&["secret", "rm", "pw"], 125);
        assert!(err.contains("in use by container(s) quiet"), "{err}");
        assert_eq!(s.ok(&["start", "-a", "quiet"]), "");
        s.ok(&["rm", "quiet"]);
        s.ok(&["secret", "rm", "pw"]);
        // A missing secret, or a bad option, refuses the container before anything exists.
        let before = s.ok(&["ps", "-aq"]);
        let err = s.fails(&["run", "--secret", "pw", "busybox", "true"], 125);
        assert!(err.contains("no such secret"), "{err}");
        s.fails(
            &["create", "--secret", "pw,type=file", "busybox", "true"],
            125,
        );
        assert_eq!(s.ok(&["ps", "-aq"]), before);
    }
}
