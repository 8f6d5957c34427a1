//! Builds through the real binary, rootless and as root: every instruction, the cache,
//! multi-stage builds, contexts, hostile input, and agreement with buildah.

mod common;
use common::*;
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// A build context in the test's directory: (relative path, content) files.
fn context(s: &Skiff, name: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = host_dir(s, name);
    for (p, content) in files {
        let path = dir.join(p);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, content).unwrap();
    }
    dir
}

/// Runs `build` with `args` (context last) and returns (code, stdout, stderr).
fn build(s: &Skiff, args: &[&str]) -> (i32, String, String) {
    let mut full = vec!["build"];
    full.extend_from_slice(args);
    let out = s.run(&full);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn build_ok(s: &Skiff, args: &[&str]) -> String {
    let (code, out, err) = build(s, args);
    assert_eq!(code, 0, "build {args:?} failed: {out}\n{err}");
    out
}

fn config(s: &Skiff, image: &str) -> serde_json::Value {
    let out = s.ok(&["image", "inspect", "--format", "{{json .Config}}", image]);
    serde_json::from_str(&out).unwrap()
}

/// A tar of (path, content, mode) regular files.
fn tarball(files: &[(&str, &str, u32)]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (p, c, mode) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(c.len() as u64);
        h.set_mode(*mode);
        h.set_uid(1234);
        h.set_gid(1234);
        h.set_cksum();
        b.append_data(&mut h, p, c.as_bytes()).unwrap();
    }
    b.into_inner().unwrap()
}

const EVERYTHING: &str = r#"# syntax=docker/dockerfile:1
ARG BASE=localhost/busybox:latest
FROM ${BASE} AS base
ARG FLAVOUR=plain
ARG UNSET
ENV GREETING="hello world" \
    EMPTY= \
    DEFAULTED=${UNSET:-fallback} ALT=${FLAVOUR:+has-flavour}
# a comment between instructions
LABEL org.example.flavour=$FLAVOUR "org.example.two words"="x y"
MAINTAINER Someone <someone@example.com>
WORKDIR /work
WORKDIR sub
COPY --chown=1000:1000 --chmod=0640 data.txt ./
COPY dir/ /copied/
COPY dir /copied-too
COPY *.cfg /cfgs/
ADD archive.tar /unpacked/
COPY <<EOF /heredoc.txt
flavour $FLAVOUR
EOF
RUN echo "run as $(id -u) in $(pwd) flavour=$FLAVOUR greeting=$GREETING" > /run-shell.txt
RUN ["/bin/sh", "-c", "echo exec form > /run-exec.txt"]
RUN <<EOT
echo heredoc line 1 > /run-heredoc.txt
echo heredoc line 2 >> /run-heredoc.txt
EOT
RUN --mount=type=cache,target=/cache echo x >> /cache/count && wc -l < /cache/count > /cache-count.txt
RUN --mount=type=secret,id=token cat /run/secrets/token > /secret-seen.txt
RUN --mount=type=tmpfs,target=/scratch touch /scratch/gone
SHELL ["/bin/sh", "-e", "-c"]
RUN echo shell changed > /shell.txt
EXPOSE 80 53/udp 8000-8001
VOLUME ["/data"]
VOLUME /logs /more
USER 1000:1000
HEALTHCHECK --interval=30s --timeout=5s --retries=3 CMD wget -q -O- http://localhost/ || exit 1
STOPSIGNAL SIGINT
ONBUILD USER 0
ONBUILD RUN echo triggered > /onbuild.txt
ENTRYPOINT ["/bin/sh", "-c"]
CMD ["echo default command"]
"#;

