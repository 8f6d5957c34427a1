//! clap definitions of `skiff kube`.

use clap::{ArgAction, Args, Subcommand};

#[derive(Subcommand, Debug)]
pub enum KubeCommand {
    /// Play Kubernetes YAML: store its objects and run them as a cluster would
    Play(KubePlayArgs),
    /// Take down what a YAML file played
    Down(KubeDownArgs),
    /// List objects in kubectl's shapes
    Get(KubeGetArgs),
    /// Delete objects by kind and name, or those a file names
    Delete(KubeDeleteArgs),
    /// Print a pod container's logs
    Logs(KubeLogsArgs),
    /// Run a command in a pod's container
    Exec(KubeExecArgs),
    /// Write Kubernetes YAML for containers or pods
    Generate(KubeGenerateArgs),
    /// Show an object in detail, with its events
    Describe(KubeDescribeArgs),
    /// Make a namespace (kube create namespace NAME)
    Create(KubeCreateArgs),
}

#[derive(Args, Debug)]
pub struct KubeCreateArgs {
    /// What to make: namespace (ns)
    pub what: String,
    pub name: String,
}

#[derive(Args, Debug)]
pub struct KubeDescribeArgs {
    /// KIND, KIND/NAME, or KIND NAME; every object of the kind without a name
    pub what: String,
    pub name: Option<String>,
    #[arg(short, long)]
    pub namespace: Option<String>,
    /// Label selector (app=web,tier!=db)
    #[arg(short = 'l', long)]
    pub selector: Option<String>,
}

#[derive(Args, Debug)]
pub struct KubeGenerateArgs {
    /// The workload to write: pod (the default), deployment, statefulset, daemonset or job
    #[arg(short = 't', long = "type", default_value = "pod")]
    pub kind: String,
    /// Replicas of a deployment or statefulset
    #[arg(short, long)]
    pub replicas: Option<i64>,
    /// Also write a Service for the pod
    #[arg(short, long)]
    pub service: bool,
    /// Write the YAML to this file instead of standard output
    #[arg(short, long)]
    pub filename: Option<std::path::PathBuf>,
    /// Containers (put together in one pod) or pods
    #[arg(required = true)]
    pub names: Vec<String>,
}

#[derive(Args, Debug)]
pub struct KubePlayArgs {
    /// Report fields skiff does not know: ignore, warn (the default) or strict (refuse)
    #[arg(long, default_value = "warn")]
    pub validate: String,
    /// Start what is played
    #[arg(long, default_value_t = true, action = ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub start: bool,
    /// Take down objects of the same names first
    #[arg(long)]
    pub replace: bool,
    /// Wait until every pod is Ready, or has failed
    #[arg(long)]
    pub wait: bool,
    /// Pull images now: always, missing, never or newer (else each pod's kubelet pulls by imagePullPolicy)
    #[arg(long)]
    pub pull: Option<String>,
    /// Publish a container port on the host, over the YAML's hostPort ([[ip:]hostPort:]containerPort[/protocol])
    #[arg(long)]
    pub publish: Vec<String>,
    /// The pods' network instead of the cluster pod network: a network's name, host, none, slirp4netns or pasta
    #[arg(long)]
    pub network: Vec<String>,
    /// A YAML file of ConfigMaps (or Secrets) played before the rest, as podman's --configmap
    #[arg(long)]
    pub configmap: Vec<String>,
    /// A file, a directory of YAML files, an http(s) URL, or - for standard input
    pub source: String,
}

#[derive(Args, Debug)]
pub struct KubeDownArgs {
    /// A file, a directory, an http(s) URL, or -
    pub source: String,
}

#[derive(Args, Debug)]
pub struct KubeGetArgs {
    /// KIND, KIND/NAME, or KIND NAME (po, deploy, svc, …), or events (ev)
    pub what: String,
    pub name: Option<String>,
    /// The namespace (default)
    #[arg(short, long)]
    pub namespace: Option<String>,
    /// Every namespace
    #[arg(short = 'A', long)]
    pub all_namespaces: bool,
    /// Label selector (app=web,tier!=db)
    #[arg(short = 'l', long)]
    pub selector: Option<String>,
    /// Output: wide, yaml, json or name
    #[arg(short, long)]
    pub output: Option<String>,
    /// Show Secrets' values in -o yaml|json (hidden otherwise)
    #[arg(long)]
    pub show_secrets: bool,
}

#[derive(Args, Debug)]
pub struct KubeDeleteArgs {
    /// KIND, KIND/NAME, or KIND NAME
    pub what: Option<String>,
    pub name: Option<String>,
    /// Delete what this file names
    #[arg(short, long)]
    pub filename: Option<String>,
    #[arg(short, long)]
    pub namespace: Option<String>,
    /// Do not fail when it is not there
    #[arg(long)]
    pub ignore_not_found: bool,
}

#[derive(Args, Debug)]
pub struct KubeLogsArgs {
    pub pod: String,
    /// The container
    #[arg(short, long)]
    pub container: Option<String>,
    #[arg(short, long)]
    pub follow: bool,
    #[arg(short, long)]
    pub namespace: Option<String>,
}

#[derive(Args, Debug)]
pub struct KubeExecArgs {
    pub pod: String,
    /// The container
    #[arg(short, long)]
    pub container: Option<String>,
    #[arg(short, long)]
    pub namespace: Option<String>,
    #[arg(short, long)]
    pub stdin: bool,
    #[arg(short, long)]
    pub tty: bool,
    /// The command, after --
    #[arg(last = true, required = true)]
    pub command: Vec<String>,
}
