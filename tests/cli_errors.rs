//! Bad input to `sailplan render`: one clear error on stderr that names the input and says what to
//! do, exit code 1, nothing on stdout and nothing written.

#![allow(clippy::unwrap_used)] // integration tests: a failed unwrap is a failed test

use assert_cmd::Command;
use predicates::prelude::*;
use predicates::str::contains;

fn sailplan() -> Command {
    let mut cmd = Command::cargo_bin("sailplan").unwrap();
    cmd.env("NO_COLOR", "1");
    cmd
}

fn fails_with(args: &[&str], needles: &[&str]) {
    let mut assert = sailplan().args(args).assert().code(1).stdout(predicate::str::is_empty());
    for needle in needles {
        assert = assert.stderr(contains(*needle));
    }
    let output = assert.get_output();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.matches("error:").count(), 1, "exactly one error line:\n{stderr}");
}

#[test]
fn unknown_profile() {
    fails_with(
        &["render", "--profile", "prod"],
        &["unknown profile \"prod\"", "default, demo", "hint: run `sailplan profile list`"],
    );
    fails_with(&["profile", "show", "prod"], &["unknown profile \"prod\""]);
}

#[test]
fn unknown_or_unrenderable_version() {
    fails_with(
        &["render", "--version", "1.13"],
        &["Istio 1.13 is not in the catalog", "1.12.9", "hint: run `sailplan version list`"],
    );
    fails_with(
        &["render", "--version", "1.4"],
        &["Istio 1.4.10 is recognised on clusters but cannot be installed"],
    );
    fails_with(&["render", "--version", "one"], &["\"one\" is not a valid version"]);
}

#[test]
fn malformed_values_file_names_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("broken.yaml");
    std::fs::write(&file, "istiod:\n  pilot: [1, 2\n").unwrap();
    let path = file.display().to_string();
    fails_with(
        &["render", "-f", &path],
        &[&format!("values file {path} is not valid YAML: line 2 column 10"), &format!("--> {path}:2:10")],
    );
    fails_with(&["render", "-f", "/does/not/exist.yaml"], &["cannot read values file /does/not/exist.yaml"]);
}

#[test]
fn invalid_set_expressions() {
    fails_with(
        &["render", "--set", "istiod.pilot"],
        &["invalid --set expression \"istiod.pilot\"", "has no value", "hint:"],
    );
    fails_with(
        &["render", "--set-json", "istiod={oops"],
        &["invalid --set-json expression", "invalid JSON value"],
    );
    fails_with(&["render", "--set", "list[-1]=x"], &["negative"]);
}

#[test]
fn unknown_values_sections_and_bad_enabled_flags() {
    fails_with(
        &["render", "--set", "isitod.enabled=true"],
        &["unknown values section \"isitod\"", "global, base, istiod"],
    );
    fails_with(
        &["render", "--set", "istiod.enabled=yes"],
        &["values section \"istiod\" must be a map with a boolean `enabled`"],
    );
}

#[test]
fn unsupported_kubernetes() {
    fails_with(
        &["render", "--version", "1.6", "--kube-version", "1.25"],
        &["Istio 1.6.14 supports Kubernetes 1.15 to 1.18, not 1.25", "--allow-unsupported-kubernetes"],
    );
    fails_with(
        &["render", "--kube-version", "latest"],
        &["--kube-version \"latest\" is not a Kubernetes version"],
    );
}

#[test]
fn invalid_revisions() {
    fails_with(
        &["render", "--version", "1.6", "--revision", "1.6.14"],
        &["revision \"1.6.14\" is not valid", "1-6-14"],
    );
    fails_with(&["render", "--version", "1.5", "--revision", "canary"], &["Istio 1.5.10 has no revisions"]);
    fails_with(&["render", "--revision", "default"], &["`default` names the non-revisioned control plane"]);
}

#[test]
fn template_errors_in_a_working_copy_name_chart_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base");
    std::fs::create_dir_all(base.join("templates")).unwrap();
    std::fs::write(base.join("Chart.yaml"), "apiVersion: v2\nname: base\nversion: 1.0.0\n").unwrap();
    std::fs::write(
        base.join("templates/broken.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{Values.nope}}\n",
    )
    .unwrap();
    let charts = dir.path().display().to_string();
    let out = dir.path().join("out");
    let out_arg = out.display().to_string();
    fails_with(
        &[
            "render",
            "--profile",
            "empty",
            "--set",
            "base.enabled=true",
            "--charts",
            &charts,
            "--output-dir",
            &out_arg,
        ],
        &["template error in base/templates/broken.yaml at line 4, column 9", "Values.nope"],
    );
    assert!(!out.exists(), "nothing is written when rendering fails");
}

#[test]
fn help_lists_the_value_flags() {
    sailplan()
        .args(["render", "--help"])
        .assert()
        .success()
        .stdout(contains("--set-string").and(contains("--set-literal")).and(contains("--output-dir")));
}
