//! The image store through the real binary, rootless and as root.

mod common;
use common::*;
use std::collections::HashMap;

#[test]
fn empty_store_prints_header() {
    for m in modes() {
        let s = Skiff::new(m);
        let out = s.ok(&["images"]);
        assert_eq!(
            out.trim_end(),
            "REPOSITORY  TAG         IMAGE ID    CREATED     SIZE"
        );
        assert_eq!(s.ok(&["images", "-q"]), "");
        assert_eq!(s.ok(&["images", "--format", "json"]).trim(), "[]");
    }
}

#[test]
fn default_image_lists_inspects_and_formats() {
    for m in modes() {
        let s = Skiff::new(m);
        s.busybox();
        let out = s.ok(&["images"]);
        assert!(out.contains("localhost/busybox  latest"), "{out}");
        let id = s.ok(&["images", "-q", "--no-trunc"]);
        assert!(id.starts_with("sha256:") && id.trim().len() == 71, "{id}");
        assert_eq!(
            s.ok(&["images", "--format", "{{.Repository}}:{{.Tag}}"]),
            "localhost/busybox:latest\n"
        );
        let table = s.ok(&["images", "--format", "table {{.ID}}\t{{.Repository}}"]);
        assert!(table.starts_with("IMAGE ID"), "{table}");
        let json: serde_json::Value =
            serde_json::from_str(&s.ok(&["images", "--format", "json"])).unwrap();
        assert_eq!(json[0]["Names"][0], "localhost/busybox:latest");
        assert_eq!(
            format!("sha256:{}", json[0]["Id"].as_str().unwrap()),
            id.trim()
        );
        let insp: serde_json::Value =
            serde_json::from_str(&s.ok(&["image", "inspect", "busybox"])).unwrap();
        assert_eq!(insp[0]["Config"]["Cmd"][0], "sh");
        assert_eq!(insp[0]["RootFS"]["Layers"].as_array().unwrap().len(), 1);
        assert_eq!(
            s.ok(&[
                "inspect",
                "--format",
                "{{.Os}}/{{.Architecture}}",
                "busybox"
            ])
            .trim(),
            "linux/amd64"
        );
        let digests = s.ok(&["images", "--digests"]);
        assert!(
            digests.contains("DIGEST") && digests.contains("sha256:"),
            "{digests}"
        );
        let hist = s.ok(&["history", "busybox"]);
        assert!(hist.contains("busybox from the host"), "{hist}");
        assert!(
            s.ok(&["info", "--format", "{{.store.graphDriverName}}"])
                .trim()
                .len()
                > 2
        );
        let rootless = s.ok(&["info", "--format", "{{.host.security.rootless}}"]);
        assert_eq!(rootless.trim() == "true", m == Mode::Rootless || !is_root());
    }
}

#[test]
fn tag_and_rmi_semantics() {
    for m in modes() {
        let s = Skiff::new(m);
        s.busybox();
        s.ok(&["tag", "busybox", "other:1", "127.0.0.1:5000/x/y:z"]);
        let names = s.ok(&["images", "--format", "{{.Repository}}:{{.Tag}}"]);
        for n in [
            "localhost/busybox:latest",
            "localhost/other:1",
            "127.0.0.1:5000/x/y:z",
        ] {
            assert!(names.contains(n), "{names}");
        }
        assert_eq!(s.image_ids().len(), 1);
        // Removing one of several names only untags.
        assert_eq!(s.ok(&["rmi", "other:1"]), "Untagged: localhost/other:1\n");
        assert_eq!(s.image_ids().len(), 1);
        s.fails(&["rmi", "nothere"], 1);
        s.fails(&["tag", "busybox", "Bad Name"], 125);
        s.fails(&["tag", "nothere", "x"], 125);
        // Removing by ID removes every name and the layers.
        let id = s.image_ids()[0].clone();
        let out = s.ok(&["rmi", &id]);
        assert!(
            out.contains("Deleted: ") && out.contains("Untagged: localhost/busybox:latest"),
            "{out}"
        );
        assert!(s.image_ids().is_empty());
        let left: Vec<String> = s
            .snapshot()
            .into_iter()
            .filter(|p| {
                (p.starts_with("layers/") && p != "layers/")
                    || (p.starts_with("blobs/sha256/") && p != "blobs/sha256/")
            })
            .collect();
        assert!(left.is_empty(), "left behind: {left:?}");
        // rmi -i ignores unknown images.
        s.ok(&["rmi", "-i", "nothere"]);
    }
}

#[test]
fn prune_removes_dangling_only() {
    for m in modes() {
        let s = Skiff::new(m);
        s.busybox();
        let tar = TarBuilder::new().entry("a", Kind::File(b"a"), 0).finish();
        let p = s.share("a.tar", &tar);
        s.ok(&["import", p.to_str().unwrap()]); // no name: dangling
        assert_eq!(s.image_ids().len(), 2);
        assert!(s.ok(&["images"]).contains("<none>"));
        let pruned = s.ok(&["image", "prune", "-f"]);
        assert_eq!(pruned.lines().count(), 1, "{pruned}");
        assert_eq!(s.image_ids().len(), 1);
        s.ok(&["image", "prune", "-a", "-f"]);
        assert!(s.image_ids().is_empty());
    }
}

