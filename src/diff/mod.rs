//! What a plan would change in a cluster: the objects it applies (desired) against the objects that
//! are there (observed, from a live read or a snapshot) and the objects it deletes, as one
//! [`ObjectChange`] per object: create, update, delete or unchanged, with a unified diff of the
//! normalised YAML for updates.
//!
//! A naive comparison of what we render with what the API server returns reports nearly every
//! object as changed: the server adds bookkeeping (`managedFields`, `resourceVersion`, `status`),
//! fills in defaults (`dnsPolicy: ClusterFirst`, `protocol: TCP`), allocates addresses and ports,
//! writes quantities in canonical form (`2048Mi` becomes `2Gi`), and istiod patches its own webhook
//! configurations at run time. An operator reading such a diff learns nothing, so both sides are
//! [normalised](normalize) first and the observed side loses the fields the server filled in
//! ([`defaults`]) before they are compared. Only what the plan would really change is left.
//!
//! Secret values never appear in any output: a Secret is compared, and shown, by its key names only
//! (snapshots record nothing more, see [`crate::collect`]).
//!
//! The work is linear in the number of objects: observed objects are indexed by (API group, kind,
//! namespace, name), objects are compared on all cores, and text is produced only for objects that
//! differ (and, on request, for created and deleted ones).

mod defaults;
mod normalize;

use std::borrow::Borrow;
use std::collections::{HashMap, HashSet};

use owo_colors::OwoColorize;
use serde::Serialize;
use serde_json::Value;
use similar::TextDiff;

use crate::chart::manifest::INSTALL_ORDER;
use crate::cluster::ObjectRef;
use crate::inventory::ObjectId;
use crate::snapshot::Selection;
pub use normalize::{REDACTED, normalize, write_normalized};

/// What the plan does to an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// The object does not exist and the plan creates it.
    Create,
    /// The object exists and the plan changes it.
    Update,
    /// The object exists and the plan deletes it.
    Delete,
    /// The plan leaves the object as it is (or deletes an object that is already gone).
    Unchanged,
}

/// The change to one object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectChange {
    /// What happens to it.
    pub action: Action,
    /// Its `apiVersion` (the planned one for applied objects).
    pub api_version: String,
    /// Which object.
    #[serde(flatten)]
    pub id: ObjectId,
    /// A unified diff of the normalised YAML, observed (`---`) to planned (`+++`); empty for
    /// unchanged objects, and for created and deleted ones unless [`DiffOptions::whole_objects`].
    pub diff: String,
    /// What the comparison could not tell (Secret values), for the reader.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// How to compare.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DiffOptions {
    /// The observed objects went through [`crate::collect::sanitize`] (they come from a snapshot or
    /// from `collect`'s live read): planned objects are then compared as a snapshot would have
    /// recorded them, without environment variable values and CRD schemas, which the observed side
    /// does not have.
    pub sanitized: bool,
    /// Also give created objects (all `+`) and deleted ones (all `-`) a diff, as `kubectl diff`
    /// does. Off, only updates carry text, which keeps large plans fast.
    pub whole_objects: bool,
}

/// Why a comparison could not be made.
#[derive(Debug, thiserror::Error)]
pub enum DiffError {
    /// A planned object lacks its identity.
    #[error("planned object number {index} has no apiVersion, kind or metadata.name")]
    NotAnObject {
        /// Its position among the planned objects, from 1.
        index: usize,
    },
    /// Two planned objects name the same object.
    #[error("the plan applies {object} twice")]
    Duplicate {
        /// The object.
        object: String,
    },
    /// An object could not be written as YAML.
    #[error("cannot show {object} as YAML: {message}")]
    Yaml {
        /// The object.
        object: String,
        /// The emitter's message.
        message: String,
    },
}

/// Counts of changes by action.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Objects to create.
    pub create: usize,
    /// Objects to update.
    pub update: usize,
    /// Objects to delete.
    pub delete: usize,
    /// Objects left as they are.
    pub unchanged: usize,
}

impl Summary {
    /// Counts the changes.
    pub fn of(changes: &[ObjectChange]) -> Summary {
        let mut summary = Summary::default();
        for change in changes {
            *match change.action {
                Action::Create => &mut summary.create,
                Action::Update => &mut summary.update,
                Action::Delete => &mut summary.delete,
                Action::Unchanged => &mut summary.unchanged,
            } += 1;
        }
        summary
    }

    /// Whether anything would change (for `--detailed-exitcode`).
    pub fn has_changes(&self) -> bool {
        self.create + self.update + self.delete > 0
    }
}

/// One line for people: `3 to create, 2 to update, 1 to delete, 40 unchanged`.
pub fn summary_line(summary: &Summary) -> String {
    format!(
        "{} to create, {} to update, {} to delete, {} unchanged",
        summary.create, summary.update, summary.delete, summary.unchanged
    )
}

