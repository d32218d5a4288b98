//! Rendering a chart the way `helm template` does: subcharts enabled by their conditions and tags,
//! values coalesced per chart with globals copied down, each chart's schema checked, then every
//! template rendered with Helm's built-in objects (`Values`, `Release`, `Chart`, `Capabilities`,
//! `Template`). Handlebars runs in strict mode with HTML escaping off, so output is exactly the text
//! the template produced.

use std::collections::{BTreeMap, HashMap};

use handlebars::Handlebars;
use serde_json::{Map, Value, json};

use std::sync::Arc;

use handlebars::RenderErrorReason;

use super::fold::{self, Folded, LineShifts, LiteralHelper};
use super::prune;
use super::{Chart, ChartError, helpers};
use crate::parallel;
use crate::values::{merge, schema, strvals};
use crate::version::{Constraint, parse_lenient};

/// Who the render is for: Helm's `Release` object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseInfo {
    /// The release name, e.g. `istiod-1-6-14`.
    pub name: String,
    /// The release namespace.
    pub namespace: String,
    /// The release revision; 1 for a first install.
    pub revision: u32,
    /// True when upgrading an existing release.
    pub is_upgrade: bool,
}

/// What the target cluster offers: Helm's `Capabilities` object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capabilities {
    /// The Kubernetes version.
    pub kube_version: semver::Version,
    /// `group/version` strings the cluster serves.
    pub api_versions: Vec<String>,
}

/// Built-in API groups whose availability changed across the Kubernetes versions we render for:
/// `(group/version, first minor that serves it, first minor that no longer does)`.
const VERSIONED_APIS: &[(&str, u64, Option<u64>)] = &[
    ("admissionregistration.k8s.io/v1", 16, None),
    ("admissionregistration.k8s.io/v1beta1", 9, Some(22)),
    ("apiextensions.k8s.io/v1", 16, None),
    ("apiextensions.k8s.io/v1beta1", 7, Some(22)),
    ("autoscaling/v2", 23, None),
    ("autoscaling/v2beta1", 8, Some(25)),
    ("autoscaling/v2beta2", 12, Some(26)),
    ("policy/v1", 21, None),
    ("policy/v1beta1", 5, Some(25)),
    ("coordination.k8s.io/v1", 14, None),
    ("networking.k8s.io/v1", 8, None),
];

/// API groups every Kubernetes version we render for serves.
const STABLE_APIS: &[&str] = &["v1", "apps/v1", "autoscaling/v1", "rbac.authorization.k8s.io/v1", "batch/v1"];

impl Capabilities {
    /// The capabilities of a stock cluster of the given version, for client-only renders.
    pub fn for_kube_version(kube_version: semver::Version) -> Capabilities {
        let minor = kube_version.minor;
        let mut api_versions: Vec<String> = STABLE_APIS.iter().map(|s| (*s).to_string()).collect();
        api_versions.extend(
            VERSIONED_APIS
                .iter()
                .filter(|(_, from, until)| minor >= *from && until.is_none_or(|u| minor < u))
                .map(|(api, _, _)| (*api).to_string()),
        );
        api_versions.sort();
        Capabilities { kube_version, api_versions }
    }

    fn template_object(&self) -> Value {
        let v = &self.kube_version;
        json!({
            "KubeVersion": {
                "Version": format!("v{}.{}.{}", v.major, v.minor, v.patch),
                "GitVersion": format!("v{}.{}.{}", v.major, v.minor, v.patch),
                "Major": v.major.to_string(),
                "Minor": v.minor.to_string(),
            },
            "APIVersions": self.api_versions,
        })
    }
}

/// One rendered template file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedFile {
    /// `<chart>/templates/<file>` (subcharts: `<chart>/charts/<sub>/templates/<file>`).
    pub path: String,
    /// The rendered text.
    pub text: String,
}

/// The result of rendering a chart.
#[derive(Debug, Clone)]
pub struct RenderedChart {
    /// Rendered template files (partials and NOTES excluded), sorted by path.
    pub files: Vec<RenderedFile>,
    /// The root chart's rendered `templates/NOTES.txt`, if any.
    pub notes: Option<String>,
    /// The coalesced values the root chart saw.
    pub values: Map<String, Value>,
    /// Warnings Helm would print (type conflicts while coalescing, skipped conditions).
    pub warnings: Vec<String>,
}

/// A chart with its coalesced values, after subchart enablement.
struct Prepared<'a> {
    chart: &'a Chart,
    /// `<parent path>/charts/<key>` or the chart name at the root.
    path: String,
    /// The name templates see as `Chart.Name` (the alias, if any).
    name: String,
    values: Map<String, Value>,
    children: Vec<Prepared<'a>>,
}

