//! A request's query string, decoded: `?all=1&filters=%7B…%7D`.

use std::collections::BTreeMap;

/// Every value of every key, in order: `t=a&t=b` names two tags.
#[derive(Debug, Default, Clone)]
pub struct Query(BTreeMap<String, Vec<String>>);

impl Query {
    pub fn parse(q: Option<&str>) -> Query {
        let mut m: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for pair in q.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            m.entry(decode(k)).or_default().push(decode(v));
        }
        Query(m)
    }

    /// The first value, as Go's `url.Values.Get`.
    pub fn get(&self, k: &str) -> Option<&str> {
        self.0.get(k).and_then(|v| v.first()).map(String::as_str)
    }

    /// Every value of a repeated key.
    pub fn all(&self, k: &str) -> Vec<&str> {
        self.0
            .get(k)
            .map(|v| v.iter().map(String::as_str).collect())
            .unwrap_or_default()
    }

    /// A JSON object of strings in one value (`buildargs`, `labels`); absent is empty.
    pub fn json_map(&self, k: &str) -> Result<BTreeMap<String, String>, String> {
        let Some(raw) = self.get(k).filter(|s| !s.is_empty()) else {
            return Ok(BTreeMap::new());
        };
        let v: BTreeMap<String, Option<String>> =
            serde_json::from_str(raw).map_err(|e| format!("invalid {k} {raw:?}: {e}"))?;
        Ok(v.into_iter()
            .map(|(k, v)| (k, v.unwrap_or_default()))
            .collect())
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
        let t = Query::parse(Some("t=a%3A1&t=b&buildargs=%7B%22X%22%3A%221%22%7D"));
        assert_eq!(t.all("t"), vec!["a:1", "b"]);
        assert_eq!(t.get("t"), Some("a:1"));
        assert_eq!(
            t.json_map("buildargs")
                .unwrap()
                .get("X")
                .map(String::as_str),
            Some("1")
        );
        assert!(t.json_map("nolabels").unwrap().is_empty());
        assert!(Query::parse(Some("labels=%5B1%5D"))
            .json_map("labels")
            .is_err());
    }
}
