//! What podman's own scripts and users rely on, through the real binary in a plain
//! user's environment, rootless and as root: helpers found outside PATH, `run --rm`
//! removing before it returns, exec's stdio, cleanup flags, repeated options, and
//! podman's error texts and exit codes.

mod common;
use common::*;

#[test]
fn bridge_networks_work_without_sbin_in_path() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        // The harness gives skiff PATH=/usr/local/bin:/usr/bin:/bin: nft is in /usr/sbin.
        s.ok(&["network", "create", "plain"]);
        let (code, out, err) = s.run_ctr(&["--network", "plain", "busybox", "ip", "-4", "addr"]);
        assert_eq!(code, 0, "{mode:?}: {err}");
        assert!(out.contains("inet 10.89."), "{mode:?}: {out}");
    }
}

#[test]
fn run_rm_has_removed_the_container_when_it_returns() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        let children: Vec<_> = (0..20)
            .map(|_| s.spawn(&["run", "--rm", "busybox", "true"]))
            .collect();
        wait_all_ok(children);
        assert_eq!(s.ok(&["ps", "-a", "-q"]), "", "{mode:?}");
        // So a name can be reused at once.
        s.ok(&["run", "--rm", "--name", "again", "busybox", "true"]);
        s.ok(&["run", "--rm", "--name", "again", "busybox", "true"]);
        // A start that fails is removed before the command returns too.
        s.fails(
            &["run", "--rm", "--name", "bad", "busybox", "no-such-program"],
            127,
        );
        assert_eq!(s.ok(&["ps", "-a", "-q"]), "", "{mode:?}");
        assert!(
            s.container_leftovers().is_empty(),
            "{:?}",
            s.container_leftovers()
        );
    }
}

#[test]
fn image_exists_and_untag() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        assert_eq!(
            s.run(&["image", "exists", "busybox"]).status.code(),
            Some(0)
        );
        assert_eq!(
            s.run(&["image", "exists", "nothere"]).status.code(),
            Some(1)
        );
        s.ok(&["tag", "busybox", "extra:one", "extra:two"]);
        s.ok(&["untag", "busybox", "extra:one"]);
        let names = s.inspect("busybox", "{{.RepoTags}}");
        assert!(
            !names.contains("extra:one") && names.contains("extra:two"),
            "{names}"
        );
        let err = s.fails(&["untag", "busybox", "extra:nope"], 125);
        assert!(err.contains("localhost/extra:nope: tag not known"), "{err}");
        let id = s.inspect("busybox", "{{.Id}}");
        s.ok(&["image", "untag", &id]);
        assert_eq!(s.inspect(&id, "{{len .RepoTags}}"), "0");
        assert_eq!(s.run(&["image", "exists", &id]).status.code(), Some(0));
    }
}

#[test]
fn exec_gives_the_process_pipes_not_the_callers_files() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        s.ok(&["run", "-d", "--name", "c", "busybox", "sleep", "100"]);
        let host_file = s.dir.join("out.txt");
        let line = format!(
            "{} > '{}' 2>&1",
            s.inner_line(&[
                "exec",
                "c",
                "sh",
                "-c",
                "readlink /proc/$$/fd/1; readlink /proc/$$/fd/2"
            ]),
            host_file.display()
        );
        let out = s.command_for("sh").args(["-c", &line]).output().unwrap();
        assert_ok(&out);
        let seen = std::fs::read_to_string(&host_file).unwrap();
        assert!(
            seen.lines().count() == 2 && seen.lines().all(|l| l.starts_with("pipe:")),
            "{mode:?}: the process saw {seen:?}"
        );
        assert!(!seen.contains(host_file.to_str().unwrap()));
        // Input, output, error and the exit code still travel.
        let mut child = s.spawn(&["exec", "-i", "c", "sh", "-c", "cat; echo oops >&2; exit 4"]);
        {
            use std::io::Write;
            let mut stdin = child.stdin.take().unwrap();
            stdin.write_all(b"through the pipe\n").unwrap();
        }
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(4));
        assert_eq!(String::from_utf8_lossy(&out.stdout), "through the pipe\n");
        assert_eq!(String::from_utf8_lossy(&out.stderr), "oops\n");
        // A background child that keeps the pipes open does not hold exec up.
        let start = std::time::Instant::now();
        s.ok(&["exec", "c", "sh", "-c", "sleep 30 & echo started"]);
        assert!(start.elapsed() < std::time::Duration::from_secs(20));
    }
}

