//! Hostile and broken input: layer entries that try to escape, archives that lie about
//! their digests or end early. Each is refused (or neutralised) and the store is left
//! exactly as it was.

mod common;
use common::*;

fn import_fails(s: &Skiff, tar: Vec<u8>, needle: &str) {
    let p = s.share("evil.tar", &tar);
    let before = s.snapshot();
    let err = s.fails(&["import", p.to_str().unwrap(), "evil"], 125);
    assert!(err.contains(needle), "{err}");
    assert_eq!(s.snapshot(), before, "refused import left something behind");
}

#[test]
fn dotdot_entries_are_refused() {
    for m in modes() {
        let s = Skiff::new(m);
        s.busybox();
        let marker = s.dir.join("escaped");
        let tar = TarBuilder::new()
            .entry("ok", Kind::File(b"x"), 0)
            .entry("../../../escaped", Kind::File(b"boom"), 0)
            .finish();
        import_fails(&s, tar, "'..'");
        assert!(!marker.exists());
    }
}

#[test]
fn symlinked_parents_are_refused() {
    for m in modes() {
        let s = Skiff::new(m);
        s.busybox();
        let outside = s.dir.join("outside");
        std::fs::create_dir_all(&outside).unwrap();
        let tar = TarBuilder::new()
            .entry("link", Kind::Symlink(outside.to_str().unwrap()), 0)
            .entry("link/planted", Kind::File(b"boom"), 0)
            .finish();
        import_fails(&s, tar, "symlink");
        assert!(!outside.join("planted").exists());
        // Relative symlinks that climb out are no better.
        let tar = TarBuilder::new()
            .entry("d/", Kind::Dir, 0)
            .entry("d/up", Kind::Symlink("../../../../../../../../tmp"), 0)
            .entry("d/up/skiff-planted", Kind::File(b"boom"), 0)
            .finish();
        import_fails(&s, tar, "symlink");
        assert!(!std::path::Path::new("/tmp/skiff-planted").exists());
    }
}

#[test]
fn hardlinks_outside_are_refused() {
    for m in modes() {
        let s = Skiff::new(m);
        s.busybox();
        let tar = TarBuilder::new()
            .entry("passwd", Kind::Hardlink("../../../../etc/passwd"), 0)
            .finish();
        import_fails(&s, tar, "'..'");
        // An absolute target is taken inside the layer, where it does not exist.
        let tar = TarBuilder::new()
            .entry("passwd", Kind::Hardlink("/etc/passwd"), 0)
            .finish();
        let p = s.share("evil2.tar", &tar);
        let before = s.snapshot();
        s.fails(&["import", p.to_str().unwrap(), "evil"], 125);
        assert_eq!(s.snapshot(), before);
        // Through a symlinked directory: refused as well.
        let tar = TarBuilder::new()
            .entry("etc", Kind::Symlink("/etc"), 0)
            .entry("pw", Kind::Hardlink("etc/passwd"), 0)
            .finish();
        import_fails(&s, tar, "symlink");
    }
}

#[test]
fn absolute_paths_land_inside_the_layer() {
    for m in modes() {
        let s = Skiff::new(m);
        let name = format!("/tmp/skiff-abs-{}", std::process::id());
        let tar = TarBuilder::new()
            .entry(&name, Kind::File(b"inside"), 0)
            .finish();
        let p = s.share("abs.tar", &tar);
        s.ok(&["import", p.to_str().unwrap(), "abs"]);
        assert!(
            !std::path::Path::new(&name).exists(),
            "absolute entry written to the host"
        );
        let inside = s.only_layer().join(name.trim_start_matches('/'));
        assert_eq!(std::fs::read(&inside).unwrap(), b"inside");
    }
}

#[test]
fn device_nodes_need_privilege() {
    for m in modes() {
        let s = Skiff::new(m);
        let tar = TarBuilder::new()
            .entry("dev/", Kind::Dir, 0)
            .entry("dev/mem", Kind::Char(1, 1), 0)
            .entry("f", Kind::File(b"f"), 0)
            .finish();
        let p = s.share("dev.tar", &tar);
        s.ok(&["import", p.to_str().unwrap(), "dev"]);
        let layer = s.only_layer();
        let dev = layer.join("dev/mem");
        use std::os::unix::fs::FileTypeExt;
        if m == Mode::Root && is_root() {
            assert!(std::fs::symlink_metadata(&dev)
                .unwrap()
                .file_type()
                .is_char_device());
        } else {
            assert!(!dev.exists(), "a rootless store cannot hold device nodes");
        }
        assert!(layer.join("f").exists());
    }
}