#[test]
fn every_instruction_does_what_it_says() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        let ctx = context(
            &s,
            "ctx",
            &[
                ("Containerfile", EVERYTHING),
                ("data.txt", "data\n"),
                ("dir/a.txt", "a\n"),
                ("dir/nested/b.txt", "b\n"),
                ("one.cfg", "1"),
                ("two.cfg", "2"),
                ("ignored.cfg", "must not be copied"),
                ("dir/secret.key", "must not be copied"),
                (".containerignore", "ignored.cfg\n**/*.key\n"),
            ],
        );
        std::fs::write(
            ctx.join("archive.tar"),
            tarball(&[("x/inside.txt", "inside\n", 0o600)]),
        )
        .unwrap();
        let token = s.share("token", b"s3cret");
        let ctx_s = ctx.to_str().unwrap();
        let out = build_ok(
            &s,
            &[
                "-t",
                "every",
                "-t",
                "every:v2",
                "--build-arg",
                "FLAVOUR=spicy",
                "--label",
                "from.cli=1",
                "--secret",
                &format!("id=token,src={}", token.display()),
                ctx_s,
            ],
        );
        assert!(out.contains("STEP 1/"), "{out}");
        let id = out.lines().last().unwrap().to_string();
        assert_eq!(id.len(), 64, "{out}");
        assert_eq!(s.inspect("localhost/every:v2", "{{.Id}}"), id);
        let c = config(&s, "every");
        let env = c["Env"].to_string();
        for e in [
            "GREETING=hello world",
            "EMPTY=",
            "DEFAULTED=fallback",
            "ALT=has-flavour",
        ] {
            assert!(env.contains(e), "{e} missing from {env}");
        }
        assert!(!env.contains("FLAVOUR"), "ARG leaked into Env: {env}");
        assert_eq!(c["Labels"]["org.example.flavour"], "spicy");
        assert_eq!(c["Labels"]["org.example.two words"], "x y");
        assert_eq!(c["Labels"]["from.cli"], "1");
        assert_eq!(c["WorkingDir"], "/work/sub");
        assert_eq!(c["User"], "1000:1000");
        assert_eq!(c["StopSignal"], "SIGINT");
        assert_eq!(c["Entrypoint"], serde_json::json!(["/bin/sh", "-c"]));
        assert_eq!(c["Cmd"], serde_json::json!(["echo default command"]));
        let ports: Vec<&String> = c["ExposedPorts"].as_object().unwrap().keys().collect();
        assert_eq!(ports, ["53/udp", "80/tcp", "8000/tcp", "8001/tcp"]);
        let vols: Vec<&String> = c["Volumes"].as_object().unwrap().keys().collect();
        assert_eq!(vols, ["/data", "/logs", "/more"]);
        assert_eq!(c["Healthcheck"]["Test"][0], "CMD-SHELL");
        assert_eq!(c["Healthcheck"]["Interval"], 30_000_000_000i64);
        assert_eq!(c["Healthcheck"]["Retries"], 3);
        assert_eq!(c["Shell"], serde_json::json!(["/bin/sh", "-e", "-c"]));
        assert_eq!(c["OnBuild"][1], "RUN echo triggered > /onbuild.txt");
        // A history entry per instruction that changed the image.
        let history = s.ok(&[
            "history",
            "--no-trunc",
            "--format",
            "{{.CreatedBy}}",
            "every",
        ]);
        for want in [
            "ENV GREETING=hello world",
            "COPY dir/ /copied/",
            "echo exec form",
            "EXPOSE 80/tcp 53/udp",
            "ONBUILD RUN",
        ] {
            assert!(
                history.contains(want),
                "{want} missing from history:\n{history}"
            );
        }
        let author = s.ok(&["image", "inspect", "--format", "{{.Author}}", "every"]);
        assert!(author.contains("someone@example.com"), "{author}");
        // The files, seen from a container of the image.
        let check = "cd / && stat -c '%n %u:%g %a' /work/sub/data.txt && cat /copied/a.txt /copied/nested/b.txt /copied-too/a.txt /cfgs/one.cfg /cfgs/two.cfg && echo && \
            ls /cfgs && ls /copied && stat -c '%n %u:%g %a' /unpacked/x/inside.txt && cat /unpacked/x/inside.txt /heredoc.txt /run-shell.txt /run-exec.txt /run-heredoc.txt /cache-count.txt /secret-seen.txt && echo && cat /shell.txt && \
            ls -a /scratch 2>&1; ls /run/secrets 2>&1; true";
        let (code, files, err) = s.run_ctr(&[
            "--entrypoint",
            "",
            "--user",
            "0",
            "every",
            "sh",
            "-c",
            check,
        ]);
        assert_eq!(code, 0, "{err}");
        let expected = "/work/sub/data.txt 1000:1000 640\na\nb\na\n12\none.cfg\ntwo.cfg\na.txt\nnested\n\
            /unpacked/x/inside.txt 1234:1234 600\ninside\nflavour spicy\n\
            run as 0 in /work/sub flavour=spicy greeting=hello world\nexec form\nheredoc line 1\nheredoc line 2\n1\ns3cret\nshell changed\n";
        assert!(
            files.starts_with(expected),
            "got:\n{files}\nwant:\n{expected}"
        );
        assert!(
            !files.contains("gone"),
            "a tmpfs mount's file stayed: {files}"
        );
        assert!(
            !files.contains("token"),
            "the secret stayed in the image: {files}"
        );
        // The default command runs as the image says.
        let (code, out, _) = s.run_ctr(&["every"]);
        assert_eq!((code, out.as_str()), (0, "default command\n"));
        // ONBUILD fires in a child image; the cache mount persists across builds.
        let child = context(
            &s,
            "child",
            &[(
                "Containerfile",
                "FROM localhost/every\nUSER 0\nRUN --mount=type=cache,target=/cache wc -l < /cache/count > /count2.txt\n",
            )],
        );
        build_ok(&s, &["-t", "child", child.to_str().unwrap()]);
        let (_, out, _) = s.run_ctr(&[
            "--entrypoint",
            "",
            "child",
            "cat",
            "/onbuild.txt",
            "/count2.txt",
        ]);
        assert_eq!(out, "triggered\n1\n");
        assert!(config(&s, "child")
            .get("OnBuild")
            .is_none_or(|o| o.is_null() || o.as_array().is_some_and(|a| a.is_empty())));
        // Intermediate images stay out of `images`, and show with -a.
        let listed = s.ok(&["images", "-q"]).lines().count();
        let all = s.ok(&["images", "-a", "-q"]).lines().count();
        assert!(all > listed + 5, "{listed} {all}");
    }
}

