//! `skiff system service`: the Docker Engine API on a unix socket (or a loopback TCP
//! port), for docker, compose and the SDKs. It keeps no state of its own: each request
//! runs the library calls the matching CLI command runs, on tokio's blocking pool, so
//! the CLI and the API always agree. The only thing held in memory is an attach that
//! waits for its container's start (docker attaches before it starts), so the start
//! can hand it the supervisor that waits for that client. It exits after `--time` idle
//! seconds.
//!
//! `route.rs` names the endpoint, `query.rs` reads the query, `body.rs` makes the
//! responses, `error.rs` maps failures to docker's status codes. `system.rs`,
//! `containers.rs`, `create.rs`, `exec.rs`, `stats.rs`, `images.rs`, `registry.rs`
//! (pull, push, auth), `build.rs`, `networks.rs`, `volumes.rs`, `disk_usage.rs` and
//! `events.rs` answer; `inspect.rs` completes inspect answers to dockerd's shape;
//! `stream.rs` relays hijacked connections and logs; `child.rs`, `archive.rs` and
//! `container_files.rs` hand work that needs the storage user namespace to a `skiff`
//! child.

pub mod archive;
pub mod body;
pub mod build;
pub mod child;
pub mod container_files;
pub mod containers;
pub mod create;
pub mod disk_usage;
pub mod error;
pub mod events;
pub mod exec;
pub mod images;
pub mod inspect;
pub mod networks;
pub mod query;
pub mod registry;
pub mod route;
pub mod stats;
pub mod stream;
pub mod system;
pub mod volumes;

use crate::Ctx;
use body::Body;
use bytes::Bytes;
use error::{ApiError, ApiResult};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::header::{HeaderName, HeaderValue};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use query::Query;
use route::Route;
use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

/// Where the service listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Listen {
    Unix(std::path::PathBuf),
    Tcp(std::net::SocketAddr),
}

impl Listen {
    /// `unix:///PATH` or `tcp://HOST:PORT`; none means the default socket.
    pub fn parse(uri: Option<&str>, ctx: &Ctx) -> anyhow::Result<Listen> {
        let Some(uri) = uri else {
            return Ok(Listen::Unix(default_socket(ctx)));
        };
        if let Some(p) = uri.strip_prefix("unix://") {
            if !p.starts_with('/') {
                anyhow::bail!("invalid socket {uri:?}: want unix:///ABSOLUTE/PATH");
            }
            return Ok(Listen::Unix(p.into()));
        }
        if let Some(a) = uri.strip_prefix("tcp://") {
            let addr: std::net::SocketAddr = a
                .parse()
                .map_err(|_| anyhow::anyhow!("invalid address {uri:?}: want tcp://IP:PORT"))?;
            return Ok(Listen::Tcp(addr));
        }
        anyhow::bail!("invalid URI {uri:?}: want unix:///PATH or tcp://IP:PORT")
    }
}

/// `$XDG_RUNTIME_DIR/skiff/skiff.sock` rootless, /run/skiff/skiff.sock as root.
pub fn default_socket(ctx: &Ctx) -> std::path::PathBuf {
    if !ctx.paths.rootless {
        return "/run/skiff/skiff.sock".into();
    }
    match std::env::var_os("XDG_RUNTIME_DIR") {
        Some(d) => std::path::Path::new(&d).join("skiff/skiff.sock"),
        None => ctx.paths.runroot.join("skiff.sock"),
    }
}

/// A supervisor that waits for its first client, handed from a start to an attach.
type Handoff = Option<libruntime::container::spawn::Spawned>;

struct Service {
    ctx: Arc<Ctx>,
    /// Attaches waiting for their container's start, by container id.
    waiting: Mutex<HashMap<String, Vec<oneshot::Sender<Handoff>>>>,
    busy: AtomicUsize,
    last: Mutex<Instant>,
}

impl Service {
    fn touch(&self) {
        if let Ok(mut l) = self.last.lock() {
            *l = Instant::now();
        }
    }
}

/// Processes an exec started and waits for itself; the reaper leaves them alone.
static EXECS: Mutex<Vec<i32>> = Mutex::new(Vec::new());

