//! The container's stdio as the supervisor holds it, and the attach clients it serves:
//! output goes to the log and to every client that asked for it; input from clients
//! goes to the container's stdin; resize frames go to the terminal.

use super::protocol::{self, frame};
use crate::container::logfile::LogWriter;
use nix::poll::PollFlags;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::time::Duration;

struct Client {
    stream: UnixStream,
    inbuf: Vec<u8>,
    outbuf: Vec<u8>,
    flags: u8,
    gone: bool,
}

/// A client that reads nothing for this much pending output is dropped.
const MAX_PENDING: usize = 4 << 20;

#[derive(Default)]
pub struct Clients {
    stdin: Option<OwnedFd>,
    stdout: Option<OwnedFd>,
    stderr: Option<OwnedFd>,
    tty: bool,
    list: Vec<Client>,
}

fn set_nonblocking(fd: &OwnedFd) {
    use nix::fcntl::{fcntl, FcntlArg, OFlag};
    if let Ok(flags) = fcntl(fd, FcntlArg::F_GETFL) {
        let _ = fcntl(
            fd,
            FcntlArg::F_SETFL(OFlag::from_bits_truncate(flags) | OFlag::O_NONBLOCK),
        );
    }
}

enum Read_ {
    Data(Vec<u8>),
    Again,
    End,
}

fn read_fd(fd: &OwnedFd) -> Read_ {
    let mut buf = [0u8; 16384];
    match nix::unistd::read(fd, &mut buf) {
        Ok(0) => Read_::End,
        Ok(n) => Read_::Data(buf[..n].to_vec()),
        Err(nix::errno::Errno::EAGAIN) | Err(nix::errno::Errno::EINTR) => Read_::Again,
        // A terminal master reads EIO once every slave is closed.
        Err(_) => Read_::End,
    }
}

impl Clients {
    pub fn set_streams(
        &mut self,
        stdin: Option<OwnedFd>,
        stdout: Option<OwnedFd>,
        stderr: Option<OwnedFd>,
        tty: bool,
    ) {
        for fd in [&stdout, &stderr].into_iter().flatten() {
            set_nonblocking(fd);
        }
        self.stdin = stdin;
        self.stdout = stdout;
        self.stderr = stderr;
        self.tty = tty;
    }

    /// Accepts pending connections and reads each one's HELLO; true if any came.
    pub fn accept(&mut self, listener: &UnixListener) -> bool {
        let mut any = false;
        while let Ok((mut stream, _)) = listener.accept() {
            any = true;
            let _ = stream.set_nonblocking(false);
            let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
            let flags = match protocol::read_frame(&mut stream) {
                Ok(Some((protocol::HELLO, p))) => {
                    // A terminal client sends its window size along, so the program
                    // sees the right size from its first instruction.
                    if p.len() == 5 {
                        self.resize(&p[1..]);
                    }
                    p.first().copied().unwrap_or(0)
                }
                _ => continue,
            };
            let _ = stream.set_nonblocking(true);
            self.list.push(Client {
                stream,
                inbuf: Vec::new(),
                outbuf: Vec::new(),
                flags,
                gone: false,
            });
        }
        any
    }

    /// Fds to poll with the events wanted.
    pub fn poll_fds(&self) -> Vec<(i32, PollFlags)> {
        let mut v = Vec::new();
        for fd in [&self.stdout, &self.stderr].into_iter().flatten() {
            v.push((fd.as_raw_fd(), PollFlags::POLLIN));
        }
        for c in &self.list {
            let mut f = PollFlags::POLLIN;
            if !c.outbuf.is_empty() {
                f |= PollFlags::POLLOUT;
            }
            v.push((c.stream.as_raw_fd(), f));
        }
        v
    }

    pub fn handle(&mut self, ready: &[(i32, PollFlags)], log: &mut LogWriter) {
        for &(fd, ev) in ready {
            if self.stdout.as_ref().is_some_and(|s| s.as_raw_fd() == fd) {
                self.pump(true, log);
            } else if self.stderr.as_ref().is_some_and(|s| s.as_raw_fd() == fd) {
                self.pump(false, log);
            } else if let Some(i) = self.list.iter().position(|c| c.stream.as_raw_fd() == fd) {
                if ev.contains(PollFlags::POLLOUT) {
                    flush(&mut self.list[i]);
                }
                if ev.intersects(PollFlags::POLLIN | PollFlags::POLLHUP | PollFlags::POLLERR) {
                    self.read_client(i);
                }
            }
        }
        self.list.retain(|c| !c.gone);
    }

