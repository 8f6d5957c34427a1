//! Runs a Containerfile: the stages the target needs, in order, each step cached as an
//! image; the target stage's last image is the result, named as asked.

use super::cache::Cache;
use super::config_steps as cfgs;
use super::containerfile::{Containerfile, Stage};
use super::context::Context;
use super::copy_step::FsChange;
use super::expand::{self, Vars};
use super::instruction::{Instruction, Step};
use super::work_container::{self as wc, Commit};
use super::BuildError;
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
    /// `--ulimit`s for RUN steps.
    pub ulimits: Vec<crate::container::options::Ulimit>,
}

pub(super) struct StageState {
    pub(super) image: String,
    pub(super) config: Value,
    /// ARGs declared in this stage, with their values.
    pub(super) args: Vars,
    pub(super) cmd_set: bool,
}

impl StageState {
    pub(super) fn cfg(&self) -> Map<String, Value> {
        self.config["config"]
            .as_object()
            .cloned()
            .unwrap_or_default()
    }

    /// What `$VAR` means in this stage: its ARGs, overridden by the image's ENV.
    pub(super) fn vars(&self) -> Vars {
        let mut v = self.args.clone();
        v.extend(cfgs::env_vars(&self.cfg()));
        v
    }
}

pub struct Builder<'a> {
    pub(super) paths: &'a Paths,
    pub(super) maps: &'a IdMaps,
    pub(super) opts: &'a BuildOptions,
    pub(super) file: Containerfile,
    pub(super) reporter: &'a dyn Reporter,
    pub(super) cache: Cache,
    pub(super) global: Vars,
    /// Image of each finished stage, by index.
    pub(super) done: HashMap<usize, String>,
    /// The image each stage started from, by index.
    pub(super) bases: HashMap<usize, String>,
    pub(super) step_no: usize,
    pub(super) step_total: usize,
}

/// An image id as buildah's step lines show it: eleven hex digits.
fn short_id(id: &str) -> &str {
    &id[..11.min(id.len())]
}

pub(super) fn fail(step: &Step, e: impl std::fmt::Display) -> Error {
    BuildError::Step {
        keyword: step.keyword.to_string(),
        text: step.text.lines().next().unwrap_or("").to_string(),
        line: step.line,
        reason: e.to_string(),
    }
    .into()
}

/// Builds and returns the image id.
pub fn build(
    paths: &Paths,
    maps: &IdMaps,
    opts: &BuildOptions,
    reporter: &dyn Reporter,
) -> Result<String> {
    let file = Containerfile::parse(&opts.containerfile).map_err(|error| BuildError::Parse {
        file: opts.file_name.clone(),
        error,
    })?;
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
        Some(t) => b
            .file
            .stage(t)
            .map(|s| s.index)
            .ok_or_else(|| Error::from(BuildError::StageNotFound(t.to_string())))?,
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
    let id = b.finish(&result)?;
    let name = opts.tags.first().cloned().unwrap_or_default();
    let e = crate::events::Event::new(
        crate::events::EventType::Image,
        crate::events::EventStatus::Build,
    );
    crate::events::emit(paths, &e.id(&id).name(&name));
    Ok(id)
}

impl Builder<'_> {
    /// The stage a FROM or --from names, if it names one that comes before `before`.
    pub(super) fn stage_ref(&self, name: &str, before: usize) -> Option<usize> {
        self.file
            .stage(name)
            .map(|s| s.index)
            .filter(|i| *i < before)
    }

    pub(super) fn base_name(&self, stage: &Stage) -> Result<String> {
        expand::word(&stage.base, &self.global, self.file.escape).map_err(Error::InvalidArgument)
    }

    /// The target and the stages it needs, in file order.
    pub(super) fn needed(&self, target: usize) -> Result<Vec<usize>> {
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

    pub(super) fn announce(&mut self, stage: &Stage, text: &str) {
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

    pub(super) fn run_stage(&mut self, stage: &Stage) -> Result<String> {
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
                    .map_err(|_| BuildError::BaseNotFound {
                        file: self.opts.file_name.clone(),
                        line: stage.line,
                        base: base.clone(),
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
    pub(super) fn scratch(&self) -> Result<String> {
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

    pub(super) fn step(&mut self, st: &mut StageState, stage: &Stage, step: &Step) -> Result<()> {
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
    pub(super) fn cached(&self, st: &mut StageState, key: &str) -> Result<bool> {
        if self.opts.no_cache {
            return Ok(false);
        }
        let store = Store::open(self.paths);
        let Some(img) = self.cache.lookup(&store, key) else {
            return Ok(false);
        };
        self.reporter.line(&format!("--> Using cache {}", img.id));
        self.reporter.line(&format!("--> {}", short_id(&img.id)));
        st.config = serde_json::from_slice(&store.read_blob(&img.config)?)
            .map_err(|e| Error::json("image config", e))?;
        st.image = img.id;
        Ok(true)
    }

    pub(super) fn adopt(&self, st: &mut StageState, key: &str, id: String) -> Result<()> {
        self.cache.record(key, &id)?;
        self.cache.mark_intermediate(&id)?;
        let store = Store::open(self.paths);
        let rec = store.find_image(&id)?;
        st.config = serde_json::from_slice(&store.read_blob(&rec.config)?)
            .map_err(|e| Error::json("image config", e))?;
        st.image = id;
        self.reporter.line(&format!("--> {}", short_id(&st.image)));
        Ok(())
    }

    /// A new image with the stage's config and the parent's layers.
    pub(super) fn config_image(&self, st: &StageState, created_by: &str) -> Result<String> {
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

    /// The layers the target stage added on `base`, as one (`--squash`).
    pub(super) fn squash(&self, image: &str, base: &str) -> Result<String> {
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
    pub(super) fn finish(&self, image: &str) -> Result<String> {
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
        self.reporter.line(&format!("--> {}", short_id(&id)));
        for t in &self.opts.tags {
            self.reporter.line(&format!("Successfully tagged {t}"));
        }
        Ok(id)
    }
}
