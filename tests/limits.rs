//! Resource limits through the container's cgroup: enforced for real as root (this
//! host's cgroups are v1), refused in one line where they cannot be.

mod common;
use common::*;
use std::path::PathBuf;

fn read_u64(p: PathBuf) -> u64 {
    std::fs::read_to_string(&p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .trim()
        .parse()
        .unwrap()
}

#[test]
fn limits_are_enforced_as_root() {
    if !is_root() {
        return;
    }
    let s = Skiff::with_busybox(Mode::Root);
    // Over --memory: the OOM killer ends it, and inspect and events say so.
    let out = s.run(&[
        "run",
        "--name",
        "hog",
        "-m",
        "16m",
        "--memory-swap",
        "16m",
        "busybox",
        "sh",
        "-c",
        "x=aaaaaaaa; while true; do x=\"$x$x\"; done",
    ]);
    assert_eq!(out.status.code(), Some(137));
    assert_eq!(
        s.inspect("hog", "{{.State.OOMKilled}} {{.HostConfig.Memory}}"),
        "true 16777216"
    );
    let oom = s.ok(&[
        "events",
        "--stream=false",
        "--filter",
        "event=oom",
        "--format",
        "{{.Name}}",
    ]);
    assert_eq!(oom.trim(), "hog");
    // --pids-limit 10 stops a fork loop at 10, in a cgroup below the test's own.
    s.ok(&[
        "run",
        "-d",
        "--name",
        "forks",
        "--pids-limit",
        "10",
        "busybox",
        "sh",
        "-c",
        // The inner shell forks until it cannot (and dies of it); the outer one stays.
        "sh -c 'while :; do sleep 30 & done' 2>/dev/null; sleep 30",
    ]);
    let pids = s.cgroup_dir("forks", "pids");
    // The kernel refused forks at the limit (pids.events counts them) and no more
    // than 10 processes ever ran.
    let refused = || {
        std::fs::read_to_string(pids.join("pids.events"))
            .ok()
            .and_then(|t| {
                t.trim()
                    .strip_prefix("max ")
                    .and_then(|n| n.parse::<u64>().ok())
            })
            .unwrap_or(0)
    };
    assert!(wait_until(10, || refused() > 0));
    assert!(read_u64(pids.join("pids.current")) <= 10);
    assert_eq!(
        std::fs::read_to_string(pids.join("pids.max"))
            .unwrap()
            .trim(),
        "10"
    );
    assert_eq!(s.inspect("forks", "{{.State.Status}}"), "running");
    s.ok(&["rm", "-f", "forks"]);
    // --cpus 0.5 keeps a busy loop near half a core (generous margin: a shared host).
    s.ok(&[
        "run",
        "-d",
        "--name",
        "spin",
        "--cpus",
        "0.5",
        "busybox",
        "sh",
        "-c",
        "while :; do :; done",
    ]);
    let acct = s.cgroup_dir("spin", "cpuacct").join("cpuacct.usage");
    std::thread::sleep(std::time::Duration::from_millis(500));
    let (t0, u0) = (std::time::Instant::now(), read_u64(acct.clone()));
    std::thread::sleep(std::time::Duration::from_secs(3));
    let share = (read_u64(acct) - u0) as f64 / t0.elapsed().as_nanos() as f64;
    assert!((0.3..0.7).contains(&share), "used {share:.2} of a core");
    assert_eq!(s.inspect("spin", "{{.HostConfig.NanoCpus}}"), "500000000");
    // update changes a running container's limit at once, and its record.
    let mem = s.cgroup_dir("spin", "memory").join("memory.limit_in_bytes");
    s.ok(&["update", "--memory", "48m", "--pids-limit", "20", "spin"]);
    assert_eq!(read_u64(mem), 48 << 20);
    assert_eq!(read_u64(s.cgroup_dir("spin", "pids").join("pids.max")), 20);
    assert_eq!(
        s.inspect("spin", "{{.HostConfig.Memory}} {{.HostConfig.PidsLimit}}"),
        "50331648 20"
    );
    s.ok(&["rm", "-f", "spin"]);
    // --oom-score-adj reaches the process.
    let adj = s.ok(&[
        "run",
        "--rm",
        "--oom-score-adj",
        "500",
        "busybox",
        "cat",
        "/proc/self/oom_score_adj",
    ]);
    assert_eq!(adj.trim(), "500");
}

#[test]
fn limits_that_cannot_be_enforced_are_refused() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        for bad in [
            vec!["--memory", "lots"],
            vec!["--cpus", "0"],
            vec!["--memory-swap", "10m", "--memory", "20m"],
            vec!["--cpus", "1", "--cpu-quota", "5000"],
            vec!["--blkio-weight", "5"],
        ] {
            let mut args = vec!["create"];
            args.extend(bad.iter().copied());
            args.extend(["busybox", "true"]);
            let err = s.fails(&args, 125);
            assert_eq!(err.lines().count(), 1, "{bad:?}: {err}");
        }
        if mode == Mode::Rootless {
            // Rootless on cgroup v1: no limit can be enforced, so none is accepted.
            let err = s.fails(&["run", "--rm", "-m", "64m", "busybox", "true"], 125);
            assert!(
                err.contains("resource limits need root") && err.lines().count() == 1,
                "{err}"
            );
            s.ok(&["create", "--name", "free", "busybox", "true"]);
            let err = s.fails(&["update", "--pids-limit", "5", "free"], 125);
            assert!(err.contains("resource limits need root"), "{err}");
        }
        assert!(s
            .ok(&["ps", "-aq", "--filter", "status=running"])
            .trim()
            .is_empty());
    }
}

