//! The simulated cluster `rehearse` runs a plan against: an in-memory [`Cluster`] built from a
//! snapshot, so the very executor and gates `apply` uses run unchanged, offline, and show what the
//! upgrade would do to that cluster.
//!
//! The store keeps objects by group, kind, namespace and name, gives every write a new
//! `resourceVersion`, counts `metadata.generation` up when anything but metadata and status changes,
//! and tells watchers about every change. Writes follow the API: create refuses an existing object,
//! replace refuses a stale `resourceVersion`, namespaced objects need their namespace, and deletes
//! take dependents along (a workload's pods, a namespace's objects, a CRD's objects). Server-side
//! apply is simplified to what sailplan's plans need ([`merge`]), discovery to a fixed set of
//! built-in kinds plus CRDs ([`discovery`]), and controllers and the sidecar injector act at once
//! ([`controllers`]).
//!
//! The simulation holds what it is given: a snapshot's Secrets have key names but no values, and
//! `rehearse` fills those in before building it.

mod controllers;
mod discovery;
mod merge;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use futures::StreamExt;
use futures::stream::BoxStream;
use serde_json::{Value, json};
use tokio::sync::broadcast;

use self::controllers::Mesh;
use self::discovery::Served;
use self::merge::{Selector, service_selects, workload_selects};
use super::{ApplyOptions, Cluster, ClusterError, Discovered, ObjectRef, Propagation, Resource, WatchEvent};
use crate::inventory::{lookup, str_of};
use crate::snapshot::{Snapshot, SnapshotInfo};

/// The Kubernetes version reported when the snapshot does not say.
const DEFAULT_KUBERNETES: semver::Version = semver::Version::new(1, 33, 0);
/// How many changes a slow watcher may fall behind before it misses some.
const WATCH_BUFFER: usize = 4096;

/// (API group, kind).
type GroupKind = (String, String);
/// (namespace, "" for cluster-scoped objects; name).
type Name = (String, String);

/// One stored object and what sailplan last applied of it (see [`merge`]). Both are shared, not
/// copied, by whoever holds them: a stored version is never changed, only replaced by a new one.
#[derive(Debug, Clone)]
struct Entry {
    object: Arc<Value>,
    applied: Option<Arc<Value>>,
}

/// A change, as watchers receive it: the object as stored (or as it was when deleted).
#[derive(Debug, Clone)]
struct Change {
    group: String,
    kind: String,
    namespace: String,
    deleted: bool,
    object: Arc<Value>,
}

/// The in-memory cluster.
pub struct SimCluster {
    state: Mutex<State>,
    events: broadcast::Sender<Change>,
    kubernetes: semver::Version,
}

#[derive(Default)]
struct State {
    served: Served,
    objects: HashMap<GroupKind, BTreeMap<Name, Entry>>,
    resource_version: u64,
    uids: u64,
    ips: u32,
    /// The control planes and tags, read again after a change to them.
    mesh: Option<Mesh>,
}

/// The time now, as the API server writes timestamps.
fn now() -> String {
    crate::apply::journal::now()
}

fn group_of(api_version: &str) -> &str {
    api_version.rsplit_once('/').map_or("", |(group, _)| group)
}

fn key_of(object: &Value) -> Option<(GroupKind, Name)> {
    let reference = ObjectRef::of(object)?;
    Some(reference_key(&reference))
}

fn reference_key(reference: &ObjectRef) -> (GroupKind, Name) {
    (
        (group_of(&reference.api_version).to_string(), reference.kind.clone()),
        (reference.namespace.clone().unwrap_or_default(), reference.name.clone()),
    )
}

fn not_found(verb: &str, kind: &str, namespace: &str, name: &str) -> ClusterError {
    ClusterError::Api {
        verb: verb.to_string(),
        resource: kind.to_string(),
        namespace: (!namespace.is_empty()).then(|| namespace.to_string()),
        code: 404,
        message: format!("{kind} {name:?} not found"),
    }
}

