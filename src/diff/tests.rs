use serde_json::{Value, json};

use super::*;
use crate::collect::{SECRET_KEYS_ANNOTATION, sanitize};

const PLANNED: &str = include_str!("../../tests/fixtures/diff/default-planned.yaml");
const SERVER: &str = include_str!("../../tests/fixtures/diff/default-server.yaml");

fn fixture(text: &str) -> Vec<Value> {
    crate::yaml::parse_documents(text).unwrap()
}

fn find<'a>(objects: &'a mut [Value], kind: &str, name: &str) -> &'a mut Value {
    objects.iter_mut().find(|o| o["kind"] == kind && o["metadata"]["name"] == name).unwrap()
}

fn not_unchanged(changes: &[ObjectChange]) -> String {
    changes
        .iter()
        .filter(|c| c.action != Action::Unchanged)
        .map(|c| format!("{:?} {}\n{}", c.action, c.id, c.diff))
        .collect()
}

#[test]
fn the_default_profile_as_the_api_server_returns_it_is_unchanged() {
    let (planned, server) = (fixture(PLANNED), fixture(SERVER));
    assert_eq!(planned.len(), 11);
    let changes = compare(&planned, &server, &[], &DiffOptions::default()).unwrap();
    assert_eq!(changes.len(), 11);
    assert!(changes.iter().all(|c| c.action == Action::Unchanged), "{}", not_unchanged(&changes));
    assert!(changes.iter().all(|c| c.diff.is_empty()));
}

#[test]
fn the_default_profile_through_a_snapshot_is_unchanged() {
    let planned = fixture(PLANNED);
    let mut collected = fixture(SERVER);
    collected.iter_mut().for_each(sanitize);
    let options = DiffOptions { sanitized: true, ..DiffOptions::default() };
    let changes = compare(&planned, &collected, &[], &options).unwrap();
    assert!(changes.iter().all(|c| c.action == Action::Unchanged), "{}", not_unchanged(&changes));
    // Without saying so, the missing env values and CRD schema are differences.
    let changes = compare(&planned, &collected, &[], &DiffOptions::default()).unwrap();
    let updated: Vec<String> =
        changes.iter().filter(|c| c.action == Action::Update).map(|c| c.id.to_string()).collect();
    assert_eq!(
        updated,
        [
            "CustomResourceDefinition proxyconfigs.networking.istio.io",
            "Deployment istio-system/istio-ingressgateway",
            "Deployment istio-system/istiod"
        ]
    );
}

#[test]
fn a_new_image_is_an_update_with_a_diff_naming_it() {
    let (mut planned, server) = (fixture(PLANNED), fixture(SERVER));
    let istiod = find(&mut planned, "Deployment", "istiod");
    istiod["spec"]["template"]["spec"]["containers"][0]["image"] = json!("docker.io/istio/pilot:1.31.2");
    let changes = compare(&planned, &server, &[], &DiffOptions::default()).unwrap();
    let updates: Vec<&ObjectChange> = changes.iter().filter(|c| c.action != Action::Unchanged).collect();
    assert_eq!(updates.len(), 1, "{}", not_unchanged(&changes));
    let change = updates[0];
    assert_eq!(
        (change.action, change.id.to_string()),
        (Action::Update, "Deployment istio-system/istiod".into())
    );
    let diff = &change.diff;
    assert!(diff.starts_with(
        "--- observed Deployment istio-system/istiod\n+++ planned Deployment istio-system/istiod\n@@ "
    ));
    assert!(diff.contains("\n-        image: docker.io/istio/pilot:1.31.1\n"), "{diff}");
    assert!(diff.contains("\n+        image: docker.io/istio/pilot:1.31.2\n"), "{diff}");
    let changed = diff.lines().filter(|l| l.starts_with(['-', '+'])).count();
    assert_eq!(changed, 4, "two headers and the image line, nothing else: {diff}");
    let context = diff.lines().filter(|l| l.starts_with(' ')).count();
    assert_eq!(context, 6, "three lines of context each side: {diff}");
}

#[test]
fn defaults_the_plan_sets_differently_are_updates() {
    let (mut planned, server) = (fixture(PLANNED), fixture(SERVER));
    let service = find(&mut planned, "Service", "istiod");
    service["spec"]["sessionAffinity"] = json!("ClientIP");
    let changes = compare(&planned, &server, &[], &DiffOptions::default()).unwrap();
    let change = changes.iter().find(|c| c.id.kind == "Service" && c.id.name == "istiod").unwrap();
    assert_eq!(change.action, Action::Update);
    assert!(
        change.diff.contains("-  sessionAffinity: None\n+  sessionAffinity: ClientIP\n"),
        "{}",
        change.diff
    );
}

