//! `network` verbs and flags, as podman spells them.

use clap::{Args, Subcommand};

#[derive(Subcommand, Debug)]
pub enum NetworkCommand {
    /// Create a bridge network
    Create(NetworkCreateArgs),
    /// List networks
    #[command(alias = "list")]
    Ls(NetworkLsArgs),
    /// Display the configuration of networks
    Inspect(NetworkInspectArgs),
    /// Remove networks
    #[command(alias = "remove")]
    Rm(NetworkRmArgs),
    /// Remove every network no container uses
    Prune(NetworkPruneArgs),
    /// Exit 0 if the network exists, 1 if not
    Exists(NetworkExistsArgs),
    /// Connect a container to a network
    Connect(NetworkConnectArgs),
    /// Disconnect a container from a network
    Disconnect(NetworkDisconnectArgs),
}

#[derive(Args, Debug)]
pub struct NetworkCreateArgs {
    /// Driver (only bridge)
    #[arg(short, long)]
    pub driver: Option<String>,
    /// Subnet in CIDR form (IPv4)
    #[arg(long)]
    pub subnet: Option<String>,
    /// Gateway address (the subnet's first address by default)
    #[arg(long)]
    pub gateway: Option<String>,
    /// Hand out addresses only from this part of the subnet (CIDR form)
    #[arg(long)]
    pub ip_range: Option<String>,
    /// No way out of the network: containers reach only each other
    #[arg(long)]
    pub internal: bool,
    /// No DNS responder for the network's container names
    #[arg(long)]
    pub disable_dns: bool,
    /// Set a label (KEY=VALUE)
    #[arg(long)]
    pub label: Vec<String>,
    /// Driver option: allow_host_loopback=true lets containers reach the host's
    /// loopback at 10.0.2.2
    #[arg(short, long)]
    pub opt: Vec<String>,
    pub name: Option<String>,
}

#[derive(Args, Debug)]
pub struct NetworkLsArgs {
    /// Show only names
    #[arg(short, long)]
    pub quiet: bool,
    /// Output format: json or a Go template
    #[arg(long)]
    pub format: Option<String>,
    /// Filter: name=, id=, driver=, label=
    #[arg(short, long)]
    pub filter: Vec<String>,
    /// Do not truncate network ids
    #[arg(long)]
    pub no_trunc: bool,
    /// Do not print the header
    #[arg(short, long)]
    pub noheading: bool,
}

#[derive(Args, Debug)]
pub struct NetworkInspectArgs {
    /// Output format: json or a Go template
    #[arg(short, long)]
    pub format: Option<String>,
    #[arg(required = true)]
    pub names: Vec<String>,
}

#[derive(Args, Debug)]
pub struct NetworkRmArgs {
    /// Remove the containers that use the network too
    #[arg(short, long)]
    pub force: bool,
    #[arg(required = true)]
    pub names: Vec<String>,
}

#[derive(Args, Debug)]
pub struct NetworkPruneArgs {
    /// Do not ask for confirmation
    #[arg(short, long)]
    pub force: bool,
}

#[derive(Args, Debug)]
pub struct NetworkExistsArgs {
    pub name: String,
}

#[derive(Args, Debug)]
pub struct NetworkConnectArgs {
    /// Another name for the container on this network
    #[arg(long)]
    pub alias: Vec<String>,
    /// A fixed IPv4 address on this network
    #[arg(long)]
    pub ip: Option<String>,
    pub network: String,
    pub container: String,
}

#[derive(Args, Debug)]
pub struct NetworkDisconnectArgs {
    /// Accepted for compatibility
    #[arg(short, long)]
    pub force: bool,
    pub network: String,
    pub container: String,
}
