//! The Docker Engine API (`skiff system service`) driven by the real docker CLI, run
//! as the store's user with DOCKER_HOST on skiff's socket: run attached and detached,
//! logs, exec (piped and with a terminal), ps, inspect, stop, rm, images; docker's
//! error texts and codes; the idle exit; and the JSON shapes beside the machine's own
//! dockerd where one runs.

mod common;
use common::registry::{world_readable, Registry};
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
            &[
                "exec",
                "-it",
                "web",
                "sh",
                "-c",
                "tty; echo $TERM; stty size",
            ],
        ));
        // The program sees the client's terminal size from its start.
        let tty = std::process::Command::new("script")
            .args([
                "-qec",
                &format!("stty rows 33 cols 97; {line}"),
                "/dev/null",
            ])
            .env("DOCKER_HOST", format!("unix://{}", sock.display()))
            .env("DOCKER_CONFIG", s.dir.join("docker-config"))
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&tty.stdout);
        assert!(
            text.contains("/dev/pts/") && text.contains("xterm") && text.contains("33 97"),
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

/// One request by curl on the service's socket: the status and the body.
fn request(sock: &Path, method: &str, path: &str, body: Option<&Path>) -> (u16, String) {
    let mut c = std::process::Command::new("curl");
    c.args([
        "-s",
        "-o",
        "-",
        "-w",
        "\n%{http_code}",
        "-X",
        method,
        "--unix-socket",
    ])
    .arg(sock)
    .arg(format!("http://d{path}"));
    if let Some(b) = body {
        c.args(["-H", "Content-Type: application/x-tar", "--data-binary"])
            .arg(format!("@{}", b.display()));
    }
    let out = c.output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, code) = text.rsplit_once('\n').unwrap();
    (code.parse().unwrap(), body.to_string())
}

#[test]
fn hostile_requests_get_docker_errors_and_change_nothing() {
    let s = Skiff::with_busybox(Mode::Root);
    let svc = Service::start(&s, 0);
    let sock = &svc.sock;
    let images_before = s.ok(&["images", "-q", "--no-trunc"]);
    let dir = host_dir(&s, "hostile");
    let garbage = dir.join("garbage");
    std::fs::write(&garbage, b"{\"not\": a tar").unwrap();
    // A context whose Dockerfile names a file outside it, and one whose tar climbs out.
    let ctx = dir.join("ctx.tar");
    {
        let mut b = tar::Builder::new(std::fs::File::create(&ctx).unwrap());
        let mut h = tar::Header::new_gnu();
        let data = b"FROM busybox\nCOPY . /\n";
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, "Dockerfile", &data[..]).unwrap();
        b.finish().unwrap();
    }
    let climbing = dir.join("climb.tar");
    {
        let mut data = vec![0u8; 512];
        let name = b"../../escaped-by-build";
        data[..name.len()].copy_from_slice(name);
        data[100..108].copy_from_slice(b"0000644\0");
        data[124..136].copy_from_slice(b"00000000004\0");
        data[156] = b'0';
        data[257..263].copy_from_slice(b"ustar\0");
        data[263..265].copy_from_slice(b"00");
        data[148..156].copy_from_slice(b"        ");
        let sum: u32 = data.iter().map(|b| *b as u32).sum();
        data[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
        data.extend(b"hey!");
        data.resize(512 * 2, 0);
        data.extend(vec![0u8; 1024]);
        std::fs::write(&climbing, data).unwrap();
    }
    for (method, path, body, want, says) in [
        (
            "POST",
            "/build?dockerfile=..%2F..%2Fetc%2Fpasswd",
            Some(&ctx),
            400,
            "inside the build context",
        ),
        (
            "POST",
            "/build?dockerfile=%2Fetc%2Fshadow",
            Some(&ctx),
            400,
            "inside the build context",
        ),
        (
            "POST",
            "/build?remote=http%3A%2F%2F127.0.0.1%3A1%2Fx.tar",
            Some(&ctx),
            400,
            "remote build contexts",
        ),
        (
            "POST",
            "/build?buildargs=%5B1",
            Some(&ctx),
            400,
            "buildargs",
        ),
        ("POST", "/containers/create", Some(&garbage), 400, ""),
        ("POST", "/images/load", Some(&garbage), 500, ""),
        ("POST", "/images/create?fromImage=", None, 400, "fromImage"),
        (
            "GET",
            "/containers/nope/stats?stream=false",
            None,
            404,
            "No such container: nope",
        ),
        (
            "GET",
            "/containers/nope/changes",
            None,
            404,
            "No such container: nope",
        ),
        (
            "GET",
            "/containers/nope/export",
            None,
            404,
            "No such container: nope",
        ),
        (
            "GET",
            "/images/get?names=nope",
            None,
            404,
            "No such image: nope",
        ),
        (
            "GET",
            "/images/nope/history",
            None,
            404,
            "No such image: nope",
        ),
        ("POST", "/images/nope/push", None, 404, "No such image"),
        (
            "POST",
            "/images/prune?filters=%7B%22until%22%3A%5B%221h%22%5D%7D",
            None,
            400,
            "invalid filter",
        ),
        ("POST", "/auth", Some(&garbage), 400, "invalid auth body"),
    ] {
        let (code, text) = request(sock, method, path, body.map(|p| p.as_path()));
        assert_eq!(code, want, "{method} {path}: {text}");
        let msg: serde_json::Value =
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("{path}: {text}"));
        assert!(
            msg["message"].as_str().unwrap().contains(says),
            "{path}: {text}"
        );
    }
    // A context that climbs out of itself fails the build with an error line, and
    // nothing lands outside.
    let (code, text) = request(sock, "POST", "/build?t=climb", Some(&climbing));
    assert_eq!(code, 200, "{text}");
    assert!(text.contains("\"error\""), "{text}");
    assert!(!s.dir.join("escaped-by-build").exists() && !Path::new("/escaped-by-build").exists());
    assert_eq!(s.ok(&["images", "-q", "--no-trunc"]), images_before);
    // update refuses what it cannot do, with the container untouched.
    docker_ok(&s, sock, &["create", "--name", "u", "busybox", "true"]);
    let out = docker(&s, sock, &["update", "--restart", "always", "u"]);
    assert!(
        !out.status.success() && String::from_utf8_lossy(&out.stderr).contains("restart policy"),
        "{out:?}"
    );
    docker_ok(&s, sock, &["rm", "u"]);
}

