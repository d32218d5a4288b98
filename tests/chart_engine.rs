//! The chart engine on a fixture chart with subcharts: Helm's built-in objects, conditions, tags,
//! aliases, globals, library charts, schema validation, Kubernetes constraints and error locations.

#![allow(clippy::unwrap_used)] // integration tests: a failed unwrap is a failed test

use std::collections::BTreeMap;
use std::path::Path;

use sailplan::chart::{self, Capabilities, Chart, ChartError, ReleaseInfo, manifest};
use sailplan::values::ValueOptions;
use serde_json::{Map, Value};

fn fixture() -> Chart {
    Chart::load_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/charts/app")).unwrap()
}

fn release() -> ReleaseInfo {
    ReleaseInfo { name: "rel".to_string(), namespace: "ns".to_string(), revision: 1, is_upgrade: false }
}

fn kube(minor: u64) -> Capabilities {
    Capabilities::for_kube_version(semver::Version::new(1, minor, 0))
}

fn set(exprs: &[&str]) -> Map<String, Value> {
    ValueOptions { set: exprs.iter().map(|s| (*s).to_string()).collect(), ..Default::default() }
        .merge()
        .unwrap()
}

fn objects(chart: &Chart, values: Map<String, Value>, minor: u64) -> Vec<manifest::Manifest> {
    let rendered = chart::render(chart, values, &release(), &kube(minor)).unwrap();
    manifest::from_rendered(&rendered.files).unwrap()
}

fn find<'m>(manifests: &'m [manifest::Manifest], kind: &str) -> Option<&'m manifest::Manifest> {
    manifests.iter().find(|m| m.kind() == kind)
}

#[test]
fn built_in_objects_and_files() {
    let chart = fixture();
    let rendered = chart::render(&chart, Map::new(), &release(), &kube(30)).unwrap();
    let paths: Vec<&str> = rendered.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "app/charts/db/templates/statefulset.yaml",
            "app/templates/configmap.yaml",
            "app/templates/deployment.yaml"
        ],
        "sorted by path; the tagged-off subchart and the library chart render nothing; NOTES are separate"
    );
    assert_eq!(rendered.notes.as_deref(), Some("Installed rel.\n"));
    let manifests = manifest::from_rendered(&rendered.files).unwrap();
    let cm = find(&manifests, "ConfigMap").unwrap();
    assert_eq!(cm.object["data"]["template-name"], "app/templates/configmap.yaml");
    assert_eq!(cm.object["data"]["kube"], "v1.30.0");
    assert_eq!(cm.object["data"]["raw"], "Go template text {{ .Values.x }} stays raw\n");
    assert_eq!(cm.object["data"]["upgrade"], "false");
    let deployment = find(&manifests, "Deployment").unwrap();
    assert_eq!(deployment.object["spec"]["template"]["spec"]["containers"][0]["image"], "example/app:2.0");
    assert_eq!(deployment.object["metadata"]["labels"]["app"], "app");
}

#[test]
fn subchart_values_and_globals() {
    let manifests = objects(&fixture(), Map::new(), 30);
    let db = find(&manifests, "StatefulSet").unwrap();
    let annotations = &db.object["metadata"]["annotations"];
    assert_eq!(annotations["size"], "small", "the parent's db section overrides the subchart default");
    assert_eq!(annotations["region"], "eu", "the parent's global wins over the subchart's");
    assert_eq!(annotations["tier"], "gold", "the subchart's own global fills in beneath");
    assert_eq!(annotations["root"], "false");
    assert_eq!(db.name(), "rel-db");
}

#[test]
fn conditions_decide_before_tags_and_first_boolean_path_wins() {
    let chart = fixture();
    assert!(find(&objects(&chart, set(&["db.enabled=false"]), 30), "StatefulSet").is_none());
    let fall_through = set(&["db.enabled=null", "global.dbEnabled=false"]);
    assert!(
        find(&objects(&chart, fall_through, 30), "StatefulSet").is_none(),
        "second condition path decides"
    );
    let with_cache = objects(&chart, set(&["tags.caching=true"]), 30);
    let service = find(&with_cache, "Service").expect("the tag enables the aliased subchart");
    assert_eq!(service.name(), "rel-redis", "Chart.Name is the alias");
}

