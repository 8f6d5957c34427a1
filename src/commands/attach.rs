//! The client side of attaching: relays the terminal (or pipes) to a container's
//! supervisor, handles detach keys, window size and signal forwarding. Used by `run`,
//! `start -a` and `attach`.

use crate::cli_container::AttachStream;
use anyhow::{bail, Result};
use libruntime::container::{ContainerDirs, State};
use libruntime::supervisor::protocol;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::termios;
use std::io::{Read, Write};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::UnixStream;

pub const DEFAULT_DETACH_KEYS: &str = "ctrl-p,ctrl-q";

/// Parses docker's detach key syntax: comma-separated `ctrl-X` or single characters.
pub fn parse_detach_keys(s: &str) -> Result<Vec<u8>> {
    if s.is_empty() {
        return Ok(vec![]);
    }
    s.split(',')
        .map(|k| {
            let k = k.trim();
            if let Some(c) = k.strip_prefix("ctrl-") {
                match c.as_bytes() {
                    [b] if b.is_ascii_alphabetic() => Ok(b.to_ascii_lowercase() - b'a' + 1),
                    b"@" => Ok(0),
                    b"[" => Ok(27),
                    b"\\" => Ok(28),
                    b"]" => Ok(29),
                    b"^" => Ok(30),
                    b"_" => Ok(31),
                    _ => bail!("invalid detach key {k:?}"),
                }
            } else if k.len() == 1 {
                Ok(k.as_bytes()[0])
            } else {
                bail!("invalid detach key {k:?}: use ctrl-X or a single character")
            }
        })
        .collect()
}

/// Puts the terminal on stdin in raw mode until dropped.
pub struct RawMode {
    saved: Option<termios::Termios>,
}

impl RawMode {
    pub fn enable() -> RawMode {
        let stdin = std::io::stdin();
        let Ok(saved) = termios::tcgetattr(&stdin) else {
            return RawMode { saved: None };
        };
        let mut raw = saved.clone();
        termios::cfmakeraw(&mut raw);
        let _ = termios::tcsetattr(&stdin, termios::SetArg::TCSANOW, &raw);
        RawMode { saved: Some(saved) }
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        if let Some(s) = &self.saved {
            let _ = termios::tcsetattr(std::io::stdin(), termios::SetArg::TCSANOW, s);
        }
    }
}

pub fn stdin_is_tty() -> bool {
    nix::unistd::isatty(std::io::stdin()).unwrap_or(false)
}

/// Which of the container's streams a client attaches to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Streams {
    pub stdin: bool,
    pub stdout: bool,
    pub stderr: bool,
}

impl Streams {
    /// Output, and input when `stdin`.
    pub fn all(stdin: bool) -> Streams {
        Streams {
            stdin,
            stdout: true,
            stderr: true,
        }
    }

    /// `run -a STREAM…`: only those named; none named means output, and input with -i.
    pub fn from_flags(named: &[AttachStream], interactive: bool) -> Streams {
        if named.is_empty() {
            return Streams::all(interactive);
        }
        Streams {
            stdin: named.contains(&AttachStream::Stdin),
            stdout: named.contains(&AttachStream::Stdout),
            stderr: named.contains(&AttachStream::Stderr),
        }
    }
}

pub struct RelayOptions<'a> {
    pub dirs: &'a ContainerDirs,
    pub streams: Streams,
    pub tty: bool,
    pub detach_keys: Vec<u8>,
    pub sig_proxy: bool,
}

pub enum Outcome {
    Exited(i32),
    Detached,
    StartFailed(i32, String),
}

/// Signals a user sends to skiff that are passed on to the container's process.
pub const PROXIED: &[Signal] = &[
    Signal::SIGINT,
    Signal::SIGTERM,
    Signal::SIGHUP,
    Signal::SIGQUIT,
    Signal::SIGUSR1,
    Signal::SIGUSR2,
];

fn send_size(stream: &mut UnixStream) {
    if let Some((rows, cols)) = libruntime::sandbox::sys::window_size(0) {
        let mut p = rows.to_be_bytes().to_vec();
        p.extend_from_slice(&cols.to_be_bytes());
        let _ = protocol::write_frame(stream, protocol::RESIZE, &p);
    }
}

/// Scans input for the detach sequence; holds back a partial match.
struct DetachScanner {
    keys: Vec<u8>,
    matched: usize,
}

impl DetachScanner {
    /// Bytes to forward, and whether the sequence completed.
    fn feed(&mut self, data: &[u8]) -> (Vec<u8>, bool) {
        if self.keys.is_empty() {
            return (data.to_vec(), false);
        }
        let mut out = Vec::with_capacity(data.len());
        for &b in data {
            if b == self.keys[self.matched] {
                self.matched += 1;
                if self.matched == self.keys.len() {
                    return (out, true);
                }
            } else {
                out.extend_from_slice(&self.keys[..self.matched]);
                self.matched = 0;
                if b == self.keys[0] {
                    self.matched = 1;
                } else {
                    out.push(b);
                }
            }
        }
        (out, false)
    }
}