/// Whether two versions of an object differ in more than metadata and status (a new generation).
fn spec_changed(old: &Value, new: &Value) -> bool {
    fn rest(object: &Value) -> BTreeMap<&str, &Value> {
        object
            .as_object()
            .map(|map| {
                map.iter()
                    .filter(|(k, _)| !matches!(k.as_str(), "metadata" | "status" | "apiVersion" | "kind"))
                    .map(|(k, v)| (k.as_str(), v))
                    .collect()
            })
            .unwrap_or_default()
    }
    rest(old) != rest(new)
}

const WORKLOADS: [&str; 3] = ["Deployment", "StatefulSet", "DaemonSet"];

/// Whether a change to this object can change which control planes inject or which tags exist.
fn touches_mesh(kind: &str, object: &Value) -> bool {
    kind == "MutatingWebhookConfiguration"
        || (kind == "Deployment" && {
            let name = str_of(object, "/metadata/name");
            name.starts_with("istiod")
                || name == "istio-sidecar-injector"
                || crate::inventory::label(object, "app") == Some("istiod")
        })
}

impl SimCluster {
    /// A cluster holding the snapshot's objects, serving its Istio kinds and the built-in ones.
    pub fn from_snapshot(snapshot: &Snapshot) -> SimCluster {
        SimCluster::new(&snapshot.info, snapshot.objects.iter().cloned())
    }

