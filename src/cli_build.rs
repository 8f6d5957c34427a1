//! `build` flags, as podman and docker spell them.

use crate::cli_registry::{PlatformFlags, RegistryFlags};
use clap::Args;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct BuildArgs {
    /// The Containerfile (default: Containerfile or Dockerfile in the context; - for stdin)
    #[arg(short, long)]
    pub file: Option<String>,
    /// Name the result (repeat for several)
    #[arg(short, long)]
    pub tag: Vec<String>,
    /// Set a build argument: NAME=VALUE, or NAME to take it from the environment
    #[arg(long)]
    pub build_arg: Vec<String>,
    /// Build this stage and the ones it needs, not the last
    #[arg(long)]
    pub target: Option<String>,
    /// Run every step, using no cached result
    #[arg(long)]
    pub no_cache: bool,
    /// Pull base images: missing (default), always, never, newer; plain --pull is always
    #[arg(long, num_args = 0..=1, default_missing_value = "always", default_value = "missing")]
    pub pull: String,
    /// podman's older spelling of --pull=always
    #[arg(long, hide = true)]
    pub pull_always: bool,
    /// podman's older spelling of --pull=never
    #[arg(long, hide = true)]
    pub pull_never: bool,
    /// Resource limits for RUN steps: TYPE=SOFT[:HARD]
    #[arg(long)]
    pub ulimit: Vec<String>,
    /// OCI runtime (accepted for podman compatibility: skiff is its own runtime)
    #[arg(long)]
    pub runtime: Option<String>,
    /// Flags for the OCI runtime (accepted and ignored, as --runtime)
    #[arg(long)]
    pub runtime_flag: Vec<String>,
    /// Add a label to the image (KEY=VALUE)
    #[arg(long)]
    pub label: Vec<String>,
    /// Cache and keep a layer per step (the default); false gives one new layer and
    /// no cache
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    pub layers: bool,
    /// Squash the layers the target stage adds into one
    #[arg(long)]
    pub squash: bool,
    /// Network for RUN steps: as `run`'s default (slirp4netns), or none, pasta, host,
    /// private, a network's name
    #[arg(long, default_value = "")]
    pub network: String,
    /// A secret for RUN --mount=type=secret: id=ID,src=PATH
    #[arg(long)]
    pub secret: Vec<String>,
    /// Print only the image ID
    #[arg(short, long)]
    pub quiet: bool,
    /// Read the context's exclusion patterns from this file instead of .containerignore
    #[arg(long)]
    pub ignorefile: Option<PathBuf>,
    /// Write the build's steps and output to this file instead of standard output
    #[arg(long)]
    pub logfile: Option<PathBuf>,
    /// Also write the image ID to this file
    #[arg(long)]
    pub iidfile: Option<PathBuf>,
    /// Image format (oci or docker); the configuration is the same either way
    #[arg(long, default_value = "oci")]
    pub format: String,
    #[command(flatten)]
    pub registry: RegistryFlags,
    #[command(flatten)]
    pub platform: PlatformFlags,
    /// The build context: a directory, a tar archive, or - for standard input
    #[arg(default_value = ".")]
    pub context: String,
}

impl BuildArgs {
    pub fn context_path(&self) -> PathBuf {
        PathBuf::from(&self.context)
    }
}
