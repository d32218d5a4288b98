//! Structural checks over every renderable version and every profile: valid, uniquely named,
//! ownership-stamped objects in the control-plane namespace; revision-scoped names; version-gated
//! CRD sets; Kubernetes API versions the target cluster serves.

#![allow(clippy::unwrap_used)] // integration tests: a failed unwrap is a failed test

use std::collections::BTreeSet;

use assert_cmd::Command;
use sailplan::catalog::Catalog;
use sailplan::chart::Capabilities;
use sailplan::chart::manifest::Manifest;
use sailplan::render::{MeshRequest, RenderedMesh, render_mesh};
use sailplan::values::ValueOptions;

const PROFILES: [&str; 6] = ["default", "demo", "empty", "minimal", "preview", "remote"];

/// Kinds our charts create that are not namespaced.
const CLUSTER_SCOPED: [&str; 6] = [
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleBinding",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
    "MeshPolicy",
];

fn request(version: &str, profile: &str) -> MeshRequest {
    let mut set = Vec::new();
    if profile == "remote" {
        set.push("global.remotePilotAddress=istiod.primary.example.com".to_string());
    }
    MeshRequest {
        overlay: Default::default(),
        profile: profile.to_string(),
        version: version.to_string(),
        revision: None,
        namespace: "istio-system".to_string(),
        values: ValueOptions { set, ..Default::default() },
        kube_version: None,
        allow_unsupported_kubernetes: false,
        charts_dir: None,
    }
}

fn render(request: &MeshRequest) -> RenderedMesh {
    render_mesh(request)
        .unwrap_or_else(|e| panic!("{} {} {:?}: {e}", request.version, request.profile, request.revision))
}

fn renderable_versions() -> Vec<String> {
    Catalog::embedded()
        .unwrap()
        .versions
        .iter()
        .filter(|r| r.renderable)
        .map(|r| r.version.to_string())
        .collect()
}

fn names(mesh: &RenderedMesh, kind: &str) -> BTreeSet<String> {
    mesh.manifests().filter(|m| m.kind() == kind).map(|m| m.name().to_string()).collect()
}

fn check_object(m: &Manifest, release: &str, component: &str, version: &str) {
    let what = format!("{} {} ({})", m.kind(), m.name(), m.source);
    if CLUSTER_SCOPED.contains(&m.kind()) {
        assert_eq!(m.namespace(), "", "{what} is cluster-scoped and must not set a namespace");
    } else {
        assert_eq!(m.namespace(), "istio-system", "{what} must be in the release namespace");
    }
    let metadata = &m.object["metadata"];
    assert_eq!(metadata["labels"]["app.kubernetes.io/managed-by"], "Helm", "{what}");
    assert_eq!(metadata["labels"]["sailplan.dev/component"], component, "{what}");
    assert_eq!(metadata["labels"]["sailplan.dev/version"], version, "{what}");
    assert_eq!(metadata["annotations"]["meta.helm.sh/release-name"], release, "{what}");
    assert_eq!(metadata["annotations"]["meta.helm.sh/release-namespace"], "istio-system", "{what}");
}

#[test]
fn every_version_and_profile_renders_valid_stamped_objects() {
    for version in renderable_versions() {
        for profile in PROFILES {
            let mesh = render(&request(&version, profile));
            for component in &mesh.components {
                assert!(
                    !component.manifests.is_empty(),
                    "{version} {profile}: {} renders nothing",
                    component.release
                );
                for m in &component.manifests {
                    check_object(m, &component.release, component.component.key, &version);
                }
            }
            let expected: &[&str] = match profile {
                "default" | "preview" => &["istio-base", "istiod", "istio-ingress"],
                "demo" => &["istio-base", "istiod", "istio-ingress", "istio-egress"],
                "minimal" | "remote" => &["istio-base", "istiod"],
                _ => &[],
            };
            let releases: Vec<&str> = mesh.components.iter().map(|c| c.release.as_str()).collect();
            assert_eq!(releases, expected, "{version} {profile}");
        }
    }
}

#[test]
fn api_versions_are_ones_the_target_cluster_serves() {
    for version in renderable_versions() {
        for kube in [None, Some("1.33.0")] {
            let mut req = request(&version, "demo");
            req.kube_version = kube.map(str::to_string);
            req.allow_unsupported_kubernetes = true;
            let mesh = render(&req);
            let served = Capabilities::for_kube_version(mesh.kube_version.clone()).api_versions;
            for m in mesh.manifests() {
                let api = m.api_version();
                let group = api.rsplit_once('/').map_or("", |(g, _)| g);
                if group.ends_with("istio.io") {
                    continue;
                }
                assert!(
                    served.iter().any(|s| s == api),
                    "{version} on Kubernetes {}: {} {} uses {api}",
                    mesh.kube_version,
                    m.kind(),
                    m.name()
                );
            }
        }
    }
}

