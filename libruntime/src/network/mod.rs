//! Container networking: user-mode networking with slirp4netns or pasta, published
//! ports, and bridge networks (kept in the holder's namespace) with their DNS.

mod error;
pub use error::NetworkError;
pub mod attach;
pub mod backend;
pub mod definition;
pub mod dns;
pub mod firewall;
pub mod forwarder;
pub mod holder;
pub mod links;
pub mod mode;
pub mod pasta;
pub mod ports;
pub mod slirp;
pub mod subnet;
pub mod tool;
