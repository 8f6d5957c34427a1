//! Graph drivers, commit, diff, export, cp and mount through the real binary, rootless
//! and as root.

mod common;
use common::*;
use std::collections::BTreeMap;
use std::io::Read;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

const DRIVERS: [&str; 3] = ["overlay", "fuse-overlayfs", "vfs"];

/// `cap_net_bind_service=ep` as a version-2 security.capability value.
fn file_caps() -> Vec<u8> {
    let mut v = vec![0x01, 0x00, 0x00, 0x02]; // revision 2, effective bit set
    v.extend(1u32.wrapping_shl(10).to_le_bytes()); // permitted
    v.extend(0u32.to_le_bytes()); // inheritable
    v.extend([0u8; 8]); // the upper 32 capabilities
    v
}

fn pax_record(key: &str, value: &[u8]) -> Vec<u8> {
    let body = key.len() + value.len() + 3;
    let mut len = body + body.to_string().len();
    if len.to_string().len() != body.to_string().len() {
        len += 1;
    }
    let mut r = format!("{len} {key}=").into_bytes();
    r.extend_from_slice(value);
    r.push(b'\n');
    r
}

/// A tar of /lower with what the drivers must agree on: files to change, delete and
/// rename, a directory to make opaque, and xattrs (file capabilities among them).
fn lower_tree() -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let mut add =
        |name: &str, kind: tar::EntryType, data: &[u8], mode: u32, xattrs: &[(&str, Vec<u8>)]| {
            if !xattrs.is_empty() {
                let pax: Vec<u8> = xattrs
                    .iter()
                    .flat_map(|(k, v)| pax_record(&format!("SCHILY.xattr.{k}"), v))
                    .collect();
                let mut h = tar::Header::new_ustar();
                h.set_entry_type(tar::EntryType::XHeader);
                h.set_size(pax.len() as u64);
                h.set_mode(0o644);
                b.append_data(&mut h, "PaxHeaders/x", &pax[..]).unwrap();
            }
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(kind);
            h.set_size(data.len() as u64);
            h.set_mode(mode);
            h.set_mtime(1_700_000_000);
            b.append_data(&mut h, name, data).unwrap();
        };
    use tar::EntryType::{Directory as D, Regular as F};
    add("lower/", D, b"", 0o755, &[]);
    add("lower/file1", F, b"one\n", 0o644, &[]);
    add("lower/gone", F, b"gone\n", 0o644, &[]);
    add("lower/opq/", D, b"", 0o755, &[]);
    add("lower/opq/o1", F, b"o1\n", 0o644, &[]);
    add("lower/mvdir/", D, b"", 0o750, &[]);
    add("lower/mvdir/m1", F, b"m1\n", 0o600, &[]);
    add("lower/mvdir/sub/", D, b"", 0o755, &[]);
    add("lower/mvdir/sub/m2", F, b"m2\n", 0o644, &[]);
    add(
        "lower/caps",
        F,
        b"#!/bin/sh\n",
        0o755,
        &[("security.capability", file_caps())],
    );
    add(
        "lower/attr",
        F,
        b"attr\n",
        0o644,
        &[("user.note", b"kept".to_vec())],
    );
    b.into_inner().unwrap()
}

/// busybox plus a second layer holding `lower_tree()`, made with `cp -` and `commit`.
fn two_layer_image(s: &Skiff) {
    s.ok(&["create", "--name", "base", "busybox", "true"]);
    let mut c = s.cmd(&["cp", "-", "base:/"]);
    c.stdin(std::process::Stdio::piped());
    let mut child = c.spawn().unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), &lower_tree()).unwrap();
    drop(child.stdin.take());
    assert!(child.wait().unwrap().success());
    s.ok(&["commit", "base", "layered"]);
    s.ok(&["rm", "base"]);
}

