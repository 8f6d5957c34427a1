//! `-u user[:group]` resolved against a container's /etc/passwd and /etc/group, the way
//! podman does: numbers stand for themselves, names must exist, the user's primary
//! group and the groups listing it as a member become the process's groups.

use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ResolvedUser {
    pub uid: u32,
    pub gid: u32,
    pub additional_gids: Vec<u32>,
    pub home: Option<String>,
}

/// Resolves `spec` ("", "name", "uid", "name:group", "uid:gid") with the text of the
/// container's passwd and group files (None when the file is missing).
pub fn resolve(spec: &str, passwd: Option<&str>, group: Option<&str>) -> Result<ResolvedUser> {
    let spec = if spec.is_empty() { "0" } else { spec };
    let (user, grp) = match spec.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (spec, None),
    };
    let entry = passwd.and_then(|p| {
        p.lines()
            .map(|l| l.split(':').collect::<Vec<_>>())
            .find(|f| f.len() >= 4 && (f[0] == user || f[2] == user))
    });
    let (uid, mut gid, name, home) = match (&entry, user.parse::<u32>()) {
        (Some(f), _) => (
            f[2].parse().map_err(|_| bad_passwd(f[0]))?,
            f[3].parse().map_err(|_| bad_passwd(f[0]))?,
            Some(f[0].to_string()),
            f.get(5).map(|h| h.to_string()),
        ),
        (None, Ok(n)) => (n, 0, None, None),
        (None, Err(_)) => {
            return Err(Error::InvalidArgument(format!(
                "unable to find user {user}: no matching entries in passwd file"
            )))
        }
    };
    let groups: Vec<Vec<&str>> = group
        .map(|g| {
            g.lines()
                .map(|l| l.split(':').collect::<Vec<_>>())
                .filter(|f| f.len() >= 3)
                .collect()
        })
        .unwrap_or_default();
    let mut additional = Vec::new();
    if let Some(g) = grp {
        gid = match groups.iter().find(|f| f[0] == g || f[2] == g) {
            Some(f) => f[2].parse().map_err(|_| bad_passwd(f[0]))?,
            None => g.parse().map_err(|_| {
                Error::InvalidArgument(format!(
                    "unable to find group {g}: no matching entries in group file"
                ))
            })?,
        };
    } else if let Some(name) = &name {
        for f in &groups {
            let members = f.get(3).copied().unwrap_or("");
            if members.split(',').any(|m| m == name) {
                if let Ok(id) = f[2].parse::<u32>() {
                    if id != gid && !additional.contains(&id) {
                        additional.push(id);
                    }
                }
            }
        }
    }
    Ok(ResolvedUser {
        uid,
        gid,
        additional_gids: additional,
        home,
    })
}

fn bad_passwd(name: &str) -> Error {
    Error::InvalidArgument(format!("malformed passwd/group entry for {name}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n";
    const GROUP: &str = "root:x:0:\nalice:x:1000:\nwheel:x:10:alice,bob\nstaff:x:50:\n";

    #[test]
    fn names_and_numbers() {
        let u = resolve("alice", Some(PASSWD), Some(GROUP)).unwrap();
        assert_eq!(
            (u.uid, u.gid, u.additional_gids.clone()),
            (1000, 1000, vec![10])
        );
        assert_eq!(u.home.as_deref(), Some("/home/alice"));
        let u = resolve("alice:staff", Some(PASSWD), Some(GROUP)).unwrap();
        assert_eq!((u.uid, u.gid), (1000, 50));
        let u = resolve("4242:77", Some(PASSWD), Some(GROUP)).unwrap();
        assert_eq!((u.uid, u.gid), (4242, 77));
        assert_eq!(resolve("", None, None).unwrap().uid, 0);
        assert!(resolve("nobody-here", Some(PASSWD), Some(GROUP)).is_err());
        assert!(resolve("alice:nogroup", Some(PASSWD), Some(GROUP)).is_err());
    }
}
