//! The OCI runtime spec a container runs by, made from the image config and the create
//! options. It is written to the bundle (`config.json`) and read back by the supervisor;
//! the sandbox obeys it and nothing else.

use super::options::{CreateOptions, NetMode, NsMode, UsernsMode};
use crate::error::{Error, Result};
use crate::sandbox::user::ResolvedUser;
use crate::userns::{IdMapping, IdMaps};
use oci_spec::runtime::{
    Capabilities, Capability, Hooks, Linux, LinuxCapabilities, LinuxIdMapping,
    LinuxIdMappingBuilder, LinuxNamespace, LinuxNamespaceBuilder, LinuxNamespaceType, LinuxSeccomp,
    Mount, PosixRlimit, PosixRlimitBuilder, PosixRlimitType, Process, Root, Spec, User,
};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// podman's default capability set.
pub const DEFAULT_CAPS: &[&str] = &[
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_NET_BIND_SERVICE",
    "CAP_SETFCAP",
    "CAP_SETGID",
    "CAP_SETPCAP",
    "CAP_SETUID",
    "CAP_SYS_CHROOT",
];

/// podman's masked paths: hidden behind /dev/null or an empty read-only tmpfs.
pub const MASKED_PATHS: &[&str] = &[
    "/proc/acpi",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/fs/selinux",
    "/sys/dev/block",
    "/sys/devices/virtual/powercap",
];

/// podman's read-only paths.
pub const READONLY_PATHS: &[&str] = &[
    "/proc/asound",
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
];

pub use crate::sandbox::process::DEFAULT_PATH;

/// Every capability the running kernel knows, by name.
pub fn all_caps() -> Vec<String> {
    let last: u8 = std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(40);
    // A capability outside our own bounding set cannot be given (capset refuses it):
    // "all" means all that this process may hand on, as podman takes it.
    let bounding = caps::read(None, caps::CapSet::Bounding).unwrap_or_else(|_| caps::all());
    caps::all()
        .into_iter()
        .filter(|c| c.index() <= last && bounding.contains(c))
        .map(|c| c.to_string())
        .collect()
}

/// `CAP_X` from `x`, `X`, `cap_x` or `CAP_X`; "ALL" stays.
pub fn normalize_cap(name: &str) -> Result<String> {
    let upper = name.to_uppercase();
    if upper == "ALL" {
        return Ok(upper);
    }
    let full = if upper.starts_with("CAP_") {
        upper
    } else {
        format!("CAP_{upper}")
    };
    full.parse::<caps::Capability>()
        .map(|c| c.to_string())
        .map_err(|_| Error::InvalidArgument(format!("unknown capability {name:?}")))
}

/// The default set with `--cap-add`/`--cap-drop` applied (drop first, as podman does,
/// so `--cap-drop ALL --cap-add X` leaves just X).
pub fn capability_set(privileged: bool, add: &[String], drop: &[String]) -> Result<Vec<String>> {
    let mut set: Vec<String> = if privileged {
        all_caps()
    } else {
        DEFAULT_CAPS.iter().map(|s| s.to_string()).collect()
    };
    for d in drop {
        let d = normalize_cap(d)?;
        if d == "ALL" {
            set.clear();
        } else {
            set.retain(|c| *c != d);
        }
    }
    for a in add {
        let a = normalize_cap(a)?;
        let new = if a == "ALL" { all_caps() } else { vec![a] };
        for c in new {
            if !set.contains(&c) {
                set.push(c);
            }
        }
    }
    set.sort();
    Ok(set)
}

/// Inputs the spec needs beyond the create options.
pub struct SpecInputs<'a> {
    pub opts: &'a CreateOptions,
    pub args: Vec<String>,
    pub env: Vec<String>,
    pub cwd: String,
    pub user: ResolvedUser,
    pub hostname: String,
    pub rootfs: &'a Path,
    pub userdata: &'a Path,
    /// The rootless user's maps (None for root).
    pub rootless_maps: Option<&'a IdMaps>,
    pub hooks: Hooks,
    /// Bind, volume and tmpfs mounts the user asked for, in mount order.
    pub extra_mounts: Vec<Mount>,
    /// Files of /etc (beyond hosts, hostname, resolv.conf) written into the userdata
    /// directory that replace the image's: passwd and group with added users.
    pub etc_files: Vec<&'static str>,
}

/// A spec-building failure is a bug in what we built, not the user's input.
fn built<T, E: std::fmt::Display>(what: &str, r: std::result::Result<T, E>) -> Result<T> {
    r.map_err(|e| Error::InvalidArgument(format!("building the runtime spec's {what}: {e}")))
}

