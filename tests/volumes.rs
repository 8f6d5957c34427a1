//! Bind mounts, tmpfs and named volumes through the real binary, rootless and as root.

mod common;
use common::*;
use std::os::unix::fs::MetadataExt;

#[test]
fn bind_mounts_read_write_and_read_only() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        let d = host_dir(&s, "shared");
        std::fs::write(d.join("in"), "from host\n").unwrap();
        let v = format!("{}:/data", d.display());
        let (code, out, err) = s.run_ctr(&[
            "-v",
            &v,
            "busybox",
            "sh",
            "-c",
            "cat /data/in; echo from container > /data/out",
        ]);
        assert_eq!(code, 0, "{err}");
        assert_eq!(out, "from host\n");
        assert_eq!(
            std::fs::read_to_string(d.join("out")).unwrap(),
            "from container\n"
        );
        let (code, _, err) = s.run_ctr(&["-v", &format!("{v}:ro"), "busybox", "touch", "/data/x"]);
        assert_ne!(code, 0);
        assert!(err.contains("Read-only file system"), "{err}");
        let m = format!("type=bind,source={},destination=/m,readonly", d.display());
        assert_ne!(s.run_ctr(&["--mount", &m, "busybox", "touch", "/m/x"]).0, 0);
        assert!(!d.join("x").exists());
        s.fails(
            &["run", "--rm", "-v", "/no/such/dir:/x", "busybox", "true"],
            125,
        );
        s.fails(
            &["run", "--rm", "-v", "/tmp:relative", "busybox", "true"],
            125,
        );
        s.fails(
            &["run", "--rm", "-v", "/tmp:/x:bogus", "busybox", "true"],
            125,
        );
        s.fails(
            &[
                "run",
                "--rm",
                "--mount",
                "type=nfs,dst=/x",
                "busybox",
                "true",
            ],
            125,
        );
    }
}

#[test]
fn chown_option_gives_the_source_to_the_container_user() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        let d = host_dir(&s, "owned");
        std::fs::write(d.join("f"), "x").unwrap();
        if mode == Mode::Rootless && is_root() {
            // Rootless, only what the user owns can be given away.
            let u = nix::unistd::User::from_name(&test_user()).unwrap().unwrap();
            for p in [&d, &d.join("f")] {
                nix::unistd::chown(p.as_path(), Some(u.uid), Some(u.gid)).unwrap();
            }
        }
        let v = format!("{}:/o:U", d.display());
        let (code, out, err) = s.run_ctr(&[
            "-u", "nobody", "-v", &v, "busybox", "stat", "-c", "%u:%g", "/o", "/o/f",
        ]);
        assert_eq!(code, 0, "{err}");
        assert_eq!(out, "65534:65534\n65534:65534\n");
        // Outside, through the id map.
        let want = if mode == Mode::Rootless && is_root() {
            100000 + 65534 - 1
        } else {
            65534
        };
        assert_eq!(std::fs::metadata(d.join("f")).unwrap().uid(), want);
    }
}

#[test]
fn tmpfs_is_size_limited_and_never_on_disk() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        let (code, out, err) = s.run_ctr(&[
            "--tmpfs", "/scratch:size=512k,mode=1777", "busybox", "sh", "-c",
            "dd if=/dev/zero of=/scratch/big bs=1k count=1024 2>/dev/null; echo dd=$?; stat -c %a /scratch; grep ' /scratch ' /proc/mounts | cut -d' ' -f3",
        ]);
        assert_eq!(code, 0, "{err}");
        assert_eq!(out, "dd=1\n1777\ntmpfs\n");
        let (code, out, _) = s.run_ctr(&[
            "--mount",
            "type=tmpfs,destination=/t,tmpfs-size=64k",
            "busybox",
            "sh",
            "-c",
            "echo hi > /t/f && cat /t/f",
        ]);
        assert_eq!((code, out.as_str()), (0, "hi\n"));
        s.ok(&[
            "run",
            "--name",
            "keep",
            "--tmpfs",
            "/scratch",
            "busybox",
            "sh",
            "-c",
            "echo secret > /scratch/file",
        ]);
        let id = s.inspect("keep", "{{.Id}}");
        let upper = s.root().join("containers").join(id).join("upper");
        assert!(
            !upper.join("scratch/file").exists(),
            "tmpfs content reached the disk"
        );
        // --read-only keeps /tmp and /run writable with tmpfs, unless told not to.
        assert_eq!(
            s.run_ctr(&["--read-only", "busybox", "touch", "/tmp/x", "/run/x"])
                .0,
            0
        );
        assert_ne!(
            s.run_ctr(&[
                "--read-only",
                "--read-only-tmpfs=false",
                "busybox",
                "touch",
                "/tmp/x"
            ])
            .0,
            0
        );
    }
}

