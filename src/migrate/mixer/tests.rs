//! The mixer-to-telemetry-v2 vectors of the migration spec (TV-21, TV-23, TV-24, TV-25) verbatim,
//! plus the forms the vectors leave out: the default Mixer configuration, legacy adapter kinds,
//! label-to-principal mapping, targets without a stats-filter route, finalize, and undo.

use serde_json::{Value, json};

use super::*;

const TV21: &str = include_str!("../../../tests/fixtures/migrations/tv21-input.yaml");
const TV23: &str = include_str!("../../../tests/fixtures/migrations/tv23-input.yaml");
const TV24: &str = include_str!("../../../tests/fixtures/migrations/tv24-input.yaml");
const TV25: &str = include_str!("../../../tests/fixtures/migrations/tv25-input.yaml");

/// TV-21's expected IstioOperator overlay, verbatim.
const TV21_EXPECTED: &str = r#"
apiVersion: install.istio.io/v1alpha1
kind: IstioOperator
spec:
  meshConfig:
    defaultConfig:
      extraStatTags: [source, destination, message]
  values:
    telemetry:
      v2:
        prometheus:
          configOverride:
            outboundSidecar:
              debug: false
              stat_prefix: istio
              definitions: [{name: double_request_count, value: "2", type: COUNTER}]
              metrics:
              - name: double_request_count
                dimensions: {reporter: "'client'", source: "node.metadata['WORKLOAD_NAME']", destination: "upstream_peer.workload_name", message: "'twice the fun!'"}
            inboundSidecar:
              debug: false
              stat_prefix: istio
              definitions: [{name: double_request_count, value: "2", type: COUNTER}]
              metrics:
              - name: double_request_count
                dimensions: {reporter: "'server'", source: "downstream_peer.workload_name", destination: "node.metadata['WORKLOAD_NAME']", message: "'twice the fun!'"}
            gateway:
              debug: false
              stat_prefix: istio
              disable_host_header_fallback: true
              definitions: [{name: double_request_count, value: "2", type: COUNTER}]
              metrics:
              - name: double_request_count
                dimensions: {reporter: "'client'", source: "node.metadata['WORKLOAD_NAME']", destination: "upstream_peer.workload_name", message: "'twice the fun!'"}
"#;

const TV23_EXPECTED: &str = r#"
- {apiVersion: security.istio.io/v1beta1, kind: AuthorizationPolicy, metadata: {name: denyjohn, namespace: istio-system}, spec: {action: DENY, rules: [{when: [{key: "request.headers[x-user]", values: [john]}]}]}}
"#;

const TV24_EXPECTED: &str = r#"
- {apiVersion: security.istio.io/v1beta1, kind: AuthorizationPolicy, metadata: {name: checkip, namespace: istio-system}, spec: {selector: {matchLabels: {istio: ingressgateway}}, action: ALLOW, rules: [{from: [{source: {ipBlocks: ["10.57.0.0/16"]}}]}]}}
"#;