/// The block device holding the root file system, from /proc/self/mountinfo's major:minor,
/// if /dev has a node for it.
fn root_block_device() -> Option<String> {
    let info = std::fs::read_to_string("/proc/partitions").ok()?;
    info.lines().skip(2).find_map(|l| {
        let name = l.split_whitespace().nth(3)?;
        let dev = format!("/dev/{name}");
        use std::os::unix::fs::FileTypeExt;
        std::fs::metadata(&dev)
            .ok()
            .filter(|m| m.file_type().is_block_device())
            .map(|_| dev)
    })
}

#[test]
fn cgroup_parent_cgroups_disabled_and_device_rates_as_root() {
    if !is_root() {
        return;
    }
    let s = Skiff::with_busybox(Mode::Root);
    // --cgroup-parent relative: below skiff's (here the test's) own cgroup.
    s.ok(&[
        "run",
        "-d",
        "--name",
        "nested",
        "--cgroup-parent",
        "tenant-a",
        "-m",
        "32m",
        "busybox",
        "sleep",
        "1000",
    ]);
    let pid = s.inspect("nested", "{{.State.Pid}}");
    let theirs = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
    let id = s.inspect("nested", "{{.Id}}");
    let memory_line = theirs
        .lines()
        .find(|l| l.split(':').nth(1) == Some("memory"))
        .unwrap();
    let own = std::fs::read_to_string("/proc/self/cgroup").unwrap();
    let own_memory = own
        .lines()
        .find(|l| l.split(':').nth(1) == Some("memory"))
        .unwrap();
    let own_path = own_memory
        .splitn(3, ':')
        .nth(2)
        .unwrap()
        .trim_end_matches('/');
    assert_eq!(
        memory_line.splitn(3, ':').nth(2).unwrap(),
        format!("{own_path}/tenant-a/skiff-{id}"),
        "{theirs}"
    );
    let limit = std::fs::read_to_string(format!(
        "/sys/fs/cgroup/memory{own_path}/tenant-a/skiff-{id}/memory.limit_in_bytes"
    ))
    .unwrap();
    assert_eq!(limit.trim(), "33554432");
    assert_eq!(
        s.inspect("nested", "{{.HostConfig.CgroupParent}}"),
        "tenant-a"
    );
    s.ok(&["rm", "-f", "nested"]);
    let _ = std::fs::remove_dir(format!("/sys/fs/cgroup/memory{own_path}/tenant-a"));

    // --cgroups=disabled: the container stays in its supervisor's cgroup, and limits
    // are refused rather than ignored.
    s.ok(&[
        "run",
        "-d",
        "--name",
        "flat",
        "--cgroups",
        "disabled",
        "busybox",
        "sleep",
        "1000",
    ]);
    let pid = s.inspect("flat", "{{.State.Pid}}");
    let theirs = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
    assert!(!theirs.contains("skiff-"), "{theirs}");
    let err = s.fails(
        &[
            "create",
            "--cgroups",
            "disabled",
            "-m",
            "32m",
            "busybox",
            "true",
        ],
        125,
    );
    assert!(
        err.contains("--cgroups=disabled") && err.lines().count() == 1,
        "{err}"
    );
    for bad in [
        vec!["--cgroups", "sometimes"],
        vec!["--cgroup-parent", "../escape"],
        vec!["--device-read-bps", "/dev/null:1mb"],
        vec!["--device-write-bps", "nocolon"],
    ] {
        let mut args = vec!["create"];
        args.extend(bad.iter().copied());
        args.extend(["busybox", "true"]);
        let err = s.fails(&args, 125);
        assert_eq!(err.lines().count(), 1, "{bad:?}: {err}");
    }

    // --device-read-bps / --device-write-bps where the blkio controller exists.
    let blkio = own.lines().any(|l| {
        l.split(':')
            .nth(1)
            .is_some_and(|c| c.split(',').any(|x| x == "blkio"))
    });
    if let (true, Some(dev)) = (blkio, root_block_device()) {
        let rate = format!("{dev}:1mb");
        s.ok(&[
            "run",
            "-d",
            "--name",
            "slow",
            "--device-read-bps",
            &rate,
            "--device-write-bps",
            &rate,
            "busybox",
            "sleep",
            "1000",
        ]);
        let dir = s.cgroup_dir("slow", "blkio");
        let read = std::fs::read_to_string(dir.join("blkio.throttle.read_bps_device")).unwrap();
        let write = std::fs::read_to_string(dir.join("blkio.throttle.write_bps_device")).unwrap();
        assert!(read.trim().ends_with(" 1048576"), "{read}");
        assert!(write.trim().ends_with(" 1048576"), "{write}");
        let v: serde_json::Value = serde_json::from_str(&s.ok(&["inspect", "slow"])).unwrap();
        assert_eq!(v[0]["HostConfig"]["BlkioDeviceReadBps"][0]["Rate"], 1048576);
    }
}
