//! Agreement with real peers: podman and skopeo read what skiff writes, and skiff reads
//! what they write, with the same config digests and layer content. Needs root for
//! podman's own storage.

mod common;
use common::*;
use std::process::Command;

struct Podman {
    dir: std::path::PathBuf,
}

impl Podman {
    fn new(tag: &str) -> Podman {
        let dir =
            std::path::PathBuf::from(format!("/tmp/skiff-podman-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        Podman { dir }
    }

    /// podman with its own vfs store; runc, because crun refuses this host's hybrid
    /// cgroups.
    fn base(&self) -> Command {
        let mut c = Command::new("podman");
        c.arg("--root").arg(self.dir.join("root"));
        c.arg("--runroot").arg(self.dir.join("run"));
        c.args(["--storage-driver", "vfs", "--runtime", "runc"]);
        c
    }

    fn cmd(&self, args: &[&str]) -> String {
        let out = self
            .base()
            .args(args)
            .output()
            .expect("podman installed by scripts/setup.sh");
        assert!(
            out.status.success(),
            "podman {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }
}

impl Drop for Podman {
    fn drop(&mut self) {
        let _ = self.base().args(["rmi", "-af"]).output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn skopeo(args: &[&str]) -> String {
    let out = Command::new("skopeo")
        .args(args)
        .output()
        .expect("skopeo installed by scripts/setup.sh");
    assert!(
        out.status.success(),
        "skopeo {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn json(s: &str) -> serde_json::Value {
    serde_json::from_str(s).unwrap()
}

#[test]
fn podman_and_skopeo_read_what_skiff_writes() {
    if !is_root() {
        eprintln!("podman interop needs root for podman's own store; run the suite as root");
        return;
    }
    let s = Skiff::new(Mode::Root);
    s.busybox();
    let id = s
        .ok(&["images", "-q", "--no-trunc"])
        .trim()
        .trim_start_matches("sha256:")
        .to_string();
    let docker = s.save("d.tar", "docker-archive", "busybox");
    let oci = s.save("o.tar", "oci-archive", "busybox");

    let raw = json(&skopeo(&[
        "inspect",
        "--raw",
        &format!("oci-archive:{}", oci.display()),
    ]));
    assert_eq!(raw["config"]["digest"], format!("sha256:{id}"));
    let info = json(&skopeo(&[
        "inspect",
        &format!("docker-archive:{}", docker.display()),
    ]));
    let ours = json(&s.ok(&["inspect", "busybox"]));
    assert_eq!(info["Layers"].as_array().unwrap().len(), 1);

    for archive in [&docker, &oci] {
        let p = Podman::new("w");
        let out = p.cmd(&["load", "-i", archive.to_str().unwrap()]);
        assert!(out.contains("localhost/busybox:latest"), "{out}");
        let pi = json(&p.cmd(&["image", "inspect", "localhost/busybox:latest"]));
        assert_eq!(pi[0]["Id"], id.as_str(), "podman sees the same image ID");
        assert_eq!(pi[0]["RootFS"]["Layers"], ours[0]["RootFS"]["Layers"]);
        let ran = p.cmd(&[
            "run",
            "--rm",
            "--network",
            "none",
            "--ulimit",
            "nofile=1024:1024",
            "--ulimit",
            "nproc=1024:1024",
            "localhost/busybox:latest",
            "sh",
            "-c",
            "echo podman-ran-$((6*7))",
        ]);
        assert_eq!(ran.trim(), "podman-ran-42");
    }
}

#[test]
fn skiff_reads_what_podman_and_skopeo_write() {
    if !is_root() {
        eprintln!("podman interop needs root for podman's own store; run the suite as root");
        return;
    }
    let maker = Skiff::new(Mode::Root);
    maker.busybox();
    let src = maker.dir.join("src.tar");
    maker.ok(&["save", "-o", src.to_str().unwrap(), "busybox"]);
    let p = Podman::new("r");
    p.cmd(&["load", "-i", src.to_str().unwrap()]);
    p.cmd(&["tag", "localhost/busybox:latest", "localhost/frompodman:v1"]);
    let pid = json(&p.cmd(&["image", "inspect", "localhost/frompodman:v1"]))[0]["Id"]
        .as_str()
        .unwrap()
        .to_string();
    let players = json(&p.cmd(&["image", "inspect", "localhost/frompodman:v1"]))[0]["RootFS"]
        ["Layers"]
        .clone();
    let pd = p.dir.join("pd.tar");
    let po = p.dir.join("po.tar");
    std::fs::create_dir_all(&p.dir).unwrap();
    p.cmd(&[
        "save",
        "-o",
        pd.to_str().unwrap(),
        "localhost/frompodman:v1",
    ]);
    p.cmd(&[
        "save",
        "--format",
        "oci-archive",
        "-o",
        po.to_str().unwrap(),
        "localhost/frompodman:v1",
    ]);
    let sk = p.dir.join("sk.tar");
    skopeo(&[
        "copy",
        "-q",
        &format!("docker-archive:{}", pd.display()),
        &format!("oci-archive:{}:localhost/fromskopeo:v2", sk.display()),
    ]);
    for f in [&pd, &po, &sk] {
        nix::sys::stat::fchmodat(
            nix::fcntl::AT_FDCWD,
            f,
            nix::sys::stat::Mode::from_bits_truncate(0o644),
            nix::sys::stat::FchmodatFlags::FollowSymlink,
        )
        .unwrap();
    }
    nix::sys::stat::fchmodat(
        nix::fcntl::AT_FDCWD,
        &p.dir,
        nix::sys::stat::Mode::from_bits_truncate(0o755),
        nix::sys::stat::FchmodatFlags::FollowSymlink,
    )
    .unwrap();

    for m in modes() {
        let s = Skiff::new(m);
        // docker-archive from podman: same image ID.
        let out = s.ok(&["load", "-i", pd.to_str().unwrap()]);
        assert!(out.contains("localhost/frompodman:v1"), "{out}");
        let si = json(&s.ok(&["inspect", "frompodman:v1"]));
        assert_eq!(si[0]["Id"], pid.as_str());
        assert_eq!(si[0]["RootFS"]["Layers"], players);
        // oci-archive from podman and from skopeo: the manifest's config digest.
        for (archive, name) in [(&po, "frompodman:v1"), (&sk, "fromskopeo:v2")] {
            s.ok(&["rmi", "-a", "-f"]);
            let raw = json(&skopeo(&[
                "inspect",
                "--raw",
                &format!("oci-archive:{}", archive.display()),
            ]));
            let out = s.ok(&["load", "-i", archive.to_str().unwrap()]);
            assert!(out.contains(name), "{out}");
            let si = json(&s.ok(&["inspect", name]));
            assert_eq!(
                format!("sha256:{}", si[0]["Id"].as_str().unwrap()),
                raw["config"]["digest"].as_str().unwrap()
            );
            assert_eq!(si[0]["RootFS"]["Layers"], players, "same layer content");
        }
    }
}
