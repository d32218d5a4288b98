//! `sailplan apply` on the real test cluster: a hand-built plan (a ConfigMap and a Deployment behind
//! rollout gates, a Secret whose data is copied in the cluster, a relabelled namespace, a restarted
//! workload, a backed-up deletion) runs to completion and running it again changes nothing; a failed
//! gate undoes its step (exit 3); a killed apply resumes; a second apply is refused naming the
//! holder; a stale plan exits 4; and the plan still comes out right through a proxy failing 30% of
//! requests. A fresh install of the newest version is planned, applied, listed by the real `helm`
//! and rolled back as a user does it, and `rollback` puts the hand-built plan back from its backups.
//!
//! Each test but the fresh install uses its own namespace as the control-plane namespace (lock,
//! journal, backups); the fresh install uses istio-system and takes everything away again. Plans carry a fingerprint of the whole cluster, so the tests of this
//! binary run one at a time.
//!
//! Run with `scripts/test.sh` (or `cargo test -- --ignored`, which starts a cluster for this binary).

#![allow(clippy::unwrap_used)] // integration tests: a failed unwrap is a failed test

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use sailplan::apply::journal;
use sailplan::apply::{ApplyError, ExecutorOptions, Journal, Mode, Progress, StepStatus, run};
use sailplan::cluster::live::{ConnectOptions, LiveCluster};
use sailplan::cluster::{Cluster, ObjectRef};
use sailplan::collect::{CollectOptions, observe};
use sailplan::plan::model::Plan;
use serde_json::{Value, json};
use support::fault_proxy::{FaultProxy, Faults};
use support::{cluster, resource, sailplan, stderr, wait_for, with_temp_ns};

/// The tests of this binary one at a time (a plan's fingerprint covers the whole cluster).
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The value of the Secret the plans copy from; it must never appear in a journal or a local file.
const SECRET_VALUE: &str = "not-for-your-eyes-4711";

fn b64(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(text)
}

/// A plan around `steps`, made from the cluster as it is now.
fn plan(id: &str, fingerprint: &str, steps: Value) -> Plan {
    serde_json::from_value(json!({
        "apiVersion": "sailplan.dev/v1alpha1", "kind": "UpgradePlan",
        "metadata": {"id": id, "observedFrom": "cluster"},
        "spec": {
            "source": {"controlPlanes": [], "proxies": {}},
            "target": {"version": "1.6.14", "profile": "default", "strategy": "canary", "valuesDigest": "",
                "values": {}, "dataPlane": {"batchSize": 1, "pause": "0s"}},
            "fingerprint": fingerprint, "hops": [], "findings": [], "blocked": false,
            "steps": steps,
        }
    }))
    .unwrap()
}

/// The fingerprint of the cluster as an apply with control-plane namespace `ns` reads it, once it
/// is settled (no namespace terminating, two reads a second apart agree).
async fn fingerprint(client: &LiveCluster, ns: &str) -> String {
    let namespaces = resource(client, "", "Namespace").await;
    let options = CollectOptions { istio_namespace: ns.to_string() };
    wait_for("a settled cluster", Duration::from_secs(120), || async {
        let terminating = client
            .list(&namespaces, None, None)
            .await
            .unwrap()
            .iter()
            .any(|n| n.pointer("/status/phase").and_then(Value::as_str) == Some("Terminating"));
        if terminating {
            return None;
        }
        let first =
            sailplan::plan::fingerprint::of(&observe(client, &options, &|_, _, _| {}).await.unwrap().objects);
        tokio::time::sleep(Duration::from_secs(1)).await;
        let second =
            sailplan::plan::fingerprint::of(&observe(client, &options, &|_, _, _| {}).await.unwrap().objects);
        (first == second).then_some(first)
    })
    .await
}

fn options(ns: &str, dir: &Path) -> ExecutorOptions {
    ExecutorOptions {
        namespace: ns.to_string(),
        lease_duration: Duration::from_secs(10),
        journal_dir: dir.to_path_buf(),
        ..ExecutorOptions::default()
    }
}

