//! Test harness: runs the real skiff binary in its own storage, as the unprivileged
//! test user (rootless) or as root.
#![allow(dead_code)]

pub mod registry;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

pub const BIN: &str = env!("CARGO_BIN_EXE_skiff");
/// A plain Debian user's PATH: no /usr/sbin or /sbin.
pub const PLAIN_PATH: &str = "/usr/local/bin:/usr/bin:/bin";
const RUNUSER: &str = "/usr/sbin/runuser";
static COUNTER: AtomicU32 = AtomicU32::new(0);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Rootless,
    Root,
}

pub fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

pub fn test_user() -> String {
    std::env::var("SKIFF_TEST_USER").unwrap_or_else(|_| "skiff-test".into())
}

fn user_ids(user: &str) -> (u32, u32) {
    let u = nix::unistd::User::from_name(user)
        .ok()
        .flatten()
        .unwrap_or_else(|| panic!("test user {user} missing: run scripts/setup.sh as root"));
    (u.uid.as_raw(), u.gid.as_raw())
}

pub struct Skiff {
    pub mode: Mode,
    pub dir: PathBuf,
}

impl Skiff {
    /// A fresh, isolated store. Rootless when run as root means "as the test user";
    /// when the suite itself runs unprivileged, both modes are the caller.
    pub fn new(mode: Mode) -> Skiff {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir = PathBuf::from(format!("/tmp/skiff-it-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        if mode == Mode::Rootless && is_root() {
            let (uid, gid) = user_ids(&test_user());
            nix::unistd::chown(&dir, Some(uid.into()), Some(gid.into())).unwrap();
        }
        Skiff { mode, dir }
    }

    pub fn root(&self) -> PathBuf {
        self.dir.join("root")
    }

    /// A command that runs `prog` as this store's user, in the environment a plain
    /// login gives: only HOME, PATH (`/usr/local/bin:/usr/bin:/bin`, no sbin, as a
    /// Debian user has) and, rootless, XDG_RUNTIME_DIR. What skiff needs beyond that
    /// it must find by itself.
    pub fn command_for(&self, prog: &str) -> Command {
        let mut c = if self.mode == Mode::Rootless && is_root() {
            let user = test_user();
            let (uid, _) = user_ids(&user);
            let mut c = Command::new(RUNUSER);
            c.env_clear();
            // runuser resets HOME; env sets what the user's session would have.
            c.args(["-u", &user, "--", "/usr/bin/env"]);
            c.arg(format!("XDG_RUNTIME_DIR=/run/user/{uid}"));
            c.args(["HOME=/tmp", &format!("PATH={PLAIN_PATH}"), prog]);
            c
        } else {
            let mut c = Command::new(prog);
            c.env_clear();
            c.env(
                "HOME",
                std::env::var_os("HOME").unwrap_or_else(|| "/root".into()),
            );
            if let Some(x) = std::env::var_os("XDG_RUNTIME_DIR") {
                c.env("XDG_RUNTIME_DIR", x);
            }
            c
        };
        c.env("PATH", PLAIN_PATH);
        c
    }

    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = self.command_for(BIN);
        c.arg("--root")
            .arg(self.root())
            .arg("--runroot")
            .arg(self.dir.join("run"));
        c.args(args);
        c.stdin(Stdio::null());
        // The machine's registries.conf must not send a test's short names anywhere.
        c.env("CONTAINERS_REGISTRIES_CONF", "/dev/null");
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().expect("running skiff")
    }

    /// Runs and expects success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "skiff {args:?} failed ({:?}): {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Runs and expects failure with `code`; returns stderr, which must be one line.
    pub fn fails(&self, args: &[&str], code: i32) -> String {
        let out = self.run(args);
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(
            out.status.code(),
            Some(code),
            "skiff {args:?}: stdout {} stderr {err}",
            String::from_utf8_lossy(&out.stdout)
        );
        // Progress lines of pull and push come before the error, as podman's do.
        let progress = [
            "WARN",
            "Trying to pull",
            "Getting image source",
            "Copying ",
            "Writing manifest",
        ];
        let lines: Vec<&str> = err
            .lines()
            .filter(|l| !progress.iter().any(|p| l.starts_with(p)))
            .collect();
        assert_eq!(lines.len(), 1, "error must be one line: {err:?}");
        assert!(lines[0].starts_with("Error: "), "{err}");
        err
    }

    /// `skiff save` of `image` in `format` to a file in the test's directory.
    pub fn save(&self, file: &str, format: &str, image: &str) -> PathBuf {
        let p = self.dir.join(file);
        self.ok(&["save", "--format", format, "-o", p.to_str().unwrap(), image]);
        p
    }

