//! The live cluster layer and `sailplan collect` on the real test cluster: discovery of CRDs added at
//! run time, server-side apply (idempotent, with readable conflicts), deletes, watches, errors that
//! name the verb, resource and namespace, a snapshot that reads back into what a live read gives and
//! holds no secret value, create-only creates, optimistic replaces and merge patches, the real `helm` CLI, and the stand-in sidecar injector.
//!
//! Run with `scripts/test.sh` (or `cargo test -- --ignored`, which starts a cluster for this binary).

#![allow(clippy::unwrap_used)] // integration tests: a failed unwrap is a failed test

mod support;

use std::io::Read;
use std::sync::Arc;
use std::time::Duration;

use assert_cmd::Command;
use futures::StreamExt;
use sailplan::cluster::live::{ConnectOptions, LiveCluster};
use sailplan::cluster::{ApplyOptions, Cluster, ClusterError, ObjectRef, Propagation, WatchEvent};
use sailplan::collect::{CollectOptions, observe};
use sailplan::snapshot::Snapshot;
use serde_json::{Value, json};
use support::{cluster, resource, run_tool, wait_for, with_temp_ns};

fn deployment(namespace: &str, name: &str, replicas: u32) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name, "version": "v1"}},
                "spec": {"containers": [{"name": "app", "image": "example/app:1",
                    "env": [{"name": "DB_PASSWORD", "value": "planted-env-value-7c1f"}]}]}}
        }
    })
}