/// The same file operations, done the way a container does them.
const SCRIPT: &str = "set -e
echo changed >> /lower/file1
rm /lower/gone
rm -rf /lower/opq && mkdir /lower/opq && echo new > /lower/opq/n
mv /lower/mvdir /lower/renamed
ln /lower/file1 /lower/hard
ln -s ../file1 /lower/opq/sym
mkfifo /lower/fifo
chmod 4755 /lower/caps
chown 1:1 /lower/attr
mkdir -p /lower/new/deep && echo deep > /lower/new/deep/f
mknod /lower/null c 1 3 2>/dev/null || true
";

/// Everything about a tree that must not depend on the driver: names, types, modes,
/// owners, sizes, contents, link targets and xattrs (not times).
type Tree = BTreeMap<String, String>;

fn tree_of(tar_bytes: &[u8]) -> Tree {
    let mut a = tar::Archive::new(tar_bytes);
    let mut out = BTreeMap::new();
    for e in a.entries().unwrap() {
        let mut e = e.unwrap();
        let name = e.path().unwrap().display().to_string();
        if !name.starts_with("lower") {
            continue;
        }
        let h = e.header().clone();
        let mut xattrs: Vec<String> = e
            .pax_extensions()
            .ok()
            .flatten()
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|x| Some(format!("{}={:?}", x.key().ok()?, x.value_bytes())))
            .collect();
        xattrs.sort();
        let mut data = Vec::new();
        e.read_to_end(&mut data).unwrap();
        let link = e
            .link_name()
            .ok()
            .flatten()
            .map(|l| l.display().to_string());
        out.insert(
            name.trim_end_matches('/').to_string(),
            format!(
                "{:?} {:o} {}:{} {} {} {:?} {:?} {:?}",
                h.entry_type(),
                h.mode().unwrap(),
                h.uid().unwrap(),
                h.gid().unwrap(),
                data.len(),
                sha256_hex(&data),
                link,
                h.device_major().ok().flatten(),
                xattrs
            ),
        );
    }
    out
}

fn export(s: &Skiff, name: &str) -> Vec<u8> {
    let out = s.cmd(&["export", name]).output().unwrap();
    assert_ok(&out);
    out.stdout
}

#[test]
fn drivers_agree_on_every_file_operation() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        two_layer_image(&s);
        // Per driver: its name, `diff`, the exported tree, and the committed image's tree.
        type Seen = (String, String, Tree, Tree);
        let mut seen: Vec<Seen> = Vec::new();
        for d in DRIVERS {
            let name = format!("c-{d}");
            let out = s.run(&[
                "run",
                "--cap-add",
                "mknod",
                "--storage-driver",
                d,
                "--name",
                &name,
                "layered",
                "sh",
                "-c",
                SCRIPT,
            ]);
            assert!(
                out.status.success(),
                "{mode:?} {d}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert_eq!(s.inspect(&name, "{{.Driver}}"), d);
            let diff = s.ok(&["diff", &name]);
            let tree = tree_of(&export(&s, &name));
            // What commit stored is what the next container sees.
            let img = format!("committed-{d}");
            s.ok(&["commit", &name, &img]);
            s.ok(&[
                "create",
                "--storage-driver",
                d,
                "--name",
                &format!("r-{d}"),
                &img,
                "true",
            ]);
            let again = tree_of(&export(&s, &format!("r-{d}")));
            seen.push((d.to_string(), diff, tree, again));
        }
        let (_, diff0, tree0, _) = &seen[0];
        assert!(diff0.contains("D /lower/gone\n"), "{diff0}");
        assert!(diff0.contains("D /lower/opq/o1\n"), "{diff0}");
        assert!(diff0.contains("A /lower/renamed/sub/m2\n"), "{diff0}");
        assert!(diff0.contains("D /lower/mvdir\n"), "{diff0}");
        assert!(diff0.contains("C /lower/caps\n"), "{diff0}");
        assert!(diff0.contains("A /lower/new/deep/f\n"), "{diff0}");
        assert!(
            !diff0.contains("/etc/hosts"),
            "mount points are not changes: {diff0}"
        );
        assert!(!tree0.contains_key("lower/gone") && !tree0.contains_key("lower/opq/o1"));
        for (path, want) in [
            ("lower/hard", "Link"),
            ("lower/caps", "security.capability"),
            ("lower/caps", " 4755 "),
            ("lower/attr", "user.note"),
            ("lower/attr", " 1:1 "),
        ] {
            assert!(tree0[path].contains(want), "{path}: {:?}", tree0[path]);
        }
        assert!(tree0["lower/fifo"].starts_with("Fifo"));
        if mode == Mode::Root {
            assert!(
                tree0["lower/null"].starts_with("Char"),
                "{:?}",
                tree0.get("lower/null")
            );
        }
        for (d, diff, tree, again) in &seen {
            assert_eq!(diff, diff0, "{mode:?}: diff on {d} differs from overlay");
            assert_eq!(tree, tree0, "{mode:?}: tree on {d} differs from overlay");
            // Hard links may come back in either order; compare without the link side.
            let strip = |t: &BTreeMap<String, String>| -> BTreeMap<String, String> {
                t.iter()
                    .filter(|(k, _)| *k != "lower/hard" && *k != "lower/file1")
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect()
            };
            assert_eq!(
                strip(again),
                strip(tree0),
                "{mode:?}: commit on {d} lost something"
            );
        }
    }
}

