//! One trait for everything that reads or writes a cluster. Observing and applying are the only
//! stages that touch a cluster, and they do it through [`Cluster`], so the same code runs against a
//! live API server ([`live::LiveCluster`], on kube-rs) and against an in-memory simulation built
//! from a snapshot ([`sim::SimCluster`], which `rehearse` runs plans against). Objects cross the
//! trait as plain JSON values, the model the rest of sailplan (rendering, diffing, planning) already
//! uses. What a cluster returns is shared (`Arc<Value>`), not owned: the simulation hands out the
//! very versions it stores, so reading thousands of pods for a gate or an observation copies none
//! of them, and a reader that must change an object copies only that one
//! (`Arc::unwrap_or_clone`, free for the live client's objects, which nobody else holds).

pub mod live;
pub mod sim;

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use futures::stream::BoxStream;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The field manager sailplan writes with, so server-side apply knows which fields are ours.
pub const FIELD_MANAGER: &str = "sailplan";

/// `object` as it can be applied (or restored, or planned from what was observed): without what the
/// server sets (resource version, uid, creation time, generation, managed fields, deletion marks,
/// status). An apply that carried them would fail (`managedFields`) or be a precondition
/// (`resourceVersion`, `uid`).
pub fn applicable(mut object: Value) -> Value {
    if let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        for field in [
            "resourceVersion",
            "uid",
            "creationTimestamp",
            "managedFields",
            "generation",
            "selfLink",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
        ] {
            metadata.remove(field);
        }
    }
    if let Some(map) = object.as_object_mut() {
        map.remove("status");
    }
    object
}

/// A kind the cluster serves, as discovery reports it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Resource {
    /// API group ("" for the core group).
    pub group: String,
    /// Version, e.g. `v1beta1`.
    pub version: String,
    /// Kind, e.g. `VirtualService`.
    pub kind: String,
    /// Plural resource name, e.g. `virtualservices`.
    pub plural: String,
    /// Whether objects live in namespaces.
    pub namespaced: bool,
}

impl Resource {
    /// `group/version`, or `version` for the core group.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() { self.version.clone() } else { format!("{}/{}", self.group, self.version) }
    }
}

impl fmt::Display for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.group.is_empty() {
            write!(f, "{}", self.plural)
        } else {
            write!(f, "{}.{}", self.plural, self.group)
        }
    }
}

/// Everything discovery found: every served version of every kind, and which version the server
/// prefers for each group.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Discovered {
    /// Every served (group, version, kind).
    pub resources: Vec<Resource>,
    /// The preferred version of each group.
    pub preferred: std::collections::BTreeMap<String, String>,
}

impl Discovered {
    /// The resource for `kind` in `group` at the group's preferred version (or any served version).
    pub fn find(&self, group: &str, kind: &str) -> Option<&Resource> {
        let preferred = self.preferred.get(group);
        let mut candidates = self.resources.iter().filter(|r| r.group == group && r.kind == kind);
        let first = candidates.next()?;
        if preferred.is_some_and(|p| *p == first.version) {
            return Some(first);
        }
        std::iter::once(first).chain(candidates).find(|r| Some(&r.version) == preferred).or(Some(first))
    }

    /// The resource serving `apiVersion` + `kind` exactly.
    pub fn for_object(&self, api_version: &str, kind: &str) -> Option<&Resource> {
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        self.resources.iter().find(|r| r.group == group && r.version == version && r.kind == kind)
    }
}

/// Names one object (also in plan files and journals).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectRef {
    /// `group/version` or `v1`.
    pub api_version: String,
    /// Kind.
    pub kind: String,
    /// Namespace, for namespaced kinds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Name.
    pub name: String,
}

impl ObjectRef {
    /// The reference of an object (its apiVersion, kind, namespace and name).
    pub fn of(object: &Value) -> Option<ObjectRef> {
        // `lookup`, not `Value::pointer`, which allocates per segment: the planner names every
        // observed object this way.
        let text = |pointer: &str| {
            crate::inventory::lookup(object, pointer).and_then(Value::as_str).map(str::to_string)
        };
        Some(ObjectRef {
            api_version: text("/apiVersion")?,
            kind: text("/kind")?,
            namespace: text("/metadata/namespace").filter(|n| !n.is_empty()),
            name: text("/metadata/name")?,
        })
    }
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{} {}/{} ({})", self.kind, ns, self.name, self.api_version),
            None => write!(f, "{} {} ({})", self.kind, self.name, self.api_version),
        }
    }
}

/// What happens to an object's dependents when it is deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Propagation {
    /// Delete dependents in the background (the API default).
    Background,
    /// Delete dependents first, then the object.
    Foreground,
    /// Leave dependents behind.
    Orphan,
}

/// How to write an object with server-side apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ApplyOptions {
    /// Validate on the server without persisting.
    pub dry_run: bool,
    /// Take over fields owned by other managers instead of failing on conflicts.
    pub force: bool,
}

/// A change seen by a watch.
#[derive(Debug, Clone, PartialEq)]
pub enum WatchEvent {
    /// The object was created or changed (or listed at the start of the watch).
    Applied(Arc<Value>),
    /// The object was deleted.
    Deleted(Arc<Value>),
}

