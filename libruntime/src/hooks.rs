//! OCI hooks from hooks.d directories (podman's 1.0.0 schema): chosen when a container
//! is created, written into its spec, run by the supervisor at their stages with the
//! container's state on stdin.

use crate::error::{Error, Result};
use oci_spec::runtime::{Hook, Hooks};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Where hooks are looked for when `--hooks-dir` is not given.
pub const DEFAULT_DIRS: &[&str] = &[
    "/usr/share/containers/oci/hooks.d",
    "/etc/containers/oci/hooks.d",
];

#[derive(Deserialize)]
struct HookFile {
    version: String,
    hook: HookDef,
    #[serde(default)]
    when: When,
    stages: Vec<String>,
}

#[derive(Deserialize)]
struct HookDef {
    path: PathBuf,
    #[serde(default)]
    args: Vec<String>,
    #[serde(default)]
    env: Vec<String>,
    timeout: Option<i64>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct When {
    #[serde(default)]
    always: bool,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
    #[serde(default)]
    commands: Vec<String>,
    #[serde(default)]
    has_bind_mounts: bool,
}

const STAGES: &[(&str, &str)] = &[
    ("prestart", "prestart"),
    ("createRuntime", "createRuntime"),
    ("poststart", "poststart"),
    ("poststop", "poststop"),
];

fn matches(re: &str, s: &str) -> bool {
    regex_lite::Regex::new(re)
        .map(|r| r.is_match(s))
        .unwrap_or(false)
}

impl When {
    fn applies(&self, annotations: &BTreeMap<String, String>, command: &str, binds: bool) -> bool {
        self.always
            || (self.has_bind_mounts && binds)
            || self.commands.iter().any(|c| matches(c, command))
            || (!self.annotations.is_empty()
                && self.annotations.iter().all(|(k, v)| {
                    annotations
                        .iter()
                        .any(|(ak, av)| matches(k, ak) && matches(v, av))
                }))
    }
}

/// The spec's `hooks` object for a container with these annotations and command.
/// Later directories override files of the same name in earlier ones, as in podman.
pub fn select(
    dirs: &[PathBuf],
    annotations: &BTreeMap<String, String>,
    command: &str,
    has_bind_mounts: bool,
) -> Result<Hooks> {
    let mut files: BTreeMap<String, PathBuf> = BTreeMap::new();
    for d in dirs {
        let Ok(entries) = std::fs::read_dir(d) else {
            continue;
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.ends_with(".json") {
                files.insert(name, e.path());
            }
        }
    }
    let mut stages: BTreeMap<&str, Vec<Hook>> = BTreeMap::new();
    for path in files.values() {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::io(format!("reading hook {}", path.display()), e))?;
        let hf: HookFile = serde_json::from_str(&text)
            .map_err(|e| Error::json(format!("hook {}", path.display()), e))?;
        if hf.version != "1.0.0" {
            return Err(Error::InvalidArgument(format!(
                "hook {}: unsupported version {:?} (want 1.0.0)",
                path.display(),
                hf.version
            )));
        }
        if !hf.when.applies(annotations, command, has_bind_mounts) {
            continue;
        }
        let mut args = hf.hook.args.clone();
        if args.is_empty() {
            args.push(hf.hook.path.display().to_string());
        }
        let mut hook = Hook::default();
        hook.set_path(hf.hook.path.clone());
        hook.set_args(Some(args));
        hook.set_env(Some(hf.hook.env.clone()));
        hook.set_timeout(hf.hook.timeout);
        for s in &hf.stages {
            let key = STAGES
                .iter()
                .find(|(n, _)| n == s)
                .map(|(_, k)| *k)
                .ok_or_else(|| {
                    Error::InvalidArgument(format!("hook {}: unknown stage {s:?}", path.display()))
                })?;
            stages.entry(key).or_default().push(hook.clone());
        }
    }
    let mut out = Hooks::default();
    let mut take = |k: &str| stages.remove(k);
    // prestart is deprecated in the spec but still what such hook files ask for.
    #[allow(deprecated)]
    out.set_prestart(take("prestart"));
    out.set_create_runtime(take("createRuntime"));
    out.set_poststart(take("poststart"));
    out.set_poststop(take("poststop"));
    Ok(out)
}

/// Runs one stage's hooks in order; the first failure stops the rest.
pub fn run_stage(
    hooks: &[oci_spec::runtime::Hook],
    state: &oci_spec::runtime::State,
) -> std::result::Result<(), String> {
    for h in hooks {
        run_one(h, state)?;
    }
    Ok(())
}

fn run_one(
    h: &oci_spec::runtime::Hook,
    state: &oci_spec::runtime::State,
) -> std::result::Result<(), String> {
    let path = h.path();
    let args = h.args().clone().unwrap_or_default();
    let mut cmd = Command::new(path);
    if let Some(arg0) = args.first() {
        use std::os::unix::process::CommandExt;
        cmd.arg0(arg0);
    }
    cmd.args(args.iter().skip(1))
        .env_clear()
        .envs(h.env().iter().flatten().filter_map(|e| e.split_once('=')))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let name = path.display();
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("running hook {name}: {e}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = serde_json::to_writer(&mut stdin, state);
    }
    let deadline = h
        .timeout()
        .map(|t| Instant::now() + Duration::from_secs(t.max(1) as u64));
    loop {
        match child.try_wait() {
            Ok(Some(s)) if s.success() => return Ok(()),
            Ok(Some(s)) => return Err(format!("hook {name} failed: {s}")),
            Ok(None) => {}
            Err(e) => return Err(format!("waiting for hook {name}: {e}")),
        }
        if deadline.is_some_and(|d| Instant::now() > d) {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("hook {name} timed out"));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The directories to search: `--hooks-dir` when given, else the defaults that exist.
pub fn dirs(given: &[PathBuf]) -> Vec<PathBuf> {
    if !given.is_empty() {
        return given.to_vec();
    }
    DEFAULT_DIRS
        .iter()
        .map(PathBuf::from)
        .filter(|p| Path::new(p).is_dir())
        .collect()
}
