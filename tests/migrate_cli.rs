//! `sailplan migrate` on the command line: the migration list, TV-27 of the migration spec through the
//! CLI (same Gateway as the library gives, and no secret value printed), and the shared legacy corpus
//! through every migration without a panic.

#![allow(clippy::unwrap_used)] // integration tests: a failed unwrap is a failed test

use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

fn sailplan() -> Command {
    let mut cmd = Command::cargo_bin("sailplan").unwrap();
    cmd.env("NO_COLOR", "1");
    cmd
}

#[test]
fn tv27_through_the_cli_prints_no_secret_value() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/migrations/tv27-input.yaml");
    let output = sailplan()
        .args(["migrate", "run", "sds-enablement", "-f", file.to_str().unwrap(), "--to", "1.6", "-o", "json"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let text = String::from_utf8(output.stdout).unwrap();
    for value in ["CERT_B64", "KEY_B64", "CA_B64"] {
        assert!(!text.contains(value), "a secret value was printed");
    }
    let document: Value = serde_json::from_str(&text).unwrap();
    let objects = document["objects"].as_array().unwrap();
    assert_eq!(objects[0]["metadata"]["name"], "mtls-gateway-https-mtls");
    let copy: Value = serde_json::from_str(
        objects[0]["metadata"]["annotations"]["sailplan.dev/copy-from"].as_str().unwrap(),
    )
    .unwrap();
    assert_eq!(copy["ca.crt"], "istio-system/istio-ingressgateway-ca-certs/ca-chain.cert.pem");
    assert_eq!(
        objects[1]["spec"]["servers"][0]["tls"],
        serde_json::json!({"mode": "MUTUAL", "credentialName": "mtls-gateway-https-mtls", "subjectAltNames": ["client.partner.example.com"]})
    );
    assert_eq!(document["findings"], serde_json::json!([]));
    let twice = sailplan()
        .args(["migrate", "run", "sds-enablement", "-f", file.to_str().unwrap(), "--to", "1.6", "-o", "json"])
        .output()
        .unwrap();
    assert_eq!(twice.stdout, text.as_bytes(), "deterministic");
}

#[test]
fn list_show_and_bad_input() {
    sailplan()
        .args(["migrate", "list"])
        .assert()
        .success()
        .stdout(predicates::str::contains("sds-enablement"));
    sailplan()
        .args(["migrate", "show", "sds-enablement"])
        .assert()
        .success()
        .stdout(predicates::str::contains("phase: before-control-plane"));
    sailplan()
        .args(["migrate", "show", "nope"])
        .assert()
        .code(1)
        .stderr(predicates::str::contains("unknown migration \"nope\""));
    sailplan()
        .args(["migrate", "run", "sds-enablement", "-f", "/does/not/exist.yaml"])
        .assert()
        .code(1)
        .stderr(predicates::str::contains("/does/not/exist.yaml"));
}

#[test]
fn the_corpus_goes_through_every_migration_without_a_panic() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/istio-legacy");
    let mut stack = vec![corpus];
    let mut files = Vec::new();
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "yaml") {
                files.push(path);
            }
        }
    }
    let migrations = sailplan::migrate::all().unwrap();
    let target = semver::Version::new(1, 6, 14);
    let mut gateways_seen = 0;
    for file in files {
        let Ok(snapshot) = sailplan::snapshot::Snapshot::read(&file) else { continue };
        for migration in &migrations {
            let changes = migration
                .transform
                .run(&sailplan::migrate::Input::new(&snapshot.objects, target.clone()));
            let file_gateways = snapshot.objects.iter().filter(|o| {
                o["kind"] == "Gateway"
                    && o.pointer("/spec/servers")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .any(|s| s.pointer("/tls/serverCertificate").is_some())
            });
            for _ in file_gateways {
                gateways_seen += 1;
                assert!(
                    !changes.findings.is_empty() || !changes.update.is_empty(),
                    "{}: a file-certificate Gateway neither converted nor reported",
                    file.display()
                );
            }
        }
    }
    assert!(gateways_seen > 0, "the corpus has file-certificate Gateways");
}