/// Why a cluster operation failed, in words that say what to do.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// No usable connection settings.
    #[error("cannot load cluster connection settings: {message}")]
    Config {
        /// What went wrong (kubeconfig missing, unknown context, …).
        message: String,
    },
    /// The API server could not be reached.
    #[error("cannot reach the Kubernetes API server at {server}: {message}")]
    Unreachable {
        /// The server URL.
        server: String,
        /// The transport error.
        message: String,
    },
    /// The credentials lack a permission.
    #[error("permission denied: cannot {verb} {resource}{}: {message}", in_namespace(namespace.as_deref()))]
    Forbidden {
        /// The API verb (get, list, watch, patch, delete).
        verb: String,
        /// The resource, e.g. `virtualservices.networking.istio.io`.
        resource: String,
        /// The namespace, for namespaced requests.
        namespace: Option<String>,
        /// The server's message.
        message: String,
    },
    /// Server-side apply found fields owned by another manager, or the object changed since it was
    /// read (a replace with a stale `resourceVersion`).
    #[error("conflict writing {object}: {message}")]
    Conflict {
        /// The object.
        object: String,
        /// Which fields and managers conflict, as the server says.
        message: String,
    },
    /// A create found the object already there.
    #[error("{object} already exists")]
    AlreadyExists {
        /// The object.
        object: String,
    },
    /// The server rejected the object as invalid.
    #[error("the API server rejected {object}: {message}")]
    Invalid {
        /// The object.
        object: String,
        /// The validation message.
        message: String,
    },
    /// The cluster does not serve the object's kind.
    #[error("the cluster does not serve {kind} in {api_version}; is its CRD installed?")]
    UnknownKind {
        /// The object's apiVersion.
        api_version: String,
        /// The object's kind.
        kind: String,
    },
    /// Anything else the API server said.
    #[error("{verb} {resource}{} failed: {message}", in_namespace(namespace.as_deref()))]
    Api {
        /// The API verb.
        verb: String,
        /// The resource.
        resource: String,
        /// The namespace, for namespaced requests.
        namespace: Option<String>,
        /// HTTP status code (0 when not from the server).
        code: u16,
        /// The message.
        message: String,
    },
}

fn in_namespace(namespace: Option<&str>) -> String {
    namespace.map(|ns| format!(" in namespace {ns}")).unwrap_or_else(|| " (cluster-wide)".to_string())
}

/// Reads and writes a cluster. Implemented by the live kube-rs client and by the in-memory
/// simulation used for rehearsals.
pub trait Cluster: Send + Sync {
    /// The Kubernetes version of the API server.
    fn server_version(&self) -> impl Future<Output = Result<semver::Version, ClusterError>> + Send;

    /// Every kind the cluster serves, including CRDs registered since the last call.
    fn discover(&self) -> impl Future<Output = Result<Discovered, ClusterError>> + Send;

    /// One object, or `None` when it does not exist.
    fn get(
        &self,
        resource: &Resource,
        namespace: Option<&str>,
        name: &str,
    ) -> impl Future<Output = Result<Option<Arc<Value>>, ClusterError>> + Send;

    /// Objects of a kind, in one namespace or all, optionally filtered by a label selector.
    fn list(
        &self,
        resource: &Resource,
        namespace: Option<&str>,
        label_selector: Option<&str>,
    ) -> impl Future<Output = Result<Vec<Arc<Value>>, ClusterError>> + Send;

    /// Server-side apply of a complete object as the `sailplan` field manager; returns the object as
    /// stored (or as it would be stored, on a dry run).
    fn apply(
        &self,
        object: &Value,
        options: ApplyOptions,
    ) -> impl Future<Output = Result<Arc<Value>, ClusterError>> + Send;

    /// Creates an object that must not exist yet (a lock, a release record); `AlreadyExists` when it
    /// does.
    fn create(&self, object: &Value) -> impl Future<Output = Result<Arc<Value>, ClusterError>> + Send;

    /// Replaces an object read earlier, as a whole; `Conflict` when it changed since (its
    /// `metadata.resourceVersion` no longer matches), so read-modify-write is safe.
    fn replace(&self, object: &Value) -> impl Future<Output = Result<Arc<Value>, ClusterError>> + Send;

    /// A JSON merge patch (RFC 7386, `null` removes a field): for fields other managers own, such as
    /// labels set with kubectl, which server-side apply cannot remove.
    fn merge_patch(
        &self,
        target: &ObjectRef,
        patch: &Value,
    ) -> impl Future<Output = Result<Arc<Value>, ClusterError>> + Send;

    /// Deletes an object; deleting one that does not exist is not an error.
    fn delete(
        &self,
        target: &ObjectRef,
        propagation: Propagation,
    ) -> impl Future<Output = Result<(), ClusterError>> + Send;

    /// Changes to objects of a kind, starting with the current objects (as `Applied`), until dropped.
    fn watch(
        &self,
        resource: &Resource,
        namespace: Option<&str>,
        label_selector: Option<&str>,
    ) -> BoxStream<'static, Result<WatchEvent, ClusterError>>;
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn applicable_objects_lose_what_the_server_sets() {
        let object = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "m", "namespace": "x", "resourceVersion": "5", "uid": "u", "creationTimestamp": "t",
                "managedFields": [], "generation": 2, "labels": {"a": "b"}},
            "data": {"k": "v"}, "status": {}});
        assert_eq!(
            applicable(object),
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "m", "namespace": "x", "labels": {"a": "b"}}, "data": {"k": "v"}})
        );
    }
}
