//! Pull, push and login against Debian's docker-registry on 127.0.0.1 (plain HTTP, and
//! TLS with htpasswd and a certs.d CA), against skopeo, podman and buildah, and against
//! a hostile registry the test serves itself.

mod common;
use common::registry::{world_readable, Registry};
use common::*;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

/// A registries.conf the store's user can read; returns its path.
fn registries_conf(s: &Skiff, text: &str) -> String {
    let p = s.dir.join("registries.conf");
    std::fs::write(&p, text).unwrap();
    world_readable(&p);
    p.display().to_string()
}

fn with_env(s: &Skiff, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut c = s.cmd(args);
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

#[test]
fn push_then_pull_over_plain_http() {
    let reg = Registry::start(None);
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        let dest = format!("{}/test/busybox:{mode:?}", reg.addr).to_lowercase();
        // Plain HTTP needs the user's say-so.
        s.fails(&["push", "busybox", &dest], 125);
        let out = s.run(&["push", "--tls-verify=false", "busybox", &dest]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("Writing manifest"), "{err}");
        // A second push finds every blob there already.
        let again = s.run(&["push", "--tls-verify=false", "busybox", &dest]);
        assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
        let id = s.inspect("busybox", "{{.Id}}");
        let digest = s.inspect("busybox", "{{.Digest}}");
        let fresh = Skiff::new(mode);
        let pulled = fresh.ok(&["pull", "--tls-verify=false", &dest]);
        assert_eq!(pulled.trim(), id);
        assert_eq!(fresh.inspect(&dest, "{{.Digest}}"), digest);
        let (code, out, err) = fresh.run_ctr(&[&dest, "echo", "pulled"]);
        assert_eq!((code, out.as_str()), (0, "pulled\n"), "{err}");
        // By digest too, and a second pull downloads no layer.
        let by_digest = format!("{}/test/busybox@{digest}", reg.addr);
        let out = fresh.run(&["pull", "--tls-verify=false", &by_digest]);
        assert!(out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("skipped: already exists"));
        // Short names through registries.conf, with the registry marked insecure.
        let conf = registries_conf(
            &fresh,
            &format!("unqualified-search-registries = [\"{a}\"]\n[[registry]]\nlocation = \"{a}\"\ninsecure = true\n", a = reg.addr),
        );
        let short = format!("test/busybox:{mode:?}").to_lowercase();
        let other = Skiff::new(mode);
        let out = with_env(
            &other,
            &["pull", "-q", &short],
            &[("CONTAINERS_REGISTRIES_CONF", &conf)],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), id);
        assert!(
            String::from_utf8_lossy(&out.stderr).is_empty(),
            "-q prints nothing on stderr"
        );
        // Unknown images and tags: one line, 125, nothing stored.
        let before = other.snapshot();
        other.fails(
            &[
                "pull",
                "--tls-verify=false",
                &format!("{}/test/nosuch:1", reg.addr),
            ],
            125,
        );
        other.fails(
            &[
                "pull",
                "--tls-verify=false",
                &format!("{}/test/busybox:nosuch", reg.addr),
            ],
            125,
        );
        other.fails(&["pull", "--platform", "linux", "x"], 125);
        assert_eq!(other.snapshot(), before);
    }
}

