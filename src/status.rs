//! What a mesh runs now, in one view: control-plane revisions and the tags pointing at them, which
//! namespaces select which revision and how many proxies run there at which version, the Helm
//! releases recorded for the control plane, and the last apply's journal. `sailplan status` prints
//! it for a live cluster or a snapshot, and `rehearse` prints it for the end state of a rehearsal.
//!
//! Everything comes from the observed objects as `collect` reads them: release Secrets by their
//! labels (their content is never read here), the journal from its ConfigMap.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::apply::journal::{self, Journal, MANAGED_BY, StepStatus};
use crate::inventory::{Inventory, label, text};

/// A control plane and the tags that point at it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ControlPlaneStatus {
    /// `default`, `legacy` (the 1.4 microservices) or the revision.
    pub revision: String,
    /// Its version, when its image tells it.
    pub version: Option<String>,
    /// Revision tags pointing at it.
    pub tags: Vec<String>,
    /// Injected proxies that report it.
    pub proxies: usize,
}

/// A namespace that asks for injection, and what runs there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NamespaceStatus {
    /// The namespace.
    pub name: String,
    /// The label that selects injection (`istio.io/rev=1-6-14`, `istio-injection=enabled`).
    pub selects: String,
    /// Proxies per `revision@version` (`?` when unknown).
    pub proxies: BTreeMap<String, usize>,
}

/// A Helm release as its newest record's labels say.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReleaseStatus {
    /// The release name.
    pub name: String,
    /// Its namespace.
    pub namespace: String,
    /// Its newest revision.
    pub revision: u32,
    /// That revision's status (`deployed`, `superseded`, `failed`, `pending-upgrade`, …).
    pub status: String,
}

/// The last apply, as its journal records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApplyStatus {
    /// The plan's id.
    pub plan: String,
    /// Steps per status (`done`, `running`, `undone`, …).
    pub steps: BTreeMap<String, usize>,
    /// The last step that ran, with its status.
    pub last_step: Option<String>,
}

/// The whole view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MeshStatus {
    /// Control planes, oldest first.
    pub control_planes: Vec<ControlPlaneStatus>,
    /// Namespaces that ask for injection.
    pub namespaces: Vec<NamespaceStatus>,
    /// Injected proxies in all.
    pub proxies: usize,
    /// Helm releases.
    pub releases: Vec<ReleaseStatus>,
    /// The journals of applies, most recently written first.
    pub applies: Vec<ApplyStatus>,
}