#[test]
fn revisioned_control_plane_names_and_selectors() {
    let mut req = request("1.6.14", "minimal");
    req.revision = Some("1-6-14".to_string());
    let mesh = render(&req);
    assert_eq!(mesh.components[1].release, "istiod-1-6-14");
    let istiod = &mesh.components[1].manifests;
    for kind in ["Deployment", "Service", "MutatingWebhookConfiguration"] {
        let found: Vec<&str> = istiod.iter().filter(|m| m.kind() == kind).map(Manifest::name).collect();
        assert!(!found.is_empty(), "istiod renders a {kind}");
        assert!(found.iter().all(|n| n.ends_with("-1-6-14")), "{kind} names carry the revision: {found:?}");
    }
    let configmaps = names(&mesh, "ConfigMap");
    assert!(
        configmaps.contains("istio-1-6-14") && configmaps.contains("istio-sidecar-injector-1-6-14"),
        "{configmaps:?}"
    );
    let webhook = istiod.iter().find(|m| m.kind() == "MutatingWebhookConfiguration").unwrap();
    let selector = &webhook.object["webhooks"][0]["namespaceSelector"];
    let expressions =
        selector["matchExpressions"].as_array().expect("a revisioned webhook selects by expression");
    assert!(
        expressions
            .iter()
            .any(|e| e["key"] == "istio.io/rev" && e["operator"] == "In" && e["values"][0] == "1-6-14"),
        "{selector}"
    );
    assert!(
        expressions.iter().any(|e| e["key"] == "istio-injection" && e["operator"] == "DoesNotExist"),
        "{selector}"
    );
    let deployment = istiod.iter().find(|m| m.kind() == "Deployment").unwrap();
    assert_eq!(deployment.object["metadata"]["labels"]["istio.io/rev"], "1-6-14");
}

#[test]
fn revision_names_hold_for_every_revision_capable_version() {
    let catalog = Catalog::embedded().unwrap();
    for release in catalog.versions.iter().filter(|r| r.renderable && r.features.revisions) {
        let mut req = request(&release.version.to_string(), "default");
        req.revision = Some("canary".to_string());
        let mesh = render(&req);
        let istiod = mesh.components.iter().find(|c| c.component.key == "istiod").unwrap();
        for m in istiod.manifests.iter().filter(|m| {
            ["Deployment", "Service", "ConfigMap", "MutatingWebhookConfiguration"].contains(&m.kind())
        }) {
            assert!(
                m.name().ends_with("-canary") || m.name().contains("-canary-"),
                "{}: {} {}",
                release.version,
                m.kind(),
                m.name()
            );
        }
    }
}

#[test]
fn revision_tags_from_1_10() {
    let mut req = request("1.10", "minimal");
    req.values.set.push("istiod.revisionTags={prod-stable}".to_string());
    let mesh = render(&req);
    assert!(names(&mesh, "MutatingWebhookConfiguration").contains("istio-revision-tag-prod-stable"));
    let mut old = request("1.9", "minimal");
    old.values.set.push("istiod.revisionTags={prod-stable}".to_string());
    let error = render_mesh(&old).unwrap_err().to_string();
    assert!(error.contains("1.10"), "{error}");
}

#[test]
fn crd_sets_follow_the_version_timeline() {
    let crds = |version: &str| names(&render(&request(version, "minimal")), "CustomResourceDefinition");
    let has = |set: &BTreeSet<String>, suffix: &str| set.iter().any(|n| n.ends_with(suffix));
    let v15 = crds("1.5");
    assert!(
        has(&v15, ".authentication.istio.io") && has(&v15, ".rbac.istio.io") && has(&v15, ".config.istio.io")
    );
    assert!(v15.contains("peerauthentications.security.istio.io"));
    let v16 = crds("1.6");
    assert!(
        !has(&v16, ".authentication.istio.io")
            && has(&v16, ".rbac.istio.io")
            && v16.contains("workloadentries.networking.istio.io")
    );
    let v17 = crds("1.7");
    assert!(!has(&v17, ".rbac.istio.io") && has(&v17, ".config.istio.io"));
    let v18 = crds("1.8");
    assert!(!has(&v18, ".config.istio.io") && v18.contains("workloadgroups.networking.istio.io"));
    assert!(crds("1.12").contains("wasmplugins.extensions.istio.io"));
    assert!(crds("latest").contains("telemetries.telemetry.istio.io"));
}

