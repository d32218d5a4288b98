//! Rehearsals of the golden plans' scenarios (tests/plan_golden.rs) against simulations of the
//! example and synthetic snapshots: each runs the apply executor and its gates to the end, and the
//! end state is what the upgrade promises (every proxy on the target, the old control plane gone,
//! nothing left for the plan to create or delete), or the rehearsal shows where `apply` would stop.
//! Also: a gate made to fail undoes its step and ends with exit code 3, and the HTML report renders
//! in headless Chromium (ignored by plain `cargo test`; `scripts/test.sh` runs it).

#![allow(clippy::unwrap_used)] // integration tests: a failed unwrap is a failed test

#[path = "support/chromium.rs"]
mod chromium;
#[path = "support/snapshots.rs"]
mod snapshots;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chromium::headless;
use sailplan::apply::{Mode, StepStatus};
use sailplan::catalog::Strategy;
use sailplan::plan::PlanRequest;
use sailplan::plan::model::{Action, DataPlanePolicy};
use sailplan::rehearse::{Ending, Options, Rehearsal, rehearse};
use sailplan::snapshot::Snapshot;
use serde_json::{Value, json};
use snapshots::{example, synthetic};

fn options(to: &str, strategy: Option<Strategy>, fail_gate: Option<&str>) -> Options {
    Options {
        request: PlanRequest {
            to: to.to_string(),
            profile: "default".to_string(),
            values: Default::default(),
            strategy,
            data_plane: DataPlanePolicy {
                batch_size: 2,
                pause: "30s".to_string(),
                namespace_order: Vec::new(),
            },
            migration_options: Default::default(),
            // The example and legacy plans are blocked by findings `apply` would refuse them for.
            allow_errors: true,
            gate_policy: Default::default(),
            observed_from: "snapshot".to_string(),
            charts_dir: None,
        },
        istio_namespace: "istio-system".to_string(),
        fail_gate: fail_gate.map(str::to_string),
        gate_timeout: Duration::from_secs(2),
        progress: Mode::Quiet,
    }
}

fn run(snapshot: Snapshot, options: &Options) -> Rehearsal {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(rehearse(snapshot, options)).unwrap()
}

/// Every step done, nothing left for the plan to create or delete, and every proxy on `revision` at
/// `version`. Updates may remain: fields another manager set on objects sailplan took over stay, as
/// server-side apply keeps them (docs/rehearse.md).
fn assert_completed(rehearsal: &Rehearsal, revision: &str, version: &str) {
    let text = sailplan::rehearse::text(rehearsal);
    assert_eq!(rehearsal.ending, Ending::Completed, "{text}");
    assert_eq!(rehearsal.exit_code(), 0);
    assert_eq!(rehearsal.steps.len(), rehearsal.plan.spec.steps.len());
    assert!(rehearsal.steps.iter().all(|s| s.status == StepStatus::Done), "{text}");
    let left = &rehearsal.final_diff;
    assert_eq!((left.create, left.delete), (0, 0), "nothing left to create or delete: {text}");
    let after = &rehearsal.after;
    assert!(after.proxies > 0, "{text}");
    for namespace in &after.namespaces {
        for key in namespace.proxies.keys() {
            assert_eq!(key, &format!("{revision}@{version}"), "namespace {}: {text}", namespace.name);
        }
    }
    let planes: Vec<&str> = after.control_planes.iter().map(|c| c.revision.as_str()).collect();
    assert_eq!(planes, [revision], "only the target control plane is left: {text}");
}

#[test]
fn modern_canary_with_tags_moves_everything_and_removes_the_old_revision() {
    let rehearsal = run(example("istio-modern"), &options("1.31", None, None));
    assert_completed(&rehearsal, "1-31-1", "1.31.1");
    let tags = &rehearsal.after.control_planes[0].tags;
    assert_eq!(tags, &["prod-canary", "prod-stable"]);
    assert!(rehearsal.removed.iter().any(|r| r == "Deployment istio-system/istiod-1-30-4"));
    assert!(rehearsal.notes.iter().any(|n| n.contains("pause")), "{:?}", rehearsal.notes);
}

#[test]
fn synthetic_1_29_to_1_31_moves_revision_tags() {
    let mut snapshot = synthetic("1.29.5", Some("1-29-5"), false);
    // As the golden plan: a tag `prod` on the 1.29 revision, used by one namespace.
    let webhook = snapshot.objects.iter().find(|o| o["kind"] == "MutatingWebhookConfiguration").unwrap();
    let mut tag = Value::clone(webhook);
    tag["metadata"]["name"] = json!("istio-revision-tag-prod");
    tag["metadata"]["labels"] =
        json!({"istio.io/tag": "prod", "istio.io/rev": "1-29-5", "app": "sidecar-injector"});
    snapshot.objects.push(Arc::new(tag));
    let namespace = snapshot
        .objects
        .iter_mut()
        .find(|o| o["kind"] == "Namespace" && o.pointer("/metadata/labels/istio.io~1rev").is_some())
        .map(Arc::make_mut)
        .unwrap();
    namespace["metadata"]["labels"]["istio.io/rev"] = json!("prod");
    let rehearsal = run(snapshot, &options("1.31", None, None));
    assert_completed(&rehearsal, "1-31-1", "1.31.1");
    assert!(rehearsal.after.control_planes[0].tags.contains(&"prod".to_string()));
}

#[test]
fn synthetic_patch_upgrade_in_place_restarts_every_proxy() {
    let rehearsal = run(synthetic("1.30.0", None, false), &options("1.30", None, None));
    assert_completed(&rehearsal, "default", "1.30.4");
}