/// An exec'd process has been waited for.
pub fn exec_reaped(pid: i32) {
    if let Ok(mut e) = EXECS.lock() {
        e.retain(|p| *p != pid);
    }
}

/// Reaps the children the service is done with (the short-lived parents of the
/// supervisors it starts), every second: a long-lived service must not collect
/// zombies. An exec'd process is left to the thread that waits for its exit code.
fn reap_in_background() {
    use nix::sys::wait::{waitid, waitpid, Id, WaitPidFlag, WaitStatus};
    std::thread::spawn(|| loop {
        std::thread::sleep(Duration::from_secs(1));
        let Ok(execs) = EXECS.lock() else { return };
        loop {
            let peek = waitid(
                Id::All,
                WaitPidFlag::WEXITED | WaitPidFlag::WNOHANG | WaitPidFlag::WNOWAIT,
            );
            let pid = match peek {
                Ok(WaitStatus::Exited(p, _)) | Ok(WaitStatus::Signaled(p, _, _)) => p,
                _ => break,
            };
            if execs.contains(&pid.as_raw()) {
                break;
            }
            let _ = waitpid(pid, Some(WaitPidFlag::WNOHANG));
        }
    });
}

/// Serves until `idle` passes with no connection open (never when zero).
pub fn serve(ctx: Ctx, listen: Listen, idle: Duration) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()?;
    let svc = Arc::new(Service {
        ctx: Arc::new(ctx),
        waiting: Mutex::new(HashMap::new()),
        busy: AtomicUsize::new(0),
        last: Mutex::new(Instant::now()),
    });
    reap_in_background();
    rt.block_on(async move {
        match listen {
            Listen::Unix(path) => {
                if let Some(d) = path.parent() {
                    std::fs::create_dir_all(d)?;
                }
                // A socket a dead service left is taken over; a live one is not.
                if std::os::unix::net::UnixStream::connect(&path).is_ok() {
                    anyhow::bail!("{} is in use by another service", path.display());
                }
                let _ = std::fs::remove_file(&path);
                let l = tokio::net::UnixListener::bind(&path)?;
                let result =
                    accept_loop(&svc, idle, || async { l.accept().await.map(|(s, _)| s) }).await;
                let _ = std::fs::remove_file(&path);
                result
            }
            Listen::Tcp(addr) => {
                let l = tokio::net::TcpListener::bind(addr).await?;
                accept_loop(&svc, idle, || async { l.accept().await.map(|(s, _)| s) }).await
            }
        }
    })
}

async fn accept_loop<S, F, Fut>(svc: &Arc<Service>, idle: Duration, accept: F) -> anyhow::Result<()>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = std::io::Result<S>>,
{
    loop {
        let next = tokio::time::timeout(Duration::from_millis(500), accept()).await;
        let stream = match next {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => {
                libruntime::log::warn(&format!("accepting a connection: {e}"));
                continue;
            }
            Err(_) => {
                let quiet = svc.busy.load(Ordering::SeqCst) == 0
                    && svc
                        .last
                        .lock()
                        .map(|l| l.elapsed() >= idle)
                        .unwrap_or(false);
                if !idle.is_zero() && quiet {
                    return Ok(());
                }
                continue;
            }
        };
        svc.busy.fetch_add(1, Ordering::SeqCst);
        svc.touch();
        let s = svc.clone();
        tokio::task::spawn(async move {
            let handler = s.clone();
            let service = hyper::service::service_fn(move |req| handle(handler.clone(), req));
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .with_upgrades()
                .await;
            s.busy.fetch_sub(1, Ordering::SeqCst);
            s.touch();
        });
    }
}

/// Runs blocking library work off the runtime's thread.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> ApiResult<T> + Send + 'static,
) -> ApiResult<T> {
    tokio::task::spawn_blocking(f).await.unwrap_or_else(|e| {
        Err(ApiError::Engine(format!(
            "the request's worker failed: {e}"
        )))
    })
}

