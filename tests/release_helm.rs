//! Helm release records on the real test cluster, read and written by sailplan and by the real `helm`
//! CLI: releases sailplan installs and upgrades show up in `helm list`, `helm history`, `helm get
//! manifest` and `helm get values`, `helm rollback` works on them and sailplan reads the revision helm
//! wrote; a release `helm install` made is read by sailplan and upgraded by it; objects of another
//! release, or of none, are refused by name.
//!
//! Run with `scripts/test.sh` (or `cargo test -- --ignored`, which starts a cluster for this binary).

#![allow(clippy::unwrap_used)] // integration tests: a failed unwrap is a failed test

mod support;

use std::collections::BTreeMap;

use sailplan::chart::manifest::{self, Manifest};
use sailplan::chart::{self, Capabilities, Chart, ReleaseInfo};
use sailplan::cluster::live::LiveCluster;
use sailplan::cluster::{ApplyOptions, Cluster, ObjectRef};
use sailplan::release::{self, ReleaseChart, ReleaseContent, ReleaseError, ReleaseStore, Status};
use serde_json::{Map, Value, json};
use support::{resource, run_tool, with_temp_ns};

/// A small Handlebars chart: one ConfigMap from the values, and notes.
fn demo_chart() -> Chart {
    let files = [
        (
            "Chart.yaml",
            "apiVersion: v2\nname: demo\nversion: 0.2.0\nappVersion: 1.6.14\ndescription: release records\n",
        ),
        ("values.yaml", "greeting: hello\nsize: 1\n"),
        (
            "templates/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{Release.Name}}-config\n  namespace: {{Release.Namespace}}\ndata:\n  greeting: {{quote Values.greeting}}\n",
        ),
        ("templates/NOTES.txt", "Installed {{Release.Name}}.\n"),
    ];
    let files = files.into_iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    Chart::from_files("demo", files).unwrap()
}

/// Renders the demo chart for a revision: the record's content and the stamped objects to apply.
fn render(name: &str, namespace: &str, revision: u32, greeting: &str) -> (ReleaseContent, Vec<Manifest>) {
    let chart = demo_chart();
    let mut config = Map::new();
    config.insert("greeting".into(), json!(greeting));
    let info =
        ReleaseInfo { name: name.into(), namespace: namespace.into(), revision, is_upgrade: revision > 1 };
    let capabilities = Capabilities::for_kube_version(semver::Version::new(1, 33, 0));
    let rendered = chart::render(&chart, config.clone(), &info, &capabilities).unwrap();
    let mut manifests = manifest::from_rendered(&rendered.files).unwrap();
    manifest::sort_for_install(&mut manifests);
    let content = ReleaseContent {
        chart: ReleaseChart::from_chart(&chart),
        config,
        manifest: release::manifest_text(&manifests).unwrap(),
        notes: rendered.notes.unwrap_or_default(),
        labels: BTreeMap::new(),
    };
    release::stamp(&mut manifests, name, namespace);
    (content, manifests)
}

async fn apply_all(client: &LiveCluster, manifests: &[Manifest]) {
    for m in manifests {
        client.apply(&m.object, ApplyOptions { dry_run: false, force: true }).await.unwrap();
    }
}

async fn greeting(client: &LiveCluster, namespace: &str, name: &str) -> Value {
    let config_maps = resource(client, "", "ConfigMap").await;
    let live = client.get(&config_maps, Some(namespace), name).await.unwrap().unwrap();
    live["data"]["greeting"].clone()
}

fn helm_json(args: &[&str]) -> Value {
    serde_json::from_str(&run_tool("helm", args)).unwrap()
}

