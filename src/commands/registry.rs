//! pull, push, login, logout, and the `--pull` policy of run and create.

use crate::cli_registry::*;
use crate::output::write_out;
use crate::progress::CliProgress;
use crate::Ctx;
use anyhow::{bail, Context, Result};
use libruntime::reference::{DefaultDomain, Reference};
use libruntime::registry::auth::{self, Credentials};
use libruntime::registry::client::{Client, ClientOptions};
use libruntime::registry::config::RegistriesConf;
use libruntime::registry::policy::PullPolicy;
use libruntime::registry::pull::{self, PullOptions};
use libruntime::registry::push::{self, PushOptions};
use libruntime::registry::Platform;
use libruntime::store::Store;
use std::io::BufRead;

/// The client's options for pull, push and build: a named auth file must exist, as
/// podman checks (login creates its file instead).
pub fn client_options(f: &RegistryFlags) -> Result<ClientOptions> {
    if let Some(p) = &f.authfile {
        if !p.exists() {
            bail!(
                "checking authfile: stat {}: no such file or directory",
                p.display()
            );
        }
    }
    login_client_options(f)
}

fn login_client_options(f: &RegistryFlags) -> Result<ClientOptions> {
    Ok(ClientOptions {
        tls_verify: f.tls_verify,
        insecure: false,
        creds: f.creds.as_deref().map(Credentials::parse).transpose()?,
        authfile: f.authfile.clone(),
        cert_dir: f.cert_dir.clone(),
    })
}

pub fn platform(p: &PlatformFlags) -> Result<Platform> {
    Ok(Platform::from_flags(
        p.platform.as_deref(),
        p.os.as_deref(),
        p.arch.as_deref(),
        p.variant.as_deref(),
    )?)
}

pub fn pull(ctx: &Ctx, a: PullArgs) -> Result<i32> {
    use libruntime::transport::Source;
    let image = match Source::parse(&a.image) {
        Source::Archive(path) => {
            let store = Store::open_locked(&ctx.paths)?;
            let images = libruntime::archive::load(&store, &path, ctx.extract_options())
                .with_context(|| format!("pulling {}", a.image))?;
            let ids: String = images.iter().map(|i| format!("{}\n", i.id)).collect();
            write_out(&ids)?;
            return Ok(0);
        }
        Source::Storage(r) => {
            let img = Store::open(&ctx.paths).find_image(&r)?;
            write_out(&format!("{}\n", img.id))?;
            return Ok(0);
        }
        Source::Reference(r) => r,
    };
    let a = PullArgs { image, ..a };
    let opts = PullOptions {
        client: client_options(&a.registry)?,
        platform: platform(&a.platform)?,
        extract: ctx.extract_options(),
    };
    let store = Store::open(&ctx.paths);
    let progress = CliProgress::new(a.quiet);
    let img = pull::pull(&store, &a.image, &opts, &progress)
        .with_context(|| format!("pulling {}", a.image))?;
    write_out(&format!("{}\n", img.id))?;
    Ok(0)
}

pub fn push(ctx: &Ctx, a: PushArgs) -> Result<i32> {
    let store = Store::open(&ctx.paths);
    let image = store.find_image(&a.image)?;
    let dest = match &a.destination {
        Some(d) => d.strip_prefix("docker://").unwrap_or(d).to_string(),
        None => a.image.clone(),
    };
    let r = Reference::parse(&dest)?;
    if r.domain.is_none() || r.domain.as_deref() == Some("localhost") {
        bail!(
            "{dest}: name a registry to push to, like 127.0.0.1:5000/{}",
            r.path
        );
    }
    let full = Reference::parse(&r.tagged_name(DefaultDomain::DockerHub))?;
    let opts = PushOptions {
        client: client_options(&a.registry)?,
    };
    let progress = CliProgress::new(a.quiet);
    let digest = push::push(&store, &image, &full, &opts, &progress)
        .with_context(|| format!("pushing {dest}"))?;
    if let Some(f) = &a.digestfile {
        std::fs::write(f, digest.as_str()).with_context(|| format!("writing {}", f.display()))?;
    }
    Ok(0)
}

/// The registry part of what a user typed: `https://host:port/path` → `host:port`.
fn registry_host(s: &str) -> String {
    let s = s
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .trim_start_matches("docker://");
    s.split('/').next().unwrap_or(s).to_string()
}

