//! Rehearsing an upgrade (`sailplan rehearse`): the whole upgrade of a customer's cluster, run
//! offline against a simulation of their snapshot, before anyone touches production.
//!
//! The simulation ([`SimCluster`]) is read the way a live cluster is (`collect`'s observation), the
//! plan is made from that observation, diffed, and then run by the very executor and gates `apply`
//! uses. Afterwards the simulation is observed again, so the end state (revisions, proxies per
//! version, what migrations created and what was removed) and the final diff (what the plan would
//! still change) come from the same code as `status` and `diff`.
//!
//! Three things differ from a real apply, and the output says so: pauses between data-plane batches
//! are skipped (nothing in the simulation changes while waiting); gate timeouts are capped (the
//! simulation settles at once, so a gate that is not met at once never is); and gates that can only
//! answer no-data without real traffic or Prometheus are accepted as no-data (never as a pass), each
//! named in the output. `--fail-gate` makes one gate fail, so the undo path can be seen.

pub mod html;
mod secrets;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde_json::Value;

use crate::apply::journal::{JournalStore, StepRecord};
use crate::apply::{ApplyError, ExecutorOptions, Mode, Overrides, Progress, StepStatus, Verdict};
use crate::cluster::ClusterError;
use crate::cluster::sim::SimCluster;
use crate::collect::{CollectOptions, observe};
use crate::diff::{self, DiffOptions, ObjectChange, Summary};
use crate::inventory::{Inventory, ObjectId};
use crate::plan::model::GATE_NAMES;
use crate::plan::model::{Action, Plan, PlanFinding};
use crate::plan::{PlanError, PlanRequest};
use crate::snapshot::Snapshot;
use crate::status::MeshStatus;

/// Why no-data is accepted in a rehearsal, as gate messages and the output say.
pub const NO_DATA_REASON: &str = "in a rehearsal, where no traffic flows and no Prometheus or running proxy can be asked; check this gate against the real cluster";

/// The gate timeout cap when none is given: the simulation settles at once.
pub const DEFAULT_GATE_TIMEOUT: Duration = Duration::from_secs(5);

/// What to rehearse.
#[derive(Debug, Clone)]
pub struct Options {
    /// The plan to make.
    pub request: PlanRequest,
    /// The control-plane namespace (lock, journal, backups, mesh config).
    pub istio_namespace: String,
    /// A gate to fail on purpose.
    pub fail_gate: Option<String>,
    /// The longest any gate waits.
    pub gate_timeout: Duration,
    /// How the step log is shown (on stderr).
    pub progress: Mode,
}

/// Why a rehearsal could not run.
#[derive(Debug, thiserror::Error)]
pub enum RehearseError {
    /// Reading the simulation failed (a bug in the simulation: it does not fail on its own).
    #[error("cannot read the simulated cluster: {0}")]
    Cluster(#[from] ClusterError),
    /// No plan could be made.
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// The plan's objects could not be diffed.
    #[error(transparent)]
    Diff(#[from] diff::DiffError),
    /// `--fail-gate` names a gate the plan does not evaluate.
    #[error("{0}")]
    FailGate(String),
}

/// How the run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    /// Every step done.
    Completed,
    /// A gate failed and its step was undone.
    GateFailed {
        /// The step.
        step: String,
        /// The gate.
        gate: String,
    },
    /// The executor found the simulation differs from what the plan was made from.
    Stale,
    /// Anything else stopped the run (an action, a blocked plan, an undo that failed).
    Failed,
}

/// What one migration (or other source of objects that is not a release) did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migrated {
    /// The migration id (the apply action's source).
    pub source: String,
    /// The step.
    pub step: String,
    /// Objects it applied.
    pub applied: Vec<String>,
    /// Its findings, as the plan records them (`CODE object: message`).
    pub findings: Vec<PlanFinding>,
}

