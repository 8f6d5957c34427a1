//! Bridge networks through the real binary, rootless and as root. Every address the
//! tests reach is 127.0.0.1 or inside the holder's namespace that skiff made.

mod common;
use common::*;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

/// Runs `script` in a throwaway container on `network`; returns (code, out+err).
fn on(s: &Skiff, network: &str, script: &str) -> (i32, String) {
    let (code, out, err) = s.run_ctr(&["--network", network, "busybox", "sh", "-c", script]);
    (code, format!("{out}{err}"))
}

/// Stdout and stderr of a command that may fail.
fn output_of(s: &Skiff, args: &[&str]) -> String {
    let out = s.run(args);
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn holder_running(s: &Skiff) -> bool {
    !helpers_of(s, "skiff __network-holder").is_empty()
}

#[test]
fn containers_on_a_network_talk_by_name_and_alias() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        assert_eq!(s.ok(&["network", "create", "front"]), "front\n");
        let port = free_port();
        s.ok(&[
            "run",
            "-d",
            "--name",
            "web",
            "--network",
            "front",
            "--network-alias",
            "www",
            "-p",
            &format!("127.0.0.1:{port}:80"),
            "busybox",
            "sh",
            "-c",
            WEB,
        ]);
        let id = s.inspect("web", "{{.Id}}");
        let ip = s.inspect("web", "{{.NetworkSettings.IPAddress}}");
        assert!(ip.starts_with("10.89.0."), "{ip}");
        let aliases = s.inspect("web", "{{json .NetworkSettings.Networks.front.Aliases}}");
        assert_eq!(aliases, "[\"www\"]");
        let hello = format!("hello from {}\n", &id[..12]);
        // By name, by alias, by short id; /etc/hosts has the container's address.
        let (code, out) = on(
            &s,
            "front",
            &format!(
                "for h in web www {}; do wget -q -O- http://$h/ || exit 1; done",
                &id[..12]
            ),
        );
        assert_eq!(code, 0, "{out}");
        assert_eq!(out, hello.repeat(3));
        let hosts = s.ok(&["exec", "web", "cat", "/etc/hosts"]);
        assert!(hosts.contains(&format!("{ip}\t")), "{hosts}");
        // The published port answers from the host's loopback.
        assert_eq!(http_get(port).as_deref(), Some(hello.as_str()));
        // Names of the network resolve; other names go upstream (not tested: no
        // outside address may be reached), unknown single names fail.
        let (code, out) = on(&s, "front", "nslookup web | grep -c Address:");
        assert_eq!((code, out.trim()), (0, "2"), "{out}");
        let net = s.ok(&[
            "network",
            "inspect",
            "front",
            "--format",
            "{{json .containers}}",
        ]);
        assert!(
            net.contains(&id) && net.contains(&format!("{ip}/24")),
            "{net}"
        );
        s.ok(&["rm", "-f", "web"]);
        assert!(
            wait_until(10, || TcpStream::connect(("127.0.0.1", port)).is_err()),
            "the published port stayed open"
        );
    }
}

/// A server on the host's loopback that answers "outside" to every connection.
fn loopback_server() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut c in l.incoming().flatten() {
            let mut buf = [0u8; 512];
            let _ = c.set_read_timeout(Some(Duration::from_secs(2)));
            let _ = c.read(&mut buf);
            let _ = c.write_all(b"HTTP/1.0 200 OK\r\nContent-Length: 8\r\n\r\noutside\n");
        }
    });
    port
}

#[test]
fn networks_are_isolated_and_internal_ones_have_no_way_out() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        let host = loopback_server();
        s.ok(&["network", "create", "a"]);
        s.ok(&["network", "create", "b"]);
        s.ok(&["network", "create", "-o", "allow_host_loopback=true", "out"]);
        s.ok(&[
            "network",
            "create",
            "--internal",
            "-o",
            "allow_host_loopback=true",
            "--subnet",
            "10.123.0.0/24",
            "sealed",
        ]);
        s.ok(&[
            "run",
            "-d",
            "--name",
            "web",
            "--network",
            "a",
            "busybox",
            "sh",
            "-c",
            WEB,
        ]);
        let ip = s.inspect("web", "{{.NetworkSettings.IPAddress}}");
        let reach = |network: &str, target: &str| {
            on(
                &s,
                network,
                &format!("timeout 3 wget -q -O- http://{target}/ && echo REACHED"),
            )
        };
        // The same network reaches it; another network neither resolves nor reaches it.
        assert!(reach("a", "web").1.contains("REACHED"));
        let (_, out) = reach("b", &ip);
        assert!(!out.contains("REACHED"), "network b reached {ip}: {out}");
        let (_, out) = reach("b", "web");
        assert!(out.contains("bad address"), "{out}");
        // The way out: the host's loopback, where the network allows it.
        let url = format!("10.0.2.2:{host}");
        let (_, out) = reach("out", &url);
        assert!(out.contains("outside") && out.contains("REACHED"), "{out}");
        let (_, out) = reach("a", &url);
        assert!(
            !out.contains("REACHED"),
            "the host's loopback is open: {out}"
        );
        // An internal network: no default route, nothing gets out.
        let (_, out) = on(&s, "sealed", "ip route");
        assert!(!out.contains("default"), "{out}");
        assert!(out.contains("10.123.0.0/24"), "{out}");
        let (_, out) = reach("sealed", &url);
        assert!(
            !out.contains("REACHED"),
            "an internal network got out: {out}"
        );
        assert!(out.contains("unreachable"), "{out}");
        let (_, out) = reach("sealed", &ip);
        assert!(!out.contains("REACHED"), "{out}");
        s.ok(&["rm", "-f", "web"]);
    }
}