#[test]
fn multi_stage_builds_ship_only_the_final_stage() {
    let s = Skiff::with_busybox(Mode::Rootless);
    let ctx = context(
        &s,
        "ctx",
        &[(
            "Containerfile",
            "FROM localhost/busybox AS build\nRUN mkdir /out && echo compiled > /out/app && echo junk > /build-only\n\
             FROM localhost/busybox AS unused\nRUN echo unused-stage-ran && false\n\
             FROM scratch AS final\nCOPY --from=build /out/app /app\nCOPY --from=0 /bin/busybox /busybox\nCMD [\"/busybox\", \"cat\", \"/app\"]\n\
             FROM final AS debug\nRUN [\"/busybox\", \"touch\", \"/debug\"]\n",
        )],
    );
    let c = ctx.to_str().unwrap();
    let out = build_ok(&s, &["--target", "final", "-t", "final", c]);
    assert!(
        !out.contains("unused-stage-ran"),
        "an unneeded stage ran: {out}"
    );
    assert!(!out.contains("touch"), "a later stage ran: {out}");
    let (code, out, _) = s.run_ctr(&["final"]);
    assert_eq!((code, out.as_str()), (0, "compiled\n"));
    let (_, listing, _) = s.run_ctr(&["final", "/busybox", "find", "/"]);
    assert!(!listing.contains("build-only"), "{listing}");
    assert!(
        !listing.contains("/bin/"),
        "the build stage's files shipped: {listing}"
    );
    // The last stage by default; a missing target is an error.
    let out = build_ok(&s, &["-t", "debug", c]);
    assert!(out.contains("Using cache"), "{out}");
    s.ok(&["run", "--rm", "debug", "/busybox", "test", "-e", "/debug"]);
    let (code, _, err) = build(&s, &["--target", "nope", c]);
    assert_eq!(code, 125);
    assert!(err.contains("nope"), "{err}");
}

#[test]
fn the_cache_follows_content_not_time() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        let ctx = context(
            &s,
            "ctx",
            &[
                (
                    "Containerfile",
                    "FROM localhost/busybox\nRUN echo step-one-ran\nCOPY a.txt /a.txt\nRUN echo step-two-ran; cat /a.txt\nCOPY b.txt /b.txt\nRUN echo step-three-ran\n",
                ),
                ("a.txt", "version 1\n"),
                ("b.txt", "b\n"),
                ("unrelated.txt", "x"),
            ],
        );
        let c = ctx.to_str().unwrap();
        let first = build_ok(&s, &["-t", "cached", c]);
        for step in ["step-one-ran", "step-two-ran", "step-three-ran"] {
            assert!(first.contains(step), "{first}");
        }
        // Unchanged (a file nobody copies changed, and times moved): no RUN runs.
        std::fs::write(ctx.join("unrelated.txt"), "y").unwrap();
        let t = std::time::SystemTime::now() + std::time::Duration::from_secs(3600);
        std::fs::File::options()
            .write(true)
            .open(ctx.join("a.txt"))
            .unwrap()
            .set_modified(t)
            .unwrap();
        let again = build_ok(&s, &["-t", "cached", c]);
        let ran = |out: &str, what: &str| out.lines().any(|l| l == what);
        assert!(
            !["step-one-ran", "step-two-ran", "step-three-ran"]
                .iter()
                .any(|w| ran(&again, w)),
            "a RUN ran again: {again}"
        );
        assert_eq!(again.lines().last(), first.lines().last(), "same image");
        // One copied file changes: only the steps after it run.
        std::fs::write(ctx.join("a.txt"), "version 2\n").unwrap();
        let third = build_ok(&s, &["-t", "cached", c]);
        assert!(!ran(&third, "step-one-ran"), "{third}");
        assert!(
            ran(&third, "step-two-ran") && ran(&third, "version 2"),
            "{third}"
        );
        assert!(ran(&third, "step-three-ran"), "{third}");
        // --no-cache runs everything.
        let fourth = build_ok(&s, &["--no-cache", c]);
        assert!(ran(&fourth, "step-one-ran"), "{fourth}");
        // A build arg that a RUN sees is part of its key.
        std::fs::write(
            ctx.join("Containerfile"),
            "FROM localhost/busybox\nARG V=1\nRUN echo arg-step-ran $V\n",
        )
        .unwrap();
        assert!(ran(&build_ok(&s, &[c]), "arg-step-ran 1"));
        let cached = build_ok(&s, &[c]);
        assert!(!ran(&cached, "arg-step-ran 1"), "{cached}");
        assert!(ran(
            &build_ok(&s, &["--build-arg", "V=2", c]),
            "arg-step-ran 2"
        ));
    }
}