#[test]
fn cleanup_flags_scripts_use() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        s.ok(&["run", "-d", "--name", "a", "busybox", "sleep", "100"]);
        s.ok(&["create", "--name", "b", "busybox", "true"]);
        // ps --external and --sort.
        let names = s.ok(&[
            "ps",
            "-a",
            "--external",
            "--sort",
            "names",
            "--format",
            "{{.Names}}",
        ]);
        assert_eq!(names, "a\nb\n");
        s.fails(&["ps", "--sort", "bogus"], 125);
        assert_eq!(
            s.run(&["container", "exists", "--external", "a"])
                .status
                .code(),
            Some(0)
        );
        // stop --ignore and --timeout; rm --ignore.
        assert_eq!(s.ok(&["stop", "--ignore", "nothere"]), "");
        assert_eq!(
            s.ok(&["stop", "--timeout", "0", "--ignore", "a", "nothere"]),
            "a\n"
        );
        assert_eq!(s.ok(&["rm", "--ignore", "nothere"]), "");
        // start --all starts what is not running; bad combinations as podman says them.
        let err = s.fails(&["start", "--all", "a"], 125);
        assert!(
            err.contains(
                "either start all containers or the container(s) provided in the arguments"
            ),
            "{err}"
        );
        let err = s.fails(&["start"], 125);
        assert!(
            err.contains("start requires at least one argument"),
            "{err}"
        );
        let err = s.fails(&["start", "-a", "--all"], 125);
        assert!(
            err.contains("you cannot start and attach all containers at once"),
            "{err}"
        );
        s.ok(&["start", "--filter", "name=^b$"]);
        s.ok(&["wait", "b"]);
        assert_eq!(s.inspect("a", "{{.State.Status}}"), "exited");
        s.ok(&["start", "--all"]);
        assert_eq!(s.inspect("a", "{{.State.Status}}"), "running");
        // rm -t 0 -f, and rm echoes what it was given.
        assert_eq!(s.ok(&["rm", "-t", "0", "-f", "a"]), "a\n");
        // --noout drops standard output only.
        assert_eq!(s.ok(&["--noout", "ps", "-a"]), "");
        // --noheading on volume and network listings.
        s.ok(&["volume", "create", "vol1"]);
        assert_eq!(
            s.ok(&["volume", "ls", "--noheading"]).trim(),
            "local       vol1"
        );
        s.ok(&["network", "create", "net1"]);
        let nets = s.ok(&[
            "network",
            "ls",
            "--noheading",
            "--format",
            "table {{.Name}}",
        ]);
        assert!(
            nets.lines().any(|l| l == "net1") && !nets.contains("NAME"),
            "{nets}"
        );
    }
}

#[test]
fn repeated_options_take_the_last_value() {
    let s = Skiff::with_busybox(Mode::Rootless);
    s.ok(&[
        "create", "--name", "first", "--name", "second", "busybox", "true",
    ]);
    assert_eq!(s.ok(&["ps", "-a", "--format", "{{.Names}}"]), "second\n");
    assert_eq!(
        s.ok(&[
            "inspect",
            "--format",
            "{{.Id}}",
            "--format",
            "{{.Name}}",
            "second"
        ]),
        "second\n"
    );
    s.ok(&[
        "create",
        "--userns=private",
        "--userns=keep-id",
        "--name",
        "k",
        "busybox",
        "true",
    ]);
}

#[test]
fn podman_error_texts_and_exit_codes() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        let err = s.fails(&["rm", "ghost"], 1);
        assert!(
            err.contains(r#"no container with name or ID "ghost" found: no such container"#),
            "{err}"
        );
        let err = s.fails(&["stop", "ghost"], 125);
        assert!(
            err.contains(r#"no container with name or ID "ghost" found"#),
            "{err}"
        );
        let id = s.ok(&["run", "-d", "-v", "vol:/data", "busybox", "sleep", "100"]);
        let id = id.trim();
        let err = s.fails(&["rm", id], 2);
        assert!(err.contains(&format!("cannot remove container {id} as it is running - running or paused containers cannot be removed without force: container state improper")), "{err}");
        let err = s.fails(&["volume", "rm", "vol"], 2);
        assert!(err.contains(&format!("volume vol is being used by the following container(s): {id}: volume is being used")), "{err}");
        s.ok(&["rm", "-f", id]);
        // Exit codes podman gives.
        let err = s.fails(
            &["run", "--rm", "--workdir", "/missing", "busybox", "true"],
            126,
        );
        assert!(
            err.contains(r#"workdir "/missing" does not exist on container"#),
            "{err}"
        );
        assert_eq!(
            s.ok(&["run", "--rm", "--workdir", "/tmp", "busybox", "pwd"]),
            "/tmp\n"
        );
        assert_eq!(s.ok(&["ps", "-a", "-q"]), "", "the failed --rm run is gone");
        assert_eq!(
            s.run(&["image", "rm", "--force", "missing"]).status.code(),
            Some(0)
        );
        let err = s.fails(&["network", "rm", "missing"], 1);
        assert!(
            err.contains("unable to find network with name or ID missing: network not found"),
            "{err}"
        );
        let err = s.fails(&["--log-level=bogus", "ps"], 1);
        assert!(
            err.contains(r#"Log Level "bogus" is not supported"#),
            "{err}"
        );
        s.ok(&["create", "--name", "nocmd", "busybox", "no-such-program"]);
        s.fails(&["start", "nocmd"], 125);
        s.ok(&["rm", "nocmd"]);
        let err = s.fails(
            &[
                "run", "--rm", "-v", "/tmp:/x", "-v", "/var:/x", "busybox", "true",
            ],
            125,
        );
        assert!(err.contains("/x: duplicate mount destination"), "{err}");
    }
}

#[test]
fn stop_warns_when_the_stop_signal_was_not_enough() {
    let s = Skiff::with_busybox(Mode::Rootless);
    s.ok(&[
        "run",
        "-d",
        "--name",
        "stubborn",
        "busybox",
        "sh",
        "-c",
        "trap '' TERM; sleep 100 & wait; sleep 100",
    ]);
    std::thread::sleep(std::time::Duration::from_millis(300));
    let stopper = s.spawn(&["stop", "-t", "2", "stubborn"]);
    // While stop waits, ps and inspect say so.
    std::thread::sleep(std::time::Duration::from_millis(700));
    assert_eq!(s.inspect("stubborn", "{{.State.Status}}"), "stopping");
    assert_eq!(s.ok(&["ps", "--format", "{{.Status}}"]), "Stopping\n");
    let out = stopper.wait_with_output().unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout), "stubborn\n");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("StopSignal SIGTERM failed to stop container stubborn in 2 seconds, resorting to SIGKILL"),
        "{err}"
    );
}

