//! The second pass: each raw instruction checked and parsed into what the executor
//! runs. Values stay unexpanded here: what they expand to depends on the ARG and ENV
//! values in effect when the step runs.

use super::lines::{Heredoc, RawInstruction};
use super::ParseError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Run through the SHELL.
    Shell(String),
    /// A JSON array, run as is.
    Exec(Vec<String>),
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CopyArgs {
    pub from: Option<String>,
    pub chown: Option<String>,
    pub chmod: Option<String>,
    pub link: bool,
    pub checksum: Option<String>,
    pub sources: Vec<String>,
    pub dest: String,
    pub heredocs: Vec<Heredoc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Health {
    pub test: Vec<String>,
    pub interval: Option<String>,
    pub timeout: Option<String>,
    pub start_period: Option<String>,
    pub start_interval: Option<String>,
    pub retries: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Instruction {
    From {
        image: String,
        name: Option<String>,
        platform: Option<String>,
    },
    Arg(Vec<(String, Option<String>)>),
    Env(Vec<(String, String)>),
    Label(Vec<(String, String)>),
    Run {
        command: Command,
        mounts: Vec<String>,
        network: Option<String>,
    },
    Cmd(Command),
    Entrypoint(Command),
    Shell(Vec<String>),
    Expose(String),
    Copy(CopyArgs),
    Add(CopyArgs),
    Workdir(String),
    User(String),
    Volume(Vec<String>),
    /// None for HEALTHCHECK NONE.
    Healthcheck(Option<Health>),
    Stopsignal(String),
    Onbuild(String),
    Maintainer(String),
}

/// An instruction with where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub line: usize,
    pub keyword: String,
    /// Arguments as written (continuations joined), for history and cache keys.
    pub text: String,
    pub instruction: Instruction,
}

/// Splits on unquoted whitespace, keeping quotes and escapes for later expansion.
pub fn split_raw(s: &str, escape: char) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (None, c) if c.is_whitespace() => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            (None, '\'' | '"') => {
                quote = Some(c);
                cur.push(c);
            }
            (Some(q), c) if c == q => {
                quote = None;
                cur.push(c);
            }
            (q, c) if c == escape && q != Some('\'') => {
                cur.push(c);
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            (_, c) => cur.push(c),
        }
    }
    if quote.is_some() {
        return Err("unmatched quote".into());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    Ok(out)
}

/// A JSON array of strings, if `s` is one.
fn json_array(s: &str) -> Option<Vec<String>> {
    let t = s.trim();
    if !t.starts_with('[') {
        return None;
    }
    serde_json::from_str::<Vec<String>>(t).ok()
}

fn command(s: &str) -> Command {
    match json_array(s) {
        Some(v) => Command::Exec(v),
        None => Command::Shell(s.to_string()),
    }
}

/// `--name=value` flags as given.
type Flags = Vec<(String, String)>;

/// Leading `--name[=value]` flags and the rest of the arguments.
fn flags<'a>(s: &'a str, allowed: &[&str]) -> Result<(Flags, &'a str), String> {
    let mut rest = s.trim_start();
    let mut out = Vec::new();
    while let Some(f) = rest.strip_prefix("--") {
        let end = f.find(char::is_whitespace).unwrap_or(f.len());
        let flag = &f[..end];
        let (name, value) = flag.split_once('=').unwrap_or((flag, ""));
        if !allowed.contains(&name) {
            return Err(format!("unknown flag: --{name}"));
        }
        out.push((name.to_string(), value.to_string()));
        rest = f[end..].trim_start();
    }
    Ok((out, rest))
}

fn flag(fl: &[(String, String)], name: &str) -> Option<String> {
    fl.iter()
        .rev()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.clone())
}