/// One OCI mount.
pub fn spec_mount<S: AsRef<str>>(
    destination: &str,
    typ: &str,
    source: impl AsRef<Path>,
    options: impl IntoIterator<Item = S>,
) -> Mount {
    let mut m = Mount::default();
    m.set_destination(destination.into());
    m.set_typ(Some(typ.to_string()));
    m.set_source(Some(source.as_ref().to_path_buf()));
    m.set_options(Some(
        options
            .into_iter()
            .map(|o| o.as_ref().to_string())
            .collect(),
    ));
    m
}

fn namespace(typ: LinuxNamespaceType) -> LinuxNamespace {
    let mut n = LinuxNamespace::default();
    n.set_typ(typ);
    n
}

/// `CAP_X` names as the spec's capability set; the names were checked already.
fn capability_set_of(names: &[String]) -> Result<Capabilities> {
    names
        .iter()
        .map(|n| {
            let bare = n.strip_prefix("CAP_").unwrap_or(n);
            built("capabilities", bare.parse::<Capability>())
        })
        .collect()
}

fn id_mappings(maps: &[IdMapping]) -> Result<Vec<LinuxIdMapping>> {
    maps.iter()
        .map(|m| {
            let b = LinuxIdMappingBuilder::default()
                .container_id(m.container_id)
                .host_id(m.host_id)
                .size(m.size)
                .build();
            built("id mappings", b)
        })
        .collect()
}

pub fn build(i: &SpecInputs) -> Result<Spec> {
    let o = i.opts;
    let caps = capability_set(o.privileged, &o.cap_add, &o.cap_drop)?;
    let bounding = capability_set_of(&caps)?;
    let for_user = if i.user.uid == 0 {
        bounding.clone()
    } else {
        Capabilities::new()
    };
    let maps = id_maps(o, i.rootless_maps)?;
    let userns = maps.is_some();
    let mut namespaces = vec![
        namespace(LinuxNamespaceType::Mount),
        namespace(LinuxNamespaceType::Cgroup),
    ];
    if userns {
        namespaces.push(namespace(LinuxNamespaceType::User));
    }
    for (mode, kind) in [
        (&o.pid, LinuxNamespaceType::Pid),
        (&o.ipc, LinuxNamespaceType::Ipc),
        (&o.uts, LinuxNamespaceType::Uts),
    ] {
        // Joined namespaces get their path when the supervisor starts the container:
        // the other container's pid changes with every start.
        if *mode != NsMode::Host {
            namespaces.push(namespace(kind));
        }
    }
    if o.network != NetMode::Host {
        namespaces.push(namespace(LinuxNamespaceType::Network));
    }
    let seccomp = match o.security.seccomp.as_deref() {
        Some("unconfined") => None,
        Some(file) => Some(load_seccomp_file(Path::new(file))?),
        None if o.privileged => None,
        None => Some(crate::sandbox::seccomp::default_profile(&caps)),
    };
    let seccomp: Option<LinuxSeccomp> = seccomp
        .map(|v| serde_json::from_value(v).map_err(|e| Error::json("seccomp profile", e)))
        .transpose()?;
    let mut env = i.env.clone();
    if o.tty && !env.iter().any(|e| e.starts_with("TERM=")) {
        env.push("TERM=xterm".into());
    }
    let mut user = User::default();
    user.set_uid(i.user.uid);
    user.set_gid(i.user.gid);
    user.set_additional_gids(Some(i.user.additional_gids.clone()));
    let mut capabilities = LinuxCapabilities::default();
    capabilities.set_bounding(Some(bounding));
    capabilities.set_effective(Some(for_user.clone()));
    capabilities.set_permitted(Some(for_user));
    capabilities.set_inheritable(Some(Capabilities::new()));
    capabilities.set_ambient(Some(Capabilities::new()));
    let mut process = Process::default();
    process.set_terminal(Some(o.tty));
    process.set_user(user);
    process.set_args(Some(i.args.clone()));
    process.set_env(Some(env));
    process.set_cwd(PathBuf::from(&i.cwd));
    process.set_capabilities(Some(capabilities));
    process.set_rlimits(Some(rlimits(o)?));
    process.set_no_new_privileges(Some(o.security.no_new_privileges));
    process.set_oom_score_adj(o.oom_score_adj);
    process.set_apparmor_profile(None);
    let mut root = Root::default();
    root.set_path(i.rootfs.to_path_buf());
    root.set_readonly(Some(o.read_only));
    let strings = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let mut linux = Linux::default();
    linux.set_namespaces(Some(namespaces));
    let (masked, readonly) = if o.privileged {
        (vec![], vec![])
    } else {
        (strings(MASKED_PATHS), strings(READONLY_PATHS))
    };
    linux.set_masked_paths(Some(masked));
    linux.set_readonly_paths(Some(readonly));
    linux.set_rootfs_propagation(Some("private".into()));
    linux.set_resources(None);
    linux.set_devices(None);
    if let Some((uids, gids)) = &maps {
        linux.set_uid_mappings(Some(id_mappings(uids)?));
        linux.set_gid_mappings(Some(id_mappings(gids)?));
    }
    linux.set_seccomp(seccomp);
    let mut mounts = mounts(o, i.userdata, userns, &i.etc_files);
    mounts.extend(i.extra_mounts.iter().cloned());
    let mut spec = Spec::default();
    spec.set_version("1.1.0".into());
    spec.set_process(Some(process));
    spec.set_root(Some(root));
    spec.set_hostname(Some(i.hostname.clone()));
    spec.set_mounts(Some(mounts));
    spec.set_annotations(Some(
        o.annotations
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    ));
    spec.set_hooks(Some(i.hooks.clone()));
    spec.set_linux(Some(linux));
    Ok(spec)
}

