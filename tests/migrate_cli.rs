//! `sailplan migrate` on the command line: the migration list, TV-27 of the migration spec through the
//! CLI (same Gateway as the library gives, and no secret value printed), and the shared legacy corpus
//! through every migration without a panic.

#![allow(clippy::unwrap_used)] // integration tests: a failed unwrap is a failed test

use std::path::Path;
use std::sync::Arc;

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
    let mut policies_seen = 0;
    let mut mixer_seen = 0;
    for file in files {
        let Ok(snapshot) = sailplan::snapshot::Snapshot::read(&file) else { continue };
        for migration in &migrations {
            let objects: Vec<&Value> = snapshot.objects.iter().map(AsRef::as_ref).collect();
            let input = sailplan::migrate::Input::new(&objects, target.clone());
            let changes = migration.transform.run(&input);
            let finalized = migration.transform.finalize(&input);
            let mentioned = |object: &Value| {
                let id = sailplan::inventory::ObjectId::of(object);
                changes.findings.iter().any(|f| f.object.as_ref() == Some(&id))
                    || changes.create.iter().any(|c| {
                        c.pointer("/metadata/annotations/sailplan.dev~1converted-from")
                            .and_then(Value::as_str)
                            .is_some_and(|from| from.split(", ").any(|f| f == id.to_string()))
                    })
            };
            match migration.info.id.as_str() {
                "sds-enablement" => {
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
                "meshpolicy-to-peerauthentication" => {
                    for policy in snapshot.objects.iter().filter(|o| {
                        matches!(o["kind"].as_str(), Some("Policy" | "MeshPolicy"))
                            && o["apiVersion"]
                                .as_str()
                                .is_some_and(|a| a.starts_with("authentication.istio.io/"))
                    }) {
                        policies_seen += 1;
                        assert!(
                            mentioned(policy),
                            "{}: {} neither converted nor reported",
                            file.display(),
                            sailplan::inventory::ObjectId::of(policy)
                        );
                    }
                }
                "mixer-to-telemetry-v2" => {
                    mixer_seen +=
                        mixer_config_is_accounted_for(&file, &snapshot.objects, &changes, &finalized);
                }
                _ => {}
            }
        }
    }
    assert!(mixer_seen > 0, "the corpus has Mixer configuration");
    assert!(policies_seen > 0, "the corpus has alpha authentication policies");
    assert!(gateways_seen > 0, "the corpus has file-certificate Gateways");
}

/// Every alpha-policy vector through the CLI gives what the library gives (the library tests check
/// the library against the spec), in both output forms, with the warnings on stderr.
#[test]
fn authn_vectors_through_the_cli_match_the_library() {
    let vectors = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/migrations/authn-vectors.yaml"),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let target = semver::Version::new(1, 6, 14);
    for (index, doc) in vectors.split("\n---\n").enumerate() {
        let vector = sailplan::yaml::parse_one(doc).unwrap();
        let input = vector["input"].as_array().unwrap().clone();
        let file = dir.path().join(format!("vector-{index}.yaml"));
        std::fs::write(&file, sailplan::yaml::to_string(&Value::Array(input.clone())).unwrap()).unwrap();
        let library = sailplan::migrate::Transform::run(
            &sailplan::migrate::authn::MeshPolicyToPeerAuthentication,
            &sailplan::migrate::Input::new(&input.iter().collect::<Vec<_>>(), target.clone()),
        );
        let json = sailplan()
            .args(["migrate", "run", "meshpolicy-to-peerauthentication", "-f", file.to_str().unwrap()])
            .args(["--to", "1.6", "-o", "json"])
            .output()
            .unwrap();
        assert!(json.status.success(), "{}", String::from_utf8_lossy(&json.stderr));
        let document: Value = serde_json::from_slice(&json.stdout).unwrap();
        assert_eq!(document["objects"], Value::Array(library.create.clone()), "{doc}");
        let codes: Vec<&str> =
            document["findings"].as_array().unwrap().iter().map(|f| f["code"].as_str().unwrap()).collect();
        assert_eq!(codes, library.findings.iter().map(|f| f.code).collect::<Vec<_>>());
        let yaml = sailplan()
            .args(["migrate", "run", "meshpolicy-to-peerauthentication", "-f", file.to_str().unwrap()])
            .args(["--to", "1.6"])
            .output()
            .unwrap();
        let printed: Vec<Value> =
            sailplan::yaml::parse_documents(&String::from_utf8(yaml.stdout).unwrap()).unwrap();
        assert_eq!(printed, library.create, "{doc}");
        let stderr = String::from_utf8(yaml.stderr).unwrap();
        for code in codes {
            assert!(stderr.contains(code), "{code} not on stderr: {stderr}");
        }
    }
}