    /// A file the store's user can read.
    pub fn share(&self, name: &str, data: &[u8]) -> PathBuf {
        let p = self.dir.join(name);
        std::fs::write(&p, data).unwrap();
        p
    }

    /// A store with localhost/busybox:latest in it.
    pub fn with_busybox(mode: Mode) -> Skiff {
        let s = Skiff::new(mode);
        s.busybox();
        s
    }

    /// Starts skiff in the background with piped stdio.
    pub fn spawn(&self, args: &[&str]) -> std::process::Child {
        let mut c = self.cmd(args);
        c.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        c.spawn().expect("spawning skiff")
    }

    /// The shell command line that runs skiff with `args` as this store's user.
    pub fn shell_line(&self, args: &[&str]) -> String {
        let c = self.cmd(args);
        std::iter::once(c.get_program())
            .chain(c.get_args())
            .map(|a| format!("'{}'", a.to_string_lossy().replace('\'', "'\\''")))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The shell command line of skiff with `args` on this store, for a shell that
    /// already runs as the store's user (inside `command_for("sh")` or `unshare`).
    pub fn inner_line(&self, args: &[&str]) -> String {
        let root = self.root();
        let run = self.dir.join("run");
        [
            BIN,
            "--root",
            root.to_str().unwrap(),
            "--runroot",
            run.to_str().unwrap(),
        ]
        .iter()
        .chain(args.iter())
        .map(|a| format!("'{}'", a.replace('\'', "'\\''")))
        .collect::<Vec<_>>()
        .join(" ")
    }

    /// One field of `inspect`, through a Go template.
    /// `kube get pod NAME -o json`, parsed.
    pub fn kube_pod(&self, name: &str) -> serde_json::Value {
        serde_json::from_str(&self.ok(&["kube", "get", "pod", name, "-o", "json"])).unwrap()
    }

    /// A container's cgroup directory for a v1 `controller`, below this test's cgroup
    /// (where skiff makes it).
    pub fn cgroup_dir(&self, container: &str, controller: &str) -> PathBuf {
        let id = self.inspect(container, "{{.Id}}");
        let own = std::fs::read_to_string("/proc/self/cgroup").unwrap();
        let rel = own
            .lines()
            .find_map(|l| {
                let mut f = l.splitn(3, ':');
                let (_, list, path) = (f.next()?, f.next()?, f.next()?);
                list.split(',')
                    .any(|c| c == controller)
                    .then(|| path.trim_start_matches('/').to_string())
            })
            .unwrap();
        PathBuf::from("/sys/fs/cgroup")
            .join(controller)
            .join(rel)
            .join(format!("skiff-{id}"))
    }

    pub fn inspect(&self, name: &str, template: &str) -> String {
        self.ok(&["inspect", "--format", template, name])
            .trim()
            .to_string()
    }

    /// Runs a container to completion and returns (exit code, stdout, stderr).
    pub fn run_ctr(&self, args: &[&str]) -> (i32, String, String) {
        let mut full = vec!["run", "--rm"];
        full.extend_from_slice(args);
        let out = self.run(&full);
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// Directory entries under the storage and runtime roots that belong to containers.
    pub fn container_leftovers(&self) -> Vec<String> {
        let mut out = Vec::new();
        for d in [
            self.root().join("containers"),
            self.dir.join("run/c"),
            self.root().join("tmp"),
        ] {
            if let Ok(entries) = std::fs::read_dir(&d) {
                out.extend(entries.flatten().map(|e| e.path().display().to_string()));
            }
        }
        out
    }

    /// Makes localhost/busybox:latest with the project's script.
    pub fn busybox(&self) {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/mkimage-busybox.sh");
        let mut c = self.command_for(script);
        c.arg(BIN)
            .arg("--root")
            .arg(self.root())
            .arg("--runroot")
            .arg(self.dir.join("run"));
        let out = c.output().unwrap();
        assert!(
            out.status.success(),
            "mkimage-busybox: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// A snapshot of everything stored: names of files and their sizes.
    pub fn snapshot(&self) -> Vec<String> {
        let mut out = Vec::new();
        walk(&self.root(), &self.root(), &mut out);
        out.retain(|p| !p.starts_with("tmp/") && p != "storage.lock");
        out.sort();
        out
    }

    /// The diff directory of the store's single layer.
    pub fn only_layer(&self) -> PathBuf {
        let mut layers: Vec<PathBuf> = std::fs::read_dir(self.root().join("layers"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert_eq!(layers.len(), 1, "expected one layer: {layers:?}");
        layers.pop().unwrap().join("diff")
    }

    pub fn image_ids(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .ok(&["images", "-q", "--no-trunc"])
            .lines()
            .map(String::from)
            .collect();
        v.sort();
        v
    }
}

fn walk(base: &Path, p: &Path, out: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(p) else {
        return;
    };
    for e in entries.flatten() {
        let path = e.path();
        let rel = path.strip_prefix(base).unwrap().display().to_string();
        let meta = std::fs::symlink_metadata(&path).unwrap();
        if meta.is_dir() {
            out.push(format!("{rel}/"));
            walk(base, &path, out);
        } else {
            out.push(format!("{rel} {}", meta.len()));
        }
    }
}

impl Drop for Skiff {
    fn drop(&mut self) {
        // Containers a test left running must not outlive it, nor the kubelets that
        // would start them again (processes the test started, ended by pid).
        if let Ok(owners) = std::fs::read_dir(self.dir.join("run/kube/owners")) {
            for e in owners.flatten() {
                if e.path().extension().is_some_and(|x| x == "pid") {
                    let pid = std::fs::read_to_string(e.path())
                        .ok()
                        .and_then(|t| t.split_whitespace().next()?.parse::<i32>().ok());
                    if let Some(pid) = pid.filter(|p| *p > 1) {
                        let _ = nix::sys::signal::kill(
                            nix::unistd::Pid::from_raw(pid),
                            nix::sys::signal::Signal::SIGKILL,
                        );
                    }
                }
            }
        }
        if self.root().join("pods").exists() {
            let _ = self
                .cmd(&["pod", "rm", "-a", "-f", "-t", "0", "--ignore"])
                .output();
        }
        if self.root().join("containers").exists() {
            let _ = self.cmd(&["rm", "-a", "-f"]).output();
        }
        if std::fs::remove_dir_all(&self.dir).is_err() {
            // Rootless layers hold files of subordinate ids: remove them from inside.
            let _ = self
                .command_for(BIN)
                .args(["unshare", "rm", "-rf"])
                .arg(&self.dir)
                .status();
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// Both modes when the suite runs as root; otherwise only what the caller can do.
pub fn modes() -> Vec<Mode> {
    if is_root() {
        vec![Mode::Rootless, Mode::Root]
    } else {
        vec![Mode::Rootless]
    }
}

/// A tar archive built entry by entry, including entries no well-behaved tool writes.
pub struct TarBuilder {
    data: Vec<u8>,
}

pub enum Kind<'a> {
    File(&'a [u8]),
    Dir,
    Symlink(&'a str),
    Hardlink(&'a str),
    Char(u32, u32),
}

impl TarBuilder {
    pub fn new() -> Self {
        TarBuilder { data: Vec::new() }
    }

    /// Adds an entry with the raw `name`, bypassing the tar crate's path checks.
    pub fn entry(mut self, name: &str, kind: Kind<'_>, uid: u64) -> Self {
        let mut h = tar::Header::new_gnu();
        let (ty, body, mode): (tar::EntryType, &[u8], u32) = match &kind {
            Kind::File(b) => (tar::EntryType::Regular, b, 0o644),
            Kind::Dir => (tar::EntryType::Directory, &[], 0o755),
            Kind::Symlink(_) => (tar::EntryType::Symlink, &[], 0o777),
            Kind::Hardlink(_) => (tar::EntryType::Link, &[], 0o644),
            Kind::Char(_, _) => (tar::EntryType::Char, &[], 0o666),
        };
        h.set_entry_type(ty);
        h.set_size(body.len() as u64);
        h.set_mode(mode);
        h.set_uid(uid);
        h.set_gid(uid);
        h.set_mtime(1_700_000_000);
        let raw = h.as_old_mut();
        raw.name[..name.len()].copy_from_slice(name.as_bytes());
        if let Kind::Symlink(t) | Kind::Hardlink(t) = &kind {
            raw.linkname[..t.len()].copy_from_slice(t.as_bytes());
        }
        if let Kind::Char(maj, min) = kind {
            h.set_device_major(maj).unwrap();
            h.set_device_minor(min).unwrap();
        }
        h.set_cksum();
        self.data.extend_from_slice(h.as_bytes());
        self.data.extend_from_slice(body);
        let pad = (512 - body.len() % 512) % 512;
        self.data.extend(std::iter::repeat_n(0u8, pad));
        self
    }

    pub fn finish(mut self) -> Vec<u8> {
        self.data.extend(std::iter::repeat_n(0u8, 1024));
        self.data
    }
}

/// Reads the members of a tar file into (name, bytes).
pub fn tar_members(path: &Path) -> Vec<(String, Vec<u8>)> {
    use std::io::Read;
    let mut a = tar::Archive::new(std::fs::File::open(path).unwrap());
    let mut out = Vec::new();
    for e in a.entries().unwrap() {
        let mut e = e.unwrap();
        let name = e.path().unwrap().display().to_string();
        let mut data = Vec::new();
        e.read_to_end(&mut data).unwrap();
        out.push((name, data));
    }
    out
}

pub fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Runs another program (skopeo, podman, openssl…) and expects success.
pub fn run_ok(c: &mut Command) -> Output {
    let out = c.output().expect("running a helper program");
    assert!(
        out.status.success(),
        "{:?} failed: {}",
        c.get_program(),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Polls `f` until it is true or `secs` pass; true if it became true.
pub fn wait_until(secs: u64, mut f: impl FnMut() -> bool) -> bool {
    let end = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    while std::time::Instant::now() < end {
        if f() {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    f()
}

/// True when a process with this pid exists and is not a zombie.
pub fn process_alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| {
            let state = s
                .rsplit_once(')')
                .map(|(_, r)| r.trim_start().chars().next());
            state != Some(Some('Z'))
        })
        .unwrap_or(false)
}

/// A TCP port on 127.0.0.1 that nothing listens on now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A directory in the test's directory that the store's user may write.
pub fn host_dir(s: &Skiff, name: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let d = s.dir.join(name);
    std::fs::create_dir_all(&d).unwrap();
    std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o777)).unwrap();
    d
}

/// Processes running `program` whose command line names this store's runtime root:
/// the helpers (slirp4netns, pasta) serving its containers.
pub fn helpers_of(s: &Skiff, program: &str) -> Vec<i32> {
    let marker = s.dir.join("run").display().to_string();
    let prefix = format!("{program} ");
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .map(|c| {
                    let c = String::from_utf8_lossy(&c).replace('\0', " ");
                    // Helpers run by their full path (/usr/bin/slirp4netns): compare
                    // the program's base name.
                    let (argv0, rest) = c.split_once(' ').unwrap_or((&c, ""));
                    let base = argv0.rsplit('/').next().unwrap_or(argv0);
                    format!("{base} {rest}").starts_with(&prefix) && c.contains(&marker)
                })
                .unwrap_or(false)
        })
        .collect()
}

/// GET / from 127.0.0.1:port, retried while the server starts; the body.
pub fn http_get(port: u16) -> Option<String> {
    http_get_path(port, "/")
}

/// The body of `GET path` on 127.0.0.1:port, retried for up to 10 s.
pub fn http_get_path(port: u16, path: &str) -> Option<String> {
    use std::io::{Read, Write};
    let mut body = None;
    wait_until(10, || {
        let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
            return false;
        };
        let _ = s.set_read_timeout(Some(std::time::Duration::from_secs(5)));
        let request = format!("GET {path} HTTP/1.0\r\nHost: x\r\n\r\n");
        if s.write_all(request.as_bytes()).is_err() {
            return false;
        }
        let mut out = String::new();
        if s.read_to_string(&mut out).is_err() || !out.contains("200 OK") {
            return false;
        }
        // CGI scripts end their headers with a bare newline.
        body = out
            .split_once("\r\n\r\n")
            .or_else(|| out.split_once("\n\n"))
            .map(|(_, b)| b.to_string());
        true
    });
    body
}

/// A busybox httpd serving "hello from HOSTNAME" on port 80, as a container command.
pub const WEB: &str = "mkdir -p /www && echo \"hello from $(hostname)\" > /www/index.html && exec httpd -f -p 80 -h /www";

/// Expects a finished command to have succeeded; its stderr says why not.
pub fn assert_ok(out: &Output) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Waits for every spawned skiff and expects each to have succeeded.
pub fn wait_all_ok(children: Vec<std::process::Child>) {
    for c in children {
        assert_ok(&c.wait_with_output().unwrap());
    }
}

/// Signals a spawned skiff (`Skiff::spawn`) and, rootless, the skiff under its
/// runuser, then kills and reaps the spawned process.
pub fn kill_spawned(child: &mut std::process::Child, signal: nix::sys::signal::Signal) {
    let kids = std::fs::read_to_string(format!("/proc/{0}/task/{0}/children", child.id()))
        .unwrap_or_default();
    for pid in kids
        .split_whitespace()
        .filter_map(|p| p.parse::<i32>().ok())
    {
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), signal);
    }
    let _ = child.kill();
    let _ = child.wait();
}
