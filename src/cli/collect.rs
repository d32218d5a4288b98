//! `sailplan collect`: read everything an upgrade needs from a live cluster into a snapshot file that
//! `check`, `plan` and `rehearse` can read offline. Secret values are never collected.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use super::ClusterFlags;
use super::output::with_hint;
use crate::cluster::live::LiveCluster;
use crate::collect::{CollectOptions, observe};

/// Arguments of `sailplan collect`.
#[derive(Debug, Args)]
pub struct CollectArgs {
    /// Write the snapshot here: a .tar.gz file, or a directory for any other name
    #[arg(short = 'o', long = "output", default_value = "sailplan-snapshot.tar.gz", value_name = "FILE")]
    pub output: PathBuf,
    /// Namespace of the Istio control plane (its ConfigMaps are collected)
    #[arg(long, default_value = "istio-system", value_name = "NAMESPACE")]
    pub istio_namespace: String,
    #[command(flatten)]
    pub cluster: ClusterFlags,
}

pub fn run(args: &CollectArgs) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let snapshot = runtime.block_on(async {
        let cluster = LiveCluster::connect(&args.cluster.options()).await.map_err(with_hint)?;
        let bar = if std::io::stderr().is_terminal() { ProgressBar::new(0) } else { ProgressBar::hidden() };
        bar.set_style(
            ProgressStyle::with_template("{spinner} collecting [{bar:30}] {pos}/{len} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        let progress = |done: usize, total: usize, what: &str| {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
            bar.set_message(what.to_string());
        };
        let options = CollectOptions { istio_namespace: args.istio_namespace.clone() };
        let snapshot = observe(&cluster, &options, &progress).await.map_err(with_hint);
        bar.finish_and_clear();
        snapshot
    })?;
    snapshot.write(&args.output)?;
    eprintln!(
        "collected {} objects from Kubernetes {} into {}",
        snapshot.objects.len(),
        snapshot.info.kubernetes_version.as_deref().unwrap_or("?"),
        args.output.display()
    );
    Ok(ExitCode::SUCCESS)
}
