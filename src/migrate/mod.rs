//! Versioned migrations: declarative metadata in `migrations/<id>.yaml` (version windows, phase,
//! order, backups, gates) and a transform in Rust registered under the same id. A transform is a pure
//! function from observed objects to a change set (objects to create, update and delete, what to back
//! up, findings for what cannot be converted, gates), so it runs the same offline over YAML files,
//! against a snapshot, or as a step of an upgrade plan; the change set carries its own undo.

pub mod authn;
pub mod mixer;
pub mod sds;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::analyze::Finding;
use crate::assets;

/// The annotation on every object a migration generates, naming the object(s) it was converted from.
pub const CONVERTED_FROM_ANNOTATION: &str = "sailplan.dev/converted-from";

/// When in an upgrade a migration runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    /// Before the new control plane is installed.
    BeforeControlPlane,
    /// After the new control plane is installed and healthy.
    AfterControlPlane,
    /// At the end, once nothing uses what it removes (may be a separate apply).
    Finalize,
}

impl Phase {
    /// The phase as written in migration files.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::BeforeControlPlane => "before-control-plane",
            Phase::AfterControlPlane => "after-control-plane",
            Phase::Finalize => "finalize",
        }
    }
}

/// A migration's metadata, from `migrations/<id>.yaml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MigrationInfo {
    /// The id the transform is registered under.
    pub id: String,
    /// One line.
    pub title: String,
    /// What it does, for operators.
    pub description: String,
    /// Installed versions it converts from (a version range).
    pub source: String,
    /// Versions it converts to (a version range).
    pub target: String,
    /// When it runs.
    pub phase: Phase,
    /// Order among migrations of the same phase (lower first).
    pub order: u32,
    /// Migrations that must run first.
    #[serde(default)]
    pub requires: Vec<String>,
    /// Whether it backs up what it replaces or deletes.
    pub backs_up: bool,
    /// What it looks for.
    #[serde(default)]
    pub detects: Vec<String>,
    /// Gates to run after it.
    #[serde(default)]
    pub gates: Vec<String>,
    /// What its finalize part removes, after a backup (empty when it removes nothing).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub finalize: Vec<String>,
}

/// The choices the migration spec leaves to the operator. Every default is the safe one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Options {
    /// Convert alpha "mTLS off" (a policy without peers) to DISABLE instead of PERMISSIVE.
    #[serde(default)]
    pub literal_mtls_off: bool,
    /// Let CORS preflight (OPTIONS) requests through the DENY policies made from JWT origins, as the
    /// alpha JWT filter did.
    #[serde(default)]
    pub exempt_options: bool,
    /// Emit what could be converted from a source object even when another part of it could not.
    #[serde(default)]
    pub allow_partial: bool,
}

/// What a transform reads.
#[derive(Debug, Clone)]
pub struct Input<'a> {
    /// The objects to convert plus context (Deployments, Services, Pods, Secrets).
    pub objects: &'a [&'a Value],
    /// The Istio version being upgraded to.
    pub target: semver::Version,
    /// The operator's choices.
    pub options: Options,
}

impl<'a> Input<'a> {
    /// An input with the default (safe) options.
    pub fn new(objects: &'a [&'a Value], target: semver::Version) -> Self {
        Input { objects, target, options: Options::default() }
    }
}

/// What a transform produces.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChangeSet {
    /// New objects.
    pub create: Vec<Value>,
    /// Replacements for existing objects (whole objects).
    pub update: Vec<Value>,
    /// Existing objects to delete.
    pub delete: Vec<Value>,
    /// Objects to back up before anything changes (the originals of updates and deletes).
    pub backup: Vec<Value>,
    /// What could not be converted automatically, and what needs a human.
    pub findings: Vec<Finding>,
    /// Gates to run after applying.
    pub gates: Vec<String>,
    /// Values for the new control plane (the istiod chart's values tree), merged over the plan's
    /// values; `Value::Null` when the migration changes none.
    pub values: Value,
}

