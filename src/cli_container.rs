//! Container verbs and their flags, spelled as podman and docker spell them.

use clap::{ArgAction, Args, Subcommand};
use std::path::PathBuf;

#[derive(Subcommand, Debug)]
pub enum ContainerCommand {
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
    #[command(alias = "ps", alias = "list")]
    Ls(PsArgs),
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
    /// Remove all stopped containers
    Prune(ForceArgs),
    /// Build containers' sandboxes without running their programs (start runs them)
    Init(InitArgs),
    /// Run the command an image keeps in a label, with IMAGE and NAME filled in
    Runlabel(RunlabelArgs),
    /// Create a new container the way an existing one was made
    Clone(CloneArgs),
    /// Display the configuration of containers
    Inspect(ContainerInspectArgs),
    /// Exit 0 if the container exists, 1 if not
    Exists(ExistsArgs),
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
}

#[derive(Args, Debug, Clone)]
pub struct CommitArgs {
    /// Apply a Dockerfile instruction: CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, VOLUME, WORKDIR, STOPSIGNAL
    #[arg(short, long)]
    pub change: Vec<String>,
    /// Commit message for the history
    #[arg(short, long)]
    pub message: Option<String>,
    /// Author of the image
    #[arg(short, long)]
    pub author: Option<String>,
    /// Pause the container while committing
    #[arg(short, long, default_value_t = true, action = ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub pause: bool,
    /// Print only the image ID
    #[arg(short, long)]
    pub quiet: bool,
    pub container: String,
    /// Name for the new image
    pub image: Option<String>,
}

#[derive(Args, Debug, Clone)]
pub struct DiffArgs {
    /// Output format: json
    #[arg(long)]
    pub format: Option<String>,
    pub container: String,
}

#[derive(Args, Debug, Clone)]
pub struct ExportArgs {
    /// Write to this file instead of standard output
    #[arg(short, long)]
    pub output: Option<String>,
    pub container: String,
}

#[derive(Args, Debug, Clone)]
pub struct CpArgs {
    /// Archive mode, as podman's: true (the default) gives what is copied to the
    /// receiving side's primary user; -a=false keeps the source's owners
    #[arg(short, long, num_args = 0..=1, require_equals = true, default_value_t = true,
          default_missing_value = "true", action = clap::ArgAction::Set)]
    pub archive: bool,
    /// Accepted for podman's scripts: skiff resolves every path inside the container's
    /// root without following its links outward, so it need not pause the container
    #[arg(long, num_args = 0..=1, require_equals = true, default_value_t = true,
          default_missing_value = "true", action = clap::ArgAction::Set)]
    pub pause: bool,
    /// Follow a symlink given as the source
    #[arg(short = 'L', long)]
    pub follow_link: bool,
    /// Do not print progress
    #[arg(short, long)]
    pub quiet: bool,
    /// SRC: a host path, CONTAINER:PATH, or - (a tar stream on standard input)
    pub source: String,
    /// DEST: a host path, CONTAINER:PATH, or - (a tar stream on standard output)
    pub dest: String,
}

#[derive(Args, Debug, Clone)]
pub struct MountArgs {
    /// Output format: json
    #[arg(long)]
    pub format: Option<String>,
    pub containers: Vec<String>,
}

#[derive(Args, Debug, Clone)]
pub struct UnmountArgs {
    /// Unmount every mounted container
    #[arg(short, long)]
    pub all: bool,
    /// Unmount even if the container is running
    #[arg(short, long)]
    pub force: bool,
    pub containers: Vec<String>,
}

