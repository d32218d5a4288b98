//! Golden plans: the outline of the plan (steps, phases, what each applies, deletes and moves, its
//! gates and its undo) for each upgrade scenario the planner must get right, from the example
//! snapshots and from small generated ones. The outline leaves out the bodies of applied objects
//! (the render goldens cover those) so a reviewer can read every step. Also: identical inputs give
//! a byte-identical plan, and a plan made from one state is stale against a changed one.

#![allow(clippy::unwrap_used)] // integration tests: a failed unwrap is a failed test

#[path = "support/snapshots.rs"]
mod snapshots;

use std::sync::Arc;

use sailplan::catalog::Strategy;
use sailplan::inventory::Inventory;
use sailplan::plan::model::{Action, DataPlanePolicy, Plan, StepPhase};
use sailplan::plan::{PlanError, PlanRequest};
use sailplan::snapshot::Snapshot;
use serde_json::{Value, json};
use snapshots::{example, synthetic};

/// Plans from a snapshot, as `sailplan plan --snapshot` does.
fn plan(snapshot: &Snapshot, request: &PlanRequest) -> Result<Plan, PlanError> {
    sailplan::plan::plan(&Inventory::from_snapshot(snapshot), request)
}

fn request(to: &str, strategy: Option<Strategy>) -> PlanRequest {
    PlanRequest {
        to: to.to_string(),
        profile: "default".to_string(),
        values: Default::default(),
        strategy,
        data_plane: DataPlanePolicy { batch_size: 2, pause: "30s".to_string(), namespace_order: Vec::new() },
        migration_options: Default::default(),
        allow_errors: false,
        gate_policy: Default::default(),
        observed_from: "snapshot".to_string(),
        charts_dir: None,
    }
}

fn names(objects: &[sailplan::cluster::ObjectRef]) -> Vec<String> {
    objects.iter().map(|o| o.to_string()).collect()
}

fn outline_action(action: &Action) -> Value {
    match action {
        Action::Backup { objects } => json!({"backup": names(objects)}),
        Action::Apply { release, source, objects, adopt, handover } => {
            let mut apply = json!({"release": release, "source": source,
                      "objects": objects.iter().map(|o| sailplan::inventory::ObjectId::of(o).to_string()).collect::<Vec<_>>()});
            if !adopt.is_empty() {
                apply["adopt"] = json!(names(adopt));
            }
            if !handover.is_empty() {
                apply["handover"] = json!(
                    handover.iter().map(|h| format!("{} from {}", h.object, h.from)).collect::<Vec<_>>()
                );
            }
            json!({ "apply": apply })
        }
        Action::Delete { objects } => json!({"delete": names(objects)}),
        Action::Restore { objects } => json!({"restore": names(objects)}),
        Action::Relabel { namespace, set, remove } => {
            json!({"relabel": {"namespace": namespace, "set": set, "remove": remove}})
        }
        Action::Restart { namespace, workloads } => {
            json!({"restart": {"namespace": namespace, "workloads": names(workloads)}})
        }
        Action::MoveTag { tag, from, to, .. } => json!({"moveTag": {"tag": tag, "from": from, "to": to}}),
    }
}

fn outline(plan: &Plan) -> String {
    let spec = &plan.spec;
    let document = json!({
        "source": spec.source,
        "target": {"version": spec.target.version, "revision": spec.target.revision, "strategy": spec.target.strategy},
        "hops": spec.hops,
        "blocked": spec.blocked,
        "blocking": spec.findings.iter().filter(|f| f.blocks()).map(|f| format!("{} {}", f.code, f.object.clone().unwrap_or_default())).collect::<Vec<_>>(),
        "steps": spec.steps.iter().map(|s| json!({
            "id": s.id, "phase": s.phase, "title": s.title,
            "actions": s.actions.iter().map(outline_action).collect::<Vec<_>>(),
            "gates": s.gates, "undo": s.undo.iter().map(outline_action).collect::<Vec<_>>(),
            "needsHuman": s.needs_human,
        })).collect::<Vec<_>>(),
    });
    sailplan::yaml::to_string(&document).unwrap()
}

fn phases(plan: &Plan) -> Vec<(usize, StepPhase)> {
    plan.spec.steps.iter().map(|s| (s.hop, s.phase)).collect()
}

#[test]
fn plan_1_4_to_1_6_goes_through_1_5_in_two_hops() {
    let plan = plan(&example("istio-1.4"), &request("1.6", None)).unwrap();
    let hops: Vec<(&str, &str, &str)> =
        plan.spec.hops.iter().map(|h| (h.from.as_str(), h.to.as_str(), h.strategy.as_str())).collect();
    assert_eq!(hops, [("1.4.10", "1.5.10", "in-place"), ("1.5.10", "1.6.14", "canary")]);
    let removed_legacy =
        plan.spec.steps.iter().any(|s| s.id.starts_with("h1-") && s.id.ends_with("remove-legacy"));
    assert!(removed_legacy, "the 1.4 microservices go at the end of the first hop");
    insta::assert_snapshot!("plan_istio_1_4_to_1_6", outline(&plan));
}

#[test]
fn plan_1_5_to_1_6_runs_all_three_migrations_before_the_control_plane() {
    let plan = plan(&example("istio-1.5"), &request("1.6", None)).unwrap();
    let migrations: Vec<&str> = plan
        .spec
        .steps
        .iter()
        .filter(|s| s.phase == StepPhase::BeforeControlPlane)
        .map(|s| s.id.as_str())
        .collect();
    assert_eq!(
        migrations,
        ["h1-03-meshpolicy-to-peerauthentication", "h1-04-mixer-to-telemetry-v2", "h1-05-sds-enablement"]
    );
    let order = phases(&plan);
    assert!(order.windows(2).all(|w| w[0].1 <= w[1].1), "phases in order: {order:?}");
    insta::assert_snapshot!("plan_istio_1_5_to_1_6", outline(&plan));
}