#[test]
fn capabilities_select_api_versions() {
    let chart = fixture();
    assert!(find(&objects(&chart, Map::new(), 20), "PodDisruptionBudget").is_none());
    assert!(find(&objects(&chart, Map::new(), 21), "PodDisruptionBudget").is_some());
}

#[test]
fn schema_violations_point_at_the_value() {
    let error = chart::render(&fixture(), set(&["replicas=three"]), &release(), &kube(30)).unwrap_err();
    let message = error.to_string();
    assert!(matches!(error, ChartError::Schema(_)), "{message}");
    assert!(message.contains("app:\n- at '/replicas'"), "{message}");
    assert!(message.contains("\"three\""), "{message}");
}

#[test]
fn kube_version_constraint_is_enforced() {
    let error = chart::render(&fixture(), Map::new(), &release(), &kube(19)).unwrap_err().to_string();
    assert_eq!(
        error,
        "chart app requires kubeVersion: >=1.20.0-0 which is incompatible with Kubernetes v1.19.0"
    );
}

fn tiny_chart(template: &str) -> Chart {
    let files = BTreeMap::from([
        ("Chart.yaml".to_string(), "apiVersion: v2\nname: tiny\nversion: 1.0.0\n".to_string()),
        ("values.yaml".to_string(), "name: demo\n".to_string()),
        ("templates/cm.yaml".to_string(), template.to_string()),
    ]);
    Chart::from_files("tiny", files).unwrap()
}

#[test]
fn template_errors_name_file_line_and_column() {
    let chart = tiny_chart("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{Values.nmae}}\n");
    let error = chart::render(&chart, Map::new(), &release(), &kube(30)).unwrap_err().to_string();
    assert!(error.starts_with("template error in tiny/templates/cm.yaml at line 4, column 9"), "{error}");
    assert!(error.contains("Values.nmae"), "{error}");
    let chart = tiny_chart("kind: {{#if Values.name}}x\n");
    let error = chart::render(&chart, Map::new(), &release(), &kube(30)).unwrap_err().to_string();
    assert!(error.contains("tiny/templates/cm.yaml at line"), "{error}");
    let chart = tiny_chart("{{required \"name is required: set name=...\" Values.missing}}");
    let error = chart::render(&chart, Map::new(), &release(), &kube(30)).unwrap_err().to_string();
    assert!(error.contains("name is required: set name=..."), "{error}");
}

#[test]
fn invalid_chart_files_are_reported() {
    let chart_yaml = |text: &str| BTreeMap::from([("Chart.yaml".to_string(), text.to_string())]);
    let error = Chart::from_files("x", chart_yaml("apiVersion: v1\nname: x\nversion: 1.0.0\n")).unwrap_err();
    assert!(error.to_string().contains("apiVersion must be v2"), "{error}");
    let error = Chart::from_files("x", chart_yaml("name: [\n")).unwrap_err();
    assert!(error.to_string().starts_with("chart x: Chart.yaml is invalid"), "{error}");
    let error = Chart::from_files("x", BTreeMap::new()).unwrap_err();
    assert_eq!(error.to_string(), "chart x has no Chart.yaml");
    let missing_dep = chart_yaml("apiVersion: v2\nname: x\nversion: 1.0.0\ndependencies:\n  - name: gone\n");
    let chart = Chart::from_files("x", missing_dep).unwrap();
    let error = chart::render(&chart, Map::new(), &release(), &kube(30)).unwrap_err().to_string();
    assert!(error.contains("depends on gone, which is missing"), "{error}");
}

#[test]
fn rendering_is_deterministic() {
    let chart = fixture();
    let a = chart::render(&chart, set(&["tags.caching=true"]), &release(), &kube(30)).unwrap();
    let b = chart::render(&chart, set(&["tags.caching=true"]), &release(), &kube(30)).unwrap();
    assert_eq!(a.files, b.files);
}
