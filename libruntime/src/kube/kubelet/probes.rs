//! Kubernetes probes on skiff's probe engine: defaults, the rules between the three
//! kinds, and the thresholds as a small state machine per probe.

use crate::container::health::HealthTest;
use crate::kube::api::{Container, IntOrString, Probe};
use crate::probe::{GrpcCheck, HttpGet, NetProbe, Scheme, TcpSocket};
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeKind {
    Startup,
    Liveness,
    Readiness,
}

impl ProbeKind {
    /// As the kubelet's events name it.
    pub fn title(self) -> &'static str {
        match self {
            ProbeKind::Startup => "Startup",
            ProbeKind::Liveness => "Liveness",
            ProbeKind::Readiness => "Readiness",
        }
    }
}

/// A probe with Kubernetes' defaults: initialDelaySeconds 0, periodSeconds 10,
/// timeoutSeconds 1, successThreshold 1, failureThreshold 3.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeSpec {
    pub kind: ProbeKind,
    pub test: HealthTest,
    pub initial_delay: Duration,
    pub period: Duration,
    pub timeout: Duration,
    pub success_threshold: u32,
    pub failure_threshold: u32,
}

fn secs(v: Option<i64>, default: u64) -> Duration {
    Duration::from_secs(v.filter(|n| *n >= 0).map_or(default, |n| n as u64))
}

/// A port by number, or by the name of one of the container's ports.
fn port(p: &IntOrString, c: &Container) -> Result<u16, String> {
    let n = match p {
        IntOrString::Int(n) => *n,
        IntOrString::String(name) => c
            .ports
            .iter()
            .find(|x| x.name.as_deref() == Some(name.as_str()))
            .map(|x| x.container_port)
            .ok_or_else(|| format!("no port named {name:?} in container {}", c.name))?,
    };
    u16::try_from(n)
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("port {n} is out of range"))
}

impl ProbeSpec {
    pub fn from_api(kind: ProbeKind, p: &Probe, c: &Container) -> Result<ProbeSpec, String> {
        let handlers = [
            p.exec.is_some(),
            p.http_get.is_some(),
            p.tcp_socket.is_some(),
            p.grpc.is_some(),
        ];
        if handlers.iter().filter(|h| **h).count() != 1 {
            return Err("a probe needs exactly one of exec, httpGet, tcpSocket and grpc".into());
        }
        let test = if let Some(e) = &p.exec {
            if e.command.is_empty() {
                return Err("exec.command is empty".into());
            }
            HealthTest::Exec(e.command.clone())
        } else if let Some(h) = &p.http_get {
            HealthTest::Net(NetProbe::HttpGet(HttpGet {
                host: h.host.clone(),
                port: port(&h.port, c)?,
                path: h.path.clone().unwrap_or_else(|| "/".into()),
                scheme: match h.scheme.as_deref() {
                    None | Some("HTTP") => Scheme::Http,
                    Some("HTTPS") => Scheme::Https,
                    Some(s) => return Err(format!("unknown scheme {s:?}")),
                },
                headers: h
                    .http_headers
                    .iter()
                    .map(|x| (x.name.clone(), x.value.clone()))
                    .collect(),
            }))
        } else if let Some(t) = &p.tcp_socket {
            HealthTest::Net(NetProbe::TcpSocket(TcpSocket {
                host: t.host.clone(),
                port: port(&t.port, c)?,
            }))
        } else if let Some(g) = &p.grpc {
            HealthTest::Net(NetProbe::Grpc(GrpcCheck {
                port: port(&IntOrString::Int(g.port), c)?,
                service: g.service.clone().filter(|s| !s.is_empty()),
            }))
        } else {
            unreachable!("one handler was counted")
        };
        let success_threshold = p.success_threshold.unwrap_or(1).max(1) as u32;
        if kind != ProbeKind::Readiness && success_threshold != 1 {
            return Err("successThreshold must be 1 for liveness and startup probes".into());
        }
        Ok(ProbeSpec {
            kind,
            test,
            initial_delay: secs(p.initial_delay_seconds, 0),
            period: secs(p.period_seconds, 10).max(Duration::from_secs(1)),
            timeout: secs(p.timeout_seconds, 1).max(Duration::from_secs(1)),
            success_threshold,
            failure_threshold: p.failure_threshold.unwrap_or(3).max(1) as u32,
        })
    }
}