/// The user namespace maps, or None for no user namespace (root by default).
fn id_maps(
    o: &CreateOptions,
    rootless: Option<&IdMaps>,
) -> Result<Option<(Vec<IdMapping>, Vec<IdMapping>)>> {
    match (rootless, &o.userns) {
        (None, UsernsMode::Default | UsernsMode::Host) => Ok(None),
        (None, UsernsMode::KeepId) => Err(Error::InvalidArgument(
            "--userns=keep-id is only for rootless containers".into(),
        )),
        (None, UsernsMode::Auto) => Err(Error::InvalidArgument(
            "--userns=auto as root needs id-mapped layers, which skiff does not do yet".into(),
        )),
        (Some(m), UsernsMode::Default | UsernsMode::Host | UsernsMode::Auto) => {
            Ok(Some((m.uids.clone(), m.gids.clone())))
        }
        (Some(m), UsernsMode::KeepId) => {
            let host_uid = nix::unistd::getuid().as_raw();
            let host_gid = nix::unistd::getgid().as_raw();
            Ok(Some((
                keep_id(&m.uids, host_uid),
                keep_id(&m.gids, host_gid),
            )))
        }
    }
}

/// keep-id: the user's own id maps to the same number inside; container root and the
/// other ids come from the subordinate range.
fn keep_id(maps: &[IdMapping], own: u32) -> Vec<IdMapping> {
    let subs: Vec<&IdMapping> = maps.iter().filter(|m| m.container_id != 0).collect();
    let mut out = vec![IdMapping {
        container_id: own,
        host_id: own,
        size: 1,
    }];
    let mut next_inside = 0u32;
    for s in subs {
        let mut host = s.host_id;
        let mut left = s.size;
        while left > 0 {
            if next_inside == own {
                next_inside += 1;
                continue;
            }
            let end = if next_inside < own { own } else { u32::MAX };
            let n = left.min(end - next_inside);
            out.push(IdMapping {
                container_id: next_inside,
                host_id: host,
                size: n,
            });
            next_inside += n;
            host += n;
            left -= n;
        }
    }
    out
}

fn rlimits(o: &CreateOptions) -> Result<Vec<PosixRlimit>> {
    let mut limits: Vec<(String, u64, u64)> = Vec::new();
    // podman raises nofile and nproc to what the caller may have.
    for (name, res) in [
        ("RLIMIT_NOFILE", nix::sys::resource::Resource::RLIMIT_NOFILE),
        ("RLIMIT_NPROC", nix::sys::resource::Resource::RLIMIT_NPROC),
    ] {
        if let Ok((_, hard)) = nix::sys::resource::getrlimit(res) {
            let want = if name == "RLIMIT_NOFILE" {
                1_048_576
            } else {
                4_194_304
            };
            let v = hard.min(want);
            limits.push((name.into(), v, v));
        }
    }
    for u in &o.ulimits {
        let name = format!("RLIMIT_{}", u.name.to_uppercase());
        limits.retain(|(n, _, _)| *n != name);
        limits.push((name, u.soft, u.hard));
    }
    limits
        .into_iter()
        .map(|(t, soft, hard)| {
            let typ = built("rlimits", t.parse::<PosixRlimitType>())?;
            let b = PosixRlimitBuilder::default()
                .typ(typ)
                .soft(soft)
                .hard(hard)
                .build();
            built("rlimits", b)
        })
        .collect()
}