#[derive(Args, Debug, Clone)]
#[command(disable_help_flag = true)]
pub struct RunArgs {
    /// Print help
    #[arg(long, action = ArgAction::Help)]
    pub help: Option<bool>,
    /// Run in the background and print the container ID
    #[arg(short, long)]
    pub detach: bool,
    /// Keep standard input open
    #[arg(short, long)]
    pub interactive: bool,
    /// Allocate a terminal
    #[arg(short, long)]
    pub tty: bool,
    /// Remove the container when it exits
    #[arg(long)]
    pub rm: bool,
    /// Name of the container
    #[arg(long)]
    pub name: Option<String>,
    /// Set an environment variable (KEY=VALUE, or KEY to pass the caller's)
    #[arg(short, long)]
    pub env: Vec<String>,
    /// Read environment variables from a file
    #[arg(long)]
    pub env_file: Vec<PathBuf>,
    /// Working directory inside the container
    #[arg(short, long)]
    pub workdir: Option<String>,
    /// User (name or uid) and optional group: user[:group]
    #[arg(short, long)]
    pub user: Option<String>,
    /// Override the image's entrypoint ("" clears it)
    #[arg(long)]
    pub entrypoint: Option<String>,
    /// Container hostname
    #[arg(short = 'h', long)]
    pub hostname: Option<String>,
    /// Run a small init as PID 1 that reaps and forwards signals
    #[arg(long)]
    pub init: bool,
    /// Signal that stops the container
    #[arg(long)]
    pub stop_signal: Option<String>,
    /// Seconds to wait for stop before killing
    #[arg(long)]
    pub stop_timeout: Option<u32>,
    /// Restart policy: no, on-failure[:N], always, unless-stopped
    #[arg(long, default_value = "no")]
    pub restart: String,
    /// Mount the root file system read-only
    #[arg(long)]
    pub read_only: bool,
    /// Add a capability
    #[arg(long)]
    pub cap_add: Vec<String>,
    /// Drop a capability
    #[arg(long)]
    pub cap_drop: Vec<String>,
    /// Security options: no-new-privileges, seccomp=unconfined|FILE
    #[arg(long)]
    pub security_opt: Vec<String>,
    /// Give the container every capability and no seccomp filter
    #[arg(long)]
    pub privileged: bool,
    /// User namespace: host, keep-id, auto
    #[arg(long, default_value = "")]
    pub userns: String,
    /// Add a host user (name or uid) to the container's /etc/passwd and /etc/group
    #[arg(long = "hostuser")]
    pub hostuser: Vec<String>,
    /// PID namespace: private, host, container:NAME
    #[arg(long, default_value = "")]
    pub pid: String,
    /// IPC namespace: private, host, container:NAME
    #[arg(long, default_value = "")]
    pub ipc: String,
    /// UTS namespace: private, host, container:NAME
    #[arg(long, default_value = "")]
    pub uts: String,
    /// Network: slirp4netns (the default), pasta, bridge, a network's name (repeat for
    /// several), private (loopback only), none, host, container:NAME
    #[arg(long, alias = "net")]
    pub network: Vec<String>,
    /// The container's cgroup: enabled, disabled, no-conmon or split
    #[arg(long, default_value = "enabled")]
    pub cgroups: String,
    /// Make the container's cgroup below this one (absolute from the hierarchy's root,
    /// or relative to skiff's own cgroup)
    #[arg(long)]
    pub cgroup_parent: Option<PathBuf>,
    /// Run in this pod, sharing its namespaces (new:NAME creates the pod)
    #[arg(long)]
    pub pod: Option<String>,
    /// Run in the pod whose id this file holds
    #[arg(long)]
    pub pod_id_file: Option<PathBuf>,
    /// Another name for the container on its bridge network
    #[arg(long)]
    pub network_alias: Vec<String>,
    /// A fixed IPv4 address on the bridge network
    #[arg(long)]
    pub ip: Option<String>,
    /// Publish a port: [IP:][HOSTPORT:]CONTAINERPORT[/tcp|udp], ranges too
    #[arg(short, long)]
    pub publish: Vec<String>,
    /// Publish every port the image exposes on a free host port
    #[arg(short = 'P', long)]
    pub publish_all: bool,
    /// Add a line to /etc/hosts: NAME:IP
    #[arg(long)]
    pub add_host: Vec<String>,
    /// Name server for /etc/resolv.conf
    #[arg(long)]
    pub dns: Vec<String>,
    /// Search domain for /etc/resolv.conf
    #[arg(long)]
    pub dns_search: Vec<String>,
    /// Resolver option for /etc/resolv.conf
    #[arg(long)]
    pub dns_option: Vec<String>,
    /// Set a label (KEY=VALUE)
    #[arg(short, long)]
    pub label: Vec<String>,
    /// Set an annotation (KEY=VALUE)
    #[arg(long)]
    pub annotation: Vec<String>,
    /// Resource limit: name=soft[:hard]
    #[arg(long)]
    pub ulimit: Vec<String>,
    /// Pull policy: missing (default, or containers.conf's pull_policy), never, always, newer
    #[arg(long)]
    pub pull: Option<String>,
    #[command(flatten)]
    pub registry: crate::cli_registry::RegistryFlags,
    #[command(flatten)]
    pub platform_flags: crate::cli_registry::PlatformFlags,
    /// Forward signals received by skiff to the container
    #[arg(long, default_value_t = true, action = ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub sig_proxy: bool,
    /// Keys that detach from the container
    #[arg(long)]
    pub detach_keys: Option<String>,
    /// Directory of OCI hook definitions (hooks.d)
    #[arg(long)]
    pub hooks_dir: Vec<PathBuf>,
    /// Bind mount or volume: [SOURCE:]DEST[:ro,rw,U,z,Z,rbind,...]
    #[arg(short, long)]
    pub volume: Vec<String>,
    /// Mount: type=bind|volume|tmpfs,source=…,destination=…[,readonly,…]
    #[arg(long)]
    pub mount: Vec<String>,
    /// tmpfs mount: DEST[:size=…,mode=…]
    #[arg(long)]
    pub tmpfs: Vec<String>,
    /// With --read-only, mount tmpfs on /run, /tmp and /var/tmp
    #[arg(long, default_value_t = true, action = ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub read_only_tmpfs: bool,
    /// Mount the volumes of another container: NAME[:ro|rw]
    #[arg(long)]
    pub volumes_from: Vec<String>,
    /// Give the container a secret: NAME[,type=mount|env,target=…,uid=,gid=,mode=]
    #[arg(long)]
    pub secret: Vec<String>,
    #[command(flatten)]
    pub resources: ResourceFlags,
    #[command(flatten)]
    pub health: HealthFlags,
    /// Adjust the OOM killer's preference for the container's processes (-1000..1000)
    #[arg(long, allow_hyphen_values = true)]
    pub oom_score_adj: Option<i32>,
    /// Where output is kept: k8s-file (default), json-file (the same), none
    #[arg(long)]
    pub log_driver: Option<String>,
    /// Log option: path=FILE, max-size=SIZE, tag=TAG
    #[arg(long)]
    pub log_opt: Vec<String>,
    /// Kill the container after this many seconds (0: no limit)
    #[arg(long, default_value_t = 0)]
    pub timeout: u32,
    /// Write the supervisor's pid to this file
    #[arg(long, value_name = "FILE")]
    pub conmon_pidfile: Option<PathBuf>,
    /// Hand the container's program this many of our fds, from 3 on (run only)
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub preserve_fds: u32,
    /// Write the container's ID to this file
    #[arg(long, value_name = "FILE")]
    pub cidfile: Option<PathBuf>,
    /// Time zone: local, or a name such as Europe/Paris
    #[arg(long)]
    pub tz: Option<String>,
    /// Remove the image after the container exits (implies --rm)
    #[arg(long)]
    pub rmi: bool,
    /// Attach to these streams only: stdin, stdout, stderr
    #[arg(short, long, value_enum)]
    pub attach: Vec<AttachStream>,
    /// OCI runtime (accepted for podman compatibility: skiff is its own runtime)
    #[arg(long, hide = true)]
    pub runtime: Option<String>,
    /// Flags for the OCI runtime (accepted and ignored, as --runtime)
    #[arg(long, hide = true)]
    pub runtime_flag: Vec<String>,
    /// Kernel memory limit (no longer supported by the kernel; a warning, as in podman)
    #[arg(long, hide = true)]
    pub kernel_memory: Option<String>,
    pub image: String,
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttachStream {
    Stdin,
    Stdout,
    Stderr,
}

#[derive(Args, Debug)]
pub struct StartArgs {
    /// Attach to the container's output
    #[arg(short, long)]
    pub attach: bool,
    /// Attach standard input too
    #[arg(short, long)]
    pub interactive: bool,
    /// Keys that detach from the container
    #[arg(long)]
    pub detach_keys: Option<String>,
    /// Start every container that is not running
    #[arg(long)]
    pub all: bool,
    /// Start only the containers that match (as ps --filter)
    #[arg(short, long)]
    pub filter: Vec<String>,
    pub names: Vec<String>,
}

#[derive(Args, Debug)]
pub struct StopArgs {
    /// Seconds to wait before killing the container
    #[arg(short, long, visible_alias = "timeout")]
    pub time: Option<u32>,
    /// All running containers
    #[arg(short, long)]
    pub all: bool,
    /// Do not error on containers that do not exist
    #[arg(short, long)]
    pub ignore: bool,
    pub names: Vec<String>,
}

#[derive(Args, Debug)]
pub struct KillArgs {
    /// Signal to send
    #[arg(short, long, default_value = "KILL")]
    pub signal: String,
    /// All running containers
    #[arg(short, long)]
    pub all: bool,
    pub names: Vec<String>,
}

#[derive(Args, Debug)]
pub struct RmArgs {
    /// Stop and remove running containers
    #[arg(short, long)]
    pub force: bool,
    /// Remove anonymous volumes too
    #[arg(short, long)]
    pub volumes: bool,
    /// All containers
    #[arg(short, long)]
    pub all: bool,
    /// Do not error on containers that do not exist
    #[arg(short, long)]
    pub ignore: bool,
    /// With --force: seconds to wait for the stop signal before killing
    #[arg(short, long)]
    pub time: Option<u32>,
    pub names: Vec<String>,
}

#[derive(Args, Debug)]
pub struct NamesArgs {
    #[arg(required = true)]
    pub names: Vec<String>,
}

#[derive(Args, Debug)]
pub struct PsArgs {
    /// Show all containers, not only running ones
    #[arg(short, long)]
    pub all: bool,
    /// Show only IDs
    #[arg(short, long)]
    pub quiet: bool,
    /// Show the latest container
    #[arg(short, long)]
    pub latest: bool,
    /// Show the last N containers
    #[arg(short = 'n', long)]
    pub last: Option<usize>,
    /// Filter: name, label, status, ancestor, id, exited
    #[arg(short, long)]
    pub filter: Vec<String>,
    /// Output format: json or a Go template
    #[arg(long)]
    pub format: Option<String>,
    /// Do not truncate output
    #[arg(long)]
    pub no_trunc: bool,
    /// Show the size of each container's writable layer
    #[arg(short, long)]
    pub size: bool,
    /// Do not print the header
    #[arg(long)]
    pub noheading: bool,
    /// Sort by: command, created, id, image, names, runningfor, status
    #[arg(long, value_enum, default_value = "created")]
    pub sort: PsSort,
    /// Show the pod of each container (POD ID and PODNAME columns)
    #[arg(long)]
    pub pod: bool,
    /// Also containers made outside skiff (skiff has none; accepted as podman's)
    #[arg(long)]
    pub external: bool,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum PsSort {
    Command,
    Created,
    Id,
    Image,
    Names,
    Runningfor,
    Status,
}

#[derive(Args, Debug)]
pub struct LogsArgs {
    /// Follow new output
    #[arg(short, long)]
    pub follow: bool,
    /// Only lines since this time (RFC 3339, Unix seconds, or a duration like 10m)
    #[arg(long)]
    pub since: Option<String>,
    /// Only lines until this time
    #[arg(long)]
    pub until: Option<String>,
    /// Only the last N lines (-1: all)
    #[arg(long, default_value_t = -1, allow_hyphen_values = true)]
    pub tail: i64,
    /// Show timestamps
    #[arg(short, long)]
    pub timestamps: bool,
    #[arg(required = true)]
    pub names: Vec<String>,
}

#[derive(Args, Debug)]
pub struct ExecArgs {
    /// Keep standard input open
    #[arg(short, long)]
    pub interactive: bool,
    /// Allocate a terminal
    #[arg(short, long)]
    pub tty: bool,
    /// Run in the background
    #[arg(short, long)]
    pub detach: bool,
    /// Set an environment variable
    #[arg(short, long)]
    pub env: Vec<String>,
    /// Read environment variables from a file
    #[arg(long)]
    pub env_file: Vec<PathBuf>,
    /// User (name or uid) and optional group
    #[arg(short, long)]
    pub user: Option<String>,
    /// Working directory
    #[arg(short, long)]
    pub workdir: Option<String>,
    /// Give the process every capability of the container's bounding set
    #[arg(long)]
    pub privileged: bool,
    /// Keys that detach from the process (accepted; exec sessions end with the process)
    #[arg(long)]
    pub detach_keys: Option<String>,
    pub container: String,
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, required = true)]
    pub command: Vec<String>,
}