#[test]
fn commit_makes_an_image_that_runs_with_the_changes() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        s.ok(&[
            "run",
            "--name",
            "src",
            "-e",
            "FROM_RUN=1",
            "busybox",
            "sh",
            "-c",
            "echo made > /made; rm /bin/vi",
        ]);
        let id = s.ok(&[
            "commit",
            "-m",
            "my message",
            "--author",
            "Tester <t@example.com>",
            "-c",
            "CMD [\"cat\", \"/made\"]",
            "-c",
            "LABEL stage=test",
            "-c",
            "ENV EXTRA=yes",
            "src",
            "committed:v1",
        ]);
        let id = id.trim();
        assert_eq!(id.len(), 64, "{id}");
        let (code, out, err) = s.run_ctr(&["committed:v1"]);
        assert_eq!((code, out.as_str()), (0, "made\n"), "{err}");
        let (_, out, _) = s.run_ctr(&[
            "committed:v1",
            "sh",
            "-c",
            "echo $FROM_RUN$EXTRA; ls /bin/vi || echo gone",
        ]);
        assert!(out.starts_with("1yes\n") && out.contains("gone"), "{out}");
        assert_eq!(
            s.inspect("committed:v1", "{{.Author}}"),
            "Tester <t@example.com>"
        );
        assert_eq!(
            s.inspect("committed:v1", "{{.Config.Labels.stage}}"),
            "test"
        );
        let history = s.ok(&["history", "--no-trunc", "committed:v1"]);
        assert!(history.contains("my message"), "{history}");
        let layers = s.inspect("committed:v1", "{{len .RootFS.Layers}}");
        assert_eq!(layers, "2");
        // Bad changes are refused and store nothing.
        let before = s.image_ids();
        s.fails(&["commit", "-c", "BOGUS x", "src", "bad"], 125);
        s.fails(&["commit", "nosuch", "bad"], 125);
        assert_eq!(s.image_ids(), before);
        // A running container is paused for the commit and runs on after it.
        s.ok(&[
            "run",
            "-d",
            "--name",
            "live",
            "busybox",
            "sh",
            "-c",
            "echo live > /live; sleep 100",
        ]);
        assert!(wait_until(5, || s
            .run(&["exec", "live", "cat", "/live"])
            .status
            .success()));
        s.ok(&["commit", "live", "from-live"]);
        assert_eq!(s.inspect("live", "{{.State.Status}}"), "running");
        assert_eq!(s.run_ctr(&["from-live", "cat", "/live"]).1, "live\n");
        s.ok(&["rm", "-f", "live"]);
    }
}