/// A transform, registered under a migration id.
pub trait Transform: Sync {
    /// Converts `input`: the part that runs in the migration's phase.
    fn run(&self, input: &Input<'_>) -> ChangeSet;

    /// The part that runs at finalize, once nothing uses what it removes (legacy objects to delete
    /// after a backup). Most migrations remove nothing.
    fn finalize(&self, _input: &Input<'_>) -> ChangeSet {
        ChangeSet::default()
    }
}

/// A migration: its metadata and its transform.
pub struct Migration {
    /// Metadata.
    pub info: MigrationInfo,
    /// The transform.
    pub transform: &'static dyn Transform,
}

/// A migration file or registry that is inconsistent (a build defect, caught by tests).
#[derive(Debug, thiserror::Error)]
#[error("migration {id}: {message}")]
pub struct MigrationError {
    /// The migration.
    pub id: String,
    /// What is wrong.
    pub message: String,
}

fn transform_for(id: &str) -> Option<&'static dyn Transform> {
    match id {
        "meshpolicy-to-peerauthentication" => Some(&authn::MeshPolicyToPeerAuthentication),
        "mixer-to-telemetry-v2" => Some(&mixer::MixerToTelemetryV2),
        "sds-enablement" => Some(&sds::SdsEnablement),
        _ => None,
    }
}

/// Every migration, by phase and order.
pub fn all() -> Result<Vec<Migration>, MigrationError> {
    let mut out = Vec::new();
    for file in assets::MIGRATIONS.files() {
        let name = file.path().file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_string();
        let text = file.contents_utf8().unwrap_or_default();
        let info: MigrationInfo = serde_saphyr::from_str(text)
            .map_err(|e| MigrationError { id: name.clone(), message: e.to_string() })?;
        if info.id != name {
            return Err(MigrationError { id: name, message: format!("the file declares id {:?}", info.id) });
        }
        for range in [&info.source, &info.target] {
            crate::version::Constraint::parse(range)
                .map_err(|e| MigrationError { id: name.clone(), message: e.to_string() })?;
        }
        let transform = transform_for(&info.id).ok_or_else(|| MigrationError {
            id: name.clone(),
            message: "no transform is registered under this id".to_string(),
        })?;
        out.push(Migration { info, transform });
    }
    out.sort_by(|a, b| {
        (a.info.phase, a.info.order, &a.info.id).cmp(&(b.info.phase, b.info.order, &b.info.id))
    });
    Ok(out)
}

/// The identity of an object: apiVersion group, kind, namespace, name.
fn key(object: &Value) -> (String, String, String, String) {
    let text = |p: &str| object.pointer(p).and_then(Value::as_str).unwrap_or("").to_string();
    let api = text("/apiVersion");
    let group = api.rsplit_once('/').map_or(String::new(), |(g, _)| g.to_string());
    (group, text("/kind"), text("/metadata/namespace"), text("/metadata/name"))
}

impl ChangeSet {
    /// The object set after applying the change set to `objects`.
    pub fn apply(&self, objects: &[Value]) -> Vec<Value> {
        let mut by_key: BTreeMap<_, Value> = objects.iter().map(|o| (key(o), o.clone())).collect();
        for object in &self.delete {
            by_key.remove(&key(object));
        }
        for object in self.update.iter().chain(&self.create) {
            by_key.insert(key(object), object.clone());
        }
        by_key.into_values().collect()
    }

    /// The object set after undoing the change set: created objects go, backups come back.
    pub fn undo(&self, objects: &[Value]) -> Vec<Value> {
        let mut by_key: BTreeMap<_, Value> = objects.iter().map(|o| (key(o), o.clone())).collect();
        for object in &self.create {
            by_key.remove(&key(object));
        }
        for object in &self.backup {
            by_key.insert(key(object), object.clone());
        }
        by_key.into_values().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_migration_file_has_a_transform_and_valid_ranges() {
        let ids: Vec<String> = all().unwrap().into_iter().map(|m| m.info.id).collect();
        assert_eq!(ids, ["meshpolicy-to-peerauthentication", "mixer-to-telemetry-v2", "sds-enablement"]);
    }
}