#[test]
fn tls_with_basic_auth_login_logout_and_cert_dir() {
    let reg = Registry::start(Some(("tester", "s3cret")));
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        let authfile = s.dir.join("auth.json").display().to_string();
        let dest = format!("{}/private/busybox:1", reg.addr);
        let cd = reg.cert_dir();
        // A named auth file must exist, as podman checks before anything else.
        let err = s.fails(&["push", "--authfile", &authfile, "busybox", &dest], 125);
        assert!(err.contains("checking authfile"), "{err}");
        // No CA: the self-signed certificate is refused.
        let err = s.fails(&["push", "busybox", &dest], 125);
        assert!(
            err.to_lowercase().contains("certificate")
                || err.contains("TLS")
                || err.contains("tls"),
            "{err}"
        );
        // The CA, but no credentials.
        let err = s.fails(&["push", "--cert-dir", cd, "busybox", &dest], 125);
        assert!(
            err.contains("authentication") || err.contains("credentials"),
            "{err}"
        );
        s.fails(
            &[
                "login",
                "--cert-dir",
                cd,
                "--authfile",
                &authfile,
                "-u",
                "tester",
                "-p",
                "wrong",
                &reg.addr,
            ],
            125,
        );
        assert!(
            !Path::new(&authfile).exists(),
            "a failed login stored something"
        );
        let mut c = s.cmd(&[
            "login",
            "--cert-dir",
            cd,
            "--authfile",
            &authfile,
            "-u",
            "tester",
            "--password-stdin",
            &reg.addr,
        ]);
        c.stdin(Stdio::piped()).stderr(Stdio::piped());
        let mut child = c.spawn().unwrap();
        child
            .stdin
            .as_mut()
            .unwrap()
            .write_all(b"s3cret\n")
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stderr).contains("Login Succeeded"));
        assert_eq!(
            s.ok(&["login", "--authfile", &authfile, "--get-login", &reg.addr])
                .trim(),
            "tester"
        );
        s.ok(&[
            "push",
            "--cert-dir",
            cd,
            "--authfile",
            &authfile,
            "busybox",
            &dest,
        ]);
        let fresh = Skiff::new(mode);
        fresh.ok(&["pull", "--cert-dir", cd, "--authfile", &authfile, &dest]);
        // --creds works without a stored login; --tls-verify=false without the CA.
        let other = Skiff::new(mode);
        other.ok(&[
            "pull",
            "--tls-verify=false",
            "--creds",
            "tester:s3cret",
            &dest,
        ]);
        s.ok(&["logout", "--authfile", &authfile, &reg.addr]);
        s.fails(&["logout", "--authfile", &authfile, &reg.addr], 125);
        let after = Skiff::new(mode);
        after.fails(
            &["pull", "--cert-dir", cd, "--authfile", &authfile, &dest],
            125,
        );
    }
    // Rootless, login writes ${XDG_RUNTIME_DIR}/containers/auth.json, and pull reads it.
    let s = Skiff::with_busybox(Mode::Rootless);
    let rt = s.dir.join("xdg");
    std::fs::create_dir_all(&rt).unwrap();
    std::fs::set_permissions(&rt, std::fs::Permissions::from_mode(0o777)).unwrap();
    let script = format!(
        "export XDG_RUNTIME_DIR={rt}; {login} && {push} && test -f {rt}/containers/auth.json && echo stored",
        rt = rt.display(),
        login = s.inner_line(&["login", "--cert-dir", reg.cert_dir(), "-u", "tester", "-p", "s3cret", &reg.addr]),
        push = s.inner_line(&["push", "--cert-dir", reg.cert_dir(), "busybox", &format!("{}/private/xdg:1", reg.addr)]),
    );
    let out = s.command_for("sh").args(["-c", &script]).output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "stored\n",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn run_pull_policies() {
    let reg = Registry::start(None);
    let s = Skiff::with_busybox(Mode::Rootless);
    let name = format!("{}/policy/img:1", reg.addr);
    s.ok(&[
        "run",
        "--name",
        "v1",
        "busybox",
        "sh",
        "-c",
        "echo one > /version",
    ]);
    s.ok(&["commit", "v1", "first"]);
    s.ok(&["push", "--tls-verify=false", "first", &name]);
    let user = Skiff::new(Mode::Rootless);
    user.fails(&["run", "--rm", "--pull", "never", &name, "true"], 125);
    user.fails(&["run", "--rm", "--pull", "sometimes", &name, "true"], 125);
    let (code, out, err) = user.run_ctr(&["--tls-verify=false", &name, "cat", "/version"]);
    assert_eq!((code, out.as_str()), (0, "one\n"), "{err}");
    // The tag moves on; missing keeps the local image, always fetches the new one.
    s.ok(&[
        "run",
        "--name",
        "v2",
        "busybox",
        "sh",
        "-c",
        "echo two > /version",
    ]);
    s.ok(&["commit", "v2", "second"]);
    s.ok(&["push", "--tls-verify=false", "second", &name]);
    assert_eq!(user.run_ctr(&[&name, "cat", "/version"]).1, "one\n");
    assert_eq!(
        user.run_ctr(&[
            "--pull",
            "always",
            "--tls-verify=false",
            &name,
            "cat",
            "/version"
        ])
        .1,
        "two\n"
    );
    assert_eq!(
        user.run_ctr(&[
            "--pull=newer",
            "--tls-verify=false",
            &name,
            "cat",
            "/version"
        ])
        .1,
        "two\n"
    );
}

