//! Runs a Containerfile: the stages the target needs, in order, each step cached as an
//! image; the target stage's last image is the result, named as asked.

use super::cache::Cache;
use super::config_steps as cfgs;
use super::containerfile::{Containerfile, Stage};
use super::context::Context;
use super::expand::{self, Vars};
use super::instruction::{Command, CopyArgs, Instruction, Step};
use super::transfer::{self, Item};
use super::work_container::{self as wc, Commit};
use crate::container::options::{CreateOptions, NetMode};
use crate::error::{Error, Result};
use crate::layer::ExtractOptions;
use crate::paths::Paths;
use crate::store::{ImageSpec, Store};
use crate::userns::IdMaps;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

/// Where a build's messages go; the CLI prints them.
pub trait Reporter {
    /// A line about the build ("STEP 2/5: RUN make", "--> Using cache …").
    fn line(&self, text: &str);
    /// Output of a RUN step, as it comes.
    fn output(&self, data: &[u8]);
}

pub struct BuildOptions {
    pub containerfile: String,
    /// For messages: the file's name as given.
    pub file_name: String,
    pub context: Context,
    /// Full names for the result.
    pub tags: Vec<String>,
    pub build_args: HashMap<String, String>,
    pub target: Option<String>,
    pub no_cache: bool,
    pub labels: BTreeMap<String, String>,
    pub network: NetMode,
    /// `--secret id=ID,src=PATH`.
    pub secrets: HashMap<String, PathBuf>,
    pub extract: ExtractOptions,
    /// One new layer for the target stage instead of one per step.
    pub squash: bool,
}

struct StageState {
    image: String,
    config: Value,
    /// ARGs declared in this stage, with their values.
    args: Vars,
    cmd_set: bool,
}

impl StageState {
    fn cfg(&self) -> Map<String, Value> {
        self.config["config"]
            .as_object()
            .cloned()
            .unwrap_or_default()
    }

    /// What `$VAR` means in this stage: its ARGs, overridden by the image's ENV.
    fn vars(&self) -> Vars {
        let mut v = self.args.clone();
        v.extend(cfgs::env_vars(&self.cfg()));
        v
    }
}

pub struct Builder<'a> {
    paths: &'a Paths,
    maps: &'a IdMaps,
    opts: &'a BuildOptions,
    file: Containerfile,
    reporter: &'a dyn Reporter,
    cache: Cache,
    global: Vars,
    /// Image of each finished stage, by index.
    done: HashMap<usize, String>,
    /// The image each stage started from, by index.
    bases: HashMap<usize, String>,
    step_no: usize,
    step_total: usize,
}

fn fail(step: &Step, e: impl std::fmt::Display) -> Error {
    Error::InvalidArgument(format!(
        "building at line {} ({} {}): {e}",
        step.line,
        step.keyword,
        step.text.lines().next().unwrap_or("")
    ))
}

/// Builds and returns the image id.
pub fn build(
    paths: &Paths,
    maps: &IdMaps,
    opts: &BuildOptions,
    reporter: &dyn Reporter,
) -> Result<String> {
    let file = Containerfile::parse(&opts.containerfile)
        .map_err(|e| Error::InvalidArgument(format!("{}: {e}", opts.file_name)))?;
    let mut global = Vars::new();
    for (k, default) in &file.global_args {
        let v = match opts.build_args.get(k) {
            Some(v) => Some(v.clone()),
            None => default
                .as_ref()
                .map(|d| expand::word(d, &global, file.escape))
                .transpose()
                .map_err(Error::InvalidArgument)?,
        };
        if let Some(v) = v {
            global.insert(k.clone(), v);
        }
    }
    let mut b = Builder {
        paths,
        maps,
        opts,
        file,
        reporter,
        cache: Cache::open(paths),
        global,
        done: HashMap::new(),
        bases: HashMap::new(),
        step_no: 0,
        step_total: 0,
    };
    let target = match &opts.target {
        Some(t) => b.file.stage(t).map(|s| s.index).ok_or_else(|| {
            Error::InvalidArgument(format!("target stage {t:?} could not be found"))
        })?,
        None => b.file.stages.len() - 1,
    };
    let needed = b.needed(target)?;
    b.step_total = needed
        .iter()
        .map(|i| b.file.stages[*i].steps.len() + 1)
        .sum();
    for i in needed {
        let stage = b.file.stages[i].clone();
        let image = b.run_stage(&stage)?;
        b.done.insert(i, image);
    }
    let mut result = b.done[&target].clone();
    if opts.squash {
        result = b.squash(&result, &b.bases[&target].clone())?;
    }
    b.finish(&result)
}

