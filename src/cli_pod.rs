//! clap definitions of `skiff pod`, spelled as podman spells them.

use clap::{Args, Subcommand};
use std::path::PathBuf;

#[derive(Subcommand, Debug)]
pub enum PodCommand {
    /// Create a pod: an infra container holding the namespaces its containers share
    Create(Box<PodCreateArgs>),
    /// Start pods: the infra, then every container
    Start(PodNamesArgs),
    /// Stop pods: the containers side by side, then the infra
    Stop(PodStopArgs),
    /// Stop and start pods
    Restart(PodStopArgs),
    /// Send a signal to every running container of pods
    Kill(PodKillArgs),
    /// Pause every container of pods
    Pause(PodNamesArgs),
    /// Unpause every container of pods
    Unpause(PodNamesArgs),
    /// Remove pods and their containers
    Rm(PodRmArgs),
    /// Remove every pod whose containers are all stopped
    Prune(PodPruneArgs),
    /// List pods
    #[command(alias = "ls", alias = "list")]
    Ps(PodPsArgs),
    /// Display the details of pods
    Inspect(PodInspectArgs),
    /// Display the processes of a pod's containers
    Top(PodTopArgs),
    /// Fetch the logs of a pod's containers
    Logs(PodLogsArgs),
    /// Display the resource usage of pods' containers
    Stats(PodStatsArgs),
    /// Exit 0 if the pod exists, 1 if not
    Exists(PodExistsArgs),
    /// Create a pod with the settings of an existing one
    Clone(PodCloneArgs),
}

#[derive(Args, Debug, Default)]
pub struct PodCreateArgs {
    /// The pod's name
    #[arg(short, long)]
    pub name: Option<String>,
    /// Publish a port of the pod on the host (hostPort:containerPort[/proto])
    #[arg(short, long)]
    pub publish: Vec<String>,
    /// The pod's network, as run's --network
    #[arg(long, alias = "net")]
    pub network: Vec<String>,
    /// Namespaces the containers share: ipc, net, pid, uts (or none; +NS adds to the default)
    #[arg(long, default_value = "ipc,net,uts")]
    pub share: String,
    /// Make an infra container (without one nothing can be shared)
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub infra: bool,
    /// An image for the infra instead of the built-in pause process
    #[arg(long)]
    pub infra_image: Option<String>,
    /// The infra image's command (with --infra-image)
    #[arg(long)]
    pub infra_command: Option<String>,
    /// The infra container's name
    #[arg(long)]
    pub infra_name: Option<String>,
    /// Set a label (KEY=VALUE)
    #[arg(short, long)]
    pub label: Vec<String>,
    /// The pod's hostname (the pod's name otherwise)
    #[arg(long)]
    pub hostname: Option<String>,
    /// Add a host to /etc/hosts (NAME:IP)
    #[arg(long)]
    pub add_host: Vec<String>,
    /// Name servers
    #[arg(long)]
    pub dns: Vec<String>,
    /// Search domains
    #[arg(long)]
    pub dns_search: Vec<String>,
    /// resolv.conf options
    #[arg(long)]
    pub dns_option: Vec<String>,
    /// The pod's user namespace
    #[arg(long, default_value = "")]
    pub userns: String,
    /// What happens when the last container exits: continue or stop
    #[arg(long, default_value = "continue")]
    pub exit_policy: String,
    /// Write the pod's id to this file
    #[arg(long)]
    pub pod_id_file: Option<PathBuf>,
    /// The pod's name, as podman also takes it
    pub name_arg: Option<String>,
}

#[derive(Args, Debug)]
pub struct PodNamesArgs {
    /// Every pod
    #[arg(short, long)]
    pub all: bool,
    pub names: Vec<String>,
}

#[derive(Args, Debug)]
pub struct PodStopArgs {
    /// Seconds to wait before killing the containers
    #[arg(short, long, visible_alias = "timeout")]
    pub time: Option<u32>,
    /// Every pod
    #[arg(short, long)]
    pub all: bool,
    /// Do not error on pods that do not exist
    #[arg(short, long)]
    pub ignore: bool,
    pub names: Vec<String>,
}