#[test]
fn skopeo_podman_and_buildah_agree() {
    if !is_root() {
        return;
    }
    let reg = Registry::start(None);
    let s = Skiff::with_busybox(Mode::Root);
    let archive = s.save("bb.tar", "oci-archive", "busybox");
    let a = &reg.addr;
    // skopeo pushes, skiff pulls and runs.
    run_ok(
        Command::new("skopeo")
            .args(["copy", "--dest-tls-verify=false"])
            .arg(format!("oci-archive:{}", archive.display()))
            .arg(format!("docker://{a}/interop/from-skopeo:1")),
    );
    let fresh = Skiff::new(Mode::Root);
    fresh.ok(&[
        "pull",
        "--tls-verify=false",
        &format!("{a}/interop/from-skopeo:1"),
    ]);
    assert_eq!(
        fresh
            .run_ctr(&[&format!("{a}/interop/from-skopeo:1"), "echo", "ok"])
            .1,
        "ok\n"
    );
    // zstd layers (skopeo compresses), pulled and run.
    run_ok(
        Command::new("skopeo")
            .args([
                "copy",
                "--dest-tls-verify=false",
                "--dest-compress-format",
                "zstd",
            ])
            .arg(format!("oci-archive:{}", archive.display()))
            .arg(format!("docker://{a}/interop/zstd:1")),
    );
    fresh.ok(&["pull", "--tls-verify=false", &format!("{a}/interop/zstd:1")]);
    assert_eq!(
        fresh
            .run_ctr(&[&format!("{a}/interop/zstd:1"), "echo", "zstd"])
            .1,
        "zstd\n"
    );
    // skiff pushes; skopeo and podman see the same manifest and image.
    s.ok(&[
        "push",
        "--tls-verify=false",
        "busybox",
        &format!("{a}/interop/from-skiff:1"),
    ]);
    let inspect = Command::new("skopeo")
        .args([
            "inspect",
            "--tls-verify=false",
            &format!("docker://{a}/interop/from-skiff:1"),
        ])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&inspect.stdout).unwrap();
    assert_eq!(
        v["Digest"].as_str().unwrap(),
        s.inspect("busybox", "{{.Digest}}")
    );
    let pm = s.dir.join("podman");
    let out = run_ok(
        Command::new("podman")
            .arg("--root")
            .arg(pm.join("root"))
            .arg("--runroot")
            .arg(pm.join("run"))
            .args([
                "--storage-driver",
                "vfs",
                "pull",
                "-q",
                "--tls-verify=false",
                &format!("{a}/interop/from-skiff:1"),
            ]),
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        s.inspect("busybox", "{{.Id}}")
    );
    let _ = Command::new("podman")
        .arg("--root")
        .arg(pm.join("root"))
        .arg("--runroot")
        .arg(pm.join("run"))
        .args(["--storage-driver", "vfs", "rmi", "-af"])
        .output();
    // A multi-arch index made with buildah: skiff takes the platform asked for.
    s.ok(&[
        "run",
        "--name",
        "other",
        "busybox",
        "sh",
        "-c",
        "echo arm > /arch",
    ]);
    s.ok(&["commit", "other", "armish"]);
    s.ok(&[
        "push",
        "--tls-verify=false",
        "armish",
        &format!("{a}/interop/arm:1"),
    ]);
    let bh = s.dir.join("buildah");
    let buildah = |args: &[&str]| {
        run_ok(
            Command::new("buildah")
                .arg("--root")
                .arg(bh.join("root"))
                .arg("--runroot")
                .arg(bh.join("run"))
                .args(["--storage-driver", "vfs"])
                .args(args),
        );
    };
    buildah(&["manifest", "create", "multi"]);
    buildah(&[
        "manifest",
        "add",
        "--tls-verify=false",
        "--os",
        "linux",
        "--arch",
        "arm64",
        "--variant",
        "v8",
        "multi",
        &format!("docker://{a}/interop/arm:1"),
    ]);
    buildah(&[
        "manifest",
        "add",
        "--tls-verify=false",
        "--os",
        "linux",
        "--arch",
        "amd64",
        "multi",
        &format!("docker://{a}/interop/from-skiff:1"),
    ]);
    buildah(&[
        "manifest",
        "push",
        "--all",
        "--tls-verify=false",
        "multi",
        &format!("docker://{a}/interop/multi:1"),
    ]);
    let _ = Command::new("buildah")
        .arg("--root")
        .arg(bh.join("root"))
        .arg("--runroot")
        .arg(bh.join("run"))
        .args(["--storage-driver", "vfs", "rmi", "-af"])
        .output();
    let m = Skiff::new(Mode::Root);
    let arm = m.ok(&[
        "pull",
        "-q",
        "--tls-verify=false",
        "--platform",
        "linux/arm64",
        &format!("{a}/interop/multi:1"),
    ]);
    assert_eq!(arm.trim(), s.inspect("armish", "{{.Id}}"));
    let amd = m.ok(&[
        "pull",
        "-q",
        "--tls-verify=false",
        "--arch",
        "amd64",
        &format!("{a}/interop/multi:1"),
    ]);
    assert_eq!(amd.trim(), s.inspect("busybox", "{{.Id}}"));
    m.fails(
        &[
            "pull",
            "--tls-verify=false",
            "--platform",
            "linux/s390x",
            &format!("{a}/interop/multi:1"),
        ],
        125,
    );
}

