//! COPY, ADD and WORKDIR: what to put where, keyed for the cache by content, and put
//! into a created container from the stage's image, which is then committed.

use super::cache::Cache;
use super::containerfile::Stage;
use super::executor::{fail, Builder, StageState};
use super::expand;
use super::instruction::{CopyArgs, Step};
use super::transfer::{self, Item};
use super::work_container::{self as wc, Commit};
use crate::error::{Error, Result};
use crate::store::Store;
use serde_json::{Map, Value};
use std::io::Read as _;
use std::path::PathBuf;

impl Builder<'_> {
    pub(super) fn copy_step(
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
                        crate::digest::Digest::of_bytes(body.as_bytes()).hex()
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

    pub(super) fn fs_step(
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
    pub(super) fn fs_change(
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
}

pub(super) enum FsChange {
    Mkdir(String),
    Copy {
        items: Vec<Item>,
        dest: String,
        chown: Option<String>,
        mode: Option<u32>,
        from_image: Option<String>,
    },
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
    let r = crate::sandbox::user::resolve(spec, passwd.as_deref(), group.as_deref())?;
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
    let digest = crate::digest::Digest::of_bytes(&body).to_string();
    if let Some(want) = checksum {
        if want != digest {
            return Err(format!("checksum of {url} is {digest}, not {want}"));
        }
    }
    let path = dir.join(format!("url-{}", &digest[7..19]));
    std::fs::write(&path, &body).map_err(|e| format!("saving {url}: {e}"))?;
    Ok((path, name, digest))
}