fn deployment(ns: &str, name: &str, pod_state: Option<&str>) -> Value {
    let mut template = json!({"metadata": {"labels": {"app": name}},
        "spec": {"containers": [{"name": "app", "image": "registry.example/app:1"}]}});
    if let Some(state) = pod_state {
        template["metadata"]["annotations"] = json!({"sailplan.test/pod-state": state});
    }
    json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": ns},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}}, "template": template}})
}

fn config_map(ns: &str, name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": ns}, "data": {"k": name}})
}

fn reference(kind: &str, ns: &str, name: &str) -> Value {
    let api_version = if kind == "Deployment" { "apps/v1" } else { "v1" };
    json!({"apiVersion": api_version, "kind": kind, "namespace": ns, "name": name})
}

/// Objects the plan of [`full_plan`] expects before it runs: a Secret to copy from and a
/// ConfigMap it deletes.
async fn prepare(client: &LiveCluster, ns: &str) {
    let source = json!({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
        "metadata": {"name": "src-cert", "namespace": ns}, "data": {"tls.crt": b64(SECRET_VALUE)}});
    client.create(&source).await.unwrap();
    client.create(&config_map(ns, "old-config")).await.unwrap();
}

/// The plan of test (a): preflight, apply (ConfigMap, Deployment, copied Secret), relabel, restart,
/// back up and delete.
fn full_plan(id: &str, ns: &str, fingerprint: &str) -> Plan {
    let copied = json!({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
        "metadata": {"name": "copied", "namespace": ns,
            "annotations": {"sailplan.dev/copy-from": json!({"tls.crt": format!("{ns}/src-cert/tls.crt")}).to_string()}}});
    plan(
        id,
        fingerprint,
        json!([
            {"id": "h1-01-preflight", "hop": 1, "phase": "preflight", "title": "Preflight", "actions": [],
             "gates": [{"name": "cluster-reachable", "timeout": "30s"}, {"name": "no-apply-in-progress", "timeout": "30s"},
                       {"name": "plan-not-stale", "timeout": "1m", "params": {"fingerprint": fingerprint}},
                       {"name": "no-blocking-findings", "timeout": "10s"}],
             "undo": []},
            {"id": "h1-02-apply", "hop": 1, "phase": "control-plane", "title": "Apply the workload",
             "actions": [{"type": "apply", "release": "web", "source": "test", "objects": [config_map(ns, "app-config"), deployment(ns, "web", None), copied]}],
             "gates": [{"name": "rollout-complete", "timeout": "2m", "params": {"kind": "Deployment", "namespace": ns, "name": "web"}},
                       {"name": "pods-ready", "timeout": "2m", "params": {"namespaces": ns}},
                       {"name": "config-accepted", "timeout": "30s"},
                       {"name": "root-ca-unchanged", "timeout": "30s"}],
             "undo": [{"type": "delete", "objects": [reference("ConfigMap", ns, "app-config"), reference("Deployment", ns, "web"), reference("Secret", ns, "copied")]}]},
            {"id": "h1-03-relabel", "hop": 1, "phase": "data-plane", "title": "Relabel",
             "actions": [{"type": "relabel", "namespace": ns, "set": {"istio.io/rev": "canary"}}],
             "gates": [{"name": "no-dual-injection-labels", "timeout": "30s", "params": {"namespaces": ns}}],
             "undo": [{"type": "relabel", "namespace": ns, "remove": ["istio.io/rev"]}]},
            {"id": "h1-04-restart", "hop": 1, "phase": "data-plane", "title": "Restart",
             "actions": [{"type": "restart", "namespace": ns, "workloads": [reference("Deployment", ns, "web")]}],
             "gates": [{"name": "rollout-complete", "timeout": "2m", "params": {"namespaces": ns}}],
             "undo": []},
            {"id": "h1-05-remove-old", "hop": 1, "phase": "finalize", "title": "Remove the old config, after a backup",
             "actions": [{"type": "backup", "objects": [reference("ConfigMap", ns, "old-config"), reference("Secret", ns, "src-cert")]},
                         {"type": "delete", "objects": [reference("ConfigMap", ns, "old-config")]}],
             "gates": [],
             "undo": [{"type": "restore", "objects": [reference("ConfigMap", ns, "old-config")]}]}
        ]),
    )
}

