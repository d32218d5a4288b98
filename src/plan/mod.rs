//! The upgrade planner: from the observed state (a snapshot, or a live cluster read the same way), a
//! target and the catalog and migrations, an ordered plan an operator can review before anything
//! changes. Planning is a pure function: the same inputs give a byte-identical plan, and the plan
//! carries a fingerprint of the observed state so `apply` can refuse it once the cluster has moved on.
//!
//! A plan is a list of hops (a jump the catalog does not allow in one step goes through the versions
//! in between) and, per hop: base and CRDs, migrations in their phases, the new control plane (as a
//! canary revision beside the old one, or in place), the data plane in gated batches, the gateways,
//! and finalize, which removes what the old version left behind after backing it up. Every step
//! says how to undo it.

pub mod dataplane;
pub mod fingerprint;
pub mod model;
mod state;
pub mod summary;

use std::borrow::Borrow;
use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::digest::sha256_hex;
use serde_json::{Map, Value, json};

use self::model::{
    API_VERSION, Action, DataPlanePolicy, Gate, Handover, Hop, KIND, ObjectRef, Plan, PlanFinding,
    PlanMetadata, PlanSpec, Source, SourceControlPlane, Step, StepPhase, Target,
};
use self::state::State;
use crate::analyze::{self, Finding, Severity};
use crate::catalog::{self, Catalog, Strategy};
use crate::chart::ChartError;
use crate::inventory::{Inventory, LEGACY_COMPONENTS, MIXER_COMPONENTS, str_of, text};
use crate::migrate::{self, ChangeSet, Input, Phase};
use crate::render::{self, MeshRequest, RenderError, RenderedMesh};
use crate::values::ValueOptions;

/// What to plan.
#[derive(Debug, Clone)]
pub struct PlanRequest {
    /// The Istio version to reach (`1.6`, `1.6.14`, `latest`).
    pub to: String,
    /// The profile.
    pub profile: String,
    /// The user's values.
    pub values: ValueOptions,
    /// The strategy of the last hop; the catalog's preference (canary where allowed, in place for
    /// patch releases) when unset.
    pub strategy: Option<Strategy>,
    /// How the data plane moves.
    pub data_plane: DataPlanePolicy,
    /// The operator's choices for migrations.
    pub migration_options: migrate::Options,
    /// Plan even though `check` found errors (the plan is then not blocked).
    pub allow_errors: bool,
    /// How gates that read traffic answer: a Prometheus to ask, and the gates whose "no data" is
    /// accepted (written into the plan, so a reviewer sees it).
    pub gate_policy: GatePolicy,
    /// `snapshot` or `cluster`.
    pub observed_from: String,
    /// A working copy of the charts.
    pub charts_dir: Option<PathBuf>,
}