pub fn relay(mut stream: UnixStream, o: RelayOptions) -> Result<Outcome> {
    let mut mask = SigSet::empty();
    mask.add(Signal::SIGWINCH);
    if o.sig_proxy {
        for s in PROXIED {
            mask.add(*s);
        }
    }
    mask.thread_block()?;
    let sigfd = SignalFd::with_flags(&mask, SfdFlags::SFD_CLOEXEC | SfdFlags::SFD_NONBLOCK)?;
    let _raw = (o.tty && o.streams.stdin && stdin_is_tty()).then(RawMode::enable);
    if o.tty {
        send_size(&mut stream);
    }
    let mut scanner = DetachScanner {
        keys: o.detach_keys.clone(),
        matched: 0,
    };
    let mut stdin_open = o.streams.stdin;
    let mut inbuf = Vec::new();
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    loop {
        let sock_fd = stream.as_fd();
        // SAFETY: fd 0 stays open for the life of the process.
        let stdin_fd = unsafe { BorrowedFd::borrow_raw(0) };
        let mut fds = vec![
            PollFd::new(sock_fd, PollFlags::POLLIN),
            PollFd::new(sigfd.as_fd(), PollFlags::POLLIN),
        ];
        if stdin_open {
            fds.push(PollFd::new(stdin_fd, PollFlags::POLLIN));
        }
        match poll(&mut fds, PollTimeout::NONE) {
            Ok(_) => {}
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(e.into()),
        }
        let sock_ready = fds[0].revents().is_some_and(|r| !r.is_empty());
        let sig_ready = fds[1].revents().is_some_and(|r| !r.is_empty());
        let in_ready = stdin_open && fds[2].revents().is_some_and(|r| !r.is_empty());
        drop(fds);
        if sig_ready {
            while let Ok(Some(info)) = sigfd.read_signal() {
                let sig = Signal::try_from(info.ssi_signo as i32).ok();
                match sig {
                    Some(Signal::SIGWINCH) => send_size(&mut stream),
                    Some(s) => forward(o.dirs, s),
                    None => {}
                }
            }
        }
        if in_ready {
            let mut buf = [0u8; 8192];
            match std::io::stdin().lock().read(&mut buf) {
                Ok(0) | Err(_) => {
                    stdin_open = false;
                    let _ = protocol::write_frame(&mut stream, protocol::STDIN_EOF, &[]);
                }
                Ok(n) => {
                    let (data, detach) = scanner.feed(&buf[..n]);
                    if !data.is_empty() {
                        let _ = protocol::write_frame(&mut stream, protocol::STDIN, &data);
                    }
                    if detach {
                        return Ok(Outcome::Detached);
                    }
                }
            }
        }
        if sock_ready {
            let mut buf = [0u8; 65536];
            let n = match stream.read(&mut buf) {
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => 0,
            };
            if n == 0 {
                // The supervisor went away without a word: report what the state says.
                let st = State::load(o.dirs)?;
                return Ok(Outcome::Exited(st.exit_code));
            }
            inbuf.extend_from_slice(&buf[..n]);
            for (kind, p) in protocol::take_frames(&mut inbuf) {
                match kind {
                    protocol::STDOUT if o.streams.stdout => {
                        let mut out = stdout.lock();
                        let _ = out.write_all(&p);
                        let _ = out.flush();
                    }
                    protocol::STDERR if o.streams.stderr => {
                        let mut err = stderr.lock();
                        let _ = err.write_all(&p);
                        let _ = err.flush();
                    }
                    protocol::EXIT if p.len() == 4 => {
                        return Ok(Outcome::Exited(i32::from_be_bytes([
                            p[0], p[1], p[2], p[3],
                        ])))
                    }
                    protocol::START_ERROR if p.len() >= 4 => {
                        let code = i32::from_be_bytes([p[0], p[1], p[2], p[3]]);
                        return Ok(Outcome::StartFailed(
                            code,
                            String::from_utf8_lossy(&p[4..]).into_owned(),
                        ));
                    }
                    _ => {}
                }
            }
        }
    }
}

fn forward(dirs: &ContainerDirs, sig: Signal) {
    if let Ok(st) = State::load(dirs) {
        if st.pid > 0 && st.init_alive() {
            let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(st.pid), sig);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detach_keys() {
        assert_eq!(parse_detach_keys("ctrl-p,ctrl-q").unwrap(), vec![16, 17]);
        assert_eq!(parse_detach_keys("a,ctrl-@").unwrap(), vec![b'a', 0]);
        assert!(parse_detach_keys("ctrl-!!").is_err());
        let mut s = DetachScanner {
            keys: vec![16, 17],
            matched: 0,
        };
        assert_eq!(s.feed(b"ab\x10"), (b"ab".to_vec(), false));
        assert_eq!(s.feed(b"x"), (b"\x10x".to_vec(), false));
        assert_eq!(s.feed(b"\x10\x11"), (vec![], true));
    }
}