#[test]
fn export_writes_the_containers_files() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        s.ok(&[
            "run",
            "--name",
            "e",
            "busybox",
            "sh",
            "-c",
            "mkdir /x; echo hi > /x/f; ln -s f /x/l; ln /x/f /x/h",
        ]);
        let out = s.dir.join("e.tar");
        std::fs::File::create(&out).unwrap();
        std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o666)).unwrap();
        s.ok(&["export", "-o", out.to_str().unwrap(), "e"]);
        let members = tar_members(&out);
        let names: Vec<&str> = members.iter().map(|(n, _)| n.as_str()).collect();
        for want in ["bin/busybox", "x/f", "x/l", "x/h", "etc/passwd"] {
            assert!(names.contains(&want), "{want} missing from {names:?}");
        }
        assert!(
            !names.iter().any(|n| n.starts_with("proc/") && n.len() > 5),
            "proc content exported"
        );
        let f = members.iter().find(|(n, _)| n == "x/f").unwrap();
        assert_eq!(f.1, b"hi\n");
        // To standard output too, and of a running container without its mounts.
        s.ok(&["run", "-d", "--name", "up", "busybox", "sleep", "100"]);
        let tar = export(&s, "up");
        let tree: Vec<String> = tar::Archive::new(&tar[..])
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().display().to_string())
            .collect();
        assert!(tree.contains(&"bin/busybox".to_string()));
        assert!(
            !tree.iter().any(|n| n.starts_with("proc/1")),
            "proc was exported"
        );
        s.fails(&["export", "nosuch"], 125);
    }
}

#[test]
fn cp_copies_both_ways_with_docker_naming() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        let h = host_dir(&s, "h");
        std::fs::create_dir_all(h.join("tree/sub")).unwrap();
        std::fs::write(h.join("tree/a"), "a\n").unwrap();
        std::fs::write(h.join("tree/sub/b"), "b\n").unwrap();
        std::fs::write(h.join("file"), "file\n").unwrap();
        for p in ["tree", "tree/sub"] {
            std::fs::set_permissions(h.join(p), std::fs::Permissions::from_mode(0o777)).unwrap();
        }
        for p in ["tree/a", "tree/sub/b", "file"] {
            std::fs::set_permissions(h.join(p), std::fs::Permissions::from_mode(0o666)).unwrap();
        }
        s.ok(&["run", "-d", "--name", "c", "busybox", "sh", "-c", "mkdir /in; adduser -D -u 1000 bob; echo own > /owned; chown 1000:1000 /owned; sleep 100"]);
        assert!(wait_until(5, || s
            .run(&["exec", "c", "test", "-f", "/owned"])
            .status
            .success()));
        let hp = |p: &str| h.join(p).display().to_string();
        // Into an existing directory, under a new name, contents only.
        s.ok(&["cp", &hp("tree"), "c:/in"]);
        s.ok(&["cp", &hp("file"), "c:/in/renamed"]);
        s.ok(&["cp", &format!("{}/.", hp("tree")), "c:/in/contents"]);
        let ls = s.ok(&[
            "exec",
            "c",
            "sh",
            "-c",
            "cd /in && find . | sort && stat -c '%u:%g' tree/a",
        ]);
        assert_eq!(
            ls,
            ".\n./contents\n./contents/a\n./contents/sub\n./contents/sub/b\n./renamed\n./tree\n./tree/a\n./tree/sub\n./tree/sub/b\n0:0\n"
        );
        // Out: a file, a directory, and with -a=false the owners stay (podman's sense).
        s.ok(&["cp", "c:/owned", &hp("out-owned")]);
        assert_eq!(
            std::fs::read_to_string(h.join("out-owned")).unwrap(),
            "own\n"
        );
        s.ok(&["cp", "c:/in/tree", &hp("out-tree")]);
        assert_eq!(
            std::fs::read_to_string(h.join("out-tree/sub/b")).unwrap(),
            "b\n"
        );
        let user_uid = std::fs::metadata(&s.dir).unwrap().uid();
        assert_eq!(
            std::fs::metadata(h.join("out-owned")).unwrap().uid(),
            user_uid
        );
        s.ok(&[
            "cp",
            "-a=false",
            "--pause=false",
            "c:/owned",
            &hp("out-archive"),
        ]);
        s.ok(&["cp", "-a", "--pause", "c:/owned", &hp("out-plain")]);
        assert_eq!(
            std::fs::metadata(h.join("out-plain")).unwrap().uid(),
            user_uid
        );
        let uid = std::fs::metadata(h.join("out-archive")).unwrap().uid();
        if mode == Mode::Rootless {
            assert_eq!(uid, 100999, "container uid 1000 through the id map");
        } else {
            assert_eq!(uid, 1000);
        }
        // A tar stream out and back in.
        let out = s.cmd(&["cp", "c:/in/tree", "-"]).output().unwrap();
        assert!(out.status.success());
        let names: Vec<String> = tar::Archive::new(&out.stdout[..])
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().display().to_string())
            .collect();
        assert_eq!(names, vec!["tree/", "tree/a", "tree/sub/", "tree/sub/b"]);
        // A stopped container is copied into and out of through its storage.
        s.ok(&["rm", "-f", "c"]);
        s.ok(&["create", "--name", "stopped", "busybox", "true"]);
        s.fails(&["cp", &hp("file"), "no-such-container:/nope"], 125);
        s.ok(&["cp", &hp("file"), "stopped:/etc/"]);
        s.ok(&["cp", "stopped:/etc/file", &hp("back")]);
        assert_eq!(std::fs::read_to_string(h.join("back")).unwrap(), "file\n");
        // Errors are one line and exit 125.
        s.fails(&["cp", &hp("file"), "stopped:/no/such/dir/"], 125);
        s.fails(&["cp", "stopped:/nope", &hp("x")], 125);
        s.fails(&["cp", &hp("tree"), "stopped:/etc/passwd"], 125);
        s.fails(&["cp", &hp("file"), &hp("file2")], 125);
    }
}

