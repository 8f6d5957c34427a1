//! A small subset of Go's text/template, enough for podman-style `--format`:
//! `{{.Field}}`, `{{.A.B}}`, `{{json .}}`, `{{json .X}}`, `{{upper .X}}`, `{{lower .X}}`,
//! `{{join .X ","}}`, `{{index .X "key"}}`, `{{.X | json}}`, and a leading `table`.

use anyhow::{bail, Result};
use serde_json::Value;

#[derive(Debug, Clone)]
enum Arg {
    Field(Vec<String>),
    Str(String),
    /// `(func args…).Field.Path`: a parenthesised call, then fields of its result.
    Paren {
        func: Option<String>,
        args: Vec<Arg>,
        path: Vec<String>,
    },
}

#[derive(Debug, Clone)]
enum Segment {
    Text(String),
    Action {
        func: Option<String>,
        args: Vec<Arg>,
    },
}

#[derive(Debug, Clone)]
pub struct Template {
    segments: Vec<Segment>,
    /// `table …` formats print a header row and align columns.
    pub table: bool,
}

impl Template {
    pub fn parse(format: &str) -> Result<Template> {
        let (table, body) = match format.strip_prefix("table") {
            Some(rest) => (true, rest.trim_start()),
            None => (false, format),
        };
        let body = body.replace("\\t", "\t").replace("\\n", "\n");
        let mut segments = Vec::new();
        let mut rest = body.as_str();
        while let Some(start) = rest.find("{{") {
            if start > 0 {
                segments.push(Segment::Text(rest[..start].to_string()));
            }
            let end = rest[start..]
                .find("}}")
                .ok_or_else(|| anyhow::anyhow!("template: unclosed action in {format:?}"))?;
            let action = rest[start + 2..start + end]
                .trim()
                .trim_start_matches('-')
                .trim_end_matches('-')
                .trim();
            segments.push(parse_action(action)?);
            rest = &rest[start + end + 2..];
        }
        if !rest.is_empty() {
            segments.push(Segment::Text(rest.to_string()));
        }
        Ok(Template { segments, table })
    }

    pub fn render(&self, data: &Value) -> Result<String> {
        let mut out = String::new();
        for s in &self.segments {
            match s {
                Segment::Text(t) => out.push_str(t),
                Segment::Action { func, args } => out.push_str(&call(func.as_deref(), args, data)?),
            }
        }
        Ok(out)
    }

    /// The header row for a `table` format: each field's header from `names`, or the
    /// field name in capitals.
    pub fn header(&self, names: &[(&str, &str)]) -> String {
        let mut out = String::new();
        for s in &self.segments {
            match s {
                Segment::Text(t) => out.push_str(t),
                Segment::Action { args, .. } => {
                    let field = args.iter().find_map(|a| match a {
                        Arg::Field(p) | Arg::Paren { path: p, .. } => p.last().cloned(),
                        Arg::Str(_) => None,
                    });
                    let f = field.unwrap_or_default();
                    let h = names
                        .iter()
                        .find(|(k, _)| *k == f)
                        .map(|(_, v)| v.to_string())
                        .unwrap_or_else(|| f.to_uppercase());
                    out.push_str(&h);
                }
            }
        }
        out
    }
}