#[test]
fn connect_and_disconnect_act_on_a_running_container() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        s.ok(&["network", "create", "a"]);
        s.ok(&["network", "create", "b"]);
        s.ok(&[
            "run",
            "-d",
            "--name",
            "web",
            "--network",
            "a",
            "busybox",
            "sh",
            "-c",
            WEB,
        ]);
        s.ok(&[
            "run",
            "-d",
            "--name",
            "cli",
            "--network",
            "b",
            "busybox",
            "sleep",
            "600",
        ]);
        let fetch = "timeout 5 wget -q -O- http://web/ && echo REACHED";
        let out = output_of(&s, &["exec", "cli", "sh", "-c", fetch]);
        assert!(!out.contains("REACHED"), "{out}");
        s.ok(&["network", "connect", "--alias", "client", "a", "cli"]);
        let addrs = s.ok(&["exec", "cli", "sh", "-c", "ip -4 -o addr | grep -c eth"]);
        assert_eq!(addrs.trim(), "2");
        let out = s.ok(&["exec", "cli", "sh", "-c", fetch]);
        assert!(out.contains("REACHED"), "{out}");
        // The new alias resolves for the network's containers.
        let out = s.ok(&["exec", "web", "nslookup", "client"]);
        assert!(out.contains("10.89.0."), "{out}");
        let nets = s.inspect("cli", "{{json .NetworkSettings.Networks}}");
        assert!(nets.contains("\"a\"") && nets.contains("\"b\""), "{nets}");
        s.fails(&["network", "connect", "a", "cli"], 125);
        s.ok(&["network", "disconnect", "a", "cli"]);
        let addrs = s.ok(&["exec", "cli", "sh", "-c", "ip -4 -o addr | grep -c eth"]);
        assert_eq!(addrs.trim(), "1");
        let out = output_of(&s, &["exec", "cli", "sh", "-c", fetch]);
        assert!(!out.contains("REACHED"), "{out}");
        s.fails(&["network", "disconnect", "a", "cli"], 125);
        // A stopped container keeps the change for its next start.
        s.ok(&["stop", "-t", "0", "cli"]);
        s.ok(&["network", "connect", "a", "cli"]);
        s.ok(&["start", "cli"]);
        let out = s.ok(&["exec", "cli", "sh", "-c", fetch]);
        assert!(out.contains("REACHED"), "{out}");
        // Each connect and disconnect is a network event naming the container.
        let cli = s.inspect("cli", "{{.Id}}");
        let seen = s.ok(&[
            "events",
            "--stream=false",
            "--filter",
            "network=a",
            "--format",
            "{{.Status}} {{.Name}} {{.Attributes.container}}",
        ]);
        let links: Vec<&str> = seen.lines().filter(|l| !l.starts_with("create")).collect();
        assert_eq!(
            links,
            [
                format!("connect a {cli}"),
                format!("disconnect a {cli}"),
                format!("connect a {cli}")
            ],
            "{seen}"
        );
        s.ok(&["rm", "-f", "web", "cli"]);
    }
}

