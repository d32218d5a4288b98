//! `sds-enablement`: Gateway TLS servers that read certificate files mounted into the gateway pods are
//! rewritten to `credentialName`, and the Secrets they name are created in the gateway pods' namespace
//! from the Secrets the files came from (migration spec, section 3.3).
//!
//! Each file path is mapped to a (Secret, key) through the gateway Deployment's volumes and mounts
//! (longest mount path wins). Data keys follow the target version: `tls.crt`, `tls.key` and, for
//! MUTUAL, `ca.crt` in a `kubernetes.io/tls` Secret from 1.6; `cert`, `key` and `cacert` in an
//! `Opaque` Secret for 1.5. Servers with identical certificates share one Secret. Names never start
//! with `istio` or `prometheus` (the 1.4–1.7 agents ignore such Secrets). When the source Secret's
//! data is not in the input (snapshots never hold it), the new Secret records where each key comes
//! from in the `sailplan.dev/copy-from` annotation, for the apply step to copy in the cluster.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::{ChangeSet, Input, Transform};
use crate::analyze::{Area, Finding, Severity};
use crate::inventory::{ObjectId, str_of, text};

/// The annotation that says which source Secret key fills each key of a generated Secret.
pub const COPY_FROM_ANNOTATION: &str = "sailplan.dev/copy-from";

/// The registered transform.
pub struct SdsEnablement;

/// Where a certificate file comes from: (namespace, Secret name, key).
type Source = (String, String, String);

fn finding(code: &'static str, severity: Severity, object: &Value, message: String, hint: &str) -> Finding {
    let area = if str_of(object, "/kind") == "Secret" { Area::Security } else { Area::IngressEgress };
    Finding { code, severity, area, object: Some(ObjectId::of(object)), message, hint: hint.to_string() }
}

/// The gateway Deployment a Gateway selects (its pod template carries every selector label).
fn workload<'a>(gateway: &Value, objects: &'a [&'a Value]) -> Option<&'a Value> {
    let selector = gateway.pointer("/spec/selector").and_then(Value::as_object)?;
    objects.iter().copied().filter(|o| str_of(o, "/kind") == "Deployment").find(|d| {
        let labels = d.pointer("/spec/template/metadata/labels");
        selector.iter().all(|(k, v)| labels.and_then(|l| l.get(k)) == Some(v))
    })
}

/// Maps a file path inside the gateway pod to the Secret key it comes from.
fn map_path(path: &str, deployment: &Value) -> Option<Source> {
    let spec = deployment.pointer("/spec/template/spec")?;
    let volumes = spec.get("volumes").and_then(Value::as_array)?;
    let mut best: Option<(usize, Source)> = None;
    for container in spec.get("containers").and_then(Value::as_array).into_iter().flatten() {
        for mount in container.get("volumeMounts").and_then(Value::as_array).into_iter().flatten() {
            let mount_path = text(mount, "/mountPath");
            let Some(rest) =
                path.strip_prefix(mount_path.trim_end_matches('/')).and_then(|r| r.strip_prefix('/'))
            else {
                continue;
            };
            let volume = volumes.iter().find(|v| str_of(v, "/name") == text(mount, "/name"));
            let secret = volume.map(|v| text(v, "/secret/secretName")).filter(|s| !s.is_empty());
            if let Some(secret) = secret
                && best.as_ref().is_none_or(|(len, _)| mount_path.len() > *len)
            {
                best = Some((
                    mount_path.len(),
                    (text(deployment, "/metadata/namespace"), secret, rest.to_string()),
                ));
            }
        }
    }
    best.map(|(_, source)| source)
}

/// A Secret name from a Gateway and server: lower case, `[a-z0-9-.]`, no reserved prefix.
fn secret_name(gateway: &str, server: &Value) -> (String, bool) {
    let port =
        server.pointer("/port/name").and_then(Value::as_str).map(str::to_string).unwrap_or_else(|| {
            server.pointer("/port/number").map_or_else(|| "tls".to_string(), ToString::to_string)
        });
    let raw = format!("{gateway}-{port}").to_lowercase();
    let mut name: String = raw
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '.' { c } else { '-' })
        .collect();
    name = name.trim_matches(['-', '.']).to_string();
    let reserved = name.starts_with("istio") || name.starts_with("prometheus");
    if reserved {
        name = format!("cred-{name}");
    }
    (name, reserved)
}

