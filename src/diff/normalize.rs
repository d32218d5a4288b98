//! Normalisation: one object, on its own, brought to the form in which two versions of it can be
//! compared. What goes is what says nothing about the desired state (the API server's bookkeeping,
//! status, annotations written by tools and controllers, webhook fields istiod rewrites while it
//! runs); Secret values are replaced by a placeholder so that nothing downstream can print them; and
//! maps are sorted by key so that the text of two versions lines up.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::{Map, Value};

use crate::collect::SECRET_KEYS_ANNOTATION;

/// What a Secret's values are shown as: every key maps to this text.
pub const REDACTED: &str = "(hidden)";

const WEBHOOK_CONFIGURATIONS: &[&str] = &["MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"];

/// Fields removed before comparing, as (kinds, path); no kinds means every kind. Paths are JSON
/// pointers (`~1` stands for `/` in a key) in which `*` is every element of a list.
const DROPPED: &[(&[&str], &str)] = &[
    // Written by the API server and controllers, not by whoever declares the object.
    (&[], "/status"),
    (&[], "/metadata/managedFields"),
    (&[], "/metadata/resourceVersion"),
    (&[], "/metadata/uid"),
    (&[], "/metadata/creationTimestamp"),
    (&[], "/metadata/generation"),
    (&[], "/metadata/selfLink"),
    (&[], "/metadata/deletionGracePeriodSeconds"),
    // kubectl's record of its last apply: a copy of the object (a Secret's data included).
    (&[], "/metadata/annotations/kubectl.kubernetes.io~1last-applied-configuration"),
    // Rollout bookkeeping of the Deployment and DaemonSet controllers.
    (&["Deployment"], "/metadata/annotations/deployment.kubernetes.io~1revision"),
    (&["DaemonSet"], "/metadata/annotations/deprecated.daemonset.template.generation"),
    // istiod writes its CA bundle into its webhooks and turns validation from Ignore to Fail once it
    // serves: run-time state, not configuration.
    (WEBHOOK_CONFIGURATIONS, "/webhooks/*/clientConfig/caBundle"),
    (WEBHOOK_CONFIGURATIONS, "/webhooks/*/failurePolicy"),
];

/// The form of an object that is compared and shown: without the fields in the dropped list above,
/// with a Secret's `data` and `stringData` (or the key list a snapshot records instead) turned into
/// `data` with every key's value [`REDACTED`], without null values (which mean "unset"), without
/// empty `metadata.labels`, `metadata.annotations` and `metadata.namespace`, and with every map
/// sorted by key.
pub fn normalize(object: &Value) -> Value {
    let kind = object.get("kind").and_then(Value::as_str).unwrap_or("");
    let paths = dropped_for(kind);
    let mut out = copy(object, &paths);
    if kind == "Secret" {
        redact_secret(&mut out);
    }
    if let Some(metadata) = out.get_mut("metadata").and_then(Value::as_object_mut) {
        metadata.retain(|key, value| match (key.as_str(), value) {
            ("labels" | "annotations", Value::Object(map)) => !map.is_empty(),
            ("namespace", Value::String(namespace)) => !namespace.is_empty(),
            _ => true,
        });
    }
    out
}

/// Writes [`normalize`]`(object)` as compact JSON: byte for byte `normalize(object).to_string()`,
/// without building the normalised copy (except for a Secret, whose values are rewritten). The
/// fingerprint hashes every object this way.
pub fn write_normalized(object: &Value, out: impl std::io::Write) -> serde_json::Result<()> {
    let kind = object.get("kind").and_then(Value::as_str).unwrap_or("");
    if kind == "Secret" {
        return serde_json::to_writer(out, &normalize(object));
    }
    serde_json::to_writer(out, &Normalized { value: object, paths: dropped_for(kind), place: Place::Top })
}

/// Where a value is in its object: the top and the top's `metadata` get [`normalize`]'s metadata
/// rules.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Place {
    Top,
    Metadata,
    Inside,
}

/// A value as [`copy`] would copy it, serialised in place.
struct Normalized<'v, 'p> {
    value: &'v Value,
    paths: Vec<&'p [String]>,
    place: Place,
}

impl Serialize for Normalized<'_, '_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.value {
            Value::Object(map) => {
                let mut entries: Vec<(&String, &Value, Vec<&[String]>)> = map
                    .iter()
                    .filter(|(_, v)| !v.is_null())
                    .filter_map(|(key, child)| {
                        let below = descend(&self.paths, key);
                        (!below.iter().any(|rest| rest.is_empty())).then_some((key, child, below))
                    })
                    .filter(|(key, child, below)| {
                        self.place != Place::Metadata || !empty_in_metadata(key, child, below)
                    })
                    .collect();
                entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
                let mut out = serializer.serialize_map(Some(entries.len()))?;
                for (key, child, below) in entries {
                    let place = if self.place == Place::Top && key == "metadata" {
                        Place::Metadata
                    } else {
                        Place::Inside
                    };
                    out.serialize_entry(key, &Normalized { value: child, paths: below, place })?;
                }
                out.end()
            }
            Value::Array(items) => {
                let below = descend(&self.paths, "*");
                let mut out = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    out.serialize_element(&Normalized {
                        value: item,
                        paths: below.clone(),
                        place: Place::Inside,
                    })?;
                }
                out.end()
            }
            other => other.serialize(serializer),
        }
    }
}