#[derive(Args, Debug)]
pub struct AttachArgs {
    /// Keys that detach from the container
    #[arg(long)]
    pub detach_keys: Option<String>,
    /// Do not attach standard input
    #[arg(long)]
    pub no_stdin: bool,
    /// Forward signals to the container
    #[arg(long, default_value_t = true, action = ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub sig_proxy: bool,
    pub name: String,
}

#[derive(Args, Debug)]
pub struct TopArgs {
    pub name: String,
    /// podman's descriptors: user, pid, ppid, pcpu, etime, tty, time, args, comm, huser,
    /// hpid, group, hgroup, ruser, rgroup, pgid, nice, vsz, state, stime, seccomp, label,
    /// capeff, capprm, capinh, capbnd, capamb, or the AIX forms (%U, %p, %C, …)
    pub descriptors: Vec<String>,
}

#[derive(Args, Debug)]
pub struct PortArgs {
    pub name: String,
    /// Only this container port (PORT[/PROTO])
    pub port: Option<String>,
}

#[derive(Args, Debug)]
pub struct RenameArgs {
    pub name: String,
    pub new_name: String,
}

#[derive(Args, Debug)]
pub struct StatsArgs {
    /// Print one sample and exit
    #[arg(long)]
    pub no_stream: bool,
    /// All containers
    #[arg(short, long)]
    pub all: bool,
    /// Output format: json or a Go template
    #[arg(long)]
    pub format: Option<String>,
    pub names: Vec<String>,
}

