//! `sailplan check --report FILE`: the HTML report of a small snapshot with known problems (a legacy
//! MeshPolicy, a namespace with both injection labels, a Gateway without servers) is written next to
//! the normal output, is self-contained, and shows the same counts as `check -o json`. One test loads
//! it in headless Chromium: the rendered DOM has the summary cards with the right counts, a screenshot
//! is produced, and the browser logs no console error. That test is ignored by plain `cargo test` and
//! run by `scripts/test.sh`, which installs Debian's `chromium` when it is missing.

#![allow(clippy::unwrap_used)] // integration tests: a failed unwrap is a failed test

#[path = "support/chromium.rs"]
mod chromium;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use chromium::{console_errors, headless};
use predicates::prelude::*;
use predicates::str::contains;
use serde_json::Value;

/// A 1.5 istiod with one injected pod, and the three problems.
const SNAPSHOT: &str = r#"
apiVersion: sailplan.dev/v1alpha1
kind: Snapshot
formatVersion: 1
kubernetesVersion: "1.18.20"
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: istiod
  namespace: istio-system
  labels: {app: istiod}
spec:
  template:
    spec:
      containers:
        - name: discovery
          image: docker.io/istio/pilot:1.5.10
---
apiVersion: v1
kind: Pod
metadata:
  name: web-7d9f8
  namespace: shop
spec:
  containers:
    - name: web
      image: registry.example/web:2.1
    - name: istio-proxy
      image: docker.io/istio/proxyv2:1.5.10
---
apiVersion: authentication.istio.io/v1alpha1
kind: MeshPolicy
metadata:
  name: default
spec:
  peers:
    - mtls: {}
---
apiVersion: v1
kind: Namespace
metadata:
  name: shop
  labels:
    istio-injection: enabled
    istio.io/rev: 1-6-14
---
apiVersion: networking.istio.io/v1alpha3
kind: Gateway
metadata:
  name: public-gateway
  namespace: shop
spec:
  selector:
    istio: ingressgateway
"#;

fn sailplan() -> Command {
    let mut cmd = Command::cargo_bin("sailplan").unwrap();
    cmd.env("NO_COLOR", "1");
    cmd
}

/// Writes the snapshot into `dir` and returns its path.
fn write_snapshot(dir: &Path) -> PathBuf {
    let path = dir.join("snapshot.yaml");
    std::fs::write(&path, SNAPSHOT).unwrap();
    path
}

/// `check -o json` of the snapshot.
fn check_json(snapshot: &Path) -> Value {
    let output = sailplan()
        .args(["check", "--snapshot", snapshot.to_str().unwrap(), "--to", "1.6", "-o", "json"])
        .assert()
        .code(5)
        .get_output()
        .stdout
        .clone();
    serde_json::from_slice(&output).unwrap()
}

/// `check --report` of the snapshot (text on stdout), returning the HTML.
fn check_report(snapshot: &Path, report: &Path) -> String {
    sailplan()
        .args(["check", "--snapshot", snapshot.to_str().unwrap(), "--to", "1.6", "--report"])
        .arg(report)
        .assert()
        .code(5)
        .stdout(contains("Istio 1.6.14").and(contains("W-INJECT-BOTH-LABELS")))
        .stderr(contains(format!("wrote report to {}", report.display())));
    std::fs::read_to_string(report).unwrap()
}

/// Expected (errors, warnings, info, total) per area key, from the JSON document.
fn expected_counts(document: &Value) -> Vec<(String, [usize; 4])> {
    let by_area = document["summary"]["by_area"].as_object().unwrap();
    assert_eq!(by_area.len(), 5, "five areas: {by_area:?}");
    by_area
        .iter()
        .map(|(area, total)| {
            let in_area: Vec<&Value> =
                document["findings"].as_array().unwrap().iter().filter(|f| f["area"] == **area).collect();
            let count = |severity: &str| in_area.iter().filter(|f| f["severity"] == severity).count();
            let total = usize::try_from(total.as_u64().unwrap()).unwrap();
            assert_eq!(total, in_area.len());
            (area.clone(), [count("error"), count("warning"), count("info"), total])
        })
        .collect()
}

/// The value of attribute `name` in the start tag that contains `id="<id>"`.
fn attribute(html: &str, id: &str, name: &str) -> usize {
    let at = html.find(&format!("id=\"{id}\"")).unwrap_or_else(|| panic!("no element {id}"));
    let tag_start = html[..at].rfind('<').unwrap();
    let tag = &html[tag_start..at + html[at..].find('>').unwrap()];
    let needle = format!(" {name}=\"");
    let value_start = tag.find(&needle).unwrap_or_else(|| panic!("{id} has no {name}: {tag}")) + needle.len();
    tag[value_start..value_start + tag[value_start..].find('"').unwrap()].parse().unwrap()
}