/// Whether [`normalize`] leaves a `metadata` entry out as empty: labels or annotations with nothing
/// left once copied, or an empty namespace.
fn empty_in_metadata(key: &str, value: &Value, paths: &[&[String]]) -> bool {
    match (key, value) {
        ("labels" | "annotations", Value::Object(map)) => !map
            .iter()
            .any(|(key, child)| !child.is_null() && !descend(paths, key).iter().any(|rest| rest.is_empty())),
        ("namespace", Value::String(namespace)) => namespace.is_empty(),
        _ => false,
    }
}

/// The [`DROPPED`] paths that apply to objects of `kind`.
fn dropped_for(kind: &str) -> Vec<&'static [String]> {
    dropped()
        .iter()
        .filter(|(kinds, _)| kinds.is_empty() || kinds.contains(&kind))
        .map(|(_, path)| path.as_slice())
        .collect()
}

/// A copy of `value` without null map values and without what `paths` name (`*`: every list
/// element), with every map sorted by key. One pass, so that large parts that are dropped
/// (`managedFields`, `status`) are never copied.
fn copy(value: &Value, paths: &[&[String]]) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().filter(|(_, v)| !v.is_null()).collect();
            entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
            let mut out = Map::with_capacity(entries.len());
            for (key, child) in entries {
                let below = descend(paths, key);
                if !below.iter().any(|rest| rest.is_empty()) {
                    out.insert(key.clone(), copy(child, &below));
                }
            }
            Value::Object(out)
        }
        Value::Array(items) => {
            let below = descend(paths, "*");
            Value::Array(items.iter().map(|item| copy(item, &below)).collect())
        }
        other => other.clone(),
    }
}

/// What is left of `paths` below `key`; an empty rest means `key` itself is dropped.
fn descend<'p>(paths: &[&'p [String]], key: &str) -> Vec<&'p [String]> {
    if paths.is_empty() {
        return Vec::new();
    }
    paths
        .iter()
        .filter_map(|path| path.split_first())
        .filter(|(first, _)| *first == key)
        .map(|(_, rest)| rest)
        .collect()
}

/// [`DROPPED`] with each path split into keys.
fn dropped() -> &'static [(&'static [&'static str], Vec<String>)] {
    static SPLIT: OnceLock<Vec<(&'static [&'static str], Vec<String>)>> = OnceLock::new();
    SPLIT.get_or_init(|| {
        let unescape = |segment: &str| segment.replace("~1", "/").replace("~0", "~");
        DROPPED
            .iter()
            .map(|(kinds, path)| (*kinds, path.split('/').skip(1).map(unescape).collect()))
            .collect()
    })
}