fn ready_pods(pods: &[Arc<Value>]) -> usize {
    pods.iter()
        .filter(|p| {
            p.pointer("/status/conditions").and_then(Value::as_array).is_some_and(|conditions| {
                conditions.iter().any(|c| c["type"] == "Ready" && c["status"] == "True")
            })
        })
        .count()
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a cluster: run scripts/test.sh"]
async fn applied_deployment_gets_ready_pods_and_reapplying_changes_nothing() {
    with_temp_ns("apply", |client, ns| async move {
        let stored = client.apply(&deployment(&ns, "web", 2), ApplyOptions::default()).await.unwrap();
        let pods = resource(&client, "", "Pod").await;
        let ready = wait_for("2 Ready pods", Duration::from_secs(60), || async {
            let listed = client.list(&pods, Some(&ns), Some("app=web")).await.unwrap();
            (ready_pods(&listed) == 2).then_some(listed)
        })
        .await;
        assert_eq!(ready.len(), 2);
        let replica_sets = resource(&client, "apps", "ReplicaSet").await;
        assert_eq!(client.list(&replica_sets, Some(&ns), Some("app=web")).await.unwrap().len(), 1);
        let again = client.apply(&deployment(&ns, "web", 2), ApplyOptions::default()).await.unwrap();
        assert_eq!(
            stored["metadata"]["generation"], again["metadata"]["generation"],
            "re-applying is a no-op"
        );
        let dry = client
            .apply(&deployment(&ns, "web", 5), ApplyOptions { dry_run: true, force: false })
            .await
            .unwrap();
        assert_eq!(dry["spec"]["replicas"], 5);
        let deployments = resource(&client, "apps", "Deployment").await;
        let live = client.get(&deployments, Some(&ns), "web").await.unwrap().unwrap();
        assert_eq!(live["spec"]["replicas"], 2, "a dry run changes nothing");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a cluster: run scripts/test.sh"]
async fn discovery_sees_crds_registered_at_run_time_and_watch_sees_changes() {
    with_temp_ns("crd", |client, ns| async move {
        let group = format!("{ns}.sailplan.test");
        let crd = json!({
            "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": format!("widgets.{group}")},
            "spec": {"group": group, "scope": "Namespaced",
                "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
                "versions": [{"name": "v1", "served": true, "storage": true,
                    "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}]}
        });
        client.apply(&crd, ApplyOptions::default()).await.unwrap();
        let widget = wait_for("the Widget kind in discovery", Duration::from_secs(30), || async {
            client.discover().await.unwrap().find(&group, "Widget").cloned()
        })
        .await;
        let mut changes = client.watch(&widget, Some(&ns), None);
        let object = json!({"apiVersion": format!("{group}/v1"), "kind": "Widget", "metadata": {"name": "w", "namespace": ns}, "spec": {"size": 1}});
        client.apply(&object, ApplyOptions::default()).await.unwrap();
        let seen = tokio::time::timeout(Duration::from_secs(30), changes.next()).await.unwrap().unwrap().unwrap();
        assert!(matches!(&seen, WatchEvent::Applied(o) if o["metadata"]["name"] == "w"), "{seen:?}");
        let target = ObjectRef::of(&object).unwrap();
        client.delete(&target, Propagation::Foreground).await.unwrap();
        client.delete(&target, Propagation::Foreground).await.unwrap(); // deleting a missing object is fine
        let crd_target = ObjectRef::of(&crd).unwrap();
        client.delete(&crd_target, Propagation::Background).await.unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a cluster: run scripts/test.sh"]
async fn conflicts_and_rejections_are_readable() {
    with_temp_ns("conflict", |client, ns| async move {
        let config = |value: &str| json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": ns}, "data": {"mode": value}});
        client.apply(&config("ours"), ApplyOptions::default()).await.unwrap();
        let theirs = serde_json::to_string(&config("theirs")).unwrap();
        let file = std::env::temp_dir().join(format!("{ns}-theirs.json"));
        std::fs::write(&file, theirs).unwrap();
        run_tool("kubectl", &["apply", "--server-side", "--field-manager", "someone-else", "--force-conflicts", "-f", file.to_str().unwrap()]);
        let error = client.apply(&config("ours-again"), ApplyOptions::default()).await.unwrap_err();
        let message = error.to_string();
        assert!(matches!(error, ClusterError::Conflict { .. }), "{message}");
        assert!(message.contains(&format!("ConfigMap {ns}/c")) && message.contains("someone-else"), "{message}");
        client.apply(&config("ours-again"), ApplyOptions { dry_run: false, force: true }).await.unwrap();
        let bad = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "Bad_Name", "namespace": ns}, "spec": {"ports": [{"port": 80}]}});
        let error = client.apply(&bad, ApplyOptions::default()).await.unwrap_err();
        assert!(matches!(error, ClusterError::Invalid { .. }), "{error}");
        let unknown = json!({"apiVersion": "nowhere.example/v1", "kind": "Ghost", "metadata": {"name": "g", "namespace": ns}});
        let error = client.apply(&unknown, ApplyOptions::default()).await.unwrap_err().to_string();
        assert!(error.contains("does not serve Ghost in nowhere.example/v1"), "{error}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a cluster: run scripts/test.sh"]
async fn create_is_create_only_replace_is_optimistic_and_merge_patch_removes_foreign_labels() {
    with_temp_ns("write", |client, ns| async move {
        let lock = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "lock", "namespace": ns}, "data": {"holder": "a"}});
        let created = client.create(&lock).await.unwrap();
        let error = client.create(&lock).await.unwrap_err();
        assert!(matches!(error, ClusterError::AlreadyExists { .. }), "{error}");
        assert!(error.to_string().contains(&format!("ConfigMap {ns}/lock")), "{error}");
        let mut mine = Value::clone(&created);
        mine["data"]["holder"] = json!("b");
        let replaced = client.replace(&mine).await.unwrap();
        assert_eq!(replaced["data"]["holder"], "b");
        let mut stale = Value::clone(&created);
        stale["data"]["holder"] = json!("c");
        let error = client.replace(&stale).await.unwrap_err();
        assert!(matches!(error, ClusterError::Conflict { .. }), "a replace from an old read fails: {error}");
        run_tool("kubectl", &["label", "namespace", &ns, "istio-injection=enabled"]);
        let target = ObjectRef { api_version: "v1".into(), kind: "Namespace".into(), namespace: None, name: ns.clone() };
        let patched = client
            .merge_patch(&target, &json!({"metadata": {"labels": {"istio-injection": null, "istio.io/rev": "1-6-14"}}}))
            .await
            .unwrap();
        let labels = &patched["metadata"]["labels"];
        assert!(labels.get("istio-injection").is_none(), "{labels}");
        assert_eq!(labels["istio.io/rev"], "1-6-14");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a cluster: run scripts/test.sh"]
async fn permission_and_connection_errors_name_what_failed() {
    with_temp_ns("rbac", |client, ns| async move {
        let sa = json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "nobody", "namespace": ns}});
        client.apply(&sa, ApplyOptions::default()).await.unwrap();
        let token = run_tool("kubectl", &["create", "token", "nobody", "-n", &ns]);
        let admin = std::fs::read_to_string(&cluster().kubeconfig).unwrap();
        let server = admin.lines().find_map(|l| l.trim().strip_prefix("server: ")).unwrap().to_string();
        let ca = admin.lines().find_map(|l| l.trim().strip_prefix("certificate-authority-data: ")).unwrap().to_string();
        let kubeconfig = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: test\n  cluster:\n    server: {server}\n    certificate-authority-data: {ca}\nusers:\n- name: nobody\n  user:\n    token: {}\ncontexts:\n- name: nobody\n  context:\n    cluster: test\n    user: nobody\ncurrent-context: nobody\n",
            token.trim()
        );
        let path = std::env::temp_dir().join(format!("{ns}-nobody.kubeconfig"));
        std::fs::write(&path, kubeconfig).unwrap();
        let limited = LiveCluster::connect(&ConnectOptions { kubeconfig: Some(path.clone()), context: Some("nobody".into()) }).await.unwrap();
        let secrets = resource(&client, "", "Secret").await;
        let error = limited.list(&secrets, Some(&ns), None).await.unwrap_err();
        let message = error.to_string();
        assert!(matches!(error, ClusterError::Forbidden { .. }), "{message}");
        assert!(message.starts_with(&format!("permission denied: cannot list secrets in namespace {ns}: ")), "{message}");
        let missing = LiveCluster::connect(&ConnectOptions { kubeconfig: Some(path), context: Some("nope".into()) }).await;
        assert!(matches!(missing, Err(ClusterError::Config { .. })));
        let closed = admin.replace(&server, "https://127.0.0.1:1");
        let closed_path = std::env::temp_dir().join(format!("{ns}-closed.kubeconfig"));
        std::fs::write(&closed_path, closed).unwrap();
        let unreachable = LiveCluster::connect(&ConnectOptions { kubeconfig: Some(closed_path), context: None }).await.unwrap();
        let error = unreachable.server_version().await.unwrap_err();
        assert!(matches!(error, ClusterError::Unreachable { .. }), "{error}");
        assert!(error.to_string().starts_with("cannot reach the Kubernetes API server at https://127.0.0.1:1"), "{error}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a cluster: run scripts/test.sh"]
async fn collect_reads_back_as_the_live_view_and_holds_no_secret_value() {
    with_temp_ns("collect", |client, ns| async move {
        let planted = "planted-secret-value-9d2e";
        let secret = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "creds", "namespace": ns},
            "type": "Opaque", "stringData": {"password": planted}});
        // Client-side apply, so the secret value also sits in the last-applied annotation.
        let file = std::env::temp_dir().join(format!("{ns}-secret.json"));
        std::fs::write(&file, serde_json::to_string(&secret).unwrap()).unwrap();
        run_tool("kubectl", &["apply", "-f", file.to_str().unwrap()]);
        client.apply(&deployment(&ns, "web", 1), ApplyOptions::default()).await.unwrap();
        let pods = resource(&client, "", "Pod").await;
        wait_for("a Ready pod", Duration::from_secs(60), || async {
            (ready_pods(&client.list(&pods, Some(&ns), None).await.unwrap()) == 1).then_some(())
        })
        .await;

        let out = std::env::temp_dir().join(format!("{ns}.tar.gz"));
        Command::cargo_bin("sailplan")
            .unwrap()
            .args(["collect", "-o", out.to_str().unwrap(), "--kubeconfig", cluster().kubeconfig.to_str().unwrap()])
            .assert()
            .success();
        let mut bytes = Vec::new();
        flate2::read::GzDecoder::new(std::fs::File::open(&out).unwrap()).read_to_end(&mut bytes).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        use base64::Engine as _;
        for needle in [planted.to_string(), base64::engine::general_purpose::STANDARD.encode(planted), "planted-env-value-7c1f".to_string()] {
            assert!(!text.contains(&needle), "the snapshot contains {needle:?}");
        }
        let from_file = Snapshot::read(&out).unwrap();
        let live = observe(&client, &CollectOptions { istio_namespace: "istio-system".into() }, &|_, _, _| {}).await.unwrap();
        let ours = |snapshot: &Snapshot| -> Vec<Arc<Value>> {
            snapshot.objects.iter().filter(|o| o.pointer("/metadata/namespace").and_then(Value::as_str) == Some(ns.as_str())).cloned().collect()
        };
        assert_eq!(ours(&from_file), ours(&live), "the snapshot reads back as the live view");
        assert!(ours(&live).iter().any(|o| o["kind"] == "Secret" && o["metadata"]["annotations"]["sailplan.dev/secret-keys"] == "password"));
        assert!(ours(&live).iter().any(|o| o["kind"] == "Pod"));
        assert_eq!(from_file.info.kubernetes_version, live.info.kubernetes_version);
    })
    .await;
}

#[test]
#[ignore = "needs a cluster: run scripts/test.sh"]
fn the_real_helm_cli_talks_to_the_test_cluster() {
    let listed = run_tool("helm", &["list", "-A", "--kubeconfig", cluster().kubeconfig.to_str().unwrap()]);
    assert!(listed.starts_with("NAME"), "{listed}");
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a cluster: run scripts/test.sh"]
async fn stand_in_injector_marks_pods_like_istios_injector() {
    with_temp_ns("inject", |client, ns| async move {
        let state = cluster().state_dir.clone().expect("the cluster's state directory");
        let addr_file = std::env::temp_dir().join(format!("{ns}.addr"));
        let mut injector = std::process::Command::new(cluster().bin_dir.join("stand-in-injector"))
            .args(["--listen", "127.0.0.1:0", "--addr-file", addr_file.to_str().unwrap()])
            .args(["--tls-cert", state.join("pki/stand-in-injector.crt").to_str().unwrap()])
            .args(["--tls-key", state.join("pki/stand-in-injector.key").to_str().unwrap()])
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let addr = wait_for("the stand-in injector's address", Duration::from_secs(10), || async {
            std::fs::read_to_string(&addr_file).ok().filter(|a| !a.trim().is_empty())
        })
        .await;
        let revision = format!("r-{}", &ns[ns.len() - 6..]);
        let config = run_tool(
            "stand-in-injector",
            &["--print-webhook-config", "--name", &format!("stand-in-{ns}"), "--url-base", &format!("https://{}", addr.trim()),
              "--ca-file", state.join("pki/ca.crt").to_str().unwrap(), "--revision", &revision, "--image", "docker.io/istio/proxyv2:1.6.14"],
        );
        let webhook: Value = serde_json::from_str(&config).unwrap();
        client.apply(&webhook, ApplyOptions::default()).await.unwrap();
        let namespace = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns, "labels": {"istio.io/rev": revision}}});
        client.apply(&namespace, ApplyOptions { dry_run: false, force: true }).await.unwrap();
        tokio::time::sleep(Duration::from_secs(2)).await; // the API server picks up new webhooks asynchronously
        client.apply(&deployment(&ns, "web", 1), ApplyOptions::default()).await.unwrap();
        let pods = resource(&client, "", "Pod").await;
        let pod = wait_for("an injected pod", Duration::from_secs(60), || async {
            client.list(&pods, Some(&ns), None).await.unwrap().into_iter().next()
        })
        .await;
        let containers: Vec<&str> = pod["spec"]["containers"].as_array().unwrap().iter().filter_map(|c| c["name"].as_str()).collect();
        assert_eq!(containers, ["app", "istio-proxy"]);
        assert_eq!(pod["spec"]["containers"][1]["image"], "docker.io/istio/proxyv2:1.6.14");
        let status: Value = serde_json::from_str(pod["metadata"]["annotations"]["sidecar.istio.io/status"].as_str().unwrap()).unwrap();
        assert_eq!(status["revision"], revision.as_str());
        assert_eq!(pod["metadata"]["labels"]["istio.io/rev"], revision.as_str());
        client.delete(&ObjectRef::of(&webhook).unwrap(), Propagation::Background).await.unwrap();
        let _ = injector.kill();
        let _ = injector.wait();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a cluster: run scripts/test.sh"]
async fn check_gives_the_same_findings_live_and_from_a_snapshot() {
    with_temp_ns("check", |client, ns| async move {
        let labelled = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns,
            "labels": {"istio-injection": "enabled", "istio.io/rev": "missing-revision"}}});
        client.apply(&labelled, ApplyOptions { dry_run: false, force: true }).await.unwrap();
        let service = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": ns},
            "spec": {"selector": {"app": "web"}, "ports": [{"name": "web", "port": 80}]}});
        client.apply(&service, ApplyOptions::default()).await.unwrap();
        let webhook_name = format!("{ns}-orphan");
        let webhook = json!({"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingWebhookConfiguration",
            "metadata": {"name": webhook_name},
            "webhooks": [{"name": "orphan.sailplan.test", "failurePolicy": "Ignore", "sideEffects": "None",
                "admissionReviewVersions": ["v1"], "clientConfig": {"service": {"name": "gone", "namespace": ns, "path": "/x"}},
                "objectSelector": {"matchLabels": {"never": "matches"}},
                "rules": [{"operations": ["CREATE"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["configmaps"]}]}]});
        client.apply(&webhook, ApplyOptions::default()).await.unwrap();

        let kubeconfig = cluster().kubeconfig.to_str().unwrap().to_string();
        let run = |args: &[&str]| {
            let output = Command::cargo_bin("sailplan").unwrap().args(args).output().unwrap();
            assert!(output.status.code() == Some(5) || output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
            serde_json::from_slice::<Value>(&output.stdout).unwrap()
        };
        let snapshot = std::env::temp_dir().join(format!("{ns}-check.tar.gz"));
        Command::cargo_bin("sailplan").unwrap().args(["collect", "-o", snapshot.to_str().unwrap(), "--kubeconfig", &kubeconfig]).assert().success();
        let live = run(&["check", "-o", "json", "--kubeconfig", &kubeconfig]);
        let offline = run(&["check", "-o", "json", "--snapshot", snapshot.to_str().unwrap()]);
        let ours = |document: &Value| -> Vec<Value> {
            document["findings"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|f| f["object"]["namespace"] == ns.as_str() || f["object"]["name"] == ns.as_str() || f["object"]["name"] == webhook_name.as_str())
                .cloned()
                .collect()
        };
        assert_eq!(ours(&live), ours(&offline));
        let found = ours(&live);
        let codes: Vec<&str> = found.iter().filter_map(|f| f["code"].as_str()).collect();
        for expected in ["W-INJECT-BOTH-LABELS", "E-INJECT-UNKNOWN-REVISION", "W-PORT-NAME-PROTOCOL", "W-WEBHOOK-NO-ENDPOINTS"] {
            assert!(codes.contains(&expected), "{expected} missing from {codes:?}");
        }
        client.delete(&ObjectRef::of(&webhook).unwrap(), Propagation::Background).await.unwrap();
    })
    .await;
}