#[test]
fn cp_never_crosses_out_of_the_container() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        let h = host_dir(&s, "h");
        let secret = h.join("secret");
        std::fs::write(&secret, "host secret\n").unwrap();
        std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o666)).unwrap();
        let target = host_dir(&s, "target");
        let script = format!(
            "ln -s / /escape; ln -s {sec} /leak; ln -s {t} /into; mkdir -p /d; ln -s {t} /d/link; sleep 100",
            sec = secret.display(),
            t = target.display()
        );
        s.ok(&[
            "run", "-d", "--name", "evil", "busybox", "sh", "-c", &script,
        ]);
        assert!(wait_until(5, || s
            .run(&["exec", "evil", "test", "-L", "/d/link"])
            .status
            .success()));
        let hp = |p: &str| h.join(p).display().to_string();
        // Out: symlinks resolve inside the container, or are copied as links.
        s.fails(&["cp", "-L", "evil:/leak", &hp("o1")], 125);
        s.ok(&["cp", "evil:/leak", &hp("o2")]);
        assert!(std::fs::symlink_metadata(h.join("o2"))
            .unwrap()
            .file_type()
            .is_symlink());
        let path_via_root = format!("evil:/escape{}", secret.display());
        s.fails(&["cp", &path_via_root, &hp("o3")], 125);
        assert!(!h.join("o3").exists());
        // In: a destination through a symlink lands inside the container, or nowhere.
        s.run(&["cp", &hp("secret"), "evil:/into/planted"]);
        s.run(&["cp", &hp("secret"), "evil:/d/link/planted"]);
        assert!(
            std::fs::read_dir(&target).unwrap().next().is_none(),
            "wrote to the host"
        );
        // A hostile archive on standard input is refused whole.
        let evil = TarBuilder::new()
            .entry("ok", Kind::File(b"x"), 0)
            .entry("../../../../../../tmp/skiff-cp-escape", Kind::File(b"x"), 0)
            .finish();
        let mut c = s.cmd(&["cp", "-", "evil:/d"]);
        c.stdin(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = c.spawn().unwrap();
        let _ = std::io::Write::write_all(child.stdin.as_mut().unwrap(), &evil);
        drop(child.stdin.take());
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(125));
        assert!(String::from_utf8_lossy(&out.stderr).contains("hostile"));
        assert!(!Path::new("/tmp/skiff-cp-escape").exists());
        // A symlink in the archive cannot carry a later entry out either.
        let evil = TarBuilder::new()
            .entry("out", Kind::Symlink(target.to_str().unwrap()), 0)
            .entry("out/planted", Kind::File(b"x"), 0)
            .finish();
        let mut c = s.cmd(&["cp", "-", "evil:/d"]);
        c.stdin(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = c.spawn().unwrap();
        let _ = std::io::Write::write_all(child.stdin.as_mut().unwrap(), &evil);
        drop(child.stdin.take());
        assert_eq!(child.wait_with_output().unwrap().status.code(), Some(125));
        assert!(
            std::fs::read_dir(&target).unwrap().next().is_none(),
            "wrote to the host"
        );
    }
}

