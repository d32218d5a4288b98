//! Observing a cluster: everything an upgrade needs to know, read through the [`Cluster`] trait into
//! a [`Snapshot`]. `sailplan collect` writes it to a file; `check` and `plan` on a live cluster read
//! the same thing directly, so a snapshot and a live read of one cluster are the same value.
//!
//! Secret values never leave the cluster: Secrets are kept by name, type and key names only, the
//! `last-applied-configuration` annotation (which can hold a Secret's data) is dropped from every
//! object, and environment variable values in pod specs are dropped (names and references stay).
//!
//! Pods are most of a large cluster and each says little an upgrade needs, so a Pod is kept as
//! [`POD_FIELDS`] says: what it runs, what injected it, what it mounts, and whether it is ready.

use std::collections::BTreeSet;
use std::sync::{Arc, OnceLock};

use serde_json::{Map, Value};

use crate::cluster::{Cluster, ClusterError, Discovered, Resource};
use crate::inventory::lookup;
use crate::snapshot::{FORMAT_VERSION, Snapshot, SnapshotInfo};

/// The annotation that lists a Secret's key names in a snapshot.
pub const SECRET_KEYS_ANNOTATION: &str = "sailplan.dev/secret-keys";
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// What to collect.
#[derive(Debug, Clone)]
pub struct CollectOptions {
    /// The control-plane namespace, whose ConfigMaps are collected too.
    pub istio_namespace: String,
}

/// One kind to read, and where.
#[derive(Debug, Clone)]
struct Target {
    resource: Resource,
    namespace: Option<String>,
}

/// The built-in kinds an upgrade needs, as (group, kind), read in every namespace.
const BUILT_IN: [(&str, &str); 9] = [
    ("", "Namespace"),
    ("", "Service"),
    ("", "Pod"),
    ("", "Secret"),
    ("apps", "Deployment"),
    ("apps", "StatefulSet"),
    ("apps", "DaemonSet"),
    ("admissionregistration.k8s.io", "MutatingWebhookConfiguration"),
    ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration"),
];

fn is_istio_group(group: &str) -> bool {
    group == "istio.io" || group.ends_with(".istio.io")
}

/// Kinds read in the control-plane namespace only: what the charts install there beside workloads and
/// Services. A release must adopt or replace them, so the plan has to see them.
const CONTROL_PLANE_NAMESPACED: [(&str, &str); 6] = [
    ("", "ConfigMap"),
    ("", "ServiceAccount"),
    ("rbac.authorization.k8s.io", "Role"),
    ("rbac.authorization.k8s.io", "RoleBinding"),
    ("policy", "PodDisruptionBudget"),
    ("autoscaling", "HorizontalPodAutoscaler"),
];

/// Cluster-wide RBAC kinds, of which only objects named for Istio are kept (a cluster has many).
const ISTIO_NAMED: [(&str, &str); 2] =
    [("rbac.authorization.k8s.io", "ClusterRole"), ("rbac.authorization.k8s.io", "ClusterRoleBinding")];

/// Whether a listed object is kept: of the [`ISTIO_NAMED`] kinds, only those whose name has `istio`.
fn kept(object: &Value) -> bool {
    let kind = object.get("kind").and_then(Value::as_str).unwrap_or_default();
    !ISTIO_NAMED.iter().any(|(_, k)| *k == kind)
        || object.pointer("/metadata/name").and_then(Value::as_str).is_some_and(|n| n.contains("istio"))
}

