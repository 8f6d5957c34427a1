//! The command line: verbs and flags as podman and docker spell them.

use crate::cli_build::BuildArgs;
use crate::cli_container::*;
use crate::cli_network::*;
use crate::cli_registry::*;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "skiff",
    // `skiff --version` prints "skiff version X.Y.Z", the shape scripts parse in podman's.
    version = concat!("version ", env!("CARGO_PKG_VERSION")),
    about = "A daemonless, rootless container engine",
    disable_help_subcommand = true,
    // As podman: a repeated option takes its last value (`--name a --name b`).
    args_override_self = true
)]
pub struct Cli {
    /// Storage root (images, layers, containers)
    #[arg(long, global = true, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Runtime state root (sockets, pid files)
    #[arg(long, global = true, value_name = "DIR")]
    pub runroot: Option<PathBuf>,
    /// Graph driver for new containers: overlay, fuse-overlayfs or vfs
    #[arg(long, global = true, value_name = "NAME")]
    pub storage_driver: Option<String>,
    /// Log messages at this level and above: debug, info, warn, error
    #[arg(long, global = true, default_value = "warn", value_name = "LEVEL")]
    pub log_level: String,
    /// Suppress what commands print on standard output
    #[arg(long, global = true)]
    pub noout: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run a command in a new container
    Run(RunArgs),
    /// Create a container without starting it
    Create(RunArgs),
    /// Start one or more containers
    Start(StartArgs),
    /// Stop one or more containers
    Stop(StopArgs),
    /// Send a signal to one or more containers
    Kill(KillArgs),
    /// Restart one or more containers
    Restart(StopArgs),
    /// Remove one or more containers
    Rm(RmArgs),
    /// Wait for containers to exit and print their exit codes
    Wait(NamesArgs),
    /// Pause all processes in containers
    Pause(NamesArgs),
    /// Unpause containers
    Unpause(NamesArgs),
    /// List containers
    Ps(PsArgs),
    /// Show a container's logs
    Logs(LogsArgs),
    /// Run a process in a running container
    Exec(ExecArgs),
    /// Attach to a running container
    Attach(AttachArgs),
    /// Show the processes of a container
    Top(TopArgs),
    /// List the port mappings of a container
    Port(PortArgs),
    /// Rename a container
    Rename(RenameArgs),
    /// Change a container's resource limits, live when it runs
    Update(UpdateArgs),
    /// Show resource usage of containers
    Stats(StatsArgs),
    /// Create an image from a container's changes
    Commit(CommitArgs),
    /// Show the files a container added (A), changed (C) or deleted (D)
    Diff(DiffArgs),
    /// Write a container's file system as a tar archive
    Export(ExportArgs),
    /// Copy files between a container and the host
    Cp(CpArgs),
    /// Mount a container's root file system and print where
    Mount(MountArgs),
    /// Unmount a container's root file system
    #[command(alias = "umount")]
    Unmount(UnmountArgs),
    /// Manage containers
    #[command(subcommand)]
    Container(ContainerCommand),
    /// Manage volumes
    #[command(subcommand)]
    Volume(VolumeCommand),
    /// Show the engine's events
    Events(crate::cli_container::EventsArgs),
    /// Run a container's health check
    #[command(subcommand)]
    Healthcheck(crate::cli_container::HealthcheckCommand),
    /// Manage secrets
    #[command(subcommand)]
    Secret(crate::cli_secret::SecretCommand),
    /// Manage networks
    #[command(subcommand)]
    Network(NetworkCommand),
    /// Manage pods: containers sharing namespaces
    #[command(subcommand)]
    Pod(crate::cli_pod::PodCommand),
    /// Play Kubernetes YAML and look at what runs, as kubectl shows it
    #[command(subcommand)]
    Kube(crate::cli_kube::KubeCommand),
    /// List images in local storage
    Images(ImagesArgs),
    /// Manage images
    #[command(subcommand)]
    Image(ImageCommand),
    /// Build an image from a Containerfile or Dockerfile
    Build(Box<BuildArgs>),
    /// Display the configuration of containers or images
    Inspect(InspectArgs),
    /// Add names to an image
    Tag(TagArgs),
    /// Remove names from an image
    Untag(UntagArgs),
    /// Remove images
    Rmi(RmiArgs),
    /// Pull an image from a registry
    Pull(PullArgs),
    /// Push an image to a registry
    Push(PushArgs),
    /// Search a registry for images
    Search(SearchArgs),
    /// Make, change and push multi-platform manifest lists
    #[command(subcommand)]
    Manifest(ManifestCommand),
    /// Log in to a registry
    Login(LoginArgs),
    /// Log out of a registry
    Logout(LogoutArgs),
    /// Load images from an archive (docker-archive or oci-archive)
    Load(LoadArgs),
    /// Save images to an archive
    Save(SaveArgs),
    /// Create an image from a root file system tarball
    Import(ImportArgs),
    /// Show the history of an image
    History(HistoryArgs),
    /// Display information about the host and the store
    Info(FormatArgs),
    /// Display version information
    Version(FormatArgs),
    /// Run a command in the storage user namespace (rootless)
    Unshare(UnshareArgs),
    /// The whole store and engine: df, prune, reset, info, events, the Docker API service
    #[command(subcommand)]
    System(SystemCommand),
    /// Print a shell completion script: bash, zsh, fish, elvish or powershell
    Completion(CompletionArgs),
    /// Write a man page for every verb into a directory
    #[command(hide = true)]
    GenerateManpages(ManpagesArgs),
}