fn mounts(o: &CreateOptions, userdata: &Path, userns: bool, etc_files: &[&str]) -> Vec<Mount> {
    let mut m = vec![
        spec_mount("/proc", "proc", "proc", ["nosuid", "noexec", "nodev"]),
        spec_mount(
            "/dev",
            "tmpfs",
            "tmpfs",
            ["nosuid", "strictatime", "mode=755", "size=65536k"],
        ),
        spec_mount(
            "/dev/pts",
            "devpts",
            "devpts",
            [
                "nosuid",
                "noexec",
                "newinstance",
                "ptmxmode=0666",
                "mode=0620",
            ],
        ),
        spec_mount(
            "/dev/mqueue",
            "mqueue",
            "mqueue",
            ["nosuid", "noexec", "nodev"],
        ),
        match &o.shm_dir {
            Some(dir) => spec_mount(
                "/dev/shm",
                "bind",
                dir,
                ["bind", "rprivate", "nosuid", "noexec", "nodev"],
            ),
            None => spec_mount(
                "/dev/shm",
                "tmpfs",
                "shm",
                ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"],
            ),
        },
    ];
    // sysfs can only be mounted by a user namespace that owns the network namespace.
    m.push(if o.network == NetMode::Host && userns {
        spec_mount(
            "/sys",
            "bind",
            "/sys",
            ["rbind", "nosuid", "noexec", "nodev", "ro"],
        )
    } else {
        spec_mount(
            "/sys",
            "sysfs",
            "sysfs",
            ["nosuid", "noexec", "nodev", "ro"],
        )
    });
    for f in ["hosts", "hostname", "resolv.conf"].iter().chain(etc_files) {
        m.push(spec_mount(
            &format!("/etc/{f}"),
            "bind",
            userdata.join(f),
            ["bind", "rprivate"],
        ));
    }
    // podman's marker that a program runs in a container (read-only: it is ours).
    m.push(spec_mount(
        "/run/.containerenv",
        "bind",
        userdata.join(CONTAINERENV),
        ["bind", "rprivate", "ro"],
    ));
    if o.pid == NsMode::Host && userns {
        // A user namespace cannot mount a proc for a pid namespace it does not own.
        m[0] = spec_mount(
            "/proc",
            "bind",
            "/proc",
            ["rbind", "nosuid", "noexec", "nodev"],
        );
    }
    if o.ipc == NsMode::Host {
        m.retain(|x| x.destination() != Path::new("/dev/mqueue"));
    }
    m
}

/// A seccomp profile in the OCI/docker JSON shape, read from `--security-opt seccomp=`.
fn load_seccomp_file(path: &Path) -> Result<Value> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::io(format!("reading seccomp profile {}", path.display()), e))?;
    let v: Value = serde_json::from_str(&text)
        .map_err(|e| Error::json(format!("seccomp profile {}", path.display()), e))?;
    crate::sandbox::seccomp::normalize_profile(v)
        .map_err(|why| Error::InvalidArgument(format!("seccomp profile {}: {why}", path.display())))
}

/// Makes the spec's namespace of type `typ` the one at `path` (another container's),
/// instead of a new one.
pub fn point_namespace(spec: &mut Spec, typ: LinuxNamespaceType, path: PathBuf) -> Result<()> {
    let linux = spec.linux_mut().get_or_insert_with(Default::default);
    let nss = linux.namespaces_mut().get_or_insert_with(Vec::new);
    nss.retain(|n| n.typ() != typ);
    nss.push(
        LinuxNamespaceBuilder::default()
            .typ(typ)
            .path(path)
            .build()
            .map_err(|e| Error::InvalidArgument(format!("namespace: {e}")))?,
    );
    Ok(())
}

/// When the spec asks for a user namespace, makes it the existing one at `path`, whose
/// id maps are already written (so the spec's own maps go).
pub fn join_user_namespace(spec: &mut Spec, path: &Path) -> Result<()> {
    let wants_user = spec
        .linux()
        .as_ref()
        .and_then(|l| l.namespaces().as_ref())
        .is_some_and(|nss| nss.iter().any(|n| n.typ() == LinuxNamespaceType::User));
    if !wants_user {
        return Ok(());
    }
    point_namespace(spec, LinuxNamespaceType::User, path.to_path_buf())?;
    if let Some(l) = spec.linux_mut() {
        l.set_uid_mappings(None);
        l.set_gid_mappings(None);
    }
    Ok(())
}

