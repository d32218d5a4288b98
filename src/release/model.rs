//! The Helm v3 release record, field for field as Helm serialises it (`pkg/release`), so that the
//! `helm` CLI reads what sailplan writes and sailplan reads what `helm` writes. Every level keeps the
//! fields it does not model in `other`, so a record Helm (or a newer Helm) wrote survives a status
//! change by sailplan unchanged apart from that status.
//!
//! `Debug` on [`Release`] and [`ReleaseContent`] prints identity and status only: records hold the
//! user's values and the rendered manifest, which may carry secrets.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use super::time::Timestamp;
use crate::chart::{Chart, ChartMetadata};

/// One revision of a release.
#[derive(Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Release {
    /// The release name, e.g. `istiod-1-6-14`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// Status, times and description.
    #[serde(default)]
    pub info: Info,
    /// The chart the revision was made from (top-level chart only, as Helm stores it).
    #[serde(default)]
    pub chart: ReleaseChart,
    /// The values the user supplied (not merged with the chart's defaults).
    #[serde(default, deserialize_with = "null_as_default", skip_serializing_if = "Map::is_empty")]
    pub config: Map<String, Value>,
    /// The rendered objects, as `---\n# Source: <chart>/templates/<file>\n<object>\n` documents.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub manifest: String,
    /// Helm hooks (sailplan renders none, but keeps those of records Helm wrote).
    #[serde(default, deserialize_with = "null_as_default", skip_serializing_if = "Vec::is_empty")]
    pub hooks: Vec<Hook>,
    /// The revision number, from 1.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub version: u32,
    /// The release namespace; it is also the namespace of the record.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub namespace: String,
    /// User labels of the record. Helm keeps them only as labels of the stored object, never in the
    /// JSON; the reserved keys (`name`, `owner`, `status`, `version`, `createdAt`, `modifiedAt`) are
    /// not among them.
    #[serde(skip)]
    pub labels: BTreeMap<String, String>,
    /// Fields sailplan does not model (e.g. Helm 4's `apply_method`), kept as read.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

impl fmt::Debug for Release {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Release")
            .field("name", &self.name)
            .field("namespace", &self.namespace)
            .field("version", &self.version)
            .field("status", &self.info.status)
            .field("description", &self.info.description)
            .finish_non_exhaustive()
    }
}

impl Release {
    /// The status of this revision.
    pub fn status(&self) -> Status {
        self.info.status
    }
}

/// Status and history of one revision.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Info {
    /// When revision 1 was deployed; copied to every later revision.
    #[serde(default)]
    pub first_deployed: Timestamp,
    /// When this revision was made (`helm list` shows it as UPDATED).
    #[serde(default)]
    pub last_deployed: Timestamp,
    /// When it was uninstalled; the zero time otherwise.
    #[serde(default)]
    pub deleted: Timestamp,
    /// What happened, shown by `helm history` (e.g. `Upgrade complete`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// The status.
    #[serde(default, skip_serializing_if = "Status::is_unknown")]
    pub status: Status,
    /// The chart's rendered NOTES.txt.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub notes: String,
    /// Fields sailplan does not model, kept as read. Never Helm's in-memory `resources`, which Helm
    /// cannot decode (it is dropped on read).
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// The status of a revision; the label value equals the JSON value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Not known (never written by sailplan).
    #[default]
    Unknown,
    /// The revision running in the cluster.
    Deployed,
    /// Uninstalled with the history kept.
    Uninstalled,
    /// Replaced by a later revision.
    Superseded,
    /// Failed to install, upgrade or roll back.
    Failed,
    /// Being uninstalled.
    Uninstalling,
    /// Being installed.
    PendingInstall,
    /// Being upgraded.
    PendingUpgrade,
    /// Being rolled back.
    PendingRollback,
}

