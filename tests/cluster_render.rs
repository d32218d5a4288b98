//! Real-cluster test: what `sailplan render` produces, for every profile, is accepted by a real kube-apiserver through
//! sailplan's own cluster layer with server-side apply (dry run, then for real), its CRDs become
//! Established, and every control-plane and gateway Deployment gets a ReplicaSet and Ready pods
//! through kube-controller-manager, the scheduler and kwok's fake node.
//!
//! Run with `scripts/test.sh` (or `cargo test -- --ignored`, which starts a cluster for this binary).

#![allow(clippy::unwrap_used)] // integration tests: a failed unwrap is a failed test

mod support;

use std::time::Duration;

use sailplan::cluster::{ApplyOptions, Cluster, ObjectRef, Propagation};
use sailplan::render::{MeshRequest, render_mesh};
use sailplan::values::ValueOptions;
use serde_json::Value;
use support::{resource, wait_for, with_temp_ns};

fn request(
    profile: &str,
    version: &str,
    namespace: &str,
    revision: Option<&str>,
    set: &[&str],
) -> MeshRequest {
    let mut set: Vec<String> = set.iter().map(|s| (*s).to_string()).collect();
    if profile == "remote" {
        set.push("global.remotePilotAddress=istiod.primary.example.com".to_string());
    }
    MeshRequest {
        overlay: Default::default(),
        profile: profile.to_string(),
        version: version.to_string(),
        revision: revision.map(str::to_string),
        namespace: namespace.to_string(),
        values: ValueOptions { set, ..Default::default() },
        kube_version: Some("1.33.0".to_string()),
        allow_unsupported_kubernetes: true,
        charts_dir: None,
    }
}

fn is_webhook(object: &Value) -> bool {
    matches!(object["kind"].as_str(), Some("MutatingWebhookConfiguration" | "ValidatingWebhookConfiguration"))
}

fn established(crd: &Value) -> bool {
    crd.pointer("/status/conditions").and_then(Value::as_array).is_some_and(|conditions| {
        conditions.iter().any(|c| c["type"] == "Established" && c["status"] == "True")
    })
}

fn available(deployment: &Value) -> bool {
    let wanted = deployment.pointer("/spec/replicas").and_then(Value::as_u64).unwrap_or(1);
    let ready = deployment.pointer("/status/readyReplicas").and_then(Value::as_u64).unwrap_or(0);
    let current =
        deployment.pointer("/status/observedGeneration") == deployment.pointer("/metadata/generation");
    current && ready == wanted
}

/// Starts from a cluster without Istio CRDs, so the test can run again on a reused cluster (the API
/// server rightly refuses to take a CRD back to versions older than those it has stored).
async fn remove_istio_crds() {
    let client = support::connect().await;
    let crds = resource(&client, "apiextensions.k8s.io", "CustomResourceDefinition").await;
    let istio = |crd: &Value| {
        crd.pointer("/spec/group").and_then(Value::as_str).is_some_and(|g| g.ends_with("istio.io"))
    };
    for crd in client.list(&crds, None, None).await.unwrap().iter().filter(|c| istio(c)) {
        client.delete(&ObjectRef::of(crd).unwrap(), Propagation::Background).await.unwrap();
    }
    wait_for("Istio CRDs to be gone", Duration::from_secs(60), || async {
        client.list(&crds, None, None).await.unwrap().iter().all(|c| !istio(c)).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a cluster: run scripts/test.sh"]
async fn rendered_profiles_are_accepted_and_become_ready() {
    // In upgrade order: CRDs only ever gain versions, as on a real cluster.
    let cases: [(&str, Option<&str>, &[&str]); 3] = [
        ("1.5", None, &["mixer.enabled=true"]),
        ("1.6", Some("1-6-14"), &[]),
        ("latest", None, &["istiod.revisionTags={prod}"]),
    ];
    remove_istio_crds().await;
    for (version, revision, set) in cases {
        with_temp_ns("render", move |client, ns| async move {
            let mesh = render_mesh(&request("demo", version, &ns, revision, set)).unwrap();
            let (crds, rest): (Vec<&Value>, Vec<&Value>) =
                mesh.manifests().map(|m| &m.object).partition(|o| o["kind"] == "CustomResourceDefinition");
            let crd_resource = resource(&client, "apiextensions.k8s.io", "CustomResourceDefinition").await;
            for crd in &crds {
                client.apply(crd, ApplyOptions { dry_run: true, force: true }).await.unwrap();
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
                client.apply(object, ApplyOptions { dry_run: true, force: true }).await.unwrap_or_else(|e| {
                    panic!("{version}: dry run of {}: {e}", ObjectRef::of(object).unwrap())
                });
            }
            // Every other profile is accepted too, dry run then for real (over the same namespace),
            // before the demo profile is applied last and its workloads are checked.
            let mut webhooks = Vec::new();
            for profile in ["default", "minimal", "preview", "remote", "empty"] {
                let other = render_mesh(&request(profile, version, &ns, revision, set)).unwrap();
                let objects: Vec<&Value> = other
                    .manifests()
                    .map(|m| &m.object)
                    .filter(|o| o["kind"] != "CustomResourceDefinition")
                    .collect();
                for dry_run in [true, false] {
                    for object in &objects {
                        client.apply(object, ApplyOptions { dry_run, force: true }).await.unwrap_or_else(
                            |e| {
                                panic!(
                                    "{version} {profile} (dry run {dry_run}): {}: {e}",
                                    ObjectRef::of(object).unwrap()
                                )
                            },
                        );
                    }
                }
                webhooks.extend(objects.iter().filter(|o| is_webhook(o)).map(|o| ObjectRef::of(o).unwrap()));
            }
            for object in &rest {
                client.apply(object, ApplyOptions { dry_run: false, force: true }).await.unwrap();
            }
            webhooks.extend(rest.iter().filter(|o| is_webhook(o)).map(|o| ObjectRef::of(o).unwrap()));
            let deployments = resource(&client, "apps", "Deployment").await;
            let names: Vec<String> = rest
                .iter()
                .filter(|o| o["kind"] == "Deployment")
                .map(|o| o["metadata"]["name"].as_str().unwrap().to_string())
                .collect();
            assert!(names.len() >= 3, "{version}: istiod and two gateways at least: {names:?}");
            for name in &names {
                wait_for(
                    &format!("{version}: Deployment {name} ready"),
                    Duration::from_secs(120),
                    || async {
                        client.get(&deployments, Some(&ns), name).await.unwrap().filter(|d| available(d))
                    },
                )
                .await;
            }
            // Webhook configurations are cluster-wide: remove them so later tests' pods are not
            // sent to a control plane that does not run here.
            for webhook in &webhooks {
                client.delete(webhook, Propagation::Background).await.unwrap();
            }
        })
        .await;
    }
}