#[test]
fn webhook_ca_bundles_and_failure_policies_that_istiod_sets_are_not_changes() {
    let (planned, mut server) = (fixture(PLANNED), fixture(SERVER));
    for (kind, name) in [
        ("MutatingWebhookConfiguration", "istio-sidecar-injector"),
        ("ValidatingWebhookConfiguration", "istio-validator-istio-system"),
    ] {
        for webhook in find(&mut server, kind, name)["webhooks"].as_array_mut().unwrap() {
            webhook["clientConfig"]["caBundle"] = json!("LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==");
            let flipped = if webhook["failurePolicy"] == "Fail" { "Ignore" } else { "Fail" };
            webhook["failurePolicy"] = json!(flipped);
        }
    }
    let changes = compare(&planned, &server, &[], &DiffOptions::default()).unwrap();
    assert!(changes.iter().all(|c| c.action == Action::Unchanged), "{}", not_unchanged(&changes));
    // Anything else in a webhook is a change.
    let validator = find(&mut server, "ValidatingWebhookConfiguration", "istio-validator-istio-system");
    validator["webhooks"][0]["clientConfig"]["service"]["path"] = json!("/other");
    let changes = compare(&planned, &server, &[], &DiffOptions::default()).unwrap();
    assert_eq!(Summary::of(&changes).update, 1);
}

#[test]
fn creates_deletes_and_objects_the_plan_does_not_mention() {
    let config_map = |name: &str, value: &str| json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "istio-system"}, "data": {"k": value}});
    let desired = vec![config_map("new", "1"), config_map("same", "1"), config_map("kept", "1")];
    let observed = vec![
        config_map("same", "1"),
        config_map("old", "1"),
        config_map("kept", "1"),
        config_map("unrelated", "1"),
    ];
    let target = |name: &str| ObjectRef {
        api_version: "v1".into(),
        kind: "ConfigMap".into(),
        namespace: Some("istio-system".into()),
        name: name.into(),
    };
    let deletions = [target("old"), target("gone"), target("kept"), target("old")];
    let changes = compare(&desired, &observed, &deletions, &DiffOptions::default()).unwrap();
    let actions: Vec<(&str, Action)> = changes.iter().map(|c| (c.id.name.as_str(), c.action)).collect();
    assert_eq!(
        actions,
        [
            ("gone", Action::Unchanged),
            ("kept", Action::Unchanged),
            ("new", Action::Create),
            ("old", Action::Delete),
            ("same", Action::Unchanged)
        ]
    );
    let gone = &changes[0];
    assert_eq!(gone.notes, ["not in the cluster: nothing to delete"]);
    assert!(changes.iter().all(|c| c.diff.is_empty()), "text only for updates unless asked");

    let whole = DiffOptions { whole_objects: true, ..DiffOptions::default() };
    let changes = compare(&desired, &observed, &deletions, &whole).unwrap();
    let created = &changes[2].diff;
    assert!(
        created.starts_with(
            "--- observed ConfigMap istio-system/new\n+++ planned ConfigMap istio-system/new\n@@ -0,0 +1,"
        ),
        "{created}"
    );
    assert!(created.contains("\n+  name: new\n") && !created.contains("\n-"), "{created}");
    let deleted = &changes[3].diff;
    assert!(deleted.contains("\n-  name: old\n") && !deleted.contains("\n+ "), "{deleted}");
}

#[test]
fn objects_match_across_api_versions_of_a_group_but_not_across_groups() {
    let gateway = |api_version: &str| json!({"apiVersion": api_version, "kind": "Gateway", "metadata": {"name": "g", "namespace": "n"}, "spec": {"x": 1}});
    let changes = compare(
        &[gateway("networking.istio.io/v1")],
        &[gateway("networking.istio.io/v1beta1")],
        &[],
        &DiffOptions::default(),
    )
    .unwrap();
    assert_eq!(changes[0].action, Action::Update);
    assert!(
        changes[0]
            .diff
            .contains("-apiVersion: networking.istio.io/v1beta1\n+apiVersion: networking.istio.io/v1\n")
    );
    let changes = compare(
        &[gateway("networking.istio.io/v1")],
        &[gateway("gateway.networking.k8s.io/v1")],
        &[],
        &DiffOptions::default(),
    )
    .unwrap();
    assert_eq!(changes[0].action, Action::Create);
}