impl Status {
    /// The text Helm writes, e.g. `pending-upgrade`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Unknown => "unknown",
            Status::Deployed => "deployed",
            Status::Uninstalled => "uninstalled",
            Status::Superseded => "superseded",
            Status::Failed => "failed",
            Status::Uninstalling => "uninstalling",
            Status::PendingInstall => "pending-install",
            Status::PendingUpgrade => "pending-upgrade",
            Status::PendingRollback => "pending-rollback",
        }
    }

    /// An install, upgrade or rollback is under way (or was interrupted).
    pub fn is_pending(self) -> bool {
        matches!(self, Status::PendingInstall | Status::PendingUpgrade | Status::PendingRollback)
    }

    fn is_unknown(&self) -> bool {
        *self == Status::Unknown
    }

    /// Whether Helm's state machine lets a revision in this status move to `next`:
    ///
    /// * a pending install, upgrade or rollback ends `deployed` or `failed`;
    /// * the `deployed` revision becomes `superseded` when another is deployed, and so does the
    ///   previous last revision when an uninstalled or failed release is installed again;
    /// * any revision but an uninstalled one can start uninstalling, which ends `uninstalled`.
    ///
    /// Staying in the same status is not a transition; callers treat it as done already.
    pub fn can_become(self, next: Status) -> bool {
        use Status::*;
        matches!(
            (self, next),
            (PendingInstall | PendingUpgrade | PendingRollback, Deployed | Failed)
                | (Deployed | Failed | Uninstalled, Superseded)
                | (
                    Unknown
                        | Deployed
                        | Superseded
                        | Failed
                        | PendingInstall
                        | PendingUpgrade
                        | PendingRollback,
                    Uninstalling
                )
                | (Uninstalling, Uninstalled)
        )
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The chart as stored in a release: metadata, templates (sources, never rendered again: Helm rolls
/// back from the stored manifest), default values, schema and other files.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ReleaseChart {
    /// `Chart.yaml`. Helm needs it (`helm list` prints `MISSING` without it); sailplan always writes it.
    #[serde(default)]
    pub metadata: Option<Metadata>,
    /// `Chart.lock`, as read.
    #[serde(default)]
    pub lock: Option<Value>,
    /// Files under `templates/`, by path relative to the chart.
    #[serde(default, deserialize_with = "null_as_default")]
    pub templates: Vec<File>,
    /// `values.yaml`, the chart's defaults (`helm get values --all` merges `config` over them).
    #[serde(default, deserialize_with = "null_as_default")]
    pub values: Map<String, Value>,
    /// The raw bytes of `values.schema.json`.
    #[serde(default, with = "base64_option")]
    pub schema: Option<Vec<u8>>,
    /// Every other chart file.
    #[serde(default, deserialize_with = "null_as_default")]
    pub files: Vec<File>,
    /// Fields sailplan does not model, kept as read.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

impl ReleaseChart {
    /// The stored form of a loaded chart (its subcharts are not stored, as in Helm).
    pub fn from_chart(chart: &Chart) -> ReleaseChart {
        let files = |map: &BTreeMap<String, String>| -> Vec<File> {
            map.iter()
                .map(|(name, text)| File { name: name.clone(), data: text.clone().into_bytes() })
                .collect()
        };
        ReleaseChart {
            metadata: Some(Metadata::from_chart_yaml(&chart.metadata)),
            lock: None,
            templates: files(&chart.templates),
            values: chart.values.clone(),
            schema: chart.schema.as_ref().map(|schema| schema.to_string().into_bytes()),
            files: files(&chart.files),
            other: Map::new(),
        }
    }

    /// `<name>-<version>` as `helm list` prints it in the CHART column, or `MISSING`.
    pub fn display_name(&self) -> String {
        match &self.metadata {
            Some(m) => format!("{}-{}", m.name, m.version),
            None => "MISSING".to_string(),
        }
    }
}

/// `Chart.yaml` fields as Helm stores them (JSON names equal the Chart.yaml names).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Metadata {
    /// The chart name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// The chart version.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub version: String,
    /// One line about the chart.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// `v2`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub api_version: String,
    /// The version of what the chart installs (`helm list` APP VERSION).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub app_version: String,
    /// The Kubernetes versions the chart supports.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kube_version: String,
    /// `application` or `library`.
    #[serde(default, rename = "type", skip_serializing_if = "String::is_empty")]
    pub chart_type: String,
    /// Free-form annotations.
    #[serde(default, deserialize_with = "null_as_default", skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    /// Dependencies as written in `Chart.yaml`.
    #[serde(default, deserialize_with = "null_as_default", skip_serializing_if = "Vec::is_empty")]
    pub dependencies: Vec<Value>,
    /// Other fields (`keywords`, `home`, `maintainers`, …), kept as read.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

impl Metadata {
    /// The stored metadata of a parsed `Chart.yaml`.
    pub fn from_chart_yaml(chart: &ChartMetadata) -> Metadata {
        let text = |value: &Option<String>| value.clone().unwrap_or_default();
        let dependencies = chart
            .dependencies
            .iter()
            .map(|d| {
                let mut entry = Map::new();
                entry.insert("name".into(), d.name.clone().into());
                for (key, value) in
                    [("version", &d.version), ("condition", &d.condition), ("alias", &d.alias)]
                {
                    if let Some(value) = value {
                        entry.insert(key.into(), value.clone().into());
                    }
                }
                entry.insert("repository".into(), text(&d.repository).into());
                if !d.tags.is_empty() {
                    entry.insert("tags".into(), d.tags.clone().into());
                }
                Value::Object(entry)
            })
            .collect();
        Metadata {
            name: chart.name.clone(),
            version: chart.version.clone(),
            description: text(&chart.description),
            api_version: chart.api_version.clone(),
            app_version: text(&chart.app_version),
            kube_version: text(&chart.kube_version),
            chart_type: text(&chart.chart_type),
            annotations: chart.annotations.clone(),
            dependencies,
            other: Map::new(),
        }
    }
}

/// A chart file: path relative to the chart, and content (stored base64-encoded, as Go stores bytes).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct File {
    /// E.g. `templates/deployment.yaml`.
    #[serde(default)]
    pub name: String,
    /// The content.
    #[serde(default, with = "base64_bytes")]
    pub data: Vec<u8>,
}

/// A Helm hook of a record Helm wrote.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Hook {
    /// The hook object's name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// Its kind, e.g. `Job`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
    /// The template it came from, e.g. `app/templates/migrate-job.yaml`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub path: String,
    /// The hook object as one YAML document.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub manifest: String,
    /// When it runs: `pre-install`, `post-upgrade`, ….
    #[serde(default, deserialize_with = "null_as_default", skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<String>,
    /// The last run.
    #[serde(default)]
    pub last_run: HookRun,
    /// Order among hooks of one event.
    #[serde(default, skip_serializing_if = "is_zero_weight")]
    pub weight: i64,
    /// When Helm deletes the hook object.
    #[serde(default, deserialize_with = "null_as_default", skip_serializing_if = "Vec::is_empty")]
    pub delete_policies: Vec<String>,
    /// Other fields (e.g. `output_log_policies`), kept as read.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// The last run of a hook.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct HookRun {
    /// When it started.
    #[serde(default)]
    pub started_at: Timestamp,
    /// When it ended.
    #[serde(default)]
    pub completed_at: Timestamp,
    /// `""`, `Unknown`, `Running`, `Succeeded` or `Failed`.
    #[serde(default)]
    pub phase: String,
}

