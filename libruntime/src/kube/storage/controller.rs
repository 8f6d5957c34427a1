//! The PV controller's pass: volumes whose claims went are released and reclaimed by
//! their policy; claims are bound to the volume that matches best, or given a new one
//! by their class's provisioner, or left Pending with the event Kubernetes writes.
//! There is no daemon to run it: every process that changes what it depends on (a
//! play of PVs, claims or classes, a claim's deletion, a pod waiting for its claims,
//! a reading kube command) runs a pass, one at a time under the storage lock.

use super::binder::{self, Candidate, Wanted};
use super::provisioner::{self, Provisioner};
use crate::error::Result;
use crate::kube::api::storage::{
    BindingMode, PersistentVolume, PersistentVolumeClaim, ReclaimPolicy, StorageClass,
};
use crate::kube::api::{Kind, ObjectMeta, Pod};
use crate::kube::events::{self, EventType, Involved};
use crate::kube::store::{self, Object};
use crate::paths::Paths;
use crate::userns::IdMaps;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

/// The annotation naming the provisioner that made a volume.
pub const PROVISIONED_BY: &str = "pv.kubernetes.io/provisioned-by";

const SOURCE: &str = "persistentvolume-controller";

/// The claims (namespace, name) that pods which have not finished use.
pub fn consumers(paths: &Paths) -> Result<BTreeSet<(String, String)>> {
    let mut out = BTreeSet::new();
    for o in store::list(paths, Kind::Pod, None)? {
        if crate::kube::controller::is_finished(&o) {
            continue;
        }
        let Ok(pod) = serde_json::from_value::<Pod>(o.to_api()) else {
            continue;
        };
        for v in &pod.spec.volumes {
            if let Some(c) = v.claim_name(o.name()) {
                out.insert((o.namespace().to_string(), c));
            }
        }
    }
    Ok(out)
}

struct Pass<'a> {
    paths: &'a Paths,
    maps: &'a IdMaps,
    classes: BTreeMap<String, StorageClass>,
    consumers: BTreeSet<(String, String)>,
    /// Every volume, typed, kept current as the pass binds and deletes.
    volumes: Vec<(Object, PersistentVolume)>,
}

/// One pass over every volume and claim.
pub fn sync(paths: &Paths, maps: &IdMaps) -> Result<()> {
    let _held = super::lock(paths)?;
    let volumes = typed_all::<PersistentVolume>(paths, Kind::PersistentVolume)?;
    let claims = typed_all::<PersistentVolumeClaim>(paths, Kind::PersistentVolumeClaim)?;
    if volumes.is_empty() && claims.is_empty() {
        return Ok(());
    }
    let mut pass = Pass {
        paths,
        maps,
        classes: typed_all::<StorageClass>(paths, Kind::StorageClass)?
            .into_iter()
            .map(|(o, c)| (o.name().to_string(), c))
            .collect(),
        consumers: consumers(paths)?,
        volumes,
    };
    let claims = pass.finish_protected_deletions(claims)?;
    pass.reclaim(&claims)?;
    let mut claims = claims;
    // Oldest first, as the controller's queue would take them.
    claims.sort_by(|a, b| {
        a.0.metadata
            .creation_timestamp
            .cmp(&b.0.metadata.creation_timestamp)
            .then(a.0.name().cmp(b.0.name()))
    });
    for (o, c) in &claims {
        pass.sync_claim(o, c)?;
    }
    Ok(())
}

fn typed_all<T: serde::de::DeserializeOwned>(
    paths: &Paths,
    kind: Kind,
) -> Result<Vec<(Object, T)>> {
    Ok(store::list(paths, kind, None)?
        .into_iter()
        .filter_map(|o| {
            let t = serde_json::from_value(o.to_api()).ok()?;
            Some((o, t))
        })
        .collect())
}

fn involved(o: &Object) -> Involved {
    Involved {
        kind: o.kind,
        namespace: o.namespace().to_string(),
        name: o.name().to_string(),
        uid: o.metadata.uid.clone(),
    }
}