#[test]
fn secret_values_never_appear_in_any_output() {
    let secrets = ["c3VwZXJzZWNyZXQ=", "hunter2", "b2xkLXZhbHVl", "dG9rZW4tdmFsdWU=", "bGFzdC1hcHBsaWVk"];
    let desired = vec![json!({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
        "metadata": {"name": "cacerts", "namespace": "istio-system"},
        "data": {"ca-cert.pem": secrets[0]}, "stringData": {"token": secrets[1]}})];
    let live = vec![json!({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
        "metadata": {"name": "cacerts", "namespace": "istio-system", "resourceVersion": "7",
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": format!("{{\"data\":{{\"x\":\"{}\"}}}}", secrets[4])}},
        "data": {"ca-cert.pem": secrets[2], "old-key": secrets[3]}})];
    let target = ObjectRef {
        api_version: "v1".into(),
        kind: "Secret".into(),
        namespace: Some("istio-system".into()),
        name: "cacerts".into(),
    };
    let mut outputs = Vec::new();
    for options in [DiffOptions::default(), DiffOptions { whole_objects: true, sanitized: false }] {
        for changes in [
            compare(&desired, &live, &[], &options).unwrap(),
            compare::<Value>(&desired, &[], &[], &options).unwrap(),
            compare(&[], &live, std::slice::from_ref(&target), &options).unwrap(),
        ] {
            outputs.push(serde_json::to_string(&changes).unwrap());
            outputs.push(format!("{changes:?}"));
            outputs.extend(changes.iter().map(|c| colorize(&c.diff, true)));
        }
    }
    outputs.push(normalize(&desired[0]).to_string());
    outputs.push(normalize(&live[0]).to_string());
    for output in &outputs {
        for secret in secrets {
            assert!(!output.contains(secret), "{secret} in {output}");
        }
    }
    // Key names are compared and shown; values are not.
    let change = compare(&desired, &live, &[], &DiffOptions::default()).unwrap().remove(0);
    assert_eq!(change.action, Action::Update);
    assert_eq!(change.notes, ["Secret values are neither shown nor compared: only key names are"]);
    assert!(change.diff.contains(&format!("-  old-key: {REDACTED}\n")), "{}", change.diff);
    assert!(change.diff.contains(&format!("+  token: {REDACTED}\n")), "{}", change.diff);
    assert!(change.diff.contains(&format!("   ca-cert.pem: {REDACTED}\n")), "{}", change.diff);
}

#[test]
fn secrets_from_a_snapshot_are_compared_by_key_names() {
    let desired = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "n"},
        "data": {"a": "YQ==", "b": "Yg=="}});
    let snapshot = |keys: &str| {
        json!({"apiVersion": "v1", "kind": "Secret", "type": "Opaque", "metadata": {"name": "s", "namespace": "n",
            "annotations": {SECRET_KEYS_ANNOTATION: keys}}})
    };
    for sanitized in [false, true] {
        let options = DiffOptions { sanitized, ..DiffOptions::default() };
        let same = compare_one(&desired, Some(&snapshot("a,b")), &options).unwrap();
        assert_eq!(same.action, Action::Unchanged, "sanitized {sanitized}: {}", same.diff);
        assert_eq!(same.notes.len(), 1, "the reader is told values were not compared");
        let fewer = compare_one(&desired, Some(&snapshot("a")), &options).unwrap();
        assert_eq!(fewer.action, Action::Update);
        assert!(fewer.diff.contains(&format!("+  b: {REDACTED}\n")), "{}", fewer.diff);
    }
}

#[test]
fn summary_counts_and_line() {
    let change = |action| ObjectChange {
        action,
        api_version: "v1".into(),
        id: ObjectId { kind: "ConfigMap".into(), namespace: "n".into(), name: "c".into() },
        diff: String::new(),
        notes: Vec::new(),
    };
    let mut changes: Vec<ObjectChange> = Vec::new();
    for (action, count) in
        [(Action::Create, 3), (Action::Update, 2), (Action::Delete, 1), (Action::Unchanged, 40)]
    {
        changes.extend((0..count).map(|_| change(action)));
    }
    let summary = Summary::of(&changes);
    assert_eq!(summary, Summary { create: 3, update: 2, delete: 1, unchanged: 40 });
    assert_eq!(summary_line(&summary), "3 to create, 2 to update, 1 to delete, 40 unchanged");
    assert!(summary.has_changes());
    let quiet = Summary::of(&[change(Action::Unchanged)]);
    assert_eq!(summary_line(&quiet), "0 to create, 0 to update, 0 to delete, 1 unchanged");
    assert!(!quiet.has_changes());
}

