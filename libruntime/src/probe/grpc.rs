//! grpc.health.v1.Health/Check over cleartext HTTP/2, written out by hand: one request
//! on stream 1 and the frames needed to read its answer. Only the answer's DATA is
//! decoded (the status field of HealthCheckResponse), so the server's HPACK headers
//! need no decoder; a stream that ends without SERVING fails the probe.

use super::Outcome;
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
const DATA: u8 = 0x0;
const HEADERS: u8 = 0x1;
const RST_STREAM: u8 = 0x3;
const SETTINGS: u8 = 0x4;
const PING: u8 = 0x6;
const GOAWAY: u8 = 0x7;
const END_STREAM: u8 = 0x1;
const ACK: u8 = 0x1;
const END_HEADERS: u8 = 0x4;
const PADDED: u8 = 0x8;

/// HealthCheckResponse.ServingStatus names.
fn status_name(s: u64) -> &'static str {
    match s {
        0 => "UNKNOWN",
        1 => "SERVING",
        2 => "NOT_SERVING",
        3 => "SERVICE_UNKNOWN",
        _ => "an unknown status",
    }
}

fn frame(typ: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let len = payload.len() as u32;
    let mut f = vec![(len >> 16) as u8, (len >> 8) as u8, len as u8, typ, flags];
    f.extend_from_slice(&(stream & 0x7fff_ffff).to_be_bytes());
    f.extend_from_slice(payload);
    f
}

/// An HPACK string literal without Huffman coding (7-bit prefix length).
fn hpack_string(out: &mut Vec<u8>, s: &str) {
    hpack_int(out, 0, 7, s.len());
    out.extend_from_slice(s.as_bytes());
}

fn hpack_int(out: &mut Vec<u8>, first: u8, prefix: u8, mut n: usize) {
    let max = (1usize << prefix) - 1;
    if n < max {
        out.push(first | n as u8);
        return;
    }
    out.push(first | max as u8);
    n -= max;
    while n >= 128 {
        out.push((n % 128) as u8 | 0x80);
        n /= 128;
    }
    out.push(n as u8);
}

/// The request's header block: static-table entries and literals never indexed.
fn request_headers(authority: &str) -> Vec<u8> {
    let mut h = vec![0x83, 0x86]; // :method POST, :scheme http
    hpack_int(&mut h, 0x00, 4, 4); // :path, literal value
    hpack_string(&mut h, "/grpc.health.v1.Health/Check");
    hpack_int(&mut h, 0x00, 4, 1); // :authority
    hpack_string(&mut h, authority);
    hpack_int(&mut h, 0x00, 4, 31); // content-type
    hpack_string(&mut h, "application/grpc");
    h.push(0x00); // te, a new name
    hpack_string(&mut h, "te");
    hpack_string(&mut h, "trailers");
    hpack_int(&mut h, 0x00, 4, 58); // user-agent
    hpack_string(&mut h, &super::user_agent());
    h
}

/// HealthCheckRequest { service } as a length-prefixed gRPC message.
fn request_message(service: &str) -> Vec<u8> {
    let mut pb = Vec::new();
    if !service.is_empty() {
        pb.push(0x0a);
        let mut n = service.len();
        while n >= 0x80 {
            pb.push((n as u8 & 0x7f) | 0x80);
            n >>= 7;
        }
        pb.push(n as u8);
        pb.extend_from_slice(service.as_bytes());
    }
    let mut m = vec![0];
    m.extend_from_slice(&(pb.len() as u32).to_be_bytes());
    m.extend_from_slice(&pb);
    m
}

/// The `status` field (1, varint) of a HealthCheckResponse in a gRPC message.
fn response_status(message: &[u8]) -> Option<u64> {
    let pb = message.get(5..)?;
    let mut i = 0;
    while i < pb.len() {
        let key = pb[i];
        i += 1;
        let mut value = 0u64;
        let mut shift = 0;
        match key & 0x7 {
            0 => loop {
                let b = *pb.get(i)?;
                i += 1;
                value |= ((b & 0x7f) as u64) << shift;
                shift += 7;
                if b & 0x80 == 0 {
                    break;
                }
            },
            2 => {
                let len = *pb.get(i)? as usize;
                i += 1 + len;
                continue;
            }
            _ => return None,
        }
        if key >> 3 == 1 {
            return Some(value);
        }
    }
    Some(0)
}

