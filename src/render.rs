//! Rendering a whole mesh: a profile, an Istio version from the catalog, an optional revision and the
//! user's values become the manifests of each component release (base, istiod, gateways, Mixer). Each
//! component is its own Helm release, rendered from its own chart with its own section of one values
//! tree, so `--set istiod.pilot.replicaCount=2` reads the way an umbrella chart would:
//!
//! ```yaml
//! global: {...}            # given to every component as Values.global
//! base: {enabled: true}     # charts/base
//! istiod: {enabled: true}   # charts/istiod (release istiod or istiod-<revision>)
//! ingressGateway: {...}     # charts/gateway (release istio-ingress)
//! egressGateway: {...}      # charts/gateway (release istio-egress)
//! mixer: {...}              # charts/mixer (release istio-mixer, Istio < 1.8)
//! ```
//!
//! Layers, lowest first: chart defaults, the component's identity (gateway names), the catalog's
//! per-version defaults, the profile, `-f` files, `--set*` flags.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

use crate::catalog::{self, Catalog};
use crate::chart::manifest::Manifest;
use crate::chart::{self, Capabilities, Chart, ChartError, ReleaseInfo, manifest};
use crate::values::{ValueOptions, ValuesError, merge};
use crate::version::parse_lenient;
use crate::{assets, profile};

/// The label naming the component an object belongs to.
pub const COMPONENT_LABEL: &str = "sailplan.dev/component";
/// The label naming the Istio version an object was rendered for.
pub const VERSION_LABEL: &str = "sailplan.dev/version";

/// One installable component: a values section rendered by a chart as a release.
#[derive(Debug, Clone, Copy)]
pub struct Component {
    /// The values section, e.g. `ingressGateway`.
    pub key: &'static str,
    /// The chart directory under `charts/`.
    pub chart: &'static str,
    /// The release name (istiod adds `-<revision>`).
    pub release: &'static str,
}

/// Components in install order.
pub const COMPONENTS: [Component; 5] = [
    Component { key: "base", chart: "base", release: "istio-base" },
    Component { key: "istiod", chart: "istiod", release: "istiod" },
    Component { key: "ingressGateway", chart: "gateway", release: "istio-ingress" },
    Component { key: "egressGateway", chart: "gateway", release: "istio-egress" },
    Component { key: "mixer", chart: "mixer", release: "istio-mixer" },
];

/// Whether `name` is the release name of one of the mesh's components (istiod's with or without a
/// revision).
pub fn is_component_release(name: &str) -> bool {
    COMPONENTS.iter().any(|c| {
        name == c.release
            || (c.key == "istiod"
                && name.strip_prefix("istiod-").is_some_and(|revision| !revision.is_empty()))
    })
}

/// Values a component always starts from, below the catalog and profile: what makes the egress
/// instance of the gateway chart an egress gateway.
fn identity(key: &str) -> Map<String, Value> {
    let value = match key {
        "egressGateway" => json!({
            "name": "istio-egressgateway",
            "labels": {"app": "istio-egressgateway", "istio": "egressgateway"},
            "service": {"type": "ClusterIP"},
            "ports": [
                {"name": "http2", "port": 80, "targetPort": 8080, "protocol": "TCP"},
                {"name": "https", "port": 443, "targetPort": 8443, "protocol": "TCP"}
            ],
            "secretVolumes": [
                {"name": "egressgateway-certs", "secretName": "istio-egressgateway-certs", "mountPath": "/etc/istio/egressgateway-certs"},
                {"name": "egressgateway-ca-certs", "secretName": "istio-egressgateway-ca-certs", "mountPath": "/etc/istio/egressgateway-ca-certs"}
            ]
        }),
        _ => json!({}),
    };
    into_map(value)
}