#[test]
fn install_puts_binary_completions_and_man_pages_in_place() {
    let dest = std::path::PathBuf::from(format!("/tmp/skiff-it-install-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dest);
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/install.sh");
    let out = std::process::Command::new(script)
        .arg(BIN)
        .env("DESTDIR", &dest)
        .env("PREFIX", "/usr/local")
        .output()
        .unwrap();
    assert_ok(&out);
    let root = dest.join("usr/local");
    let skiff = root.join("bin/skiff");
    let version = std::process::Command::new(&skiff)
        .arg("version")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&version.stdout).contains("Version:"));
    let bash =
        std::fs::read_to_string(root.join("share/bash-completion/completions/skiff")).unwrap();
    assert!(
        bash.contains("complete -F _skiff") && bash.contains("--noout"),
        "{bash}"
    );
    assert!(root.join("share/zsh/site-functions/_skiff").is_file());
    assert!(root
        .join("share/fish/vendor_completions.d/skiff.fish")
        .is_file());
    // A page per verb, also for the `container` spellings, readable by man.
    for page in [
        "skiff.1",
        "skiff-run.1",
        "skiff-container-run.1",
        "skiff-image-exists.1",
    ] {
        assert!(root.join("share/man/man1").join(page).is_file(), "{page}");
    }
    let man = std::process::Command::new("man")
        .arg("-l")
        .arg(root.join("share/man/man1/skiff-run.1"))
        .env("MANPAGER", "cat")
        .env("PAGER", "cat")
        .output();
    if let Ok(man) = man {
        let text = String::from_utf8_lossy(&man.stdout);
        assert!(text.contains("Run a command in a new container"), "{text}");
    }
    let _ = std::fs::remove_dir_all(&dest);
}

#[test]
fn a_containers_cgroup_lies_under_the_creators_own() {
    if !is_root() {
        return;
    }
    let s = Skiff::with_busybox(Mode::Root);
    let id = s.ok(&["run", "-d", "busybox", "sleep", "100"]);
    let pid = s.inspect(id.trim(), "{{.State.Pid}}");
    let theirs = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
    let ours = std::fs::read_to_string("/proc/self/cgroup").unwrap();
    let path_of = |text: &str, ctl: &str| {
        text.lines()
            .find_map(|l| {
                let f: Vec<&str> = l.splitn(3, ':').collect();
                f[1].split(',').any(|c| c == ctl).then(|| f[2].to_string())
            })
            .unwrap()
    };
    for ctl in ["memory", "pids", "freezer"] {
        let mine = path_of(&ours, ctl);
        let want = format!("{}/skiff-{}", mine.trim_end_matches('/'), id.trim());
        assert_eq!(path_of(&theirs, ctl), want, "{ctl}");
    }
    s.ok(&["rm", "-f", id.trim()]);
    for ctl in ["memory", "pids", "freezer"] {
        let dir = format!(
            "/sys/fs/cgroup/{ctl}{}/skiff-{}",
            path_of(&ours, ctl).trim_end_matches('/'),
            id.trim()
        );
        assert!(!std::path::Path::new(&dir).exists(), "{dir} left behind");
    }
}

#[test]
fn run_flags_podman_scripts_pass() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        // --cidfile: written once, refused when it exists.
        let cid = s.dir.join("cid");
        let cid_arg = cid.to_str().unwrap();
        s.ok(&["run", "--rm", "--cidfile", cid_arg, "busybox", "true"]);
        assert_eq!(std::fs::read_to_string(&cid).unwrap().len(), 64);
        let err = s.fails(
            &["run", "--rm", "--cidfile", cid_arg, "busybox", "true"],
            125,
        );
        assert!(err.contains("container id file exists"), "{err}");
        // --conmon-pidfile: the supervisor's pid.
        let pidfile = s.dir.join("sup.pid");
        s.ok(&[
            "run",
            "-d",
            "--name",
            "p",
            "--conmon-pidfile",
            pidfile.to_str().unwrap(),
            "busybox",
            "sleep",
            "100",
        ]);
        let pid = std::fs::read_to_string(&pidfile).unwrap();
        assert_eq!(pid.trim(), s.inspect("p", "{{.State.ConmonPid}}"));
        s.ok(&["rm", "-f", "p"]);
        // --tz binds the zone at /etc/localtime.
        assert_eq!(
            s.ok(&[
                "run",
                "--rm",
                "--tz",
                "Asia/Tokyo",
                "busybox",
                "date",
                "+%Z"
            ]),
            "JST\n"
        );
        let err = s.fails(
            &["run", "--rm", "--tz", "Nowhere/Land", "busybox", "true"],
            125,
        );
        assert!(err.contains("unknown time zone Nowhere/Land"), "{err}");
        // -a: only the streams asked for.
        let out = s.run(&[
            "run",
            "--rm",
            "-a",
            "stderr",
            "busybox",
            "sh",
            "-c",
            "echo out; echo err >&2",
        ]);
        assert_eq!(String::from_utf8_lossy(&out.stdout), "");
        assert_eq!(String::from_utf8_lossy(&out.stderr), "err\n");
        // --timeout kills the container.
        let start = std::time::Instant::now();
        assert_eq!(
            s.run(&["run", "--rm", "--timeout", "1", "busybox", "sleep", "30"])
                .status
                .code(),
            Some(137)
        );
        assert!(start.elapsed() < std::time::Duration::from_secs(20));
        // --log-driver none keeps nothing; max-size empties the file when it grows past.
        s.ok(&[
            "run",
            "--name",
            "quiet",
            "--log-driver",
            "none",
            "busybox",
            "echo",
            "hi",
        ]);
        let err = s.fails(&["logs", "quiet"], 125);
        assert!(err.contains("'none' log driver"), "{err}");
        assert_eq!(s.inspect("quiet", "{{.HostConfig.LogConfig.Type}}"), "none");
        s.ok(&[
            "run",
            "--name",
            "chatty",
            "--log-opt",
            "max-size=2k",
            "busybox",
            "sh",
            "-c",
            "i=0; while [ $i -lt 200 ]; do echo line $i; i=$((i+1)); done",
        ]);
        let logs = s.ok(&["logs", "chatty"]);
        assert!(
            logs.ends_with("line 199\n") && !logs.contains("line 0\n"),
            "{logs}"
        );
        let path = s.inspect("chatty", "{{.LogPath}}");
        assert!(std::fs::metadata(&path).unwrap().len() <= 2048);
        s.fails(
            &["run", "--rm", "--log-driver", "journald", "busybox", "true"],
            125,
        );
        // --rmi takes the image with the container when nothing else uses it.
        s.ok(&["tag", "busybox", "throwaway:1"]);
        let id = s.inspect("busybox", "{{.Id}}");
        s.ok(&["rm", "-af"]);
        s.ok(&["rmi", "busybox"]);
        s.ok(&["run", "--rmi", "throwaway:1", "true"]);
        assert_eq!(
            s.run(&["image", "exists", &id]).status.code(),
            Some(1),
            "{mode:?}"
        );
        // --kernel-memory and --runtime are accepted, as in podman.
        s.busybox();
        let out = s.run(&[
            "run",
            "--rm",
            "--kernel-memory",
            "10m",
            "--runtime",
            "crun",
            "busybox",
            "true",
        ]);
        assert!(out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr)
            .contains("--kernel-memory flag is no longer supported"));
    }
}

