//! Which endpoint a request names: the method and the path, with the version prefix
//! (`/v1.44/…`) taken off. A pure function, so the table of endpoints is tested
//! without a socket.

use hyper::Method;

/// An endpoint of the Docker Engine API that skiff serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Ping,
    Events,
    Version,
    Info,
    ContainerList,
    ContainerCreate,
    ContainerInspect(String),
    ContainerStart(String),
    ContainerStop(String),
    ContainerRestart(String),
    ContainerKill(String),
    ContainerWait(String),
    ContainerDelete(String),
    ContainerAttach(String),
    ContainerLogs(String),
    ContainerResize(String),
    ExecCreate(String),
    ExecStart(String),
    ExecResize(String),
    ExecInspect(String),
    ImageList,
    ImageCreate,
    ImageInspect(String),
    ImageDelete(String),
    ImageTag(String),
    ContainerPause(String),
    ContainerUnpause(String),
    ContainerRename(String),
    ContainerTop(String),
    ContainerPrune,
    ArchiveStat(String),
    ArchiveGet(String),
    ArchivePut(String),
    NetworkList,
    NetworkCreate,
    NetworkInspect(String),
    NetworkDelete(String),
    NetworkConnect(String),
    NetworkDisconnect(String),
    NetworkPrune,
    VolumeList,
    VolumeCreate,
    VolumeInspect(String),
    VolumeDelete(String),
    VolumePrune,
    Build,
    Auth,
    SystemDf,
    ContainerStats(String),
    ContainerChanges(String),
    ContainerExport(String),
    ContainerUpdate(String),
    ImagePush(String),
    ImageHistory(String),
    /// `GET /images/{name}/get`, or `/images/get?names=…` (None).
    ImageGet(Option<String>),
    ImageLoad,
    ImagePrune,
}

/// The API version a path asks for (`/v1.43/…`), if any, and the path without it.
pub fn split_version(path: &str) -> (Option<&str>, &str) {
    if let Some(rest) = path.strip_prefix("/v") {
        if let Some((v, _)) = rest.split_once('/') {
            if !v.is_empty() && v.chars().all(|c| c.is_ascii_digit() || c == '.') {
                return (Some(v), path.split_at(v.len() + 2).1);
            }
        }
    }
    (None, path)
}

