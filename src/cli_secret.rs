//! clap definitions of `skiff secret`.

use clap::{Args, Subcommand};

#[derive(Subcommand, Debug)]
pub enum SecretCommand {
    /// Create a secret from a file, standard input (-) or an environment variable
    Create(SecretCreateArgs),
    /// List secrets
    #[command(alias = "list")]
    Ls(SecretLsArgs),
    /// Display the details of secrets (never their values unless --showsecret)
    Inspect(SecretInspectArgs),
    /// Remove secrets
    Rm(SecretRmArgs),
    /// Exit 0 if the secret exists, 1 if not
    Exists(SecretExistsArgs),
}

#[derive(Args, Debug)]
pub struct SecretCreateArgs {
    /// Secret driver (only file)
    #[arg(short, long, default_value = "file")]
    pub driver: String,
    /// Driver option (KEY=VALUE); the file driver takes none
    #[arg(long = "driver-opts")]
    pub driver_opts: Vec<String>,
    /// Read the value from the environment variable named by the second argument
    #[arg(long)]
    pub env: bool,
    /// Set a label (KEY=VALUE)
    #[arg(short, long)]
    pub label: Vec<String>,
    pub name: String,
    /// A file, - for standard input, or with --env a variable's name
    pub source: String,
}

#[derive(Args, Debug)]
pub struct SecretLsArgs {
    /// Show only ids
    #[arg(short, long)]
    pub quiet: bool,
    /// Output format: json or a Go template
    #[arg(long)]
    pub format: Option<String>,
    /// Filter: name=, id=, label=
    #[arg(short, long)]
    pub filter: Vec<String>,
    /// Do not print the header
    #[arg(short, long)]
    pub noheading: bool,
}

#[derive(Args, Debug)]
pub struct SecretInspectArgs {
    /// Output format: json or a Go template
    #[arg(short, long)]
    pub format: Option<String>,
    /// Show the secret's value too
    #[arg(long)]
    pub showsecret: bool,
    #[arg(required = true)]
    pub names: Vec<String>,
}

#[derive(Args, Debug)]
pub struct SecretRmArgs {
    /// Remove every secret
    #[arg(short, long)]
    pub all: bool,
    /// Ignore secrets that do not exist
    #[arg(short, long)]
    pub ignore: bool,
    pub names: Vec<String>,
}

#[derive(Args, Debug)]
pub struct SecretExistsArgs {
    pub name: String,
}