/// A 1.4 default install's Mixer: the components, and the standard configuration (abridged to one
/// instance, handler and rule of each sort).
const DEFAULT_MIXER: &str = r#"
- {apiVersion: apps/v1, kind: Deployment, metadata: {name: istio-telemetry, namespace: istio-system}, spec: {template: {metadata: {labels: {istio: mixer}}, spec: {serviceAccountName: istio-mixer-service-account}}}}
- {apiVersion: apps/v1, kind: Deployment, metadata: {name: istio-policy, namespace: istio-system}, spec: {template: {metadata: {labels: {istio: mixer}}, spec: {serviceAccountName: istio-mixer-service-account}}}}
- {apiVersion: v1, kind: Service, metadata: {name: istio-telemetry, namespace: istio-system}}
- {apiVersion: v1, kind: Service, metadata: {name: istio-policy, namespace: istio-system}}
- {apiVersion: autoscaling/v2beta1, kind: HorizontalPodAutoscaler, metadata: {name: istio-telemetry, namespace: istio-system}}
- {apiVersion: policy/v1beta1, kind: PodDisruptionBudget, metadata: {name: istio-policy, namespace: istio-system}}
- {apiVersion: v1, kind: ServiceAccount, metadata: {name: istio-mixer-service-account, namespace: istio-system}}
- {apiVersion: rbac.authorization.k8s.io/v1, kind: ClusterRole, metadata: {name: istio-mixer-istio-system}}
- {apiVersion: rbac.authorization.k8s.io/v1, kind: ClusterRoleBinding, metadata: {name: istio-mixer-admin-role-binding-istio-system}}
- {apiVersion: networking.istio.io/v1alpha3, kind: DestinationRule, metadata: {name: istio-policy, namespace: istio-system}, spec: {host: istio-policy.istio-system.svc.cluster.local}}
- {apiVersion: networking.istio.io/v1alpha3, kind: DestinationRule, metadata: {name: istio-telemetry, namespace: istio-system}, spec: {host: istio-telemetry.istio-system.svc.cluster.local}}
- {apiVersion: apiextensions.k8s.io/v1, kind: CustomResourceDefinition, metadata: {name: rules.config.istio.io}, spec: {group: config.istio.io}}
- {apiVersion: apiextensions.k8s.io/v1, kind: CustomResourceDefinition, metadata: {name: gateways.networking.istio.io}, spec: {group: networking.istio.io}}
- {apiVersion: config.istio.io/v1alpha2, kind: attributemanifest, metadata: {name: istioproxy, namespace: istio-system}, spec: {attributes: {source.ip: {valueType: IP_ADDRESS}}}}
- {apiVersion: config.istio.io/v1alpha2, kind: handler, metadata: {name: kubernetesenv, namespace: istio-system}, spec: {compiledAdapter: kubernetesenv}}
- {apiVersion: config.istio.io/v1alpha2, kind: instance, metadata: {name: attributes, namespace: istio-system}, spec: {compiledTemplate: kubernetes}}
- {apiVersion: config.istio.io/v1alpha2, kind: rule, metadata: {name: kubeattrgenrulerule, namespace: istio-system}, spec: {actions: [{handler: kubernetesenv, instances: [attributes]}]}}
- apiVersion: config.istio.io/v1alpha2
  kind: instance
  metadata: {name: requestduration, namespace: istio-system}
  spec:
    compiledTemplate: metric
    params:
      value: response.duration | "0ms"
      dimensions:
        reporter: conditional((context.reporter.kind | "inbound") == "outbound", "source", "destination")
- apiVersion: config.istio.io/v1alpha2
  kind: handler
  metadata: {name: prometheus, namespace: istio-system}
  spec:
    compiledAdapter: prometheus
    params:
      metricsExpirationPolicy: {metricsExpiryDuration: 10m}
      metrics:
      - {name: request_duration_seconds, instance_name: requestduration.instance.istio-system, kind: DISTRIBUTION, label_names: [reporter], buckets: {explicit_buckets: {bounds: [0.005, 0.01]}}}
- {apiVersion: config.istio.io/v1alpha2, kind: rule, metadata: {name: promhttp, namespace: istio-system}, spec: {match: '(context.protocol == "http" || context.protocol == "grpc") && (match((request.useragent | "-"), "kube-probe*") == false)', actions: [{handler: prometheus, instances: [requestduration]}]}}
- {apiVersion: config.istio.io/v1alpha2, kind: instance, metadata: {name: accesslog, namespace: istio-system}, spec: {compiledTemplate: logentry, params: {severity: '"Info"', variables: {sourceIp: 'source.ip | ip("0.0.0.0")'}}}}
- {apiVersion: config.istio.io/v1alpha2, kind: handler, metadata: {name: stdio, namespace: istio-system}, spec: {compiledAdapter: stdio, params: {outputAsJson: true}}}
- {apiVersion: config.istio.io/v1alpha2, kind: rule, metadata: {name: stdio, namespace: istio-system}, spec: {match: context.protocol == "http" || context.protocol == "grpc", actions: [{handler: stdio, instances: [accesslog]}]}}
- {apiVersion: v1, kind: ConfigMap, metadata: {name: istio, namespace: istio-system}, data: {mesh: "disablePolicyChecks: true\n"}}
- {apiVersion: apps/v1, kind: Deployment, metadata: {name: productpage, namespace: default}, spec: {template: {metadata: {labels: {app: productpage}}}}}
"#;