/// The route for a method and an unversioned path; None for what skiff does not serve.
pub fn route(method: &Method, path: &str) -> Option<Route> {
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    let id = |s: &str| s.to_string();
    // Image names hold slashes: everything between "images/" and the verb.
    if segs.first() == Some(&"images") && segs.len() >= 2 {
        let last = *segs.last()?;
        let name = |n: usize| segs[1..segs.len() - n].join("/");
        return Some(match (method, segs.len(), last) {
            (&Method::GET, 2, "json") => Route::ImageList,
            (&Method::POST, 2, "create") => Route::ImageCreate,
            (&Method::POST, 2, "load") => Route::ImageLoad,
            (&Method::POST, 2, "prune") => Route::ImagePrune,
            (&Method::GET, 2, "get") => Route::ImageGet(None),
            (&Method::GET, _, "get") => Route::ImageGet(Some(name(1))),
            (&Method::GET, _, "history") => Route::ImageHistory(name(1)),
            (&Method::POST, _, "push") => Route::ImagePush(name(1)),
            (&Method::GET, _, "json") => Route::ImageInspect(name(1)),
            (&Method::POST, _, "tag") => Route::ImageTag(name(1)),
            (&Method::DELETE, _, _) => Route::ImageDelete(name(0)),
            _ => return None,
        });
    }
    Some(match (method, segs.as_slice()) {
        (&Method::GET | &Method::HEAD, ["_ping"]) => Route::Ping,
        (&Method::GET, ["version"]) => Route::Version,
        (&Method::GET, ["events"]) => Route::Events,
        (&Method::GET, ["info"]) => Route::Info,
        (&Method::POST, ["build"]) => Route::Build,
        (&Method::POST, ["auth"]) => Route::Auth,
        (&Method::GET, ["system", "df"]) => Route::SystemDf,
        (&Method::GET, ["containers", c, "stats"]) => Route::ContainerStats(id(c)),
        (&Method::GET, ["containers", c, "changes"]) => Route::ContainerChanges(id(c)),
        (&Method::GET, ["containers", c, "export"]) => Route::ContainerExport(id(c)),
        (&Method::POST, ["containers", c, "update"]) => Route::ContainerUpdate(id(c)),
        (&Method::GET, ["containers", "json"]) => Route::ContainerList,
        (&Method::POST, ["containers", "create"]) => Route::ContainerCreate,
        (&Method::GET, ["containers", c, "json"]) => Route::ContainerInspect(id(c)),
        (&Method::POST, ["containers", c, "start"]) => Route::ContainerStart(id(c)),
        (&Method::POST, ["containers", c, "stop"]) => Route::ContainerStop(id(c)),
        (&Method::POST, ["containers", c, "restart"]) => Route::ContainerRestart(id(c)),
        (&Method::POST, ["containers", c, "kill"]) => Route::ContainerKill(id(c)),
        (&Method::POST, ["containers", c, "wait"]) => Route::ContainerWait(id(c)),
        (&Method::POST, ["containers", c, "attach"]) => Route::ContainerAttach(id(c)),
        (&Method::POST, ["containers", c, "resize"]) => Route::ContainerResize(id(c)),
        (&Method::POST, ["containers", c, "exec"]) => Route::ExecCreate(id(c)),
        (&Method::GET, ["containers", c, "logs"]) => Route::ContainerLogs(id(c)),
        (&Method::DELETE, ["containers", c]) => Route::ContainerDelete(id(c)),
        (&Method::POST, ["containers", "prune"]) => Route::ContainerPrune,
        (&Method::POST, ["containers", c, "pause"]) => Route::ContainerPause(id(c)),
        (&Method::POST, ["containers", c, "unpause"]) => Route::ContainerUnpause(id(c)),
        (&Method::POST, ["containers", c, "rename"]) => Route::ContainerRename(id(c)),
        (&Method::GET, ["containers", c, "top"]) => Route::ContainerTop(id(c)),
        (&Method::HEAD, ["containers", c, "archive"]) => Route::ArchiveStat(id(c)),
        (&Method::GET, ["containers", c, "archive"]) => Route::ArchiveGet(id(c)),
        (&Method::PUT, ["containers", c, "archive"]) => Route::ArchivePut(id(c)),
        (&Method::GET, ["networks"]) => Route::NetworkList,
        (&Method::POST, ["networks", "create"]) => Route::NetworkCreate,
        (&Method::POST, ["networks", "prune"]) => Route::NetworkPrune,
        (&Method::GET, ["networks", n]) => Route::NetworkInspect(id(n)),
        (&Method::DELETE, ["networks", n]) => Route::NetworkDelete(id(n)),
        (&Method::POST, ["networks", n, "connect"]) => Route::NetworkConnect(id(n)),
        (&Method::POST, ["networks", n, "disconnect"]) => Route::NetworkDisconnect(id(n)),
        (&Method::GET, ["volumes"]) => Route::VolumeList,
        (&Method::POST, ["volumes", "create"]) => Route::VolumeCreate,
        (&Method::POST, ["volumes", "prune"]) => Route::VolumePrune,
        (&Method::GET, ["volumes", v]) => Route::VolumeInspect(id(v)),
        (&Method::DELETE, ["volumes", v]) => Route::VolumeDelete(id(v)),
        (&Method::POST, ["exec", e, "start"]) => Route::ExecStart(id(e)),
        (&Method::POST, ["exec", e, "resize"]) => Route::ExecResize(id(e)),
        (&Method::GET, ["exec", e, "json"]) => Route::ExecInspect(id(e)),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_come_off_the_path() {
        assert_eq!(
            split_version("/v1.44/containers/json"),
            (Some("1.44"), "/containers/json")
        );
        assert_eq!(
            split_version("/containers/json"),
            (None, "/containers/json")
        );
        assert_eq!(split_version("/version"), (None, "/version"));
        assert_eq!(split_version("/volumes/x"), (None, "/volumes/x"));
    }

    #[test]
    fn endpoints_as_the_engine_names_them() {
        let c = |s: &str| s.to_string();
        for (m, p, want) in [
            (Method::HEAD, "/_ping", Some(Route::Ping)),
            (Method::GET, "/_ping", Some(Route::Ping)),
            (Method::GET, "/containers/json", Some(Route::ContainerList)),
            (
                Method::POST,
                "/containers/create",
                Some(Route::ContainerCreate),
            ),
            (
                Method::POST,
                "/containers/abc/start",
                Some(Route::ContainerStart(c("abc"))),
            ),
            (
                Method::DELETE,
                "/containers/abc",
                Some(Route::ContainerDelete(c("abc"))),
            ),
            (
                Method::GET,
                "/containers/abc/json",
                Some(Route::ContainerInspect(c("abc"))),
            ),
            (
                Method::POST,
                "/exec/e1/start",
                Some(Route::ExecStart(c("e1"))),
            ),
            (Method::GET, "/images/json", Some(Route::ImageList)),
            (
                Method::GET,
                "/images/localhost/busybox:latest/json",
                Some(Route::ImageInspect(c("localhost/busybox:latest"))),
            ),
            (
                Method::DELETE,
                "/images/library/busybox",
                Some(Route::ImageDelete(c("library/busybox"))),
            ),
            (
                Method::POST,
                "/images/busybox/tag",
                Some(Route::ImageTag(c("busybox"))),
            ),
            (
                Method::POST,
                "/containers/prune",
                Some(Route::ContainerPrune),
            ),
            (Method::POST, "/networks/create", Some(Route::NetworkCreate)),
            (
                Method::POST,
                "/networks/n1/connect",
                Some(Route::NetworkConnect(c("n1"))),
            ),
            (
                Method::GET,
                "/volumes/data",
                Some(Route::VolumeInspect(c("data"))),
            ),
            (Method::POST, "/volumes/prune", Some(Route::VolumePrune)),
            (Method::POST, "/build", Some(Route::Build)),
            (Method::GET, "/system/df", Some(Route::SystemDf)),
            (
                Method::GET,
                "/containers/abc/stats",
                Some(Route::ContainerStats(c("abc"))),
            ),
            (
                Method::POST,
                "/images/127.0.0.1:5000/web/push",
                Some(Route::ImagePush(c("127.0.0.1:5000/web"))),
            ),
            (
                Method::GET,
                "/images/web:1/history",
                Some(Route::ImageHistory(c("web:1"))),
            ),
            (Method::GET, "/images/get", Some(Route::ImageGet(None))),
            (
                Method::GET,
                "/images/busybox/get",
                Some(Route::ImageGet(Some(c("busybox")))),
            ),
            (Method::POST, "/images/load", Some(Route::ImageLoad)),
            (Method::PUT, "/containers/abc/start", None),
            (Method::GET, "/nothing", None),
        ] {
            assert_eq!(route(&m, p), want, "{m} {p}");
        }
    }
}
