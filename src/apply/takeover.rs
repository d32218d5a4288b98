//! Taking over the fields of an object another installer made, before a release adopts it.
//!
//! Server-side apply removes a field only when its applier stops setting it and nobody else owns
//! it. An object istioctl, the Istio operator, kubectl or Helm made is owned by that manager, so
//! when a release adopts it, whatever the old installer set and the new chart leaves out would stay:
//! a Service would keep the old version's ports beside the new ones (and be rejected when two ports
//! share a name), a Deployment its old containers' settings. So, as `kubectl` does when it upgrades
//! client-side-applied objects, the field sets of the installers' entries in `managedFields` are
//! moved into sailplan's own apply entry first; the apply that follows then drops what the chart no
//! longer sets. Only known installers are taken over: fields of controllers (a Deployment's revision
//! annotation, the caBundle istiod patches into its webhooks) keep their owners.

use serde_json::{Map, Value, json};

use crate::cluster::FIELD_MANAGER;

/// Field managers of the tools that install Istio (or anything else) from manifests.
const INSTALLERS: [&str; 12] = [
    "istioctl",
    "istio-operator",
    "operator",
    "helm",
    "Tiller",
    "kubectl",
    "kubectl-client-side-apply",
    "kubectl-create",
    "kubectl-edit",
    "kubectl-patch",
    "kubectl-replace",
    "kubectl-set",
];

/// The `managedFields` of `current` with the installers' field sets moved into sailplan's apply
/// entry, or `None` when no installer owns a field of it.
pub fn transferred(current: &Value) -> Option<Vec<Value>> {
    let entries = current.pointer("/metadata/managedFields")?.as_array()?;
    let api_version = current.get("apiVersion").and_then(Value::as_str).unwrap_or_default();
    let is_installer = |entry: &Value| {
        let manager = entry.get("manager").and_then(Value::as_str).unwrap_or_default();
        let on_subresource = entry.get("subresource").and_then(Value::as_str).is_some_and(|s| !s.is_empty());
        INSTALLERS.contains(&manager) && !on_subresource
    };
    if !entries.iter().any(is_installer) {
        return None;
    }
    let is_ours = |entry: &Value| {
        entry.get("manager").and_then(Value::as_str) == Some(FIELD_MANAGER)
            && entry.get("operation").and_then(Value::as_str) == Some("Apply")
    };
    let mut fields = Value::Object(Map::new());
    let mut kept = Vec::new();
    for entry in entries {
        if is_installer(entry) || is_ours(entry) {
            if let Some(set) = entry.get("fieldsV1") {
                union(&mut fields, set);
            }
        } else {
            kept.push(entry.clone());
        }
    }
    kept.push(json!({
        "manager": FIELD_MANAGER,
        "operation": "Apply",
        "apiVersion": api_version,
        "fieldsType": "FieldsV1",
        "fieldsV1": fields,
    }));
    Some(kept)
}

/// Adds the field set `other` to `into` (a `FieldsV1` set is a tree of JSON objects, so the union is a
/// deep merge).
fn union(into: &mut Value, other: &Value) {
    match (into, other) {
        (Value::Object(target), Value::Object(source)) => {
            for (key, value) in source {
                union(target.entry(key.clone()).or_insert_with(|| Value::Object(Map::new())), value);
            }
        }
        (target, source) if target.as_object().is_some_and(Map::is_empty) => *target = source.clone(),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(managed: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "gw", "managedFields": managed}})
    }

    #[test]
    fn installer_fields_move_into_sailplans_apply_entry() {
        let current = service(json!([
            {"manager": "istioctl", "operation": "Apply", "apiVersion": "v1", "fieldsType": "FieldsV1",
             "fieldsV1": {"f:spec": {"f:ports": {"k:{\"port\":15020,\"protocol\":\"TCP\"}": {".": {}, "f:name": {}}}}}},
            {"manager": "kube-controller-manager", "operation": "Update", "apiVersion": "v1",
             "fieldsType": "FieldsV1", "fieldsV1": {"f:metadata": {"f:annotations": {"f:x": {}}}}},
            {"manager": "sailplan", "operation": "Apply", "apiVersion": "v1", "fieldsType": "FieldsV1",
             "fieldsV1": {"f:spec": {"f:ports": {"k:{\"port\":15021,\"protocol\":\"TCP\"}": {".": {}}}}}},
            {"manager": "kubectl-client-side-apply", "operation": "Update", "apiVersion": "v1",
             "subresource": "status", "fieldsType": "FieldsV1", "fieldsV1": {"f:status": {}}},
        ]));
        let entries = transferred(&current).unwrap();
        assert_eq!(entries.len(), 3, "{entries:#?}");
        assert_eq!(entries[0]["manager"], "kube-controller-manager");
        assert_eq!(entries[1]["subresource"], "status", "subresource entries keep their owner");
        let ours = &entries[2];
        assert_eq!(ours["manager"], "sailplan");
        assert_eq!(ours["operation"], "Apply");
        assert_eq!(
            ours["fieldsV1"],
            json!({"f:spec": {"f:ports": {
                "k:{\"port\":15020,\"protocol\":\"TCP\"}": {".": {}, "f:name": {}},
                "k:{\"port\":15021,\"protocol\":\"TCP\"}": {".": {}},
            }}})
        );
    }

    #[test]
    fn objects_no_installer_owns_are_left_alone() {
        let current = service(json!([
            {"manager": "pilot-discovery", "operation": "Update", "apiVersion": "v1", "fieldsType": "FieldsV1",
             "fieldsV1": {"f:webhooks": {}}},
        ]));
        assert_eq!(transferred(&current), None);
        assert_eq!(transferred(&json!({"metadata": {"name": "x"}})), None);
    }
}
