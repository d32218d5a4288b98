//! `sailplan plan` and `sailplan diff` as a user runs them on the bundled example snapshots: the plan
//! file goes to `--out` (or stdout) with the summary on stderr, the same flags give the same bytes,
//! and `diff` against the snapshot the plan was made from shows the plan's changes with a summary
//! line, `--detailed-exitcode` and `-o json`, hides Secret values, and refuses bad input with one
//! error.

#![allow(clippy::unwrap_used)] // integration tests: a failed unwrap is a failed test

use assert_cmd::Command;
use predicates::str::contains;
use serde_json::Value;

const SNAPSHOT: &str = "examples/snapshots/istio-1.5";

fn sailplan() -> Command {
    let mut cmd = Command::cargo_bin("sailplan").unwrap();
    cmd.env("NO_COLOR", "1");
    cmd
}

fn planned(dir: &std::path::Path) -> std::path::PathBuf {
    let out = dir.join("plan.yaml");
    sailplan()
        .args(["plan", "--snapshot", SNAPSHOT, "--to", "1.6", "--out", out.to_str().unwrap()])
        .assert()
        .success()
        .stdout("")
        .stderr(contains("meshpolicy-to-peerauthentication"))
        .stderr(contains(format!("wrote {}", out.display())));
    out
}

#[test]
fn plan_writes_the_same_file_for_the_same_flags_and_prints_it_without_out() {
    let dir = tempfile::tempdir().unwrap();
    let first = std::fs::read_to_string(planned(dir.path())).unwrap();
    assert!(first.starts_with("apiVersion: sailplan.dev/v1alpha1\nkind: UpgradePlan\n"), "{first}");
    let printed = sailplan().args(["plan", "--snapshot", SNAPSHOT, "--to", "1.6"]).assert().success();
    assert_eq!(String::from_utf8_lossy(&printed.get_output().stdout), first, "stdout is the plan file");
    let json =
        sailplan().args(["plan", "--snapshot", SNAPSHOT, "--to", "1.6", "-o", "json"]).assert().success();
    let plan: Value = serde_json::from_slice(&json.get_output().stdout).unwrap();
    assert_eq!(plan["kind"], "UpgradePlan");
    assert!(plan["spec"]["fingerprint"].as_str().unwrap().starts_with("sha256:"));
}

#[test]
fn diff_shows_the_plans_changes_and_says_so_in_its_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let plan = planned(dir.path());
    let plan = plan.to_str().unwrap();
    let text = sailplan().args(["diff", "--plan", plan, "--snapshot", SNAPSHOT]).assert().success();
    let stdout = String::from_utf8_lossy(&text.get_output().stdout).into_owned();
    assert!(stdout.contains("create PeerAuthentication"), "{stdout}");
    let last = stdout.lines().last().unwrap();
    assert!(last.contains(" to create, ") && last.ends_with(" unchanged"), "{last}");
    sailplan().args(["diff", "--plan", plan, "--snapshot", SNAPSHOT, "--detailed-exitcode"]).assert().code(2);

    let json =
        sailplan().args(["diff", "--plan", plan, "--snapshot", SNAPSHOT, "-o", "json"]).assert().success();
    let document: Value = serde_json::from_slice(&json.get_output().stdout).unwrap();
    let creates = document["summary"]["create"].as_u64().unwrap();
    assert!(creates > 0, "{document}");
    let changes = document["changes"].as_array().unwrap();
    assert!(changes.iter().all(|c| c["action"] != "unchanged"), "only changes are listed");
    // Secrets the plan creates (gateway certificates for SDS) are shown by key, never by value.
    for change in changes.iter().filter(|c| c["id"].as_str().unwrap_or("").starts_with("Secret")) {
        let diff = change["diff"].as_str().unwrap_or("");
        assert!(!diff.contains("LS0t"), "no base64 certificate in {diff}");
    }
}

#[test]
fn diff_from_plan_flags_equals_diff_from_the_plan_file() {
    let dir = tempfile::tempdir().unwrap();
    let plan = planned(dir.path());
    let from_file = sailplan()
        .args(["diff", "--plan", plan.to_str().unwrap(), "--snapshot", SNAPSHOT])
        .assert()
        .success();
    let from_flags = sailplan().args(["diff", "--snapshot", SNAPSHOT, "--to", "1.6"]).assert().success();
    assert_eq!(from_file.get_output().stdout, from_flags.get_output().stdout);
}

#[test]
fn bad_input_gets_one_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let not_a_plan = dir.path().join("values.yaml");
    std::fs::write(&not_a_plan, "pilot:\n  enabled: true\n").unwrap();
    let failed = sailplan()
        .args(["diff", "--plan", not_a_plan.to_str().unwrap(), "--snapshot", SNAPSHOT])
        .assert()
        .code(1)
        .stdout("")
        .stderr(contains("is not a sailplan plan"));
    let stderr = String::from_utf8_lossy(&failed.get_output().stderr).into_owned();
    assert_eq!(stderr.matches("error:").count(), 1, "{stderr}");
    sailplan()
        .args(["plan", "--snapshot", SNAPSHOT, "--to", "9.9"])
        .assert()
        .code(1)
        .stdout("")
        .stderr(contains("9.9"));
    sailplan()
        .args(["plan", "--snapshot", "no-such-snapshot", "--to", "1.6"])
        .assert()
        .code(1)
        .stderr(contains("no-such-snapshot"));
}

#[test]
fn gate_policy_flags_are_written_into_the_plan_for_review() {
    let json = sailplan()
        .args([
            "plan",
            "--snapshot",
            SNAPSHOT,
            "--to",
            "1.6",
            "-o",
            "json",
            "--accept-no-data",
            "gateway-tls-handshake",
        ])
        .args(["--prometheus", "http://prometheus.istio-system:9090"])
        .assert()
        .success();
    let plan: Value = serde_json::from_slice(&json.get_output().stdout).unwrap();
    let gates: Vec<&Value> = plan["spec"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["gates"].as_array().unwrap())
        .collect();
    let named = |name: &str| gates.iter().filter(move |g| g["name"] == name).collect::<Vec<_>>();
    assert!(!named("gateway-tls-handshake").is_empty());
    assert!(named("gateway-tls-handshake").iter().all(|g| g["noData"] == "pass"));
    assert!(gates.iter().filter(|g| g["name"] != "gateway-tls-handshake").all(|g| g.get("noData").is_none()));
    assert!(!named("telemetry-v2-metrics").is_empty());
    assert!(
        named("telemetry-v2-metrics")
            .iter()
            .all(|g| g["params"]["prometheus"] == "http://prometheus.istio-system:9090")
    );
    sailplan()
        .args(["plan", "--snapshot", SNAPSHOT, "--to", "1.6", "--accept-no-data", "vibes"])
        .assert()
        .code(1)
        .stderr(contains("there is no gate \"vibes\""));
}
