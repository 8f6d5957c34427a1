//! The container's root file system: the overlay of image layers, the spec's mounts,
//! device nodes, then pivot_root and the masked and read-only paths. Runs in the
//! container's mount namespace, so every mount vanishes with the container.

use crate::error::{Context, Error, Result};
use crate::graph::RootfsPlan;
use crate::syscall::Syscall;
use nix::mount::MsFlags;
use oci_spec::runtime::{Mount, Spec};
use std::path::{Component, Path, PathBuf};

/// Spec mount option: copy the image's content into an empty volume first.
pub const COPY_UP: &str = "skiff.copyup";
/// Spec mount option: chown the source to the container's user (`:U`).
pub const CHOWN: &str = "skiff.chown";

/// Resolves `path` inside `root` the way the container will see it: symlinks are
/// followed but never out of `root`, so an image cannot aim a mount at the host.
pub fn secure_join(root: &Path, path: &Path) -> Result<PathBuf> {
    let mut out = root.to_path_buf();
    let mut pending: Vec<PathBuf> = path
        .components()
        .rev()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(PathBuf::from(n)),
            Component::ParentDir => Some(PathBuf::from("..")),
            _ => None,
        })
        .collect();
    let mut links = 0;
    while let Some(c) = pending.pop() {
        if c.as_os_str() == ".." {
            if out != root {
                out.pop();
            }
            continue;
        }
        let next = out.join(&c);
        match std::fs::symlink_metadata(&next) {
            Ok(m) if m.file_type().is_symlink() => {
                links += 1;
                if links > 40 {
                    return Err(Error::InvalidArgument(format!(
                        "too many symlinks resolving {} in the container",
                        path.display()
                    )));
                }
                let target =
                    std::fs::read_link(&next).ctx(|| format!("reading {}", next.display()))?;
                if target.is_absolute() {
                    out = root.to_path_buf();
                }
                for comp in target.components().rev() {
                    match comp {
                        Component::Normal(n) => pending.push(PathBuf::from(n)),
                        Component::ParentDir => pending.push(PathBuf::from("..")),
                        _ => {}
                    }
                }
            }
            _ => out = next,
        }
    }
    Ok(out)
}

/// Docker's copy-up: what the image has at `from` goes into the empty volume `to`,
/// owners kept. It crosses as an archive, so a symlink in the volume (another
/// container may share it) is never followed.
fn copy_up(from: &Path, to: &Path) -> Result<()> {
    use nix::fcntl::{open, OFlag};
    let fd = open(
        from,
        OFlag::O_PATH | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    )
    .map_err(|e| Error::sys(format!("opening {}", from.display()), e))?;
    let opts = crate::layer::ExtractOptions {
        ignore_chown_errors: false,
        plain: true,
    };
    crate::layer::pack::pipe_tree(&fd, "", crate::layer::pack::Owners::Keep, |r| {
        crate::layer::extract(r, to, opts).map(|_| ())
    })?;
    // The directory itself too: a database's data directory keeps its owner and mode.
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let m = std::fs::symlink_metadata(from).ctx(|| from.display().to_string())?;
    std::os::unix::fs::lchown(to, Some(m.uid()), Some(m.gid()))
        .ctx(|| format!("changing the owner of {}", to.display()))?;
    std::fs::set_permissions(to, std::fs::Permissions::from_mode(m.mode() & 0o7777))
        .ctx(|| format!("changing the mode of {}", to.display()))
}

/// Mount flags and fs data from OCI mount options.
fn parse_options(opts: &[String]) -> (MsFlags, Vec<String>, bool, bool) {
    let mut flags = MsFlags::empty();
    let mut data = Vec::new();
    let (mut bind, mut rec) = (false, false);
    for o in opts {
        match o.as_str() {
            "ro" => flags |= MsFlags::MS_RDONLY,
            "rw" => {}
            "nosuid" => flags |= MsFlags::MS_NOSUID,
            "nodev" => flags |= MsFlags::MS_NODEV,
            "noexec" => flags |= MsFlags::MS_NOEXEC,
            "strictatime" => flags |= MsFlags::MS_STRICTATIME,
            "relatime" => flags |= MsFlags::MS_RELATIME,
            "noatime" => flags |= MsFlags::MS_NOATIME,
            "sync" => flags |= MsFlags::MS_SYNCHRONOUS,
            "bind" => bind = true,
            "rbind" => {
                bind = true;
                rec = true
            }
            "private" | "rprivate" | "slave" | "rslave" | "shared" | "rshared" => {}
            other => data.push(other.to_string()),
        }
    }
    (flags, data, bind, rec)
}

