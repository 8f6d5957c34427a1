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
    let containers = crate::container::list(paths).map(|c| c.len()).unwrap_or(0);
    let uts = nix::sys::utsname::uname().ok();
    json!({
        "host": {
            "arch": crate::platform::go_arch(),
            "os": "linux",
            "kernel": crate::platform::kernel_release(),
            "hostname": uts.as_ref().map(|u| u.nodename().to_string_lossy().into_owned()).unwrap_or_default(),
            "cgroupVersion": cgroups::version(),
            "idMappings": { "uidmap": map_json(&maps.uids), "gidmap": map_json(&maps.gids) },
            "security": { "rootless": paths.rootless },
        },
        "store": {
            "graphRoot": paths.root,
            "runRoot": paths.runroot,
            "graphDriverName": graph::driver_for(paths).name(),
            "imageStore": { "number": images },
            "containerStore": { "number": containers },
        },
        "version": { "Version": crate::VERSION, "OsArch": format!("linux/{}", crate::platform::go_arch()) },
    })
}
