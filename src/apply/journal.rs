//! The journal of an apply: what has been done to the cluster, step by step, so that an interrupted
//! apply resumes where it stopped (ARCHITECTURE.md §6) and a finished one is not done twice.
//!
//! It is kept in pieces, so that recording an action costs as much as that step's record and no
//! stored object grows with the plan: a small header (plan id, fingerprint, root CA digest, how many
//! steps and a digest of their ids) and one record per step, written on its own whenever that step
//! changes. A step that has never started has no record (it is pending). The pieces go to two
//! places: locally under `.sailplan/<plan-id>/journal/`, for the operator, and as ConfigMaps in the
//! control-plane namespace (`sailplan-journal-<plan-id>` for the header,
//! `sailplan-journal-<plan-id>-<index>` for each step, all labelled with the plan), so another
//! machine (or the operator's colleague) resumes from the same record. On load the copy that has
//! got further wins.
//!
//! Locally the header is `header.json`, replaced whole (written to a partial file and renamed), and
//! the step records are appended to `steps.jsonl`, one record per line; the last line of a step
//! wins. Appending costs one write, where renaming a file over another makes ext4 flush it first, and
//! a save comes after every action and gate. Crash safety rests on two rules: a save appends its
//! whole line (record and newline) in one write, so a crash leaves at most the last line cut short,
//! without its newline; such a line is ignored on load (its step keeps the record before it, which is
//! what the cluster copy, written after the local one, holds too), while a broken line followed by
//! others is corruption. And writing the header (every apply and rollback does so before it records
//! a step) rewrites `steps.jsonl` with one line per started step, through a partial file and a
//! rename, so a cut line never has another appended after it, and the file stays one line per save
//! of one run.
//!
//! Journals written by earlier versions are still read: whole (`journal.json`, and the
//! `journal.json` key of the header ConfigMap), or with one file per step record
//! (`steps/<index>.json`); the next header save writes them as this version does.
//!
//! It names objects and records digests, times and gate messages; it never holds object content, so
//! no Secret value can end up in it.

use std::collections::BTreeMap;
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
/// The header's key in its ConfigMap.
pub const HEADER_KEY: &str = "header.json";
/// A step record's key in its ConfigMap.
pub const STEP_KEY: &str = "step.json";
/// The key of a whole journal, as earlier versions wrote it.
pub const LEGACY_KEY: &str = "journal.json";
/// The label saying which piece of a journal a ConfigMap holds (`header` or `step`).
pub const PART_LABEL: &str = "sailplan.dev/journal";

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
    /// Read from a whole journal an earlier version wrote: the next header save writes every piece.
    #[serde(skip)]
    pub legacy: bool,
}

/// A journal's header: all but the steps' records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Header {
    /// The plan's id.
    pub plan_id: String,
    /// The plan's fingerprint.
    pub fingerprint: String,
    /// The digest of the root CA Secrets when the apply first started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_ca_digest: Option<String>,
    /// When the apply first started.
    pub started_at: String,
    /// When the header was last written.
    pub updated_at: String,
    /// Whether the control-plane namespace was created by this apply.
    #[serde(default)]
    pub created_namespace: bool,
    /// How many steps the plan has.
    pub steps: usize,
    /// The digest of the plan's step ids in order, which tells a journal of other steps.
    pub steps_digest: String,
}

/// One step's record as it is stored, on its own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StepPiece {
    /// The plan's id.
    pub plan_id: String,
    /// The step's place in the plan (from 0).
    pub index: usize,
    /// When the record was written.
    pub updated_at: String,
    /// The record.
    #[serde(flatten)]
    pub record: StepRecord,
}

/// The digest of a plan's step ids, in order.
fn steps_digest<'i>(ids: impl Iterator<Item = &'i str>) -> String {
    let joined: Vec<&str> = ids.collect();
    format!("sha256:{}", crate::digest::sha256_hex(joined.join("\n").as_bytes()))
}