/// Serves `body` at every path on 127.0.0.1 for as long as the test runs.
fn serve(body: &'static [u8]) -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut c in l.incoming().flatten() {
            let mut buf = [0u8; 1024];
            let _ = c.read(&mut buf);
            let _ = c.write_all(
                format!("HTTP/1.0 200 OK\r\nContent-Length: {}\r\n\r\n", body.len()).as_bytes(),
            );
            let _ = c.write_all(body);
        }
    });
    port
}

#[test]
fn add_fetches_urls_and_checks_them() {
    let s = Skiff::with_busybox(Mode::Rootless);
    let body: &'static [u8] = b"downloaded content\n";
    let port = serve(body);
    let sum = format!("sha256:{}", sha256_hex(body));
    let file = |checksum: &str| {
        format!("FROM localhost/busybox\nADD {checksum} http://127.0.0.1:{port}/files/fetched.txt /dl/\nRUN stat -c '%a' /dl/fetched.txt && cat /dl/fetched.txt\n")
    };
    let ctx = context(
        &s,
        "ctx",
        &[("Containerfile", &file(&format!("--checksum={sum}")))],
    );
    let out = build_ok(&s, &["-t", "dl", ctx.to_str().unwrap()]);
    assert!(out.contains("600\ndownloaded content\n"), "{out}");
    std::fs::write(
        ctx.join("Containerfile"),
        file("--checksum=sha256:0000000000000000000000000000000000000000000000000000000000000000"),
    )
    .unwrap();
    let (code, _, err) = build(&s, &[ctx.to_str().unwrap()]);
    assert_eq!(code, 125);
    assert!(err.contains("checksum") && err.contains("line 2"), "{err}");
}

#[test]
fn malformed_containerfiles_name_their_line() {
    let s = Skiff::with_busybox(Mode::Rootless);
    for (text, line, why) in [
        (
            "FROM localhost/busybox\nFROBNICATE now\n",
            2,
            "unknown instruction",
        ),
        ("RUN echo before from\n", 1, "before the first FROM"),
        (
            "FROM localhost/busybox\n\nRUN\n",
            3,
            "requires at least one argument",
        ),
        ("FROM localhost/busybox\nSHELL /bin/bash -c\n", 2, "JSON"),
        (
            "FROM localhost/busybox\nCOPY onlyone\n",
            2,
            "source and a destination",
        ),
        ("FROM localhost/busybox\nENV \"unterminated\n", 2, "quote"),
        (
            "FROM localhost/busybox\nRUN <<EOF\necho never closed\n",
            2,
            "heredoc",
        ),
        (
            "FROM localhost/busybox\nCOPY --bogus=1 a b\n",
            2,
            "unknown flag",
        ),
        ("FROM localhost/busybox\nLABEL novalue\n", 2, "KEY=VALUE"),
        ("FROM a AS x\nFROM b AS x\n", 2, "duplicate stage"),
        ("FROM localhost/busybox\nENV X=${Y\n", 2, "missing '}'"),
        ("FROM localhost/busybox\nEXPOSE http\n", 2, "invalid port"),
        (
            "FROM localhost/busybox\nHEALTHCHECK --interval=soon CMD true\n",
            2,
            "duration",
        ),
        ("FROM localhost/busybox\nRUN exit 3\n", 2, "status 3"),
        (
            "FROM localhost/busybox\nCOPY missing.txt /\n",
            2,
            "no such file",
        ),
    ] {
        let ctx = context(&s, "bad", &[("Containerfile", text)]);
        let (code, _, err) = build(&s, &[ctx.to_str().unwrap()]);
        assert_eq!(code, 125, "{text:?}: {err}");
        let msg = err.lines().last().unwrap_or("");
        assert!(
            msg.contains(&format!("line {line}")) && msg.contains(why),
            "{text:?}: {err}"
        );
    }
    assert!(
        s.ok(&["images", "-q"]).lines().count() == 1,
        "a failed build left a named image"
    );
}

