//! A request's query string, decoded: `?all=1&filters=%7B…%7D`.

use std::collections::BTreeMap;

#[derive(Debug, Default, Clone)]
pub struct Query(BTreeMap<String, String>);

impl Query {
    pub fn parse(q: Option<&str>) -> Query {
        let mut m = BTreeMap::new();
        for pair in q.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            m.insert(decode(k), decode(v));
        }
        Query(m)
    }

    pub fn get(&self, k: &str) -> Option<&str> {
        self.0.get(k).map(String::as_str)
    }

    /// docker's booleans: `1`, `true`, `True`; absent is false.
    pub fn flag(&self, k: &str) -> bool {
        matches!(self.get(k), Some("1" | "true" | "True"))
    }

    pub fn number<T: std::str::FromStr>(&self, k: &str) -> Option<T> {
        self.get(k).and_then(|v| v.parse().ok())
    }

    /// `filters={"status":["running"],"label":["a=b"]}` as `key=value` pairs; the
    /// older `{"status":{"running":true}}` form too.
    pub fn filters(&self) -> Result<Vec<String>, String> {
        let Some(raw) = self.get("filters").filter(|s| !s.is_empty()) else {
            return Ok(Vec::new());
        };
        let v: serde_json::Value =
            serde_json::from_str(raw).map_err(|e| format!("invalid filters {raw:?}: {e}"))?;
        let mut out = Vec::new();
        for (k, vals) in v.as_object().into_iter().flatten() {
            let items: Vec<String> = match vals {
                serde_json::Value::Array(a) => a
                    .iter()
                    .filter_map(|x| x.as_str().map(String::from))
                    .collect(),
                serde_json::Value::Object(o) => o.keys().cloned().collect(),
                _ => return Err(format!("invalid filter {k:?}")),
            };
            out.extend(items.into_iter().map(|i| format!("{k}={i}")));
        }
        Ok(out)
    }
}

/// Percent-decoding, with `+` as a space, as Go's url.ParseQuery reads it.
fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                match u8::from_str_radix(std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("zz"), 16)
                {
                    Ok(x) => {
                        out.push(x);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_as_go_reads_them() {
        let q = Query::parse(Some(
            "all=1&filters=%7B%22status%22%3A%5B%22running%22%5D%2C%22label%22%3A%7B%22a%3Db%22%3Atrue%7D%7D&name=x+y&bad=%zz",
        ));
        assert!(q.flag("all"));
        assert!(!q.flag("size"));
        assert_eq!(q.get("name"), Some("x y"));
        assert_eq!(q.get("bad"), Some("%zz"));
        let mut f = q.filters().unwrap();
        f.sort();
        assert_eq!(
            f,
            vec!["label=a=b".to_string(), "status=running".to_string()]
        );
        assert!(Query::parse(Some("filters=nope")).filters().is_err());
    }
}
