//! Instructions that change only the image's configuration, applied to the config's
//! JSON (`config` of the image configuration), after expansion.

use super::expand::{self, Vars};
use super::instruction::{Command, Health};
use serde_json::{json, Map, Value};

pub const DEFAULT_SHELL: [&str; 2] = ["/bin/sh", "-c"];

/// The SHELL in effect.
pub fn shell(cfg: &Map<String, Value>) -> Vec<String> {
    cfg.get("Shell")
        .and_then(|s| serde_json::from_value::<Vec<String>>(s.clone()).ok())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| DEFAULT_SHELL.iter().map(|s| s.to_string()).collect())
}

/// A command as the image records it: the shell form runs through the SHELL.
pub fn argv(cfg: &Map<String, Value>, c: &Command) -> Vec<String> {
    match c {
        Command::Exec(v) => v.clone(),
        Command::Shell(s) => {
            let mut v = shell(cfg);
            v.push(s.clone());
            v
        }
    }
}

pub fn env_list(cfg: &Map<String, Value>) -> Vec<String> {
    cfg.get("Env")
        .and_then(|e| serde_json::from_value::<Vec<String>>(e.clone()).ok())
        .unwrap_or_default()
}

/// The image's Env as variables for expansion.
pub fn env_vars(cfg: &Map<String, Value>) -> Vars {
    env_list(cfg)
        .into_iter()
        .filter_map(|e| {
            e.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
        })
        .collect()
}

pub fn set_env(cfg: &mut Map<String, Value>, key: &str, value: &str) {
    let mut env = env_list(cfg);
    env.retain(|e| e.split('=').next() != Some(key));
    env.push(format!("{key}={value}"));
    cfg.insert("Env".into(), json!(env));
}

fn object<'a>(cfg: &'a mut Map<String, Value>, key: &str) -> &'a mut Map<String, Value> {
    if !cfg.get(key).is_some_and(Value::is_object) {
        cfg.insert(key.into(), json!({}));
    }
    cfg.get_mut(key).and_then(Value::as_object_mut).unwrap()
}

pub fn add_label(cfg: &mut Map<String, Value>, key: &str, value: &str) {
    object(cfg, "Labels").insert(key.into(), json!(value));
}

/// EXPOSE's words: `80`, `80/tcp`, `53/udp`, `8000-8002/tcp`.
pub fn expose(
    cfg: &mut Map<String, Value>,
    spec: &str,
    vars: &Vars,
    escape: char,
) -> Result<Vec<String>, String> {
    let mut added = Vec::new();
    for w in expand::words(spec, vars, escape)? {
        let (ports, proto) = w.split_once('/').unwrap_or((&w, "tcp"));
        let proto = proto.to_ascii_lowercase();
        if !matches!(proto.as_str(), "tcp" | "udp" | "sctp") {
            return Err(format!("invalid protocol in EXPOSE {w:?}"));
        }
        let (lo, hi) = ports.split_once('-').unwrap_or((ports, ports));
        let (lo, hi): (u16, u16) = match (lo.parse(), hi.parse()) {
            (Ok(a), Ok(b)) if a > 0 && a <= b => (a, b),
            _ => return Err(format!("invalid port in EXPOSE {w:?}")),
        };
        for p in lo..=hi {
            let key = format!("{p}/{proto}");
            object(cfg, "ExposedPorts").insert(key.clone(), json!({}));
            added.push(key);
        }
    }
    Ok(added)
}

pub fn add_volume(cfg: &mut Map<String, Value>, path: &str) {
    object(cfg, "Volumes").insert(path.into(), json!({}));
}

/// "1m30s", "500ms", "2h" as nanoseconds.
pub fn duration_ns(s: &str) -> Result<i64, String> {
    let bad = || format!("invalid duration {s:?}");
    let mut total: f64 = 0.0;
    let mut rest = s.trim();
    if rest.is_empty() {
        return Err(bad());
    }
    while !rest.is_empty() {
        let num_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(bad)?;
        let n: f64 = rest[..num_end].parse().map_err(|_| bad())?;
        rest = &rest[num_end..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_end] {
            "ns" => 1.0,
            "us" | "µs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return Err(bad()),
        };
        total += n * scale;
        rest = &rest[unit_end..];
    }
    Ok(total as i64)
}

pub fn healthcheck(cfg: &mut Map<String, Value>, h: Option<&Health>) -> Result<(), String> {
    let Some(h) = h else {
        cfg.insert("Healthcheck".into(), json!({"Test": ["NONE"]}));
        return Ok(());
    };
    let mut v = Map::new();
    v.insert("Test".into(), json!(h.test));
    for (key, val) in [
        ("Interval", &h.interval),
        ("Timeout", &h.timeout),
        ("StartPeriod", &h.start_period),
        ("StartInterval", &h.start_interval),
    ] {
        if let Some(d) = val {
            v.insert(key.into(), json!(duration_ns(d)?));
        }
    }
    if let Some(r) = &h.retries {
        let n: i64 = r.parse().map_err(|_| format!("invalid --retries {r:?}"))?;
        v.insert("Retries".into(), json!(n));
    }
    cfg.insert("Healthcheck".into(), Value::Object(v));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_ports() {
        assert_eq!(duration_ns("1m30s").unwrap(), 90_000_000_000);
        assert_eq!(duration_ns("500ms").unwrap(), 500_000_000);
        assert!(duration_ns("5x").is_err());
        let mut cfg = Map::new();
        let added = expose(&mut cfg, "80 53/udp 8000-8001", &Vars::new(), '\\').unwrap();
        assert_eq!(added, vec!["80/tcp", "53/udp", "8000/tcp", "8001/tcp"]);
        assert!(expose(&mut cfg, "http", &Vars::new(), '\\').is_err());
    }
}
