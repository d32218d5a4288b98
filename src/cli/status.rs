//! `sailplan status`: what the mesh runs now (revisions and tags, namespaces and their proxies'
//! versions, Helm releases, the last applies), from the live cluster or a snapshot.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::output::write_stdout;
use super::{ClusterFlags, OutputFormat};
use crate::inventory::Inventory;
use crate::status::MeshStatus;

/// Arguments of `sailplan status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Read a snapshot instead of the live cluster
    #[arg(long, value_name = "FILE")]
    pub snapshot: Option<PathBuf>,
    /// Output format
    #[arg(short = 'o', long = "output", value_enum, default_value = "text")]
    pub output: OutputFormat,
    /// Namespace of the Istio control plane (for live reads)
    #[arg(long, default_value = "istio-system", value_name = "NAMESPACE")]
    pub istio_namespace: String,
    #[command(flatten)]
    pub cluster: ClusterFlags,
}

pub fn run(args: &StatusArgs) -> anyhow::Result<ExitCode> {
    let (snapshot, _) =
        super::observed::read(args.snapshot.as_deref(), &args.cluster, &args.istio_namespace)?;
    let status = MeshStatus::of(&Inventory::from(snapshot));
    let text = match args.output {
        OutputFormat::Text => status.text(),
        OutputFormat::Json => format!("{}\n", serde_json::to_string_pretty(&status)?),
        OutputFormat::Yaml => crate::yaml::to_string(&serde_json::to_value(&status)?)?,
    };
    write_stdout(&text)?;
    Ok(ExitCode::SUCCESS)
}
