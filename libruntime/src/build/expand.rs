//! Variable substitution as Dockerfiles do it: `$NAME`, `${NAME}`, `${NAME:-word}`,
//! `${NAME-word}`, `${NAME:+word}`, `${NAME+word}`, `${NAME:?message}`, with single
//! quotes literal, double quotes grouping, and the escape character quoting one
//! character. Quotes are removed from the result.

use std::collections::HashMap;

pub type Vars = HashMap<String, String>;

/// One word, expanded; whitespace is kept.
pub fn word(s: &str, vars: &Vars, escape: char) -> Result<String, String> {
    let mut words = process(s, vars, escape, false)?;
    Ok(words.pop().unwrap_or_default())
}

/// Expanded and split on unquoted whitespace.
pub fn words(s: &str, vars: &Vars, escape: char) -> Result<Vec<String>, String> {
    process(s, vars, escape, true)
}

fn process(s: &str, vars: &Vars, escape: char, split: bool) -> Result<Vec<String>, String> {
    let chars: Vec<char> = s.chars().collect();
    let mut out: Vec<String> = Vec::new();
    let mut cur = String::new();
    let mut has_word = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if split && c.is_whitespace() {
            if has_word {
                out.push(std::mem::take(&mut cur));
                has_word = false;
            }
            i += 1;
            continue;
        }
        has_word = true;
        match c {
            '\'' => {
                i += 1;
                while i < chars.len() && chars[i] != '\'' {
                    cur.push(chars[i]);
                    i += 1;
                }
                if i >= chars.len() {
                    return Err(
                        "unexpected end of statement while looking for matching single-quote"
                            .into(),
                    );
                }
                i += 1;
            }
            '"' => {
                i += 1;
                loop {
                    if i >= chars.len() {
                        return Err(
                            "unexpected end of statement while looking for matching double-quote"
                                .into(),
                        );
                    }
                    match chars[i] {
                        '"' => {
                            i += 1;
                            break;
                        }
                        '$' => {
                            let (v, next) = variable(&chars, i, vars, escape)?;
                            cur.push_str(&v);
                            i = next;
                        }
                        e if e == escape && i + 1 < chars.len() => {
                            // Inside double quotes the escape only quotes $, " and itself.
                            let n = chars[i + 1];
                            if n == '"' || n == '$' || n == escape {
                                cur.push(n);
                                i += 2;
                            } else {
                                cur.push(e);
                                i += 1;
                            }
                        }
                        other => {
                            cur.push(other);
                            i += 1;
                        }
                    }
                }
            }
            '$' => {
                let (v, next) = variable(&chars, i, vars, escape)?;
                cur.push_str(&v);
                i = next;
            }
            e if e == escape => {
                if i + 1 < chars.len() {
                    cur.push(chars[i + 1]);
                    i += 2;
                } else {
                    cur.push(e);
                    i += 1;
                }
            }
            other => {
                cur.push(other);
                i += 1;
            }
        }
    }
    if has_word || !split {
        out.push(cur);
    }
    Ok(out)
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Expands the variable at chars[at] ('$'); returns the value and where to go on.
fn variable(
    chars: &[char],
    at: usize,
    vars: &Vars,
    escape: char,
) -> Result<(String, usize), String> {
    let mut i = at + 1;
    if i >= chars.len() {
        return Ok(("$".into(), i));
    }
    if chars[i] != '{' {
        let start = i;
        while i < chars.len() && is_name_char(chars[i]) {
            i += 1;
        }
        if i == start {
            return Ok(("$".into(), i));
        }
        let name: String = chars[start..i].iter().collect();
        return Ok((vars.get(&name).cloned().unwrap_or_default(), i));
    }
    i += 1;
    let start = i;
    while i < chars.len() && is_name_char(chars[i]) {
        i += 1;
    }
    let name: String = chars[start..i].iter().collect();
    if name.is_empty() {
        return Err("bad substitution: missing variable name after ${".into());
    }
    if i >= chars.len() {
        return Err(format!("missing '}}' in ${{{name}"));
    }
    if chars[i] == '}' {
        return Ok((vars.get(&name).cloned().unwrap_or_default(), i + 1));
    }
    let colon = chars[i] == ':';
    if colon {
        i += 1;
    }
    let op = *chars
        .get(i)
        .ok_or_else(|| format!("missing '}}' in ${{{name}"))?;
    if !matches!(op, '-' | '+' | '?') {
        return Err(format!(
            "unsupported modifier ({op}) in substitution ${{{name}…}}"
        ));
    }
    i += 1;
    // The word runs to the matching brace; nested ${...} are allowed.
    let word_start = i;
    let mut depth = 1;
    while i < chars.len() {
        match chars[i] {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            }
            _ => {}
        }
        i += 1;
    }
    if i >= chars.len() {
        return Err(format!("missing '}}' in ${{{name}"));
    }
    let raw: String = chars[word_start..i].iter().collect();
    let next = i + 1;
    let value = vars.get(&name);
    let set = match value {
        Some(v) => !colon || !v.is_empty(),
        None => false,
    };
    let result = match op {
        '-' if set => value.cloned().unwrap_or_default(),
        '-' => word(&raw, vars, escape)?,
        '+' if set => word(&raw, vars, escape)?,
        '+' => String::new(),
        _ if set => value.cloned().unwrap_or_default(),
        _ => {
            let msg = word(&raw, vars, escape)?;
            return Err(format!(
                "{name}: {}",
                if msg.is_empty() {
                    "is not allowed to be empty"
                } else {
                    &msg
                }
            ));
        }
    };
    Ok((result, next))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> Vars {
        Vars::from([
            ("A".to_string(), "x".to_string()),
            ("EMPTY".to_string(), String::new()),
        ])
    }

    #[test]
    fn substitutes() {
        let v = vars();
        let w = |s: &str| word(s, &v, '\\').unwrap();
        assert_eq!(w("$A/${A}"), "x/x");
        assert_eq!(w("${B:-def}"), "def");
        assert_eq!(w("${EMPTY:-def}"), "def");
        assert_eq!(w("${EMPTY-def}"), "");
        assert_eq!(w("${A:+alt}"), "alt");
        assert_eq!(w("${B:+alt}"), "");
        assert_eq!(w("${B:-${A}y}"), "xy");
        assert_eq!(w("'$A' \"$A\" \\$A"), "$A x $A");
        assert_eq!(w("a$"), "a$");
        assert!(word("${B:?must be set}", &v, '\\')
            .unwrap_err()
            .contains("must be set"));
        assert!(word("${A", &v, '\\').is_err());
        assert!(word("'open", &v, '\\').is_err());
    }

    #[test]
    fn splits_words() {
        let v = vars();
        assert_eq!(
            words("a \"b c\" $A  'd e'", &v, '\\').unwrap(),
            vec!["a", "b c", "x", "d e"]
        );
        assert!(words("  ", &v, '\\').unwrap().is_empty());
    }
}
