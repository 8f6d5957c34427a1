//! libruntime: everything skiff does, usable without the CLI. The CLI, and the
//! orchestration to come (pod, kube, systemd, api, helm), are callers of the same
//! functions: a container is acted on through `container::Container`.
//!
//! Modules by side (docs/ARCHITECTURE.md draws the dependencies; no module on the image
//! side imports the runtime side, and network, volume, graph and sandbox never import
//! container):

// The image side: content-addressed storage and where images come from.
pub mod archive;
pub mod digest;
pub mod graph;
pub mod image_config;
pub mod import;
pub mod layer;
pub mod manifest_list;
pub mod reference;
pub mod registry;
pub mod store;
pub mod transport;

// The runtime side: containers and what they run in.
pub mod cgroups;
pub mod container;
pub mod hooks;
pub mod network;
pub mod probe;
pub mod sandbox;
pub mod secret;
pub mod supervisor;
pub mod userns;
pub mod volume;

// Orchestration: groups of containers acted on through the container handle.
pub mod kube;
pub mod pod;

// Building images with containers.
pub mod build;

// Leaves every side uses.
pub mod config;
pub mod error;
pub mod events;
pub mod fsutil;
pub mod helpers;
pub mod ids;
pub mod info;
pub mod lock;
pub mod log;
pub mod paths;
pub mod platform;
pub mod procinfo;
pub mod reset;
pub mod selfexec;
pub mod signals;
pub mod syscall;
pub mod time;

pub use error::{Error, Result};

pub const VERSION: &str = env!("CARGO_PKG_VERSION");
pub use oci_spec;