/// The kinds to read: every Istio kind (once, at its group's preferred version), CRDs, the built-in
/// kinds above, what the charts install in the control-plane namespace, and Istio's cluster RBAC.
fn targets(discovered: &Discovered, options: &CollectOptions) -> Vec<Target> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    let everywhere = |resource: &Resource| Target { resource: resource.clone(), namespace: None };
    for resource in &discovered.resources {
        if is_istio_group(&resource.group)
            && seen.insert((resource.group.clone(), resource.kind.clone()))
            && let Some(preferred) = discovered.find(&resource.group, &resource.kind)
        {
            out.push(everywhere(preferred));
        }
    }
    let mut built_in: Vec<(&str, &str)> = BUILT_IN.to_vec();
    built_in.push(("apiextensions.k8s.io", "CustomResourceDefinition"));
    built_in.extend(ISTIO_NAMED);
    for (group, kind) in built_in {
        if let Some(resource) = discovered.find(group, kind) {
            out.push(everywhere(resource));
        }
    }
    for (group, kind) in CONTROL_PLANE_NAMESPACED {
        if let Some(resource) = discovered.find(group, kind) {
            out.push(Target { resource: resource.clone(), namespace: Some(options.istio_namespace.clone()) });
        }
    }
    out
}

/// Reads the cluster into a snapshot. `progress` is told the name of each kind as it is read.
pub async fn observe(
    cluster: &impl Cluster,
    options: &CollectOptions,
    progress: &(dyn Fn(usize, usize, &str) + Sync),
) -> Result<Snapshot, ClusterError> {
    read(cluster, options, progress, Reading::Everything).await
}

/// Reads what a plan's fingerprint covers ([`crate::plan::fingerprint`]): the snapshot without the
/// kinds whose objects churn on their own (pods, endpoints), which are most of a large cluster and
/// which the fingerprint leaves out anyway. For checking that a plan is still current.
pub async fn observe_configuration(
    cluster: &impl Cluster,
    options: &CollectOptions,
) -> Result<Snapshot, ClusterError> {
    read(cluster, options, &|_, _, _| {}, Reading::Configuration).await
}

/// How much of the cluster to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reading {
    Everything,
    Configuration,
}

async fn read(
    cluster: &impl Cluster,
    options: &CollectOptions,
    progress: &(dyn Fn(usize, usize, &str) + Sync),
    reading: Reading,
) -> Result<Snapshot, ClusterError> {
    let version = cluster.server_version().await?;
    let discovered = cluster.discover().await?;
    let mut targets = targets(&discovered, options);
    if reading == Reading::Configuration {
        targets.retain(|t| !crate::plan::fingerprint::VOLATILE_KINDS.contains(&t.resource.kind.as_str()));
    }
    let mut objects = Vec::new();
    for (done, target) in targets.iter().enumerate() {
        progress(done, targets.len(), &target.resource.to_string());
        let listed = cluster.list(&target.resource, target.namespace.as_deref(), None).await?;
        objects.extend(listed.into_iter().filter(|o| kept(o)).map(sanitized));
    }
    if reading == Reading::Everything {
        objects.extend(webhook_endpoints(cluster, &discovered, &objects).await?);
    }
    progress(targets.len(), targets.len(), "done");
    let served = discovered.resources.into_iter().filter(|r| is_istio_group(&r.group)).collect();
    let info = SnapshotInfo {
        format_version: FORMAT_VERSION,
        kubernetes_version: Some(version.to_string()),
        collected_at: Some(
            k8s_openapi::jiff::Timestamp::now()
                .round(k8s_openapi::jiff::Unit::Second)
                .map_or_else(|_| String::new(), |t| t.to_string()),
        ),
        tool_version: Some(env!("CARGO_PKG_VERSION").to_string()),
        served,
    };
    Ok(Snapshot::new(info, objects))
}

