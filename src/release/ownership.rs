//! Which release an object belongs to, the way Helm tells: the label `app.kubernetes.io/managed-by:
//! Helm` and the annotations `meta.helm.sh/release-name` and `meta.helm.sh/release-namespace`.
//! Every object a release applies carries them, and an object that already exists may join a release
//! only if it carries them with that release's values: an object of another release, or one no
//! release owns, is refused before anything changes, naming the object and its owner.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde_json::Value;

use super::ReleaseError;
use crate::chart::manifest::{self, Manifest, Ownership};
pub use crate::chart::manifest::{MANAGED_BY_LABEL, RELEASE_NAME_ANNOTATION, RELEASE_NAMESPACE_ANNOTATION};
use crate::cluster::{Cluster, ClusterError, ObjectRef};

/// Adds Helm's ownership label and annotations for release `release` in `namespace` to every object,
/// overwriting what the chart set for those keys (as Helm does). Rendering already stamps what it
/// renders; this is for objects read back from a stored manifest, e.g. to roll back to them.
pub fn stamp(manifests: &mut [Manifest], release: &str, namespace: &str) {
    let ownership = Ownership {
        release_name: release.to_string(),
        release_namespace: namespace.to_string(),
        labels: BTreeMap::new(),
    };
    manifest::stamp(manifests, &ownership);
}

/// The release an object's annotations name as its owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    /// `meta.helm.sh/release-name`.
    pub release: String,
    /// `meta.helm.sh/release-namespace` ("" when missing).
    pub namespace: String,
}

/// An existing object that cannot join a release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnershipConflict {
    /// The object.
    pub object: ObjectRef,
    /// The release that owns it, when its annotations name another one.
    pub owner: Option<Owner>,
    /// Each marker that is missing or wrong, in Helm's words.
    pub problems: Vec<String>,
}

impl fmt::Display for OwnershipConflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.owner {
            Some(owner) => write!(
                f,
                "{} belongs to release {:?} in namespace {:?}",
                self.object, owner.release, owner.namespace
            )?,
            None => write!(f, "{} exists and is not owned by a Helm release", self.object)?,
        }
        write!(f, " ({})", self.problems.join("; "))
    }
}

fn text<'a>(object: &'a Value, pointer: &str) -> Option<&'a str> {
    object.pointer(pointer).and_then(Value::as_str)
}

fn lookup<'a>(map: Option<&'a Value>, key: &str) -> Option<&'a str> {
    map.and_then(|m| m.get(key)).and_then(Value::as_str)
}

/// Why an existing object may not be taken over by release `release` in `namespace`, or `None` when
/// it carries that release's markers.
pub fn ownership_conflict(live: &Value, release: &str, namespace: &str) -> Option<OwnershipConflict> {
    let labels = live.pointer("/metadata/labels");
    let annotations = live.pointer("/metadata/annotations");
    let mut problems = Vec::new();
    let mut require = |what: &str, map: Option<&Value>, key: &str, wanted: &str| match lookup(map, key) {
        None => problems.push(format!("{what} {key:?} is missing: it must be set to {wanted:?}")),
        Some(value) if value != wanted => {
            problems.push(format!("{what} {key:?} must equal {wanted:?}: current value is {value:?}"))
        }
        Some(_) => {}
    };
    require("label", labels, MANAGED_BY_LABEL, "Helm");
    require("annotation", annotations, RELEASE_NAME_ANNOTATION, release);
    require("annotation", annotations, RELEASE_NAMESPACE_ANNOTATION, namespace);
    if problems.is_empty() {
        return None;
    }
    let owner = lookup(annotations, RELEASE_NAME_ANNOTATION).map(|owner| Owner {
        release: owner.to_string(),
        namespace: lookup(annotations, RELEASE_NAMESPACE_ANNOTATION).unwrap_or_default().to_string(),
    });
    let object = ObjectRef::of(live).unwrap_or_else(|| ObjectRef {
        api_version: text(live, "/apiVersion").unwrap_or_default().to_string(),
        kind: text(live, "/kind").unwrap_or_default().to_string(),
        namespace: text(live, "/metadata/namespace").map(str::to_string),
        name: text(live, "/metadata/name").unwrap_or_default().to_string(),
    });
    Some(OwnershipConflict { object, owner, problems })
}

/// An object's identity across API versions: group, kind, namespace (the release's for namespaced
/// objects without one) and name.
fn identity(m: &Manifest, release_namespace: &str) -> (String, String, String, String) {
    let group = m.api_version().rsplit_once('/').map_or("", |(group, _)| group).to_string();
    let namespace = if m.namespace().is_empty() { release_namespace } else { m.namespace() };
    (group, m.kind().to_string(), namespace.to_string(), m.name().to_string())
}

