//! Users the container's /etc/passwd and /etc/group must know although its image does
//! not: the caller under `--userns=keep-id` (so `id -un` and `whoami` work) and each
//! `--hostuser`, as podman adds them. The amended files are written beside the
//! container's hosts file and bound over the image's.

/// One account to add.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    pub home: String,
}

/// The image's passwd and group with `accounts` added where the image lacks them (by
/// name or by id); None for a file that needs no change.
pub fn amend(passwd: &str, group: &str, accounts: &[Account]) -> (Option<String>, Option<String>) {
    let mut new_passwd = passwd.to_string();
    let mut new_group = group.to_string();
    for a in accounts {
        if !has_entry(&new_passwd, &a.name, a.uid) {
            push_line(
                &mut new_passwd,
                &format!("{}:*:{}:{}::{}:/bin/sh", a.name, a.uid, a.gid, a.home),
            );
        }
        if !has_entry(&new_group, &a.name, a.gid) {
            push_line(&mut new_group, &format!("{}:x:{}:", a.name, a.gid));
        }
    }
    (
        (new_passwd != passwd).then_some(new_passwd),
        (new_group != group).then_some(new_group),
    )
}

/// True when a line of an /etc/passwd-shaped file has this name or this id.
fn has_entry(file: &str, name: &str, id: u32) -> bool {
    file.lines().any(|l| {
        let mut f = l.split(':');
        let n = f.next().unwrap_or_default();
        let i = f.nth(1).and_then(|x| x.parse::<u32>().ok());
        n == name || i == Some(id)
    })
}

fn push_line(file: &mut String, line: &str) {
    if !file.is_empty() && !file.ends_with('\n') {
        file.push('\n');
    }
    file.push_str(line);
    file.push('\n');
}

/// The host account named `name` (`--hostuser`), with the container's home.
pub fn host_account(name: &str, home: &str) -> Option<Account> {
    let u = match name.parse::<u32>() {
        Ok(uid) => nix::unistd::User::from_uid(uid.into()).ok().flatten(),
        Err(_) => nix::unistd::User::from_name(name).ok().flatten(),
    }?;
    Some(Account {
        name: u.name,
        uid: u.uid.as_raw(),
        gid: u.gid.as_raw(),
        home: home.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alice() -> Account {
        Account {
            name: "alice".into(),
            uid: 1001,
            gid: 1001,
            home: "/home/alice".into(),
        }
    }

    #[test]
    fn missing_users_are_added_once() {
        let passwd = "root:x:0:0:root:/root:/bin/sh\n";
        let group = "root:x:0:";
        let (p, g) = amend(passwd, group, &[alice(), alice()]);
        assert_eq!(
            p.unwrap(),
            "root:x:0:0:root:/root:/bin/sh\nalice:*:1001:1001::/home/alice:/bin/sh\n"
        );
        assert_eq!(g.unwrap(), "root:x:0:\nalice:x:1001:\n");
    }

    #[test]
    fn users_the_image_knows_are_left_alone() {
        let table = [
            // By name, by id, or both: nothing to add.
            ("alice:x:5:5::/:/bin/sh\n", "alice:x:5:\n"),
            ("bob:x:1001:1001::/:/bin/sh\n", "bob:x:1001:\n"),
        ];
        for (passwd, group) in table {
            assert_eq!(amend(passwd, group, &[alice()]), (None, None), "{passwd}");
        }
        // An image without the files gets them.
        let (p, g) = amend("", "", &[alice()]);
        assert!(p.unwrap().starts_with("alice:*:1001:1001:"));
        assert_eq!(g.unwrap(), "alice:x:1001:\n");
    }
}
