//! `sailplan rollback PLAN`: undoes an applied plan from its journal and backups, newest step
//! first, checking after each that the gates of the step before it pass again. Confirmation is
//! asked on a terminal; without one, `--yes` is required.
//!
//! Exit codes: 0 rolled back; 1 error; 3 the rollback stopped (a step could not be undone, or a gate
//! failed afterwards), with the journal saying how far it got.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Args;

use super::ClusterFlags;
use super::apply::{GATE_FAILED, confirmed, duration_flag, read_plan};
use super::output::{Hinted, print_error, with_hint};
use crate::apply::Progress;
use crate::apply::executor::{self, ApplyError, ExecutorOptions};
use crate::cluster::live::LiveCluster;

/// Arguments of `sailplan rollback`.
#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// The plan file that was applied
    #[arg(value_name = "PLAN")]
    pub plan: PathBuf,
    /// Roll back without asking for confirmation (required without a terminal)
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// The longest any one health gate may wait, e.g. 2m
    #[arg(long, value_name = "DURATION")]
    pub timeout: Option<String>,
    /// Where the journal and local backups of the apply are (DIR/<plan-id>/)
    #[arg(long, default_value = ".sailplan", value_name = "DIR")]
    pub journal_dir: PathBuf,
    /// Namespace of the Istio control plane (holds the lock, the journal and the backups)
    #[arg(long, default_value = "istio-system", value_name = "NAMESPACE")]
    pub istio_namespace: String,
    #[command(flatten)]
    pub cluster: ClusterFlags,
}

pub fn run(args: &RollbackArgs) -> anyhow::Result<ExitCode> {
    let plan = read_plan(&args.plan)?;
    let gate_timeout = args.timeout.as_deref().map(|t| duration_flag("--timeout", t)).transpose()?;
    let question = format!("Roll back plan {} on the cluster?", plan.metadata.id);
    if !args.yes && !confirmed(&question, "roll back", "pass --yes to roll the plan back unattended")? {
        eprintln!("not rolled back");
        return Ok(ExitCode::FAILURE);
    }
    let options = ExecutorOptions {
        namespace: args.istio_namespace.clone(),
        journal_dir: args.journal_dir.clone(),
        gate_timeout,
        ..ExecutorOptions::default()
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let result = runtime.block_on(async {
        let cluster = Arc::new(LiveCluster::connect(&args.cluster.options()).await.map_err(with_hint)?);
        Ok::<_, anyhow::Error>(executor::rollback(cluster, &plan, &options, &Progress::for_stderr()).await)
    })?;
    let journal = crate::apply::journal::local_dir(&args.journal_dir, &plan.metadata.id);
    match result {
        Ok(_) => Ok(ExitCode::SUCCESS),
        Err(error) => {
            let (code, hint) = match &error {
                ApplyError::RollbackStopped { .. } => (
                    GATE_FAILED,
                    format!(
                        "the journal {} says which steps were rolled back; fix the cause and run `sailplan rollback {}` again to continue",
                        journal.display(),
                        args.plan.display()
                    ),
                ),
                ApplyError::NotApplied { .. } => (
                    1,
                    "pass the plan file that was applied, and --journal-dir/--istio-namespace as given to apply".to_string(),
                ),
                _ => (1, format!("the journal is {}", journal.display())),
            };
            print_error(&Hinted { source: error.into(), hint }.into());
            Ok(ExitCode::from(code))
        }
    }
}