/// The official alpha-policy converter's own end-to-end fixtures (input and expected output, in the
/// shared corpus): sailplan produces the same objects. The one intended difference is
/// `forwardOriginalToken: true` on every JWT rule (the alpha filter forwarded the token; only the
/// converter's latest revision sets it), so it is left out of the comparison.
#[test]
fn authn_matches_the_official_converter_on_its_fixtures() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = root.join("../shared/corpus/istio-legacy/security-policy-migrate/e2e/testdata");
    let services = sailplan::snapshot::Snapshot::read(
        &root.join("tests/fixtures/migrations/official-converter-services.yaml"),
    )
    .unwrap()
    .objects;
    let normalise = |objects: &[Value]| {
        objects
            .iter()
            .map(|o| {
                let mut o = o.clone();
                let metadata = o["metadata"].as_object_mut().unwrap();
                metadata.remove("annotations");
                metadata.remove("creationTimestamp");
                for rule in
                    o.pointer_mut("/spec/jwtRules").and_then(Value::as_array_mut).into_iter().flatten()
                {
                    rule.as_object_mut().unwrap().remove("forwardOriginalToken");
                }
                o
            })
            .collect::<Vec<Value>>()
    };
    let mut compared = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let Some(name) =
            path.file_name().and_then(|n| n.to_str()).and_then(|n| n.strip_suffix("-input.yaml"))
        else {
            continue;
        };
        let mut input = sailplan::snapshot::Snapshot::read(&path).unwrap().objects;
        input.extend(services.clone());
        let expected: Vec<Value> =
            sailplan::snapshot::Snapshot::read(&dir.join(format!("{name}-output.yaml")))
                .unwrap()
                .objects
                .into_iter()
                .map(Arc::unwrap_or_clone)
                .collect();
        let changes = sailplan::migrate::Transform::run(
            &sailplan::migrate::authn::MeshPolicyToPeerAuthentication,
            &sailplan::migrate::Input::new(
                &input.iter().map(AsRef::as_ref).collect::<Vec<_>>(),
                semver::Version::new(1, 6, 14),
            ),
        );
        let (ours, theirs) = (normalise(&changes.create), normalise(&expected));
        assert_eq!(ours.len(), theirs.len(), "{name}");
        for object in &theirs {
            assert!(ours.contains(object), "{name}: sailplan does not produce {object:#}");
        }
        assert!(changes.findings.iter().all(|f| !f.code.starts_with("E-")), "{name}: {:?}", changes.findings);
        compared += 1;
    }
    assert_eq!(compared, 13, "every fixture pair of the official converter");
}