#[test]
fn ten_containers_at_once_get_distinct_addresses_and_leave_nothing() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        s.ok(&["network", "create", "many"]);
        let names: Vec<String> = (0..10).map(|i| format!("m{i}")).collect();
        let children: Vec<_> = names
            .iter()
            .map(|n| {
                s.spawn(&[
                    "run",
                    "-d",
                    "--name",
                    n,
                    "--network",
                    "many",
                    "busybox",
                    "sleep",
                    "600",
                ])
            })
            .collect();
        wait_all_ok(children);
        let mut ips: Vec<String> = names
            .iter()
            .map(|n| s.inspect(n, "{{.NetworkSettings.IPAddress}}"))
            .collect();
        ips.sort();
        ips.dedup();
        assert_eq!(ips.len(), 10, "{ips:?}");
        let all = names.join(" ");
        for n in &names {
            let out = s.ok(&[
                "exec",
                n,
                "sh",
                "-c",
                &format!(
                    "for h in {all}; do nslookup $h >/dev/null || echo \"no $h\"; done; echo done"
                ),
            ]);
            assert_eq!(out, "done\n", "{n} could not resolve: {out}");
        }
        assert!(holder_running(&s));
        let mut args = vec!["rm", "-f"];
        args.extend(names.iter().map(String::as_str));
        s.ok(&args);
        assert!(
            wait_until(15, || !holder_running(&s)
                && helpers_of(&s, "slirp4netns").is_empty()),
            "the network holder or its slirp4netns outlived the last container"
        );
        let left: Vec<String> = std::fs::read_dir(s.dir.join("run/netns"))
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n != "lock" && n != "holder.log")
            .collect();
        assert!(left.is_empty(), "left behind: {left:?}");
        // And a new container brings the network back.
        let (code, out) = on(&s, "many", "ip -4 -o addr | grep -c eth0");
        assert_eq!((code, out.trim()), (0, "1"), "{out}");
    }
}

#[test]
fn network_verbs_and_bad_input() {
    let s = Skiff::with_busybox(Mode::Rootless);
    s.ok(&[
        "network",
        "create",
        "--subnet",
        "10.77.0.0/24",
        "--gateway",
        "10.77.0.254",
        "--ip-range",
        "10.77.0.128/25",
        "--label",
        "team=blue",
        "custom",
    ]);
    let v: serde_json::Value =
        serde_json::from_str(&s.ok(&["network", "inspect", "custom"])).unwrap();
    let n = &v[0];
    assert_eq!(n["subnets"][0]["subnet"], "10.77.0.0/24");
    assert_eq!(n["subnets"][0]["gateway"], "10.77.0.254");
    assert_eq!(n["subnets"][0]["lease_range"]["start_ip"], "10.77.0.129");
    assert_eq!(n["labels"]["team"], "blue");
    assert_eq!(n["driver"], "bridge");
    assert_eq!(n["dns_enabled"], true);
    // An automatic name and subnet.
    assert_eq!(s.ok(&["network", "create"]), "skiff1\n");
    let ls = s.ok(&["network", "ls", "--format", "{{.Name}} {{.Driver}}"]);
    assert_eq!(ls, "skiff bridge\ncustom bridge\nskiff1 bridge\n");
    assert_eq!(
        s.ok(&["network", "ls", "-q", "--filter", "label=team=blue"]),
        "custom\n"
    );
    assert_eq!(
        s.run(&["network", "exists", "custom"]).status.code(),
        Some(0)
    );
    assert_eq!(s.run(&["network", "exists", "nope"]).status.code(), Some(1));
    // Addresses come from the lease range, a fixed one where asked.
    let (code, out) = on(&s, "custom", "ip -4 -o addr show eth0");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("10.77.0.129/24"), "{out}");
    s.ok(&[
        "run",
        "-d",
        "--name",
        "fixed",
        "--network",
        "custom",
        "--ip",
        "10.77.0.7",
        "busybox",
        "sleep",
        "600",
    ]);
    assert_eq!(
        s.inspect("fixed", "{{.NetworkSettings.IPAddress}}"),
        "10.77.0.7"
    );
    let err = s.fails(
        &[
            "run",
            "--rm",
            "--network",
            "custom",
            "--ip",
            "10.77.0.7",
            "busybox",
            "true",
        ],
        125,
    );
    assert!(err.contains("already allocated"), "{err}");
    assert_eq!(s.inspect("fixed", "{{.State.Status}}"), "running");
    // Bad input: one line, exit 125, nothing stored.
    for (args, why) in [
        (vec!["network", "create", "custom"], "already exists"),
        (
            vec!["network", "create", "--subnet", "10.77.0.0/16", "x"],
            "already used",
        ),
        (
            vec!["network", "create", "--subnet", "10.1.2.3/24", "x"],
            "host bits",
        ),
        (
            vec!["network", "create", "--subnet", "fd00::/64", "x"],
            "IPv4",
        ),
        (
            vec![
                "network",
                "create",
                "--subnet",
                "10.9.0.0/24",
                "--gateway",
                "10.8.0.1",
                "x",
            ],
            "not a host address",
        ),
        (
            vec!["network", "create", "--ip-range", "10.200.0.0/24", "x"],
            "not inside",
        ),
        (
            vec!["network", "create", "-d", "macvlan", "x"],
            "only bridge",
        ),
        (
            vec!["network", "create", "-o", "mtu=9000", "x"],
            "unsupported network option",
        ),
        (
            vec!["network", "create", "bad/name"],
            "invalid network name",
        ),
        (vec!["network", "rm", "skiff"], "cannot be removed"),
        (
            vec!["run", "--rm", "--network", "nope", "busybox", "true"],
            "network not found",
        ),
        (
            vec![
                "run",
                "--rm",
                "--network",
                "custom",
                "--ip",
                "10.1.1.1",
                "busybox",
                "true",
            ],
            "not a free host address",
        ),
        (
            vec!["run", "--rm", "--network-alias", "x", "busybox", "true"],
            "need a bridge network",
        ),
        (
            vec![
                "run",
                "--rm",
                "--network",
                "custom,skiff1",
                "--ip",
                "10.77.0.9",
                "busybox",
                "true",
            ],
            "only be used with one network",
        ),
        (
            vec![
                "run",
                "--rm",
                "--network",
                "custom",
                "--network",
                "host",
                "busybox",
                "true",
            ],
            "cannot be combined",
        ),
    ] {
        let err = s.fails(&args, 125);
        assert!(err.contains(why), "{args:?}: {err}");
    }
    assert!(!s.ok(&["network", "ls", "-q"]).contains("x\n"));
    // In use: rm says so (exit 2) unless forced, which takes the container too.
    let err = s.fails(&["network", "rm", "custom"], 2);
    assert!(err.contains("fixed"), "{err}");
    assert_eq!(s.ok(&["network", "rm", "-f", "custom"]), "custom\n");
    s.fails(&["inspect", "fixed"], 125);
    assert_eq!(s.ok(&["network", "prune", "-f"]), "skiff1\n");
    assert_eq!(s.ok(&["network", "ls", "-q"]), "skiff\n");
    // The default network works without being created.
    let (code, out) = on(&s, "bridge", "ip -4 -o addr show eth0");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("10.88.0.2/16"), "{out}");
}