#[test]
fn history_in_podmans_shapes() {
    let s = Skiff::with_busybox(Mode::Rootless);
    let id = s.inspect("busybox", "{{.Id}}");
    let v: serde_json::Value =
        serde_json::from_str(&s.ok(&["history", "--format", "json", "busybox"])).unwrap();
    let top = &v[0];
    assert_eq!(top["id"], id.as_str());
    assert!(top["size"].is_u64(), "{top}");
    assert!(top["created"].as_str().unwrap().contains('T'));
    assert!(
        top["CreatedBy"].as_str().unwrap().ends_with("in / "),
        "{top}"
    );
    // --human=false: times to the second.
    let plain = s.ok(&[
        "history",
        "--human=false",
        "--format",
        "{{.Created}}",
        "busybox",
    ]);
    let t = plain.trim();
    assert!(t.ends_with('Z') && !t.contains('.') && t.len() == 20, "{t}");
}

#[test]
fn version_and_info_carry_what_scripts_read() {
    let s = Skiff::with_busybox(Mode::Rootless);
    let v = s.ok(&["--version"]);
    assert!(v.starts_with("skiff version "), "{v}");
    let number = v.split_whitespace().nth(2).unwrap();
    assert_eq!(
        s.ok(&["version", "--format", "{{.Client.Version}}"]).trim(),
        number
    );
    for key in [
        "{{.Host.OCIRuntime.Name}}",
        "{{.Host.BuildahVersion}}",
        "{{.Store.GraphDriverName}}",
        "{{.Store.ContainerStore.Running}}",
        "{{.Store.VolumePath}}",
    ] {
        assert!(!s.ok(&["info", "--format", key]).trim().is_empty(), "{key}");
    }
    let info: serde_json::Value =
        serde_json::from_str(&s.ok(&["info", "--format", "json"])).unwrap();
    assert!(info["store"]["graphOptions"].is_object());
    s.ok(&["create", "--name", "c", "busybox", "true"]);
    let digest = s.inspect("c", "{{.ImageDigest}}");
    assert!(digest.starts_with("sha256:"), "{digest}");
    assert_eq!(digest, s.inspect("busybox", "{{.Digest}}"));
}

#[test]
fn system_df_prune_and_reset() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        s.ok(&[
            "run", "-d", "--name", "up", "-v", "kept:/d", "busybox", "sleep", "100",
        ]);
        s.ok(&[
            "run",
            "--name",
            "down",
            "busybox",
            "sh",
            "-c",
            "dd if=/dev/zero of=/big bs=1k count=300 2>/dev/null",
        ]);
        s.ok(&["volume", "create", "loose"]);
        s.ok(&["network", "create", "spare"]);
        let df: serde_json::Value =
            serde_json::from_str(&s.ok(&["system", "df", "--format", "json"])).unwrap();
        let containers = &df[1];
        assert_eq!(containers["Type"], "Containers");
        assert_eq!(
            (containers["Total"].as_u64(), containers["Active"].as_u64()),
            (Some(2), Some(1))
        );
        assert!(
            containers["RawReclaimable"].as_u64().unwrap() >= 300 * 1024,
            "{df}"
        );
        assert_eq!(df[2]["Total"], 2);
        let out = s.ok(&["system", "prune", "-f", "--volumes"]);
        assert!(
            out.contains("Deleted Containers") && out.contains("spare") && out.contains("loose"),
            "{out}"
        );
        assert_eq!(s.ok(&["ps", "-a", "--format", "{{.Names}}"]), "up\n");
        assert_eq!(s.ok(&["volume", "ls", "-q"]), "kept\n");
        assert_eq!(
            s.run(&["image", "exists", "busybox"]).status.code(),
            Some(0)
        );
        // reset: nothing of the store is left, running containers included.
        let pid = s.inspect("up", "{{.State.Pid}}");
        s.ok(&["system", "reset", "-f"]);
        assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists());
        assert!(!s.root().exists() && !s.dir.join("run").exists());
        assert_eq!(s.ok(&["images", "-q"]), "");
    }
}