    /// A cluster holding `objects`, of a cluster `info` describes.
    pub fn new<O: Into<Arc<Value>>>(info: &SnapshotInfo, objects: impl IntoIterator<Item = O>) -> SimCluster {
        let kubernetes = info
            .kubernetes_version
            .as_deref()
            .and_then(|v| crate::version::parse_lenient(v).ok())
            .unwrap_or(DEFAULT_KUBERNETES);
        let mut state = State { served: Served::new(&info.served), ..State::default() };
        for shared in objects {
            let mut shared: Arc<Value> = shared.into();
            let Some((group_kind, name)) = key_of(&shared) else { continue };
            state.resource_version += 1;
            state.uids += 1;
            // Free when the objects are handed over (a rehearsal's); a copy when they are shared.
            let object = Arc::make_mut(&mut shared);
            let metadata = &mut object["metadata"];
            metadata["resourceVersion"] = json!(state.resource_version.to_string());
            if metadata.get("uid").is_none() {
                metadata["uid"] = json!(format!("sim-{:012}", state.uids));
            }
            if metadata.get("generation").is_none() {
                metadata["generation"] = json!(1);
            }
            if group_kind.1 == "CustomResourceDefinition" {
                state.served.add_crd(object);
                if lookup(object, "/status/conditions").is_none() {
                    object["status"] = controllers::crd_status(object);
                }
            }
            state
                .objects
                .entry(group_kind)
                .or_default()
                .insert(name, Entry { object: shared, applied: None });
        }
        let (events, _) = broadcast::channel(WATCH_BUFFER);
        SimCluster { state: Mutex::new(state), events, kubernetes }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The stored object of `kind` named `name` (in `namespace`), in any version of its group.
    pub fn object(&self, kind: &str, namespace: Option<&str>, name: &str) -> Option<Arc<Value>> {
        let state = self.lock();
        let key = (namespace.unwrap_or("").to_string(), name.to_string());
        state
            .objects
            .iter()
            .filter(|((_, k), _)| k == kind)
            .find_map(|(_, objects)| objects.get(&key))
            .map(|e| Arc::clone(&e.object))
    }

    /// Every stored object, as the store holds it.
    pub fn objects(&self) -> Vec<Arc<Value>> {
        let state = self.lock();
        state.objects.values().flat_map(|objects| objects.values().map(|e| Arc::clone(&e.object))).collect()
    }

    /// Writes one object as `how` says, under the store's rules.
    fn write(&self, verb: &str, object: &Value, how: Write<'_>) -> Result<Arc<Value>, ClusterError> {
        let reference = ObjectRef::of(object).ok_or_else(|| ClusterError::Invalid {
            object: "an object".to_string(),
            message: "apiVersion, kind and metadata.name are required".to_string(),
        })?;
        let mut state = self.lock();
        if !state.served.serves(&reference.api_version, &reference.kind) {
            return Err(ClusterError::UnknownKind {
                api_version: reference.api_version,
                kind: reference.kind,
            });
        }
        let ((group, kind), (namespace, name)) = reference_key(&reference);
        let namespaced = state.served.namespaced(&group, &kind).unwrap_or(true);
        if namespaced && namespace.is_empty() {
            return Err(ClusterError::Invalid {
                object: reference.to_string(),
                message: "a namespaced object needs metadata.namespace".to_string(),
            });
        }
        if namespaced
            && state
                .get(&(String::new(), "Namespace".to_string()), &(String::new(), namespace.clone()))
                .is_none()
        {
            return Err(not_found(verb, "Namespace", "", &namespace));
        }
        let group_kind = (group, kind);
        let key = (if namespaced { namespace } else { String::new() }, name);
        let old = state.get(&group_kind, &key).cloned();
        let missing = || not_found(verb, &group_kind.1, &key.0, &key.1);
        let (mut new, applied, dry_run) = match (how, &old) {
            (Write::Create, Some(_)) => {
                return Err(ClusterError::AlreadyExists { object: reference.to_string() });
            }
            (Write::Create, None) => (crate::cluster::applicable(object.clone()), None, false),
            (Write::Replace | Write::Patch(_), None) => return Err(missing()),
            (Write::Replace, Some(old)) => {
                let sent = lookup(object, "/metadata/resourceVersion").and_then(Value::as_str);
                let current = lookup(&old.object, "/metadata/resourceVersion").and_then(Value::as_str);
                if sent.is_some() && sent != current {
                    return Err(ClusterError::Conflict {
                        object: reference.to_string(),
                        message: format!(
                            "the object has been modified; resourceVersion is {} now, {} was sent",
                            current.unwrap_or(""),
                            sent.unwrap_or("")
                        ),
                    });
                }
                let mut new = crate::cluster::applicable(object.clone());
                if let Some(status) = old.object.get("status") {
                    new["status"] = status.clone();
                }
                (new, old.applied.clone(), false)
            }
            (Write::Apply { dry_run }, old) => {
                let applied = Arc::new(crate::cluster::applicable(object.clone()));
                let new = match old {
                    Some(old) => {
                        let mut new = Value::clone(&old.object);
                        merge::server_side_apply(&mut new, old.applied.as_deref(), &applied);
                        new
                    }
                    None => Value::clone(&applied),
                };
                (new, Some(applied), dry_run)
            }
            (Write::Patch(patch), Some(old)) => {
                let mut new = Value::clone(&old.object);
                merge::merge_patch(&mut new, patch);
                // A patch of `managedFields` is sailplan taking over an installer's fields (see
                // `apply::takeover`): from now on what sailplan's applies leave out is removed, as if
                // sailplan had applied the object as it stands. Field ownership itself is not stored.
                let applied = match lookup(patch, "/metadata/managedFields") {
                    Some(_) => {
                        if let Some(metadata) = new.get_mut("metadata").and_then(Value::as_object_mut) {
                            metadata.remove("managedFields");
                        }
                        Some(Arc::new(crate::cluster::applicable(Value::clone(&old.object))))
                    }
                    None => old.applied.clone(),
                };
                (new, applied, false)
            }
        };
        if let Some(metadata) = new.get_mut("metadata").and_then(Value::as_object_mut) {
            if namespaced {
                metadata.insert("namespace".to_string(), json!(key.0));
            } else {
                metadata.remove("namespace");
            }
        }
        let old = old.map(|e| e.object);
        state.stamp(old.as_deref(), &mut new);
        if dry_run {
            return Ok(Arc::new(new));
        }
        Ok(state.commit(&self.events, group_kind, key, old.as_deref(), new, applied))
    }
}

/// How a write builds the stored object.
#[derive(Debug, Clone, Copy)]
enum Write<'a> {
    /// A new object.
    Create,
    /// The whole object, optimistically.
    Replace,
    /// Server-side apply.
    Apply { dry_run: bool },
    /// A JSON merge patch.
    Patch(&'a Value),
}

impl State {
    fn get(&self, group_kind: &GroupKind, key: &Name) -> Option<&Entry> {
        self.objects.get(group_kind).and_then(|objects| objects.get(key))
    }