#[test]
fn named_volume_outlives_containers_and_copies_image_content() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        s.ok(&[
            "run",
            "--rm",
            "-v",
            "data:/data",
            "busybox",
            "sh",
            "-c",
            "echo kept > /data/file",
        ]);
        assert_eq!(
            s.run_ctr(&["-v", "data:/other", "busybox", "cat", "/other/file"])
                .1,
            "kept\n"
        );
        // An empty volume mounted over image content gets a copy of it first.
        let (code, out, err) =
            s.run_ctr(&["-v", "etc:/etc", "busybox", "grep", "^root", "/etc/passwd"]);
        assert_eq!(code, 0, "{err}");
        assert!(out.starts_with("root:x:0:0"));
        let (_, out, _) = s.run_ctr(&[
            "-v",
            "etc:/mnt",
            "busybox",
            "stat",
            "-c",
            "%u %a",
            "/mnt/passwd",
        ]);
        assert_eq!(out, "0 644\n", "copied with owner and mode");
        // A volume with content is not overwritten.
        s.ok(&[
            "run",
            "--rm",
            "-v",
            "etc:/etc",
            "busybox",
            "sh",
            "-c",
            "echo changed > /etc/motd",
        ]);
        assert_eq!(
            s.run_ctr(&["-v", "etc:/etc", "busybox", "cat", "/etc/motd"])
                .1,
            "changed\n"
        );
        let names = s.ok(&["volume", "ls", "-q"]);
        assert_eq!(names, "data\netc\n");
        s.ok(&["volume", "exists", "data"]);
        assert_eq!(s.run(&["volume", "exists", "nope"]).status.code(), Some(1));
    }
}

#[test]
fn volume_verbs_and_in_use_rules() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        assert_eq!(
            s.ok(&["volume", "create", "--label", "app=web", "webdata"]),
            "webdata\n"
        );
        s.fails(&["volume", "create", "webdata"], 125);
        s.fails(&["volume", "create", "../escape"], 125);
        s.fails(&["volume", "create", "-o", "device=/dev/sda", "dev"], 125);
        s.fails(
            &["run", "--rm", "-v", "../escape:/x", "busybox", "true"],
            125,
        );
        assert!(!s.root().join("escape").exists());
        let anon = s.ok(&["volume", "create"]);
        assert_eq!(anon.trim().len(), 64);
        assert_eq!(
            s.ok(&["volume", "ls", "-q", "--filter", "label=app=web"]),
            "webdata\n"
        );
        let j: serde_json::Value =
            serde_json::from_str(&s.ok(&["volume", "inspect", "webdata"])).unwrap();
        assert_eq!(j[0]["Labels"]["app"], "web");
        assert!(j[0]["Mountpoint"]
            .as_str()
            .unwrap()
            .ends_with("volumes/webdata/_data"));
        s.ok(&[
            "volume",
            "create",
            "-o",
            "type=tmpfs",
            "-o",
            "o=size=64k",
            "fast",
        ]);
        let (_, out, _) = s.run_ctr(&[
            "-v",
            "fast:/f",
            "busybox",
            "sh",
            "-c",
            "grep ' /f ' /proc/mounts | cut -d' ' -f3",
        ]);
        assert_eq!(out, "tmpfs\n");
        s.ok(&[
            "run",
            "-d",
            "--name",
            "user",
            "-v",
            "webdata:/w",
            "busybox",
            "sleep",
            "100",
        ]);
        s.fails(&["volume", "rm", "webdata"], 2);
        let inspect: serde_json::Value = serde_json::from_str(&s.ok(&["inspect", "user"])).unwrap();
        assert_eq!(inspect[0]["Mounts"][0]["Name"], "webdata");
        assert_eq!(inspect[0]["Mounts"][0]["Destination"], "/w");
        s.ok(&["volume", "rm", "-f", "webdata"]);
        assert!(
            s.ok(&["ps", "-aq"]).is_empty(),
            "--force removed the container"
        );
        let pruned = s.ok(&["volume", "prune", "-f"]);
        assert_eq!(pruned.lines().count(), 2);
        assert!(s.ok(&["volume", "ls", "-q"]).is_empty());
    }
}

#[test]
fn anonymous_volumes_go_with_rm_v_and_run_rm() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        s.ok(&[
            "run", "--name", "a", "-v", "/anon", "busybox", "touch", "/anon/f",
        ]);
        assert_eq!(s.ok(&["volume", "ls", "-q"]).lines().count(), 1);
        s.ok(&["rm", "a"]);
        assert_eq!(
            s.ok(&["volume", "ls", "-q"]).lines().count(),
            1,
            "rm without -v keeps it"
        );
        s.ok(&["volume", "prune", "-f"]);
        s.ok(&["run", "--name", "b", "-v", "/anon", "busybox", "true"]);
        s.ok(&["rm", "-v", "b"]);
        assert!(s.ok(&["volume", "ls", "-q"]).is_empty());
        s.ok(&[
            "run", "--rm", "-v", "/anon", "-v", "named:/n", "busybox", "true",
        ]);
        assert_eq!(
            s.ok(&["volume", "ls", "-q"]),
            "named\n",
            "--rm removes only anonymous volumes"
        );
        // --volumes-from shares the other container's volumes.
        s.ok(&[
            "run",
            "--name",
            "src",
            "-v",
            "shared:/s",
            "busybox",
            "sh",
            "-c",
            "echo hello > /s/f",
        ]);
        assert_eq!(
            s.run_ctr(&["--volumes-from", "src", "busybox", "cat", "/s/f"])
                .1,
            "hello\n"
        );
        assert_ne!(
            s.run_ctr(&["--volumes-from", "src:ro", "busybox", "touch", "/s/g"])
                .0,
            0
        );
    }
}
