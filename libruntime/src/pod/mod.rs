//! Pods as podman has them: a group of containers sharing namespaces that an infra
//! container holds. The infra runs skiff's built-in pause process (no image) unless
//! `--infra-image` names one; it owns the pod's network (and its published ports), and
//! every member joins its namespaces through `container:` modes, so the supervisor's
//! ordinary joining does the work. No process watches a pod: its status is computed
//! from its containers' states, a member's start starts the infra first, the infra's
//! supervisor takes the members down when the infra dies, and a member's supervisor
//! applies the pod's exit policy when the member ends.

mod create;
mod error;
mod handle;
mod record;
mod status;
mod verbs;

pub use create::{create, join, InfraSettings, MemberFlags, PodCreate};
pub use error::PodError;
pub use handle::Pod;
pub use record::{find, list, ExitPolicy, PodRecord, SharedNamespace};
pub use status::{pod_status, PodStatus};
pub use verbs::{on_infra_exit, on_member_exit, Outcome};
