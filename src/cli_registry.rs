//! Arguments of the registry verbs: pull, push, login, logout.

use clap::{ArgAction, Args};
use std::path::PathBuf;

/// How to reach a registry: TLS, credentials, certificates.
#[derive(Args, Debug, Clone, Default)]
pub struct RegistryFlags {
    /// Require HTTPS and verify certificates (default: as registries.conf says)
    #[arg(long, action = ArgAction::Set, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    pub tls_verify: Option<bool>,
    /// Credentials USERNAME:PASSWORD
    #[arg(long, value_name = "USER:PASS")]
    pub creds: Option<String>,
    /// Authentication file (default: ${XDG_RUNTIME_DIR}/containers/auth.json)
    #[arg(long, value_name = "FILE")]
    pub authfile: Option<PathBuf>,
    /// Directory with the registry's CA certificates (*.crt)
    #[arg(long, value_name = "DIR")]
    pub cert_dir: Option<PathBuf>,
}

/// Which image of a manifest list to take.
#[derive(Args, Debug, Clone, Default)]
pub struct PlatformFlags {
    /// OS/ARCH[/VARIANT]
    #[arg(long)]
    pub platform: Option<String>,
    /// Architecture instead of the host's
    #[arg(long)]
    pub arch: Option<String>,
    /// OS instead of the host's
    #[arg(long)]
    pub os: Option<String>,
    /// Architecture variant (v7, v8…)
    #[arg(long)]
    pub variant: Option<String>,
}

#[derive(Args, Debug)]
pub struct PullArgs {
    #[command(flatten)]
    pub registry: RegistryFlags,
    #[command(flatten)]
    pub platform: PlatformFlags,
    /// Print only the image ID
    #[arg(short, long)]
    pub quiet: bool,
    pub image: String,
}

#[derive(Args, Debug)]
pub struct SearchArgs {
    #[command(flatten)]
    pub registry: RegistryFlags,
    /// At most this many results per registry
    #[arg(long, default_value_t = 25)]
    pub limit: usize,
    /// List the tags of the repository named instead
    #[arg(long)]
    pub list_tags: bool,
    /// Do not truncate descriptions (skiff never does)
    #[arg(long)]
    pub no_trunc: bool,
    /// Output format: json or a Go template
    #[arg(long)]
    pub format: Option<String>,
    /// REGISTRY/TERM, or a term for every unqualified-search registry
    pub term: String,
}

#[derive(Args, Debug)]
pub struct PushArgs {
    #[command(flatten)]
    pub registry: RegistryFlags,
    /// Print nothing but errors
    #[arg(short, long)]
    pub quiet: bool,
    /// Write the pushed manifest's digest to this file
    #[arg(long)]
    pub digestfile: Option<PathBuf>,
    pub image: String,
    /// Where to push (default: the image's name)
    pub destination: Option<String>,
}

#[derive(Args, Debug)]
pub struct LoginArgs {
    #[arg(short, long)]
    pub username: Option<String>,
    #[arg(short, long)]
    pub password: Option<String>,
    /// Read the password from standard input
    #[arg(long)]
    pub password_stdin: bool,
    /// Print the stored user name for the registry
    #[arg(long)]
    pub get_login: bool,
    #[command(flatten)]
    pub registry_flags: RegistryFlags,
    pub registry: String,
}

#[derive(Args, Debug)]
pub struct LogoutArgs {
    /// Authentication file
    #[arg(long, value_name = "FILE")]
    pub authfile: Option<PathBuf>,
    /// Remove the credentials of every registry
    #[arg(short, long)]
    pub all: bool,
    pub registry: Option<String>,
}