fn with_headers(mut r: Response<Body>) -> Response<Body> {
    let h = r.headers_mut();
    for (k, v) in [
        ("api-version", system::API_VERSION),
        ("docker-experimental", "false"),
        ("ostype", "linux"),
        ("server", "skiff"),
    ] {
        h.insert(HeaderName::from_static(k), HeaderValue::from_static(v));
    }
    r
}

async fn handle(svc: Arc<Service>, req: Request<Incoming>) -> Result<Response<Body>, Infallible> {
    svc.touch();
    libruntime::log::debug(&format!("api: {} {}", req.method(), req.uri()));
    let response = match answer(&svc, req).await {
        Ok(r) => r,
        Err(e) => body::error(&e),
    };
    Ok(with_headers(response))
}

async fn read_body(req: Request<Incoming>) -> ApiResult<Bytes> {
    req.into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .map_err(|e| ApiError::BadRequest(format!("reading the request: {e}")))
}

async fn answer(svc: &Arc<Service>, req: Request<Incoming>) -> ApiResult<Response<Body>> {
    let (_, path) = route::split_version(req.uri().path());
    let Some(route) = route::route(req.method(), path) else {
        return Err(ApiError::NotFound("page not found".into()));
    };
    let q = Query::parse(req.uri().query());
    let ctx = svc.ctx.clone();
    let no_content = |_: ()| body::empty(StatusCode::NO_CONTENT);
    Ok(match route {
        Route::Ping => {
            let mut r = if req.method() == hyper::Method::HEAD {
                body::empty(StatusCode::OK)
            } else {
                Response::new(Body::Whole(Some(Bytes::from_static(b"OK"))))
            };
            let h = r.headers_mut();
            h.insert(
                HeaderName::from_static("builder-version"),
                HeaderValue::from_static("1"),
            );
            h.insert(
                hyper::header::CACHE_CONTROL,
                HeaderValue::from_static("no-cache, no-store, must-revalidate"),
            );
            h.insert(
                hyper::header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            );
            r
        }
        Route::Version => body::json(StatusCode::OK, &system::version()),
        Route::Events => {
            let (tx, b) = body::stream();
            tokio::task::spawn_blocking(move || {
                let watch = tx.clone();
                events::stream(
                    &ctx,
                    &q,
                    |v| {
                        let mut line = serde_json::to_vec(v).unwrap_or_default();
                        line.push(b'\n');
                        tx.blocking_send(Bytes::from(line)).is_ok()
                    },
                    || watch.is_closed(),
                )
            });
            let mut r = Response::new(b);
            r.headers_mut().insert(
                hyper::header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            r
        }
        Route::Info => body::json(
            StatusCode::OK,
            &blocking(move || Ok(system::info(&ctx))).await?,
        ),
        Route::ContainerList => body::json(
            StatusCode::OK,
            &blocking(move || containers::list(&ctx, &q)).await?,
        ),
        Route::ContainerInspect(id) => body::json(
            StatusCode::OK,
            &blocking(move || containers::inspect(&ctx, &id)).await?,
        ),
        Route::ContainerCreate => {
            let b = read_body(req).await?;
            body::json(
                StatusCode::CREATED,
                &blocking(move || containers::create(&ctx, &q, &b)).await?,
            )
        }
        Route::ContainerStart(id) => {
            let s = svc.clone();
            blocking(move || start(&s, &id)).await.map(no_content)?
        }
        Route::ContainerStop(id) => blocking(move || containers::stop(&ctx, &id, &q))
            .await
            .map(no_content)?,
        Route::ContainerRestart(id) => blocking(move || containers::restart(&ctx, &id, &q))
            .await
            .map(no_content)?,
        Route::ContainerKill(id) => blocking(move || containers::kill(&ctx, &id, &q))
            .await
            .map(no_content)?,
        Route::ContainerDelete(id) => blocking(move || containers::delete(&ctx, &id, &q))
            .await
            .map(no_content)?,
        Route::ContainerWait(id) => {
            // The container must exist now, before the (long) wait begins.
            let c = ctx.clone();
            let i = id.clone();
            blocking(move || containers::find(&c, &i).map(|_| ())).await?;
            // The headers go at once, the body when the condition holds: docker's
            // client waits for the headers before it starts the container.
            let (tx, b) = body::stream();
            tokio::task::spawn_blocking(move || {
                let watch = tx.clone();
                let v = match containers::wait(&ctx, &id, &q, || watch.is_closed()) {
                    Ok(Some(v)) => v,
                    Ok(None) => return,
                    Err(e) => {
                        serde_json::json!({"StatusCode": -1, "Error": {"Message": e.to_string()}})
                    }
                };
                let _ = tx.blocking_send(Bytes::from(serde_json::to_vec(&v).unwrap_or_default()));
            });
            let mut r = Response::new(b);
            r.headers_mut().insert(
                hyper::header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            r
        }
        Route::ContainerResize(id) => {
            let size = window_size(&q)?;
            blocking(move || containers::resize(&ctx, &id, size)).await?;
            body::empty(StatusCode::OK)
        }
        Route::ExecResize(id) => {
            let size = window_size(&q)?;
            blocking(move || exec::resize(&ctx, &id, size)).await?;
            body::empty(StatusCode::OK)
        }
        Route::ContainerAttach(id) => attach(svc, req, id, q).await?,
        Route::ContainerLogs(id) => {
            let c = ctx.clone();
            let i = id.clone();
            let tty = blocking(move || containers::find(&c, &i).map(|r| r.config.tty)).await?;
            let (tx, b) = body::stream();
            tokio::task::spawn_blocking(move || {
                let watch = tx.clone();
                stream::logs(
                    &ctx,
                    &id,
                    &q,
                    |bytes| tx.blocking_send(Bytes::from(bytes)).is_ok(),
                    || watch.is_closed(),
                )
            });
            let mut r = Response::new(b);
            let kind = if tty {
                "application/vnd.docker.raw-stream"
            } else {
                "application/vnd.docker.multiplexed-stream"
            };
            r.headers_mut()
                .insert(hyper::header::CONTENT_TYPE, HeaderValue::from_static(kind));
            r
        }
        Route::ExecCreate(id) => {
            let b = read_body(req).await?;
            body::json(
                StatusCode::CREATED,
                &blocking(move || exec::create(&ctx, &id, &b)).await?,
            )
        }
        Route::ExecInspect(id) => body::json(
            StatusCode::OK,
            &blocking(move || exec::inspect(&ctx, &id)).await?,
        ),
        Route::ExecStart(id) => exec_start(svc, req, id).await?,
        Route::ImageList => body::json(
            StatusCode::OK,
            &blocking(move || images::list(&ctx, &q)).await?,
        ),
        Route::ImageInspect(name) => body::json(
            StatusCode::OK,
            &blocking(move || images::inspect(&ctx, &name)).await?,
        ),
        Route::ImageTag(name) => {
            blocking(move || images::tag(&ctx, &name, &q)).await?;
            body::empty(StatusCode::CREATED)
        }
        Route::ImageDelete(name) => body::json(
            StatusCode::OK,
            &blocking(move || images::delete(&ctx, &name, &q)).await?,
        ),
        Route::ContainerPause(id) => blocking(move || containers::pause(&ctx, &id, true))
            .await
            .map(no_content)?,
        Route::ContainerUnpause(id) => blocking(move || containers::pause(&ctx, &id, false))
            .await
            .map(no_content)?,
        Route::ContainerRename(id) => blocking(move || containers::rename(&ctx, &id, &q))
            .await
            .map(no_content)?,
        Route::ContainerTop(id) => body::json(
            StatusCode::OK,
            &blocking(move || containers::top(&ctx, &id, &q)).await?,
        ),
        Route::ContainerPrune => body::json(
            StatusCode::OK,
            &blocking(move || containers::prune(&ctx)).await?,
        ),
        Route::ArchiveStat(id) | Route::ArchiveGet(id) => {
            let path = q.get("path").unwrap_or("").to_string();
            let (c, i, p) = (ctx.clone(), id.clone(), path.clone());
            let stat = blocking(move || archive::stat(&c, &i, &p)).await?;
            let mut r = if req.method() == hyper::Method::HEAD {
                body::empty(StatusCode::OK)
            } else {
                let (tx, b) = body::stream();
                tokio::task::spawn_blocking(move || {
                    let _ = archive::get(&ctx, &id, &path, &mut body::ChannelWriter(tx));
                });
                Response::new(b)
            };
            if let Ok(v) = HeaderValue::from_str(&stat) {
                r.headers_mut()
                    .insert(HeaderName::from_static("x-docker-container-path-stat"), v);
            }
            r.headers_mut().insert(
                hyper::header::CONTENT_TYPE,
                HeaderValue::from_static("application/x-tar"),
            );
            r
        }
        Route::ArchivePut(id) => {
            let path = q.get("path").unwrap_or("").to_string();
            let b = read_body(req).await?;
            blocking(move || archive::put(&ctx, &id, &path, &b)).await?;
            body::empty(StatusCode::OK)
        }
        Route::NetworkList => body::json(
            StatusCode::OK,
            &blocking(move || networks::list(&ctx, &q)).await?,
        ),
        Route::NetworkInspect(n) => body::json(
            StatusCode::OK,
            &blocking(move || networks::inspect(&ctx, &n)).await?,
        ),
        Route::NetworkCreate => {
            let b = read_body(req).await?;
            body::json(
                StatusCode::CREATED,
                &blocking(move || networks::create(&ctx, &b)).await?,
            )
        }
        Route::NetworkDelete(n) => blocking(move || networks::delete(&ctx, &n))
            .await
            .map(no_content)?,
        Route::NetworkConnect(n) => {
            let b = read_body(req).await?;
            blocking(move || networks::connect(&ctx, &n, &b, true)).await?;
            body::empty(StatusCode::OK)
        }
        Route::NetworkDisconnect(n) => {
            let b = read_body(req).await?;
            blocking(move || networks::connect(&ctx, &n, &b, false)).await?;
            body::empty(StatusCode::OK)
        }
        Route::NetworkPrune => body::json(
            StatusCode::OK,
            &blocking(move || networks::prune(&ctx)).await?,
        ),
        Route::VolumeList => body::json(
            StatusCode::OK,
            &blocking(move || volumes::list(&ctx, &q)).await?,
        ),
        Route::VolumeInspect(v) => body::json(
            StatusCode::OK,
            &blocking(move || volumes::inspect(&ctx, &v)).await?,
        ),
        Route::VolumeCreate => {
            let b = read_body(req).await?;
            body::json(
                StatusCode::CREATED,
                &blocking(move || volumes::create(&ctx, &b)).await?,
            )
        }
        Route::VolumeDelete(v) => blocking(move || volumes::delete(&ctx, &v, &q))
            .await
            .map(no_content)?,
        Route::VolumePrune => body::json(
            StatusCode::OK,
            &blocking(move || volumes::prune(&ctx)).await?,
        ),
        Route::ImageCreate => {
            let auth = header_auth(&req);
            let name = registry::pull_name(&q)?;
            json_lines(move |send| {
                registry::pull(&ctx, &name, auth, |v| {
                    send(v);
                })
            })
        }
        Route::ImagePush(name) => {
            let auth = header_auth(&req);
            let c = ctx.clone();
            let plan = blocking(move || registry::push_plan(&c, &name, &q)).await?;
            json_lines(move |send| {
                registry::push(&ctx, plan, auth, |v| {
                    send(v);
                })
            })
        }
        Route::Auth => {
            let b = read_body(req).await?;
            body::json(StatusCode::OK, &blocking(move || registry::auth(&b)).await?)
        }
        Route::ImageHistory(name) => body::json(
            StatusCode::OK,
            &blocking(move || images::history(&ctx, &name)).await?,
        ),
        Route::ImagePrune => body::json(
            StatusCode::OK,
            &blocking(move || images::prune(&ctx, &q)).await?,
        ),
        Route::ImageGet(name) => {
            let names: Vec<String> = match name {
                Some(n) => vec![n],
                None => q.all("names").into_iter().map(String::from).collect(),
            };
            let c = ctx.clone();
            let args = blocking(move || images::save_args(&c, &names)).await?;
            child_stream(ctx, args, "application/x-tar")
        }
        Route::ImageLoad => {
            let b = read_body(req).await?;
            let quiet = q.flag("quiet");
            let lines = blocking(move || images::load(&ctx, &b)).await?;
            let mut text = Vec::new();
            for l in lines.iter().filter(|_| !quiet) {
                text.extend(serde_json::to_vec(l).unwrap_or_default());
                text.push(b'\n');
            }
            let mut r = Response::new(Body::Whole(Some(Bytes::from(text))));
            r.headers_mut().insert(
                hyper::header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            r
        }
        Route::Build => {
            let req_args = build::request(&q)?;
            let b = read_body(req).await?;
            let quiet = q.flag("q");
            json_lines(move |send| build::build(&ctx, &req_args, quiet, &b, send))
        }
        Route::SystemDf => body::json(
            StatusCode::OK,
            &blocking(move || disk_usage::df(&ctx)).await?,
        ),
        Route::ContainerStats(id) => {
            let c = ctx.clone();
            let r = blocking(move || containers::find(&c, &id)).await?;
            json_lines(move |send| {
                let _ = stats::stats(&ctx, &r, &q, send);
            })
        }
        Route::ContainerChanges(id) => body::json(
            StatusCode::OK,
            &blocking(move || container_files::changes(&ctx, &id)).await?,
        ),
        Route::ContainerExport(id) => {
            let c = ctx.clone();
            let args = blocking(move || container_files::export_args(&c, &id)).await?;
            child_stream(ctx, args, "application/x-tar")
        }
        Route::ContainerUpdate(id) => {
            let b = read_body(req).await?;
            body::json(
                StatusCode::OK,
                &blocking(move || containers::update(&ctx, &id, &b)).await?,
            )
        }
    })
}

/// `?h=ROWS&w=COLS` of a resize.
fn window_size(q: &Query) -> ApiResult<(u16, u16)> {
    match (q.number::<u16>("h"), q.number::<u16>("w")) {
        (Some(h), Some(w)) => Ok((h, w)),
        _ => Err(ApiError::BadRequest(
            "h and w must be numbers of rows and columns".into(),
        )),
    }
}

fn header_auth<B>(req: &Request<B>) -> Option<libruntime::registry::auth::Credentials> {
    registry::registry_auth(
        req.headers()
            .get("x-registry-auth")
            .and_then(|v| v.to_str().ok()),
    )
}

/// A response of JSON lines that blocking work writes as it goes; `send` says false
/// once the client has left.
fn json_lines(
    work: impl FnOnce(&(dyn Fn(serde_json::Value) -> bool + Sync)) + Send + 'static,
) -> Response<Body> {
    let (tx, b) = body::stream();
    tokio::task::spawn_blocking(move || {
        let send = move |v: serde_json::Value| {
            let mut line = serde_json::to_vec(&v).unwrap_or_default();
            line.push(b'\n');
            tx.blocking_send(Bytes::from(line)).is_ok()
        };
        work(&send)
    });
    let mut r = Response::new(b);
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

/// A response whose body is a `skiff` child's standard output (an archive).
fn child_stream(ctx: Arc<Ctx>, args: Vec<String>, content_type: &'static str) -> Response<Body> {
    let (tx, b) = body::stream();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        if let Err(e) = child::stream(&ctx, &args, &mut body::ChannelWriter(tx)) {
            libruntime::log::warn(&format!("api: skiff {}: {e}", args[0]));
        }
    });
    let mut r = Response::new(b);
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        HeaderValue::from_static(content_type),
    );
    r
}

/// Starts a container; an attach waiting for it gets the supervisor, which holds
/// the program until that client is connected, so no output is lost.
fn start(svc: &Service, id: &str) -> ApiResult<()> {
    let r = containers::find(&svc.ctx, id)?;
    let waiting = svc.waiting.lock().ok().and_then(|mut w| w.remove(&r.id));
    let Some(mut waiting) = waiting.filter(|w| !w.is_empty()) else {
        return containers::start(&svc.ctx, id);
    };
    let h = svc.ctx.handle(&r);
    if h.state()?.status == libruntime::container::Status::Running {
        return Err(ApiError::NotModified);
    }
    let spawned = h
        .start_when_attached(0)
        .map_err(|e| ApiError::Engine(e.message))?;
    let first = waiting.remove(0);
    let _ = first.send(Some(spawned));
    for w in waiting {
        let _ = w.send(None);
    }
    Ok(())
}

/// Counts a hijacked connection as in use while it lives: hyper no longer serves it,
/// but the service must not exit under it.
struct InUse(Arc<Service>);

impl InUse {
    fn new(svc: &Arc<Service>) -> InUse {
        svc.busy.fetch_add(1, Ordering::SeqCst);
        InUse(svc.clone())
    }
}

impl Drop for InUse {
    fn drop(&mut self) {
        self.0.busy.fetch_sub(1, Ordering::SeqCst);
        self.0.touch();
    }
}

/// The answer that hands the connection over, and the blocking work that then owns it.
fn hijack<B>(
    svc: &Arc<Service>,
    req: Request<B>,
    content_type: &'static str,
    work: impl FnOnce(stream::Conn, Vec<u8>) + Send + 'static,
) -> Response<Body> {
    let upgrade = hyper::upgrade::on(req);
    let in_use = InUse::new(svc);
    tokio::task::spawn(async move {
        match upgrade.await {
            Ok(up) => match take_back(up) {
                Some((conn, leftover)) => {
                    tokio::task::spawn_blocking(move || {
                        work(conn, leftover);
                        drop(in_use);
                    });
                }
                None => libruntime::log::warn("a hijacked connection of an unknown kind"),
            },
            Err(e) => libruntime::log::warn(&format!("upgrading the connection: {e}")),
        }
    });
    let mut r = body::empty(StatusCode::SWITCHING_PROTOCOLS);
    let h = r.headers_mut();
    h.insert(
        hyper::header::CONNECTION,
        HeaderValue::from_static("Upgrade"),
    );
    h.insert(hyper::header::UPGRADE, HeaderValue::from_static("tcp"));
    h.insert(
        hyper::header::CONTENT_TYPE,
        HeaderValue::from_static(content_type),
    );
    r
}

/// The socket under an upgraded connection, blocking again, with what hyper read
/// ahead of it.
fn take_back(up: hyper::upgrade::Upgraded) -> Option<(stream::Conn, Vec<u8>)> {
    let up = match up.downcast::<TokioIo<tokio::net::UnixStream>>() {
        Ok(p) => {
            let s = p.io.into_inner().into_std().ok()?;
            s.set_nonblocking(false).ok()?;
            return Some((stream::Conn::Unix(s), p.read_buf.to_vec()));
        }
        Err(up) => up,
    };
    let p = up.downcast::<TokioIo<tokio::net::TcpStream>>().ok()?;
    let s = p.io.into_inner().into_std().ok()?;
    s.set_nonblocking(false).ok()?;
    Some((stream::Conn::Tcp(s), p.read_buf.to_vec()))
}

fn stream_type(tty: bool) -> &'static str {
    if tty {
        "application/vnd.docker.raw-stream"
    } else {
        "application/vnd.docker.multiplexed-stream"
    }
}