#[test]
fn order_is_install_order_then_group_namespace_name_whatever_the_input_order() {
    let (planned, server) = (fixture(PLANNED), fixture(SERVER));
    let mut desired = planned.clone();
    let istiod = find(&mut desired, "Deployment", "istiod");
    istiod["spec"]["template"]["spec"]["containers"][0]["args"] = json!(["discovery"]);
    desired
        .push(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": "b"}}));
    desired.push(json!({"apiVersion": "networking.istio.io/v1", "kind": "Gateway", "metadata": {"name": "g", "namespace": "a"}}));
    desired.push(json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway", "metadata": {"name": "g", "namespace": "z"}}));
    let first = compare(&desired, &server, &[], &DiffOptions::default()).unwrap();
    let order: Vec<String> = first.iter().map(|c| format!("{} {}", c.api_version, c.id)).collect();
    assert_eq!(
        order,
        [
            "policy/v1 PodDisruptionBudget istio-system/istiod",
            "v1 ServiceAccount istio-system/istiod",
            "v1 ConfigMap b/a",
            "v1 ConfigMap istio-system/istio",
            "apiextensions.k8s.io/v1 CustomResourceDefinition proxyconfigs.networking.istio.io",
            "v1 Service istio-system/istio-ingressgateway",
            "v1 Service istio-system/istiod",
            "apps/v1 Deployment istio-system/istio-ingressgateway",
            "apps/v1 Deployment istio-system/istiod",
            "autoscaling/v2 HorizontalPodAutoscaler istio-system/istiod",
            "gateway.networking.k8s.io/v1 Gateway z/g",
            "networking.istio.io/v1 Gateway a/g",
            "admissionregistration.k8s.io/v1 MutatingWebhookConfiguration istio-sidecar-injector",
            "admissionregistration.k8s.io/v1 ValidatingWebhookConfiguration istio-validator-istio-system",
        ]
    );
    let mut reversed_desired = desired.clone();
    reversed_desired.reverse();
    let mut reversed_server = server.clone();
    reversed_server.reverse();
    for _ in 0..3 {
        assert_eq!(
            compare(&reversed_desired, &reversed_server, &[], &DiffOptions::default()).unwrap(),
            first
        );
    }
}

#[test]
fn bad_plans_are_refused() {
    let object =
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "n"}});
    let error =
        compare::<Value>(&[object.clone(), object.clone()], &[], &[], &DiffOptions::default()).unwrap_err();
    assert_eq!(error.to_string(), "the plan applies ConfigMap n/c twice");
    let nameless = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}});
    let error = compare::<Value>(&[object, nameless], &[], &[], &DiffOptions::default()).unwrap_err();
    assert_eq!(error.to_string(), "planned object number 2 has no apiVersion, kind or metadata.name");
}

#[test]
fn changes_serialize_for_json_output() {
    let desired = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "n"}, "data": {"k": "2"}});
    let observed = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "n"}, "data": {"k": "1"}});
    let change = compare_one(&desired, Some(&observed), &DiffOptions::default()).unwrap();
    let value = serde_json::to_value(&change).unwrap();
    assert_eq!(
        value,
        json!({"action": "update", "apiVersion": "v1", "kind": "ConfigMap", "namespace": "n", "name": "c",
            "diff": "--- observed ConfigMap n/c\n+++ planned ConfigMap n/c\n@@ -1,6 +1,6 @@\n apiVersion: v1\n data:\n-  k: \"1\"\n+  k: \"2\"\n kind: ConfigMap\n metadata:\n   name: c\n"})
    );
}

#[test]
fn colour_is_added_only_when_asked() {
    let diff = "--- observed X\n+++ planned X\n@@ -1 +1 @@\n-a\n+b\n c\n";
    assert_eq!(colorize(diff, false), diff);
    let coloured = colorize(diff, true);
    assert!(coloured.contains("\u{1b}[31m-a\u{1b}[39m\n"), "{coloured:?}");
    assert!(coloured.contains("\u{1b}[32m+b\u{1b}[39m\n"), "{coloured:?}");
    assert!(coloured.contains("\u{1b}[36m@@ -1 +1 @@\u{1b}[39m\n"), "{coloured:?}");
    assert!(coloured.contains("\u{1b}[1m--- observed X\u{1b}[0m\n"), "{coloured:?}");
    assert!(coloured.ends_with("\n c\n"));
}