/// KEY=VALUE pairs (or the legacy `KEY VALUE` when `legacy`), values raw.
fn pairs(
    args: &str,
    escape: char,
    what: &str,
    legacy: bool,
) -> Result<Vec<(String, String)>, String> {
    let words = split_raw(args, escape)?;
    if words.is_empty() {
        return Err(format!("{what} needs at least one argument"));
    }
    if legacy && !words[0].contains('=') {
        let (k, v) = args
            .trim()
            .split_once(char::is_whitespace)
            .ok_or_else(|| format!("{what} names a variable without a value"))?;
        return Ok(vec![(k.to_string(), v.trim().to_string())]);
    }
    words
        .into_iter()
        .map(|w| match w.split_once('=') {
            Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
            _ => Err(format!("{what} wants KEY=VALUE, got {w:?}")),
        })
        .collect()
}

fn copy_args(raw: &RawInstruction, escape: char, allowed: &[&str]) -> Result<CopyArgs, String> {
    let (fl, rest) = flags(&raw.args, allowed)?;
    let parts = match json_array(rest) {
        Some(v) => v,
        None => split_raw(rest, escape)?,
    };
    let heredoc_names: Vec<String> = raw.heredocs.iter().map(|h| h.name.clone()).collect();
    let parts: Vec<String> = parts
        .into_iter()
        .map(|p| match p.strip_prefix("<<") {
            Some(n) => format!("<<{}", n.trim_start_matches('-').trim_matches(['"', '\''])),
            None => p,
        })
        .collect();
    if parts.len() < 2 {
        return Err(format!(
            "{} needs at least one source and a destination",
            raw.keyword
        ));
    }
    let (dest, sources) = parts.split_last().unwrap();
    for s in sources {
        if let Some(n) = s.strip_prefix("<<") {
            if !heredoc_names.iter().any(|h| h == n) {
                return Err(format!("heredoc <<{n} has no body"));
            }
        }
    }
    Ok(CopyArgs {
        from: flag(&fl, "from"),
        chown: flag(&fl, "chown"),
        chmod: flag(&fl, "chmod"),
        link: fl.iter().any(|(n, _)| n == "link"),
        checksum: flag(&fl, "checksum"),
        sources: sources.to_vec(),
        dest: dest.clone(),
        heredocs: raw.heredocs.clone(),
    })
}

fn needs_args(raw: &RawInstruction) -> Result<(), String> {
    if raw.args.trim().is_empty() && raw.heredocs.is_empty() {
        return Err(format!("{} requires at least one argument", raw.keyword));
    }
    Ok(())
}

/// Parses one instruction; errors carry its line.
pub fn parse(raw: &RawInstruction, escape: char) -> Result<Step, ParseError> {
    let at = |m: String| ParseError::at(raw.line, m);
    let instruction = parse_inner(raw, escape).map_err(at)?;
    Ok(Step {
        line: raw.line,
        keyword: raw.keyword.clone(),
        text: raw.args.clone(),
        instruction,
    })
}

