//! The sandbox as a container sees it: id maps, namespaces, read-only kernel
//! interfaces, capabilities, seccomp, limits and exit codes. Every test runs the real
//! binary rootless (as the test user) and as root.

mod common;
use common::*;

fn status_field(s: &Skiff, extra: &[&str], field: &str) -> String {
    let mut args: Vec<&str> = extra.to_vec();
    args.extend_from_slice(&["busybox", "grep", field, "/proc/self/status"]);
    let (code, out, err) = s.run_ctr(&args);
    assert_eq!(code, 0, "{err}");
    out.split_whitespace().nth(1).unwrap_or("").to_string()
}

#[test]
fn user_namespace_maps_root_to_the_user_and_the_whole_range() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        let (code, out, err) = s.run_ctr(&[
            "busybox",
            "sh",
            "-c",
            "id -u; cat /proc/self/uid_map /proc/self/gid_map",
        ]);
        assert_eq!(code, 0, "{err}");
        let lines: Vec<Vec<&str>> = out
            .lines()
            .map(|l| l.split_whitespace().collect())
            .collect();
        assert_eq!(lines[0], vec!["0"]);
        if mode == Mode::Rootless && is_root() {
            // uid 0 inside is the user; 1.. is the whole subordinate range.
            let (uid, _) = (
                nix::unistd::User::from_name(&test_user())
                    .unwrap()
                    .unwrap()
                    .uid
                    .as_raw(),
                0,
            );
            assert_eq!(lines[1], vec!["0", &uid.to_string(), "1"]);
            assert_eq!(lines[2], vec!["1", "100000", "65536"]);
            assert_eq!(lines[4], vec!["1", "100000", "65536"]);
        } else {
            assert_eq!(
                lines[1],
                vec!["0", "0", "4294967295"],
                "root runs without a user namespace"
            );
        }
        // A file made by uid 1000 inside belongs to the mapped id outside.
        let out = s.ok(&[
            "run",
            "--name",
            "own",
            "busybox",
            "sh",
            "-c",
            "touch /f && chown 1000:1000 /f",
        ]);
        assert!(out.is_empty());
        let id = s.inspect("own", "{{.Id}}");
        let meta =
            std::fs::metadata(s.root().join("containers").join(&id).join("upper/f")).unwrap();
        use std::os::unix::fs::MetadataExt;
        let want = if mode == Mode::Rootless && is_root() {
            100999
        } else {
            1000
        };
        assert_eq!(meta.uid(), want);
    }
}

#[test]
fn host_processes_are_invisible() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        let (code, out, _) = s.run_ctr(&[
            "busybox",
            "sh",
            "-c",
            "ls /proc | grep -c '^[0-9]'; cat /proc/1/cmdline | tr '\\0' ' '",
        ]);
        assert_eq!(code, 0);
        let mut l = out.lines();
        let count: u32 = l.next().unwrap().parse().unwrap();
        assert!(count <= 4, "the container sees {count} processes");
        assert!(
            l.next().unwrap().starts_with("sh -c"),
            "pid 1 is the container's command"
        );
    }
}

#[test]
fn kernel_interfaces_are_read_only_and_masked() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        for probe in [
            "echo 1 > /proc/sys/kernel/ns_last_pid",
            "touch /sys/kernel/x",
            "echo 1 > /proc/sys/vm/drop_caches",
        ] {
            let (code, _, err) = s.run_ctr(&["busybox", "sh", "-c", probe]);
            assert_ne!(code, 0, "{probe} must fail");
            assert!(err.contains("Read-only file system"), "{probe}: {err}");
        }
        let (_, out, _) = s.run_ctr(&[
            "busybox",
            "sh",
            "-c",
            "wc -c < /proc/keys; ls /sys/firmware | wc -l",
        ]);
        assert_eq!(
            out.split_whitespace().collect::<Vec<_>>(),
            vec!["0", "0"],
            "masked paths are empty"
        );
        let (_, out, _) = s.run_ctr(&["busybox", "sh", "-c", "mount | grep ' /sys '"]);
        assert!(out.contains("(ro,"), "{out}");
    }
}

/// Bits of podman's default capability set.
const DEFAULT_CAPS: u64 = (1 << 0)
    | (1 << 1)
    | (1 << 3)
    | (1 << 4)
    | (1 << 5)
    | (1 << 6)
    | (1 << 7)
    | (1 << 8)
    | (1 << 10)
    | (1 << 18)
    | (1 << 31);

