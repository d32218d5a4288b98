//! `sailplan diff`: what a plan changes, object by object, against a snapshot or the live cluster:
//! a summary line of counts and coloured unified diffs (text), or JSON. Istio- and Kubernetes-aware
//! normalisation hides what is not a change (see docs/diff.md); Secret values are never shown.
//! `--detailed-exitcode` exits 2 when there are changes, like `helm diff` and `terraform plan`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use serde_json::json;

use super::output::{colour_on_stdout, write_stdout};
use super::plan::PlanFlags;
use super::{OutputFormat, WithHint};
use crate::diff::{self, DiffOptions, Summary};
use crate::plan::model::Plan;

/// The exit code of `--detailed-exitcode` when there are changes.
pub const HAS_CHANGES: u8 = 2;

/// Arguments of `sailplan diff`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// A plan file written by `sailplan plan` (instead of the plan flags)
    #[arg(long, value_name = "FILE", conflicts_with = "to")]
    pub plan: Option<PathBuf>,
    #[command(flatten)]
    pub flags: PlanFlags,
    /// Exit 2 when there are changes (0 when none)
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Also show whole objects for creates and deletes
    #[arg(long)]
    pub show_whole: bool,
    /// Output format
    #[arg(short = 'o', long = "output", value_enum, default_value = "text")]
    pub output: OutputFormat,
}

pub fn run(args: &DiffArgs) -> anyhow::Result<ExitCode> {
    let (plan, applied, deleted, observed) = match &args.plan {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))
                .hint("pass a plan file written by `sailplan plan --out`")?;
            let plan: Plan = serde_json::from_value(crate::yaml::parse_one(&text)?)
                .map_err(|e| anyhow::anyhow!("{} is not a sailplan plan: {e}", path.display()))
                .hint("pass a plan file written by `sailplan plan --out`")?;
            let (applied, deleted) = plan.end_objects();
            // Only what the plan touches is read from a snapshot; a live read is whole.
            let selection = diff::selection(&applied, &deleted);
            let (snapshot, _) = super::observed::read_selected(
                args.flags.snapshot.as_deref(),
                Some(&selection),
                &args.flags.cluster,
                &args.flags.istio_namespace,
            )?;
            (plan, applied, deleted, snapshot.objects)
        }
        None => {
            let (plan, inventory) = args.flags.make()?;
            let (applied, deleted) = plan.end_objects();
            (plan, applied, deleted, inventory.into_objects())
        }
    };
    let options = DiffOptions { sanitized: true, whole_objects: args.show_whole };
    let changes = diff::compare(&applied, &observed, &deleted, &options)?;
    let summary = Summary::of(&changes);
    match args.output {
        OutputFormat::Json | OutputFormat::Yaml => {
            let document = json!({"plan": plan.metadata.id, "summary": summary, "changes": changes.iter().filter(|c| c.action != diff::Action::Unchanged).collect::<Vec<_>>()});
            let text = if args.output == OutputFormat::Json {
                format!("{}\n", serde_json::to_string_pretty(&document)?)
            } else {
                crate::yaml::to_string(&document)?
            };
            write_stdout(&text)?;
        }
        OutputFormat::Text => {
            let colour = colour_on_stdout();
            let mut text = String::new();
            for change in changes.iter().filter(|c| c.action != diff::Action::Unchanged) {
                let action = format!("{:?}", change.action).to_lowercase();
                text.push_str(&format!("{action} {}\n", change.id));
                if !change.diff.is_empty() {
                    text.push_str(&diff::colorize(&change.diff, colour));
                }
                for note in &change.notes {
                    text.push_str(&format!("  note: {note}\n"));
                }
            }
            text.push_str(&format!("{}\n", diff::summary_line(&summary)));
            write_stdout(&text)?;
        }
    }
    // As in `plan`: the process ends here, so the observed objects are not freed one by one.
    std::mem::forget(observed);
    if args.detailed_exitcode && summary.has_changes() {
        return Ok(ExitCode::from(HAS_CHANGES));
    }
    Ok(ExitCode::SUCCESS)
}