/// What a probe's results add up to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ProbeState {
    pub successes: u32,
    pub failures: u32,
    /// Passed (startup, readiness) or not yet failed (liveness).
    pub ok: bool,
}

impl ProbeState {
    pub fn initial(kind: ProbeKind) -> ProbeState {
        ProbeState {
            ok: kind == ProbeKind::Liveness,
            ..Default::default()
        }
    }

    /// One more result; whether `ok` changed.
    pub fn record(&mut self, passed: bool, spec: &ProbeSpec) -> bool {
        let before = self.ok;
        if passed {
            self.successes += 1;
            self.failures = 0;
            if self.successes >= spec.success_threshold {
                self.ok = true;
            }
        } else {
            self.failures += 1;
            self.successes = 0;
            if self.failures >= spec.failure_threshold {
                self.ok = false;
            }
        }
        before != self.ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kube::api::pod::{ContainerPort, ExecAction, HttpGetAction};

    fn container() -> Container {
        Container {
            name: "web".into(),
            ports: vec![ContainerPort {
                container_port: 8080,
                name: Some("http".into()),
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    #[test]
    fn defaults_rules_and_named_ports() {
        let p = Probe {
            http_get: Some(HttpGetAction {
                path: None,
                port: IntOrString::String("http".into()),
                host: None,
                scheme: None,
                http_headers: vec![],
            }),
            ..Default::default()
        };
        let s = ProbeSpec::from_api(ProbeKind::Liveness, &p, &container()).unwrap();
        assert_eq!(
            (
                s.initial_delay,
                s.period,
                s.timeout,
                s.success_threshold,
                s.failure_threshold
            ),
            (
                Duration::ZERO,
                Duration::from_secs(10),
                Duration::from_secs(1),
                1,
                3
            )
        );
        assert_eq!(s.test.podman_form(), ["PROBE", "http://127.0.0.1:8080/"]);
        let mut bad = p.clone();
        bad.success_threshold = Some(2);
        assert!(ProbeSpec::from_api(ProbeKind::Liveness, &bad, &container()).is_err());
        assert!(ProbeSpec::from_api(ProbeKind::Readiness, &bad, &container()).is_ok());
        let mut none = p.clone();
        none.http_get = None;
        assert!(ProbeSpec::from_api(ProbeKind::Liveness, &none, &container()).is_err());
        let mut two = p.clone();
        two.exec = Some(ExecAction {
            command: vec!["true".into()],
        });
        assert!(ProbeSpec::from_api(ProbeKind::Liveness, &two, &container()).is_err());
        let mut unnamed = p;
        unnamed.http_get.as_mut().unwrap().port = IntOrString::String("grpc".into());
        assert!(ProbeSpec::from_api(ProbeKind::Liveness, &unnamed, &container()).is_err());
    }

    #[test]
    fn thresholds() {
        let p = Probe {
            exec: Some(ExecAction {
                command: vec!["true".into()],
            }),
            success_threshold: Some(2),
            failure_threshold: Some(2),
            ..Default::default()
        };
        let spec = ProbeSpec::from_api(ProbeKind::Readiness, &p, &container()).unwrap();
        let mut s = ProbeState::initial(ProbeKind::Readiness);
        assert!(!s.ok);
        assert!(!s.record(true, &spec));
        assert!(s.record(true, &spec) && s.ok);
        assert!(!s.record(false, &spec) && s.ok);
        assert!(s.record(false, &spec) && !s.ok);
        let live = ProbeState::initial(ProbeKind::Liveness);
        assert!(live.ok, "liveness counts as passing until it fails");
    }
}
