//! Seccomp: the default profile and loading any OCI profile with libseccomp.
//!
//! The default profile allows what podman's allows for its default capabilities and
//! refuses the rest with EPERM. It is written as a deny-list (default allow) rather than
//! podman's allow-list: a kernel's new system calls are allowed until listed here, where
//! podman answers ENOSYS. Calls that a capability unlocks in podman's profile are
//! allowed again when that capability is added.

use oci_spec::runtime::{LinuxSeccomp, LinuxSeccompAction, LinuxSeccompOperator};
use serde_json::{json, Value};

/// Calls refused unless the container holds the capability that unlocks them.
const DENIED: &[(&str, &[&str])] = &[
    (
        "",
        &[
            "add_key",
            "keyctl",
            "request_key",
            "kexec_load",
            "kexec_file_load",
            "create_module",
            "get_kernel_syms",
            "query_module",
            "nfsservctl",
            "uselib",
            "userfaultfd",
            "ustat",
            "_sysctl",
            "sysfs",
            "vm86",
            "vm86old",
            "io_uring_setup",
            "io_uring_enter",
            "io_uring_register",
        ],
    ),
    (
        "CAP_SYS_ADMIN",
        &[
            "mount",
            "umount",
            "umount2",
            "unshare",
            "setns",
            "pivot_root",
            "mount_setattr",
            "move_mount",
            "open_tree",
            "fsopen",
            "fsconfig",
            "fsmount",
            "fspick",
            "quotactl",
            "quotactl_fd",
            "lookup_dcookie",
            "fanotify_init",
            "name_to_handle_at",
            "vhangup",
            "swapon",
            "swapoff",
            "bpf",
            "perf_event_open",
        ],
    ),
    (
        "CAP_SYS_PTRACE",
        &["ptrace", "process_vm_readv", "process_vm_writev", "kcmp"],
    ),
    (
        "CAP_SYS_MODULE",
        &["init_module", "finit_module", "delete_module"],
    ),
    (
        "CAP_SYS_TIME",
        &[
            "settimeofday",
            "stime",
            "clock_settime",
            "clock_adjtime",
            "adjtimex",
        ],
    ),
    ("CAP_SYS_BOOT", &["reboot"]),
    ("CAP_SYSLOG", &["syslog"]),
    ("CAP_SYS_PACCT", &["acct"]),
    (
        "CAP_SYS_NICE",
        &["mbind", "set_mempolicy", "get_mempolicy", "move_pages"],
    ),
    ("CAP_SYS_RAWIO", &["iopl", "ioperm"]),
    ("CAP_DAC_READ_SEARCH", &["open_by_handle_at"]),
];

/// clone flags that make namespaces: refused without CAP_SYS_ADMIN.
const NAMESPACE_FLAGS: &[u64] = &[
    0x0002_0000, // CLONE_NEWNS
    0x0200_0000, // CLONE_NEWCGROUP
    0x0400_0000, // CLONE_NEWUTS
    0x0800_0000, // CLONE_NEWIPC
    0x1000_0000, // CLONE_NEWUSER
    0x2000_0000, // CLONE_NEWPID
    0x4000_0000, // CLONE_NEWNET
];

