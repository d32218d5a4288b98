//! From rendered template text to the ordered list of Kubernetes objects a release is made of, as Helm
//! assembles it: split each file into documents, drop empty ones, insist that every document is an
//! object (`apiVersion`, `kind`, `metadata.name`), sort by Helm's install order (stable, unknown kinds
//! last by name), stamp the ownership metadata Helm writes at install time, and print in
//! `helm template` form.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::ChartError;
use super::engine::RenderedFile;
use crate::yaml;

/// One Kubernetes object of a release, with the template that produced it.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    /// `<chart>/templates/<file>`, as printed after `# Source:`.
    pub source: String,
    /// The object.
    pub object: Value,
}

impl Manifest {
    fn field(&self, pointer: &str) -> &str {
        self.object.pointer(pointer).and_then(Value::as_str).unwrap_or("")
    }

    /// `apiVersion`.
    pub fn api_version(&self) -> &str {
        self.field("/apiVersion")
    }

    /// `kind`.
    pub fn kind(&self) -> &str {
        self.field("/kind")
    }

    /// `metadata.name`.
    pub fn name(&self) -> &str {
        self.field("/metadata/name")
    }

    /// `metadata.namespace`, or "" when unset.
    pub fn namespace(&self) -> &str {
        self.field("/metadata/namespace")
    }
}

/// Helm's install order by kind (v3.21); kinds not listed go after all of these, by kind name.
pub const INSTALL_ORDER: &[&str] = &[
    "PriorityClass",
    "Namespace",
    "NetworkPolicy",
    "ResourceQuota",
    "LimitRange",
    "PodSecurityPolicy",
    "PodDisruptionBudget",
    "ServiceAccount",
    "Secret",
    "SecretList",
    "ConfigMap",
    "StorageClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleList",
    "ClusterRoleBinding",
    "ClusterRoleBindingList",
    "Role",
    "RoleList",
    "RoleBinding",
    "RoleBindingList",
    "Service",
    "DaemonSet",
    "Pod",
    "ReplicationController",
    "ReplicaSet",
    "Deployment",
    "HorizontalPodAutoscaler",
    "StatefulSet",
    "Job",
    "CronJob",
    "IngressClass",
    "Ingress",
    "APIService",
];

/// Splits rendered files into objects, rejecting anything that is not a Kubernetes object. Documents
/// are parsed in parallel; the objects keep file order, then document order.
pub fn from_rendered(files: &[RenderedFile]) -> Result<Vec<Manifest>, ChartError> {
    let documents: Vec<(&RenderedFile, usize, String)> = files
        .iter()
        .flat_map(|file| split_documents(&file.text).into_iter().map(move |(line, text)| (file, line, text)))
        .filter(|(_, _, text)| !text.trim().is_empty())
        .collect();
    let parsed = crate::parallel::map(
        &documents,
        |(_, _, text)| text.len(),
        |(file, line, text)| parse_document(file, *line, text),
    )?;
    Ok(parsed.into_iter().flatten().collect())
}

/// Parses one document; `None` for a document that holds only comments.
fn parse_document(file: &RenderedFile, line: usize, text: &str) -> Result<Option<Manifest>, ChartError> {
    let object = yaml::parse_one(text).map_err(|e| ChartError::RenderedYaml {
        template: file.path.clone(),
        line,
        message: e.to_string(),
    })?;
    if object.is_null() {
        return Ok(None);
    }
    let not_an_object = |problem: &str| ChartError::NotAnObject {
        template: file.path.clone(),
        line,
        problem: problem.to_string(),
    };
    let Value::Object(map) = &object else {
        return Err(not_an_object("the document is not a map"));
    };
    for (pointer, label) in
        [("/apiVersion", "apiVersion"), ("/kind", "kind"), ("/metadata/name", "metadata.name")]
    {
        match object.pointer(pointer) {
            Some(Value::String(s)) if !s.is_empty() => {}
            _ => return Err(not_an_object(&format!("{label} is missing or empty"))),
        }
    }
    if map.get("metadata").and_then(|m| m.get("annotations")).and_then(|a| a.get("helm.sh/hook")).is_some() {
        return Err(not_an_object(
            "Helm hooks (helm.sh/hook) are not supported; render it as a plain object",
        ));
    }
    Ok(Some(Manifest { source: file.path.clone(), object }))
}