impl Transform for SdsEnablement {
    fn run(&self, input: &Input<'_>) -> ChangeSet {
        let modern = (input.target.major, input.target.minor) >= (1, 6);
        let secrets: BTreeMap<(String, String), &Value> = input
            .objects
            .iter()
            .copied()
            .filter(|o| str_of(o, "/kind") == "Secret")
            .map(|s| ((text(s, "/metadata/namespace"), text(s, "/metadata/name")), s))
            .collect();
        let mut out = ChangeSet {
            gates: vec!["root-ca-unchanged".to_string(), "gateway-tls-handshake".to_string()],
            ..ChangeSet::default()
        };
        // (cert, key, ca) sources -> the Secret already generated for them.
        let mut generated: BTreeMap<(Source, Source, Option<Source>), String> = BTreeMap::new();
        for gateway in input.objects.iter().copied().filter(|o| {
            str_of(o, "/kind") == "Gateway" && text(o, "/apiVersion").starts_with("networking.istio.io/")
        }) {
            let gateway_name = text(gateway, "/metadata/name");
            let mut rewritten = gateway.clone();
            let mut changed = false;
            let servers =
                gateway.pointer("/spec/servers").and_then(Value::as_array).cloned().unwrap_or_default();
            for (index, server) in servers.iter().enumerate() {
                let tls = server.get("tls");
                let mode = tls.map(|t| text(t, "/mode")).unwrap_or_default();
                let path = |field: &str| {
                    tls.and_then(|t| t.get(field)).and_then(Value::as_str).filter(|p| !p.is_empty())
                };
                let (Some(cert_path), true) =
                    (path("serverCertificate"), matches!(mode.as_str(), "SIMPLE" | "MUTUAL"))
                else {
                    continue;
                };
                if path("credentialName").is_some() {
                    continue;
                }
                let Some(deployment) = workload(gateway, input.objects) else {
                    out.findings.push(finding(
                        "E-SDS-PATH-UNMAPPED",
                        Severity::Error,
                        gateway,
                        "no gateway Deployment matches the Gateway's selector, so its certificate files cannot be traced to Secrets".to_string(),
                        "include the gateway Deployment in the input, or convert this server by hand",
                    ));
                    continue;
                };
                let mut unmapped = Vec::new();
                let mut source = |p: &str| {
                    let found = map_path(p, deployment);
                    if found.is_none() {
                        unmapped.push(p.to_string());
                    }
                    found
                };
                let cert = source(cert_path);
                let key = path("privateKey").and_then(&mut source);
                let ca = if mode == "MUTUAL" { path("caCertificates").and_then(&mut source) } else { None };
                let (Some(cert), Some(key)) = (cert, key) else {
                    out.findings.push(finding(
                        "E-SDS-PATH-UNMAPPED",
                        Severity::Error,
                        gateway,
                        format!("server {index}: {} is not mounted from a Secret (baked into the image, or a hostPath?)", if unmapped.is_empty() { "the private key".to_string() } else { unmapped.join(", ") }),
                        "put the certificate and key in a Secret in the gateway's namespace and set credentialName by hand",
                    ));
                    continue;
                };
                let namespace = text(deployment, "/metadata/namespace");
                if text(gateway, "/metadata/namespace") != namespace {
                    out.findings.push(finding(
                        "W-SDS-NS",
                        Severity::Warning,
                        gateway,
                        format!("the Gateway lives in {}, its pods in {namespace}: the credential Secret is created in {namespace}", text(gateway, "/metadata/namespace")),
                        "keep credential Secrets in the gateway pods' namespace",
                    ));
                }
                let tuple = (cert.clone(), key.clone(), ca.clone());
                let name = if let Some(existing) = generated.get(&tuple) {
                    existing.clone()
                } else {
                    let (name, reserved) = secret_name(&gateway_name, server);
                    if reserved {
                        out.findings.push(finding(
                            "I-SDS-RESERVED-PREFIX-RENAMED",
                            Severity::Info,
                            gateway,
                            format!("the Secret is named {name}: names starting with istio or prometheus are ignored by the gateway agent"),
                            "nothing to do",
                        ));
                    }
                    let keys: [(&str, Option<&Source>); 3] = if modern {
                        [("tls.crt", Some(&cert)), ("tls.key", Some(&key)), ("ca.crt", ca.as_ref())]
                    } else {
                        [("cert", Some(&cert)), ("key", Some(&key)), ("cacert", ca.as_ref())]
                    };
                    let mut data = Map::new();
                    let mut copy_from = Map::new();
                    for (target_key, source) in keys {
                        let Some((ns, secret, source_key)) = source else { continue };
                        let value = secrets
                            .get(&(ns.clone(), secret.clone()))
                            .and_then(|s| s.pointer("/data").and_then(|d| d.get(source_key.as_str())));
                        match value {
                            Some(value) => {
                                data.insert(target_key.to_string(), value.clone());
                            }
                            None => {
                                copy_from.insert(
                                    target_key.to_string(),
                                    Value::String(format!("{ns}/{secret}/{source_key}")),
                                );
                            }
                        }
                    }
                    let mut metadata = json!({"name": name, "namespace": namespace});
                    if !copy_from.is_empty() {
                        metadata["annotations"] =
                            json!({COPY_FROM_ANNOTATION: Value::Object(copy_from).to_string()});
                    }
                    let mut secret = json!({"apiVersion": "v1", "kind": "Secret", "type": if modern { "kubernetes.io/tls" } else { "Opaque" }, "metadata": metadata});
                    if !data.is_empty() {
                        secret["data"] = Value::Object(data);
                    }
                    out.create.push(secret);
                    generated.insert(tuple, name.clone());
                    name
                };
                if let Some(tls) = rewritten
                    .pointer_mut(&format!("/spec/servers/{index}/tls"))
                    .and_then(Value::as_object_mut)
                {
                    let mut new_tls = Map::new();
                    for (field, value) in tls.iter() {
                        if matches!(field.as_str(), "serverCertificate" | "privateKey" | "caCertificates") {
                            continue;
                        }
                        new_tls.insert(field.clone(), value.clone());
                        if field == "mode" {
                            new_tls.insert("credentialName".to_string(), Value::String(name.clone()));
                        }
                    }
                    *tls = new_tls;
                    changed = true;
                }
            }
            if changed {
                out.backup.push(gateway.clone());
                out.update.push(rewritten);
            }
        }
        out
    }

