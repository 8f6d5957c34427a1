//! Manifests: YAML (or JSON) text with one or more documents, `---` separated, and
//! `List` objects flattened into their items.

use super::KubeError;
use serde::Deserialize;
use serde_json::Value;

/// The text of a manifest: a file, every .yaml/.yml/.json file of a directory (in
/// name order), standard input (`-`), or an http(s) URL.
pub fn read_source(src: &str) -> crate::Result<String> {
    if src == "-" {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)
            .map_err(|e| crate::Error::io("reading the manifest from standard input", e))?;
        return Ok(s);
    }
    if src.starts_with("http://") || src.starts_with("https://") {
        return ureq::get(src)
            .call()
            .map_err(|e| crate::Error::InvalidArgument(format!("fetching {src}: {e}")))?
            .into_string()
            .map_err(|e| crate::Error::io(format!("reading {src}"), e));
    }
    let path = std::path::Path::new(src);
    if path.is_dir() {
        let mut files: Vec<_> = std::fs::read_dir(path)
            .map_err(|e| crate::Error::io(format!("reading {src}"), e))?
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.extension()
                    .is_some_and(|x| x == "yaml" || x == "yml" || x == "json")
            })
            .collect();
        files.sort();
        let mut out = String::new();
        for f in files {
            out.push_str("\n---\n");
            out.push_str(
                &std::fs::read_to_string(&f)
                    .map_err(|e| crate::Error::io(format!("reading {}", f.display()), e))?,
            );
        }
        return Ok(out);
    }
    std::fs::read_to_string(path).map_err(|e| crate::Error::io(format!("reading {src}"), e))
}

/// `value` as YAML (`kube get -o yaml`).
pub fn to_yaml(value: &Value) -> Result<String, serde_norway::Error> {
    serde_norway::to_string(value)
}

/// Each object in `text`, in order; empty documents are skipped.
pub fn documents(text: &str) -> Result<Vec<Value>, KubeError> {
    let mut out = Vec::new();
    for (i, doc) in serde_norway::Deserializer::from_str(text).enumerate() {
        let v = Value::deserialize(doc).map_err(|e| KubeError::Yaml {
            document: i + 1,
            reason: e.to_string(),
        })?;
        flatten(v, i + 1, &mut out)?;
    }
    Ok(out)
}

fn flatten(v: Value, document: usize, out: &mut Vec<Value>) -> Result<(), KubeError> {
    match v {
        Value::Null => Ok(()),
        Value::Object(ref m) if m.get("kind").and_then(Value::as_str) == Some("List") => {
            let items = m
                .get("items")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            for item in items {
                flatten(item, document, out)?;
            }
            Ok(())
        }
        Value::Object(_) => {
            out.push(v);
            Ok(())
        }
        _ => Err(KubeError::Yaml {
            document,
            reason: "a document must be an object with apiVersion, kind and metadata".into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_lists_and_empty_ones() {
        let text = "---\napiVersion: v1\nkind: Pod\nmetadata: {name: a}\n---\n---\nkind: List\napiVersion: v1\nitems:\n- {apiVersion: v1, kind: Pod, metadata: {name: b}}\n- {apiVersion: v1, kind: Pod, metadata: {name: c}}\n";
        let names: Vec<String> = documents(text)
            .unwrap()
            .iter()
            .map(|d| d["metadata"]["name"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(names, ["a", "b", "c"]);
        assert!(matches!(
            documents("a: [1, 2\n"),
            Err(KubeError::Yaml { document: 1, .. })
        ));
        assert!(documents("- 1\n- 2\n").is_err());
        // JSON is YAML.
        assert_eq!(documents("{\"kind\": \"Pod\"}").unwrap().len(), 1);
    }
}
