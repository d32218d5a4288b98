//! Real-cluster test of the diff's normalisation: the default (and the demo) profile, applied with server-side apply
//! to a real kube-apiserver and read back with sailplan's own cluster layer, compares as unchanged
//! with what was rendered, object by object. This is what proves the table of API-server defaults
//! (src/diff/defaults.rs) against the server rather than against our memory of it: when a new
//! Kubernetes version fills in something new, this test names the object and shows the diff.
//!
//! Run with `scripts/test.sh` (or `cargo test --test diff_live -- --include-ignored`, which starts a
//! cluster for this binary unless `SAILPLAN_TEST_KUBECONFIG` and `SAILPLAN_TEST_BIN_DIR` name one).

#![allow(clippy::unwrap_used)] // integration tests: a failed unwrap is a failed test

mod support;

use std::time::Duration;

use sailplan::cluster::{ApplyOptions, Cluster, ObjectRef, Propagation};
use sailplan::diff::{Action, DiffOptions, ObjectChange, compare};
use sailplan::render::{MeshRequest, render_mesh};
use sailplan::values::ValueOptions;
use serde_json::{Value, json};
use support::{resource, wait_for, with_temp_ns};

fn request(profile: &str, namespace: &str) -> MeshRequest {
    MeshRequest {
        overlay: Default::default(),
        profile: profile.to_string(),
        version: "latest".to_string(),
        revision: None,
        namespace: namespace.to_string(),
        values: ValueOptions::default(),
        kube_version: Some("1.33.0".to_string()),
        allow_unsupported_kubernetes: true,
        charts_dir: None,
    }
}

fn established(crd: &Value) -> bool {
    crd.pointer("/status/conditions").and_then(Value::as_array).is_some_and(|conditions| {
        conditions.iter().any(|c| c["type"] == "Established" && c["status"] == "True")
    })
}

/// The Deployment controller has seen the current spec and written what it writes.
fn rolled_out(deployment: &Value) -> bool {
    deployment.pointer("/status/observedGeneration") == deployment.pointer("/metadata/generation")
        && deployment.pointer("/metadata/annotations/deployment.kubernetes.io~1revision").is_some()
}

fn report(changes: &[ObjectChange]) -> String {
    changes
        .iter()
        .filter(|c| c.action != Action::Unchanged)
        .map(|c| format!("{:?} {} ({})\n{}\n", c.action, c.id, c.api_version, c.diff))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a cluster: run scripts/test.sh"]
async fn the_default_and_demo_profiles_read_back_unchanged() {
    // One after the other: both apply the same cluster-wide CRDs.
    for profile in ["default", "demo"] {
        reads_back_unchanged(profile).await;
    }
}

/// Applies a profile, reads every object back, and compares.
async fn reads_back_unchanged(profile: &'static str) {
    with_temp_ns("diff", move |client, ns| async move {
        let mesh = render_mesh(&request(profile, &ns)).unwrap();
        let desired: Vec<Value> = mesh.manifests().map(|m| m.object.clone()).collect();
        let (crds, rest): (Vec<&Value>, Vec<&Value>) =
            desired.iter().partition(|o| o["kind"] == "CustomResourceDefinition");
        let crd_resource = resource(&client, "apiextensions.k8s.io", "CustomResourceDefinition").await;
        for crd in &crds {
            client.apply(crd, ApplyOptions { dry_run: false, force: true }).await.unwrap();
        }
        for crd in &crds {
            let name = crd["metadata"]["name"].as_str().unwrap();
            wait_for(&format!("CRD {name} Established"), Duration::from_secs(60), || async {
                client.get(&crd_resource, None, name).await.unwrap().filter(|c| established(c))
            })
            .await;
        }
        for object in &rest {
            client
                .apply(object, ApplyOptions { dry_run: false, force: true })
                .await
                .unwrap_or_else(|e| panic!("{}: {e}", ObjectRef::of(object).unwrap()));
        }
        let deployments = resource(&client, "apps", "Deployment").await;
        for object in rest.iter().filter(|o| o["kind"] == "Deployment") {
            let name = object["metadata"]["name"].as_str().unwrap();
            wait_for(&format!("Deployment {name} rolled out"), Duration::from_secs(60), || async {
                client.get(&deployments, Some(&ns), name).await.unwrap().filter(|d| rolled_out(d))
            })
            .await;
        }

        let discovered = client.discover().await.unwrap();
        let mut observed = Vec::new();
        for object in &desired {
            let target = ObjectRef::of(object).unwrap();
            let served = discovered.for_object(&target.api_version, &target.kind).unwrap();
            let read = client.get(served, target.namespace.as_deref(), &target.name).await.unwrap();
            observed.push(read.unwrap_or_else(|| panic!("{target} was applied but cannot be read")));
        }
        let webhooks: Vec<ObjectRef> = desired
            .iter()
            .filter(|o| o["kind"].as_str().is_some_and(|k| k.ends_with("WebhookConfiguration")))
            .map(|o| ObjectRef::of(o).unwrap())
            .collect();
        // Webhook configurations are cluster-wide: remove them before asserting, so a failure does
        // not leave a webhook behind for a control plane that does not run.
        for webhook in &webhooks {
            client.delete(webhook, Propagation::Background).await.unwrap();
        }

        let changes = compare(&desired, &observed, &[], &DiffOptions::default()).unwrap();
        assert_eq!(changes.len(), desired.len());
        assert!(changes.iter().all(|c| c.action == Action::Unchanged), "{}", report(&changes));

        // The same objects as a snapshot records them (collect's sanitising) compare unchanged too.
        let collected: Vec<_> = observed.iter().cloned().map(sailplan::collect::sanitized).collect();
        let options = DiffOptions { sanitized: true, ..DiffOptions::default() };
        let changes = compare(&desired, &collected, &[], &options).unwrap();
        assert!(changes.iter().all(|c| c.action == Action::Unchanged), "{}", report(&changes));

        // And a real change is still seen.
        let mut changed = desired.clone();
        let istiod =
            changed.iter_mut().find(|o| o["kind"] == "Deployment" && o["metadata"]["name"] == "istiod");
        istiod.unwrap()["spec"]["template"]["spec"]["containers"][0]["image"] =
            json!("example.com/pilot:next");
        let changes = compare(&changed, &observed, &[], &DiffOptions::default()).unwrap();
        let updated: Vec<&ObjectChange> = changes.iter().filter(|c| c.action == Action::Update).collect();
        assert_eq!(updated.len(), 1, "{}", report(&changes));
        assert!(updated[0].diff.contains("+        image: example.com/pilot:next\n"), "{}", updated[0].diff);
    })
    .await;
}
