//! A container's image, got as the kubelet gets it: by its imagePullPolicy, on the
//! node, with the kubelet's backoff between failed pulls (ErrImagePull, then
//! ImagePullBackOff). Without a policy skiff pulls only a missing image, as podman's
//! kube play does, rather than Kubernetes' "Always for :latest": a local image with no
//! registry behind it must still play.

use super::backoff;
use std::time::{Duration, Instant};

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