/// Replaces a Secret's values with [`REDACTED`], keeping its key names: `data`, `stringData` (which
/// the server merges into `data`) and the key list of a snapshot all become `data`.
fn redact_secret(secret: &mut Value) {
    let Some(map) = secret.as_object_mut() else { return };
    let mut keys = BTreeSet::new();
    for field in ["data", "stringData"] {
        if let Some(Value::Object(data)) = map.remove(field) {
            keys.extend(data.into_iter().map(|(k, _)| k));
        }
    }
    let recorded = map
        .get_mut("metadata")
        .and_then(|m| m.get_mut("annotations"))
        .and_then(Value::as_object_mut)
        .and_then(|a| a.remove(SECRET_KEYS_ANNOTATION));
    if let Some(Value::String(list)) = recorded {
        keys.extend(list.split(',').filter(|k| !k.is_empty()).map(str::to_string));
    }
    if !keys.is_empty() {
        let data: Map<String, Value> =
            keys.into_iter().map(|k| (k, Value::String(REDACTED.to_string()))).collect();
        map.insert("data".to_string(), Value::Object(data));
        map.sort_keys();
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn server_bookkeeping_and_status_go() {
        let object = json!({"apiVersion": "v1", "kind": "ConfigMap", "status": {"x": 1},
            "metadata": {"name": "a", "namespace": "n", "managedFields": [{"manager": "sailplan"}],
                "resourceVersion": "42", "uid": "u", "creationTimestamp": "2024-01-01T00:00:00Z",
                "generation": 3, "selfLink": "/api/v1/x", "deletionGracePeriodSeconds": 30,
                "labels": {"app": "a"}}, "data": {"k": "v"}});
        assert_eq!(
            normalize(&object),
            json!({"apiVersion": "v1", "data": {"k": "v"}, "kind": "ConfigMap",
                "metadata": {"labels": {"app": "a"}, "name": "a", "namespace": "n"}})
        );
    }

    #[test]
    fn tool_and_controller_annotations_go_and_empty_metadata_maps_with_them() {
        let object = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d",
            "namespace": "", "labels": {},
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}",
                "deployment.kubernetes.io/revision": "4"}}});
        assert_eq!(
            normalize(&object),
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}})
        );
        // The revision annotation means something else on other kinds and is kept there.
        let other = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c",
            "annotations": {"deployment.kubernetes.io/revision": "4"}}});
        assert_eq!(
            normalize(&other)["metadata"]["annotations"],
            json!({"deployment.kubernetes.io/revision": "4"})
        );
        let daemon_set = json!({"kind": "DaemonSet", "metadata": {"name": "d",
            "annotations": {"deprecated.daemonset.template.generation": "2", "keep": "me"}}});
        assert_eq!(normalize(&daemon_set)["metadata"]["annotations"], json!({"keep": "me"}));
    }

    #[test]
    fn webhook_run_time_fields_go_from_every_webhook() {
        for kind in WEBHOOK_CONFIGURATIONS {
            let object = json!({"kind": kind, "metadata": {"name": "w"}, "webhooks": [
                {"name": "a", "failurePolicy": "Fail", "clientConfig": {"caBundle": "LS0t", "service": {"name": "istiod"}}},
                {"name": "b", "failurePolicy": "Ignore", "clientConfig": {"url": "https://x"}}]});
            assert_eq!(
                normalize(&object)["webhooks"],
                json!([{"clientConfig": {"service": {"name": "istiod"}}, "name": "a"},
                    {"clientConfig": {"url": "https://x"}, "name": "b"}]),
                "{kind}"
            );
        }
        // Other kinds keep fields of those names.
        let other =
            json!({"kind": "Other", "metadata": {"name": "o"}, "webhooks": [{"failurePolicy": "Fail"}]});
        assert_eq!(normalize(&other)["webhooks"], json!([{"failurePolicy": "Fail"}]));
    }

    #[test]
    fn secrets_keep_key_names_only_whatever_form_they_come_in() {
        let planned = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
            "data": {"tls.key": "c2VjcmV0"}, "stringData": {"token": "hunter2"}});
        let collected = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s",
            "annotations": {SECRET_KEYS_ANNOTATION: "tls.key,token"}}});
        let expected = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
            "data": {"tls.key": REDACTED, "token": REDACTED}});
        assert_eq!(normalize(&planned), expected);
        assert_eq!(normalize(&collected), expected);
        let text = normalize(&planned).to_string();
        assert!(!text.contains("c2VjcmV0") && !text.contains("hunter2"), "{text}");
    }

    #[test]
    fn nulls_go_and_maps_are_sorted() {
        let object = json!({"kind": "X", "metadata": {"name": "x"}, "spec": {"b": null, "z": 1, "a": [{"y": 1, "x": null}]}});
        let normal = normalize(&object);
        assert_eq!(
            normal,
            json!({"kind": "X", "metadata": {"name": "x"}, "spec": {"a": [{"y": 1}], "z": 1}})
        );
        let keys: Vec<&String> = normal.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["kind", "metadata", "spec"]);
    }

    #[test]
    fn written_normal_form_is_the_normal_form_as_text() {
        let objects = [
            json!({"apiVersion": "v1", "kind": "ConfigMap", "status": {"x": 1},
                "metadata": {"name": "a", "namespace": "", "managedFields": [{"manager": "m"}], "uid": "u",
                    "labels": {"z": "1", "a": null}, "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}"}},
                "data": {"b": "2", "a": "1", "n": null}, "list": [{"y": 1, "x": [3, 2.5, "s\"q"]}]}),
            json!({"kind": "MutatingWebhookConfiguration", "metadata": {"name": "w", "labels": {}},
                "webhooks": [{"name": "a", "failurePolicy": "Fail", "clientConfig": {"caBundle": "LS0t"}}]}),
            json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "data": {"k": "djE="}}),
            json!({"kind": "Deployment", "metadata": {"name": "d", "annotations": {"deployment.kubernetes.io/revision": "4"}},
                "spec": {"template": {"metadata": {"labels": {}}}}}),
        ];
        for object in objects {
            let mut written = Vec::new();
            write_normalized(&object, &mut written).unwrap();
            assert_eq!(String::from_utf8(written).unwrap(), normalize(&object).to_string(), "{object}");
        }
    }
}
