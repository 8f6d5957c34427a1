//! A docker-registry of the test's own on 127.0.0.1 (plain HTTP, or TLS with
//! htpasswd), for the tests that pull and push.

use super::{free_port, run_ok, wait_until};
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

pub fn world_readable(p: &Path) {
    let mode = if p.is_dir() { 0o755 } else { 0o644 };
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// docker-registry serving on 127.0.0.1, stopped (by pid) when dropped.
pub struct Registry {
    pub addr: String,
    child: Child,
    pub dir: PathBuf,
    /// The CA a client needs (TLS registries).
    pub cert_dir: Option<PathBuf>,
}

impl Registry {
    pub fn start(tls_auth: Option<(&str, &str)>) -> Registry {
        let port = free_port();
        let addr = format!("127.0.0.1:{port}");
        let dir = PathBuf::from(format!("/tmp/skiff-reg-{}-{port}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("certs")).unwrap();
        let mut extra = String::new();
        let mut cert_dir = None;
        if let Some((user, pass)) = tls_auth {
            run_ok(
                Command::new("openssl")
                    .args([
                        "req",
                        "-x509",
                        "-newkey",
                        "rsa:2048",
                        "-nodes",
                        "-days",
                        "2",
                        "-subj",
                        "/CN=127.0.0.1",
                    ])
                    .args(["-addext", "subjectAltName=IP:127.0.0.1"])
                    .arg("-keyout")
                    .arg(dir.join("key.pem"))
                    .arg("-out")
                    .arg(dir.join("certs/ca.crt")),
            );
            let hash = Command::new("htpasswd")
                .args(["-Bbn", user, pass])
                .output()
                .unwrap();
            std::fs::write(dir.join("htpasswd"), hash.stdout).unwrap();
            extra = format!(
                "  tls:\n    certificate: {d}/certs/ca.crt\n    key: {d}/key.pem\nauth:\n  htpasswd:\n    realm: skiff-test\n    path: {d}/htpasswd\n",
                d = dir.display()
            );
            world_readable(&dir.join("certs"));
            world_readable(&dir.join("certs/ca.crt"));
            cert_dir = Some(dir.join("certs"));
        }
        world_readable(&dir);
        let config = format!(
            "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}/data\n  delete:\n    enabled: true\nhttp:\n  addr: {addr}\n{extra}",
            dir.display()
        );
        std::fs::write(dir.join("config.yml"), config).unwrap();
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(dir.join("config.yml"))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("log")).unwrap())
            .spawn()
            .expect("docker-registry (scripts/setup.sh installs it)");
        assert!(
            wait_until(15, || TcpStream::connect(&addr).is_ok()),
            "docker-registry did not start"
        );
        Registry {
            addr,
            child,
            dir,
            cert_dir,
        }
    }

    pub fn cert_dir(&self) -> &str {
        self.cert_dir.as_ref().unwrap().to_str().unwrap()
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