/// The default profile for a container holding `caps`, in the OCI JSON shape.
pub fn default_profile(caps: &[String]) -> Value {
    let missing = |c: &str| !caps.iter().any(|x| x == c);
    let names: Vec<&str> = DENIED
        .iter()
        .filter(|(cap, _)| cap.is_empty() || missing(cap))
        .flat_map(|(_, n)| n.iter().copied())
        .collect();
    let mut syscalls =
        vec![json!({"names": names, "action": "SCMP_ACT_ERRNO", "errnoRet": libc::EPERM})];
    if missing("CAP_SYS_ADMIN") {
        for flag in NAMESPACE_FLAGS {
            syscalls.push(json!({"names": ["clone"], "action": "SCMP_ACT_ERRNO",
                "errnoRet": libc::EPERM,
                "args": [{"index": 0, "value": flag, "valueTwo": flag, "op": "SCMP_CMP_MASKED_EQ"}]}));
        }
    }
    // clone3 hides its flags in memory seccomp cannot read: ENOSYS makes libc fall back
    // to clone, which the rules above can check.
    syscalls
        .push(json!({"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": libc::ENOSYS}));
    json!({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": syscalls})
}

/// Accepts a docker/podman profile file: keeps the fields the OCI shape has, drops
/// docker's `includes`/`excludes` conditions by applying them to our capability-free
/// view (rules with conditions are skipped), and checks that it parses.
pub fn normalize_profile(v: Value) -> Result<Value, String> {
    let obj = v.as_object().ok_or("not a JSON object")?;
    let mut out = json!({
        "defaultAction": obj.get("defaultAction").cloned().ok_or("no defaultAction")?,
    });
    if let Some(e) = obj.get("defaultErrnoRet") {
        out["defaultErrnoRet"] = e.clone();
    }
    let mut rules = Vec::new();
    for s in obj
        .get("syscalls")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let conditional = ["includes", "excludes"].iter().any(|k| {
            s.get(k)
                .and_then(Value::as_object)
                .is_some_and(|o| !o.is_empty())
        });
        if conditional {
            continue;
        }
        let mut r = json!({"action": s.get("action").cloned().ok_or("a rule has no action")?});
        let names = match (s.get("names"), s.get("name")) {
            (Some(n), _) => n.clone(),
            (None, Some(n)) => json!([n]),
            _ => return Err("a rule has no names".into()),
        };
        r["names"] = names;
        for k in ["errnoRet", "args"] {
            if let Some(x) = s.get(k).filter(|x| !x.is_null()) {
                r[k] = x.clone();
            }
        }
        rules.push(r);
    }
    out["syscalls"] = Value::Array(rules);
    serde_json::from_value::<LinuxSeccomp>(out.clone()).map_err(|e| e.to_string())?;
    Ok(out)
}

fn action(a: LinuxSeccompAction, errno: Option<u32>) -> libseccomp::ScmpAction {
    use libseccomp::ScmpAction as A;
    match a {
        LinuxSeccompAction::ScmpActKill | LinuxSeccompAction::ScmpActKillThread => A::KillThread,
        LinuxSeccompAction::ScmpActKillProcess => A::KillProcess,
        LinuxSeccompAction::ScmpActTrap => A::Trap,
        LinuxSeccompAction::ScmpActErrno => A::Errno(errno.unwrap_or(libc::EPERM as u32) as i32),
        LinuxSeccompAction::ScmpActTrace => A::Trace(errno.unwrap_or(0) as u16),
        LinuxSeccompAction::ScmpActLog => A::Log,
        LinuxSeccompAction::ScmpActNotify => A::Errno(libc::ENOSYS),
        _ => A::Allow,
    }
}

fn compare(
    op: LinuxSeccompOperator,
    value: u64,
    two: Option<u64>,
) -> (libseccomp::ScmpCompareOp, u64) {
    use libseccomp::ScmpCompareOp as C;
    match op {
        LinuxSeccompOperator::ScmpCmpNe => (C::NotEqual, value),
        LinuxSeccompOperator::ScmpCmpLt => (C::Less, value),
        LinuxSeccompOperator::ScmpCmpLe => (C::LessOrEqual, value),
        LinuxSeccompOperator::ScmpCmpEq => (C::Equal, value),
        LinuxSeccompOperator::ScmpCmpGe => (C::GreaterEqual, value),
        LinuxSeccompOperator::ScmpCmpGt => (C::Greater, value),
        LinuxSeccompOperator::ScmpCmpMaskedEq => (C::MaskedEqual(value), two.unwrap_or(0)),
    }
}

/// The filter of `profile` as libseccomp builds it. Names this kernel or libseccomp does
/// not know are skipped, as runc and crun do.
fn build(profile: &LinuxSeccomp) -> Result<libseccomp::ScmpFilterContext, String> {
    use libseccomp::{ScmpArgCompare, ScmpFilterContext, ScmpSyscall};
    let default = action(profile.default_action(), profile.default_errno_ret());
    let mut ctx = ScmpFilterContext::new(default).map_err(|e| e.to_string())?;
    // The caller sets no_new_privs itself when asked; libseccomp must not force it.
    ctx.set_ctl_nnp(false).map_err(|e| e.to_string())?;
    for rule in profile.syscalls().iter().flatten() {
        let act = action(rule.action(), rule.errno_ret());
        if act == default {
            continue;
        }
        let cmps: Vec<ScmpArgCompare> = rule
            .args()
            .iter()
            .flatten()
            .map(|a| {
                let (op, datum) = compare(a.op(), a.value(), a.value_two());
                ScmpArgCompare::new(a.index() as u32, op, datum)
            })
            .collect();
        for name in rule.names() {
            let Ok(sc) = ScmpSyscall::from_name(name) else {
                continue;
            };
            ctx.add_rule_conditional(act, sc, &cmps)
                .map_err(|e| format!("seccomp rule for {name}: {e}"))?;
        }
    }
    Ok(ctx)
}

/// A filter compiled to classic BPF, ready to load: compiling takes milliseconds that
/// a container start should not spend every time, so programs are cached on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Program(Vec<u8>);

/// One `struct sock_filter` is 8 bytes.
const INSN: usize = 8;

impl Program {
    pub fn compile(profile: &LinuxSeccomp) -> Result<Program, String> {
        let ctx = build(profile)?;
        let fd =
            nix::sys::memfd::memfd_create(c"skiff-seccomp", nix::sys::memfd::MFdFlags::MFD_CLOEXEC)
                .map_err(|e| format!("memfd for the seccomp filter: {e}"))?;
        ctx.export_bpf(&fd)
            .map_err(|e| format!("compiling the seccomp filter: {e}"))?;
        let mut f = std::fs::File::from(fd);
        use std::io::{Read, Seek};
        let mut bytes = Vec::new();
        f.seek(std::io::SeekFrom::Start(0))
            .and_then(|_| f.read_to_end(&mut bytes))
            .map_err(|e| format!("reading the seccomp filter: {e}"))?;
        Program::from_bytes(bytes).ok_or_else(|| "libseccomp made an empty filter".into())
    }

    fn from_bytes(bytes: Vec<u8>) -> Option<Program> {
        (!bytes.is_empty()
            && bytes.len().is_multiple_of(INSN)
            && bytes.len() / INSN <= u16::MAX as usize)
            .then_some(Program(bytes))
    }

    /// The program for `profile` from `cache_dir`, compiled and stored there on a miss.
    /// The key covers the profile, the architecture and libseccomp's version (its
    /// syscall tables decide the numbers).
    pub fn cached(cache_dir: &std::path::Path, profile: &LinuxSeccomp) -> Result<Program, String> {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        h.update(serde_json::to_vec(profile).map_err(|e| e.to_string())?);
        h.update(std::env::consts::ARCH);
        if let Ok(v) = libseccomp::ScmpVersion::current() {
            h.update(format!("{}.{}.{}", v.major, v.minor, v.micro));
        }
        let file = cache_dir.join(format!("{:x}.bpf", h.finalize()));
        if let Some(p) = std::fs::read(&file).ok().and_then(Program::from_bytes) {
            return Ok(p);
        }
        let p = Program::compile(profile)?;
        // A cache that cannot be written only costs the next start its time.
        if std::fs::create_dir_all(cache_dir).is_ok() {
            let _ = crate::fsutil::replace_file(&file, &p.0);
        }
        Ok(p)
    }

    /// Loads the filter into the calling thread.
    pub fn load(&self) -> Result<(), String> {
        let prog = libc::sock_fprog {
            len: (self.0.len() / INSN) as u16,
            filter: self.0.as_ptr() as *mut libc::sock_filter,
        };
        // SAFETY: `prog` points at whole sock_filter records (length checked in
        // from_bytes) that outlive the call; the kernel copies them.
        let r = unsafe {
            libc::prctl(
                libc::PR_SET_SECCOMP,
                libc::SECCOMP_MODE_FILTER as libc::c_ulong,
                &prog as *const libc::sock_fprog,
            )
        };
        if r == 0 {
            Ok(())
        } else {
            Err(format!(
                "loading seccomp filter: {}",
                std::io::Error::last_os_error()
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn programs_are_cached_by_profile() {
        let dir = tempfile::tempdir().unwrap();
        let profile: LinuxSeccomp = serde_json::from_value(default_profile(&[])).unwrap();
        let first = Program::cached(dir.path(), &profile).unwrap();
        assert_eq!(first, Program::compile(&profile).unwrap());
        let files: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(files.len(), 1);
        // A damaged cache entry is compiled again, not loaded.
        let file = files[0].as_ref().unwrap().path();
        std::fs::write(&file, b"short").unwrap();
        assert_eq!(Program::cached(dir.path(), &profile).unwrap(), first);
        // Another profile, another entry.
        let other: LinuxSeccomp =
            serde_json::from_value(default_profile(&["CAP_SYS_ADMIN".into()])).unwrap();
        assert_ne!(Program::cached(dir.path(), &other).unwrap(), first);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
    }

    #[test]
    fn default_profile_parses_and_unlocks_with_caps() {
        let p = default_profile(&[]);
        let s: LinuxSeccomp = serde_json::from_value(p.clone()).unwrap();
        let names: Vec<String> = s
            .syscalls()
            .iter()
            .flatten()
            .flat_map(|r| r.names().clone())
            .collect();
        assert!(names.contains(&"mount".to_string()));
        let p = default_profile(&["CAP_SYS_ADMIN".into()]);
        assert!(!p.to_string().contains("\"mount\""));
    }

    #[test]
    fn docker_profile_normalized() {
        let v = json!({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
            {"names": ["read"], "action": "SCMP_ACT_ALLOW"},
            {"names": ["mount"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN"]}}
        ]});
        let out = normalize_profile(v).unwrap();
        assert_eq!(out["syscalls"].as_array().unwrap().len(), 1);
        assert!(normalize_profile(json!({"syscalls": []})).is_err());
    }
}