/// The Endpoints of the Services that webhook configurations call, so readiness of webhook
/// back-ends can be judged from a snapshot.
async fn webhook_endpoints(
    cluster: &impl Cluster,
    discovered: &Discovered,
    objects: &[Arc<Value>],
) -> Result<Vec<Arc<Value>>, ClusterError> {
    let Some(endpoints) = discovered.find("", "Endpoints") else { return Ok(Vec::new()) };
    let mut services = BTreeSet::new();
    for object in objects {
        if !matches!(
            object.get("kind").and_then(Value::as_str),
            Some("MutatingWebhookConfiguration" | "ValidatingWebhookConfiguration")
        ) {
            continue;
        }
        for webhook in object.get("webhooks").and_then(Value::as_array).into_iter().flatten() {
            let service = webhook.pointer("/clientConfig/service");
            let text =
                |key: &str| service.and_then(|s| s.get(key)).and_then(Value::as_str).map(str::to_string);
            if let (Some(namespace), Some(name)) = (text("namespace"), text("name")) {
                services.insert((namespace, name));
            }
        }
    }
    let mut out = Vec::new();
    for (namespace, name) in services {
        if let Some(object) = cluster.get(endpoints, Some(&namespace), &name).await? {
            out.push(sanitized(object));
        }
    }
    Ok(out)
}

/// The fields of a Pod a snapshot keeps, as (object path, fields kept there); everything else is
/// dropped. Containers keep `name`, `image` and `ports` (named Service targetPorts resolve through
/// them); volumes keep their name and `secret` (which secrets a pod mounts); owner references keep
/// the owner's kind and name; container statuses keep readiness, restarts and state (crash loops).
/// The API server's identity and version of the pod (`uid`, `resourceVersion`, `generation`) and
/// its IP stay too: they are short, and with them a pod of a rehearsal's simulated cluster (which
/// has them, like any API server's) is already in the form a snapshot keeps, so observing the
/// simulation shares its pods instead of copying them. Besides these, a pod keeps only Istio's
/// annotations (`*istio.io/*`) and its `Ready` condition.
pub const POD_FIELDS: [(&str, &[&str]); 10] = [
    ("", &["apiVersion", "kind", "metadata", "spec", "status"]),
    (
        "/metadata",
        &[
            "name",
            "namespace",
            "uid",
            "resourceVersion",
            "generation",
            "labels",
            "annotations",
            "ownerReferences",
            "creationTimestamp",
        ],
    ),
    ("/metadata/ownerReferences/*", &["kind", "name", "controller"]),
    ("/spec", &["serviceAccountName", "nodeName", "containers", "initContainers", "volumes"]),
    ("/spec/containers/*", &["name", "image", "ports"]),
    ("/spec/initContainers/*", &["name", "image"]),
    ("/spec/volumes/*", &["name", "secret"]),
    ("/status", &["phase", "podIP", "conditions", "containerStatuses"]),
    ("/status/conditions/*", &["type", "status"]),
    ("/status/containerStatuses/*", &["name", "ready", "restartCount", "state"]),
];

/// A copy of only [`POD_FIELDS`] of a pod, its Istio annotations and its `Ready` condition. Built
/// field by field, so what is dropped is never copied.
fn slim_pod(pod: &Value) -> Value {
    slim_at(pod, &mut Vec::new())
}

/// How [`slim_pod`] treats what is at a path of a pod (its keys, `*` for every list item).
enum PodPart {
    /// Kept whole: below every path [`POD_FIELDS`] names.
    Whole,
    /// A map that keeps only these fields.
    Fields(&'static [&'static str]),
    /// The annotations, which keep only Istio's.
    Annotations,
    /// The conditions, which keep only `Ready`.
    Conditions,
    /// Above a path [`POD_FIELDS`] names: every field stays, trimmed further down.
    Above,
}

