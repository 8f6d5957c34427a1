//! Messages between the supervisor and the sandbox's children, one per packet over a
//! SOCK_SEQPACKET pair. A message is a tag byte and a payload; a terminal's master fd
//! travels with its message as SCM_RIGHTS.

use nix::sys::socket::{
    recvmsg, sendmsg, socketpair, AddressFamily, ControlMessage, ControlMessageOwned, MsgFlags,
    SockFlag, SockType,
};
use std::io::{IoSlice, IoSliceMut};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// Child to supervisor: the user namespace exists, write its id maps.
pub const NEED_MAPS: u8 = b'U';
/// Supervisor to child: the maps are written.
pub const MAPS_DONE: u8 = b'M';
/// Child to supervisor: the container's init pid (as i32, native endian).
pub const INIT_PID: u8 = b'P';
/// Stage 1 → supervisor: the mount namespace exists; mount the root (fuse-overlayfs).
pub const NEED_ROOT: u8 = b'N';
/// Supervisor → stage 1: the root is mounted.
pub const ROOT_DONE: u8 = b'D';
/// Child to supervisor: the terminal master, as an fd.
pub const TERMINAL: u8 = b'T';
/// Child to supervisor: the root file system is ready; waiting for GO.
pub const READY: u8 = b'R';
/// Supervisor to child: start the program.
pub const GO: u8 = b'G';
/// Child to supervisor: it failed; payload is the exit code (i32) and a message.
pub const FAILED: u8 = b'E';

pub fn pair() -> nix::Result<(OwnedFd, OwnedFd)> {
    socketpair(
        AddressFamily::Unix,
        SockType::SeqPacket,
        None,
        SockFlag::SOCK_CLOEXEC,
    )
}

pub fn send(sock: &OwnedFd, tag: u8, payload: &[u8]) -> nix::Result<()> {
    send_with_fd(sock, tag, payload, None)
}

pub fn send_with_fd(sock: &OwnedFd, tag: u8, payload: &[u8], fd: Option<RawFd>) -> nix::Result<()> {
    let mut msg = Vec::with_capacity(payload.len() + 1);
    msg.push(tag);
    msg.extend_from_slice(payload);
    let iov = [IoSlice::new(&msg)];
    let fds;
    let cmsgs: Vec<ControlMessage> = match fd {
        Some(f) => {
            fds = [f];
            vec![ControlMessage::ScmRights(&fds)]
        }
        None => vec![],
    };
    sendmsg::<()>(sock.as_raw_fd(), &iov, &cmsgs, MsgFlags::empty(), None)?;
    Ok(())
}

pub fn send_failure(sock: &OwnedFd, code: i32, message: &str) {
    let mut p = code.to_ne_bytes().to_vec();
    p.extend_from_slice(message.as_bytes());
    let _ = send(sock, FAILED, &p);
}

/// One message; None at end of stream (the peer exited or exec'd).
pub struct Message {
    pub tag: u8,
    pub payload: Vec<u8>,
    pub fd: Option<OwnedFd>,
}

impl Message {
    pub fn int(&self) -> i32 {
        let mut b = [0u8; 4];
        let n = self.payload.len().min(4);
        b[..n].copy_from_slice(&self.payload[..n]);
        i32::from_ne_bytes(b)
    }

    /// The code and text of a FAILED message.
    pub fn failure(&self) -> (i32, String) {
        (
            self.int(),
            String::from_utf8_lossy(self.payload.get(4..).unwrap_or_default()).into_owned(),
        )
    }
}

pub fn recv(sock: &OwnedFd) -> nix::Result<Option<Message>> {
    let mut buf = vec![0u8; 8192];
    let mut cmsg = nix::cmsg_space!([RawFd; 1]);
    let (n, fd) = {
        let mut iov = [IoSliceMut::new(&mut buf)];
        let msg = loop {
            match recvmsg::<()>(
                sock.as_raw_fd(),
                &mut iov,
                Some(&mut cmsg),
                MsgFlags::MSG_CMSG_CLOEXEC,
            ) {
                Err(nix::errno::Errno::EINTR) => continue,
                r => break r?,
            }
        };
        let mut fd = None;
        for c in msg.cmsgs()? {
            if let ControlMessageOwned::ScmRights(fds) = c {
                // SAFETY: the kernel just installed these fds in our table; we own them.
                fd = fds.first().map(|&f| unsafe { OwnedFd::from_raw_fd(f) });
            }
        }
        (msg.bytes, fd)
    };
    if n == 0 {
        return Ok(None);
    }
    Ok(Some(Message {
        tag: buf[0],
        payload: buf[1..n].to_vec(),
        fd,
    }))
}