/// A whole rehearsal.
#[derive(Debug, Clone)]
pub struct Rehearsal {
    /// The plan, as planned (with its pauses).
    pub plan: Plan,
    /// What the plan changes in the cluster before the run.
    pub before_diff: Summary,
    /// How the run ended.
    pub ending: Ending,
    /// The executor's error, when it stopped.
    pub error: Option<String>,
    /// Each step's record from the journal, in plan order.
    pub steps: Vec<StepRecord>,
    /// The mesh before.
    pub before: MeshStatus,
    /// The mesh after.
    pub after: MeshStatus,
    /// What migrations created, in the steps that are done.
    pub migrated: Vec<Migrated>,
    /// What was deleted, in the steps that are done.
    pub removed: Vec<String>,
    /// What the plan would still change after the run.
    pub final_changes: Vec<ObjectChange>,
    /// Counts of `final_changes`.
    pub final_diff: Summary,
    /// How the rehearsal differs from a real apply.
    pub notes: Vec<String>,
}

impl Rehearsal {
    /// The exit code, as `apply` would end: 0 done, 1 error, 3 a gate failed (step undone), 4 stale.
    pub fn exit_code(&self) -> u8 {
        match self.ending {
            Ending::Completed => 0,
            Ending::GateFailed { .. } => 3,
            Ending::Stale => 4,
            Ending::Failed => 1,
        }
    }

    /// Gates whose no-data was accepted, as (step, gate).
    pub fn accepted_no_data(&self) -> Vec<(String, String)> {
        self.steps
            .iter()
            .flat_map(|s| {
                s.gates
                    .iter()
                    .filter(|g| g.verdict == Verdict::NoData && g.passed)
                    .map(|g| (s.id.clone(), g.name.clone()))
            })
            .collect()
    }
}

/// A journal directory of its own for each rehearsal, removed afterwards.
fn journal_dir(plan_id: &str) -> PathBuf {
    static COUNT: AtomicU64 = AtomicU64::new(0);
    let n = COUNT.fetch_add(1, Ordering::Relaxed);
    std::env::temp_dir().join(format!("sailplan-rehearse-{}-{n}-{plan_id}", std::process::id()))
}

/// Checks that `--fail-gate` names a gate the plan evaluates.
fn check_fail_gate(plan: &Plan, gate: &str) -> Result<(), RehearseError> {
    if !GATE_NAMES.contains(&gate) {
        return Err(RehearseError::FailGate(format!(
            "unknown gate {gate:?} (known: {})",
            GATE_NAMES.join(", ")
        )));
    }
    let mut in_plan: Vec<&str> =
        plan.spec.steps.iter().flat_map(|s| s.gates.iter().map(|g| g.name.as_str())).collect();
    in_plan.sort_unstable();
    in_plan.dedup();
    if in_plan.contains(&gate) {
        Ok(())
    } else {
        Err(RehearseError::FailGate(format!(
            "no step of the plan has gate {gate} (its gates: {})",
            in_plan.join(", ")
        )))
    }
}

fn ids(objects: &[Value]) -> Vec<String> {
    objects.iter().map(|o| ObjectId::of(o).to_string()).collect()
}