    /// Deletes, after a backup, what SDS made unnecessary (spec 3.4): the `istio.*` workload key
    /// Secrets Citadel wrote, once Citadel is gone, no proxy older than 1.5 remains and no pod mounts
    /// them (Prometheus often does, for mTLS scraping); and the gateway certificate Secrets once no
    /// Gateway reads files any more. `istio-ca-secret` and `cacerts` are istiod's CA and never go.
    fn finalize(&self, input: &Input<'_>) -> ChangeSet {
        let objects = input.objects;
        let mut out = ChangeSet { gates: vec!["root-ca-unchanged".to_string()], ..ChangeSet::default() };
        let mounted: BTreeMap<(String, String), String> = objects
            .iter()
            .filter_map(|o| {
                let spec = match str_of(o, "/kind") {
                    "Pod" => o.get("spec"),
                    "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job" => {
                        crate::inventory::lookup(o, "/spec/template/spec")
                    }
                    _ => None,
                }?;
                Some((o, spec))
            })
            .flat_map(|(o, spec)| {
                let secrets: Vec<&str> = spec
                    .get("volumes")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .map(|v| str_of(v, "/secret/secretName"))
                    .filter(|name| !name.is_empty())
                    .collect();
                // Most pods mount no Secret; only those that do have their names copied.
                let (namespace, owner) = match secrets.is_empty() {
                    true => (String::new(), String::new()),
                    false => (text(o, "/metadata/namespace"), ObjectId::of(o).to_string()),
                };
                secrets
                    .into_iter()
                    .map(move |name| ((namespace.clone(), name.to_string()), owner.clone()))
                    .collect::<Vec<_>>()
            })
            .collect();
        let citadel = objects
            .iter()
            .any(|o| str_of(o, "/kind") == "Deployment" && str_of(o, "/metadata/name") == "istio-citadel");
        let old_proxies = objects.iter().filter(|o| str_of(o, "/kind") == "Pod").any(|pod| {
            pod.pointer("/spec/containers").and_then(Value::as_array).into_iter().flatten().any(|c| {
                str_of(c, "/name") == "istio-proxy"
                    && crate::inventory::image_version(str_of(c, "/image"))
                        .is_some_and(|v| (v.major, v.minor) < (1, 5))
            })
        });
        let file_paths_in_use = objects.iter().filter(|o| str_of(o, "/kind") == "Gateway").any(|g| {
            g.pointer("/spec/servers").and_then(Value::as_array).into_iter().flatten().any(|s| {
                ["serverCertificate", "privateKey", "caCertificates"].iter().any(|f| {
                    s.get("tls")
                        .and_then(|t| t.get(*f))
                        .and_then(Value::as_str)
                        .is_some_and(|p| p.starts_with("/etc/istio/"))
                })
            })
        });
        let mut kept_for_citadel = 0;
        for secret in objects.iter().filter(|o| str_of(o, "/kind") == "Secret") {
            let namespace = text(secret, "/metadata/namespace");
            let name = text(secret, "/metadata/name");
            if matches!(name.as_str(), "istio-ca-secret" | "cacerts") {
                continue;
            }
            let workload_secret =
                str_of(secret, "/type") == "istio.io/key-and-cert" && name.starts_with("istio.");
            let gateway_secret = GATEWAY_FILE_SECRETS.contains(&name.as_str());
            if !(workload_secret || gateway_secret) {
                continue;
            }
            if let Some(owner) = mounted.get(&(namespace.clone(), name.clone())).filter(|_| workload_secret) {
                out.findings.push(finding(
                    "W-SDS-SECRET-MOUNTED",
                    Severity::Warning,
                    secret,
                    format!("{owner} still mounts it, so it is kept"),
                    "move that workload to SDS certificates (or istio-ca-root-cert for Prometheus scraping), then finalize again",
                ));
                continue;
            }
            if workload_secret && (citadel || old_proxies) {
                kept_for_citadel += 1;
                continue;
            }
            if gateway_secret && file_paths_in_use {
                continue;
            }
            out.backup.push((*secret).clone());
            out.delete.push((*secret).clone());
        }
        if kept_for_citadel > 0 {
            let why = if citadel {
                "Citadel still runs (it would recreate them)"
            } else {
                "proxies older than 1.5 still use them"
            };
            out.findings.push(Finding {
                code: "W-SDS-LEGACY-SECRETS-IN-USE",
                severity: Severity::Warning,
                area: Area::Security,
                object: None,
                message: format!("{kept_for_citadel} istio.* key Secrets are kept: {why}"),
                hint:
                    "remove the 1.4 control plane and restart the remaining old proxies, then finalize again"
                        .to_string(),
            });
        }
        out
    }
}

