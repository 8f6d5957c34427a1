//! One registry's HTTP API: TLS as configured (system roots plus certs.d CAs, or no
//! verification and plain HTTP for insecure registries), the auth challenge (bearer
//! tokens fetched once per scope and kept for the command, or basic auth), and retries
//! with backoff on transient failures.

use super::auth::{self, Credentials};
use crate::error::{Error, Result};
use crate::registry::RegistryError;
use std::collections::HashMap;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const ATTEMPTS: u32 = 4;

#[derive(Debug, Clone, Default)]
pub struct ClientOptions {
    /// `--tls-verify`: None follows registries.conf.
    pub tls_verify: Option<bool>,
    /// registries.conf marks the registry insecure.
    pub insecure: bool,
    pub creds: Option<Credentials>,
    pub authfile: Option<PathBuf>,
    /// `--cert-dir`: CA certificates (`*.crt`) for this registry.
    pub cert_dir: Option<PathBuf>,
}

/// A request body that can be sent again on retry.
pub enum Body<'a> {
    Empty,
    Bytes(&'a [u8]),
    /// `len` bytes of a file from `offset`.
    File {
        path: &'a Path,
        offset: u64,
        len: u64,
    },
}

#[derive(Debug, Clone)]
enum Challenge {
    Basic,
    Bearer { realm: String, service: String },
}

#[derive(Default)]
struct AuthState {
    challenge: Option<Challenge>,
    /// Bearer tokens by scope list, for this command only.
    tokens: HashMap<String, String>,
}

pub struct Client {
    agent: ureq::Agent,
    pub host: String,
    base: String,
    creds: Option<Credentials>,
    auth: Mutex<AuthState>,
}

/// The CA certificate directories podman and docker read for `host`.
fn cert_dirs(host: &str, explicit: Option<&Path>) -> Vec<PathBuf> {
    if let Some(d) = explicit {
        return vec![d.to_path_buf()];
    }
    let mut dirs = Vec::new();
    if !nix::unistd::geteuid().is_root() {
        if let Some(home) = std::env::var_os("HOME") {
            dirs.push(
                Path::new(&home)
                    .join(".config/containers/certs.d")
                    .join(host),
            );
        }
    }
    dirs.push(Path::new("/etc/containers/certs.d").join(host));
    dirs.push(Path::new("/etc/docker/certs.d").join(host));
    dirs
}

fn tls_connector(
    host: &str,
    insecure: bool,
    cert_dir: Option<&Path>,
) -> Result<native_tls::TlsConnector> {
    let mut b = native_tls::TlsConnector::builder();
    for dir in cert_dirs(host, cert_dir) {
        for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let p = e.path();
            if p.extension().is_some_and(|x| x == "crt") {
                let pem = std::fs::read(&p)
                    .map_err(|e| Error::io(format!("reading {}", p.display()), e))?;
                let cert = native_tls::Certificate::from_pem(&pem).map_err(|e| {
                    Error::InvalidArgument(format!("{}: not a PEM certificate: {e}", p.display()))
                })?;
                b.add_root_certificate(cert);
            }
        }
    }
    if insecure {
        b.danger_accept_invalid_certs(true)
            .danger_accept_invalid_hostnames(true);
    }
    b.build().map_err(|e| {
        Error::Registry(RegistryError::Unreachable(format!(
            "setting up TLS for {host}: {e}"
        )))
    })
}

/// `key="value"` pairs of a WWW-Authenticate header after its scheme.
fn challenge_params(h: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let mut rest = h;
    while let Some(eq) = rest.find('=') {
        let key = rest[..eq]
            .trim()
            .trim_start_matches(',')
            .trim()
            .to_ascii_lowercase();
        let after = &rest[eq + 1..];
        let (value, next) = if let Some(q) = after.strip_prefix('"') {
            match q.find('"') {
                Some(end) => (&q[..end], &q[end + 1..]),
                None => (q, ""),
            }
        } else {
            match after.find(',') {
                Some(end) => (&after[..end], &after[end..]),
                None => (after, ""),
            }
        };
        out.insert(key, value.to_string());
        rest = next;
    }
    out
}

fn parse_challenge(h: &str) -> Option<Challenge> {
    let (scheme, params) = h.trim().split_once(' ').unwrap_or((h.trim(), ""));
    match scheme.to_ascii_lowercase().as_str() {
        "basic" => Some(Challenge::Basic),
        "bearer" => {
            let p = challenge_params(params);
            Some(Challenge::Bearer {
                realm: p.get("realm")?.clone(),
                service: p.get("service").cloned().unwrap_or_default(),
            })
        }
        _ => None,
    }
}

fn transient(code: u16) -> bool {
    code >= 500 || code == 429 || code == 408
}