/// The file in the userdata directory shown at /run/.containerenv.
pub const CONTAINERENV: &str = "containerenv";

/// /run/.containerenv: empty, unless the container is privileged, when it tells the
/// engine, the container and its image, as podman's does.
pub fn containerenv(i: &ContainerEnv) -> String {
    if !i.privileged {
        return String::new();
    }
    format!(
        "engine=\"skiff-{}\"\nname={:?}\nid={:?}\nimage={:?}\nimageid={:?}\nrootless={}\n",
        env!("CARGO_PKG_VERSION"),
        i.name,
        i.id,
        i.image,
        i.image_id,
        u8::from(i.rootless)
    )
}

/// What /run/.containerenv may tell.
pub struct ContainerEnv<'a> {
    pub privileged: bool,
    pub name: &'a str,
    pub id: &'a str,
    pub image: &'a str,
    pub image_id: &'a str,
    pub rootless: bool,
}

/// The hostname a container gets: `--hostname`, else the short id.
pub fn hostname_for(o: &CreateOptions, id: &str) -> String {
    o.hostname.clone().unwrap_or_else(|| id[..12].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec_with(nss: &[LinuxNamespaceType]) -> Spec {
        let mut spec = Spec::default();
        let linux = spec.linux_mut().get_or_insert_with(Default::default);
        linux.set_namespaces(Some(
            nss.iter()
                .map(|t| LinuxNamespaceBuilder::default().typ(*t).build().unwrap())
                .collect(),
        ));
        linux.set_uid_mappings(Some(vec![]));
        spec
    }

    fn namespaces(spec: &Spec) -> Vec<(LinuxNamespaceType, Option<PathBuf>)> {
        let mut v: Vec<_> = spec
            .linux()
            .as_ref()
            .unwrap()
            .namespaces()
            .clone()
            .unwrap()
            .iter()
            .map(|n| (n.typ(), n.path().clone()))
            .collect();
        v.sort_by_key(|(t, _)| format!("{t:?}"));
        v
    }

    #[test]
    fn joined_namespaces_replace_new_ones() {
        use LinuxNamespaceType::*;
        let mut spec = spec_with(&[Pid, Network, User]);
        point_namespace(&mut spec, Network, "/proc/7/ns/net".into()).unwrap();
        join_user_namespace(&mut spec, Path::new("/proc/7/ns/user")).unwrap();
        assert_eq!(
            namespaces(&spec),
            vec![
                (Network, Some("/proc/7/ns/net".into())),
                (Pid, None),
                (User, Some("/proc/7/ns/user".into())),
            ]
        );
        assert!(spec.linux().as_ref().unwrap().uid_mappings().is_none());
        // Without a user namespace of its own (root), none is joined.
        let mut root = spec_with(&[Pid]);
        join_user_namespace(&mut root, Path::new("/proc/7/ns/user")).unwrap();
        assert_eq!(namespaces(&root), vec![(Pid, None)]);
    }

    #[test]
    fn caps_add_and_drop() {
        let s = capability_set(false, &["net_admin".into()], &["CAP_KILL".into()]).unwrap();
        assert!(s.contains(&"CAP_NET_ADMIN".to_string()));
        assert!(!s.contains(&"CAP_KILL".to_string()));
        let s = capability_set(false, &["CHOWN".into()], &["ALL".into()]).unwrap();
        assert_eq!(s, vec!["CAP_CHOWN".to_string()]);
        assert!(capability_set(false, &["BOGUS".into()], &[]).is_err());
    }

    #[test]
    fn keep_id_maps_own_id() {
        let maps = vec![
            IdMapping {
                container_id: 0,
                host_id: 1001,
                size: 1,
            },
            IdMapping {
                container_id: 1,
                host_id: 100000,
                size: 65536,
            },
        ];
        let k = keep_id(&maps, 1001);
        assert_eq!(
            k[0],
            IdMapping {
                container_id: 1001,
                host_id: 1001,
                size: 1
            }
        );
        assert_eq!(
            k[1],
            IdMapping {
                container_id: 0,
                host_id: 100000,
                size: 1001
            }
        );
        assert_eq!(
            k[2],
            IdMapping {
                container_id: 1002,
                host_id: 101001,
                size: 64535
            }
        );
    }
}
