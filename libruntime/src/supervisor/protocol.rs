//! The attach socket's framing, spoken by the supervisor and by the CLI: a type byte, a
//! big-endian u32 length, the payload. Output, input, window size, and the exit code
//! travel the same way whether the container has a terminal or not.

use std::io::{self, Read, Write};

pub const STDIN: u8 = 0;
pub const STDOUT: u8 = 1;
pub const STDERR: u8 = 2;
/// The container's exit code, i32 BE; the last frame a client gets.
pub const EXIT: u8 = 3;
/// Terminal size: rows u16 BE, cols u16 BE.
pub const RESIZE: u8 = 4;
/// First frame of a client: a flags byte.
pub const HELLO: u8 = 5;
/// The client's stdin reached its end.
pub const STDIN_EOF: u8 = 6;
/// The container failed to start: code i32 BE, then the message.
pub const START_ERROR: u8 = 7;

/// HELLO flags.
pub const WANT_STDIN: u8 = 1;
pub const WANT_OUTPUT: u8 = 2;

pub fn frame(kind: u8, payload: &[u8]) -> Vec<u8> {
    let mut f = Vec::with_capacity(payload.len() + 5);
    f.push(kind);
    f.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    f.extend_from_slice(payload);
    f
}

pub fn write_frame(w: &mut impl Write, kind: u8, payload: &[u8]) -> io::Result<()> {
    w.write_all(&frame(kind, payload))
}

/// Reads one frame; None at a clean end of stream.
pub fn read_frame(r: &mut impl Read) -> io::Result<Option<(u8, Vec<u8>)>> {
    let mut head = [0u8; 5];
    match r.read_exact(&mut head) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let len = u32::from_be_bytes([head[1], head[2], head[3], head[4]]) as usize;
    if len > 1 << 24 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "attach frame too large",
        ));
    }
    let mut payload = vec![0u8; len];
    r.read_exact(&mut payload)?;
    Ok(Some((head[0], payload)))
}

/// Splits complete frames off the front of `buf` (for non-blocking readers).
pub fn take_frames(buf: &mut Vec<u8>) -> Vec<(u8, Vec<u8>)> {
    let mut out = Vec::new();
    let mut at = 0;
    while buf.len() - at >= 5 {
        let len = u32::from_be_bytes([buf[at + 1], buf[at + 2], buf[at + 3], buf[at + 4]]) as usize;
        if buf.len() - at - 5 < len {
            break;
        }
        out.push((buf[at], buf[at + 5..at + 5 + len].to_vec()));
        at += 5 + len;
    }
    buf.drain(..at);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_in_pieces() {
        let mut wire = frame(STDOUT, b"hello");
        wire.extend(frame(EXIT, &7i32.to_be_bytes()));
        let mut buf = wire[..7].to_vec();
        assert_eq!(take_frames(&mut buf).len(), 0);
        buf.extend_from_slice(&wire[7..]);
        let f = take_frames(&mut buf);
        assert_eq!(
            f,
            vec![
                (STDOUT, b"hello".to_vec()),
                (EXIT, 7i32.to_be_bytes().to_vec())
            ]
        );
        assert!(buf.is_empty());
    }
}
