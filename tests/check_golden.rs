//! Golden `check` outputs (text and JSON) for the example snapshots in `examples/snapshots/`, each
//! checked against an upgrade target; reviewed by eye once, then snapshotted. The examples'
//! README lists the problems each one contains on purpose: the goldens must show them.

#![allow(clippy::unwrap_used)] // integration tests: a failed unwrap is a failed test

use assert_cmd::Command;

const EXAMPLES: [(&str, &str); 3] = [("istio-1.4", "1.6"), ("istio-1.5", "1.6"), ("istio-modern", "1.31")];

fn check(example: &str, to: &str, format: &str) -> (Option<i32>, String) {
    let dir = format!("{}/examples/snapshots/{example}", env!("CARGO_MANIFEST_DIR"));
    let output = Command::cargo_bin("sailplan")
        .unwrap()
        .env("NO_COLOR", "1")
        .args(["check", "--snapshot", &dir, "--to", to, "-o", format])
        .output()
        .unwrap();
    assert!(output.stderr.is_empty(), "{example}: {}", String::from_utf8_lossy(&output.stderr));
    (output.status.code(), String::from_utf8(output.stdout).unwrap())
}

#[test]
fn golden_check_reports() {
    for (example, to) in EXAMPLES {
        let (code, text) = check(example, to, "text");
        let (json_code, json) = check(example, to, "json");
        assert_eq!(code, json_code);
        let document: serde_json::Value = serde_json::from_str(&json).unwrap();
        let errors = document["summary"]["errors"].as_u64().unwrap();
        assert_eq!(
            code,
            Some(if errors > 0 { 5 } else { 0 }),
            "{example}: exit code 5 exactly when errors are found"
        );
        insta::assert_snapshot!(format!("check_{}_text", example.replace(['.', '-'], "_")), text);
        insta::assert_snapshot!(format!("check_{}_json", example.replace(['.', '-'], "_")), json);
    }
}