fn objects(text: &str) -> Vec<Value> {
    match crate::yaml::parse_one(text).unwrap() {
        Value::Array(items) => items,
        other => panic!("expected a list, got {other}"),
    }
}

fn target(version: &str) -> semver::Version {
    crate::version::parse_lenient(version).unwrap()
}

fn run(objects: &[Value], version: &str) -> ChangeSet {
    MixerToTelemetryV2.run(&Input::new(&objects.iter().collect::<Vec<_>>(), target(version)))
}

fn codes(changes: &ChangeSet) -> Vec<&'static str> {
    changes.findings.iter().map(|f| f.code).collect()
}

/// The created objects without their provenance annotation (the vectors omit it), sorted.
fn stripped(changes: &ChangeSet) -> Vec<Value> {
    let mut out: Vec<Value> = changes
        .create
        .iter()
        .map(|o| {
            let mut o = o.clone();
            let annotations = o["metadata"]["annotations"].as_object_mut().unwrap();
            assert!(annotations.remove(CONVERTED_FROM_ANNOTATION).is_some(), "{o} has no provenance");
            if annotations.is_empty() {
                o["metadata"].as_object_mut().unwrap().remove("annotations");
            }
            o
        })
        .collect();
    out.sort_by_key(|o| o.to_string());
    out
}

fn sorted(mut objects: Vec<Value>) -> Vec<Value> {
    objects.sort_by_key(|o| o.to_string());
    objects
}

/// Applying and then undoing `changes` gives back `input` exactly.
fn assert_round_trip(input: &[Value], changes: &ChangeSet) {
    let applied = changes.apply(input);
    assert_eq!(applied.len(), input.len() + changes.create.len() - changes.delete.len());
    assert_eq!(sorted(changes.undo(&applied)), sorted(input.to_vec()));
}

#[test]
fn tv21_custom_metric_becomes_config_override_values_for_1_8() {
    let input = objects(TV21);
    let changes = run(&input, "1.8.6");
    let overlay = crate::yaml::parse_one(TV21_EXPECTED).unwrap();
    // The IstioOperator overlay in our values tree: spec.values.telemetry -> telemetry and
    // spec.meshConfig -> meshConfig; telemetry v2 and its Prometheus part are always switched on.
    let mut expected = json!({"telemetry": overlay["spec"]["values"]["telemetry"], "meshConfig": overlay["spec"]["meshConfig"]});
    expected["telemetry"]["v2"]["enabled"] = json!(true);
    expected["telemetry"]["v2"]["prometheus"]["enabled"] = json!(true);
    assert_eq!(changes.values, expected);
    assert!(changes.create.is_empty() && changes.update.is_empty() && changes.delete.is_empty());
    assert_eq!(codes(&changes), ["I-TEL-DEFAULT-UNKNOWN", "W-TEL-PEER-ATTR-VERSION"]);
    assert_eq!(changes.gates, [GATE_METRICS]);
    assert!(changes.values.get("meshConfig").unwrap().get("disablePolicyChecks").is_none());
}

