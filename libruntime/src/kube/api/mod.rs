//! The Kubernetes API types skiff acts on, as a subset of the real ones with the same
//! JSON names. A manifest's other fields are reported by validation, not dropped.

pub mod config;
pub mod kinds;
pub mod meta;
pub mod pod;
pub mod service;
pub mod storage;
pub mod volume;
pub mod workloads;

pub use config::{ConfigMap, Secret};
pub use kinds::Kind;
pub use meta::{IntOrString, ObjectMeta, OwnerReference};
pub use pod::{Container, Pod, PodSpec, Probe, RestartPolicy};
pub use service::{Service, ServicePort, ServiceSpec, ServiceType};
pub use workloads::{
    CronJob, DaemonSet, Deployment, Job, LabelSelector, PodTemplateSpec, ReplicaSet, StatefulSet,
};
