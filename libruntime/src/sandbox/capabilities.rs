//! Capability sets from the spec applied to the calling process.

use caps::{CapSet, Capability, CapsHashSet};
use oci_spec::runtime::LinuxCapabilities;

fn set_of(names: Option<&oci_spec::runtime::Capabilities>) -> CapsHashSet {
    names
        .into_iter()
        .flatten()
        .filter_map(|c| {
            let name = serde_json::to_value(c).ok()?;
            name.as_str()?.parse::<Capability>().ok()
        })
        .collect()
}

/// Drops every capability outside the bounding set. Needs CAP_SETPCAP, so it runs
/// before the switch to the container user.
pub fn drop_bounding(c: &LinuxCapabilities) -> Result<(), String> {
    let keep = set_of(c.bounding().as_ref());
    let current = caps::read(None, CapSet::Bounding).map_err(|e| e.to_string())?;
    for cap in current.difference(&keep) {
        caps::drop(None, CapSet::Bounding, *cap)
            .map_err(|e| format!("dropping {cap} from the bounding set: {e}"))?;
    }
    Ok(())
}

/// Sets the effective, permitted, inheritable and ambient sets, after the uid switch.
pub fn set_process_caps(c: &LinuxCapabilities) -> Result<(), String> {
    let eff = set_of(c.effective().as_ref());
    let perm = set_of(c.permitted().as_ref());
    let inh = set_of(c.inheritable().as_ref());
    let amb = set_of(c.ambient().as_ref());
    // The kernel wants effective ⊆ permitted at every step: shrink effective first.
    let shrunk: CapsHashSet = eff.intersection(&perm).copied().collect();
    caps::set(None, CapSet::Effective, &shrunk).map_err(|e| format!("effective caps: {e}"))?;
    caps::set(None, CapSet::Permitted, &perm).map_err(|e| format!("permitted caps: {e}"))?;
    caps::set(None, CapSet::Effective, &eff).map_err(|e| format!("effective caps: {e}"))?;
    caps::set(None, CapSet::Inheritable, &inh).map_err(|e| format!("inheritable caps: {e}"))?;
    for cap in amb {
        caps::raise(None, CapSet::Ambient, cap).map_err(|e| format!("ambient {cap}: {e}"))?;
    }
    Ok(())
}