#[test]
fn cp_paths_start_at_the_workdir_and_containers_copy_to_each_other() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        s.ok(&[
            "run",
            "--name",
            "src",
            "-w",
            "/tmp",
            "busybox",
            "sh",
            "-c",
            "mkdir d; echo one > d/f; echo two > rel.txt",
        ]);
        s.ok(&[
            "run", "-d", "--name", "dst", "-w", "/var", "busybox", "sleep", "100",
        ]);
        // Relative on both sides, stopped to running.
        s.ok(&["cp", "src:rel.txt", "dst:."]);
        assert_eq!(s.ok(&["exec", "dst", "cat", "/var/rel.txt"]), "two\n");
        s.ok(&["cp", "src:/tmp/d", "dst:/tmp/"]);
        assert_eq!(s.ok(&["exec", "dst", "cat", "/tmp/d/f"]), "one\n");
        // Out to the host, relative too.
        let out = host_dir(&s, "out");
        s.ok(&["cp", "src:rel.txt", out.to_str().unwrap()]);
        assert_eq!(
            std::fs::read_to_string(out.join("rel.txt")).unwrap(),
            "two\n"
        );
        assert!(
            s.root()
                .join("tmp")
                .read_dir()
                .map(|d| d.count())
                .unwrap_or(0)
                == 0,
            "spool left behind"
        );
        s.ok(&["rm", "-f", "src", "dst"]);
    }
}

#[test]
fn ports_without_a_network_of_its_own_are_discarded_with_podmans_warning() {
    let s = Skiff::with_busybox(Mode::Rootless);
    for net in ["none", "host"] {
        let out = s.run(&[
            "run",
            "--rm",
            "--network",
            net,
            "-p",
            "18080:80",
            "busybox",
            "echo",
            "ran",
        ]);
        assert!(out.status.success(), "{net}");
        assert_eq!(String::from_utf8_lossy(&out.stdout), "ran\n");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("Port mappings have been discarded as one of the Host, Container, Pod, and None network modes are in use"),
            "{net}: {err}"
        );
    }
}

#[test]
fn containerenv_and_the_users_keep_id_and_hostuser_add() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        // /run/.containerenv is there and empty; privileged containers learn who runs them.
        let (code, out, err) = s.run_ctr(&[
            "busybox",
            "sh",
            "-c",
            "test -f /run/.containerenv && wc -c < /run/.containerenv",
        ]);
        assert_eq!((code, out.trim()), (0, "0"), "{err}");
        // /etc/mtab leads to /proc/mounts, as podman makes it, and is no change of the container's.
        s.ok(&[
            "run",
            "--name",
            "mt",
            "busybox",
            "sh",
            "-c",
            "readlink /etc/mtab > /mtab-seen",
        ]);
        assert_eq!(s.ok(&["diff", "mt"]), "A /mtab-seen\n");
        let seen = s.dir.join("mtab-seen");
        s.ok(&["cp", "mt:/mtab-seen", seen.to_str().unwrap()]);
        assert_eq!(std::fs::read_to_string(&seen).unwrap(), "/proc/mounts\n");
        s.ok(&["rm", "mt"]);
        let (_, out, err) = s.run_ctr(&[
            "--name",
            "priv",
            "--privileged",
            "busybox",
            "cat",
            "/run/.containerenv",
        ]);
        let rootless = u8::from(mode == Mode::Rootless);
        assert!(out.starts_with("engine=\"skiff-"), "{out}{err}");
        assert!(out.contains("name=\"priv\"\n"), "{out}");
        assert!(
            out.contains("image=\"localhost/busybox:latest\"\n"),
            "{out}"
        );
        assert!(out.contains(&format!("rootless={rootless}\n")), "{out}");
        // --hostuser adds a host account by name; an unknown one is refused.
        let (code, out, err) = s.run_ctr(&[
            "--hostuser",
            "daemon",
            "busybox",
            "sh",
            "-c",
            "grep -c '^daemon:' /etc/passwd; grep -c '^daemon:' /etc/group",
        ]);
        assert_eq!((code, out.as_str()), (0, "1\n1\n"), "{err}");
        let err = s.fails(
            &[
                "run",
                "--rm",
                "--hostuser",
                "no-such-user-here",
                "busybox",
                "true",
            ],
            125,
        );
        assert!(err.contains("no-such-user-here"), "{err}");
    }
    // keep-id: the caller's name resolves inside, as podman adds it.
    let s = Skiff::with_busybox(Mode::Rootless);
    let user = test_user();
    let (code, out, err) = s.run_ctr(&[
        "--userns",
        "keep-id",
        "busybox",
        "sh",
        "-c",
        "id -un; id -gn",
    ]);
    assert_eq!((code, out), (0, format!("{user}\n{user}\n")), "{err}");
}

