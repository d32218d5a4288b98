//! What the simulated cluster's controllers and Istio's sidecar injector do, done at once instead of
//! eventually: a workload whose pod template (or replica count) changes gets new pods built from
//! the template, injected as the namespace's labels select, all Ready, and a status that says the
//! rollout is complete; Services get Endpoints and EndpointSlices listing their ready pods; CRDs are
//! Established. The rules are pure functions of the objects they are given, so the store stays in
//! charge of storing.
//!
//! Injection follows Istio: a namespace labelled `istio-injection=enabled` gets the `default`
//! revision (or what the `default` tag points at), `istio-injection=disabled` none, and otherwise its
//! `istio.io/rev` label names a revision or a tag (tags are the `istio.io/tag`-labelled mutating
//! webhooks); `istio-injection` wins when both are set. A pod that opts out
//! (`sidecar.istio.io/inject: "false"`) or whose revision has no control plane is not injected.
//! The injected proxy is `<hub>/proxyv2:<version>` of the control plane that injects it (its istiod
//! Deployment's image, or the 1.4 sidecar injector's), recorded as the catalog says that version
//! records its revision.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::merge::service_selects;
use crate::catalog::{Catalog, RevisionRecord};
use crate::inventory::{image_version, label, lookup, str_of};

/// The annotation and label a pod uses to opt out of injection.
const INJECT: &str = "sidecar.istio.io/inject";

/// A control plane able to inject: its hub and version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Injector {
    /// The registry path of its images (`docker.io/istio`).
    pub hub: String,
    /// Its version.
    pub version: semver::Version,
}

/// The control planes and tags in the cluster at one moment.
#[derive(Debug, Clone, Default)]
pub struct Mesh {
    /// By revision (`default` for a non-revisioned istiod or the 1.4 injector).
    pub injectors: BTreeMap<String, Injector>,
    /// Tag → revision.
    pub tags: BTreeMap<String, String>,
}

fn hub_and_version(deployment: &Value) -> Option<Injector> {
    let image = deployment
        .pointer("/spec/template/spec/containers")
        .and_then(Value::as_array)?
        .first()
        .map(|c| str_of(c, "/image"))?;
    let version = image_version(image)?;
    let repository = image.rsplit_once(':').map_or(image, |(r, _)| r);
    let hub = repository.rsplit_once('/').map_or("", |(hub, _)| hub).to_string();
    Some(Injector { hub, version })
}

impl Mesh {
    /// Reads the injectors from Deployments and the tags from mutating webhooks.
    pub fn read<'a>(
        deployments: impl Iterator<Item = &'a Value>,
        webhooks: impl Iterator<Item = &'a Value>,
    ) -> Mesh {
        let mut mesh = Mesh::default();
        let mut legacy = None;
        for deployment in deployments {
            let name = str_of(deployment, "/metadata/name");
            let istiod =
                label(deployment, "app") == Some("istiod") || name == "istiod" || name.starts_with("istiod-");
            if istiod {
                let revision = label(deployment, "istio.io/rev").unwrap_or("default").to_string();
                if let Some(injector) = hub_and_version(deployment) {
                    mesh.injectors.insert(revision, injector);
                }
            } else if name == "istio-sidecar-injector" {
                legacy = hub_and_version(deployment);
            }
        }
        if let Some(injector) = legacy {
            mesh.injectors.entry("default".to_string()).or_insert(injector);
        }
        for webhook in webhooks {
            if let (Some(tag), Some(revision)) =
                (label(webhook, "istio.io/tag"), label(webhook, "istio.io/rev"))
            {
                mesh.tags.insert(tag.to_string(), revision.to_string());
            }
        }
        mesh
    }

    /// The revision that injects a pod with `pod_labels` and `pod_annotations` in a namespace with
    /// `namespace_labels`, and its injector; `None` when the pod is not injected.
    pub fn injection(
        &self,
        namespace_labels: Option<&Map<String, Value>>,
        pod_labels: Option<&Map<String, Value>>,
        pod_annotations: Option<&Map<String, Value>>,
    ) -> Option<(String, &Injector)> {
        let get = |map: Option<&Map<String, Value>>, key: &str| {
            map.and_then(|m| m.get(key)).and_then(Value::as_str).map(str::to_string)
        };
        if get(pod_annotations, INJECT).as_deref() == Some("false")
            || get(pod_labels, INJECT).as_deref() == Some("false")
        {
            return None;
        }
        let selected = match get(namespace_labels, "istio-injection").as_deref() {
            Some("enabled") => "default".to_string(),
            Some(_) => return None,
            None => get(namespace_labels, "istio.io/rev").or_else(|| get(pod_labels, "istio.io/rev"))?,
        };
        let revision = self.tags.get(&selected).cloned().unwrap_or(selected);
        let injector = self.injectors.get(&revision)?;
        Some((revision, injector))
    }
}