fn layer_blobs(archive: &std::path::Path) -> HashMap<String, String> {
    tar_members(archive)
        .into_iter()
        .filter(|(n, _)| n.ends_with(".tar"))
        .map(|(n, d)| (n, sha256_hex(&d)))
        .collect()
}

#[test]
fn save_load_round_trip_is_byte_identical() {
    for m in modes() {
        let a = Skiff::new(m);
        a.busybox();
        let id = a.image_ids();
        let first = a.save("one.tar", "docker-archive", "busybox");
        let oci = a.save("one-oci.tar", "oci-archive", "busybox");

        let b = Skiff::new(m);
        std::fs::copy(&first, b.dir.join("in.tar")).unwrap();
        let out = b.ok(&["load", "-i", b.dir.join("in.tar").to_str().unwrap()]);
        assert_eq!(out, "Loaded image: localhost/busybox:latest\n");
        assert_eq!(
            b.image_ids(),
            id,
            "image ID (config digest) survives the round trip"
        );
        let second = b.dir.join("two.tar");
        b.ok(&["save", "-o", second.to_str().unwrap(), "busybox"]);
        assert_eq!(layer_blobs(&first), layer_blobs(&second));
        assert!(!layer_blobs(&first).is_empty());

        let c = Skiff::new(m);
        std::fs::copy(&oci, c.dir.join("in.tar")).unwrap();
        c.ok(&["load", "-i", c.dir.join("in.tar").to_str().unwrap()]);
        assert_eq!(c.image_ids(), id);
        let oci2 = c.dir.join("two-oci.tar");
        c.ok(&[
            "save",
            "--format",
            "oci-archive",
            "-o",
            oci2.to_str().unwrap(),
            "busybox",
        ]);
        let blobs = |p: &std::path::Path| -> Vec<(String, String)> {
            let mut v: Vec<_> = tar_members(p)
                .into_iter()
                .map(|(n, d)| (n, sha256_hex(&d)))
                .collect();
            v.sort();
            v
        };
        assert_eq!(
            blobs(&oci),
            blobs(&oci2),
            "oci-archive round trip keeps every blob"
        );

        // Standard input works too, and several images go into one docker-archive.
        let d = Skiff::new(m);
        let mut cmd = d.cmd(&["load"]);
        cmd.stdin(std::fs::File::open(&first).unwrap());
        assert!(cmd.output().unwrap().status.success());
        d.ok(&["tag", "busybox", "second"]);
        let multi = d.dir.join("multi.tar");
        d.ok(&["save", "-o", multi.to_str().unwrap(), "busybox", "second"]);
        let manifest: serde_json::Value = serde_json::from_slice(
            &tar_members(&multi)
                .into_iter()
                .find(|(n, _)| n == "manifest.json")
                .unwrap()
                .1,
        )
        .unwrap();
        assert_eq!(manifest.as_array().unwrap().len(), 2);
    }
}

#[test]
fn import_applies_changes_and_rejects_bad_ones() {
    for m in modes() {
        let s = Skiff::new(m);
        let tar = TarBuilder::new()
            .entry("bin/", Kind::Dir, 0)
            .entry("bin/x", Kind::File(b"x"), 0)
            .finish();
        let p = s.share("r.tar", &tar);
        let before = s.snapshot();
        s.fails(
            &["import", "--change", "FROB x", p.to_str().unwrap(), "bad"],
            125,
        );
        s.fails(
            &[
                "import",
                "--change",
                "EXPOSE nope",
                p.to_str().unwrap(),
                "bad",
            ],
            125,
        );
        assert_eq!(s.snapshot(), before, "a refused import stores nothing");
        s.ok(&[
            "import",
            "-c",
            "ENTRYPOINT [\"/bin/x\"]",
            "-c",
            "ENV A=1",
            "-c",
            "WORKDIR /srv",
            "-c",
            "USER 1:1",
            "-c",
            "EXPOSE 8080",
            "-c",
            "LABEL k=v",
            "-c",
            "CMD=run",
            p.to_str().unwrap(),
            "imp:v1",
        ]);
        let cfg: serde_json::Value =
            serde_json::from_str(&s.ok(&["inspect", "--format", "{{json .Config}}", "imp:v1"]))
                .unwrap();
        assert_eq!(cfg["Entrypoint"], serde_json::json!(["/bin/x"]));
        assert_eq!(cfg["Env"], serde_json::json!(["A=1"]));
        assert_eq!(cfg["WorkingDir"], "/srv");
        assert_eq!(cfg["User"], "1:1");
        assert!(cfg["ExposedPorts"]["8080/tcp"].is_object());
        assert_eq!(cfg["Labels"]["k"], "v");
    }
}

#[test]
fn bad_input_is_one_line_exit_125() {
    let s = Skiff::new(Mode::Rootless);
    s.fails(&["frobnicate"], 125);
    s.fails(&["images", "--filter", "nonsense"], 125);
    s.fails(&["images", "--format", "{{.ID"], 125);
    s.fails(&["inspect", "nothere"], 125);
    s.fails(&["save", "-o", "/tmp/x.tar", "nothere"], 125);
    s.fails(
        &["save", "--format", "zip", "-o", "/tmp/x.tar", "nothere"],
        125,
    );
    s.fails(&["load", "-i", "/nonexistent.tar"], 125);
    // podman's code for an unknown log level.
    s.fails(&["--log-level", "loud", "images"], 1);
    s.fails(&["history", "nothere"], 125);
}
