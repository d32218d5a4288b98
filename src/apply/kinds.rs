//! The built-in kinds apply reads and writes, spelled out so no discovery round trip is needed for
//! kinds every Kubernetes serves at these versions (discovery is still used for Istio's CRDs).

use crate::cluster::{ObjectRef, Resource};

fn resource(group: &str, version: &str, kind: &str, plural: &str, namespaced: bool) -> Resource {
    Resource {
        group: group.to_string(),
        version: version.to_string(),
        kind: kind.to_string(),
        plural: plural.to_string(),
        namespaced,
    }
}

/// `v1` Namespaces.
pub fn namespace() -> Resource {
    resource("", "v1", "Namespace", "namespaces", false)
}

/// `v1` Secrets.
pub fn secret() -> Resource {
    resource("", "v1", "Secret", "secrets", true)
}

/// `v1` ConfigMaps.
pub fn config_map() -> Resource {
    resource("", "v1", "ConfigMap", "configmaps", true)
}

/// `v1` Pods.
pub fn pod() -> Resource {
    resource("", "v1", "Pod", "pods", true)
}

/// `v1` Endpoints.
pub fn endpoints() -> Resource {
    resource("", "v1", "Endpoints", "endpoints", true)
}

/// `discovery.k8s.io/v1` EndpointSlices.
pub fn endpoint_slice() -> Resource {
    resource("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", true)
}

/// `coordination.k8s.io/v1` Leases.
pub fn lease() -> Resource {
    resource("coordination.k8s.io", "v1", "Lease", "leases", true)
}

/// `apiextensions.k8s.io/v1` CustomResourceDefinitions.
pub fn crd() -> Resource {
    resource("apiextensions.k8s.io", "v1", "CustomResourceDefinition", "customresourcedefinitions", false)
}

/// The `apps/v1` workload kind named `kind` (Deployment, StatefulSet, DaemonSet).
pub fn workload(kind: &str) -> Option<Resource> {
    let plural = match kind {
        "Deployment" => "deployments",
        "StatefulSet" => "statefulsets",
        "DaemonSet" => "daemonsets",
        _ => return None,
    };
    Some(resource("apps", "v1", kind, plural, true))
}

/// Every `apps/v1` workload kind.
pub fn workloads() -> Vec<Resource> {
    ["Deployment", "StatefulSet", "DaemonSet"].iter().filter_map(|k| workload(k)).collect()
}

/// The reference of a Namespace.
pub fn namespace_ref(name: &str) -> ObjectRef {
    ObjectRef {
        api_version: "v1".to_string(),
        kind: "Namespace".to_string(),
        namespace: None,
        name: name.to_string(),
    }
}

/// Resources by apiVersion and kind, discovered once and again when a kind is missing (a CRD
/// applied moments ago).
#[derive(Debug, Default)]
pub struct Kinds {
    discovered: Option<crate::cluster::Discovered>,
}

impl Kinds {
    /// The resource serving `api_version` + `kind`.
    pub async fn resource<C: crate::cluster::Cluster>(
        &mut self,
        cluster: &C,
        api_version: &str,
        kind: &str,
    ) -> Result<Resource, crate::cluster::ClusterError> {
        if let Some(found) = self.discovered.as_ref().and_then(|d| d.for_object(api_version, kind)) {
            return Ok(found.clone());
        }
        let discovered = cluster.discover().await?;
        let found = discovered.for_object(api_version, kind).cloned();
        self.discovered = Some(discovered);
        found.ok_or_else(|| crate::cluster::ClusterError::UnknownKind {
            api_version: api_version.to_string(),
            kind: kind.to_string(),
        })
    }
}
