//! The Docker Engine API (`skiff system service`) driven by the real docker CLI, run
//! as the store's user with DOCKER_HOST on skiff's socket: run attached and detached,
//! logs, exec (piped and with a terminal), ps, inspect, stop, rm, images; docker's
//! error texts and codes; the idle exit; and the JSON shapes beside the machine's own
//! dockerd where one runs.

mod common;
use common::*;
use std::path::{Path, PathBuf};
use std::process::{Child, Output, Stdio};

/// A running `skiff system service`, stopped (by pid) when dropped.
struct Service {
    child: Child,
    sock: PathBuf,
}

impl Service {
    fn start(s: &Skiff, idle: u64) -> Service {
        let sock = s.dir.join("docker.sock");
        let _ = std::fs::remove_file(&sock);
        let child = s.spawn(&[
            "system",
            "service",
            "--time",
            &idle.to_string(),
            &format!("unix://{}", sock.display()),
        ]);
        assert!(
            wait_until(15, || sock.exists()),
            "the service made no socket"
        );
        Service { child, sock }
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        kill_spawned(&mut self.child, nix::sys::signal::Signal::SIGTERM);
    }
}

fn docker_cmd(s: &Skiff, sock: &Path, args: &[&str]) -> std::process::Command {
    use std::os::unix::fs::PermissionsExt;
    let cfg = s.dir.join("docker-config");
    std::fs::create_dir_all(&cfg).unwrap();
    std::fs::set_permissions(&cfg, std::fs::Permissions::from_mode(0o777)).unwrap();
    let mut c = s.command_for("docker");
    c.env("DOCKER_HOST", format!("unix://{}", sock.display()))
        .env("DOCKER_CONFIG", &cfg)
        .args(args)
        .stdin(Stdio::null());
    c
}

/// A command as a shell line (for script(1)); its environment is the caller's to pass.
fn line_of(c: &std::process::Command) -> String {
    std::iter::once(c.get_program())
        .chain(c.get_args())
        .map(|a| format!("'{}'", a.to_string_lossy().replace('\'', "'\\''")))
        .collect::<Vec<_>>()
        .join(" ")
}

fn docker(s: &Skiff, sock: &Path, args: &[&str]) -> Output {
    docker_cmd(s, sock, args).output().expect("the docker CLI")
}

