//! libruntime: everything skiff does, usable without the CLI.

pub mod archive;
pub mod build;
pub mod cgroups;
pub mod config;
pub mod container;
pub mod digest;
pub mod error;
pub mod fsutil;
pub mod graph;
pub mod helpers;
pub mod hooks;
pub mod ids;
pub mod image_config;
pub mod import;
pub mod info;
pub mod layer;
pub mod lock;
pub mod log;
pub mod manifest_list;
pub mod network;
pub mod paths;
pub mod platform;
pub mod procinfo;
pub mod reference;
pub mod registry;
pub mod reset;
pub mod sandbox;
pub mod selfexec;
pub mod signals;
pub mod store;
pub mod supervisor;
pub mod syscall;
pub mod time;
pub mod transport;
pub mod userns;
pub mod volume;

pub use error::{Error, Result};

pub const VERSION: &str = env!("CARGO_PKG_VERSION");
pub use oci_spec;
