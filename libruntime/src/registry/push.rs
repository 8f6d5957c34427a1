//! `push`: blobs the registry has are skipped (HEAD), blobs it has in another
//! repository are mounted, the rest uploaded in one PUT or, when large, in chunks;
//! then the manifest, exactly as stored, so its digest stays the image's.

use super::client::{Body, Client, ClientOptions};
use super::config::RegistriesConf;
use super::manifest;
use super::progress::Progress;
use super::sources;
use crate::digest::Digest;
use crate::digest::DigestError;
use crate::error::{Error, Result};
use crate::reference::Reference;
use crate::registry::RegistryError;
use crate::store::{ImageRecord, Store};
use std::sync::Mutex;

const PARALLEL: usize = 3;
/// Blobs up to this size go in one request; bigger ones in chunks of this size.
const CHUNK: u64 = 32 << 20;

pub struct PushOptions {
    pub client: ClientOptions,
}

struct Blob {
    digest: Digest,
    size: u64,
    kind: &'static str,
}

/// The client and repository for pushing to `dest`.
fn connect(
    store: &Store,
    dest: &Reference,
    opts: &PushOptions,
) -> Result<(Client, super::config::Endpoint)> {
    let conf = RegistriesConf::load(store.paths.rootless)?;
    let host = dest.domain.clone().unwrap_or_else(|| "docker.io".into());
    conf.check_allowed(&format!("{host}/{}", dest.path))?;
    let ep = conf
        .endpoints(&host, &dest.path, false)
        .pop()
        .expect("an endpoint for every reference");
    let client = Client::for_endpoint(&ep, &conf, &opts.client)?;
    Ok((client, ep))
}

/// Pushes a manifest list: every image it names, by digest, then the list itself as
/// `dest`'s tag; returns the list's digest.
pub fn push_list(
    store: &Store,
    index_bytes: &[u8],
    images: &[ImageRecord],
    dest: &Reference,
    opts: &PushOptions,
    progress: &dyn Progress,
) -> Result<Digest> {
    let untagged = Reference {
        tag: None,
        digest: None,
        ..dest.clone()
    };
    for image in images {
        push(store, image, &untagged, opts, progress)?;
    }
    let (client, ep) = connect(store, dest, opts)?;
    let repo = ep.repository.clone();
    let digest = Digest::of_bytes(index_bytes);
    let tag = dest.tag.clone().unwrap_or_else(|| digest.to_string());
    progress.note("Writing manifest list to image destination");
    client.call(
        "PUT",
        &format!("/v2/{repo}/manifests/{tag}"),
        &[format!("repository:{repo}:pull,push")],
        &[("Content-Type", manifest::OCI_INDEX.to_string())],
        Body::Bytes(index_bytes),
    )?;
    Ok(digest)
}

/// Pushes `image` as `dest` (fully qualified); returns the manifest digest.
pub fn push(
    store: &Store,
    image: &ImageRecord,
    dest: &Reference,
    opts: &PushOptions,
    progress: &dyn Progress,
) -> Result<Digest> {
    let digest = push_image(store, image, dest, opts, progress)?;
    let e = crate::events::Event::new(
        crate::events::EventType::Image,
        crate::events::EventStatus::Push,
    )
    .id(&image.id)
    .name(&dest.tagged_name(crate::reference::DefaultDomain::DockerHub));
    crate::events::emit(&store.paths, &e);
    Ok(digest)
}

fn push_image(
    store: &Store,
    image: &ImageRecord,
    dest: &Reference,
    opts: &PushOptions,
    progress: &dyn Progress,
) -> Result<Digest> {
    let (client, ep) = connect(store, dest, opts)?;
    let repo = ep.repository.clone();
    let mut blobs: Vec<Blob> = image
        .layers
        .iter()
        .map(|l| Blob {
            digest: l.blob.clone(),
            size: l.blob_size,
            kind: "blob",
        })
        .collect();
    let config_size = std::fs::metadata(store.blob_path(&image.config))
        .map(|m| m.len())
        .map_err(|e| Error::io("reading the image config", e))?;
    blobs.push(Blob {
        digest: image.config.clone(),
        size: config_size,
        kind: "config",
    });
    progress.note("Getting image source signatures");
    upload_all(store, &client, &repo, &blobs, progress)?;
    let manifest = store.read_blob(&image.digest)?;
    let media_type = serde_json::from_slice::<serde_json::Value>(&manifest)
        .ok()
        .and_then(|v| v.get("mediaType")?.as_str().map(String::from))
        .unwrap_or_else(|| manifest::OCI_MANIFEST.to_string());
    progress.note("Writing manifest to image destination");
    let tag = dest.tag.clone().unwrap_or_else(|| image.digest.to_string());
    let r = client.call(
        "PUT",
        &format!("/v2/{repo}/manifests/{tag}"),
        &[format!("repository:{repo}:pull,push")],
        &[("Content-Type", media_type)],
        Body::Bytes(&manifest),
    )?;
    if let Some(d) = r.header("docker-content-digest") {
        if d != image.digest.as_str() {
            return Err(Error::Digest(DigestError::Mismatch {
                what: "pushed manifest".into(),
                expected: image.digest.to_string(),
                actual: d.to_string(),
            }));
        }
    }
    let full = format!("{}/{repo}", ep.host);
    for b in &blobs {
        sources::record(&store.paths, &b.digest, &full);
    }
    Ok(image.digest.clone())
}

