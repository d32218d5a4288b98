//! `sailplan apply PLAN`: runs a plan file against the cluster behind health gates, with a journal
//! (resumable with `--resume`) and the undo of a step whose gate fails. The plan's summary is shown
//! first and confirmation asked on a terminal; without a terminal, `--yes` is required, so a
//! pipeline never applies by accident.
//!
//! Exit codes: 0 applied (or already applied); 1 error; 3 a gate failed and its step was undone;
//! 4 the plan is stale.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Args;

use super::output::{Hinted, print_error, with_hint};
use super::{ClusterFlags, WithHint};
use crate::apply::executor::{self, ApplyError, ExecutorOptions};
use crate::apply::lock::LockError;
use crate::apply::{Progress, parse_duration};
use crate::cluster::live::LiveCluster;
use crate::plan::model::Plan;
use crate::plan::summary;

/// The exit code when a gate failed and its step was undone.
pub const GATE_FAILED: u8 = 3;
/// The exit code when the plan is stale.
pub const STALE: u8 = 4;

/// Arguments of `sailplan apply`.
#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// The plan file written by `sailplan plan --out`
    #[arg(value_name = "PLAN")]
    pub plan: PathBuf,
    /// Apply without asking for confirmation (required without a terminal)
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// Continue an interrupted apply from its journal (a step cut off half-way runs again)
    #[arg(long)]
    pub resume: bool,
    /// The longest any one health gate may wait, e.g. 2m (caps the timeouts in the plan)
    #[arg(long, value_name = "DURATION")]
    pub timeout: Option<String>,
    /// Where the journal and local backups are kept (DIR/<plan-id>/)
    #[arg(long, default_value = ".sailplan", value_name = "DIR")]
    pub journal_dir: PathBuf,
    /// Namespace of the Istio control plane (also holds the apply lock, the journal and backups)
    #[arg(long, default_value = "istio-system", value_name = "NAMESPACE")]
    pub istio_namespace: String,
    /// How long the apply lock lasts unless renewed (a killed apply frees it after this)
    #[arg(long, default_value = "60s", value_name = "DURATION")]
    pub lock_duration: String,
    #[command(flatten)]
    pub cluster: ClusterFlags,
}

pub(super) fn read_plan(path: &PathBuf) -> anyhow::Result<Plan> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))
        .hint("pass a plan file written by `sailplan plan --out`")?;
    let value = crate::yaml::parse_one(&text)
        .map_err(|e| anyhow::anyhow!("{} is not YAML: {e}", path.display()))
        .hint("pass a plan file written by `sailplan plan --out`")?;
    serde_json::from_value(value)
        .map_err(|e| anyhow::anyhow!("{} is not a sailplan plan: {e}", path.display()))
        .hint("pass a plan file written by `sailplan plan --out`")
}

/// A duration flag's value, or an error naming the flag.
pub(super) fn duration_flag(flag: &str, text: &str) -> anyhow::Result<std::time::Duration> {
    parse_duration(text)
        .map_err(|e| anyhow::anyhow!("{flag} {e}"))
        .hint(format!("write {flag} as a duration such as 30s, 5m or 1h"))
}

/// Asks `question` on the terminal; `Ok(false)` when the answer is not yes. Without a terminal to
/// ask on, refuses to `act` with `hint`, so a pipeline never changes a cluster by accident.
pub(super) fn confirmed(question: &str, act: &str, hint: &str) -> anyhow::Result<bool> {
    if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
        return Err(anyhow::anyhow!(
            "refusing to {act} without confirmation: there is no terminal to ask on"
        ))
        .hint(hint.to_string());
    }
    let mut stderr = std::io::stderr().lock();
    write!(stderr, "{question} [y/N] ")?;
    stderr.flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes"))
}

pub fn run(args: &ApplyArgs) -> anyhow::Result<ExitCode> {
    let plan = read_plan(&args.plan)?;
    let gate_timeout = args.timeout.as_deref().map(|t| duration_flag("--timeout", t)).transpose()?;
    let lease_duration = duration_flag("--lock-duration", &args.lock_duration)?;
    eprint!("{}", summary::text(&plan));
    let question =
        format!("Apply plan {} ({} steps) to the cluster?", plan.metadata.id, plan.spec.steps.len());
    if !args.yes
        && !confirmed(
            &question,
            "apply",
            "review the plan (`sailplan diff --plan PLAN`), then pass --yes to apply it unattended",
        )?
    {
        eprintln!("not applied");
        return Ok(ExitCode::FAILURE);
    }
    let options = ExecutorOptions {
        namespace: args.istio_namespace.clone(),
        lease_duration,
        journal_dir: args.journal_dir.clone(),
        resume: args.resume,
        gate_timeout,
        ..ExecutorOptions::default()
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let result = runtime.block_on(async {
        let cluster = Arc::new(LiveCluster::connect(&args.cluster.options()).await.map_err(with_hint)?);
        let progress = Progress::for_stderr();
        Ok::<_, anyhow::Error>(executor::run(cluster, &plan, &options, &progress).await)
    })?;
    let plan_file = args.plan.display();
    let journal = crate::apply::journal::local_dir(&args.journal_dir, &plan.metadata.id);
    match result {
        Ok(_) => Ok(ExitCode::SUCCESS),
        Err(error) => {
            let (code, hint) = match &error {
                ApplyError::Stale { .. } => (
                    STALE,
                    "make a new plan against the cluster as it is now (`sailplan plan ... --out plan.yaml`), review it and apply that".to_string(),
                ),
                ApplyError::GateFailed { .. } => (
                    GATE_FAILED,
                    format!(
                        "the step was undone; its gate results are in {}; fix the cause, then run `sailplan apply {plan_file} --resume` to try the step again",
                        journal.display()
                    ),
                ),
                ApplyError::Unfinished { .. } | ApplyError::UndoFailed { .. } | ApplyError::ActionFailed { .. } => (
                    1,
                    format!("the journal is {}; `sailplan apply {plan_file} --resume` continues from the first step not done", journal.display()),
                ),
                ApplyError::Blocked { .. } => (
                    1,
                    "resolve the findings listed in the plan summary and plan again; `sailplan plan --allow-errors` accepts them".to_string(),
                ),
                ApplyError::Invalid { .. } => (1, "pass a plan file written by `sailplan plan --out`, unedited".to_string()),
                ApplyError::Lock(LockError::Held { .. }) => {
                    (1, "wait for the other apply to finish, then run this one again".to_string())
                }
                _ => (1, format!("`sailplan apply {plan_file} --resume` continues from the journal {}", journal.display())),
            };
            print_error(&Hinted { source: error.into(), hint }.into());
            Ok(ExitCode::from(code))
        }
    }
}