/// How the hostile registry misbehaves with the layer blob.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Fault {
    None,
    WrongBytes,
    Truncated,
    ServerError,
}

/// A registry that wants a bearer token and serves one image, badly on demand.
struct Hostile {
    addr: String,
    fault: Arc<Mutex<Fault>>,
}

struct Image {
    manifest: Vec<u8>,
    config: Vec<u8>,
    layer: Vec<u8>,
}

fn digest(b: &[u8]) -> String {
    format!("sha256:{}", sha256_hex(b))
}

fn image() -> Image {
    let layer = TarBuilder::new()
        .entry("hello", Kind::File(b"hello from a hostile registry\n"), 0)
        .finish();
    let config = serde_json::to_vec(&serde_json::json!({
        "architecture": "amd64", "os": "linux",
        "config": {"Cmd": ["/hello"]},
        "rootfs": {"type": "layers", "diff_ids": [digest(&layer)]},
    }))
    .unwrap();
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": digest(&config), "size": config.len()},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": digest(&layer), "size": layer.len()}],
    }))
    .unwrap();
    Image {
        manifest,
        config,
        layer,
    }
}

impl Hostile {
    fn start() -> Hostile {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let fault = Arc::new(Mutex::new(Fault::None));
        let f = fault.clone();
        let a = addr.clone();
        std::thread::spawn(move || {
            let img = image();
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let fault = *f.lock().unwrap();
                let _ = serve(conn, &img, fault, &a);
            }
        });
        Hostile { addr, fault }
    }

    fn set(&self, f: Fault) {
        *self.fault.lock().unwrap() = f;
    }
}