#[test]
fn mount_shows_the_root_and_unmount_takes_it_away() {
    let s = Skiff::with_busybox(Mode::Rootless);
    s.ok(&[
        "run",
        "--name",
        "m",
        "busybox",
        "sh",
        "-c",
        "echo mounted > /marker",
    ]);
    s.fails(&["mount", "m"], 125);
    let line = s.inner_line(&["mount", "m"]);
    let un = s.inner_line(&["unmount", "m"]);
    let script = format!("p=$({line}) && cat \"$p/marker\" && {un} >/dev/null && test ! -e \"$p/marker\" && echo gone");
    let out = s
        .command_for(BIN)
        .args([
            "--root",
            s.root().to_str().unwrap(),
            "--runroot",
            s.dir.join("run").to_str().unwrap(),
        ])
        .args(["unshare", "sh", "-c", &script])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "mounted\ngone\n",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    if !is_root() {
        return;
    }
    let s = Skiff::with_busybox(Mode::Root);
    for d in DRIVERS {
        let name = format!("m-{d}");
        s.ok(&[
            "run",
            "--storage-driver",
            d,
            "--name",
            &name,
            "busybox",
            "sh",
            "-c",
            "echo mounted > /marker",
        ]);
        let p = s.ok(&["mount", &name]);
        let p = Path::new(p.trim());
        assert_eq!(
            std::fs::read_to_string(p.join("marker")).unwrap(),
            "mounted\n",
            "{d}"
        );
        let listed = s.ok(&["mount"]);
        if d != "vfs" {
            assert!(listed.contains(p.to_str().unwrap()), "{listed}");
            s.ok(&["unmount", &name]);
            assert!(!p.join("marker").exists(), "{d} still mounted");
        }
        s.ok(&["mount", &name]);
        s.ok(&["rm", &name]);
        let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
        assert!(
            !info.contains(s.root().to_str().unwrap()),
            "rm left a mount: {info}"
        );
    }
}

#[test]
fn storage_driver_comes_from_the_flag_or_the_config() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        s.fails(
            &["--storage-driver", "zfs", "run", "--rm", "busybox", "true"],
            125,
        );
        let info = s.ok(&["info", "--format", "{{.Store.GraphDriverName}}"]);
        assert_eq!(info.trim(), "overlay");
        let conf = host_dir(&s, "config");
        std::fs::create_dir_all(conf.join("skiff")).unwrap();
        std::fs::write(
            conf.join("skiff/storage.conf"),
            "[storage]\ndriver = \"vfs\"\n",
        )
        .unwrap();
        std::fs::set_permissions(conf.join("skiff"), std::fs::Permissions::from_mode(0o755))
            .unwrap();
        let mut c = s.cmd(&["run", "--name", "from-conf", "busybox", "true"]);
        c.env("XDG_CONFIG_HOME", &conf);
        if mode == Mode::Rootless && is_root() {
            // runuser resets the environment: pass it through env.
            let line = s.inner_line(&["run", "--name", "from-conf", "busybox", "true"]);
            let out = s
                .command_for("sh")
                .args(["-c", &format!("XDG_CONFIG_HOME={} {line}", conf.display())])
                .output()
                .unwrap();
            assert_ok(&out);
        } else {
            assert!(c.output().unwrap().status.success());
        }
        let expected = if mode == Mode::Rootless {
            "vfs"
        } else {
            "overlay"
        };
        assert_eq!(s.inspect("from-conf", "{{.Driver}}"), expected);
        if mode == Mode::Rootless && is_root() {
            // A storage.conf that is not TOML is refused where a container is made.
            std::fs::write(conf.join("skiff/storage.conf"), "[storage\ndriver = vfs\n").unwrap();
            let line = s.inner_line(&["run", "--rm", "busybox", "true"]);
            let out = s
                .command_for("sh")
                .args(["-c", &format!("XDG_CONFIG_HOME={} {line}", conf.display())])
                .output()
                .unwrap();
            assert_eq!(out.status.code(), Some(125));
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(
                err.contains("storage.conf") && err.lines().count() == 1,
                "{err}"
            );
        }
    }
}

