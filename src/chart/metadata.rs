//! `Chart.yaml` (apiVersion v2): what a chart says about itself and its dependencies. Templates see it
//! as `Chart` with Helm's Go-style field names (`Chart.Name`, `Chart.AppVersion`), so a Helm user reads
//! our templates without a glossary.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// The parsed `Chart.yaml`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChartMetadata {
    /// Must be `v2`.
    pub api_version: String,
    /// The chart name; it prefixes every `# Source:` path.
    pub name: String,
    /// The chart's own SemVer version.
    pub version: String,
    /// The version of the software it installs: for our charts, the Istio version being rendered.
    #[serde(default)]
    pub app_version: Option<String>,
    /// A SemVer range the cluster's Kubernetes version must satisfy.
    #[serde(default)]
    pub kube_version: Option<String>,
    /// One line about the chart.
    #[serde(default)]
    pub description: Option<String>,
    /// `application` (default) or `library`.
    #[serde(default, rename = "type")]
    pub chart_type: Option<String>,
    /// Subcharts, shipped under `charts/<name>/`.
    #[serde(default)]
    pub dependencies: Vec<Dependency>,
    /// Free-form annotations.
    #[serde(default)]
    pub annotations: std::collections::BTreeMap<String, String>,
}

/// One `dependencies[]` entry of `Chart.yaml`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Dependency {
    /// The subchart's name (its `Chart.yaml` name).
    pub name: String,
    /// A SemVer range the subchart's version must satisfy.
    #[serde(default)]
    pub version: Option<String>,
    /// Where Helm would fetch it from; informational here (subcharts are vendored).
    #[serde(default)]
    pub repository: Option<String>,
    /// Comma-separated value paths; the first that resolves to a boolean enables or disables it.
    #[serde(default)]
    pub condition: Option<String>,
    /// Tags looked up in the parent's `tags:` values.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Renames the subchart: its values key and `Chart.Name`.
    #[serde(default)]
    pub alias: Option<String>,
}

impl Dependency {
    /// The name the subchart goes by in its parent: the alias if set.
    pub fn key(&self) -> &str {
        self.alias.as_deref().unwrap_or(&self.name)
    }
}

impl ChartMetadata {
    /// The `Chart` object templates see, with Helm's field names.
    pub fn template_object(&self, is_root: bool) -> Value {
        json!({
            "Name": self.name,
            "Version": self.version,
            "AppVersion": self.app_version.clone().unwrap_or_default(),
            "APIVersion": self.api_version,
            "KubeVersion": self.kube_version.clone().unwrap_or_default(),
            "Description": self.description.clone().unwrap_or_default(),
            "Type": self.chart_type.clone().unwrap_or_else(|| "application".to_string()),
            "Annotations": self.annotations,
            "Dependencies": self.dependencies,
            "IsRoot": is_root,
        })
    }
}
