//! How the simulation changes a stored object: server-side apply (simplified to one applier's field
//! set, see below), JSON merge patches (RFC 7386), and label selectors. Pure functions over JSON
//! values, so the rules can be read and tested apart from the store.
//!
//! Server-side apply is modelled the way it behaves for sailplan's plans: sailplan is the only
//! applier that matters, so the simulation remembers the last object sailplan applied instead of
//! per-field ownership (`managedFields`). Fields sailplan set before and leaves out now are removed;
//! fields other writers set (the installer of the snapshot's objects, kubectl labels) stay. Lists are
//! replaced whole (the API server merges some lists by key, such as containers by name; sailplan
//! always applies whole objects, so the result is the same). Conflicts with other managers are not
//! modelled: sailplan applies with `force`.

use serde_json::{Map, Value};

use crate::inventory::lookup;

/// Applies `applied` over `stored`: removes what `previous` (sailplan's last apply) set and `applied`
/// no longer does, then sets everything `applied` sets.
pub fn server_side_apply(stored: &mut Value, previous: Option<&Value>, applied: &Value) {
    if let Some(previous) = previous {
        remove_dropped(stored, previous, applied);
    }
    overlay(stored, applied);
}

fn remove_dropped(stored: &mut Value, previous: &Value, applied: &Value) {
    let (Some(stored), Some(previous)) = (stored.as_object_mut(), previous.as_object()) else { return };
    for (key, before) in previous {
        match applied.get(key) {
            None => {
                stored.remove(key);
            }
            Some(now) if before.is_object() && now.is_object() => {
                if let Some(child) = stored.get_mut(key) {
                    remove_dropped(child, before, now);
                }
            }
            Some(_) => {}
        }
    }
}

/// Sets every field of `patch` in `target`: maps merge, everything else replaces.
fn overlay(target: &mut Value, patch: &Value) {
    match (target.as_object_mut(), patch.as_object()) {
        (Some(target), Some(patch)) => {
            for (key, value) in patch {
                match target.get_mut(key) {
                    Some(child) if child.is_object() && value.is_object() => overlay(child, value),
                    _ => {
                        target.insert(key.clone(), value.clone());
                    }
                }
            }
        }
        _ => *target = patch.clone(),
    }
}

/// RFC 7386 JSON merge patch: maps merge, `null` removes, everything else replaces.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Some(patch) = patch.as_object() else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    if let Some(target) = target.as_object_mut() {
        for (key, value) in patch {
            if value.is_null() {
                target.remove(key);
            } else {
                merge_patch(target.entry(key.clone()).or_insert(Value::Null), value);
            }
        }
    }
}

/// One requirement of a label selector.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Requirement {
    Equals(String, String),
    NotEquals(String, String),
    Exists(String),
    Absent(String),
}

/// A label selector in the API's string form (`a=b,c!=d,e,!f`; set-based `in`/`notin` are not
/// used by sailplan and not parsed).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Selector(Vec<Requirement>);

impl Selector {
    /// Parses `text`; an empty or missing selector matches everything.
    pub fn parse(text: Option<&str>) -> Selector {
        let requirements = text
            .unwrap_or("")
            .split(',')
            .map(str::trim)
            .filter(|part| !part.is_empty())
            .map(|part| {
                if let Some((key, value)) = part.split_once("!=") {
                    Requirement::NotEquals(key.trim().to_string(), value.trim().to_string())
                } else if let Some((key, value)) = part.split_once('=') {
                    let value = value.trim_start_matches('=');
                    Requirement::Equals(key.trim().to_string(), value.trim().to_string())
                } else if let Some(key) = part.strip_prefix('!') {
                    Requirement::Absent(key.trim().to_string())
                } else {
                    Requirement::Exists(part.to_string())
                }
            })
            .collect();
        Selector(requirements)
    }

    /// Whether an object's labels match.
    pub fn matches(&self, object: &Value) -> bool {
        let labels = lookup(object, "/metadata/labels").and_then(Value::as_object);
        let label = |key: &str| labels.and_then(|l| l.get(key)).and_then(Value::as_str);
        self.0.iter().all(|requirement| match requirement {
            Requirement::Equals(key, value) => label(key) == Some(value.as_str()),
            Requirement::NotEquals(key, value) => label(key) != Some(value.as_str()),
            Requirement::Exists(key) => label(key).is_some(),
            Requirement::Absent(key) => label(key).is_none(),
        })
    }
}

