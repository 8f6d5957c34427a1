//! RUN steps: a container from the stage's image, started like any `run`, its output
//! streamed, then committed as the step's layer.

use super::cache::Cache;
use super::config_steps as cfgs;
use super::executor::{fail, Builder, StageState};
use super::instruction::{Command, Step};
use super::work_container::{self as wc, Commit};
use super::BuildError;
use crate::container::options::{CreateOptions, NetMode};
use crate::error::Result;
use crate::volume::mounts::{MountKind, MountRequest};
use serde_json::{json, Map, Value};
use std::collections::HashMap;

impl Builder<'_> {
    pub(super) fn container_options(
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
            ulimits: self.opts.ulimits.clone(),
            create_command: vec!["skiff".into(), "build".into()],
            ..Default::default()
        }
    }

    pub(super) fn run_step(
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
            let code = wc::run(self.paths, self.maps, &record, self.reporter)?;
            if code != 0 {
                return Err(BuildError::CommandFailed(code).into());
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
    pub(super) fn run_mounts(
        &self,
        step: &Step,
        mounts: &[String],
    ) -> Result<Vec<crate::volume::mounts::MountRequest>> {
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
}