    /// Sets the server's metadata on a new version of an object: uid and creation time (kept from
    /// the old version), generation (counted up when more than metadata and status changed).
    fn stamp(&mut self, old: Option<&Value>, new: &mut Value) {
        let field = |object: Option<&Value>, key: &str| {
            object.and_then(|o| lookup(o, &format!("/metadata/{key}"))).cloned()
        };
        let uid = field(old, "uid").unwrap_or_else(|| {
            self.uids += 1;
            json!(format!("sim-{:012}", self.uids))
        });
        let created = field(old, "creationTimestamp").unwrap_or_else(|| json!(now()));
        let generation = match old {
            None => 1,
            Some(old) => {
                let before = lookup(old, "/metadata/generation").and_then(Value::as_i64).unwrap_or(1);
                before + i64::from(spec_changed(old, new))
            }
        };
        let metadata = &mut new["metadata"];
        metadata["uid"] = uid;
        metadata["creationTimestamp"] = created;
        metadata["generation"] = json!(generation);
    }

    /// Stores a new version of an object (a new resourceVersion), tells watchers, and lets the
    /// controllers react.
    fn commit(
        &mut self,
        events: &broadcast::Sender<Change>,
        group_kind: GroupKind,
        key: Name,
        old: Option<&Value>,
        mut new: Value,
        applied: Option<Arc<Value>>,
    ) -> Arc<Value> {
        let kind = group_kind.1.clone();
        if touches_mesh(&kind, &new) || old.is_some_and(|o| touches_mesh(&kind, o)) {
            self.mesh = None;
        }
        // A workload whose pods change rolls out at once: it is stored with the finished rollout's
        // status, after its new pods.
        let rolled_out = WORKLOADS.contains(&kind.as_str())
            && group_kind.0 == "apps"
            && old.is_none_or(|old| {
                ["/spec/template", "/spec/replicas"].iter().any(|p| lookup(old, p) != lookup(&new, p))
            });
        let mut refresh = None;
        if rolled_out {
            let (status, changed) = self.roll_out(events, &group_kind, &key, &new);
            new["status"] = status;
            refresh = Some(changed);
        }
        let mut stored = self.put(events, group_kind.clone(), key.clone(), new, applied);
        match kind.as_str() {
            "CustomResourceDefinition" => {
                self.served.add_crd(&stored);
                let mut established = Value::clone(&stored);
                established["status"] = controllers::crd_status(&stored);
                stored = self.put_status(events, &group_kind, &key, established);
            }
            "Service" if group_kind.0.is_empty() => self.refresh_endpoints(events, &key.0, None),
            _ => {}
        }
        if let Some(changed) = refresh {
            self.refresh_endpoints(events, &key.0, Some(&changed));
        }
        stored
    }

    /// Stores without running controllers; returns the stored object.
    fn put(
        &mut self,
        events: &broadcast::Sender<Change>,
        group_kind: GroupKind,
        key: Name,
        mut object: Value,
        applied: Option<Arc<Value>>,
    ) -> Arc<Value> {
        self.resource_version += 1;
        object["metadata"]["resourceVersion"] = json!(self.resource_version.to_string());
        let object = Arc::new(object);
        if events.receiver_count() > 0 {
            let _ = events.send(Change {
                group: group_kind.0.clone(),
                kind: group_kind.1.clone(),
                namespace: key.0.clone(),
                deleted: false,
                object: Arc::clone(&object),
            });
        }
        let entries = self.objects.entry(group_kind).or_default();
        let applied = match applied {
            Some(applied) => Some(applied),
            None => entries.get(&key).and_then(|e| e.applied.clone()),
        };
        entries.insert(key, Entry { object: Arc::clone(&object), applied });
        object
    }

    /// Stores a status change (same generation).
    fn put_status(
        &mut self,
        events: &broadcast::Sender<Change>,
        group_kind: &GroupKind,
        key: &Name,
        object: Value,
    ) -> Arc<Value> {
        self.put(events, group_kind.clone(), key.clone(), object, None)
    }