fn dir_is_empty(p: &Path) -> bool {
    std::fs::read_dir(p)
        .map(|mut d| d.next().is_none())
        .unwrap_or(false)
}

fn is_dir(p: &Path) -> bool {
    std::fs::metadata(p).map(|m| m.is_dir()).unwrap_or(false)
}

/// Makes a mount point like `like`: a directory for directories, else an empty file.
fn make_target(target: &Path, dir: bool) -> Result<()> {
    if dir {
        return std::fs::create_dir_all(target).ctx(|| format!("creating {}", target.display()));
    }
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent).ctx(|| format!("creating {}", parent.display()))?;
    }
    if std::fs::symlink_metadata(target).is_err() {
        std::fs::File::create(target).ctx(|| format!("creating {}", target.display()))?;
    }
    Ok(())
}

fn do_mount(sys: &dyn Syscall, root: &Path, m: &Mount, owner: (u32, u32)) -> Result<()> {
    let target = secure_join(root, m.destination())?;
    let typ = m.typ().as_deref().unwrap_or("bind");
    let all = m.options().as_deref().unwrap_or(&[]);
    let has = |o: &str| all.iter().any(|x| x == o);
    let opts: Vec<String> = all
        .iter()
        .filter(|o| *o != COPY_UP && *o != CHOWN)
        .cloned()
        .collect();
    let (flags, data, bind, rec) = parse_options(&opts);
    if bind || typ == "bind" {
        let source = m.source().clone().unwrap_or_default();
        // Docker's volume semantics: an empty volume first gets what the image has there.
        if has(COPY_UP) && is_dir(&target) && dir_is_empty(&source) {
            copy_up(&target, &source).map_err(|e| {
                Error::InvalidArgument(format!(
                    "copying {} into its volume: {e}",
                    m.destination().display()
                ))
            })?;
        }
        if has(CHOWN) {
            crate::fsutil::chown_tree(&source, owner.0, owner.1)
                .ctx(|| format!("chowning {}", source.display()))?;
        }
        make_target(&target, is_dir(&source))?;
        sys.bind(&source, &target, rec)?;
        let extra = flags
            & (MsFlags::MS_RDONLY | MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC);
        if !extra.is_empty() {
            sys.remount(&target, extra)?;
        }
        return Ok(());
    }
    make_target(&target, true)?;
    let source = m
        .source()
        .as_ref()
        .map(|s| s.display().to_string())
        .unwrap_or_else(|| typ.to_string());
    let data = data.join(",");
    let data = (!data.is_empty()).then_some(data.as_str());
    match sys.mount_fs(&source, &target, typ, flags, data) {
        Ok(()) => Ok(()),
        // A user namespace without its own network namespace may not mount sysfs.
        Err(_) if typ == "sysfs" => {
            sys.bind(Path::new("/sys"), &target, true)?;
            sys.remount(
                &target,
                MsFlags::MS_RDONLY | MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
            )
        }
        Err(_) if typ == "mqueue" => Ok(()),
        Err(e) => Err(e),
    }
}

const DEVICES: &[&str] = &["null", "zero", "full", "random", "urandom", "tty"];

/// The usual device nodes, bind-mounted from the host (a user namespace cannot mknod),
/// and the usual symlinks.
fn populate_dev(sys: &dyn Syscall, root: &Path) -> Result<()> {
    let dev = root.join("dev");
    for d in DEVICES {
        let target = dev.join(d);
        make_target(&target, false)?;
        sys.bind(&Path::new("/dev").join(d), &target, false)?;
    }
    for (link, to) in [
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
        ("ptmx", "pts/ptmx"),
        ("core", "/proc/kcore"),
    ] {
        let _ = std::os::unix::fs::symlink(to, dev.join(link));
    }
    Ok(())
}