/// Why no plan could be made.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// The catalog cannot satisfy the request.
    #[error(transparent)]
    Catalog(#[from] catalog::CatalogError),
    /// The charts could not be rendered.
    #[error(transparent)]
    Render(#[from] render::RenderError),
    /// A migration file is broken.
    #[error(transparent)]
    Migration(#[from] migrate::MigrationError),
    /// The values could not be read.
    #[error(transparent)]
    Values(#[from] crate::values::ValuesError),
    /// The mesh is already newer than the target.
    #[error("the mesh runs Istio {installed}, which is not older than the target {target}")]
    NotAnUpgrade {
        /// The oldest installed version.
        installed: String,
        /// The target.
        target: String,
    },
    /// The catalog has no chain of allowed hops.
    #[error("no upgrade path from Istio {from} to {to} in the catalog")]
    NoPath {
        /// From.
        from: String,
        /// To.
        to: String,
    },
    /// The requested strategy is not allowed for the last hop.
    #[error("a {strategy} upgrade from Istio {from} to {to} is not allowed (allowed: {allowed})")]
    Strategy {
        /// Requested.
        strategy: String,
        /// From.
        from: String,
        /// To.
        to: String,
        /// What the catalog allows.
        allowed: String,
    },
    /// `--accept-no-data` names a gate sailplan does not have.
    #[error("there is no gate {name:?} (gates: {})", model::GATE_NAMES.join(", "))]
    UnknownGate {
        /// The name given.
        name: String,
    },
    /// A control plane's version cannot be read.
    #[error("cannot tell the version of control plane {revision} (no image tag)")]
    UnknownVersion {
        /// The revision.
        revision: String,
    },
}

/// What the operator decided about gates that need traffic or metrics to answer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GatePolicy {
    /// The Prometheus the `telemetry-v2-metrics` gates query (`http://host:port`).
    pub prometheus: Option<String>,
    /// Gates whose "no data" verdict passes instead of failing (`noData: pass` in the plan).
    pub accept_no_data: Vec<String>,
}

impl GatePolicy {
    /// Applies the policy to every gate of `steps`.
    fn apply(&self, steps: &mut [Step]) {
        for gate in steps.iter_mut().flat_map(|s| s.gates.iter_mut()) {
            if let Some(url) = &self.prometheus
                && gate.name == "telemetry-v2-metrics"
            {
                gate.params.insert("prometheus".to_string(), url.clone());
            }
            if self.accept_no_data.contains(&gate.name) {
                gate.no_data = Some("pass".to_string());
            }
        }
    }
}

/// The namespace the control plane is installed in.
const CONTROL_PLANE_NAMESPACE: &str = "istio-system";

fn finding_of(f: &Finding, from: &str) -> PlanFinding {
    PlanFinding {
        code: f.code.to_string(),
        severity: match f.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
        .to_string(),
        object: f.object.as_ref().map(ToString::to_string),
        message: f.message.clone(),
        hint: f.hint.clone(),
        from: from.to_string(),
        resolved_by: None,
    }
}

/// `check` findings a migration deals with, by code.
const RESOLVED_BY: [(&str, &str); 5] = [
    ("E-API-AUTHN-ALPHA", "meshpolicy-to-peerauthentication"),
    ("E-API-MIXER-CONFIG", "mixer-to-telemetry-v2"),
    ("E-MIXER-ENABLED", "mixer-to-telemetry-v2"),
    ("E-MIXER-QUOTASPECBINDING-PANIC", "mixer-to-telemetry-v2"),
    ("W-GATEWAY-FILE-CERTS", "sds-enablement"),
];

/// A control plane the planner tracks: its revision name (`default`, `legacy` or a revision) and
/// version.
#[derive(Debug, Clone)]
struct Installed {
    revision: String,
    version: semver::Version,
}

/// What a step does: its actions, its gates and its undo.
struct Work {
    actions: Vec<Action>,
    gates: Vec<Gate>,
    undo: Vec<Action>,
}

/// The gate that a control-plane Deployment has rolled out.
fn rollout_gate(deployment: &str) -> Gate {
    Gate::new(
        "rollout-complete",
        "5m",
        &[("kind", "Deployment"), ("namespace", CONTROL_PLANE_NAMESPACE), ("name", deployment)],
    )
}

/// A gate a migration asks for, with what it needs to know: `proxies-converged` checks every proxy
/// runs the hop's version.
fn migration_gate(name: &str, migration: &str, to: &semver::Version) -> Gate {
    let version = to.to_string();
    let mut params = vec![("migration", migration)];
    if name == "proxies-converged" {
        params.push(("version", &version));
    }
    Gate::new(name, "5m", &params)
}

/// The gate that an istiod Service's webhook has ready endpoints.
fn webhook_gate(service: &str) -> Gate {
    Gate::new("webhook-ready", "2m", &[("namespace", CONTROL_PLANE_NAMESPACE), ("service", service)])
}

/// Builds plans.
struct Planner<'r> {
    request: &'r PlanRequest,
    catalog: &'static Catalog,
    migrations: Vec<migrate::Migration>,
    /// Migrations already planned (each runs once, at the first hop its window allows).
    done: Vec<String>,
    state: State<'r>,
    steps: Vec<Step>,
    findings: Vec<PlanFinding>,
    /// Namespaces as observed, for the data-plane moves.
    inventory: &'r Inventory,
    /// Gates of migrations whose values the new control plane applies (telemetry v2, policy checks
    /// off, SDS): they can pass only once it runs, so they go on its step.
    after_control_plane: Vec<Gate>,
    /// The Kubernetes version the charts render for: the observed one, or none (the release's
    /// newest) once the charts have refused the observed one.
    render_for: Option<String>,
}

impl Planner<'_> {
    fn push(&mut self, hop: usize, phase: StepPhase, name: &str, title: String, work: Work) {
        let Work { actions, gates, undo } = work;
        let id = format!("h{hop}-{:02}-{name}", self.steps.iter().filter(|s| s.hop == hop).count() + 1);
        self.state.apply(&actions);
        self.steps.push(Step {
            id,
            hop,
            phase,
            title,
            actions,
            gates,
            undo,
            pause: None,
            needs_human: Vec::new(),
        });
    }

    /// Actions that apply `objects` (backing up the ones that exist) and how to undo them.
    fn apply_actions(
        &self,
        release: Option<&str>,
        source: &str,
        objects: Vec<Value>,
    ) -> (Vec<Action>, Vec<Action>) {
        let (existing, created) = self.state.split_existing(&objects);
        let mut actions = Vec::new();
        if !existing.is_empty() {
            actions.push(Action::Backup { objects: existing.clone() });
        }
        // What a release is to install but already exists without any release's markers
        // (istioctl and kubectl installs) is adopted, visibly.
        let adopt = match release {
            Some(_) => existing
                .iter()
                .filter(|r| {
                    self.state.get_ref(r).is_some_and(|o| {
                        crate::inventory::annotation(o, crate::chart::manifest::RELEASE_NAME_ANNOTATION)
                            .is_none()
                    })
                })
                .cloned()
                .collect(),
            None => Vec::new(),
        };
        // What another of the mesh's releases in the same namespace owns changes hands, visibly:
        // charts move objects between releases (the validating webhook from istiod to istio-base).
        let handover = match release {
            Some(name) => existing
                .iter()
                .filter_map(|r| {
                    let object = self.state.get_ref(r)?;
                    let owner = crate::inventory::annotation(
                        object,
                        crate::chart::manifest::RELEASE_NAME_ANNOTATION,
                    )?;
                    let namespace = crate::inventory::annotation(
                        object,
                        crate::chart::manifest::RELEASE_NAMESPACE_ANNOTATION,
                    );
                    (owner != name
                        && namespace == Some(CONTROL_PLANE_NAMESPACE)
                        && render::is_component_release(owner))
                    .then(|| Handover { object: r.clone(), from: owner.to_string() })
                })
                .collect(),
            None => Vec::new(),
        };
        actions.push(Action::Apply {
            release: release.map(str::to_string),
            source: source.to_string(),
            objects,
            adopt,
            handover,
        });
        let mut undo = Vec::new();
        if !created.is_empty() {
            undo.push(Action::Delete { objects: created });
        }
        if !existing.is_empty() {
            undo.push(Action::Restore { objects: existing });
        }
        (actions, undo)
    }

    /// Renders the mesh for a hop.
    ///
    /// It renders for the cluster as observed, like Helm's `.Capabilities`: a chart picks the API
    /// versions (PodDisruptionBudget, HorizontalPodAutoscaler) that cluster serves. A cluster older
    /// than the charts accept gets a blocking finding, and the plan is rendered for the release's
    /// newest Kubernetes so it can still be reviewed.
    fn render(
        &mut self,
        version: &semver::Version,
        revision: Option<&str>,
        overlay: Map<String, Value>,
    ) -> Result<RenderedMesh, PlanError> {
        let request = |kube_version: Option<String>| MeshRequest {
            profile: self.request.profile.clone(),
            version: version.to_string(),
            revision: revision.map(str::to_string),
            namespace: CONTROL_PLANE_NAMESPACE.to_string(),
            overlay: overlay.clone(),
            values: self.request.values.clone(),
            kube_version,
            allow_unsupported_kubernetes: true,
            charts_dir: self.request.charts_dir.clone(),
        };
        match render::render_mesh(&request(self.render_for.clone())) {
            Err(RenderError::Chart(ChartError::KubeVersion { chart, constraint, kube_version })) => {
                self.findings.push(PlanFinding {
                    code: "E-K8S-CHARTS".to_string(),
                    severity: "error".to_string(),
                    object: None,
                    message: format!(
                        "chart {chart} needs Kubernetes {constraint}; this cluster runs {kube_version}, so \
                         the plan is rendered for Istio {version}'s newest Kubernetes instead"
                    ),
                    hint: "upgrade Kubernetes first, then plan again".to_string(),
                    from: "plan".to_string(),
                    resolved_by: None,
                });
                self.render_for = None;
                Ok(render::render_mesh(&request(None))?)
            }
            rendered => Ok(rendered?),
        }
    }

    /// The migrations of `phase` whose windows allow this hop and that have not run yet.
    fn migration_steps(
        &mut self,
        hop: usize,
        from: &semver::Version,
        to: &semver::Version,
        phase: Phase,
    ) -> Map<String, Value> {
        let mut values = Map::new();
        let eligible: Vec<(String, String, &'static dyn migrate::Transform)> = self
            .migrations
            .iter()
            .filter(|m| m.info.phase == phase && !self.done.contains(&m.info.id))
            .filter(|m| {
                let allows = |range: &str, v: &semver::Version| {
                    crate::version::Constraint::parse(range).is_ok_and(|c| c.matches(v))
                };
                allows(&m.info.source, from) && allows(&m.info.target, to)
            })
            .map(|m| (m.info.id.clone(), m.info.title.clone(), m.transform))
            .collect();
        // Every eligible migration reads the state as the hop found it.
        let changes: Vec<ChangeSet> = {
            let objects: Vec<&Value> =
                if eligible.is_empty() { Vec::new() } else { self.state.objects().collect() };
            let input =
                Input { objects: &objects, target: to.clone(), options: self.request.migration_options };
            eligible.iter().map(|(_, _, transform)| transform.run(&input)).collect()
        };
        for ((id, title, _), changes) in eligible.into_iter().zip(changes) {
            self.done.push(id.clone());
            let needs_human: Vec<String> = changes
                .findings
                .iter()
                .filter(|f| f.severity != Severity::Info)
                .map(|f| {
                    format!("{}: {}", f.code, f.object.as_ref().map_or(String::new(), ToString::to_string))
                })
                .collect();
            self.findings.extend(changes.findings.iter().map(|f| finding_of(f, &id)));
            if let Value::Object(map) = &changes.values {
                crate::values::merge::deep_merge(&mut values, map.clone());
            }
            let mut gates: Vec<Gate> = changes.gates.iter().map(|g| migration_gate(g, &id, to)).collect();
            let sets_values = matches!(&changes.values, Value::Object(map) if !map.is_empty());
            if phase == Phase::BeforeControlPlane && sets_values {
                self.after_control_plane.append(&mut gates);
            }
            // Migrations rewrite observed objects; what the server set on them is not planned.
            let objects_to_apply: Vec<Value> = changes
                .create
                .iter()
                .chain(&changes.update)
                .cloned()
                .map(crate::cluster::applicable)
                .collect();
            if objects_to_apply.is_empty() && changes.delete.is_empty() {
                continue;
            }
            let (mut actions, mut undo) = if objects_to_apply.is_empty() {
                (Vec::new(), Vec::new())
            } else {
                self.apply_actions(None, &id, objects_to_apply)
            };
            let deleted: Vec<ObjectRef> = changes.delete.iter().filter_map(ObjectRef::of).collect();
            if !deleted.is_empty() {
                actions.insert(0, Action::Backup { objects: deleted.clone() });
                actions.push(Action::Delete { objects: deleted.clone() });
                undo.push(Action::Restore { objects: deleted });
            }
            self.push(
                hop,
                match phase {
                    Phase::BeforeControlPlane => StepPhase::BeforeControlPlane,
                    Phase::AfterControlPlane => StepPhase::AfterControlPlane,
                    Phase::Finalize => StepPhase::Finalize,
                },
                &id,
                format!("Migration {id}: {title}"),
                Work { actions, gates, undo },
            );
            if let Some(step) = self.steps.last_mut() {
                step.needs_human = needs_human;
            }
        }
        values
    }

    /// The finalize parts of the migrations planned in this hop.
    fn migration_finalize_steps(&mut self, hop: usize, to: &semver::Version, ids: &[String]) {
        let transforms: Vec<(String, &'static dyn migrate::Transform)> = self
            .migrations
            .iter()
            .filter(|m| ids.contains(&m.info.id) && !m.info.finalize.is_empty())
            .map(|m| (m.info.id.clone(), m.transform))
            .collect();
        let changes: Vec<ChangeSet> = {
            let objects: Vec<&Value> =
                if transforms.is_empty() { Vec::new() } else { self.state.objects().collect() };
            let input =
                Input { objects: &objects, target: to.clone(), options: self.request.migration_options };
            transforms.iter().map(|(_, transform)| transform.finalize(&input)).collect()
        };
        for ((id, _), changes) in transforms.into_iter().zip(changes) {
            let deleted: Vec<ObjectRef> = changes.delete.iter().filter_map(ObjectRef::of).collect();
            if deleted.is_empty() {
                continue;
            }
            let gates = changes.gates.iter().map(|g| migration_gate(g, &id, to)).collect();
            self.push(
                hop,
                StepPhase::Finalize,
                &format!("{id}-finalize"),
                format!("Finalize {id}: remove {} objects it replaced", deleted.len()),
                Work {
                    actions: vec![
                        Action::Backup { objects: deleted.clone() },
                        Action::Delete { objects: deleted.clone() },
                    ],
                    gates,
                    undo: vec![Action::Restore { objects: deleted }],
                },
            );
        }
    }
}

fn objects_of(mesh: &RenderedMesh, key: &str) -> Option<(String, Vec<Value>)> {
    mesh.components
        .iter()
        .find(|c| c.component.key == key)
        .map(|c| (c.release.clone(), c.manifests.iter().map(|m| m.object.clone()).collect()))
}

/// The installed control planes, oldest first.
fn installed(inventory: &Inventory) -> Result<Vec<Installed>, PlanError> {
    let mut out = Vec::new();
    for cp in &inventory.control_planes {
        let version = cp
            .version()
            .cloned()
            .ok_or_else(|| PlanError::UnknownVersion { revision: cp.revision.clone() })?;
        out.push(Installed { revision: cp.revision.clone(), version });
    }
    out.sort_by(|a, b| (&a.version, &a.revision).cmp(&(&b.version, &b.revision)));
    Ok(out)
}

/// The objects of an old control plane: what its charts render (for versions sailplan renders) or
/// the 1.4 microservices and Mixer (by name), that exist in the cluster.
fn old_control_plane_objects(
    planner: &mut Planner<'_>,
    old: &Installed,
    keep: &[ObjectRef],
) -> Vec<ObjectRef> {
    let mut names: Vec<ObjectRef> = Vec::new();
    if old.revision == "legacy" {
        let prefixes: Vec<&str> = LEGACY_COMPONENTS
            .iter()
            .chain(MIXER_COMPONENTS.iter())
            .copied()
            .chain(["istio-security-post-install", "istio-mixer"])
            .collect();
        for object in planner.state.objects() {
            let name = text(object, "/metadata/name");
            let kind = text(object, "/kind");
            let namespace = text(object, "/metadata/namespace");
            let in_scope = namespace.is_empty() || namespace == CONTROL_PLANE_NAMESPACE;
            let owned = prefixes.iter().any(|p| name.starts_with(p));
            let removable = matches!(
                kind.as_str(),
                "Deployment"
                    | "Service"
                    | "ServiceAccount"
                    | "ConfigMap"
                    | "ClusterRole"
                    | "ClusterRoleBinding"
                    | "Role"
                    | "RoleBinding"
                    | "HorizontalPodAutoscaler"
                    | "PodDisruptionBudget"
                    | "MutatingWebhookConfiguration"
                    | "ValidatingWebhookConfiguration"
                    | "Job"
            );
            if in_scope
                && owned
                && removable
                && let Some(r) = ObjectRef::of(object)
            {
                names.push(r);
            }
        }
        // The 1.4 injector's webhook and Galley's validation webhook.
        for object in planner.state.objects() {
            let kind = text(object, "/kind");
            let name = text(object, "/metadata/name");
            if (kind == "MutatingWebhookConfiguration" && name == "istio-sidecar-injector")
                || (kind == "ValidatingWebhookConfiguration" && name == "istio-galley")
            {
                names.extend(ObjectRef::of(object));
            }
        }
    } else if planner.catalog.resolve_renderable(&old.version.to_string()).is_ok() {
        let revision = (old.revision != "default").then_some(old.revision.as_str());
        if let Ok(mesh) = planner.render(&old.version, revision, Map::new())
            && let Some((_, objects)) = objects_of(&mesh, "istiod")
        {
            names.extend(objects.iter().filter_map(ObjectRef::of).filter(|r| planner.state.contains_ref(r)));
        }
    }
    names.sort();
    names.dedup();
    names
        .retain(|n| !keep.iter().any(|k| k.kind == n.kind && k.name == n.name && k.namespace == n.namespace));
    names
}

/// Services that webhooks call and that also select the new revision's istiod pods. Service
/// selectors can only require labels, and a selector such as 1.5's `app: istiod` matches the canary's
/// pods as well: until the old control plane is removed, the old injector's calls may reach the new
/// revision, and pods restarted in namespaces not moved yet may get its proxy. Found by running a
/// 1.5 to 1.6 canary upgrade on a real cluster; the plan cannot narrow such a selector without
/// restarting the old control plane, so it says so.
fn shared_webhook_services(state: &State<'_>, rendered: &[Value]) -> Vec<PlanFinding> {
    let pod_labels: Vec<&Map<String, Value>> = rendered
        .iter()
        .filter(|o| text(o, "/kind") == "Deployment")
        .filter_map(|d| d.pointer("/spec/template/metadata/labels").and_then(Value::as_object))
        .collect();
    let ours = |namespace: &str, name: &str| {
        rendered.iter().any(|o| {
            text(o, "/kind") == "Service"
                && text(o, "/metadata/name") == name
                && text(o, "/metadata/namespace") == namespace
        })
    };
    let mut called: Vec<(String, String, String)> = Vec::new();
    for kind in ["MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"] {
        for configuration in state.of_kind("admissionregistration.k8s.io", kind, None) {
            let webhooks = configuration.get("webhooks").and_then(Value::as_array).into_iter().flatten();
            for service in webhooks.filter_map(|w| w.pointer("/clientConfig/service")) {
                let entry = (
                    text(service, "/namespace"),
                    text(service, "/name"),
                    text(configuration, "/metadata/name"),
                );
                if !called.iter().any(|c| c.0 == entry.0 && c.1 == entry.1) {
                    called.push(entry);
                }
            }
        }
    }
    called
        .into_iter()
        .filter(|(namespace, name, _)| !ours(namespace, name))
        .filter_map(|(namespace, name, webhook)| {
            let service = state.get("", "Service", &namespace, &name)?;
            let selector = service.pointer("/spec/selector").and_then(Value::as_object).filter(|s| !s.is_empty())?;
            let selects = pod_labels.iter().any(|labels| selector.iter().all(|(k, v)| labels.get(k) == Some(v)));
            selects.then(|| PlanFinding {
                code: "W-CANARY-SHARED-SERVICE".to_string(),
                severity: "warning".to_string(),
                object: Some(format!("Service {namespace}/{name}")),
                message: format!(
                    "webhook {webhook} calls this Service, whose selector also matches the new revision's istiod \
                     pods: until the old control plane is removed, its calls may reach the new revision, and pods \
                     restarted in namespaces not moved yet may get the new proxy"
                ),
                hint: "avoid restarting workloads in namespaces not yet moved during the canary, or move them all \
                       in one batch"
                    .to_string(),
                from: "plan".to_string(),
                resolved_by: None,
            })
        })
        .collect()
}

/// A plan made from a state the cluster is no longer in.
#[derive(Debug, thiserror::Error)]
#[error("the cluster has changed since the plan was made (fingerprint {found}, plan {planned})")]
pub struct Stale {
    /// The plan's fingerprint.
    pub planned: String,
    /// The observed state's.
    pub found: String,
}

/// Checks that `observed` (sanitised as `collect` reads it) is the state the plan was made from.
pub fn check_current<O: Borrow<Value> + Sync>(plan: &Plan, observed: &[O]) -> Result<(), Stale> {
    check_fingerprint(plan, fingerprint::of(observed))
}

/// Checks that `found`, the fingerprint of the cluster now, is the one the plan was made from.
pub fn check_fingerprint(plan: &Plan, found: String) -> Result<(), Stale> {
    if found == plan.spec.fingerprint {
        Ok(())
    } else {
        Err(Stale { planned: plan.spec.fingerprint.clone(), found })
    }
}

/// Makes a plan from what was observed (`Inventory::from(snapshot)`); the planner borrows the
/// observed objects and copies only what it changes.
pub fn plan(inventory: &Inventory, request: &PlanRequest) -> Result<Plan, PlanError> {
    let catalog = Catalog::embedded()?;
    let target = catalog.resolve_renderable(&request.to)?.version;
    if let Some(unknown) =
        request.gate_policy.accept_no_data.iter().find(|g| !model::GATE_NAMES.contains(&g.as_str()))
    {
        return Err(PlanError::UnknownGate { name: unknown.clone() });
    }
    let control_planes = installed(inventory)?;
    let fingerprint = fingerprint::of(inventory.objects());
    let user_values = request.values.merge()?;

    let mut planner = Planner {
        request,
        catalog,
        migrations: migrate::all()?,
        done: Vec::new(),
        state: State::new(inventory.objects().iter().map(AsRef::as_ref)),
        steps: Vec::new(),
        findings: Vec::new(),
        inventory,
        after_control_plane: Vec::new(),
        render_for: inventory.kubernetes_version.as_ref().map(ToString::to_string),
    };
    let checked = analyze::check(planner.inventory, catalog, Some(&target));
    planner.findings.extend(checked.iter().map(|f| finding_of(f, "check")));

    // Hops.
    let oldest = control_planes.first().cloned();
    let mut hops: Vec<Hop> = Vec::new();
    if let Some(oldest) = &oldest {
        if oldest.version >= target && control_planes.iter().all(|c| c.version >= target) {
            return Err(PlanError::NotAnUpgrade {
                installed: oldest.version.to_string(),
                target: target.to_string(),
            });
        }
        let path = analyze::upgrade_path(catalog, &oldest.version, &target)
            .ok_or_else(|| PlanError::NoPath { from: oldest.version.to_string(), to: target.to_string() })?;
        let versions: Vec<semver::Version> =
            path.iter().filter_map(|v| crate::version::parse_lenient(v).ok()).collect();
        for (index, pair) in versions.windows(2).enumerate() {
            let (from, to) = (&pair[0], &pair[1]);
            let allowed = catalog.strategies(from, to);
            let last = index + 2 == versions.len();
            let patch = (from.major, from.minor) == (to.major, to.minor);
            let wanted = match (last, request.strategy) {
                (true, Some(strategy)) => strategy,
                _ if patch => Strategy::InPlace,
                _ if allowed.contains(&Strategy::Canary) => Strategy::Canary,
                _ => Strategy::InPlace,
            };
            if !allowed.contains(&wanted) {
                return Err(PlanError::Strategy {
                    strategy: wanted.to_string(),
                    from: from.to_string(),
                    to: to.to_string(),
                    allowed: allowed.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "),
                });
            }
            hops.push(Hop {
                from: from.to_string(),
                to: to.to_string(),
                strategy: wanted.to_string(),
                revision: (wanted == Strategy::Canary).then(|| catalog::revision_name(to)),
            });
        }
    } else {
        hops.push(Hop {
            from: String::new(),
            to: target.to_string(),
            strategy: "install".to_string(),
            revision: None,
        });
    }

    // Preflight (the findings are final only once the migrations are planned; see below).
    planner.push(
        1,
        StepPhase::Preflight,
        "preflight",
        "Preflight: the cluster is reachable, no other apply runs, the plan is current".to_string(),
        Work {
            actions: Vec::new(),
            gates: vec![
                Gate::new("cluster-reachable", "30s", &[]),
                Gate::new("no-apply-in-progress", "30s", &[]),
                Gate::new("plan-not-stale", "1m", &[("fingerprint", &fingerprint)]),
                Gate::new(
                    "no-blocking-findings",
                    "10s",
                    &[("allowErrors", if request.allow_errors { "true" } else { "false" })],
                ),
            ],
            undo: Vec::new(),
        },
    );

    let mut live = control_planes.clone();
    let mut revision_for_target = None;
    for (index, hop) in hops.iter().enumerate() {
        let number = index + 1;
        let to = crate::version::parse_lenient(&hop.to)
            .map_err(|_| PlanError::NoPath { from: hop.from.clone(), to: hop.to.clone() })?;
        let from = crate::version::parse_lenient(&hop.from).unwrap_or_else(|_| to.clone());
        let canary = hop.strategy == "canary";
        // In place keeps the revision it replaces; canary installs a new one.
        let replaced: Vec<Installed> = live.clone();
        let default_exists = live.iter().any(|c| c.revision == "default" || c.revision == "legacy");
        let revision: Option<String> = if canary {
            hop.revision.clone()
        } else {
            live.iter()
                .find(|c| c.version == from && c.revision != "default" && c.revision != "legacy")
                .map(|c| c.revision.clone())
        };
        revision_for_target.clone_from(&revision);

        // The shared validation webhook (1.5-1.10) keeps pointing at the default istiod while it runs.
        let mut overlay = Map::new();
        if canary && default_exists {
            overlay.insert("base".to_string(), json!({"defaultRevision": ""}));
        }
        let base_mesh = planner.render(&to, revision.as_deref(), overlay.clone())?;

        if let Some((release, objects)) = objects_of(&base_mesh, "base") {
            let crds: Vec<String> = objects
                .iter()
                .filter(|o| str_of(o, "/kind") == "CustomResourceDefinition")
                .map(|o| text(o, "/metadata/name"))
                .collect();
            let (actions, undo) = planner.apply_actions(Some(&release), &release, objects);
            planner.push(
                number,
                StepPhase::Base,
                "base",
                format!("Base {to}: CRDs and cluster-wide resources"),
                Work {
                    actions,
                    gates: vec![Gate::new("crd-established", "2m", &[("crds", &crds.join(","))])],
                    undo,
                },
            );
        }
        // Migrations that must run before the new control plane; their values go into its render.
        let migrations_before = planner.done.len();
        let migration_values = planner.migration_steps(number, &from, &to, Phase::BeforeControlPlane);
        if !migration_values.is_empty() {
            overlay.insert("istiod".to_string(), Value::Object(migration_values));
        }
        let mesh = if overlay.contains_key("istiod") {
            planner.render(&to, revision.as_deref(), overlay.clone())?
        } else {
            base_mesh
        };
        if let Some((release, objects)) = objects_of(&mesh, "istiod") {
            if canary {
                let shared = shared_webhook_services(&planner.state, &objects);
                planner.findings.extend(shared);
            }
            let name = match &revision {
                Some(r) => format!("istiod-{r}"),
                None => "istiod".to_string(),
            };
            let (actions, undo) = planner.apply_actions(Some(&release), &release, objects);
            let label = revision.clone().unwrap_or_else(|| "default".to_string());
            let mut migration_gates = std::mem::take(&mut planner.after_control_plane);
            if let Some(revision) = &revision {
                // They judge the new control plane: its revision's mesh config and proxies.
                for gate in &mut migration_gates {
                    gate.params.insert("revision".to_string(), revision.clone());
                }
            }
            planner.push(
                number,
                StepPhase::ControlPlane,
                "control-plane",
                if canary {
                    format!("Control plane {to} as revision {label}, beside the current one")
                } else {
                    format!("Control plane {to} in place ({label})")
                },
                Work {
                    actions,
                    gates: [
                        rollout_gate(&name),
                        Gate::new(
                            "pods-ready",
                            "5m",
                            &[
                                ("namespace", CONTROL_PLANE_NAMESPACE),
                                ("selector", &format!("app=istiod,istio.io/rev={label}")),
                            ],
                        ),
                        webhook_gate(&name),
                    ]
                    .into_iter()
                    .chain(migration_gates)
                    .collect(),
                    undo,
                },
            );
        }
        // Without a control-plane step in this hop, the last step so far carries them.
        let waiting = std::mem::take(&mut planner.after_control_plane);
        if let Some(last) = planner.steps.last_mut() {
            last.gates.extend(waiting);
        }
        // The control plane is installed by now: values these migrations set would need another
        // control-plane step, and none of the current ones sets any.
        let _ = planner.migration_steps(number, &from, &to, Phase::AfterControlPlane);

        // Revision tags that point at a replaced revision follow the new one (1.10+).
        let old_revisions: Vec<String> = replaced.iter().map(|c| c.revision.clone()).collect();
        let mut moved_tags = Vec::new();
        if canary && let Some(revision) = &revision {
            let tags: Vec<(String, String)> = planner
                .inventory
                .revision_tags
                .iter()
                .filter(|t| old_revisions.contains(&t.revision))
                .map(|t| (t.tag.clone(), t.revision.clone()))
                .collect();
            if !tags.is_empty()
                && planner.catalog.resolve(&to.to_string()).is_ok_and(|r| r.release.features.revision_tags)
            {
                let mut tag_overlay = overlay.clone();
                let istiod = tag_overlay.entry("istiod").or_insert_with(|| json!({}));
                istiod["revisionTags"] = json!(tags.iter().map(|(t, _)| t).collect::<Vec<_>>());
                let tagged = planner.render(&to, Some(revision), tag_overlay)?;
                let webhooks: Vec<Value> = objects_of(&tagged, "istiod")
                    .map(|(_, o)| {
                        o.into_iter()
                            .filter(|o| text(o, "/metadata/name").starts_with("istio-revision-tag-"))
                            .collect()
                    })
                    .unwrap_or_default();
                let mut actions = Vec::new();
                let mut undo = Vec::new();
                for (tag, from_revision) in &tags {
                    let name = format!("istio-revision-tag-{tag}");
                    let Some(webhook) = webhooks.iter().find(|w| str_of(w, "/metadata/name") == name) else {
                        continue;
                    };
                    let previous = planner
                        .state
                        .objects()
                        .find(|o| {
                            str_of(o, "/kind") == "MutatingWebhookConfiguration"
                                && str_of(o, "/metadata/name") == name
                        })
                        .cloned();
                    actions.push(Action::MoveTag {
                        tag: tag.clone(),
                        from: from_revision.clone(),
                        to: revision.clone(),
                        webhook: webhook.clone(),
                    });
                    if let Some(previous) = previous {
                        undo.push(Action::MoveTag {
                            tag: tag.clone(),
                            from: revision.clone(),
                            to: from_revision.clone(),
                            webhook: previous,
                        });
                    }
                    moved_tags.push(tag.clone());
                }
                if !actions.is_empty() {
                    planner.push(
                        number,
                        StepPhase::DataPlane,
                        "move-tags",
                        format!("Move revision tags {} to {revision}", moved_tags.join(", ")),
                        Work { actions, gates: vec![webhook_gate(&format!("istiod-{revision}"))], undo },
                    );
                }
            }
        }

        // The data plane, in batches.
        let destination = dataplane::Destination {
            revision: revision.as_deref(),
            version: &to,
            old_revisions: &old_revisions,
            moved_tags: &moved_tags,
        };
        for batch in dataplane::batches(planner.inventory, &planner.state, &request.data_plane, &destination)
        {
            planner.push(
                number,
                StepPhase::DataPlane,
                &batch.name,
                batch.title,
                Work { actions: batch.actions, gates: batch.gates, undo: batch.undo },
            );
            if let Some(step) = planner.steps.last_mut() {
                step.pause = Some(request.data_plane.pause.clone());
            }
        }

        // Gateways, in place and reversibly (restoring the backups puts the old gateway back).
        for key in ["ingressGateway", "egressGateway"] {
            if let Some((release, objects)) = objects_of(&mesh, key) {
                let deployments: Vec<String> = objects
                    .iter()
                    .filter(|o| str_of(o, "/kind") == "Deployment")
                    .map(|o| text(o, "/metadata/name"))
                    .collect();
                let (actions, undo) = planner.apply_actions(Some(&release), &release, objects);
                let gates = deployments.iter().map(|d| rollout_gate(d)).collect();
                planner.push(
                    number,
                    StepPhase::Gateways,
                    key,
                    format!("Gateway release {release} at {to}"),
                    Work { actions, gates, undo },
                );
            }
        }

        // Finalize: point shared resources at the new control plane, then remove the old one.
        let hop_migrations: Vec<String> = planner.done[migrations_before..].to_vec();
        planner.migration_finalize_steps(number, &to, &hop_migrations);
        let new_objects: Vec<ObjectRef> = mesh
            .components
            .iter()
            .flat_map(|c| c.manifests.iter().filter_map(|m| ObjectRef::of(&m.object)))
            .collect();
        if canary
            && let Some(revision) = &revision
            && default_exists
            && (1, 6) <= (to.major, to.minor)
            && (to.major, to.minor) <= (1, 10)
        {
            let mut overlay = overlay.clone();
            overlay.insert("base".to_string(), json!({"defaultRevision": revision}));
            let promoted = planner.render(&to, Some(revision), overlay)?;
            if let Some((release, objects)) = objects_of(&promoted, "base") {
                let webhooks: Vec<Value> = objects
                    .into_iter()
                    .filter(|o| str_of(o, "/kind") == "ValidatingWebhookConfiguration")
                    .collect();
                if !webhooks.is_empty() {
                    let (actions, undo) = planner.apply_actions(Some(&release), &release, webhooks);
                    planner.push(
                        number,
                        StepPhase::Finalize,
                        "validation",
                        format!("Point the shared validation webhook at istiod-{revision}"),
                        Work { actions, gates: vec![webhook_gate(&format!("istiod-{revision}"))], undo },
                    );
                }
            }
        }
        for old in &replaced {
            if !canary && old.revision != "legacy" {
                continue;
            }
            let removed = old_control_plane_objects(&mut planner, old, &new_objects);
            if removed.is_empty() {
                continue;
            }
            let what = if old.revision == "legacy" {
                "the 1.4 control plane (pilot, galley, citadel, injector, Mixer)".to_string()
            } else {
                format!("control plane {} ({})", old.revision, old.version)
            };
            planner.push(
                number,
                StepPhase::Finalize,
                &format!("remove-{}", old.revision),
                format!("Remove {what}, after a backup"),
                Work {
                    actions: vec![
                        Action::Backup { objects: removed.clone() },
                        Action::Delete { objects: removed.clone() },
                    ],
                    gates: vec![Gate::new(
                        "proxies-converged",
                        "5m",
                        &[("revision", revision.as_deref().unwrap_or("default"))],
                    )],
                    undo: vec![Action::Restore { objects: removed }],
                },
            );
        }
        // CRDs the new base no longer renders, in Istio groups, with every object of their kinds.
        let kept_crds: Vec<String> = objects_of(&mesh, "base")
            .map(|(_, o)| {
                o.iter()
                    .filter(|o| str_of(o, "/kind") == "CustomResourceDefinition")
                    .map(|o| text(o, "/metadata/name"))
                    .collect()
            })
            .unwrap_or_default();
        let legacy_crds: Vec<Value> = planner
            .state
            .objects()
            .filter(|o| {
                let name = text(o, "/metadata/name");
                str_of(o, "/kind") == "CustomResourceDefinition"
                    && name.split_once('.').is_some_and(|(_, g)| g.ends_with("istio.io"))
                    && !kept_crds.contains(&name)
            })
            .cloned()
            .collect();
        if !legacy_crds.is_empty() && !kept_crds.is_empty() {
            let kinds: Vec<(String, String)> =
                legacy_crds.iter().map(|c| (text(c, "/spec/group"), text(c, "/spec/names/kind"))).collect();
            let mut backup: Vec<ObjectRef> = planner
                .state
                .objects()
                .filter(|o| {
                    let api = text(o, "/apiVersion");
                    let group = api.rsplit_once('/').map_or("", |(g, _)| g);
                    kinds.iter().any(|(g, k)| g == group && *k == text(o, "/kind"))
                })
                .filter_map(ObjectRef::of)
                .collect();
            let crds: Vec<ObjectRef> = legacy_crds.iter().filter_map(ObjectRef::of).collect();
            backup.extend(crds.iter().cloned());
            planner.push(
                number,
                StepPhase::Finalize,
                "legacy-crds",
                format!(
                    "Remove {} CRDs Istio {to} no longer has, after backing up them and their objects",
                    crds.len()
                ),
                Work {
                    actions: vec![
                        Action::Backup { objects: backup.clone() },
                        Action::Delete { objects: crds },
                    ],
                    gates: Vec::new(),
                    undo: vec![Action::Restore { objects: backup }],
                },
            );
        }
        live = vec![Installed {
            revision: revision.clone().unwrap_or_else(|| "default".to_string()),
            version: to.clone(),
        }];
    }

    let source = Source {
        kubernetes: inventory.kubernetes_version.as_ref().map(ToString::to_string),
        control_planes: control_planes
            .iter()
            .map(|c| SourceControlPlane { revision: c.revision.clone(), version: c.version.to_string() })
            .collect(),
        tags: planner.inventory.revision_tags.iter().map(|t| (t.tag.clone(), t.revision.clone())).collect(),
        proxies: {
            let mut counts = BTreeMap::new();
            for proxy in &planner.inventory.proxies {
                *counts
                    .entry(proxy.version.as_ref().map_or_else(|| "unknown".to_string(), ToString::to_string))
                    .or_insert(0) += 1;
            }
            counts
        },
    };
    let values = Value::Object(user_values);
    let target = Target {
        version: target.to_string(),
        revision: revision_for_target,
        profile: request.profile.clone(),
        strategy: hops.last().map_or_else(String::new, |h| h.strategy.clone()),
        values_digest: format!(
            "sha256:{}",
            sha256_hex(serde_json::to_string(&values).unwrap_or_default().as_bytes())
        ),
        values,
        data_plane: request.data_plane.clone(),
    };
    let mut findings = planner.findings;
    for finding in findings.iter_mut().filter(|f| f.from == "check") {
        finding.resolved_by = RESOLVED_BY
            .iter()
            .find(|(code, id)| *code == finding.code && planner.done.iter().any(|d| d == id))
            .map(|(_, id)| (*id).to_string());
    }
    let blocked = findings.iter().any(PlanFinding::blocks) && !request.allow_errors;
    let mut steps = planner.steps;
    request.gate_policy.apply(&mut steps);
    let spec = PlanSpec { source, target, fingerprint, hops, findings, blocked, steps };
    let id = sha256_hex(serde_json::to_string(&spec).unwrap_or_default().as_bytes())[..12].to_string();
    Ok(Plan {
        api_version: API_VERSION.to_string(),
        kind: KIND.to_string(),
        metadata: PlanMetadata { id, observed_from: request.observed_from.clone() },
        spec,
    })
}
