//! Resource limits by their OCI names.

use nix::sys::resource::{setrlimit, Resource};
use oci_spec::runtime::PosixRlimit;

pub fn resource_of(name: &str) -> Option<Resource> {
    Some(match name {
        "RLIMIT_CPU" => Resource::RLIMIT_CPU,
        "RLIMIT_FSIZE" => Resource::RLIMIT_FSIZE,
        "RLIMIT_DATA" => Resource::RLIMIT_DATA,
        "RLIMIT_STACK" => Resource::RLIMIT_STACK,
        "RLIMIT_CORE" => Resource::RLIMIT_CORE,
        "RLIMIT_RSS" => Resource::RLIMIT_RSS,
        "RLIMIT_NPROC" => Resource::RLIMIT_NPROC,
        "RLIMIT_NOFILE" => Resource::RLIMIT_NOFILE,
        "RLIMIT_MEMLOCK" => Resource::RLIMIT_MEMLOCK,
        "RLIMIT_AS" => Resource::RLIMIT_AS,
        "RLIMIT_LOCKS" => Resource::RLIMIT_LOCKS,
        "RLIMIT_SIGPENDING" => Resource::RLIMIT_SIGPENDING,
        "RLIMIT_MSGQUEUE" => Resource::RLIMIT_MSGQUEUE,
        "RLIMIT_NICE" => Resource::RLIMIT_NICE,
        "RLIMIT_RTPRIO" => Resource::RLIMIT_RTPRIO,
        "RLIMIT_RTTIME" => Resource::RLIMIT_RTTIME,
        _ => return None,
    })
}

fn oci_name(l: &PosixRlimit) -> String {
    // The enum serializes as its OCI name.
    serde_json::to_value(l.typ())
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// Applies every limit; a failure names the limit (raising a hard limit needs privilege).
pub fn apply(limits: &[PosixRlimit]) -> Result<(), String> {
    for l in limits {
        let name = oci_name(l);
        let Some(res) = resource_of(&name) else {
            return Err(format!("unknown rlimit {name}"));
        };
        setrlimit(res, l.soft(), l.hard())
            .map_err(|e| format!("setting {name} to {}:{}: {e}", l.soft(), l.hard()))?;
    }
    Ok(())
}
