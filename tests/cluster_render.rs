//! Real-cluster test: what `sailplan render` produces is accepted by a real kube-apiserver with
//! server-side apply (dry run, then for real), CRDs become Established, and the control-plane and
//! gateway Deployments get ReplicaSets and Ready pods through kube-controller-manager, the scheduler
//! and kwok's fake nodes.
//!
//! Needs the test cluster that `scripts/test.sh` starts (`SAILPLAN_TEST_KUBECONFIG`,
//! `SAILPLAN_TEST_BIN_DIR`); plain `cargo test` skips it. It drives the cluster with the real
//! `kubectl` built with the cluster, so it checks the charts independently of sailplan's own client.

#![allow(clippy::unwrap_used)] // integration tests: a failed unwrap is a failed test

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use assert_cmd::cargo::CommandCargoExt;

struct TestCluster {
    kubeconfig: String,
    kubectl: PathBuf,
}

impl TestCluster {
    fn from_env() -> TestCluster {
        let kubeconfig = std::env::var("SAILPLAN_TEST_KUBECONFIG")
            .expect("SAILPLAN_TEST_KUBECONFIG is not set: run the real-cluster tests with scripts/test.sh");
        let bin = std::env::var("SAILPLAN_TEST_BIN_DIR")
            .expect("SAILPLAN_TEST_BIN_DIR is not set: run the real-cluster tests with scripts/test.sh");
        TestCluster { kubeconfig, kubectl: PathBuf::from(bin).join("kubectl") }
    }

    /// Runs kubectl, feeding `stdin`, and returns stdout; panics with kubectl's stderr on failure.
    fn kubectl(&self, args: &[&str], stdin: Option<&str>) -> String {
        let mut child = Command::new(&self.kubectl)
            .args(args)
            .env("KUBECONFIG", &self.kubeconfig)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("kubectl runs");
        if let Some(text) = stdin {
            child.stdin.take().expect("stdin").write_all(text.as_bytes()).expect("write to kubectl");
        }
        drop(child.stdin.take());
        let output = child.wait_with_output().expect("kubectl finishes");
        assert!(
            output.status.success(),
            "kubectl {args:?} failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }
}

fn render(args: &[&str]) -> String {
    let output =
        Command::cargo_bin("sailplan").expect("binary").arg("render").args(args).output().expect("runs");
    assert!(output.status.success(), "render {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).expect("utf-8")
}

/// Splits a render into (CRDs, everything else), each still in `helm template` form.
fn split_crds(text: &str) -> (String, String) {
    let (mut crds, mut rest) = (String::new(), String::new());
    for document in text.split("---\n").filter(|d| !d.trim().is_empty()) {
        let target = if document.lines().any(|l| l == "kind: CustomResourceDefinition") {
            &mut crds
        } else {
            &mut rest
        };
        target.push_str("---\n");
        target.push_str(document);
    }
    (crds, rest)
}

#[test]
#[ignore = "needs a cluster: run scripts/test.sh"]
fn rendered_profiles_are_accepted_and_become_ready() {
    let cluster = TestCluster::from_env();
    // In upgrade order: CRDs only ever gain versions, as on a real cluster.
    let cases: [(&str, &str, &[&str]); 3] = [
        ("1.5", "sp-render-1-5", &["--profile", "demo", "--set", "mixer.enabled=true"]),
        ("1.6", "sp-render-1-6", &["--profile", "demo", "--revision", "1-6-14"]),
        ("latest", "sp-render-latest", &["--profile", "demo", "--set", "istiod.revisionTags={prod}"]),
    ];
    for (version, namespace, extra) in cases {
        let mut args = vec![
            "--version",
            version,
            "-n",
            namespace,
            "--kube-version",
            "1.33.0",
            "--allow-unsupported-kubernetes",
        ];
        args.extend_from_slice(extra);
        let (crds, rest) = split_crds(&render(&args));
        cluster.kubectl(&["create", "namespace", namespace], None);
        cluster.kubectl(
            &["apply", "--server-side", "--field-manager", "sailplan", "--force-conflicts", "-f", "-"],
            Some(&crds),
        );
        cluster
            .kubectl(&["wait", "--for", "condition=Established", "--timeout", "60s", "crd", "--all"], None);
        cluster.kubectl(
            &[
                "apply",
                "--server-side",
                "--dry-run=server",
                "--field-manager",
                "sailplan",
                "--force-conflicts",
                "-f",
                "-",
            ],
            Some(&rest),
        );
        cluster.kubectl(
            &["apply", "--server-side", "--field-manager", "sailplan", "--force-conflicts", "-f", "-"],
            Some(&rest),
        );
        let deployments = cluster.kubectl(&["get", "deployments", "-n", namespace, "-o", "name"], None);
        assert!(
            deployments.lines().count() >= 3,
            "{version}: istiod and two gateways at least:\n{deployments}"
        );
        for deployment in deployments.lines() {
            cluster.kubectl(&["rollout", "status", "-n", namespace, "--timeout", "120s", deployment], None);
        }
        let ready = cluster.kubectl(
            &[
                "get",
                "pods",
                "-n",
                namespace,
                "-o",
                "jsonpath={range .items[*]}{.status.conditions[?(@.type==\"Ready\")].status}{\"\\n\"}{end}",
            ],
            None,
        );
        assert!(
            !ready.trim().is_empty() && ready.lines().all(|l| l == "True"),
            "{version}: every pod Ready:\n{ready}"
        );
    }
}