fn serve(mut conn: TcpStream, img: &Image, fault: Fault, addr: &str) -> std::io::Result<()> {
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let path = line.split_whitespace().nth(1).unwrap_or("").to_string();
    let mut authed = false;
    loop {
        let mut h = String::new();
        reader.read_line(&mut h)?;
        if h.trim().is_empty() {
            break;
        }
        if h.to_ascii_lowercase()
            .starts_with("authorization: bearer good-token")
        {
            authed = true;
        }
    }
    let reply =
        |conn: &mut TcpStream, code: &str, headers: &str, body: &[u8]| -> std::io::Result<()> {
            write!(
                conn,
                "HTTP/1.1 {code}\r\nContent-Length: {}\r\nConnection: close\r\n{headers}\r\n",
                body.len()
            )?;
            conn.write_all(body)
        };
    if path.starts_with("/token") {
        return reply(
            &mut conn,
            "200 OK",
            "Content-Type: application/json\r\n",
            br#"{"token":"good-token"}"#,
        );
    }
    if !authed {
        let challenge = format!(
            "WWW-Authenticate: Bearer realm=\"http://{addr}/token\",service=\"hostile\"\r\n"
        );
        return reply(&mut conn, "401 Unauthorized", &challenge, b"{}");
    }
    if path == "/v2/" {
        return reply(&mut conn, "200 OK", "", b"{}");
    }
    if path.contains("/manifests/") {
        let ct = "Content-Type: application/vnd.oci.image.manifest.v1+json\r\n";
        return reply(&mut conn, "200 OK", ct, &img.manifest);
    }
    if path.ends_with(&digest(&img.config)) {
        return reply(&mut conn, "200 OK", "", &img.config);
    }
    if path.ends_with(&digest(&img.layer)) {
        return match fault {
            Fault::None => reply(&mut conn, "200 OK", "", &img.layer),
            Fault::WrongBytes => {
                let mut bad = img.layer.clone();
                bad[600] ^= 0xff;
                reply(&mut conn, "200 OK", "", &bad)
            }
            Fault::Truncated => {
                write!(
                    conn,
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    img.layer.len()
                )?;
                conn.write_all(&img.layer[..img.layer.len() / 2])
            }
            Fault::ServerError => reply(
                &mut conn,
                "500 Internal Server Error",
                "",
                b"{\"errors\":[{\"code\":\"UNKNOWN\",\"message\":\"boom\"}]}",
            ),
        };
    }
    let mut drain = Vec::new();
    let _ = reader.read_to_end(&mut drain);
    reply(
        &mut conn,
        "404 Not Found",
        "",
        b"{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\",\"message\":\"unknown\"}]}",
    )
}

#[test]
fn hostile_registry_stores_nothing_and_the_next_pull_works() {
    let h = Hostile::start();
    for mode in modes() {
        let s = Skiff::new(mode);
        s.ok(&["images"]);
        let name = format!("{}/evil/img:1", h.addr);
        let before = s.snapshot();
        for (fault, says) in [
            (Fault::WrongBytes, "digest mismatch"),
            (Fault::Truncated, "cut short"),
            (Fault::ServerError, "500"),
        ] {
            h.set(fault);
            let err = s.fails(&["pull", "--tls-verify=false", &name], 125);
            assert!(err.contains(says), "{fault:?}: {err}");
            assert_eq!(s.snapshot(), before, "{fault:?} left something stored");
            let tmp: Vec<_> = std::fs::read_dir(s.root().join("tmp"))
                .map(|d| d.flatten().collect())
                .unwrap_or_default();
            assert!(tmp.is_empty(), "{fault:?} left staging files: {tmp:?}");
        }
        h.set(Fault::None);
        let id = s.ok(&["pull", "-q", "--tls-verify=false", &name]);
        assert_eq!(id.trim(), sha256_hex(&image().config));
        s.ok(&["create", "--name", "h", &name]);
        let out = s.cmd(&["cp", "h:/hello", "-"]).output().unwrap();
        let members: Vec<String> = tar::Archive::new(&out.stdout[..])
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().display().to_string())
            .collect();
        assert_eq!(members, vec!["hello"]);
    }
}