/// [`POD_FIELDS`] with each path split into keys.
fn pod_rules() -> &'static [(Vec<&'static str>, &'static [&'static str])] {
    static RULES: OnceLock<Vec<(Vec<&'static str>, &'static [&'static str])>> = OnceLock::new();
    RULES.get_or_init(|| {
        POD_FIELDS.iter().map(|(path, keep)| (path.split('/').skip(1).collect(), *keep)).collect()
    })
}

fn pod_part(path: &[&str]) -> PodPart {
    let rules = pod_rules();
    if let Some((_, keep)) = rules.iter().find(|(rule, _)| rule.as_slice() == path) {
        return PodPart::Fields(keep);
    }
    match path {
        ["metadata", "annotations"] => PodPart::Annotations,
        ["status", "conditions"] => PodPart::Conditions,
        _ if rules.iter().any(|(rule, _)| rule.len() > path.len() && rule.starts_with(path)) => {
            PodPart::Above
        }
        _ => PodPart::Whole,
    }
}

/// Whether [`slim_pod`] keeps field `key` of the map at a part.
fn pod_keeps(part: &PodPart, key: &str) -> bool {
    match part {
        PodPart::Fields(keep) => keep.contains(&key),
        PodPart::Annotations => key.contains("istio.io/"),
        _ => true,
    }
}

/// Whether [`slim_pod`] keeps `item` of the list at a part.
fn pod_keeps_item(part: &PodPart, item: &Value) -> bool {
    !matches!(part, PodPart::Conditions) || item.get("type").and_then(Value::as_str) == Some("Ready")
}

/// `value`, found at `path` of a pod, as [`slim_pod`] keeps it.
fn slim_at<'v>(value: &'v Value, path: &mut Vec<&'v str>) -> Value {
    let part = pod_part(path);
    if matches!(part, PodPart::Whole) {
        return value.clone();
    }
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(key, _)| pod_keeps(&part, key))
                .map(|(key, item)| {
                    path.push(key);
                    let slim = slim_at(item, path);
                    path.pop();
                    (key.clone(), slim)
                })
                .collect(),
        ),
        Value::Array(items) => {
            path.push("*");
            let slim = items
                .iter()
                .filter(|item| pod_keeps_item(&part, item))
                .map(|item| slim_at(item, path))
                .collect();
            path.pop();
            Value::Array(slim)
        }
        other => other.clone(),
    }
}

/// Whether the pod part `value` at `path` holds anything [`slim_pod`] drops.
fn pod_has_more_at<'v>(value: &'v Value, path: &mut Vec<&'v str>) -> bool {
    let part = pod_part(path);
    if matches!(part, PodPart::Whole) {
        return false;
    }
    match value {
        Value::Object(map) => map.iter().any(|(key, item)| {
            if !pod_keeps(&part, key) {
                return true;
            }
            path.push(key);
            let more = pod_has_more_at(item, path);
            path.pop();
            more
        }),
        Value::Array(items) => {
            if items.iter().any(|item| !pod_keeps_item(&part, item)) {
                return true;
            }
            path.push("*");
            let more = items.iter().any(|item| pod_has_more_at(item, path));
            path.pop();
            more
        }
        _ => false,
    }
}

/// Removes what a snapshot must never hold (secret values) and what it does not need (most of
/// `managedFields`, most of a Pod).
pub fn sanitize(object: &mut Value) {
    let kind = object.get("kind").and_then(Value::as_str).unwrap_or("").to_string();
    let Some(map) = object.as_object_mut() else { return };
    if let Some(metadata) = map.get_mut("metadata").and_then(Value::as_object_mut) {
        match metadata.remove("managedFields").as_ref().and_then(Value::as_array).map(|e| writers(e)) {
            Some(kept) if !kept.is_empty() => {
                metadata.insert("managedFields".to_string(), Value::Array(kept));
            }
            _ => {}
        }
        if let Some(annotations) = metadata.get_mut("annotations").and_then(Value::as_object_mut) {
            annotations.remove(LAST_APPLIED);
        }
    }
    match kind.as_str() {
        "Secret" => redact_secret(map),
        "Pod" => *object = slim_pod(object),
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job" => {
            strip_env_values(
                map.get_mut("spec").and_then(|s| s.get_mut("template")).and_then(|t| t.get_mut("spec")),
            );
        }
        "CustomResourceDefinition" => {
            // Schemas are large and say nothing about the cluster's state; served versions are kept.
            for version in map
                .get_mut("spec")
                .and_then(|s| s.get_mut("versions"))
                .and_then(Value::as_array_mut)
                .into_iter()
                .flatten()
            {
                if let Some(version) = version.as_object_mut() {
                    version.remove("schema");
                }
            }
        }
        _ => {}
    }
}