#[test]
fn tv21_for_1_6_is_an_envoy_filter_pinned_to_1_6_proxies() {
    let input = objects(TV21);
    let changes = run(&input, "1.6.14");
    let overlay = crate::yaml::parse_one(TV21_EXPECTED).unwrap();
    let overrides = &overlay["spec"]["values"]["telemetry"]["v2"]["prometheus"]["configOverride"];
    assert_eq!(changes.create.len(), 1);
    let filter = &changes.create[0];
    assert_eq!(filter["kind"], "EnvoyFilter");
    assert_eq!(filter["metadata"]["namespace"], "istio-system");
    assert_eq!(
        filter["metadata"]["annotations"][CONVERTED_FROM_ANNOTATION],
        "rule istio-system/doubleprom, instance istio-system/doublerequestcount, handler istio-system/doublehandler"
    );
    let patches = filter["spec"]["configPatches"].as_array().unwrap();
    let contexts: Vec<&str> = patches.iter().map(|p| p["match"]["context"].as_str().unwrap()).collect();
    assert_eq!(contexts, ["SIDECAR_OUTBOUND", "SIDECAR_INBOUND", "GATEWAY"]);
    for (patch, role) in patches.iter().zip(["outboundSidecar", "inboundSidecar", "gateway"]) {
        assert_eq!(patch["match"]["proxy"]["proxyVersion"], "^1\\.6.*");
        assert_eq!(patch["match"]["listener"]["filterChain"]["filter"]["subFilter"]["name"], "istio.stats");
        assert_eq!(patch["patch"]["operation"], "MERGE");
        let configuration =
            patch["patch"]["value"]["typed_config"]["value"]["config"]["configuration"].as_str().unwrap();
        assert_eq!(serde_json::from_str::<Value>(configuration).unwrap(), overrides[role], "{role}");
    }
    assert_eq!(
        changes.values,
        json!({"telemetry": {"v2": {"enabled": true, "prometheus": {"enabled": true}}}, "meshConfig": overlay["spec"]["meshConfig"]})
    );
    assert_eq!(codes(&changes), ["I-TEL-DEFAULT-UNKNOWN", "W-TEL-PEER-ATTR-VERSION"]);
    assert_round_trip(&input, &changes);
}

#[test]
fn tv21_has_no_route_on_1_5() {
    let changes = run(&objects(TV21), "1.5.10");
    assert!(changes.create.is_empty());
    assert!(changes.values["telemetry"]["v2"]["prometheus"].get("configOverride").is_none());
    assert!(codes(&changes).contains(&"E-TEL-TARGET"), "{:?}", codes(&changes));
}

#[test]
fn tv23_header_denier_becomes_a_root_namespace_deny_policy() {
    let input = objects(TV23);
    let changes = run(&input, "1.6.14");
    assert_eq!(stripped(&changes), objects(TV23_EXPECTED));
    assert_eq!(codes(&changes), ["I-POL-STATUS-MESSAGE-LOST"]);
    assert_eq!(
        changes.create[0]["metadata"]["annotations"][CONVERTED_FROM_ANNOTATION],
        "rule istio-system/denyjohn, handler istio-system/denierhandler, instance istio-system/denyrequest"
    );
    assert_eq!(changes.values["meshConfig"], json!({"disablePolicyChecks": true}));
    assert_eq!(changes.gates, [GATE_POLICY_OFF, GATE_AUTHZ_TCP]);
    assert_round_trip(&input, &changes);
}

#[test]
fn tv24_ip_whitelist_becomes_an_allow_policy_on_the_gateway() {
    let input = objects(TV24);
    let changes = run(&input, "1.6.14");
    assert_eq!(stripped(&changes), objects(TV24_EXPECTED));
    assert_eq!(codes(&changes), ["W-POL-SOURCE-IP", "W-POL-CHECK-LOCATION"]);
    assert_round_trip(&input, &changes);
}

#[test]
fn tv25_quota_is_reported_not_converted() {
    let input = objects(TV25);
    let changes = run(&input, "1.6.14");
    assert!(changes.create.is_empty());
    assert_eq!(codes(&changes), ["E-POL-QUOTA-MANUAL", "W-MIXER-QUOTASPECBINDING-PANIC"]);
    let quota = &changes.findings[0];
    assert_eq!(quota.object.as_ref().unwrap().name, "quota");
    assert!(quota.message.contains("500 per 1s (1 overrides)"), "{}", quota.message);
    assert!(quota.message.contains("QuotaSpec istio-system/request-count"), "{}", quota.message);
    assert_eq!(changes.values["meshConfig"], json!({"disablePolicyChecks": true}));
}