#[test]
fn load_from_a_url_and_podmans_words_for_what_is_no_image() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        let dir = host_dir(&s, "served");
        let archive = dir.join("bb.tar");
        s.ok(&[
            "save",
            "--uncompressed",
            "-o",
            archive.to_str().unwrap(),
            "localhost/busybox:latest",
        ]);
        let port = free_port();
        let mut server = std::process::Command::new("/usr/bin/python3")
            .args([
                "-m",
                "http.server",
                "--bind",
                "127.0.0.1",
                &port.to_string(),
            ])
            .current_dir(&dir)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        assert!(wait_until(10, || std::net::TcpStream::connect((
            "127.0.0.1",
            port
        ))
        .is_ok()));
        let fresh = Skiff::new(mode);
        let url = format!("http://127.0.0.1:{port}/bb.tar");
        let out = fresh.ok(&["load", "-i", &url]);
        assert_eq!(out, "Loaded image: localhost/busybox:latest\n");
        let missing = format!("http://127.0.0.1:{port}/missing.tar");
        let err = fresh.fails(&["load", "-i", &missing], 125);
        assert!(err.contains("404"), "{err}");
        let _ = server.kill();
        let _ = server.wait();
        // Not an image archive at all: podman's words, and the store unchanged.
        let junk = s.share("junk.tar", b"this is no archive\n");
        let err = fresh.fails(&["load", "-i", junk.to_str().unwrap()], 125);
        assert!(
            err.contains("payload does not match any of the supported image formats"),
            "{err}"
        );
        assert_eq!(
            fresh.ok(&["images", "--format", "{{.Repository}}"]),
            "localhost/busybox\n"
        );
    }
}

#[test]
fn top_takes_podmans_descriptors() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        s.ok(&["run", "-d", "--name", "t", "busybox", "sleep", "100"]);
        let hpid = s.inspect("t", "{{.State.Pid}}");
        let out = s.ok(&[
            "top", "t", "hpid,pid", "user", "huser", "seccomp", "%C", "capeff",
        ]);
        let lines: Vec<Vec<&str>> = out
            .lines()
            .map(|l| l.split_whitespace().collect())
            .collect();
        assert_eq!(
            lines[0],
            [
                "HPID",
                "PID",
                "USER",
                "HUSER",
                "SECCOMP",
                "%CPU",
                "EFFECTIVE",
                "CAPS"
            ],
            "{out}"
        );
        let host_user = if mode == Mode::Root {
            "root".to_string()
        } else {
            test_user()
        };
        assert_eq!(
            &lines[1][..5],
            [hpid.as_str(), "1", "root", host_user.as_str(), "filter"],
            "{out}"
        );
        assert!(
            lines[1][6].contains("CHOWN") && !lines[1][6].contains("SYS_ADMIN"),
            "{out}"
        );
        let err = s.fails(&["top", "t", "bogus"], 125);
        assert!(err.contains("'bogus': unknown descriptor"), "{err}");
        s.ok(&["rm", "-f", "t"]);
    }
}

#[test]
fn image_tree_and_image_mount() {
    let s = Skiff::with_busybox(Mode::Rootless);
    s.ok(&[
        "run",
        "--name",
        "src",
        "busybox",
        "sh",
        "-c",
        "echo layered > /added",
    ]);
    s.ok(&["commit", "src", "localhost/layered"]);
    let tree = s.ok(&["image", "tree", "localhost/layered"]);
    let lines: Vec<&str> = tree.lines().collect();
    assert!(
        lines[0].starts_with("Image ID: ") && lines[1] == "Tags:     [localhost/layered:latest]",
        "{tree}"
    );
    assert_eq!(lines[3], "Image Layers");
    assert!(
        lines[4].starts_with("├── ID: ")
            && lines[4].ends_with("Top Layer of: [localhost/busybox:latest]"),
        "{tree}"
    );
    assert!(
        lines[5].starts_with("└── ID: ")
            && lines[5].ends_with("Top Layer of: [localhost/layered:latest]"),
        "{tree}"
    );
    s.fails(&["image", "tree", "localhost/nothing"], 125);
    // Rootless, image mounts live in the storage namespace: outside it, a clear refusal.
    let err = s.fails(&["image", "mount", "localhost/layered"], 125);
    assert!(err.contains("skiff unshare"), "{err}");
    // Inside `skiff unshare` plain `skiff` finds the user's store on its own.
    let script = "p=$($SK image mount localhost/layered) && cat \"$p/added\" && test -x \"$p/bin/sh\" && \
                  (touch \"$p/new\" 2>/dev/null && echo writable || echo read-only) && \
                  $SK image mount | grep -c layered && $SK image unmount localhost/layered >/dev/null && \
                  test ! -e \"$p/added\" && echo gone"
        .replace("$SK", BIN);
    let out = s
        .command_for(BIN)
        .args([
            "--root",
            s.root().to_str().unwrap(),
            "--runroot",
            s.dir.join("run").to_str().unwrap(),
        ])
        .args(["unshare", "sh", "-c", &script])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "layered\nread-only\n1\ngone\n",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    if !is_root() {
        return;
    }
    let s = Skiff::with_busybox(Mode::Root);
    let p = s.ok(&["image", "mount", "localhost/busybox"]);
    assert!(std::path::Path::new(p.trim()).join("bin/busybox").exists());
    s.ok(&["image", "unmount", "--all"]);
    assert!(!std::path::Path::new(p.trim()).join("bin/busybox").exists());
}