#[test]
fn capabilities_are_podmans_default_and_follow_add_and_drop() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        let hex = |v: String| u64::from_str_radix(&v, 16).unwrap();
        assert_eq!(hex(status_field(&s, &[], "CapEff")), DEFAULT_CAPS);
        assert_eq!(hex(status_field(&s, &[], "CapBnd")), DEFAULT_CAPS);
        assert_eq!(
            hex(status_field(&s, &["--cap-drop", "chown"], "CapEff")),
            DEFAULT_CAPS & !1
        );
        assert_eq!(
            hex(status_field(&s, &["--cap-add", "NET_ADMIN"], "CapEff")),
            DEFAULT_CAPS | (1 << 12)
        );
        assert_eq!(
            hex(status_field(
                &s,
                &["--cap-drop", "ALL", "--cap-add", "KILL"],
                "CapBnd"
            )),
            1 << 5
        );
        // A non-root user keeps the bounding set but has no effective capabilities.
        assert_eq!(hex(status_field(&s, &["-u", "nobody"], "CapEff")), 0);
        assert_eq!(
            status_field(&s, &["--security-opt", "no-new-privileges"], "NoNewPrivs"),
            "1"
        );
        assert_eq!(status_field(&s, &[], "NoNewPrivs"), "0");
        s.fails(
            &["run", "--rm", "--cap-add", "BOGUS", "busybox", "true"],
            125,
        );
    }
}

#[test]
fn seccomp_denies_what_the_profile_denies() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        assert_eq!(status_field(&s, &[], "Seccomp:"), "2");
        // Creating a user namespace needs no capability: only seccomp stops it.
        let (code, _, err) = s.run_ctr(&["busybox", "unshare", "-U", "true"]);
        assert_ne!(code, 0);
        assert!(err.contains("Operation not permitted"), "{err}");
        let (code, _, err) = s.run_ctr(&[
            "--security-opt",
            "seccomp=unconfined",
            "busybox",
            "unshare",
            "-U",
            "true",
        ]);
        assert_eq!(code, 0, "{err}");
        assert_eq!(
            status_field(&s, &["--security-opt", "seccomp=unconfined"], "Seccomp:"),
            "0"
        );
        // A profile from a file: deny mkdir with EPERM.
        let profile = s.share(
            "profile.json",
            br#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO","errnoRet":1}]}"#,
        );
        let opt = format!("seccomp={}", profile.display());
        let (code, _, err) = s.run_ctr(&["--security-opt", &opt, "busybox", "mkdir", "/newdir"]);
        assert_ne!(code, 0);
        assert!(err.contains("Operation not permitted"), "{err}");
        let bad = s.share("bad.json", b"{not json");
        s.fails(
            &[
                "run",
                "--rm",
                "--security-opt",
                &format!("seccomp={}", bad.display()),
                "busybox",
                "true",
            ],
            125,
        );
    }
}

#[test]
fn exit_codes_propagate() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        assert_eq!(s.run_ctr(&["busybox", "sh", "-c", "exit 42"]).0, 42);
        assert_eq!(
            s.run_ctr(&["--init", "busybox", "sh", "-c", "kill -9 $$"])
                .0,
            137
        );
        let err = s.fails(&["run", "--rm", "busybox", "no-such-command"], 127);
        assert!(err.contains("not found"), "{err}");
        let err = s.fails(&["run", "--rm", "busybox", "/etc/passwd"], 126);
        assert!(err.contains("permission denied"), "{err}");
        s.fails(&["run", "--rm", "no-such-image"], 125);
        s.fails(
            &["run", "--rm", "--restart", "sometimes", "busybox", "true"],
            125,
        );
        s.fails(
            &["run", "--rm", "--ulimit", "nofile=9:1", "busybox", "true"],
            125,
        );
        s.fails(&["run", "--rm", "-w", "relative", "busybox", "true"], 125);
        // Failed starts with --rm leave nothing behind.
        assert!(
            s.container_leftovers().is_empty(),
            "{:?}",
            s.container_leftovers()
        );
    }
}

#[test]
fn process_settings_reach_the_program() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        let env_file = s.share("env", b"# comment\nFROM_FILE=yes\n");
        let (code, out, err) = s.run_ctr(&[
            "-u", "nobody", "-w", "/var/tmp", "-e", "FOO=bar", "--env-file", env_file.to_str().unwrap(),
            "--hostname", "boat", "--ulimit", "nofile=100:200", "busybox",
            "sh", "-c", "id -u; id -g; pwd; echo $FOO $FROM_FILE; hostname; cat /etc/hostname; ulimit -n; ulimit -Hn; grep boat /etc/hosts | wc -l",
        ]);
        assert_eq!(code, 0, "{err}");
        let l: Vec<&str> = out.lines().collect();
        assert_eq!(
            l,
            vec!["65534", "65534", "/var/tmp", "bar yes", "boat", "boat", "100", "200", "1"]
        );
        let (_, out, _) = s.run_ctr(&["-u", "daemon:root", "busybox", "id"]);
        assert!(out.starts_with("uid=1(daemon) gid=0(root)"), "{out}");
        let (_, out, _) = s.run_ctr(&["--entrypoint", "echo", "busybox", "from", "entrypoint"]);
        assert_eq!(out, "from entrypoint\n");
        s.fails(&["run", "--rm", "-u", "nosuchuser", "busybox", "true"], 125);
        let (code, _, err) = s.run_ctr(&["--read-only", "busybox", "touch", "/x"]);
        assert_ne!(code, 0);
        assert!(err.contains("Read-only file system"), "{err}");
        assert_eq!(
            s.run_ctr(&["--read-only", "busybox", "touch", "/dev/shm/x"])
                .0,
            0,
            "/dev/shm stays writable"
        );
    }
}

