//! What `skiff info` reports about the host and the store.

use crate::cgroups;
use crate::graph;
use crate::paths::Paths;
use crate::store::Store;
use crate::userns::{IdMapping, IdMaps};
use serde_json::{json, Value};

pub fn collect(paths: &Paths) -> Value {
    let maps = if paths.rootless {
        IdMaps::for_current_user().0
    } else {
        IdMaps::host()
    };
    let map_json = |m: &[IdMapping]| -> Value {
        m.iter()
            .map(|x| json!({"container_id": x.container_id, "host_id": x.host_id, "size": x.size}))
            .collect()
    };
    let store = Store::open(paths);
    let images = store.images().map(|i| i.len()).unwrap_or(0);
    let records = crate::container::list(paths).unwrap_or_default();
    let (mut running, mut paused, mut stopped) = (0, 0, 0);
    for r in &records {
        let st = crate::container::State::load(&crate::container::ContainerDirs::new(paths, &r.id))
            .unwrap_or_default();
        match st.status {
            crate::container::Status::Running => running += 1,
            crate::container::Status::Paused => paused += 1,
            _ => stopped += 1,
        }
    }
    let exe = std::env::current_exe().unwrap_or_default();
    let uts = nix::sys::utsname::uname().ok();
    json!({
        "host": {
            "arch": crate::platform::go_arch(),
            "os": "linux",
            "kernel": crate::platform::kernel_release(),
            "hostname": uts.as_ref().map(|u| u.nodename().to_string_lossy().into_owned()).unwrap_or_default(),
            "cgroupVersion": cgroups::version(),
            "idMappings": { "uidmap": map_json(&maps.uids), "gidmap": map_json(&maps.gids) },
            "security": { "rootless": paths.rootless, "seccompEnabled": true },
            // skiff is its own runtime and its own monitor: the supervisor is this binary.
            "ociRuntime": { "name": "skiff", "path": exe, "version": crate::VERSION },
            "conmon": { "package": "skiff", "path": exe, "version": crate::VERSION },
            "cgroupManager": "cgroupfs",
            "buildahVersion": crate::VERSION,
            "networkBackend": "skiff",
        },
        "store": {
            "graphRoot": paths.root,
            "runRoot": paths.runroot,
            "graphDriverName": graph::driver_for(paths).name(),
            "graphOptions": {},
            "graphStatus": {},
            "volumePath": paths.root.join("volumes"),
            "imageStore": { "number": images },
            "containerStore": {
                "number": records.len(),
                "running": running,
                "paused": paused,
                "stopped": stopped,
            },
        },
        "plugins": {
            "volume": ["local"],
            "network": ["bridge"],
            "log": ["k8s-file", "json-file", "none"],
        },
        "version": {
            "Version": crate::VERSION,
            "APIVersion": crate::VERSION,
            "OsArch": format!("linux/{}", crate::platform::go_arch()),
        },
    })
}