impl MeshStatus {
    /// The view of what `inventory` observed.
    pub fn of(inventory: &Inventory) -> MeshStatus {
        let revision_of =
            |proxy: &crate::inventory::Proxy| proxy.revision.clone().unwrap_or_else(|| "default".into());
        let mut control_planes: Vec<ControlPlaneStatus> = inventory
            .control_planes
            .iter()
            .map(|cp| ControlPlaneStatus {
                revision: cp.revision.clone(),
                version: cp.version().map(ToString::to_string),
                tags: inventory
                    .revision_tags
                    .iter()
                    .filter(|t| t.revision == cp.revision)
                    .map(|t| t.tag.clone())
                    .collect(),
                proxies: inventory.proxies.iter().filter(|p| revision_of(p) == cp.revision).count(),
            })
            .collect();
        control_planes.sort_by(|a, b| (&a.version, &a.revision).cmp(&(&b.version, &b.revision)));

        let mut by_namespace: BTreeMap<&str, BTreeMap<String, usize>> = BTreeMap::new();
        for proxy in &inventory.proxies {
            let version = proxy.version.as_ref().map_or_else(|| "?".to_string(), ToString::to_string);
            *by_namespace
                .entry(proxy.pod.namespace.as_str())
                .or_default()
                .entry(format!("{}@{version}", revision_of(proxy)))
                .or_default() += 1;
        }
        let namespaces = inventory
            .namespaces
            .iter()
            .filter_map(|ns| {
                let selects = match (&ns.injection, &ns.revision) {
                    (Some(injection), _) => format!("istio-injection={injection}"),
                    (None, Some(revision)) => format!("istio.io/rev={revision}"),
                    (None, None) => return None,
                };
                Some(NamespaceStatus {
                    name: ns.name.clone(),
                    selects,
                    proxies: by_namespace.get(ns.name.as_str()).cloned().unwrap_or_default(),
                })
            })
            .collect();

        let mut newest: BTreeMap<(String, String), ReleaseStatus> = BTreeMap::new();
        for secret in inventory.of_kind("Secret").filter(|s| text(s, "/type") == crate::release::SECRET_TYPE)
        {
            let (Some(name), Some(revision)) =
                (label(secret, "name"), label(secret, "version").and_then(|v| v.parse::<u32>().ok()))
            else {
                continue;
            };
            let namespace = text(secret, "/metadata/namespace");
            let release = ReleaseStatus {
                name: name.to_string(),
                namespace: namespace.clone(),
                revision,
                status: label(secret, "status").unwrap_or("unknown").to_string(),
            };
            let key = (namespace, name.to_string());
            if newest.get(&key).is_none_or(|known| known.revision < revision) {
                newest.insert(key, release);
            }
        }

        let mut journals: Vec<Journal> = journal::from_config_maps(
            inventory.of_kind("ConfigMap").filter(|c| label(c, MANAGED_BY.0) == Some(MANAGED_BY.1)),
        );
        journals.sort_by(|a, b| b.updated_at.cmp(&a.updated_at));
        let applies = journals.iter().map(apply_status).collect();

        MeshStatus {
            control_planes,
            namespaces,
            proxies: inventory.proxies.len(),
            releases: newest.into_values().collect(),
            applies,
        }
    }

    /// The view as text: one table per part, readable without colour.
    pub fn text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "Control planes");
        if self.control_planes.is_empty() {
            let _ = writeln!(out, "  none found");
        }
        let rows: Vec<[String; 4]> = self
            .control_planes
            .iter()
            .map(|cp| {
                [
                    cp.revision.clone(),
                    cp.version.clone().unwrap_or_else(|| "?".into()),
                    if cp.tags.is_empty() { "-".into() } else { cp.tags.join(",") },
                    cp.proxies.to_string(),
                ]
            })
            .collect();
        table(&mut out, ["REVISION", "VERSION", "TAGS", "PROXIES"], &rows);

        let _ = writeln!(out, "\nNamespaces ({} proxies in all)", self.proxies);
        let rows: Vec<[String; 3]> = self
            .namespaces
            .iter()
            .map(|ns| {
                let proxies =
                    ns.proxies.iter().map(|(k, n)| format!("{n} {k}")).collect::<Vec<_>>().join(", ");
                [ns.name.clone(), ns.selects.clone(), if proxies.is_empty() { "-".into() } else { proxies }]
            })
            .collect();
        if rows.is_empty() {
            let _ = writeln!(out, "  no namespace asks for injection");
        }
        table(&mut out, ["NAMESPACE", "SELECTS", "PROXIES (revision@version)"], &rows);

        let _ = writeln!(out, "\nHelm releases");
        if self.releases.is_empty() {
            let _ = writeln!(out, "  none recorded");
        }
        let rows: Vec<[String; 4]> = self
            .releases
            .iter()
            .map(|r| [r.name.clone(), r.namespace.clone(), r.revision.to_string(), r.status.clone()])
            .collect();
        table(&mut out, ["NAME", "NAMESPACE", "REVISION", "STATUS"], &rows);

        let _ = writeln!(out, "\nApplies");
        if self.applies.is_empty() {
            let _ = writeln!(out, "  none journalled");
        }
        for apply in &self.applies {
            let steps = apply.steps.iter().map(|(s, n)| format!("{n} {s}")).collect::<Vec<_>>().join(", ");
            let last = apply.last_step.as_deref().map(|s| format!("; last step {s}")).unwrap_or_default();
            let _ = writeln!(out, "  plan {}: {steps}{last}", apply.plan);
        }
        out
    }
}