/// Installs with sailplan and upgrades with sailplan: revision 1 then 2.
async fn install_and_upgrade(client: &LiveCluster, ns: &str) -> Vec<Manifest> {
    let store = ReleaseStore::new(client);
    let (content, objects) = render("demo", ns, 1, "hello");
    release::check_adoption(client, "demo", ns, &objects, &[], &[], &[]).await.unwrap();
    let pending = store.begin_install("demo", ns, content).await.unwrap();
    apply_all(client, &objects).await;
    store.mark_deployed(&pending).await.unwrap();

    let previous = release::parse_manifest(&pending.manifest, "demo").unwrap();
    let (content, objects) = render("demo", ns, 2, "bonjour");
    release::check_adoption(client, "demo", ns, &objects, &previous, &[], &[]).await.unwrap();
    let pending = store.begin_upgrade("demo", ns, content).await.unwrap();
    apply_all(client, &objects).await;
    store.mark_deployed(&pending).await.unwrap();
    objects
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a cluster: run scripts/test.sh"]
async fn helm_lists_shows_history_gets_and_rolls_back_what_sailplan_installed() {
    with_temp_ns("rel", |client, ns| async move {
        install_and_upgrade(&client, &ns).await;
        let store = ReleaseStore::new(&client);
        let stored = store.last_deployed("demo", &ns).await.unwrap().unwrap();

        let listed = helm_json(&["list", "-n", &ns, "-o", "json"]);
        let listed = listed.as_array().unwrap();
        assert_eq!(listed.len(), 1, "{listed:?}");
        assert_eq!(listed[0]["name"], "demo");
        assert_eq!(listed[0]["namespace"], ns.as_str());
        assert_eq!(listed[0]["revision"], "2");
        assert_eq!(listed[0]["status"], "deployed");
        assert_eq!(listed[0]["chart"], "demo-0.2.0");
        assert_eq!(listed[0]["app_version"], "1.6.14");

        let history = helm_json(&["history", "demo", "-n", &ns, "-o", "json"]);
        let rows: Vec<(i64, &str, &str)> = history
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["revision"].as_i64().unwrap(),
                    r["status"].as_str().unwrap(),
                    r["description"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(rows, [(1, "superseded", "Install complete"), (2, "deployed", "Upgrade complete")]);
        assert_eq!(history[1]["chart"], "demo-0.2.0");

        let manifest = run_tool("helm", &["get", "manifest", "demo", "-n", &ns]);
        assert_eq!(manifest.trim_end(), stored.manifest.trim_end());
        assert!(manifest.starts_with("---\n# Source: demo/templates/cm.yaml\n"), "{manifest}");
        assert_eq!(
            helm_json(&["get", "values", "demo", "-n", &ns, "-o", "json"]),
            json!({"greeting": "bonjour"})
        );
        assert_eq!(
            helm_json(&["get", "values", "demo", "-n", &ns, "--all", "-o", "json"]),
            json!({"greeting": "bonjour", "size": 1})
        );
        assert_eq!(run_tool("helm", &["get", "notes", "demo", "-n", &ns]).trim(), "NOTES:\nInstalled demo.");
        assert_eq!(greeting(&client, &ns, "demo-config").await, "bonjour");

        run_tool("helm", &["rollback", "demo", "1", "-n", &ns]);
        assert_eq!(greeting(&client, &ns, "demo-config").await, "hello");
        let history = store.history("demo", &ns).await.unwrap();
        let statuses: Vec<(u32, Status)> = history.iter().map(|r| (r.version, r.status())).collect();
        assert_eq!(statuses, [(1, Status::Superseded), (2, Status::Superseded), (3, Status::Deployed)]);
        let rolled_back = &history[2];
        assert_eq!(rolled_back.info.description, "Rollback to 1");
        assert_eq!(rolled_back.config, history[0].config);
        assert_eq!(rolled_back.manifest, history[0].manifest);
        assert_eq!(rolled_back.info.first_deployed, history[0].info.first_deployed);
        assert_eq!(rolled_back.chart.metadata.as_ref().unwrap().app_version, "1.6.14");

        // sailplan upgrades on top of helm's revision, and helm still reads the whole history.
        let (content, objects) = render("demo", &ns, 4, "hola");
        let pending = store.begin_upgrade("demo", &ns, content).await.unwrap();
        apply_all(&client, &objects).await;
        store.mark_deployed(&pending).await.unwrap();
        let history = helm_json(&["history", "demo", "-n", &ns, "-o", "json"]);
        let statuses: Vec<&str> =
            history.as_array().unwrap().iter().map(|r| r["status"].as_str().unwrap()).collect();
        assert_eq!(statuses, ["superseded", "superseded", "superseded", "deployed"]);
        assert_eq!(history[2]["description"], "Rollback to 1");
        assert_eq!(
            helm_json(&["get", "values", "demo", "-n", &ns, "-o", "json"]),
            json!({"greeting": "hola"})
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a cluster: run scripts/test.sh"]
async fn a_release_helm_installed_is_read_and_upgraded_by_sailplan() {
    with_temp_ns("relh", |client, ns| async move {
        let dir = tempfile::tempdir().unwrap();
        let chart = dir.path().join("demo");
        std::fs::create_dir_all(chart.join("templates")).unwrap();
        std::fs::write(chart.join("Chart.yaml"), "apiVersion: v2\nname: demo\nversion: 0.1.0\nappVersion: \"1.6.13\"\nkeywords: [test]\n").unwrap();
        std::fs::write(chart.join("values.yaml"), "greeting: hello\nsize: 1\n").unwrap();
        std::fs::write(
            chart.join("templates/cm.yaml"),
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-config\ndata:\n  greeting: {{ .Values.greeting | quote }}\n",
        )
        .unwrap();
        std::fs::write(chart.join("templates/NOTES.txt"), "Installed {{ .Release.Name }} by helm.\n").unwrap();
        run_tool(
            "helm",
            &["install", "demo", chart.to_str().unwrap(), "-n", &ns, "--set", "greeting=hallo", "--labels", "team=mesh"],
        );

        let store = ReleaseStore::new(&client);
        let history = store.history("demo", &ns).await.unwrap();
        assert_eq!(history.len(), 1);
        let installed = &history[0];
        assert_eq!((installed.version, installed.status()), (1, Status::Deployed));
        assert_eq!(installed.name, "demo");
        assert_eq!(installed.namespace, ns);
        assert_eq!(installed.info.description, "Install complete");
        assert_eq!(installed.info.notes, "Installed demo by helm.\n");
        assert_eq!(installed.config, *json!({"greeting": "hallo"}).as_object().unwrap());
        let metadata = installed.chart.metadata.as_ref().unwrap();
        assert_eq!((metadata.name.as_str(), metadata.version.as_str()), ("demo", "0.1.0"));
        assert_eq!(metadata.app_version, "1.6.13");
        assert_eq!(metadata.other["keywords"], json!(["test"]));
        assert_eq!(installed.chart.values, *json!({"greeting": "hello", "size": 1}).as_object().unwrap());
        assert_eq!(installed.labels, BTreeMap::from([("team".to_string(), "mesh".to_string())]));
        let objects = release::parse_manifest(&installed.manifest, "demo").unwrap();
        assert_eq!(objects.len(), 1);
        assert_eq!(objects[0].source, "demo/templates/cm.yaml");
        assert_eq!(objects[0].object["data"]["greeting"], "hallo");
        assert_eq!(store.last("demo", &ns).await.unwrap().as_ref(), Some(installed));

        // helm's objects carry helm's markers, so sailplan may take them over.
        let (mut content, objects) = render("demo", &ns, 2, "bonjour");
        content.labels.clone_from(&installed.labels);
        release::check_adoption(&client, "demo", &ns, &objects, &[], &[], &[]).await.unwrap();
        let error = store.begin_install("demo", &ns, content.clone()).await.unwrap_err();
        assert!(matches!(error, ReleaseError::InUse { version: 1, status: Status::Deployed, .. }), "{error}");
        let pending = store.begin_upgrade("demo", &ns, content).await.unwrap();
        assert_eq!(pending.info.first_deployed, installed.info.first_deployed);
        apply_all(&client, &objects).await;
        store.mark_deployed(&pending).await.unwrap();
        assert_eq!(greeting(&client, &ns, "demo-config").await, "bonjour");
        let history = helm_json(&["history", "demo", "-n", &ns, "-o", "json"]);
        let statuses: Vec<&str> = history.as_array().unwrap().iter().map(|r| r["status"].as_str().unwrap()).collect();
        assert_eq!(statuses, ["superseded", "deployed"]);
        assert_eq!(history[0]["app_version"], "1.6.13");
        assert_eq!(history[1]["app_version"], "1.6.14");
        let listed = helm_json(&["list", "-n", &ns, "-o", "json", "--selector", "team=mesh"]);
        assert_eq!(listed[0]["revision"], "2", "user labels are kept: {listed}");
        // helm's own record, rewritten by sailplan to supersede it, still reads in helm.
        let first = helm_json(&["get", "values", "demo", "-n", &ns, "--revision", "1", "-o", "json"]);
        assert_eq!(first, json!({"greeting": "hallo"}));
        run_tool("helm", &["uninstall", "demo", "-n", &ns]);
        assert!(store.history("demo", &ns).await.unwrap().is_empty());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a cluster: run scripts/test.sh"]
async fn objects_of_another_release_or_of_none_are_refused_by_name() {
    with_temp_ns("relown", |client, ns| async move {
        let (_, theirs) = render("other", &ns, 1, "x");
        apply_all(&client, &theirs).await;
        let unowned = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "demo-config", "namespace": ns}});
        client.apply(&unowned, ApplyOptions::default()).await.unwrap();

        let (_, mut ours) = render("demo", &ns, 1, "y");
        let mut foreign = theirs[0].clone();
        release::stamp(std::slice::from_mut(&mut foreign), "demo", &ns);
        ours.push(foreign);
        let error = release::check_adoption(&client, "demo", &ns, &ours, &[], &[], &[]).await.unwrap_err();
        let ReleaseError::Ownership { conflicts, .. } = &error else { panic!("{error}") };
        assert_eq!(conflicts.len(), 2, "{error}");
        let text = error.to_string();
        assert!(text.contains(&format!("ConfigMap {ns}/demo-config (v1) exists and is not owned by a Helm release")), "{text}");
        assert!(text.contains(&format!("ConfigMap {ns}/other-config (v1) belongs to release \"other\" in namespace \"{ns}\"")), "{text}");
        // A plan that adopts both takes over the unowned one only: another release's object stays refused.
        let adopt: Vec<ObjectRef> = ["demo-config", "other-config"]
            .iter()
            .map(|name| ObjectRef { api_version: "v1".into(), kind: "ConfigMap".into(), namespace: Some(ns.clone()), name: name.to_string() })
            .collect();
        let error = release::check_adoption(&client, "demo", &ns, &ours, &[], &adopt, &[]).await.unwrap_err();
        let ReleaseError::Ownership { conflicts, .. } = &error else { panic!("{error}") };
        assert_eq!(conflicts.len(), 1, "{error}");
        assert_eq!(conflicts[0].object.name, "other-config");
        // Objects the previous revision already had are not checked again.
        let previous = vec![ours[0].clone(), ours[1].clone()];
        release::check_adoption(&client, "demo", &ns, &ours, &previous, &[], &[]).await.unwrap();
        assert!(ReleaseStore::new(&client).history("demo", &ns).await.unwrap().is_empty(), "nothing was written");
    })
    .await;
}
