//! Helm chart directories whose templates are Handlebars: loading (from disk or from the copies
//! embedded in the binary), rendering with Helm's built-in objects and value rules, and assembling the
//! output into ordered, ownership-stamped manifests.

mod engine;
mod fold;
pub mod helpers;
pub mod manifest;
pub mod metadata;
mod prune;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

pub use engine::{Capabilities, ReleaseInfo, RenderedChart, render};
pub use metadata::{ChartMetadata, Dependency};

use crate::values::schema::SchemaError;
use crate::yaml;

/// A loaded chart: metadata, defaults, schema, templates, other files and vendored subcharts.
#[derive(Debug, Clone)]
pub struct Chart {
    /// `Chart.yaml`.
    pub metadata: ChartMetadata,
    /// `values.yaml`, the chart's defaults.
    pub values: Map<String, Value>,
    /// `values.schema.json`, if the chart has one.
    pub schema: Option<Value>,
    /// Files under `templates/`, by path relative to the chart (`templates/deployment.yaml`).
    pub templates: BTreeMap<String, String>,
    /// Every other file, raw (never rendered), for the `fileGet` helper: `files/injection-template.yaml`.
    pub files: BTreeMap<String, String>,
    /// Subcharts found under `charts/<name>/`.
    pub subcharts: Vec<Chart>,
}

/// Why a chart could not be loaded or rendered.
#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    /// The chart directory could not be read.
    #[error("cannot read chart directory {path}: {source}")]
    Io {
        /// The directory or file.
        path: PathBuf,
        /// The I/O failure.
        #[source]
        source: std::io::Error,
    },
    /// A required chart file is missing.
    #[error("chart {origin} has no {file}")]
    MissingFile {
        /// Where the chart came from.
        origin: String,
        /// The missing file, e.g. `Chart.yaml`.
        file: &'static str,
    },
    /// `Chart.yaml` or `values.yaml` is not valid YAML or lacks required fields.
    #[error("chart {origin}: {file} is invalid: {message}")]
    InvalidFile {
        /// Where the chart came from.
        origin: String,
        /// The file at fault.
        file: String,
        /// What is wrong.
        message: String,
    },
    /// The chart's Kubernetes constraint excludes the target cluster version.
    #[error(
        "chart {chart} requires kubeVersion: {constraint} which is incompatible with Kubernetes {kube_version}"
    )]
    KubeVersion {
        /// The chart name.
        chart: String,
        /// The chart's `kubeVersion` constraint.
        constraint: String,
        /// The Kubernetes version rendered for.
        kube_version: String,
    },
    /// A dependency named in `Chart.yaml` is not vendored under `charts/`.
    #[error("chart {chart} depends on {dependency}, which is missing from its charts/ directory")]
    MissingDependency {
        /// The parent chart.
        chart: String,
        /// The subchart name.
        dependency: String,
    },
    /// A subchart's section of the parent values is not a map.
    #[error("type mismatch on {key}: the values for subchart {key} must be a map, not {found}")]
    SubchartValues {
        /// The subchart key.
        key: String,
        /// What was found.
        found: &'static str,
    },
    /// Values break the chart's schema.
    #[error(transparent)]
    Schema(#[from] SchemaError),
    /// A template failed to parse or render.
    #[error("template error in {template}{}: {message}", location(*line, *column))]
    Template {
        /// `<chart>/templates/<file>`.
        template: String,
        /// 1-based line in the template, when known.
        line: Option<usize>,
        /// 1-based column, when known.
        column: Option<usize>,
        /// What went wrong.
        message: String,
    },
    /// A rendered document is not valid YAML.
    #[error(
        "YAML parse error on {template} (document starting at line {line} of the rendered output): {message}"
    )]
    RenderedYaml {
        /// `<chart>/templates/<file>`.
        template: String,
        /// 1-based line of the rendered output where the document starts.
        line: usize,
        /// The parser's message.
        message: String,
    },
    /// A rendered document is not a Kubernetes object.
    #[error(
        "{template} (document starting at line {line} of the rendered output) is not a Kubernetes object: {problem}"
    )]
    NotAnObject {
        /// `<chart>/templates/<file>`.
        template: String,
        /// 1-based line of the rendered output where the document starts.
        line: usize,
        /// What is missing, e.g. `metadata.name is missing`.
        problem: String,
    },
    /// Two rendered documents describe the same object.
    #[error("{kind} {name:?} in namespace {namespace:?} is rendered twice: by {first} and by {second}")]
    Duplicate {
        /// Object kind.
        kind: String,
        /// Object name.
        name: String,
        /// Object namespace ("" for cluster-scoped or unset).
        namespace: String,
        /// The first template.
        first: String,
        /// The second template.
        second: String,
    },
    /// A rendered object could not be written back as YAML.
    #[error("cannot write {template} as YAML: {message}")]
    Emit {
        /// `<chart>/templates/<file>`.
        template: String,
        /// The emitter's message.
        message: String,
    },
}

