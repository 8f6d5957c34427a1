//! Which PersistentVolume a claim binds to, as the PV controller's matching does: a
//! volume reserved for the claim (its claimRef) first; else, among Available volumes
//! of the claim's class and volume mode, with every access mode it asks for, that its
//! selector picks and that hold what it requests, the smallest.

use crate::kube::api::storage::{PersistentVolumeClaimSpec, PersistentVolumeSpec, VolumeMode};
use std::collections::BTreeMap;

/// A PersistentVolume as the matcher sees it.
#[derive(Debug, Clone, Copy)]
pub struct Candidate<'a> {
    pub name: &'a str,
    pub labels: &'a BTreeMap<String, String>,
    pub spec: &'a PersistentVolumeSpec,
    /// Its phase is Available (not Bound, Released or Failed).
    pub available: bool,
}

/// A claim as the matcher sees it.
#[derive(Debug, Clone, Copy)]
pub struct Wanted<'a> {
    pub namespace: &'a str,
    pub name: &'a str,
    pub uid: &'a str,
    pub spec: &'a PersistentVolumeClaimSpec,
}

/// Whether the volume is reserved for (or bound to) this very claim.
pub fn reserved_for(pv: &PersistentVolumeSpec, claim: &Wanted) -> bool {
    pv.claim_ref.as_ref().is_some_and(|r| {
        r.name == claim.name
            && r.namespace.as_deref() == Some(claim.namespace)
            && r.uid
                .as_deref()
                .is_none_or(|u| u.is_empty() || u == claim.uid)
    })
}

/// Whether the volume could hold the claim: mode, access modes, size.
fn fits(pv: &PersistentVolumeSpec, claim: &PersistentVolumeClaimSpec) -> bool {
    pv.volume_mode.unwrap_or(VolumeMode::Filesystem)
        == claim.volume_mode.unwrap_or(VolumeMode::Filesystem)
        && claim
            .access_modes
            .iter()
            .all(|m| pv.access_modes.contains(m))
        && pv.storage() >= claim.request()
}