/// Where this machine runs its own dockerd: the same requests give JSON with the same
/// keys, and values of the same types.
/// The machine's dockerd, driven with its own client; what a test makes in it is
/// removed when this is dropped.
struct Dockerd {
    made: Vec<Vec<String>>,
}

impl Dockerd {
    fn run(&mut self, args: &[&str], undo: &[&str]) -> String {
        let out = std::process::Command::new("docker")
            .env("DOCKER_HOST", "unix:///var/run/docker.sock")
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "dockerd: docker {args:?}: {out:?}");
        if !undo.is_empty() {
            self.made.push(undo.iter().map(|s| s.to_string()).collect());
        }
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for Dockerd {
    fn drop(&mut self) {
        for undo in self.made.iter().rev() {
            let _ = std::process::Command::new("docker")
                .env("DOCKER_HOST", "unix:///var/run/docker.sock")
                .args(undo)
                .output();
        }
    }
}

fn json_kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "bool",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "array",
        serde_json::Value::Object(_) => "object",
    }
}

/// Objects whose keys are data (label names, port specs, network names), not fields.
const DATA_KEYED: &[&str] = &[
    "Labels",
    "Networks",
    "Ports",
    "ExposedPorts",
    "Volumes",
    "Options",
    "Containers",
    "PortBindings",
    "Status",
    "Config",
    "Plugins",
    "DriverStatus",
    "RegistryConfig",
    "Runtimes",
    "Data",
    "GraphDriver",
    "RootFS",
    "IPAM",
    "Healthcheck",
    "Health",
    "IndexConfigs",
    "DriverOpts",
    "Swarm",
    "ContainerdCommit",
    "RuncCommit",
    "InitCommit",
    "Components",
    "Platform",
    "Details",
    "Tmpfs",
    "Sysctls",
    "StorageOpt",
];

