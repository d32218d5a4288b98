//! The command line: clap definitions, one module per subcommand, and the exit-code contract.
//!
//! Exit codes: 0 success; 1 error (bad input, nothing changed); 2 `diff --detailed-exitcode` found
//! changes; 3 a gate failed and the step was rolled back; 4 the plan is stale.

mod apply;
mod check;
mod collect;
mod diff;
mod migrate;
mod observed;
mod output;
mod plan;
mod profile;
mod rehearse;
mod render;
mod rollback;
mod status;
mod version;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

pub use output::{Hinted, WithHint, print_error};

use crate::values::ValueOptions;

/// Install and upgrade Istio service meshes safely.
#[derive(Debug, Parser)]
#[command(name = "sailplan", version, about, long_about = None, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Render the manifests of an Istio install, offline, in `helm template` form
    Render(Box<render::RenderArgs>),
    /// List or show installation profiles
    #[command(subcommand)]
    Profile(profile::ProfileCommand),
    /// Show the version catalog: supported versions, features and upgrade edges
    #[command(subcommand)]
    Version(version::VersionCommand),
    /// Capture a cluster's Istio-relevant state into a snapshot file (no secret values, ever)
    Collect(collect::CollectArgs),
    /// Report what runs and what will break, from a live cluster or a snapshot
    Check(check::CheckArgs),
    /// List, show and run versioned migrations (offline over YAML files)
    #[command(subcommand)]
    Migrate(migrate::MigrateCommand),
    /// Plan an upgrade: hops, migrations, the new control plane, data-plane batches, finalize
    Plan(Box<plan::PlanArgs>),
    /// Show what a plan changes, object by object, against a snapshot or the live cluster
    Diff(Box<diff::DiffArgs>),
    /// Apply a plan behind health gates, with a journal, resume and undo of a failed step
    Apply(Box<apply::ApplyArgs>),
    /// Roll an applied plan back, newest step first, from its journal and backups, behind gates
    Rollback(Box<rollback::RollbackArgs>),
    /// Rehearse an upgrade offline: plan it and run it against a simulation of a snapshot
    Rehearse(Box<rehearse::RehearseArgs>),
    /// Show what the mesh runs: revisions and tags, proxies per namespace and version, releases, applies
    Status(status::StatusArgs),
}

/// Output formats for commands that print data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Human-readable text
    Text,
    /// YAML
    Yaml,
    /// JSON
    Json,
}

/// The Helm-style value flags, shared by every command that renders charts.
#[derive(Debug, Clone, Default, Args)]
pub struct ValueFlags {
    /// Values file (YAML); repeatable, later files win; `-` reads stdin
    #[arg(short = 'f', long = "values", value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Set values (key=value,key2=value2), typed like Helm's --set
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Set values that are always strings
    #[arg(long = "set-string", value_name = "KEY=VALUE")]
    pub set_string: Vec<String>,
    /// Set values from files: the content of PATH becomes the value
    #[arg(long = "set-file", value_name = "KEY=PATH")]
    pub set_file: Vec<String>,
    /// Set values as JSON documents
    #[arg(long = "set-json", value_name = "KEY=JSON")]
    pub set_json: Vec<String>,
    /// Set one value verbatim: everything after the first `=` is the string value
    #[arg(long = "set-literal", value_name = "KEY=VALUE")]
    pub set_literal: Vec<String>,
}

/// How to reach a cluster, with kubectl's and Helm's flag names.
#[derive(Debug, Clone, Default, Args)]
pub struct ClusterFlags {
    /// Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then in-cluster)
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use (default: the current context)
    #[arg(long, value_name = "CONTEXT")]
    pub kube_context: Option<String>,
}

impl ClusterFlags {
    /// The flags as connection options.
    pub fn options(&self) -> crate::cluster::live::ConnectOptions {
        crate::cluster::live::ConnectOptions {
            kubeconfig: self.kubeconfig.clone(),
            context: self.kube_context.clone(),
        }
    }
}

impl ValueFlags {
    /// The flags as value options, applied in Helm's order by [`ValueOptions::merge`].
    pub fn options(&self) -> ValueOptions {
        ValueOptions {
            files: self.files.clone(),
            json: self.set_json.clone(),
            set: self.set.clone(),
            string: self.set_string.clone(),
            file: self.set_file.clone(),
            literal: self.set_literal.clone(),
        }
    }
}

impl Cli {
    /// Runs the parsed command and returns the process exit code.
    pub fn run(self) -> anyhow::Result<ExitCode> {
        match self.command {
            Command::Render(args) => render::run(&args),
            Command::Profile(command) => profile::run(&command),
            Command::Version(command) => version::run(&command),
            Command::Collect(args) => collect::run(&args),
            Command::Check(args) => check::run(&args),
            Command::Migrate(command) => migrate::run(&command),
            Command::Plan(args) => plan::run(&args),
            Command::Diff(args) => diff::run(&args),
            Command::Apply(args) => apply::run(&args),
            Command::Rollback(args) => rollback::run(&args),
            Command::Rehearse(args) => rehearse::run(&args),
            Command::Status(args) => status::run(&args),
        }
    }
}
