//! `/_ping`, `/version` and `/info`, in dockerd's shapes, from what `skiff info` knows.

use crate::Ctx;
use serde_json::{json, Value};

/// The API version skiff speaks, and the oldest it answers.
pub const API_VERSION: &str = "1.44";
pub const MIN_API_VERSION: &str = "1.24";

pub fn version() -> Value {
    let arch = libruntime::platform::go_arch();
    let kernel = libruntime::platform::kernel_release();
    json!({
        "Platform": {"Name": "skiff"},
        "Components": [{
            "Name": "Engine",
            "Version": libruntime::VERSION,
            "Details": {
                "ApiVersion": API_VERSION,
                "MinAPIVersion": MIN_API_VERSION,
                "Arch": arch,
                "Os": "linux",
                "KernelVersion": kernel,
                "Experimental": "false",
            },
        }],
        "Version": libruntime::VERSION,
        "ApiVersion": API_VERSION,
        "MinAPIVersion": MIN_API_VERSION,
        "GitCommit": "",
        "GoVersion": "",
        "Os": "linux",
        "Arch": arch,
        "KernelVersion": kernel,
        "Experimental": false,
        "BuildTime": "",
    })
}

pub fn info(ctx: &Ctx) -> Value {
    let i = libruntime::info::collect(&ctx.paths);
    let s = &i["store"];
    let h = &i["host"];
    let mem_total = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .unwrap_or(0)
        * 1024;
    let cgroup = h["cgroupVersion"]
        .as_str()
        .unwrap_or("v1")
        .trim_start_matches('v')
        .to_string();
    json!({
        "ID": "",
        "Containers": s["containerStore"]["number"],
        "ContainersRunning": s["containerStore"]["running"],
        "ContainersPaused": s["containerStore"]["paused"],
        "ContainersStopped": s["containerStore"]["stopped"],
        "Images": s["imageStore"]["number"],
        "Driver": s["graphDriverName"],
        "DriverStatus": [],
        "Plugins": {"Volume": ["local"], "Network": ["bridge", "host", "none"], "Log": ["k8s-file", "json-file", "none"]},
        "MemoryLimit": true,
        "SwapLimit": true,
        "KernelMemory": false,
        "KernelMemoryTCP": false,
        "BridgeNfIptables": false,
        "BridgeNfIp6tables": false,
        "GenericResources": null,
        "ContainerdCommit": {"ID": "", "Expected": ""},
        "RuncCommit": {"ID": "", "Expected": ""},
        "InitCommit": {"ID": "", "Expected": ""},
        "CpuCfsPeriod": true,
        "CpuCfsQuota": true,
        "CPUShares": true,
        "CPUSet": true,
        "PidsLimit": true,
        "IPv4Forwarding": true,
        "Debug": false,
        "NFd": 0,
        "OomKillDisable": false,
        "NGoroutines": 0,
        "SystemTime": chrono::Utc::now().to_rfc3339(),
        "LoggingDriver": "k8s-file",
        "CgroupDriver": "cgroupfs",
        "CgroupVersion": cgroup,
        "NEventsListener": 0,
        "KernelVersion": h["kernel"],
        "OperatingSystem": "linux",
        "OSVersion": "",
        "OSType": "linux",
        "Architecture": libruntime::platform::go_arch(),
        "IndexServerAddress": "https://index.docker.io/v1/",
        "RegistryConfig": {"IndexConfigs": {}, "InsecureRegistryCIDRs": [], "Mirrors": []},
        "NCPU": std::thread::available_parallelism().map_or(1, |n| n.get()),
        "MemTotal": mem_total,
        "DockerRootDir": s["graphRoot"],
        "HttpProxy": "",
        "HttpsProxy": "",
        "NoProxy": "",
        "Name": h["hostname"],
        "Labels": [],
        "ExperimentalBuild": false,
        "ServerVersion": libruntime::VERSION,
        "Runtimes": {"skiff": {"path": h["ociRuntime"]["path"]}},
        "DefaultRuntime": "skiff",
        "Swarm": {"NodeID": "", "NodeAddr": "", "LocalNodeState": "inactive", "ControlAvailable": false, "Error": "", "RemoteManagers": null},
        "LiveRestoreEnabled": false,
        "Isolation": "",
        "InitBinary": "",
        "SecurityOptions": if ctx.paths.rootless { json!(["name=seccomp,profile=builtin", "name=rootless"]) } else { json!(["name=seccomp,profile=builtin"]) },
        "Warnings": [],
    })
}
