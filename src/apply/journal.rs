//! The journal of an apply: what has been done to the cluster, step by step, so that an interrupted
//! apply resumes where it stopped (ARCHITECTURE.md §6) and a finished one is not done twice.
//!
//! It is written after every action and every gate, to two places: a local file
//! (`.sailplan/<plan-id>/journal.json` by default), for the operator, and a ConfigMap
//! `sailplan-journal-<plan-id>` in the control-plane namespace, so another machine (or the operator's
//! colleague) resumes from the same record. On load the one that has got further wins.
//!
//! It names objects and records digests, times and gate messages; it never holds object content, so
//! no Secret value can end up in it.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::gates::{Applied, GateOutcome};
use super::kinds;
use crate::cluster::{ApplyOptions, Cluster, ClusterError, ObjectRef};
use crate::plan::model::Plan;

/// The label every object sailplan keeps for itself carries.
pub const MANAGED_BY: (&str, &str) = ("app.kubernetes.io/managed-by", "sailplan");
/// The label naming the plan an object belongs to.
pub const PLAN_LABEL: &str = "sailplan.dev/plan";
/// The journal's key in its ConfigMap.
pub const JOURNAL_KEY: &str = "journal.json";

/// Where a step stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StepStatus {
    /// Not started.
    Pending,
    /// Started and not finished (an interrupted apply leaves it so).
    Running,
    /// Its actions ran and its gates passed.
    Done,
    /// It failed and could not be undone completely.
    Failed,
    /// A gate or an action failed and its undo ran.
    Undone,
}

/// A backup taken by a step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BackupRecord {
    /// The object backed up.
    pub object: ObjectRef,
    /// The in-cluster Secret holding it; none when the object did not exist.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// The local copy (never for Secrets).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<PathBuf>,
}

/// A Helm release revision a step began.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReleaseRecord {
    /// The release.
    pub name: String,
    /// Its namespace.
    pub namespace: String,
    /// The revision this step wrote.
    pub version: u32,
    /// The revision that was deployed when the step began (none: the step installed the release);
    /// a rollback returns to it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaced: Option<u32>,
}

/// One step's record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StepRecord {
    /// The step's id.
    pub id: String,
    /// Where it stands.
    pub status: StepStatus,
    /// How often it was started (more than once after a resume).
    #[serde(default)]
    pub attempts: u32,
    /// When it last started (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    /// When it ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<String>,
    /// The indexes of the actions done in the current attempt.
    #[serde(default)]
    pub actions_done: Vec<usize>,
    /// The gate outcomes of the current attempt.
    #[serde(default)]
    pub gates: Vec<GateOutcome>,
    /// Backups this step took (kept across attempts: a re-run must not back up what it changed).
    #[serde(default)]
    pub backups: Vec<BackupRecord>,
    /// The `restartedAt` value this step restarts its workloads with, set before the first restart
    /// (kept across attempts: a re-run leaves alone a workload whose template already carries it).
    /// One value per step rather than one per workload keeps the journal small on large clusters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restarted_at: Option<String>,
    /// Objects the step applied and their generations.
    #[serde(default)]
    pub applied: Vec<Applied>,
    /// Release revisions the step began.
    #[serde(default)]
    pub releases: Vec<ReleaseRecord>,
    /// Why it failed or was undone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// The journal of one plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Journal {
    /// The plan's id.
    pub plan_id: String,
    /// The plan's fingerprint.
    pub fingerprint: String,
    /// The digest of the root CA Secrets when the apply first started (`none` when there were none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_ca_digest: Option<String>,
    /// When the apply first started.
    pub started_at: String,
    /// When the journal was last written.
    pub updated_at: String,
    /// Whether the control-plane namespace was created by this apply.
    #[serde(default)]
    pub created_namespace: bool,
    /// One record per step, in plan order.
    pub steps: Vec<StepRecord>,
}

/// Now, RFC 3339 in UTC with seconds.
pub fn now() -> String {
    k8s_openapi::jiff::Timestamp::now()
        .round(k8s_openapi::jiff::Unit::Second)
        .map_or_else(|_| String::new(), |t| t.to_string())
}