#[test]
fn a_network_made_again_works_while_the_holder_lives() {
    let s = Skiff::with_busybox(Mode::Rootless);
    s.ok(&["network", "create", "keep"]);
    s.ok(&["network", "create", "again"]);
    // A container on another network keeps the holder (and the old bridge) alive.
    s.ok(&[
        "run",
        "-d",
        "--name",
        "keeper",
        "--network",
        "keep",
        "busybox",
        "sleep",
        "600",
    ]);
    let (code, out) = on(
        &s,
        "again",
        "nslookup $(hostname) >/dev/null && echo resolved",
    );
    assert_eq!((code, out.trim()), (0, "resolved"), "{out}");
    let before = s.ok(&[
        "network",
        "inspect",
        "again",
        "--format",
        "{{.network_interface}} {{json .subnets}}",
    ]);
    s.ok(&["network", "rm", "again"]);
    s.ok(&["network", "create", "again"]);
    let after = s.ok(&[
        "network",
        "inspect",
        "again",
        "--format",
        "{{.network_interface}} {{json .subnets}}",
    ]);
    assert_eq!(
        before, after,
        "the new network should take the same interface and subnet"
    );
    s.ok(&[
        "run",
        "-d",
        "--name",
        "srv",
        "--network",
        "again",
        "busybox",
        "sh",
        "-c",
        WEB,
    ]);
    let (code, out) = on(&s, "again", "wget -q -O- http://srv/");
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("hello from"), "{out}");
    s.ok(&["rm", "-f", "keeper", "srv"]);
}

#[test]
fn the_holder_leaves_when_its_runtime_root_goes() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        let (code, out) = on(&s, "bridge", "true");
        assert_eq!(code, 0, "{out}");
        let holders = helpers_of(&s, "skiff __network-holder");
        let slirps = helpers_of(&s, "slirp4netns");
        assert!(!holders.is_empty() && !slirps.is_empty());
        // The runtime root vanishes (a reboot's tmpfs, a cleanup) while the holder
        // waits out its grace time: nobody can reach it any more, so it must go.
        std::fs::remove_dir_all(s.dir.join("run")).unwrap();
        assert!(
            wait_until(10, || holders
                .iter()
                .chain(&slirps)
                .all(|p| !process_alive(*p))),
            "the holder outlived its runtime root"
        );
    }
}