fn parse_inner(raw: &RawInstruction, escape: char) -> Result<Instruction, String> {
    let args = raw.args.as_str();
    if raw.keyword != "HEALTHCHECK" {
        needs_args(raw)?;
    }
    Ok(match raw.keyword.as_str() {
        "FROM" => {
            let (fl, rest) = flags(args, &["platform"])?;
            let w: Vec<&str> = rest.split_whitespace().collect();
            let (image, name) = match w.as_slice() {
                [i] => (i.to_string(), None),
                [i, as_, n] if as_.eq_ignore_ascii_case("as") => {
                    if !n
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
                    {
                        return Err(format!("invalid stage name {n:?}"));
                    }
                    (i.to_string(), Some(n.to_ascii_lowercase()))
                }
                _ => return Err("FROM wants IMAGE [AS NAME]".into()),
            };
            Instruction::From {
                image,
                name,
                platform: flag(&fl, "platform"),
            }
        }
        "ARG" => {
            let words = split_raw(args, escape)?;
            let mut out = Vec::new();
            for w in words {
                let (k, v) = match w.split_once('=') {
                    Some((k, v)) => (k.to_string(), Some(v.to_string())),
                    None => (w.clone(), None),
                };
                if k.is_empty() || !k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                    return Err(format!("invalid ARG name {k:?}"));
                }
                out.push((k, v));
            }
            Instruction::Arg(out)
        }
        "ENV" => Instruction::Env(pairs(args, escape, "ENV", true)?),
        "LABEL" => Instruction::Label(pairs(args, escape, "LABEL", false)?),
        "RUN" => {
            let (fl, rest) = flags(args, &["mount", "network", "security"])?;
            let command = match raw.heredocs.first() {
                // RUN <<EOF: the body is the script.
                Some(h) if rest.trim().starts_with("<<") => Command::Shell(h.content.clone()),
                _ => command(rest),
            };
            if let Command::Shell(s) = &command {
                if s.trim().is_empty() {
                    return Err("RUN requires a command".into());
                }
            }
            Instruction::Run {
                command,
                mounts: fl
                    .iter()
                    .filter(|(n, _)| n == "mount")
                    .map(|(_, v)| v.clone())
                    .collect(),
                network: flag(&fl, "network"),
            }
        }
        "CMD" => Instruction::Cmd(command(args)),
        "ENTRYPOINT" => Instruction::Entrypoint(command(args)),
        "SHELL" => match json_array(args) {
            Some(v) if !v.is_empty() => Instruction::Shell(v),
            _ => return Err("SHELL requires the arguments to be in JSON form".into()),
        },
        "EXPOSE" => Instruction::Expose(args.to_string()),
        "COPY" => Instruction::Copy(copy_args(
            raw,
            escape,
            &["from", "chown", "chmod", "link", "parents", "exclude"],
        )?),
        "ADD" => Instruction::Add(copy_args(
            raw,
            escape,
            &[
                "chown",
                "chmod",
                "link",
                "checksum",
                "keep-git-dir",
                "exclude",
            ],
        )?),
        "WORKDIR" => Instruction::Workdir(args.trim().to_string()),
        "USER" => Instruction::User(args.trim().to_string()),
        "VOLUME" => Instruction::Volume(match json_array(args) {
            Some(v) => v,
            None => split_raw(args, escape)?,
        }),
        "HEALTHCHECK" => health(args)?,
        "STOPSIGNAL" => Instruction::Stopsignal(args.trim().to_string()),
        "ONBUILD" => {
            let inner = args.trim();
            let kw = inner
                .split_whitespace()
                .next()
                .unwrap_or("")
                .to_ascii_uppercase();
            if matches!(kw.as_str(), "ONBUILD" | "FROM" | "MAINTAINER") {
                return Err(format!("{kw} isn't allowed as an ONBUILD trigger"));
            }
            Instruction::Onbuild(inner.to_string())
        }
        "MAINTAINER" => Instruction::Maintainer(args.trim().to_string()),
        other => return Err(format!("unknown instruction: {other}")),
    })
}

fn health(args: &str) -> Result<Instruction, String> {
    let (fl, rest) = flags(
        args,
        &[
            "interval",
            "timeout",
            "start-period",
            "start-interval",
            "retries",
        ],
    )?;
    let rest = rest.trim();
    if rest.eq_ignore_ascii_case("none") {
        return Ok(Instruction::Healthcheck(None));
    }
    let Some(cmd) = rest
        .strip_prefix("CMD")
        .or_else(|| rest.strip_prefix("cmd"))
        .map(str::trim)
        .filter(|c| !c.is_empty())
    else {
        return Err("HEALTHCHECK wants CMD COMMAND or NONE".into());
    };
    let test = match command(cmd) {
        Command::Exec(v) => {
            let mut t = vec!["CMD".to_string()];
            t.extend(v);
            t
        }
        Command::Shell(s) => vec!["CMD-SHELL".to_string(), s],
    };
    Ok(Instruction::Healthcheck(Some(Health {
        test,
        interval: flag(&fl, "interval"),
        timeout: flag(&fl, "timeout"),
        start_period: flag(&fl, "start-period"),
        start_interval: flag(&fl, "start-interval"),
        retries: flag(&fl, "retries"),
    })))
}