/// The map inside a JSON object value (an empty map for anything else).
fn into_map(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// What to render.
#[derive(Debug, Clone)]
pub struct MeshRequest {
    /// Profile name.
    pub profile: String,
    /// Istio version: `1.6`, `1.6.14` or `latest`.
    pub version: String,
    /// Control-plane revision, e.g. `1-6-14`; none for a non-revisioned install.
    pub revision: Option<String>,
    /// The namespace the control plane is installed in.
    pub namespace: String,
    /// Values sailplan itself contributes (e.g. what a migration sets), per component key; merged
    /// over the profile and under the user's values, so the user keeps the last word.
    pub overlay: Map<String, Value>,
    /// User values.
    pub values: ValueOptions,
    /// The Kubernetes version to render for; the newest the Istio version supports when unset.
    pub kube_version: Option<String>,
    /// Render even when the Kubernetes version is outside the Istio version's supported range.
    pub allow_unsupported_kubernetes: bool,
    /// A working copy of the charts to use instead of the embedded ones.
    pub charts_dir: Option<PathBuf>,
}

/// One rendered component release.
#[derive(Debug, Clone)]
pub struct RenderedComponent {
    /// The component.
    pub component: Component,
    /// The release name.
    pub release: String,
    /// The user-facing values given to the chart (what Helm stores as the release config).
    pub values: Map<String, Value>,
    /// The release's objects in install order, ownership-stamped.
    pub manifests: Vec<Manifest>,
}

/// A rendered mesh.
#[derive(Debug, Clone)]
pub struct RenderedMesh {
    /// The exact Istio version rendered.
    pub version: semver::Version,
    /// The revision, if any.
    pub revision: Option<String>,
    /// The Kubernetes version rendered for.
    pub kube_version: semver::Version,
    /// Enabled components, in install order.
    pub components: Vec<RenderedComponent>,
    /// Warnings to show the user (type conflicts in values, Kubernetes range).
    pub warnings: Vec<String>,
}

/// Why a mesh could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// The version is not usable.
    #[error(transparent)]
    Catalog(#[from] catalog::CatalogError),
    /// The profile is not usable.
    #[error(transparent)]
    Profile(#[from] profile::ProfileError),
    /// The user's values are not usable.
    #[error(transparent)]
    Values(#[from] ValuesError),
    /// A chart failed to load or render.
    #[error(transparent)]
    Chart(#[from] ChartError),
    /// The Kubernetes version is not one the Istio version supports.
    #[error("Istio {istio} supports Kubernetes {min} to {max}, not {kube}")]
    UnsupportedKubernetes {
        /// The Istio version.
        istio: String,
        /// The Kubernetes version asked for.
        kube: String,
        /// Oldest supported minor.
        min: String,
        /// Newest supported minor.
        max: String,
    },
    /// `--kube-version` is not a version.
    #[error("--kube-version {0:?} is not a Kubernetes version such as 1.33.0")]
    KubeVersion(String),
    /// The revision name is not usable.
    #[error("revision {revision:?} is not valid: {reason}")]
    Revision {
        /// The revision asked for.
        revision: String,
        /// Why not.
        reason: String,
    },
    /// A values section does not belong to any component.
    #[error("unknown values section {key:?}; the top level takes global, {known}")]
    UnknownSection {
        /// The section name.
        key: String,
        /// The sections that exist.
        known: String,
    },
    /// A component section is not a map, or its `enabled` is not a boolean.
    #[error("values section {key:?} must be a map with a boolean `enabled`, not {found}")]
    BadSection {
        /// The section name.
        key: String,
        /// What was found.
        found: String,
    },
    /// Two components render the same object.
    #[error("{kind} {name:?} is rendered by both the {first} and the {second} release")]
    Collision {
        /// Object kind.
        kind: String,
        /// Object name.
        name: String,
        /// The first release.
        first: String,
        /// The second release.
        second: String,
    },
}

/// Longest revision name: `istiod-<revision>` must stay a valid 63-character Service name.
const MAX_REVISION_LEN: usize = 56;

fn check_revision(revision: &str) -> Result<(), RenderError> {
    let bad =
        |reason: &str| RenderError::Revision { revision: revision.to_string(), reason: reason.to_string() };
    if revision.is_empty() || revision.len() > MAX_REVISION_LEN {
        return Err(bad(&format!("use 1 to {MAX_REVISION_LEN} characters")));
    }
    if !revision.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') {
        return Err(bad(
            "use lower-case letters, digits and '-' only (dots are not allowed: 1.6.14 becomes 1-6-14)",
        ));
    }
    if revision.starts_with('-') || revision.ends_with('-') {
        return Err(bad("it must start and end with a letter or digit"));
    }
    if revision == "default" {
        return Err(bad("`default` names the non-revisioned control plane; omit --revision for it"));
    }
    Ok(())
}

/// Loads a chart from the working copy or from the embedded charts.
fn load_chart(name: &str, charts_dir: Option<&Path>) -> Result<Chart, ChartError> {
    match charts_dir {
        Some(dir) => Chart::load_dir(&dir.join(name)),
        None => {
            let dir = assets::CHARTS.get_dir(name).ok_or(ChartError::MissingFile {
                origin: format!("(built-in) {name}"),
                file: "Chart.yaml",
            })?;
            Chart::load_embedded(dir)
        }
    }
}

/// Renders a mesh.
pub fn render_mesh(request: &MeshRequest) -> Result<RenderedMesh, RenderError> {
    let catalog = Catalog::embedded()?;
    let resolved = catalog.resolve_renderable(&request.version)?;
    let version = resolved.version.clone();
    let release = resolved.release;
    let mut warnings = Vec::new();

    let kube_version = match &request.kube_version {
        Some(text) => parse_lenient(text).map_err(|_| RenderError::KubeVersion(text.clone()))?,
        None => release.newest_kubernetes(),
    };
    if !release.supports_kubernetes(&kube_version) {
        let error = RenderError::UnsupportedKubernetes {
            istio: version.to_string(),
            kube: format!("{}.{}", kube_version.major, kube_version.minor),
            min: release.kubernetes.min.clone(),
            max: release.kubernetes.max.clone(),
        };
        if !request.allow_unsupported_kubernetes {
            return Err(error);
        }
        warnings.push(format!(
            "warning: {error}; rendering anyway because --allow-unsupported-kubernetes was given"
        ));
    }
    if let Some(revision) = &request.revision {
        check_revision(revision)?;
        if !release.features.revisions {
            return Err(RenderError::Revision {
                revision: revision.clone(),
                reason: format!("Istio {version} has no revisions (they arrived in 1.6)"),
            });
        }
    }

    let tree = values_tree(request, catalog, release, &version)?;
    let global = tree.get("global").cloned().unwrap_or_else(|| Value::Object(Map::new()));
    let capabilities = Capabilities::for_kube_version(kube_version.clone());
    // Decide what to render first (cheap, and errors come in component order), then render the
    // enabled components concurrently: each is independent, and rendering is CPU-bound.
    let mut jobs = Vec::new();
    for component in COMPONENTS {
        let mut section = match tree.get(component.key) {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(map)) => map.clone(),
            Some(other) => {
                return Err(RenderError::BadSection {
                    key: component.key.to_string(),
                    found: other.to_string(),
                });
            }
        };
        let enabled = match section.remove("enabled") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => b,
            Some(other) => {
                return Err(RenderError::BadSection {
                    key: component.key.to_string(),
                    found: format!("enabled: {other}"),
                });
            }
        };
        if !enabled {
            continue;
        }
        let mut values = identity(component.key);
        merge::deep_merge(&mut values, section);
        values.insert("global".to_string(), global.clone());
        let release = match (&request.revision, component.key) {
            (Some(revision), "istiod") => format!("{}-{revision}", component.release),
            _ => component.release.to_string(),
        };
        jobs.push((component, release, values));
    }
    let rendered = crate::parallel::map(
        &jobs,
        |_| 1,
        |(component, release, values)| {
            render_component(request, *component, release, values, &version, &capabilities)
        },
    )?;
    let mut components = Vec::new();
    for (component, component_warnings) in rendered {
        warnings.extend(component_warnings);
        components.push(component);
    }
    check_no_collisions(&components)?;
    Ok(RenderedMesh { version, revision: request.revision.clone(), kube_version, components, warnings })
}

/// Renders one component release: its chart, its objects in install order, stamped with ownership.
fn render_component(
    request: &MeshRequest,
    component: Component,
    release: &str,
    values: &Map<String, Value>,
    version: &semver::Version,
    capabilities: &Capabilities,
) -> Result<(RenderedComponent, Vec<String>), RenderError> {
    let mut chart = load_chart(component.chart, request.charts_dir.as_deref())?;
    chart.metadata.version = version.to_string();
    chart.metadata.app_version = Some(version.to_string());
    let info = ReleaseInfo {
        name: release.to_string(),
        namespace: request.namespace.clone(),
        revision: 1,
        is_upgrade: false,
    };
    let rendered = chart::render(&chart, values.clone(), &info, capabilities)?;
    let mut manifests = manifest::from_rendered(&rendered.files)?;
    manifest::sort_for_install(&mut manifests);
    manifest::stamp(
        &mut manifests,
        &manifest::Ownership {
            release_name: release.to_string(),
            release_namespace: request.namespace.clone(),
            labels: BTreeMap::from([
                (COMPONENT_LABEL.to_string(), component.key.to_string()),
                (VERSION_LABEL.to_string(), version.to_string()),
            ]),
        },
    );
    let component =
        RenderedComponent { component, release: release.to_string(), values: values.clone(), manifests };
    Ok((component, rendered.warnings))
}

/// Builds the values tree: catalog defaults, then the profile, then `-f` files and `--set*` flags.
fn values_tree(
    request: &MeshRequest,
    catalog: &Catalog,
    release: &catalog::Release,
    version: &semver::Version,
) -> Result<Map<String, Value>, RenderError> {
    let features = &release.features;
    let revision = request.revision.clone().unwrap_or_default();
    let defaults = json!({
        "global": {"hub": catalog.hub, "tag": version.to_string(), "istioNamespace": request.namespace},
        "base": {"defaultRevision": revision},
        "istiod": {"revision": revision, "telemetry": {"v2": {"enabled": features.telemetry_v2_default}}},
        "ingressGateway": {"revision": revision, "sds": {"enabled": features.gateway_sds_default}},
        "egressGateway": {"revision": revision, "sds": {"enabled": features.gateway_sds_default}},
    });
    let mut tree = into_map(defaults);
    let profile = profile::load(&request.profile)?;
    merge::deep_merge(&mut tree, profile.values);
    merge::deep_merge(&mut tree, request.overlay.clone());
    merge::deep_merge(&mut tree, request.values.merge()?);
    let known: Vec<&str> = COMPONENTS.iter().map(|c| c.key).collect();
    if let Some(key) = tree.keys().find(|k| k.as_str() != "global" && !known.contains(&k.as_str())) {
        return Err(RenderError::UnknownSection { key: key.clone(), known: known.join(", ") });
    }
    Ok(tree)
}

fn check_no_collisions(components: &[RenderedComponent]) -> Result<(), RenderError> {
    let mut owners: BTreeMap<(String, String, String, String), &str> = BTreeMap::new();
    for component in components {
        manifest::check_unique(&component.manifests)?;
        for m in &component.manifests {
            let group = m.api_version().rsplit_once('/').map_or("", |(g, _)| g).to_string();
            let key = (group, m.kind().to_string(), m.namespace().to_string(), m.name().to_string());
            if let Some(first) = owners.insert(key, &component.release) {
                return Err(RenderError::Collision {
                    kind: m.kind().to_string(),
                    name: m.name().to_string(),
                    first: first.to_string(),
                    second: component.release.clone(),
                });
            }
        }
    }
    Ok(())
}

impl RenderedMesh {
    /// Every object, component by component, each component in install order.
    pub fn manifests(&self) -> impl Iterator<Item = &Manifest> {
        self.components.iter().flat_map(|c| c.manifests.iter())
    }
}