/// Hides host information: directories behind an empty read-only tmpfs, files behind
/// /dev/null.
fn mask(sys: &dyn Syscall, path: &Path) -> Result<()> {
    match std::fs::metadata(path) {
        Err(_) => Ok(()),
        Ok(m) if m.is_dir() => {
            sys.mount_fs("tmpfs", path, "tmpfs", MsFlags::MS_RDONLY, Some("size=0k"))
        }
        Ok(_) => sys.bind(Path::new("/dev/null"), path, false),
    }
}

fn make_readonly(sys: &dyn Syscall, path: &Path) -> Result<()> {
    if std::fs::symlink_metadata(path).is_err() {
        return Ok(());
    }
    sys.bind(path, path, true)?;
    sys.remount(
        path,
        MsFlags::MS_RDONLY | MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
    )
}

/// Everything up to and including pivot_root. `console` is the terminal slave to show
/// at /dev/console, when there is one.
pub fn build(sys: &dyn Syscall, spec: &Spec, plan: &RootfsPlan) -> Result<PathBuf> {
    sys.make_private(Path::new("/"))?;
    let root = spec
        .root()
        .as_ref()
        .map(|r| r.path().clone())
        .ok_or_else(|| Error::InvalidArgument("the spec has no root".into()))?;
    plan.driver.backend().mount_in_sandbox(sys, &root, plan)?;
    let owner = spec
        .process()
        .as_ref()
        .map(|p| (p.user().uid(), p.user().gid()))
        .unwrap_or((0, 0));
    for m in spec.mounts().iter().flatten() {
        do_mount(sys, &root, m, owner)?;
    }
    populate_dev(sys, &root)?;
    ensure_mtab(&root);
    Ok(root)
}

/// /etc/mtab as programs expect it (`mount`, `df`): a link to /proc/mounts, made as
/// podman makes it when the image has none. commit and diff leave it out.
fn ensure_mtab(root: &Path) {
    // The image's /etc may be a link, even one aimed at the host: resolve it inside the
    // root, and only write into a real directory there.
    let Ok(etc) = secure_join(root, Path::new("/etc")) else {
        return;
    };
    let is_dir = std::fs::symlink_metadata(&etc).is_ok_and(|m| m.is_dir());
    let mtab = etc.join("mtab");
    if is_dir && std::fs::symlink_metadata(&mtab).is_err() {
        let _ = std::os::unix::fs::symlink("/proc/mounts", &mtab);
    }
}

