//! Diff benchmark: how long `sailplan::diff::compare` takes on a large cluster, the size the
//! product brief sets as the target for plan + diff (5,000 namespaces, 50,000 pods, 20,000 Istio
//! objects, under 2 s on 2 cores). Run with `cargo bench --bench diff`; results go in
//! docs/benchmarks.md. A plain harness, as for the render benchmark: warm-up, then timed
//! iterations, min / median / p95 / mean as a Markdown table.
//!
//! The inputs are synthetic but shaped like a real mesh: the observed side holds every namespace,
//! pod and Istio object plus the control plane as kube-apiserver returned it (the test fixture);
//! the plan applies the control plane and every Istio object, 1% of them changed and 1% new, and
//! deletes 200 objects.

use std::time::{Duration, Instant};

use sailplan::cluster::ObjectRef;
use sailplan::diff::{DiffOptions, Summary, compare, summary_line};
use serde_json::{Value, json};

const ITERATIONS: usize = 20;
const WARM_UP: usize = 2;
const NAMESPACES: usize = 5_000;
const PODS: usize = 50_000;
const ISTIO_OBJECTS: usize = 20_000;

fn namespace(i: usize) -> String {
    format!("team-{i:04}")
}

fn pod(i: usize) -> Value {
    let ns = namespace(i % NAMESPACES);
    json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": format!("app-{i}-7d9f8c6b5-x2k4q"), "namespace": ns, "uid": format!("uid-{i}"),
            "resourceVersion": "12345", "labels": {"app": format!("app-{}", i % 10), "security.istio.io/tlsMode": "istio",
            "service.istio.io/canonical-name": "app"},
            "annotations": {"sidecar.istio.io/status": "{\"revision\":\"default\"}"}},
        "spec": {"containers": [
            {"name": "app", "image": "example.com/app:1.0", "ports": [{"containerPort": 8080, "protocol": "TCP"}]},
            {"name": "istio-proxy", "image": "docker.io/istio/proxyv2:1.31.1", "args": ["proxy", "sidecar"],
                "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}}}],
            "nodeName": "node-1", "serviceAccountName": "default"},
        "status": {"phase": "Running", "podIP": "10.0.0.1"}})
}

fn istio_object(i: usize, variant: &str) -> Value {
    let ns = namespace(i % NAMESPACES);
    match i % 4 {
        0 => json!({"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
            "metadata": {"name": format!("vs-{i}"), "namespace": ns},
            "spec": {"hosts": [format!("svc-{i}.{ns}.svc.cluster.local")], "http": [
                {"match": [{"uri": {"prefix": "/api"}}], "route": [{"destination": {"host": format!("svc-{i}"), "subset": variant}, "weight": 90},
                    {"destination": {"host": format!("svc-{i}"), "subset": "canary"}, "weight": 10}], "timeout": "5s",
                    "retries": {"attempts": 3, "perTryTimeout": "2s"}}]}}),
        1 => json!({"apiVersion": "networking.istio.io/v1", "kind": "DestinationRule",
            "metadata": {"name": format!("dr-{i}"), "namespace": ns},
            "spec": {"host": format!("svc-{i}"), "trafficPolicy": {"tls": {"mode": "ISTIO_MUTUAL"},
                "connectionPool": {"tcp": {"maxConnections": 100}}},
                "subsets": [{"name": variant, "labels": {"version": "v1"}}, {"name": "canary", "labels": {"version": "v2"}}]}}),
        2 => json!({"apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy",
            "metadata": {"name": format!("ap-{i}"), "namespace": ns},
            "spec": {"selector": {"matchLabels": {"app": format!("app-{}", i % 10)}}, "action": "ALLOW",
                "rules": [{"from": [{"source": {"principals": [format!("cluster.local/ns/{ns}/sa/{variant}")]}}],
                    "to": [{"operation": {"methods": ["GET", "POST"]}}]}]}}),
        _ => json!({"apiVersion": "security.istio.io/v1", "kind": "PeerAuthentication",
            "metadata": {"name": format!("pa-{i}"), "namespace": ns}, "spec": {"mtls": {"mode": "STRICT"}}}),
    }
}

