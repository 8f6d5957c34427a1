//! httpGet as the kubelet makes it: a status from 200 to 399 passes, certificates are
//! not verified over HTTPS, redirects are followed, the User-Agent is kube-probe's.

use super::{HttpGet, Outcome, Scheme};
use std::time::Duration;

pub fn get(h: &HttpGet, timeout: Duration) -> Outcome {
    let host = h.host.as_deref().unwrap_or(super::LOOPBACK);
    let scheme = match h.scheme {
        Scheme::Http => "http",
        Scheme::Https => "https",
    };
    let url = format!("{scheme}://{host}:{}{}", h.port, h.path);
    let mut agent = ureq::AgentBuilder::new()
        .timeout(timeout)
        .redirects(10)
        .user_agent(&super::user_agent());
    if h.scheme == Scheme::Https {
        match native_tls::TlsConnector::builder()
            .danger_accept_invalid_certs(true)
            .danger_accept_invalid_hostnames(true)
            .build()
        {
            Ok(c) => agent = agent.tls_connector(std::sync::Arc::new(c)),
            Err(e) => return Outcome::fail(format!("TLS: {e}")),
        }
    }
    let mut req = agent.build().get(&url);
    for (k, v) in &h.headers {
        req = req.set(k, v);
    }
    match req.call() {
        Ok(r) if (200..400).contains(&r.status()) => Outcome::pass(format!(
            "HTTP probe succeeded with statuscode: {}",
            r.status()
        )),
        Ok(r) => Outcome::fail(format!("HTTP probe failed with statuscode: {}", r.status())),
        Err(ureq::Error::Status(code, _)) => {
            Outcome::fail(format!("HTTP probe failed with statuscode: {code}"))
        }
        Err(e) => Outcome::fail(format!("Get {url:?}: {e}")),
    }
}
