//! The executor: runs a plan's steps against a [`Cluster`] (the live one, or later the simulation
//! `rehearse` uses), one at a time, under the apply lock, recording everything in the journal.
//!
//! A run refuses a plan the cluster has moved away from (checked before any step has run: once one
//! has, the cluster differs from the plan because of this apply, which the journal records). Each
//! step runs its actions, then its gates; a failed gate (or action) runs the step's undo actions,
//! records why, and stops the run. Actions are idempotent so a step interrupted half-way is simply
//! run again on `--resume`: apply, relabel and delete are no-ops once done, backups already taken are
//! kept (a re-run must not back up what the step itself changed), and a workload whose template
//! already carries the step's recorded `restartedAt` is not restarted again.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value, json};
use tokio::sync::watch;

use super::backup::{self, BackupError};
use super::gates::{self, Applied, GateContext, GateOutcome, parse_duration};
use super::journal::{
    Journal, JournalError, JournalStore, ReleaseRecord, StepStatus, config_map_name, now, same_object,
    short_id,
};
use super::kinds::{self, Kinds};
use super::lock::{ApplyLock, DEFAULT_LEASE_DURATION, DEFAULT_LEASE_NAME, Holder, LockError};
use super::progress::Progress;
use super::takeover;
use crate::chart::manifest::Manifest;
use crate::cluster::{ApplyOptions, Cluster, ClusterError, ObjectRef, Propagation};
use crate::migrate::sds::COPY_FROM_ANNOTATION;
use crate::plan::model::{API_VERSION, Action, Gate, Handover, KIND, Plan, StepPhase};
use crate::plan::{Stale, check_fingerprint};
use crate::release::{
    self, Metadata, Owner, ReleaseChart, ReleaseContent, ReleaseError, ReleaseStore, Status as ReleaseStatus,
};

/// How long an object of a kind the cluster does not serve yet (its CRD was applied moments ago) is
/// tried again.
const NEW_KIND_WAIT: Duration = Duration::from_secs(60);
/// The annotation a rollout restart sets on a pod template.
const RESTARTED_AT: &str = "kubectl.kubernetes.io/restartedAt";

/// How to run a plan.
#[derive(Debug, Clone)]
pub struct ExecutorOptions {
    /// The control-plane namespace: the lock, the journal and the backups live here, and the mesh
    /// config and root CA are read from here (created when missing).
    pub namespace: String,
    /// The lock's Lease name.
    pub lease_name: String,
    /// How long the lock lasts without renewal.
    pub lease_duration: Duration,
    /// Where journals and local backups go (`<dir>/<plan-id>/`).
    pub journal_dir: PathBuf,
    /// Continue an interrupted apply from its journal.
    pub resume: bool,
    /// The longest any one gate waits (`--timeout`).
    pub gate_timeout: Option<Duration>,
    /// Changes to gate verdicts (rehearsals only; none for a real apply).
    pub overrides: gates::Overrides,
}

impl Default for ExecutorOptions {
    fn default() -> Self {
        ExecutorOptions {
            namespace: "istio-system".to_string(),
            lease_name: DEFAULT_LEASE_NAME.to_string(),
            lease_duration: DEFAULT_LEASE_DURATION,
            journal_dir: PathBuf::from(".sailplan"),
            resume: false,
            gate_timeout: None,
            overrides: gates::Overrides::default(),
        }
    }
}

/// What a run did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The plan's id.
    pub plan_id: String,
    /// The steps run now, in order.
    pub steps_run: Vec<String>,
    /// Steps found done already (by an earlier run).
    pub already_done: usize,
    /// The local journal.
    pub journal: PathBuf,
}

/// Why an apply stopped.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// The file is not a plan this sailplan can run.
    #[error("the plan {plan} cannot be applied: {message}")]
    Invalid {
        /// The plan id.
        plan: String,
        /// What is wrong.
        message: String,
    },
    /// Error findings block the plan.
    #[error(
        "plan {plan} is blocked by findings: {codes}; fix them and plan again (or plan with --allow-errors)"
    )]
    Blocked {
        /// The plan id.
        plan: String,
        /// The blocking findings' codes.
        codes: String,
    },
    /// The cluster changed since the plan was made.
    #[error("plan {plan} is stale: {source}")]
    Stale {
        /// The plan id.
        plan: String,
        /// The fingerprints.
        #[source]
        source: Stale,
    },
    /// The lock could not be taken (another apply runs) or was lost.
    #[error(transparent)]
    Lock(#[from] LockError),
    /// An earlier run of this plan stopped part-way.
    #[error(
        "plan {plan} was partly applied by an earlier run (step {step} is {status:?}); run again with --resume to continue it"
    )]
    Unfinished {
        /// The plan id.
        plan: String,
        /// The first step not done.
        step: String,
        /// Its status.
        status: StepStatus,
    },
    /// The journal could not be read or written.
    #[error(transparent)]
    Journal(#[from] JournalError),
    /// Reading the cluster failed before any step.
    #[error("cannot read the cluster before applying: {0}")]
    Cluster(#[source] ClusterError),
    /// A gate failed; the step was undone.
    #[error("step {step}: gate {gate} failed: {message}; the step was undone")]
    GateFailed {
        /// The step.
        step: String,
        /// The gate.
        gate: String,
        /// Why it failed.
        message: String,
    },
    /// An action failed; the step was undone.
    #[error("step {step}: {message}; the step was undone")]
    ActionFailed {
        /// The step.
        step: String,
        /// What failed.
        message: String,
    },
    /// There is no journal of the plan to roll back.
    #[error(
        "plan {plan} has no journal here or in the cluster: it was never applied, or its journal was moved"
    )]
    NotApplied {
        /// The plan id.
        plan: String,
    },
    /// Undoing a step during a rollback failed, or a gate failed after it; the rollback stopped there.
    #[error("rolling back plan {plan} stopped at step {step}: {message}")]
    RollbackStopped {
        /// The plan id.
        plan: String,
        /// The step being rolled back, or whose gates failed afterwards.
        step: String,
        /// What went wrong.
        message: String,
    },
    /// A step failed and its undo did not complete.
    #[error(
        "step {step} failed ({reason}) and undoing it failed too: {errors}; the journal records what was done — fix the cause and run again with --resume"
    )]
    UndoFailed {
        /// The step.
        step: String,
        /// Why the step failed.
        reason: String,
        /// What went wrong undoing it.
        errors: String,
    },
}

/// Why one action failed.
#[derive(Debug, thiserror::Error)]
enum ActionError {
    #[error("{verb} {object}: {source}")]
    Cluster { verb: &'static str, object: String, source: Box<ClusterError> },
    #[error("refusing to delete {object}: it was not backed up by this step or an earlier one")]
    NotBackedUp { object: String },
    #[error("cannot restore {object}: no backup of it was taken by this step or an earlier one")]
    NoBackup { object: String },
    #[error("{object}: cannot copy key {key} from {from}: {reason}")]
    CopyFrom { object: String, key: String, from: String, reason: String },
    #[error(transparent)]
    Backup(#[from] BackupError),
    #[error(transparent)]
    Release(#[from] ReleaseError),
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error("the apply lock was lost: {0}")]
    LockLost(String),
}

/// Forward actions, or a step's undo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    Forward,
    Undo,
}

/// Applies `plan` to `cluster`: takes the lock, checks the plan is current, runs the steps not yet
/// done, and gives the lock back.
pub async fn run<C: Cluster + 'static>(
    cluster: Arc<C>,
    plan: &Plan,
    options: &ExecutorOptions,
    progress: &Progress,
) -> Result<Outcome, ApplyError> {
    if plan.api_version != API_VERSION || plan.kind != KIND {
        return Err(ApplyError::Invalid {
            plan: plan.metadata.id.clone(),
            message: format!("it is {} {}, not {API_VERSION} {KIND}", plan.api_version, plan.kind),
        });
    }
    validate(plan)?;
    if plan.spec.blocked {
        let codes: std::collections::BTreeSet<&str> =
            plan.spec.findings.iter().filter(|f| f.blocks()).map(|f| f.code.as_str()).collect();
        let codes: Vec<&str> = codes.into_iter().collect();
        return Err(ApplyError::Blocked { plan: plan.metadata.id.clone(), codes: codes.join(", ") });
    }
    let created_namespace = ensure_namespace(&*cluster, &options.namespace).await?;
    let lock = acquire(cluster.clone(), plan, options, progress).await?;
    let result = Run::start(&*cluster, plan, options, progress, &lock, created_namespace).await;
    let released = lock.release().await;
    if created_namespace && matches!(result, Err(ApplyError::Stale { .. })) {
        // Nothing was applied: leave no namespace behind either (its Lease goes with it).
        let _ = cluster.delete(&kinds::namespace_ref(&options.namespace), Propagation::Background).await;
    }
    let outcome = result?;
    released?;
    Ok(outcome)
}

/// Rolls back an applied plan: under the lock, undoes every step its journal records as done (or
/// started), newest first, from the step's undo actions and the backups it took; after each, the
/// gates of the step before it must pass again (the cluster is back where that step left it).
/// Release revisions the steps wrote are rolled back to the revision they replaced (or marked
/// uninstalled when the step installed the release). Stops at the first failure.
pub async fn rollback<C: Cluster + 'static>(
    cluster: Arc<C>,
    plan: &Plan,
    options: &ExecutorOptions,
    progress: &Progress,
) -> Result<Outcome, ApplyError> {
    validate(plan)?;
    let lock = acquire(cluster.clone(), plan, options, progress).await?;
    let result = async {
        let store = JournalStore::new(&options.journal_dir, &plan.metadata.id, &options.namespace);
        let Some(journal) = Run::journal_of(&*cluster, plan, &store).await? else {
            return Err(ApplyError::NotApplied { plan: plan.metadata.id.clone() });
        };
        let mut run = Run::new(&*cluster, plan, options, progress, store, journal, &lock);
        run.roll_back().await
    }
    .await;
    let released = lock.release().await;
    let outcome = result?;
    released?;
    Ok(outcome)
}

