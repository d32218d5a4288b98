//! Moving the data plane to the new control plane, in batches of namespaces: each batch relabels
//! its namespaces to the new revision (or relies on a revision tag that was moved), restarts their
//! workloads so the pods are injected again, and is gated on the rollouts, pod readiness and every
//! proxy reporting the new revision. Namespaces carrying both injection labels are fixed on the way
//! (`istio-injection` wins over `istio.io/rev`, so the revision label alone never took effect).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::model::{Action, DataPlanePolicy, Gate, ObjectRef};
use super::state::State;
use crate::inventory::{Inventory, text};

/// Namespaces that never carry workloads to move.
const SYSTEM_NAMESPACES: [&str; 4] = ["istio-system", "kube-system", "kube-public", "kube-node-lease"];

const INJECTION_LABEL: &str = "istio-injection";
const REVISION_LABEL: &str = "istio.io/rev";

/// One batch, ready to become a step.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    /// Step name.
    pub name: String,
    /// Step title.
    pub title: String,
    /// Relabels and restarts.
    pub actions: Vec<Action>,
    /// Rollout, readiness and convergence gates.
    pub gates: Vec<Gate>,
    /// Labels back, and restart again.
    pub undo: Vec<Action>,
}

/// Where the data plane goes.
#[derive(Debug, Clone)]
pub struct Destination<'a> {
    /// The new revision (canary), or none when the control plane was replaced in place.
    pub revision: Option<&'a str>,
    /// The new version.
    pub version: &'a semver::Version,
    /// Revisions being replaced.
    pub old_revisions: &'a [String],
    /// Tags that now point at the new revision (their namespaces only need a restart).
    pub moved_tags: &'a [String],
}

fn labels(namespace: &Value) -> BTreeMap<String, String> {
    namespace
        .pointer("/metadata/labels")
        .and_then(Value::as_object)
        .map(|m| m.iter().filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string()))).collect())
        .unwrap_or_default()
}

/// The workloads of a namespace whose pods are injected (not opted out in their template).
fn workloads(state: &State, namespace: &str) -> Vec<ObjectRef> {
    let mut out: Vec<ObjectRef> = ["Deployment", "StatefulSet", "DaemonSet"]
        .into_iter()
        .flat_map(|kind| state.of_kind("apps", kind, Some(namespace)))
        .filter(|o| {
            let opt_out = |p: &str| o.pointer(p).and_then(Value::as_str) == Some("false");
            !opt_out("/spec/template/metadata/annotations/sidecar.istio.io~1inject")
                && !opt_out("/spec/template/metadata/labels/sidecar.istio.io~1inject")
        })
        .filter_map(ObjectRef::of)
        .collect();
    out.sort();
    out
}

/// What one namespace needs.
struct Move {
    namespace: String,
    set: BTreeMap<String, String>,
    remove: Vec<String>,
    workloads: Vec<ObjectRef>,
}