/// Renders `chart` with the user-supplied `values` for `release` on a cluster with `capabilities`.
pub fn render(
    chart: &Chart,
    values: Map<String, Value>,
    release: &ReleaseInfo,
    capabilities: &Capabilities,
) -> Result<RenderedChart, ChartError> {
    let mut warnings = Vec::new();
    let prepared = prepare(chart, chart.name().to_string(), chart.name().to_string(), values, &mut warnings)?;
    check_kube_version(&prepared, &capabilities.kube_version)?;
    validate_schemas(&prepared)?;

    let mut registry = Handlebars::new();
    registry.set_strict_mode(true);
    registry.register_escape_fn(handlebars::no_escape);
    helpers::register(&mut registry);
    let mut jobs = Vec::new();
    let mut sources = Vec::new();
    collect_templates(&prepared, &mut sources, &mut jobs);
    registry.register_helper("fileGet", Box::new(helpers::FileGet { charts: chart_files(&prepared) }));
    let (eager, mut deferred) = prune_sources(&prepared, sources);
    let mut compiler = Compiler::default();
    compiler.compile(&eager, &mut registry)?;

    let root_values = prepared.values.clone();
    let base = json!({
        "Release": {
            "Name": release.name,
            "Namespace": release.namespace,
            "Revision": release.revision,
            "IsInstall": !release.is_upgrade,
            "IsUpgrade": release.is_upgrade,
            "Service": "Helm",
        },
        "Capabilities": capabilities.template_object(),
    });
    let mut files = Vec::new();
    let mut notes = None;
    for job in jobs {
        let mut context = base.clone();
        context["Values"] = Value::Object(job.values.clone());
        context["Chart"] = job.chart_object.clone();
        context["Template"] = json!({"Name": job.path, "BasePath": job.base_path});
        let text = match registry.render(&job.path, &context) {
            // A partial the reachability scan did not foresee: compile the rest and try again.
            Err(e) if !deferred.is_empty() && matches!(e.reason(), RenderErrorReason::PartialNotFound(_)) => {
                compiler.compile(&std::mem::take(&mut deferred), &mut registry)?;
                registry.render(&job.path, &context)
            }
            other => other,
        }
        .map_err(|e| render_error(&job.path, &e, &compiler.shifts))?;
        if job.path == format!("{}/templates/NOTES.txt", prepared.path) {
            notes = Some(text);
        } else if !job.path.ends_with("NOTES.txt") && !text.trim().is_empty() {
            files.push(RenderedFile { path: job.path, text });
        }
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(RenderedChart { files, notes, values: root_values, warnings })
}

/// Decides which subcharts are enabled and coalesces every chart's values, parents first.
fn prepare<'a>(
    chart: &'a Chart,
    path: String,
    name: String,
    user: Map<String, Value>,
    warnings: &mut Vec<String>,
) -> Result<Prepared<'a>, ChartError> {
    let mut values = merge::coalesce(&name, user, &chart.values, warnings);
    let mut children = Vec::new();
    for dependency in &chart.metadata.dependencies {
        let key = dependency.key().to_string();
        if !enabled(dependency, &values, warnings) {
            values.remove(&key);
            continue;
        }
        let sub = chart.subcharts.iter().find(|c| c.name() == dependency.name).ok_or_else(|| {
            ChartError::MissingDependency {
                chart: chart.name().to_string(),
                dependency: dependency.name.clone(),
            }
        })?;
        let mut sub_user = match values.remove(&key) {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(map)) => map,
            Some(other) => {
                return Err(ChartError::SubchartValues { key, found: strvals::describe(&other) });
            }
        };
        // Globals flow down: the parent's global wins over the subchart's own section.
        if let Some(Value::Object(parent_global)) = values.get("global") {
            let mut global = match sub_user.remove("global") {
                Some(Value::Object(map)) => map,
                _ => Map::new(),
            };
            merge::deep_merge(&mut global, parent_global.clone());
            sub_user.insert("global".to_string(), Value::Object(global));
        }
        let child = prepare(sub, format!("{path}/charts/{key}"), key.clone(), sub_user, warnings)?;
        values.insert(key, Value::Object(child.values.clone()));
        children.push(child);
    }
    Ok(Prepared { chart, path, name, values, children })
}