/// Checks what can be checked before anything changes: every gate is known with a valid timeout,
/// every pause is a duration, and step ids are unique.
fn validate(plan: &Plan) -> Result<(), ApplyError> {
    let invalid = |message: String| ApplyError::Invalid { plan: plan.metadata.id.clone(), message };
    let mut seen = std::collections::BTreeSet::new();
    for step in &plan.spec.steps {
        if !seen.insert(step.id.as_str()) {
            return Err(invalid(format!("step id {} appears twice", step.id)));
        }
        for gate in &step.gates {
            gates::validate(gate).map_err(|e| invalid(format!("step {}: {e}", step.id)))?;
        }
        if let Some(pause) = &step.pause {
            parse_duration(pause).map_err(|e| invalid(format!("step {}: pause {e}", step.id)))?;
        }
    }
    Ok(())
}

/// Creates the control-plane namespace when it does not exist; whether it did.
async fn ensure_namespace<C: Cluster>(cluster: &C, namespace: &str) -> Result<bool, ApplyError> {
    if cluster.get(&kinds::namespace(), None, namespace).await.map_err(ApplyError::Cluster)?.is_some() {
        return Ok(false);
    }
    let object = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}});
    match cluster.create(&object).await {
        Ok(_) => Ok(true),
        Err(ClusterError::AlreadyExists { .. }) => Ok(false),
        Err(e) => Err(ApplyError::Cluster(e)),
    }
}

/// Whether process `pid` runs on this host (Linux only; elsewhere every process counts as running).
fn process_running(pid: u32) -> bool {
    let proc = std::path::Path::new("/proc");
    !proc.is_dir() || proc.join(pid.to_string()).exists()
}

/// Takes the lock. When an earlier run of this plan on this host holds it and its process has
/// ended (a killed apply), waits for its lease to expire rather than refusing.
async fn acquire<C: Cluster + 'static>(
    cluster: Arc<C>,
    plan: &Plan,
    options: &ExecutorOptions,
    progress: &Progress,
) -> Result<ApplyLock, ApplyError> {
    let holder = Holder::current(&plan.metadata.id);
    loop {
        let attempt = ApplyLock::acquire(
            cluster.clone(),
            &options.namespace,
            &options.lease_name,
            &holder,
            options.lease_duration,
        )
        .await;
        match attempt {
            Err(LockError::Held { holder: other, expires_in, same_plan_here: true, .. })
                if Holder::parse(&other).is_some_and(|h| !process_running(h.pid)) =>
            {
                progress.note(&format!(
                    "the lock is held by an earlier run of this plan that has ended ({other}); waiting {}s for it to expire",
                    expires_in.as_secs() + 1
                ));
                tokio::time::sleep(expires_in + Duration::from_secs(1)).await;
            }
            other => return Ok(other?),
        }
    }
}

/// One run of a plan, under the lock.
struct Run<'a, C> {
    cluster: &'a C,
    plan: &'a Plan,
    options: &'a ExecutorOptions,
    progress: &'a Progress,
    store: JournalStore,
    journal: Journal,
    kinds: Kinds,
    holder: String,
    lost: watch::Receiver<Option<String>>,
}

impl<'a, C: Cluster> Run<'a, C> {
    fn new(
        cluster: &'a C,
        plan: &'a Plan,
        options: &'a ExecutorOptions,
        progress: &'a Progress,
        store: JournalStore,
        journal: Journal,
        lock: &ApplyLock,
    ) -> Self {
        Run {
            cluster,
            plan,
            options,
            progress,
            store,
            journal,
            kinds: Kinds::default(),
            holder: lock.holder().to_string(),
            lost: lock.watch_lost(),
        }
    }

    /// The plan's journal, if it has one; a journal of other steps is refused.
    async fn journal_of(
        cluster: &C,
        plan: &Plan,
        store: &JournalStore,
    ) -> Result<Option<Journal>, ApplyError> {
        match store.load(cluster, plan).await? {
            Some(journal) if !journal.matches(plan) => Err(ApplyError::Invalid {
                plan: plan.metadata.id.clone(),
                message: format!(
                    "its journal ({}) lists other steps; move the journal away",
                    store.path.display()
                ),
            }),
            found => Ok(found),
        }
    }

    async fn start(
        cluster: &'a C,
        plan: &'a Plan,
        options: &'a ExecutorOptions,
        progress: &'a Progress,
        lock: &ApplyLock,
        created_namespace: bool,
    ) -> Result<Outcome, ApplyError> {
        let store = JournalStore::new(&options.journal_dir, &plan.metadata.id, &options.namespace);
        let journal = Self::journal_of(cluster, plan, &store).await?.unwrap_or_else(|| Journal::new(plan));
        let mut run = Run::new(cluster, plan, options, progress, store, journal, lock);
        run.journal.created_namespace |= created_namespace;
        run.execute().await
    }

    fn outcome(&self, steps_run: Vec<String>, already_done: usize) -> Outcome {
        Outcome {
            plan_id: self.plan.metadata.id.clone(),
            steps_run,
            already_done,
            journal: self.store.path.clone(),
        }
    }

    /// Objects this apply made for itself, left out when checking the plan is current.
    fn own_object(&self) -> impl Fn(&Value) -> bool + Send + Sync + use<C> {
        let namespace = self.options.namespace.clone();
        let journal = config_map_name(&self.plan.metadata.id);
        let journal_steps = format!("{journal}-");
        let backups = format!("sailplan-backup-{}-", short_id(&self.plan.metadata.id));
        let created = self.journal.created_namespace;
        move |object: &Value| {
            let field = |p: &str| object.pointer(p).and_then(Value::as_str).unwrap_or("");
            let name = field("/metadata/name");
            let here = field("/metadata/namespace") == namespace;
            // A namespace this apply created holds nothing the plan was made from (Kubernetes
            // fills a new namespace with its own objects, such as the `kube-root-ca.crt` ConfigMap).
            if created && here {
                return true;
            }
            match field("/kind") {
                "ConfigMap" => here && (name == journal || name.starts_with(&journal_steps)),
                "Secret" => here && name.starts_with(&backups),
                "Namespace" => created && name == namespace,
                _ => false,
            }
        }
    }

    async fn execute(&mut self) -> Result<Outcome, ApplyError> {
        let total = self.plan.spec.steps.len();
        let Some(first) = self.journal.next_step() else {
            self.progress.finish(&format!(
                "plan {}: all {total} steps are already done; nothing to do",
                self.plan.metadata.id
            ));
            return Ok(self.outcome(Vec::new(), total));
        };
        if self.journal.any_started() && !self.options.resume {
            let record = &self.journal.steps[first];
            return Err(ApplyError::Unfinished {
                plan: self.plan.metadata.id.clone(),
                step: record.id.clone(),
                status: record.status,
            });
        }
        if !self.journal.any_started() {
            self.progress.note("checking that the cluster is still in the state the plan was made from");
            let own = self.own_object();
            let found = gates::current_fingerprint(self.cluster, &self.options.namespace, &own)
                .await
                .map_err(ApplyError::Cluster)?;
            check_fingerprint(self.plan, found)
                .map_err(|source| ApplyError::Stale { plan: self.plan.metadata.id.clone(), source })?;
        }
        if self.journal.root_ca_digest.is_none() {
            let digest = gates::root_ca_digest(self.cluster, &self.options.namespace)
                .await
                .map_err(ApplyError::Cluster)?;
            self.journal.root_ca_digest = Some(digest);
        }
        self.store.save_header(self.cluster, &mut self.journal).await?;
        let already_done = self.journal.steps.iter().filter(|s| s.status == StepStatus::Done).count();
        let mut steps_run = Vec::new();
        for index in first..total {
            if self.journal.steps[index].status == StepStatus::Done {
                continue;
            }
            self.step(index).await?;
            steps_run.push(self.plan.spec.steps[index].id.clone());
        }
        self.progress.finish(&format!(
            "plan {}: {} step(s) applied, all {total} done",
            self.plan.metadata.id,
            steps_run.len()
        ));
        Ok(self.outcome(steps_run, already_done))
    }

    /// Writes step `index`'s record.
    async fn save(&mut self, index: usize) -> Result<(), JournalError> {
        self.store.save_step(self.cluster, &mut self.journal, index).await
    }

    fn check_lock(&self) -> Result<(), ActionError> {
        match self.lost.borrow().clone() {
            Some(reason) => Err(ActionError::LockLost(reason)),
            None => Ok(()),
        }
    }

