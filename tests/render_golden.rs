//! Golden renders: every profile for Istio 1.5, 1.6 and the newest version, reviewed by eye once and
//! snapshotted (tests/snapshots/). CRDs come from the shared base chart and are identical across
//! profiles, so they are kept in full only in the default profile's snapshot of each version.

#![allow(clippy::unwrap_used)] // integration tests: a failed unwrap is a failed test

use assert_cmd::Command;

const PROFILES: [&str; 6] = ["default", "demo", "empty", "minimal", "preview", "remote"];
const VERSIONS: [&str; 3] = ["1.5", "1.6", "latest"];

fn render(args: &[&str]) -> String {
    let output = Command::cargo_bin("sailplan")
        .unwrap()
        .env("NO_COLOR", "1")
        .arg("render")
        .args(args)
        .output()
        .unwrap();
    assert!(output.status.success(), "render {args:?} failed:\n{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

/// Replaces each CustomResourceDefinition document by a one-line marker.
fn without_crds(text: &str) -> String {
    let mut out = String::new();
    for document in text.split("---\n").filter(|d| !d.is_empty()) {
        if document.lines().any(|l| l == "kind: CustomResourceDefinition") {
            let name = document.lines().find_map(|l| l.strip_prefix("  name: ")).unwrap_or("?");
            out.push_str(&format!(
                "---\n# CustomResourceDefinition {name} (in full in the default profile snapshot)\n"
            ));
        } else {
            out.push_str("---\n");
            out.push_str(document);
        }
    }
    out
}

#[test]
fn golden_profiles() {
    for version in VERSIONS {
        for profile in PROFILES {
            let mut args = vec!["--version", version, "--profile", profile];
            if profile == "remote" {
                args.extend(["--set", "global.remotePilotAddress=istiod.primary.example.com"]);
            }
            let output = render(&args);
            let snapshot = if profile == "default" { output } else { without_crds(&output) };
            let name = format!("render_{}_{profile}", version.replace('.', "_"));
            insta::assert_snapshot!(name, snapshot);
        }
    }
}

#[test]
fn golden_canary_revision() {
    let output = render(&["--version", "1.6", "--revision", "1-6-14", "--profile", "minimal"]);
    insta::assert_snapshot!("render_1_6_minimal_revision_1_6_14", without_crds(&output));
}