#[derive(Args, Debug)]
pub struct ForceArgs {
    /// Do not ask for confirmation
    #[arg(short, long)]
    pub force: bool,
}

#[derive(Args, Debug)]
pub struct ContainerInspectArgs {
    /// Output format: json or a Go template
    #[arg(short, long)]
    pub format: Option<String>,
    #[arg(required = true)]
    pub names: Vec<String>,
}

#[derive(Args, Debug)]
pub struct RunlabelArgs {
    /// Only print the command
    #[arg(long)]
    pub display: bool,
    /// Container name for NAME (default: the image's base name)
    #[arg(short, long)]
    pub name: Option<String>,
    /// Do not print the command before running it
    #[arg(short, long)]
    pub quiet: bool,
    pub label: String,
    pub image: String,
    /// Appended to the label's command
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct CloneArgs {
    /// Remove the original container once the clone exists
    #[arg(long)]
    pub destroy: bool,
    /// With --destroy, remove the original even if it runs
    #[arg(short, long)]
    pub force: bool,
    /// Start the clone
    #[arg(long)]
    pub run: bool,
    /// The clone's name (default: the original's with -clone)
    #[arg(long = "name")]
    pub name_flag: Option<String>,
    pub container: String,
    /// The clone's name, as podman takes it positionally
    pub name: Option<String>,
    /// Make the clone from this image instead
    pub image: Option<String>,
}

#[derive(Args, Debug)]
pub struct InitArgs {
    /// Every created container
    #[arg(short, long)]
    pub all: bool,
    pub names: Vec<String>,
}

#[derive(Args, Debug)]
pub struct ExistsArgs {
    /// Containers made outside skiff too (skiff has none; accepted as podman's)
    #[arg(long, hide = true)]
    pub external: bool,
    pub name: String,
}

#[derive(Subcommand, Debug)]
pub enum VolumeCommand {
    /// Create a volume
    Create(VolumeCreateArgs),
    /// List volumes
    #[command(alias = "list")]
    Ls(VolumeLsArgs),
    /// Display the configuration of volumes
    Inspect(VolumeInspectArgs),
    /// Remove volumes
    Rm(VolumeRmArgs),
    /// Remove all unused volumes
    Prune(ForceArgs),
    /// Exit 0 if the volume exists, 1 if not
    Exists(ExistsArgs),
}

#[derive(Args, Debug)]
pub struct VolumeCreateArgs {
    /// Volume driver (only local)
    #[arg(short, long, default_value = "local")]
    pub driver: String,
    /// Set a label (KEY=VALUE)
    #[arg(short, long)]
    pub label: Vec<String>,
    /// Driver option (KEY=VALUE): type=tmpfs, o=size=…,mode=…
    #[arg(short, long)]
    pub opt: Vec<String>,
    pub name: Option<String>,
}

#[derive(Args, Debug)]
pub struct VolumeLsArgs {
    /// Show only names
    #[arg(short, long)]
    pub quiet: bool,
    /// Output format: json or a Go template
    #[arg(long)]
    pub format: Option<String>,
    /// Filter: name=, label=, dangling=true|false
    #[arg(short, long)]
    pub filter: Vec<String>,
    /// Do not print the header
    #[arg(short, long)]
    pub noheading: bool,
}

#[derive(Args, Debug)]
pub struct VolumeInspectArgs {
    /// Output format: json or a Go template
    #[arg(short, long)]
    pub format: Option<String>,
    #[arg(required = true)]
    pub names: Vec<String>,
}

#[derive(Args, Debug)]
pub struct VolumeRmArgs {
    /// Remove the containers that use the volume too
    #[arg(short, long)]
    pub force: bool,
    #[arg(required = true)]
    pub names: Vec<String>,
}

#[derive(Args, Debug)]
pub struct EventsArgs {
    /// Filter: type=, event= (or status=), container=, image=, volume=, network=, pod=, secret=, label=
    #[arg(short, long)]
    pub filter: Vec<String>,
    /// Output format: json or a Go template
    #[arg(long)]
    pub format: Option<String>,
    /// Events since this time (RFC 3339, Unix seconds, or a duration such as 10m)
    #[arg(long)]
    pub since: Option<String>,
    /// Events until this time; streaming stops then
    #[arg(long)]
    pub until: Option<String>,
    /// Follow new events (default); --stream=false prints what is logged and exits
    #[arg(long, default_value_t = true, action = ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub stream: bool,
    /// Do not truncate ids (they never are)
    #[arg(long)]
    pub no_trunc: bool,
}

/// Resource limits, for run/create and update.
#[derive(Args, Debug, Default, Clone)]
pub struct ResourceFlags {
    /// Memory limit (a size: 64m, 1g)
    #[arg(short = 'm', long)]
    pub memory: Option<String>,
    /// Memory soft limit
    #[arg(long)]
    pub memory_reservation: Option<String>,
    /// Memory plus swap limit; -1 for unlimited swap
    #[arg(long)]
    pub memory_swap: Option<String>,
    /// Number of CPUs' worth of time (0.5 is half a core)
    #[arg(long)]
    pub cpus: Option<f64>,
    /// CPU shares (relative weight)
    #[arg(short = 'c', long)]
    pub cpu_shares: Option<u64>,
    /// CPU CFS quota in microseconds per period
    #[arg(long)]
    pub cpu_quota: Option<i64>,
    /// CPU CFS period in microseconds
    #[arg(long)]
    pub cpu_period: Option<u64>,
    /// CPUs the container may run on (0-3, 0,1)
    #[arg(long)]
    pub cpuset_cpus: Option<String>,
    /// Memory nodes the container may use
    #[arg(long)]
    pub cpuset_mems: Option<String>,
    /// Maximum number of processes; -1 for no limit
    #[arg(long, allow_hyphen_values = true)]
    pub pids_limit: Option<i64>,
    /// Block IO weight (10-1000)
    #[arg(long)]
    pub blkio_weight: Option<u16>,
    /// Read rate limit of a block device (DEVICE:RATE, such as /dev/sda:1mb)
    #[arg(long)]
    pub device_read_bps: Vec<String>,
    /// Write rate limit of a block device (DEVICE:RATE)
    #[arg(long)]
    pub device_write_bps: Vec<String>,
}

#[derive(Args, Debug)]
pub struct UpdateArgs {
    #[command(flatten)]
    pub resources: ResourceFlags,
    pub name: String,
}

/// Health check flags of run/create.
#[derive(Args, Debug, Default, Clone)]
pub struct HealthFlags {
    /// The check: a command for the container's shell, or a JSON array (["CMD", …])
    #[arg(long)]
    pub health_cmd: Option<String>,
    /// Time between checks (30s)
    #[arg(long)]
    pub health_interval: Option<String>,
    /// Time a check may take (30s)
    #[arg(long)]
    pub health_timeout: Option<String>,
    /// Failures in a row that make the container unhealthy (3)
    #[arg(long)]
    pub health_retries: Option<u32>,
    /// Time after start when failures do not count (0s)
    #[arg(long)]
    pub health_start_period: Option<String>,
    /// What an unhealthy container gets: none, kill, restart, stop
    #[arg(long)]
    pub health_on_failure: Option<String>,
    /// A probe made from the container's network instead of a command:
    /// http[s]://[HOST]:PORT/PATH, tcp://[HOST]:PORT or grpc://[HOST]:PORT[/SERVICE]
    #[arg(long)]
    pub health_probe: Option<String>,
    /// A startup check, as --health-cmd; the regular check waits until it passes
    #[arg(long)]
    pub health_startup_cmd: Option<String>,
    /// Time between startup checks (30s)
    #[arg(long)]
    pub health_startup_interval: Option<String>,
    /// Startup check failures in a row that restart the container (0: no limit)
    #[arg(long)]
    pub health_startup_retries: Option<u32>,
    /// Startup check passes in a row needed (1)
    #[arg(long)]
    pub health_startup_success: Option<u32>,
    /// Time a startup check may take (30s)
    #[arg(long)]
    pub health_startup_timeout: Option<String>,
    /// Where results go besides inspect: local, events_logger, or a directory
    #[arg(long)]
    pub health_log_destination: Option<String>,
    /// Disable the image's HEALTHCHECK
    #[arg(long)]
    pub no_healthcheck: bool,
}

#[derive(Subcommand, Debug)]
pub enum HealthcheckCommand {
    /// Run a container's health check once
    Run(NamesOne),
}

#[derive(Args, Debug)]
pub struct NamesOne {
    pub name: String,
}
