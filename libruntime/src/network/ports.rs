//! `-p/--publish` and `-P`: which host ports lead to which container ports.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// One published port: a host address and port leading to a container port.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PortMapping {
    pub host_ip: String,
    pub host_port: u16,
    pub container_port: u16,
    pub protocol: String,
}

fn bad(spec: &str, why: &str) -> Error {
    Error::InvalidArgument(format!("invalid --publish {spec:?}: {why}"))
}

/// `a` or `a-b`, as an inclusive range.
fn range(spec: &str, s: &str) -> Result<(u16, u16)> {
    let parse = |x: &str| -> Result<u16> {
        x.parse::<u16>()
            .map_err(|_| bad(spec, &format!("{x:?} is not a port number")))
    };
    let (a, b) = match s.split_once('-') {
        Some((a, b)) => (parse(a)?, parse(b)?),
        None => {
            let p = parse(s)?;
            (p, p)
        }
    };
    if b < a {
        return Err(bad(spec, "a range must go up"));
    }
    Ok((a, b))
}

/// A host port nobody listens on now, for `-p CONTAINERPORT` and `-P`.
pub fn free_port(protocol: &str, ip: &str) -> Result<u16> {
    let ip = if ip.is_empty() { "0.0.0.0" } else { ip };
    let port = if protocol == "udp" {
        std::net::UdpSocket::bind((ip, 0)).and_then(|s| s.local_addr())
    } else {
        std::net::TcpListener::bind((ip, 0)).and_then(|s| s.local_addr())
    };
    port.map(|a| a.port())
        .map_err(|e| Error::io("finding a free host port", e))
}

/// Parses one `[ip:][hostPort[-end]:]containerPort[-end][/tcp|udp]`; host port 0
/// means "pick one" and is resolved here.
pub fn parse(spec: &str) -> Result<Vec<PortMapping>> {
    let (rest, protocol) = match spec.rsplit_once('/') {
        Some((r, p)) if p == "tcp" || p == "udp" => (r, p.to_string()),
        Some((_, p)) => return Err(bad(spec, &format!("protocol {p:?}: use tcp or udp"))),
        None => (spec, "tcp".to_string()),
    };
    let parts: Vec<&str> = if rest.starts_with('[') {
        return Err(bad(spec, "IPv6 host addresses are not supported yet"));
    } else {
        rest.split(':').collect()
    };
    let (ip, host, ctr) = match parts.as_slice() {
        [c] => ("", "", *c),
        [h, c] => ("", *h, *c),
        [ip, h, c] => (*ip, *h, *c),
        _ => return Err(bad(spec, "want [IP:][HOSTPORT:]CONTAINERPORT[/PROTOCOL]")),
    };
    if !ip.is_empty() && ip.parse::<std::net::Ipv4Addr>().is_err() {
        return Err(bad(spec, &format!("{ip:?} is not an IPv4 address")));
    }
    let (c0, c1) = range(spec, ctr)?;
    if c0 == 0 {
        return Err(bad(spec, "container port 0"));
    }
    let hosts: Vec<u16> = if host.is_empty() {
        (c0..=c1)
            .map(|_| free_port(&protocol, ip))
            .collect::<Result<_>>()?
    } else {
        let (h0, h1) = range(spec, host)?;
        if h1 - h0 != c1 - c0 {
            return Err(bad(spec, "host and container ranges differ in length"));
        }
        (h0..=h1).collect()
    };
    Ok((c0..=c1)
        .zip(hosts)
        .map(|(c, h)| PortMapping {
            host_ip: ip.to_string(),
            host_port: h,
            container_port: c,
            protocol: protocol.clone(),
        })
        .collect())
}

/// `-P`: every port the image EXPOSEs, on a free host port.
pub fn publish_all(exposed: &[String]) -> Result<Vec<PortMapping>> {
    let mut out = Vec::new();
    for e in exposed {
        let (port, proto) = e.split_once('/').unwrap_or((e, "tcp"));
        out.extend(parse(&format!("{port}/{proto}"))?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn publish_forms() {
        let p = parse("127.0.0.1:8080:80/udp").unwrap();
        assert_eq!(
            (
                p[0].host_ip.as_str(),
                p[0].host_port,
                p[0].container_port,
                p[0].protocol.as_str()
            ),
            ("127.0.0.1", 8080, 80, "udp")
        );
        let r = parse("9000-9002:80-82").unwrap();
        assert_eq!(
            r.iter()
                .map(|m| (m.host_port, m.container_port))
                .collect::<Vec<_>>(),
            vec![(9000, 80), (9001, 81), (9002, 82)]
        );
        let any = parse("80").unwrap();
        assert!(any[0].host_port > 0);
        for bad in [
            "80/sctp",
            "a:80",
            "1:2:3:4",
            "9000-9001:80",
            "300.1.1.1:80:80",
            "0",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