#[derive(Args, Debug)]
pub struct PodKillArgs {
    /// Signal to send
    #[arg(short, long, default_value = "KILL")]
    pub signal: String,
    /// Every pod
    #[arg(short, long)]
    pub all: bool,
    pub names: Vec<String>,
}

#[derive(Args, Debug)]
pub struct PodRmArgs {
    /// Stop running containers first
    #[arg(short, long)]
    pub force: bool,
    /// Every pod
    #[arg(short, long)]
    pub all: bool,
    /// Do not error on pods that do not exist
    #[arg(short, long)]
    pub ignore: bool,
    /// Seconds to wait before killing the containers (with --force)
    #[arg(short, long, visible_alias = "timeout")]
    pub time: Option<u32>,
    /// Read pod ids from these files
    #[arg(long)]
    pub pod_id_file: Vec<PathBuf>,
    pub names: Vec<String>,
}

#[derive(Args, Debug)]
pub struct PodPruneArgs {
    /// Do not ask for confirmation
    #[arg(short, long)]
    pub force: bool,
}

#[derive(Args, Debug)]
pub struct PodPsArgs {
    /// Show only ids
    #[arg(short, long)]
    pub quiet: bool,
    /// Output format: json or a Go template
    #[arg(long)]
    pub format: Option<String>,
    /// Filter: name=, id=, status=, label=, ctr-names=, ctr-ids=
    #[arg(short, long)]
    pub filter: Vec<String>,
    /// Do not truncate ids
    #[arg(long)]
    pub no_trunc: bool,
    /// Do not print the header
    #[arg(long)]
    pub noheading: bool,
    /// Show the containers' names
    #[arg(long)]
    pub ctr_names: bool,
    /// Show the containers' ids
    #[arg(long)]
    pub ctr_ids: bool,
    /// Show the containers' statuses
    #[arg(long)]
    pub ctr_status: bool,
    /// Show the number of containers (the default table has it)
    #[arg(long)]
    pub ns: bool,
}

#[derive(Args, Debug)]
pub struct PodInspectArgs {
    /// Output format: json or a Go template
    #[arg(short, long)]
    pub format: Option<String>,
    #[arg(required = true)]
    pub names: Vec<String>,
}

#[derive(Args, Debug)]
pub struct PodTopArgs {
    pub name: String,
    /// ps descriptors, as `top` takes them
    pub descriptors: Vec<String>,
}

#[derive(Args, Debug)]
pub struct PodLogsArgs {
    /// Only this container's log
    #[arg(short, long)]
    pub container: Option<String>,
    /// Follow the logs
    #[arg(short, long)]
    pub follow: bool,
    /// Lines from the end of each log
    #[arg(long, default_value_t = -1, allow_hyphen_values = true)]
    pub tail: i64,
    /// Show timestamps
    #[arg(short, long)]
    pub timestamps: bool,
    pub pod: String,
}

#[derive(Args, Debug)]
pub struct PodStatsArgs {
    /// Every pod
    #[arg(short, long)]
    pub all: bool,
    /// Print once
    #[arg(long)]
    pub no_stream: bool,
    /// Output format: json or a Go template
    #[arg(long)]
    pub format: Option<String>,
    pub names: Vec<String>,
}

#[derive(Args, Debug)]
pub struct PodExistsArgs {
    pub name: String,
}

#[derive(Args, Debug)]
pub struct PodCloneArgs {
    /// The clone's name
    #[arg(short, long)]
    pub name: Option<String>,
    /// Start the clone
    #[arg(long)]
    pub start: bool,
    /// Remove the original pod
    #[arg(long)]
    pub destroy: bool,
    pub pod: String,
    /// The clone's name, as podman also takes it
    pub name_arg: Option<String>,
}