pub fn login(ctx: &Ctx, a: LoginArgs) -> Result<i32> {
    let host = registry_host(&a.registry);
    let authfile = a.registry_flags.authfile.clone();
    if a.get_login {
        return match auth::lookup(&host, authfile.as_deref()) {
            Some(c) => {
                write_out(&format!("{}\n", c.username))?;
                Ok(0)
            }
            None => bail!("not logged in to {host}"),
        };
    }
    let username = match a.username {
        Some(u) => u,
        None => bail!("a user name is needed: use -u USERNAME"),
    };
    let password = match (a.password, a.password_stdin) {
        (Some(_), true) => bail!("--password and --password-stdin conflict: use one"),
        (Some(p), false) => p,
        (None, true) => {
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .context("reading the password")?;
            line.trim_end_matches(['\n', '\r']).to_string()
        }
        (None, false) => bail!("a password is needed: use -p PASSWORD or --password-stdin"),
    };
    let creds = Credentials { username, password };
    let conf = RegistriesConf::load(ctx.paths.rootless)?;
    let mut opts = login_client_options(&a.registry_flags)?;
    opts.creds = Some(creds.clone());
    opts.insecure = conf.is_insecure(&host);
    let client = Client::new(&host, &opts)?;
    client
        .check_login()
        .with_context(|| format!("logging in to {host}"))?;
    auth::store(&host, &creds, authfile.as_deref())?;
    eprintln!("Login Succeeded!");
    Ok(0)
}

pub fn logout(a: LogoutArgs) -> Result<i32> {
    if a.all {
        auth::remove(None, a.authfile.as_deref())?;
        eprintln!("Removed login credentials for all registries");
        return Ok(0);
    }
    let Some(r) = &a.registry else {
        bail!("name a registry, or use --all");
    };
    let host = registry_host(r);
    if !auth::remove(Some(&host), a.authfile.as_deref())? {
        bail!("not logged into {host}");
    }
    eprintln!("Removed login credentials for {host}");
    Ok(0)
}

/// This binary as a child command on the same store; for work that must run in the
/// storage user namespace while the caller stays outside it.
pub fn skiff_child(ctx: &Ctx) -> std::process::Command {
    // Through /proc/self/exe: the binary we run, even if an upgrade replaced the file.
    let mut c = std::process::Command::new("/proc/self/exe");
    c.arg("--root")
        .arg(&ctx.paths.root)
        .arg("--runroot")
        .arg(&ctx.paths.runroot);
    if let Some(d) = &ctx.paths.storage_driver {
        c.arg("--storage-driver").arg(d);
    }
    c
}

/// The image reference to use for `image` as given to run, create or pull: an archive
/// (`docker-archive:`, `oci-archive:`, `oci:`) is loaded into the store first and its
/// image's name returned; `docker://` and `containers-storage:` prefixes are dropped.
pub fn resolve_source(ctx: &Ctx, image: &str) -> Result<String> {
    use libruntime::transport::Source;
    match Source::parse(image) {
        Source::Reference(r) | Source::Storage(r) => Ok(r),
        Source::Archive(path) => {
            // Loading unpacks layers, which needs the storage namespace: a forked
            // helper when rootless.
            let store = Store::open_locked(&ctx.paths)?;
            let extract = ctx.extract_options();
            let id = libruntime::userns::in_storage_ns(&ctx.maps, || {
                let images = libruntime::archive::load(&store, &path, extract)?;
                let first = images.first();
                let name = first.map(|i| i.names.first().cloned().unwrap_or(i.id.clone()));
                name.ok_or_else(|| {
                    libruntime::Error::InvalidArgument("the archive held no image".into())
                })
            })
            .with_context(|| format!("loading {image}"))?;
            Ok(id)
        }
    }
}

/// run/create `--pull`: the library decides and pulls in the storage namespace.
pub fn ensure_image(
    ctx: &Ctx,
    image: &str,
    policy: PullPolicy,
    flags: &RegistryFlags,
    platform_flags: &PlatformFlags,
) -> Result<()> {
    let opts = PullOptions {
        client: client_options(flags)?,
        platform: platform(platform_flags)?,
        extract: ctx.extract_options(),
    };
    let store = Store::open(&ctx.paths);
    libruntime::registry::policy::ensure_image(
        &store,
        &ctx.maps,
        image,
        policy,
        &opts,
        &libruntime::registry::Silent,
    )
    .with_context(|| format!("pulling {image}"))
}
