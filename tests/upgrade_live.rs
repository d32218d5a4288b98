//! Scenario 2 of the apply issue, and the rehearsal's promise, on the real test cluster: a 1.5-style
//! legacy install (istiod 1.5 with Mixer, MeshPolicy and alpha Policies, a gateway with file-mounted
//! certificates, injected workloads in several namespaces) is upgraded to a 1.6 canary by `plan` and
//! `apply` as a user runs them; the end state equals the one `rehearse` predicts from a snapshot of the
//! same cluster; and `rollback` restores every original object from the backups.
//!
//! The legacy install is the bundled `examples/snapshots/istio-1.5`, installed the way istioctl did
//! (server-side apply under the field manager `istioctl`, control plane before webhooks before the
//! workloads it injects), with what a snapshot leaves out filled in: CRD schemas, ServiceAccounts and
//! Secret values (made up). Two of the example's deliberate problems are left out because they
//! would stop the setup itself: Galley's validation webhook, which calls a Service that does not exist
//! and so rejects all Istio configuration, and the `kubernetes` Service the API server owns. The
//! test cluster's stand-in for istiod's webhook server injects the workloads as istiod 1.5 (and later
//! 1.6.14) would.

#![allow(clippy::unwrap_used)] // integration tests: a failed unwrap is a failed test

mod support;

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sailplan::cluster::{Cluster, applicable};
use sailplan::snapshot::Snapshot;
use serde_json::{Value, json};
use support::{cluster, resource, run_tool, stderr, wait_for};

const EXAMPLE: &str = "examples/snapshots/istio-1.5";
/// Gates that need traffic, a Prometheus or the internet, none of which the test cluster has.
const NO_DATA: &str = "jwks-reachable,gateway-tls-handshake,telemetry-v2-metrics,authz-tcp-scoped";