/// The batches, in the policy's namespace order.
pub fn batches(
    inventory: &Inventory,
    state: &State,
    policy: &DataPlanePolicy,
    to: &Destination<'_>,
) -> Vec<Batch> {
    let stale: BTreeSet<String> = inventory
        .proxies
        .iter()
        .filter(|p| {
            p.version.as_ref() != Some(to.version)
                || to.revision.is_some_and(|r| p.revision.as_deref() != Some(r))
        })
        .map(|p| p.pod.namespace.clone())
        .collect();
    let mut namespaces: Vec<(String, BTreeMap<String, String>)> = state
        .of_kind("", "Namespace", Some(""))
        .map(|o| (text(o, "/metadata/name"), labels(o)))
        .filter(|(name, _)| !SYSTEM_NAMESPACES.contains(&name.as_str()))
        .collect();
    let rank = |name: &str| policy.namespace_order.iter().position(|n| n == name).unwrap_or(usize::MAX);
    namespaces.sort_by(|a, b| (rank(&a.0), &a.0).cmp(&(rank(&b.0), &b.0)));

    let mut moves = Vec::new();
    for (namespace, labels) in namespaces {
        let injection = labels.get(INJECTION_LABEL).map(String::as_str);
        let revision = labels.get(REVISION_LABEL).map(String::as_str);
        if injection == Some("disabled") || (injection != Some("enabled") && revision.is_none()) {
            continue;
        }
        let mut set = BTreeMap::new();
        let mut remove = Vec::new();
        if let Some(target) = to.revision {
            let via_tag = revision.is_some_and(|r| to.moved_tags.iter().any(|t| t == r))
                || (revision.is_none() && to.moved_tags.iter().any(|t| t == "default"));
            if !via_tag {
                if injection.is_some() {
                    remove.push(INJECTION_LABEL.to_string());
                }
                if revision != Some(target) {
                    set.insert(REVISION_LABEL.to_string(), target.to_string());
                }
            }
            // `istio-injection=enabled` wins over `istio.io/rev`: such a namespace runs the default
            // revision whatever its revision label says.
            let old = injection == Some("enabled")
                || revision.is_none_or(|r| to.old_revisions.iter().any(|o| o == r) || r == target);
            if !old && !via_tag {
                continue;
            }
        }
        if set.is_empty() && remove.is_empty() && !stale.contains(&namespace) {
            continue;
        }
        let workloads = workloads(state, &namespace);
        moves.push(Move { namespace, set, remove, workloads });
    }

    let size = policy.batch_size.max(1);
    let count = moves.len().div_ceil(size);
    moves
        .chunks(size)
        .enumerate()
        .map(|(index, chunk)| {
            let names: Vec<&str> = chunk.iter().map(|m| m.namespace.as_str()).collect();
            let mut actions = Vec::new();
            let mut undo = Vec::new();
            for m in chunk {
                if !m.set.is_empty() || !m.remove.is_empty() {
                    actions.push(Action::Relabel {
                        namespace: m.namespace.clone(),
                        set: m.set.clone(),
                        remove: m.remove.clone(),
                    });
                    let before = state.get("", "Namespace", "", &m.namespace).map(labels).unwrap_or_default();
                    undo.push(Action::Relabel {
                        namespace: m.namespace.clone(),
                        set: m
                            .remove
                            .iter()
                            .chain(m.set.keys())
                            .filter_map(|k| Some((k.clone(), before.get(k)?.clone())))
                            .collect(),
                        remove: m.set.keys().filter(|k| !before.contains_key(*k)).cloned().collect(),
                    });
                }
            }
            for m in chunk.iter().filter(|m| !m.workloads.is_empty()) {
                actions
                    .push(Action::Restart { namespace: m.namespace.clone(), workloads: m.workloads.clone() });
                undo.push(Action::Restart { namespace: m.namespace.clone(), workloads: m.workloads.clone() });
            }
            let joined = names.join(",");
            let converged = to
                .revision
                .map_or_else(|| ("version", to.version.to_string()), |r| ("revision", r.to_string()));
            Batch {
                name: format!("data-plane-{}", index + 1),
                title: format!("Data plane batch {}/{count}: {}", index + 1, names.join(", ")),
                actions,
                gates: vec![
                    Gate::new("rollout-complete", "10m", &[("namespaces", &joined)]),
                    Gate::new("pods-ready", "10m", &[("namespaces", &joined)]),
                    Gate::new(
                        "proxies-converged",
                        "10m",
                        &[("namespaces", &joined), (converged.0, &converged.1)],
                    ),
                    Gate::new("no-dual-injection-labels", "30s", &[("namespaces", &joined)]),
                ],
                undo,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::{Snapshot, SnapshotInfo};
    use serde_json::json;

    /// TV-29 of the migration spec: canary relabel to revision 1-6-5, one namespace with both labels.
    #[test]
    fn tv29_relabels_fixes_both_labels_and_leaves_opted_out_namespaces() {
        let objects = vec![
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "foo", "labels": {"istio-injection": "enabled"}}}),
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "bar", "labels": {"istio-injection": "enabled", "istio.io/rev": "1-6-5"}}}),
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "tools", "labels": {"istio-injection": "disabled"}}}),
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "foo"}, "spec": {"template": {}}}),
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "api", "namespace": "bar"}, "spec": {"template": {}}}),
        ];
        let snapshot = Snapshot::new(SnapshotInfo::default(), objects.clone());
        let inventory = Inventory::from_snapshot(&snapshot);
        let state = State::new(&objects);
        let policy = DataPlanePolicy {
            batch_size: 10,
            pause: "0s".to_string(),
            namespace_order: vec!["foo".to_string()],
        };
        let version = semver::Version::new(1, 6, 5);
        let destination = Destination {
            revision: Some("1-6-5"),
            version: &version,
            old_revisions: &["default".to_string()],
            moved_tags: &[],
        };
        let batches = batches(&inventory, &state, &policy, &destination);
        assert_eq!(batches.len(), 1);
        let relabels: Vec<&Action> =
            batches[0].actions.iter().filter(|a| matches!(a, Action::Relabel { .. })).collect();
        assert_eq!(
            relabels,
            [
                &Action::Relabel {
                    namespace: "foo".into(),
                    set: [("istio.io/rev".to_string(), "1-6-5".to_string())].into(),
                    remove: vec!["istio-injection".into()]
                },
                &Action::Relabel {
                    namespace: "bar".into(),
                    set: BTreeMap::new(),
                    remove: vec!["istio-injection".into()]
                },
            ]
        );
        let restarted: Vec<&str> = batches[0]
            .actions
            .iter()
            .filter_map(|a| match a {
                Action::Restart { namespace, .. } => Some(namespace.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(restarted, ["foo", "bar"], "bar's pods were injected by the legacy webhook");
        assert_eq!(
            batches[0].undo[0],
            Action::Relabel {
                namespace: "foo".into(),
                set: [("istio-injection".to_string(), "enabled".to_string())].into(),
                remove: vec!["istio.io/rev".into()]
            }
        );
    }

    #[test]
    fn namespaces_are_batched_in_the_requested_order() {
        let objects: Vec<Value> = ["a", "b", "c", "d", "e"]
            .iter()
            .map(|n| json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": n, "labels": {"istio-injection": "enabled"}}}))
            .collect();
        let snapshot = Snapshot::new(SnapshotInfo::default(), objects.clone());
        let policy = DataPlanePolicy {
            batch_size: 2,
            pause: "30s".to_string(),
            namespace_order: vec!["d".to_string()],
        };
        let version = semver::Version::new(1, 6, 14);
        let destination =
            Destination { revision: Some("1-6-14"), version: &version, old_revisions: &[], moved_tags: &[] };
        let batches =
            batches(&Inventory::from_snapshot(&snapshot), &State::new(&objects), &policy, &destination);
        let titles: Vec<&str> = batches.iter().map(|b| b.title.as_str()).collect();
        assert_eq!(
            titles,
            ["Data plane batch 1/3: d, a", "Data plane batch 2/3: b, c", "Data plane batch 3/3: e"]
        );
    }
}