/// Splits on lines that start with `---` (then nothing or white space), returning each document with
/// the 1-based line it starts on.
fn split_documents(text: &str) -> Vec<(usize, String)> {
    let mut documents = Vec::new();
    let mut current = String::new();
    let mut start = 1;
    for (index, line) in text.lines().enumerate() {
        let is_separator = line
            .strip_prefix("---")
            .is_some_and(|rest| rest.is_empty() || rest.starts_with(char::is_whitespace));
        if is_separator {
            documents.push((start, std::mem::take(&mut current)));
            start = index + 2;
            let rest = &line[3..];
            if !rest.trim().is_empty() {
                current.push_str(rest.trim_start());
                current.push('\n');
                start = index + 1;
            }
        } else {
            current.push_str(line);
            current.push('\n');
        }
    }
    documents.push((start, current));
    documents
}

fn install_rank(kind: &str) -> (usize, &str) {
    match INSTALL_ORDER.iter().position(|k| *k == kind) {
        Some(i) => (i, ""),
        None => (INSTALL_ORDER.len(), kind),
    }
}

/// Stable-sorts manifests into Helm's install order.
pub fn sort_for_install(manifests: &mut [Manifest]) {
    manifests.sort_by(|a, b| install_rank(a.kind()).cmp(&install_rank(b.kind())));
}

/// Rejects two manifests that name the same object (apiVersion group, kind, namespace, name).
pub fn check_unique(manifests: &[Manifest]) -> Result<(), ChartError> {
    let mut seen: BTreeMap<(String, &str, &str, &str), &str> = BTreeMap::new();
    for m in manifests {
        let group = m.api_version().rsplit_once('/').map_or("", |(g, _)| g).to_string();
        if let Some(first) = seen.insert((group, m.kind(), m.namespace(), m.name()), &m.source) {
            return Err(ChartError::Duplicate {
                kind: m.kind().to_string(),
                name: m.name().to_string(),
                namespace: m.namespace().to_string(),
                first: first.to_string(),
                second: m.source.clone(),
            });
        }
    }
    Ok(())
}

/// The metadata stamped on every object of a release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ownership {
    /// `meta.helm.sh/release-name`.
    pub release_name: String,
    /// `meta.helm.sh/release-namespace`.
    pub release_namespace: String,
    /// Extra labels (sailplan's own), added after Helm's.
    pub labels: BTreeMap<String, String>,
}

/// Helm's ownership label.
pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
/// Helm's release-name annotation.
pub const RELEASE_NAME_ANNOTATION: &str = "meta.helm.sh/release-name";
/// Helm's release-namespace annotation.
pub const RELEASE_NAMESPACE_ANNOTATION: &str = "meta.helm.sh/release-namespace";

/// Adds Helm's ownership label and annotations and the extra labels to every object, overwriting
/// values the chart set for those keys, as Helm does.
pub fn stamp(manifests: &mut [Manifest], ownership: &Ownership) {
    let mut labels = vec![(MANAGED_BY_LABEL.to_string(), "Helm".to_string())];
    labels.extend(ownership.labels.iter().map(|(k, v)| (k.clone(), v.clone())));
    let annotations = [
        (RELEASE_NAME_ANNOTATION.to_string(), ownership.release_name.clone()),
        (RELEASE_NAMESPACE_ANNOTATION.to_string(), ownership.release_namespace.clone()),
    ];
    for manifest in manifests {
        let Some(object) = manifest.object.as_object_mut() else { continue };
        let metadata = object.entry("metadata").or_insert_with(|| Value::Object(Map::new()));
        let Some(metadata) = metadata.as_object_mut() else { continue };
        add_strings(metadata, "labels", &labels);
        add_strings(metadata, "annotations", &annotations);
    }
}