fn parse_action(action: &str) -> Result<Segment> {
    // `.X | json` is `json .X`.
    if let Some((lhs, rhs)) = action.split_once('|') {
        let mut seg = parse_action(lhs.trim())?;
        if let Segment::Action { func, .. } = &mut seg {
            *func = Some(rhs.trim().to_string());
        }
        return Ok(seg);
    }
    let words = split_words(action)?;
    let Some(first) = words.first() else {
        bail!("template: empty action")
    };
    let (func, arg_words) = if first.starts_with('.') || first.starts_with('(') {
        (None, &words[..])
    } else {
        (Some(first.clone()), &words[1..])
    };
    if let Some(f) = &func {
        if !matches!(
            f.as_str(),
            "json" | "upper" | "lower" | "join" | "index" | "title" | "len"
        ) {
            bail!("template: function {f:?} not defined");
        }
    }
    let args = arg_words
        .iter()
        .map(|w| {
            if let Some(s) = w.strip_prefix('"') {
                Ok(Arg::Str(s.trim_end_matches('"').to_string()))
            } else if w.starts_with('(') {
                parse_paren(w)
            } else if w == "." {
                Ok(Arg::Field(vec![]))
            } else if let Some(p) = w.strip_prefix('.') {
                Ok(Arg::Field(p.split('.').map(String::from).collect()))
            } else {
                bail!("template: unexpected {w:?} in action")
            }
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Segment::Action { func, args })
}

/// `(index .X "k").Y.Z`: the inner call, then the field path after the parenthesis.
fn parse_paren(w: &str) -> Result<Arg> {
    let close =
        matching_paren(w).ok_or_else(|| anyhow::anyhow!("template: unclosed ( in {w:?}"))?;
    let Segment::Action { func, args } = parse_action(w[1..close].trim())? else {
        bail!("template: empty ( ) in {w:?}");
    };
    let suffix = &w[close + 1..];
    let path = match suffix.strip_prefix('.') {
        Some(p) => p.split('.').map(String::from).collect(),
        None if suffix.is_empty() => vec![],
        None => bail!("template: unexpected {suffix:?} after ( )"),
    };
    Ok(Arg::Paren { func, args, path })
}

/// The index of the `)` closing the `(` at the start of `w`, skipping quoted text.
fn matching_paren(w: &str) -> Option<usize> {
    let mut depth = 0;
    let mut quoted = false;
    for (i, c) in w.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

fn split_words(s: &str) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '"' {
            chars.next();
            let w: String = chars.by_ref().take_while(|&c| c != '"').collect();
            out.push(format!("\"{w}\""));
        } else if c == '(' {
            // One word: the parenthesised call and the field path after it.
            let mut w = String::new();
            let (mut depth, mut quoted) = (0, false);
            while let Some(&c) = chars.peek() {
                if depth == 0 && !w.is_empty() && c.is_whitespace() {
                    break;
                }
                match c {
                    '"' => quoted = !quoted,
                    '(' if !quoted => depth += 1,
                    ')' if !quoted => depth -= 1,
                    _ => {}
                }
                w.push(c);
                chars.next();
            }
            out.push(w);
        } else {
            let mut w = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() {
                    break;
                }
                w.push(c);
                chars.next();
            }
            out.push(w);
        }
    }
    Ok(out)
}

fn lookup<'a>(data: &'a Value, path: &[String]) -> Result<&'a Value> {
    let mut v = data;
    for p in path {
        // Go templates name struct fields (`.Store.GraphDriverName`) where the JSON has
        // lower-camel keys (`store.graphDriverName`), as podman's info does.
        let found = v.get(p).or_else(|| {
            v.as_object()?
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(p))
                .map(|(_, x)| x)
        });
        v = match found {
            Some(x) => x,
            None if v.is_object() || v.is_null() => &Value::Null,
            None => bail!("template: can't evaluate field {p}"),
        };
    }
    Ok(v)
}

fn eval(a: &Arg, data: &Value) -> Result<Value> {
    match a {
        Arg::Field(p) => lookup(data, p).cloned(),
        Arg::Str(s) => Ok(Value::String(s.clone())),
        Arg::Paren { func, args, path } => {
            let v = call_value(func.as_deref(), args, data)?;
            lookup(&v, path).cloned()
        }
    }
}

fn call(func: Option<&str>, args: &[Arg], data: &Value) -> Result<String> {
    Ok(go_string(&call_value(func, args, data)?))
}