/// How a version records the revision that injected a pod.
fn revision_record(version: &semver::Version) -> RevisionRecord {
    Catalog::embedded()
        .ok()
        .and_then(|catalog| catalog.resolve(&format!("{}.{}", version.major, version.minor)).ok())
        .map_or(RevisionRecord::StatusAnnotation, |resolved| resolved.release.features.pod_revision_record)
}

/// A pod of a workload, built from its template: `name`, in `namespace`, owned by `owner`
/// (`(kind, name)`), injected when `injection` says so, running and Ready.
pub fn pod_from_template(
    template: &Value,
    namespace: &str,
    name: &str,
    owner: (&str, &str),
    injection: Option<(String, &Injector)>,
    ip: &str,
) -> Value {
    let mut metadata = template.get("metadata").cloned().unwrap_or_else(|| json!({}));
    metadata["name"] = json!(name);
    metadata["namespace"] = json!(namespace);
    metadata["ownerReferences"] =
        json!([{"apiVersion": "apps/v1", "kind": owner.0, "name": owner.1, "controller": true}]);
    let mut spec = template.get("spec").cloned().unwrap_or_else(|| json!({}));
    let mut waiting = None;
    let auto_proxy = spec
        .get("containers")
        .and_then(Value::as_array)
        .and_then(|c| c.iter().position(|c| str_of(c, "/name") == "istio-proxy"));
    match (injection, auto_proxy) {
        (Some((revision, injector)), proxy) => {
            let image = format!("{}/proxyv2:{}", injector.hub, injector.version);
            match proxy {
                // A gateway-style template names its own proxy; `auto` is filled in by injection.
                Some(index) => {
                    if spec["containers"][index]["image"] == "auto" {
                        spec["containers"][index]["image"] = json!(image);
                    }
                }
                None => {
                    push(
                        &mut spec,
                        "containers",
                        json!({"name": "istio-proxy", "image": image,
                        "ports": [{"containerPort": 15090, "name": "http-envoy-prom", "protocol": "TCP"}]}),
                    );
                    push(&mut spec, "initContainers", json!({"name": "istio-init", "image": image}));
                    let record = revision_record(&injector.version);
                    let mut status = json!({"initContainers": ["istio-init"], "containers": ["istio-proxy"],
                        "volumes": ["istio-envoy", "istio-data", "istio-podinfo", "istio-token", "istiod-ca-cert"],
                        "imagePullSecrets": null});
                    if record == RevisionRecord::StatusAnnotation {
                        status["revision"] = json!(revision);
                    }
                    metadata["annotations"]["sidecar.istio.io/status"] = json!(status.to_string());
                    metadata["labels"]["security.istio.io/tlsMode"] = json!("istio");
                    if record == RevisionRecord::Label {
                        metadata["labels"]["istio.io/rev"] = json!(revision);
                    }
                }
            }
        }
        (None, Some(index)) if spec["containers"][index]["image"] == "auto" => {
            // Nothing injected the proxy's image: the pod cannot start.
            waiting = Some("InvalidImageName");
        }
        (None, _) => {}
    }
    let statuses: Vec<Value> = spec
        .get("containers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|c| match waiting {
            Some(reason) => json!({"name": str_of(c, "/name"), "ready": false, "restartCount": 0,
                "state": {"waiting": {"reason": reason}}}),
            None => json!({"name": str_of(c, "/name"), "ready": true, "restartCount": 0,
                "state": {"running": {"startedAt": super::now()}}}),
        })
        .collect();
    let ready = if waiting.is_some() { "False" } else { "True" };
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec,
        "status": {"phase": if waiting.is_some() { "Pending" } else { "Running" }, "podIP": ip,
            "conditions": [{"type": "Ready", "status": ready}], "containerStatuses": statuses}})
}

fn push(spec: &mut Value, list: &str, item: Value) {
    match spec.get_mut(list).and_then(Value::as_array_mut) {
        Some(items) => items.push(item),
        None => spec[list] = json!([item]),
    }
}