/// Keys dockerd itself leaves out on some hosts: per-CPU usage and peak memory exist
/// only on cgroup v1 (API 1.44 on cgroup v2 has neither).
const HOST_DEPENDENT: &[&str] = &["percpu_usage", "max_usage"];

/// Every key dockerd's answer has, ours has too, with the same JSON type where both
/// are set; down through objects and the first element of arrays.
fn same_shape(
    path: &str,
    theirs: &serde_json::Value,
    ours: &serde_json::Value,
    out: &mut Vec<String>,
) {
    use serde_json::Value;
    match (theirs, ours) {
        (Value::Object(t), Value::Object(o)) => {
            for (k, v) in t {
                let Some(mine) = o.get(k) else {
                    if !HOST_DEPENDENT.contains(&k.as_str()) {
                        out.push(format!("{path}.{k}: missing"));
                    }
                    continue;
                };
                if v.is_null() || mine.is_null() {
                    continue;
                }
                if json_kind(v) != json_kind(mine) {
                    out.push(format!(
                        "{path}.{k}: {} where dockerd has {}",
                        json_kind(mine),
                        json_kind(v)
                    ));
                } else if !DATA_KEYED.contains(&k.as_str()) {
                    same_shape(&format!("{path}.{k}"), v, mine, out);
                }
            }
        }
        (Value::Array(t), Value::Array(o)) if !t.is_empty() && !o.is_empty() => {
            same_shape(&format!("{path}[0]"), &t[0], &o[0], out)
        }
        (Value::Object(_), _) => out.push(format!(
            "{path}: {} where dockerd has object",
            json_kind(ours)
        )),
        _ => {}
    }
}