fn docker_ok(s: &Skiff, sock: &Path, args: &[&str]) -> String {
    let out = docker(s, sock, args);
    assert!(
        out.status.success(),
        "docker {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn the_docker_cli_drives_skiff() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        let svc = Service::start(&s, 0);
        let sock = svc.sock.clone();
        assert_eq!(
            docker_ok(
                &s,
                &sock,
                &["version", "--format", "{{.Server.APIVersion}}"]
            )
            .trim(),
            "1.44"
        );

        // Attached: output on the right streams, the exit code, and gone after --rm.
        let out = docker(
            &s,
            &sock,
            &[
                "run",
                "--rm",
                "busybox",
                "sh",
                "-c",
                "echo out; echo err >&2; exit 3",
            ],
        );
        assert_eq!(out.status.code(), Some(3), "{mode:?} {out:?}");
        assert_eq!(String::from_utf8_lossy(&out.stdout), "out\n");
        assert!(String::from_utf8_lossy(&out.stderr).contains("err"));
        assert!(wait_until(10, || s.ok(&["ps", "-aq"]).trim().is_empty()));
        // Input through -i.
        let mut c = docker_cmd(
            &s,
            &sock,
            &["run", "--rm", "-i", "busybox", "tr", "a-z", "A-Z"],
        );
        c.stdin(Stdio::piped()).stdout(Stdio::piped());
        let mut child = c.spawn().unwrap();
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(b"piped in\n")
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), "PIPED IN\n");

        // Detached with a published port that really answers.
        let port = free_port();
        let id = docker_ok(
            &s,
            &sock,
            &[
                "run", "-d", "--name", "web", "-p",
                &format!("127.0.0.1:{port}:8080"),
                "busybox", "sh", "-c",
                "echo hello > /tmp/index.html; echo one; echo two >&2; exec httpd -f -p 8080 -h /tmp",
            ],
        );
        assert_eq!(id.trim().len(), 64, "{id}");
        assert!(wait_until(15, || http_get(port).is_some_and(|b| b.contains("hello"))));
        // The CLI sees what the API made.
        assert!(s.ok(&["ps", "--format", "{{.Names}}"]).contains("web"));
        let ps = docker_ok(
            &s,
            &sock,
            &[
                "ps",
                "--filter",
                "name=web",
                "--format",
                "{{.Names}} {{.Ports}} {{.State}}",
            ],
        );
        assert_eq!(ps.trim(), format!("web 127.0.0.1:{port}->8080/tcp running"));
        assert!(
            docker_ok(&s, &sock, &["ps", "--filter", "status=exited", "-q"])
                .trim()
                .is_empty()
        );
        let logs = docker(&s, &sock, &["logs", "web"]);
        assert_eq!(String::from_utf8_lossy(&logs.stdout), "one\n");
        assert_eq!(String::from_utf8_lossy(&logs.stderr), "two\n");
        assert_eq!(
            docker_ok(
                &s,
                &sock,
                &[
                    "inspect",
                    "-f",
                    "{{.State.Status}} {{.Name}} {{.Config.StopSignal}}",
                    "web"
                ]
            )
            .trim(),
            "running /web SIGTERM"
        );

        // exec: output, exit code, input, and a terminal through script(1).
        let out = docker(
            &s,
            &sock,
            &["exec", "web", "sh", "-c", "cat /tmp/index.html; exit 4"],
        );
        assert_eq!(out.status.code(), Some(4));
        assert_eq!(String::from_utf8_lossy(&out.stdout), "hello\n");
        let line = line_of(&docker_cmd(
            &s,
            &sock,
            &["exec", "-it", "web", "sh", "-c", "tty; echo $TERM"],
        ));
        let tty = std::process::Command::new("script")
            .args(["-qec", &line, "/dev/null"])
            .env("DOCKER_HOST", format!("unix://{}", sock.display()))
            .env("DOCKER_CONFIG", s.dir.join("docker-config"))
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&tty.stdout);
        assert!(
            text.contains("/dev/pts/") && text.contains("xterm"),
            "{text}"
        );

        // Errors in dockerd's words.
        let e = docker(&s, &sock, &["start", "nosuch"]);
        assert_eq!(e.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&e.stderr).contains("No such container: nosuch"));
        let e = docker(&s, &sock, &["rm", "web"]);
        assert!(
            String::from_utf8_lossy(&e.stderr).contains("container is running"),
            "{e:?}"
        );
        let e = docker(&s, &sock, &["run", "--name", "web", "busybox", "true"]);
        assert!(
            String::from_utf8_lossy(&e.stderr).contains("is already in use"),
            "{e:?}"
        );

        docker_ok(&s, &sock, &["stop", "-t", "1", "web"]);
        assert_eq!(
            docker_ok(&s, &sock, &["inspect", "-f", "{{.State.Status}}", "web"]).trim(),
            "exited"
        );
        docker_ok(&s, &sock, &["rm", "web"]);
        assert!(s.ok(&["ps", "-aq"]).trim().is_empty());
        let images = docker_ok(
            &s,
            &sock,
            &["images", "--format", "{{.Repository}}:{{.Tag}}"],
        );
        assert!(images.contains("localhost/busybox:latest"), "{images}");
    }
}

#[test]
fn the_service_exits_when_idle() {
    let s = Skiff::with_busybox(Mode::Rootless);
    let mut svc = Service::start(&s, 1);
    let sock = svc.sock.clone();
    docker_ok(&s, &sock, &["ps"]);
    // One idle second after the last request, it is gone, and its socket with it.
    assert!(wait_until(10, || matches!(
        svc.child.try_wait(),
        Ok(Some(_))
    )));
    assert!(!sock.exists());
}