    /// Removes an object and tells watchers; returns it.
    fn remove(
        &mut self,
        events: &broadcast::Sender<Change>,
        group_kind: &GroupKind,
        key: &Name,
    ) -> Option<Arc<Value>> {
        let entry = self.objects.get_mut(group_kind)?.remove(key)?;
        if touches_mesh(&group_kind.1, &entry.object) {
            self.mesh = None;
        }
        if events.receiver_count() > 0 {
            let _ = events.send(Change {
                group: group_kind.0.clone(),
                kind: group_kind.1.clone(),
                namespace: key.0.clone(),
                deleted: true,
                object: Arc::clone(&entry.object),
            });
        }
        Some(entry.object)
    }

    /// The objects of a kind in one namespace (or all), in name order.
    fn in_namespace<'s>(&'s self, group_kind: &GroupKind, namespace: Option<&str>) -> Vec<&'s Arc<Value>> {
        let Some(objects) = self.objects.get(group_kind) else { return Vec::new() };
        match namespace {
            None => objects.values().map(|e| &e.object).collect(),
            Some(namespace) => objects
                .range((namespace.to_string(), String::new())..)
                .take_while(|((ns, _), _)| ns == namespace)
                .map(|(_, e)| &e.object)
                .collect(),
        }
    }

    fn mesh(&mut self) -> Mesh {
        if let Some(mesh) = &self.mesh {
            return mesh.clone();
        }
        let deployments = self.in_namespace(&("apps".to_string(), "Deployment".to_string()), None);
        let webhooks = self.in_namespace(
            &("admissionregistration.k8s.io".to_string(), "MutatingWebhookConfiguration".to_string()),
            None,
        );
        let mesh =
            Mesh::read(deployments.into_iter().map(Arc::as_ref), webhooks.into_iter().map(Arc::as_ref));
        self.mesh = Some(mesh.clone());
        mesh
    }

    /// The pods of a workload: those in its namespace its selector selects.
    fn pods_of(&self, workload: &Value, namespace: &str) -> Vec<Name> {
        let selector = lookup(workload, "/spec/selector");
        self.in_namespace(&pod_kind(), Some(namespace))
            .into_iter()
            .filter(|pod| {
                workload_selects(selector, lookup(pod, "/metadata/labels").and_then(Value::as_object))
            })
            .map(|pod| (namespace.to_string(), str_of(pod, "/metadata/name").to_string()))
            .collect()
    }

    /// Replaces the pods of `workload` (about to be stored) with new ones from its template; returns
    /// the status of the finished rollout and the labels of the pods that went and came. The pods
    /// of one rollout differ only in name and IP (and the server's metadata), so one is built from
    /// the template and the rest copy it.
    fn roll_out(
        &mut self,
        events: &broadcast::Sender<Change>,
        group_kind: &GroupKind,
        key: &Name,
        workload: &Value,
    ) -> (Value, Vec<Value>) {
        let namespace = key.0.as_str();
        // The labels of the pods that go and come: only Services selecting them change endpoints.
        let mut changed = Vec::new();
        for pod in self.pods_of(workload, namespace) {
            if let Some(removed) = self.remove(events, &pod_kind(), &pod) {
                changed.push(lookup(&removed, "/metadata/labels").cloned().unwrap_or(Value::Null));
            }
        }
        let mesh = self.mesh();
        let namespace_labels = self
            .get(&(String::new(), "Namespace".to_string()), &(String::new(), namespace.to_string()))
            .and_then(|n| lookup(&n.object, "/metadata/labels").and_then(Value::as_object))
            .cloned();
        let empty = json!({});
        let template = lookup(workload, "/spec/template").unwrap_or(&empty);
        let hash = crate::digest::sha256_hex(template.to_string().as_bytes());
        let hash = &hash[..10];
        let count = controllers::replicas(workload);
        let owner = match group_kind.1.as_str() {
            "StatefulSet" | "DaemonSet" => (group_kind.1.clone(), key.1.clone()),
            _ => ("ReplicaSet".to_string(), format!("{}-{hash}", key.1)),
        };
        let injection = mesh.injection(
            namespace_labels.as_ref(),
            lookup(template, "/metadata/labels").and_then(Value::as_object),
            lookup(template, "/metadata/annotations").and_then(Value::as_object),
        );
        let mut first =
            controllers::pod_from_template(template, namespace, "", (&owner.0, &owner.1), injection, "");
        // Only what a snapshot keeps of a pod: nothing reads more of a simulated pod, and so pods
        // are cheap to copy for each replica, and observing the simulation shares them.
        crate::collect::sanitize(&mut first);
        if group_kind.1 == "Deployment" {
            first["metadata"]["labels"]["pod-template-hash"] = json!(hash);
        }
        let ready = if controllers::pod_ready(&first) { count } else { 0 };
        if count > 0 {
            changed.push(lookup(&first, "/metadata/labels").cloned().unwrap_or(Value::Null));
        }
        for index in 0..count {
            let name = match group_kind.1.as_str() {
                "StatefulSet" => format!("{}-{index}", key.1),
                "DaemonSet" => format!("{}-{}", key.1, suffix(self.uids + index as u64)),
                _ => format!("{}-{hash}-{}", key.1, suffix(self.uids + index as u64)),
            };
            self.ips += 1;
            let ip = format!("10.{}.{}.{}", (self.ips >> 16) & 0xff, (self.ips >> 8) & 0xff, self.ips & 0xff);
            let mut pod = first.clone();
            pod["metadata"]["name"] = json!(name);
            pod["status"]["podIP"] = json!(ip);
            self.stamp(None, &mut pod);
            self.put(events, pod_kind(), (namespace.to_string(), name), pod, None);
        }
        (controllers::workload_status(workload, count, ready), changed)
    }

    /// Rewrites the Endpoints and EndpointSlices of the Services in `namespace` whose ready pods
    /// changed: those selecting any of the `changed` pod labels (every Service when `None`).
    fn refresh_endpoints(
        &mut self,
        events: &broadcast::Sender<Change>,
        namespace: &str,
        changed: Option<&[Value]>,
    ) {
        let services: Vec<Arc<Value>> = self
            .in_namespace(&(String::new(), "Service".to_string()), Some(namespace))
            .into_iter()
            .filter(|s| {
                let selector = lookup(s, "/spec/selector").and_then(Value::as_object);
                selector.is_some_and(|m| !m.is_empty())
                    && changed
                        .is_none_or(|labels| labels.iter().any(|l| service_selects(selector, l.as_object())))
            })
            .cloned()
            .collect();
        if services.is_empty() {
            return;
        }
        let computed: Vec<(Value, Value)> = {
            let pods: Vec<&Value> =
                self.in_namespace(&pod_kind(), Some(namespace)).into_iter().map(Arc::as_ref).collect();
            services.iter().map(|service| controllers::endpoints_of(service, &pods)).collect()
        };
        for (endpoints, slice) in computed {
            for (object, field) in [(endpoints, "subsets"), (slice, "endpoints")] {
                let Some((group_kind, key)) = key_of(&object) else { continue };
                let old = self.get(&group_kind, &key).map(|e| Arc::clone(&e.object));
                if old.as_ref().is_some_and(|o| o.get(field) == object.get(field)) {
                    continue;
                }
                let mut object = object;
                self.stamp(old.as_deref(), &mut object);
                self.put(events, group_kind, key, object, None);
            }
        }
    }

    /// Deletes an object and what depends on it.
    fn delete(
        &mut self,
        events: &broadcast::Sender<Change>,
        group_kind: &GroupKind,
        key: &Name,
        propagation: Propagation,
    ) {
        let Some(object) = self.remove(events, group_kind, key) else { return };
        let namespace = key.0.as_str();
        match (group_kind.0.as_str(), group_kind.1.as_str()) {
            ("apps", kind) if WORKLOADS.contains(&kind) && propagation != Propagation::Orphan => {
                let mut changed = Vec::new();
                for pod in self.pods_of(&object, namespace) {
                    if let Some(removed) = self.remove(events, &pod_kind(), &pod) {
                        changed.push(lookup(&removed, "/metadata/labels").cloned().unwrap_or(Value::Null));
                    }
                }
                self.refresh_endpoints(events, namespace, Some(&changed));
            }
            ("", "Namespace") => {
                let name = key.1.clone();
                let kinds: Vec<GroupKind> = self.objects.keys().cloned().collect();
                for kind in kinds {
                    let keys: Vec<Name> = self
                        .objects
                        .get(&kind)
                        .map(|o| {
                            o.range((name.clone(), String::new())..)
                                .take_while(|((ns, _), _)| *ns == name)
                                .map(|(k, _)| k.clone())
                                .collect()
                        })
                        .unwrap_or_default();
                    for key in keys {
                        self.remove(events, &kind, &key);
                    }
                }
            }
            ("", "Service") => {
                self.remove(events, &(String::new(), "Endpoints".to_string()), key);
                let slice = (namespace.to_string(), format!("{}-sim", key.1));
                self.remove(events, &("discovery.k8s.io".to_string(), "EndpointSlice".to_string()), &slice);
            }
            ("apiextensions.k8s.io", "CustomResourceDefinition") => {
                for resource in self.served.remove_crd(&key.1) {
                    if self.served.namespaced(&resource.group, &resource.kind).is_none() {
                        let kind = (resource.group, resource.kind);
                        let keys: Vec<Name> =
                            self.objects.get(&kind).map(|o| o.keys().cloned().collect()).unwrap_or_default();
                        for key in keys {
                            self.remove(events, &kind, &key);
                        }
                    }
                }
            }
            _ => {}
        }
    }
}

