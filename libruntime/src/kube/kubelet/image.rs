//! A container's image, got as the kubelet gets it: by its imagePullPolicy, on the
//! node, with the kubelet's backoff between failed pulls (ErrImagePull, then
//! ImagePullBackOff). Without a policy skiff pulls only a missing image, as podman's
//! kube play does, rather than Kubernetes' "Always for :latest": a local image with no
//! registry behind it must still play.

use super::backoff;
use crate::registry::auth::Credentials;
use base64::Engine;
use std::time::{Duration, Instant};

/// The registry host a credentials key names: `https://host/v1/`, `host`, …; Docker
/// Hub's several names are one.
fn registry_host(key: &str) -> String {
    let k = key
        .trim_start_matches("https://")
        .trim_start_matches("http://");
    let host = k.split('/').next().unwrap_or(k);
    match host {
        "index.docker.io" | "registry-1.docker.io" | "registry.hub.docker.com" => {
            "docker.io".into()
        }
        h => h.to_string(),
    }
}

/// The credentials a dockerconfigjson (or legacy dockercfg) document holds for
/// registry `host`: `auth` (base64 `user:password`) or `username` and `password`.
pub fn credentials_for(doc: &[u8], host: &str) -> Option<Credentials> {
    let v: serde_json::Value = serde_json::from_slice(doc).ok()?;
    // dockerconfigjson nests under "auths"; dockercfg is the map itself.
    let auths = v.get("auths").unwrap_or(&v).as_object()?;
    let want = registry_host(host);
    let entry = auths
        .iter()
        .find(|(k, _)| registry_host(k) == want)
        .map(|(_, e)| e)?;
    if let (Some(u), Some(p)) = (entry["username"].as_str(), entry["password"].as_str()) {
        return Some(Credentials {
            username: u.into(),
            password: p.into(),
        });
    }
    let raw = base64::engine::general_purpose::STANDARD
        .decode(entry["auth"].as_str()?)
        .ok()?;
    Credentials::parse(&String::from_utf8(raw).ok()?).ok()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PullPolicy {
    Always,
    IfNotPresent,
    Never,
}

impl PullPolicy {
    /// From the container's imagePullPolicy (validated when played).
    pub fn of(c: &crate::kube::api::Container) -> PullPolicy {
        match c.image_pull_policy.as_deref() {
            Some("Always") => PullPolicy::Always,
            Some("Never") => PullPolicy::Never,
            _ => PullPolicy::IfNotPresent,
        }
    }
}

/// What to do for a container about to be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// The image is here and the policy is content with it.
    Use,
    Pull,
    /// Missing under Never: the container waits with ErrImageNeverPull.
    RefuseNeverPull,
}

/// The decision, from the policy and whether the store has the image.
pub fn decide(policy: PullPolicy, have: bool) -> Action {
    match (policy, have) {
        (PullPolicy::Always, _) | (PullPolicy::IfNotPresent, false) => Action::Pull,
        (PullPolicy::Never, false) => Action::RefuseNeverPull,
        (_, true) => Action::Use,
    }
}

/// One container's failed pulls.
#[derive(Debug, Clone, Default)]
pub struct Pulls {
    pub failures: u32,
    pub next_try: Option<Instant>,
    pub last_error: Option<String>,
    /// The last attempt failed in this pass (ErrImagePull rather than ImagePullBackOff).
    pub just_failed: bool,
}

impl Pulls {
    pub fn may_try(&self, now: Instant) -> bool {
        self.next_try.is_none_or(|t| now >= t)
    }

    pub fn failed(&mut self, now: Instant, error: String) {
        self.failures += 1;
        self.next_try = Some(now + backoff::delay(self.failures, Duration::ZERO));
        self.last_error = Some(error);
        self.just_failed = true;
    }

    /// The waiting reason while the image is not there.
    pub fn reason(&self) -> &'static str {
        match (&self.last_error, self.just_failed) {
            (None, _) => "ContainerCreating",
            (Some(_), true) => "ErrImagePull",
            (Some(_), false) => "ImagePullBackOff",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pull_secrets_name_their_registry() {
        let doc = br#"{"auths": {"https://index.docker.io/v1/": {"auth": "aHViOnNlY3JldA=="},
            "127.0.0.1:5000": {"username": "u", "password": "p", "auth": "dTpw"},
            "http://reg.example:8443/v2/": {"auth": "YTpiOmM="}}}"#;
        let c = |host: &str| credentials_for(doc, host).map(|c| (c.username, c.password));
        assert_eq!(c("docker.io"), Some(("hub".into(), "secret".into())));
        assert_eq!(c("127.0.0.1:5000"), Some(("u".into(), "p".into())));
        // A password may hold ':'.
        assert_eq!(c("reg.example:8443"), Some(("a".into(), "b:c".into())));
        assert_eq!(c("quay.io"), None);
        // The legacy dockercfg form: the map without "auths".
        let legacy = br#"{"quay.io": {"auth": "cTp3"}}"#;
        assert_eq!(
            credentials_for(legacy, "quay.io").map(|c| c.username),
            Some("q".into())
        );
        assert_eq!(credentials_for(b"not json", "quay.io"), None);
    }

    #[test]
    fn policies_decide_as_the_kubelet_does() {
        use Action::*;
        use PullPolicy::*;
        for (policy, have, want) in [
            (Always, true, Pull),
            (Always, false, Pull),
            (IfNotPresent, true, Use),
            (IfNotPresent, false, Pull),
            (Never, true, Use),
            (Never, false, RefuseNeverPull),
        ] {
            assert_eq!(decide(policy, have), want, "{policy:?} {have}");
        }
    }

    #[test]
    fn failed_pulls_back_off_and_say_so() {
        let now = Instant::now();
        let mut p = Pulls::default();
        assert_eq!(p.reason(), "ContainerCreating");
        p.failed(now, "no such host".into());
        assert_eq!(p.reason(), "ErrImagePull");
        assert!(!p.may_try(now));
        assert_eq!(p.next_try, Some(now + Duration::from_secs(10)));
        p.just_failed = false;
        assert_eq!(p.reason(), "ImagePullBackOff");
        p.failed(now, "again".into());
        assert_eq!(p.next_try, Some(now + Duration::from_secs(20)));
    }
}