/// The Secrets the 1.4-era gateway charts mounted as certificate files.
const GATEWAY_FILE_SECRETS: [&str; 4] = [
    "istio-ingressgateway-certs",
    "istio-ingressgateway-ca-certs",
    "istio-egressgateway-certs",
    "istio-egressgateway-ca-certs",
];

#[cfg(test)]
mod tests {
    use super::*;

    /// TV-27 of the migration spec, verbatim.
    const TV27_INPUT: &str = include_str!("../../tests/fixtures/migrations/tv27-input.yaml");

    const TV27_EXPECTED: &str = r#"
- {apiVersion: v1, kind: Secret, type: kubernetes.io/tls, metadata: {name: mtls-gateway-https-mtls, namespace: istio-system}, data: {tls.crt: CERT_B64, tls.key: KEY_B64, ca.crt: CA_B64}}
- apiVersion: networking.istio.io/v1alpha3
  kind: Gateway
  metadata: {name: mtls-gateway, namespace: istio-system}
  spec:
    selector: {istio: ingressgateway}
    servers:
    - port: {number: 443, name: https-mtls, protocol: HTTPS}
      hosts: [partner.example.com]
      tls: {mode: MUTUAL, credentialName: mtls-gateway-https-mtls, subjectAltNames: [client.partner.example.com]}
"#;