/// What a snapshot keeps of `managedFields`: who wrote the object and how (manager, operation,
/// subresource), not when or which fields. It tells a reader which installer made an object; a
/// release that adopts it takes over that installer's fields, and a rehearsal does the same.
fn writers(entries: &[Value]) -> Vec<Value> {
    entries
        .iter()
        .filter_map(Value::as_object)
        .map(|entry| {
            ["manager", "operation", "subresource"]
                .into_iter()
                .filter_map(|key| entry.get(key).map(|v| (key.to_string(), v.clone())))
                .collect::<serde_json::Map<String, Value>>()
        })
        .filter(|entry| !entry.is_empty())
        .map(Value::Object)
        .collect()
}

/// `object` as a snapshot keeps it (see [`sanitize`]): the same shared object when sanitizing would
/// not change it. That is nearly every object of the simulated cluster, which is built from a
/// snapshot, so observing it copies only what a rehearsal changed.
pub fn sanitized(object: Arc<Value>) -> Arc<Value> {
    let managed_fields = lookup(&object, "/metadata/managedFields")
        .and_then(Value::as_array)
        .is_some_and(|entries| writers(entries) != *entries);
    if !managed_fields && !sanitizing_changes(&object) {
        return object;
    }
    if object.get("kind").and_then(Value::as_str) == Some("Pod") {
        // Slimming drops managed fields and annotations too: only what is kept is copied.
        return Arc::new(slim_pod(&object));
    }
    let mut owned = Arc::unwrap_or_clone(object);
    sanitize(&mut owned);
    Arc::new(owned)
}

/// Whether [`sanitize`] changes `object` in more than its `managedFields`: Secrets (always
/// rewritten), objects carrying the last-applied annotation, and pods, workloads and CRDs holding
/// what it drops.
pub fn sanitizing_changes(object: &Value) -> bool {
    if lookup(object, "/metadata/annotations").and_then(|a| a.get(LAST_APPLIED)).is_some() {
        return true;
    }
    match object.get("kind").and_then(Value::as_str).unwrap_or("") {
        "Secret" => true,
        "Pod" => pod_has_more_than_kept(object),
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job" => {
            lookup(object, "/spec/template/spec").is_some_and(|spec| containers_of(spec).any(has_env_values))
        }
        "CustomResourceDefinition" => lookup(object, "/spec/versions")
            .and_then(Value::as_array)
            .is_some_and(|versions| versions.iter().any(|v| v.get("schema").is_some())),
        _ => false,
    }
}

/// Every container of a pod spec: regular, init and ephemeral.
fn containers_of(spec: &Value) -> impl Iterator<Item = &Value> {
    ["containers", "initContainers", "ephemeralContainers"]
        .into_iter()
        .flat_map(|list| spec.get(list).and_then(Value::as_array).into_iter().flatten())
}

fn has_env_values(container: &Value) -> bool {
    container
        .get("env")
        .and_then(Value::as_array)
        .is_some_and(|env| env.iter().any(|variable| variable.get("value").is_some()))
}

/// Whether a pod holds anything [`slim_pod`] drops.
fn pod_has_more_than_kept(pod: &Value) -> bool {
    pod_has_more_at(pod, &mut Vec::new())
}

fn redact_secret(secret: &mut Map<String, Value>) {
    let mut keys = BTreeSet::new();
    for field in ["data", "stringData"] {
        if let Some(Value::Object(data)) = secret.remove(field) {
            keys.extend(data.keys().cloned());
        }
    }
    let metadata = secret.entry("metadata").or_insert_with(|| Value::Object(Map::new()));
    if let Some(metadata) = metadata.as_object_mut() {
        let annotations = metadata.entry("annotations").or_insert_with(|| Value::Object(Map::new()));
        if let Some(annotations) = annotations.as_object_mut() {
            annotations.insert(
                SECRET_KEYS_ANNOTATION.to_string(),
                Value::String(keys.into_iter().collect::<Vec<_>>().join(",")),
            );
        }
    }
}