/// What a new revision is made of; the store adds name, namespace, revision, status and times.
#[derive(Clone, PartialEq, Default)]
pub struct ReleaseContent {
    /// The chart.
    pub chart: ReleaseChart,
    /// The user-supplied values.
    pub config: Map<String, Value>,
    /// The manifest text (see [`super::manifest_text`]).
    pub manifest: String,
    /// The rendered NOTES.txt, if any.
    pub notes: String,
    /// User labels for the record (not the reserved keys).
    pub labels: BTreeMap<String, String>,
}

impl fmt::Debug for ReleaseContent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReleaseContent")
            .field("chart", &self.chart.display_name())
            .field("labels", &self.labels)
            .finish_non_exhaustive()
    }
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

fn is_zero_weight(n: &i64) -> bool {
    *n == 0
}

/// Go writes nil maps and slices as `null`; read that as empty.
fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// Go `[]byte` fields: a standard base64 string (`null` for nil).
mod base64_bytes {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
        match Option::<String>::deserialize(deserializer)? {
            None => Ok(Vec::new()),
            Some(text) => STANDARD.decode(text).map_err(serde::de::Error::custom),
        }
    }
}

/// An optional Go `[]byte` field: `null` when absent.
mod base64_option {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &Option<Vec<u8>>, serializer: S) -> Result<S::Ok, S::Error> {
        match bytes {
            Some(bytes) => serializer.serialize_str(&STANDARD.encode(bytes)),
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Vec<u8>>, D::Error> {
        Option::<String>::deserialize(deserializer)?
            .map(|text| STANDARD.decode(text).map_err(serde::de::Error::custom))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_spec_example_reads_and_writes_back_the_same() {
        let example = json!({"name":"web","namespace":"prod","version":3,
            "info":{"first_deployed":"2026-05-01T10:00:00Z","last_deployed":"2026-05-03T09:12:44.5Z",
                "deleted":"","description":"Upgrade complete","status":"deployed","notes":"Visit http://web"},
            "chart":{"metadata":{"name":"web","version":"1.4.0","appVersion":"2.0.1","apiVersion":"v2","type":"application"},
                "lock":null,"templates":[{"name":"templates/svc.hbs.yaml","data":"YXBpVmVyc2lvbjogdjEK"}],
                "values":{"replicas":2},"schema":null,"files":[]},
            "config":{"replicas":3},
            "manifest":"---\n# Source: web/templates/svc.yaml\napiVersion: v1\nkind: Service\nmetadata:\n  name: web\n",
            "hooks":[{"name":"web-migrate","kind":"Job","path":"web/templates/migrate.yaml","manifest":"apiVersion: batch/v1\nkind: Job\n",
                "events":["pre-upgrade"],"last_run":{"started_at":"2026-05-03T09:12:40Z","completed_at":"2026-05-03T09:12:43Z","phase":"Succeeded"},
                "weight":-5,"delete_policies":["before-hook-creation"],"output_log_policies":["hook-failed"]}],
            "apply_method":"csa"});
        let release: Release = serde_json::from_value(example.clone()).unwrap();
        assert_eq!(release.status(), Status::Deployed);
        assert_eq!(release.chart.templates[0].data, b"apiVersion: v1\n");
        assert_eq!(release.chart.display_name(), "web-1.4.0");
        assert_eq!(release.hooks[0].weight, -5);
        assert_eq!(serde_json::to_value(&release).unwrap(), example);
    }

    #[test]
    fn go_nulls_read_as_empty_and_debug_hides_values() {
        let release: Release = serde_json::from_value(json!({"name": "a", "config": null, "hooks": null,
            "chart": {"metadata": null, "templates": null, "values": null, "files": null, "schema": null},
            "info": {"status": "failed", "first_deployed": null}}))
        .unwrap();
        assert!(release.config.is_empty() && release.hooks.is_empty() && release.chart.metadata.is_none());
        assert_eq!(release.chart.display_name(), "MISSING");
        let mut secret = release.clone();
        secret.config.insert("password".into(), json!("planted-secret-value"));
        secret.manifest = "data:\n  token: planted-secret-value\n".into();
        let printed = format!("{secret:?}");
        assert!(!printed.contains("planted") && printed.contains("Failed"), "{printed}");
    }

    #[test]
    fn status_transitions_follow_helms_state_machine() {
        use Status::*;
        let all = [
            Unknown,
            Deployed,
            Uninstalled,
            Superseded,
            Failed,
            Uninstalling,
            PendingInstall,
            PendingUpgrade,
            PendingRollback,
        ];
        for from in all {
            let allowed: Vec<Status> = all.into_iter().filter(|to| from.can_become(*to)).collect();
            let expected = match from {
                PendingInstall | PendingUpgrade | PendingRollback => vec![Deployed, Failed, Uninstalling],
                Deployed => vec![Superseded, Uninstalling],
                Failed => vec![Superseded, Uninstalling],
                Uninstalled => vec![Superseded],
                Uninstalling => vec![Uninstalled],
                Superseded | Unknown => vec![Uninstalling],
            };
            assert_eq!(allowed, expected, "from {from}");
            assert_eq!(serde_json::to_value(from).unwrap(), json!(from.as_str()));
        }
    }

    #[test]
    fn chart_metadata_is_stored_with_helms_names() {
        let chart = Chart::from_files(
            "test",
            BTreeMap::from([
                (
                    "Chart.yaml".to_string(),
                    "apiVersion: v2\nname: istiod\nversion: 1.6.14\nappVersion: 1.6.14\ndependencies:\n- name: sub\n  alias: s\n".to_string(),
                ),
                ("values.schema.json".to_string(), "{\"type\": \"object\"}".to_string()),
                ("templates/cm.yaml".to_string(), "kind: ConfigMap\n".to_string()),
                ("charts/sub/Chart.yaml".to_string(), "apiVersion: v2\nname: sub\nversion: 1.0.0\n".to_string()),
                ("files/a.txt".to_string(), "a".to_string()),
            ]),
        )
        .unwrap();
        let stored = serde_json::to_value(ReleaseChart::from_chart(&chart)).unwrap();
        assert_eq!(
            stored,
            json!({"metadata": {"name": "istiod", "version": "1.6.14", "apiVersion": "v2", "appVersion": "1.6.14",
                    "dependencies": [{"name": "sub", "alias": "s", "repository": ""}]},
                "lock": null, "templates": [{"name": "templates/cm.yaml", "data": "a2luZDogQ29uZmlnTWFwCg=="}],
                "values": {}, "schema": "eyJ0eXBlIjoib2JqZWN0In0=", "files": [{"name": "files/a.txt", "data": "YQ=="}]})
        );
    }
}