#[test]
fn json_shapes_match_dockerd() {
    let dockerd = Path::new("/var/run/docker.sock");
    if !is_root() || !dockerd.exists() {
        eprintln!("no dockerd here to compare with");
        return;
    }
    let s = Skiff::with_busybox(Mode::Root);
    let svc = Service::start(&s, 0);
    // The same image, container, network and volume in both engines.
    let tag = format!("skiff-shape-{}", std::process::id());
    s.ok(&["tag", "busybox", &format!("{tag}:latest")]);
    let archive = s.dir.join("shape.tar");
    s.ok(&[
        "save",
        "-o",
        &archive.display().to_string(),
        &format!("{tag}:latest"),
    ]);
    let mut real = Dockerd { made: vec![] };
    // The archive names it as skiff stores it, localhost/NAME, in both engines.
    let image = format!("localhost/{tag}:latest");
    real.run(
        &["load", "-i", &archive.display().to_string()],
        &["rmi", "-f", &image],
    );
    let create = |image: &str| -> Vec<String> {
        [
            "create",
            "--name",
            &tag,
            "-p",
            "127.0.0.1:0:80",
            "-v",
            &format!("{tag}-vol:/data"),
            "-l",
            "k=v",
            image,
            "sleep",
            "60",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    let args: Vec<String> = create(&image);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    real.run(&args, &["volume", "rm", &format!("{tag}-vol")]);
    real.made.push(vec!["rm".into(), "-f".into(), tag.clone()]);
    real.run(
        &["network", "create", &format!("{tag}-net")],
        &["network", "rm", &format!("{tag}-net")],
    );
    real.run(&["start", &tag], &[]);
    let ours_args = create(&image);
    let ours_args: Vec<&str> = ours_args.iter().map(String::as_str).collect();
    docker_ok(&s, &svc.sock, &ours_args);
    docker_ok(&s, &svc.sock, &["network", "create", &format!("{tag}-net")]);
    docker_ok(&s, &svc.sock, &["start", &tag]);

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
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{path}: {e}: {out:?}"))
    };
    let mut diffs = Vec::new();
    for (theirs, ours) in [
        ("/version".to_string(), "/version".to_string()),
        ("/info".into(), "/info".into()),
        (
            format!("/containers/json?filters=%7B%22name%22%3A%5B%22{tag}%22%5D%7D"),
            format!("/containers/json?filters=%7B%22name%22%3A%5B%22{tag}%22%5D%7D"),
        ),
        (
            format!("/containers/{tag}/json"),
            format!("/containers/{tag}/json"),
        ),
        (
            format!("/images/json?filters=%7B%22reference%22%3A%5B%22{tag}%22%5D%7D"),
            format!("/images/json?filters=%7B%22reference%22%3A%5B%22{tag}%22%5D%7D"),
        ),
        (
            format!("/images/{image}/json"),
            format!("/images/{image}/json"),
        ),
        (
            format!("/images/{image}/history"),
            format!("/images/{image}/history"),
        ),
        (
            format!("/networks/{tag}-net"),
            format!("/networks/{tag}-net"),
        ),
        (format!("/volumes/{tag}-vol"), format!("/volumes/{tag}-vol")),
        ("/volumes".into(), "/volumes".into()),
        ("/networks".into(), "/networks".into()),
        ("/system/df".into(), "/system/df".into()),
        (
            format!("/containers/{tag}/stats?stream=false"),
            format!("/containers/{tag}/stats?stream=false"),
        ),
    ] {
        let t = get(dockerd, &theirs);
        let o = get(&svc.sock, &ours);
        assert!(!t.is_null() && !o.is_null(), "{theirs}");
        same_shape(&ours, &t, &o, &mut diffs);
    }
    assert!(
        diffs.is_empty(),
        "shapes differ from dockerd's:\n{}",
        diffs.join("\n")
    );
    docker_ok(&s, &svc.sock, &["rm", "-f", &tag]);
    docker_ok(&s, &svc.sock, &["network", "rm", &format!("{tag}-net")]);
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
/// Which compose: Debian 12's docker-compose 1.29, or compose v2 (trixie's plugin
/// binary, which scripts/setup.sh unpacks) run as `docker compose`.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Compose {
    V1,
    V2,
}

const COMPOSE_V2_PLUGIN: &str = "/opt/skiff-compose-v2/docker-compose";

/// A three-service project: web with a published port, the db it depends on with a
/// named volume, and an api built from a Dockerfile; up, ps, logs, exec, down -v, and
/// nothing left behind.
fn compose_project(s: &Skiff, svc: &Service, which: Compose) {
    let mode = s.mode;
    let port = free_port();
    let dir = host_dir(s, &format!("proj-{which:?}"));
    std::fs::create_dir_all(dir.join("api")).unwrap();
    let compose = format!(
        r#"version: "3"
services:
  db:
    image: busybox
    stop_grace_period: 1s
    command: sh -c "echo db-started; echo db-ready > /data/ready; exec httpd -f -p 5432 -h /data"
    volumes:
      - dbdata:/data
  api:
    build: ./api
    image: proj-api:built
    stop_grace_period: 1s
  web:
    image: busybox
    stop_grace_period: 1s
    command: sh -c "echo web-up > /tmp/index.html; exec httpd -f -p 8080 -h /tmp"
    ports:
      - "127.0.0.1:{port}:8080"
    depends_on:
      - db
      - api
volumes:
  dbdata:
"#
    );
    let file = dir.join("docker-compose.yml");
    std::fs::write(&file, compose).unwrap();
    std::fs::write(
        dir.join("api/Dockerfile"),
        "FROM busybox\nRUN mkdir -p /srv && echo api-built > /srv/index.html\nCMD [\"httpd\", \"-f\", \"-p\", \"9000\", \"-h\", \"/srv\"]\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    for f in [&file, &dir.join("api/Dockerfile")] {
        std::fs::set_permissions(f, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    std::fs::set_permissions(dir.join("api"), std::fs::Permissions::from_mode(0o755)).unwrap();
    let cfg = s.dir.join("docker-config");
    std::fs::create_dir_all(cfg.join("cli-plugins")).unwrap();
    std::fs::copy(COMPOSE_V2_PLUGIN, cfg.join("cli-plugins/docker-compose")).unwrap();
    for d in [&cfg, &cfg.join("cli-plugins")] {
        std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o777)).unwrap();
    }
    let compose = |args: &[&str]| -> Output {
        let mut c = match which {
            Compose::V1 => s.command_for("docker-compose"),
            Compose::V2 => {
                let mut c = s.command_for("docker");
                c.arg("compose");
                c
            }
        };
        c.env("DOCKER_HOST", format!("unix://{}", svc.sock.display()))
            .env("DOCKER_CONFIG", &cfg)
            .env("DOCKER_BUILDKIT", "0")
            .env("COMPOSE_DOCKER_CLI_BUILD", "0")
            .current_dir(&dir)
            .args(["-f", &file.display().to_string(), "-p", "proj"])
            .args(args)
            .stdin(Stdio::null());
        c.output().unwrap()
    };
    let up = compose(&["up", "-d"]);
    assert!(up.status.success(), "{mode:?} {which:?} {up:?}");
    assert!(wait_until(15, || http_get(port).is_some_and(|b| b.contains("web-up"))));
    let ps = compose(&["ps"]);
    let text = String::from_utf8_lossy(&ps.stdout);
    let sep = if which == Compose::V1 { "_" } else { "-" };
    for svc_name in ["db", "web", "api"] {
        assert!(
            text.contains(&format!("proj{sep}{svc_name}{sep}1")),
            "{which:?} ps: {text}"
        );
    }
    assert!(text.contains("Up") || text.contains("running"), "{text}");
    let ex = compose(&["exec", "-T", "web", "wget", "-qO-", "http://db:5432/ready"]);
    assert_eq!(String::from_utf8_lossy(&ex.stdout), "db-ready\n", "{ex:?}");
    let ex = compose(&["exec", "-T", "web", "wget", "-qO-", "http://api:9000/"]);
    assert_eq!(String::from_utf8_lossy(&ex.stdout), "api-built\n", "{ex:?}");
    let logs = compose(&["logs", "db"]);
    assert!(
        String::from_utf8_lossy(&logs.stdout).contains("db-started"),
        "{which:?} {logs:?}"
    );
    let down = compose(&["down", "-v"]);
    assert!(down.status.success(), "{down:?}");
    assert!(s.ok(&["ps", "-aq"]).trim().is_empty());
    assert!(s.ok(&["volume", "ls", "-q"]).trim().is_empty());
    assert!(!s
        .ok(&["network", "ls", "--format", "{{.Name}}"])
        .contains("proj"));
    s.ok(&["rmi", "proj-api:built"]);
}

#[test]
fn docker_compose_brings_a_project_up_and_down() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        let svc = Service::start(&s, 0);
        compose_project(&s, &svc, Compose::V1);
        compose_project(&s, &svc, Compose::V2);
    }
}

