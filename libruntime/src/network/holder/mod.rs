//! The network holder: one small process per runtime root that owns the network
//! namespace where bridge networks live, connected to the outside by slirp4netns.
//! Rootless, it also owns the user namespace that namespace belongs to, and containers
//! on bridge networks join that user namespace so their network namespaces belong to
//! it too (the holder can then plug veth pairs into them).
//!
//! Clients talk to it over a Unix socket, one JSON request and one JSON answer per
//! connection, while holding the lock file, so the holder cannot exit between being
//! found and being asked. It exits by itself once no container is attached.

pub mod host;
mod launch;
mod server;
mod state;

pub use launch::run as run_holder;

use super::definition::Network;
use crate::error::{Error, Result};
use crate::lock::StoreLock;
use crate::network::ports::PortMapping;
use crate::network::NetworkError;
use crate::paths::Paths;
use crate::userns::IdMaps;
use crate::{fsutil, procinfo};
use serde::{Deserialize, Serialize};
use std::io::{BufRead, BufReader, Write};
use std::net::Ipv4Addr;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::time::Duration;

/// The hidden subcommand that runs the holder.
pub const SUBCOMMAND: &str = "__network-holder";

/// Where the holder keeps its files: `netns/` in the runtime root.
pub struct Files {
    pub dir: PathBuf,
}

impl Files {
    pub fn new(paths: &Paths) -> Files {
        Files {
            dir: paths.runroot.join("netns"),
        }
    }
    pub fn lock(&self) -> PathBuf {
        self.dir.join("lock")
    }
    pub fn socket(&self) -> PathBuf {
        self.dir.join("holder.sock")
    }
    pub fn info(&self) -> PathBuf {
        self.dir.join("holder.json")
    }
    pub fn log(&self) -> PathBuf {
        self.dir.join("holder.log")
    }
    /// slirp4netns's API socket, per holder so an old one's cleanup cannot hit a new one.
    pub fn slirp_socket(&self, holder_pid: i32) -> PathBuf {
        self.dir.join(format!("slirp-{holder_pid}.sock"))
    }
}

/// What a running holder writes about itself.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Info {
    /// The process inside the namespaces.
    pub pid: i32,
    pub start: u64,
}

impl Info {
    fn alive(&self) -> bool {
        procinfo::alive(self.pid, self.start)
    }