#[test]
fn mounts_chunks_mirrors_and_docker_config() {
    let reg = Registry::start(None);
    let s = Skiff::with_busybox(Mode::Rootless);
    let a = &reg.addr;
    // A blob the registry has in another repository is mounted, not uploaded.
    s.ok(&[
        "push",
        "--tls-verify=false",
        "busybox",
        &format!("{a}/one/busybox:1"),
    ]);
    let out = s.run(&[
        "push",
        "--tls-verify=false",
        "busybox",
        &format!("{a}/two/busybox:1"),
    ]);
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("mounted from one/busybox"), "{err}");
    // A blob bigger than one chunk goes up in several and comes back whole.
    let big = s.dir.join("big");
    std::fs::create_dir_all(&big).unwrap();
    let mut data = vec![0u8; 40 << 20];
    let mut x: u64 = 0x9e3779b97f4a7c15;
    for chunk in data.chunks_mut(8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        chunk.copy_from_slice(&x.to_le_bytes()[..chunk.len()]);
    }
    std::fs::write(big.join("blob"), &data).unwrap();
    let tarball = s.dir.join("big.tar");
    let st = Command::new("tar")
        .arg("-C")
        .arg(&big)
        .arg("-cf")
        .arg(&tarball)
        .arg(".")
        .status()
        .unwrap();
    assert!(st.success());
    world_readable(&tarball);
    s.ok(&["import", tarball.to_str().unwrap(), "big"]);
    s.ok(&[
        "push",
        "--tls-verify=false",
        "big",
        &format!("{a}/big/img:1"),
    ]);
    let fresh = Skiff::new(Mode::Rootless);
    let id = fresh.ok(&[
        "pull",
        "-q",
        "--tls-verify=false",
        &format!("{a}/big/img:1"),
    ]);
    assert_eq!(id.trim(), s.inspect("big", "{{.Id}}"));
    // A mirror is tried before the registry itself (unreachable here).
    let conf = registries_conf(
        &fresh,
        &format!("[[registry]]\nprefix = \"example.test/library\"\nlocation = \"127.0.0.1:1/nowhere\"\n[[registry.mirror]]\nlocation = \"{a}/one\"\ninsecure = true\n"),
    );
    let out = with_env(
        &fresh,
        &["pull", "-q", "example.test/library/busybox:1"],
        &[("CONTAINERS_REGISTRIES_CONF", &conf)],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        s.inspect("busybox", "{{.Id}}")
    );
    assert!(fresh
        .ok(&["images"])
        .contains("example.test/library/busybox"));
    // A registries.conf blocking the registry is obeyed.
    let blocked = registries_conf(
        &fresh,
        &format!("[[registry]]\nlocation = \"{a}\"\nblocked = true\n"),
    );
    let out = with_env(
        &fresh,
        &["pull", "--tls-verify=false", &format!("{a}/one/busybox:1")],
        &[("CONTAINERS_REGISTRIES_CONF", &blocked)],
    );
    assert_eq!(out.status.code(), Some(125));
    assert!(String::from_utf8_lossy(&out.stderr).contains("blocked"));
}