#[test]
fn legacy_plans_adopt_istioctl_objects_and_complete() {
    // The 1.4 and 1.5 examples were installed by istioctl: the plan adopts their CRDs, webhooks and
    // gateway (objects without any release's markers); the migrations' gates pass on the new control
    // plane's step; every namespace moves, also `shop`, whose `istio-injection` label overrides a
    // revision label naming no control plane; finalize removes Mixer and the old control plane.
    for snapshot in [example("istio-1.5"), example("istio-1.4")] {
        let rehearsal = run(snapshot, &options("1.6", None, None));
        let text = sailplan::rehearse::text(&rehearsal);
        assert_eq!(rehearsal.ending, Ending::Completed, "{text}");
        assert_eq!(rehearsal.exit_code(), 0);
        assert!(rehearsal.steps.iter().all(|s| s.status == StepStatus::Done), "{text}");
        let planes: Vec<(&str, Option<&str>)> = rehearsal
            .after
            .control_planes
            .iter()
            .map(|c| (c.revision.as_str(), c.version.as_deref()))
            .collect();
        assert_eq!(planes, [("1-6-14", Some("1.6.14"))], "{text}");
        assert!(
            rehearsal.after.namespaces.iter().all(|n| n.proxies.keys().all(|k| k == "1-6-14@1.6.14")),
            "{text}"
        );
    }
    // The synthetic 1.6 mesh was installed with Helm: its validating webhook belongs to release
    // istiod, and the 1.8 charts render it in istio-base. The plan hands it over, visibly, and the
    // rehearsal runs to the end.
    let rehearsal = run(synthetic("1.6.14", None, true), &options("1.8", Some(Strategy::Canary), None));
    let text = sailplan::rehearse::text(&rehearsal);
    let target = &rehearsal.plan.spec.target;
    assert_completed(&rehearsal, target.revision.as_deref().unwrap(), &target.version);
    let base = rehearsal.plan.spec.steps.iter().find(|s| s.id.ends_with("-base")).unwrap();
    let handover: Vec<String> = base
        .actions
        .iter()
        .flat_map(|a| match a {
            Action::Apply { release: Some(release), handover, .. } => {
                handover.iter().map(|h| format!("{} {} from {}", release, h.object.name, h.from)).collect()
            }
            _ => Vec::new(),
        })
        .collect();
    assert_eq!(handover, ["istio-base istiod-istio-system from istiod"], "{text}");
}

#[test]
fn a_failed_gate_undoes_its_step_and_exits_3() {
    let rehearsal = run(example("istio-modern"), &options("1.31", None, Some("webhook-ready")));
    let text = sailplan::rehearse::text(&rehearsal);
    assert_eq!(
        rehearsal.ending,
        Ending::GateFailed { step: "h1-03-control-plane".into(), gate: "webhook-ready".into() },
        "{text}"
    );
    assert_eq!(rehearsal.exit_code(), 3);
    let step = rehearsal.steps.iter().find(|s| s.id == "h1-03-control-plane").unwrap();
    assert_eq!(step.status, StepStatus::Undone);
    assert!(step.gates.last().unwrap().message.contains("failed on purpose"), "{text}");
    // The undo took the new control plane away again; the old one still runs every proxy.
    assert_eq!(rehearsal.after.control_planes, rehearsal.before.control_planes, "{text}");
    assert!(
        text.contains("gate webhook-ready failed in step h1-03-control-plane; the step was undone (exit 3)")
    );
    // A gate the plan does not have is refused before anything runs.
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let error = runtime
        .block_on(rehearse(example("istio-modern"), &options("1.31", None, Some("jwks-reachable"))))
        .unwrap_err();
    assert!(error.to_string().contains("no step of the plan has gate jwks-reachable"), "{error}");
}

#[test]
fn the_report_is_self_contained() {
    let rehearsal = run(example("istio-modern"), &options("1.31", None, Some("pods-ready")));
    let html = sailplan::rehearse::html::page(&rehearsal);
    assert!(html.starts_with("<!DOCTYPE html>") && html.contains("<title>Upgrade rehearsal</title>"));
    assert!(!html.contains("http://") && !html.contains("https://"), "no external references");
    assert!(!html.contains("<script") && !html.contains("<link") && !html.contains("<img"));
    assert!(
        html.contains("Gate pods-ready failed in step h1-03-control-plane; the step was undone (exit 3).")
    );
    assert!(html.contains("class=\"step st-undone\""));
    assert!(html.contains("Hop 1: 1.30.4 to 1.31.1"));
}

#[test]
#[ignore = "needs chromium: run scripts/test.sh"]
fn the_report_renders_in_headless_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let rehearsal = run(example("istio-modern"), &options("1.31", None, None));
    let page = dir.path().join("rehearsal.html");
    std::fs::write(&page, sailplan::rehearse::html::page(&rehearsal)).unwrap();
    let (dom, log) = headless(&page, &["--dump-dom".to_string()]);
    let console: Vec<&str> =
        log.lines().filter(|l| l.contains("CONSOLE") || l.contains("Uncaught")).collect();
    assert!(console.is_empty(), "console errors:\n{}", console.join("\n"));
    assert!(dom.contains("Every step was done and every gate held."), "{dom}");
    assert_eq!(dom.matches("class=\"step st-done\"").count(), rehearsal.plan.spec.steps.len());
    let shot = std::env::var_os("SAILPLAN_REHEARSAL_SCREENSHOT")
        .map_or_else(|| dir.path().join("shot.png"), PathBuf::from);
    headless(&page, &[format!("--screenshot={}", shot.display()), "--window-size=1280,2400".to_string()]);
    let png = std::fs::read(&shot).unwrap();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 20_000, "a screenshot with content");
}