/// Sets string entries in the map under `key`, creating it (or replacing a non-map) in place so the
/// key keeps its position.
fn add_strings(parent: &mut Map<String, Value>, key: &str, entries: &[(String, String)]) {
    let slot = parent.entry(key).or_insert_with(|| Value::Object(Map::new()));
    let mut map = match std::mem::take(slot) {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    for (k, v) in entries {
        map.insert(k.clone(), Value::String(v.clone()));
    }
    *slot = Value::Object(map);
}

/// Prints manifests as `helm template` does: `---`, `# Source: <path>`, then the object.
pub fn to_helm_template(manifests: &[Manifest]) -> Result<String, ChartError> {
    let mut out = String::new();
    for m in manifests {
        let body = yaml::to_string(&m.object)
            .map_err(|e| ChartError::Emit { template: m.source.clone(), message: e.to_string() })?;
        out.push_str("---\n# Source: ");
        out.push_str(&m.source);
        out.push('\n');
        out.push_str(&body);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn file(path: &str, text: &str) -> RenderedFile {
        RenderedFile { path: path.to_string(), text: text.to_string() }
    }

    #[test]
    fn documents_are_split_and_empty_ones_dropped() {
        let text = "---\n# only a comment\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---   \n\n--- # next\napiVersion: v1\nkind: Service\nmetadata:\n  name: b\n";
        let manifests = from_rendered(&[file("c/templates/x.yaml", text)]).unwrap();
        assert_eq!(manifests.iter().map(Manifest::name).collect::<Vec<_>>(), ["a", "b"]);
    }

    #[test]
    fn objects_without_identity_are_rejected_with_template_and_line() {
        let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ok\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  labels: {}\n";
        let error = from_rendered(&[file("c/templates/cm.yaml", text)]).unwrap_err().to_string();
        assert!(
            error.contains("c/templates/cm.yaml")
                && error.contains("line 6")
                && error.contains("metadata.name"),
            "{error}"
        );
        let error = from_rendered(&[file("c/templates/list.yaml", "- a\n- b\n")]).unwrap_err().to_string();
        assert!(error.contains("not a map"), "{error}");
        let error =
            from_rendered(&[file("c/templates/bad.yaml", "a: b\n  c: d: e\n")]).unwrap_err().to_string();
        assert!(error.starts_with("YAML parse error on c/templates/bad.yaml"), "{error}");
    }

    #[test]
    fn install_order_is_stable_with_unknown_kinds_last() {
        let make = |kind: &str, name: &str| Manifest {
            source: "s".to_string(),
            object: json!({"apiVersion": "v1", "kind": kind, "metadata": {"name": name}}),
        };
        let mut manifests = vec![
            make("Gateway", "g"),
            make("Deployment", "d"),
            make("EnvoyFilter", "e"),
            make("ServiceAccount", "sa"),
            make("CustomResourceDefinition", "crd"),
            make("Deployment", "d2"),
            make("Namespace", "ns"),
        ];
        sort_for_install(&mut manifests);
        let names: Vec<_> = manifests.iter().map(Manifest::name).collect();
        assert_eq!(names, ["ns", "sa", "crd", "d", "d2", "e", "g"]);
    }

    #[test]
    fn stamping_overwrites_chart_values_and_keeps_others() {
        let mut manifests = vec![Manifest {
            source: "s".to_string(),
            object: json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "labels": {"app": "x", "app.kubernetes.io/managed-by": "me"}}}),
        }];
        let ownership = Ownership {
            release_name: "istiod".to_string(),
            release_namespace: "istio-system".to_string(),
            labels: BTreeMap::from([("sailplan.dev/component".to_string(), "istiod".to_string())]),
        };
        stamp(&mut manifests, &ownership);
        let metadata = &manifests[0].object["metadata"];
        assert_eq!(
            metadata["labels"],
            json!({"app": "x", "app.kubernetes.io/managed-by": "Helm", "sailplan.dev/component": "istiod"})
        );
        assert_eq!(
            metadata["annotations"],
            json!({"meta.helm.sh/release-name": "istiod", "meta.helm.sh/release-namespace": "istio-system"})
        );
    }

    #[test]
    fn duplicates_are_rejected() {
        let m = Manifest {
            source: "a".to_string(),
            object: json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "x", "namespace": "n"}}),
        };
        let mut other = m.clone();
        other.source = "b".to_string();
        let error = check_unique(&[m, other]).unwrap_err().to_string();
        assert!(error.contains("rendered twice: by a and by b"), "{error}");
    }
}