#[test]
fn contexts_from_archives_and_stdin_and_hostile_ones() {
    let s = Skiff::with_busybox(Mode::Rootless);
    // A tarball context on stdin, with its own Containerfile.
    let mut b = tar::Builder::new(Vec::new());
    for (p, c) in [
        (
            "Containerfile",
            "FROM localhost/busybox\nCOPY hello.txt /\nCMD [\"cat\", \"/hello.txt\"]\n",
        ),
        ("hello.txt", "from a tarball\n"),
    ] {
        let mut h = tar::Header::new_gnu();
        h.set_size(c.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, p, c.as_bytes()).unwrap();
    }
    let tar_bytes = b.into_inner().unwrap();
    let mut child = s
        .cmd(&["build", "-q", "-t", "fromtar", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&tar_bytes).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).lines().count(),
        1,
        "-q prints the id only"
    );
    assert_eq!(s.run_ctr(&["fromtar"]).1, "from a tarball\n");
    // A Containerfile alone on stdin.
    let mut child = s
        .cmd(&["build", "-t", "fromstdin", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"FROM localhost/busybox\nRUN echo no context > /x\n")
        .unwrap();
    assert!(child.wait_with_output().unwrap().status.success());
    // A tarball context whose entry climbs out is refused, and nothing lands outside.
    let evil = tar_with_raw_name("../../escaped-by-build", b"gotcha");
    let path = s.dir.join("evil.tar");
    std::fs::write(&path, &evil).unwrap();
    let (code, _, err) = build(&s, &[path.to_str().unwrap()]);
    assert_eq!(code, 125, "{err}");
    assert!(err.contains("..") || err.contains("hostile"), "{err}");
    assert!(!s.dir.join("escaped-by-build").exists());
    // COPY cannot leave the context; a symlink in it is copied as a link.
    let ctx = context(
        &s,
        "ctx",
        &[(
            "Containerfile",
            "FROM localhost/busybox\nCOPY ../../../../etc/passwd /stolen\n",
        )],
    );
    let (code, _, err) = build(&s, &[ctx.to_str().unwrap()]);
    assert_eq!(code, 125, "{err}");
    std::os::unix::fs::symlink("/etc/shadow", ctx.join("link")).unwrap();
    std::fs::write(
        ctx.join("Containerfile"),
        "FROM localhost/busybox\nCOPY link /link\n",
    )
    .unwrap();
    build_ok(&s, &["-t", "linked", ctx.to_str().unwrap()]);
    let (_, out, _) = s.run_ctr(&["linked", "readlink", "/link"]);
    assert_eq!(out, "/etc/shadow\n");
    // ADD of an archive whose entry climbs out is refused.
    std::fs::write(ctx.join("evil.tar"), &evil).unwrap();
    std::fs::write(
        ctx.join("Containerfile"),
        "FROM localhost/busybox\nADD evil.tar /x/\n",
    )
    .unwrap();
    let (code, _, err) = build(&s, &[ctx.to_str().unwrap()]);
    assert_eq!(code, 125, "{err}");
}

/// A tar with one regular file whose name is written as is (the tar crate refuses `..`).
fn tar_with_raw_name(name: &str, data: &[u8]) -> Vec<u8> {
    let mut h = tar::Header::new_gnu();
    h.as_gnu_mut().unwrap().name[..name.len()].copy_from_slice(name.as_bytes());
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    h.set_entry_type(tar::EntryType::Regular);
    h.set_cksum();
    let mut out = h.as_bytes().to_vec();
    out.extend_from_slice(data);
    out.resize(512 + data.len().div_ceil(512) * 512, 0);
    out.extend_from_slice(&[0u8; 1024]);
    out
}

/// Path -> "type mode uid:gid size sha link" for every entry of an image's tree.
fn tree(s: &Skiff, image: &str) -> BTreeMap<String, String> {
    let name = format!("tree-{}", image.replace([':', '/'], "-"));
    s.ok(&["create", "--name", &name, image, "/bin/true"]);
    let file = s.dir.join(format!("{name}.tar"));
    s.ok(&["export", "-o", file.to_str().unwrap(), &name]);
    s.ok(&["rm", &name]);
    let mut a = tar::Archive::new(std::fs::File::open(&file).unwrap());
    let mut out = BTreeMap::new();
    for e in a.entries().unwrap() {
        let mut e = e.unwrap();
        let h = e.header().clone();
        let path = e.path().unwrap().display().to_string();
        let path = path.trim_end_matches('/').to_string();
        let link = e
            .link_name()
            .ok()
            .flatten()
            .map(|l| l.display().to_string())
            .unwrap_or_default();
        let mut data = Vec::new();
        e.read_to_end(&mut data).unwrap();
        let kind = match h.entry_type() {
            tar::EntryType::Link => "file".to_string(),
            t => format!("{t:?}"),
        };
        out.insert(
            path,
            format!(
                "{kind} {:o} {}:{} {} {} {link}",
                h.mode().unwrap() & 0o7777,
                h.uid().unwrap(),
                h.gid().unwrap(),
                data.len(),
                if data.is_empty() {
                    String::new()
                } else {
                    sha256_hex(&data)
                },
            ),
        );
    }
    out
}