/// Helm's enablement: the first condition path that resolves to a boolean decides; otherwise tags
/// disable the subchart only if one of them is false and none is true; otherwise it is enabled.
fn enabled(dependency: &super::Dependency, values: &Map<String, Value>, warnings: &mut Vec<String>) -> bool {
    if let Some(condition) = &dependency.condition {
        for path in condition.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match lookup(values, path) {
                Some(Value::Bool(b)) => return *b,
                Some(Value::Null) | None => {}
                Some(other) => warnings.push(format!(
                    "warning: condition path '{path}' for chart {} returned non-bool value {other}",
                    dependency.name
                )),
            }
        }
    }
    let tags: Vec<Option<bool>> = dependency
        .tags
        .iter()
        .map(|t| lookup(values, &format!("tags.{t}")).and_then(Value::as_bool))
        .collect();
    if tags.contains(&Some(true)) {
        return true;
    }
    !tags.contains(&Some(false))
}

fn lookup<'v>(values: &'v Map<String, Value>, path: &str) -> Option<&'v Value> {
    let mut parts = path.split('.');
    let mut current = values.get(parts.next()?)?;
    for part in parts {
        current = current.as_object()?.get(part)?;
    }
    Some(current)
}

fn check_kube_version(prepared: &Prepared<'_>, kube: &semver::Version) -> Result<(), ChartError> {
    if let Some(range) = &prepared.chart.metadata.kube_version {
        let incompatible = || ChartError::KubeVersion {
            chart: prepared.name.clone(),
            constraint: range.clone(),
            kube_version: format!("v{kube}"),
        };
        let constraint = Constraint::parse(range).map_err(|e| ChartError::InvalidFile {
            origin: prepared.path.clone(),
            file: "Chart.yaml".to_string(),
            message: e.to_string(),
        })?;
        if !constraint.matches(kube) {
            return Err(incompatible());
        }
    }
    prepared.children.iter().try_for_each(|child| check_kube_version(child, kube))?;
    for dependency in &prepared.chart.metadata.dependencies {
        let (Some(range), Some(sub)) =
            (&dependency.version, prepared.chart.subcharts.iter().find(|c| c.name() == dependency.name))
        else {
            continue;
        };
        let wrong = |message: String| ChartError::InvalidFile {
            origin: prepared.path.clone(),
            file: "Chart.yaml".to_string(),
            message,
        };
        let constraint = Constraint::parse(range).map_err(|e| wrong(e.to_string()))?;
        let version = parse_lenient(&sub.metadata.version).map_err(|e| wrong(e.to_string()))?;
        if !constraint.matches(&version) {
            return Err(wrong(format!(
                "dependency {} requires version {range}, but the vendored chart is {version}",
                dependency.name
            )));
        }
    }
    Ok(())
}

fn validate_schemas(prepared: &Prepared<'_>) -> Result<(), ChartError> {
    if let Some(schema_doc) = &prepared.chart.schema {
        schema::validate(&prepared.name, schema_doc, &Value::Object(prepared.values.clone()))?;
    }
    prepared.children.iter().try_for_each(validate_schemas)
}

/// A template to render, with the context pieces that belong to its chart.
struct Job {
    path: String,
    base_path: String,
    values: Map<String, Value>,
    chart_object: Value,
}

/// A template source to compile: its registry name, its path for messages, and its text.
struct Source {
    name: String,
    path: String,
    text: String,
    is_partial: bool,
    /// Where version-gate pruning removed lines.
    pruned: LineShifts,
}

/// Lists every template and partial of a chart and its subcharts, and the jobs that render them.
fn collect_templates(prepared: &Prepared<'_>, sources: &mut Vec<Source>, jobs: &mut Vec<Job>) {
    let is_library = prepared.chart.metadata.chart_type.as_deref() == Some("library");
    let mut chart_object = prepared.chart.metadata.template_object(!prepared.path.contains("/charts/"));
    chart_object["Name"] = Value::String(prepared.name.clone());
    for (relative, text) in &prepared.chart.templates {
        let path = format!("{}/{relative}", prepared.path);
        let file_name = relative.rsplit('/').next().unwrap_or(relative);
        if let Some(partial) = file_name.strip_prefix('_') {
            // `_labels.tpl` defines the partial `labels`, usable as {{> labels}} or (include "labels" …).
            let name = partial.rsplit_once('.').map_or(partial, |(stem, _)| stem).to_string();
            sources.push(Source {
                name,
                path,
                text: text.clone(),
                is_partial: true,
                pruned: LineShifts::default(),
            });
        } else {
            sources.push(Source {
                name: path.clone(),
                path: path.clone(),
                text: text.clone(),
                is_partial: false,
                pruned: LineShifts::default(),
            });
            if !is_library {
                jobs.push(Job {
                    path,
                    base_path: format!("{}/templates", prepared.path),
                    values: prepared.values.clone(),
                    chart_object: chart_object.clone(),
                });
            }
        }
    }
    for child in &prepared.children {
        collect_templates(child, sources, jobs);
    }
}