/// `POST /containers/{id}/attach`: a container not started yet is attached when its
/// start comes.
async fn attach(
    svc: &Arc<Service>,
    req: Request<Incoming>,
    id: String,
    q: Query,
) -> ApiResult<Response<Body>> {
    use libruntime::supervisor::protocol;
    let ctx = svc.ctx.clone();
    let (r, st) = blocking(move || {
        let r = containers::find(&ctx, &id)?;
        let st = ctx.handle(&r).state()?;
        Ok((r, st))
    })
    .await?;
    let stdin = q.flag("stdin") && r.config.stdin;
    let mut flags = 0;
    if q.flag("stdout") || q.flag("stderr") || !q.flag("stdin") {
        flags |= protocol::WANT_OUTPUT;
    }
    if stdin {
        flags |= protocol::WANT_STDIN;
    }
    let not_started = matches!(
        st.status,
        libruntime::container::Status::Created | libruntime::container::Status::Initialized
    ) && !st.supervisor_alive();
    let handoff = if not_started {
        let (tx, rx) = oneshot::channel();
        if let Ok(mut w) = svc.waiting.lock() {
            w.entry(r.id.clone()).or_default().push(tx);
        }
        Some(rx)
    } else {
        None
    };
    let ctx = svc.ctx.clone();
    let tty = r.config.tty;
    Ok(hijack(svc, req, stream_type(tty), move |conn, leftover| {
        let held = handoff.map(|rx| rx.blocking_recv().ok().flatten());
        let Ok(supervisor) = ctx.handle(&r).connect(flags, None) else {
            return;
        };
        drop(held);
        stream::relay_attach(supervisor, conn, leftover, tty, stdin);
    }))
}

