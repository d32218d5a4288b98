//! `sailplan migrate list|show|run`: versioned migrations, offline. `run` converts YAML files (the
//! objects to convert plus context such as the gateway Deployments) and prints the converted objects
//! on stdout and findings on stderr, deterministically, so GitOps users can run it over a config
//! repository. Secret values are never printed: a generated Secret says where each key comes from.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;
use serde_json::{Value, json};

use super::output::{print_warning, write_stdout};
use super::{OutputFormat, WithHint};
use crate::catalog::Catalog;
use crate::chart::manifest::{self, Manifest};
use crate::migrate::{self, Input};
use crate::snapshot::Snapshot;

/// `migrate` subcommands.
#[derive(Debug, Subcommand)]
pub enum MigrateCommand {
    /// List the migrations, in the order an upgrade runs them
    List {
        /// Output format
        #[arg(short = 'o', long = "output", value_enum, default_value = "text")]
        output: OutputFormat,
    },
    /// Show one migration's metadata
    Show {
        /// The migration id
        id: String,
    },
    /// Convert YAML files offline and print the result
    Run {
        /// The migration id
        id: String,
        /// YAML files (or `kubectl get -o yaml` output, or snapshots) to convert; repeatable
        #[arg(short = 'f', long = "filename", value_name = "FILE", required = true)]
        files: Vec<PathBuf>,
        /// Extra objects used only for lookups (Deployments, Services, Pods); repeatable
        #[arg(long = "context-file", value_name = "FILE")]
        context: Vec<PathBuf>,
        /// The Istio version the result is for (default: the newest catalogued)
        #[arg(long, default_value = "latest", value_name = "VERSION")]
        to: String,
        /// Output format: YAML objects (text/yaml) or one JSON document with objects and findings
        #[arg(short = 'o', long = "output", value_enum, default_value = "yaml")]
        output: OutputFormat,
    },
}

pub fn run(command: &MigrateCommand) -> anyhow::Result<ExitCode> {
    let migrations = migrate::all()?;
    match command {
        MigrateCommand::List { output } => {
            let text = match output {
                OutputFormat::Json => format!(
                    "{}\n",
                    serde_json::to_string_pretty(&migrations.iter().map(|m| &m.info).collect::<Vec<_>>())?
                ),
                OutputFormat::Yaml => crate::yaml::to_string(&serde_json::to_value(
                    migrations.iter().map(|m| &m.info).collect::<Vec<_>>(),
                )?)?,
                OutputFormat::Text => migrations
                    .iter()
                    .map(|m| format!("{:<34} {:<21} {}\n", m.info.id, m.info.phase.as_str(), m.info.title))
                    .collect(),
            };
            write_stdout(&text)?;
        }
        MigrateCommand::Show { id } => {
            let found = migrations
                .iter()
                .find(|m| &m.info.id == id)
                .ok_or_else(|| anyhow::anyhow!("unknown migration {id:?}"))
                .hint("run `sailplan migrate list` to see the migrations")?;
            write_stdout(&crate::yaml::to_string(&serde_json::to_value(&found.info)?)?)?;
        }
        MigrateCommand::Run { id, files, context, to, output } => {
            let found = migrations
                .iter()
                .find(|m| &m.info.id == id)
                .ok_or_else(|| anyhow::anyhow!("unknown migration {id:?}"))
                .hint("run `sailplan migrate list` to see the migrations")?;
            let target = Catalog::embedded()?
                .resolve(to)
                .hint("run `sailplan version list` to see the catalogued versions")?
                .version;
            let mut objects = Vec::new();
            for file in files.iter().chain(context) {
                objects.extend(Snapshot::read(file)?.objects);
            }
            // Secret values never leave sailplan: converted Secrets name their sources instead.
            for object in &mut objects {
                if object.get("kind").and_then(Value::as_str) == Some("Secret") {
                    crate::collect::sanitize(object);
                }
            }
            let changes = found.transform.run(&Input { objects: &objects, target });
            let converted: Vec<Value> = changes.create.iter().chain(&changes.update).cloned().collect();
            match output {
                OutputFormat::Json => {
                    let document = json!({"migration": id, "target": to, "objects": converted, "delete": changes.delete, "findings": changes.findings});
                    write_stdout(&format!("{}\n", serde_json::to_string_pretty(&document)?))?;
                }
                OutputFormat::Yaml | OutputFormat::Text => {
                    for f in &changes.findings {
                        let object = f.object.as_ref().map(|o| format!(" {o}:")).unwrap_or_default();
                        let line = format!("{}{object} {} (hint: {})", f.code, f.message, f.hint);
                        match f.severity {
                            crate::analyze::Severity::Error => eprintln!("error: {line}"),
                            _ => print_warning(&line),
                        }
                    }
                    let manifests: Vec<Manifest> = converted
                        .into_iter()
                        .map(|object| Manifest { source: format!("migrate/{id}"), object })
                        .collect();
                    write_stdout(&manifest::to_helm_template(&manifests)?)?;
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