/// Each chart's raw files by chart path, the root chart first.
fn chart_files(prepared: &Prepared<'_>) -> BTreeMap<String, BTreeMap<String, String>> {
    let mut out = BTreeMap::from([(prepared.path.clone(), prepared.chart.files.clone())]);
    for child in &prepared.children {
        out.extend(chart_files(child));
    }
    out
}

/// Splits sources into those to compile now and partials that are probably not needed.
///
/// For a chart without subcharts (all templates share one `Chart.AppVersion`), version gates that
/// cannot run are pruned first, and only partials the remaining text can reach are compiled up front;
/// the others are compiled only if a render asks for one. Charts with subcharts compile everything.
fn prune_sources(prepared: &Prepared<'_>, mut sources: Vec<Source>) -> (Vec<Source>, Vec<Source>) {
    if !prepared.children.is_empty() {
        return (sources, Vec::new());
    }
    let app_version = prepared.chart.metadata.app_version.clone().unwrap_or_default();
    for source in &mut sources {
        let (text, shifts) = prune::prune_gates(&source.text, &app_version);
        source.text = text;
        source.pruned = shifts;
    }
    let partials: BTreeMap<String, String> =
        sources.iter().filter(|s| s.is_partial).map(|s| (s.name.clone(), s.text.clone())).collect();
    let needed =
        prune::reachable(sources.iter().filter(|s| !s.is_partial).map(|s| s.text.as_str()), &partials);
    sources.into_iter().partition(|s| !s.is_partial || needed.contains(&s.name))
}

/// Compiles templates into a registry, keeping the literal runs folded out of them and the line
/// shifts needed to report errors at original line numbers.
#[derive(Default)]
struct Compiler {
    literals: Vec<String>,
    /// Per template name: (pruning shifts, folding shifts).
    shifts: HashMap<String, (LineShifts, LineShifts)>,
}

impl Compiler {
    /// Folds and compiles templates on every core: Handlebars parsing dominates rendering time (its
    /// cost grows with template length times the number of expressions), and templates compile
    /// independently.
    fn compile(&mut self, sources: &[Source], registry: &mut Handlebars<'_>) -> Result<(), ChartError> {
        let folded: Vec<Folded> = sources
            .iter()
            .map(|source| {
                let mut folded = fold::fold(&source.text, self.literals.len());
                self.literals.append(&mut folded.literals);
                folded
            })
            .collect();
        let items: Vec<(&Source, &Folded)> = sources.iter().zip(&folded).collect();
        let templates = parallel::map(
            &items,
            |(_, folded)| folded.text.len(),
            |(source, folded)| {
                handlebars::Template::compile_with_name(&folded.text, source.name.clone()).map_err(|e| {
                    let shift = |l: usize| source.pruned.original_line(folded.original_line(l));
                    template_error(&source.path, &e, shift)
                })
            },
        )?;
        for ((source, folded), template) in items.into_iter().zip(templates) {
            registry.register_template(&source.name, template);
            self.shifts.insert(source.name.clone(), (source.pruned.clone(), folded.shifts.clone()));
        }
        registry
            .register_helper(fold::LITERAL_HELPER, Box::new(LiteralHelper(Arc::new(self.literals.clone()))));
        Ok(())
    }
}

fn template_error(
    path: &str,
    error: &handlebars::TemplateError,
    original_line: impl Fn(usize) -> usize,
) -> ChartError {
    let (line, column) = error.pos().map_or((None, None), |(l, c)| (Some(original_line(l)), Some(c)));
    ChartError::Template { template: path.to_string(), line, column, message: error.reason().to_string() }
}

fn render_error(
    path: &str,
    error: &handlebars::RenderError,
    shifts: &HashMap<String, (LineShifts, LineShifts)>,
) -> ChartError {
    // An error inside a partial names the partial; say which file was being rendered too.
    let template = match &error.template_name {
        Some(name) if name != path => format!("{path} (in partial {name})"),
        _ => path.to_string(),
    };
    let name = error.template_name.as_deref().unwrap_or(path);
    let line = error.line_no.map(|l| {
        shifts.get(name).map_or(l, |(pruned, folded)| pruned.original_line(folded.original_line(l)))
    });
    ChartError::Template { template, line, column: error.column_no, message: error.reason().to_string() }
}