/// Before an install or upgrade of `release` in `namespace`: reads every object of `manifests` that
/// `previous` (the manifest of the deployed revision, empty for an install) does not have, and
/// refuses, listing all of them, if any exists without this release's markers, unless it is one of
/// `adopt` (objects the plan takes over) and still carries no release's markers at all, or one of
/// `handover` (objects the plan moves from another release) and still owned by the release it
/// names. Kinds the cluster does not serve yet (CRDs installed by this very release) have nothing to
/// conflict with.
pub async fn check_adoption(
    cluster: &impl Cluster,
    release: &str,
    namespace: &str,
    manifests: &[Manifest],
    previous: &[Manifest],
    adopt: &[ObjectRef],
    handover: &[(ObjectRef, Owner)],
) -> Result<(), ReleaseError> {
    let cluster_error = |source: ClusterError| ReleaseError::Cluster {
        release: release.to_string(),
        namespace: namespace.to_string(),
        source: Box::new(source),
    };
    let discovered = cluster.discover().await.map_err(cluster_error)?;
    let known: BTreeSet<_> = previous.iter().map(|m| identity(m, namespace)).collect();
    let reads = manifests.iter().filter(|m| !known.contains(&identity(m, namespace))).filter_map(|m| {
        let resource = discovered.for_object(m.api_version(), m.kind())?;
        let object_namespace = resource.namespaced.then(|| identity(m, namespace).2);
        Some(async move { cluster.get(resource, object_namespace.as_deref(), m.name()).await })
    });
    let mut conflicts = Vec::new();
    for live in futures::future::join_all(reads).await {
        if let Some(live) = live.map_err(cluster_error)?
            && let Some(conflict) = ownership_conflict(&live, release, namespace)
        {
            let group = |api_version: &str| api_version.rsplit_once('/').map_or("", |(g, _)| g).to_string();
            let this = |a: &ObjectRef| {
                (group(&a.api_version), &a.kind, &a.namespace, &a.name)
                    == (
                        group(&conflict.object.api_version),
                        &conflict.object.kind,
                        &conflict.object.namespace,
                        &conflict.object.name,
                    )
            };
            let adopted = conflict.owner.is_none() && adopt.iter().any(this);
            let handed_over =
                handover.iter().any(|(object, owner)| this(object) && conflict.owner.as_ref() == Some(owner));
            if !adopted && !handed_over {
                conflicts.push(conflict);
            }
        }
    }
    if conflicts.is_empty() {
        Ok(())
    } else {
        Err(ReleaseError::Ownership {
            release: release.to_string(),
            namespace: namespace.to_string(),
            conflicts,
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn object(labels: Value, annotations: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "istio", "namespace": "istio-system", "labels": labels, "annotations": annotations}})
    }

    #[test]
    fn stamping_adds_helms_markers_to_every_object() {
        let mut manifests = vec![
            Manifest {
                source: "base/templates/crds.yaml".into(),
                object: json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": {"name": "x"}}),
            },
            Manifest {
                source: "base/templates/sa.yaml".into(),
                object: json!({"apiVersion": "v1", "kind": "ServiceAccount",
                    "metadata": {"name": "y", "labels": {"app.kubernetes.io/managed-by": "Tiller", "app": "y"}}}),
            },
        ];
        stamp(&mut manifests, "istio-base", "istio-system");
        for m in &manifests {
            assert_eq!(ownership_conflict(&m.object, "istio-base", "istio-system"), None, "{}", m.source);
        }
        assert_eq!(manifests[1].object["metadata"]["labels"]["app"], "y");
    }

    #[test]
    fn an_object_of_another_release_names_its_owner() {
        let live = object(
            json!({MANAGED_BY_LABEL: "Helm"}),
            json!({RELEASE_NAME_ANNOTATION: "istiod-1-6-14", RELEASE_NAMESPACE_ANNOTATION: "istio-system"}),
        );
        let conflict = ownership_conflict(&live, "istiod-1-8-6", "istio-system").unwrap();
        assert_eq!(
            conflict.owner,
            Some(Owner { release: "istiod-1-6-14".into(), namespace: "istio-system".into() })
        );
        assert_eq!(
            conflict.to_string(),
            "ConfigMap istio-system/istio (v1) belongs to release \"istiod-1-6-14\" in namespace \"istio-system\" \
             (annotation \"meta.helm.sh/release-name\" must equal \"istiod-1-8-6\": current value is \"istiod-1-6-14\")"
        );
    }

    #[test]
    fn an_unowned_object_lists_every_missing_marker() {
        let conflict =
            ownership_conflict(&object(json!({"app": "istiod"}), json!(null)), "istiod", "istio-system")
                .unwrap();
        assert_eq!(conflict.owner, None);
        assert_eq!(conflict.problems.len(), 3);
        let text = conflict.to_string();
        assert!(text.contains("is not owned by a Helm release"), "{text}");
        assert!(
            text.contains("label \"app.kubernetes.io/managed-by\" is missing: it must be set to \"Helm\""),
            "{text}"
        );
        let error = ReleaseError::Ownership {
            release: "istiod".into(),
            namespace: "istio-system".into(),
            conflicts: vec![conflict],
        }
        .to_string();
        assert!(
            error.contains("kubectl annotate") && error.contains("meta.helm.sh/release-name=istiod"),
            "{error}"
        );
    }

    #[test]
    fn a_wrong_namespace_is_a_conflict_too() {
        let live = object(
            json!({MANAGED_BY_LABEL: "Helm"}),
            json!({RELEASE_NAME_ANNOTATION: "istiod", RELEASE_NAMESPACE_ANNOTATION: "other"}),
        );
        let conflict = ownership_conflict(&live, "istiod", "istio-system").unwrap();
        assert_eq!(conflict.owner, Some(Owner { release: "istiod".into(), namespace: "other".into() }));
    }
}
