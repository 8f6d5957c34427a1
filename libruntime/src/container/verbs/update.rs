//! update: new resource limits, kept in the record and, while the container runs,
//! written to its cgroup at once.

use crate::cgroups::{ContainerCgroup, Resources};
use crate::container::handle::Container;
use crate::error::Result;

impl Container<'_> {
    /// Sets the limits `changes` names; the others stay as they were.
    pub fn update(&mut self, changes: &Resources) -> Result<()> {
        super::super::create::check_limits_possible(
            self.paths,
            changes,
            &self.record.config.cgroups,
        )?;
        let merged = merge(&self.record.config.resources, changes);
        let st = self.state()?;
        if st.is_active() {
            ContainerCgroup::at(&st.cgroup).apply(&merged)?;
        }
        let want = merged.clone();
        crate::container::record::update(self.paths, &self.record.id, |r| {
            r.config.resources = want;
            Ok(())
        })?;
        self.record.config.resources = merged;
        Ok(())
    }
}

/// `changes` over `base`, field by field.
fn merge(base: &Resources, changes: &Resources) -> Resources {
    Resources {
        memory: changes.memory.or(base.memory),
        memory_reservation: changes.memory_reservation.or(base.memory_reservation),
        memory_swap: changes.memory_swap.or(base.memory_swap),
        cpu_quota: changes.cpu_quota.or(base.cpu_quota),
        cpu_period: changes.cpu_period.or(base.cpu_period),
        cpu_shares: changes.cpu_shares.or(base.cpu_shares),
        cpuset_cpus: changes.cpuset_cpus.clone().or(base.cpuset_cpus.clone()),
        cpuset_mems: changes.cpuset_mems.clone().or(base.cpuset_mems.clone()),
        pids_limit: changes.pids_limit.or(base.pids_limit),
        blkio_weight: changes.blkio_weight.or(base.blkio_weight),
        device_read_bps: merge_devices(&base.device_read_bps, &changes.device_read_bps),
        device_write_bps: merge_devices(&base.device_write_bps, &changes.device_write_bps),
    }
}

/// The base's device rules, with those `changes` names replaced.
fn merge_devices(
    base: &[crate::cgroups::DeviceRate],
    changes: &[crate::cgroups::DeviceRate],
) -> Vec<crate::cgroups::DeviceRate> {
    let mut out: Vec<_> = base
        .iter()
        .filter(|b| {
            !changes
                .iter()
                .any(|c| (c.major, c.minor) == (b.major, b.minor))
        })
        .copied()
        .collect();
    out.extend_from_slice(changes);
    out
}
