//! The network-backend seam: how a running container's network namespace is made
//! reachable, driven by its supervisor in four steps. `prepare` runs before the
//! sandbox exists (a bridge's holder session, host ports bound so a taken one fails
//! the start before anything runs), `placed` as soon as the init and its namespaces
//! exist (slirp4netns starts then, overlapping the building of the root), `start`
//! before the program runs (links plugged, addresses up, ports published), `stop` once
//! the container has exited. Namespaces themselves (none, private, host, container:)
//! come from the spec; those modes need no backend process at all.

use super::mode::NetworkMode;
use super::ports::PortMapping;
use super::slirp::{self, PortHandler, SlirpOptions};
use super::{forwarder, holder, pasta};
use crate::error::Result;
use crate::paths::Paths;
use crate::userns::IdMaps;
use nix::unistd::Pid;
use std::net::TcpListener;
use std::path::{Path, PathBuf};

/// What a backend acts on.
pub struct NetContext<'a> {
    pub paths: &'a Paths,
    pub maps: &'a IdMaps,
    /// The container's runtime directory (slirp4netns's API socket, pasta's files).
    pub run_dir: &'a Path,
    /// Its published ports.
    pub ports: &'a [PortMapping],
}

/// The container side of a bridge network: plugging the container in through the
/// holder's session once its init exists, and out when it ends. Implemented by
/// `container::networks`, which owns the records.
pub trait BridgeAttach {
    fn attach(&self, session: &holder::Session, init: Pid) -> Result<()>;
    fn detach(&self);
}

pub trait NetworkBackend {
    /// Before the sandbox exists.
    fn prepare(&mut self, _: &NetContext) -> Result<()> {
        Ok(())
    }

    /// A user namespace the container must join instead of making its own (a
    /// rootless bridge network's, where its links live).
    fn user_namespace(&self) -> Option<PathBuf> {
        None
    }

    /// The container's init (and its namespaces) now exist.
    fn placed(&mut self, _: &NetContext, _init: Pid) -> Result<()> {
        Ok(())
    }

    /// Before the program runs.
    fn start(&mut self, _: &NetContext, _init: Pid) -> Result<()> {
        Ok(())
    }

    /// The container exited, or its start failed: release everything.
    fn stop(&mut self, _: &NetContext) {}
}

/// The backend for a network mode; `slirp` is slirp4netns's options, `bridge` the
/// container side of a bridge network.
pub fn for_mode(
    mode: &NetworkMode,
    slirp: Option<SlirpOptions>,
    bridge: impl FnOnce() -> Box<dyn BridgeAttach>,
) -> Box<dyn NetworkBackend> {
    match mode {
        NetworkMode::Slirp4netns => Box::new(Slirp4netns::new(slirp.unwrap_or_default())),
        NetworkMode::Pasta => Box::new(Pasta { pid: None }),
        NetworkMode::Bridge => Box::new(Bridge {
            session: None,
            container: bridge(),
        }),
        NetworkMode::Private
        | NetworkMode::None
        | NetworkMode::Host
        | NetworkMode::Container(_) => Box::new(NamespaceOnly),
    }
}

/// none, private, host and container:NAME: the spec's namespaces are all there is.
struct NamespaceOnly;

impl NetworkBackend for NamespaceOnly {}

/// slirp4netns, with published TCP ports through our own forwarder unless the
/// options leave them to slirp4netns.
struct Slirp4netns {
    opts: SlirpOptions,
    listeners: Vec<TcpListener>,
    pending: Option<slirp::Pending>,
    running: Option<slirp::Slirp>,
    forwarder: Option<forwarder::Forwarder>,
}

impl Slirp4netns {
    fn new(opts: SlirpOptions) -> Self {
        Slirp4netns {
            opts,
            listeners: Vec::new(),
            pending: None,
            running: None,
            forwarder: None,
        }
    }
}

impl NetworkBackend for Slirp4netns {
    fn prepare(&mut self, cx: &NetContext) -> Result<()> {
        if self.opts.port_handler == PortHandler::Rootlesskit {
            self.listeners = forwarder::bind(cx.ports)?;
        }
        Ok(())
    }

    fn placed(&mut self, cx: &NetContext, init: Pid) -> Result<()> {
        let api = slirp::api_socket(cx.run_dir);
        self.pending = Some(slirp::begin(init.as_raw(), &api, &self.opts, cx.ports)?);
        Ok(())
    }

    fn start(&mut self, cx: &NetContext, init: Pid) -> Result<()> {
        if let Some(p) = self.pending.take() {
            self.running = Some(p.finish()?);
        }
        if !self.listeners.is_empty() {
            self.forwarder = Some(forwarder::start(
                init.as_raw(),
                self.opts.guest_addr(),
                cx.ports,
                std::mem::take(&mut self.listeners),
            )?);
        }
        Ok(())
    }

    fn stop(&mut self, _: &NetContext) {
        if let Some(f) = self.forwarder.take() {
            f.stop();
        }
        if let Some(p) = self.pending.take() {
            p.abandon();
        }
        if let Some(s) = self.running.take() {
            s.release();
        }
        self.listeners.clear();
    }
}

/// pasta, adopted by the supervisor as a subreaper.
struct Pasta {
    pid: Option<Pid>,
}

impl NetworkBackend for Pasta {
    fn start(&mut self, cx: &NetContext, init: Pid) -> Result<()> {
        self.pid = Some(pasta::start(init.as_raw(), cx.run_dir, cx.ports)?);
        Ok(())
    }

    fn stop(&mut self, cx: &NetContext) {
        if let Some(p) = self.pid.take() {
            pasta::stop(p, cx.run_dir);
        }
    }
}

/// Bridge networks: the holder owns the bridges; a session keeps it alive until the
/// container is plugged in.
struct Bridge {
    session: Option<holder::Session>,
    container: Box<dyn BridgeAttach>,
}

impl NetworkBackend for Bridge {
    fn prepare(&mut self, cx: &NetContext) -> Result<()> {
        self.session = Some(holder::Session::open(cx.paths, cx.maps)?);
        Ok(())
    }

    fn user_namespace(&self) -> Option<PathBuf> {
        self.session.as_ref().map(|s| s.info.user_ns())
    }

    fn start(&mut self, _: &NetContext, init: Pid) -> Result<()> {
        if let Some(session) = self.session.take() {
            self.container.attach(&session, init)?;
        }
        Ok(())
    }

    fn stop(&mut self, _: &NetContext) {
        self.session = None;
        self.container.detach();
    }
}
