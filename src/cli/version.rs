//! `sailplan version list`: the catalog as a table (or JSON), with each version's upgrade edges.

use std::fmt::Write as _;
use std::process::ExitCode;

use clap::Subcommand;

use super::OutputFormat;
use super::output::write_stdout;
use crate::catalog::{Catalog, Release};
use crate::yaml;

/// `version` subcommands.
#[derive(Debug, Subcommand)]
pub enum VersionCommand {
    /// List catalogued Istio versions, their features and allowed upgrade edges
    List {
        /// Output format
        #[arg(short = 'o', long = "output", value_enum, default_value = "text")]
        output: OutputFormat,
    },
}

pub fn run(command: &VersionCommand) -> anyhow::Result<ExitCode> {
    let VersionCommand::List { output } = command;
    let catalog = Catalog::embedded()?;
    let text = match output {
        OutputFormat::Json => format!("{}\n", serde_json::to_string_pretty(catalog)?),
        OutputFormat::Yaml => yaml::to_string(&serde_json::to_value(catalog)?)?,
        OutputFormat::Text => table(catalog),
    };
    write_stdout(&text)?;
    Ok(ExitCode::SUCCESS)
}

fn features(release: &Release) -> String {
    let f = &release.features;
    let flags = [
        (f.istiod, "istiod"),
        (f.mixer_available, "mixer"),
        (f.telemetry_v2_default, "telemetry-v2"),
        (f.sds_default, "sds"),
        (f.gateway_sds_default, "gateway-sds"),
        (f.alpha_authn_honoured, "alpha-authn"),
        (f.revisions, "revisions"),
        (f.revision_tags, "revision-tags"),
    ];
    flags.iter().filter(|(on, _)| *on).map(|(_, name)| *name).collect::<Vec<_>>().join(",")
}

fn range(text: &str) -> &str {
    if text.is_empty() { "-" } else { text }
}

fn table(catalog: &Catalog) -> String {
    let rows: Vec<[String; 6]> = catalog
        .versions
        .iter()
        .map(|r| {
            [
                r.version.to_string(),
                if r.renderable { "yes".to_string() } else { "recognised only".to_string() },
                format!("{}-{}", r.kubernetes.min, r.kubernetes.max),
                features(r),
                range(&r.upgrades.in_place).to_string(),
                range(&r.upgrades.canary).to_string(),
            ]
        })
        .collect();
    let header = ["VERSION", "INSTALL", "KUBERNETES", "FEATURES", "IN-PLACE FROM", "CANARY FROM"];
    let mut widths = header.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.len());
        }
    }
    let mut out = String::new();
    let mut line = |cells: &[&str]| {
        let padded: Vec<String> = cells.iter().zip(widths).map(|(c, w)| format!("{c:w$}")).collect();
        let _ = writeln!(out, "{}", padded.join("  ").trim_end());
    };
    line(&header);
    for row in &rows {
        line(&row.iter().map(String::as_str).collect::<Vec<_>>());
    }
    out
}