/// Identifies an object across API versions: (group, kind, namespace, name).
type Key<'a> = (&'a str, &'a str, &'a str, &'a str);

fn group(api_version: &str) -> &str {
    api_version.rsplit_once('/').map_or("", |(g, _)| g)
}

/// A string field (`Value::pointer` allocates for every segment; this runs for every object).
fn field<'v>(object: &'v Value, path: &[&str]) -> Option<&'v str> {
    path.iter().try_fold(object, |value, key| value.get(key))?.as_str()
}

fn key_of(object: &Value) -> Option<Key<'_>> {
    let kind = field(object, &["kind"]).filter(|k| !k.is_empty())?;
    key_of_kind(object, kind)
}

fn key_of_kind<'v>(object: &'v Value, kind: &'v str) -> Option<Key<'v>> {
    let metadata = object.get("metadata")?;
    let name = field(metadata, &["name"]).filter(|n| !n.is_empty())?;
    let namespace = field(metadata, &["namespace"]).unwrap_or("");
    Some((group(field(object, &["apiVersion"])?), kind, namespace, name))
}

fn id_of((_, kind, namespace, name): Key) -> ObjectId {
    ObjectId { kind: kind.to_string(), namespace: namespace.to_string(), name: name.to_string() }
}

fn key_of_ref(target: &ObjectRef) -> Key<'_> {
    (group(&target.api_version), &target.kind, target.namespace.as_deref().unwrap_or(""), &target.name)
}

/// One comparison to make.
enum Job<'a> {
    Apply(&'a Value, Option<&'a Value>),
    Delete(&'a ObjectRef, Option<&'a Value>),
}

/// Compares what a plan applies (`desired`, whole objects) and deletes (`deletions`) with what is
/// there (`observed`; objects the plan does not mention are ignored). An object both applied and
/// deleted is compared as applied: that is how the plan leaves it. Deleting an object that is not
/// there changes nothing and is reported as unchanged, with a note.
///
/// The changes come in install order of their kinds (Helm's, as `render` prints them, unknown kinds
/// after by name), then by API group, namespace and name, whatever the input order: the same inputs
/// give the same output.
pub fn compare<O: Borrow<Value>>(
    desired: &[Value],
    observed: &[O],
    deletions: &[ObjectRef],
    options: &DiffOptions,
) -> Result<Vec<ObjectChange>, DiffError> {
    let mut planned: HashSet<Key> = HashSet::with_capacity(desired.len());
    let mut keys = Vec::with_capacity(desired.len());
    for (position, object) in desired.iter().enumerate() {
        let key = key_of(object).ok_or(DiffError::NotAnObject { index: position + 1 })?;
        if !planned.insert(key) {
            return Err(DiffError::Duplicate { object: id_of(key).to_string() });
        }
        keys.push(key);
    }
    // Only objects of kinds the plan touches are indexed: in a large cluster most objects are
    // Pods, which a plan does not apply, and reading an object's identity is a few cache misses.
    let kinds: HashSet<&str> =
        planned.iter().map(|k| k.1).chain(deletions.iter().map(|d| d.kind.as_str())).collect();
    let mut index: HashMap<Key, &Value> = HashMap::with_capacity(desired.len() + deletions.len());
    for object in observed.iter().map(Borrow::borrow) {
        if let Some(kind) = field(object, &["kind"]).filter(|k| kinds.contains(k))
            && let Some(key) = key_of_kind(object, kind)
        {
            index.insert(key, object);
        }
    }
    let mut jobs = Vec::with_capacity(desired.len() + deletions.len());
    for (object, key) in desired.iter().zip(&keys) {
        jobs.push(Job::Apply(object, index.get(key).copied()));
    }
    let mut deleted = HashSet::new();
    for target in deletions {
        let key = key_of_ref(target);
        if !planned.contains(&key) && deleted.insert(key) {
            jobs.push(Job::Delete(target, index.get(&key).copied()));
        }
    }
    let mut changes = crate::parallel::map(
        &jobs,
        |_| 1,
        |job| match job {
            Job::Apply(desired, observed) => compare_one(desired, *observed, options),
            Job::Delete(target, observed) => deletion(target, *observed, options),
        },
    )?;
    changes.sort_by_cached_key(|c| {
        let rank = INSTALL_ORDER.iter().position(|k| *k == c.id.kind).unwrap_or(INSTALL_ORDER.len());
        (
            rank,
            c.id.kind.clone(),
            group(&c.api_version).to_string(),
            c.id.namespace.clone(),
            c.id.name.clone(),
        )
    });
    Ok(changes)
}