impl Journal {
    /// A new journal for `plan`, every step pending.
    pub fn new(plan: &Plan) -> Journal {
        let now = now();
        Journal {
            plan_id: plan.metadata.id.clone(),
            fingerprint: plan.spec.fingerprint.clone(),
            root_ca_digest: None,
            started_at: now.clone(),
            updated_at: now,
            created_namespace: false,
            steps: plan
                .spec
                .steps
                .iter()
                .map(|s| StepRecord {
                    id: s.id.clone(),
                    status: StepStatus::Pending,
                    attempts: 0,
                    started_at: None,
                    ended_at: None,
                    actions_done: Vec::new(),
                    gates: Vec::new(),
                    backups: Vec::new(),
                    restarted_at: None,
                    applied: Vec::new(),
                    releases: Vec::new(),
                    message: None,
                })
                .collect(),
        }
    }

    /// Whether the journal belongs to `plan` (same id and the same steps).
    pub fn matches(&self, plan: &Plan) -> bool {
        self.plan_id == plan.metadata.id
            && self.steps.len() == plan.spec.steps.len()
            && self.steps.iter().zip(&plan.spec.steps).all(|(r, s)| r.id == s.id)
    }

    /// The first step not done, where a run (or a resume) starts; `None` when all are done.
    pub fn next_step(&self) -> Option<usize> {
        self.steps.iter().position(|s| s.status != StepStatus::Done)
    }

    /// Whether any step has started: from then on the cluster differs from the plan's fingerprint
    /// because of this apply, so staleness can no longer be checked.
    pub fn any_started(&self) -> bool {
        self.steps.iter().any(|s| s.status != StepStatus::Pending || s.attempts > 0)
    }

    /// Whether every step is done.
    pub fn finished(&self) -> bool {
        self.next_step().is_none()
    }

    /// How far the apply got, to pick the newer of two copies.
    fn progress(&self) -> (usize, usize, String) {
        let done = self.steps.iter().filter(|s| s.status == StepStatus::Done).count();
        let touched = self
            .steps
            .iter()
            .map(|s| {
                s.actions_done.len()
                    + s.gates.len()
                    + s.backups.len()
                    + usize::from(s.status != StepStatus::Pending)
            })
            .sum();
        (done, touched, self.updated_at.clone())
    }

    /// Every backup of `object` taken by step `index` or earlier, newest (latest step) first.
    pub fn backups_of(&self, object: &ObjectRef, index: usize) -> Vec<&BackupRecord> {
        let mut found: Vec<&BackupRecord> = self.steps[..=index.min(self.steps.len().saturating_sub(1))]
            .iter()
            .rev()
            .flat_map(|s| s.backups.iter().filter(|b| same_object(&b.object, object)))
            .collect();
        found.dedup();
        found
    }

    /// How many backups the journal records (numbers the next backup Secret).
    pub fn backup_count(&self) -> usize {
        self.steps.iter().map(|s| s.backups.len()).sum()
    }
}

/// Whether two references name the same object (the apiVersion may differ between versions of a
/// kind).
pub fn same_object(a: &ObjectRef, b: &ObjectRef) -> bool {
    let group = |r: &ObjectRef| r.api_version.rsplit_once('/').map_or(String::new(), |(g, _)| g.to_string());
    a.kind == b.kind && a.namespace == b.namespace && a.name == b.name && group(a) == group(b)
}

/// The short form of a plan id used in object names (lower-case alphanumerics, at most 12).
pub fn short_id(plan_id: &str) -> String {
    plan_id.chars().filter(char::is_ascii_alphanumeric).map(|c| c.to_ascii_lowercase()).take(12).collect()
}

/// The name of a plan's journal ConfigMap.
pub fn config_map_name(plan_id: &str) -> String {
    format!("sailplan-journal-{}", short_id(plan_id))
}

