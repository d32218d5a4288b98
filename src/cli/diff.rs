//! `sailplan diff`: what a plan changes, object by object, against a snapshot or the live cluster:
//! a summary line of counts and coloured unified diffs (text), or JSON. Istio- and Kubernetes-aware
//! normalisation hides what is not a change (see docs/diff.md); Secret values are never shown.
//! `--detailed-exitcode` exits 2 when there are changes, like `helm diff` and `terraform plan`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use serde_json::{Value, json};

use super::output::{colour_on_stdout, write_stdout};
use super::plan::PlanFlags;
use super::{OutputFormat, WithHint};
use crate::diff::{self, DiffOptions, Summary};
use crate::plan::model::{Action, ObjectRef, Plan};

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

/// What the plan applies (the last version of each object) and deletes, in plan order.
pub fn plan_objects(plan: &Plan) -> (Vec<Value>, Vec<ObjectRef>) {
    // By (kind, namespace, name): the last action on an object decides whether it ends applied or
    // deleted; the first one fixes its place in the output.
    type Key = (String, Option<String>, String);
    let key = |r: &ObjectRef| (r.kind.clone(), r.namespace.clone(), r.name.clone());
    let mut order: Vec<Key> = Vec::new();
    let mut last: HashMap<Key, Option<Value>> = HashMap::new();
    let mut deletions: HashMap<Key, ObjectRef> = HashMap::new();
    let mut record = |k: Key, value: Option<Value>, last: &mut HashMap<Key, Option<Value>>| {
        if last.insert(k.clone(), value).is_none() {
            order.push(k);
        }
    };
    for step in &plan.spec.steps {
        for action in &step.actions {
            match action {
                Action::Apply { objects, .. } => {
                    for object in objects {
                        if let Some(reference) = ObjectRef::of(object) {
                            record(key(&reference), Some(object.clone()), &mut last);
                        }
                    }
                }
                Action::MoveTag { webhook, .. } => {
                    if let Some(reference) = ObjectRef::of(webhook) {
                        record(key(&reference), Some(webhook.clone()), &mut last);
                    }
                }
                Action::Delete { objects } => {
                    for reference in objects {
                        deletions.insert(key(reference), reference.clone());
                        record(key(reference), None, &mut last);
                    }
                }
                _ => {}
            }
        }
    }
    let mut applied = Vec::new();
    let mut deleted = Vec::new();
    for k in order {
        match last.remove(&k).flatten() {
            Some(object) => applied.push(object),
            None => deleted.extend(deletions.remove(&k)),
        }
    }
    (applied, deleted)
}

pub fn run(args: &DiffArgs) -> anyhow::Result<ExitCode> {
    let (plan, observed) = match &args.plan {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))
                .hint("pass a plan file written by `sailplan plan --out`")?;
            let plan: Plan = serde_json::from_value(crate::yaml::parse_one(&text)?)
                .map_err(|e| anyhow::anyhow!("{} is not a sailplan plan: {e}", path.display()))
                .hint("pass a plan file written by `sailplan plan --out`")?;
            let (snapshot, _) = super::observed::read(
                args.flags.snapshot.as_deref(),
                &args.flags.cluster,
                &args.flags.istio_namespace,
            )?;
            (plan, snapshot.objects)
        }
        None => {
            let (plan, inventory) = args.flags.make()?;
            (plan, inventory.into_objects())
        }
    };
    let (applied, deleted) = plan_objects(&plan);
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
