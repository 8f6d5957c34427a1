//! The DNS responder of a bridge network: answers A queries for the names and aliases
//! of the containers on that network, and forwards every other query upstream (unless
//! the network is internal). One thread per network, bound to its gateway's port 53
//! inside the holder's network namespace.

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// One container on one network, as the responders see it.
#[derive(Debug, Clone)]
pub struct Entry {
    pub container: String,
    pub names: Vec<String>,
    pub ip: Ipv4Addr,
}

/// Entries by network id.
pub type Table = Arc<RwLock<HashMap<String, Vec<Entry>>>>;

const TYPE_A: u16 = 1;
const CLASS_IN: u16 = 1;
const RCODE_NXDOMAIN: u8 = 3;
const RCODE_REFUSED: u8 = 5;
const FORWARD_TIMEOUT: Duration = Duration::from_secs(4);

/// One question, as much of a query as the responder reads.
#[derive(Debug, PartialEq, Eq)]
pub struct Question {
    pub name: String,
    pub qtype: u16,
    pub qclass: u16,
    /// Where the question section ends in the message.
    pub end: usize,
}

/// Parses the first question of a query; None for anything malformed or not a query.
pub fn parse_query(msg: &[u8]) -> Option<Question> {
    if msg.len() < 12 || msg[2] & 0x80 != 0 {
        return None;
    }
    let qdcount = u16::from_be_bytes([msg[4], msg[5]]);
    if qdcount != 1 {
        return None;
    }
    let mut pos = 12;
    let mut labels = Vec::new();
    loop {
        let len = *msg.get(pos)? as usize;
        pos += 1;
        if len == 0 {
            break;
        }
        // Compression pointers do not belong in a question.
        if len > 63 {
            return None;
        }
        let label = msg.get(pos..pos + len)?;
        labels.push(String::from_utf8_lossy(label).to_ascii_lowercase());
        pos += len;
        if pos > 255 + 12 {
            return None;
        }
    }
    let qtype = u16::from_be_bytes([*msg.get(pos)?, *msg.get(pos + 1)?]);
    let qclass = u16::from_be_bytes([*msg.get(pos + 2)?, *msg.get(pos + 3)?]);
    Some(Question {
        name: labels.join("."),
        qtype,
        qclass,
        end: pos + 4,
    })
}

/// The answer to `query` (whose question is `q`) with `addrs` and the response code.
pub fn build_answer(query: &[u8], q: &Question, addrs: &[Ipv4Addr], rcode: u8) -> Vec<u8> {
    let mut out = Vec::with_capacity(q.end + addrs.len() * 16);
    out.extend_from_slice(&query[..2]);
    // QR, the query's opcode and RD, AA; then RA and the code.
    out.push(0x80 | (query[2] & 0x79) | 0x04);
    out.push(0x80 | (rcode & 0x0f));
    out.extend_from_slice(&1u16.to_be_bytes());
    out.extend_from_slice(&(addrs.len() as u16).to_be_bytes());
    out.extend_from_slice(&[0, 0, 0, 0]);
    out.extend_from_slice(&query[12..q.end]);
    for a in addrs {
        // The name is a pointer to the question's (offset 12).
        out.extend_from_slice(&[0xc0, 0x0c]);
        out.extend_from_slice(&TYPE_A.to_be_bytes());
        out.extend_from_slice(&CLASS_IN.to_be_bytes());
        // Containers come and go: let nobody cache an answer.
        out.extend_from_slice(&0u32.to_be_bytes());
        out.extend_from_slice(&4u16.to_be_bytes());
        out.extend_from_slice(&a.octets());
    }
    out
}

/// The addresses `name` has for a client at `client` asking on `network`: on that
/// network, and on every other network the client's container shares with the one
/// named (as aardvark-dns answers), this network's address first.
fn lookup(table: &Table, network: &str, client: Ipv4Addr, name: &str) -> Option<Vec<Ipv4Addr>> {
    let t = table.read().ok()?;
    let asker = t
        .get(network)?
        .iter()
        .find(|e| e.ip == client)
        .map(|e| e.container.clone());
    let mut nets: Vec<&String> = vec![];
    if let Some(me) = &asker {
        nets.extend(
            t.iter()
                .filter(|(id, es)| *id != network && es.iter().any(|e| &e.container == me))
                .map(|(id, _)| id),
        );
    }
    let own = network.to_string();
    nets.insert(0, &own);
    let mut found: Vec<Ipv4Addr> = Vec::new();
    for id in nets {
        for e in t.get(id).into_iter().flatten() {
            if e.names.iter().any(|n| n.eq_ignore_ascii_case(name)) && !found.contains(&e.ip) {
                found.push(e.ip);
            }
        }
    }
    (!found.is_empty()).then_some(found)
}