/// Rehearses the plan `options` asks for against a simulation of `snapshot`.
pub async fn rehearse(snapshot: Snapshot, options: &Options) -> Result<Rehearsal, RehearseError> {
    let cluster =
        Arc::new(SimCluster::new(&snapshot.info, snapshot.objects.into_iter().map(secrets::fill_in)));
    let collect = CollectOptions { istio_namespace: options.istio_namespace.clone() };
    let observed = observe(&*cluster, &collect, &|_, _, _| {}).await?;
    let inventory = Inventory::from(observed);
    let before = MeshStatus::of(&inventory);
    let plan = crate::plan::plan(&inventory, &options.request)?;
    if let Some(gate) = &options.fail_gate {
        check_fail_gate(&plan, gate)?;
    }
    let (applied, deleted) = plan.end_objects();
    let diff_options = DiffOptions { sanitized: true, whole_objects: false };
    let before_diff = Summary::of(&diff::compare(&applied, inventory.objects(), &deleted, &diff_options)?);
    drop(inventory);

    let mut notes = Vec::new();
    let mut run_plan = plan.clone();
    let paused = run_plan.spec.steps.iter_mut().filter_map(|s| s.pause.take()).count();
    if paused > 0 {
        notes.push(format!(
            "{paused} pause(s) between data-plane batches ({}) were skipped: nothing in the simulation changes while waiting",
            plan.spec.target.data_plane.pause
        ));
    }
    notes.push(format!(
        "gate timeouts were capped at {}s: the simulation settles at once, so a gate not met at once never is",
        options.gate_timeout.as_secs_f64()
    ));
    if let Some(gate) = &options.fail_gate {
        notes.push(format!("gate {gate} was made to fail on purpose (--fail-gate) to show the undo path"));
    }
    let dir = journal_dir(&plan.metadata.id);
    let executor = ExecutorOptions {
        namespace: options.istio_namespace.clone(),
        journal_dir: dir.clone(),
        gate_timeout: Some(options.gate_timeout),
        overrides: Overrides {
            fail: options.fail_gate.clone(),
            accept_no_data: Some(NO_DATA_REASON.to_string()),
        },
        ..ExecutorOptions::default()
    };
    let progress = Progress::new(options.progress);
    let result = crate::apply::run(cluster.clone(), &run_plan, &executor, &progress).await;
    let store = JournalStore::new(&dir, &plan.metadata.id, &options.istio_namespace);
    let journal = store.load(&*cluster, &run_plan).await.ok().flatten();
    let _ = std::fs::remove_dir_all(&dir);
    let (ending, error) = match result {
        Ok(_) => (Ending::Completed, None),
        Err(error) => {
            let ending = match &error {
                ApplyError::GateFailed { step, gate, .. } => {
                    Ending::GateFailed { step: step.clone(), gate: gate.clone() }
                }
                ApplyError::Stale { .. } => Ending::Stale,
                _ => Ending::Failed,
            };
            (ending, Some(error.to_string()))
        }
    };
    let steps = journal.map(|j| j.steps).unwrap_or_default();

    let after_snapshot = observe(&*cluster, &collect, &|_, _, _| {}).await?;
    let after = MeshStatus::of(&Inventory::from(after_snapshot));
    // The objects the plan applies or deletes, from all the simulation holds (not only the kinds an
    // observation reads: the plan applies ServiceAccounts, roles and budgets too), read as `collect`
    // reads them.
    let selection = diff::selection(&applied, &deleted);
    let end_state: Vec<Arc<Value>> = cluster
        .objects()
        .into_iter()
        .filter(|o| selection.selects(o))
        .map(crate::collect::sanitized)
        .collect();
    drop(cluster);
    let final_changes: Vec<ObjectChange> = diff::compare(&applied, &end_state, &deleted, &diff_options)?
        .into_iter()
        .filter(|c| c.action != diff::Action::Unchanged)
        .collect();
    let final_diff = Summary::of(&final_changes);

    let done: BTreeMap<&str, bool> =
        steps.iter().map(|s| (s.id.as_str(), s.status == StepStatus::Done)).collect();
    let mut migrated = Vec::new();
    let mut removed = Vec::new();
    for step in plan.spec.steps.iter().filter(|s| done.get(s.id.as_str()).copied().unwrap_or(false)) {
        for action in &step.actions {
            match action {
                Action::Apply { release: None, source, objects, .. } => migrated.push(Migrated {
                    source: source.clone(),
                    step: step.id.clone(),
                    applied: ids(objects),
                    findings: plan.spec.findings.iter().filter(|f| f.from == *source).cloned().collect(),
                }),
                Action::Delete { objects } => {
                    removed.extend(objects.iter().map(|o| {
                        ObjectId {
                            kind: o.kind.clone(),
                            namespace: o.namespace.clone().unwrap_or_default(),
                            name: o.name.clone(),
                        }
                        .to_string()
                    }));
                }
                _ => {}
            }
        }
    }
    let rehearsal = Rehearsal {
        plan,
        before_diff,
        ending,
        error,
        steps,
        before,
        after,
        migrated,
        removed,
        final_changes,
        final_diff,
        notes,
    };
    Ok(rehearsal)
}