fn strip_env_values(pod_spec: Option<&mut Value>) {
    let Some(spec) = pod_spec else { return };
    for list in ["containers", "initContainers", "ephemeralContainers"] {
        for container in spec.get_mut(list).and_then(Value::as_array_mut).into_iter().flatten() {
            for variable in container.get_mut("env").and_then(Value::as_array_mut).into_iter().flatten() {
                if let Some(variable) = variable.as_object_mut() {
                    variable.remove("value");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn secrets_keep_only_names_types_and_key_names() {
        let mut secret = json!({
            "apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
            "metadata": {"name": "cert", "namespace": "istio-system", "managedFields": [{"manager": "x",
                    "operation": "Update", "time": "t", "fieldsType": "FieldsV1", "fieldsV1": {"f:data": {}}}],
                "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{\"data\":{\"tls.key\":\"c2VjcmV0\"}}"}},
            "data": {"tls.key": "c2VjcmV0", "tls.crt": "Y2VydA=="}, "stringData": {"ca.crt": "plain"}
        });
        sanitize(&mut secret);
        assert_eq!(
            secret,
            json!({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
                "metadata": {"name": "cert", "namespace": "istio-system",
                    "managedFields": [{"manager": "x", "operation": "Update"}],
                    "annotations": {SECRET_KEYS_ANNOTATION: "ca.crt,tls.crt,tls.key"}}})
        );
    }

    #[test]
    fn env_values_go_and_references_stay() {
        let mut deployment = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
            "spec": {"template": {"spec": {"containers": [{"name": "app", "image": "app:1",
                "env": [{"name": "PASSWORD", "value": "hunter2"}, {"name": "FROM", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}]}]}}}});
        sanitize(&mut deployment);
        let env = &deployment["spec"]["template"]["spec"]["containers"][0]["env"];
        assert_eq!(
            env,
            &json!([{"name": "PASSWORD"}, {"name": "FROM", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}])
        );
    }

    #[test]
    fn pods_keep_what_an_upgrade_reads() {
        let mut pod = json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "p", "namespace": "a", "generateName": "p-", "uid": "u", "resourceVersion": "9",
                "labels": {"app": "p"}, "annotations": {"sidecar.istio.io/status": "{}", "prometheus.io/port": "15020"},
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "p-1", "uid": "u1", "controller": true}],
                "creationTimestamp": "2026-01-01T00:00:00Z"},
            "spec": {
                "serviceAccountName": "sa", "nodeName": "n", "dnsPolicy": "ClusterFirst", "tolerations": [{"key": "k"}],
                "initContainers": [{"name": "istio-init", "image": "proxyv2:1.5.10", "args": ["-p", "15001"], "securityContext": {}}],
                "containers": [{"name": "istio-proxy", "image": "proxyv2:1.5.10", "args": ["proxy", "router"],
                    "ports": [{"containerPort": 15090, "name": "http-envoy-prom"}],
                    "env": [{"name": "PASSWORD", "value": "hunter2"}], "resources": {}, "volumeMounts": [{"name": "certs"}]}],
                "volumes": [{"name": "certs", "secret": {"secretName": "istio.default"}}, {"name": "token", "projected": {"sources": []}}]
            },
            "status": {"phase": "Running", "podIP": "10.0.0.1", "startTime": "t",
                "conditions": [{"type": "Initialized", "status": "True"}, {"type": "Ready", "status": "True", "lastTransitionTime": "t"}],
                "containerStatuses": [{"name": "istio-proxy", "image": "proxyv2:1.5.10", "imageID": "x", "ready": true,
                    "restartCount": 2, "started": true, "state": {"running": {"startedAt": "t"}}}]}
        });
        sanitize(&mut pod);
        assert_eq!(
            pod,
            json!({
                "apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": "p", "namespace": "a", "uid": "u", "resourceVersion": "9",
                    "labels": {"app": "p"}, "annotations": {"sidecar.istio.io/status": "{}"},
                    "ownerReferences": [{"kind": "ReplicaSet", "name": "p-1", "controller": true}], "creationTimestamp": "2026-01-01T00:00:00Z"},
                "spec": {
                    "serviceAccountName": "sa", "nodeName": "n",
                    "initContainers": [{"name": "istio-init", "image": "proxyv2:1.5.10"}],
                    "containers": [{"name": "istio-proxy", "image": "proxyv2:1.5.10",
                        "ports": [{"containerPort": 15090, "name": "http-envoy-prom"}]}],
                    "volumes": [{"name": "certs", "secret": {"secretName": "istio.default"}}, {"name": "token"}]
                },
                "status": {"phase": "Running", "podIP": "10.0.0.1", "conditions": [{"type": "Ready", "status": "True"}],
                    "containerStatuses": [{"name": "istio-proxy", "ready": true,
                        "restartCount": 2, "state": {"running": {"startedAt": "t"}}}]}
            })
        );
    }

    #[test]
    fn sanitizing_is_known_to_change_only_what_it_rewrites() {
        let config = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "c", "managedFields": [{"manager": "x"}]}, "data": {"a": "b"}});
        assert!(!sanitizing_changes(&config));
        let mut sanitized = config.clone();
        sanitize(&mut sanitized);
        sanitized["metadata"]["managedFields"] = config["metadata"]["managedFields"].clone();
        assert_eq!(sanitized, config);
        let applied = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "c", "annotations": {LAST_APPLIED: "{}"}}});
        assert!(sanitizing_changes(&applied));
        assert!(sanitizing_changes(
            &json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}})
        ));
    }

    #[test]
    fn sanitized_shares_what_sanitizing_would_not_change_and_copies_the_rest() {
        let slim_pod = json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "p", "namespace": "a", "labels": {"app": "p"},
                "annotations": {"sidecar.istio.io/status": "{}"}},
            "spec": {"containers": [{"name": "app", "image": "app:1"}]},
            "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}});
        let mut fat_pod = slim_pod.clone();
        fat_pod["spec"]["containers"][0]["resources"] = json!({"limits": {"cpu": "1"}});
        let mut scheduled_pod = slim_pod.clone();
        scheduled_pod["status"]["conditions"] = json!([{"type": "PodScheduled", "status": "True"}]);
        let mut annotated_pod = slim_pod.clone();
        annotated_pod["metadata"]["annotations"]["prometheus.io/scrape"] = json!("true");
        let workload = |env: Value| {
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d", "namespace": "a"},
                "spec": {"template": {"spec": {"containers": [{"name": "app", "env": env}]}}}})
        };
        let crd = |version: Value| {
            json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
                "metadata": {"name": "x.istio.io"}, "spec": {"versions": [version]}})
        };
        let config = |entry: Value| json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "managedFields": [entry]}});
        let cases = [
            (slim_pod, false),
            (fat_pod, true),
            (scheduled_pod, true),
            (annotated_pod, true),
            (workload(json!([{"name": "A", "valueFrom": {"fieldRef": {"fieldPath": "x"}}}])), false),
            (workload(json!([{"name": "A", "value": "secret"}])), true),
            (crd(json!({"name": "v1", "served": true})), false),
            (crd(json!({"name": "v1", "schema": {}})), true),
            (config(json!({"manager": "helm", "operation": "Update"})), false),
            (config(json!({"manager": "helm", "operation": "Update", "fieldsV1": {}})), true),
            (json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}}), true),
        ];
        for (object, changes) in cases {
            let mut expected = object.clone();
            sanitize(&mut expected);
            assert_eq!(expected != object, changes, "sanitize changes {object}: {changes}");
            let shared = Arc::new(object);
            let result = sanitized(Arc::clone(&shared));
            assert_eq!(!Arc::ptr_eq(&result, &shared), changes, "copied {shared}");
            assert_eq!(*result, expected);
        }
    }
}
