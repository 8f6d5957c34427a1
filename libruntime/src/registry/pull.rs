//! `pull`: short names resolved through registries.conf, mirrors tried first, the
//! platform picked from manifest lists, layers fetched in parallel into staging and
//! verified against their digests before anything enters the store.

use super::client::{Body, Client, ClientOptions};
use super::config::{Endpoint, RegistriesConf};
use super::manifest::{self, Descriptor, Manifest, Platform};
use super::progress::Progress;
use super::sources;
use crate::digest::DigestError;
use crate::digest::{Digest, HashingWriter};
use crate::error::{Error, Result};
use crate::events::{Event, EventStatus, EventType};
use crate::layer::ExtractOptions;
use crate::reference::Reference;
use crate::registry::RegistryError;
use crate::store::{ImageRecord, ImageSpec, LayerRef, LayerSource, Store};
use std::io::{Read, Write};
use std::path::PathBuf;
use std::sync::Mutex;

/// Layers fetched at once.
const PARALLEL: usize = 3;
const BLOB_ATTEMPTS: u32 = 3;

#[derive(Debug, Clone)]
pub struct PullOptions {
    pub client: ClientOptions,
    pub platform: Platform,
    pub extract: ExtractOptions,
}

/// The fully qualified names `name` may mean, in the order to try them.
pub fn candidates(conf: &RegistriesConf, name: &str) -> Result<Vec<Reference>> {
    let r = Reference::parse(name)?;
    if r.domain.is_some() {
        return Ok(vec![r]);
    }
    let names = conf.candidates(&r.path);
    if names.is_empty() {
        // podman's rule: no guessing a registry the configuration does not name.
        return Err(Error::InvalidArgument(format!(
            "short name {name:?} did not resolve to an alias and no unqualified-search registries are defined in registries.conf: use a fully qualified name"
        )));
    }
    names
        .into_iter()
        .map(|n| {
            let mut c = Reference::parse(&n)?;
            if c.tag.is_none() && c.digest.is_none() {
                c.tag = r.tag.clone();
                c.digest = r.digest.clone();
            }
            Ok(c)
        })
        .collect()
}

fn host_of(r: &Reference) -> &str {
    r.domain.as_deref().unwrap_or("docker.io")
}

/// Pulls `name` into the store (which must not be locked: downloads run unlocked).
pub fn pull(
    store: &Store,
    name: &str,
    opts: &PullOptions,
    progress: &dyn Progress,
) -> Result<ImageRecord> {
    let img = pull_from_registries(store, name, opts, progress)?;
    let e = Event::new(EventType::Image, EventStatus::Pull)
        .id(&img.id)
        .name(name);
    crate::events::emit(&store.paths, &e);
    Ok(img)
}

fn pull_from_registries(
    store: &Store,
    name: &str,
    opts: &PullOptions,
    progress: &dyn Progress,
) -> Result<ImageRecord> {
    let conf = RegistriesConf::load(store.paths.rootless)?;
    let mut last = None;
    for r in candidates(&conf, name)? {
        let full = r.repository(crate::reference::DefaultDomain::DockerHub);
        progress.note(&format!("Trying to pull {full}..."));
        conf.check_allowed(&full)?;
        for ep in conf.endpoints(host_of(&r), &r.path, true) {
            match pull_from(store, &conf, &ep, &r, opts, progress) {
                Ok(img) => return Ok(img),
                // The next registry in the search list may have it.
                Err(e @ Error::Registry(_)) => last = Some(e),
                Err(e) => return Err(e),
            }
        }
    }
    Err(last.unwrap_or_else(|| {
        Error::Registry(RegistryError::NotFound(format!(
            "{name}: no registry to pull from"
        )))
    }))
}

fn get_manifest(
    c: &Client,
    ep: &Endpoint,
    reference: &str,
    scopes: &[String],
) -> Result<(Vec<u8>, String)> {
    let r = c.call(
        "GET",
        &format!("/v2/{}/manifests/{reference}", ep.repository),
        scopes,
        &[("Accept", manifest::accept())],
        Body::Empty,
    )?;
    let ctype = r.content_type().to_string();
    let mut bytes = Vec::new();
    r.into_reader()
        .take(16 << 20)
        .read_to_end(&mut bytes)
        .map_err(|e| {
            Error::Registry(RegistryError::Transfer(format!(
                "reading manifest {reference}: {e}"
            )))
        })?;
    Ok((bytes, ctype))
}

fn verify(what: &str, bytes: &[u8], want: &Digest) -> Result<()> {
    let got = Digest::of_bytes(bytes);
    if &got != want {
        return Err(Error::Digest(DigestError::Mismatch {
            what: what.into(),
            expected: want.to_string(),
            actual: got.to_string(),
        }));
    }
    Ok(())
}

fn parse_digest(d: &str) -> Result<Digest> {
    Digest::parse(d).map_err(|_| {
        Error::Registry(RegistryError::Malformed(format!(
            "the registry sent a bad digest {d:?}"
        )))
    })
}