const AGREE: &[&str] = &[
    "FROM localhost/busybox\nWORKDIR /app/deep\nCOPY a.txt .\nCOPY dir /srcdir\nCOPY dir/ /contents/\nCOPY a.txt b.txt /multi/\nCOPY --chown=1000:1000 --chmod=0750 a.txt /owned/renamed.txt\nADD arch.tar /unpacked/\n\
     RUN mkdir -p /made/sub && echo made > /made/sub/f && ln -s /made/sub/f /made/link && chmod 700 /made && rm /bin/vi && rm -rf /usr/sbin\n\
     ENV A=1 B=\"two words\"\nLABEL l1=v1 \"l 2\"=\"v 2\"\nEXPOSE 80 53/udp\nVOLUME /data\nUSER 1000:1000\nSTOPSIGNAL SIGQUIT\n\
     HEALTHCHECK --interval=10s --timeout=3s --start-period=1s --retries=2 CMD [\"true\"]\nENTRYPOINT [\"/bin/sh\"]\nCMD [\"-c\", \"echo hi\"]\n",
    "FROM localhost/busybox AS build\nRUN mkdir /out && echo built > /out/bin && touch /leftover\nFROM localhost/busybox\nCOPY --from=build /out /opt/out\nCOPY --from=build /out/bin /usr/local/bin/tool\nWORKDIR /opt\nCMD tool\n",
    "FROM scratch\nCOPY a.txt /\nCOPY dir /d\nENTRYPOINT [\"/a.txt\"]\n",
    "FROM localhost/busybox\nCOPY private/ /etc/\nCOPY private /newdir\nCOPY --chown=7:7 private /a/b/owned\nCOPY --chown=8:8 private/p.txt /c/d/f.txt\nCOPY --chown=9:9 --chmod=600 private /e/\n",
];

#[test]
fn builds_agree_with_buildah() {
    if !is_root() {
        return;
    }
    let s = Skiff::with_busybox(Mode::Root);
    let archive = s.save("busybox.tar", "docker-archive", "localhost/busybox:latest");
    let ba_root = s.dir.join("buildah");
    let buildah = |args: &[&str]| {
        let mut c = Command::new("buildah");
        c.arg("--root")
            .arg(ba_root.join("root"))
            .arg("--runroot")
            .arg(ba_root.join("run"))
            .args(["--storage-driver", "vfs"])
            .args(args)
            .env("CONTAINERS_REGISTRIES_CONF", "/dev/null");
        run_ok(&mut c)
    };
    buildah(&[
        "pull",
        "-q",
        &format!("docker-archive:{}", archive.display()),
    ]);
    for (i, file) in AGREE.iter().enumerate() {
        let ctx = context(
            &s,
            &format!("agree{i}"),
            &[
                ("Containerfile", file),
                ("a.txt", "a\n"),
                ("b.txt", "b\n"),
                ("dir/x.txt", "x\n"),
                ("dir/sub/y.txt", "y\n"),
                ("private/p.txt", "p\n"),
            ],
        );
        // A directory more private than the ones it lands in or makes.
        std::fs::set_permissions(
            ctx.join("private"),
            std::os::unix::fs::PermissionsExt::from_mode(0o700),
        )
        .unwrap();
        std::fs::write(
            ctx.join("arch.tar"),
            tarball(&[("t/one.txt", "1\n", 0o640), ("t/two.txt", "2\n", 0o755)]),
        )
        .unwrap();
        let c = ctx.to_str().unwrap();
        build_ok(&s, &["-t", &format!("ours{i}"), c]);
        buildah(&[
            "bud",
            "-q",
            "--format",
            "docker",
            "--isolation",
            "chroot",
            "-t",
            &format!("theirs{i}"),
            c,
        ]);
        let out = s.dir.join(format!("theirs{i}.tar"));
        buildah(&[
            "push",
            "-q",
            &format!("theirs{i}"),
            &format!(
                "docker-archive:{}:localhost/theirs{i}:latest",
                out.display()
            ),
        ]);
        s.ok(&["load", "-q", "-i", out.to_str().unwrap()]);
        let (ours, mut theirs) = (
            tree(&s, &format!("ours{i}")),
            tree(&s, &format!("theirs{i}")),
        );
        // buildah leaves the empty files it bind-mounts over during RUN (and /run,
        // where it puts .containerenv) in its layers; skiff does not.
        for p in ["etc/hostname", "etc/hosts", "etc/resolv.conf", "run"] {
            let placeholder = theirs
                .get(p)
                .is_some_and(|v| v.split(' ').nth(3) == Some("0"));
            if placeholder && !ours.contains_key(p) {
                theirs.remove(p);
            }
        }
        let diff: Vec<String> = ours
            .keys()
            .chain(theirs.keys())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .filter(|k| ours.get(*k) != theirs.get(*k))
            .map(|k| format!("{k}: skiff {:?} buildah {:?}", ours.get(k), theirs.get(k)))
            .collect();
        assert!(
            diff.is_empty(),
            "Containerfile {i}: trees differ:\n{}",
            diff.join("\n")
        );
        let (a, b) = (
            config(&s, &format!("ours{i}")),
            config(&s, &format!("theirs{i}")),
        );
        for field in [
            "Env",
            "Cmd",
            "Entrypoint",
            "WorkingDir",
            "User",
            "ExposedPorts",
            "Volumes",
            "StopSignal",
            "Healthcheck",
        ] {
            let norm = |v: &serde_json::Value| match v {
                serde_json::Value::Null => serde_json::Value::Null,
                serde_json::Value::String(s) if s.is_empty() => serde_json::Value::Null,
                serde_json::Value::Array(x) if x.is_empty() => serde_json::Value::Null,
                serde_json::Value::Object(x) if x.is_empty() => serde_json::Value::Null,
                other => other.clone(),
            };
            assert_eq!(
                norm(&a[field]),
                norm(&b[field]),
                "Containerfile {i}: {field}"
            );
        }
        let mut their_labels = b["Labels"].as_object().cloned().unwrap_or_default();
        their_labels.remove("io.buildah.version");
        let our_labels = a["Labels"].as_object().cloned().unwrap_or_default();
        assert_eq!(our_labels, their_labels, "Containerfile {i}: Labels");
    }
}

