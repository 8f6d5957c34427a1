//! `.containerignore` / `.dockerignore`: Docker's rules. Patterns are matched against
//! the path relative to the context root (so `*.md` matches only at the top), `**`
//! matches any number of directories, a leading `!` re-includes, the last matching
//! pattern wins, and a pattern matching a directory matches everything under it.

#[derive(Debug, Clone)]
struct Pattern {
    segments: Vec<String>,
    exclusion: bool,
}

#[derive(Debug, Clone, Default)]
pub struct Ignore {
    patterns: Vec<Pattern>,
}

/// Cleans a path like Go's filepath.Clean, relative, without a leading "/".
fn clean(p: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for part in p.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            x => out.push(x.to_string()),
        }
    }
    out
}

impl Ignore {
    pub fn parse(text: &str) -> Ignore {
        let mut patterns = Vec::new();
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (exclusion, body) = match line.strip_prefix('!') {
                Some(b) => (true, b.trim()),
                None => (false, line),
            };
            let segments = clean(body);
            if segments.is_empty() {
                continue;
            }
            patterns.push(Pattern {
                segments,
                exclusion,
            });
        }
        Ignore { patterns }
    }

    /// True when `path` (relative to the context) is left out of the build.
    pub fn excluded(&self, path: &str) -> bool {
        let parts = clean(path);
        if parts.is_empty() {
            return false;
        }
        let mut excluded = false;
        for p in &self.patterns {
            let hit = (1..=parts.len()).any(|n| segments_match(&p.segments, &parts[..n]));
            if hit {
                excluded = !p.exclusion;
            }
        }
        excluded
    }

    /// True when some `!` pattern could re-include something under `dir`, so a walk
    /// must look inside an excluded directory.
    pub fn may_reinclude_under(&self, dir: &str) -> bool {
        let parts = clean(dir);
        self.patterns.iter().any(|p| {
            p.exclusion
                && (p.segments.iter().any(|s| s == "**")
                    || (p.segments.len() > parts.len()
                        && segments_match(&p.segments[..parts.len()], &parts)))
        })
    }
}

fn segments_match(pat: &[String], path: &[String]) -> bool {
    match pat.split_first() {
        None => path.is_empty(),
        Some((first, rest)) if first == "**" => {
            (0..=path.len()).any(|skip| segments_match(rest, &path[skip..]))
        }
        Some((first, rest)) => match path.split_first() {
            Some((p, prest)) => {
                fnmatch(first.as_bytes(), p.as_bytes()) && segments_match(rest, prest)
            }
            None => false,
        },
    }
}

/// Shell-style matching of one path segment: `*`, `?`, `[...]` (with `^`/`!` and
/// ranges), `\` quoting.
pub fn fnmatch(p: &[u8], s: &[u8]) -> bool {
    match p.first() {
        None => s.is_empty(),
        Some(b'*') => (0..=s.len()).any(|i| fnmatch(&p[1..], &s[i..])),
        Some(b'?') => !s.is_empty() && fnmatch(&p[1..], &s[1..]),
        Some(b'[') => {
            let Some(c) = s.first() else {
                return false;
            };
            let mut i = 1;
            let negate = matches!(p.get(i), Some(b'^') | Some(b'!'));
            if negate {
                i += 1;
            }
            let mut matched = false;
            let mut first = true;
            while i < p.len() && (first || p[i] != b']') {
                first = false;
                let lo = if p[i] == b'\\' && i + 1 < p.len() {
                    i += 1;
                    p[i]
                } else {
                    p[i]
                };
                if i + 2 < p.len() && p[i + 1] == b'-' && p[i + 2] != b']' {
                    if (lo..=p[i + 2]).contains(c) {
                        matched = true;
                    }
                    i += 3;
                } else {
                    if lo == *c {
                        matched = true;
                    }
                    i += 1;
                }
            }
            if i >= p.len() {
                return false; // an unclosed class matches nothing
            }
            matched != negate && fnmatch(&p[i + 1..], &s[1..])
        }
        Some(b'\\') if p.len() > 1 => s.first() == Some(&p[1]) && fnmatch(&p[2..], &s[1..]),
        Some(c) => s.first() == Some(c) && fnmatch(&p[1..], &s[1..]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_rules() {
        let i = Ignore::parse(
            "# comment\n*.md\n!README.md\nbuild/\n**/*.tmp\n/secret\ndocs/**/draft*\n",
        );
        assert!(i.excluded("notes.md"));
        assert!(!i.excluded("README.md"));
        assert!(!i.excluded("sub/notes.md"), "*.md matches at the top only");
        assert!(i.excluded("build/out/x.o"));
        assert!(i.excluded("a/b/c.tmp"));
        assert!(i.excluded("x.tmp"));
        assert!(i.excluded("secret"));
        assert!(i.excluded("docs/a/b/draft1.txt"));
        assert!(i.excluded("docs/draft2"));
        assert!(!i.excluded("docs/final"));
        assert!(!i.excluded("src/main.rs"));
        let j = Ignore::parse("*\n!keep\n");
        assert!(j.excluded("anything"));
        assert!(!j.excluded("keep"));
        assert!(fnmatch(b"[a-c]x", b"bx"));
        assert!(!fnmatch(b"[!a-c]x", b"bx"));
        assert!(fnmatch(b"\\*", b"*"));
    }
}