    fn objects(text: &str) -> Vec<Value> {
        match crate::yaml::parse_one(text).unwrap() {
            Value::Array(items) => items,
            other => panic!("expected a list, got {other}"),
        }
    }

    fn run(objects: &[Value], target: &str) -> ChangeSet {
        SdsEnablement.run(&Input::new(
            &objects.iter().collect::<Vec<_>>(),
            crate::version::parse_lenient(target).unwrap(),
        ))
    }

    #[test]
    fn tv27_mutual_gateway_with_ca_bundle() {
        let input = objects(TV27_INPUT);
        let changes = run(&input, "1.6.14");
        let expected = objects(TV27_EXPECTED);
        assert_eq!(changes.create, vec![expected[0].clone()]);
        assert_eq!(changes.update, vec![expected[1].clone()]);
        assert!(changes.findings.is_empty(), "{:?}", changes.findings);
        assert_eq!(changes.backup, vec![input[3].clone()], "the original Gateway is backed up");
    }

    #[test]
    fn tv27_for_target_1_5_uses_opaque_cert_key_cacert() {
        let changes = run(&objects(TV27_INPUT), "1.5.10");
        let secret = &changes.create[0];
        assert_eq!(secret["type"], "Opaque");
        assert_eq!(secret["data"], json!({"cert": "CERT_B64", "key": "KEY_B64", "cacert": "CA_B64"}));
    }

    #[test]
    fn applying_then_undoing_restores_the_original_objects() {
        let input = objects(TV27_INPUT);
        let changes = run(&input, "1.6.14");
        let applied = changes.apply(&input);
        assert_eq!(applied.len(), input.len() + 1, "one Secret more");
        let mut restored = changes.undo(&applied);
        let mut original = input.clone();
        let sort = |v: &mut Vec<Value>| v.sort_by_key(|o| (text(o, "/kind"), text(o, "/metadata/name")));
        sort(&mut restored);
        sort(&mut original);
        assert_eq!(restored, original);
    }

    #[test]
    fn without_secret_data_the_secret_says_where_to_copy_from() {
        let input: Vec<Value> = objects(TV27_INPUT).into_iter().filter(|o| o["kind"] != "Secret").collect();
        let secret = &run(&input, "1.6.14").create[0];
        assert!(secret.get("data").is_none());
        let copy: Value =
            serde_json::from_str(secret["metadata"]["annotations"][COPY_FROM_ANNOTATION].as_str().unwrap())
                .unwrap();
        assert_eq!(copy["tls.crt"], "istio-system/istio-ingressgateway-certs/tls.crt");
        assert_eq!(copy["ca.crt"], "istio-system/istio-ingressgateway-ca-certs/ca-chain.cert.pem");
    }