fn location(line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!(" at line {l}, column {c}"),
        (Some(l), None) => format!(" at line {l}"),
        _ => String::new(),
    }
}

impl Chart {
    /// Loads a chart from a directory on disk.
    pub fn load_dir(dir: &Path) -> Result<Chart, ChartError> {
        let mut files = BTreeMap::new();
        collect_dir(dir, dir, &mut files)?;
        Chart::from_files(&dir.display().to_string(), files)
    }

    /// Loads a chart embedded in the binary.
    pub fn load_embedded(dir: &include_dir::Dir<'_>) -> Result<Chart, ChartError> {
        let mut files = BTreeMap::new();
        collect_embedded(dir, dir.path(), &mut files);
        Chart::from_files(&format!("(built-in) {}", dir.path().display()), files)
    }

    /// Builds a chart from its files, keyed by `/`-separated paths relative to the chart root.
    pub fn from_files(origin: &str, files: BTreeMap<String, String>) -> Result<Chart, ChartError> {
        let invalid = |file: &str, message: String| ChartError::InvalidFile {
            origin: origin.to_string(),
            file: file.to_string(),
            message,
        };
        let chart_yaml = files
            .get("Chart.yaml")
            .ok_or(ChartError::MissingFile { origin: origin.to_string(), file: "Chart.yaml" })?;
        let metadata: ChartMetadata =
            serde_saphyr::from_str(chart_yaml).map_err(|e| invalid("Chart.yaml", e.to_string()))?;
        if metadata.api_version != "v2" {
            return Err(invalid(
                "Chart.yaml",
                format!("apiVersion must be v2, not {:?}", metadata.api_version),
            ));
        }
        if metadata.name.is_empty()
            || metadata.name.contains(['/', '\\'])
            || metadata.name == "."
            || metadata.name == ".."
        {
            return Err(invalid("Chart.yaml", format!("{:?} is not a valid chart name", metadata.name)));
        }
        let values = match files.get("values.yaml") {
            None => Map::new(),
            Some(text) => match yaml::parse_one(text).map_err(|e| invalid("values.yaml", e.to_string()))? {
                Value::Object(map) => map,
                Value::Null => Map::new(),
                _ => {
                    return Err(invalid("values.yaml", "the top level must be a map".to_string()));
                }
            },
        };
        let schema = match files.get("values.schema.json") {
            None => None,
            Some(text) => {
                Some(serde_json::from_str(text).map_err(|e| invalid("values.schema.json", e.to_string()))?)
            }
        };
        let mut templates = BTreeMap::new();
        let mut other = BTreeMap::new();
        let mut sub_files: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        for (path, text) in files {
            if let Some(rest) = path.strip_prefix("charts/") {
                if let Some((sub, inner)) = rest.split_once('/')
                    && !sub.starts_with(['_', '.'])
                {
                    sub_files.entry(sub.to_string()).or_default().insert(inner.to_string(), text);
                }
            } else if path.starts_with("templates/") {
                templates.insert(path, text);
            } else if !matches!(
                path.as_str(),
                "Chart.yaml" | "values.yaml" | "values.schema.json" | "Chart.lock"
            ) {
                other.insert(path, text);
            }
        }
        let mut subcharts = Vec::new();
        for (dir, files) in sub_files {
            subcharts.push(Chart::from_files(&format!("{origin}/charts/{dir}"), files)?);
        }
        Ok(Chart { metadata, values, schema, templates, files: other, subcharts })
    }

    /// The chart name, as it prefixes `# Source:` paths.
    pub fn name(&self) -> &str {
        &self.metadata.name
    }
}

fn collect_dir(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) -> Result<(), ChartError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ChartError::Io { path, source }
    };
    let mut entries: Vec<_> =
        std::fs::read_dir(dir).map_err(io(dir))?.collect::<Result<_, _>>().map_err(io(dir))?;
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for entry in entries {
        let path = entry.path();
        if entry.file_type().map_err(io(&path))?.is_dir() {
            collect_dir(root, &path, out)?;
        } else {
            let text = std::fs::read_to_string(&path).map_err(io(&path))?;
            out.insert(relative_key(root, &path), strip_bom(text));
        }
    }
    Ok(())
}

fn collect_embedded(dir: &include_dir::Dir<'_>, root: &Path, out: &mut BTreeMap<String, String>) {
    for file in dir.files() {
        if let Some(text) = file.contents_utf8() {
            out.insert(relative_key(root, file.path()), strip_bom(text.to_string()));
        }
    }
    for sub in dir.dirs() {
        collect_embedded(sub, root, out);
    }
}

fn relative_key(root: &Path, path: &Path) -> String {
    let relative = path.strip_prefix(root).unwrap_or(path);
    relative.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/")
}

fn strip_bom(text: String) -> String {
    match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_string(),
        None => text,
    }
}