impl Builder<'_> {
    /// The stage a FROM or --from names, if it names one that comes before `before`.
    fn stage_ref(&self, name: &str, before: usize) -> Option<usize> {
        self.file
            .stage(name)
            .map(|s| s.index)
            .filter(|i| *i < before)
    }

    fn base_name(&self, stage: &Stage) -> Result<String> {
        expand::word(&stage.base, &self.global, self.file.escape).map_err(Error::InvalidArgument)
    }

    /// The target and the stages it needs, in file order.
    fn needed(&self, target: usize) -> Result<Vec<usize>> {
        let mut want = vec![false; self.file.stages.len()];
        let mut todo = vec![target];
        while let Some(i) = todo.pop() {
            if want[i] {
                continue;
            }
            want[i] = true;
            let s = &self.file.stages[i];
            if let Some(d) = self.stage_ref(&self.base_name(s)?, i) {
                todo.push(d);
            }
            for step in &s.steps {
                let from = match &step.instruction {
                    Instruction::Copy(c) => c.from.clone(),
                    Instruction::Run { mounts, .. } => mounts
                        .iter()
                        .flat_map(|m| m.split(','))
                        .find_map(|kv| kv.strip_prefix("from=").map(String::from)),
                    _ => None,
                };
                if let Some(d) = from.and_then(|f| self.stage_ref(&f, i)) {
                    todo.push(d);
                }
            }
        }
        Ok((0..want.len()).filter(|i| want[*i]).collect())
    }

    fn announce(&mut self, stage: &Stage, text: &str) {
        self.step_no += 1;
        let prefix = if self.file.stages.len() > 1 {
            format!("[{}/{}] ", stage.index + 1, self.file.stages.len())
        } else {
            String::new()
        };
        self.reporter.line(&format!(
            "{prefix}STEP {}/{}: {text}",
            self.step_no, self.step_total
        ));
    }

    fn run_stage(&mut self, stage: &Stage) -> Result<String> {
        let base = self.base_name(stage)?;
        let from_text = match &stage.name {
            Some(n) => format!("FROM {base} AS {n}"),
            None => format!("FROM {base}"),
        };
        self.announce(stage, &from_text);
        let image = match self.stage_ref(&base, stage.index) {
            Some(i) => self.done[&i].clone(),
            None if base == "scratch" => self.scratch()?,
            None => {
                let store = Store::open(self.paths);
                store
                    .find_image(&base)
                    .map_err(|_| {
                        Error::InvalidArgument(format!(
                            "{}: line {}: FROM {base}: image not known (pull it first, or build with --pull)",
                            self.opts.file_name, stage.line
                        ))
                    })?
                    .id
            }
        };
        self.bases.insert(stage.index, image.clone());
        let store = Store::open(self.paths);
        let rec = store.find_image(&image)?;
        let config: Value = serde_json::from_slice(&store.read_blob(&rec.config)?)
            .map_err(|e| Error::json("image config", e))?;
        let mut st = StageState {
            image,
            config,
            args: Vars::new(),
            cmd_set: false,
        };
        // Like buildah and BuildKit, a stage whose base has no PATH gets the default.
        let mut cfg = st.cfg();
        if !cfgs::env_list(&cfg).iter().any(|e| e.starts_with("PATH=")) {
            let mut env = vec![format!("PATH={}", crate::container::spec::DEFAULT_PATH)];
            env.extend(cfgs::env_list(&cfg));
            cfg.insert("Env".into(), json!(env));
            st.config["config"] = Value::Object(cfg);
        }
        // The base image's ONBUILD triggers run first, and are not inherited.
        let triggers: Vec<String> = st.config["config"]["OnBuild"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        if !triggers.is_empty() {
            if let Some(c) = st.config["config"].as_object_mut() {
                c.remove("OnBuild");
            }
            let text: String = triggers.join("\n");
            let parsed = Containerfile::parse(&format!("FROM scratch\n{text}\n"))
                .map_err(|e| Error::InvalidArgument(format!("ONBUILD trigger of {base}: {e}")))?;
            for step in &parsed.stages[0].steps {
                self.reporter
                    .line(&format!("--> ONBUILD {} {}", step.keyword, step.text));
                self.step(&mut st, stage, step)?;
            }
        }
        for step in &stage.steps {
            self.announce(stage, &format!("{} {}", step.keyword, step.text));
            self.step(&mut st, stage, step)?;
        }
        Ok(st.image)
    }

    /// An empty image for FROM scratch.
    fn scratch(&self) -> Result<String> {
        let config = json!({
            "architecture": crate::platform::go_arch(),
            "os": "linux",
            "config": {},
            "rootfs": {"type": "layers", "diff_ids": []},
            "history": [],
        });
        let store = Store::open_locked(self.paths)?;
        let rec = store.add_image(ImageSpec {
            config: serde_json::to_vec(&config).map_err(|e| Error::json("image config", e))?,
            layers: vec![],
            manifest: None,
            names: vec![],
        })?;
        self.cache.mark_intermediate(&rec.id)?;
        Ok(rec.id)
    }

    fn step(&mut self, st: &mut StageState, stage: &Stage, step: &Step) -> Result<()> {
        let escape = self.file.escape;
        let vars = st.vars();
        let word = |s: &str| expand::word(s, &vars, escape).map_err(|e| fail(step, e));
        let mut cfg = st.cfg();
        // Steps that change only the configuration: (cache text, history text).
        let meta: Option<String> = match &step.instruction {
            Instruction::From { .. } => None,
            Instruction::Arg(args) => {
                for (k, default) in args {
                    let v = match self.opts.build_args.get(k) {
                        Some(v) => Some(v.clone()),
                        None => match default {
                            Some(d) => Some(word(d)?),
                            None => self.global.get(k).cloned(),
                        },
                    };
                    if let Some(v) = v {
                        st.args.insert(k.clone(), v);
                    } else {
                        st.args.remove(k);
                    }
                }
                return Ok(());
            }
            Instruction::Env(pairs) => {
                let mut text = Vec::new();
                // Each pair sees the ones before it on the same line.
                let mut local = vars.clone();
                for (k, v) in pairs {
                    let k = expand::word(k, &local, escape).map_err(|e| fail(step, e))?;
                    let v = expand::word(v, &local, escape).map_err(|e| fail(step, e))?;
                    cfgs::set_env(&mut cfg, &k, &v);
                    local.insert(k.clone(), v.clone());
                    text.push(format!("{k}={v}"));
                }
                Some(format!("ENV {}", text.join(" ")))
            }
            Instruction::Label(pairs) => {
                let mut text = Vec::new();
                for (k, v) in pairs {
                    let (k, v) = (word(k)?, word(v)?);
                    cfgs::add_label(&mut cfg, &k, &v);
                    text.push(format!("{k}={v}"));
                }
                Some(format!("LABEL {}", text.join(" ")))
            }
            Instruction::Cmd(c) => {
                cfg.insert("Cmd".into(), json!(cfgs::argv(&cfg, c)));
                st.cmd_set = true;
                Some(format!("CMD {}", json!(cfgs::argv(&cfg, c))))
            }
            Instruction::Entrypoint(c) => {
                cfg.insert("Entrypoint".into(), json!(cfgs::argv(&cfg, c)));
                if !st.cmd_set {
                    cfg.remove("Cmd");
                }
                Some(format!("ENTRYPOINT {}", json!(cfgs::argv(&cfg, c))))
            }
            Instruction::Shell(v) => {
                cfg.insert("Shell".into(), json!(v));
                Some(format!("SHELL {}", json!(v)))
            }
            Instruction::Expose(spec) => {
                let added =
                    cfgs::expose(&mut cfg, spec, &vars, escape).map_err(|e| fail(step, e))?;
                Some(format!("EXPOSE {}", added.join(" ")))
            }
            Instruction::User(u) => {
                let u = word(u)?;
                cfg.insert("User".into(), json!(u));
                Some(format!("USER {u}"))
            }
            Instruction::Volume(v) => {
                let mut paths = Vec::new();
                for p in v {
                    let p = word(p)?;
                    if p.is_empty() {
                        return Err(fail(step, "VOLUME needs a path"));
                    }
                    cfgs::add_volume(&mut cfg, &p);
                    paths.push(p);
                }
                Some(format!("VOLUME {}", json!(paths)))
            }
            Instruction::Healthcheck(h) => {
                cfgs::healthcheck(&mut cfg, h.as_ref()).map_err(|e| fail(step, e))?;
                Some(format!("HEALTHCHECK {}", step.text))
            }
            Instruction::Stopsignal(s) => {
                let s = word(s)?;
                crate::signals::parse(&s).map_err(|e| fail(step, e))?;
                cfg.insert("StopSignal".into(), json!(s));
                Some(format!("STOPSIGNAL {s}"))
            }
            Instruction::Onbuild(t) => {
                let mut list = cfg
                    .get("OnBuild")
                    .and_then(|v| v.as_array().cloned())
                    .unwrap_or_default();
                list.push(json!(t));
                cfg.insert("OnBuild".into(), Value::Array(list));
                Some(format!("ONBUILD {t}"))
            }
            Instruction::Maintainer(m) => {
                st.config["author"] = json!(m);
                Some(format!("MAINTAINER {m}"))
            }
            Instruction::Workdir(w) => {
                let w = word(w)?;
                let cur = cfg
                    .get("WorkingDir")
                    .and_then(|v| v.as_str())
                    .unwrap_or("/")
                    .to_string();
                let path = if w.starts_with('/') {
                    w
                } else {
                    format!("{}/{w}", cur.trim_end_matches('/'))
                };
                cfg.insert("WorkingDir".into(), json!(path));
                let text = format!("WORKDIR {path}");
                // The directory is made too: a step with a layer.
                return self.fs_step(st, step, cfg, text, FsChange::Mkdir(path));
            }
            Instruction::Run {
                command,
                mounts,
                network,
            } => {
                return self.run_step(st, step, cfg, command, mounts, network.as_deref());
            }
            Instruction::Copy(c) => return self.copy_step(st, stage, step, cfg, c, false),
            Instruction::Add(c) => return self.copy_step(st, stage, step, cfg, c, true),
        };
        let Some(text) = meta else { return Ok(()) };
        let created_by = format!("/bin/sh -c #(nop) {text}");
        let key = Cache::key(&st.image, &created_by);
        if self.cached(st, &key)? {
            return Ok(());
        }
        st.config["config"] = Value::Object(cfg);
        let id = self.config_image(st, &created_by)?;
        self.adopt(st, &key, id)
    }

    /// A cache hit moves the stage onto the cached image.
    fn cached(&self, st: &mut StageState, key: &str) -> Result<bool> {
        if self.opts.no_cache {
            return Ok(false);
        }
        let store = Store::open(self.paths);
        let Some(img) = self.cache.lookup(&store, key) else {
            return Ok(false);
        };
        self.reporter.line(&format!("--> Using cache {}", img.id));
        st.config = serde_json::from_slice(&store.read_blob(&img.config)?)
            .map_err(|e| Error::json("image config", e))?;
        st.image = img.id;
        Ok(true)
    }

    fn adopt(&self, st: &mut StageState, key: &str, id: String) -> Result<()> {
        self.cache.record(key, &id)?;
        self.cache.mark_intermediate(&id)?;
        let store = Store::open(self.paths);
        let rec = store.find_image(&id)?;
        st.config = serde_json::from_slice(&store.read_blob(&rec.config)?)
            .map_err(|e| Error::json("image config", e))?;
        st.image = id;
        self.reporter.line(&format!("--> {}", &st.image[..12]));
        Ok(())
    }

    /// A new image with the stage's config and the parent's layers.
    fn config_image(&self, st: &StageState, created_by: &str) -> Result<String> {
        let store = Store::open_locked(self.paths)?;
        let parent = store.find_image(&st.image)?;
        let mut config = st.config.clone();
        let now = crate::time::now_rfc3339();
        config["created"] = json!(now);
        let entry = json!({"created": now, "created_by": created_by, "empty_layer": true});
        match config["history"].as_array_mut() {
            Some(h) => h.push(entry),
            None => config["history"] = json!([entry]),
        }
        let rec = store.add_image(ImageSpec {
            config: serde_json::to_vec(&config).map_err(|e| Error::json("image config", e))?,
            layers: parent.layers.clone(),
            manifest: None,
            names: vec![],
        })?;
        Ok(rec.id)
    }

    fn container_options(
        &self,
        st: &StageState,
        cfg: &Map<String, Value>,
        command: Vec<String>,
    ) -> CreateOptions {
        // RUN sees the stage's ARGs as environment, under the image's ENV.
        let env_keys: Vec<String> = cfgs::env_list(cfg)
            .iter()
            .filter_map(|e| e.split('=').next().map(String::from))
            .collect();
        let env: Vec<String> = st
            .args
            .iter()
            .filter(|(k, _)| !env_keys.contains(k))
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        CreateOptions {
            image: st.image.clone(),
            command,
            entrypoint: Some(vec![String::new()]),
            env,
            user: cfg.get("User").and_then(|v| v.as_str()).map(String::from),
            workdir: cfg
                .get("WorkingDir")
                .and_then(|v| v.as_str())
                .filter(|w| !w.is_empty())
                .map(String::from),
            network: NetMode::None,
            create_command: vec!["skiff".into(), "build".into()],
            ..Default::default()
        }
    }

    fn run_step(
        &self,
        st: &mut StageState,
        step: &Step,
        cfg: Map<String, Value>,
        command: &Command,
        mounts: &[String],
        network: Option<&str>,
    ) -> Result<()> {
        let argv = cfgs::argv(&cfg, command);
        let mut env_seen: Vec<String> = st.args.iter().map(|(k, v)| format!("{k}={v}")).collect();
        env_seen.sort();
        let created_by = match command {
            Command::Shell(s) => format!("{} {s}", cfgs::shell(&cfg).join(" ")),
            Command::Exec(v) => json!(v).to_string(),
        };
        let key = Cache::key(
            &st.image,
            &format!(
                "RUN {}\n{}\n{}\n{:?}",
                json!(argv),
                env_seen.join("\n"),
                mounts.join("\n"),
                network
            ),
        );
        if self.cached(st, &key)? {
            return Ok(());
        }
        let mut opts = self.container_options(st, &cfg, argv);
        opts.network = match network {
            Some(n) => NetMode::parse(n).map_err(|e| fail(step, e))?,
            None => self.opts.network.clone(),
        };
        opts.mounts = self.run_mounts(step, mounts)?;
        let record = wc::create(self.paths, self.maps, &opts).map_err(|e| fail(step, e))?;
        let result = (|| {
            let code = wc::run(self.paths, &record, self.reporter)?;
            if code != 0 {
                return Err(Error::InvalidArgument(format!(
                    "the command exited with status {code}"
                )));
            }
            wc::commit(
                self.paths,
                self.maps,
                &record,
                &Commit {
                    config: cfg,
                    created_by: created_by.clone(),
                    extract: self.opts.extract,
                },
            )
        })();
        wc::remove(self.paths, self.maps, &record);
        let id = result.map_err(|e| fail(step, e))?;
        self.adopt(st, &key, id)
    }

    /// RUN --mount=type=cache|tmpfs|secret|bind as container mounts.
    fn run_mounts(
        &self,
        step: &Step,
        mounts: &[String],
    ) -> Result<Vec<crate::volume::mounts::MountRequest>> {
        use crate::volume::mounts::{MountKind, MountRequest};
        let mut out = Vec::new();
        for m in mounts {
            let kv: HashMap<&str, &str> = m
                .split(',')
                .map(|p| p.split_once('=').unwrap_or((p, "")))
                .collect();
            let kind = kv.get("type").copied().unwrap_or("bind");
            let target = kv
                .get("target")
                .or(kv.get("dst"))
                .or(kv.get("destination"))
                .copied();
            let req = match kind {
                "cache" => {
                    let target = target.ok_or_else(|| fail(step, "a cache mount needs target="))?;
                    let id = kv.get("id").copied().unwrap_or(target);
                    let dir = self.cache.mount_dir(id);
                    crate::fsutil::create_dir_all(&dir)?;
                    MountRequest {
                        kind: MountKind::Bind { source: dir },
                        destination: target.into(),
                        readonly: false,
                        chown: false,
                        options: vec![],
                    }
                }
                "tmpfs" => MountRequest {
                    kind: MountKind::Tmpfs,
                    destination: target
                        .ok_or_else(|| fail(step, "a tmpfs mount needs target="))?
                        .into(),
                    readonly: false,
                    chown: false,
                    options: vec![],
                },
                "secret" => {
                    let id = kv
                        .get("id")
                        .copied()
                        .ok_or_else(|| fail(step, "a secret mount needs id="))?;
                    let Some(src) = self.opts.secrets.get(id) else {
                        if kv
                            .get("required")
                            .is_some_and(|v| *v == "true" || v.is_empty())
                        {
                            return Err(fail(
                                step,
                                format!("secret {id} was not given (--secret id={id},src=…)"),
                            ));
                        }
                        continue;
                    };
                    MountRequest {
                        kind: MountKind::Bind {
                            source: src.clone(),
                        },
                        destination: target
                            .map(String::from)
                            .unwrap_or_else(|| format!("/run/secrets/{id}")),
                        readonly: true,
                        chown: false,
                        options: vec![],
                    }
                }
                "bind" => {
                    if kv.contains_key("from") {
                        return Err(fail(step, "RUN --mount=type=bind,from=… is not supported"));
                    }
                    let src = kv.get("source").or(kv.get("src")).copied().unwrap_or("");
                    let rel = self
                        .opts
                        .context
                        .sources(if src.is_empty() { "." } else { src })
                        .map_err(|e| fail(step, e))?;
                    let source = self.opts.context.root.join(&rel[0].rel);
                    MountRequest {
                        kind: MountKind::Bind { source },
                        destination: target
                            .ok_or_else(|| fail(step, "a bind mount needs target="))?
                            .into(),
                        readonly: !kv.contains_key("rw") && !kv.contains_key("readwrite"),
                        chown: false,
                        options: vec![],
                    }
                }
                other => return Err(fail(step, format!("unknown mount type {other:?}"))),
            };
            out.push(req);
        }
        Ok(out)
    }

    fn copy_step(
        &mut self,
        st: &mut StageState,
        stage: &Stage,
        step: &Step,
        cfg: Map<String, Value>,
        c: &CopyArgs,
        add: bool,
    ) -> Result<()> {
        let vars = st.vars();
        let escape = self.file.escape;
        let word = |s: &str| expand::word(s, &vars, escape).map_err(|e| fail(step, e));
        let workdir = cfg
            .get("WorkingDir")
            .and_then(|v| v.as_str())
            .unwrap_or("/")
            .to_string();
        let mut dest = word(&c.dest)?;
        if !dest.starts_with('/') {
            let keep_slash = dest.ends_with('/') || dest == "." || dest.is_empty();
            dest = format!(
                "{}/{}",
                workdir.trim_end_matches('/'),
                dest.trim_start_matches("./")
            );
            if keep_slash && !dest.ends_with('/') {
                dest.push('/');
            }
        }
        let mode = match &c.chmod {
            Some(m) => Some(
                u32::from_str_radix(&word(m)?, 8)
                    .map_err(|_| fail(step, format!("invalid --chmod {m:?}: want octal")))?,
            ),
            None => None,
        };
        let chown = c.chown.as_ref().map(|s| word(s)).transpose()?;
        let from = c.from.as_ref().map(|f| word(f)).transpose()?;
        let from_image = match &from {
            Some(f) => Some(match self.stage_ref(f, stage.index) {
                Some(i) => self.done[&i].clone(),
                None => {
                    Store::open(self.paths)
                        .find_image(f)
                        .map_err(|_| fail(step, format!("--from={f}: no such stage or image")))?
                        .id
                }
            }),
            None => None,
        };
        let staging = Store::open(self.paths).staging_path("build-src");
        crate::fsutil::create_dir_all(&staging)?;
        let result = (|| {
            let mut items = Vec::new();
            let mut digest_text = String::new();
            for src in &c.sources {
                if let Some(name) = src.strip_prefix("<<") {
                    let h = c
                        .heredocs
                        .iter()
                        .find(|h| h.name == name)
                        .ok_or_else(|| fail(step, "missing heredoc"))?;
                    let body = if h.expand {
                        word(&h.content)?
                    } else {
                        h.content.clone()
                    };
                    let path = staging.join(format!("heredoc-{}", items.len()));
                    std::fs::write(&path, &body).map_err(|e| Error::io("writing a heredoc", e))?;
                    digest_text.push_str(&format!(
                        "heredoc {name} {}\n",
                        crate::digest::to_hex(&sha(body.as_bytes()))
                    ));
                    items.push(Item::File {
                        path,
                        name: name.to_string(),
                        mode: 0o644,
                    });
                    continue;
                }
                let src = word(src)?;
                if from_image.is_some() {
                    digest_text.push_str(&format!("image path {src}\n"));
                    items.push(Item::Image { path: src });
                } else if add && (src.starts_with("http://") || src.starts_with("https://")) {
                    let (path, name, digest) = download(&src, &staging, c.checksum.as_deref())
                        .map_err(|e| fail(step, e))?;
                    digest_text.push_str(&format!("url {src} {digest}\n"));
                    items.push(Item::File {
                        path,
                        name,
                        mode: 0o600,
                    });
                } else {
                    let found = self.opts.context.sources(&src).map_err(|e| fail(step, e))?;
                    digest_text.push_str(&format!(
                        "context {src} {}\n",
                        self.opts.context.digest(&found)?
                    ));
                    for s in found {
                        let host = self.opts.context.root.join(&s.rel);
                        if add && !s.is_dir && is_archive(&host) {
                            items.push(Item::Archive { path: host });
                        } else {
                            items.push(Item::Context {
                                rel: s.rel,
                                is_dir: s.is_dir,
                            });
                        }
                    }
                }
            }
            let keyword = if add { "ADD" } else { "COPY" };
            let created_by = format!(
                "/bin/sh -c #(nop) {keyword} {}",
                step.text.lines().next().unwrap_or("")
            );
            let key = Cache::key(
                &st.image,
                &format!(
                    "{keyword} {dest}\nfrom={:?} chown={chown:?} chmod={mode:?}\n{digest_text}",
                    from_image
                ),
            );
            if self.cached(st, &key)? {
                return Ok(());
            }
            let change = FsChange::Copy {
                items,
                dest: dest.clone(),
                chown,
                mode,
                from_image: from_image.clone(),
            };
            let id = self.fs_change(st, step, cfg, &created_by, change)?;
            self.adopt(st, &key, id)
        })();
        let _ = crate::fsutil::remove_tree(&staging);
        result
    }

    fn fs_step(
        &mut self,
        st: &mut StageState,
        step: &Step,
        cfg: Map<String, Value>,
        text: String,
        change: FsChange,
    ) -> Result<()> {
        let created_by = format!("/bin/sh -c #(nop) {text}");
        let key = Cache::key(&st.image, &created_by);
        if self.cached(st, &key)? {
            return Ok(());
        }
        let id = self.fs_change(st, step, cfg, &created_by, change)?;
        self.adopt(st, &key, id)
    }

    /// Makes a created container from the stage's image, changes its files, commits.
    fn fs_change(
        &self,
        st: &StageState,
        step: &Step,
        cfg: Map<String, Value>,
        created_by: &str,
        change: FsChange,
    ) -> Result<String> {
        let mut opts = self.container_options(st, &cfg, vec!["/".into()]);
        opts.user = None;
        opts.workdir = None;
        let record = wc::create(self.paths, self.maps, &opts).map_err(|e| fail(step, e))?;
        let from_record = match &change {
            FsChange::Copy {
                from_image: Some(img),
                ..
            } => {
                let mut o = self.container_options(st, &cfg, vec!["/".into()]);
                o.image = img.clone();
                o.user = None;
                o.workdir = None;
                Some(wc::create(self.paths, self.maps, &o).map_err(|e| fail(step, e))?)
            }
            _ => None,
        };
        let commit = Commit {
            config: cfg,
            created_by: created_by.to_string(),
            extract: self.opts.extract,
        };
        let paths = self.paths;
        let maps = self.maps;
        let context = &self.opts.context;
        let spool = Store::open(paths).staging_path("build-copy");
        let result = wc::change_and_commit(paths, maps, &record, &commit, |fs| match change {
            FsChange::Mkdir(path) => {
                let plan = transfer::Plan {
                    items: vec![],
                    dest: format!("{}/", path.trim_end_matches('/')),
                    owner: None,
                    mode: None,
                    context,
                    from: None,
                };
                transfer::apply(&plan, fs, &spool)
            }
            FsChange::Copy {
                items,
                dest,
                chown,
                mode,
                ..
            } => {
                let owner = match &chown {
                    Some(spec) => Some(resolve_owner(fs, spec)?),
                    None => None,
                };
                let from_fs = match &from_record {
                    Some(r) => Some(crate::container::filesystem::ContainerFs::open(
                        paths, maps, r, false,
                    )?),
                    None => None,
                };
                let plan = transfer::Plan {
                    items,
                    dest,
                    owner,
                    mode,
                    context,
                    from: from_fs.as_ref(),
                };
                transfer::apply(&plan, fs, &spool)
            }
        });
        wc::remove(paths, maps, &record);
        if let Some(r) = &from_record {
            wc::remove(paths, maps, r);
        }
        result.map_err(|e| fail(step, e))
    }

    /// The layers the target stage added on `base`, as one (`--squash`).
    fn squash(&self, image: &str, base: &str) -> Result<String> {
        let store = Store::open(self.paths);
        let rec = store.find_image(image)?;
        let base = store.find_image(base)?;
        if rec.layers.len() <= base.layers.len() + 1 {
            return Ok(image.to_string());
        }
        let config: Value = serde_json::from_slice(&store.read_blob(&rec.config)?)
            .map_err(|e| Error::json("image config", e))?;
        let mut copy_paths = self.paths.clone();
        copy_paths.storage_driver = Some("vfs".into());
        let opts = CreateOptions {
            image: image.to_string(),
            command: vec!["/".into()],
            entrypoint: Some(vec![String::new()]),
            network: NetMode::None,
            create_command: vec!["skiff".into(), "build".into()],
            ..Default::default()
        };
        self.reporter.line("--> Squashing the new layers into one");
        let record = wc::create(&copy_paths, self.maps, &opts)?;
        let commit = Commit {
            config: config["config"].as_object().cloned().unwrap_or_default(),
            created_by: "/bin/sh -c #(nop) squashed".into(),
            extract: self.opts.extract,
        };
        let result = wc::commit_squashed(self.paths, self.maps, &record, &base, &commit);
        wc::remove(self.paths, self.maps, &record);
        let id = result?;
        self.cache.mark_intermediate(&id)?;
        Ok(id)
    }

    /// Names the result, adds --label, and reports it.
    fn finish(&self, image: &str) -> Result<String> {
        let mut id = image.to_string();
        if !self.opts.labels.is_empty() {
            let store = Store::open(self.paths);
            let rec = store.find_image(&id)?;
            let mut config: Value = serde_json::from_slice(&store.read_blob(&rec.config)?)
                .map_err(|e| Error::json("image config", e))?;
            for (k, v) in &self.opts.labels {
                if !config["config"]["Labels"].is_object() {
                    config["config"]["Labels"] = json!({});
                }
                config["config"]["Labels"][k] = json!(v);
            }
            let st = StageState {
                image: id.clone(),
                config,
                args: Vars::new(),
                cmd_set: false,
            };
            let text = self
                .opts
                .labels
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(" ");
            id = self.config_image(&st, &format!("/bin/sh -c #(nop) LABEL {text}"))?;
        }
        self.reporter.line(&format!(
            "COMMIT {}",
            self.opts.tags.first().map(String::as_str).unwrap_or("")
        ));
        let store = Store::open_locked(self.paths)?;
        for t in &self.opts.tags {
            store.tag_image(&id, t)?;
        }
        self.cache.unmark(&id);
        self.reporter.line(&format!("--> {}", &id[..12]));
        for t in &self.opts.tags {
            self.reporter.line(&format!("Successfully tagged {t}"));
        }
        Ok(id)
    }
}