    #[test]
    fn unmapped_paths_reserved_names_and_namespaces_are_reported() {
        let mut input = objects(TV27_INPUT);
        input[3]["metadata"]["namespace"] = json!("bookinfo");
        input[3]["metadata"]["name"] = json!("istio-gw");
        input[3]["spec"]["servers"].as_array_mut().unwrap().push(json!({
            "port": {"number": 8443, "name": "https-baked", "protocol": "HTTPS"}, "hosts": ["x.example.com"],
            "tls": {"mode": "SIMPLE", "serverCertificate": "/etc/certs/baked.crt", "privateKey": "/etc/certs/baked.key"}}));
        let changes = run(&input, "1.6.14");
        let codes: Vec<&str> = changes.findings.iter().map(|f| f.code).collect();
        assert_eq!(codes, ["W-SDS-NS", "I-SDS-RESERVED-PREFIX-RENAMED", "E-SDS-PATH-UNMAPPED"]);
        assert_eq!(changes.create[0]["metadata"]["name"], "cred-istio-gw-https-mtls");
        assert_eq!(
            changes.create[0]["metadata"]["namespace"], "istio-system",
            "in the gateway pods' namespace"
        );
        let servers = &changes.update[0]["spec"]["servers"];
        assert_eq!(
            servers[1]["tls"]["serverCertificate"], "/etc/certs/baked.crt",
            "unmapped servers stay as they were"
        );
    }

    fn legacy_secret(namespace: &str, name: &str, kind: &str) -> Value {
        json!({"apiVersion": "v1", "kind": "Secret", "type": kind, "metadata": {"name": name, "namespace": namespace}})
    }

    fn finalize(objects: &[Value]) -> ChangeSet {
        SdsEnablement
            .finalize(&Input::new(&objects.iter().collect::<Vec<_>>(), semver::Version::new(1, 6, 14)))
    }

    fn deleted(changes: &ChangeSet) -> Vec<String> {
        changes.delete.iter().map(|o| ObjectId::of(o).to_string()).collect()
    }

    #[test]
    fn finalize_deletes_unmounted_workload_secrets_and_keeps_mounted_ones_and_the_ca() {
        let prometheus = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "prometheus", "namespace": "monitoring"},
            "spec": {"template": {"spec": {"containers": [{"name": "prometheus"}], "volumes": [{"name": "certs", "secret": {"secretName": "istio.default"}}]}}}});
        let objects = vec![
            legacy_secret("shop", "istio.default", "istio.io/key-and-cert"),
            legacy_secret("monitoring", "istio.default", "istio.io/key-and-cert"),
            legacy_secret("istio-system", "istio-ca-secret", "istio.io/ca-root"),
            legacy_secret("istio-system", "cacerts", "Opaque"),
            legacy_secret("shop", "istio.token", "Opaque"),
            prometheus,
        ];
        let changes = finalize(&objects);
        assert_eq!(deleted(&changes), ["Secret shop/istio.default"]);
        assert_eq!(changes.backup, changes.delete, "everything deleted is backed up first");
        let codes: Vec<&str> = changes.findings.iter().map(|f| f.code).collect();
        assert_eq!(codes, ["W-SDS-SECRET-MOUNTED"]);
        assert!(changes.findings[0].message.contains("Deployment monitoring/prometheus"));
        let restored = changes.undo(&changes.apply(&objects));
        assert_eq!(restored.len(), objects.len());
        for object in &objects {
            assert!(restored.contains(object));
        }
    }

    #[test]
    fn finalize_keeps_workload_secrets_while_citadel_runs() {
        let objects = vec![
            legacy_secret("shop", "istio.default", "istio.io/key-and-cert"),
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "istio-citadel", "namespace": "istio-system"}}),
        ];
        let changes = finalize(&objects);
        assert!(changes.delete.is_empty());
        assert_eq!(changes.findings[0].code, "W-SDS-LEGACY-SECRETS-IN-USE");
    }

    #[test]
    fn gateway_certificate_secrets_go_only_once_no_gateway_reads_files() {
        let input = objects(TV27_INPUT);
        assert!(finalize(&input).delete.is_empty(), "the Gateway still reads the mounted files");
        let converted = run(&input, "1.6.14").apply(&input);
        assert_eq!(
            deleted(&finalize(&converted)),
            [
                "Secret istio-system/istio-ingressgateway-ca-certs",
                "Secret istio-system/istio-ingressgateway-certs"
            ]
        );
    }
}