/// The index of the volume the claim binds to, if any.
pub fn find_match(claim: &Wanted, volumes: &[Candidate]) -> Option<usize> {
    let named = claim.spec.volume_name.as_deref().filter(|n| !n.is_empty());
    let considered = || {
        volumes
            .iter()
            .enumerate()
            .filter(move |(_, v)| named.is_none_or(|n| n == v.name))
    };
    // A volume an administrator reserved for this claim wins, whatever its class.
    if let Some((i, _)) =
        considered().find(|(_, v)| reserved_for(v.spec, claim) && fits(v.spec, claim.spec))
    {
        return Some(i);
    }
    considered()
        .filter(|(_, v)| {
            v.available
                && v.spec.claim_ref.is_none()
                && v.spec.class() == claim.spec.class()
                && claim
                    .spec
                    .selector
                    .as_ref()
                    .is_none_or(|s| s.matches(v.labels))
                && fits(v.spec, claim.spec)
        })
        .min_by(|(_, a), (_, b)| a.spec.storage().cmp(&b.spec.storage()))
        .map(|(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kube::api::storage::{AccessMode, ObjectReference};
    use crate::kube::api::LabelSelector;
    use AccessMode::*;

    fn pv(size: &str, modes: &[AccessMode], class: &str) -> PersistentVolumeSpec {
        PersistentVolumeSpec {
            capacity: [("storage".to_string(), size.parse().unwrap())].into(),
            access_modes: modes.to_vec(),
            storage_class_name: (!class.is_empty()).then(|| class.to_string()),
            ..Default::default()
        }
    }

    fn claim(size: &str, modes: &[AccessMode], class: &str) -> PersistentVolumeClaimSpec {
        let mut c = PersistentVolumeClaimSpec {
            access_modes: modes.to_vec(),
            storage_class_name: Some(class.to_string()),
            ..Default::default()
        };
        c.resources
            .requests
            .insert("storage".into(), size.parse().unwrap());
        c
    }

    fn pick(
        c: &PersistentVolumeClaimSpec,
        pvs: &[(&str, PersistentVolumeSpec, bool)],
    ) -> Option<String> {
        let none = BTreeMap::new();
        let fast: BTreeMap<String, String> = [("speed".to_string(), "fast".to_string())].into();
        let candidates: Vec<Candidate> = pvs
            .iter()
            .map(|(n, s, available)| Candidate {
                name: n,
                labels: if n.contains("fast") { &fast } else { &none },
                spec: s,
                available: *available,
            })
            .collect();
        let w = Wanted {
            namespace: "default",
            name: "data",
            uid: "u1",
            spec: c,
        };
        find_match(&w, &candidates).map(|i| candidates[i].name.to_string())
    }

    #[test]
    fn matching_as_the_pv_controller_does() {
        let small = ("small", pv("1Gi", &[ReadWriteOnce], ""), true);
        let big = ("big", pv("10Gi", &[ReadWriteOnce, ReadWriteMany], ""), true);
        let mid = ("mid", pv("5Gi", &[ReadWriteOnce], ""), true);
        let gold = ("gold", pv("2Gi", &[ReadWriteOnce], "gold"), true);
        let released = ("released", pv("2Gi", &[ReadWriteOnce], ""), false);
        let fast = ("fast", pv("20Gi", &[ReadWriteOnce], ""), true);
        let all = [
            small.clone(),
            big.clone(),
            mid.clone(),
            gold.clone(),
            released.clone(),
            fast.clone(),
        ];
        let mut selective = claim("1Gi", &[ReadWriteOnce], "");
        selective.selector = Some(LabelSelector {
            match_labels: [("speed".to_string(), "fast".to_string())].into(),
            ..Default::default()
        });
        let mut named = claim("1Gi", &[ReadWriteOnce], "");
        named.volume_name = Some("mid".into());
        let mut block = claim("1Gi", &[ReadWriteOnce], "");
        block.volume_mode = Some(VolumeMode::Block);
        for (what, c, want) in [
            (
                "smallest that fits",
                claim("2Gi", &[ReadWriteOnce], ""),
                Some("mid"),
            ),
            (
                "exact size",
                claim("1Gi", &[ReadWriteOnce], ""),
                Some("small"),
            ),
            (
                "access modes",
                claim("1Gi", &[ReadWriteMany], ""),
                Some("big"),
            ),
            (
                "class",
                claim("1Gi", &[ReadWriteOnce], "gold"),
                Some("gold"),
            ),
            ("too big for all", claim("50Gi", &[ReadWriteOnce], ""), None),
            (
                "no such class",
                claim("1Gi", &[ReadWriteOnce], "silver"),
                None,
            ),
            ("mode nobody has", claim("1Gi", &[ReadOnlyMany], ""), None),
            ("selector", selective, Some("fast")),
            ("volumeName", named, Some("mid")),
            ("volume mode", block, None),
        ] {
            assert_eq!(pick(&c, &all).as_deref(), want, "{what}");
        }
    }

    #[test]
    fn a_reserved_volume_goes_to_its_claim_only() {
        let mut reserved = pv("10Gi", &[ReadWriteOnce], "other");
        reserved.claim_ref = Some(ObjectReference {
            namespace: Some("default".into()),
            name: "data".into(),
            ..Default::default()
        });
        let pvs = [
            ("small", pv("1Gi", &[ReadWriteOnce], ""), true),
            ("reserved", reserved.clone(), true),
        ];
        // Reserved for this claim: it wins over a smaller one, class aside.
        assert_eq!(
            pick(&claim("1Gi", &[ReadWriteOnce], ""), &pvs).as_deref(),
            Some("reserved")
        );
        // Reserved for another: never taken.
        reserved.claim_ref.as_mut().unwrap().name = "other".into();
        let pvs = [("reserved", reserved.clone(), true)];
        assert_eq!(pick(&claim("1Gi", &[ReadWriteOnce], "other"), &pvs), None);
        // Bound to an earlier claim of the same name (another uid): not this one.
        reserved.claim_ref = Some(ObjectReference {
            namespace: Some("default".into()),
            name: "data".into(),
            uid: Some("old".into()),
            ..Default::default()
        });
        let pvs = [("reserved", reserved, false)];
        assert_eq!(pick(&claim("1Gi", &[ReadWriteOnce], "other"), &pvs), None);
    }
}