/// Which network a responder answers for, and where it forwards other names. A
/// network removed and made again on the same gateway takes over the responder.
#[derive(Debug, Clone)]
pub struct Serving {
    pub network: String,
    pub upstream: Option<SocketAddr>,
}

pub type Assignment = Arc<RwLock<Serving>>;

/// Serves queries on `sock` until the process ends.
pub fn serve(sock: UdpSocket, table: Table, serving: Assignment) {
    let mut buf = [0u8; 1500];
    loop {
        let Ok((n, client)) = sock.recv_from(&mut buf) else {
            continue;
        };
        let query = &buf[..n];
        let Some(q) = parse_query(query) else {
            continue;
        };
        let SocketAddr::V4(from) = client else {
            continue;
        };
        let Serving { network, upstream } = match serving.read() {
            Ok(s) => s.clone(),
            Err(_) => continue,
        };
        let reply = match lookup(&table, &network, *from.ip(), q.name.trim_end_matches('.')) {
            // A known name: its addresses for A, no data for any other type.
            Some(addrs) if q.qtype == TYPE_A && q.qclass == CLASS_IN => {
                build_answer(query, &q, &addrs, 0)
            }
            Some(_) => build_answer(query, &q, &[], 0),
            None => match upstream {
                Some(up) => {
                    forward(&sock, query.to_vec(), client, up);
                    continue;
                }
                None if q.name.contains('.') => build_answer(query, &q, &[], RCODE_REFUSED),
                None => build_answer(query, &q, &[], RCODE_NXDOMAIN),
            },
        };
        let _ = sock.send_to(&reply, client);
    }
}

/// Relays one query upstream on a thread of its own, so a slow server holds up no one.
fn forward(sock: &UdpSocket, query: Vec<u8>, client: SocketAddr, upstream: SocketAddr) {
    let Ok(reply_sock) = sock.try_clone() else {
        return;
    };
    std::thread::spawn(move || {
        let Ok(out) = UdpSocket::bind(("0.0.0.0", 0)) else {
            return;
        };
        let _ = out.set_read_timeout(Some(FORWARD_TIMEOUT));
        if out.send_to(&query, upstream).is_err() {
            return;
        }
        let mut buf = [0u8; 4096];
        if let Ok((n, from)) = out.recv_from(&mut buf) {
            if from == upstream {
                let _ = reply_sock.send_to(&buf[..n], client);
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(name: &str, qtype: u16) -> Vec<u8> {
        let mut m = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
        for l in name.split('.') {
            m.push(l.len() as u8);
            m.extend_from_slice(l.as_bytes());
        }
        m.push(0);
        m.extend_from_slice(&qtype.to_be_bytes());
        m.extend_from_slice(&1u16.to_be_bytes());
        m
    }

    #[test]
    fn answers_a_query() {
        let m = query("Web.Example", TYPE_A);
        let q = parse_query(&m).unwrap();
        assert_eq!(q.name, "web.example");
        let ip: Ipv4Addr = "10.89.0.5".parse().unwrap();
        let a = build_answer(&m, &q, &[ip], 0);
        assert_eq!(&a[..2], &[0x12, 0x34]);
        assert_eq!(a[3] & 0x0f, 0);
        assert_eq!(u16::from_be_bytes([a[6], a[7]]), 1);
        assert_eq!(&a[a.len() - 4..], &ip.octets());
    }

    #[test]
    fn refuses_garbage() {
        assert!(parse_query(&[0; 5]).is_none());
        let mut m = query("a", TYPE_A);
        m[12] = 0xc0; // a pointer where a label should be
        assert!(parse_query(&m).is_none());
        let mut m = query("a", TYPE_A);
        m.truncate(m.len() - 2);
        assert!(parse_query(&m).is_none());
    }
}