/// The number of pods a workload runs: `spec.replicas` (default 1); a DaemonSet runs one per node
/// it was scheduled on before (at least one).
pub fn replicas(workload: &Value) -> usize {
    let count = match str_of(workload, "/kind") {
        "DaemonSet" => {
            lookup(workload, "/status/desiredNumberScheduled").and_then(Value::as_i64).unwrap_or(1).max(1)
        }
        _ => lookup(workload, "/spec/replicas").and_then(Value::as_i64).unwrap_or(1),
    };
    usize::try_from(count).unwrap_or(0)
}

/// The status of a workload whose `ready` of `replicas` pods run its current template.
pub fn workload_status(workload: &Value, replicas: usize, ready: usize) -> Value {
    let generation = lookup(workload, "/metadata/generation").and_then(Value::as_i64).unwrap_or(1);
    match str_of(workload, "/kind") {
        "DaemonSet" => json!({"observedGeneration": generation, "desiredNumberScheduled": replicas,
            "currentNumberScheduled": replicas, "updatedNumberScheduled": replicas, "numberReady": ready,
            "numberAvailable": ready, "numberMisscheduled": 0}),
        "StatefulSet" => {
            json!({"observedGeneration": generation, "replicas": replicas, "currentReplicas": replicas,
            "updatedReplicas": replicas, "readyReplicas": ready, "availableReplicas": ready})
        }
        _ => {
            let available = if ready >= replicas { "True" } else { "False" };
            json!({"observedGeneration": generation, "replicas": replicas, "updatedReplicas": replicas,
                "readyReplicas": ready, "availableReplicas": ready,
                "conditions": [
                    {"type": "Available", "status": available, "reason": "MinimumReplicasAvailable"},
                    {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"}]})
        }
    }
}

/// Whether a pod is Ready.
pub fn pod_ready(pod: &Value) -> bool {
    lookup(pod, "/status/conditions")
        .and_then(Value::as_array)
        .is_some_and(|c| c.iter().any(|c| str_of(c, "/type") == "Ready" && str_of(c, "/status") == "True"))
}

/// The Endpoints and EndpointSlice of `service` from the pods of its namespace.
pub fn endpoints_of(service: &Value, pods: &[&Value]) -> (Value, Value) {
    let namespace = str_of(service, "/metadata/namespace");
    let name = str_of(service, "/metadata/name");
    let selector = lookup(service, "/spec/selector").and_then(Value::as_object);
    let selected: Vec<&&Value> = pods
        .iter()
        .filter(|p| {
            pod_ready(p)
                && service_selects(selector, lookup(p, "/metadata/labels").and_then(Value::as_object))
        })
        .collect();
    let ports: Vec<Value> = service
        .pointer("/spec/ports")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|p| {
            let port = p.get("targetPort").filter(|t| t.is_number()).or_else(|| p.get("port")).cloned();
            json!({"name": p.get("name").cloned().unwrap_or(json!("")), "port": port, "protocol": p.get("protocol").cloned().unwrap_or(json!("TCP"))})
        })
        .collect();
    let addresses: Vec<Value> = selected
        .iter()
        .map(|p| json!({"ip": str_of(p, "/status/podIP"), "targetRef": {"kind": "Pod", "namespace": namespace, "name": str_of(p, "/metadata/name")}}))
        .collect();
    let subsets =
        if addresses.is_empty() { json!([]) } else { json!([{"addresses": addresses, "ports": ports}]) };
    let endpoints = json!({"apiVersion": "v1", "kind": "Endpoints",
        "metadata": {"name": name, "namespace": namespace}, "subsets": subsets});
    let slice_endpoints: Vec<Value> = selected
        .iter()
        .map(|p| {
            json!({"addresses": [str_of(p, "/status/podIP")], "conditions": {"ready": true},
            "targetRef": {"kind": "Pod", "namespace": namespace, "name": str_of(p, "/metadata/name")}})
        })
        .collect();
    let slice = json!({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
        "metadata": {"name": format!("{name}-sim"), "namespace": namespace,
            "labels": {"kubernetes.io/service-name": name, "endpointslice.kubernetes.io/managed-by": "sailplan-simulation"}},
        "addressType": "IPv4", "endpoints": slice_endpoints, "ports": ports});
    (endpoints, slice)
}

/// A CRD's status once the API server has accepted it.
pub fn crd_status(crd: &Value) -> Value {
    json!({"conditions": [
            {"type": "NamesAccepted", "status": "True", "reason": "NoConflicts"},
            {"type": "Established", "status": "True", "reason": "InitialNamesAccepted"}],
        "acceptedNames": lookup(crd, "/spec/names").cloned().unwrap_or(json!({})),
        "storedVersions": lookup(crd, "/spec/versions").and_then(Value::as_array).into_iter().flatten()
            .filter(|v| v.get("storage").and_then(Value::as_bool) == Some(true))
            .filter_map(|v| v.get("name").cloned()).collect::<Vec<_>>()})
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn deployment(name: &str, revision: Option<&str>, image: &str) -> Value {
        let mut labels = json!({"app": "istiod"});
        if let Some(revision) = revision {
            labels["istio.io/rev"] = json!(revision);
        }
        json!({"kind": "Deployment", "metadata": {"name": name, "labels": labels},
            "spec": {"template": {"spec": {"containers": [{"name": "discovery", "image": image}]}}}})
    }

    #[test]
    fn injection_follows_labels_tags_and_control_planes() {
        let deployments = [
            deployment("istiod", None, "docker.io/istio/pilot:1.29.5"),
            deployment("istiod-1-31-1", Some("1-31-1"), "gcr.io/istio-release/pilot:1.31.1"),
        ];
        let tag = json!({"metadata": {"name": "istio-revision-tag-prod", "labels": {"istio.io/tag": "prod", "istio.io/rev": "1-31-1"}}});
        let mesh = Mesh::read(deployments.iter(), std::iter::once(&tag));
        let ns = |labels: Value| labels.as_object().cloned();
        let (revision, injector) =
            mesh.injection(ns(json!({"istio-injection": "enabled"})).as_ref(), None, None).unwrap();
        assert_eq!((revision.as_str(), injector.version.to_string().as_str()), ("default", "1.29.5"));
        let (revision, injector) =
            mesh.injection(ns(json!({"istio.io/rev": "prod"})).as_ref(), None, None).unwrap();
        assert_eq!((revision.as_str(), injector.hub.as_str()), ("1-31-1", "gcr.io/istio-release"));
        let both = ns(json!({"istio-injection": "enabled", "istio.io/rev": "prod"}));
        assert_eq!(mesh.injection(both.as_ref(), None, None).unwrap().0, "default", "istio-injection wins");
        assert!(mesh.injection(ns(json!({"istio.io/rev": "gone"})).as_ref(), None, None).is_none());
        let opt_out = ns(json!({INJECT: "false"}));
        assert!(
            mesh.injection(ns(json!({"istio-injection": "enabled"})).as_ref(), None, opt_out.as_ref())
                .is_none()
        );
    }

    #[test]
    fn pods_are_built_from_the_template_and_injected() {
        let injector = Injector { hub: "docker.io/istio".into(), version: semver::Version::new(1, 31, 1) };
        let template = json!({"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "web", "image": "web:1"}]}});
        let pod = pod_from_template(
            &template,
            "shop",
            "web-1",
            ("ReplicaSet", "web-abc"),
            Some(("1-31-1".into(), &injector)),
            "10.0.0.1",
        );
        assert_eq!(pod["spec"]["containers"][1]["image"], "docker.io/istio/proxyv2:1.31.1");
        assert!(
            pod["metadata"]["annotations"]["sidecar.istio.io/status"].as_str().unwrap().contains("1-31-1")
        );
        assert!(pod_ready(&pod));
        let gateway = json!({"spec": {"containers": [{"name": "istio-proxy", "image": "auto"}]}});
        let stuck = pod_from_template(&gateway, "gw", "gw-1", ("ReplicaSet", "gw-abc"), None, "10.0.0.2");
        assert!(!pod_ready(&stuck));
    }

    #[test]
    fn services_list_their_ready_pods() {
        let service = json!({"metadata": {"name": "istiod", "namespace": "istio-system"},
            "spec": {"selector": {"app": "istiod"}, "ports": [{"name": "https-webhook", "port": 443, "targetPort": 15017}]}});
        let pod = json!({"metadata": {"name": "istiod-1", "labels": {"app": "istiod"}},
            "status": {"podIP": "10.0.0.9", "conditions": [{"type": "Ready", "status": "True"}]}});
        let (endpoints, slice) = endpoints_of(&service, &[&pod]);
        assert_eq!(endpoints["subsets"][0]["addresses"][0]["ip"], "10.0.0.9");
        assert_eq!(endpoints["subsets"][0]["ports"][0]["port"], 15017);
        assert_eq!(slice["metadata"]["labels"]["kubernetes.io/service-name"], "istiod");
    }
}