#[test]
fn credentials_come_from_docker_config_too() {
    let reg = Registry::start(Some(("docker", "pw")));
    let s = Skiff::with_busybox(Mode::Rootless);
    let home = s.dir.join("home");
    std::fs::create_dir_all(home.join(".docker")).unwrap();
    std::fs::write(
        home.join(".docker/config.json"),
        format!(
            "{{\"auths\":{{\"{}\":{{\"auth\":\"ZG9ja2VyOnB3\"}}}}}}",
            reg.addr
        ),
    )
    .unwrap();
    for p in [home.clone(), home.join(".docker")] {
        world_readable(&p);
    }
    world_readable(&home.join(".docker/config.json"));
    let xdg = s.dir.join("xdg-empty");
    std::fs::create_dir_all(&xdg).unwrap();
    std::fs::set_permissions(&xdg, std::fs::Permissions::from_mode(0o777)).unwrap();
    let push = s.inner_line(&[
        "push",
        "--cert-dir",
        reg.cert_dir(),
        "busybox",
        &format!("{}/d/busybox:1", reg.addr),
    ]);
    let script = format!(
        "export HOME={} XDG_RUNTIME_DIR={}; {push} && echo pushed",
        home.display(),
        xdg.display()
    );
    let out = s.command_for("sh").args(["-c", &script]).output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "pushed\n",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn search_reads_the_catalog_and_lists_tags() {
    let reg = Registry::start(None);
    let s = Skiff::with_busybox(Mode::Rootless);
    for dest in ["team/busybox:1", "team/busybox:2", "other/alpine:1"] {
        let full = format!("{}/{dest}", reg.addr);
        s.ok(&["push", "--tls-verify=false", "busybox", &full]);
    }
    let term = format!("{}/busy", reg.addr);
    let out = s.ok(&["search", "--tls-verify=false", &term]);
    let lines: Vec<&str> = out.lines().map(str::trim_end).collect();
    assert!(
        lines[0].starts_with("NAME") && lines[0].contains("DESCRIPTION"),
        "{out}"
    );
    assert_eq!(lines[1], format!("{}/team/busybox", reg.addr), "{out}");
    assert_eq!(lines.len(), 2, "{out}");
    let tags = s.ok(&[
        "search",
        "--tls-verify=false",
        "--list-tags",
        "--format",
        "{{.Name}}:{{.Tag}}",
        &format!("{}/team/busybox", reg.addr),
    ]);
    assert_eq!(
        tags,
        format!("{0}/team/busybox:1\n{0}/team/busybox:2\n", reg.addr)
    );
    let json = s.ok(&[
        "search",
        "--tls-verify=false",
        "--format",
        "json",
        &format!("{}/a", reg.addr),
        "--limit",
        "1",
    ]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 1, "{json}");
    assert_eq!(v[0]["Index"], reg.addr.as_str());
    s.fails(
        &[
            "search",
            "--tls-verify=false",
            &format!("{}/team/busybox", reg.addr),
            "--list-tags",
            "--format",
            "{{.Nope",
        ],
        125,
    );
}

#[test]
fn manifest_lists_are_made_annotated_and_pushed_whole() {
    let reg = Registry::start(None);
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        s.ok(&["run", "--name", "c", "busybox", "true"]);
        s.ok(&["commit", "c", "localhost/second"]);
        assert_eq!(
            s.ok(&["manifest", "create", "mylist"]),
            "localhost/mylist:latest\n"
        );
        assert!(s.ok(&["manifest", "exists", "mylist"]).is_empty());
        assert_eq!(
            s.run(&["manifest", "exists", "other"]).status.code(),
            Some(1)
        );
        s.fails(&["manifest", "create", "mylist"], 125);
        let first = s.inspect("localhost/busybox", "{{.Digest}}");
        let second = s.inspect("localhost/second", "{{.Digest}}");
        s.ok(&["manifest", "add", "mylist", "localhost/busybox"]);
        s.ok(&[
            "manifest",
            "add",
            "--arch",
            "arm64",
            "--variant",
            "v8",
            "mylist",
            "localhost/second",
        ]);
        s.ok(&[
            "manifest",
            "annotate",
            "--annotation",
            "team=a",
            "mylist",
            &second,
        ]);
        let index: serde_json::Value =
            serde_json::from_str(&s.ok(&["manifest", "inspect", "mylist"])).unwrap();
        assert_eq!(
            index["mediaType"],
            "application/vnd.oci.image.index.v1+json"
        );
        let m = index["manifests"].as_array().unwrap();
        assert_eq!(m.len(), 2);
        assert_eq!(m[0]["digest"], first.as_str());
        assert_eq!(m[0]["platform"]["architecture"], "amd64");
        assert_eq!(m[1]["platform"]["architecture"], "arm64");
        assert_eq!(m[1]["platform"]["variant"], "v8");
        assert_eq!(m[1]["annotations"]["team"], "a");
        // Pushed whole: the registry serves the index, and each image by its digest.
        let dest = format!("{}/multi/list:{mode:?}", reg.addr).to_lowercase();
        s.ok(&["manifest", "push", "--tls-verify=false", "mylist", &dest]);
        let fresh = Skiff::new(mode);
        let pulled = fresh.run(&["pull", "--tls-verify=false", &dest]);
        assert!(
            pulled.status.success(),
            "{}",
            String::from_utf8_lossy(&pulled.stderr)
        );
        assert_eq!(
            fresh.inspect(&dest, "{{.Digest}}"),
            first,
            "the amd64 entry is what this host pulls"
        );
        let by_digest = format!("{}/multi/list@{second}", reg.addr);
        let pulled = fresh.run(&["pull", "--tls-verify=false", &by_digest]);
        assert!(
            pulled.status.success(),
            "{}",
            String::from_utf8_lossy(&pulled.stderr)
        );
        s.ok(&["manifest", "remove", "mylist", &second]);
        let index: serde_json::Value =
            serde_json::from_str(&s.ok(&["manifest", "inspect", "mylist"])).unwrap();
        assert_eq!(index["manifests"].as_array().unwrap().len(), 1);
        assert_eq!(
            s.ok(&["manifest", "rm", "mylist"]),
            "localhost/mylist:latest\n"
        );
        let err = s.fails(&["manifest", "inspect", "mylist"], 125);
        assert!(err.contains("manifest list not found"), "{err}");
        // The images stay.
        s.ok(&["image", "exists", "localhost/second"]);
    }
}