/// Every `config.istio.io` object of a corpus file is removed (after a backup) at finalize, and none
/// is silently dropped at run time: every rule, QuotaSpec, QuotaSpecBinding and HTTPAPISpec is named
/// in a generated object's provenance or in a finding, unless its handlers are all Prometheus or
/// built in (kubernetesenv, noop); and every custom Prometheus metric lands in the stats-filter
/// configuration or has a finding on its handler or instance. Returns how many objects it checked.
fn mixer_config_is_accounted_for(
    file: &Path,
    objects: &[Arc<Value>],
    changes: &sailplan::migrate::ChangeSet,
    finalized: &sailplan::migrate::ChangeSet,
) -> usize {
    use sailplan::inventory::ObjectId;
    let config: Vec<&Value> = objects
        .iter()
        .map(AsRef::as_ref)
        .filter(|o| o["apiVersion"].as_str().is_some_and(|a| a.starts_with("config.istio.io/")))
        .collect();
    let reported = |name: &str| {
        changes.findings.iter().any(|f| f.object.as_ref().is_some_and(|o| o.name == name))
            || changes.create.iter().any(|c| {
                c.pointer("/metadata/annotations/sailplan.dev~1converted-from")
                    .and_then(Value::as_str)
                    .is_some_and(|from| from.split(", ").any(|f| f.ends_with(&format!("/{name}"))))
            })
    };
    let adapter = |handler: &Value| {
        let spec = &handler["spec"];
        let kind = handler["kind"].as_str().unwrap_or_default();
        spec["compiledAdapter"].as_str().or(spec["adapter"].as_str()).unwrap_or(kind).to_string()
    };
    let handler_named = |reference: &str| {
        let name = reference.split('.').next().unwrap_or_default();
        config.iter().find(|o| {
            o["metadata"]["name"] == name
                && o["kind"] != "rule"
                && (o["kind"] == "handler" || !o["spec"]["compiledTemplate"].is_string())
                && !["instance", "metric", "logentry", "listentry", "checknothing", "quota", "kubernetes"]
                    .contains(&o["kind"].as_str().unwrap_or_default())
        })
    };
    let converted = format!("{} {}", changes.values, Value::Array(changes.create.clone()));
    for object in &config {
        let id = ObjectId::of(object);
        assert!(
            finalized.delete.contains(object) && finalized.backup.contains(object),
            "{}: {id} is not removed at finalize",
            file.display()
        );
        let name = id.name.as_str();
        match object["kind"].as_str().unwrap_or_default() {
            "rule" => {
                let values_only = object["spec"]["actions"].as_array().into_iter().flatten().all(|action| {
                    handler_named(action["handler"].as_str().unwrap_or_default()).is_some_and(|h| {
                        ["prometheus", "kubernetesenv", "noop"].contains(&adapter(h).as_str())
                    })
                });
                assert!(
                    values_only || reported(name),
                    "{}: {id} neither converted nor reported",
                    file.display()
                );
            }
            "QuotaSpec" | "QuotaSpecBinding" | "HTTPAPISpec" => {
                let quota_rule_reported = object["kind"] == "QuotaSpec"
                    && changes.findings.iter().any(|f| f.message.contains(&id.to_string()));
                assert!(
                    reported(name) || quota_rule_reported,
                    "{}: {id} neither converted nor reported",
                    file.display()
                );
            }
            _ if adapter(object) == "prometheus" && object["kind"] != "instance" => {
                for metric in object["spec"]["params"]["metrics"]
                    .as_array()
                    .or(object["spec"]["metrics"].as_array())
                    .into_iter()
                    .flatten()
                {
                    let metric_name = metric["name"].as_str().unwrap_or_default();
                    let instance = metric["instance_name"]
                        .as_str()
                        .unwrap_or_default()
                        .split('.')
                        .next()
                        .unwrap_or_default();
                    assert!(
                        converted.contains(&format!("\"{metric_name}\""))
                            || converted.contains(&format!("\\\"{metric_name}\\\""))
                            || reported(name)
                            || reported(instance),
                        "{}: metric {metric_name} of {id} neither converted nor reported",
                        file.display()
                    );
                }
            }
            _ => {}
        }
    }
    config.len()
}

/// TV-23 through the CLI: the AuthorizationPolicy on stdout, the finding and the values hint on
/// stderr, the values in `--values-out`, and with `--finalize` the deletions on stderr.
#[test]
fn mixer_denier_through_the_cli() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/migrations/tv23-input.yaml");
    let file = file.to_str().unwrap();
    let output = sailplan()
        .args(["migrate", "run", "mixer-to-telemetry-v2", "-f", file, "--to", "1.6"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let printed = sailplan::yaml::parse_documents(&String::from_utf8(output.stdout).unwrap()).unwrap();
    assert_eq!(printed.len(), 1);
    assert_eq!(printed[0]["kind"], "AuthorizationPolicy");
    assert_eq!(
        printed[0]["spec"],
        serde_json::json!({"action": "DENY", "rules": [{"when": [{"key": "request.headers[x-user]", "values": ["john"]}]}]})
    );
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("I-POL-STATUS-MESSAGE-LOST"), "{stderr}");
    assert!(stderr.contains("--values-out"), "{stderr}");

    let dir = tempfile::tempdir().unwrap();
    let values_file = dir.path().join("values.yaml");
    sailplan()
        .args(["migrate", "run", "mixer-to-telemetry-v2", "-f", file, "--to", "1.6"])
        .args(["--values-out", values_file.to_str().unwrap()])
        .assert()
        .success();
    let values = sailplan::yaml::parse_one(&std::fs::read_to_string(&values_file).unwrap()).unwrap();
    assert_eq!(
        values,
        serde_json::json!({"telemetry": {"v2": {"enabled": true, "prometheus": {"enabled": true}}}, "meshConfig": {"disablePolicyChecks": true}})
    );

    let finalize = sailplan()
        .args(["migrate", "run", "mixer-to-telemetry-v2", "-f", file, "--to", "1.8", "--finalize"])
        .output()
        .unwrap();
    assert!(finalize.status.success());
    let stderr = String::from_utf8(finalize.stderr).unwrap();
    for object in [
        "handler istio-system/denierhandler",
        "instance istio-system/denyrequest",
        "rule istio-system/denyjohn",
    ] {
        assert!(stderr.contains(&format!("delete (after a backup): {object}")), "{object}: {stderr}");
    }
    assert!(!String::from_utf8(finalize.stdout).unwrap().contains("AuthorizationPolicy"));
}