/// Why the journal could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// The local file.
    #[error(
        "cannot write the journal {path}: {message}; check that the directory is writable (--journal-dir)"
    )]
    File {
        /// The file.
        path: PathBuf,
        /// What failed.
        message: String,
    },
    /// The in-cluster copy.
    #[error("cannot write the journal ConfigMap {namespace}/{name}: {source}")]
    Cluster {
        /// Its namespace.
        namespace: String,
        /// Its name.
        name: String,
        /// What the cluster said.
        #[source]
        source: Box<ClusterError>,
    },
    /// A stored journal cannot be read.
    #[error("the journal {place} cannot be read: {message}; move it away to start the plan afresh")]
    Corrupt {
        /// Where it is.
        place: String,
        /// What is wrong.
        message: String,
    },
}

/// Where a plan's journal is kept.
#[derive(Debug, Clone)]
pub struct JournalStore {
    /// The local file.
    pub path: PathBuf,
    /// The control-plane namespace of the ConfigMap.
    pub namespace: String,
    /// The ConfigMap's name.
    pub name: String,
}

impl JournalStore {
    /// The store of `plan_id`'s journal under `dir` (`dir/<plan-id>/journal.json`) and in `namespace`.
    pub fn new(dir: &Path, plan_id: &str, namespace: &str) -> JournalStore {
        JournalStore {
            path: dir.join(plan_id).join("journal.json"),
            namespace: namespace.to_string(),
            name: config_map_name(plan_id),
        }
    }

    /// The journal of this plan, from whichever copy got further; `None` when neither exists.
    pub async fn load<C: Cluster>(&self, cluster: &C) -> Result<Option<Journal>, JournalError> {
        let local = match std::fs::read_to_string(&self.path) {
            Ok(text) => Some(serde_json::from_str::<Journal>(&text).map_err(|e| JournalError::Corrupt {
                place: self.path.display().to_string(),
                message: e.to_string(),
            })?),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => {
                return Err(JournalError::Corrupt {
                    place: self.path.display().to_string(),
                    message: e.to_string(),
                });
            }
        };
        let cluster_error = |source| JournalError::Cluster {
            namespace: self.namespace.clone(),
            name: self.name.clone(),
            source: Box::new(source),
        };
        let remote = match cluster
            .get(&kinds::config_map(), Some(&self.namespace), &self.name)
            .await
            .map_err(cluster_error)?
        {
            Some(map) => match map.pointer(&format!("/data/{JOURNAL_KEY}")).and_then(Value::as_str) {
                Some(text) => {
                    Some(serde_json::from_str::<Journal>(text).map_err(|e| JournalError::Corrupt {
                        place: format!("ConfigMap {}/{}", self.namespace, self.name),
                        message: e.to_string(),
                    })?)
                }
                None => None,
            },
            None => None,
        };
        Ok(newer(local, remote))
    }

    /// Writes the journal locally and to the cluster.
    pub async fn save<C: Cluster>(&self, cluster: &C, journal: &mut Journal) -> Result<(), JournalError> {
        journal.updated_at = now();
        let text = serde_json::to_string_pretty(journal).unwrap_or_default();
        let file_error =
            |e: std::io::Error| JournalError::File { path: self.path.clone(), message: e.to_string() };
        if let Some(parent) = self.path.parent() {
            std::fs::create_dir_all(parent).map_err(file_error)?;
        }
        let partial = self.path.with_extension("json.partial");
        std::fs::write(&partial, format!("{text}\n")).map_err(file_error)?;
        std::fs::rename(&partial, &self.path).map_err(file_error)?;
        let map = json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": self.name, "namespace": self.namespace,
                "labels": {MANAGED_BY.0: MANAGED_BY.1, PLAN_LABEL: short_id(&journal.plan_id)}},
            "data": {JOURNAL_KEY: text},
        });
        cluster.apply(&map, ApplyOptions { dry_run: false, force: true }).await.map_err(|source| {
            JournalError::Cluster {
                namespace: self.namespace.clone(),
                name: self.name.clone(),
                source: Box::new(source),
            }
        })?;
        Ok(())
    }
}