    /// Reads what one output stream has; false at its end.
    fn pump(&mut self, is_stdout: bool, log: &mut LogWriter) -> bool {
        let slot = if is_stdout {
            &self.stdout
        } else {
            &self.stderr
        };
        let Some(fd) = slot else { return false };
        match read_fd(fd) {
            Read_::Data(d) => {
                let (name, kind) = if is_stdout {
                    ("stdout", protocol::STDOUT)
                } else {
                    ("stderr", protocol::STDERR)
                };
                log.write(name, &d);
                self.broadcast(kind, &d);
                true
            }
            Read_::Again => false,
            Read_::End => {
                if is_stdout {
                    self.stdout = None;
                } else {
                    self.stderr = None;
                }
                false
            }
        }
    }

    fn broadcast(&mut self, kind: u8, data: &[u8]) {
        let f = frame(kind, data);
        for c in self
            .list
            .iter_mut()
            .filter(|c| c.flags & protocol::WANT_OUTPUT != 0)
        {
            c.outbuf.extend_from_slice(&f);
            flush(c);
            if c.outbuf.len() > MAX_PENDING {
                c.gone = true;
            }
        }
    }

    fn read_client(&mut self, i: usize) {
        let mut buf = [0u8; 16384];
        match self.list[i].stream.read(&mut buf) {
            Ok(0) => {
                self.list[i].gone = true;
                return;
            }
            Ok(n) => self.list[i].inbuf.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return,
            Err(_) => {
                self.list[i].gone = true;
                return;
            }
        }
        let frames = protocol::take_frames(&mut self.list[i].inbuf);
        let may_write = self.list[i].flags & protocol::WANT_STDIN != 0;
        for (kind, payload) in frames {
            match kind {
                protocol::STDIN if may_write => {
                    if let Some(fd) = &self.stdin {
                        let _ = nix::unistd::write(fd, &payload);
                    }
                }
                protocol::STDIN_EOF if may_write && !self.tty => self.stdin = None,
                protocol::RESIZE => self.resize(&payload),
                _ => {}
            }
        }
    }

    /// Applies a RESIZE payload (rows, cols as u16 BE) to the terminal, if any.
    fn resize(&self, payload: &[u8]) {
        if let (true, Some(fd), 4) = (self.tty, &self.stdout, payload.len()) {
            let rows = u16::from_be_bytes([payload[0], payload[1]]);
            let cols = u16::from_be_bytes([payload[2], payload[3]]);
            crate::sandbox::sys::set_window_size(fd.as_raw_fd(), rows, cols);
        }
    }

    /// Takes whatever output is left after the container exited.
    pub fn drain_output(&mut self, log: &mut LogWriter) {
        for is_stdout in [true, false] {
            while self.pump(is_stdout, log) {}
        }
        self.stdout = None;
        self.stderr = None;
        self.stdin = None;
    }

    pub fn start_error(&mut self, code: i32, message: &str) {
        let mut p = code.to_be_bytes().to_vec();
        p.extend_from_slice(message.as_bytes());
        let f = frame(protocol::START_ERROR, &p);
        for c in &mut self.list {
            c.outbuf.extend_from_slice(&f);
        }
    }

    /// Sends the exit code to every client and waits (briefly) until they have it all.
    pub fn exit(&mut self, code: i32) {
        let f = frame(protocol::EXIT, &code.to_be_bytes());
        for c in &mut self.list {
            c.outbuf.extend_from_slice(&f);
            let _ = c.stream.set_nonblocking(false);
            let _ = c.stream.set_write_timeout(Some(Duration::from_secs(5)));
            let _ = c.stream.write_all(&c.outbuf);
            c.outbuf.clear();
        }
        self.list.clear();
    }
}

fn flush(c: &mut Client) {
    while !c.outbuf.is_empty() {
        match c.stream.write(&c.outbuf) {
            Ok(0) => break,
            Ok(n) => {
                c.outbuf.drain(..n);
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
            Err(_) => {
                c.gone = true;
                break;
            }
        }
    }
}
