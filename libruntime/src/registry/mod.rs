//! The OCI distribution client: pull, push and login against any registry, the way
//! podman talks to them (registries.conf, auth.json, certs.d).

mod error;
pub use error::RegistryError;
pub mod auth;
pub mod client;
pub mod config;
pub mod manifest;
pub mod policy;
pub mod progress;
pub mod pull;
pub mod push;
pub mod search;
pub mod sources;

pub use client::ClientOptions;
pub use manifest::Platform;
pub use progress::{Progress, Silent};