fn pull_from(
    store: &Store,
    conf: &RegistriesConf,
    ep: &Endpoint,
    r: &Reference,
    opts: &PullOptions,
    progress: &dyn Progress,
) -> Result<ImageRecord> {
    let client = Client::for_endpoint(ep, conf, &opts.client)?;
    let scopes = vec![format!("repository:{}:pull", ep.repository)];
    let reference = match (&r.digest, &r.tag) {
        (Some(d), _) => d.to_string(),
        (None, Some(t)) => t.clone(),
        (None, None) => crate::reference::DEFAULT_TAG.to_string(),
    };
    let (mut bytes, ctype) = get_manifest(&client, ep, &reference, &scopes)?;
    if let Some(d) = &r.digest {
        verify("manifest", &bytes, d)?;
    }
    let mut parsed = manifest::parse(&bytes, &ctype)?;
    if let Manifest::Index(entries) = &parsed {
        let chosen = manifest::choose(entries, &opts.platform)?;
        let d = parse_digest(&chosen.digest)?;
        let (b, ct) = get_manifest(&client, ep, d.as_str(), &scopes)?;
        verify("manifest", &b, &d)?;
        parsed = manifest::parse(&b, &ct)?;
        bytes = b;
    }
    let Manifest::Image { config, layers } = parsed else {
        return Err(Error::Registry(RegistryError::Malformed(
            "a manifest list points to another list".into(),
        )));
    };
    progress.note("Getting image source signatures");
    let config_digest = parse_digest(&config.digest)?;
    let config_bytes = fetch_small(&client, ep, &config_digest, &scopes)?;
    let parsed_config = crate::store::parse_config_bytes(&config_bytes)?;
    let diff_ids: Vec<Digest> = parsed_config
        .rootfs()
        .diff_ids()
        .iter()
        .map(|d| parse_digest(d))
        .collect::<Result<_>>()?;
    if diff_ids.len() != layers.len() {
        return Err(Error::Registry(RegistryError::Malformed(format!(
            "the manifest has {} layers but the config {}",
            layers.len(),
            diff_ids.len()
        ))));
    }
    let staged = download_layers(store, &client, ep, &layers, &diff_ids, &scopes, progress)?;
    let names = match (&r.tag, &r.digest) {
        (Some(t), _) => vec![format!("{}/{}:{t}", host_of(r), r.path)],
        (None, None) => vec![format!("{}/{}:latest", host_of(r), r.path)],
        (None, Some(_)) => vec![],
    };
    let result = store_image(
        store,
        &layers,
        &diff_ids,
        &staged,
        config_bytes,
        bytes,
        names,
        opts,
    );
    for p in staged.iter().flatten() {
        let _ = std::fs::remove_file(p);
    }
    let img = result?;
    progress.note("Writing manifest to image destination");
    let repo = format!("{}/{}", ep.host, ep.repository);
    for l in &img.layers {
        sources::record(&store.paths, &l.blob, &repo);
    }
    Ok(img)
}

fn get_blob(c: &Client, ep: &Endpoint, d: &Digest, scopes: &[String]) -> Result<ureq::Response> {
    let path = format!("/v2/{}/blobs/{d}", ep.repository);
    c.call("GET", &path, scopes, &[], Body::Empty)
}

/// Config blobs are small: read whole, verified.
fn fetch_small(c: &Client, ep: &Endpoint, d: &Digest, scopes: &[String]) -> Result<Vec<u8>> {
    let r = get_blob(c, ep, d, scopes)?;
    let mut bytes = Vec::new();
    r.into_reader()
        .take(64 << 20)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::Registry(RegistryError::Transfer(format!("reading {d}: {e}"))))?;
    verify("config", &bytes, d)?;
    Ok(bytes)
}

/// Whether the store already has this layer, shipped as this blob.
fn have_layer(store: &Store, blob: &Digest, diff_id: &Digest) -> bool {
    matches!(store.layer_record(diff_id), Ok(Some(rec)) if &rec.layer.blob == blob)
        && store.has_blob(blob)
}