/// A build context of the test's own, readable by the store's user.
fn build_context(s: &Skiff, name: &str, dockerfile: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let dir = host_dir(s, name);
    let f = dir.join("Dockerfile");
    std::fs::write(&f, dockerfile).unwrap();
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
    dir
}

#[test]
fn images_are_built_pushed_pulled_saved_and_measured_through_the_docker_cli() {
    let reg = Registry::start(None);
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        let svc = Service::start(&s, 0);
        let sock = svc.sock.clone();
        let d = |args: &[&str]| {
            let mut c = docker_cmd(&s, &sock, args);
            c.env("DOCKER_BUILDKIT", "0");
            c.output().unwrap()
        };
        let ok = |args: &[&str]| {
            let out = d(args);
            assert!(out.status.success(), "{mode:?} docker {args:?}: {out:?}");
            String::from_utf8(out.stdout).unwrap()
        };
        let remote = format!("{}/app", reg.addr);

        // The classic builder: build args, the step output, tags, and an image that runs.
        let ctx = build_context(
            &s,
            "app",
            "FROM busybox\nARG V=0\nRUN echo built-$V > /v && echo step-ran\nLABEL role=test\nCMD [\"cat\", \"/v\"]\n",
        );
        let ctx_arg = ctx.display().to_string();
        let out = ok(&[
            "build",
            "-t",
            "app:1",
            "-t",
            &format!("{remote}:1"),
            "--build-arg",
            "V=7",
            &ctx_arg,
        ]);
        assert!(out.contains("step-ran"), "{out}");
        assert!(
            out.contains("Successfully built ") && out.contains("Successfully tagged app:1"),
            "{out}"
        );
        assert_eq!(ok(&["run", "--rm", "app:1"]), "built-7\n");
        assert_eq!(
            ok(&[
                "image",
                "inspect",
                "app:1",
                "--format",
                "{{.Config.Labels.role}}"
            ])
            .trim(),
            "test"
        );
        assert!(ok(&["history", "app:1"]).contains("echo built"));
        // A failing step fails the build with its status, and tags nothing.
        let bad = build_context(&s, "bad", "FROM busybox\nRUN exit 3\n");
        let out = d(&["build", "-t", "bad:1", &bad.display().to_string()]);
        assert!(!out.status.success());
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("status 3"),
            "{out:?}"
        );
        assert!(!d(&["image", "inspect", "bad:1"]).status.success());

        // Push to the local registry (loopback is trusted over HTTP, as by dockerd),
        // remove, pull back, and run.
        let out = ok(&["push", &format!("{remote}:1")]);
        assert!(out.contains("1: digest: sha256:"), "{out}");
        ok(&["rmi", &format!("{remote}:1")]);
        ok(&["pull", &format!("{remote}:1")]);
        assert_eq!(ok(&["run", "--rm", &format!("{remote}:1")]), "built-7\n");

        // save, rmi, load.
        let tar = host_dir(&s, "saved").join("app.tar");
        ok(&["save", "-o", &tar.display().to_string(), "app:1"]);
        ok(&["rmi", "app:1"]);
        ok(&["load", "-i", &tar.display().to_string()]);
        assert_eq!(ok(&["run", "--rm", "app:1"]), "built-7\n");

        // A running container's use, changes and files.
        ok(&[
            "run",
            "-d",
            "--name",
            "busy",
            "busybox",
            "sh",
            "-c",
            "echo hi > /tmp/made; rm /bin/ls; exec sleep 100",
        ]);
        assert!(wait_until(10, || ok(&["diff", "busy"]).contains("A /tmp/made")));
        let diff = ok(&["diff", "busy"]);
        assert!(
            diff.contains("D /bin/ls") && diff.contains("C /tmp"),
            "{diff}"
        );
        let stats = ok(&[
            "stats",
            "--no-stream",
            "--format",
            "{{.Name}} {{.PIDs}} {{.MemUsage}}",
        ]);
        assert!(stats.starts_with("busy 1 "), "{stats}");
        assert!(!stats.contains(" 0B /"), "{stats}");
        let mut export = docker_cmd(&s, &sock, &["export", "busy"]);
        let exported = export.output().unwrap();
        let names = list_tar(&exported.stdout);
        assert!(
            names.iter().any(|n| n == "tmp/made") && !names.iter().any(|n| n == "bin/ls"),
            "{names:?}"
        );
        let df = ok(&["system", "df"]);
        assert!(
            df.contains("Images") && df.contains("Containers") && df.contains("Local Volumes"),
            "{df}"
        );
        let update = d(&["update", "--memory", "64m", "busy"]);
        if mode == Mode::Root {
            assert!(update.status.success(), "{update:?}");
            assert_eq!(
                ok(&["inspect", "busy", "--format", "{{.HostConfig.Memory}}"]).trim(),
                "67108864"
            );
        } else {
            // Rootless on cgroup v1 nothing can be limited; the error says so.
            assert!(
                String::from_utf8_lossy(&update.stderr).contains("need root"),
                "{update:?}"
            );
        }
        ok(&["rm", "-f", "busy"]);
        // The dangling images the build left go with prune; tagged ones stay.
        ok(&["image", "prune", "-f"]);
        let left = ok(&["images", "-q", "app:1"]);
        assert_eq!(left.trim().len(), 12, "{left}");
        for i in ["app:1", &format!("{remote}:1")] {
            let _ = d(&["rmi", i]);
        }
    }
}

