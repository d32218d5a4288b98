//! `sailplan rehearse --snapshot S --to V`: plans the upgrade of the snapshot's cluster and runs it
//! against a simulation of that cluster with the executor and gates `apply` uses, printing the step
//! log (stderr, as `apply` does), then the steps with their gates, the end state, what migrations
//! did and what was removed, and the final diff (stdout). `--report FILE` writes the same as a
//! self-contained HTML page; `--fail-gate NAME` makes one gate fail to show the undo path.
//!
//! Exit codes, as for `apply`: 0 every step done; 1 error; 3 a gate failed and its step was undone;
//! 4 the plan is stale.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::WithHint;
use super::output::{print_warning, write_stdout};
use super::plan::PlanFlags;
use crate::apply::{Mode, parse_duration};
use crate::rehearse::{self, DEFAULT_GATE_TIMEOUT, Ending, Options};
use crate::snapshot::Snapshot;

/// Arguments of `sailplan rehearse`.
#[derive(Debug, Args)]
pub struct RehearseArgs {
    #[command(flatten)]
    pub plan: PlanFlags,
    /// Write the rehearsal as a self-contained HTML report to this file
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Make this gate fail where the plan evaluates it, to see the step undone (e.g. pods-ready)
    #[arg(long, value_name = "GATE")]
    pub fail_gate: Option<String>,
    /// The longest any gate waits in the simulation (the simulation settles at once)
    #[arg(long, default_value = "5s", value_name = "DURATION")]
    pub timeout: String,
}

pub fn run(args: &RehearseArgs) -> anyhow::Result<ExitCode> {
    let path = args
        .plan
        .snapshot
        .as_deref()
        .ok_or_else(|| anyhow::anyhow!("rehearse needs a snapshot"))
        .hint("pass --snapshot FILE (from `sailplan collect`, or YAML from `kubectl get -o yaml`)")?;
    let request = args.plan.request("snapshot")?;
    let gate_timeout = match parse_duration(&args.timeout) {
        Ok(timeout) if !timeout.is_zero() => timeout,
        Ok(_) => DEFAULT_GATE_TIMEOUT,
        Err(e) => {
            return Err(anyhow::anyhow!("--timeout {e}"))
                .hint("write --timeout as a duration such as 5s or 1m");
        }
    };
    let snapshot = Snapshot::read(path)
        .hint("pass a snapshot written by `sailplan collect`, or YAML from `kubectl get -o yaml`")?;
    let options = Options {
        request,
        istio_namespace: args.plan.istio_namespace.clone(),
        fail_gate: args.fail_gate.clone(),
        gate_timeout,
        // One line per event: the log of a rehearsal is read afterwards, like a CI log.
        progress: Mode::Lines,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let rehearsal = runtime
        .block_on(rehearse::rehearse(snapshot, &options))
        .hint("check the target with `sailplan version list` and the mesh with `sailplan check`")?;
    write_stdout(&rehearse::text(&rehearsal))?;
    if let Some(report) = &args.report {
        std::fs::write(report, rehearse::html::page(&rehearsal))
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", report.display()))
            .hint("check that the directory exists and is writable")?;
        eprintln!("wrote report to {}", report.display());
    }
    if rehearsal.ending == Ending::Failed && rehearsal.plan.spec.blocked {
        print_warning(
            "the plan is blocked by error findings, so apply would refuse it too; plan with --allow-errors to rehearse it anyway",
        );
    }
    Ok(ExitCode::from(rehearsal.exit_code()))
}