/// A pending step's record.
fn pending(id: &str) -> StepRecord {
    StepRecord {
        id: id.to_string(),
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
    }
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
            steps: plan.spec.steps.iter().map(|s| pending(&s.id)).collect(),
            legacy: false,
        }
    }

    /// The journal a header and step records make. A step without a record is pending; its id is
    /// taken from `plan` when the header was written for the same steps, else left empty (so the
    /// journal does not match the plan, and a status shows it by its count only).
    pub fn from_pieces(header: Header, pieces: Vec<StepPiece>, plan: Option<&Plan>) -> Journal {
        let ids: Option<Vec<&str>> = plan
            .filter(|p| {
                p.spec.steps.len() == header.steps
                    && steps_digest(p.spec.steps.iter().map(|s| s.id.as_str())) == header.steps_digest
            })
            .map(|p| p.spec.steps.iter().map(|s| s.id.as_str()).collect());
        let mut steps: Vec<StepRecord> = (0..header.steps)
            .map(|i| pending(ids.as_ref().and_then(|ids| ids.get(i).copied()).unwrap_or("")))
            .collect();
        let mut updated_at = header.updated_at;
        for piece in pieces {
            if piece.plan_id != header.plan_id {
                continue;
            }
            if let Some(slot) = steps.get_mut(piece.index) {
                *slot = piece.record;
                if piece.updated_at > updated_at {
                    updated_at = piece.updated_at;
                }
            }
        }
        Journal {
            plan_id: header.plan_id,
            fingerprint: header.fingerprint,
            root_ca_digest: header.root_ca_digest,
            started_at: header.started_at,
            updated_at,
            created_namespace: header.created_namespace,
            steps,
            legacy: false,
        }
    }

    /// The header of this journal.
    pub fn header(&self) -> Header {
        Header {
            plan_id: self.plan_id.clone(),
            fingerprint: self.fingerprint.clone(),
            root_ca_digest: self.root_ca_digest.clone(),
            started_at: self.started_at.clone(),
            updated_at: self.updated_at.clone(),
            created_namespace: self.created_namespace,
            steps: self.steps.len(),
            steps_digest: steps_digest(self.steps.iter().map(|s| s.id.as_str())),
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

/// The name of a plan's journal header ConfigMap.
pub fn config_map_name(plan_id: &str) -> String {
    format!("sailplan-journal-{}", short_id(plan_id))
}

/// The name of the ConfigMap holding step `index`'s record.
pub fn step_config_map_name(plan_id: &str, index: usize) -> String {
    format!("{}-{index:04}", config_map_name(plan_id))
}

/// The local directory of a plan's journal under `dir`.
pub fn local_dir(dir: &Path, plan_id: &str) -> PathBuf {
    dir.join(plan_id).join("journal")
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
    /// The local directory (`<dir>/<plan-id>/journal`).
    pub path: PathBuf,
    /// Where an earlier version kept the whole journal (`<dir>/<plan-id>/journal.json`).
    legacy_path: PathBuf,
    /// The control-plane namespace of the ConfigMaps.
    pub namespace: String,
    /// The header ConfigMap's name; a step's ConfigMap adds `-<index>`.
    pub name: String,
    /// The plan's id.
    plan_id: String,
}

/// One piece of a journal, as read from a file or a ConfigMap.
enum Piece {
    Header(Header),
    Step(StepPiece),
    Legacy(Journal),
}

/// The pieces of one journal.
#[derive(Default)]
struct Pieces {
    header: Option<Header>,
    steps: Vec<StepPiece>,
    legacy: Option<Journal>,
}

impl Pieces {
    fn add(&mut self, piece: Piece) {
        match piece {
            Piece::Header(header) => self.header = Some(header),
            Piece::Step(step) => self.steps.push(step),
            Piece::Legacy(journal) => self.legacy = Some(journal),
        }
    }

    /// The journal, from its header and records (or, without a header, as an earlier version wrote
    /// it whole).
    fn journal(self, plan: Option<&Plan>) -> Option<Journal> {
        match (self.header, self.legacy) {
            (Some(header), _) => Some(Journal::from_pieces(header, self.steps, plan)),
            (None, Some(mut journal)) => {
                journal.legacy = true;
                Some(journal)
            }
            (None, None) => None,
        }
    }
}

/// The journal piece a ConfigMap holds, if any.
fn piece_of(map: &Value) -> Result<Option<Piece>, serde_json::Error> {
    let data = |key: &str| map.pointer(&format!("/data/{key}")).and_then(Value::as_str);
    Ok(match (data(HEADER_KEY), data(STEP_KEY), data(LEGACY_KEY)) {
        (Some(text), _, _) => Some(Piece::Header(serde_json::from_str(text)?)),
        (None, Some(text), _) => Some(Piece::Step(serde_json::from_str(text)?)),
        (None, None, Some(text)) => Some(Piece::Legacy(serde_json::from_str(text)?)),
        (None, None, None) => None,
    })
}

/// The journals kept in `maps` (ConfigMaps, as `status` reads them from an observation), one per
/// plan; pieces that cannot be read are left out. Steps without a record are pending, with no id.
pub fn from_config_maps<'v>(maps: impl IntoIterator<Item = &'v Value>) -> Vec<Journal> {
    let mut plans: BTreeMap<String, Pieces> = BTreeMap::new();
    for map in maps {
        let Some(plan) =
            map.pointer("/metadata/labels").and_then(|l| l.get(PLAN_LABEL)).and_then(Value::as_str)
        else {
            continue;
        };
        if let Ok(Some(piece)) = piece_of(map) {
            plans.entry(plan.to_string()).or_default().add(piece);
        }
    }
    plans.into_values().filter_map(|pieces| pieces.journal(None)).collect()
}

/// The name of the local file step records are appended to.
pub const STEPS_FILE: &str = "steps.jsonl";

/// Writes `text` to `path` through a partial file, so a reader never sees half of it.
fn write_file(path: &Path, text: &str) -> Result<(), JournalError> {
    let file_error =
        |e: std::io::Error| JournalError::File { path: path.to_path_buf(), message: e.to_string() };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(file_error)?;
    }
    let mut partial = path.as_os_str().to_owned();
    partial.push(".partial");
    std::fs::write(&partial, text).map_err(file_error)?;
    std::fs::rename(&partial, path).map_err(file_error)
}