    /// The holder's user namespace, which rootless containers on bridges join.
    pub fn user_ns(&self) -> PathBuf {
        PathBuf::from(format!("/proc/{}/ns/user", self.pid))
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Request {
    Attach(AttachRequest),
    Detach {
        container: String,
        /// One network's id; every network of the container when None.
        network: Option<String>,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AttachRequest {
    pub container: String,
    /// The container's init, whose network namespace gets the interfaces.
    pub pid: i32,
    /// Names every network's DNS answers for (the container's name, its short id).
    pub names: Vec<String>,
    pub networks: Vec<NetworkAttach>,
    /// Published ports, forwarded to the address on the first network.
    pub ports: Vec<PortMapping>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NetworkAttach {
    pub network: Network,
    pub aliases: Vec<String>,
    pub ip: Option<Ipv4Addr>,
    /// The interface's name inside the container (eth0, eth1, …).
    pub interface: String,
}

/// One network as a container got it; `inspect` shows these.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Attached {
    pub network: String,
    pub network_id: String,
    pub interface: String,
    pub ip: Ipv4Addr,
    pub prefix: u8,
    pub gateway: Ipv4Addr,
    pub mac: String,
    pub aliases: Vec<String>,
}

/// Why the holder refused a request; it crosses the socket as it is, so the caller
/// sees the same variant the holder chose.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum HolderError {
    #[error("the network holder could not read the request: {0}")]
    BadRequest(String),
    #[error("process {0} is gone")]
    ProcessGone(i32),
    #[error("the container is already connected to network {0}")]
    AlreadyConnected(String),
    #[error("interface {0} is still in use by a removed network")]
    InterfaceInUse(String),
    #[error("--ip {ip} is not in network {network}'s subnet {subnet}")]
    AddressOutsideSubnet {
        ip: Ipv4Addr,
        network: String,
        subnet: String,
    },
    #[error("IP address {ip} is already allocated on network {network}")]
    AddressInUse { ip: Ipv4Addr, network: String },
    #[error("no free address left on network {0}")]
    NoFreeAddress(String),
    #[error("no spare port left in the holder's namespace")]
    NoSparePort,
    /// The host refused a step (a link, the firewall, slirp4netns, DNS): its words.
    #[error("{0}")]
    Setup(String),
}

impl From<Error> for HolderError {
    fn from(e: Error) -> HolderError {
        match e {
            Error::Network(NetworkError::Holder(h)) => h,
            other => HolderError::Setup(other.to_string()),
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Answer {
    #[serde(default)]
    pub error: Option<HolderError>,
    #[serde(default)]
    pub attached: Vec<Attached>,
}

/// A live holder, kept from exiting while this lives.
pub struct Session {
    pub info: Info,
    files: Files,
    _lock: StoreLock,
}

impl Session {
    /// Finds the holder or starts one.
    pub fn open(paths: &Paths, maps: &IdMaps) -> Result<Session> {
        let files = Files::new(paths);
        fsutil::create_dir_all(&files.dir)?;
        let lock = StoreLock::exclusive(&files.lock())?;
        let info = match fsutil::read_json::<Info>(&files.info())? {
            Some(i) if i.alive() => i,
            _ => launch::spawn(paths, maps, &files)?,
        };
        Ok(Session {
            info,
            files,
            _lock: lock,
        })
    }

    pub fn request(&self, req: &Request) -> Result<Answer> {
        send(&self.files, req)
    }
}

/// One request and its answer.
fn send(files: &Files, req: &Request) -> Result<Answer> {
    let mut s = UnixStream::connect(files.socket()).map_err(|e| {
        Error::Network(NetworkError::HolderUnreachable(format!(
            "connecting to the network holder: {e}"
        )))
    })?;
    let _ = s.set_read_timeout(Some(Duration::from_secs(30)));
    let mut line = serde_json::to_vec(req).map_err(|e| Error::json("holder request", e))?;
    line.push(b'\n');
    s.write_all(&line).map_err(|e| {
        Error::Network(NetworkError::HolderUnreachable(format!(
            "talking to the network holder: {e}"
        )))
    })?;
    let mut answer = String::new();
    BufReader::new(&s).read_line(&mut answer).map_err(|e| {
        Error::Network(NetworkError::HolderUnreachable(format!(
            "reading from the network holder: {e}"
        )))
    })?;
    let answer: Answer = serde_json::from_str(&answer).map_err(|_| {
        Error::Network(NetworkError::HolderUnreachable(
            "the network holder ended without answering (see netns/holder.log)".into(),
        ))
    })?;
    match answer.error {
        Some(e) => Err(Error::Network(NetworkError::Holder(e))),
        None => Ok(answer),
    }
}

/// Frees what a container holds, if a holder runs; quiet when none does.
pub fn detach(paths: &Paths, container: &str, network: Option<&str>) -> Result<()> {
    let files = Files::new(paths);
    match fsutil::read_json::<Info>(&files.info()) {
        Ok(Some(i)) if i.alive() => {}
        _ => return Ok(()),
    }
    send(
        &files,
        &Request::Detach {
            container: container.into(),
            network: network.map(Into::into),
        },
    )
    .map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_cross_the_socket_as_the_same_variant() {
        let sent = Answer {
            error: Some(HolderError::AddressInUse {
                ip: Ipv4Addr::new(10, 89, 0, 5),
                network: "n".into(),
            }),
            attached: vec![],
        };
        let wire = serde_json::to_string(&sent).unwrap();
        let got: Answer = serde_json::from_str(&wire).unwrap();
        assert_eq!(got.error, sent.error);
        assert_eq!(
            got.error.unwrap().to_string(),
            "IP address 10.89.0.5 is already allocated on network n"
        );
        // A library error becomes the holder's own kind once; a holder error stays itself.
        let h: HolderError = Error::Network(NetworkError::Holder(HolderError::NoSparePort)).into();
        assert_eq!(h, HolderError::NoSparePort);
        let other: HolderError =
            Error::Network(NetworkError::HolderUnreachable("nft refused".into())).into();
        assert!(matches!(other, HolderError::Setup(_)));
    }
}
