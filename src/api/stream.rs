//! The streaming endpoints: attach and exec on a hijacked connection, and logs. Once
//! hyper has sent `101 Switching Protocols`, the connection is taken back as a plain
//! blocking socket and relayed by threads, as the CLI relays a terminal: output in
//! docker's 8-byte multiplexed frames (stream type, 3 zero bytes, big-endian length)
//! or raw with a TTY; input to the container until the client half-closes.

use super::error::{ApiError, ApiResult};
use super::query::Query;
use crate::Ctx;
use libruntime::container::logfile::{read_open, LogLine};
use libruntime::container::ContainerDirs;
use libruntime::supervisor::protocol;
use std::io::{Read, Write};
use std::net::Shutdown;
use std::os::unix::net::UnixStream;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One frame of docker's multiplexed stream: 1 stdout, 2 stderr.
pub fn docker_frame(stream: u8, data: &[u8]) -> Vec<u8> {
    let mut f = Vec::with_capacity(data.len() + 8);
    f.extend_from_slice(&[stream, 0, 0, 0]);
    f.extend_from_slice(&(data.len() as u32).to_be_bytes());
    f.extend_from_slice(data);
    f
}

/// A hijacked client connection, back in blocking mode, with what hyper had read
/// past the request.
pub enum Conn {
    Unix(std::os::unix::net::UnixStream),
    Tcp(std::net::TcpStream),
}

impl Conn {
    fn try_clone(&self) -> std::io::Result<Conn> {
        Ok(match self {
            Conn::Unix(s) => Conn::Unix(s.try_clone()?),
            Conn::Tcp(s) => Conn::Tcp(s.try_clone()?),
        })
    }

    fn shutdown_write(&self) {
        let _ = match self {
            Conn::Unix(s) => s.shutdown(Shutdown::Write),
            Conn::Tcp(s) => s.shutdown(Shutdown::Write),
        };
    }
}

impl Read for Conn {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Conn::Unix(s) => s.read(buf),
            Conn::Tcp(s) => s.read(buf),
        }
    }
}

impl Write for Conn {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Conn::Unix(s) => s.write(buf),
            Conn::Tcp(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The client's input, `leftover` first, as chunks to `send` until it half-closes.
fn pump_input(mut client: Conn, leftover: Vec<u8>, mut send: impl FnMut(&[u8]) -> bool) {
    if !leftover.is_empty() && !send(&leftover) {
        return;
    }
    let mut buf = [0u8; 8192];
    loop {
        match client.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if !send(&buf[..n]) {
                    return;
                }
            }
        }
    }
    send(&[]);
}

/// Relays a container's attach stream (the supervisor's frames) to the client until
/// the container exits; the client's input goes to it when `stdin`.
pub fn relay_attach(
    supervisor: UnixStream,
    client: Conn,
    leftover: Vec<u8>,
    tty: bool,
    stdin: bool,
) {
    if stdin {
        if let (Ok(mut to), Ok(from)) = (supervisor.try_clone(), client.try_clone()) {
            std::thread::spawn(move || {
                pump_input(from, leftover, |chunk| {
                    let kind = if chunk.is_empty() {
                        protocol::STDIN_EOF
                    } else {
                        protocol::STDIN
                    };
                    protocol::write_frame(&mut to, kind, chunk).is_ok()
                })
            });
        }
    }
    let mut from = supervisor;
    let mut to = client;
    while let Ok(Some((kind, payload))) = protocol::read_frame(&mut from) {
        let out = match kind {
            protocol::STDOUT | protocol::STDERR if tty => payload,
            protocol::STDOUT | protocol::STDERR => docker_frame(kind, &payload),
            protocol::EXIT | protocol::START_ERROR => break,
            _ => continue,
        };
        if to.write_all(&out).is_err() {
            break;
        }
    }
    to.shutdown_write();
}