/// `sailplan` with `args` against the test cluster, run to the end.
fn sailplan(args: &[&str]) -> Output {
    support::sailplan(args).env("KUBECONFIG", &cluster().kubeconfig).output().unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The example's objects as istioctl would have applied them, in the order it applies them.
fn legacy_install() -> Vec<Vec<Value>> {
    let snapshot = Snapshot::read(Path::new(EXAMPLE)).unwrap();
    let (mut crds, mut namespaces, mut control_plane, mut webhooks, mut config, mut workloads) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for object in snapshot.objects {
        let kind = object["kind"].as_str().unwrap().to_string();
        let name = object["metadata"]["name"].as_str().unwrap().to_string();
        let namespace = object["metadata"]["namespace"].as_str().unwrap_or_default().to_string();
        if matches!(kind.as_str(), "Pod" | "Endpoints")
            || (kind == "ValidatingWebhookConfiguration" && name == "istio-galley")
            || (kind == "Service" && namespace == "default")
        {
            continue;
        }
        let mut object = applicable(Value::clone(&object));
        match kind.as_str() {
            "CustomResourceDefinition" => {
                object["spec"].as_object_mut().unwrap().remove("preserveUnknownFields");
                for version in object["spec"]["versions"].as_array_mut().unwrap() {
                    version["schema"] = json!({"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}});
                }
                crds.push(object);
            }
            "Namespace" => namespaces.push(object),
            "Secret" => {
                let keys = object["metadata"]["annotations"]
                    .as_object_mut()
                    .and_then(|a| a.remove("sailplan.dev/secret-keys"))
                    .and_then(|k| k.as_str().map(str::to_string))
                    .unwrap_or_default();
                let data: serde_json::Map<String, Value> = keys
                    .split(',')
                    .filter(|k| !k.is_empty())
                    .map(|k| (k.to_string(), json!(STANDARD.encode(format!("made-up {k}")))))
                    .collect();
                object["data"] = Value::Object(data);
                if object["metadata"]["annotations"].as_object().is_some_and(serde_json::Map::is_empty) {
                    object["metadata"].as_object_mut().unwrap().remove("annotations");
                }
                control_plane.push(object);
            }
            "Service" => {
                let spec = object["spec"].as_object_mut().unwrap();
                spec.remove("clusterIP");
                spec.remove("clusterIPs");
                control_plane.push(object);
            }
            "MutatingWebhookConfiguration" | "ValidatingWebhookConfiguration" => webhooks.push(object),
            "Deployment" => {
                if let Some(account) = object["spec"]["template"]["spec"]["serviceAccountName"].as_str() {
                    control_plane.push(json!({"apiVersion": "v1", "kind": "ServiceAccount",
                        "metadata": {"name": account, "namespace": namespace}}));
                }
                if namespace == "istio-system" {
                    control_plane.push(object);
                } else {
                    workloads.push(object);
                }
            }
            _ if object["apiVersion"].as_str().unwrap().contains(".istio.io/") => config.push(object),
            _ => control_plane.push(object),
        }
    }
    vec![crds, namespaces, control_plane, webhooks, config, workloads]
}

fn kubectl_apply(objects: &[Value], dir: &Path) {
    let file = dir.join("objects.json");
    std::fs::write(&file, json!({"apiVersion": "v1", "kind": "List", "items": objects}).to_string()).unwrap();
    run_tool(
        "kubectl",
        &["apply", "--server-side", "--field-manager=istioctl", "-f", file.to_str().unwrap()],
    );
}

/// Removes the example's application namespaces left by an earlier run.
fn without_example_namespaces() {
    for namespace in ["orders", "shop", "billing"] {
        run_tool("kubectl", &["delete", "namespace", namespace, "--ignore-not-found", "--wait=true"]);
    }
}

/// The lines of a status view from its control planes to its Helm releases (the applies differ: a
/// rehearsal has its own plan id).
fn mesh_view(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .skip_while(|l| *l != "Control planes")
        .take_while(|l| *l != "Applies")
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// The `create`/`update`/`delete` lines of a diff, sorted.
fn changed_objects(diff: &str) -> Vec<String> {
    let mut lines: Vec<String> = diff
        .lines()
        .map(str::trim)
        .filter(|l| ["create ", "update ", "delete "].iter().any(|p| l.starts_with(p)))
        .map(str::to_string)
        .collect();
    lines.sort();
    lines
}

/// An object without what the API server and controllers keep on it (server metadata, status, the
/// Deployment revision) and without the only trace restarts leave (the pod template's restart stamp).
fn comparable(object: &Value) -> Value {
    let mut object = applicable(object.clone());
    if let Some(annotations) = object.pointer_mut("/metadata/annotations").and_then(Value::as_object_mut) {
        annotations.remove("deployment.kubernetes.io/revision");
    }
    if let Some(annotations) =
        object.pointer_mut("/spec/template/metadata/annotations").and_then(Value::as_object_mut)
    {
        annotations.remove("kubectl.kubernetes.io/restartedAt");
    }
    object
}

/// Whether every field of `wanted` has the same value in `found` (lists element by element).
fn contains(found: &Value, wanted: &Value) -> bool {
    match (found, wanted) {
        (Value::Object(found), Value::Object(wanted)) => {
            wanted.iter().all(|(k, v)| found.get(k).is_some_and(|f| contains(f, v)))
        }
        (Value::Array(found), Value::Array(wanted)) => {
            found.len() == wanted.len() && found.iter().zip(wanted).all(|(f, w)| contains(f, w))
        }
        _ => found == wanted,
    }
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a cluster: run scripts/test.sh"]
async fn a_legacy_1_5_mesh_moves_to_a_1_6_canary_as_rehearsed_and_rolls_back_from_backups() {
    let client = support::connect().await;
    support::without_istio(&client).await;
    without_example_namespaces();
    let dir = tempfile::tempdir().unwrap();

    // The legacy install, in istioctl's order; each stage waits for what the next one needs.
    let stages = legacy_install();
    let originals: Vec<Value> = stages.iter().flatten().cloned().collect();
    for (index, stage) in stages.iter().enumerate() {
        kubectl_apply(stage, dir.path());
        match index {
            0 => {
                run_tool(
                    "kubectl",
                    &["wait", "--for=condition=established", "crd", "--all", "--timeout=60s"],
                );
            }
            2 => {
                run_tool(
                    "kubectl",
                    &["-n", "istio-system", "rollout", "status", "deployment", "--timeout=120s"],
                );
            }
            _ => {}
        }
    }
    for namespace in ["orders", "shop", "billing"] {
        run_tool("kubectl", &["-n", namespace, "rollout", "status", "deployment", "--timeout=120s"]);
    }
    let pods = resource(&client, "", "Pod").await;
    let injected_with = |image: &'static str| {
        let client = &client;
        let pods = &pods;
        async move {
            let mut found = 0;
            for namespace in ["orders", "shop"] {
                for pod in client.list(pods, Some(namespace), None).await.unwrap() {
                    let containers = pod["spec"]["containers"].as_array().unwrap();
                    if pod.pointer("/metadata/deletionTimestamp").is_none()
                        && containers.iter().any(|c| c["image"] == image)
                    {
                        found += 1;
                    }
                }
            }
            found
        }
    };
    assert_eq!(injected_with("docker.io/istio/proxyv2:1.5.10").await, 5, "the workloads run 1.5 proxies");
    let discovered = client.discover().await.unwrap();
    let mut before_upgrade = Vec::new();
    for original in &originals {
        let served = discovered
            .for_object(original["apiVersion"].as_str().unwrap(), original["kind"].as_str().unwrap())
            .unwrap();
        let name = original["metadata"]["name"].as_str().unwrap();
        let live = client.get(served, original["metadata"]["namespace"].as_str(), name).await.unwrap();
        before_upgrade.push(comparable(&live.unwrap()));
    }

    // A snapshot for the rehearsal, and the plan, made from the live cluster.
    let snapshot_dir = dir.path().join("snapshot");
    let collected = sailplan(&["collect", "-o", snapshot_dir.to_str().unwrap()]);
    assert!(collected.status.success(), "{}", stderr(&collected));
    let plan_file = dir.path().join("plan.yaml");
    let plan_flags =
        ["--to", "1.6", "--batch-size", "1", "--pause", "1s", "--allow-errors", "--accept-no-data", NO_DATA];
    let mut plan_args = vec!["plan", "--out", plan_file.to_str().unwrap()];
    plan_args.extend(plan_flags);
    let planned = sailplan(&plan_args);
    assert!(planned.status.success(), "{}", stderr(&planned));
    let summary = stderr(&planned);
    for step in [
        "h1-03-meshpolicy-to-peerauthentication",
        "h1-04-mixer-to-telemetry-v2",
        "h1-05-sds-enablement",
        "revision 1-6-14, beside the current one",
        "Data plane batch 1/2",
        "Data plane batch 2/2",
        "Remove control plane default (1.5.10)",
    ] {
        assert!(summary.contains(step), "{step}:\n{summary}");
    }

    // The upgrade, as a user runs it.
    let journal_dir = dir.path().join("journal");
    let journal = journal_dir.to_str().unwrap();
    let applied = sailplan(&["apply", plan_file.to_str().unwrap(), "--yes", "--journal-dir", journal]);
    assert!(applied.status.success(), "{}", stderr(&applied));
    let log = stderr(&applied);
    assert!(log.contains("[15/15] h1-15-legacy-crds: done"), "{log}");
    assert!(log.contains("gate proxies-converged: pass: 3 proxy(ies) on revision 1-6-14"), "{log}");
    assert_eq!(injected_with("docker.io/istio/proxyv2:1.6.14").await, 5, "the workloads moved to 1.6.14");
    assert_eq!(injected_with("docker.io/istio/proxyv2:1.5.10").await, 0);
    let deployments = resource(&client, "apps", "Deployment").await;
    for gone in ["istiod", "istio-policy", "istio-telemetry"] {
        assert!(
            client.get(&deployments, Some("istio-system"), gone).await.unwrap().is_none(),
            "finalize removed {gone}"
        );
    }
    assert!(
        !run_tool("kubectl", &["get", "crd", "-o", "name"]).contains("meshpolicies"),
        "legacy CRDs removed"
    );
    let status = sailplan(&["status"]);
    assert!(status.status.success(), "{}", stderr(&status));
    let live_view = mesh_view(&stdout(&status));
    assert!(live_view.iter().any(|l| l.starts_with("1-6-14") && l.contains("1.6.14")), "{live_view:#?}");

    // The rehearsal of the same plan from the snapshot reaches the same mesh.
    let mut rehearse_args = vec!["rehearse", "--snapshot", snapshot_dir.to_str().unwrap()];
    rehearse_args.extend(plan_flags);
    let rehearsed = sailplan(&rehearse_args);
    assert!(rehearsed.status.success(), "{}", stderr(&rehearsed));
    let report = stdout(&rehearsed);
    let after = report.split_once("\nAfter\n").map(|(_, a)| a).unwrap_or_default();
    assert_eq!(mesh_view(after), live_view, "rehearsal:\n{report}");
    // And what is left between the plan and the end state is the same: the copied Secrets, whose
    // values the plan does not hold.
    let diffed = sailplan(&["diff", "--plan", plan_file.to_str().unwrap()]);
    assert!(diffed.status.success(), "{}", stderr(&diffed));
    let final_diff = report.split_once("\nFinal diff: ").map(|(_, d)| d).unwrap_or_default();
    let live_changes = changed_objects(&stdout(&diffed));
    assert_eq!(changed_objects(final_diff), live_changes, "rehearsal:\n{report}");
    assert_eq!(
        live_changes,
        [
            "update Secret istio-system/shop-gateway-https",
            "update Secret istio-system/shop-gateway-https-b2b"
        ]
    );

    // Rollback: every original object comes back from the backups, as it was before the upgrade.
    let rolled_back = sailplan(&["rollback", plan_file.to_str().unwrap(), "--yes", "--journal-dir", journal]);
    assert!(rolled_back.status.success(), "{}", stderr(&rolled_back));
    let discovered = client.discover().await.unwrap();
    for (original, before) in originals.iter().zip(&before_upgrade) {
        let api_version = original["apiVersion"].as_str().unwrap();
        let kind = original["kind"].as_str().unwrap();
        let name = original["metadata"]["name"].as_str().unwrap();
        let namespace = original["metadata"]["namespace"].as_str();
        let served =
            discovered.for_object(api_version, kind).unwrap_or_else(|| panic!("{kind} is served again"));
        let restored = wait_for(&format!("{kind} {name}"), Duration::from_secs(30), || async {
            client.get(served, namespace, name).await.unwrap()
        })
        .await;
        assert!(
            contains(&comparable(&restored), before),
            "{kind} {name} restored as it was:\nrestored {restored:#}\nbefore {before:#}"
        );
    }
    // Leave the cluster without Istio for the tests that install it afresh.
    without_example_namespaces();
    support::without_istio(&client).await;
}