/// Whether a workload's `spec.selector` (`matchLabels`, and `matchExpressions` with `In`, `NotIn`,
/// `Exists`, `DoesNotExist`) selects labels `labels`. A workload without a selector selects nothing.
pub fn workload_selects(selector: Option<&Value>, labels: Option<&Map<String, Value>>) -> bool {
    let Some(selector) = selector else { return false };
    let label = |key: &str| labels.and_then(|l| l.get(key)).and_then(Value::as_str);
    let mut any = false;
    if let Some(match_labels) = selector.get("matchLabels").and_then(Value::as_object) {
        for (key, value) in match_labels {
            any = true;
            if label(key) != value.as_str() {
                return false;
            }
        }
    }
    for expression in selector.get("matchExpressions").and_then(Value::as_array).into_iter().flatten() {
        any = true;
        let key = expression.get("key").and_then(Value::as_str).unwrap_or("");
        let values: Vec<&str> = expression
            .get("values")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let ok = match expression.get("operator").and_then(Value::as_str).unwrap_or("") {
            "In" => label(key).is_some_and(|v| values.contains(&v)),
            "NotIn" => label(key).is_none_or(|v| !values.contains(&v)),
            "Exists" => label(key).is_some(),
            "DoesNotExist" => label(key).is_none(),
            _ => false,
        };
        if !ok {
            return false;
        }
    }
    any
}

/// Whether a Service's `spec.selector` (a plain label map) selects `labels`; a Service without a
/// selector selects nothing (its endpoints are managed by hand).
pub fn service_selects(selector: Option<&Map<String, Value>>, labels: Option<&Map<String, Value>>) -> bool {
    match selector {
        Some(selector) if !selector.is_empty() => {
            selector.iter().all(|(key, value)| labels.and_then(|l| l.get(key)).is_some_and(|v| v == value))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn apply_removes_only_what_sailplan_dropped() {
        let mut stored =
            json!({"metadata": {"labels": {"a": "1", "kubectl": "x"}}, "data": {"k": "v", "old": "o"}});
        let previous = json!({"metadata": {"labels": {"a": "1"}}, "data": {"k": "v", "old": "o"}});
        let applied = json!({"metadata": {"labels": {"a": "2"}}, "data": {"k": "w"}});
        server_side_apply(&mut stored, Some(&previous), &applied);
        assert_eq!(stored, json!({"metadata": {"labels": {"a": "2", "kubectl": "x"}}, "data": {"k": "w"}}));
        // Without a previous apply, fields set by others stay.
        let mut seeded = json!({"spec": {"x": 1, "y": [1, 2]}});
        server_side_apply(&mut seeded, None, &json!({"spec": {"y": [3]}}));
        assert_eq!(seeded, json!({"spec": {"x": 1, "y": [3]}}));
    }

    #[test]
    fn merge_patches_follow_rfc_7386() {
        let mut target = json!({"a": "b", "c": {"d": "e", "f": "g"}});
        merge_patch(&mut target, &json!({"a": "z", "c": {"f": null}, "n": {"m": 1}}));
        assert_eq!(target, json!({"a": "z", "c": {"d": "e"}, "n": {"m": 1}}));
    }

    #[test]
    fn selectors_match_labels() {
        let pod = json!({"metadata": {"labels": {"app": "istiod", "istio.io/rev": "1-6-14"}}});
        assert!(Selector::parse(Some("app=istiod,istio.io/rev=1-6-14")).matches(&pod));
        assert!(Selector::parse(Some("app==istiod,!missing,app")).matches(&pod));
        assert!(!Selector::parse(Some("app!=istiod")).matches(&pod));
        assert!(Selector::parse(None).matches(&pod));
        let labels = lookup(&pod, "/metadata/labels").and_then(Value::as_object);
        assert!(workload_selects(Some(&json!({"matchLabels": {"app": "istiod"}})), labels));
        assert!(workload_selects(
            Some(
                &json!({"matchExpressions": [{"key": "istio.io/rev", "operator": "In", "values": ["1-6-14"]}]})
            ),
            labels
        ));
        assert!(!workload_selects(Some(&json!({})), labels));
        assert!(service_selects(json!({"app": "istiod"}).as_object(), labels));
        assert!(!service_selects(json!({}).as_object(), labels));
    }
}
