//! `sailplan plan`: from the observed state (a snapshot or the live cluster) and a target, the
//! upgrade plan as YAML (or JSON) on stdout or in `--out`, and a readable summary on stderr.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};

use super::migrate::MigrationFlags;
use super::output::write_stdout;
use super::{ClusterFlags, OutputFormat, ValueFlags, WithHint};
use crate::catalog::Strategy;
use crate::inventory::Inventory;
use crate::plan::model::{DataPlanePolicy, Plan};
use crate::plan::{GatePolicy, PlanRequest, plan, summary};
use crate::snapshot::Selection;

/// `--strategy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StrategyFlag {
    /// Install the new version as a revision beside the old one
    Canary,
    /// Replace the control plane under the same names
    InPlace,
}

/// The flags that describe a plan (shared with `diff`).
#[derive(Debug, Args)]
pub struct PlanFlags {
    /// The Istio version to upgrade to (`1.6`, `1.6.14`, `latest`)
    #[arg(long, value_name = "VERSION")]
    pub to: Option<String>,
    /// Installation profile
    #[arg(long, default_value = "default", value_name = "PROFILE")]
    pub profile: String,
    #[command(flatten)]
    pub values: ValueFlags,
    /// Strategy of the last hop (default: canary where the catalog allows it, in place for patches)
    #[arg(long, value_enum)]
    pub strategy: Option<StrategyFlag>,
    /// Namespaces per data-plane batch
    #[arg(long, default_value_t = 5, value_name = "N")]
    pub batch_size: usize,
    /// Pause after each data-plane batch
    #[arg(long, default_value = "30s", value_name = "DURATION")]
    pub pause: String,
    /// Namespaces to move first, in this order (comma-separated); the rest follow by name
    #[arg(long, value_delimiter = ',', value_name = "NS,...")]
    pub namespace_order: Vec<String>,
    /// Plan even though `check` finds errors (the plan is then not blocked)
    #[arg(long)]
    pub allow_errors: bool,
    /// Prometheus for the metric gates (telemetry-v2-metrics), e.g. http://prometheus.istio-system:9090
    #[arg(long, value_name = "URL")]
    pub prometheus: Option<String>,
    /// Let these gates pass when they have no data to decide from (written into the plan as
    /// noData: pass); repeatable or comma-separated, e.g. gateway-tls-handshake,authz-tcp-scoped
    #[arg(long, value_delimiter = ',', value_name = "GATE,...")]
    pub accept_no_data: Vec<String>,
    #[command(flatten)]
    pub migration: MigrationFlags,
    /// Read a snapshot (from `collect`, or `kubectl get -o yaml` output) instead of a live cluster
    #[arg(long, value_name = "FILE")]
    pub snapshot: Option<PathBuf>,
    /// Namespace of the Istio control plane (for live reads)
    #[arg(long, default_value = "istio-system", value_name = "NAMESPACE")]
    pub istio_namespace: String,
    #[command(flatten)]
    pub cluster: ClusterFlags,
}

/// Arguments of `sailplan plan`.
#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub plan: PlanFlags,
    /// Write the plan to this file instead of stdout
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Plan file format
    #[arg(short = 'o', long = "output", value_enum, default_value = "yaml")]
    pub output: OutputFormat,
}

impl PlanFlags {
    /// The plan request the flags describe, for a state observed from `observed_from`.
    pub fn request(&self, observed_from: &str) -> anyhow::Result<PlanRequest> {
        let to = self
            .to
            .clone()
            .ok_or_else(|| anyhow::anyhow!("no target version"))
            .hint("pass --to VERSION (see `sailplan version list`), or --plan FILE")?;
        Ok(PlanRequest {
            to,
            profile: self.profile.clone(),
            values: self.values.options(),
            strategy: self.strategy.map(|s| match s {
                StrategyFlag::Canary => Strategy::Canary,
                StrategyFlag::InPlace => Strategy::InPlace,
            }),
            data_plane: DataPlanePolicy {
                batch_size: self.batch_size.max(1),
                pause: self.pause.clone(),
                namespace_order: self.namespace_order.clone(),
            },
            migration_options: self.migration.options(),
            allow_errors: self.allow_errors,
            gate_policy: GatePolicy {
                prometheus: self.prometheus.clone(),
                accept_no_data: self.accept_no_data.clone(),
            },
            observed_from: observed_from.to_string(),
            charts_dir: None,
        })
    }

    /// Observes and plans; returns the plan and what was observed.
    pub fn make(&self) -> anyhow::Result<(Plan, Inventory)> {
        self.request("")?;
        let (snapshot, observed_from) = super::observed::read_selected(
            self.snapshot.as_deref(),
            Some(&Selection::Planning),
            &self.cluster,
            &self.istio_namespace,
        )?;
        let request = self.request(observed_from)?;
        let inventory = Inventory::from(snapshot);
        let plan = plan(&inventory, &request)
            .hint("check the target with `sailplan version list` and the mesh with `sailplan check`")?;
        Ok((plan, inventory))
    }
}

/// The plan file's text.
pub fn to_text(plan: &Plan, format: OutputFormat) -> anyhow::Result<String> {
    Ok(match format {
        OutputFormat::Json => format!("{}\n", serde_json::to_string_pretty(plan)?),
        OutputFormat::Yaml | OutputFormat::Text => crate::yaml::to_string(plan)?,
    })
}

pub fn run(args: &PlanArgs) -> anyhow::Result<ExitCode> {
    let (plan, observed) = args.plan.make()?;
    eprint!("{}", summary::text(&plan));
    let text = to_text(&plan, args.output)?;
    match &args.out {
        Some(path) => {
            std::fs::write(path, text)
                .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))
                .hint("check that the directory exists and is writable")?;
            eprintln!("wrote {}", path.display());
        }
        None => write_stdout(&text)?,
    }
    // Freeing a large cluster's objects one by one takes longer than planning them; the process
    // ends here and the system takes the memory back at once.
    std::mem::forget(observed);
    Ok(ExitCode::SUCCESS)
}