impl JournalStore {
    /// The store of `plan_id`'s journal under `dir` (`dir/<plan-id>/journal/`) and in `namespace`.
    pub fn new(dir: &Path, plan_id: &str, namespace: &str) -> JournalStore {
        JournalStore {
            path: local_dir(dir, plan_id),
            legacy_path: dir.join(plan_id).join("journal.json"),
            namespace: namespace.to_string(),
            name: config_map_name(plan_id),
            plan_id: plan_id.to_string(),
        }
    }

    fn header_path(&self) -> PathBuf {
        self.path.join("header.json")
    }

    /// Where an earlier version wrote one file per step record.
    fn steps_dir(&self) -> PathBuf {
        self.path.join("steps")
    }

    fn steps_path(&self) -> PathBuf {
        self.path.join(STEPS_FILE)
    }

    fn corrupt(place: &Path, message: impl ToString) -> JournalError {
        JournalError::Corrupt { place: place.display().to_string(), message: message.to_string() }
    }

    /// The local copy, if there is one.
    fn load_local(&self) -> Result<Pieces, JournalError> {
        let read = |path: &Path| match std::fs::read_to_string(path) {
            Ok(text) => Ok(Some(text)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Self::corrupt(path, e)),
        };
        let mut pieces = Pieces::default();
        let header_path = self.header_path();
        if let Some(text) = read(&header_path)? {
            pieces.header = Some(serde_json::from_str(&text).map_err(|e| Self::corrupt(&header_path, e))?);
            let steps = self.steps_dir();
            let entries = match std::fs::read_dir(&steps) {
                Ok(entries) => {
                    entries.collect::<Result<Vec<_>, _>>().map_err(|e| Self::corrupt(&steps, e))?
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
                Err(e) => return Err(Self::corrupt(&steps, e)),
            };
            for entry in entries {
                let path = entry.path();
                if path.extension().and_then(|e| e.to_str()) != Some("json") {
                    continue;
                }
                if let Some(text) = read(&path)? {
                    pieces.steps.push(serde_json::from_str(&text).map_err(|e| Self::corrupt(&path, e))?);
                }
            }
            let path = self.steps_path();
            if let Some(text) = read(&path)? {
                pieces.steps.extend(step_lines(&text).map_err(|e| Self::corrupt(&path, e))?);
            }
        } else if let Some(text) = read(&self.legacy_path)? {
            pieces.legacy =
                Some(serde_json::from_str(&text).map_err(|e| Self::corrupt(&self.legacy_path, e))?);
        }
        Ok(pieces)
    }

    fn cluster_error(&self, name: &str, source: ClusterError) -> JournalError {
        JournalError::Cluster {
            namespace: self.namespace.clone(),
            name: name.to_string(),
            source: Box::new(source),
        }
    }

    /// The in-cluster copy, if there is one.
    async fn load_remote<C: Cluster>(&self, cluster: &C) -> Result<Pieces, JournalError> {
        let selector = format!("{}={},{PLAN_LABEL}={}", MANAGED_BY.0, MANAGED_BY.1, short_id(&self.plan_id));
        let maps = cluster
            .list(&kinds::config_map(), Some(&self.namespace), Some(&selector))
            .await
            .map_err(|e| self.cluster_error(&self.name, e))?;
        let mut pieces = Pieces::default();
        for map in &maps {
            let name = map.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default();
            if name != self.name && !name.starts_with(&format!("{}-", self.name)) {
                continue;
            }
            let piece = piece_of(map).map_err(|e| JournalError::Corrupt {
                place: format!("ConfigMap {}/{name}", self.namespace),
                message: e.to_string(),
            })?;
            if let Some(piece) = piece {
                pieces.add(piece);
            }
        }
        Ok(pieces)
    }

    /// The journal of this plan, from whichever copy got further; `None` when neither exists.
    pub async fn load<C: Cluster>(&self, cluster: &C, plan: &Plan) -> Result<Option<Journal>, JournalError> {
        let local = self.load_local()?.journal(Some(plan));
        let remote = self.load_remote(cluster).await?.journal(Some(plan));
        Ok(newer(local, remote))
    }

    /// Writes one ConfigMap of the journal.
    async fn write_map<C: Cluster>(
        &self,
        cluster: &C,
        name: &str,
        part: &str,
        key: &str,
        text: String,
    ) -> Result<(), JournalError> {
        let map = json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": self.namespace,
                "labels": {MANAGED_BY.0: MANAGED_BY.1, PLAN_LABEL: short_id(&self.plan_id), PART_LABEL: part}},
            "data": {key: text},
        });
        cluster
            .apply(&map, ApplyOptions { dry_run: false, force: true })
            .await
            .map_err(|e| self.cluster_error(name, e))?;
        Ok(())
    }

    /// Writes the header, locally and to the cluster, and rewrites the local step records with one
    /// line per started step (see the module's documentation). A journal an earlier version wrote
    /// whole has every started step's record written to the cluster too; the files of earlier
    /// versions are removed.
    pub async fn save_header<C: Cluster>(
        &self,
        cluster: &C,
        journal: &mut Journal,
    ) -> Result<(), JournalError> {
        journal.updated_at = now();
        let text = serde_json::to_string_pretty(&journal.header()).unwrap_or_default();
        write_file(&self.header_path(), &format!("{text}\n"))?;
        let started = |record: &StepRecord| record.status != StepStatus::Pending || record.attempts > 0;
        let mut lines = String::new();
        for (index, record) in journal.steps.iter().enumerate().filter(|(_, r)| started(r)) {
            lines.push_str(&step_line(&piece(journal, index, record)));
        }
        write_file(&self.steps_path(), &lines)?;
        remove(&self.steps_dir(), |p| std::fs::remove_dir_all(p))?;
        self.write_map(cluster, &self.name, "header", HEADER_KEY, text).await?;
        if journal.legacy {
            for (index, record) in journal.steps.iter().enumerate().filter(|(_, r)| started(r)) {
                self.write_step_map(cluster, &piece(journal, index, record)).await?;
            }
            remove(&self.legacy_path, |p| std::fs::remove_file(p))?;
            journal.legacy = false;
        }
        Ok(())
    }

    /// Writes step `index`'s record, locally (appended) and to the cluster: as much as that one step
    /// records, however long the plan.
    pub async fn save_step<C: Cluster>(
        &self,
        cluster: &C,
        journal: &mut Journal,
        index: usize,
    ) -> Result<(), JournalError> {
        journal.updated_at = now();
        let Some(record) = journal.steps.get(index) else { return Ok(()) };
        let piece = piece(journal, index, record);
        self.append(&step_line(&piece))?;
        self.write_step_map(cluster, &piece).await
    }

    /// Appends `line` to the local step records in one write.
    fn append(&self, line: &str) -> Result<(), JournalError> {
        use std::io::Write as _;
        let path = self.steps_path();
        let file_error =
            |e: std::io::Error| JournalError::File { path: path.clone(), message: e.to_string() };
        let open = || std::fs::OpenOptions::new().create(true).append(true).open(&path);
        let mut file = match open() {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                std::fs::create_dir_all(&self.path).map_err(file_error)?;
                open()
            }
            opened => opened,
        }
        .map_err(file_error)?;
        file.write_all(line.as_bytes()).map_err(file_error)
    }

    /// Writes a step record's ConfigMap.
    async fn write_step_map<C: Cluster>(&self, cluster: &C, piece: &StepPiece) -> Result<(), JournalError> {
        let text = serde_json::to_string_pretty(piece).unwrap_or_default();
        let name = step_config_map_name(&self.plan_id, piece.index);
        self.write_map(cluster, &name, "step", STEP_KEY, text).await
    }
}

