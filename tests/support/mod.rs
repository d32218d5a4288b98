//! Test support for the real-cluster tests, in the spirit of linkerd2's `with_temp_ns`: the test
//! cluster is started once per test binary (or reused through `SAILPLAN_TEST_KUBECONFIG`), each test
//! gets a client and a fresh namespace labelled for cleanup, and when a test fails the pods and events
//! of its namespace are printed before the namespace is deleted (kept with `SAILPLAN_TEST_NO_CLEANUP`).
//! [`fault_proxy`] puts a fault-injecting stand-in in front of the API server.

#![allow(dead_code, clippy::unwrap_used)] // shared by several test binaries; each uses a part

pub mod fault_proxy;

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use sailplan::cluster::live::{ConnectOptions, LiveCluster};
use sailplan::cluster::{ApplyOptions, Cluster, ObjectRef, Propagation, Resource};
use serde_json::{Value, json};

/// The label put on every namespace a test creates, for bulk cleanup.
pub const TEST_LABEL: &str = "sailplan.dev/test";

/// A running test cluster.
pub struct TestCluster {
    /// Admin kubeconfig.
    pub kubeconfig: PathBuf,
    /// Where kubectl, helm and the stand-in injector live.
    pub bin_dir: PathBuf,
    /// The cluster's state directory (certificates in `pki/`), when this binary started it.
    pub state_dir: Option<PathBuf>,
}

/// The shared test cluster: the one `scripts/test.sh` started, or one started now for this test
/// binary (stopped by the start script's watchdog when the binary exits).
pub fn cluster() -> &'static TestCluster {
    static CLUSTER: OnceLock<TestCluster> = OnceLock::new();
    CLUSTER.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        if let (Ok(kubeconfig), Ok(bin)) =
            (std::env::var("SAILPLAN_TEST_KUBECONFIG"), std::env::var("SAILPLAN_TEST_BIN_DIR"))
        {
            let kubeconfig = PathBuf::from(kubeconfig);
            let state_dir = kubeconfig.parent().map(Path::to_path_buf);
            return TestCluster { kubeconfig, bin_dir: PathBuf::from(bin), state_dir };
        }
        let run = |script: &str, args: &[&str]| {
            let output = std::process::Command::new(root.join("scripts/test-cluster").join(script))
                .args(args)
                .env("SAILPLAN_OWNER_PID", std::process::id().to_string())
                .output()
                .unwrap();
            assert!(output.status.success(), "{script} failed:\n{}", String::from_utf8_lossy(&output.stderr));
            String::from_utf8(output.stdout).unwrap().lines().last().unwrap_or_default().to_string()
        };
        let bin_dir = PathBuf::from(run("build.sh", &[]));
        let state = std::env::temp_dir().join(format!("sailplan-test-{}", std::process::id()));
        let kubeconfig = PathBuf::from(run("start.sh", &[state.to_str().unwrap()]));
        TestCluster { kubeconfig, bin_dir, state_dir: Some(state) }
    })
}

/// A client for the test cluster.
pub async fn connect() -> LiveCluster {
    LiveCluster::connect(&ConnectOptions { kubeconfig: Some(cluster().kubeconfig.clone()), context: None })
        .await
        .unwrap()
}

/// The resource serving `kind` in `group`.
pub async fn resource(cluster: &LiveCluster, group: &str, kind: &str) -> Resource {
    cluster
        .discover()
        .await
        .unwrap()
        .find(group, kind)
        .cloned()
        .unwrap_or_else(|| panic!("no {kind} in {group:?}"))
}

/// Polls `check` every 200 ms until it returns `Some`, or panics after `timeout` naming `what`.
pub async fn wait_for<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(tokio::time::Instant::now() < deadline, "timed out after {timeout:?} waiting for {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn unique(name: &str) -> String {
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    format!("sp-{name}-{:x}", (nanos ^ std::process::id()) & 0xffffff)
}

