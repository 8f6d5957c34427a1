//! attach: a connection to the supervisor's attach socket.

use crate::container::handle::Container;
use crate::container::record::ContainerDirs;
use crate::error::{Context, Result};
use crate::supervisor::protocol;
use std::os::unix::net::UnixStream;

/// Connects to the attach socket in `dirs`.
fn open(dirs: &ContainerDirs) -> Result<UnixStream> {
    UnixStream::connect(dirs.socket()).ctx(|| "connecting to the container's supervisor".into())
}

/// Says hello with `flags` and, for a terminal, the caller's window size. A held
/// container starts on this hello.
fn hello(s: &mut UnixStream, flags: u8, size: Option<(u16, u16)>) -> Result<()> {
    let mut hello = vec![flags];
    if let Some((rows, cols)) = size {
        hello.extend_from_slice(&rows.to_be_bytes());
        hello.extend_from_slice(&cols.to_be_bytes());
    }
    protocol::write_frame(s, protocol::HELLO, &hello).ctx(|| "greeting the supervisor".into())
}

/// Connects to the attach socket in `dirs` and says hello.
pub fn connect(dirs: &ContainerDirs, flags: u8, size: Option<(u16, u16)>) -> Result<UnixStream> {
    let mut s = open(dirs)?;
    hello(&mut s, flags, size)?;
    Ok(s)
}

impl Container<'_> {
    /// The attach stream: frames of output, the exit code, start errors
    /// (`supervisor::protocol`). `flags` says which streams the caller wants.
    pub fn connect(&self, flags: u8, size: Option<(u16, u16)>) -> Result<UnixStream> {
        let mut s = open(&self.dirs())?;
        // Logged before the hello: a container held for its first client starts on
        // the hello, and its start must come after the attach in the log.
        if flags & protocol::WANT_OUTPUT != 0 {
            self.emit(crate::events::EventStatus::Attach);
        }
        hello(&mut s, flags, size)?;
        Ok(s)
    }
}