fn pod_kind() -> GroupKind {
    (String::new(), "Pod".to_string())
}

/// Five characters, as Kubernetes ends generated names with.
fn suffix(n: u64) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut n = n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (0..5)
        .map(|_| {
            let c = ALPHABET[(n % ALPHABET.len() as u64) as usize] as char;
            n /= ALPHABET.len() as u64;
            c
        })
        .collect()
}

/// An object as the API returns it for `resource`: at the requested version. The stored version
/// itself when that is the version it is stored at (nearly always: most kinds are served at one).
fn as_served(object: &Arc<Value>, resource: &Resource) -> Arc<Value> {
    let api_version = resource.api_version();
    if object.get("apiVersion").and_then(Value::as_str) == Some(api_version.as_str()) {
        return Arc::clone(object);
    }
    let mut out = Value::clone(object);
    out["apiVersion"] = json!(api_version);
    Arc::new(out)
}

impl Cluster for SimCluster {
    async fn server_version(&self) -> Result<semver::Version, ClusterError> {
        Ok(self.kubernetes.clone())
    }

    async fn discover(&self) -> Result<Discovered, ClusterError> {
        Ok(self.lock().served.discovered())
    }

    async fn get(
        &self,
        resource: &Resource,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<Option<Arc<Value>>, ClusterError> {
        let state = self.lock();
        let namespace = if resource.namespaced { namespace.unwrap_or("") } else { "" };
        let key = (namespace.to_string(), name.to_string());
        Ok(state
            .get(&(resource.group.clone(), resource.kind.clone()), &key)
            .map(|e| as_served(&e.object, resource)))
    }

    async fn list(
        &self,
        resource: &Resource,
        namespace: Option<&str>,
        label_selector: Option<&str>,
    ) -> Result<Vec<Arc<Value>>, ClusterError> {
        let state = self.lock();
        let selector = Selector::parse(label_selector);
        let namespace = if resource.namespaced { namespace } else { None };
        Ok(state
            .in_namespace(&(resource.group.clone(), resource.kind.clone()), namespace)
            .into_iter()
            .filter(|o| selector.matches(o))
            .map(|o| as_served(o, resource))
            .collect())
    }

    async fn apply(&self, object: &Value, options: ApplyOptions) -> Result<Arc<Value>, ClusterError> {
        self.write("apply", object, Write::Apply { dry_run: options.dry_run })
    }

    async fn create(&self, object: &Value) -> Result<Arc<Value>, ClusterError> {
        self.write("create", object, Write::Create)
    }

    async fn replace(&self, object: &Value) -> Result<Arc<Value>, ClusterError> {
        self.write("update", object, Write::Replace)
    }

    async fn merge_patch(&self, target: &ObjectRef, patch: &Value) -> Result<Arc<Value>, ClusterError> {
        let object = json!({"apiVersion": target.api_version, "kind": target.kind,
            "metadata": {"name": target.name, "namespace": target.namespace}});
        self.write("patch", &object, Write::Patch(patch))
    }

    async fn delete(&self, target: &ObjectRef, propagation: Propagation) -> Result<(), ClusterError> {
        let (group_kind, key) = reference_key(target);
        let mut state = self.lock();
        let key = match state.served.namespaced(&group_kind.0, &group_kind.1) {
            Some(false) => (String::new(), key.1),
            _ => key,
        };
        state.delete(&self.events, &group_kind, &key, propagation);
        Ok(())
    }

    fn watch(
        &self,
        resource: &Resource,
        namespace: Option<&str>,
        label_selector: Option<&str>,
    ) -> BoxStream<'static, Result<WatchEvent, ClusterError>> {
        let selector = Selector::parse(label_selector);
        let namespace = if resource.namespaced { namespace.map(str::to_string) } else { None };
        let (initial, receiver) = {
            let state = self.lock();
            let receiver = self.events.subscribe();
            let initial: Vec<Result<WatchEvent, ClusterError>> = state
                .in_namespace(&(resource.group.clone(), resource.kind.clone()), namespace.as_deref())
                .into_iter()
                .filter(|o| selector.matches(o))
                .map(|o| Ok(WatchEvent::Applied(as_served(o, resource))))
                .collect();
            (initial, receiver)
        };
        let resource = resource.clone();
        let changes = futures::stream::unfold(receiver, |mut receiver| async move {
            loop {
                match receiver.recv().await {
                    Ok(change) => return Some((change, receiver)),
                    Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        })
        .filter_map(move |change| {
            let wanted = change.group == resource.group
                && change.kind == resource.kind
                && namespace.as_ref().is_none_or(|n| *n == change.namespace);
            let event = (wanted && selector.matches(&change.object)).then(|| {
                let object = as_served(&change.object, &resource);
                Ok(if change.deleted { WatchEvent::Deleted(object) } else { WatchEvent::Applied(object) })
            });
            futures::future::ready(event)
        });
        futures::stream::iter(initial).chain(changes).boxed()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::collect::{CollectOptions, observe};

    #[tokio::test]
    async fn rolled_out_pods_are_stored_as_a_snapshot_keeps_them_and_observed_without_copies() {
        let info = SnapshotInfo { kubernetes_version: Some("1.33.0".into()), ..SnapshotInfo::default() };
        let cluster = SimCluster::new(
            &info,
            [json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "apps"}})],
        );
        let deployment = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "apps"},
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                "template": {"metadata": {"labels": {"app": "web"}, "annotations": {"prometheus.io/scrape": "true"}},
                    "spec": {"containers": [{"name": "app", "image": "app:1", "resources": {"limits": {"cpu": "1"}},
                        "env": [{"name": "MODE", "valueFrom": {"fieldRef": {"fieldPath": "x"}}}]}]}}}});
        let stored = cluster.apply(&deployment, ApplyOptions::default()).await.unwrap();
        assert_eq!(stored["status"]["readyReplicas"], 2, "stored with its finished rollout: {stored}");
        let pods: Vec<Arc<Value>> = cluster.objects().into_iter().filter(|o| o["kind"] == "Pod").collect();
        assert_eq!(pods.len(), 2);
        for pod in &pods {
            assert!(pod["metadata"]["uid"].is_string() && pod["status"]["podIP"].is_string(), "{pod}");
            assert!(
                pod["spec"]["containers"][0].get("resources").is_none(),
                "only what a snapshot keeps: {pod}"
            );
            assert!(
                pod["metadata"].get("annotations").is_none_or(|a| a.get("prometheus.io/scrape").is_none())
            );
        }
        let options = CollectOptions { istio_namespace: "istio-system".into() };
        let observed = observe(&cluster, &options, &|_, _, _| {}).await.unwrap();
        let observed_pods: Vec<&Arc<Value>> =
            observed.objects.iter().filter(|o| o["kind"] == "Pod").collect();
        assert_eq!(observed_pods.len(), 2);
        for pod in observed_pods {
            assert!(pods.iter().any(|stored| Arc::ptr_eq(stored, pod)), "observed without a copy: {pod}");
        }
    }
}
