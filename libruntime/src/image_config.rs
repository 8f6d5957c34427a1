//! The `config` part of an image config, edited by Dockerfile-style instructions
//! (`import --change`, `commit --change`, and later `build`).

use crate::container::ContainerError;
use crate::error::{Error, Result};
use serde_json::{json, Map, Value};

/// Applies one `INSTRUCTION value` (or `INSTRUCTION=value`) to `cfg`, the object that
/// sits under "config" in an image config.
pub fn apply_change(cfg: &mut Map<String, Value>, change: &str) -> Result<()> {
    let bad = |why: &str| {
        Error::Container(ContainerError::InvalidChange(
            change.to_string(),
            why.to_string(),
        ))
    };
    let split = change
        .find([' ', '='])
        .ok_or_else(|| bad("want INSTRUCTION VALUE"))?;
    let (word, value) = (
        change[..split].to_ascii_uppercase(),
        change[split + 1..].trim(),
    );
    match word.as_str() {
        "CMD" => {
            cfg.insert("Cmd".into(), command_form(value));
        }
        "ENTRYPOINT" => {
            cfg.insert("Entrypoint".into(), command_form(value));
        }
        "ENV" => {
            let pairs = key_values(value).ok_or_else(|| bad("want ENV KEY=VALUE"))?;
            let env = cfg.entry("Env").or_insert_with(|| json!([])).as_array_mut().ok_or_else(|| bad("Env is not a list"))?;
            for (k, v) in pairs {
                env.retain(|e| e.as_str().and_then(|s| s.split_once('=')).is_none_or(|(ek, _)| ek != k));
                env.push(json!(format!("{k}={v}")));
            }
        }
        "LABEL" => {
            let pairs = key_values(value).ok_or_else(|| bad("want LABEL KEY=VALUE"))?;
            let labels = cfg.entry("Labels").or_insert_with(|| json!({}));
            if labels.is_null() {
                *labels = json!({});
            }
            for (k, v) in pairs {
                labels[k] = json!(v);
            }
        }
        "WORKDIR" => {
            if value.is_empty() {
                return Err(bad("WORKDIR needs a path"));
            }
            cfg.insert("WorkingDir".into(), json!(value));
        }
        "USER" => {
            cfg.insert("User".into(), json!(value));
        }
        "STOPSIGNAL" => {
            cfg.insert("StopSignal".into(), json!(value));
        }
        "EXPOSE" => {
            let ports = cfg.entry("ExposedPorts").or_insert_with(|| json!({}));
            for p in value.split_whitespace() {
                let p = if p.contains('/') { p.to_string() } else { format!("{p}/tcp") };
                let num = p.split('/').next().unwrap_or("");
                if num.parse::<u16>().is_err() {
                    return Err(bad("EXPOSE wants PORT[/tcp|/udp]"));
                }
                ports[p] = json!({});
            }
        }
        "VOLUME" => {
            let vols = cfg.entry("Volumes").or_insert_with(|| json!({}));
            for v in list_or_words(value) {
                vols[v] = json!({});
            }
        }
        "ONBUILD" => {
            if let Some(a) = cfg.entry("OnBuild").or_insert_with(|| json!([])).as_array_mut() {
                a.push(json!(value));
            }
        }
        _ => return Err(bad("unknown instruction (want CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD, STOPSIGNAL, USER, VOLUME or WORKDIR)")),
    }
    Ok(())
}

/// Exec form (`["a","b"]`) as is; anything else is run by `/bin/sh -c`.
fn command_form(value: &str) -> Value {
    if let Ok(Value::Array(a)) = serde_json::from_str::<Value>(value) {
        if a.iter().all(|v| v.is_string()) {
            return Value::Array(a);
        }
    }
    json!(["/bin/sh", "-c", value])
}

fn list_or_words(value: &str) -> Vec<String> {
    match serde_json::from_str::<Vec<String>>(value) {
        Ok(v) => v,
        Err(_) => value.split_whitespace().map(String::from).collect(),
    }
}

/// `K=V K2="V 2"` or the legacy `K V`.
fn key_values(value: &str) -> Option<Vec<(String, String)>> {
    if !value.contains('=') {
        let (k, v) = value.split_once(' ')?;
        return Some(vec![(k.to_string(), v.trim().to_string())]);
    }
    let mut out = Vec::new();
    let mut chars = value.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.peek().is_none() {
            break;
        }
        let key: String = chars.by_ref().take_while(|&c| c != '=').collect();
        let mut val = String::new();
        let mut quote = None;
        while let Some(&c) = chars.peek() {
            match (quote, c) {
                (None, '"' | '\'') => quote = Some(c),
                (Some(q), c) if c == q => quote = None,
                (None, c) if c.is_whitespace() => break,
                (_, '\\') => {
                    chars.next();
                    if let Some(n) = chars.peek() {
                        val.push(*n);
                    }
                }
                _ => val.push(c),
            }
            chars.next();
        }
        if key.is_empty() {
            return None;
        }
        out.push((key, val));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn applies_changes() {
        let mut cfg = Map::new();
        apply_change(&mut cfg, "CMD=sh").unwrap();
        apply_change(&mut cfg, r#"ENTRYPOINT ["/bin/echo","hi"]"#).unwrap();
        apply_change(&mut cfg, "ENV A=1 B=\"two words\"").unwrap();
        apply_change(&mut cfg, "ENV A=3").unwrap();
        apply_change(&mut cfg, "EXPOSE 80 53/udp").unwrap();
        apply_change(&mut cfg, "LABEL x=y").unwrap();
        apply_change(&mut cfg, "WORKDIR /srv").unwrap();
        let v = Value::Object(cfg);
        assert_eq!(v["Cmd"], json!(["/bin/sh", "-c", "sh"]));
        assert_eq!(v["Entrypoint"], json!(["/bin/echo", "hi"]));
        assert_eq!(v["Env"], json!(["B=two words", "A=3"]));
        assert!(v["ExposedPorts"].get("53/udp").is_some());
        assert_eq!(v["Labels"]["x"], "y");
        assert_eq!(v["WorkingDir"], "/srv");
        let mut cfg = Map::new();
        assert!(apply_change(&mut cfg, "FROB x").is_err());
        assert!(apply_change(&mut cfg, "EXPOSE abc").is_err());
    }
}