#[test]
fn mixer_only_before_1_8() {
    let mut req = request("1.7", "default");
    req.values.set.push("mixer.enabled=true".to_string());
    let mesh = render(&req);
    let deployments = names(&mesh, "Deployment");
    assert!(deployments.contains("istio-telemetry"), "{deployments:?}");
    assert!(names(&mesh, "CustomResourceDefinition").contains("adapters.config.istio.io"));
    let mut req = request("1.8", "default");
    req.values.set.push("mixer.enabled=true".to_string());
    let error = render_mesh(&req).unwrap_err().to_string();
    assert!(error.contains("Mixer was removed in Istio 1.8"), "{error}");
}

#[test]
fn cli_output_is_byte_identical_and_output_dir_has_a_kustomization() {
    let run = |extra: &[&str]| {
        let mut cmd = Command::cargo_bin("sailplan").unwrap();
        cmd.args(["render", "--version", "1.6.14", "--revision", "1-6-14"]).args(extra);
        let output = cmd.output().unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        output.stdout
    };
    let first = run(&[]);
    assert_eq!(first, run(&[]), "two renders are byte-identical");
    assert!(String::from_utf8_lossy(&first).starts_with("---\n# Source: base/templates/"));

    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    run(&["--output-dir", out.to_str().unwrap()]);
    let kustomization = std::fs::read_to_string(out.join("kustomization.yaml")).unwrap();
    let listed: Vec<&str> = kustomization.lines().filter_map(|l| l.strip_prefix("- ")).collect();
    let documents = String::from_utf8_lossy(&first).matches("# Source: ").count();
    assert_eq!(listed.len(), documents, "one file per object");
    for file in &listed {
        let text = std::fs::read_to_string(out.join(file)).unwrap();
        assert!(text.starts_with("---\n# Source: "), "{file}");
    }
    assert!(listed.contains(&"istiod-1-6-14/deployment-istiod-1-6-14.yaml"), "{listed:?}");
}

#[test]
fn prometheus_config_override_replaces_the_stats_filter_configuration_from_1_7() {
    let role_config = |role: &str| serde_json::json!({"debug": false, "stat_prefix": "istio", "metrics": [{"name": "requests_total", "dimensions": {"role": format!("'{role}'")}}]});
    let mut req = request("1.8", "minimal");
    for role in ["inboundSidecar", "outboundSidecar", "gateway"] {
        req.values
            .json
            .push(format!("istiod.telemetry.v2.prometheus.configOverride.{role}={}", role_config(role)));
    }
    let mesh = render(&req);
    let filters: Vec<&Manifest> = mesh
        .manifests()
        .filter(|m| m.kind() == "EnvoyFilter" && m.name().contains("stats-filter-1."))
        .collect();
    assert_eq!(filters.len(), 4, "HTTP and TCP stats filters for 1.7 and 1.8 proxies");
    for filter in filters {
        for patch in filter.object["spec"]["configPatches"].as_array().unwrap() {
            let role = match patch["match"]["context"].as_str().unwrap() {
                "SIDECAR_INBOUND" => "inboundSidecar",
                "SIDECAR_OUTBOUND" => "outboundSidecar",
                _ => "gateway",
            };
            let config = &patch["patch"]["value"]["typed_config"]["value"]["config"]["configuration"];
            // 1.7+ proxies wrap the JSON in a StringValue; older ones take the string itself.
            let json = config.get("value").unwrap_or(config).as_str().unwrap();
            let parsed: serde_json::Value = serde_json::from_str(json).unwrap();
            assert_eq!(parsed, role_config(role), "{} {role}", filter.name());
        }
    }
    // Before 1.7 the chart has no such values: the default configuration stays.
    let mut req = request("1.6", "minimal");
    req.values
        .json
        .push(format!("istiod.telemetry.v2.prometheus.configOverride.gateway={}", role_config("gateway")));
    let mesh = render(&req);
    let stats = mesh.manifests().find(|m| m.name() == "stats-filter-1.6").unwrap();
    let configuration = &stats.object["spec"]["configPatches"][2]["patch"]["value"]["typed_config"]["value"]
        ["config"]["configuration"];
    assert_eq!(
        configuration,
        r#"{"debug": "false", "stat_prefix": "istio", "disable_host_header_fallback": true}"#
    );
}
