//! `sailplan profile list|show`: what each installation profile enables and sets.

use std::process::ExitCode;

use clap::Subcommand;

use super::output::write_stdout;
use super::{OutputFormat, WithHint};
use crate::{profile, yaml};

/// `profile` subcommands.
#[derive(Debug, Subcommand)]
pub enum ProfileCommand {
    /// List the profiles with a one-line description each
    List {
        /// Output format
        #[arg(short = 'o', long = "output", value_enum, default_value = "text")]
        output: OutputFormat,
    },
    /// Show a profile's values overlay
    Show {
        /// The profile name
        name: String,
        /// Output format (text and yaml both print the values as YAML)
        #[arg(short = 'o', long = "output", value_enum, default_value = "yaml")]
        output: OutputFormat,
    },
}

pub fn run(command: &ProfileCommand) -> anyhow::Result<ExitCode> {
    match command {
        ProfileCommand::List { output } => {
            let profiles = profile::all()?;
            let text = match output {
                OutputFormat::Json => format!("{}\n", serde_json::to_string_pretty(&profiles)?),
                OutputFormat::Yaml => yaml::to_string(&serde_json::to_value(&profiles)?)?,
                OutputFormat::Text => {
                    let width = profiles.iter().map(|p| p.name.len()).max().unwrap_or(0);
                    profiles.iter().map(|p| format!("{:width$}  {}\n", p.name, p.description)).collect()
                }
            };
            write_stdout(&text)?;
        }
        ProfileCommand::Show { name, output } => {
            let found = profile::load(name).hint("run `sailplan profile list` to see the profiles")?;
            let text = match output {
                OutputFormat::Json => format!("{}\n", serde_json::to_string_pretty(&found)?),
                OutputFormat::Yaml | OutputFormat::Text => {
                    format!(
                        "# {}\n{}",
                        found.description,
                        yaml::to_string(&serde_json::Value::Object(found.values))?
                    )
                }
            };
            write_stdout(&text)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