fn backoff(attempt: u32) {
    std::thread::sleep(Duration::from_millis(200u64 << attempt.min(4)));
}

/// The registry's own words from an error body, when it sent any.
fn error_text(r: ureq::Response) -> String {
    let body = r.into_string().unwrap_or_default();
    serde_json::from_str::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| {
            let e = v.get("errors")?.get(0)?.clone();
            Some(format!(
                "{}: {}",
                e.get("code")?.as_str()?,
                e.get("message").and_then(|m| m.as_str()).unwrap_or("")
            ))
        })
        .unwrap_or_else(|| {
            body.lines()
                .next()
                .unwrap_or("")
                .chars()
                .take(200)
                .collect()
        })
}

impl Client {
    /// Connects to `host`, learning its scheme and how it wants to be authenticated.
    pub fn new(host: &str, opts: &ClientOptions) -> Result<Client> {
        let insecure = match opts.tls_verify {
            Some(v) => !v,
            None => opts.insecure,
        };
        let tls = tls_connector(host, insecure, opts.cert_dir.as_deref())?;
        let agent = ureq::AgentBuilder::new()
            .tls_connector(Arc::new(tls))
            .timeout_connect(Duration::from_secs(15))
            .timeout_read(Duration::from_secs(120))
            .user_agent(&format!("skiff/{}", crate::VERSION))
            .build();
        let creds = opts
            .creds
            .clone()
            .or_else(|| auth::lookup(host, opts.authfile.as_deref()));
        let mut client = Client {
            agent,
            host: host.to_string(),
            base: format!("https://{host}"),
            creds,
            auth: Mutex::new(AuthState::default()),
        };
        match client.ping() {
            Ok(()) => Ok(client),
            Err(e) if insecure => {
                client.base = format!("http://{host}");
                client.ping().map_err(|_| e)?;
                Ok(client)
            }
            Err(e) => Err(e),
        }
    }

    /// A client for one endpoint of registries.conf, insecure when it says so.
    pub fn for_endpoint(
        ep: &super::config::Endpoint,
        conf: &super::config::RegistriesConf,
        opts: &ClientOptions,
    ) -> Result<Client> {
        let opts = ClientOptions {
            insecure: opts.insecure || ep.insecure || conf.is_insecure(&ep.host),
            ..opts.clone()
        };
        Client::new(&ep.host, &opts)
    }

    fn ping(&self) -> Result<()> {
        let url = format!("{}/v2/", self.base);
        for attempt in 0..ATTEMPTS {
            match self.agent.get(&url).call() {
                Ok(_) => return Ok(()),
                Err(ureq::Error::Status(401, r)) => {
                    self.learn(&r);
                    return Ok(());
                }
                Err(ureq::Error::Status(code, _)) if transient(code) && attempt + 1 < ATTEMPTS => {
                    backoff(attempt)
                }
                Err(ureq::Error::Status(code, r)) => {
                    return Err(Error::Registry(RegistryError::Refused(format!(
                        "{url}: {code} {}",
                        error_text(r)
                    ))))
                }
                Err(ureq::Error::Transport(t)) => {
                    if attempt + 1 >= ATTEMPTS || self.base.starts_with("https") {
                        return Err(Error::Registry(RegistryError::Unreachable(format!(
                            "pinging {}: {t}",
                            self.host
                        ))));
                    }
                    backoff(attempt)
                }
            }
        }
        Err(Error::Registry(RegistryError::Unreachable(format!(
            "pinging {}: no answer",
            self.host
        ))))
    }

    fn learn(&self, r: &ureq::Response) {
        if let Some(c) = r.header("www-authenticate").and_then(parse_challenge) {
            self.auth.lock().expect("auth state").challenge = Some(c);
        }
    }

    /// Checks the credentials work: a token can be had, or /v2/ answers with them.
    pub fn check_login(&self) -> Result<()> {
        let r = self.call("GET", "/v2/", &[], &[], Body::Empty)?;
        drop(r);
        Ok(())
    }

    fn authorization(&self, scopes: &[String], refresh: bool) -> Result<Option<String>> {
        let challenge = self.auth.lock().expect("auth state").challenge.clone();
        match challenge {
            None => Ok(None),
            Some(Challenge::Basic) => match &self.creds {
                Some(c) => Ok(Some(c.basic_header())),
                None => Err(Error::Registry(RegistryError::Unauthorized(format!(
                    "{} wants credentials: use skiff login or --creds",
                    self.host
                )))),
            },
            Some(Challenge::Bearer { realm, service }) => {
                let key = scopes.join(" ");
                if !refresh {
                    if let Some(t) = self.auth.lock().expect("auth state").tokens.get(&key) {
                        return Ok(Some(format!("Bearer {t}")));
                    }
                }
                let token = self.fetch_token(&realm, &service, scopes)?;
                self.auth
                    .lock()
                    .expect("auth state")
                    .tokens
                    .insert(key, token.clone());
                Ok(Some(format!("Bearer {token}")))
            }
        }
    }

