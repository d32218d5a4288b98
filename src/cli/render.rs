//! `sailplan render`: a profile, an Istio version and values become manifests, offline, in
//! `helm template` form on stdout, or one file per object plus a `kustomization.yaml` in a directory.
//! The same inputs always give byte-identical output.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Args;

use super::output::{print_warning, write_stdout};
use super::{Hinted, ValueFlags};
use crate::chart::manifest::{self, Manifest};
use crate::render::{MeshRequest, RenderError, RenderedMesh, render_mesh};

/// Arguments of `sailplan render`.
#[derive(Debug, Args)]
pub struct RenderArgs {
    /// Installation profile (see `sailplan profile list`)
    #[arg(long, default_value = "default")]
    pub profile: String,
    /// Istio version: a catalogued minor (1.6), an exact version (1.6.14) or `latest`
    #[arg(long = "version", default_value = "latest", value_name = "VERSION")]
    pub istio_version: String,
    /// Install the control plane as this revision (e.g. 1-6-14), beside others
    #[arg(long)]
    pub revision: Option<String>,
    /// Namespace of the control plane
    #[arg(short = 'n', long, default_value = "istio-system")]
    pub namespace: String,
    #[command(flatten)]
    pub values: ValueFlags,
    /// Write one file per object and a kustomization.yaml into DIR instead of printing
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
    /// Kubernetes version to render for (default: the newest the Istio version supports)
    #[arg(long, value_name = "VERSION")]
    pub kube_version: Option<String>,
    /// Render even if the Kubernetes version is outside the Istio version's supported range
    #[arg(long)]
    pub allow_unsupported_kubernetes: bool,
    /// Use the charts in DIR (a working copy of charts/) instead of the built-in ones
    #[arg(long, value_name = "DIR")]
    pub charts: Option<PathBuf>,
}

pub fn run(args: &RenderArgs) -> anyhow::Result<ExitCode> {
    let request = MeshRequest {
        overlay: Default::default(),
        profile: args.profile.clone(),
        version: args.istio_version.clone(),
        revision: args.revision.clone(),
        namespace: args.namespace.clone(),
        values: args.values.options(),
        kube_version: args.kube_version.clone(),
        allow_unsupported_kubernetes: args.allow_unsupported_kubernetes,
        charts_dir: args.charts.clone(),
    };
    let mesh = render_mesh(&request).map_err(|error| match hint_for(&error) {
        Some(hint) => anyhow::Error::from(Hinted { source: error.into(), hint }),
        None => error.into(),
    })?;
    for warning in &mesh.warnings {
        print_warning(warning);
    }
    match &args.output_dir {
        None => write_stdout(&helm_template(&mesh)?)?,
        Some(dir) => {
            let count = write_dir(&mesh, dir)?;
            eprintln!("wrote {count} objects and kustomization.yaml to {}", dir.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn hint_for(error: &RenderError) -> Option<String> {
    let hint = match error {
        RenderError::Catalog(_) => "run `sailplan version list` to see the versions that can be installed",
        RenderError::Profile(_) => "run `sailplan profile list` to see the profiles",
        RenderError::Values(_) => {
            "fix the values input named above; --set follows Helm's syntax (a.b=c, list[0]=x, {a,b})"
        }
        RenderError::UnsupportedKubernetes { .. } => {
            "choose an Istio version that supports your cluster (`sailplan version list`), or pass --allow-unsupported-kubernetes to render anyway"
        }
        RenderError::KubeVersion(_) => "pass --kube-version as MAJOR.MINOR[.PATCH], e.g. 1.33.0",
        RenderError::Revision { .. } => {
            "revisions look like 1-6-14 or canary; omit --revision for a non-revisioned control plane"
        }
        RenderError::UnknownSection { .. } | RenderError::BadSection { .. } => {
            "see `sailplan profile show default` for the shape of the values tree"
        }
        RenderError::Chart(crate::chart::ChartError::Schema(_)) => {
            "change the values named above so they match the chart's values.schema.json"
        }
        RenderError::Chart(_) | RenderError::Collision { .. } => return None,
    };
    Some(hint.to_string())
}

/// All objects in `helm template` form: component by component, each in install order.
pub fn helm_template(mesh: &RenderedMesh) -> anyhow::Result<String> {
    let manifests: Vec<Manifest> = mesh.manifests().cloned().collect();
    Ok(manifest::to_helm_template(&manifests)?)
}

/// Writes `<release>/<kind>-<name>.yaml` per object and a `kustomization.yaml` listing them in
/// install order. Nothing is written unless every file name is free of collisions.
fn write_dir(mesh: &RenderedMesh, dir: &Path) -> anyhow::Result<usize> {
    let mut files: Vec<(String, String)> = Vec::new();
    let mut seen = BTreeSet::new();
    for component in &mesh.components {
        for m in &component.manifests {
            let name = format!("{}/{}-{}.yaml", component.release, m.kind().to_lowercase(), m.name());
            if !seen.insert(name.clone()) {
                anyhow::bail!("two objects would be written to {name}; render to stdout instead");
            }
            files.push((name, manifest::to_helm_template(std::slice::from_ref(m))?));
        }
    }
    let mut kustomization = String::from(
        "# Generated by sailplan render; lists the rendered objects in install order.\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n",
    );
    for (name, _) in &files {
        let _ = writeln!(kustomization, "- {name}");
    }
    for (name, text) in &files {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create directory {}", parent.display()))?;
        }
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    let path = dir.join("kustomization.yaml");
    std::fs::write(&path, kustomization).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(files.len())
}