/// `POST /exec/{id}/start`: runs the instance on the hijacked connection (or in the
/// background with `Detach`).
async fn exec_start(
    svc: &Arc<Service>,
    req: Request<Incoming>,
    id: String,
) -> ApiResult<Response<Body>> {
    #[derive(serde::Deserialize, Default)]
    #[serde(rename_all = "PascalCase", default)]
    struct Start {
        detach: bool,
    }
    let ctx = svc.ctx.clone();
    let i = {
        let c = ctx.clone();
        let id = id.clone();
        blocking(move || exec::load(&c, &id)).await?
    };
    let (parts, body) = req.into_parts();
    let b = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let start: Start = serde_json::from_slice(&b).unwrap_or_default();
    let run = move |ctx: &Ctx,
                    i: &mut exec::Instance,
                    detach: bool|
          -> ApiResult<libruntime::sandbox::join::Joined> {
        let r = containers::find(ctx, &i.container)?;
        // Held from before the process exists until it is known, so the reaper
        // cannot take its exit status in between.
        let mut execs = EXECS
            .lock()
            .map_err(|_| ApiError::Engine("the exec table is poisoned".into()))?;
        let joined = ctx
            .handle(&r)
            .exec(&exec::options(i, detach))
            .map_err(|e| ApiError::Conflict(e.to_string()))?;
        i.running = true;
        i.pid = joined.pid.as_raw();
        execs.push(i.pid);
        drop(execs);
        exec::save(ctx, i)?;
        Ok(joined)
    };
    if start.detach {
        let mut i = i;
        blocking(move || {
            let joined = run(&ctx, &mut i, true)?;
            std::thread::spawn(move || {
                let code = match nix::sys::wait::waitpid(joined.pid, None) {
                    Ok(nix::sys::wait::WaitStatus::Exited(_, c)) => c,
                    _ => 137,
                };
                exec_reaped(joined.pid.as_raw());
                i.running = false;
                i.exit_code = Some(code);
                let _ = exec::save(&ctx, &i);
            });
            Ok(())
        })
        .await?;
        return Ok(body::empty(StatusCode::OK));
    }
    let req = Request::from_parts(parts, http_body_util::Empty::<Bytes>::new());
    let tty = i.config.tty;
    let stdin = i.config.attach_stdin;
    let mut i = i;
    Ok(hijack(svc, req, stream_type(tty), move |conn, leftover| {
        let joined = match run(&ctx, &mut i, false) {
            Ok(j) => j,
            Err(e) => {
                let mut c = conn;
                let _ = std::io::Write::write_all(
                    &mut c,
                    &stream::docker_frame(2, format!("{e}\n").as_bytes()),
                );
                i.exit_code = Some(126);
                let _ = exec::save(&ctx, &i);
                return;
            }
        };
        if let Some(master) = &joined.terminal {
            exec::hold_terminal(&i.id, master);
        }
        let id = i.id.clone();
        stream::relay_exec(joined, conn, leftover, tty, stdin, |code| {
            exec::release_terminal(&id);
            i.running = false;
            i.exit_code = Some(code);
            let _ = exec::save(&ctx, &i);
        });
    }))
}