    fn fetch_token(&self, realm: &str, service: &str, scopes: &[String]) -> Result<String> {
        let mut req = self.agent.get(realm);
        if !service.is_empty() {
            req = req.query("service", service);
        }
        for s in scopes {
            req = req.query("scope", s);
        }
        if let Some(c) = &self.creds {
            req = req.set("Authorization", &c.basic_header());
        }
        let resp = match req.call() {
            Ok(r) => r,
            Err(ureq::Error::Status(401 | 403, _)) => {
                return Err(Error::Registry(RegistryError::Unauthorized(format!(
                    "{}: the token service refused the credentials",
                    self.host
                ))))
            }
            Err(e) => {
                return Err(Error::Registry(RegistryError::Unreachable(format!(
                    "fetching a token from {realm}: {e}"
                ))))
            }
        };
        let v: serde_json::Value = resp.into_json().map_err(|e| {
            Error::Registry(RegistryError::Malformed(format!(
                "reading the token from {realm}: {e}"
            )))
        })?;
        v.get("token")
            .or_else(|| v.get("access_token"))
            .and_then(|t| t.as_str())
            .map(String::from)
            .ok_or_else(|| {
                Error::Registry(RegistryError::Malformed(format!("{realm} sent no token")))
            })
    }

    pub fn url(&self, path: &str) -> String {
        if path.starts_with("http://") || path.starts_with("https://") {
            path.to_string()
        } else {
            format!("{}{path}", self.base)
        }
    }

    /// Sends a request with authentication, retrying transient failures. Status
    /// codes of 400 and above are errors; 404 is `Error::Registry(RegistryError::NotFound)`.
    pub fn call(
        &self,
        method: &str,
        path: &str,
        scopes: &[String],
        headers: &[(&str, String)],
        body: Body,
    ) -> Result<ureq::Response> {
        let url = self.url(path);
        let mut refresh = false;
        let mut last = String::new();
        for attempt in 0..ATTEMPTS {
            let mut req = self.agent.request(method, &url);
            for (k, v) in headers {
                req = req.set(k, v);
            }
            if let Some(a) = self.authorization(scopes, refresh)? {
                req = req.set("Authorization", &a);
            }
            let sent = match &body {
                Body::Empty => req.call(),
                Body::Bytes(b) => req.send_bytes(b),
                Body::File { path, offset, len } => {
                    let mut f = std::fs::File::open(path)
                        .map_err(|e| Error::io(format!("opening {}", path.display()), e))?;
                    f.seek(SeekFrom::Start(*offset))
                        .map_err(|e| Error::io("seeking", e))?;
                    req.set("Content-Length", &len.to_string())
                        .send(f.take(*len))
                }
            };
            match sent {
                Ok(r) => return Ok(r),
                Err(ureq::Error::Status(401, r)) if !refresh => {
                    self.learn(&r);
                    refresh = true;
                }
                Err(ureq::Error::Status(401 | 403, r)) => {
                    return Err(Error::Registry(RegistryError::Unauthorized(format!(
                        "{method} {url}: {}",
                        error_text(r)
                    ))))
                }
                Err(ureq::Error::Status(404, r)) => {
                    return Err(Error::Registry(RegistryError::NotFound(format!(
                        "{url}: {}",
                        error_text(r)
                    ))))
                }
                Err(ureq::Error::Status(code, r)) if transient(code) => {
                    last = format!("{code} {}", error_text(r));
                    backoff(attempt);
                }
                Err(ureq::Error::Status(code, r)) => {
                    return Err(Error::Registry(RegistryError::Refused(format!(
                        "{method} {url}: {code} {}",
                        error_text(r)
                    ))))
                }
                Err(ureq::Error::Transport(t)) => {
                    last = t.to_string();
                    backoff(attempt);
                }
            }
        }
        Err(Error::Registry(RegistryError::Unreachable(format!(
            "{method} {url}: giving up after {ATTEMPTS} attempts: {last}"
        ))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_challenges() {
        match parse_challenge(
            r#"Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull""#,
        ) {
            Some(Challenge::Bearer { realm, service }) => {
                assert_eq!(realm, "https://auth.example/token");
                assert_eq!(service, "registry.example");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            parse_challenge("Basic realm=\"x\""),
            Some(Challenge::Basic)
        ));
        assert!(parse_challenge("Negotiate").is_none());
    }
}
