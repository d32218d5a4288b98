//! `sailplan migrate list|show|run`: versioned migrations, offline. `run` converts YAML files (the
//! objects to convert plus context such as the gateway Deployments) and prints the converted objects
//! on stdout and findings on stderr, deterministically, so GitOps users can run it over a config
//! repository. Secret values are never printed: a generated Secret says where each key comes from.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Subcommand;
use serde_json::{Value, json};

use super::output::{print_warning, write_stdout};
use super::{OutputFormat, WithHint};
use crate::catalog::Catalog;
use crate::chart::manifest::{self, Manifest};
use crate::collect::sanitized;
use crate::migrate::{self, Input, Options};
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
        /// Show the migration's finalize part (what it removes once nothing uses it) instead
        #[arg(long)]
        finalize: bool,
        /// Write the control-plane values the migration sets (istiod chart values) to this file
        #[arg(long, value_name = "FILE")]
        values_out: Option<PathBuf>,
        #[command(flatten)]
        options: MigrationFlags,
    },
}

/// The choices the migration spec leaves open; the defaults are the safe ones.
#[derive(Debug, Clone, clap::Args)]
pub struct MigrationFlags {
    /// Convert alpha policies without peers (plaintext) to DISABLE instead of PERMISSIVE
    #[arg(long)]
    pub literal_mtls_off: bool,
    /// Let CORS preflight (OPTIONS) requests through the DENY policies made from JWT origins
    #[arg(long)]
    pub exempt_options: bool,
    /// Emit what converts from a source object even when another part of it does not
    #[arg(long)]
    pub allow_partial: bool,
}

impl MigrationFlags {
    /// The options these flags select.
    pub fn options(&self) -> Options {
        Options {
            literal_mtls_off: self.literal_mtls_off,
            exempt_options: self.exempt_options,
            allow_partial: self.allow_partial,
        }
    }
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
        MigrateCommand::Run { id, files, context, to, output, finalize, values_out, options } => {
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
            let objects: Vec<Arc<Value>> =
                objects
                    .into_iter()
                    .map(|o| {
                        if o.get("kind").and_then(Value::as_str) == Some("Secret") { sanitized(o) } else { o }
                    })
                    .collect();
            let objects: Vec<&Value> = objects.iter().map(Arc::as_ref).collect();
            let input = Input { objects: &objects, target, options: options.options() };
            let changes =
                if *finalize { found.transform.finalize(&input) } else { found.transform.run(&input) };
            if let Some(path) = values_out {
                let text = if changes.values.is_null() {
                    String::new()
                } else {
                    crate::yaml::to_string(&changes.values)?
                };
                std::fs::write(path, text)
                    .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))
                    .hint("check that the directory exists and is writable")?;
            } else if !changes.values.is_null() {
                print_warning(&format!(
                    "{id} also sets control-plane values; write them with --values-out FILE (shown with -o json)"
                ));
            }
            let converted: Vec<Value> = changes.create.iter().chain(&changes.update).cloned().collect();
            match output {
                OutputFormat::Json => {
                    let document = json!({"migration": id, "target": to, "objects": converted, "delete": changes.delete, "values": changes.values, "findings": changes.findings});
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
                    for object in &changes.delete {
                        eprintln!("delete (after a backup): {}", crate::inventory::ObjectId::of(object));
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