#[test]
fn container_init_builds_the_sandbox_and_start_runs_the_program() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        s.ok(&[
            "create",
            "--name",
            "i",
            "busybox",
            "sh",
            "-c",
            "echo ran; sleep 0.2",
        ]);
        assert_eq!(s.ok(&["container", "init", "i"]), "i\n");
        assert_eq!(s.inspect("i", "{{.State.Status}}"), "initialized");
        assert_eq!(
            s.ok(&["ps", "-a", "--format", "{{.Status}}"]),
            "Initialized\n"
        );
        // The sandbox stands: its init exists, and the program has not run.
        let pid: i32 = s.inspect("i", "{{.State.Pid}}").parse().unwrap();
        assert!(process_alive(pid));
        assert_eq!(s.ok(&["logs", "i"]), "");
        // start -a lets it run and sees all of its output.
        let out = s.ok(&["start", "-a", "i"]);
        assert_eq!(out, "ran\n");
        assert_eq!(s.inspect("i", "{{.State.Status}}"), "exited");
        // A second time, started detached.
        s.ok(&["container", "init", "i"]);
        s.ok(&["start", "i"]);
        assert_eq!(s.ok(&["wait", "i"]), "0\n");
        assert_eq!(s.ok(&["logs", "i"]), "ran\nran\n");
        // --all takes every created container; an initialized one can be removed.
        s.ok(&["create", "--name", "j", "busybox", "sleep", "100"]);
        assert_eq!(
            s.ok(&["container", "init", "--all"]),
            format!("{}\n", s.inspect("j", "{{.Id}}"))
        );
        let held: i32 = s.inspect("j", "{{.State.Pid}}").parse().unwrap();
        s.ok(&["rm", "-f", "j"]);
        assert!(
            wait_until(5, || !process_alive(held)),
            "the held init outlived rm"
        );
        s.fails(&["container", "init"], 125);
        s.fails(&["container", "init", "nope"], 125);
    }
}

#[test]
fn runlabel_runs_the_recipe_an_image_carries() {
    let s = Skiff::with_busybox(Mode::Rootless);
    s.ok(&["run", "--name", "src", "busybox", "true"]);
    s.ok(&[
        "commit",
        "-c",
        "LABEL RUN=\"podman run --name NAME IMAGE echo ran as $NAME from $IMAGE\"",
        "src",
        "localhost/recipe",
    ]);
    let out = s.ok(&[
        "container",
        "runlabel",
        "--display",
        "RUN",
        "localhost/recipe",
    ]);
    assert_eq!(out, "command: podman run --name recipe localhost/recipe:latest echo ran as recipe from localhost/recipe:latest\n");
    let out = s.ok(&[
        "container",
        "runlabel",
        "--name",
        "r1",
        "RUN",
        "localhost/recipe",
        "and",
        "more",
    ]);
    assert_eq!(
        out,
        "command: podman run --name r1 localhost/recipe:latest echo ran as r1 from localhost/recipe:latest and more\nran as r1 from localhost/recipe:latest and more\n"
    );
    assert_eq!(s.inspect("r1", "{{.State.Status}}"), "exited");
    let err = s.fails(
        &["container", "runlabel", "INSTALL", "localhost/recipe"],
        125,
    );
    assert!(
        err.contains("cannot find the value of label: INSTALL"),
        "{err}"
    );
}

#[test]
fn container_clone_makes_a_container_the_same_way() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        s.ok(&[
            "create",
            "--name",
            "orig",
            "-e",
            "KEY=kept",
            "-l",
            "team=a",
            "busybox",
            "sh",
            "-c",
            "echo $KEY $(hostname)",
        ]);
        let id = s.ok(&["container", "clone", "orig"]);
        assert_eq!(s.inspect(id.trim(), "{{.Name}}"), "orig-clone");
        assert_eq!(s.inspect("orig-clone", "{{.Config.Labels.team}}"), "a");
        let short = &id.trim()[..12];
        s.ok(&["start", "orig-clone"]);
        assert_eq!(s.ok(&["wait", "orig-clone"]), "0\n");
        assert_eq!(s.ok(&["logs", "orig-clone"]), format!("kept {short}\n"));
        // A second clone gets the next free name; --name, --run and --destroy.
        s.ok(&["container", "clone", "orig"]);
        assert!(s.ok(&["container", "exists", "orig-clone1"]).is_empty());
        s.ok(&[
            "container",
            "clone",
            "--name",
            "third",
            "--run",
            "--destroy",
            "orig",
        ]);
        assert_eq!(s.ok(&["wait", "third"]), "0\n");
        assert_eq!(
            s.run(&["container", "exists", "orig"]).status.code(),
            Some(1)
        );
        s.fails(&["container", "clone", "nope"], 125);
    }
}

#[test]
fn run_and_pull_take_podmans_transports() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        let dir = host_dir(&s, "transports");
        let docker = dir.join("d.tar");
        let oci = dir.join("o.tar");
        s.ok(&[
            "save",
            "-o",
            docker.to_str().unwrap(),
            "localhost/busybox:latest",
        ]);
        s.ok(&[
            "save",
            "--format",
            "oci-archive",
            "-o",
            oci.to_str().unwrap(),
            "localhost/busybox:latest",
        ]);
        let layout = host_dir(&s, "layout");
        let st = std::process::Command::new("tar")
            .arg("-xf")
            .arg(&oci)
            .arg("-C")
            .arg(&layout)
            .status()
            .unwrap();
        assert!(st.success());
        for (i, source) in [
            format!("docker-archive:{}", docker.display()),
            format!("oci-archive:{}", oci.display()),
            format!("oci:{}", layout.display()),
        ]
        .iter()
        .enumerate()
        {
            let fresh = Skiff::new(mode);
            let (code, out, err) = fresh.run_ctr(&[source, "echo", "ran"]);
            assert_eq!((code, out.as_str()), (0, "ran\n"), "{source}: {err}");
            if i == 0 {
                assert_eq!(
                    fresh.ok(&["images", "--format", "{{.Repository}}"]),
                    "localhost/busybox\n"
                );
            }
        }
        let fresh = Skiff::new(mode);
        let id = fresh.ok(&["pull", &format!("docker-archive:{}", docker.display())]);
        assert_eq!(id.trim(), s.inspect("localhost/busybox", "{{.Id}}"));
        let (code, _, err) = fresh.run_ctr(&["containers-storage:localhost/busybox", "true"]);
        assert_eq!(code, 0, "{err}");
        let err = fresh.fails(&["run", "--rm", "docker-archive:/no/such.tar", "true"], 125);
        assert_eq!(err.lines().count(), 1, "{err}");
    }
}

