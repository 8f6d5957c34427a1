//! The first pass over a Containerfile: parser directives, comments, line
//! continuations and heredocs, giving one logical instruction per entry with the line
//! it started on.

use super::ParseError;

/// One instruction as written: keyword, the rest of its (joined) lines, heredocs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawInstruction {
    pub line: usize,
    /// Upper-cased.
    pub keyword: String,
    pub args: String,
    /// The whole instruction as written, for history and cache keys.
    pub original: String,
    pub heredocs: Vec<Heredoc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heredoc {
    pub name: String,
    pub content: String,
    /// False when the delimiter was quoted: no variable expansion in the body.
    pub expand: bool,
}

/// What the file's leading directives set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directives {
    pub escape: char,
    pub syntax: Option<String>,
}

fn directive(line: &str) -> Option<(String, String)> {
    let body = line.trim().strip_prefix('#')?.trim();
    let (k, v) = body.split_once('=')?;
    let k = k.trim().to_ascii_lowercase();
    if k.is_empty() || k.contains(char::is_whitespace) {
        return None;
    }
    Some((k, v.trim().to_string()))
}

/// Splits the file into instructions.
pub fn split(text: &str) -> Result<(Directives, Vec<RawInstruction>), ParseError> {
    let lines: Vec<&str> = text.lines().collect();
    let mut d = Directives {
        escape: '\\',
        syntax: None,
    };
    let mut i = 0;
    // Directives come first, before any comment, blank line or instruction.
    while i < lines.len() {
        match directive(lines[i]) {
            Some((k, v)) if k == "escape" => {
                d.escape = match v.as_str() {
                    "\\" => '\\',
                    "`" => '`',
                    _ => {
                        return Err(ParseError::at(
                            i + 1,
                            format!("invalid escape directive {v:?}: use \\ or `"),
                        ))
                    }
                }
            }
            Some((k, v)) if k == "syntax" => d.syntax = Some(v),
            Some((k, _)) if k == "check" => {}
            _ => break,
        }
        i += 1;
    }
    let mut out = Vec::new();
    while i < lines.len() {
        let start = i;
        let first = lines[i].trim_start();
        i += 1;
        if first.is_empty() || first.starts_with('#') {
            continue;
        }
        // Join continuation lines; comments and blank lines inside are dropped.
        let mut text = String::new();
        let mut original = String::new();
        let mut cur = first.to_string();
        loop {
            original.push_str(&cur);
            let trimmed = cur.trim_end();
            match trimmed.strip_suffix(d.escape) {
                Some(head) if i < lines.len() => {
                    text.push_str(head);
                    original.push('\n');
                    loop {
                        if i >= lines.len() {
                            break;
                        }
                        let next = lines[i].trim_start();
                        if next.starts_with('#') || next.is_empty() {
                            i += 1;
                            continue;
                        }
                        break;
                    }
                    if i >= lines.len() {
                        break;
                    }
                    cur = lines[i].to_string();
                    i += 1;
                }
                Some(head) => {
                    // A continuation at the end of the file ends the instruction.
                    text.push_str(head);
                    break;
                }
                None => {
                    text.push_str(&cur);
                    break;
                }
            }
        }
        let text = text.trim().to_string();
        let (keyword, args) = match text.split_once(char::is_whitespace) {
            Some((k, a)) => (k.to_ascii_uppercase(), a.trim().to_string()),
            None => (text.to_ascii_uppercase(), String::new()),
        };
        if !keyword.chars().all(|c| c.is_ascii_alphabetic()) {
            return Err(ParseError::at(
                start + 1,
                format!("unknown instruction: {}", keyword),
            ));
        }
        let mut heredocs = Vec::new();
        if matches!(keyword.as_str(), "RUN" | "COPY" | "ADD") {
            for (name, expand, strip) in heredoc_markers(&args) {
                let mut body = String::new();
                let mut closed = false;
                while i < lines.len() {
                    let l = lines[i];
                    i += 1;
                    let candidate = if strip { l.trim_start_matches('\t') } else { l };
                    if candidate == name {
                        closed = true;
                        break;
                    }
                    body.push_str(candidate);
                    body.push('\n');
                }
                if !closed {
                    return Err(ParseError::at(
                        start + 1,
                        format!("unterminated heredoc <<{name}"),
                    ));
                }
                heredocs.push(Heredoc {
                    name,
                    content: body,
                    expand,
                });
            }
        }
        out.push(RawInstruction {
            line: start + 1,
            keyword,
            args,
            original,
            heredocs,
        });
    }
    Ok((d, out))
}

/// `<<EOF`, `<<-EOF`, `<<"EOF"` and `<<'EOF'` markers in an instruction's arguments:
/// (name, expand, strip leading tabs).
pub fn heredoc_markers(args: &str) -> Vec<(String, bool, bool)> {
    let mut out = Vec::new();
    for word in args.split_whitespace() {
        let Some(rest) = word.strip_prefix("<<") else {
            continue;
        };
        let (strip, rest) = match rest.strip_prefix('-') {
            Some(r) => (true, r),
            None => (false, rest),
        };
        let quoted = rest.len() >= 2
            && ((rest.starts_with('"') && rest.ends_with('"'))
                || (rest.starts_with('\'') && rest.ends_with('\'')));
        let name = if quoted {
            &rest[1..rest.len() - 1]
        } else {
            rest
        };
        if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            out.push((name.to_string(), !quoted, strip));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_continuations_and_skips_comments() {
        let text = "# syntax=docker/dockerfile:1\n\nFROM a\n# c\nRUN echo a \\\n  # inside\n  b \\\n\n  c\nENV X=1\n";
        let (d, ins) = split(text).unwrap();
        assert_eq!(d.syntax.as_deref(), Some("docker/dockerfile:1"));
        assert_eq!(ins.len(), 3);
        assert_eq!(ins[1].keyword, "RUN");
        assert_eq!(ins[1].line, 5);
        assert_eq!(ins[1].args, "echo a   b   c");
        assert_eq!(ins[2].line, 10);
    }

    #[test]
    fn escape_directive_and_heredocs() {
        let text = "# escape=`\nFROM a\nRUN dir `\n  c:\\\nCOPY <<EOF /x\nhello $X\nEOF\nRUN <<-'END'\n\techo hi\n\tEND\n";
        let (d, ins) = split(text).unwrap();
        assert_eq!(d.escape, '`');
        assert_eq!(ins[1].args, "dir   c:\\");
        assert_eq!(ins[2].heredocs[0].content, "hello $X\n");
        assert!(ins[2].heredocs[0].expand);
        assert_eq!(ins[3].heredocs[0].content, "echo hi\n");
        assert!(!ins[3].heredocs[0].expand);
        assert!(split("FROM a\nRUN <<EOF\nno end\n").is_err());
        let e = split("FROM a\nR-UN x\n").unwrap_err();
        assert_eq!(e.line, 2);
    }
}