/// After the terminal (if any) is made: pivot, then mask and lock what must be.
pub fn finish(sys: &dyn Syscall, spec: &Spec, root: &Path) -> Result<()> {
    let seen = sys.pivot_into(root)?;
    let inside = |p: &str| seen.join(p.trim_start_matches('/'));
    if let Some(linux) = spec.linux() {
        for p in linux.masked_paths().iter().flatten() {
            mask(sys, &inside(p))?;
        }
        for p in linux.readonly_paths().iter().flatten() {
            make_readonly(sys, &inside(p))?;
        }
    }
    if spec
        .root()
        .as_ref()
        .and_then(|r| r.readonly())
        .unwrap_or(false)
    {
        sys.remount(&seen, MsFlags::MS_RDONLY)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::Driver;
    use crate::syscall::recording::{Call, RecordingSyscall};
    use oci_spec::runtime::{LinuxBuilder, MountBuilder, RootBuilder, SpecBuilder};

    struct Fixture {
        _dir: tempfile::TempDir,
        root: PathBuf,
        volume: PathBuf,
        plan: RootfsPlan,
    }

    /// A container root as the image leaves it, with a volume beside it.
    fn fixture() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("merged");
        for d in ["proc/acpi", "proc/sys", "sys", "dev", "etc"] {
            std::fs::create_dir_all(root.join(d)).unwrap();
        }
        std::fs::write(root.join("proc/kcore"), "").unwrap();
        let volume = dir.path().join("volume");
        std::fs::create_dir_all(&volume).unwrap();
        std::fs::write(volume.join("data"), "x").unwrap();
        let plan = RootfsPlan {
            driver: Driver::Overlay,
            layers_dir: dir.path().join("layers"),
            lowers: vec!["a/diff".into(), "b/diff".into()],
            upper: dir.path().join("upper"),
            work: dir.path().join("work"),
            empty: dir.path().join("empty"),
            keep_id: None,
        };
        Fixture {
            _dir: dir,
            root,
            volume,
            plan,
        }
    }

    fn mount(dest: &str, typ: &str, source: &str, options: &[&str]) -> Mount {
        MountBuilder::default()
            .destination(dest)
            .typ(typ)
            .source(source)
            .options(options.iter().map(|o| o.to_string()).collect::<Vec<_>>())
            .build()
            .unwrap()
    }

    fn spec(f: &Fixture, mounts: Vec<Mount>, readonly_root: bool) -> Spec {
        SpecBuilder::default()
            .root(
                RootBuilder::default()
                    .path(&f.root)
                    .readonly(readonly_root)
                    .build()
                    .unwrap(),
            )
            .mounts(mounts)
            .linux(
                LinuxBuilder::default()
                    .masked_paths(vec![
                        "/proc/acpi".to_string(),
                        "/proc/kcore".into(),
                        "/proc/missing".into(),
                    ])
                    .readonly_paths(vec!["/proc/sys".to_string()])
                    .build()
                    .unwrap(),
            )
            .build()
            .unwrap()
    }

    fn run_plan(sys: &RecordingSyscall, spec: &Spec, plan: &RootfsPlan) -> Vec<Call> {
        let root = build(sys, spec, plan).unwrap();
        finish(sys, spec, &root).unwrap();
        sys.calls()
    }

    const LOCKED: MsFlags = MsFlags::MS_RDONLY
        .union(MsFlags::MS_NOSUID)
        .union(MsFlags::MS_NODEV)
        .union(MsFlags::MS_NOEXEC);

    #[test]
    fn mount_plan_runs_in_order() {
        let f = fixture();
        let vol = f.volume.display().to_string();
        let mounts = vec![
            mount("/proc", "proc", "proc", &["nosuid", "noexec", "nodev"]),
            mount("/dev", "tmpfs", "tmpfs", &["nosuid", "mode=755"]),
            mount("/data", "bind", &vol, &["rbind", "ro"]),
        ];
        let sys = RecordingSyscall::default();
        let calls = run_plan(&sys, &spec(&f, mounts, true), &f.plan);
        let r = &f.root;
        let mut want = vec![
            Call::MakePrivate("/".into()),
            Call::Chdir(f.plan.layers_dir.clone()),
            Call::Mount {
                source: "overlay".into(),
                target: r.clone(),
                fstype: "overlay".into(),
                flags: MsFlags::empty(),
                data: Some(format!(
                    "lowerdir=a/diff:b/diff,upperdir={},workdir={},userxattr",
                    f.plan.upper.display(),
                    f.plan.work.display()
                )),
            },
            Call::Mount {
                source: "proc".into(),
                target: r.join("proc"),
                fstype: "proc".into(),
                flags: MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC | MsFlags::MS_NODEV,
                data: None,
            },
            Call::Mount {
                source: "tmpfs".into(),
                target: r.join("dev"),
                fstype: "tmpfs".into(),
                flags: MsFlags::MS_NOSUID,
                data: Some("mode=755".into()),
            },
            Call::Bind {
                source: f.volume.clone(),
                target: r.join("data"),
                recursive: true,
            },
            Call::Remount {
                target: r.join("data"),
                flags: MsFlags::MS_RDONLY,
            },
        ];
        for d in DEVICES {
            want.push(Call::Bind {
                source: Path::new("/dev").join(d),
                target: r.join("dev").join(d),
                recursive: false,
            });
        }
        want.extend([
            Call::Pivot(r.clone()),
            // Masked after the pivot, as the container sees them; a missing one is skipped.
            Call::Mount {
                source: "tmpfs".into(),
                target: r.join("proc/acpi"),
                fstype: "tmpfs".into(),
                flags: MsFlags::MS_RDONLY,
                data: Some("size=0k".into()),
            },
            Call::Bind {
                source: "/dev/null".into(),
                target: r.join("proc/kcore"),
                recursive: false,
            },
            Call::Bind {
                source: r.join("proc/sys"),
                target: r.join("proc/sys"),
                recursive: true,
            },
            Call::Remount {
                target: r.join("proc/sys"),
                flags: LOCKED,
            },
            Call::Remount {
                target: r.clone(),
                flags: MsFlags::MS_RDONLY,
            },
        ]);
        assert_eq!(calls, want);
        // The mount points were made in the root, a file for a file.
        assert!(r.join("data").is_dir());
        assert!(r.join("dev/null").is_file());
        assert_eq!(
            std::fs::read_link(r.join("etc/mtab")).unwrap(),
            Path::new("/proc/mounts")
        );
    }

    #[test]
    fn refused_sysfs_falls_back_to_a_read_only_bind() {
        let f = fixture();
        let sys = RecordingSyscall {
            refuse_fstype: Some("sysfs".into()),
            ..Default::default()
        };
        let mounts = vec![mount("/sys", "sysfs", "sysfs", &["ro"])];
        let calls = run_plan(&sys, &spec(&f, mounts, false), &f.plan);
        let target = f.root.join("sys");
        let at = calls
            .iter()
            .position(|c| matches!(c, Call::Bind { target: t, .. } if *t == target))
            .expect("sysfs bound from the host");
        assert_eq!(
            calls[at],
            Call::Bind {
                source: "/sys".into(),
                target: target.clone(),
                recursive: true
            }
        );
        assert_eq!(
            calls[at + 1],
            Call::Remount {
                target,
                flags: LOCKED
            }
        );
    }

    #[test]
    fn hostile_image_links_keep_mounts_inside_the_root() {
        let f = fixture();
        // The image points /etc and /evil at the host.
        std::fs::remove_dir(f.root.join("etc")).unwrap();
        std::os::unix::fs::symlink("/", f.root.join("etc")).unwrap();
        std::os::unix::fs::symlink("../../../../tmp", f.root.join("evil")).unwrap();
        let vol = f.volume.display().to_string();
        let mounts = vec![
            mount("/etc/hosts", "bind", &vol, &["bind"]),
            mount("/evil/x", "tmpfs", "tmpfs", &[]),
        ];
        let sys = RecordingSyscall::default();
        let calls = run_plan(&sys, &spec(&f, mounts, false), &f.plan);
        for c in &calls {
            let target = match c {
                Call::Mount { target, .. } | Call::Bind { target, .. } => target,
                Call::Remount { target, .. } => target,
                _ => continue,
            };
            assert!(target.starts_with(&f.root), "{c:?} leaves the root");
        }
        assert!(calls.contains(&Call::Bind {
            source: f.volume.clone(),
            target: f.root.join("hosts"),
            recursive: false
        }));
        assert!(
            f.root.join("tmp/x").is_dir(),
            "made inside, not on the host"
        );
        // /etc resolves to the root itself, so mtab lands there, not on the host.
        assert!(f.root.join("mtab").is_symlink());
    }

    #[test]
    fn vfs_binds_its_copy_and_fuse_mounts_nothing_inside() {
        let f = fixture();
        let sys = RecordingSyscall::default();
        let plan = RootfsPlan {
            driver: Driver::Vfs,
            lowers: vec![],
            ..f.plan.clone()
        };
        std::fs::create_dir_all(&plan.work).unwrap();
        std::fs::create_dir_all(&plan.upper).unwrap();
        let calls = run_plan(&sys, &spec(&f, vec![], false), &plan);
        assert_eq!(
            calls[1],
            Call::Bind {
                source: plan.upper.clone(),
                target: f.root.clone(),
                recursive: false
            }
        );
        let sys = RecordingSyscall::default();
        let plan = RootfsPlan {
            driver: Driver::FuseOverlayfs,
            ..f.plan.clone()
        };
        let calls = run_plan(&sys, &spec(&f, vec![], false), &plan);
        assert!(matches!(&calls[1], Call::Bind { source, .. } if source == Path::new("/dev/null")));
    }

    #[test]
    fn secure_join_stays_inside() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("real")).unwrap();
        std::os::unix::fs::symlink("/etc", root.join("abs")).unwrap();
        std::os::unix::fs::symlink("../../../..", root.join("real/up")).unwrap();
        assert_eq!(
            secure_join(root, Path::new("/abs/hosts")).unwrap(),
            root.join("etc/hosts")
        );
        assert_eq!(
            secure_join(root, Path::new("/real/up/x")).unwrap(),
            root.join("x")
        );
        assert_eq!(
            secure_join(root, Path::new("../../x")).unwrap(),
            root.join("x")
        );
    }
}