/// Step `index`'s record as it is stored on its own, as of the journal's last update.
fn piece(journal: &Journal, index: usize, record: &StepRecord) -> StepPiece {
    StepPiece {
        plan_id: journal.plan_id.clone(),
        index,
        updated_at: journal.updated_at.clone(),
        record: record.clone(),
    }
}

/// A step record as a line of `steps.jsonl`, newline included.
fn step_line(piece: &StepPiece) -> String {
    let mut line = serde_json::to_string(piece).unwrap_or_default();
    line.push('\n');
    line
}

/// The step records of a `steps.jsonl`, in the order they were written. A last line without its
/// newline that cannot be read was cut short by a crash while it was appended, and is left out.
fn step_lines(text: &str) -> Result<Vec<StepPiece>, serde_json::Error> {
    let mut pieces = Vec::new();
    let mut lines = text.split('\n').filter(|l| !l.trim().is_empty()).peekable();
    while let Some(line) = lines.next() {
        match serde_json::from_str(line) {
            Ok(piece) => pieces.push(piece),
            Err(_) if lines.peek().is_none() && !text.ends_with('\n') => {}
            Err(e) => return Err(e),
        }
    }
    Ok(pieces)
}

/// Removes a file or directory an earlier version wrote, if it is there.
fn remove(path: &Path, how: fn(&Path) -> std::io::Result<()>) -> Result<(), JournalError> {
    match how(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(JournalError::File { path: path.to_path_buf(), message: e.to_string() }),
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
    fn pieces_make_the_journal_and_a_status_reads_them_from_config_maps() {
        let plan = plan(&["a", "b", "c"]);
        let mut journal = Journal::new(&plan);
        journal.steps[0].status = StepStatus::Done;
        journal.steps[1].status = StepStatus::Running;
        journal.steps[1].attempts = 1;
        let header = journal.header();
        assert_eq!(header.steps, 3);
        let piece = |index: usize, journal: &Journal| StepPiece {
            plan_id: journal.plan_id.clone(),
            index,
            updated_at: "2030-01-01T00:00:00Z".to_string(),
            record: journal.steps[index].clone(),
        };
        let pieces = vec![piece(0, &journal), piece(1, &journal)];
        let read = Journal::from_pieces(header.clone(), pieces.clone(), Some(&plan));
        assert!(read.matches(&plan));
        assert_eq!(read.steps, journal.steps, "the step without a record is pending, with its id");
        assert_eq!(read.updated_at, "2030-01-01T00:00:00Z", "the newest piece's time");
        // Made for other steps: pending steps get no id, and the journal does not match.
        let other = self::plan(&["a", "b", "x"]);
        assert!(!Journal::from_pieces(header.clone(), pieces.clone(), Some(&other)).matches(&other));

        let map = |name: &str, key: &str, text: String| {
            json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": name, "namespace": "istio-system", "labels": {PLAN_LABEL: "0123456789ab"}},
                "data": {key: text}})
        };
        let maps = [
            map("sailplan-journal-0123456789ab", HEADER_KEY, serde_json::to_string(&header).unwrap()),
            map("sailplan-journal-0123456789ab-0000", STEP_KEY, serde_json::to_string(&pieces[0]).unwrap()),
            map("sailplan-journal-0123456789ab-0001", STEP_KEY, serde_json::to_string(&pieces[1]).unwrap()),
            map("unrelated", "other", String::new()),
        ];
        let found = from_config_maps(&maps);
        assert_eq!(found.len(), 1);
        let statuses: Vec<StepStatus> = found[0].steps.iter().map(|s| s.status).collect();
        assert_eq!(statuses, [StepStatus::Done, StepStatus::Running, StepStatus::Pending]);
        assert_eq!(step_config_map_name("0123456789abcdef", 7), "sailplan-journal-0123456789ab-0007");
    }

    #[tokio::test]
    async fn step_records_are_appended_and_a_line_cut_short_by_a_crash_is_left_out() {
        let dir = tempfile::tempdir().unwrap();
        let plan = plan(&["a", "b"]);
        let namespace =
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "istio-system"}});
        let cluster = crate::cluster::sim::SimCluster::new(&Default::default(), [namespace]);
        let store = JournalStore::new(dir.path(), &plan.metadata.id, "istio-system");
        let mut journal = Journal::new(&plan);
        store.save_header(&cluster, &mut journal).await.unwrap();
        journal.steps[0].status = StepStatus::Running;
        journal.steps[0].attempts = 1;
        store.save_step(&cluster, &mut journal, 0).await.unwrap();
        journal.steps[0].status = StepStatus::Done;
        store.save_step(&cluster, &mut journal, 0).await.unwrap();
        let read = || store.load_local().map(|p| p.journal(Some(&plan)));
        let statuses = |journal: Journal| journal.steps.iter().map(|s| s.status).collect::<Vec<_>>();
        assert_eq!(statuses(read().unwrap().unwrap()), [StepStatus::Done, StepStatus::Pending]);
        let path = store.steps_path();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 2, "one line per save");

        // A crash while a third save was appended: its line is cut short and left out.
        journal.steps[0].status = StepStatus::Failed;
        let line = step_line(&piece(&journal, 0, &journal.steps[0]));
        std::fs::write(&path, format!("{text}{}", &line[..line.len() / 2])).unwrap();
        assert_eq!(statuses(read().unwrap().unwrap()), [StepStatus::Done, StepStatus::Pending]);
        // A broken line with others after it is corruption.
        std::fs::write(&path, format!("{}\n{text}", &line[..line.len() / 2])).unwrap();
        assert!(matches!(read(), Err(JournalError::Corrupt { .. })));

        // Writing the header rewrites the records, one line per started step.
        std::fs::write(&path, &text).unwrap();
        let mut journal = read().unwrap().unwrap();
        store.save_header(&cluster, &mut journal).await.unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 1);
        assert_eq!(statuses(read().unwrap().unwrap()), [StepStatus::Done, StepStatus::Pending]);
        let remote = store.load_remote(&cluster).await.unwrap().journal(Some(&plan)).unwrap();
        assert_eq!(statuses(remote), [StepStatus::Done, StepStatus::Pending]);
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