/// The text of the summary card of `area` (tags removed, whitespace collapsed).
fn card_text(html: &str, area: &str) -> String {
    let at = html.find(&format!("id=\"area-{area}\"")).unwrap();
    let end = at + html[at..].find("</section>").unwrap();
    let mut text = String::new();
    let mut in_tag = false;
    for c in html[at..end].chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                text.push(' ');
            }
            _ if !in_tag => text.push(c),
            _ => {}
        }
    }
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Asserts the summary cards of `html` agree with the JSON document.
fn assert_cards_match(html: &str, document: &Value) {
    for (area, [errors, warnings, info, total]) in expected_counts(document) {
        let id = format!("area-{area}");
        assert_eq!(attribute(html, &id, "data-errors"), errors, "{id} errors");
        assert_eq!(attribute(html, &id, "data-warnings"), warnings, "{id} warnings");
        assert_eq!(attribute(html, &id, "data-info"), info, "{id} info");
        assert_eq!(attribute(html, &id, "data-total"), total, "{id} total");
        let text = card_text(html, &area);
        let word = if total == 1 { "finding" } else { "findings" };
        assert!(text.contains(&format!("{total} {word}")), "{id} shows its total: {text}");
        assert!(text.contains(&format!("Errors {errors} Warnings {warnings} Info {info}")), "{id}: {text}");
    }
}

#[test]
fn report_is_self_contained_and_agrees_with_the_json() {
    let dir = tempfile::tempdir().unwrap();
    let snapshot = write_snapshot(dir.path());
    let document = check_json(&snapshot);
    let codes: Vec<&str> =
        document["findings"].as_array().unwrap().iter().filter_map(|f| f["code"].as_str()).collect();
    for code in ["E-API-AUTHN-ALPHA", "W-INJECT-BOTH-LABELS", "E-INJECT-UNKNOWN-REVISION", "E-CONFIG-INVALID"]
    {
        assert!(codes.contains(&code), "{code} in {codes:?}");
    }
    let html = check_report(&snapshot, &dir.path().join("out.html"));
    assert!(html.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"));
    assert!(html.contains("<title>Istio health report</title>"));
    assert!(!html.contains("http://") && !html.contains("https://"), "no external references");
    assert!(!html.contains("<script") && !html.contains("<link") && !html.contains("<img"));
    assert!(html.contains("<dd id=\"kubernetes-version\">1.18.20</dd>"));
    assert!(html.contains("<dd id=\"target\">Istio 1.6.14</dd>"));
    assert!(html.contains("Gateway shop/public-gateway"));
    assert!(html.contains(">error</span> <code class=\"code\">E-CONFIG-INVALID</code>"));
    assert_cards_match(&html, &document);
    assert_eq!(
        html,
        check_report(&snapshot, &dir.path().join("again.html")),
        "the same input gives the same bytes"
    );
}

#[test]
fn an_unwritable_report_path_is_an_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let snapshot = write_snapshot(dir.path());
    let report = dir.path().join("missing-dir/out.html");
    let output = sailplan()
        .args(["check", "--snapshot", snapshot.to_str().unwrap(), "--report"])
        .arg(&report)
        .assert()
        .code(1)
        .stdout(predicate::str::is_empty())
        .stderr(contains(format!("error: cannot write the report to {}", report.display())))
        .stderr(contains("hint: "))
        .get_output()
        .stderr
        .clone();
    assert_eq!(String::from_utf8_lossy(&output).matches("error:").count(), 1);
    assert!(!report.exists());
}

#[test]
#[ignore = "needs chromium: run scripts/test.sh"]
fn report_renders_in_headless_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let snapshot = write_snapshot(dir.path());
    let document = check_json(&snapshot);
    let page = dir.path().join("out.html");
    check_report(&snapshot, &page);

    let (dom, log) = headless(&page, &["--dump-dom".to_string()]);
    let console = console_errors(&log);
    assert!(console.is_empty(), "console errors loading the report:\n{}", console.join("\n"));
    assert!(dom.contains("<title>Istio health report</title>"), "the DOM was dumped:\n{dom}");
    assert_cards_match(&dom, &document);
    assert!(dom.contains("Namespace shop"), "findings are rendered");

    let shot = dir.path().join("shot.png");
    let (_, log) =
        headless(&page, &[format!("--screenshot={}", shot.display()), "--window-size=1280,2000".to_string()]);
    assert!(console_errors(&log).is_empty(), "console errors:\n{log}");
    let png = std::fs::read(&shot).unwrap();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG");
    let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(png[20..24].try_into().unwrap());
    assert_eq!((width, height), (1280, 2000), "the window size");
    assert!(png.len() > 20_000, "the screenshot has content ({} bytes)", png.len());

    // The console check itself: the same page with an inline script (which the report's
    // Content-Security-Policy blocks, and which would fail anyway) must be caught.
    let html = std::fs::read_to_string(&page).unwrap();
    let broken = dir.path().join("broken.html");
    std::fs::write(&broken, html.replace("</body>", "<script>undefined_function()</script></body>")).unwrap();
    let (_, log) = headless(&broken, &["--dump-dom".to_string()]);
    assert!(!console_errors(&log).is_empty(), "a blocked script shows in the console log:\n{log}");
}
