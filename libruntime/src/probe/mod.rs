//! The probe engine: one check of a running container, of four kinds. Commands run in
//! the container through `exec` (`container/verbs/health.rs`); HTTP GET, TCP connect
//! and gRPC health v1 are made by skiff from inside the container's network namespace
//! (`netns.rs`), so the image needs no curl, nc or grpc_health_probe. Health checks use
//! it now; Kubernetes' liveness, readiness and startup probes are the same kinds.

mod grpc;
mod http;
mod netns;
mod tcp;

pub use netns::run_in_network_of;
use serde::{Deserialize, Serialize};
use std::time::Duration;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Scheme {
    #[default]
    Http,
    Https,
}

/// An HTTP GET that passes with a status from 200 to 399, as the kubelet's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpGet {
    /// The address inside the container's network; 127.0.0.1 when none is given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    pub port: u16,
    pub path: String,
    #[serde(default)]
    pub scheme: Scheme,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<(String, String)>,
}

/// A TCP connect that passes once the connection is made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TcpSocket {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    pub port: u16,
}

/// grpc.health.v1.Health/Check, which passes when the answer is SERVING.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrpcCheck {
    pub port: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
}

/// A probe made over the network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum NetProbe {
    HttpGet(HttpGet),
    TcpSocket(TcpSocket),
    Grpc(GrpcCheck),
}

/// What one probe found: whether it passed, and a line saying what happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    pub passed: bool,
    pub output: String,
}

impl Outcome {
    pub fn pass(output: impl Into<String>) -> Outcome {
        Outcome {
            passed: true,
            output: output.into(),
        }
    }

    pub fn fail(output: impl Into<String>) -> Outcome {
        Outcome {
            passed: false,
            output: output.into(),
        }
    }
}

/// The kubelet's User-Agent, with skiff's version.
pub fn user_agent() -> String {
    format!("kube-probe/skiff-{}", crate::VERSION)
}

const LOOPBACK: &str = "127.0.0.1";

impl NetProbe {
    /// Makes the probe from wherever this process's network is (netns.rs enters the
    /// container's first).
    pub fn run_here(&self, timeout: Duration) -> Outcome {
        match self {
            NetProbe::HttpGet(h) => http::get(h, timeout),
            NetProbe::TcpSocket(t) => {
                tcp::connect(t.host.as_deref().unwrap_or(LOOPBACK), t.port, timeout)
            }
            NetProbe::Grpc(g) => grpc::check(
                LOOPBACK,
                g.port,
                g.service.as_deref().unwrap_or(""),
                timeout,
            ),
        }
    }

    /// The probe as a URL-like line: `http://HOST:PORT/PATH`, `tcp://HOST:PORT`,
    /// `grpc://HOST:PORT[/SERVICE]`; `parse` reads it back.
    pub fn describe(&self) -> String {
        match self {
            NetProbe::HttpGet(h) => format!(
                "{}://{}:{}{}",
                match h.scheme {
                    Scheme::Http => "http",
                    Scheme::Https => "https",
                },
                h.host.as_deref().unwrap_or(LOOPBACK),
                h.port,
                h.path
            ),
            NetProbe::TcpSocket(t) => {
                format!("tcp://{}:{}", t.host.as_deref().unwrap_or(LOOPBACK), t.port)
            }
            NetProbe::Grpc(g) => match &g.service {
                Some(s) => format!("grpc://{LOOPBACK}:{}/{s}", g.port),
                None => format!("grpc://{LOOPBACK}:{}", g.port),
            },
        }
    }

    /// `--health-probe`: `http[s]://[HOST]:PORT[/PATH]`, `tcp://[HOST]:PORT`,
    /// `grpc://[127.0.0.1]:PORT[/SERVICE]`.
    pub fn parse(s: &str) -> crate::Result<NetProbe> {
        let bad = |why: &str| {
            crate::Error::InvalidArgument(format!(
                "invalid health probe {s:?}: {why} (want http://[HOST]:PORT/PATH, https://…, tcp://[HOST]:PORT or grpc://[HOST]:PORT[/SERVICE])"
            ))
        };
        let (scheme, rest) = s.split_once("://").ok_or_else(|| bad("no scheme"))?;
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        let (host, port) = authority.rsplit_once(':').ok_or_else(|| bad("no port"))?;
        let port: u16 = port
            .parse()
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| bad("the port must be a number from 1 to 65535"))?;
        if host.contains(['/', ' ', '@']) {
            return Err(bad("the host is not a plain name or address"));
        }
        let host = (!host.is_empty()).then(|| host.to_string());
        match scheme {
            "http" | "https" => Ok(NetProbe::HttpGet(HttpGet {
                host,
                port,
                path: if path.is_empty() {
                    "/".into()
                } else {
                    path.into()
                },
                scheme: if scheme == "https" {
                    Scheme::Https
                } else {
                    Scheme::Http
                },
                headers: vec![],
            })),
            "tcp" if path.is_empty() || path == "/" => {
                Ok(NetProbe::TcpSocket(TcpSocket { host, port }))
            }
            "grpc" if host.as_deref().is_none_or(|h| h == LOOPBACK) => {
                Ok(NetProbe::Grpc(GrpcCheck {
                    port,
                    service: path
                        .strip_prefix('/')
                        .filter(|p| !p.is_empty())
                        .map(String::from),
                }))
            }
            "grpc" => Err(bad("a gRPC probe goes to the container's own 127.0.0.1")),
            _ => Err(bad("unknown scheme")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_lines_parse_and_print_back() {
        for line in [
            "http://127.0.0.1:8080/healthz",
            "https://10.0.2.100:443/",
            "tcp://127.0.0.1:5432",
            "grpc://127.0.0.1:9000",
            "grpc://127.0.0.1:9000/my.Service",
        ] {
            assert_eq!(NetProbe::parse(line).unwrap().describe(), line);
        }
        assert_eq!(
            NetProbe::parse("http://:80").unwrap().describe(),
            "http://127.0.0.1:80/"
        );
        for bad in [
            "http//x:1",
            "ftp://:21",
            "http://:0/",
            "http://:99999/",
            "tcp://:80/path",
            "grpc://10.0.0.1:9000",
            "http://a b:80/",
            "http://host/",
        ] {
            assert!(NetProbe::parse(bad).is_err(), "{bad}");
        }
    }
}