/// Where this machine runs its own dockerd: the same requests give JSON with the same
/// keys, and values of the same types.
#[test]
fn json_shapes_match_dockerd() {
    let dockerd = Path::new("/var/run/docker.sock");
    if !is_root() || !dockerd.exists() {
        eprintln!("no dockerd here to compare with");
        return;
    }
    let s = Skiff::with_busybox(Mode::Root);
    let svc = Service::start(&s, 0);
    s.ok(&["create", "--name", "shape", "busybox", "true"]);
    let get = |sock: &Path, path: &str| -> serde_json::Value {
        let out = std::process::Command::new("curl")
            .args([
                "-s",
                "--unix-socket",
                &sock.display().to_string(),
                &format!("http://d{path}"),
            ])
            .output()
            .unwrap();
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let kind = |v: &serde_json::Value| match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "bool",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "array",
        serde_json::Value::Object(_) => "object",
    };
    for path in ["/version", "/info"] {
        let theirs = get(dockerd, path);
        let ours = get(&svc.sock, path);
        for (k, v) in theirs.as_object().unwrap() {
            let mine = ours.get(k).unwrap_or_else(|| panic!("{path}: no {k}"));
            if !v.is_null() && !mine.is_null() {
                assert_eq!(kind(mine), kind(v), "{path}: {k}");
            }
        }
    }
    // Container lists: every key dockerd gives a container, with its type.
    let ours = get(&svc.sock, "/containers/json?all=1");
    let mine = &ours[0];
    for k in [
        "Id",
        "Names",
        "Image",
        "ImageID",
        "Command",
        "Created",
        "Ports",
        "Labels",
        "State",
        "Status",
        "HostConfig",
        "NetworkSettings",
        "Mounts",
    ] {
        assert!(mine.get(k).is_some(), "containers/json: no {k}");
    }
    assert_eq!(kind(&mine["Created"]), "number");
    assert_eq!(kind(&mine["Names"]), "array");
    s.ok(&["rm", "shape"]);
}

#[test]
fn volumes_networks_copies_and_events_through_the_docker_cli() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        let svc = Service::start(&s, 0);
        let sock = svc.sock.clone();
        let since = chrono::Utc::now().timestamp().to_string();

        // Volumes: made, used, listed, refused while in use, removed.
        assert_eq!(
            docker_ok(&s, &sock, &["volume", "create", "data"]).trim(),
            "data"
        );
        assert!(docker_ok(&s, &sock, &["volume", "ls", "-q"]).contains("data"));
        assert_eq!(s.ok(&["volume", "ls", "-q"]).trim(), "data");
        docker_ok(
            &s,
            &sock,
            &[
                "run",
                "--rm",
                "-v",
                "data:/data",
                "busybox",
                "sh",
                "-c",
                "echo kept > /data/f",
            ],
        );
        docker_ok(
            &s,
            &sock,
            &[
                "run",
                "-d",
                "--name",
                "user",
                "-v",
                "data:/data",
                "busybox",
                "sleep",
                "100",
            ],
        );
        let e = docker(&s, &sock, &["volume", "rm", "data"]);
        assert!(
            String::from_utf8_lossy(&e.stderr).contains("volume is in use"),
            "{e:?}"
        );
        assert_eq!(
            docker_ok(&s, &sock, &["exec", "user", "cat", "/data/f"]),
            "kept\n"
        );

        // docker cp both ways, through the archive endpoints.
        let src = s.dir.join("to-copy.txt");
        std::fs::write(&src, "copied in\n").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&src, std::fs::Permissions::from_mode(0o644)).unwrap();
        docker_ok(
            &s,
            &sock,
            &["cp", &src.display().to_string(), "user:/tmp/in.txt"],
        );
        assert_eq!(
            docker_ok(&s, &sock, &["exec", "user", "cat", "/tmp/in.txt"]),
            "copied in\n"
        );
        let back = host_dir(&s, "back");
        docker_ok(
            &s,
            &sock,
            &["cp", "user:/data/f", &back.join("f").display().to_string()],
        );
        assert_eq!(std::fs::read_to_string(back.join("f")).unwrap(), "kept\n");

        // pause, unpause, rename, top.
        docker_ok(&s, &sock, &["pause", "user"]);
        assert_eq!(
            docker_ok(&s, &sock, &["inspect", "-f", "{{.State.Status}}", "user"]).trim(),
            "paused"
        );
        docker_ok(&s, &sock, &["unpause", "user"]);
        docker_ok(&s, &sock, &["rename", "user", "holder"]);
        assert!(docker_ok(&s, &sock, &["top", "holder"]).contains("sleep"));
        docker_ok(&s, &sock, &["rm", "-f", "holder"]);
        assert_eq!(
            docker_ok(&s, &sock, &["volume", "rm", "data"]).trim(),
            "data"
        );
        assert!(s.ok(&["volume", "ls", "-q"]).trim().is_empty());

        // Networks: made with IPAM, joined with an alias that resolves, refused while
        // in use, removed.
        docker_ok(
            &s,
            &sock,
            &["network", "create", "--subnet", "10.89.7.0/24", "backend"],
        );
        assert!(s
            .ok(&["network", "ls", "--format", "{{.Name}}"])
            .contains("backend"));
        let subnet = docker_ok(
            &s,
            &sock,
            &[
                "network",
                "inspect",
                "-f",
                "{{range .IPAM.Config}}{{.Subnet}}{{end}}",
                "backend",
            ],
        );
        assert_eq!(subnet.trim(), "10.89.7.0/24");
        docker_ok(
            &s,
            &sock,
            &[
                "run",
                "-d",
                "--name",
                "db",
                "--network",
                "backend",
                "--network-alias",
                "database",
                "busybox",
                "sh",
                "-c",
                "echo reached > /tmp/index.html; exec httpd -f -p 8080 -h /tmp",
            ],
        );
        let out = docker_ok(
            &s,
            &sock,
            &[
                "run",
                "--rm",
                "--network",
                "backend",
                "busybox",
                "sh",
                "-c",
                "for i in 1 2 3 4 5 6 7 8 9 10; do wget -qO- http://database:8080/ && exit; sleep 0.3; done",
            ],
        );
        assert_eq!(out.trim(), "reached");
        let e = docker(&s, &sock, &["network", "rm", "backend"]);
        assert!(!e.status.success());
        docker_ok(&s, &sock, &["rm", "-f", "db"]);
        docker_ok(&s, &sock, &["network", "rm", "backend"]);

        // The events of all that, as docker prints them.
        let until = (chrono::Utc::now().timestamp() + 1).to_string();
        let ev = docker_ok(
            &s,
            &sock,
            &[
                "events",
                "--since",
                &since,
                "--until",
                &until,
                "--filter",
                "type=container",
                "--format",
                "{{.Action}} {{.Actor.Attributes.name}}",
            ],
        );
        assert!(
            ev.contains("start holder") || ev.contains("start user"),
            "{ev}"
        );
        assert!(ev.contains("pause user"), "{ev}");
    }
}

