//! ConfigMaps and Secrets in the store: the API server's checks (key names, the
//! Secret types' required keys, immutability), how they are stored (a Secret's
//! stringData folded into base64 data; the Secret's file 0600), and how a Secret is
//! shown (values only when asked).

use super::api::config::required_keys;
use super::api::{ConfigMap, Kind, Secret};
use super::store::Object;
use base64::Engine;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// A data key as the API allows it: alphanumerics, '-', '_' and '.', at most 253.
fn check_key(field: &str, k: &str) -> Result<(), String> {
    let ok = !k.is_empty()
        && k.len() <= 253
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && k != "."
        && k != ".."
        && !k.starts_with("..");
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{field}[{k}]: Invalid value: {k:?}: a valid config key must consist of alphanumeric characters, '-', '_' or '.'"
        ))
    }
}

pub fn check_config_map(c: &ConfigMap) -> Result<(), String> {
    for k in c.data.keys() {
        check_key("data", k)?;
    }
    for (k, v) in &c.binary_data {
        check_key("binaryData", k)?;
        if c.data.contains_key(k) {
            return Err(format!(
                "data[{k}]: Invalid value: {k:?}: duplicate of key present in binaryData"
            ));
        }
        base64::engine::general_purpose::STANDARD
            .decode(v)
            .map_err(|_| format!("binaryData[{k}]: Invalid value: not base64"))?;
    }
    Ok(())
}

pub fn check_secret(s: &Secret) -> Result<(), String> {
    for (k, v) in &s.data {
        check_key("data", k)?;
        base64::engine::general_purpose::STANDARD
            .decode(v)
            .map_err(|_| format!("data[{k}]: Invalid value: not base64"))?;
    }
    for k in s.string_data.keys() {
        check_key("stringData", k)?;
    }
    let ty = s.type_.as_deref().unwrap_or("Opaque");
    let has = |k: &str| s.data.contains_key(k) || s.string_data.contains_key(k);
    for k in required_keys(ty) {
        if !has(k) {
            return Err(format!("data[{k}]: Required value"));
        }
    }
    if ty == "kubernetes.io/basic-auth" && !has("username") && !has("password") {
        return Err("data[username]: Required value".into());
    }
    Ok(())
}

/// What the store keeps of a ConfigMap (its fields other than metadata).
pub fn stored_config_map(c: &ConfigMap) -> Value {
    let mut v = json!({});
    if !c.data.is_empty() {
        v["data"] = json!(c.data);
    }
    if !c.binary_data.is_empty() {
        v["binaryData"] = json!(c.binary_data);
    }
    if let Some(i) = c.immutable {
        v["immutable"] = json!(i);
    }
    v
}

/// What the store keeps of a Secret: stringData folded into data, as the API server does.
pub fn stored_secret(s: &Secret) -> Value {
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut data: BTreeMap<String, String> = s.data.clone();
    for (k, v) in &s.string_data {
        data.insert(k.clone(), b64.encode(v));
    }
    let mut v = json!({"type": s.type_.as_deref().unwrap_or("Opaque")});
    if !data.is_empty() {
        v["data"] = json!(data);
    }
    if let Some(i) = s.immutable {
        v["immutable"] = json!(i);
    }
    v
}

/// The API server's refusal to change an immutable ConfigMap's or Secret's data.
pub fn check_immutable(old: &Object, new: &Object) -> Result<(), String> {
    if old.spec["immutable"] != true {
        return Ok(());
    }
    for field in ["data", "binaryData", "type"] {
        if old.spec[field] != new.spec[field] {
            return Err(format!(
                "{field}: Forbidden: field is immutable when `immutable` is set"
            ));
        }
    }
    if new.spec["immutable"] != true {
        return Err("immutable: Forbidden: field is immutable when `immutable` is set".into());
    }
    Ok(())
}

/// Whether the kind keeps its fields at the top level rather than under spec.
pub fn is_config(kind: Kind) -> bool {
    matches!(kind, Kind::ConfigMap | Kind::Secret)
}

/// A Secret as shown without `--show-secrets`: its keys, each value replaced.
pub fn redact(api: &mut Value) {
    if let Some(data) = api.get_mut("data").and_then(Value::as_object_mut) {
        let keys: Vec<String> = data.keys().cloned().collect();
        let mut hidden = Map::new();
        for k in keys {
            hidden.insert(k, json!("<hidden: kube get --show-secrets shows it>"));
        }
        *data = hidden;
    }
}

/// `DATA`: how many keys.
pub fn data_count(o: &Object) -> usize {
    ["data", "binaryData"]
        .iter()
        .map(|f| o.spec[*f].as_object().map_or(0, Map::len))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_types_are_checked_as_the_api_server_does() {
        let mut c = ConfigMap::default();
        c.data.insert("good.key-1_x".into(), "v".into());
        assert!(check_config_map(&c).is_ok());
        c.data.insert("bad key".into(), "v".into());
        let e = check_config_map(&c).unwrap_err();
        assert!(e.starts_with("data[bad key]: Invalid value"), "{e}");

        let mut s = Secret {
            type_: Some("kubernetes.io/tls".into()),
            ..Default::default()
        };
        s.string_data.insert("tls.crt".into(), "c".into());
        assert_eq!(
            check_secret(&s).unwrap_err(),
            "data[tls.key]: Required value"
        );
        s.string_data.insert("tls.key".into(), "k".into());
        assert!(check_secret(&s).is_ok());
        let mut bad = Secret::default();
        bad.data.insert("x".into(), "***".into());
        assert!(check_secret(&bad).unwrap_err().contains("not base64"));
    }

    #[test]
    fn string_data_is_stored_as_base64_data() {
        let mut s = Secret::default();
        s.data.insert("a".into(), "b2xk".into());
        s.string_data.insert("a".into(), "new".into());
        s.string_data.insert("b".into(), "two".into());
        let v = stored_secret(&s);
        assert_eq!(v["type"], "Opaque");
        assert_eq!(v["data"]["a"], "bmV3");
        assert_eq!(v["data"]["b"], "dHdv");
        let mut api = json!({"data": v["data"].clone()});
        redact(&mut api);
        assert!(!api.to_string().contains("bmV3"));
        assert!(api["data"]["a"].is_string());
    }
}