    async fn step(&mut self, index: usize) -> Result<(), ApplyError> {
        let plan = self.plan;
        let step = &plan.spec.steps[index];
        let total = plan.spec.steps.len();
        let batches = plan.spec.steps.iter().filter(|s| s.phase == StepPhase::DataPlane).count();
        {
            let record = &mut self.journal.steps[index];
            record.status = StepStatus::Running;
            record.attempts += 1;
            record.started_at = Some(now());
            record.ended_at = None;
            record.actions_done.clear();
            record.gates.clear();
            record.applied.clear();
            record.message = None;
        }
        self.save(index).await?;
        self.progress.step_started(index, total, step, batches);
        for (number, action) in step.actions.iter().enumerate() {
            let done = match self.check_lock() {
                Ok(()) => self.action(index, action, Direction::Forward).await,
                Err(e) => Err(e),
            };
            if let Err(error) = done {
                if let ActionError::LockLost(reason) = &error {
                    // Another apply may be changing the cluster: undoing now could fight it.
                    return Err(ApplyError::Lock(LockError::Lost {
                        lease: format!("{}/{}", self.options.namespace, self.options.lease_name),
                        reason: reason.clone(),
                    }));
                }
                let reason = format!("action {} ({}) failed: {error}", number + 1, action_name(action));
                self.undo(index, &reason).await?;
                return Err(ApplyError::ActionFailed { step: step.id.clone(), message: reason });
            }
            self.journal.steps[index].actions_done.push(number);
            self.save(index).await?;
        }
        for gate in &step.gates {
            if let Some(reason) = self.lost.borrow().clone() {
                return Err(ApplyError::Lock(LockError::Lost {
                    lease: format!("{}/{}", self.options.namespace, self.options.lease_name),
                    reason,
                }));
            }
            self.progress.note(&format!("gate {} (up to {})", gate.name, gate.timeout));
            let outcome = self.evaluate(index, gate).await;
            self.journal.steps[index].gates.push(outcome.clone());
            self.save(index).await?;
            if !outcome.passed {
                let reason = format!("gate {} failed: {}", gate.name, outcome.message);
                self.undo(index, &reason).await?;
                return Err(ApplyError::GateFailed {
                    step: step.id.clone(),
                    gate: gate.name.clone(),
                    message: outcome.message,
                });
            }
        }
        for record in self.journal.steps[index].releases.clone() {
            let store = ReleaseStore::new(self.cluster);
            if let Some(release) =
                store.get(&record.name, &record.namespace, record.version).await.map_err(|e| {
                    ApplyError::ActionFailed {
                        step: step.id.clone(),
                        message: format!("marking the release deployed: {e}"),
                    }
                })?
            {
                store.mark_deployed(&release).await.map_err(|e| ApplyError::ActionFailed {
                    step: step.id.clone(),
                    message: format!("marking the release deployed: {e}"),
                })?;
            }
        }
        let record = &mut self.journal.steps[index];
        record.status = StepStatus::Done;
        record.ended_at = Some(now());
        self.save(index).await?;
        self.progress.step_finished(index, total, step, "done");
        if let Some(pause) = &step.pause {
            let wait = parse_duration(pause).map_err(|e| ApplyError::Invalid {
                plan: plan.metadata.id.clone(),
                message: format!("step {}: pause {e}", step.id),
            })?;
            self.progress.note(&format!("pausing {pause} after {}", step.id));
            tokio::time::sleep(wait).await;
        }
        Ok(())
    }

    /// Runs a step's undo actions (all of them, even when one fails), marks its releases failed,
    /// and records the outcome.
    async fn undo(&mut self, index: usize, reason: &str) -> Result<(), ApplyError> {
        let step = &self.plan.spec.steps[index];
        self.progress.note(&format!("undoing {}: {reason}", step.id));
        let mut errors = Vec::new();
        for action in &step.undo {
            if let Err(e) = self.action(index, action, Direction::Undo).await {
                errors.push(format!("{}: {e}", action_name(action)));
            }
        }
        for record in self.journal.steps[index].releases.clone() {
            let store = ReleaseStore::new(self.cluster);
            let failed = async {
                if let Some(release) = store.get(&record.name, &record.namespace, record.version).await? {
                    store.mark_failed(&release, reason).await?;
                }
                Ok::<(), ReleaseError>(())
            };
            if let Err(e) = failed.await {
                errors.push(format!("marking release {} failed: {e}", record.name));
            }
        }
        let record = &mut self.journal.steps[index];
        record.status = if errors.is_empty() { StepStatus::Undone } else { StepStatus::Failed };
        record.ended_at = Some(now());
        record.message = Some(if errors.is_empty() {
            reason.to_string()
        } else {
            format!("{reason}; undo failed: {}", errors.join("; "))
        });
        self.save(index).await?;
        let total = self.plan.spec.steps.len();
        if errors.is_empty() {
            self.progress.step_finished(index, total, step, "failed and undone");
            Ok(())
        } else {
            self.progress.step_finished(index, total, step, "failed; undo incomplete");
            Err(ApplyError::UndoFailed {
                step: step.id.clone(),
                reason: reason.to_string(),
                errors: errors.join("; "),
            })
        }
    }

    /// Undoes the done (or started) steps, newest first; see [`rollback`].
    async fn roll_back(&mut self) -> Result<Outcome, ApplyError> {
        // Also writes, in pieces, a journal an earlier version wrote whole.
        self.store.save_header(self.cluster, &mut self.journal).await?;
        let total = self.plan.spec.steps.len();
        let stopped = |run: &Self, index: usize, message: String| ApplyError::RollbackStopped {
            plan: run.plan.metadata.id.clone(),
            step: run.plan.spec.steps[index].id.clone(),
            message,
        };
        let mut rolled_back = Vec::new();
        for index in (0..total).rev() {
            if !matches!(self.journal.steps[index].status, StepStatus::Done | StepStatus::Running) {
                continue;
            }
            let step = &self.plan.spec.steps[index];
            self.progress.step_started(index, total, step, 0);
            let mut errors = Vec::new();
            for action in &step.undo {
                if let Err(e) = self.action(index, action, Direction::Undo).await {
                    errors.push(format!("{}: {e}", action_name(action)));
                }
            }
            for record in self.journal.steps[index].releases.clone() {
                if let Err(e) = self.roll_back_release(&record).await {
                    errors.push(format!("release {}: {e}", record.name));
                }
            }
            let record = &mut self.journal.steps[index];
            record.ended_at = Some(now());
            if !errors.is_empty() {
                record.status = StepStatus::Failed;
                record.message = Some(format!("rollback failed: {}", errors.join("; ")));
                self.save(index).await?;
                self.progress.step_finished(index, total, step, "rollback failed");
                return Err(stopped(self, index, errors.join("; ")));
            }
            record.status = StepStatus::Undone;
            record.message = Some("rolled back".to_string());
            self.save(index).await?;
            self.progress.step_finished(index, total, step, "rolled back");
            rolled_back.push(step.id.clone());
            // The cluster should now be as the step before left it: its gates must pass again.
            if let Some(before) = (0..index).rev().find(|&i| self.journal.steps[i].status == StepStatus::Done)
            {
                self.recheck(before).await.map_err(|message| stopped(self, before, message))?;
            }
        }
        self.progress.finish(&format!(
            "plan {}: {} step(s) rolled back",
            self.plan.metadata.id,
            rolled_back.len()
        ));
        Ok(self.outcome(rolled_back, 0))
    }

    /// Evaluates one gate of step `index` (with the rehearsal's overrides, if any) and shows it.
    async fn evaluate(&self, index: usize, gate: &Gate) -> GateOutcome {
        let own = self.own_object();
        let context = GateContext {
            plan: self.plan,
            namespace: &self.options.namespace,
            lease: (&self.options.lease_name, &self.holder),
            root_ca_digest: self.journal.root_ca_digest.as_deref(),
            applied: &self.journal.steps[index].applied,
            own_objects: &own,
            timeout_cap: self.options.gate_timeout,
        };
        let outcome = self.options.overrides.apply(gates::evaluate(self.cluster, gate, &context).await);
        self.progress.gate(&outcome);
        outcome
    }

    /// Evaluates the gates of a done step again (preflight gates about this apply excepted).
    async fn recheck(&mut self, index: usize) -> Result<(), String> {
        let step = &self.plan.spec.steps[index];
        for gate in step
            .gates
            .iter()
            .filter(|g| !matches!(g.name.as_str(), "plan-not-stale" | "no-blocking-findings"))
        {
            self.progress.note(&format!("gate {} of {} (up to {})", gate.name, step.id, gate.timeout));
            let outcome = self.evaluate(index, gate).await;
            if !outcome.passed {
                return Err(format!("gate {} failed after rolling back: {}", gate.name, outcome.message));
            }
        }
        Ok(())
    }

    /// Puts a release back to the revision deployed before the step wrote `record` (Helm's
    /// rollback), or, when the release had none before (the step installed it), marks it
    /// uninstalled as `helm uninstall --keep-history` would: its objects are gone.
    async fn roll_back_release(&self, record: &ReleaseRecord) -> Result<(), ReleaseError> {
        let store = ReleaseStore::new(self.cluster);
        match record.replaced {
            Some(to) => {
                let last = store.last(&record.name, &record.namespace).await?;
                // Rolled back already (by an earlier, interrupted rollback): nothing to do.
                if last.is_some_and(|l| l.version > record.version && l.status() == ReleaseStatus::Deployed) {
                    return Ok(());
                }
                let rollback = store.begin_rollback(&record.name, &record.namespace, to).await?;
                store.mark_deployed(&rollback).await?;
            }
            None => {
                if let Some(release) = store.get(&record.name, &record.namespace, record.version).await? {
                    store.mark_uninstalled(&release).await?;
                }
            }
        }
        Ok(())
    }