/// The rehearsal as text: the steps and their gates, the end state, migrations and removals, the
/// final diff and the notes.
pub fn text(rehearsal: &Rehearsal) -> String {
    let plan = &rehearsal.plan;
    let mut out = String::new();
    let from: Vec<String> =
        plan.spec.source.control_planes.iter().map(|c| format!("{} ({})", c.version, c.revision)).collect();
    let _ = writeln!(
        out,
        "Rehearsal of plan {}: Istio {} to {} ({} step(s), {} hop(s)) on a simulation of the snapshot",
        plan.metadata.id,
        if from.is_empty() { "none".to_string() } else { from.join(", ") },
        plan.spec.target.version,
        plan.spec.steps.len(),
        plan.spec.hops.len()
    );
    let _ = writeln!(out, "Before the run: {}", diff::summary_line(&rehearsal.before_diff));
    let _ = writeln!(out, "\nSteps");
    for (step, record) in
        plan.spec.steps.iter().zip(rehearsal.steps.iter().map(Some).chain(std::iter::repeat(None)))
    {
        let status = record.map_or("pending".to_string(), |r| format!("{:?}", r.status).to_lowercase());
        let _ = writeln!(out, "  {status:<8} {}  {}", step.id, step.title);
        for gate in record.map(|r| r.gates.as_slice()).unwrap_or_default() {
            let verdict = match (&gate.verdict, gate.passed) {
                (Verdict::Pass, _) => "pass",
                (Verdict::Fail, _) => "FAIL",
                (Verdict::NoData, true) => "no data, accepted",
                (Verdict::NoData, false) => "NO DATA",
            };
            let _ = writeln!(out, "           gate {}: {verdict}: {}", gate.name, gate.message);
        }
        if let Some(message) = record.and_then(|r| r.message.as_deref()) {
            let _ = writeln!(out, "           {message}");
        }
    }
    let _ = writeln!(
        out,
        "\nResult: {}",
        match &rehearsal.ending {
            Ending::Completed => "every step done".to_string(),
            Ending::GateFailed { step, gate } =>
                format!("gate {gate} failed in step {step}; the step was undone (exit 3)"),
            Ending::Stale => "the plan is stale against the simulation (exit 4)".to_string(),
            Ending::Failed => format!("stopped: {} (exit 1)", rehearsal.error.as_deref().unwrap_or("")),
        }
    );
    if !rehearsal.migrated.is_empty() {
        let _ = writeln!(out, "\nMigrated");
        for migrated in &rehearsal.migrated {
            let _ = writeln!(
                out,
                "  {} (step {}): applied {}",
                migrated.source,
                migrated.step,
                migrated.applied.join(", ")
            );
            for finding in &migrated.findings {
                let _ = writeln!(
                    out,
                    "    {} {} {}: {}",
                    finding.severity,
                    finding.code,
                    finding.object.as_deref().unwrap_or(""),
                    finding.message
                );
            }
        }
    }
    if !rehearsal.removed.is_empty() {
        let _ = writeln!(out, "\nRemoved ({})", rehearsal.removed.len());
        for removed in &rehearsal.removed {
            let _ = writeln!(out, "  {removed}");
        }
    }
    let _ = writeln!(out, "\nBefore\n{}", indent(&rehearsal.before.text()));
    let _ = writeln!(out, "After\n{}", indent(&rehearsal.after.text()));
    let _ = writeln!(out, "Final diff: {}", diff::summary_line(&rehearsal.final_diff));
    for change in &rehearsal.final_changes {
        let _ = writeln!(out, "  {} {}", format!("{:?}", change.action).to_lowercase(), change.id);
        out.push_str(&indent(&change.diff));
    }
    let accepted = rehearsal.accepted_no_data();
    if !rehearsal.notes.is_empty() || !accepted.is_empty() {
        let _ = writeln!(out, "\nNotes");
        for note in &rehearsal.notes {
            let _ = writeln!(out, "  - {note}");
        }
        if !accepted.is_empty() {
            let named: Vec<String> = accepted.iter().map(|(step, gate)| format!("{gate} ({step})")).collect();
            let _ = writeln!(out, "  - no data accepted {NO_DATA_REASON}: {}", named.join(", "));
        }
    }
    out
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("  {l}\n")).collect()
}
