use serde_json::{Value, json};

use super::*;
use crate::migrate::Options;

/// TV-01 to TV-20 and TV-30 of the migration spec, verbatim.
const VECTORS: &str = include_str!("../../../tests/fixtures/migrations/authn-vectors.yaml");

struct Vector {
    input: Vec<Value>,
    objects: Vec<Value>,
    findings: Vec<String>,
}

fn vector(id: &str) -> Vector {
    let text = VECTORS
        .split("\n---\n")
        .find(|doc| doc.lines().any(|l| l.starts_with(&format!("# {id} "))))
        .unwrap_or_else(|| panic!("no vector {id}"));
    let doc = crate::yaml::parse_one(text).unwrap();
    let list = |p: &str| doc.pointer(p).and_then(Value::as_array).cloned().unwrap_or_default();
    Vector {
        input: list("/input"),
        objects: list("/expected/objects"),
        findings: list("/expected/findings").iter().map(|f| f.as_str().unwrap().to_string()).collect(),
    }
}

fn run_with(input: &[Value], options: Options) -> ChangeSet {
    MeshPolicyToPeerAuthentication.run(&Input {
        objects: &input.iter().collect::<Vec<_>>(),
        target: semver::Version::new(1, 6, 14),
        options,
    })
}

/// The vectors omit provenance annotations and are order-insensitive.
fn comparable(objects: &[Value]) -> Vec<Value> {
    let mut out: Vec<Value> = objects
        .iter()
        .map(|o| {
            let mut o = o.clone();
            let metadata = o["metadata"].as_object_mut().unwrap();
            metadata.remove("annotations");
            o
        })
        .collect();
    out.sort_by_key(|o| o.to_string());
    out
}

fn codes(findings: &[Finding]) -> Vec<String> {
    let mut codes: Vec<String> = findings.iter().map(|f| f.code.to_string()).collect();
    codes.sort();
    codes
}

fn sorted(mut objects: Vec<Value>) -> Vec<Value> {
    objects.sort_by_key(|o| o.to_string());
    objects
}

fn check(id: &str) {
    let vector = vector(id);
    let changes = run_with(&vector.input, Options::default());
    assert_eq!(comparable(&changes.create), comparable(&vector.objects), "{id}: objects");
    let mut expected = vector.findings.clone();
    expected.sort();
    assert_eq!(codes(&changes.findings), expected, "{id}: findings {:#?}", changes.findings);
    for object in &changes.create {
        let source = object["metadata"]["annotations"][CONVERTED_FROM_ANNOTATION].as_str().unwrap();
        assert!(source.contains("Policy"), "{id}: provenance {source:?}");
        assert!(object.pointer("/metadata/labels/istio.io~1rev").is_none(), "{id}: no revision label");
    }
    // Applying the change set and then its undo restores the input exactly; so does finalize's.
    for changes in [
        changes,
        MeshPolicyToPeerAuthentication
            .finalize(&Input::new(&vector.input.iter().collect::<Vec<_>>(), semver::Version::new(1, 6, 14))),
    ] {
        let restored = changes.undo(&changes.apply(&vector.input));
        assert_eq!(sorted(restored), sorted(vector.input.clone()), "{id}: undo");
    }
}