#[test]
fn whiteouts_become_overlay_whiteouts() {
    for m in modes() {
        let s = Skiff::new(m);
        let tar = TarBuilder::new()
            .entry("d/", Kind::Dir, 0)
            .entry("d/.wh..wh..opq", Kind::File(b""), 0)
            .entry("d/.wh.gone", Kind::File(b""), 0)
            .finish();
        let p = s.share("wh.tar", &tar);
        s.ok(&["import", p.to_str().unwrap(), "wh"]);
        let layer = s.only_layer();
        use std::os::unix::fs::{FileTypeExt, MetadataExt};
        let gone = std::fs::symlink_metadata(layer.join("d/gone")).unwrap();
        assert!(
            gone.file_type().is_char_device() && gone.rdev() == 0,
            "whiteout is a 0/0 char device"
        );
        assert!(!layer.join("d/.wh.gone").exists());
        assert_eq!(
            xattr::get(layer.join("d"), "user.overlay.opaque")
                .unwrap()
                .as_deref(),
            Some(&b"y"[..])
        );
    }
}

/// A docker-archive with one layer, made by skiff itself from the default image.
fn saved_busybox(s: &Skiff) -> Vec<u8> {
    s.busybox();
    let p = s.dir.join("bb.tar");
    s.ok(&["save", "-o", p.to_str().unwrap(), "busybox"]);
    s.ok(&["rmi", "busybox"]);
    std::fs::read(p).unwrap()
}

#[test]
fn truncated_and_corrupted_archives_are_refused() {
    for m in modes() {
        let s = Skiff::new(m);
        let good = saved_busybox(&s);
        // Keep another image in the store to see that nothing of it changes either.
        let tar = TarBuilder::new()
            .entry("keep", Kind::File(b"keep"), 0)
            .finish();
        let p = s.share("keep.tar", &tar);
        s.ok(&["import", p.to_str().unwrap(), "keep"]);
        let before = s.snapshot();
        for (what, data) in [
            ("truncated", good[..good.len() / 2].to_vec()),
            ("empty", vec![]),
            ("garbage", b"not an archive at all".repeat(100)),
            ("corrupted", {
                // Flip bytes inside the layer's file data: the diff-id no longer matches.
                let mut d = good.clone();
                let at = d
                    .windows(8)
                    .position(|w| w == b"\x7fELF\x02\x01\x01\x00")
                    .expect("busybox ELF in layer");
                d[at + 4096] ^= 0xff;
                d
            }),
        ] {
            let p = s.share("bad.tar", &data);
            let err = s.fails(&["load", "-i", p.to_str().unwrap()], 125);
            if what == "corrupted" {
                assert!(err.contains("digest mismatch"), "{err}");
            }
            assert_eq!(s.snapshot(), before, "{what} archive changed the store");
        }
        // The good one still loads afterwards.
        let p = s.share("good.tar", &good);
        s.ok(&["load", "-i", p.to_str().unwrap()]);
        assert_eq!(s.image_ids().len(), 2);
    }
}

#[test]
fn config_digest_mismatch_is_refused() {
    let s = Skiff::new(Mode::Rootless);
    let good = saved_busybox(&s);
    // Rewrite the config member's content but keep its digest-derived name.
    let src = s.share("good.tar", &good);
    let members = tar_members(&src);
    let mut b = tar::Builder::new(Vec::new());
    for (name, mut data) in members {
        if name.ends_with(".json") && name != "manifest.json" {
            let text = String::from_utf8(data)
                .unwrap()
                .replace("\"os\":\"linux\"", "\"os\":\"LINUX\"");
            data = text.into_bytes();
        }
        let mut h = tar::Header::new_ustar();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, &name, &data[..]).unwrap();
    }
    let p = s.share("lying.tar", &b.into_inner().unwrap());
    let err = s.fails(&["load", "-i", p.to_str().unwrap()], 125);
    assert!(err.contains("digest mismatch"), "{err}");
    assert!(s.image_ids().is_empty());
}

#[test]
fn concurrent_loads_keep_the_store_consistent() {
    for m in modes() {
        let s = Skiff::new(m);
        let good = saved_busybox(&s);
        let p = s.share("bb.tar", &good);
        let other = TarBuilder::new().entry("x", Kind::File(b"x"), 0).finish();
        let q = s.share("x.tar", &other);
        let mut children = Vec::new();
        for i in 0..8 {
            let mut c = if i % 2 == 0 {
                s.cmd(&["load", "-i", p.to_str().unwrap()])
            } else {
                s.cmd(&["import", q.to_str().unwrap(), &format!("x{i}")])
            };
            c.stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped());
            children.push(c.spawn().unwrap());
        }
        wait_all_ok(children);
        let names = s.ok(&["images", "--format", "{{.Repository}}:{{.Tag}}"]);
        for n in [
            "localhost/busybox:latest",
            "localhost/x1:latest",
            "localhost/x3:latest",
            "localhost/x5:latest",
            "localhost/x7:latest",
        ] {
            assert!(names.contains(n), "{names}");
        }
        // Four imports are four images (each has its own creation time) sharing one layer.
        assert_eq!(s.image_ids().len(), 5);
        assert_eq!(
            std::fs::read_dir(s.root().join("layers")).unwrap().count(),
            2
        );
        assert_eq!(
            std::fs::read_dir(s.root().join("tmp")).unwrap().count(),
            0,
            "staging left behind"
        );
    }
}
