//! Container and image inspect in dockerd's shape. The CLI's inspect (podman's shape)
//! is the base; dockerd has keys podman lacks, and clients index them without
//! checking (`HostConfig.Binds`, `NetworkSettings.SandboxKey`, `ContainerConfig`).
//! Keys skiff has a value for get it; the rest get dockerd's value for "not set".

use libruntime::container::spec::{MASKED_PATHS, READONLY_PATHS};
use libruntime::container::ContainerRecord;
use serde_json::{json, Map, Value};

/// Sets each key the object lacks.
fn fill(v: &mut Value, defaults: Vec<(&str, Value)>) {
    if let Value::Object(m) = v {
        for (k, d) in defaults {
            m.entry(k.to_string()).or_insert(d);
        }
    }
}

/// `-v` as dockerd lists it in HostConfig.Binds: `SOURCE:DEST[:ro]`, named volumes
/// and host paths alike; tmpfs mounts are not binds.
fn binds(r: &ContainerRecord) -> Vec<String> {
    r.config
        .mounts
        .iter()
        .filter_map(|m| {
            let source = match m.kind.as_str() {
                "bind" => m.source.clone(),
                "volume" if !m.name.is_empty() => m.name.clone(),
                _ => return None,
            };
            let ro = if m.rw { "" } else { ":ro" };
            Some(format!("{source}:{}{ro}", m.destination))
        })
        .collect()
}

/// The container inspect: `v` is the CLI's, `pid` the running process (0 when none).
pub fn container(mut v: Value, r: &ContainerRecord, pid: i32) -> Value {
    let c = &r.config;
    fill(
        &mut v,
        vec![
            ("Platform", json!("linux")),
            ("MountLabel", json!("")),
            ("ProcessLabel", json!("")),
            ("AppArmorProfile", json!("")),
            ("ExecIDs", Value::Null),
        ],
    );
    fill(
        &mut v["HostConfig"],
        vec![
            ("Binds", json!(binds(r))),
            ("ContainerIDFile", json!("")),
            ("VolumeDriver", json!("")),
            // What the record does not keep (it went into the container's files at
            // create) reads as unset.
            ("VolumesFrom", Value::Null),
            ("CgroupnsMode", json!("host")),
            ("Dns", json!([])),
            ("DnsOptions", json!([])),
            ("DnsSearch", json!([])),
            ("ExtraHosts", Value::Null),
            ("GroupAdd", Value::Null),
            ("Cgroup", json!("")),
            ("Links", Value::Null),
            ("PublishAllPorts", json!(false)),
            ("ShmSize", json!(64u64 << 20)),
            ("Runtime", json!("skiff")),
            ("ConsoleSize", json!([0, 0])),
            ("Isolation", json!("")),
            ("BlkioWeightDevice", json!([])),
            ("BlkioDeviceReadIOps", json!([])),
            ("BlkioDeviceWriteIOps", json!([])),
            ("CpuRealtimePeriod", json!(0)),
            ("CpuRealtimeRuntime", json!(0)),
            ("Devices", json!([])),
            ("DeviceCgroupRules", Value::Null),
            ("DeviceRequests", Value::Null),
            ("KernelMemory", json!(0)),
            ("KernelMemoryTCP", json!(0)),
            ("MemorySwappiness", Value::Null),
            ("OomKillDisable", json!(false)),
            ("CpuCount", json!(0)),
            ("CpuPercent", json!(0)),
            ("IOMaximumIOps", json!(0)),
            ("IOMaximumBandwidth", json!(0)),
            // What the runtime masks and makes read-only; nothing when privileged.
            (
                "MaskedPaths",
                json!(if c.privileged { &[][..] } else { MASKED_PATHS }),
            ),
            (
                "ReadonlyPaths",
                json!(if c.privileged {
                    &[][..]
                } else {
                    READONLY_PATHS
                }),
            ),
        ],
    );
    for m in v["Mounts"].as_array_mut().into_iter().flatten() {
        let driver = if m["Type"] == "volume" { "local" } else { "" };
        fill(
            m,
            vec![
                ("Driver", json!(driver)),
                ("Mode", json!("")),
                (
                    "Propagation",
                    json!(if m["Type"] == "bind" { "rprivate" } else { "" }),
                ),
            ],
        );
    }
    let prefix = v["NetworkSettings"]["Networks"]
        .as_object()
        .and_then(|n| n.values().next())
        .and_then(|n| n["IPPrefixLen"].as_u64())
        .unwrap_or(0);
    let sandbox_key = if pid > 0 {
        format!("/proc/{pid}/ns/net")
    } else {
        String::new()
    };
    fill(
        &mut v["NetworkSettings"],
        vec![
            ("Bridge", json!("")),
            ("SandboxID", json!("")),
            ("HairpinMode", json!(false)),
            ("LinkLocalIPv6Address", json!("")),
            ("LinkLocalIPv6PrefixLen", json!(0)),
            ("SandboxKey", json!(sandbox_key)),
            ("SecondaryIPAddresses", Value::Null),
            ("SecondaryIPv6Addresses", Value::Null),
            ("EndpointID", json!("")),
            ("GlobalIPv6Address", json!("")),
            ("GlobalIPv6PrefixLen", json!(0)),
            ("IPPrefixLen", json!(prefix)),
            ("IPv6Gateway", json!("")),
        ],
    );
    v
}

/// A container config with every key dockerd writes, `config`'s values kept.
fn full_config(config: &Value) -> Value {
    let mut c = config.clone();
    if !c.is_object() {
        c = Value::Object(Map::new());
    }
    fill(
        &mut c,
        vec![
            ("Hostname", json!("")),
            ("Domainname", json!("")),
            ("User", json!("")),
            ("AttachStdin", json!(false)),
            ("AttachStdout", json!(false)),
            ("AttachStderr", json!(false)),
            ("Tty", json!(false)),
            ("OpenStdin", json!(false)),
            ("StdinOnce", json!(false)),
            ("Env", Value::Null),
            ("Cmd", Value::Null),
            ("Image", json!("")),
            ("Volumes", Value::Null),
            ("WorkingDir", json!("")),
            ("Entrypoint", Value::Null),
            ("OnBuild", Value::Null),
            ("Labels", Value::Null),
        ],
    );
    c
}

/// The image inspect: `v` is the CLI's.
pub fn image(mut v: Value) -> Value {
    let config = full_config(&v["Config"]);
    v["Config"] = config.clone();
    v["ContainerConfig"] = config;
    fill(
        &mut v,
        vec![
            ("Container", json!("")),
            ("DockerVersion", json!("")),
            ("Metadata", json!({"LastTagTime": "0001-01-01T00:00:00Z"})),
        ],
    );
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filling_keeps_what_is_there() {
        let mut v = json!({"A": 1});
        fill(&mut v, vec![("A", json!(2)), ("B", json!(3))]);
        assert_eq!(v, json!({"A": 1, "B": 3}));
        let img = image(json!({"Config": {"Cmd": ["sh"]}}));
        assert_eq!(img["ContainerConfig"]["Cmd"], json!(["sh"]));
        assert_eq!(img["Config"]["Tty"], json!(false));
        assert_eq!(img["Container"], json!(""));
    }
}