macro_rules! vectors {
    ($($test:ident => $id:literal),* $(,)?) => {
        $(#[test] fn $test() { check($id); })*
        const ALL: &[&str] = &[$($id),*];
    };
}

vectors! {
    tv01_meshpolicy_empty_mtls_is_strict => "TV-01",
    tv02_meshpolicy_null_mtls_is_strict => "TV-02",
    tv03_meshpolicy_permissive => "TV-03",
    tv04_namespace_policy_strict => "TV-04",
    tv05_targetless_nondefault_is_namespace_wide => "TV-05",
    tv06_meshpolicy_not_default_is_ignored => "TV-06",
    tv07_service_policy_without_peers => "TV-07",
    tv09_named_target_port_from_pod_spec => "TV-09",
    tv11_target_port_omitted => "TV-11",
    tv12_service_without_selector => "TV-12",
    tv13_peer_is_optional => "TV-13",
    tv14_jwt_origin_http_only_workload => "TV-14",
    tv16_regex_trigger_rule => "TV-16",
    tv17_origin_is_optional => "TV-17",
    tv18_two_issuers_with_trigger_rules => "TV-18",
    tv20_rbac_would_be_bypassed => "TV-20",
    tv30_destination_rule_plaintext_conflict => "TV-30",
}

#[test]
fn every_vector_in_the_fixture_is_tested() {
    let ids: Vec<&str> = VECTORS.lines().filter_map(|l| l.strip_prefix("# TV-")).map(|l| &l[..2]).collect();
    assert_eq!(ids.len(), ALL.len());
    for id in ids {
        assert!(ALL.contains(&format!("TV-{id}").as_str()), "TV-{id} has no test");
    }
}

#[test]
fn tv07_with_literal_mtls_off_is_disable_and_asks_for_a_destination_rule() {
    let vector = vector("TV-07");
    let changes = run_with(&vector.input, Options { literal_mtls_off: true, ..Options::default() });
    assert_eq!(changes.create[0]["spec"]["mtls"]["mode"], "DISABLE");
    assert_eq!(codes(&changes.findings), ["I-DR-DISABLE-NEEDED", "W-AUTHN-MTLS-OFF"]);
}

#[test]
fn exempt_options_lets_preflight_through_and_drops_the_warning() {
    let vector = vector("TV-14");
    let changes = run_with(&vector.input, Options { exempt_options: true, ..Options::default() });
    let deny = changes.create.iter().find(|o| o["kind"] == "AuthorizationPolicy").unwrap();
    assert_eq!(deny["spec"]["rules"][0]["to"][0]["operation"]["notMethods"], json!(["OPTIONS"]));
    assert_eq!(codes(&changes.findings), ["I-AUTHN-PRINCIPALBINDING-DROPPED"]);
}

#[test]
fn allow_partial_emits_the_peer_part_of_a_policy_whose_trigger_rules_fail() {
    let vector = vector("TV-16");
    let changes = run_with(&vector.input, Options { allow_partial: true, ..Options::default() });
    let kinds: Vec<&str> = changes.create.iter().map(|o| o["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["PeerAuthentication"]);
    assert_eq!(codes(&changes.findings), ["E-AUTHN-TRIGGER-REGEX"]);
}

fn service(namespace: &str, name: &str, ports: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": namespace},
           "spec": {"selector": {"app": name}, "ports": ports}})
}

fn policy(namespace: &str, name: &str, created: &str, spec: Value) -> Value {
    json!({"apiVersion": "authentication.istio.io/v1alpha1", "kind": "Policy",
           "metadata": {"name": name, "namespace": namespace, "creationTimestamp": created}, "spec": spec})
}

#[test]
fn a_deny_policy_is_scoped_to_http_ports_when_the_workload_also_serves_tcp() {
    let input = vec![
        service(
            "shop",
            "api",
            json!([{"name": "http", "port": 80, "targetPort": 8080}, {"name": "tcp-admin", "port": 9000}]),
        ),
        policy(
            "shop",
            "api-jwt",
            "2020-01-01T00:00:00Z",
            json!({"targets": [{"name": "api"}], "peers": [{"mtls": {}}], "origins": [{"jwt": {"issuer": "https://i"}}]}),
        ),
    ];
    let changes = run_with(&input, Options::default());
    let deny = changes.create.iter().find(|o| o["kind"] == "AuthorizationPolicy").unwrap();
    assert_eq!(
        deny["spec"]["rules"],
        json!([{"from": [{"source": {"notRequestPrincipals": ["*"]}}], "to": [{"operation": {"ports": ["8080"]}}]}])
    );
}

#[test]
fn a_mesh_jwt_is_expanded_around_namespaces_with_their_own_policy() {
    let mesh = json!({"apiVersion": "authentication.istio.io/v1alpha1", "kind": "MeshPolicy", "metadata": {"name": "default"},
                      "spec": {"peers": [{"mtls": {}}], "origins": [{"jwt": {"issuer": "https://i"}}]}});
    let input = vec![
        mesh,
        service("a", "web", json!([{"name": "http", "port": 80}])),
        service("b", "web", json!([{"name": "http", "port": 80}])),
        policy("b", "default", "2020-01-01T00:00:00Z", json!({"peers": [{"mtls": {"mode": "PERMISSIVE"}}]})),
    ];
    let changes = run_with(&input, Options::default());
    let jwt: Vec<(String, String)> = changes
        .create
        .iter()
        .filter(|o| o["kind"] == "RequestAuthentication")
        .map(|o| (text(o, "/metadata/namespace"), text(o, "/metadata/name")))
        .collect();
    assert_eq!(jwt, [("a".to_string(), "default".to_string())], "namespace b's own policy has no JWT");
    assert!(
        codes(&changes.findings).is_empty()
            || !codes(&changes.findings).contains(&"E-NAME-COLLISION".to_string())
    );
}

#[test]
fn a_mesh_jwt_without_narrower_policies_stays_mesh_wide() {
    let mesh = json!({"apiVersion": "authentication.istio.io/v1alpha1", "kind": "MeshPolicy", "metadata": {"name": "default"},
                      "spec": {"peers": [{"mtls": {}}], "origins": [{"jwt": {"issuer": "https://i"}}]}});
    let input = vec![mesh, service("a", "web", json!([{"name": "http", "port": 80}]))];
    let changes = run_with(&input, Options::default());
    let ids: Vec<String> = changes.create.iter().map(|o| ObjectId::of(o).to_string()).collect();
    assert_eq!(
        ids,
        [
            "PeerAuthentication istio-system/default",
            "RequestAuthentication istio-system/default",
            "AuthorizationPolicy istio-system/default"
        ]
    );
}

#[test]
fn the_oldest_policy_wins_and_the_others_are_reported_shadowed() {
    let input = vec![
        service("shop", "api", json!([{"name": "http", "port": 80}])),
        policy(
            "shop",
            "newer",
            "2020-02-01T00:00:00Z",
            json!({"targets": [{"name": "api"}], "peers": [{"mtls": {"mode": "PERMISSIVE"}}]}),
        ),
        policy(
            "shop",
            "older",
            "2020-01-01T00:00:00Z",
            json!({"targets": [{"name": "api"}], "peers": [{"mtls": {}}]}),
        ),
    ];
    let changes = run_with(&input, Options::default());
    assert_eq!(changes.create.len(), 1, "merged into one PeerAuthentication");
    assert_eq!(changes.create[0]["metadata"]["name"], "older-api");
    assert_eq!(changes.create[0]["spec"]["mtls"]["mode"], "STRICT");
    assert_eq!(
        changes.create[0]["metadata"]["annotations"][CONVERTED_FROM_ANNOTATION],
        "Policy shop/older, Policy shop/newer"
    );
    assert_eq!(codes(&changes.findings), ["W-AUTHN-SHADOWED"]);
}

#[test]
fn gateway_targets_get_no_peer_authentication() {
    let mut gateway = service("istio-system", "istio-ingressgateway", json!([{"name": "http2", "port": 80}]));
    gateway["spec"]["selector"] = json!({"istio": "ingressgateway"});
    let input = vec![
        gateway,
        policy(
            "istio-system",
            "gw",
            "2020-01-01T00:00:00Z",
            json!({"targets": [{"name": "istio-ingressgateway"}], "peers": [{"mtls": {}}], "origins": [{"jwt": {"issuer": "https://i"}}], "originIsOptional": true}),
        ),
    ];
    let changes = run_with(&input, Options::default());
    let kinds: Vec<&str> = changes.create.iter().map(|o| o["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["RequestAuthentication"], "origins are still converted");
    assert_eq!(codes(&changes.findings), ["I-AUTHN-GATEWAY-PEER-SKIPPED", "W-AUTHN-ORIGIN-OPTIONAL"]);
}

#[test]
fn an_identical_existing_object_is_not_created_again_and_a_different_one_collides() {
    let vector = vector("TV-04");
    let mut input = vector.input.clone();
    input.push(vector.objects[0].clone());
    assert!(run_with(&input, Options::default()).create.is_empty(), "already converted");
    input.last_mut().unwrap()["spec"]["mtls"]["mode"] = json!("PERMISSIVE");
    let changes = run_with(&input, Options::default());
    assert!(changes.create.is_empty());
    assert_eq!(codes(&changes.findings), ["E-NAME-COLLISION"]);
}

#[test]
fn finalize_deletes_converted_alpha_policies_after_a_backup_and_keeps_failed_ones() {
    let mut input = vector("TV-04").input;
    input.extend(vector("TV-12").input);
    let changes = MeshPolicyToPeerAuthentication
        .finalize(&Input::new(&input.iter().collect::<Vec<_>>(), semver::Version::new(1, 6, 14)));
    let deleted: Vec<String> = changes.delete.iter().map(|o| ObjectId::of(o).to_string()).collect();
    assert_eq!(deleted, ["Policy foo/default"]);
    assert_eq!(changes.backup, changes.delete);
    assert_eq!(codes(&changes.findings), ["E-AUTHN-SERVICE-NO-SELECTOR"]);
}

#[test]
fn a_missing_service_and_port_withhold_the_policy() {
    let input = vec![
        service("shop", "api", json!([{"name": "http", "port": 80}])),
        policy(
            "shop",
            "p1",
            "2020-01-01T00:00:00Z",
            json!({"targets": [{"name": "gone"}], "peers": [{"mtls": {}}]}),
        ),
        policy(
            "shop",
            "p2",
            "2020-01-01T00:00:00Z",
            json!({"targets": [{"name": "api", "ports": [{"number": 81}]}], "peers": [{"mtls": {}}]}),
        ),
    ];
    let changes = run_with(&input, Options::default());
    assert!(changes.create.is_empty());
    assert_eq!(codes(&changes.findings), ["E-AUTHN-PORT-NOT-FOUND", "E-AUTHN-SERVICE-NOT-FOUND"]);
}

#[test]
fn the_root_namespace_comes_from_the_mesh_config() {
    let input = vec![
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "istio", "namespace": "istio-system"},
               "data": {"mesh": "rootNamespace: mesh-root\n"}}),
        json!({"apiVersion": "authentication.istio.io/v1alpha1", "kind": "MeshPolicy", "metadata": {"name": "default"},
               "spec": {"peers": [{"mtls": {}}]}}),
    ];
    let changes = run_with(&input, Options::default());
    assert_eq!(changes.create[0]["metadata"]["namespace"], "mesh-root");
}