/// A journal's plan id and step counts.
fn apply_status(journal: &Journal) -> ApplyStatus {
    let name = |status| serde_json::to_value(status).ok().and_then(|v| v.as_str().map(str::to_string));
    let mut steps = BTreeMap::new();
    let mut last_step = None;
    for step in &journal.steps {
        let status = name(step.status).unwrap_or_default();
        if step.status != StepStatus::Pending {
            last_step = Some(format!("{} ({status})", step.id));
        }
        *steps.entry(status).or_insert(0) += 1;
    }
    ApplyStatus { plan: journal.plan_id.clone(), steps, last_step }
}

/// Appends a table with left-aligned columns.
fn table<const N: usize>(out: &mut String, header: [&str; N], rows: &[[String; N]]) {
    if rows.is_empty() {
        return;
    }
    let mut widths = header.map(str::len);
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.len());
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells.iter().zip(widths).map(|(c, w)| format!("{c:<w$}")).collect();
        format!("  {}\n", padded.join("  ").trim_end())
    };
    out.push_str(&line(header.to_vec()));
    for row in rows {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::Snapshot;

    fn example(name: &str) -> MeshStatus {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/snapshots").join(name);
        MeshStatus::of(&Inventory::from(Snapshot::read(&path).unwrap()))
    }

    #[test]
    fn revisions_tags_namespaces_and_releases_of_a_canary_in_progress() {
        let status = example("istio-modern");
        let planes: Vec<(&str, Option<&str>, Vec<&str>, usize)> = status
            .control_planes
            .iter()
            .map(|c| {
                (
                    c.revision.as_str(),
                    c.version.as_deref(),
                    c.tags.iter().map(String::as_str).collect(),
                    c.proxies,
                )
            })
            .collect();
        assert_eq!(
            planes,
            [
                ("1-30-4", Some("1.30.4"), vec!["prod-stable"], 4),
                ("1-31-1", Some("1.31.1"), vec!["prod-canary"], 1)
            ]
        );
        let web = status.namespaces.iter().find(|n| n.name == "web").unwrap();
        assert_eq!(web.selects, "istio.io/rev=prod-canary");
        assert_eq!(
            web.proxies,
            BTreeMap::from([("1-30-4@1.30.4".to_string(), 1), ("1-31-1@1.31.1".to_string(), 1)])
        );
        let releases: Vec<(&str, u32, &str)> =
            status.releases.iter().map(|r| (r.name.as_str(), r.revision, r.status.as_str())).collect();
        assert!(releases.contains(&("istiod-1-31-1", 1, "deployed")), "{releases:?}");
        let text = status.text();
        assert!(text.contains("  1-31-1    1.31.1   prod-canary  1\n"), "{text}");
        assert!(text.contains("none journalled"), "{text}");
    }

    #[test]
    fn a_journal_says_how_far_the_last_apply_got() {
        let journal: Journal =
            serde_json::from_value(serde_json::json!({"planId": "abc", "fingerprint": "f",
            "startedAt": "t", "updatedAt": "t", "steps": [
            {"id": "h1-01-base", "status": "done"}, {"id": "h1-02-istiod", "status": "undone"},
            {"id": "h1-03-data-plane-1", "status": "pending"}]}))
            .unwrap();
        let apply = apply_status(&journal);
        assert_eq!(apply.plan, "abc");
        assert_eq!(
            apply.steps,
            BTreeMap::from([("done".into(), 1), ("undone".into(), 1), ("pending".into(), 1)])
        );
        assert_eq!(apply.last_step.as_deref(), Some("h1-02-istiod (undone)"));
    }
}