/// Relays an exec'd process: its pipes (or terminal) to the client, the client's input
/// to it. `exited` gets the exit code before the client sees the end of the stream
/// (it asks for the code as soon as it does).
pub fn relay_exec(
    joined: libruntime::sandbox::join::Joined,
    client: Conn,
    leftover: Vec<u8>,
    tty: bool,
    stdin: bool,
    exited: impl FnOnce(i32),
) {
    use std::os::fd::OwnedFd;
    let client_out = Arc::new(Mutex::new(match client.try_clone() {
        Ok(c) => c,
        Err(_) => return exited(126),
    }));
    let mut readers = Vec::new();
    let copy_out = |fd: OwnedFd, stream: u8, raw: bool| {
        let out = client_out.clone();
        std::thread::spawn(move || {
            let mut f = std::fs::File::from(fd);
            let mut buf = [0u8; 8192];
            loop {
                match f.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        let data = if raw {
                            buf[..n].to_vec()
                        } else {
                            docker_frame(stream, &buf[..n])
                        };
                        if out.lock().map(|mut o| o.write_all(&data)).is_err() {
                            break;
                        }
                    }
                }
            }
        })
    };
    let mut input: Option<std::fs::File> = None;
    if let Some(master) = joined.terminal {
        input = nix::unistd::dup(&master).ok().map(std::fs::File::from);
        readers.push(copy_out(master, 1, true));
    } else if let Some(p) = joined.pipes {
        readers.push(copy_out(p.stdout, 1, tty));
        readers.push(copy_out(p.stderr, 2, tty));
        input = p.stdin.map(std::fs::File::from);
    }
    if let (true, Some(mut to)) = (stdin, input) {
        if let Ok(from) = client.try_clone() {
            std::thread::spawn(move || {
                pump_input(from, leftover, |chunk| {
                    // An empty chunk is the end: dropping `to` closes the process's stdin.
                    !chunk.is_empty() && to.write_all(chunk).is_ok()
                })
            });
        }
    }
    let code = match nix::sys::wait::waitpid(joined.pid, None) {
        Ok(nix::sys::wait::WaitStatus::Exited(_, c)) => c,
        Ok(nix::sys::wait::WaitStatus::Signaled(_, s, _)) => 128 + s as i32,
        _ => 126,
    };
    super::exec_reaped(joined.pid.as_raw());
    for r in readers {
        let _ = r.join();
    }
    exited(code);
    let done = client_out.lock().map(|c| c.shutdown_write());
    drop(done);
}

/// Which log lines a request wants, and how each is written.
struct LogFilter {
    stdout: bool,
    stderr: bool,
    timestamps: bool,
    since: i64,
    until: i64,
    tty: bool,
}

impl LogFilter {
    fn encode(&self, lines: &[LogLine]) -> Vec<u8> {
        let mut out = Vec::new();
        for l in lines {
            let t = l.time.timestamp();
            let err = l.stream == "stderr";
            if (err && !self.stderr)
                || (!err && !self.stdout)
                || t < self.since
                || (self.until > 0 && t > self.until)
            {
                continue;
            }
            let mut text = Vec::new();
            if self.timestamps {
                text.extend_from_slice(
                    format!(
                        "{} ",
                        l.time.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
                    )
                    .as_bytes(),
                );
            }
            text.extend_from_slice(l.text.as_bytes());
            if !l.partial {
                text.push(b'\n');
            }
            if self.tty {
                out.extend(text);
            } else {
                out.extend(docker_frame(if err { 2 } else { 1 }, &text));
            }
        }
        out
    }
}

/// `GET /containers/{id}/logs`: the lines asked for, then (with `follow`) new ones
/// until the container stops or `gone` says the client left, written through `send`.
pub fn logs(
    ctx: &Ctx,
    name: &str,
    q: &Query,
    mut send: impl FnMut(Vec<u8>) -> bool,
    gone: impl Fn() -> bool,
) -> ApiResult<()> {
    let r = super::containers::find(ctx, name)?;
    let dirs = ContainerDirs::new(&ctx.paths, &r.id);
    let Some(file) = r.config.log.file(&dirs) else {
        return Err(ApiError::BadRequest(
            "configured logging driver does not support reading".into(),
        ));
    };
    let filter = LogFilter {
        stdout: q.flag("stdout"),
        stderr: q.flag("stderr"),
        timestamps: q.flag("timestamps"),
        since: q.number::<f64>("since").unwrap_or(0.0) as i64,
        until: q.number::<f64>("until").unwrap_or(0.0) as i64,
        tty: r.config.tty,
    };
    // Held open from the first read: a client may remove the container while this
    // still follows (docker-py's run() does), and what it wrote must still come.
    let mut open = std::fs::File::open(&file).ok();
    let read = |open: &mut Option<std::fs::File>, offset: u64| {
        if open.is_none() {
            *open = std::fs::File::open(&file).ok();
        }
        match open {
            Some(f) => read_open(f, offset),
            None => (Vec::new(), offset),
        }
    };
    let (mut lines, mut offset) = read(&mut open, 0);
    if let Some(n) = q.get("tail").and_then(|t| t.parse::<usize>().ok()) {
        let skip = lines.len().saturating_sub(n);
        lines.drain(..skip);
    }
    if !send(filter.encode(&lines)) {
        return Ok(());
    }
    if !q.flag("follow") {
        return Ok(());
    }
    let h = ctx.handle(&r);
    loop {
        let (more, next) = read(&mut open, offset);
        offset = next;
        if !more.is_empty() && !send(filter.encode(&more)) {
            return Ok(());
        }
        if gone() {
            return Ok(());
        }
        // A container whose start is still under way is not "active" yet, but its
        // supervisor is alive: follow on until both are done.
        if !h
            .state()
            .is_ok_and(|s| s.is_active() || s.supervisor_alive())
        {
            let (rest, _) = read(&mut open, offset);
            send(filter.encode(&rest));
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_as_docker_multiplexes_them() {
        assert_eq!(
            docker_frame(1, b"hi\n"),
            vec![1, 0, 0, 0, 0, 0, 0, 3, b'h', b'i', b'\n']
        );
        assert_eq!(docker_frame(2, b"")[..8], [2, 0, 0, 0, 0, 0, 0, 0]);
    }
}