#[derive(Subcommand, Debug)]
pub enum SystemCommand {
    /// Show how much space images, containers and volumes take
    Df(SystemDfArgs),
    /// Remove stopped containers, unused networks and dangling (or, with -a, unused) images
    Prune(SystemPruneArgs),
    /// Remove every container, image, volume and network, and the store itself
    Reset(SystemResetArgs),
    /// Display information about the host and the store
    Info(FormatArgs),
    /// Show the engine's events
    Events(crate::cli_container::EventsArgs),
    /// Serve the Docker Engine API on a socket, for docker, compose and the SDKs
    Service(ServiceArgs),
}

#[derive(Args, Debug)]
pub struct ServiceArgs {
    /// Exit after this many idle seconds (0: never)
    #[arg(short, long, default_value_t = 5)]
    pub time: u64,
    /// unix:///PATH or tcp://IP:PORT (default: $XDG_RUNTIME_DIR/skiff/skiff.sock, as root /run/skiff/skiff.sock)
    pub uri: Option<String>,
}

#[derive(Args, Debug)]
pub struct SystemDfArgs {
    /// Output format: json or a Go template
    #[arg(long)]
    pub format: Option<String>,
}

#[derive(Args, Debug)]
pub struct SystemPruneArgs {
    /// Remove all unused images, not only dangling ones
    #[arg(short, long)]
    pub all: bool,
    /// Do not ask for confirmation
    #[arg(short, long)]
    pub force: bool,
    /// Remove unused volumes too
    #[arg(long)]
    pub volumes: bool,
}

#[derive(Args, Debug)]
pub struct SystemResetArgs {
    /// Do not ask for confirmation
    #[arg(short, long)]
    pub force: bool,
}

#[derive(Args, Debug)]
pub struct CompletionArgs {
    pub shell: clap_complete::Shell,
}

#[derive(Args, Debug)]
pub struct ManpagesArgs {
    pub dir: PathBuf,
}