#[test]
fn squash_and_layers_false_give_one_new_layer() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        let ctx = context(
            &s,
            "ctx",
            &[
                (
                    "Containerfile",
                    "FROM localhost/busybox\nRUN echo one > /one && rm /bin/vi\nCOPY h.txt /h.txt\nRUN echo two > /two && rm /one && echo step-ran\n",
                ),
                ("h.txt", "h\n"),
            ],
        );
        let c = ctx.to_str().unwrap();
        let base: usize = s
            .inspect("localhost/busybox", "{{len .RootFS.Layers}}")
            .parse()
            .unwrap();
        let layered = build_ok(&s, &["-t", "layered", c]);
        assert!(layered.lines().any(|l| l == "step-ran"));
        let n: usize = s
            .inspect("layered", "{{len .RootFS.Layers}}")
            .parse()
            .unwrap();
        assert_eq!(n, base + 3);
        for (flag, name) in [("--squash", "squashed"), ("--layers=false", "flat")] {
            let out = build_ok(&s, &[flag, "-t", name, c]);
            let n: usize = s.inspect(name, "{{len .RootFS.Layers}}").parse().unwrap();
            assert_eq!(n, base + 1, "{flag}");
            let (code, out2, err) = s.run_ctr(&[
                name,
                "sh",
                "-c",
                "cat /two /h.txt; test -e /one || echo no-one; test -e /bin/vi || echo no-vi",
            ]);
            assert_eq!(code, 0, "{err}");
            assert_eq!(out2, "two\nh\nno-one\nno-vi\n", "{flag}");
            if flag == "--layers=false" {
                // Nothing cached: the steps ran again.
                assert!(out.lines().any(|l| l == "step-ran"), "{out}");
            }
        }
    }
}

#[test]
fn the_escape_directive_changes_the_continuation_character() {
    let s = Skiff::with_busybox(Mode::Rootless);
    let ctx = context(
        &s,
        "ctx",
        &[(
            "Containerfile",
            "# escape=`\nFROM localhost/busybox\nRUN echo one `\n    two > /joined && echo 'back\\slash' > /kept\nCMD [\"cat\", \"/joined\", \"/kept\"]\n",
        )],
    );
    build_ok(&s, &["-t", "escaped", ctx.to_str().unwrap()]);
    assert_eq!(s.run_ctr(&["escaped"]).1, "one two\nback\\slash\n");
}