fn list_tar(data: &[u8]) -> Vec<String> {
    let mut a = tar::Archive::new(data);
    a.entries()
        .unwrap()
        .filter_map(|e| {
            e.ok()?
                .path()
                .ok()
                .map(|p| p.to_string_lossy().trim_end_matches('/').to_string())
        })
        .collect()
}

/// The Python docker SDK 7.1 (in scripts/setup.sh's virtualenv) against skiff.
#[test]
fn the_python_docker_sdk_drives_skiff() {
    let reg = Registry::start(None);
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        let svc = Service::start(&s, 0);
        let ctx = build_context(
            &s,
            "sdk-app",
            "FROM busybox\nRUN echo from-sdk > /greeting\nCMD [\"cat\", \"/greeting\"]\n",
        );
        let script = host_dir(&s, "sdk").join("drive.py");
        std::fs::write(&script, PY_SDK_SCRIPT).unwrap();
        world_readable(&script);
        let mut c = s.command_for("/opt/skiff-py/bin/python");
        c.arg(&script)
            .arg(&ctx)
            .arg(&reg.addr)
            .env("DOCKER_HOST", format!("unix://{}", svc.sock.display()))
            .stdin(Stdio::null());
        let out = c.output().unwrap();
        assert!(
            out.status.success() && String::from_utf8_lossy(&out.stdout).ends_with("sdk ok\n"),
            "{mode:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(s.ok(&["ps", "-aq"]).trim().is_empty());
        assert!(s.ok(&["volume", "ls", "-q"]).trim().is_empty());
    }
}