#[test]
fn namespace_modes_host_and_container() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        let host = nix::unistd::gethostname().unwrap().into_string().unwrap();
        let (_, out, _) = s.run_ctr(&["--uts", "host", "busybox", "hostname"]);
        assert_eq!(out.trim(), host);
        s.ok(&["run", "-d", "--name", "first", "busybox", "sleep", "100"]);
        let (code, out, err) =
            s.run_ctr(&["--pid", "container:first", "busybox", "ps", "-o", "args"]);
        assert_eq!(code, 0, "{err}");
        assert!(
            out.contains("sleep 100"),
            "joined pid namespace shows the other container: {out}"
        );
        let (code, out, _) = s.run_ctr(&["--uts", "container:first", "busybox", "hostname"]);
        assert_eq!(code, 0);
        assert_eq!(out.trim(), &s.inspect("first", "{{.Id}}")[..12]);
        let (code, out, _) = s.run_ctr(&[
            "--network",
            "none",
            "busybox",
            "sh",
            "-c",
            "ls /sys/class/net",
        ]);
        assert_eq!(code, 0);
        assert_eq!(out.trim(), "lo");
        s.fails(
            &[
                "run",
                "--rm",
                "--pid",
                "container:nothere",
                "busybox",
                "true",
            ],
            125,
        );
        s.ok(&["rm", "-f", "first"]);
    }
}

#[test]
fn keep_id_runs_as_the_user() {
    if !is_root() {
        return;
    }
    let s = Skiff::with_busybox(Mode::Rootless);
    let uid = nix::unistd::User::from_name(&test_user())
        .unwrap()
        .unwrap()
        .uid
        .as_raw();
    let (code, out, err) = s.run_ctr(&[
        "--userns",
        "keep-id",
        "busybox",
        "sh",
        "-c",
        "id -u; awk '$1 == 0' /proc/self/uid_map",
    ]);
    assert_eq!(code, 0, "{err}");
    let l: Vec<&str> = out.lines().collect();
    assert_eq!(l[0], uid.to_string());
    assert!(
        l[1].split_whitespace()
            .eq(["0", "100000", &uid.to_string()]),
        "{}",
        l[1]
    );
    // Image files keep their owners, as in podman: root's files are 0:0 inside, and
    // what the user makes is the user's, also after a commit.
    let (code, out, err) = s.run_ctr(&[
        "--userns",
        "keep-id",
        "--user",
        "0",
        "busybox",
        "sh",
        "-c",
        "stat -c %u:%g /bin/busybox /bin",
    ]);
    assert_eq!((code, out.as_str()), (0, "0:0\n0:0\n"), "{err}");
    s.ok(&[
        "run",
        "--name",
        "made",
        "--userns",
        "keep-id",
        "busybox",
        "sh",
        "-c",
        "echo mine > /tmp/mine && stat -c %u /tmp/mine /bin/busybox",
    ]);
    assert_eq!(s.ok(&["logs", "made"]), format!("{uid}\n0\n"));
    s.ok(&["commit", "made", "localhost/made"]);
    let (code, out, err) = s.run_ctr(&[
        "localhost/made",
        "stat",
        "-c",
        "%u %n",
        "/tmp/mine",
        "/bin/busybox",
    ]);
    assert_eq!(
        (code, out),
        (0, format!("{uid} /tmp/mine\n0 /bin/busybox\n")),
        "{err}"
    );
    let r = Skiff::with_busybox(Mode::Root);
    r.fails(
        &["run", "--rm", "--userns", "keep-id", "busybox", "true"],
        125,
    );
}

#[test]
fn image_symlinks_cannot_aim_mounts_at_the_host() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        let escape = s.dir.join("escape");
        std::fs::create_dir_all(&escape).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&escape, std::fs::Permissions::from_mode(0o777)).unwrap();
        // A layer whose /etc, /dev/shm and working directory point at a host directory.
        let target = escape.to_str().unwrap();
        let tar = TarBuilder::new()
            .entry("etc", Kind::Symlink(target), 0)
            .entry(
                "work",
                Kind::Symlink(&format!("../../../../../..{target}")),
                0,
            )
            .finish();
        let layer = s.share("hostile.tar", &tar);
        s.ok(&["import", layer.to_str().unwrap(), "hostile"]);
        let out = s.run(&["run", "--rm", "-w", "/work/sub", "hostile", "/bin/true"]);
        // The program is missing from this image; what matters is where the mounts went.
        assert_ne!(out.status.code(), Some(0));
        let left: Vec<_> = std::fs::read_dir(&escape)
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert!(
            left.is_empty(),
            "mount targets escaped to the host: {left:?}"
        );
    }
}