pub fn check(host: &str, port: u16, service: &str, timeout: Duration) -> Outcome {
    match exchange(host, port, service, timeout) {
        Ok(Some(1)) => Outcome::pass("status: SERVING"),
        Ok(Some(s)) => Outcome::fail(format!(
            "service unhealthy (responded with {:?})",
            status_name(s)
        )),
        Ok(None) => Outcome::fail("the server ended the call without a health status"),
        Err(e) => Outcome::fail(format!("gRPC health check to {host}:{port}: {e}")),
    }
}

fn exchange(
    host: &str,
    port: u16,
    service: &str,
    timeout: Duration,
) -> std::io::Result<Option<u64>> {
    let deadline = Instant::now() + timeout;
    let addr = (host, port)
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| std::io::Error::other("no address"))?;
    let mut s = TcpStream::connect_timeout(&addr, timeout)?;
    s.set_nodelay(true)?;
    let mut out = PREFACE.to_vec();
    out.extend(frame(SETTINGS, 0, 0, &[]));
    out.extend(frame(
        HEADERS,
        END_HEADERS,
        1,
        &request_headers(&format!("{host}:{port}")),
    ));
    out.extend(frame(DATA, END_STREAM, 1, &request_message(service)));
    s.write_all(&out)?;
    let mut message = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "timed out",
            ));
        }
        s.set_read_timeout(Some(left))?;
        let mut head = [0u8; 9];
        s.read_exact(&mut head)?;
        let len = u32::from_be_bytes([0, head[0], head[1], head[2]]) as usize;
        let (typ, flags) = (head[3], head[4]);
        let stream = u32::from_be_bytes([head[5], head[6], head[7], head[8]]) & 0x7fff_ffff;
        if len > 1 << 20 {
            return Err(std::io::Error::other("frame too large"));
        }
        let mut payload = vec![0u8; len];
        s.read_exact(&mut payload)?;
        match (typ, stream) {
            (SETTINGS, 0) if flags & ACK == 0 => s.write_all(&frame(SETTINGS, ACK, 0, &[]))?,
            (PING, 0) if flags & ACK == 0 => s.write_all(&frame(PING, ACK, 0, &payload))?,
            (GOAWAY, _) => return Err(std::io::Error::other("the server went away (GOAWAY)")),
            (RST_STREAM, 1) => return Err(std::io::Error::other("the server reset the call")),
            (DATA, 1) => {
                let body = if flags & PADDED != 0 {
                    let pad = *payload.first().unwrap_or(&0) as usize;
                    payload
                        .get(1..payload.len().saturating_sub(pad))
                        .unwrap_or(&[])
                } else {
                    &payload[..]
                };
                message.extend_from_slice(body);
                if flags & END_STREAM != 0 {
                    break;
                }
            }
            (HEADERS, 1) if flags & END_STREAM != 0 => break,
            _ => {}
        }
    }
    Ok(if message.len() >= 5 {
        response_status(&message)
    } else {
        None
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hpack_integers_as_rfc_7541_c1() {
        let mut v = Vec::new();
        hpack_int(&mut v, 0, 5, 10);
        assert_eq!(v, [10]);
        v.clear();
        hpack_int(&mut v, 0, 5, 1337);
        assert_eq!(v, [31, 154, 10]);
        v.clear();
        hpack_int(&mut v, 0x00, 4, 31);
        assert_eq!(v, [0x0f, 0x10]);
    }

    #[test]
    fn health_messages() {
        assert_eq!(request_message(""), [0, 0, 0, 0, 0]);
        assert_eq!(request_message("ab"), [0, 0, 0, 0, 4, 0x0a, 2, b'a', b'b']);
        assert_eq!(response_status(&[0, 0, 0, 0, 2, 0x08, 1]), Some(1));
        assert_eq!(response_status(&[0, 0, 0, 0, 2, 0x08, 2]), Some(2));
        // An empty message is the default: UNKNOWN.
        assert_eq!(response_status(&[0, 0, 0, 0, 0]), Some(0));
    }
}