    async fn action(
        &mut self,
        index: usize,
        action: &Action,
        direction: Direction,
    ) -> Result<(), ActionError> {
        match action {
            Action::Backup { objects } => {
                for object in objects {
                    if self.journal.steps[index].backups.iter().any(|b| same_object(&b.object, object)) {
                        continue;
                    }
                    let n = self.journal.backup_count();
                    let dir = self.options.journal_dir.join(&self.plan.metadata.id).join("backups");
                    let record = backup::back_up(
                        self.cluster,
                        &mut self.kinds,
                        object,
                        &self.plan.metadata.id,
                        n,
                        &self.options.namespace,
                        &dir,
                    )
                    .await?;
                    self.journal.steps[index].backups.push(record);
                    self.save(index).await?;
                }
            }
            Action::Apply { release, source, objects, adopt, handover } => {
                let objects = match release {
                    // An undo that applies objects restores them; it begins no release.
                    Some(name) if direction == Direction::Forward => {
                        let objects =
                            self.begin_release(index, name, source, objects, adopt, handover).await?;
                        for reference in adopt {
                            self.take_over(reference).await?;
                        }
                        objects
                    }
                    _ => objects.clone(),
                };
                for object in &objects {
                    let applied = self.apply_object(object).await?;
                    if direction == Direction::Forward {
                        self.journal.steps[index].applied.push(applied);
                    }
                }
            }
            Action::MoveTag { webhook, .. } => {
                let applied = self.apply_object(webhook).await?;
                if direction == Direction::Forward {
                    self.journal.steps[index].applied.push(applied);
                }
            }
            Action::Delete { objects } => {
                for object in objects {
                    let backed_up = !self.journal.backups_of(object, index).is_empty();
                    let created_here = direction == Direction::Undo
                        && self.journal.steps[index].applied.iter().any(|a| same_object(&a.object, object));
                    if !backed_up && !created_here {
                        if direction == Direction::Undo {
                            // Neither created by this step nor backed up: not ours to remove (the
                            // step failed before creating it, or it was there before); it stays.
                            continue;
                        }
                        return Err(ActionError::NotBackedUp { object: object.to_string() });
                    }
                    self.cluster.delete(object, Propagation::Background).await.map_err(|source| {
                        ActionError::Cluster {
                            verb: "delete",
                            object: object.to_string(),
                            source: Box::new(source),
                        }
                    })?;
                }
            }
            Action::Restore { objects } => {
                // Namespaces and CRDs before what lives in them, whatever order the plan lists.
                let mut objects: Vec<&ObjectRef> = objects.iter().collect();
                objects.sort_by_key(|o| match o.kind.as_str() {
                    "Namespace" => 0,
                    "CustomResourceDefinition" => 1,
                    _ => 2,
                });
                for object in objects {
                    let record = self
                        .journal
                        .backups_of(object, index)
                        .first()
                        .map(|r| (*r).clone())
                        .ok_or_else(|| ActionError::NoBackup { object: object.to_string() })?;
                    match backup::read(self.cluster, &record, &self.options.namespace).await? {
                        Some(saved) => {
                            self.wait_until_not_terminating(object).await?;
                            self.apply_object(&crate::cluster::applicable(saved)).await?;
                        }
                        None => {
                            // It did not exist before the step: restoring that means removing it.
                            self.cluster.delete(object, Propagation::Background).await.map_err(|source| {
                                ActionError::Cluster {
                                    verb: "delete",
                                    object: object.to_string(),
                                    source: Box::new(source),
                                }
                            })?;
                        }
                    }
                }
            }
            Action::Relabel { namespace, set, remove } => {
                let mut labels = Map::new();
                for (key, value) in set {
                    labels.insert(key.clone(), Value::String(value.clone()));
                }
                for key in remove {
                    labels.insert(key.clone(), Value::Null);
                }
                let target = kinds::namespace_ref(namespace);
                self.cluster.merge_patch(&target, &json!({"metadata": {"labels": labels}})).await.map_err(
                    |source| ActionError::Cluster {
                        verb: "relabel",
                        object: target.to_string(),
                        source: Box::new(source),
                    },
                )?;
            }
            Action::Restart { namespace, workloads } => {
                // Forward, every workload of the step gets the step's one `restartedAt`; an earlier
                // attempt may have set it already, and a workload carrying it is not restarted again.
                let (at, earlier) = match (direction, &self.journal.steps[index].restarted_at) {
                    (Direction::Forward, Some(at)) => (at.clone(), true),
                    (Direction::Forward, None) => {
                        // Sub-second precision: two restarts within one second (a fast rehearsal,
                        // or hops back to back) must still change the template.
                        let at = k8s_openapi::jiff::Timestamp::now().to_string();
                        self.journal.steps[index].restarted_at = Some(at.clone());
                        self.save(index).await?;
                        (at, false)
                    }
                    (Direction::Undo, _) => (k8s_openapi::jiff::Timestamp::now().to_string(), false),
                };
                for workload in workloads {
                    let mut target = workload.clone();
                    if target.namespace.is_none() {
                        target.namespace = Some(namespace.clone());
                    }
                    if earlier && self.restarted_with(&target).await?.as_deref() == Some(at.as_str()) {
                        continue;
                    }
                    let patch =
                        json!({"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: at}}}}});
                    self.cluster.merge_patch(&target, &patch).await.map_err(|source| {
                        ActionError::Cluster {
                            verb: "restart",
                            object: target.to_string(),
                            source: Box::new(source),
                        }
                    })?;
                }
            }
        }
        Ok(())
    }

    /// The `restartedAt` annotation of a workload's pod template, if it has one.
    async fn restarted_with(&mut self, workload: &ObjectRef) -> Result<Option<String>, ActionError> {
        let found = self.current(workload).await.map_err(|source| ActionError::Cluster {
            verb: "get",
            object: workload.to_string(),
            source: Box::new(source),
        })?;
        Ok(found.and_then(|w| {
            w.pointer("/spec/template/metadata/annotations")
                .and_then(|a| a.get(RESTARTED_AT))
                .and_then(Value::as_str)
                .map(str::to_string)
        }))
    }

    /// The object `reference` names as the cluster has it now (none if it does not exist).
    async fn current(&mut self, reference: &ObjectRef) -> Result<Option<Arc<Value>>, ClusterError> {
        let resource = self.kinds.resource(self.cluster, &reference.api_version, &reference.kind).await?;
        self.cluster.get(&resource, reference.namespace.as_deref(), &reference.name).await
    }

    /// Waits while `reference` is being deleted (a CRD deletes its objects first, a namespace its
    /// contents): applying a backup to an object on its way out would be lost with it.
    async fn wait_until_not_terminating(&mut self, reference: &ObjectRef) -> Result<(), ActionError> {
        let deadline = tokio::time::Instant::now() + NEW_KIND_WAIT;
        loop {
            let current = match self.current(reference).await {
                // A kind not served (yet: its CRD is being restored) has no object being deleted.
                Err(ClusterError::UnknownKind { .. }) => return Ok(()),
                found => found.map_err(|source| ActionError::Cluster {
                    verb: "get",
                    object: reference.to_string(),
                    source: Box::new(source),
                })?,
            };
            let terminating = current.is_some_and(|c| c.pointer("/metadata/deletionTimestamp").is_some());
            if !terminating || tokio::time::Instant::now() >= deadline {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    /// Moves the fields installers own in an object a release adopts to sailplan (see [`takeover`]), so
    /// the release's apply removes what its chart no longer sets.
    async fn take_over(&mut self, reference: &ObjectRef) -> Result<(), ActionError> {
        let failed = |verb: &'static str, source: ClusterError| ActionError::Cluster {
            verb,
            object: reference.to_string(),
            source: Box::new(source),
        };
        let current = self.current(reference).await.map_err(|e| failed("get", e))?;
        let Some((current, entries)) = current.and_then(|c| takeover::transferred(&c).map(|e| (c, e))) else {
            return Ok(());
        };
        let mut metadata = serde_json::Map::new();
        metadata.insert("managedFields".to_string(), Value::Array(entries));
        // Only if nobody changed it since it was read.
        if let Some(version) = current.pointer("/metadata/resourceVersion") {
            metadata.insert("resourceVersion".to_string(), version.clone());
        }
        let patch = serde_json::json!({ "metadata": metadata });
        self.cluster.merge_patch(reference, &patch).await.map_err(|e| failed("take over", e))?;
        Ok(())
    }

    /// Server-side applies one object (copying Secret data named by `sailplan.dev/copy-from` in the
    /// cluster), waiting for a kind whose CRD was applied moments ago to be served.
    async fn apply_object(&mut self, object: &Value) -> Result<Applied, ActionError> {
        let reference = ObjectRef::of(object).ok_or_else(|| ActionError::Cluster {
            verb: "apply",
            object: "an object without apiVersion, kind or name".to_string(),
            source: Box::new(ClusterError::Invalid {
                object: "an object".to_string(),
                message: "apiVersion, kind and metadata.name are required".to_string(),
            }),
        })?;
        let object = self.with_copied_data(object, &reference).await?;
        let deadline = tokio::time::Instant::now() + NEW_KIND_WAIT;
        loop {
            match self.cluster.apply(&object, ApplyOptions { dry_run: false, force: true }).await {
                Ok(stored) => {
                    let generation = stored.pointer("/metadata/generation").and_then(Value::as_i64);
                    return Ok(Applied { object: reference, generation });
                }
                Err(ClusterError::UnknownKind { .. }) if tokio::time::Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                Err(source) => {
                    return Err(ActionError::Cluster {
                        verb: "apply",
                        object: reference.to_string(),
                        source: Box::new(source),
                    });
                }
            }
        }
    }

    /// A Secret whose data is to be copied from other Secrets, with that data; anything else as is.
    /// The values go straight into the object sent to the API server and nowhere else.
    async fn with_copied_data(&self, object: &Value, reference: &ObjectRef) -> Result<Value, ActionError> {
        let Some(spec) = object
            .pointer("/metadata/annotations")
            .and_then(|a| a.get(COPY_FROM_ANNOTATION))
            .and_then(Value::as_str)
            .filter(|_| reference.kind == "Secret")
        else {
            return Ok(object.clone());
        };
        let sources = parse_copy_from(spec).map_err(|reason| ActionError::CopyFrom {
            object: reference.to_string(),
            key: "*".to_string(),
            from: COPY_FROM_ANNOTATION.to_string(),
            reason,
        })?;
        let mut data = object.get("data").and_then(Value::as_object).cloned().unwrap_or_default();
        let mut read: BTreeMap<(String, String), Option<Arc<Value>>> = BTreeMap::new();
        for CopySource { key, namespace, secret: name, source_key } in sources {
            let from = format!("Secret {namespace}/{name} key {source_key}");
            let copy_error = |reason: String| ActionError::CopyFrom {
                object: reference.to_string(),
                key: key.clone(),
                from: from.clone(),
                reason,
            };
            let slot = (namespace.clone(), name.clone());
            if !read.contains_key(&slot) {
                let secret = self
                    .cluster
                    .get(&kinds::secret(), Some(&namespace), &name)
                    .await
                    .map_err(|e| copy_error(e.to_string()))?;
                read.insert(slot.clone(), secret);
            }
            let value = read
                .get(&slot)
                .and_then(Option::as_ref)
                .ok_or_else(|| copy_error("the Secret does not exist".to_string()))?
                .pointer("/data")
                .and_then(|d| d.get(&source_key))
                .cloned()
                .ok_or_else(|| copy_error("the Secret has no such key".to_string()))?;
            data.insert(key, value);
        }
        let mut copy = object.clone();
        copy["data"] = Value::Object(data);
        Ok(copy)
    }

    /// Begins (or, re-running a step, takes up again) the release revision of an `apply` action and
    /// returns its objects stamped with Helm's ownership markers.
    async fn begin_release(
        &mut self,
        index: usize,
        name: &str,
        source: &str,
        objects: &[Value],
        adopt: &[ObjectRef],
        handover: &[Handover],
    ) -> Result<Vec<Value>, ActionError> {
        let namespace = self.options.namespace.clone();
        let (content, manifests) = release_content(self.plan, name, source, objects, &namespace);
        let store = ReleaseStore::new(self.cluster);
        let ours = self.journal.steps[index].releases.iter().find(|r| r.name == name).cloned();
        let last = store.last(name, &namespace).await?;
        let pending_ours = match (&ours, &last) {
            (Some(record), Some(last)) => last.version == record.version && last.status().is_pending(),
            _ => false,
        };
        if !pending_ours {
            let deployed = store.last_deployed(name, &namespace).await?;
            let previous = match &deployed {
                Some(release) => release::parse_manifest(&release.manifest, name)?,
                None => Vec::new(),
            };
            let handed: Vec<(ObjectRef, Owner)> = handover
                .iter()
                .map(|h| (h.object.clone(), Owner { release: h.from.clone(), namespace: namespace.clone() }))
                .collect();
            release::check_adoption(self.cluster, name, &namespace, &manifests, &previous, adopt, &handed)
                .await?;
            let replaced = deployed.as_ref().map(|d| d.version);
            let begun = match deployed {
                Some(_) => store.begin_upgrade(name, &namespace, content).await?,
                None => store.begin_install(name, &namespace, content).await?,
            };
            let record = ReleaseRecord {
                name: name.to_string(),
                namespace: namespace.clone(),
                version: begun.version,
                replaced,
            };
            let releases = &mut self.journal.steps[index].releases;
            releases.retain(|r| r.name != name);
            releases.push(record);
            self.save(index).await?;
        }
        let mut from: Vec<&str> = handover.iter().map(|h| h.from.as_str()).collect();
        from.sort_unstable();
        from.dedup();
        for owner in from {
            let objects: Vec<&ObjectRef> =
                handover.iter().filter(|h| h.from == owner).map(|h| &h.object).collect();
            self.hand_over(index, owner, name, &objects).await?;
        }
        Ok(manifests.into_iter().map(|m| m.object).collect())
    }

    /// Takes `objects` out of release `owner`'s record (they go to release `to`): a new revision of
    /// `owner` whose manifest no longer lists them, so uninstalling or upgrading it later leaves
    /// them alone. It is recorded with the step's releases, so it is deployed when the step's gates
    /// pass, marked failed when the step is undone and rolled back by `rollback`: either way the
    /// deployed revision of `owner` lists them again (the step's undo restores their annotations).
    /// Nothing is written when the deployed revision does not list them (or there is none), or when
    /// an earlier attempt of this step began the revision already.
    async fn hand_over(
        &mut self,
        index: usize,
        owner: &str,
        to: &str,
        objects: &[&ObjectRef],
    ) -> Result<(), ActionError> {
        let namespace = self.options.namespace.clone();
        let store = ReleaseStore::new(self.cluster);
        let ours = self.journal.steps[index].releases.iter().find(|r| r.name == owner).cloned();
        let last = store.last(owner, &namespace).await?;
        if let (Some(record), Some(last)) = (&ours, &last)
            && last.version == record.version
            && last.status().is_pending()
        {
            return Ok(());
        }
        let Some(deployed) = store.last_deployed(owner, &namespace).await? else { return Ok(()) };
        let listed = release::parse_manifest(&deployed.manifest, owner)?;
        // A namespaced object of a manifest without a namespace is in the release's namespace.
        let handed = |m: &Manifest| {
            ObjectRef::of(&m.object).is_some_and(|r| {
                let defaulted = ObjectRef {
                    namespace: r.namespace.clone().or_else(|| Some(namespace.clone())),
                    ..r.clone()
                };
                objects.iter().any(|o| same_object(o, &r) || same_object(o, &defaulted))
            })
        };
        let kept: Vec<Manifest> = listed.iter().filter(|m| !handed(m)).cloned().collect();
        if kept.len() == listed.len() {
            return Ok(());
        }
        let content = ReleaseContent {
            chart: deployed.chart.clone(),
            config: deployed.config.clone(),
            manifest: release::manifest_text(&kept).unwrap_or_default(),
            notes: deployed.info.notes.clone(),
            labels: deployed.labels.clone(),
        };
        let begun = store.begin_upgrade(owner, &namespace, content).await?;
        self.progress.note(&format!(
            "release {owner} revision {} no longer lists {} object(s) release {to} takes over",
            begun.version,
            listed.len() - kept.len()
        ));
        let record = ReleaseRecord {
            name: owner.to_string(),
            namespace,
            version: begun.version,
            replaced: Some(deployed.version),
        };
        let releases = &mut self.journal.steps[index].releases;
        releases.retain(|r| r.name != owner);
        releases.push(record);
        self.save(index).await?;
        Ok(())
    }
}

/// The release record's content and the stamped objects of an `apply` action with a release.
fn release_content(
    plan: &Plan,
    name: &str,
    source: &str,
    objects: &[Value],
    namespace: &str,
) -> (ReleaseContent, Vec<Manifest>) {
    let version = plan.spec.target.version.clone();
    // Rendered objects carry `helm.sh/chart: <chart>-<version>`; the chart name is what precedes it.
    let chart = objects
        .iter()
        .find_map(|o| o.pointer("/metadata/labels/helm.sh~1chart").and_then(Value::as_str))
        .and_then(|label| label.rsplit_once('-').map(|(chart, _)| chart.to_string()))
        .unwrap_or_else(|| source.to_string());
    let mut manifests: Vec<Manifest> = objects
        .iter()
        .map(|object| Manifest {
            source: format!(
                "{chart}/templates/{}.yaml",
                object.get("kind").and_then(Value::as_str).unwrap_or("object").to_lowercase()
            ),
            object: object.clone(),
        })
        .collect();
    release::stamp(&mut manifests, name, namespace);
    let manifest = release::manifest_text(&manifests).unwrap_or_default();
    // The chart as Helm stores it: the built-in chart of that name when there is one (so `helm get`
    // and `helm rollback` have its templates and defaults), else its metadata only.
    let stored_chart = crate::assets::CHARTS
        .get_dir(chart.as_str())
        .and_then(|dir| crate::chart::Chart::load_embedded(dir).ok())
        .map(|mut loaded| {
            loaded.metadata.version.clone_from(&version);
            loaded.metadata.app_version = Some(version.clone());
            ReleaseChart::from_chart(&loaded)
        })
        .unwrap_or_else(|| ReleaseChart {
            metadata: Some(Metadata {
                name: chart.clone(),
                version: version.clone(),
                description: format!("applied by sailplan from {source}"),
                api_version: "v2".to_string(),
                app_version: version.clone(),
                ..Metadata::default()
            }),
            ..ReleaseChart::default()
        });
    let content = ReleaseContent {
        chart: stored_chart,
        config: plan.spec.target.values.as_object().cloned().unwrap_or_default(),
        manifest,
        notes: String::new(),
        labels: BTreeMap::new(),
    };
    (content, manifests)
}

/// Where one key of a Secret is copied from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopySource {
    /// The key in the Secret being applied.
    pub key: String,
    /// The source Secret's namespace.
    pub namespace: String,
    /// The source Secret's name.
    pub secret: String,
    /// The key in the source Secret.
    pub source_key: String,
}

/// The sources of a `sailplan.dev/copy-from` annotation: a JSON object from target key to
/// `namespace/secret/key`.
pub fn parse_copy_from(text: &str) -> Result<Vec<CopySource>, String> {
    let map: Map<String, Value> = serde_json::from_str(text)
        .map_err(|_| "the annotation is not a JSON object of key: namespace/secret/key".to_string())?;
    map.into_iter()
        .map(|(key, value)| {
            let path = value.as_str().ok_or_else(|| format!("the source of key {key} is not a string"))?;
            let mut parts = path.splitn(3, '/');
            match (parts.next(), parts.next(), parts.next()) {
                (Some(ns), Some(secret), Some(source))
                    if !ns.is_empty() && !secret.is_empty() && !source.is_empty() =>
                {
                    Ok(CopySource {
                        key,
                        namespace: ns.to_string(),
                        secret: secret.to_string(),
                        source_key: source.to_string(),
                    })
                }
                _ => Err(format!("the source of key {key} is not namespace/secret/key")),
            }
        })
        .collect()
}

fn action_name(action: &Action) -> &'static str {
    match action {
        Action::Backup { .. } => "backup",
        Action::Apply { .. } => "apply",
        Action::Delete { .. } => "delete",
        Action::Restore { .. } => "restore",
        Action::Relabel { .. } => "relabel",
        Action::Restart { .. } => "restart",
        Action::MoveTag { .. } => "moveTag",
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::apply::journal::{
        HEADER_KEY, LEGACY_KEY, MANAGED_BY, PLAN_LABEL, STEP_KEY, StepPiece, step_config_map_name,
    };
    use crate::apply::progress::Mode;
    use crate::cluster::sim::SimCluster;
    use crate::snapshot::Snapshot;
    use base64::Engine as _;

    const VALUE: &str = "a-secret-value-never-to-be-seen";

    fn encoded() -> String {
        base64::engine::general_purpose::STANDARD.encode(VALUE)
    }

    fn plan(fingerprint: &str, steps: Value) -> Plan {
        serde_json::from_value(json!({
            "apiVersion": API_VERSION, "kind": KIND, "metadata": {"id": "feedfacecafe", "observedFrom": "cluster"},
            "spec": {"source": {"controlPlanes": [], "proxies": {}},
                "target": {"version": "1.6.14", "profile": "default", "strategy": "canary", "valuesDigest": "", "values": {},
                    "dataPlane": {"batchSize": 1, "pause": "0s"}},
                "fingerprint": fingerprint, "hops": [], "findings": [], "blocked": false, "steps": steps}}))
        .unwrap()
    }

    async fn cluster() -> Arc<SimCluster> {
        let fake = SimCluster::from_snapshot(&Snapshot::default());
        for object in [
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "istio-system"}}),
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "apps", "labels": {"istio-injection": "enabled"}}}),
            json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "src", "namespace": "istio-system"}, "data": {"cert": encoded()}}),
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "old", "namespace": "apps"}, "data": {"k": "v"}}),
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "apps"}, "spec": {"replicas": 1}}),
        ] {
            fake.create(&object).await.unwrap();
        }
        Arc::new(fake)
    }

    /// As `plan` takes it: from a whole observation.
    async fn fingerprint(cluster: &SimCluster) -> String {
        let options = crate::collect::CollectOptions { istio_namespace: "istio-system".into() };
        crate::plan::fingerprint::of(
            &crate::collect::observe(cluster, &options, &|_, _, _| {}).await.unwrap().objects,
        )
    }

    fn options(dir: &std::path::Path, resume: bool) -> ExecutorOptions {
        ExecutorOptions { journal_dir: dir.to_path_buf(), resume, ..ExecutorOptions::default() }
    }

    fn cm(name: &str) -> Value {
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "apps"}, "data": {"k": name}})
    }

    fn reference(kind: &str, name: &str) -> Value {
        json!({"apiVersion": if kind == "Deployment" { "apps/v1" } else { "v1" }, "kind": kind, "namespace": if kind == "Secret" { "istio-system" } else { "apps" }, "name": name})
    }

    fn every_file(dir: &std::path::Path) -> Vec<String> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                out.extend(every_file(&path));
            } else {
                out.push(String::from_utf8_lossy(&std::fs::read(path).unwrap()).to_string());
            }
        }
        out
    }

    #[tokio::test]
    async fn copied_secret_data_reaches_the_cluster_and_no_journal_or_local_backup() {
        let cluster = cluster().await;
        let copied = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "gw-cert", "namespace": "apps",
            "annotations": {COPY_FROM_ANNOTATION: json!({"tls.crt": "istio-system/src/cert"}).to_string()}}});
        let plan = plan(
            &fingerprint(&cluster).await,
            json!([{"id": "s1", "hop": 1, "phase": "after-control-plane", "title": "sds",
                "actions": [{"type": "backup", "objects": [reference("Secret", "src"), reference("ConfigMap", "old")]},
                            {"type": "apply", "source": "sds-enablement", "objects": [copied]}],
                "gates": [{"name": "root-ca-unchanged", "timeout": "10s"}], "undo": []}]),
        );
        let dir = tempfile::tempdir().unwrap();
        let outcome = run(cluster.clone(), &plan, &options(dir.path(), false), &Progress::new(Mode::Quiet))
            .await
            .unwrap();
        assert_eq!(outcome.steps_run, ["s1"]);
        let stored = cluster.object("Secret", Some("apps"), "gw-cert").unwrap();
        assert_eq!(stored["data"]["tls.crt"], encoded());
        let files = every_file(dir.path());
        assert_eq!(
            files.len(),
            3,
            "the journal's header and step record and the ConfigMap's backup; no file for the Secret"
        );
        for text in files {
            assert!(!text.contains(VALUE) && !text.contains(&encoded()));
        }
        let journal: Vec<Arc<Value>> = cluster
            .objects()
            .into_iter()
            .filter(|o| {
                o["kind"] == "ConfigMap"
                    && o["metadata"]["name"].as_str().unwrap().starts_with("sailplan-journal-")
            })
            .collect();
        assert_eq!(journal.len(), 2, "a header and one step record: {journal:?}");
        assert!(!serde_json::to_string(&journal).unwrap().contains(&encoded()));
        // The Secret's backup is in the cluster, as a backup Secret.
        let backup =
            cluster.object("Secret", Some("istio-system"), "sailplan-backup-feedfacecafe-0").unwrap();
        assert_eq!(backup["type"], "sailplan.dev/backup");
    }

    #[tokio::test]
    async fn a_missing_copy_source_fails_the_step_without_naming_any_value() {
        let cluster = cluster().await;
        let copied = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "gw-cert", "namespace": "apps",
            "annotations": {COPY_FROM_ANNOTATION: json!({"tls.crt": "istio-system/src/missing-key"}).to_string()}}});
        let plan = plan(
            &fingerprint(&cluster).await,
            json!([{"id": "s1", "hop": 1, "phase": "after-control-plane", "title": "sds",
                "actions": [{"type": "apply", "source": "sds-enablement", "objects": [copied]}], "gates": [], "undo": []}]),
        );
        let dir = tempfile::tempdir().unwrap();
        let error = run(cluster.clone(), &plan, &options(dir.path(), false), &Progress::new(Mode::Quiet))
            .await
            .unwrap_err();
        let message = error.to_string();
        assert!(matches!(error, ApplyError::ActionFailed { .. }), "{message}");
        assert!(
            message.contains("Secret istio-system/src key missing-key") && message.contains("no such key"),
            "{message}"
        );
        assert!(cluster.object("Secret", Some("apps"), "gw-cert").is_none());
    }

    #[tokio::test]
    async fn a_failed_gate_runs_the_undo_and_a_stale_plan_changes_nothing() {
        let cluster = cluster().await;
        let steps = json!([{"id": "s1", "hop": 1, "phase": "data-plane", "title": "move",
            "actions": [{"type": "apply", "source": "t", "objects": [cm("new")]},
                        {"type": "relabel", "namespace": "apps", "set": {"istio.io/rev": "canary"}}],
            "gates": [{"name": "no-dual-injection-labels", "timeout": "5s", "params": {"namespaces": "apps"}}],
            "undo": [{"type": "delete", "objects": [reference("ConfigMap", "new")]},
                     {"type": "relabel", "namespace": "apps", "remove": ["istio.io/rev"]}]}]);
        let dir = tempfile::tempdir().unwrap();
        let stale = plan("sha256:other", steps.clone());
        let error = run(cluster.clone(), &stale, &options(dir.path(), false), &Progress::new(Mode::Quiet))
            .await
            .unwrap_err();
        assert!(matches!(error, ApplyError::Stale { .. }), "{error}");
        assert!(cluster.object("ConfigMap", Some("apps"), "new").is_none());
        let elsewhere = ExecutorOptions { namespace: "fresh".into(), ..options(dir.path(), false) };
        let error = run(cluster.clone(), &stale, &elsewhere, &Progress::new(Mode::Quiet)).await.unwrap_err();
        assert!(matches!(error, ApplyError::Stale { .. }), "{error}");
        assert!(
            cluster.object("Namespace", None, "fresh").is_none(),
            "the namespace made for the lock is gone again"
        );

        let current = plan(&fingerprint(&cluster).await, steps);
        let error = run(cluster.clone(), &current, &options(dir.path(), false), &Progress::new(Mode::Quiet))
            .await
            .unwrap_err();
        assert!(
            matches!(&error, ApplyError::GateFailed { gate, .. } if gate == "no-dual-injection-labels"),
            "{error}"
        );
        assert!(cluster.object("ConfigMap", Some("apps"), "new").is_none(), "deleted by the undo");
        let labels = cluster.object("Namespace", None, "apps").unwrap()["metadata"]["labels"].clone();
        assert_eq!(labels, json!({"istio-injection": "enabled"}));
        // The step's records are appended, one line per save; the last one stands.
        let lines = std::fs::read_to_string(dir.path().join("feedfacecafe/journal/steps.jsonl")).unwrap();
        let piece: StepPiece = serde_json::from_str(lines.lines().last().unwrap()).unwrap();
        assert_eq!((piece.index, piece.record.id.as_str()), (0, "s1"));
        assert_eq!(piece.record.status, StepStatus::Undone);
        assert_eq!(piece.record.gates[0].verdict, gates::Verdict::Fail);
    }

    #[tokio::test]
    async fn deletes_need_a_backup_and_restores_bring_objects_back() {
        let cluster = cluster().await;
        let fingerprint = fingerprint(&cluster).await;
        let unprotected = plan(
            &fingerprint,
            json!([{"id": "s1", "hop": 1, "phase": "finalize", "title": "rm",
                "actions": [{"type": "delete", "objects": [reference("ConfigMap", "old")]}], "gates": [], "undo": []}]),
        );
        let dir = tempfile::tempdir().unwrap();
        let error =
            run(cluster.clone(), &unprotected, &options(dir.path(), false), &Progress::new(Mode::Quiet))
                .await
                .unwrap_err();
        assert!(error.to_string().contains("was not backed up"), "{error}");
        assert!(cluster.object("ConfigMap", Some("apps"), "old").is_some());

        // Another plan, made now (the first one's journal is part of the cluster's state).
        let mut protected = plan(
            &self::fingerprint(&cluster).await,
            json!([{"id": "s1", "hop": 1, "phase": "finalize", "title": "rm",
                "actions": [{"type": "backup", "objects": [reference("ConfigMap", "old")]},
                            {"type": "delete", "objects": [reference("ConfigMap", "old")]}],
                "gates": [{"name": "http-probe", "timeout": "1s", "params": {"url": "https://example.invalid/"}}],
                "undo": [{"type": "restore", "objects": [reference("ConfigMap", "old")]}]}]),
        );
        protected.metadata.id = "0ddba11c0ffe".to_string();
        let other = tempfile::tempdir().unwrap();
        let error =
            run(cluster.clone(), &protected, &options(other.path(), false), &Progress::new(Mode::Quiet))
                .await
                .unwrap_err();
        assert!(matches!(error, ApplyError::GateFailed { .. }), "{error}");
        let restored = cluster.object("ConfigMap", Some("apps"), "old").unwrap();
        assert_eq!(restored["data"], json!({"k": "v"}), "restored from its backup");
    }

    #[tokio::test]
    async fn rollback_undoes_done_steps_newest_first_and_a_plan_never_applied_is_refused() {
        let cluster = cluster().await;
        let plan = plan(
            &fingerprint(&cluster).await,
            json!([
                {"id": "s1", "hop": 1, "phase": "before-control-plane", "title": "config",
                 "actions": [{"type": "apply", "source": "test", "objects": [cm("new")]}],
                 "gates": [{"name": "config-accepted", "timeout": "5s"}],
                 "undo": [{"type": "delete", "objects": [reference("ConfigMap", "new")]}]},
                {"id": "s2", "hop": 1, "phase": "data-plane", "title": "relabel",
                 "actions": [{"type": "relabel", "namespace": "apps", "set": {"istio.io/rev": "1-6-14"}, "remove": ["istio-injection"]}],
                 "gates": [],
                 "undo": [{"type": "relabel", "namespace": "apps", "set": {"istio-injection": "enabled"}, "remove": ["istio.io/rev"]}]},
                {"id": "s3", "hop": 1, "phase": "finalize", "title": "rm",
                 "actions": [{"type": "backup", "objects": [reference("ConfigMap", "old")]},
                             {"type": "delete", "objects": [reference("ConfigMap", "old")]}],
                 "gates": [],
                 "undo": [{"type": "restore", "objects": [reference("ConfigMap", "old")]}]}
            ]),
        );
        let dir = tempfile::tempdir().unwrap();
        let quiet = Progress::new(Mode::Quiet);
        let error = rollback(cluster.clone(), &plan, &options(dir.path(), false), &quiet).await.unwrap_err();
        assert!(matches!(error, ApplyError::NotApplied { .. }), "{error}");

        run(cluster.clone(), &plan, &options(dir.path(), false), &quiet).await.unwrap();
        assert!(cluster.object("ConfigMap", Some("apps"), "old").is_none());
        let outcome = rollback(cluster.clone(), &plan, &options(dir.path(), false), &quiet).await.unwrap();
        assert_eq!(outcome.steps_run, ["s3", "s2", "s1"], "newest first");
        assert_eq!(cluster.object("ConfigMap", Some("apps"), "old").unwrap()["data"], json!({"k": "v"}));
        assert!(cluster.object("ConfigMap", Some("apps"), "new").is_none(), "what the plan created is gone");
        let labels = cluster.object("Namespace", None, "apps").unwrap()["metadata"]["labels"].clone();
        assert_eq!(labels, json!({"istio-injection": "enabled"}));
        let again = rollback(cluster.clone(), &plan, &options(dir.path(), false), &quiet).await.unwrap();
        assert!(again.steps_run.is_empty(), "a rolled-back plan has nothing left to roll back");
    }

    #[tokio::test]
    async fn a_resumed_step_runs_again_without_restarting_twice() {
        let cluster = cluster().await;
        let plan = plan(
            &fingerprint(&cluster).await,
            json!([
                {"id": "s1", "hop": 1, "phase": "data-plane", "title": "restart",
                 "actions": [{"type": "restart", "namespace": "apps", "workloads": [reference("Deployment", "web")]}],
                 "gates": [], "undo": []},
                {"id": "s2", "hop": 1, "phase": "data-plane", "title": "after",
                 "actions": [{"type": "apply", "source": "t", "objects": [cm("after")]}], "gates": [], "undo": []}]),
        );
        let dir = tempfile::tempdir().unwrap();
        // An earlier run restarted `web` and was cut off before its gates.
        let mut journal = Journal::new(&plan);
        journal.steps[0].status = StepStatus::Running;
        journal.steps[0].attempts = 1;
        journal.steps[0].restarted_at = Some("2026-01-01T00:00:00Z".to_string());
        let web = ObjectRef {
            api_version: "apps/v1".into(),
            kind: "Deployment".into(),
            namespace: Some("apps".into()),
            name: "web".into(),
        };
        let restarted = json!({"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: "2026-01-01T00:00:00Z"}}}}});
        cluster.merge_patch(&web, &restarted).await.unwrap();
        let store = JournalStore::new(dir.path(), "feedfacecafe", "istio-system");
        store.save_header(&*cluster, &mut journal).await.unwrap();
        store.save_step(&*cluster, &mut journal, 0).await.unwrap();

        let refused = run(cluster.clone(), &plan, &options(dir.path(), false), &Progress::new(Mode::Quiet))
            .await
            .unwrap_err();
        assert!(matches!(refused, ApplyError::Unfinished { .. }), "{refused}");
        let outcome = run(cluster.clone(), &plan, &options(dir.path(), true), &Progress::new(Mode::Quiet))
            .await
            .unwrap();
        assert_eq!(outcome.steps_run, ["s1", "s2"]);
        let web = cluster.object("Deployment", Some("apps"), "web").unwrap();
        assert_eq!(
            web["spec"]["template"]["metadata"]["annotations"][RESTARTED_AT], "2026-01-01T00:00:00Z",
            "not restarted a second time: {web}"
        );
        let journal = store.load(&*cluster, &plan).await.unwrap().unwrap();
        assert_eq!(journal.steps[0].attempts, 2);
        assert!(journal.finished());
        let again = run(cluster.clone(), &plan, &options(dir.path(), false), &Progress::new(Mode::Quiet))
            .await
            .unwrap();
        assert!(again.steps_run.is_empty());
    }

    #[tokio::test]
    async fn the_journal_is_kept_in_pieces_and_a_whole_one_from_an_earlier_version_resumes() {
        let cluster = cluster().await;
        let step = |id: &str| {
            json!({"id": id, "hop": 1, "phase": "data-plane", "title": id,
                "actions": [{"type": "apply", "source": "t", "objects": [cm(id)]}], "gates": [], "undo": []})
        };
        let plan = plan(&fingerprint(&cluster).await, json!([step("s1"), step("s2"), step("s3")]));
        let dir = tempfile::tempdir().unwrap();
        // An earlier version wrote the journal whole, locally and in the cluster: s1 done.
        let mut journal = Journal::new(&plan);
        journal.steps[0].status = StepStatus::Done;
        journal.steps[0].attempts = 1;
        let text = serde_json::to_string(&journal).unwrap();
        std::fs::create_dir_all(dir.path().join("feedfacecafe")).unwrap();
        std::fs::write(dir.path().join("feedfacecafe/journal.json"), &text).unwrap();
        let legacy = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "sailplan-journal-feedfacecafe", "namespace": "istio-system",
                "labels": {MANAGED_BY.0: MANAGED_BY.1, PLAN_LABEL: "feedfacecafe"}},
            "data": {LEGACY_KEY: text}});
        cluster.apply(&legacy, ApplyOptions { dry_run: false, force: true }).await.unwrap();

        let outcome = run(cluster.clone(), &plan, &options(dir.path(), true), &Progress::new(Mode::Quiet))
            .await
            .unwrap();
        assert_eq!(outcome.steps_run, ["s2", "s3"], "resumed after the step the old journal records");
        assert!(!dir.path().join("feedfacecafe/journal.json").exists(), "rewritten in pieces");
        let store = JournalStore::new(dir.path(), "feedfacecafe", "istio-system");
        let loaded = store.load(&*cluster, &plan).await.unwrap().unwrap();
        assert!(loaded.finished() && !loaded.legacy);

        // One ConfigMap per step, labelled with the plan, and a header that names no step.
        let header =
            cluster.object("ConfigMap", Some("istio-system"), "sailplan-journal-feedfacecafe").unwrap();
        assert!(header["data"].get(LEGACY_KEY).is_none(), "{header}");
        let text = header["data"][HEADER_KEY].as_str().unwrap();
        assert!(!text.contains("s2") && text.contains("\"steps\": 3"), "{text}");
        for index in 0..3 {
            let map = cluster
                .object("ConfigMap", Some("istio-system"), &step_config_map_name("feedfacecafe", index))
                .unwrap();
            assert_eq!(map["metadata"]["labels"][PLAN_LABEL], "feedfacecafe");
            let piece: StepPiece = serde_json::from_str(map["data"][STEP_KEY].as_str().unwrap()).unwrap();
            assert_eq!((piece.index, piece.record.status), (index, StepStatus::Done));
        }

        // Each copy alone is enough: the cluster's after the local one is lost, and the other way.
        std::fs::remove_dir_all(dir.path().join("feedfacecafe/journal")).unwrap();
        assert!(store.load(&*cluster, &plan).await.unwrap().unwrap().finished());
        // A journal for other steps does not match.
        let other = self::plan(&fingerprint(&cluster).await, json!([step("s1"), step("x2"), step("s3")]));
        assert!(!store.load(&*cluster, &other).await.unwrap().unwrap().matches(&other));
    }

    /// The validating webhook as release `owner` stamps it.
    /// Records release `istiod` as deployed with `owned` (stamped as its objects) and applies them.
    async fn deployed_istiod(cluster: &SimCluster, mut owned: Vec<Manifest>) {
        release::stamp(&mut owned, "istiod", "istio-system");
        let store = ReleaseStore::new(cluster);
        let content = ReleaseContent {
            chart: ReleaseChart::default(),
            config: Map::new(),
            manifest: release::manifest_text(&owned).unwrap(),
            notes: String::new(),
            labels: BTreeMap::new(),
        };
        let installed = store.begin_install("istiod", "istio-system", content).await.unwrap();
        store.mark_deployed(&installed).await.unwrap();
        for manifest in &owned {
            cluster.apply(&manifest.object, ApplyOptions { dry_run: false, force: true }).await.unwrap();
        }
    }

    fn webhook(owner: &str) -> Value {
        let mut manifests = vec![Manifest {
            source: "istiod/templates/validatingwebhookconfiguration.yaml".into(),
            object: json!({"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingWebhookConfiguration",
                "metadata": {"name": "istiod-istio-system"}, "webhooks": []}),
        }];
        release::stamp(&mut manifests, owner, "istio-system");
        manifests.remove(0).object
    }

    /// What the deployed revision of `name` lists, by kind and name.
    async fn listed(cluster: &SimCluster, name: &str) -> Vec<String> {
        let deployed = ReleaseStore::new(cluster).last_deployed(name, "istio-system").await.unwrap().unwrap();
        release::parse_manifest(&deployed.manifest, name)
            .unwrap()
            .iter()
            .map(|m| format!("{}/{}", m.kind(), m.name()))
            .collect()
    }

    #[tokio::test]
    async fn an_object_moving_between_releases_is_handed_over_and_handed_back_on_rollback() {
        let cluster = cluster().await;
        // Release istiod owns the webhook and a ConfigMap.
        let config = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "istio", "namespace": "istio-system"}, "data": {"mesh": "{}"}});
        deployed_istiod(
            &cluster,
            vec![
                Manifest { source: "istiod/templates/webhook.yaml".into(), object: webhook("istiod") },
                Manifest { source: "istiod/templates/configmap.yaml".into(), object: config },
            ],
        )
        .await;
        let store = ReleaseStore::new(&*cluster);
        let moved = ObjectRef::of(&webhook("istiod")).unwrap();
        let steps = |handover: Value| {
            json!([{"id": "s1", "hop": 1, "phase": "base", "title": "base",
                "actions": [{"type": "backup", "objects": [moved]},
                            {"type": "apply", "release": "istio-base", "source": "istio-base",
                             "objects": [webhook("istio-base")], "handover": handover}],
                "gates": [], "undo": [{"type": "restore", "objects": [moved]}]}])
        };
        let quiet = Progress::new(Mode::Quiet);
        let owner = |cluster: &SimCluster| {
            cluster.object("ValidatingWebhookConfiguration", None, "istiod-istio-system").unwrap()["metadata"]
                ["annotations"][release::ownership::RELEASE_NAME_ANNOTATION]
                .clone()
        };

        // Without the handover, the webhook of another release is refused, and nothing changes.
        let dir = tempfile::tempdir().unwrap();
        let mut refused = plan(&fingerprint(&cluster).await, steps(json!([])));
        refused.metadata.id = "0ddba11c0ffe".to_string();
        let error = run(cluster.clone(), &refused, &options(dir.path(), false), &quiet).await.unwrap_err();
        assert!(error.to_string().contains("belongs to release \"istiod\""), "{error}");
        assert_eq!(owner(&cluster), "istiod");
        assert!(
            listed(&cluster, "istiod")
                .await
                .contains(&"ValidatingWebhookConfiguration/istiod-istio-system".to_string())
        );

        let handover =
            plan(&fingerprint(&cluster).await, steps(json!([{"object": moved, "from": "istiod"}])));
        let dir = tempfile::tempdir().unwrap();
        run(cluster.clone(), &handover, &options(dir.path(), false), &quiet).await.unwrap();
        assert_eq!(owner(&cluster), "istio-base");
        assert_eq!(
            listed(&cluster, "istiod").await,
            ["ConfigMap/istio"],
            "istiod no longer lists the webhook"
        );
        assert_eq!(
            listed(&cluster, "istio-base").await,
            ["ValidatingWebhookConfiguration/istiod-istio-system"]
        );
        let history = store.history("istiod", "istio-system").await.unwrap();
        assert_eq!(history.len(), 2, "one revision for the handover: {history:?}");

        rollback(cluster.clone(), &handover, &options(dir.path(), false), &quiet).await.unwrap();
        assert_eq!(owner(&cluster), "istiod", "the webhook's annotations are restored");
        assert_eq!(
            listed(&cluster, "istiod").await,
            ["ValidatingWebhookConfiguration/istiod-istio-system", "ConfigMap/istio"],
            "istiod lists the webhook again"
        );
        assert!(store.last_deployed("istio-base", "istio-system").await.unwrap().is_none());
    }

    #[tokio::test]
    async fn an_undone_handover_leaves_the_old_release_listing_the_object() {
        let cluster = cluster().await;
        deployed_istiod(
            &cluster,
            vec![Manifest { source: "istiod/templates/webhook.yaml".into(), object: webhook("istiod") }],
        )
        .await;
        let store = ReleaseStore::new(&*cluster);
        let moved = ObjectRef::of(&webhook("istiod")).unwrap();
        let plan = plan(
            &fingerprint(&cluster).await,
            json!([{"id": "s1", "hop": 1, "phase": "base", "title": "base",
                "actions": [{"type": "backup", "objects": [moved]},
                            {"type": "apply", "release": "istio-base", "source": "istio-base",
                             "objects": [webhook("istio-base")], "handover": [{"object": moved, "from": "istiod"}]}],
                "gates": [{"name": "http-probe", "timeout": "1s", "params": {"url": "https://example.invalid/"}}],
                "undo": [{"type": "restore", "objects": [moved]}]}]),
        );
        let dir = tempfile::tempdir().unwrap();
        let error = run(cluster.clone(), &plan, &options(dir.path(), false), &Progress::new(Mode::Quiet))
            .await
            .unwrap_err();
        assert!(matches!(error, ApplyError::GateFailed { .. }), "{error}");
        let live = cluster.object("ValidatingWebhookConfiguration", None, "istiod-istio-system").unwrap();
        assert_eq!(live["metadata"]["annotations"][release::ownership::RELEASE_NAME_ANNOTATION], "istiod");
        assert_eq!(listed(&cluster, "istiod").await, ["ValidatingWebhookConfiguration/istiod-istio-system"]);
        let last = store.last("istiod", "istio-system").await.unwrap().unwrap();
        assert_eq!((last.version, last.status()), (2, ReleaseStatus::Failed), "the handover revision failed");
    }

    #[tokio::test]
    async fn plans_with_unknown_gates_or_bad_durations_are_refused_before_anything_changes() {
        let cluster = cluster().await;
        let dir = tempfile::tempdir().unwrap();
        for steps in [
            json!([{"id": "s1", "hop": 1, "phase": "base", "title": "t", "actions": [{"type": "apply", "source": "t", "objects": [cm("x")]}],
                "gates": [{"name": "rollout-completed", "timeout": "1m"}], "undo": []}]),
            json!([{"id": "s1", "hop": 1, "phase": "base", "title": "t", "actions": [{"type": "apply", "source": "t", "objects": [cm("x")]}],
                "gates": [], "undo": [], "pause": "soon"}]),
        ] {
            let plan = plan(&fingerprint(&cluster).await, steps);
            let error = run(cluster.clone(), &plan, &options(dir.path(), false), &Progress::new(Mode::Quiet))
                .await
                .unwrap_err();
            assert!(matches!(error, ApplyError::Invalid { .. }), "{error}");
            assert!(cluster.object("ConfigMap", Some("apps"), "x").is_none());
        }
    }

    #[test]
    fn copy_from_annotations_parse_as_the_sds_migration_writes_them() {
        let sources = parse_copy_from(r#"{"tls.crt":"istio-system/istio-ingressgateway-certs/tls.crt","ca.crt":"istio-system/ca/ca-chain.cert.pem"}"#).unwrap();
        assert_eq!(
            sources[0],
            CopySource {
                key: "tls.crt".into(),
                namespace: "istio-system".into(),
                secret: "istio-ingressgateway-certs".into(),
                source_key: "tls.crt".into()
            }
        );
        assert_eq!(sources[1].source_key, "ca-chain.cert.pem");
        assert!(parse_copy_from("not json").is_err());
        assert!(parse_copy_from(r#"{"k":"ns/only"}"#).is_err());
        assert!(parse_copy_from(r#"{"k":3}"#).is_err());
    }
}