/// The local journal of plan `id`, from its header and step records; `None` before it is written.
fn try_read_journal(dir: &Path, id: &str) -> Option<Journal> {
    let local = journal::local_dir(dir, id);
    let header = serde_json::from_str(&std::fs::read_to_string(local.join("header.json")).ok()?).ok()?;
    // One step record per line, appended: the last line of a step stands.
    let mut pieces = Vec::new();
    for line in std::fs::read_to_string(local.join(journal::STEPS_FILE)).ok()?.lines() {
        if !line.trim().is_empty() {
            pieces.push(serde_json::from_str(line).ok()?);
        }
    }
    Some(Journal::from_pieces(header, pieces, None))
}

fn read_journal(dir: &Path, id: &str) -> Journal {
    try_read_journal(dir, id).unwrap()
}

/// Every file under `dir`, as text.
fn files_under(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push((path.clone(), String::from_utf8_lossy(&std::fs::read(&path).unwrap()).to_string()));
        }
    }
    out
}

async fn get(client: &LiveCluster, group: &str, kind: &str, ns: &str, name: &str) -> Option<Arc<Value>> {
    client.get(&resource(client, group, kind).await, Some(ns), name).await.unwrap()
}

async fn namespace_labels(client: &LiveCluster, ns: &str) -> Value {
    let namespaces = resource(client, "", "Namespace").await;
    client.get(&namespaces, None, ns).await.unwrap().unwrap()["metadata"]["labels"].clone()
}