enum FsChange {
    Mkdir(String),
    Copy {
        items: Vec<Item>,
        dest: String,
        chown: Option<String>,
        mode: Option<u32>,
        from_image: Option<String>,
    },
}

fn sha(data: &[u8]) -> Vec<u8> {
    use sha2::Digest;
    sha2::Sha256::digest(data).to_vec()
}

/// `--chown` names through the container's own passwd and group files.
fn resolve_owner(fs: &crate::container::filesystem::ContainerFs, spec: &str) -> Result<(u32, u32)> {
    let read = |p: &str| -> Option<String> {
        let fd = fs.resolve(p, true).ok()?;
        std::fs::read_to_string(format!(
            "/proc/self/fd/{}",
            std::os::fd::AsRawFd::as_raw_fd(&fd)
        ))
        .ok()
    };
    let (passwd, group) = (read("/etc/passwd"), read("/etc/group"));
    let r = crate::container::user::resolve(spec, passwd.as_deref(), group.as_deref())?;
    // A bare user takes its own group, as docker does, else the same number.
    let gid = if spec.contains(':') || passwd.is_some() {
        r.gid
    } else {
        r.uid
    };
    Ok((r.uid, gid))
}

/// True for a file ADD unpacks: a tar archive, plain or compressed.
fn is_archive(path: &std::path::Path) -> bool {
    let Ok(f) = std::fs::File::open(path) else {
        return false;
    };
    let Ok((mut r, _)) = crate::layer::compression::decompressed(f) else {
        return false;
    };
    let mut head = [0u8; 512];
    let mut n = 0;
    while n < head.len() {
        match std::io::Read::read(&mut r, &mut head[n..]) {
            Ok(0) | Err(_) => break,
            Ok(k) => n += k,
        }
    }
    n == 512 && &head[257..262] == b"ustar"
}

/// ADD of a URL: fetched to `dir`; returns the file, its name and its digest.
fn download(
    url: &str,
    dir: &std::path::Path,
    checksum: Option<&str>,
) -> std::result::Result<(PathBuf, String, String), String> {
    let name = url
        .split(['?', '#'])
        .next()
        .unwrap_or("")
        .rsplit('/')
        .next()
        .filter(|n| !n.is_empty())
        .unwrap_or("index.html")
        .to_string();
    let resp = ureq::get(url)
        .call()
        .map_err(|e| format!("fetching {url}: {e}"))?;
    let mut body = Vec::new();
    resp.into_reader()
        .take(1 << 32)
        .read_to_end(&mut body)
        .map_err(|e| format!("fetching {url}: {e}"))?;
    let digest = format!("sha256:{}", crate::digest::to_hex(&sha(&body)));
    if let Some(want) = checksum {
        if want != digest {
            return Err(format!("checksum of {url} is {digest}, not {want}"));
        }
    }
    let path = dir.join(format!("url-{}", &digest[7..19]));
    std::fs::write(&path, &body).map_err(|e| format!("saving {url}: {e}"))?;
    Ok((path, name, digest))
}

use std::io::Read as _;