/// Runs `test` with a client and a fresh namespace; prints the namespace's pods and events if the
/// test fails, then deletes the namespace.
pub async fn with_temp_ns<F, Fut>(name: &str, test: F)
where
    F: FnOnce(LiveCluster, String) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let client = connect().await;
    let namespace = unique(name);
    let object = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace, "labels": {TEST_LABEL: "true"}}});
    client.apply(&object, ApplyOptions::default()).await.unwrap();
    let service_accounts = resource(&client, "", "ServiceAccount").await;
    wait_for("the default ServiceAccount", Duration::from_secs(30), || async {
        client.get(&service_accounts, Some(&namespace), "default").await.unwrap()
    })
    .await;
    let outcome = tokio::spawn(test(connect().await, namespace.clone())).await;
    if outcome.is_err() {
        dump(&client, &namespace).await;
    }
    if std::env::var_os("SAILPLAN_TEST_NO_CLEANUP").is_none() {
        let target = ObjectRef {
            api_version: "v1".into(),
            kind: "Namespace".into(),
            namespace: None,
            name: namespace,
        };
        client.delete(&target, Propagation::Background).await.unwrap();
    }
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic.into_panic());
    }
}

/// Prints the pods (phase, readiness, containers) and events of a namespace.
async fn dump(client: &LiveCluster, namespace: &str) {
    eprintln!("--- namespace {namespace} after the failure ---");
    let pods = resource(client, "", "Pod").await;
    for pod in client.list(&pods, Some(namespace), None).await.unwrap_or_default() {
        let name = pod.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("?");
        let phase = pod.pointer("/status/phase").and_then(Value::as_str).unwrap_or("?");
        let conditions = pod.pointer("/status/conditions").cloned().unwrap_or(Value::Null);
        eprintln!("pod {name}: {phase} {conditions}");
    }
    let events = resource(client, "", "Event").await;
    for event in client.list(&events, Some(namespace), None).await.unwrap_or_default() {
        let object = event.pointer("/involvedObject/name").and_then(Value::as_str).unwrap_or("?");
        let reason = event.get("reason").and_then(Value::as_str).unwrap_or("?");
        let message = event.get("message").and_then(Value::as_str).unwrap_or("");
        eprintln!("event {object}: {reason}: {message}");
    }
}

/// The `sailplan` binary under test with `args`, its output without colour.
pub fn sailplan(args: &[&str]) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_sailplan"));
    command.args(args).env("NO_COLOR", "1");
    command
}

/// A finished command's stderr.
pub fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Runs a binary built with the test cluster (kubectl, helm) and returns its stdout.
pub fn run_tool(tool: &str, args: &[&str]) -> String {
    let output = std::process::Command::new(cluster().bin_dir.join(tool))
        .args(args)
        .env("KUBECONFIG", &cluster().kubeconfig)
        .output()
        .unwrap();
    assert!(output.status.success(), "{tool} {args:?} failed:\n{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

/// Removes what other tests (or an earlier run) may have left of Istio: the istio-system namespace
/// and Istio's cluster-wide objects, so the cluster starts without Istio; then waits until no
/// namespace is being deleted (a plan's fingerprint would change under it).
pub async fn without_istio(client: &LiveCluster) {
    run_tool("kubectl", &["delete", "namespace", "istio-system", "--ignore-not-found", "--wait=true"]);
    for kind in [
        "crd",
        "mutatingwebhookconfiguration",
        "validatingwebhookconfiguration",
        "clusterrole",
        "clusterrolebinding",
    ] {
        let names = run_tool("kubectl", &["get", kind, "-o", "name"]);
        for name in names.lines().filter(|n| n.contains("istio")) {
            run_tool("kubectl", &["delete", name, "--wait=true"]);
        }
    }
    let namespaces = resource(client, "", "Namespace").await;
    wait_for("no namespace being deleted", Duration::from_secs(120), || async {
        let all = client.list(&namespaces, None, None).await.unwrap();
        all.iter().all(|ns| ns.pointer("/metadata/deletionTimestamp").is_none()).then_some(())
    })
    .await;
}