#[test]
fn preserve_fds_hands_over_the_callers_descriptors() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        let one = s.share("one", b"first\n");
        let two = s.share("two", b"second\n");
        let run = |extra: &str, redirect: &str| {
            let line = s.inner_line(&[
                "run",
                "--rm",
                "--preserve-fds",
                extra,
                "busybox",
                "sh",
                "-c",
                "cat <&3; cat <&4 2>/dev/null; ls /proc/self/fd | wc -l",
            ]);
            let out = s
                .command_for("sh")
                .args(["-c", &format!("{line} {redirect}")])
                .output()
                .unwrap();
            (
                out.status.code().unwrap_or(-1),
                String::from_utf8_lossy(&out.stdout).into_owned(),
                String::from_utf8_lossy(&out.stderr).into_owned(),
            )
        };
        let both = format!("3<{} 4<{}", one.display(), two.display());
        let (code, out, err) = run("2", &both);
        // 0, 1, 2, the two handed over, and ls's own directory: nothing of skiff's.
        assert_eq!((code, out.as_str()), (0, "first\nsecond\n6\n"), "{err}");
        let (code, _, err) = run("2", &format!("3<{}", one.display()));
        assert_eq!(code, 125);
        assert!(err.contains("file descriptor 4 is not available"), "{err}");
        // Without the flag the caller's fds stay outside.
        let line = s.inner_line(&[
            "run",
            "--rm",
            "busybox",
            "sh",
            "-c",
            "ls /proc/self/fd | wc -l",
        ]);
        let out = s
            .command_for("sh")
            .args(["-c", &format!("{line} {both}")])
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), "4\n");
        s.fails(&["create", "--preserve-fds", "1", "busybox", "true"], 125);
    }
}

#[test]
fn the_image_root_directory_keeps_its_mode() {
    use std::os::unix::fs::PermissionsExt;
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        let root = s.dir.join("r555");
        std::fs::create_dir_all(root.join("bin")).unwrap();
        std::fs::copy("/bin/busybox", root.join("bin/busybox")).unwrap();
        std::os::unix::fs::symlink("busybox", root.join("bin/sh")).unwrap();
        std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o555)).unwrap();
        let tar = s.dir.join("r555.tar");
        let st = std::process::Command::new("tar")
            .arg("-C")
            .arg(&root)
            .args(["-cf"])
            .arg(&tar)
            .arg(".")
            .status()
            .unwrap();
        assert!(st.success());
        std::fs::set_permissions(&tar, std::fs::Permissions::from_mode(0o644)).unwrap();
        s.ok(&["import", tar.to_str().unwrap(), "r555"]);
        let (code, out, err) = s.run_ctr(&["r555", "/bin/busybox", "stat", "-c", "%a", "/"]);
        assert_eq!((code, out.as_str()), (0, "555\n"), "{err}");
        let (_, out, _) = s.run_ctr(&["busybox", "stat", "-c", "%a", "/"]);
        assert_eq!(out, "755\n");
        std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}

/// skiff with `args` and one more variable in its environment, as the store's user.
fn run_with_env(
    s: &Skiff,
    var: &str,
    value: &std::path::Path,
    args: &[&str],
) -> std::process::Output {
    let line = format!("{var}='{}' {}", value.display(), s.inner_line(args));
    s.command_for("sh").args(["-c", &line]).output().unwrap()
}

#[test]
fn containers_conf_sets_engine_defaults() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        let conf = host_dir(&s, "conf").join("containers.conf");
        std::fs::write(
            &conf,
            "[containers]\nenv = [\"FROM_CONF=1\", \"SHADOWED=conf\"]\nlog_size_max = -1\n\n[engine]\npull_policy = \"never\"\n",
        )
        .unwrap();
        let out = run_with_env(
            &s,
            "CONTAINERS_CONF",
            &conf,
            &["run", "--rm", "-e", "SHADOWED=flag", "busybox", "env"],
        );
        assert_ok(&out);
        let env = String::from_utf8_lossy(&out.stdout);
        assert!(env.contains("FROM_CONF=1\n"), "{mode:?}: {env}");
        assert!(env.contains("SHADOWED=flag\n"), "--env wins: {env}");
        // pull_policy=never: a missing image is not looked for in any registry.
        let out = run_with_env(
            &s,
            "CONTAINERS_CONF",
            &conf,
            &["run", "--rm", "nothere:1", "true"],
        );
        assert_eq!(out.status.code(), Some(125));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("image not known") && !err.contains("Trying to pull"),
            "{err}"
        );
        // A broken file is one line naming it, and nothing is created.
        std::fs::write(&conf, "[engine\npull_policy = never\n").unwrap();
        let before = s.ok(&["ps", "-aq"]);
        let out = run_with_env(&s, "CONTAINERS_CONF", &conf, &["run", "busybox", "true"]);
        assert_eq!(out.status.code(), Some(125));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("containers.conf") && err.lines().count() == 1,
            "{err}"
        );
        assert_eq!(s.ok(&["ps", "-aq"]), before);
    }
}