/// A call's result as a value, so that a parenthesised call can be looked into.
fn call_value(func: Option<&str>, args: &[Arg], data: &Value) -> Result<Value> {
    let vals = args
        .iter()
        .map(|a| eval(a, data))
        .collect::<Result<Vec<_>>>()?;
    let first = vals.first().cloned().unwrap_or(Value::Null);
    let text = |s: String| Value::String(s);
    Ok(match func {
        None => first,
        Some("json") => text(serde_json::to_string(&first)?),
        Some("upper") => text(go_string(&first).to_uppercase()),
        Some("lower") => text(go_string(&first).to_lowercase()),
        Some("title") => {
            let s = go_string(&first);
            let mut c = s.chars();
            text(
                c.next()
                    .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                    .unwrap_or_default(),
            )
        }
        Some("len") => text(match &first {
            Value::Array(a) => a.len().to_string(),
            Value::Object(o) => o.len().to_string(),
            v => go_string(v).len().to_string(),
        }),
        Some("join") => {
            let sep = vals.get(1).map(go_string).unwrap_or_default();
            text(match &first {
                Value::Array(a) => a.iter().map(go_string).collect::<Vec<_>>().join(&sep),
                v => go_string(v),
            })
        }
        Some("index") => {
            let key = vals.get(1).cloned().unwrap_or(Value::Null);
            match (&first, &key) {
                (Value::Object(o), Value::String(k)) => o.get(k).cloned().unwrap_or(Value::Null),
                (Value::Array(a), Value::String(k)) => k
                    .parse::<usize>()
                    .ok()
                    .and_then(|i| a.get(i).cloned())
                    .unwrap_or(Value::Null),
                (Value::Array(a), Value::Number(n)) => n
                    .as_u64()
                    .and_then(|i| a.get(i as usize).cloned())
                    .unwrap_or(Value::Null),
                _ => Value::Null,
            }
        }
        Some(f) => bail!("template: function {f:?} not defined"),
    })
}

/// How Go's fmt prints a value: strings bare, lists `[a b]`, maps `map[k:v]`.
pub fn go_string(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Array(a) => format!(
            "[{}]",
            a.iter().map(go_string).collect::<Vec<_>>().join(" ")
        ),
        Value::Object(o) => {
            let mut keys: Vec<_> = o.keys().collect();
            keys.sort();
            let inner: Vec<String> = keys
                .iter()
                .map(|k| format!("{k}:{}", go_string(&o[*k])))
                .collect();
            format!("map[{}]", inner.join(" "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn renders_fields_and_functions() {
        let d = json!({"ID": "abc", "Names": ["a", "b"], "Labels": {"k": "v"}, "S": {"T": 1}});
        let r = |f: &str| Template::parse(f).unwrap().render(&d).unwrap();
        assert_eq!(r("{{.ID}}\\t{{.Names}}"), "abc\t[a b]");
        assert_eq!(r("{{json .Names}}"), r#"["a","b"]"#);
        assert_eq!(r("{{.Labels | json}}"), r#"{"k":"v"}"#);
        assert_eq!(
            r("{{index .Labels \"k\"}} {{.S.T}} {{upper .ID}}"),
            "v 1 ABC"
        );
        assert_eq!(r("{{join .Names \",\"}}"), "a,b");
        let n = json!({"Networks": {"n 1": {"IPAddress": "10.89.0.2"}}});
        let rn = |f: &str| Template::parse(f).unwrap().render(&n).unwrap();
        assert_eq!(rn("{{(index .Networks \"n 1\").IPAddress}}"), "10.89.0.2");
        assert_eq!(
            rn("ip={{ (index .Networks \"n 1\").IPAddress }}!"),
            "ip=10.89.0.2!"
        );
        assert_eq!(
            rn("{{json (index .Networks \"n 1\")}}"),
            r#"{"IPAddress":"10.89.0.2"}"#
        );
        assert!(Template::parse("{{(index .Networks \"x\"}}").is_err());
        assert!(Template::parse("{{.ID").is_err());
        assert!(Template::parse("{{frob .ID}}").is_err());
        let t = Template::parse("table {{.ID}}\t{{.Names}}").unwrap();
        assert!(t.table);
        assert_eq!(t.header(&[("ID", "IMAGE ID")]), "IMAGE ID\tNAMES");
    }
}