fn upload_all(
    store: &Store,
    c: &Client,
    repo: &str,
    blobs: &[Blob],
    progress: &dyn Progress,
) -> Result<()> {
    let todo = Mutex::new((0..blobs.len()).rev().collect::<Vec<_>>());
    let first_err: Mutex<Option<Error>> = Mutex::new(None);
    std::thread::scope(|s| {
        for _ in 0..PARALLEL.min(blobs.len()) {
            s.spawn(|| loop {
                let Some(i) = todo.lock().expect("queue").pop() else {
                    return;
                };
                if let Err(e) = upload_one(store, c, repo, &blobs[i], progress) {
                    first_err.lock().expect("error").get_or_insert(e);
                    todo.lock().expect("queue").clear();
                }
            });
        }
    });
    match first_err.into_inner().expect("error") {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// Appends `digest=` to an upload location, which may already have a query.
fn with_digest(location: &str, d: &Digest) -> String {
    let sep = if location.contains('?') { '&' } else { '?' };
    format!("{location}{sep}digest={}", d.as_str().replace(':', "%3A"))
}

fn upload_one(
    store: &Store,
    c: &Client,
    repo: &str,
    b: &Blob,
    progress: &dyn Progress,
) -> Result<()> {
    let id = format!("{} {}", b.kind, b.digest);
    let mut scopes = vec![format!("repository:{repo}:pull,push")];
    match c.call(
        "HEAD",
        &format!("/v2/{repo}/blobs/{}", b.digest),
        &scopes,
        &[],
        Body::Empty,
    ) {
        Ok(_) => {
            progress.end(&id, "skipped: already exists");
            return Ok(());
        }
        Err(Error::Registry(RegistryError::NotFound(_))) => {}
        Err(e) => return Err(e),
    }
    let host_prefix = format!("{}/", c.host);
    let from = sources::of(&store.paths, &b.digest)
        .into_iter()
        .filter_map(|s| s.strip_prefix(&host_prefix).map(String::from))
        .find(|r| r != repo);
    let start = match &from {
        Some(src) => {
            scopes.push(format!("repository:{src}:pull"));
            let r = c.call(
                "POST",
                &format!("/v2/{repo}/blobs/uploads/?mount={}&from={src}", b.digest),
                &scopes,
                &[],
                Body::Empty,
            )?;
            if r.status() == 201 {
                progress.end(&id, &format!("mounted from {src}"));
                return Ok(());
            }
            r
        }
        None => c.call(
            "POST",
            &format!("/v2/{repo}/blobs/uploads/"),
            &scopes,
            &[],
            Body::Empty,
        )?,
    };
    let mut location = start
        .header("location")
        .ok_or_else(|| {
            Error::Registry(RegistryError::Malformed(
                "the registry gave no upload location".into(),
            ))
        })?
        .to_string();
    progress.begin(&id, b.size);
    let path = store.blob_path(&b.digest);
    if b.size > CHUNK {
        let mut offset = 0;
        while offset < b.size {
            let len = CHUNK.min(b.size - offset);
            let r = c.call(
                "PATCH",
                &location,
                &scopes,
                &[
                    ("Content-Type", "application/octet-stream".into()),
                    ("Content-Range", format!("{offset}-{}", offset + len - 1)),
                ],
                Body::File {
                    path: &path,
                    offset,
                    len,
                },
            )?;
            location = r.header("location").unwrap_or(&location).to_string();
            offset += len;
            progress.advance(&id, len);
        }
        c.call(
            "PUT",
            &with_digest(&location, &b.digest),
            &scopes,
            &[],
            Body::Empty,
        )?;
    } else {
        c.call(
            "PUT",
            &with_digest(&location, &b.digest),
            &scopes,
            &[("Content-Type", "application/octet-stream".into())],
            Body::File {
                path: &path,
                offset: 0,
                len: b.size,
            },
        )?;
        progress.advance(&id, b.size);
    }
    progress.end(&id, "done");
    Ok(())
}