/// Checks the outcome of the full plan: every step done, and the cluster as the plan says.
async fn check_full_plan_applied(client: &LiveCluster, ns: &str, dir: &Path, id: &str) {
    let journal = read_journal(dir, id);
    assert!(journal.steps.iter().all(|s| s.status == StepStatus::Done), "{journal:?}");
    let app_config = get(client, "", "ConfigMap", ns, "app-config").await.unwrap();
    assert_eq!(
        app_config["metadata"]["labels"]["app.kubernetes.io/managed-by"], "Helm",
        "stamped for its release"
    );
    let release = get(client, "", "Secret", ns, "sh.helm.release.v1.web.v1").await.unwrap();
    assert_eq!(
        release["metadata"]["labels"]["status"], "deployed",
        "the release is recorded once the gates pass"
    );
    assert!(get(client, "", "ConfigMap", ns, "old-config").await.is_none(), "deleted after its backup");
    let copied = get(client, "", "Secret", ns, "copied").await.unwrap();
    assert_eq!(copied["data"]["tls.crt"], b64(SECRET_VALUE), "copied in the cluster");
    let web = get(client, "apps", "Deployment", ns, "web").await.unwrap();
    assert!(web.pointer("/spec/template/metadata/annotations/kubectl.kubernetes.io~1restartedAt").is_some());
    assert_eq!(namespace_labels(client, ns).await["istio.io/rev"], "canary");
    let backups = journal.steps[4].backups.clone();
    assert_eq!(backups.len(), 2);
    let config_backup = backups[0].secret.clone().unwrap();
    let stored = get(client, "", "Secret", ns, &config_backup).await.unwrap();
    assert_eq!(stored["type"], "sailplan.dev/backup");
    assert!(backups[0].file.as_ref().unwrap().exists(), "a local copy of the ConfigMap");
    assert!(backups[1].file.is_none(), "no local copy of a Secret");
    for (path, text) in files_under(dir) {
        assert!(
            !text.contains(SECRET_VALUE) && !text.contains(&b64(SECRET_VALUE)),
            "secret value in {}",
            path.display()
        );
    }
    let header = get(client, "", "ConfigMap", ns, &journal::config_map_name(id)).await.unwrap();
    assert!(header["data"][journal::HEADER_KEY].is_string(), "{header}");
    for index in 0..journal.steps.len() {
        let step = get(client, "", "ConfigMap", ns, &journal::step_config_map_name(id, index)).await.unwrap();
        let text = step["data"][journal::STEP_KEY].as_str().unwrap();
        assert!(!text.contains(SECRET_VALUE) && !text.contains(&b64(SECRET_VALUE)));
    }
    let lease = get(client, "coordination.k8s.io", "Lease", ns, "sailplan-apply").await.unwrap();
    assert!(lease["spec"].get("holderIdentity").is_none(), "the lock was given back: {lease}");
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a cluster: run scripts/test.sh"]
async fn a_plan_runs_to_completion_and_running_it_again_changes_nothing() {
    let _serial = SERIAL.lock().await;
    with_temp_ns("apply-full", |client, ns| async move {
        prepare(&client, &ns).await;
        let dir = tempfile::tempdir().unwrap();
        let fingerprint = fingerprint(&client, &ns).await;
        let plan = full_plan("a0a0a0a0a0a0", &ns, &fingerprint);
        let client = Arc::new(client);
        // Lines, so `--nocapture` shows what an apply reports.
        let lines = Progress::new(Mode::Lines);
        let outcome = run(client.clone(), &plan, &options(&ns, dir.path()), &lines).await.unwrap();
        assert_eq!(outcome.steps_run.len(), 5);
        check_full_plan_applied(&client, &ns, dir.path(), "a0a0a0a0a0a0").await;

        let web_before = get(&client, "apps", "Deployment", &ns, "web").await.unwrap();
        let again = run(client.clone(), &plan, &options(&ns, dir.path()), &lines).await.unwrap();
        assert!(again.steps_run.is_empty(), "{again:?}");
        assert_eq!(again.already_done, 5);
        let web_after = get(&client, "apps", "Deployment", &ns, "web").await.unwrap();
        assert_eq!(web_before["metadata"]["resourceVersion"], web_after["metadata"]["resourceVersion"]);
    })
    .await;
}

/// `sailplan apply PLAN --yes` against the test cluster, with `ns` as the control-plane namespace.
fn apply_command(plan: &Path, ns: &str, dir: &Path, extra: &[&str]) -> Command {
    let kubeconfig = cluster().kubeconfig.to_str().unwrap().to_string();
    let mut args = vec![
        "apply",
        plan.to_str().unwrap(),
        "--yes",
        "--kubeconfig",
        &kubeconfig,
        "--istio-namespace",
        ns,
        "--journal-dir",
        dir.to_str().unwrap(),
        "--lock-duration",
        "5s",
    ];
    args.extend_from_slice(extra);
    sailplan(&args)
}

fn write_plan(dir: &Path, plan: &Plan) -> PathBuf {
    let path = dir.join("plan.yaml");
    std::fs::write(&path, serde_json::to_string_pretty(plan).unwrap()).unwrap();
    path
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a cluster: run scripts/test.sh"]
async fn rollback_puts_the_cluster_back_from_the_journal_and_backups() {
    let _serial = SERIAL.lock().await;
    with_temp_ns("apply-rollback", |client, ns| async move {
        prepare(&client, &ns).await;
        let dir = tempfile::tempdir().unwrap();
        let fingerprint = fingerprint(&client, &ns).await;
        let plan = full_plan("b1b1b1b1b1b1", &ns, &fingerprint);
        let client = Arc::new(client);
        run(client.clone(), &plan, &options(&ns, dir.path()), &Progress::new(Mode::Lines)).await.unwrap();
        check_full_plan_applied(&client, &ns, dir.path(), "b1b1b1b1b1b1").await;

        let plan_file = write_plan(dir.path(), &plan);
        let kubeconfig = cluster().kubeconfig.to_str().unwrap().to_string();
        let journal_dir = dir.path().to_str().unwrap().to_string();
        let output = sailplan(&[
            "rollback",
            plan_file.to_str().unwrap(),
            "--yes",
            "--kubeconfig",
            &kubeconfig,
            "--istio-namespace",
            &ns,
            "--journal-dir",
            &journal_dir,
        ])
        .output()
        .unwrap();
        assert!(output.status.success(), "{}", stderr(&output));
        assert!(stderr(&output).contains("5 step(s) rolled back"), "{}", stderr(&output));

        let old = get(&client, "", "ConfigMap", &ns, "old-config").await.expect("restored from its backup");
        assert_eq!(old["data"], config_map(&ns, "old-config")["data"]);
        for (group, kind, name) in
            [("", "ConfigMap", "app-config"), ("apps", "Deployment", "web"), ("", "Secret", "copied")]
        {
            assert!(
                get(&client, group, kind, &ns, name).await.is_none(),
                "{kind} {name} was created by the plan"
            );
        }
        assert!(namespace_labels(&client, &ns).await.get("istio.io/rev").is_none());
        let release = get(&client, "", "Secret", &ns, "sh.helm.release.v1.web.v1").await.unwrap();
        assert_eq!(
            release["metadata"]["labels"]["status"], "uninstalled",
            "a first install rolled back is uninstalled, as `helm uninstall --keep-history` leaves it"
        );
        let journal = read_journal(dir.path(), "b1b1b1b1b1b1");
        assert!(journal.steps.iter().all(|s| s.status == StepStatus::Undone), "{journal:?}");
        let status =
            sailplan(&["status", "--kubeconfig", &kubeconfig, "--istio-namespace", &ns]).output().unwrap();
        let status = String::from_utf8_lossy(&status.stdout).to_string();
        assert!(status.contains("plan b1b1b1b1b1b1: 5 undone"), "{status}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a cluster: run scripts/test.sh"]
async fn a_failed_gate_undoes_its_step_and_exits_3() {
    let _serial = SERIAL.lock().await;
    with_temp_ns("apply-gate", |client, ns| async move {
        let namespaces = resource(&client, "", "Namespace").await;
        let target = ObjectRef { api_version: "v1".into(), kind: "Namespace".into(), namespace: None, name: ns.clone() };
        client.merge_patch(&target, &json!({"metadata": {"labels": {"team": "red"}}})).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let fingerprint = fingerprint(&client, &ns).await;
        let plan = plan(
            "b0b0b0b0b0b0",
            &fingerprint,
            json!([{"id": "h1-01-stuck", "hop": 1, "phase": "control-plane", "title": "A rollout that cannot finish",
                "actions": [{"type": "apply", "release": "stuck", "source": "test", "objects": [config_map(&ns, "made"), deployment(&ns, "stuck", Some("not-ready"))]},
                            {"type": "relabel", "namespace": ns, "set": {"team": "blue"}, "remove": []}],
                "gates": [{"name": "rollout-complete", "timeout": "5s", "params": {"kind": "Deployment", "namespace": ns, "name": "stuck"}}],
                "undo": [{"type": "delete", "objects": [reference("ConfigMap", &ns, "made"), reference("Deployment", &ns, "stuck")]},
                         {"type": "relabel", "namespace": ns, "set": {"team": "red"}}]}]),
        );
        let path = write_plan(dir.path(), &plan);
        let output = apply_command(&path, &ns, dir.path(), &[]).output().unwrap();
        assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
        assert!(stderr(&output).contains("gate rollout-complete failed"), "{}", stderr(&output));
        assert!(get(&client, "", "ConfigMap", &ns, "made").await.is_none(), "the ConfigMap the step made is gone");
        let labels = client.get(&namespaces, None, &ns).await.unwrap().unwrap()["metadata"]["labels"].clone();
        assert_eq!(labels["team"], "red", "the old label is back");
        let release = get(&client, "", "Secret", &ns, "sh.helm.release.v1.stuck.v1").await.unwrap();
        assert_eq!(release["metadata"]["labels"]["status"], "failed", "the release is recorded as failed");
        let journal = read_journal(dir.path(), "b0b0b0b0b0b0");
        assert_eq!(journal.steps[0].status, StepStatus::Undone);
        assert!(!journal.steps[0].gates[0].passed);
        assert!(journal.steps[0].message.as_deref().unwrap().contains("rollout-complete"));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a cluster: run scripts/test.sh"]
async fn a_killed_apply_resumes_from_its_journal() {
    let _serial = SERIAL.lock().await;
    with_temp_ns("apply-resume", |client, ns| async move {
        let dir = tempfile::tempdir().unwrap();
        let fingerprint = fingerprint(&client, &ns).await;
        let plan = plan(
            "c0c0c0c0c0c0",
            &fingerprint,
            json!([
                {"id": "h1-01-first", "hop": 1, "phase": "data-plane", "title": "First, then a long pause",
                 "actions": [{"type": "apply", "source": "test", "objects": [config_map(&ns, "first")]}],
                 "gates": [], "undo": [], "pause": "5m"},
                {"id": "h1-02-second", "hop": 1, "phase": "data-plane", "title": "Second",
                 "actions": [{"type": "apply", "source": "test", "objects": [config_map(&ns, "second")]}],
                 "gates": [], "undo": []}
            ]),
        );
        let path = write_plan(dir.path(), &plan);
        let mut first =
            apply_command(&path, &ns, dir.path(), &[]).stderr(std::process::Stdio::null()).spawn().unwrap();
        wait_for("the first step to be done", Duration::from_secs(60), || async {
            let journal = try_read_journal(dir.path(), "c0c0c0c0c0c0")?;
            (journal.steps[0].status == StepStatus::Done).then_some(())
        })
        .await;
        first.kill().unwrap();
        first.wait().unwrap();
        assert!(get(&client, "", "ConfigMap", &ns, "second").await.is_none());

        let refused = apply_command(&path, &ns, dir.path(), &[]).output().unwrap();
        assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));

        let resumed = apply_command(&path, &ns, dir.path(), &["--resume"]).output().unwrap();
        assert_eq!(resumed.status.code(), Some(0), "{}", stderr(&resumed));
        let journal = read_journal(dir.path(), "c0c0c0c0c0c0");
        assert!(journal.steps.iter().all(|s| s.status == StepStatus::Done), "{journal:?}");
        assert_eq!(journal.steps[0].attempts, 1, "the finished step was not run again");
        assert!(get(&client, "", "ConfigMap", &ns, "second").await.is_some());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a cluster: run scripts/test.sh"]
async fn a_step_killed_half_way_runs_again_on_resume_without_restarting_twice() {
    let _serial = SERIAL.lock().await;
    with_temp_ns("apply-midstep", |client, ns| async move {
        let dir = tempfile::tempdir().unwrap();
        let fingerprint = fingerprint(&client, &ns).await;
        let plan = plan(
            "c1c1c1c1c1c1",
            &fingerprint,
            json!([
                {"id": "h1-01-restart", "hop": 1, "phase": "data-plane", "title": "Deploy and restart, pods not ready yet",
                 "actions": [{"type": "apply", "source": "test", "objects": [deployment(&ns, "slowpoke", Some("not-ready"))]},
                             {"type": "restart", "namespace": ns, "workloads": [reference("Deployment", &ns, "slowpoke")]}],
                 "gates": [{"name": "pods-ready", "timeout": "5m", "params": {"namespaces": ns}}], "undo": []},
                {"id": "h1-02-after", "hop": 1, "phase": "data-plane", "title": "After",
                 "actions": [{"type": "apply", "source": "test", "objects": [config_map(&ns, "after")]}],
                 "gates": [], "undo": []}
            ]),
        );
        let path = write_plan(dir.path(), &plan);
        let mut first = apply_command(&path, &ns, dir.path(), &[]).stderr(std::process::Stdio::null()).spawn().unwrap();
        wait_for("both actions of the first step", Duration::from_secs(60), || async {
            let journal = try_read_journal(dir.path(), "c1c1c1c1c1c1")?;
            (journal.steps[0].actions_done == [0, 1]).then_some(())
        })
        .await;
        // Killed while the gate waits for pods that are not ready.
        tokio::time::sleep(Duration::from_secs(1)).await;
        first.kill().unwrap();
        first.wait().unwrap();
        let killed = read_journal(dir.path(), "c1c1c1c1c1c1");
        assert_eq!(killed.steps[0].status, StepStatus::Running);
        let restarted_at = killed.steps[0].restarted_at.clone().unwrap();

        // The pods come good (kwok re-reads the annotation live).
        let pods = resource(&client, "", "Pod").await;
        for pod in client.list(&pods, Some(&ns), None).await.unwrap() {
            let target = ObjectRef::of(&pod).unwrap();
            client
                .merge_patch(&target, &json!({"metadata": {"annotations": {"sailplan.test/pod-state": null}}}))
                .await
                .unwrap();
        }
        let resumed = apply_command(&path, &ns, dir.path(), &["--resume"]).output().unwrap();
        assert_eq!(resumed.status.code(), Some(0), "{}", stderr(&resumed));
        let journal = read_journal(dir.path(), "c1c1c1c1c1c1");
        assert!(journal.steps.iter().all(|s| s.status == StepStatus::Done), "{journal:?}");
        assert_eq!(journal.steps[0].attempts, 2, "the interrupted step ran again from its start");
        assert_eq!(journal.steps[0].restarted_at.as_ref(), Some(&restarted_at), "not restarted twice");
        let slowpoke = get(&client, "apps", "Deployment", &ns, "slowpoke").await.unwrap();
        assert_eq!(
            slowpoke["spec"]["template"]["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"],
            restarted_at.as_str()
        );
        assert!(get(&client, "", "ConfigMap", &ns, "after").await.is_some());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a cluster: run scripts/test.sh"]
async fn a_second_apply_is_refused_naming_the_holder() {
    let _serial = SERIAL.lock().await;
    with_temp_ns("apply-twice", |client, ns| async move {
        let dir = tempfile::tempdir().unwrap();
        let fingerprint = fingerprint(&client, &ns).await;
        let plan = plan(
            "d0d0d0d0d0d0",
            &fingerprint,
            json!([{"id": "h1-01-slow", "hop": 1, "phase": "data-plane", "title": "Slow",
                 "actions": [{"type": "apply", "source": "test", "objects": [config_map(&ns, "slow")]}],
                 "gates": [], "undo": [], "pause": "5m"}]),
        );
        let path = write_plan(dir.path(), &plan);
        let mut first =
            apply_command(&path, &ns, dir.path(), &[]).stderr(std::process::Stdio::null()).spawn().unwrap();
        let pid = first.id();
        wait_for("the first apply to hold the lock", Duration::from_secs(60), || async {
            get(&client, "coordination.k8s.io", "Lease", &ns, "sailplan-apply")
                .await
                .and_then(|l| l.pointer("/spec/holderIdentity").and_then(Value::as_str).map(str::to_string))
        })
        .await;
        let other = tempfile::tempdir().unwrap();
        let second = apply_command(&path, &ns, other.path(), &[]).output().unwrap();
        first.kill().unwrap();
        first.wait().unwrap();
        assert_eq!(second.status.code(), Some(1), "{}", stderr(&second));
        let message = stderr(&second);
        assert!(message.contains("is held by"), "{message}");
        assert!(message.contains(&format!("pid {pid}, plan d0d0d0d0d0d0")), "names the holder: {message}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a cluster: run scripts/test.sh"]
async fn a_stale_plan_exits_4_and_changes_nothing() {
    let _serial = SERIAL.lock().await;
    with_temp_ns("apply-stale", |client, ns| async move {
        let dir = tempfile::tempdir().unwrap();
        let plan = plan(
            "e0e0e0e0e0e0",
            "sha256:0000000000000000000000000000000000000000000000000000000000000000",
            json!([{"id": "h1-01-any", "hop": 1, "phase": "base", "title": "Anything",
                 "actions": [{"type": "apply", "source": "test", "objects": [config_map(&ns, "never")]}],
                 "gates": [], "undo": []}]),
        );
        let path = write_plan(dir.path(), &plan);
        let output = apply_command(&path, &ns, dir.path(), &[]).output().unwrap();
        assert_eq!(output.status.code(), Some(4), "{}", stderr(&output));
        assert!(stderr(&output).contains("stale"), "{}", stderr(&output));
        assert!(stderr(&output).contains("hint:"), "{}", stderr(&output));
        assert!(get(&client, "", "ConfigMap", &ns, "never").await.is_none());
    })
    .await;
}

#[test]
fn without_yes_and_without_a_terminal_apply_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let plan = plan("f0f0f0f0f0f0", "sha256:0", json!([]));
    let path = write_plan(dir.path(), &plan);
    let output =
        sailplan(&["apply", path.to_str().unwrap()]).stdin(std::process::Stdio::null()).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("--yes"), "{}", stderr(&output));
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a cluster: run scripts/test.sh"]
async fn the_plan_comes_out_right_through_an_unreliable_api_server() {
    let _serial = SERIAL.lock().await;
    with_temp_ns("apply-faults", |client, ns| async move {
        prepare(&client, &ns).await;
        let dir = tempfile::tempdir().unwrap();
        let fingerprint = fingerprint(&client, &ns).await;
        let plan = full_plan("a1a1a1a1a1a1", &ns, &fingerprint);
        let proxy =
            FaultProxy::start(&cluster().kubeconfig, Faults { percent: 30, seed: 5, max_in_a_row: 3 }).await;
        let through = LiveCluster::connect(&ConnectOptions {
            kubeconfig: Some(proxy.kubeconfig().to_path_buf()),
            context: None,
        })
        .await
        .unwrap();
        let outcome =
            run(Arc::new(through), &plan, &options(&ns, dir.path()), &Progress::new(Mode::Quiet)).await;
        let injected = proxy.injected();
        let outcome = outcome.unwrap_or_else(|e: ApplyError| panic!("{e} (injected {injected:?})"));
        assert_eq!(outcome.steps_run.len(), 5);
        assert!(
            injected.internal_errors + injected.unavailable + injected.too_many_requests > 0,
            "{injected:?}"
        );
        check_full_plan_applied(&client, &ns, dir.path(), "a1a1a1a1a1a1").await;
    })
    .await;
}

/// Scenario 1 of the apply issue: a fresh install of the newest version with the default profile,
/// as a user runs it (plan, apply, status), recorded as Helm releases the real `helm` lists; then
/// `rollback` takes it all away again (the releases end `uninstalled`).
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a cluster: run scripts/test.sh"]
async fn a_fresh_install_passes_its_gates_and_helm_lists_its_releases() {
    let _serial = SERIAL.lock().await;
    let client = support::connect().await;
    support::without_istio(&client).await;
    let dir = tempfile::tempdir().unwrap();
    let plan_file = dir.path().join("install.yaml");
    let kubeconfig = cluster().kubeconfig.to_str().unwrap().to_string();
    let journal_dir = dir.path().join("journal").to_str().unwrap().to_string();
    let newest =
        sailplan::catalog::Catalog::embedded().unwrap().resolve("latest").unwrap().version.to_string();
    let planned = sailplan(&[
        "plan",
        "--to",
        &newest,
        "--kubeconfig",
        &kubeconfig,
        "--out",
        plan_file.to_str().unwrap(),
    ])
    .output()
    .unwrap();
    assert!(planned.status.success(), "{}", stderr(&planned));
    assert!(stderr(&planned).contains("(install, profile default)"), "{}", stderr(&planned));
    let applied = sailplan(&[
        "apply",
        plan_file.to_str().unwrap(),
        "--yes",
        "--kubeconfig",
        &kubeconfig,
        "--journal-dir",
        &journal_dir,
    ])
    .output()
    .unwrap();
    assert!(applied.status.success(), "{}", stderr(&applied));
    for gate in ["crd-established: pass", "rollout-complete: pass", "pods-ready: pass", "webhook-ready: pass"]
    {
        assert!(stderr(&applied).contains(gate), "{gate}:\n{}", stderr(&applied));
    }

    let listed: Value =
        serde_json::from_str(&support::run_tool("helm", &["list", "-n", "istio-system", "-o", "json"]))
            .unwrap();
    let mut releases: Vec<(String, String, String)> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap().into(),
                r["status"].as_str().unwrap().into(),
                r["app_version"].as_str().unwrap().into(),
            )
        })
        .collect();
    releases.sort();
    let expected: Vec<(String, String, String)> = ["istio-base", "istio-ingress", "istiod"]
        .iter()
        .map(|name| (name.to_string(), "deployed".to_string(), newest.clone()))
        .collect();
    assert_eq!(releases, expected);
    let status = sailplan(&["status", "--kubeconfig", &kubeconfig]).output().unwrap();
    let status = String::from_utf8_lossy(&status.stdout).to_string();
    assert!(status.contains(&format!("default   {newest}")), "{status}");

    let rolled_back = sailplan(&[
        "rollback",
        plan_file.to_str().unwrap(),
        "--yes",
        "--kubeconfig",
        &kubeconfig,
        "--journal-dir",
        &journal_dir,
    ])
    .output()
    .unwrap();
    assert!(rolled_back.status.success(), "{}", stderr(&rolled_back));
    let after: Value =
        serde_json::from_str(&support::run_tool("helm", &["list", "-n", "istio-system", "-a", "-o", "json"]))
            .unwrap();
    assert!(after.as_array().unwrap().iter().all(|r| r["status"] == "uninstalled"), "{after}");
    assert!(
        !support::run_tool("kubectl", &["get", "crd", "-o", "name"]).contains("istio.io"),
        "the CRDs went too"
    );
    assert!(get(&client, "apps", "Deployment", "istio-system", "istiod").await.is_none());
}