#[test]
fn volume_copy_up_and_chown_never_follow_symlinks_out() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        let h = host_dir(&s, "h");
        let victim = h.join("victim");
        std::fs::write(&victim, "host\n").unwrap();
        std::fs::set_permissions(&victim, std::fs::Permissions::from_mode(0o666)).unwrap();
        if mode == Mode::Rootless {
            let uid = std::fs::metadata(&s.dir).unwrap().uid();
            std::os::unix::fs::chown(&victim, Some(uid), Some(uid)).unwrap();
        }
        let before = std::fs::metadata(&victim).unwrap();
        let v = victim.display().to_string();
        // An image whose volume content holds a symlink to a host file.
        s.ok(&[
            "run",
            "--name",
            "seed",
            "busybox",
            "sh",
            "-c",
            &format!("mkdir /seed; echo real > /seed/real; ln -s {v} /seed/evil"),
        ]);
        s.ok(&["commit", "-c", "VOLUME /seed", "seed", "seeded"]);
        let (code, out, err) = s.run_ctr(&[
            "-v",
            "fresh:/seed",
            "seeded",
            "sh",
            "-c",
            "cat /seed/real; readlink /seed/evil",
        ]);
        assert_eq!(code, 0, "{err}");
        assert_eq!(out, format!("real\n{v}\n"));
        // A container plants a symlink in a shared volume; :U must chown the link only.
        s.ok(&[
            "run",
            "--rm",
            "-v",
            "shared:/data",
            "busybox",
            "sh",
            "-c",
            &format!("ln -s {v} /data/link; mkdir /data/d"),
        ]);
        let (code, _, err) =
            s.run_ctr(&["-u", "1000:1000", "-v", "shared:/data:U", "busybox", "true"]);
        assert_eq!(code, 0, "{err}");
        let after = std::fs::metadata(&victim).unwrap();
        assert_eq!(
            (after.uid(), after.gid()),
            (before.uid(), before.gid()),
            "{mode:?}: chown followed the link"
        );
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "host\n");
        let (_, out, _) = s.run_ctr(&[
            "-v",
            "shared:/data",
            "busybox",
            "stat",
            "-c",
            "%u",
            "/data/d",
        ]);
        assert_eq!(out, "1000\n");
    }
}

#[test]
fn cp_into_a_stopped_containers_volume_lands_in_the_volume() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        let h = host_dir(&s, "h");
        std::fs::write(h.join("note"), "into the volume\n").unwrap();
        std::fs::set_permissions(h.join("note"), std::fs::Permissions::from_mode(0o644)).unwrap();
        s.ok(&[
            "run",
            "--name",
            "holder",
            "-v",
            "data:/data",
            "busybox",
            "true",
        ]);
        s.ok(&["cp", h.join("note").to_str().unwrap(), "holder:/data/"]);
        let (code, out, err) = s.run_ctr(&["-v", "data:/data", "busybox", "cat", "/data/note"]);
        assert_eq!((code, out.as_str()), (0, "into the volume\n"), "{err}");
        // And not in the container's own layer.
        assert!(!s.ok(&["diff", "holder"]).contains("/data/note"));
        // export leaves the volume out.
        let tar = export(&s, "holder");
        let names: Vec<String> = tar::Archive::new(&tar[..])
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().display().to_string())
            .collect();
        assert!(!names.iter().any(|n| n.ends_with("data/note")), "{names:?}");
    }
}