#[derive(Subcommand, Debug)]
pub enum ImageCommand {
    /// List images in local storage
    #[command(alias = "list")]
    Ls(ImagesArgs),
    /// Display the configuration of images
    Inspect(InspectArgs),
    /// Add names to an image
    Tag(TagArgs),
    /// Remove names from an image
    Untag(UntagArgs),
    /// Check whether an image exists in local storage (exit 0 or 1)
    Exists(ExistsArgs),
    /// Remove images
    Rm(RmiArgs),
    /// Remove unused images
    Prune(PruneArgs),
    /// Load images from an archive
    Load(LoadArgs),
    /// Save images to an archive
    Save(SaveArgs),
    /// Create an image from a tarball
    Import(ImportArgs),
    /// Show the history of an image
    History(HistoryArgs),
    /// Pull an image from a registry
    Pull(PullArgs),
    /// Push an image to a registry
    Push(PushArgs),
    /// Build an image from a Containerfile or Dockerfile
    Build(Box<BuildArgs>),
    /// Draw an image's layers as a tree
    Tree(ImageTreeArgs),
    /// Mount images' root file systems read-only and print where (list mounted ones)
    Mount(ImageMountArgs),
    /// Unmount images' root file systems
    #[command(alias = "umount")]
    Unmount(ImageUnmountArgs),
}

#[derive(Subcommand, Debug)]
pub enum ManifestCommand {
    /// Make a manifest list, with the images given in it
    Create(ManifestCreateArgs),
    /// Add an image of the store to a list
    Add(ManifestAddArgs),
    /// Set the platform or annotations of a list's entry
    Annotate(ManifestAnnotateArgs),
    /// Drop an entry from a list
    Remove(ManifestRemoveArgs),
    /// Print a list as the OCI index it is
    Inspect(ManifestNameArgs),
    /// Exit 0 if the list exists, 1 if not
    Exists(ManifestNameArgs),
    /// Remove lists (the images stay)
    Rm(ManifestNamesArgs),
    /// Push a list and every image it names to a registry
    Push(ManifestPushArgs),
}

#[derive(Args, Debug)]
pub struct ManifestCreateArgs {
    /// Change the list if it exists already
    #[arg(long)]
    pub amend: bool,
    pub name: String,
    pub images: Vec<String>,
}

/// The platform and annotations `manifest add` and `annotate` may set on an entry.
#[derive(Args, Debug)]
pub struct ManifestEntryFlags {
    /// Operating system of the entry (default: the image's)
    #[arg(long)]
    pub os: Option<String>,
    /// Architecture of the entry (default: the image's)
    #[arg(long)]
    pub arch: Option<String>,
    /// Variant of the entry's architecture
    #[arg(long)]
    pub variant: Option<String>,
    /// Operating system version
    #[arg(long)]
    pub os_version: Option<String>,
    /// Operating system features
    #[arg(long)]
    pub features: Vec<String>,
    /// KEY=VALUE on the entry
    #[arg(long)]
    pub annotation: Vec<String>,
}

#[derive(Args, Debug)]
pub struct ManifestAddArgs {
    #[command(flatten)]
    pub entry: ManifestEntryFlags,
    /// Accepted for podman's scripts: the images of a list are always local
    #[arg(long)]
    pub all: bool,
    pub list: String,
    pub image: String,
}

#[derive(Args, Debug)]
pub struct ManifestAnnotateArgs {
    #[command(flatten)]
    pub entry: ManifestEntryFlags,
    pub list: String,
    /// The entry's manifest digest
    pub digest: String,
}

#[derive(Args, Debug)]
pub struct ManifestRemoveArgs {
    pub list: String,
    /// The entry's manifest digest
    pub digest: String,
}

#[derive(Args, Debug)]
pub struct ManifestNameArgs {
    pub name: String,
}

#[derive(Args, Debug)]
pub struct ManifestNamesArgs {
    #[arg(required = true)]
    pub names: Vec<String>,
}

#[derive(Args, Debug)]
pub struct ManifestPushArgs {
    #[command(flatten)]
    pub registry: RegistryFlags,
    /// Push every image the list names (always so: accepted as podman's)
    #[arg(long, num_args = 0..=1, require_equals = true, default_value_t = true,
          default_missing_value = "true", action = clap::ArgAction::Set)]
    pub all: bool,
    /// Remove the list from the store once pushed
    #[arg(long)]
    pub rm: bool,
    /// Write the pushed list's digest to this file
    #[arg(long)]
    pub digestfile: Option<PathBuf>,
    /// Print nothing but errors
    #[arg(short, long)]
    pub quiet: bool,
    pub list: String,
    /// Where to push (default: the list's name)
    pub destination: Option<String>,
}