#[test]
fn pull_network_and_platform_flags() {
    let s = Skiff::with_busybox(Mode::Rootless);
    let ctx = context(
        &s,
        "ctx",
        &[(
            "Containerfile",
            "FROM --platform=linux/amd64 localhost/busybox\nRUN ls /sys/class/net | tr '\\n' ' '; echo\n",
        )],
    );
    let c = ctx.to_str().unwrap();
    let iid = host_dir(&s, "out").join("iid");
    let out = build_ok(
        &s,
        &[
            "--network",
            "none",
            "--format",
            "docker",
            "--iidfile",
            iid.to_str().unwrap(),
            c,
        ],
    );
    assert!(out.lines().any(|l| l == "lo "), "{out}");
    assert_eq!(
        std::fs::read_to_string(&iid).unwrap(),
        format!("sha256:{}", out.lines().last().unwrap())
    );
    let out = build_ok(&s, &["--no-cache", "--network", "slirp4netns", c]);
    assert!(out.lines().any(|l| l == "lo tap0 "), "{out}");
    // A base that is not here, with --pull=never: a clear error, nothing pulled.
    std::fs::write(
        ctx.join("Containerfile"),
        "FROM localhost/not-here:1\nRUN true\n",
    )
    .unwrap();
    let (code, _, err) = build(&s, &["--pull=never", c]);
    assert_eq!(code, 125);
    assert!(err.contains("not-here") && err.contains("line 1"), "{err}");
    // With the default (missing) it is pulled first: here no registry knows it.
    let (code, _, err) = build(&s, &[c]);
    assert_eq!(code, 125, "{err}");
}

#[test]
fn add_unpacks_xz_and_bzip2_and_build_flags_podman_scripts_pass() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        let ctx = context(
            &s,
            "compressed",
            &[
                ("src/inner.txt", "packed\n"),
                ("keep.txt", "kept\n"),
                ("skip.txt", "skipped\n"),
                ("my.ignore", "skip.txt\nsrc\n"),
                (
                    "Containerfile",
                    "FROM localhost/busybox\nADD a.tar.xz /xz/\nADD b.tar.bz2 /bz/\nCOPY . /ctx/\n",
                ),
            ],
        );
        for (flag, name) in [("-cJf", "a.tar.xz"), ("-cjf", "b.tar.bz2")] {
            let st = Command::new("tar")
                .args([flag, name, "src"])
                .current_dir(&ctx)
                .status()
                .unwrap();
            assert!(st.success());
        }
        let log = s.dir.join("build.log");
        let ignore = ctx.join("my.ignore");
        let out = build_ok(
            &s,
            &[
                "-t",
                "packed",
                "--ignorefile",
                ignore.to_str().unwrap(),
                "--logfile",
                log.to_str().unwrap(),
                ctx.to_str().unwrap(),
            ],
        );
        // Steps went to the log file; standard output keeps only the image id.
        assert_eq!(out.lines().count(), 1, "{out}");
        let logged = std::fs::read_to_string(&log).unwrap();
        assert!(logged.contains("STEP 2/4: ADD a.tar.xz /xz/"), "{logged}");
        let (code, seen, err) = s.run_ctr(&[
            "packed",
            "sh",
            "-c",
            "cat /xz/src/inner.txt /bz/src/inner.txt; ls /ctx",
        ]);
        assert_eq!(code, 0, "{err}");
        assert_eq!(
            seen,
            "packed\npacked\nContainerfile\na.tar.xz\nb.tar.bz2\nkeep.txt\nmy.ignore\n"
        );
        // podman's words for a failing step, and for an auth file that is not there.
        let bad = context(
            &s,
            "badstep",
            &[("Containerfile", "FROM localhost/busybox\nCOPY subdir ./\n")],
        );
        let (code, _, err) = build(&s, &["-t", "x", bad.to_str().unwrap()]);
        assert_eq!(code, 125);
        assert!(err.contains("building at STEP \"COPY subdir ./\""), "{err}");
        let (code, _, err) = build(
            &s,
            &[
                "--authfile",
                "/no/such/auth.json",
                "-t",
                "x",
                bad.to_str().unwrap(),
            ],
        );
        assert_eq!(code, 125);
        assert!(
            err.contains("checking authfile: stat /no/such/auth.json"),
            "{err}"
        );
        // --ulimit reaches RUN steps; --runtime is accepted; --pull-never pulls nothing.
        let limits = context(
            &s,
            "limits",
            &[(
                "Containerfile",
                "FROM localhost/busybox\nRUN echo limit=$(ulimit -n)\n",
            )],
        );
        let out = build_ok(
            &s,
            &[
                "--ulimit",
                "nofile=512:512",
                "--runtime",
                "runc",
                "-t",
                "lim",
                limits.to_str().unwrap(),
            ],
        );
        assert!(out.contains("limit=512"), "{out}");
        let missing = context(
            &s,
            "missing",
            &[("Containerfile", "FROM localhost/not-here\nRUN true\n")],
        );
        let (code, _, err) = build(&s, &["--pull-never", "-t", "x", missing.to_str().unwrap()]);
        assert_eq!(code, 125, "{err}");
    }
}