#[test]
fn plan_1_6_to_1_8_is_a_canary_that_removes_mixer() {
    let plan = plan(&synthetic("1.6.14", None, true), &request("1.8", Some(Strategy::Canary))).unwrap();
    assert_eq!(plan.spec.hops.len(), 1, "1.6 to 1.8 is one canary hop");
    assert_eq!(plan.spec.hops[0].revision.as_deref(), Some("1-8-6"));
    let deletes_mixer = plan.spec.steps.iter().filter(|s| s.phase == StepPhase::Finalize).any(|s| {
        s.actions.iter().any(|a| matches!(a, Action::Delete { objects } if objects.iter().any(|o| o.name == "istio-telemetry")))
    });
    assert!(deletes_mixer, "Mixer is removed at finalize");
    insta::assert_snapshot!("plan_synthetic_1_6_to_1_8", outline(&plan));
}

#[test]
fn plan_n_to_n_plus_2_moves_revision_tags() {
    let mut snapshot = synthetic("1.29.5", Some("1-29-5"), false);
    // A revision tag `prod` on the 1.29 revision, used by one namespace.
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
    let plan = plan(&snapshot, &request("1.31", None)).unwrap();
    assert_eq!(plan.spec.hops.len(), 1, "1.29 to 1.31 is one canary hop");
    let moves: Vec<(String, String)> = plan
        .spec
        .steps
        .iter()
        .flat_map(|s| &s.actions)
        .filter_map(|a| match a {
            Action::MoveTag { tag, to, .. } => Some((tag.clone(), to.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(
        moves,
        [("default".to_string(), "1-31-1".to_string()), ("prod".to_string(), "1-31-1".to_string())],
        "the generated mesh has a default tag; the test added prod"
    );
    insta::assert_snapshot!("plan_synthetic_1_29_to_1_31_tags", outline(&plan));
}

#[test]
fn a_patch_upgrade_is_in_place() {
    let plan = plan(&synthetic("1.30.0", None, false), &request("1.30", None)).unwrap();
    assert_eq!(plan.spec.hops[0].strategy, "in-place");
    assert!(plan.spec.target.revision.is_none());
    assert!(
        !plan.spec.steps.iter().any(|s| s.actions.iter().any(|a| matches!(a, Action::Relabel { .. }))),
        "no relabelling in place"
    );
    insta::assert_snapshot!("plan_synthetic_1_30_0_patch", outline(&plan));
}

#[test]
fn identical_inputs_give_a_byte_identical_plan() {
    let text = |p: &Plan| sailplan::yaml::to_string(&serde_json::to_value(p).unwrap()).unwrap();
    let a = plan(&example("istio-1.5"), &request("1.6", None)).unwrap();
    let b = plan(&example("istio-1.5"), &request("1.6", None)).unwrap();
    assert_eq!(text(&a), text(&b));
    let mut shuffled = example("istio-1.5");
    shuffled.objects.reverse();
    assert_eq!(plan(&shuffled, &request("1.6", None)).unwrap().spec.fingerprint, a.spec.fingerprint);
}

#[test]
fn a_plan_is_stale_once_the_observed_state_changes() {
    let snapshot = example("istio-1.5");
    let made = plan(&snapshot, &request("1.6", None)).unwrap();
    assert!(sailplan::plan::check_current(&made, &snapshot.objects).is_ok());
    // Pods come and go without making the plan stale.
    let mut churned = snapshot.clone();
    churned.objects.retain(|o| o["kind"] != "Pod");
    assert!(sailplan::plan::check_current(&made, &churned.objects).is_ok());
    // A namespace relabelled after planning does.
    let mut changed = snapshot.clone();
    let namespace = changed
        .objects
        .iter_mut()
        .find(|o| o["kind"] == "Namespace" && o["metadata"]["name"] == "orders")
        .map(Arc::make_mut)
        .unwrap();
    namespace["metadata"]["labels"]["istio-injection"] = json!("disabled");
    let stale = sailplan::plan::check_current(&made, &changed.objects).unwrap_err();
    assert!(stale.to_string().contains("changed since the plan was made"), "{stale}");
}

#[test]
fn the_plan_file_round_trips() {
    let made = plan(&example("istio-1.4"), &request("1.6", None)).unwrap();
    let text = sailplan::yaml::to_string(&serde_json::to_value(&made).unwrap()).unwrap();
    let read: Plan = serde_json::from_value(sailplan::yaml::parse_one(&text).unwrap()).unwrap();
    assert_eq!(read, made);
}

#[test]
fn a_canary_warns_when_an_old_webhook_service_also_selects_the_new_istiod() {
    let shared = |plan: &Plan| -> Vec<String> {
        plan.spec
            .findings
            .iter()
            .filter(|f| f.code == "W-CANARY-SHARED-SERVICE")
            .filter_map(|f| f.object.clone())
            .collect()
    };
    // 1.5's `istiod` Service selects `app: istiod`, which the 1-6-14 pods carry too.
    let legacy = plan(&example("istio-1.5"), &request("1.6", None)).unwrap();
    assert_eq!(shared(&legacy), ["Service istio-system/istiod"]);
    // Revisioned Services select `istio.io/rev` as well.
    let modern = plan(&example("istio-modern"), &request("1.31", None)).unwrap();
    assert_eq!(shared(&modern), Vec::<String>::new());
}
