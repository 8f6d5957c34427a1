//! The storage user namespace of a rootless user: container uid 0 is the user, the rest
//! comes from /etc/subuid and /etc/subgid through newuidmap/newgidmap. Layers are
//! unpacked inside it so files keep their in-image owners; `skiff unshare` exposes it.

/// What fails setting up a rootless user namespace.
#[derive(Debug, thiserror::Error)]
pub enum UsernsError {
    /// newuidmap/newgidmap are missing, could not run, or refused the maps.
    #[error("user namespace: {0}")]
    IdMapping(String),
    /// Work done in a forked helper inside the storage namespace failed; its error
    /// crossed a pipe as its message.
    #[error("{0}")]
    Helper(String),
    /// The helper died without a word.
    #[error("the helper in the storage user namespace died")]
    HelperDied,
}

use crate::error::{Context, Error, Result};
use nix::sched::{unshare, CloneFlags};
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::{fork, getgid, getuid, pipe, read, write, ForkResult, Group, User};
use serde::Serialize;

/// One line of a uid_map or gid_map: `size` ids from `container` map to `host`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct IdMapping {
    pub container_id: u32,
    pub host_id: u32,
    pub size: u32,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct IdMaps {
    pub uids: Vec<IdMapping>,
    pub gids: Vec<IdMapping>,
}

impl IdMaps {
    /// The maps for the calling user. The warning is set when a file has no range for
    /// the user and a single-id map is used instead.
    pub fn for_current_user() -> (IdMaps, Option<String>) {
        let uid = getuid();
        let gid = getgid();
        let name = User::from_uid(uid).ok().flatten().map(|u| u.name);
        let group = Group::from_gid(gid).ok().flatten().map(|g| g.name);
        let uids = subordinate_ranges("/etc/subuid", uid.as_raw(), name.as_deref());
        let gids = subordinate_ranges("/etc/subgid", uid.as_raw(), name.as_deref())
            .or_else(|| subordinate_ranges("/etc/subgid", gid.as_raw(), group.as_deref()));
        let mut warning = None;
        let mut build = |own: u32, ranges: Option<Vec<(u32, u32)>>, file: &str| {
            let mut maps = vec![IdMapping {
                container_id: 0,
                host_id: own,
                size: 1,
            }];
            match ranges {
                Some(r) if !r.is_empty() => {
                    let mut next = 1;
                    for (start, count) in r {
                        maps.push(IdMapping { container_id: next, host_id: start, size: count });
                        next += count;
                    }
                }
                _ => {
                    warning = Some(format!(
                        "no subordinate ids for {} in {file}: using a single-id map (files owned by other ids cannot be stored)",
                        name.as_deref().unwrap_or("this user")
                    ))
                }
            }
            maps
        };
        let uids = build(uid.as_raw(), uids, "/etc/subuid");
        let gids = build(gid.as_raw(), gids, "/etc/subgid");
        (IdMaps { uids, gids }, warning)
    }

    /// The maps of the user namespace we are in (inside `skiff unshare`: the storage
    /// namespace's, container ids to the user's host ids).
    pub fn of_current_namespace() -> IdMaps {
        let read = |f: &str| parse_map(&std::fs::read_to_string(f).unwrap_or_default());
        IdMaps {
            uids: read("/proc/self/uid_map"),
            gids: read("/proc/self/gid_map"),
        }
    }

    /// The identity maps of the initial namespace, as root sees it.
    pub fn host() -> IdMaps {
        let all = vec![IdMapping {
            container_id: 0,
            host_id: 0,
            size: u32::MAX,
        }];
        IdMaps {
            uids: all.clone(),
            gids: all,
        }
    }

    pub fn is_single(&self) -> bool {
        self.uids.len() == 1 || self.gids.len() == 1
    }

    /// Host uid of a container uid, if mapped.
    pub fn host_uid(&self, id: u32) -> Option<u32> {
        map_id(&self.uids, id)
    }

    pub fn host_gid(&self, id: u32) -> Option<u32> {
        map_id(&self.gids, id)
    }
}

fn map_id(maps: &[IdMapping], id: u32) -> Option<u32> {
    maps.iter()
        .find(|m| id >= m.container_id && (id - m.container_id) < m.size)
        .map(|m| m.host_id + (id - m.container_id))
}

/// Ranges for the user from a subuid/subgid file, matched by name or by numeric id.
fn subordinate_ranges(file: &str, id: u32, name: Option<&str>) -> Option<Vec<(u32, u32)>> {
    let text = std::fs::read_to_string(file).ok()?;
    Some(parse_subordinate(&text, id, name))
}

fn parse_subordinate(text: &str, id: u32, name: Option<&str>) -> Vec<(u32, u32)> {
    let id_str = id.to_string();
    text.lines()
        .filter_map(|line| {
            let mut f = line.trim().split(':');
            let (who, start, count) = (f.next()?, f.next()?, f.next()?);
            let matches = who == id_str || Some(who) == name;
            if !matches {
                return None;
            }
            Some((start.parse().ok()?, count.parse().ok()?))
        })
        .filter(|&(_, count)| count > 0)
        .collect()
}