/// Records an event unless it is the object's latest already (a pass runs often; the
/// controller's own resyncs repeat far less).
fn note(paths: &Paths, o: &Object, type_: EventType, reason: &str, message: &str, source: &str) {
    let about = involved(o);
    let last = events::of(paths, &about)
        .into_iter()
        .max_by(|a, b| a.last.cmp(&b.last));
    if last.is_some_and(|e| e.reason == reason && e.message == message) {
        return;
    }
    events::record(paths, &about, type_, reason, message, source);
}

fn phase(o: &Object) -> &str {
    o.status["phase"].as_str().unwrap_or("")
}

impl Pass<'_> {
    fn set_claim_status(&self, o: &Object, status: Value) -> Result<bool> {
        store::write_status(
            self.paths,
            Kind::PersistentVolumeClaim,
            o.namespace(),
            o.name(),
            &o.metadata.uid,
            status,
        )
    }

    /// Claims marked for deletion while pods used them go once no pod does
    /// (kubernetes.io/pvc-protection); the claims left.
    fn finish_protected_deletions(
        &self,
        claims: Vec<(Object, PersistentVolumeClaim)>,
    ) -> Result<Vec<(Object, PersistentVolumeClaim)>> {
        let mut left = Vec::new();
        for (o, c) in claims {
            let used = self
                .consumers
                .contains(&(o.namespace().to_string(), o.name().to_string()));
            if o.metadata.deletion_timestamp.is_some() && !used {
                store::delete(
                    self.paths,
                    Kind::PersistentVolumeClaim,
                    o.namespace(),
                    o.name(),
                )?;
            } else {
                left.push((o, c));
            }
        }
        Ok(left)
    }

    fn set_volume_status(&mut self, i: usize, status: Value) -> Result<()> {
        let (o, _) = &mut self.volumes[i];
        store::write_status(
            self.paths,
            Kind::PersistentVolume,
            "",
            o.name(),
            &o.metadata.uid,
            status.clone(),
        )?;
        o.status = status;
        Ok(())
    }

    /// Volumes whose claim is gone are released, then reclaimed by their policy;
    /// unclaimed ones are Available.
    fn reclaim(&mut self, claims: &[(Object, PersistentVolumeClaim)]) -> Result<()> {
        let mut i = 0;
        while i < self.volumes.len() {
            let (o, pv) = &self.volumes[i];
            let Some(r) = pv.spec.claim_ref.clone() else {
                if phase(o) != "Available" {
                    self.set_volume_status(i, json!({"phase": "Available"}))?;
                }
                i += 1;
                continue;
            };
            let uid = r.uid.clone().unwrap_or_default();
            let claim = claims
                .iter()
                .find(|(c, _)| c.name() == r.name && Some(c.namespace()) == r.namespace.as_deref());
            let bound_here = claim.is_some_and(|(c, _)| uid.is_empty() || c.metadata.uid == uid);
            if bound_here || uid.is_empty() {
                // Bound, or reserved for a claim that may yet come.
                let want = if uid.is_empty() { "Available" } else { "Bound" };
                if phase(o) != want {
                    self.set_volume_status(i, json!({"phase": want}))?;
                }
                i += 1;
                continue;
            }
            if matches!(phase(o), "Released" | "Failed") {
                i += 1;
                continue;
            }
            if self.reclaim_one(i)? {
                i += 1;
            }
        }
        Ok(())
    }

    /// Runs the volume's reclaim policy; false when the volume is gone.
    fn reclaim_one(&mut self, i: usize) -> Result<bool> {
        let (o, pv) = self.volumes[i].clone();
        let name = o.name().to_string();
        match pv.spec.persistent_volume_reclaim_policy.unwrap_or_default() {
            ReclaimPolicy::Retain => {
                self.set_volume_status(i, json!({"phase": "Released"}))?;
            }
            ReclaimPolicy::Delete => {
                let by = o
                    .metadata
                    .annotations
                    .get(PROVISIONED_BY)
                    .cloned()
                    .unwrap_or_default();
                match provisioner::by_name(&by, self.paths, self.maps) {
                    Some(p) => {
                        self.set_volume_status(i, json!({"phase": "Released"}))?;
                        p.delete(&name)?;
                        store::delete(self.paths, Kind::PersistentVolume, "", &name)?;
                        self.volumes.remove(i);
                        return Ok(false);
                    }
                    None => {
                        let message = format!(
                            "error getting deleter volume plugin for volume \"{name}\": no deletable volume plugin matched"
                        );
                        self.set_volume_status(i, json!({"phase": "Failed", "message": message}))?;
                        note(
                            self.paths,
                            &o,
                            EventType::Warning,
                            "VolumeFailedDelete",
                            &message,
                            SOURCE,
                        );
                    }
                }
            }
            ReclaimPolicy::Recycle => {
                // The recycler's scrub: the data goes, the volume is offered again.
                if let Some(dir) = pv.spec.path() {
                    scrub(self.maps, std::path::Path::new(dir))?;
                }
                store::update(
                    self.paths,
                    Kind::PersistentVolume,
                    "",
                    &name,
                    &o.metadata.uid,
                    |x| {
                        if let Some(s) = x.spec.as_object_mut() {
                            s.remove("claimRef");
                        }
                    },
                )?;
                self.volumes[i].1.spec.claim_ref = None;
                self.set_volume_status(i, json!({"phase": "Available"}))?;
                note(
                    self.paths,
                    &o,
                    EventType::Normal,
                    "VolumeRecycled",
                    "Volume recycled",
                    SOURCE,
                );
            }
        }
        Ok(true)
    }

    fn sync_claim(&mut self, o: &Object, c: &PersistentVolumeClaim) -> Result<()> {
        if o.metadata.deletion_timestamp.is_some() {
            return Ok(());
        }
        match phase(o) {
            "Bound" => return self.check_bound(o, c),
            "Lost" => return Ok(()),
            _ => {}
        }
        let ns = o.namespace();
        let class_name = c.spec.class().to_string();
        let class = self.classes.get(&class_name).cloned();
        let delayed = class
            .as_ref()
            .is_some_and(|k| k.volume_binding_mode == Some(BindingMode::WaitForFirstConsumer));
        let consumed = self
            .consumers
            .contains(&(ns.to_string(), o.name().to_string()));
        if phase(o) != "Pending" {
            self.set_claim_status(o, json!({"phase": "Pending"}))?;
        }
        if delayed && !consumed {
            return self.wait(
                o,
                EventType::Normal,
                "WaitForFirstConsumer",
                "waiting for first consumer to be created before binding",
            );
        }
        let wanted = Wanted {
            namespace: ns,
            name: o.name(),
            uid: &o.metadata.uid,
            spec: &c.spec,
        };
        let candidates: Vec<Candidate> = self
            .volumes
            .iter()
            .map(|(v, pv)| Candidate {
                name: v.name(),
                labels: &v.metadata.labels,
                spec: &pv.spec,
                available: phase(v) == "Available",
            })
            .collect();
        if let Some(i) = binder::find_match(&wanted, &candidates) {
            return self.bind(i, o);
        }
        if let Some(v) = c.spec.volume_name.as_deref().filter(|v| !v.is_empty()) {
            let message = match self.volumes.iter().find(|(x, _)| x.name() == v) {
                None => format!("volume \"{v}\" not found"),
                Some(_) => format!("volume \"{v}\" already bound to a different claim."),
            };
            return self.wait(o, EventType::Warning, "FailedBinding", &message);
        }
        match &class {
            _ if class_name.is_empty() => self.wait(
                o,
                EventType::Normal,
                "FailedBinding",
                "no persistent volumes available for this claim and no storage class is set",
            ),
            None => self.wait(
                o,
                EventType::Warning,
                "ProvisioningFailed",
                &format!("storageclass.storage.k8s.io \"{class_name}\" not found"),
            ),
            Some(k) => match provisioner::by_name(&k.provisioner, self.paths, self.maps) {
                Some(p) => self.provision(o, c, k, p.as_ref()),
                None if k.provisioner == "kubernetes.io/no-provisioner" && delayed => {
                    self.wait(o, EventType::Normal, "WaitForFirstConsumer", "waiting for first consumer to be created before binding")
                }
                None if k.provisioner == "kubernetes.io/no-provisioner" => self.wait(
                    o,
                    EventType::Warning,
                    "ProvisioningFailed",
                    "no volume plugin matched name: kubernetes.io/no-provisioner",
                ),
                None => self.wait(
                    o,
                    EventType::Normal,
                    "ExternalProvisioning",
                    &format!("Waiting for a volume to be created either by the external provisioner '{}' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.", k.provisioner),
                ),
            },
        }
    }

    fn wait(&self, o: &Object, type_: EventType, reason: &str, message: &str) -> Result<()> {
        note(self.paths, o, type_, reason, message, SOURCE);
        Ok(())
    }

    /// A bound claim whose volume went (or went to another claim) is Lost; one that
    /// asks for more than it has grows when its class allows.
    fn check_bound(&mut self, o: &Object, c: &PersistentVolumeClaim) -> Result<()> {
        let vn = c.spec.volume_name.clone().unwrap_or_default();
        let found = self.volumes.iter().position(|(v, pv)| {
            v.name() == vn
                && pv
                    .spec
                    .claim_ref
                    .as_ref()
                    .is_some_and(|r| r.uid.as_deref() == Some(o.metadata.uid.as_str()))
        });
        let Some(i) = found else {
            let mut st = o.status.clone();
            st["phase"] = json!("Lost");
            self.set_claim_status(o, st)?;
            return self.wait(
                o,
                EventType::Warning,
                "ClaimLost",
                "Bound claim has lost its PersistentVolume. Data on the volume is lost!",
            );
        };
        let (v, pv) = self.volumes[i].clone();
        let have = pv.spec.storage();
        if c.spec.request() > have && v.metadata.annotations.contains_key(PROVISIONED_BY) {
            // A provisioned volume is a directory: it holds whatever is asked.
            let size = c.spec.request();
            store::update(
                self.paths,
                Kind::PersistentVolume,
                "",
                v.name(),
                &v.metadata.uid,
                |x| {
                    x.spec["capacity"]["storage"] = json!(size.to_string());
                },
            )?;
            self.volumes[i]
                .1
                .spec
                .capacity
                .insert("storage".into(), size);
            let mut st = o.status.clone();
            st["capacity"]["storage"] = json!(size.to_string());
            self.set_claim_status(o, st)?;
            note(
                self.paths,
                o,
                EventType::Normal,
                "FileSystemResizeSuccessful",
                &format!(
                    "resize volume \"{}\" by resizer \"{}\" succeeded",
                    v.name(),
                    provisioner::SKIFF_VOLUME
                ),
                "skiff-resizer",
            );
        }
        Ok(())
    }

    /// Binds volume `i` and the claim to each other.
    fn bind(&mut self, i: usize, o: &Object) -> Result<()> {
        let (v, pv) = self.volumes[i].clone();
        let claim_ref = json!({
            "kind": "PersistentVolumeClaim",
            "namespace": o.namespace(),
            "name": o.name(),
            "uid": o.metadata.uid,
            "apiVersion": "v1",
            "resourceVersion": o.metadata.resource_version,
        });
        let by_controller = pv.spec.claim_ref.is_none();
        store::update(
            self.paths,
            Kind::PersistentVolume,
            "",
            v.name(),
            &v.metadata.uid,
            |x| {
                x.spec["claimRef"] = claim_ref.clone();
            },
        )?;
        self.volumes[i].1.spec.claim_ref = serde_json::from_value(claim_ref).ok();
        self.set_volume_status(i, json!({"phase": "Bound"}))?;
        let name = v.name().to_string();
        store::update(
            self.paths,
            Kind::PersistentVolumeClaim,
            o.namespace(),
            o.name(),
            &o.metadata.uid,
            |x| {
                x.spec["volumeName"] = json!(name);
                let a = &mut x.metadata.annotations;
                a.insert("pv.kubernetes.io/bind-completed".into(), "yes".into());
                if by_controller {
                    a.insert("pv.kubernetes.io/bound-by-controller".into(), "yes".into());
                }
            },
        )?;
        self.set_claim_status(
            o,
            json!({
                "phase": "Bound",
                "accessModes": pv.spec.access_modes,
                "capacity": pv.spec.capacity,
            }),
        )?;
        Ok(())
    }

    /// Makes a volume for the claim with its class's provisioner, bound to it.
    fn provision(
        &mut self,
        o: &Object,
        c: &PersistentVolumeClaim,
        class: &StorageClass,
        p: &dyn Provisioner,
    ) -> Result<()> {
        let name = format!("pvc-{}", o.metadata.uid);
        let claim = format!("{}/{}", o.namespace(), o.name());
        let dir = match p.provision(&name, &claim) {
            Ok(d) => d,
            Err(e) => {
                let message = format!(
                    "failed to provision volume with StorageClass \"{}\": {}",
                    class.metadata.name, e
                );
                return self.wait(o, EventType::Warning, "ProvisioningFailed", &message);
            }
        };
        let pv = Object {
            api_version: "v1".into(),
            kind: Kind::PersistentVolume,
            metadata: ObjectMeta {
                name: name.clone(),
                annotations: [(PROVISIONED_BY.to_string(), class.provisioner.clone())].into(),
                ..Default::default()
            },
            spec: json!({
                "capacity": {"storage": c.spec.request().to_string()},
                "accessModes": c.spec.access_modes,
                "volumeMode": "Filesystem",
                "storageClassName": class.metadata.name,
                "persistentVolumeReclaimPolicy": class.reclaim_policy.unwrap_or(ReclaimPolicy::Delete),
                "hostPath": {"path": dir, "type": "Directory"},
                "claimRef": {
                    "kind": "PersistentVolumeClaim",
                    "namespace": o.namespace(),
                    "name": o.name(),
                    "uid": o.metadata.uid,
                    "apiVersion": "v1",
                },
            }),
            status: json!({"phase": "Pending"}),
        };
        let (stored, _) = store::apply(self.paths, pv)?;
        let typed: PersistentVolume = serde_json::from_value(stored.to_api())
            .map_err(|e| crate::Error::json("persistent volume", e))?;
        self.volumes.push((stored, typed));
        let i = self.volumes.len() - 1;
        note(
            self.paths,
            o,
            EventType::Normal,
            "ProvisioningSucceeded",
            &format!("Successfully provisioned volume {name}"),
            &class.provisioner,
        );
        self.bind(i, o)
    }
}

/// Empties a directory, keeping it; files a container's user made are removed inside
/// the storage user namespace when the caller may not remove them directly.
fn scrub(maps: &IdMaps, dir: &std::path::Path) -> Result<()> {
    let empty = |d: &std::path::Path| -> Result<()> {
        for e in std::fs::read_dir(d)
            .map_err(|e| crate::Error::io(format!("reading {}", d.display()), e))?
            .flatten()
        {
            let p = e.path();
            if p.is_dir() && !p.is_symlink() {
                crate::fsutil::remove_tree(&p)?;
            } else {
                std::fs::remove_file(&p)
                    .map_err(|e| crate::Error::io(format!("removing {}", p.display()), e))?;
            }
        }
        Ok(())
    };
    if !dir.is_dir() {
        return Ok(());
    }
    if empty(dir).is_err() {
        crate::userns::run_in_storage_ns(maps, || empty(dir))?;
    }
    Ok(())
}