/// Debian's docker-compose 1.29 brings a project up and down through skiff: a web
/// service with a published port, a db it depends on with a named volume, reached by
/// its service name; then nothing is left.
#[test]
fn docker_compose_brings_a_project_up_and_down() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        let svc = Service::start(&s, 0);
        let port = free_port();
        let dir = host_dir(&s, "proj");
        let compose = format!(
            r#"version: "3"
services:
  db:
    image: busybox
    stop_grace_period: 1s
    command: sh -c "echo db-ready > /data/ready; exec httpd -f -p 5432 -h /data"
    volumes:
      - dbdata:/data
  web:
    image: busybox
    stop_grace_period: 1s
    command: sh -c "echo web-up > /tmp/index.html; exec httpd -f -p 8080 -h /tmp"
    ports:
      - "127.0.0.1:{port}:8080"
    depends_on:
      - db
volumes:
  dbdata:
"#
        );
        let file = dir.join("docker-compose.yml");
        std::fs::write(&file, compose).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let compose = |args: &[&str]| -> Output {
            let mut c = s.command_for("docker-compose");
            c.env("DOCKER_HOST", format!("unix://{}", svc.sock.display()))
                .args(["-f", &file.display().to_string(), "-p", "proj"])
                .args(args)
                .stdin(Stdio::null());
            c.output().unwrap()
        };
        let up = compose(&["up", "-d"]);
        assert!(up.status.success(), "{mode:?} {up:?}");
        assert!(wait_until(15, || http_get(port).is_some_and(|b| b.contains("web-up"))));
        let ps = compose(&["ps"]);
        let text = String::from_utf8_lossy(&ps.stdout);
        assert!(
            text.contains("proj_db_1") && text.contains("proj_web_1") && text.contains("Up"),
            "{text}"
        );
        let ex = compose(&["exec", "-T", "web", "wget", "-qO-", "http://db:5432/ready"]);
        assert_eq!(String::from_utf8_lossy(&ex.stdout), "db-ready\n", "{ex:?}");
        let down = compose(&["down", "-v"]);
        assert!(down.status.success(), "{down:?}");
        assert!(s.ok(&["ps", "-aq"]).trim().is_empty());
        assert!(s.ok(&["volume", "ls", "-q"]).trim().is_empty());
        assert!(!s
            .ok(&["network", "ls", "--format", "{{.Name}}"])
            .contains("proj"));
    }
}