/// Fetches every missing layer blob into staging, a few at a time; the paths come back
/// in layer order (None for layers already stored).
fn download_layers(
    store: &Store,
    c: &Client,
    ep: &Endpoint,
    layers: &[Descriptor],
    diff_ids: &[Digest],
    scopes: &[String],
    progress: &dyn Progress,
) -> Result<Vec<Option<PathBuf>>> {
    let todo: Mutex<Vec<usize>> = Mutex::new((0..layers.len()).rev().collect());
    let results: Mutex<Vec<Option<Result<Option<PathBuf>>>>> =
        Mutex::new((0..layers.len()).map(|_| None).collect());
    crate::fsutil::create_dir_all(&store.paths.tmp_dir())?;
    std::thread::scope(|s| {
        for _ in 0..PARALLEL.min(layers.len()) {
            s.spawn(|| loop {
                let Some(i) = todo.lock().expect("queue").pop() else {
                    return;
                };
                let desc = &layers[i];
                // Ok(None): the store has the layer already.
                let got = parse_digest(&desc.digest).and_then(|d| {
                    if have_layer(store, &d, &diff_ids[i]) {
                        progress.end(&format!("blob {d}"), "skipped: already exists");
                        return Ok(None);
                    }
                    download_blob(store, c, ep, &d, desc.size, scopes, progress).map(Some)
                });
                let failed = got.is_err();
                results.lock().expect("results")[i] = Some(got);
                if failed {
                    todo.lock().expect("queue").clear();
                }
            });
        }
    });
    let mut out = Vec::new();
    let mut first_err = None;
    for r in results.into_inner().expect("results") {
        match r {
            Some(Ok(p)) => out.push(p),
            Some(Err(e)) => {
                first_err.get_or_insert(e);
                out.push(None);
            }
            None => out.push(None),
        }
    }
    if let Some(e) = first_err {
        for p in out.iter().flatten() {
            let _ = std::fs::remove_file(p);
        }
        return Err(e);
    }
    Ok(out)
}

/// One blob into a staging file, its size and digest checked; transient failures and
/// cut transfers are tried again.
fn download_blob(
    store: &Store,
    c: &Client,
    ep: &Endpoint,
    d: &Digest,
    size: u64,
    scopes: &[String],
    progress: &dyn Progress,
) -> Result<PathBuf> {
    let mut last = None;
    for attempt in 0..BLOB_ATTEMPTS {
        let path = store.staging_path("pull");
        match try_download(c, ep, d, size, scopes, progress, &path) {
            Ok(()) => {
                progress.end(&format!("blob {d}"), "done");
                return Ok(path);
            }
            Err(e) => {
                let _ = std::fs::remove_file(&path);
                // Only a transfer cut mid-way is worth another try: the client has
                // retried failed requests already.
                let retry = matches!(e, Error::Io { .. });
                if !retry {
                    return Err(e);
                }
                last = Some(e);
                std::thread::sleep(std::time::Duration::from_millis(300 << attempt));
            }
        }
    }
    Err(last.expect("at least one attempt"))
}

fn try_download(
    c: &Client,
    ep: &Endpoint,
    d: &Digest,
    size: u64,
    scopes: &[String],
    progress: &dyn Progress,
    path: &std::path::Path,
) -> Result<()> {
    let r = get_blob(c, ep, d, scopes)?;
    let id = format!("blob {d}");
    progress.begin(&id, size);
    let file = std::fs::File::create_new(path)
        .map_err(|e| Error::io(format!("creating {}", path.display()), e))?;
    let mut w = HashingWriter::new(std::io::BufWriter::with_capacity(1 << 20, file));
    let mut reader = r.into_reader();
    let mut buf = vec![0u8; 256 << 10];
    let mut got = 0u64;
    loop {
        let n = reader.read(&mut buf).map_err(|e| {
            Error::io(
                format!("download of {d} was cut short after {got} of {size} bytes"),
                e,
            )
        })?;
        if n == 0 {
            break;
        }
        got += n as u64;
        if got > size {
            return Err(Error::Registry(RegistryError::Malformed(format!(
                "blob {d} is larger than the {size} bytes announced"
            ))));
        }
        w.write_all(&buf[..n])
            .map_err(|e| Error::io("writing a download", e))?;
        progress.advance(&id, n as u64);
    }
    let (inner, digest, _) = w.finish();
    inner
        .into_inner()
        .map_err(|e| Error::io("writing a download", e.into_error()))?;
    if got != size {
        let eof = std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            format!("{got} of {size} bytes"),
        );
        return Err(Error::io(format!("download of {d} was cut short"), eof));
    }
    if &digest != d {
        return Err(Error::Digest(DigestError::Mismatch {
            what: "a downloaded blob".into(),
            expected: d.to_string(),
            actual: digest.to_string(),
        }));
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn store_image(
    store: &Store,
    layers: &[Descriptor],
    diff_ids: &[Digest],
    staged: &[Option<PathBuf>],
    config: Vec<u8>,
    manifest: Vec<u8>,
    names: Vec<String>,
    opts: &PullOptions,
) -> Result<ImageRecord> {
    let locked = Store::open_locked(&store.paths)?;
    let result = (|| {
        let mut refs: Vec<LayerRef> = Vec::new();
        for (i, desc) in layers.iter().enumerate() {
            let blob = parse_digest(&desc.digest)?;
            if let Some(p) = &staged[i] {
                // Verified while downloading: moved into the store, not copied.
                locked.adopt_blob(p, &blob)?;
            }
            let layer = locked.ingest_layer(
                LayerSource {
                    reader: &mut std::io::empty(),
                    blob: Some(blob),
                    diff_id: Some(diff_ids[i].clone()),
                },
                opts.extract,
            )?;
            refs.push(layer);
        }
        locked.add_image(ImageSpec {
            config,
            layers: refs,
            manifest: Some(manifest),
            names,
        })
    })();
    if result.is_err() {
        locked.discard_unreferenced()?;
    }
    result
}
