//! What the simulated API server serves: the built-in kinds sailplan's plans and charts use, the
//! Istio kinds the snapshot says the cluster served, and the kinds of CustomResourceDefinitions as
//! they are applied and deleted.
//!
//! Simplified: every built-in version listed here is served whatever the cluster's Kubernetes
//! version (a real API server stops serving, e.g., `policy/v1beta1` in 1.25), and reads of a known
//! kind are answered at any version of its group, without conversion beyond the `apiVersion` field.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::cluster::{Discovered, Resource};

/// The built-in kinds: (group, versions, kind, plural, namespaced).
const BUILT_IN: [(&str, &[&str], &str, &str, bool); 27] = [
    ("", &["v1"], "Namespace", "namespaces", false),
    ("", &["v1"], "ConfigMap", "configmaps", true),
    ("", &["v1"], "Secret", "secrets", true),
    ("", &["v1"], "Service", "services", true),
    ("", &["v1"], "ServiceAccount", "serviceaccounts", true),
    ("", &["v1"], "Pod", "pods", true),
    ("", &["v1"], "Endpoints", "endpoints", true),
    ("", &["v1"], "PersistentVolumeClaim", "persistentvolumeclaims", true),
    ("apps", &["v1"], "Deployment", "deployments", true),
    ("apps", &["v1"], "StatefulSet", "statefulsets", true),
    ("apps", &["v1"], "DaemonSet", "daemonsets", true),
    ("apps", &["v1"], "ReplicaSet", "replicasets", true),
    ("batch", &["v1"], "Job", "jobs", true),
    ("batch", &["v1", "v1beta1"], "CronJob", "cronjobs", true),
    ("coordination.k8s.io", &["v1"], "Lease", "leases", true),
    ("discovery.k8s.io", &["v1", "v1beta1"], "EndpointSlice", "endpointslices", true),
    (
        "apiextensions.k8s.io",
        &["v1", "v1beta1"],
        "CustomResourceDefinition",
        "customresourcedefinitions",
        false,
    ),
    (
        "admissionregistration.k8s.io",
        &["v1", "v1beta1"],
        "MutatingWebhookConfiguration",
        "mutatingwebhookconfigurations",
        false,
    ),
    (
        "admissionregistration.k8s.io",
        &["v1", "v1beta1"],
        "ValidatingWebhookConfiguration",
        "validatingwebhookconfigurations",
        false,
    ),
    ("rbac.authorization.k8s.io", &["v1", "v1beta1"], "ClusterRole", "clusterroles", false),
    ("rbac.authorization.k8s.io", &["v1", "v1beta1"], "ClusterRoleBinding", "clusterrolebindings", false),
    ("rbac.authorization.k8s.io", &["v1", "v1beta1"], "Role", "roles", true),
    ("rbac.authorization.k8s.io", &["v1", "v1beta1"], "RoleBinding", "rolebindings", true),
    ("policy", &["v1", "v1beta1"], "PodDisruptionBudget", "poddisruptionbudgets", true),
    (
        "autoscaling",
        &["v2", "v1", "v2beta2", "v2beta1"],
        "HorizontalPodAutoscaler",
        "horizontalpodautoscalers",
        true,
    ),
    ("networking.k8s.io", &["v1"], "NetworkPolicy", "networkpolicies", true),
    ("networking.k8s.io", &["v1", "v1beta1"], "Ingress", "ingresses", true),
];

/// Kubernetes' order of version preference: GA before beta before alpha, higher numbers first.
fn priority(version: &str) -> (u8, u32, u32) {
    let Some(rest) = version.strip_prefix('v') else { return (0, 0, 0) };
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let major = digits.parse().unwrap_or(0);
    let tail = &rest[digits.len()..];
    let (stage, number) = if tail.is_empty() {
        (3, 0)
    } else if let Some(n) = tail.strip_prefix("beta") {
        (2, n.parse().unwrap_or(0))
    } else if let Some(n) = tail.strip_prefix("alpha") {
        (1, n.parse().unwrap_or(0))
    } else {
        (0, 0)
    };
    (stage, major, number)
}

/// The served kinds, by (group, kind).
#[derive(Debug, Clone, Default)]
pub struct Served {
    /// Built-in kinds and the snapshot's Istio kinds that no CRD in the simulation defines.
    fixed: BTreeMap<(String, String), Vec<Resource>>,
    /// Kinds defined by CRDs in the simulation, by CRD name.
    by_crd: BTreeMap<String, Vec<Resource>>,
}

