//! Kubernetes on one machine, without a daemon: manifests (`manifest.rs`), the API
//! types skiff acts on (`api/`), validation that reports every field it does not
//! (`validate.rs`), the object store (`store.rs`), and the per-pod owner process that
//! does the kubelet's work for a Pod (`kubelet/`). Workload controllers come next.

pub mod admission;
pub mod api;
pub mod config;
pub mod controller;
pub mod describe;
pub mod events;
pub mod generate;
pub mod kubelet;
pub mod manifest;
pub mod namespaces;
pub mod overrides;
pub mod owner;
pub mod play;
pub mod printers;
pub mod quantity;
pub mod resources;
pub mod storage;
pub mod store;
pub mod validate;

/// What fails in kube commands.
#[derive(Debug, thiserror::Error)]
pub enum KubeError {
    #[error("reading the manifest (document {document}): {reason}")]
    Yaml { document: usize, reason: String },
    #[error("{kind} {name:?}: a name must be lowercase letters, digits, '-' and '.', as Kubernetes requires")]
    InvalidName { kind: String, name: String },
    #[error("{kind} {name}: {reason}")]
    Invalid {
        kind: String,
        name: String,
        reason: String,
    },
    #[error("{}", .0.join("; "))]
    Refused(Vec<String>),
    /// kubectl's text.
    #[error("{kind} {name:?} not found")]
    NotFound { kind: String, name: String },
    #[error("unknown resource type {0:?}")]
    UnknownKind(String),
    /// kubectl's text.
    #[error("{kind} {name:?} already exists")]
    AlreadyExists { kind: String, name: String },
    /// The API server's refusal, its text whole.
    #[error("{0}")]
    Forbidden(String),
}