#[test]
fn no_mixer_gives_an_empty_change_set() {
    let empty = run(&[], "1.6.14");
    assert_eq!(empty, ChangeSet::default());
    assert_eq!(empty.values, Value::Null);
    let unrelated =
        objects(r#"[{apiVersion: v1, kind: Service, metadata: {name: web, namespace: default}}]"#);
    assert_eq!(run(&unrelated, "1.6.14"), ChangeSet::default());
    assert_eq!(
        MixerToTelemetryV2
            .finalize(&Input::new(&unrelated.iter().collect::<Vec<_>>(), target("1.8.6")))
            .delete,
        Vec::<Value>::new()
    );
}

#[test]
fn the_default_configuration_needs_no_objects_but_warns_about_dashboards_and_logs() {
    let input = objects(DEFAULT_MIXER);
    let changes = run(&input, "1.6.14");
    assert!(changes.create.is_empty(), "{:?}", changes.create);
    assert_eq!(codes(&changes), ["W-TEL-DASHBOARDS", "W-TEL-ACCESSLOG"]);
    assert_eq!(changes.findings[0].object.as_ref().unwrap().to_string(), "handler istio-system/prometheus");
    assert_eq!(changes.findings[1].object.as_ref().unwrap().name, "stdio");
    assert_eq!(
        changes.values,
        json!({
            "telemetry": {"v2": {"enabled": true, "prometheus": {"enabled": true}}},
            "meshConfig": {"disablePolicyChecks": true, "accessLogFile": "/dev/stdout", "accessLogEncoding": "JSON"},
        })
    );
    assert_eq!(changes.gates, [GATE_METRICS, GATE_POLICY_OFF]);
    // Without the configuration, the Deployment alone still means Mixer telemetry.
    let bare: Vec<Value> = input.iter().filter(|o| !is_config(o)).cloned().collect();
    let changes = run(&bare, "1.7.8");
    assert_eq!(codes(&changes), ["W-TEL-DASHBOARDS"]);
    assert_eq!(
        changes.findings[0].object.as_ref().unwrap().to_string(),
        "Deployment istio-system/istio-telemetry"
    );
    // 1.8 has no disablePolicyChecks field any more.
    assert!(run(&bare, "1.8.6").values.get("meshConfig").is_none());
}

#[test]
fn finalize_removes_mixer_after_a_backup_and_crds_only_for_1_8() {
    let mut input = objects(DEFAULT_MIXER);
    input.extend(objects(TV25));
    let names = |changes: &ChangeSet| -> Vec<String> {
        changes.delete.iter().map(|o| ObjectId::of(o).to_string()).collect()
    };
    let at_1_7 = MixerToTelemetryV2.finalize(&Input::new(&input.iter().collect::<Vec<_>>(), target("1.7.8")));
    assert_eq!(at_1_7.backup, at_1_7.delete);
    let deleted = names(&at_1_7);
    for expected in [
        "Deployment istio-system/istio-telemetry",
        "Deployment istio-system/istio-policy",
        "Service istio-system/istio-policy",
        "HorizontalPodAutoscaler istio-system/istio-telemetry",
        "PodDisruptionBudget istio-system/istio-policy",
        "ServiceAccount istio-system/istio-mixer-service-account",
        "ClusterRole istio-mixer-istio-system",
        "ClusterRoleBinding istio-mixer-admin-role-binding-istio-system",
        "DestinationRule istio-system/istio-policy",
        "DestinationRule istio-system/istio-telemetry",
        "rule istio-system/quota",
        "QuotaSpecBinding istio-system/request-count",
        "attributemanifest istio-system/istioproxy",
    ] {
        assert!(deleted.contains(&expected.to_string()), "{expected} not in {deleted:?}");
    }
    let config_objects = input.iter().filter(|o| is_config(o)).count();
    assert_eq!(deleted.len(), 11 + config_objects, "nothing else: {deleted:?}");
    assert!(!deleted.iter().any(|d| d.contains("CustomResourceDefinition")
        || d.contains("productpage")
        || d.contains("ConfigMap")));
    let at_1_8 = MixerToTelemetryV2.finalize(&Input::new(&input.iter().collect::<Vec<_>>(), target("1.8.6")));
    let deleted_1_8 = names(&at_1_8);
    assert!(deleted_1_8.contains(&"CustomResourceDefinition rules.config.istio.io".to_string()));
    assert!(!deleted_1_8.contains(&"CustomResourceDefinition gateways.networking.istio.io".to_string()));
    assert_eq!(deleted_1_8.len(), deleted.len() + 1);
    assert_round_trip(&input, &at_1_8);
}

#[test]
fn legacy_kinds_resolve_like_the_generic_ones() {
    // The bookinfo `-crd` samples: adapter- and template-specific kinds, `name.kind` references.
    let legacy = objects(
        r#"
- {apiVersion: config.istio.io/v1alpha2, kind: denier, metadata: {name: denyreviewsv3handler, namespace: default}, spec: {status: {code: 7, message: Not allowed}}}
- {apiVersion: config.istio.io/v1alpha2, kind: checknothing, metadata: {name: denyreviewsv3request, namespace: default}, spec: null}
- {apiVersion: config.istio.io/v1alpha2, kind: rule, metadata: {name: denyreviewsv3, namespace: default}, spec: {match: 'destination.labels["app"] == "ratings" && source.namespace == "test"', actions: [{handler: denyreviewsv3handler.denier, instances: [denyreviewsv3request.checknothing]}]}}
"#,
    );
    let changes = run(&legacy, "1.6.14");
    assert_eq!(
        stripped(&changes),
        objects(
            r#"[{apiVersion: security.istio.io/v1beta1, kind: AuthorizationPolicy, metadata: {name: denyreviewsv3, namespace: default}, spec: {selector: {matchLabels: {app: ratings}}, action: DENY, rules: [{from: [{source: {namespaces: [test]}}]}]}}]"#
        )
    );
    assert_eq!(codes(&changes), ["W-POL-REQUIRES-MTLS", "I-POL-STATUS-MESSAGE-LOST"]);
    // A reference to a handler the input does not hold.
    let broken: Vec<Value> = legacy.into_iter().filter(|o| o["kind"] != "denier").collect();
    assert_eq!(codes(&run(&broken, "1.6.14")), ["E-MIXER-REF-UNRESOLVED"]);
}

#[test]
fn source_labels_become_service_account_principals() {
    let mut input = objects(
        r#"
- {apiVersion: config.istio.io/v1alpha2, kind: handler, metadata: {name: whitelist, namespace: default}, spec: {compiledAdapter: listchecker, params: {overrides: [v1, v2], blacklist: false}}}
- {apiVersion: config.istio.io/v1alpha2, kind: instance, metadata: {name: appversion, namespace: default}, spec: {compiledTemplate: listentry, params: {value: 'source.labels["version"]'}}}
- {apiVersion: config.istio.io/v1alpha2, kind: rule, metadata: {name: checkversion, namespace: default}, spec: {match: 'destination.labels["app"] == "ratings"', actions: [{handler: whitelist, instances: [appversion]}]}}
"#,
    );
    assert_eq!(codes(&run(&input, "1.6.14")), ["E-POL-LIST-MANUAL"], "no pods: no service accounts");
    input.extend(objects(
        r#"
- {apiVersion: apps/v1, kind: Deployment, metadata: {name: reviews-v1, namespace: default}, spec: {template: {metadata: {labels: {app: reviews, version: v1}}, spec: {serviceAccountName: bookinfo-reviews}}}}
- {apiVersion: apps/v1, kind: Deployment, metadata: {name: reviews-v3, namespace: default}, spec: {template: {metadata: {labels: {app: reviews, version: v3}}, spec: {serviceAccountName: bookinfo-reviews}}}}
- {apiVersion: v1, kind: Pod, metadata: {name: productpage-v1-abc, namespace: default, labels: {app: productpage, version: v1}}, spec: {serviceAccountName: bookinfo-productpage}}
"#,
    ));
    let changes = run(&input, "1.6.14");
    assert_eq!(
        stripped(&changes)[0]["spec"],
        json!({"selector": {"matchLabels": {"app": "ratings"}}, "action": "ALLOW", "rules": [{"from": [{"source": {"principals": ["cluster.local/ns/default/sa/bookinfo-productpage", "cluster.local/ns/default/sa/bookinfo-reviews"]}}]}]})
    );
    assert_eq!(codes(&changes), ["W-POL-REQUIRES-MTLS", "W-POL-PRINCIPAL-OVERBROAD"]);
    assert!(changes.findings[1].message.contains("bookinfo-reviews"));
}

#[test]
fn inexpressible_policy_is_withheld_whole() {
    let input = objects(
        r#"
- {apiVersion: config.istio.io/v1alpha2, kind: handler, metadata: {name: deny, namespace: istio-system}, spec: {compiledAdapter: denier}}
- {apiVersion: config.istio.io/v1alpha2, kind: instance, metadata: {name: nothing, namespace: istio-system}, spec: {compiledTemplate: checknothing}}
- {apiVersion: config.istio.io/v1alpha2, kind: rule, metadata: {name: a, namespace: istio-system}, spec: {match: 'request.path == "/admin" && (request.headers["x-user"] | "") == ""', actions: [{handler: deny, instances: [nothing]}]}}
- {apiVersion: config.istio.io/v1alpha2, kind: rule, metadata: {name: b, namespace: istio-system}, spec: {match: 'request.path == "/a" || request.path == "/b"', actions: [{handler: deny, instances: [nothing]}]}}
- {apiVersion: config.istio.io/v1alpha2, kind: rule, metadata: {name: c, namespace: istio-system}, spec: {match: 'request.path.startsWith("/admin") && request.method != "GET"', actions: [{handler: deny, instances: [nothing]}]}}
- {apiVersion: config.istio.io/v1alpha2, kind: rule, metadata: {name: d, namespace: istio-system}, spec: {actions: [{handler: deny, instances: [nothing]}], requestHeaderOperations: [{name: x-a, values: [b]}]}}
- {apiVersion: security.istio.io/v1beta1, kind: AuthorizationPolicy, metadata: {name: d, namespace: istio-system}, spec: {}}
"#,
    );
    let changes = run(&input, "1.6.14");
    assert_eq!(
        codes(&changes),
        [
            "E-POL-MATCH-UNSUPPORTED",
            "E-POL-MATCH-UNSUPPORTED",
            "I-POL-STATUS-MESSAGE-LOST",
            "E-POL-HEADER-OPERATIONS",
            "E-NAME-COLLISION"
        ]
    );
    assert_eq!(changes.create.len(), 1, "only rule c converts");
    assert_eq!(
        changes.create[0]["spec"]["rules"],
        json!([{"to": [{"operation": {"paths": ["/admin*"], "notMethods": ["GET"]}}]}])
    );
}

#[test]
fn custom_metric_losses_are_reported_and_untranslatable_metrics_withheld() {
    let input = objects(
        r#"
- apiVersion: config.istio.io/v1alpha2
  kind: instance
  metadata: {name: bytes, namespace: default}
  spec: {compiledTemplate: metric, params: {value: response.code, dimensions: {proto: context.protocol, peer: source.ip, owner: source.owner}}}
- apiVersion: config.istio.io/v1alpha2
  kind: instance
  metadata: {name: codes, namespace: default}
  spec: {compiledTemplate: metric, params: {value: "1", dimensions: {response_code: response.code | 200, reporter: context.reporter.kind}}}
- apiVersion: config.istio.io/v1alpha2
  kind: prometheus
  metadata: {name: custom, namespace: default}
  spec:
    metrics:
    - {name: weird, instance_name: bytes.instance.default, kind: COUNTER, label_names: [proto, peer, owner]}
    - {name: codes_seen, namespace: shop, instance_name: codes.instance.default, kind: DISTRIBUTION, label_names: [response_code, reporter], buckets: {linear_buckets: {num_finite_buckets: 5, width: 100, offset: 100}}}
    - {name: codes_total, instance_name: codes.instance.default, kind: COUNTER, label_names: []}
- {apiVersion: config.istio.io/v1alpha2, kind: rule, metadata: {name: prom, namespace: default}, spec: {match: 'context.protocol == "http"', actions: [{handler: custom.prometheus, instances: [bytes, codes]}]}}
"#,
    );
    let changes = run(&input, "1.7.8");
    assert_eq!(
        codes(&changes),
        ["E-TEL-ATTR", "W-TEL-BUCKETS-LOST", "W-TEL-PREFIX", "W-TEL-MATCH-LOST"],
        "{:#?}",
        changes.findings
    );
    let outbound = &changes.values["telemetry"]["v2"]["prometheus"]["configOverride"]["outboundSidecar"];
    assert_eq!(
        outbound["definitions"],
        json!([{"name": "codes_seen", "value": "1", "type": "HISTOGRAM"}, {"name": "codes_total", "value": "1", "type": "COUNTER"}])
    );
    assert_eq!(
        outbound["metrics"],
        json!([{"name": "codes_seen", "dimensions": {"response_code": "string(has(response.code) ? response.code : 200)", "reporter": "'outbound'"}}])
    );
    assert!(
        changes.values["meshConfig"]["defaultConfig"].is_null(),
        "no new tags: response_code and reporter are standard"
    );
    // With allow-partial, the translatable labels of the first metric go through.
    let refs: Vec<&Value> = input.iter().collect();
    let mut options = Input::new(&refs, target("1.7.8"));
    options.options.allow_partial = true;
    let partial = MixerToTelemetryV2.run(&options);
    let outbound = &partial.values["telemetry"]["v2"]["prometheus"]["configOverride"]["outboundSidecar"];
    assert_eq!(
        outbound["metrics"][0],
        json!({"name": "weird", "dimensions": {"proto": "request.protocol", "peer": "source.address"}})
    );
    assert_eq!(partial.values["meshConfig"]["defaultConfig"]["extraStatTags"], json!(["proto", "peer"]));
    assert!(codes(&partial).contains(&"W-TEL-VALUE-DOMAIN"));
}

#[test]
fn other_adapters_need_a_human() {
    let input = objects(
        r#"
- {apiVersion: config.istio.io/v1alpha2, kind: handler, metadata: {name: opa, namespace: istio-system}, spec: {compiledAdapter: opa, params: {policy: ["package mixerauthz"]}}}
- {apiVersion: config.istio.io/v1alpha2, kind: instance, metadata: {name: authz, namespace: istio-system}, spec: {compiledTemplate: authorization}}
- {apiVersion: config.istio.io/v1alpha2, kind: handler, metadata: {name: remote, namespace: istio-system}, spec: {adapter: prometheus-nosession, connection: {address: "adapter:8080"}}}
- {apiVersion: config.istio.io/v1alpha2, kind: instance, metadata: {name: count, namespace: istio-system}, spec: {template: metric, params: {value: "1"}}}
- {apiVersion: config.istio.io/v1alpha2, kind: fluentd, metadata: {name: logs, namespace: istio-system}, spec: {address: "fluentd:24224"}}
- {apiVersion: config.istio.io/v1alpha2, kind: logentry, metadata: {name: entry, namespace: istio-system}, spec: {severity: '"info"'}}
- {apiVersion: config.istio.io/v1alpha2, kind: rule, metadata: {name: authz, namespace: istio-system}, spec: {actions: [{handler: opa, instances: [authz]}]}}
- {apiVersion: config.istio.io/v1alpha2, kind: rule, metadata: {name: oop, namespace: istio-system}, spec: {actions: [{handler: remote.istio-system, instances: [count.instance.istio-system]}]}}
- {apiVersion: config.istio.io/v1alpha2, kind: rule, metadata: {name: fluentd, namespace: istio-system}, spec: {actions: [{handler: logs.fluentd, instances: [entry.logentry]}]}}
- {apiVersion: config.istio.io/v1alpha2, kind: HTTPAPISpec, metadata: {name: api, namespace: default}, spec: {apiKeys: [{query: key}]}}
"#,
    );
    let changes = run(&input, "1.6.14");
    assert_eq!(
        codes(&changes),
        ["E-POL-ADAPTER-MANUAL", "E-TEL-ADAPTER-MANUAL", "E-TEL-ADAPTER-MANUAL", "W-MIXER-HTTPAPISPEC"]
    );
    assert!(changes.create.is_empty());
    assert_eq!(changes.values["meshConfig"]["disablePolicyChecks"], true);
}