/// The observed objects [`compare`] looks at for these planned objects and deletions: compared
/// with a snapshot read with this selection, they give the same changes as with the whole snapshot.
pub fn selection(desired: &[Value], deletions: &[ObjectRef]) -> Selection {
    let owned = |(group, kind, namespace, name): Key| {
        (group.to_string(), kind.to_string(), namespace.to_string(), name.to_string())
    };
    Selection::of(desired.iter().filter_map(key_of).chain(deletions.iter().map(key_of_ref)).map(owned))
}

/// Compares one planned object with what is there (`None`: nothing).
pub fn compare_one(
    desired: &Value,
    observed: Option<&Value>,
    options: &DiffOptions,
) -> Result<ObjectChange, DiffError> {
    let id = key_of(desired).map_or_else(|| ObjectId::of(desired), id_of);
    let planned = if options.sanitized {
        let mut copy = desired.clone();
        crate::collect::sanitize(&mut copy);
        normalize(&copy)
    } else {
        normalize(desired)
    };
    let (action, diff) = match observed {
        None if options.whole_objects => (Action::Create, unified(&id, "", &to_yaml(&id, &planned)?)),
        None => (Action::Create, String::new()),
        Some(observed) => {
            let mut current = normalize(observed);
            if !same(&current, &planned) {
                defaults::strip(&mut current, &planned);
            }
            if same(&current, &planned) {
                (Action::Unchanged, String::new())
            } else {
                (Action::Update, unified(&id, &to_yaml(&id, &current)?, &to_yaml(&id, &planned)?))
            }
        }
    };
    let api_version = field(desired, &["apiVersion"]).unwrap_or("").to_string();
    let notes = secret_notes(&id);
    Ok(ObjectChange { action, api_version, id, diff, notes })
}

fn deletion(
    target: &ObjectRef,
    observed: Option<&Value>,
    options: &DiffOptions,
) -> Result<ObjectChange, DiffError> {
    let id = ObjectId {
        kind: target.kind.clone(),
        namespace: target.namespace.clone().unwrap_or_default(),
        name: target.name.clone(),
    };
    let mut notes = secret_notes(&id);
    let (action, diff) = match observed {
        None => {
            notes.push("not in the cluster: nothing to delete".to_string());
            (Action::Unchanged, String::new())
        }
        Some(observed) if options.whole_objects => {
            (Action::Delete, unified(&id, &to_yaml(&id, &normalize(observed))?, ""))
        }
        Some(_) => (Action::Delete, String::new()),
    };
    Ok(ObjectChange { action, api_version: target.api_version.clone(), id, diff, notes })
}

/// Equality of two normalised values, whose maps are sorted alike: pairwise in order, which is
/// much cheaper than looking every key up in the other map.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Object(a), Value::Object(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|((ka, va), (kb, vb))| ka == kb && same(va, vb))
        }
        (Value::Array(a), Value::Array(b)) => a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same(x, y)),
        _ => a == b,
    }
}

fn secret_notes(id: &ObjectId) -> Vec<String> {
    if id.kind == "Secret" {
        vec!["Secret values are neither shown nor compared: only key names are".to_string()]
    } else {
        Vec::new()
    }
}

fn to_yaml(id: &ObjectId, value: &Value) -> Result<String, DiffError> {
    crate::yaml::to_string(value)
        .map_err(|e| DiffError::Yaml { object: id.to_string(), message: e.to_string() })
}

/// A unified diff with three lines of context, headed `--- observed <object>` and
/// `+++ planned <object>`.
fn unified(id: &ObjectId, old: &str, new: &str) -> String {
    TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(&format!("observed {id}"), &format!("planned {id}"))
        .to_string()
}

/// Colours a unified diff for a terminal: removed lines red, added lines green, hunk headers cyan,
/// file headers bold. With `colour` false the text is returned as it is; whether to colour (a
/// terminal, `NO_COLOR`) is the caller's decision.
pub fn colorize(diff: &str, colour: bool) -> String {
    if !colour {
        return diff.to_string();
    }
    let mut out = String::with_capacity(diff.len() + diff.len() / 4);
    for line in diff.split_inclusive('\n') {
        let (body, end) = match line.strip_suffix('\n') {
            Some(body) => (body, "\n"),
            None => (line, ""),
        };
        let painted = if body.starts_with("---") || body.starts_with("+++") {
            body.bold().to_string()
        } else if body.starts_with("@@") {
            body.cyan().to_string()
        } else if body.starts_with('-') {
            body.red().to_string()
        } else if body.starts_with('+') {
            body.green().to_string()
        } else {
            body.to_string()
        };
        out.push_str(&painted);
        out.push_str(end);
    }
    out
}

#[cfg(test)]
mod tests;