/// As the server returns an object: with bookkeeping and status.
fn as_stored(mut object: Value, i: usize) -> Value {
    object["metadata"]["uid"] = json!(format!("uid-{i}"));
    object["metadata"]["resourceVersion"] = json!("4242");
    object["metadata"]["generation"] = json!(1);
    object["metadata"]["creationTimestamp"] = json!("2026-01-01T00:00:00Z");
    object["metadata"]["managedFields"] = json!([{"manager": "sailplan", "operation": "Apply", "fieldsType": "FieldsV1",
        "fieldsV1": {"f:spec": {}}}]);
    object["status"] = json!({});
    object
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    let fixture =
        |text: &str| sailplan::yaml::parse_documents(text).unwrap_or_else(|e| panic!("fixture: {e}"));
    let control_plane = fixture(include_str!("../tests/fixtures/diff/default-planned.yaml"));
    let stored_control_plane = fixture(include_str!("../tests/fixtures/diff/default-server.yaml"));

    let mut observed: Vec<Value> = (0..NAMESPACES)
        .map(|i| {
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace(i),
            "labels": {"istio-injection": "enabled", "kubernetes.io/metadata.name": namespace(i)}},
            "spec": {"finalizers": ["kubernetes"]}})
        })
        .collect();
    observed.extend((0..PODS).map(pod));
    // Istio objects 0..19,800 exist; the plan changes every 101st and adds the last 200.
    let existing = ISTIO_OBJECTS - ISTIO_OBJECTS / 100;
    observed.extend((0..existing).map(|i| as_stored(istio_object(i, "stable"), i)));
    // 200 more exist that the plan deletes.
    observed.extend((ISTIO_OBJECTS..ISTIO_OBJECTS + 200).map(|i| as_stored(istio_object(i, "stable"), i)));
    observed.extend(stored_control_plane);

    let mut desired = control_plane;
    desired
        .extend((0..ISTIO_OBJECTS).map(|i| istio_object(i, if i % 101 == 5 { "primary" } else { "stable" })));
    let deletions: Vec<ObjectRef> = (ISTIO_OBJECTS..ISTIO_OBJECTS + 200)
        .filter_map(|i| ObjectRef::of(&istio_object(i, "stable")))
        .collect();

    println!(
        "observed: {} objects; planned: {} applied, {} deleted\n",
        observed.len(),
        desired.len(),
        deletions.len()
    );
    println!("| case | min ms | median ms | p95 ms | mean ms |");
    println!("|---|---|---|---|---|");
    let cases = [
        ("text for updates only", DiffOptions::default()),
        (
            "text for every create and delete too",
            DiffOptions { whole_objects: true, ..DiffOptions::default() },
        ),
    ];
    let mut line = String::new();
    for (name, options) in cases {
        for _ in 0..WARM_UP {
            let changes =
                compare(&desired, &observed, &deletions, &options).unwrap_or_else(|e| panic!("{e}"));
            line = summary_line(&Summary::of(&changes));
        }
        let mut times: Vec<Duration> = (0..ITERATIONS)
            .map(|_| {
                let start = Instant::now();
                let changes = compare(&desired, &observed, &deletions, &options);
                let elapsed = start.elapsed();
                std::hint::black_box(changes).ok();
                elapsed
            })
            .collect();
        times.sort();
        let mean = times.iter().map(|d| millis(*d)).sum::<f64>() / times.len() as f64;
        println!(
            "| {name} | {:.1} | {:.1} | {:.1} | {mean:.1} |",
            millis(times[0]),
            millis(times[times.len() / 2]),
            millis(times[times.len() * 95 / 100]),
        );
    }
    println!("\n{line}");
}