#[derive(Args, Debug)]
pub struct ImageTreeArgs {
    pub image: String,
}

#[derive(Args, Debug)]
pub struct ImageMountArgs {
    /// Output format for the list: json
    #[arg(long)]
    pub format: Option<String>,
    pub images: Vec<String>,
}

#[derive(Args, Debug)]
pub struct ImageUnmountArgs {
    /// Unmount every mounted image
    #[arg(short, long)]
    pub all: bool,
    pub images: Vec<String>,
}

#[derive(Args, Debug)]
pub struct FormatArgs {
    /// Output format: json or a Go template
    #[arg(short, long)]
    pub format: Option<String>,
}

#[derive(Args, Debug)]
pub struct ImagesArgs {
    /// Show all images (intermediate images too)
    #[arg(short, long)]
    pub all: bool,
    /// Show only image IDs
    #[arg(short, long)]
    pub quiet: bool,
    /// Show digests
    #[arg(long)]
    pub digests: bool,
    /// Do not truncate output
    #[arg(long)]
    pub no_trunc: bool,
    /// Do not print the header
    #[arg(short, long)]
    pub noheading: bool,
    /// Filter: dangling=true|false, reference=NAME
    #[arg(long)]
    pub filter: Vec<String>,
    /// Output format: json or a Go template
    #[arg(long)]
    pub format: Option<String>,
    /// Sort by: created, id, repository, size, tag
    #[arg(long, value_enum, default_value = "created")]
    pub sort: ImageSort,
    /// Only images matching this reference
    pub reference: Option<String>,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageSort {
    Created,
    Id,
    Repository,
    Size,
    Tag,
}

#[derive(Args, Debug)]
pub struct InspectArgs {
    /// Output format: json or a Go template
    #[arg(short, long)]
    pub format: Option<String>,
    /// What to inspect: container or image (both by default, containers first)
    #[arg(short, long, name = "type")]
    pub r#type: Option<String>,
    #[arg(required = true)]
    pub names: Vec<String>,
}

#[derive(Args, Debug)]
pub struct TagArgs {
    pub image: String,
    #[arg(required = true)]
    pub targets: Vec<String>,
}

#[derive(Args, Debug)]
pub struct UntagArgs {
    pub image: String,
    /// Names to remove; every name when none is given
    pub names: Vec<String>,
}

#[derive(Args, Debug)]
pub struct RmiArgs {
    /// Remove all images
    #[arg(short, long)]
    pub all: bool,
    /// Remove images even if containers use them
    #[arg(short, long)]
    pub force: bool,
    /// Do not error on images that do not exist
    #[arg(short, long)]
    pub ignore: bool,
    pub images: Vec<String>,
}

#[derive(Args, Debug)]
pub struct PruneArgs {
    /// Remove all unused images, not only dangling ones
    #[arg(short, long)]
    pub all: bool,
    /// Do not ask for confirmation
    #[arg(short, long)]
    pub force: bool,
}

#[derive(Args, Debug)]
pub struct LoadArgs {
    /// Read from this archive (a path or an http(s) URL) instead of standard input
    #[arg(short, long)]
    pub input: Option<PathBuf>,
    /// Print only the loaded image names
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(Args, Debug)]
pub struct SaveArgs {
    /// Write to this file instead of standard output
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// docker-archive (default) or oci-archive
    #[arg(long, default_value = "docker-archive")]
    pub format: String,
    /// Allow several images in one docker-archive (always allowed; accepted for podman compatibility)
    #[arg(short = 'm', long)]
    pub multi_image_archive: bool,
    /// Accepted for podman's scripts: skiff writes layers uncompressed already
    #[arg(long)]
    pub uncompressed: bool,
    /// Accepted for podman's scripts: uncompressed OCI layers are always accepted
    #[arg(long)]
    pub oci_accept_uncompressed_layers: bool,
    #[arg(short, long)]
    pub quiet: bool,
    #[arg(required = true)]
    pub images: Vec<String>,
}

#[derive(Args, Debug)]
pub struct ImportArgs {
    /// Apply a Dockerfile instruction: CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, VOLUME, WORKDIR, STOPSIGNAL
    #[arg(short, long)]
    pub change: Vec<String>,
    /// Commit message for the history
    #[arg(short, long)]
    pub message: Option<String>,
    #[arg(short, long)]
    pub quiet: bool,
    /// Tarball path, or - for standard input
    pub source: String,
    pub reference: Option<String>,
}

#[derive(Args, Debug)]
pub struct HistoryArgs {
    /// Output format: json or a Go template
    #[arg(long)]
    pub format: Option<String>,
    /// Do not truncate output
    #[arg(long)]
    pub no_trunc: bool,
    /// Show only IDs
    #[arg(short, long)]
    pub quiet: bool,
    /// Sizes and dates in human units
    #[arg(short = 'H', long, default_value_t = true, action = clap::ArgAction::Set)]
    pub human: bool,
    pub image: String,
}

#[derive(Args, Debug)]
pub struct UnshareArgs {
    /// The command to run; $SHELL by default
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
}

impl Command {
    /// Container verbs, whether typed at the top level or under `container`.
    pub fn into_container(self) -> Result<ContainerCommand, Box<Command>> {
        Ok(match self {
            Command::Run(a) => ContainerCommand::Run(a),
            Command::Create(a) => ContainerCommand::Create(a),
            Command::Start(a) => ContainerCommand::Start(a),
            Command::Stop(a) => ContainerCommand::Stop(a),
            Command::Kill(a) => ContainerCommand::Kill(a),
            Command::Restart(a) => ContainerCommand::Restart(a),
            Command::Rm(a) => ContainerCommand::Rm(a),
            Command::Wait(a) => ContainerCommand::Wait(a),
            Command::Pause(a) => ContainerCommand::Pause(a),
            Command::Unpause(a) => ContainerCommand::Unpause(a),
            Command::Ps(a) => ContainerCommand::Ls(a),
            Command::Logs(a) => ContainerCommand::Logs(a),
            Command::Exec(a) => ContainerCommand::Exec(a),
            Command::Attach(a) => ContainerCommand::Attach(a),
            Command::Top(a) => ContainerCommand::Top(a),
            Command::Port(a) => ContainerCommand::Port(a),
            Command::Rename(a) => ContainerCommand::Rename(a),
            Command::Update(a) => ContainerCommand::Update(a),
            Command::Stats(a) => ContainerCommand::Stats(a),
            Command::Commit(a) => ContainerCommand::Commit(a),
            Command::Diff(a) => ContainerCommand::Diff(a),
            Command::Export(a) => ContainerCommand::Export(a),
            Command::Cp(a) => ContainerCommand::Cp(a),
            Command::Mount(a) => ContainerCommand::Mount(a),
            Command::Unmount(a) => ContainerCommand::Unmount(a),
            Command::Container(c) => c,
            other => return Err(Box::new(other)),
        })
    }

    /// Rootless commands that write layer files owned by subordinate ids must run in
    /// the storage user namespace.
    pub fn needs_user_namespace(&self) -> bool {
        match self {
            Command::Rmi(_)
            | Command::Load(_)
            | Command::Import(_)
            | Command::Unshare(_)
            | Command::Commit(_)
            | Command::Diff(_)
            | Command::Pull(_) => true,
            Command::Container(c) => {
                matches!(c, ContainerCommand::Commit(_) | ContainerCommand::Diff(_))
            }
            Command::System(c) => matches!(c, SystemCommand::Prune(_)),
            Command::Image(c) => matches!(
                c,
                ImageCommand::Rm(_)
                    | ImageCommand::Pull(_)
                    | ImageCommand::Prune(_)
                    | ImageCommand::Load(_)
                    | ImageCommand::Import(_)
            ),
            _ => false,
        }
    }
}