/// Moves the calling process into a new user namespace (and a mount namespace when
/// `mount_ns`) where it is root, mapped by `maps`. Must run while the process is still
/// single-threaded: the kernel refuses CLONE_NEWUSER otherwise.
pub fn enter(maps: &IdMaps, mount_ns: bool) -> Result<()> {
    let flags = if mount_ns {
        CloneFlags::CLONE_NEWUSER | CloneFlags::CLONE_NEWNS
    } else {
        CloneFlags::CLONE_NEWUSER
    };
    if maps.is_single() {
        unshare(flags).ctx(|| "creating user namespace".into())?;
        return write_single_maps(maps);
    }
    // newuidmap must write our maps from outside the namespace, so a helper forked
    // before the unshare does it once we say we are ready.
    let (ready_r, ready_w) = pipe().ctx(|| "pipe".into())?;
    let parent = nix::unistd::getpid();
    // SAFETY: the process is single-threaded here (documented precondition), so the
    // child may run arbitrary code, including spawning newuidmap.
    match unsafe { fork() }.ctx(|| "fork".into())? {
        ForkResult::Child => {
            drop(ready_w);
            let mut b = [0u8; 1];
            let ok = matches!(read(&ready_r, &mut b), Ok(1))
                && run_mappers(parent.as_raw(), &maps.uids, &maps.gids).is_ok();
            // SAFETY: _exit skips the parent's atexit handlers and buffered state, which
            // belong to the parent.
            unsafe { libc::_exit(if ok { 0 } else { 1 }) }
        }
        ForkResult::Parent { child } => {
            drop(ready_r);
            let unshared = unshare(flags).ctx(|| "creating user namespace".into());
            if unshared.is_ok() {
                let _ = write(&ready_w, b"1");
            }
            drop(ready_w);
            let status = waitpid(child, None).ctx(|| "waiting for newuidmap".into())?;
            unshared?;
            if !matches!(status, WaitStatus::Exited(_, 0)) {
                return Err(Error::Userns(UsernsError::IdMapping(
                    "newuidmap/newgidmap failed to write the id maps (is the uidmap package installed and are /etc/subuid and /etc/subgid ranges valid?)".into(),
                )));
            }
            Ok(())
        }
    }
}

/// Runs newuidmap and newgidmap for `pid` side by side (each is a setuid exec of a few
/// milliseconds, on the path of every rootless start); the first failure, with the
/// helper's own words.
fn run_mappers(pid: i32, uids: &[IdMapping], gids: &[IdMapping]) -> Result<()> {
    let spawn = |prog: &str, maps: &[IdMapping]| {
        let mut cmd = crate::helpers::command(prog);
        cmd.arg(pid.to_string());
        for m in maps {
            cmd.args([
                m.container_id.to_string(),
                m.host_id.to_string(),
                m.size.to_string(),
            ]);
        }
        cmd.stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped());
        cmd.spawn().map_err(|e| {
            Error::Userns(UsernsError::IdMapping(format!(
                "running {prog}: {e} (install the uidmap package)"
            )))
        })
    };
    let children = [
        ("newuidmap", spawn("newuidmap", uids)),
        ("newgidmap", spawn("newgidmap", gids)),
    ];
    let mut first = None;
    for (prog, child) in children {
        let outcome = child.and_then(|c| {
            let out = c
                .wait_with_output()
                .map_err(|e| Error::Userns(UsernsError::IdMapping(format!("waiting for {prog}: {e}"))))?;
            if out.status.success() {
                return Ok(());
            }
            let why = String::from_utf8_lossy(&out.stderr);
            Err(Error::Userns(UsernsError::IdMapping(format!(
                "{prog} failed to write the id maps ({}): is the uidmap package installed and are the /etc/subuid and /etc/subgid ranges valid?",
                why.lines().next().unwrap_or("no reason given").trim()
            ))))
        });
        if let Err(e) = outcome {
            first.get_or_insert(e);
        }
    }
    first.map_or(Ok(()), Err)
}

fn write_single_maps(maps: &IdMaps) -> Result<()> {
    let w = |file: &str, data: String| std::fs::write(file, data).ctx(|| format!("writing {file}"));
    w(
        "/proc/self/uid_map",
        format!("0 {} 1\n", maps.uids[0].host_id),
    )?;
    w("/proc/self/setgroups", "deny".into())?;
    w(
        "/proc/self/gid_map",
        format!("0 {} 1\n", maps.gids[0].host_id),
    )?;
    Ok(())
}

/// A host id (as our namespace sees it) to the id inside, through the text of a
/// /proc/PID/uid_map or gid_map ("inside outside count" lines); None when unmapped.
pub fn host_to_container(map: &str, id: u32) -> Option<u32> {
    parse_map(map)
        .into_iter()
        .find(|m| id >= m.host_id && id - m.host_id < m.size)
        .map(|m| m.container_id + (id - m.host_id))
}

