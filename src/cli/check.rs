//! `sailplan check`: what is running and what will break, from a live cluster or a snapshot, as text
//! (grouped by area, coloured on a terminal), JSON (a stable, documented schema) or both.
//! Exits 5 when any finding is an error.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Args;
use owo_colors::{OwoColorize, Stream};
use serde_json::json;

use super::output::write_stdout;
use super::{ClusterFlags, OutputFormat, WithHint};
use crate::analyze::{Area, Finding, Severity, check, summarize};
use crate::catalog::Catalog;
use crate::inventory::Inventory;

/// The exit code when `check` finds errors.
pub const FOUND_ERRORS: u8 = 5;

/// Arguments of `sailplan check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Read a snapshot (from `collect`, or `kubectl get -o yaml` output) instead of a live cluster
    #[arg(long, value_name = "FILE")]
    pub snapshot: Option<PathBuf>,
    /// Also check readiness for an upgrade to this Istio version
    #[arg(long, value_name = "VERSION")]
    pub to: Option<String>,
    /// Output format
    #[arg(short = 'o', long = "output", value_enum, default_value = "text")]
    pub output: OutputFormat,
    /// Also write a self-contained HTML report to this file, to share (see docs/check.md)
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Namespace of the Istio control plane (for live reads)
    #[arg(long, default_value = "istio-system", value_name = "NAMESPACE")]
    pub istio_namespace: String,
    #[command(flatten)]
    pub cluster: ClusterFlags,
}

pub fn run(args: &CheckArgs) -> anyhow::Result<ExitCode> {
    let catalog = Catalog::embedded()?;
    let target = match &args.to {
        Some(version) => Some(
            catalog
                .resolve(version)
                .hint("run `sailplan version list` to see the catalogued versions")?
                .version,
        ),
        None => None,
    };
    let (snapshot, _) =
        super::observed::read(args.snapshot.as_deref(), &args.cluster, &args.istio_namespace)?;
    let inventory = Inventory::from(snapshot);
    let findings = check(&inventory, catalog, target.as_ref());
    let text = match args.output {
        OutputFormat::Json | OutputFormat::Yaml => {
            let document = report_json(&inventory, &findings, target.as_ref());
            if args.output == OutputFormat::Json {
                format!("{}\n", serde_json::to_string_pretty(&document)?)
            } else {
                crate::yaml::to_string(&document)?
            }
        }
        OutputFormat::Text => report_text(&inventory, &findings, target.as_ref()),
    };
    if let Some(path) = &args.report {
        let html = crate::report::check_html(&report_json(&inventory, &findings, target.as_ref()));
        std::fs::write(path, html)
            .with_context(|| format!("cannot write the report to {}", path.display()))
            .hint("pass a file in a directory that exists and that you can write to")?;
        eprintln!("wrote report to {}", path.display());
    }
    write_stdout(&text)?;
    let errors = findings.iter().any(|f| f.severity == Severity::Error);
    Ok(if errors { ExitCode::from(FOUND_ERRORS) } else { ExitCode::SUCCESS })
}

/// The JSON document (schema version 1, see docs/check.md).
pub fn report_json(
    inventory: &Inventory,
    findings: &[Finding],
    target: Option<&semver::Version>,
) -> serde_json::Value {
    json!({
        "schemaVersion": 1,
        "kubernetesVersion": inventory.kubernetes_version.as_ref().map(ToString::to_string),
        "target": target.map(ToString::to_string),
        "controlPlanes": inventory.control_planes.iter().map(|c| json!({
            "revision": c.revision,
            "namespace": c.namespace,
            "legacy": c.legacy,
            "version": c.version().map(ToString::to_string),
            "components": c.components.iter().map(|(name, v)| json!({"name": name, "version": v.as_ref().map(ToString::to_string)})).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "revisionTags": inventory.revision_tags,
        "proxies": proxy_counts(inventory),
        "summary": summarize(findings),
        "findings": findings,
    })
}

/// Proxies counted by (revision, version).
fn proxy_counts(inventory: &Inventory) -> Vec<serde_json::Value> {
    let mut counts: std::collections::BTreeMap<(String, String), usize> = std::collections::BTreeMap::new();
    for proxy in &inventory.proxies {
        let key = (
            proxy.revision.clone().unwrap_or_else(|| "-".to_string()),
            proxy.version.as_ref().map_or_else(|| "?".to_string(), ToString::to_string),
        );
        *counts.entry(key).or_insert(0) += 1;
    }
    counts
        .into_iter()
        .map(|((revision, version), count)| json!({"revision": revision, "version": version, "count": count}))
        .collect()
}

fn paint(severity: Severity) -> String {
    let word = match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "info",
    };
    match severity {
        Severity::Error => word.if_supports_color(Stream::Stdout, |t| t.red().bold().to_string()).to_string(),
        Severity::Warning => {
            word.if_supports_color(Stream::Stdout, |t| t.yellow().bold().to_string()).to_string()
        }
        Severity::Info => word.if_supports_color(Stream::Stdout, |t| t.cyan().to_string()).to_string(),
    }
}

/// The text report: what runs, then findings grouped by area.
pub fn report_text(inventory: &Inventory, findings: &[Finding], target: Option<&semver::Version>) -> String {
    let mut out = String::new();
    let kube =
        inventory.kubernetes_version.as_ref().map_or_else(|| "unknown".to_string(), ToString::to_string);
    let _ = writeln!(
        out,
        "Kubernetes {kube}{}",
        target.map(|t| format!(", checking an upgrade to Istio {t}")).unwrap_or_default()
    );
    for plane in &inventory.control_planes {
        let version = plane.version().map_or_else(|| "?".to_string(), ToString::to_string);
        let layout = if plane.legacy { "microservices (pilot, galley, citadel, …)" } else { "istiod" };
        let _ = writeln!(
            out,
            "control plane {} in {}: Istio {version}, {layout}",
            plane.revision, plane.namespace
        );
    }
    for tag in &inventory.revision_tags {
        let _ = writeln!(out, "revision tag {} -> {}", tag.tag, tag.revision);
    }
    for row in proxy_counts(inventory) {
        let _ = writeln!(
            out,
            "{} proxies on revision {} at {}",
            row["count"],
            row["revision"].as_str().unwrap_or("-"),
            row["version"].as_str().unwrap_or("?")
        );
    }
    let summary = summarize(findings);
    let _ =
        writeln!(out, "\n{} errors, {} warnings, {} info", summary.errors, summary.warnings, summary.info);
    for area in Area::ALL {
        let in_area: Vec<&Finding> = findings.iter().filter(|f| f.area == area).collect();
        if in_area.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n{} ({})", area.title(), in_area.len());
        for f in in_area {
            let object = f.object.as_ref().map(|o| format!(" {o}:")).unwrap_or_default();
            let _ = writeln!(out, "  {} {}{object} {}", paint(f.severity), f.code, f.message);
            let _ = writeln!(out, "    hint: {}", f.hint);
        }
    }
    out
}
