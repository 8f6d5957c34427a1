//! `run --secret NAME[,type=mount|env,target=…,uid=,gid=,mode=]`: what a container
//! asks for, and what its record keeps (the secret's id and where it goes, never the
//! value).

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SecretKind {
    /// A read-only file, /run/secrets/NAME unless `target` says otherwise.
    #[default]
    Mount,
    /// An environment variable, NAME unless `target` says otherwise.
    Env,
}

/// One `--secret`, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretRequest {
    pub name: String,
    pub kind: SecretKind,
    pub target: Option<String>,
    pub uid: u32,
    pub gid: u32,
    pub mode: u32,
}

/// A secret as a container uses it, resolved at create.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretUse {
    pub id: String,
    pub name: String,
    pub kind: SecretKind,
    /// The absolute path of the file (mount), or the variable's name (env).
    pub target: String,
    pub uid: u32,
    pub gid: u32,
    pub mode: u32,
}

impl SecretRequest {
    pub fn parse(spec: &str) -> Result<SecretRequest> {
        let bad = |why: String| Error::InvalidArgument(format!("invalid --secret {spec:?}: {why}"));
        let mut parts = spec.split(',');
        let name = parts.next().unwrap_or_default().to_string();
        if name.is_empty() {
            return Err(bad("no secret name".into()));
        }
        let mut r = SecretRequest {
            name,
            kind: SecretKind::Mount,
            target: None,
            uid: 0,
            gid: 0,
            mode: 0o444,
        };
        let (mut owner_set, mut mode_set) = (false, false);
        for p in parts {
            let (k, v) = p
                .split_once('=')
                .ok_or_else(|| bad(format!("{p:?} is not KEY=VALUE")))?;
            let id = |v: &str| {
                v.parse::<u32>()
                    .map_err(|_| bad(format!("{k}={v} is not a number")))
            };
            match k {
                "type" => {
                    r.kind = match v {
                        "mount" => SecretKind::Mount,
                        "env" => SecretKind::Env,
                        _ => return Err(bad(format!("type {v:?}: use mount or env"))),
                    }
                }
                "target" if !v.is_empty() => r.target = Some(v.to_string()),
                "uid" => (r.uid, owner_set) = (id(v)?, true),
                "gid" => (r.gid, owner_set) = (id(v)?, true),
                "mode" => {
                    r.mode = u32::from_str_radix(v, 8)
                        .ok()
                        .filter(|m| *m <= 0o777)
                        .ok_or_else(|| bad(format!("mode={v} is not an octal mode")))?;
                    mode_set = true;
                }
                _ => return Err(bad(format!("unknown option {k:?}"))),
            }
        }
        if r.kind == SecretKind::Env && (owner_set || mode_set) {
            return Err(bad("uid, gid and mode apply to type=mount only".into()));
        }
        Ok(r)
    }

    /// Where the secret goes in the container.
    pub fn resolved_target(&self) -> Result<String> {
        let t = self.target.as_deref().unwrap_or(&self.name);
        match self.kind {
            SecretKind::Env => Ok(t.to_string()),
            SecretKind::Mount if t.starts_with('/') => Ok(t.to_string()),
            SecretKind::Mount => {
                if t.split('/').any(|c| c == "..") {
                    return Err(Error::InvalidArgument(format!(
                        "invalid --secret target {t:?}: it must stay in /run/secrets"
                    )));
                }
                Ok(format!("/run/secrets/{t}"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_podmans_options() {
        let r = SecretRequest::parse("pw").unwrap();
        assert_eq!(
            (r.kind, r.mode, r.resolved_target().unwrap()),
            (SecretKind::Mount, 0o444, "/run/secrets/pw".into())
        );
        let r = SecretRequest::parse("pw,type=mount,target=app/pass,uid=1000,gid=100,mode=0400")
            .unwrap();
        assert_eq!((r.uid, r.gid, r.mode), (1000, 100, 0o400));
        assert_eq!(r.resolved_target().unwrap(), "/run/secrets/app/pass");
        let r = SecretRequest::parse("pw,type=env,target=DB_PASSWORD").unwrap();
        assert_eq!(
            (r.kind, r.resolved_target().unwrap()),
            (SecretKind::Env, "DB_PASSWORD".into())
        );
        assert_eq!(
            SecretRequest::parse("pw,type=env")
                .unwrap()
                .resolved_target()
                .unwrap(),
            "pw"
        );
        for bad in [
            "",
            ",type=env",
            "pw,type=file",
            "pw,mode=999",
            "pw,uid=x",
            "pw,type=env,mode=400",
            "pw,bogus=1",
            "pw,target",
        ] {
            assert!(SecretRequest::parse(bad).is_err(), "{bad}");
        }
        assert!(SecretRequest::parse("pw,target=../../etc/shadow")
            .unwrap()
            .resolved_target()
            .is_err());
    }
}