const PY_SDK_SCRIPT: &str = r#"
import io, sys, tarfile
import docker

ctx, registry = sys.argv[1], sys.argv[2]
c = docker.from_env()
assert c.ping()
assert c.version()["ApiVersion"] == "1.44"

# containers.run attached: its output; create/start/logs/exec_run/archives/stop/remove.
out = c.containers.run("busybox", ["echo", "run-out"], remove=True)
assert out == b"run-out\n", out
ct = c.containers.create("busybox", ["sh", "-c", "echo started; exec sleep 100"], name="sdk-ctr", labels={"k": "v"})
ct.start()
ct.reload()
assert ct.status == "running", ct.status
assert ct.labels == {"k": "v"}
code, out = ct.exec_run(["sh", "-c", "echo exec-out; exit 4"])
assert (code, out) == (4, b"exec-out\n"), (code, out)
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w") as t:
    data = b"put-in\n"
    info = tarfile.TarInfo("put.txt")
    info.size = len(data)
    t.addfile(info, io.BytesIO(data))
assert ct.put_archive("/tmp", buf.getvalue())
code, out = ct.exec_run(["cat", "/tmp/put.txt"])
assert out == b"put-in\n", out
stream, stat = ct.get_archive("/tmp/put.txt")
got = tarfile.open(fileobj=io.BytesIO(b"".join(stream)))
assert got.extractfile("put.txt").read() == b"put-in\n"
assert stat["name"] == "put.txt", stat
assert b"started" in ct.logs()
ct.stop(timeout=1)
ct.reload()
assert ct.status == "exited", ct.status
ct.remove()

# images: build, list, tag, push, remove, pull.
img, logs = c.images.build(path=ctx, tag="sdk-app:1")
assert any("Successfully built" in l.get("stream", "") for l in logs)
out = c.containers.run("sdk-app:1", remove=True)
assert out == b"from-sdk\n", out
assert any("sdk-app:1" in t for i in c.images.list() for t in i.tags)
remote = registry + "/sdk-app"
assert img.tag(remote, "1")
for line in c.images.push(remote, tag="1", stream=True, decode=True):
    assert "error" not in line, line
c.images.remove(remote + ":1")
pulled = c.images.pull(remote, tag="1")
assert pulled.id == img.id, (pulled.id, img.id)
c.images.remove(remote + ":1")
c.images.remove("sdk-app:1")

# networks and volumes.
net = c.networks.create("sdk-net")
vol = c.volumes.create("sdk-vol")
ct = c.containers.run("busybox", ["sleep", "100"], detach=True, network="sdk-net", volumes={"sdk-vol": {"bind": "/data", "mode": "rw"}})
net.reload()
assert ct.id in [x.id for x in net.containers], net.attrs
ct.remove(force=True)
net.remove()
vol.remove()
assert "sdk-net" not in [n.name for n in c.networks.list()]
print("sdk ok")
"#;