/// The copy that got further (the in-cluster one on a tie: it is written last).
pub fn newer(local: Option<Journal>, remote: Option<Journal>) -> Option<Journal> {
    match (local, remote) {
        (Some(local), Some(remote)) => {
            Some(if local.progress() > remote.progress() { local } else { remote })
        }
        (one, None) | (None, one) => one,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::plan::model::{Step, StepPhase};

    fn plan(steps: &[&str]) -> Plan {
        let mut plan: Plan = serde_json::from_value(json!({
            "apiVersion": "sailplan.dev/v1alpha1", "kind": "UpgradePlan",
            "metadata": {"id": "0123456789abcdef", "observedFrom": "cluster"},
            "spec": {"source": {"controlPlanes": [], "proxies": {}},
                "target": {"version": "1.6.14", "profile": "default", "strategy": "canary", "valuesDigest": "", "values": {},
                    "dataPlane": {"batchSize": 1, "pause": "0s"}},
                "fingerprint": "sha256:x", "hops": [], "findings": [], "blocked": false, "steps": []}}))
        .unwrap();
        plan.spec.steps = steps
            .iter()
            .map(|id| Step {
                id: id.to_string(),
                hop: 1,
                phase: StepPhase::Base,
                title: String::new(),
                actions: Vec::new(),
                gates: Vec::new(),
                undo: Vec::new(),
                pause: None,
                needs_human: Vec::new(),
            })
            .collect();
        plan
    }

    #[test]
    fn resume_starts_at_the_first_step_not_done_and_staleness_is_checked_only_before_any_step() {
        let plan = plan(&["a", "b", "c"]);
        let mut journal = Journal::new(&plan);
        assert!(journal.matches(&plan));
        assert_eq!(journal.next_step(), Some(0));
        assert!(!journal.any_started());
        journal.steps[0].status = StepStatus::Done;
        journal.steps[1].status = StepStatus::Running;
        journal.steps[1].attempts = 1;
        assert_eq!(journal.next_step(), Some(1));
        assert!(journal.any_started());
        journal.steps[1].status = StepStatus::Undone;
        assert_eq!(journal.next_step(), Some(1), "an undone step is run again on resume");
        journal.steps[1].status = StepStatus::Done;
        journal.steps[2].status = StepStatus::Done;
        assert!(journal.finished());
        assert!(!journal.matches(&self::plan(&["a", "b"])));
    }

    #[test]
    fn the_copy_that_got_further_wins() {
        let plan = plan(&["a", "b"]);
        let behind = Journal::new(&plan);
        let mut ahead = behind.clone();
        ahead.steps[0].status = StepStatus::Done;
        assert_eq!(newer(Some(behind.clone()), Some(ahead.clone())), Some(ahead.clone()));
        assert_eq!(newer(Some(ahead.clone()), Some(behind.clone())), Some(ahead.clone()));
        assert_eq!(newer(None, Some(behind.clone())), Some(behind));
        assert_eq!(newer(None, None), None);
    }

    #[test]
    fn backups_are_found_newest_step_first_and_only_up_to_the_step() {
        let plan = plan(&["a", "b", "c"]);
        let mut journal = Journal::new(&plan);
        let object = ObjectRef {
            api_version: "v1".into(),
            kind: "ConfigMap".into(),
            namespace: Some("x".into()),
            name: "m".into(),
        };
        let record =
            |secret: &str| BackupRecord { object: object.clone(), secret: Some(secret.into()), file: None };
        journal.steps[0].backups.push(record("s0"));
        journal.steps[2].backups.push(record("s2"));
        assert_eq!(
            journal.backups_of(&object, 1).iter().map(|b| b.secret.clone().unwrap()).collect::<Vec<_>>(),
            ["s0"]
        );
        assert_eq!(journal.backups_of(&object, 2)[0].secret.as_deref(), Some("s2"));
        assert_eq!(journal.backup_count(), 2);
        assert_eq!(short_id("0123456789ABCDEFxyz"), "0123456789ab");
        assert_eq!(config_map_name("0123456789abcdef"), "sailplan-journal-0123456789ab");
    }
}
