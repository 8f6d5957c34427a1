//! `pod create` and a member's joining: the pod record, its infra container, and the
//! namespace modes that put a member in the infra's namespaces.

use super::record::{list, record_path, PodRecord, SharedNamespace};
use super::{ExitPolicy, PodError};
use crate::container::options::{
    CreateOptions, HealthRequest, InfraProgram, NetMode, NsMode, PodPlace, UsernsMode,
};
use crate::error::Result;
use crate::store::Store;
use crate::userns::IdMaps;
use crate::{fsutil, time};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What the infra container is made with: the pod's network, ports and name service.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InfraSettings {
    /// `--infra-image`; none runs the built-in pause process.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// `--infra-command`, with `--infra-image`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub command: Vec<String>,
    /// `--infra-name`; podman's `<short pod id>-infra` otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub network: NetMode,
    /// `-p`, as typed.
    #[serde(default)]
    pub publish: Vec<String>,
    #[serde(default)]
    pub add_hosts: Vec<(String, String)>,
    #[serde(default)]
    pub dns: Vec<String>,
    #[serde(default)]
    pub dns_search: Vec<String>,
    #[serde(default)]
    pub dns_options: Vec<String>,
    #[serde(default)]
    pub userns: UsernsMode,
}

/// A `pod create` request.
#[derive(Debug, Clone, Default)]
pub struct PodCreate {
    pub name: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub hostname: Option<String>,
    pub shared: Vec<SharedNamespace>,
    pub exit_policy: ExitPolicy,
    /// None for `--infra=false`.
    pub infra: Option<InfraSettings>,
    pub create_command: Vec<String>,
}

fn pick_name(paths: &crate::paths::Paths, wanted: Option<&str>) -> Result<String> {
    let existing = list(paths)?;
    let taken = |n: &str| existing.iter().any(|p| p.name == n);
    match wanted {
        Some(n) if !crate::ids::valid_name(n) => Err(PodError::InvalidName(n.into()).into()),
        Some(n) if taken(n) => Err(PodError::NameInUse(n.into()).into()),
        Some(n) => Ok(n.to_string()),
        None => {
            let seed = u64::from_str_radix(&crate::ids::new_id()[..16], 16).unwrap_or(0);
            Ok(crate::container::names::generate(seed, &taken))
        }
    }
}

/// The infra container's create options.
fn infra_options(id: &str, hostname: &str, s: &InfraSettings) -> CreateOptions {
    let program = if s.image.is_some() {
        InfraProgram::Image
    } else {
        InfraProgram::Pause
    };
    CreateOptions {
        image: s.image.clone().unwrap_or_default(),
        name: Some(
            s.name
                .clone()
                .unwrap_or_else(|| format!("{}-infra", &id[..12])),
        ),
        command: match program {
            InfraProgram::Pause => vec![crate::sandbox::pause::COMMAND.to_string()],
            InfraProgram::Image => s.command.clone(),
        },
        pod: Some(PodPlace {
            id: id.to_string(),
            infra: Some(program),
        }),
        hostname: Some(hostname.to_string()),
        network: s.network.clone(),
        publish: s.publish.clone(),
        add_hosts: s.add_hosts.clone(),
        dns: s.dns.clone(),
        dns_search: s.dns_search.clone(),
        dns_options: s.dns_options.clone(),
        userns: s.userns.clone(),
        health: HealthRequest::Disabled,
        ..Default::default()
    }
}

/// Creates the pod and its infra container; `store` must be locked.
pub fn create(store: &Store, maps: &IdMaps, req: &PodCreate) -> Result<PodRecord> {
    let paths = &store.paths;
    let name = pick_name(paths, req.name.as_deref())?;
    let id = crate::ids::new_id();
    if req.infra.is_none() && !req.shared.is_empty() {
        return Err(crate::error::Error::InvalidArgument(
            "--share needs an infra container: drop --infra=false or use --share none".into(),
        ));
    }
    let hostname = req.hostname.clone().unwrap_or_else(|| name.clone());
    let infra = match &req.infra {
        Some(s) => Some(crate::container::create::create(
            store,
            maps,
            &infra_options(&id, &hostname, s),
        )?),
        None => None,
    };
    let record = PodRecord {
        id: id.clone(),
        name,
        created: time::now_rfc3339(),
        labels: req.labels.clone(),
        hostname,
        shared: req.shared.clone(),
        exit_policy: req.exit_policy,
        infra_id: infra.as_ref().map(|c| c.id.clone()),
        infra: req.infra.clone(),
        create_command: req.create_command.clone(),
    };
    let path = record_path(paths, &id);
    let written = path
        .parent()
        .map(fsutil::create_dir_all)
        .unwrap_or(Ok(()))
        .and_then(|_| fsutil::write_json(&path, &record));
    if let Err(e) = written {
        if let Some(c) = infra {
            let _ = crate::container::Container::new(paths, maps, c).remove(true);
        }
        let _ = fsutil::remove_tree(&crate::pod::record::pods_dir(paths).join(&id));
        return Err(e);
    }
    crate::events::emit(paths, &record.event(crate::events::EventStatus::Create));
    Ok(record)
}

/// Makes `opts` a member of `pod`: it joins the infra's shared namespaces and takes the
/// pod's hostname. Flags that would set what the pod decides are refused.
pub fn join(
    paths: &crate::paths::Paths,
    pod: &PodRecord,
    opts: &mut CreateOptions,
    explicit: &MemberFlags,
) -> Result<()> {
    let conflict = |what: &str| -> Result<()> {
        Err(PodError::MemberConflict(format!(
            "{what} cannot be set on a container in pod {}: the pod decides it (set it on `pod create`)",
            pod.name
        ))
        .into())
    };
    let Some(infra) = &pod.infra_id else {
        opts.pod = Some(PodPlace {
            id: pod.id.clone(),
            infra: None,
        });
        return Ok(());
    };
    if pod.shares(SharedNamespace::Net) {
        if explicit.network {
            conflict("--network")?;
        }
        if explicit.publish {
            conflict("--publish")?;
        }
        // A pod on the host's network: members use it directly. Joining it through
        // the infra would be setns into a namespace the host's user namespace owns,
        // which a rootless member may not do.
        let on_host = pod
            .infra
            .as_ref()
            .is_some_and(|i| i.network == NetMode::Host);
        opts.network = if on_host {
            NetMode::Host
        } else {
            NetMode::Container(infra.clone())
        };
    }
    if pod.shares(SharedNamespace::Uts) {
        if explicit.hostname {
            conflict("--hostname")?;
        }
        opts.uts = NsMode::Container(infra.clone());
        opts.hostname = Some(pod.hostname.clone());
    }
    if pod.shares(SharedNamespace::Ipc) {
        opts.ipc = NsMode::Container(infra.clone());
        opts.shm_dir = Some(super::record::shm_dir(paths, pod)?);
    }
    if pod.shares(SharedNamespace::Pid) {
        opts.pid = NsMode::Container(infra.clone());
    }
    if explicit.userns {
        conflict("--userns")?;
    }
    opts.pod = Some(PodPlace {
        id: pod.id.clone(),
        infra: None,
    });
    Ok(())
}

/// Which of the flags a pod decides the caller gave.
#[derive(Debug, Clone, Copy, Default)]
pub struct MemberFlags {
    pub network: bool,
    pub publish: bool,
    pub hostname: bool,
    pub userns: bool,
}
