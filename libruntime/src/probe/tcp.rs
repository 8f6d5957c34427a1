//! tcpSocket: the probe passes once a connection is made.

use super::Outcome;
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

pub fn connect(host: &str, port: u16, timeout: Duration) -> Outcome {
    let addrs = match (host, port).to_socket_addrs() {
        Ok(a) => a.collect::<Vec<_>>(),
        Err(e) => return Outcome::fail(format!("resolving {host}: {e}")),
    };
    let mut last = format!("{host}:{port}: no address");
    for a in addrs {
        match TcpStream::connect_timeout(&a, timeout) {
            Ok(_) => return Outcome::pass(format!("connected to {a}")),
            Err(e) => last = format!("dial tcp {a}: {e}"),
        }
    }
    Outcome::fail(last)
}