impl Served {
    /// The built-in kinds plus `extra` (the snapshot's served Istio kinds).
    pub fn new(extra: &[Resource]) -> Served {
        let mut served = Served::default();
        for (group, versions, kind, plural, namespaced) in BUILT_IN {
            served.fixed.insert(
                (group.to_string(), kind.to_string()),
                versions
                    .iter()
                    .map(|version| Resource {
                        group: group.to_string(),
                        version: version.to_string(),
                        kind: kind.to_string(),
                        plural: plural.to_string(),
                        namespaced,
                    })
                    .collect(),
            );
        }
        for resource in extra {
            served
                .fixed
                .entry((resource.group.clone(), resource.kind.clone()))
                .or_default()
                .push(resource.clone());
        }
        served
    }

    /// Registers (or re-registers) the kinds a CRD serves.
    pub fn add_crd(&mut self, crd: &Value) {
        let name = crd.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("").to_string();
        let resources = crd_resources(crd);
        for resource in &resources {
            // The CRD now decides what is served for its kind.
            self.fixed.remove(&(resource.group.clone(), resource.kind.clone()));
        }
        self.by_crd.insert(name, resources);
    }

    /// Forgets the kinds of a deleted CRD; returns them.
    pub fn remove_crd(&mut self, name: &str) -> Vec<Resource> {
        self.by_crd.remove(name).unwrap_or_default()
    }

    /// Every served version of (group, kind), preferred first.
    pub fn versions(&self, group: &str, kind: &str) -> Vec<&Resource> {
        let key = (group.to_string(), kind.to_string());
        let mut out: Vec<&Resource> = self.fixed.get(&key).into_iter().flatten().collect();
        out.extend(self.by_crd.values().flatten().filter(|r| r.group == group && r.kind == kind));
        out.sort_by_key(|r| std::cmp::Reverse(priority(&r.version)));
        out.dedup_by(|a, b| a.version == b.version);
        out
    }

    /// Whether (group, kind) is served at all, and whether its objects are namespaced.
    pub fn namespaced(&self, group: &str, kind: &str) -> Option<bool> {
        self.versions(group, kind).first().map(|r| r.namespaced)
    }

    /// Whether `api_version` + `kind` is served exactly.
    pub fn serves(&self, api_version: &str, kind: &str) -> bool {
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        self.versions(group, kind).iter().any(|r| r.version == version)
    }

    /// Discovery's answer.
    pub fn discovered(&self) -> Discovered {
        let mut resources: Vec<Resource> = self.fixed.values().flatten().cloned().collect();
        resources.extend(self.by_crd.values().flatten().cloned());
        resources.sort();
        resources.dedup();
        let mut preferred: BTreeMap<String, String> = BTreeMap::new();
        for resource in &resources {
            let better =
                preferred.get(&resource.group).is_none_or(|v| priority(&resource.version) > priority(v));
            if better {
                preferred.insert(resource.group.clone(), resource.version.clone());
            }
        }
        Discovered { resources, preferred }
    }
}

/// The kinds a CRD serves (`spec.versions` with `served`, or the single `spec.version` of old CRDs).
fn crd_resources(crd: &Value) -> Vec<Resource> {
    let text = |pointer: &str| crd.pointer(pointer).and_then(Value::as_str).unwrap_or("").to_string();
    let group = text("/spec/group");
    let kind = text("/spec/names/kind");
    let plural = text("/spec/names/plural");
    let namespaced = text("/spec/scope") != "Cluster";
    let mut versions: Vec<String> = crd
        .pointer("/spec/versions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|v| v.get("served").and_then(Value::as_bool) != Some(false))
        .filter_map(|v| v.get("name").and_then(Value::as_str).map(str::to_string))
        .collect();
    if versions.is_empty() && !text("/spec/version").is_empty() {
        versions.push(text("/spec/version"));
    }
    versions
        .into_iter()
        .map(|version| Resource {
            group: group.clone(),
            version,
            kind: kind.clone(),
            plural: plural.clone(),
            namespaced,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn crds_add_and_remove_kinds_and_preferred_versions_follow_kubernetes() {
        let mut served = Served::new(&[]);
        assert!(served.serves("apps/v1", "Deployment"));
        assert!(!served.serves("networking.istio.io/v1beta1", "Gateway"));
        let crd = json!({"metadata": {"name": "gateways.networking.istio.io"},
            "spec": {"group": "networking.istio.io", "scope": "Namespaced", "names": {"kind": "Gateway", "plural": "gateways"},
                "versions": [{"name": "v1alpha3", "served": true}, {"name": "v1beta1", "served": true}, {"name": "v1", "served": false}]}});
        served.add_crd(&crd);
        assert!(served.serves("networking.istio.io/v1beta1", "Gateway"));
        assert!(!served.serves("networking.istio.io/v1", "Gateway"));
        assert_eq!(served.discovered().preferred["networking.istio.io"], "v1beta1");
        assert_eq!(served.discovered().preferred["autoscaling"], "v2");
        assert_eq!(served.remove_crd("gateways.networking.istio.io").len(), 2);
        assert_eq!(served.namespaced("networking.istio.io", "Gateway"), None);
    }
}