/// The lines of a /proc/PID/uid_map or gid_map text.
fn parse_map(text: &str) -> Vec<IdMapping> {
    text.lines()
        .filter_map(|l| {
            let n: Vec<u32> = l
                .split_whitespace()
                .filter_map(|x| x.parse().ok())
                .collect();
            (n.len() == 3).then(|| IdMapping {
                container_id: n[0],
                host_id: n[1],
                size: n[2],
            })
        })
        .collect()
}

/// True when this process already runs in a user namespace other than the initial one.
pub fn in_user_namespace() -> bool {
    std::fs::read_to_string("/proc/self/uid_map")
        .map(|m| !m.split_whitespace().eq(["0", "0", "4294967295"]))
        .unwrap_or(false)
}

/// Writes the id maps of process `pid`'s user namespace from outside it. Several ranges
/// need the setuid helpers when rootless; root and single-id maps write the files.
pub fn write_maps(pid: i32, uids: &[IdMapping], gids: &[IdMapping], rootless: bool) -> Result<()> {
    let single = uids.len() == 1 && gids.len() == 1;
    if rootless && !(single && uids[0].host_id == getuid().as_raw()) {
        return run_mappers(pid, uids, gids);
    }
    let text = |maps: &[IdMapping]| {
        maps.iter()
            .map(|m| format!("{} {} {}\n", m.container_id, m.host_id, m.size))
            .collect::<String>()
    };
    let w =
        |file: String, data: String| std::fs::write(&file, data).ctx(|| format!("writing {file}"));
    w(format!("/proc/{pid}/uid_map"), text(uids))?;
    if rootless {
        w(format!("/proc/{pid}/setgroups"), "deny".into())?;
    }
    w(format!("/proc/{pid}/gid_map"), text(gids))
}

/// Runs `f` in a forked child and returns the string it gives back. The child may
/// enter namespaces or change its mounts; this process stays where it is. Callers
/// must be single-threaded (the CLI and the supervisor are).
pub fn in_child(f: impl FnOnce() -> Result<String>) -> Result<String> {
    let (r, w) = pipe().ctx(|| "pipe".into())?;
    // SAFETY: the caller is single-threaded, so the child may run `f`; it then exits.
    match unsafe { fork() }.ctx(|| "fork".into())? {
        ForkResult::Child => {
            drop(r);
            let out = match f() {
                Ok(s) => format!("ok\n{s}"),
                Err(e) => format!("error\n{e}"),
            };
            let _ = write(&w, out.as_bytes());
            // SAFETY: ends the child without the parent's destructors.
            unsafe { libc::_exit(0) }
        }
        ForkResult::Parent { child } => {
            drop(w);
            let mut out = Vec::new();
            let mut buf = [0u8; 512];
            while let Ok(n) = read(&r, &mut buf) {
                if n == 0 {
                    break;
                }
                out.extend_from_slice(&buf[..n]);
            }
            let _ = waitpid(child, None);
            let out = String::from_utf8_lossy(&out).into_owned();
            match out.split_once('\n') {
                Some(("ok", v)) => Ok(v.to_string()),
                Some((_, e)) => Err(UsernsError::Helper(e.to_string()).into()),
                None => Err(UsernsError::HelperDied.into()),
            }
        }
    }
}

/// Runs `f` in the storage user namespace (rootless, in a forked child), so files
/// owned by subordinate ids can be changed; returns what it returns.
pub fn in_storage_ns(maps: &IdMaps, f: impl FnOnce() -> Result<String>) -> Result<String> {
    if in_user_namespace() || getuid().is_root() {
        return f();
    }
    in_child(|| enter(maps, false).and_then(|_| f()))
}

/// `in_storage_ns` for work that returns nothing.
pub fn run_in_storage_ns(maps: &IdMaps, f: impl FnOnce() -> Result<()>) -> Result<()> {
    in_storage_ns(maps, || f().map(|_| String::new())).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ranges_by_name_and_id() {
        let text = "alice:100000:65536\n1001:200000:1000\nbob:x:1\n";
        assert_eq!(
            parse_subordinate(text, 1000, Some("alice")),
            vec![(100000, 65536)]
        );
        assert_eq!(
            parse_subordinate(text, 1001, Some("carol")),
            vec![(200000, 1000)]
        );
        assert!(parse_subordinate(text, 5, Some("bob")).is_empty());
    }

    #[test]
    fn maps_ids() {
        let maps = IdMaps {
            uids: vec![
                IdMapping {
                    container_id: 0,
                    host_id: 1000,
                    size: 1,
                },
                IdMapping {
                    container_id: 1,
                    host_id: 100000,
                    size: 65536,
                },
            ],
            gids: vec![],
        };
        assert_eq!(maps.host_uid(0), Some(1000));
        assert_eq!(maps.host_uid(1), Some(100000));
        assert_eq!(maps.host_uid(65536), Some(165535));
        assert_eq!(maps.host_uid(65537), None);
    }
}
