//! `run --pull` / `create --pull`: whether to pull before making a container, and the
//! pull itself in the storage user namespace (a forked helper when rootless), so the
//! caller stays outside it.

use super::progress::Progress;
use super::pull::{pull, PullOptions};
use crate::error::{Error, Result};
use crate::store::Store;
use crate::userns::IdMaps;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PullPolicy {
    Always,
    /// Pull only when the store has no such image (the default).
    Missing,
    Never,
    /// Pull, but keep the local image when the registry cannot be asked.
    Newer,
}

impl std::str::FromStr for PullPolicy {
    type Err = Error;

    fn from_str(s: &str) -> Result<PullPolicy> {
        match s {
            "always" => Ok(PullPolicy::Always),
            "missing" => Ok(PullPolicy::Missing),
            "never" => Ok(PullPolicy::Never),
            "newer" => Ok(PullPolicy::Newer),
            p => Err(Error::InvalidArgument(format!(
                "invalid --pull {p:?}: use always, missing, never or newer"
            ))),
        }
    }
}

impl PullPolicy {
    /// Whether to pull, given whether the store has the image.
    pub fn wants_pull(self, have: bool) -> bool {
        match self {
            PullPolicy::Never => false,
            PullPolicy::Missing => !have,
            PullPolicy::Always | PullPolicy::Newer => true,
        }
    }
}

/// Makes sure `image` is in the store as `policy` says.
pub fn ensure_image(
    store: &Store,
    maps: &IdMaps,
    image: &str,
    policy: PullPolicy,
    opts: &PullOptions,
    progress: &dyn Progress,
) -> Result<()> {
    let have = store.find_image(image).is_ok();
    if !policy.wants_pull(have) {
        return Ok(());
    }
    let pulled =
        crate::userns::in_storage_ns(maps, || pull(store, image, opts, progress).map(|i| i.id));
    match pulled {
        Ok(_) => Ok(()),
        Err(e) if policy == PullPolicy::Newer && have => {
            crate::log::warn(&format!(
                "could not check {image} for a newer version ({e}): using the local image"
            ));
            Ok(())
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_decides_from_what_the_store_has() {
        use PullPolicy::*;
        for (policy, have, want) in [
            (Always, true, true),
            (Always, false, true),
            (Missing, true, false),
            (Missing, false, true),
            (Never, true, false),
            (Never, false, false),
            (Newer, true, true),
            (Newer, false, true),
        ] {
            assert_eq!(policy.wants_pull(have), want, "{policy:?} have={have}");
        }
        assert!("sometimes".parse::<PullPolicy>().is_err());
    }
}