/// A pod's imagePullSecrets (kubectl's docker-registry Secret) let its kubelet pull
/// from a registry that asks for a password; without them the pull is refused.
#[test]
fn kube_pods_pull_with_their_image_pull_secrets() {
    let reg = Registry::start(Some(("puller", "kube-pw")));
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        let image = format!("{}/private/busybox:{mode:?}", reg.addr).to_lowercase();
        s.ok(&[
            "push",
            "--cert-dir",
            reg.cert_dir(),
            "--creds",
            "puller:kube-pw",
            "busybox",
            &image,
        ]);
        // The kubelet has no --cert-dir: registries.conf marks the registry insecure.
        let conf = registries_conf(
            &s,
            &format!(
                "[[registry]]\nlocation = \"{}\"\ninsecure = true\n",
                reg.addr
            ),
        );
        let secret = Command::new("kubectl")
            .args([
                "create",
                "secret",
                "docker-registry",
                "regcred",
                &format!("--docker-server={}", reg.addr),
                "--docker-username=puller",
                "--docker-password=kube-pw",
                "--dry-run=client",
                "-o",
                "yaml",
            ])
            .output()
            .unwrap();
        assert!(secret.status.success());
        let pod = |name: &str, secrets: &str| {
            format!(
                "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}}}\nspec:\n  terminationGracePeriodSeconds: 1\n{secrets}  containers:\n  - name: main\n    image: {image}\n    imagePullPolicy: Always\n    command: [sleep, \"1000\"]\n---\n"
            )
        };
        let yaml = format!(
            "{}---\n{}{}",
            String::from_utf8_lossy(&secret.stdout),
            pod("with", "  imagePullSecrets: [{name: regcred}]\n"),
            pod("without", "")
        );
        let f = s.share("pull.yaml", yaml.as_bytes());
        let out = with_env(
            &s,
            &["kube", "play", &f.display().to_string()],
            &[("CONTAINERS_REGISTRIES_CONF", &conf)],
        );
        assert_ok(&out);
        let phase = |p: &str| {
            s.kube_pod(p)["status"]["phase"]
                .as_str()
                .unwrap_or("")
                .to_string()
        };
        assert!(
            wait_until(60, || phase("with") == "Running"),
            "{mode:?}: {}",
            s.ok(&["kube", "describe", "pod", "with"])
        );
        assert!(wait_until(60, || {
            s.kube_pod("without")["status"]["containerStatuses"][0]["state"]["waiting"]["reason"]
                .as_str()
                .is_some_and(|r| r == "ErrImagePull" || r == "ImagePullBackOff")
        }));
        s.ok(&["kube", "down", &f.display().to_string()]);
    }
}
