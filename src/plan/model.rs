//! The plan file (`apiVersion: sailplan.dev/v1alpha1`, `kind: UpgradePlan`): what an upgrade will do,
//! in order, written so a reviewer can read it in a pull request and `apply` can execute it without
//! re-deriving anything. Every step lists its actions, the gates that must pass after it, and how to
//! undo it. Objects to apply are embedded whole; objects to delete or back up are named. Field order
//! and list order are fixed, so the same inputs always give a byte-identical file.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use crate::cluster::ObjectRef;

/// The plan file's apiVersion.
pub const API_VERSION: &str = "sailplan.dev/v1alpha1";
/// The plan file's kind.
pub const KIND: &str = "UpgradePlan";

/// An upgrade plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    /// Always [`API_VERSION`].
    pub api_version: String,
    /// Always [`KIND`].
    pub kind: String,
    /// Identity.
    pub metadata: PlanMetadata,
    /// Where from, where to, and how.
    pub spec: PlanSpec,
}

impl Plan {
    /// What the plan applies (the last version of each object) and deletes, in plan order.
    pub fn end_objects(&self) -> (Vec<Value>, Vec<ObjectRef>) {
        // By (kind, namespace, name): the last action on an object decides whether it ends applied or
        // deleted; the first one fixes its place in the output.
        type Key = (String, Option<String>, String);
        let key = |r: &ObjectRef| (r.kind.clone(), r.namespace.clone(), r.name.clone());
        let mut order: Vec<Key> = Vec::new();
        let mut last: HashMap<Key, Option<Value>> = HashMap::new();
        let mut deletions: HashMap<Key, ObjectRef> = HashMap::new();
        let mut record = |k: Key, value: Option<Value>, last: &mut HashMap<Key, Option<Value>>| {
            if last.insert(k.clone(), value).is_none() {
                order.push(k);
            }
        };
        for step in &self.spec.steps {
            for action in &step.actions {
                match action {
                    Action::Apply { objects, .. } => {
                        for object in objects {
                            if let Some(reference) = ObjectRef::of(object) {
                                record(key(&reference), Some(object.clone()), &mut last);
                            }
                        }
                    }
                    Action::MoveTag { webhook, .. } => {
                        if let Some(reference) = ObjectRef::of(webhook) {
                            record(key(&reference), Some(webhook.clone()), &mut last);
                        }
                    }
                    Action::Delete { objects } => {
                        for reference in objects {
                            deletions.insert(key(reference), reference.clone());
                            record(key(reference), None, &mut last);
                        }
                    }
                    _ => {}
                }
            }
        }
        let mut applied = Vec::new();
        let mut deleted = Vec::new();
        for k in order {
            match last.remove(&k).flatten() {
                Some(object) => applied.push(object),
                None => deleted.extend(deletions.remove(&k)),
            }
        }
        (applied, deleted)
    }
}

/// A plan's identity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanMetadata {
    /// A short id derived from the plan's content (the same plan always has the same id).
    pub id: String,
    /// What the observed state came from: `snapshot` or `cluster`.
    pub observed_from: String,
}

/// What the plan does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanSpec {
    /// The observed state.
    pub source: Source,
    /// The requested state.
    pub target: Target,
    /// A digest of the observed objects the plan depends on; `apply` refuses the plan when the
    /// cluster no longer matches it.
    pub fingerprint: String,
    /// The version hops, in order.
    pub hops: Vec<Hop>,
    /// Findings that block the plan (errors) or need a human, from `check` and the migrations.
    pub findings: Vec<PlanFinding>,
    /// True when error findings block `apply` (unless the plan was made with `--allow-errors`).
    pub blocked: bool,
    /// The steps, in order.
    pub steps: Vec<Step>,
}

/// The observed state, summarised.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Source {
    /// The Kubernetes version, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kubernetes: Option<String>,
    /// Installed control planes.
    pub control_planes: Vec<SourceControlPlane>,
    /// Revision tags and the revision each points at.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    /// Injected proxies per version.
    pub proxies: BTreeMap<String, usize>,
}

/// One installed control plane.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SourceControlPlane {
    /// `default`, a revision, or `legacy` (1.4 microservices).
    pub revision: String,
    /// Its version.
    pub version: String,
}

/// The requested state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Target {
    /// The Istio version.
    pub version: String,
    /// The new control plane's revision (none for an in-place upgrade of a default control plane).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
    /// The profile.
    pub profile: String,
    /// `canary` or `in-place` for the last hop.
    pub strategy: String,
    /// sha256 of the user's merged values (the values themselves are in `values`).
    pub values_digest: String,
    /// The user's merged values (`-f` and `--set`), as rendered.
    pub values: Value,
    /// How the data plane moves.
    pub data_plane: DataPlanePolicy,
}

/// How the data plane moves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DataPlanePolicy {
    /// Namespaces per batch.
    pub batch_size: usize,
    /// Pause after each batch, e.g. `30s`.
    pub pause: String,
    /// Namespaces moved first, in this order; the rest follow by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub namespace_order: Vec<String>,
}

/// One version hop.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Hop {
    /// From this version.
    pub from: String,
    /// To this version.
    pub to: String,
    /// `canary` or `in-place`.
    pub strategy: String,
    /// The revision installed by this hop (canary), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
}

/// A finding recorded in the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanFinding {
    /// The code.
    pub code: String,
    /// `error`, `warning` or `info`.
    pub severity: String,
    /// The object, as `Kind ns/name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    /// What is wrong.
    pub message: String,
    /// What to do.
    pub hint: String,
    /// Where it came from: `check` or a migration id.
    pub from: String,
    /// The migration in this plan that deals with it (it then does not block the plan).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_by: Option<String>,
}

impl PlanFinding {
    /// Whether it is an error.
    pub fn is_error(&self) -> bool {
        self.severity == "error"
    }

    /// Whether it blocks the plan: an error no planned migration deals with.
    pub fn blocks(&self) -> bool {
        self.is_error() && self.resolved_by.is_none()
    }
}

/// When in a hop a step runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StepPhase {
    /// Checks before anything changes.
    Preflight,
    /// CRDs and cluster-wide resources.
    Base,
    /// Migrations that must run before the new control plane.
    BeforeControlPlane,
    /// The new control plane.
    ControlPlane,
    /// Migrations that run once the new control plane is healthy.
    AfterControlPlane,
    /// Moving workloads to the new control plane, in batches.
    DataPlane,
    /// Gateways.
    Gateways,
    /// Removing what the old version left behind (may be a separate, later apply).
    Finalize,
}

/// One step: actions, then gates; undone as a whole when a gate fails.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Step {
    /// Unique and stable, e.g. `h1-03-control-plane`.
    pub id: String,
    /// The hop (1-based).
    pub hop: usize,
    /// Its phase.
    pub phase: StepPhase,
    /// One line.
    pub title: String,
    /// What it does, in order. Objects a step updates or deletes are backed up first.
    pub actions: Vec<Action>,
    /// What must hold afterwards.
    pub gates: Vec<Gate>,
    /// How to undo it, in order.
    pub undo: Vec<Action>,
    /// How long to wait after the gates pass before the next step (data-plane batches).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pause: Option<String>,
    /// Findings a human must look at before this step (e.g. what a migration could not convert).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub needs_human: Vec<String>,
}

/// An object a release takes over from another release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Handover {
    /// The object.
    pub object: ObjectRef,
    /// The release that owns it before the step (in the same namespace as the one taking it).
    pub from: String,
}

/// One thing a step does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Action {
    /// Back these objects up (locally and in the cluster) before anything changes them.
    #[serde(rename_all = "camelCase")]
    Backup {
        /// The objects.
        objects: Vec<ObjectRef>,
    },
    /// Server-side apply these objects.
    #[serde(rename_all = "camelCase")]
    Apply {
        /// The Helm release they belong to, recorded as a release when set.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        release: Option<String>,
        /// Where they come from: a chart release or a migration id.
        source: String,
        /// The objects.
        objects: Vec<Value>,
        /// Objects among them that exist without any Helm release's markers (installed by istioctl
        /// or kubectl): the release takes them over. Helm refuses to; the plan says so instead,
        /// where a reviewer sees it.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        adopt: Vec<ObjectRef>,
        /// Objects among them that another of the mesh's releases in the same namespace owns now
        /// (a chart moved them, e.g. the validating webhook from `istiod` to `istio-base` in 1.7):
        /// they change hands, and the previous owner's record stops listing them, so removing that
        /// release later leaves them alone. Helm refuses this; the plan names each object and its
        /// previous owner instead.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        handover: Vec<Handover>,
    },
    /// Delete these objects (they were backed up by an earlier action of the step).
    #[serde(rename_all = "camelCase")]
    Delete {
        /// The objects.
        objects: Vec<ObjectRef>,
    },
    /// Restore these objects from the step's backups (undo).
    #[serde(rename_all = "camelCase")]
    Restore {
        /// The objects.
        objects: Vec<ObjectRef>,
    },
    /// Set and remove namespace labels.
    #[serde(rename_all = "camelCase")]
    Relabel {
        /// The namespace.
        namespace: String,
        /// Labels to set.
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        set: BTreeMap<String, String>,
        /// Labels to remove.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        remove: Vec<String>,
    },
    /// Restart workloads (`kubectl rollout restart`) so their pods are injected again.
    #[serde(rename_all = "camelCase")]
    Restart {
        /// The namespace.
        namespace: String,
        /// The Deployments, StatefulSets and DaemonSets.
        workloads: Vec<ObjectRef>,
    },
    /// Point a revision tag at another revision (applies the tag's webhook).
    #[serde(rename_all = "camelCase")]
    MoveTag {
        /// The tag.
        tag: String,
        /// The revision it pointed at.
        from: String,
        /// The revision it points at afterwards.
        to: String,
        /// The tag's webhook as it will be applied.
        webhook: Value,
    },
}

/// Every gate a plan may name (`sailplan apply` evaluates each of them).
pub const GATE_NAMES: [&str; 19] = [
    "cluster-reachable",
    "no-apply-in-progress",
    "plan-not-stale",
    "no-blocking-findings",
    "rollout-complete",
    "pods-ready",
    "proxies-converged",
    "no-dual-injection-labels",
    "crd-established",
    "webhook-ready",
    "root-ca-unchanged",
    "config-accepted",
    "policy-checks-off",
    "telemetry-v2-metrics",
    "jwks-reachable",
    "gateway-tls-handshake",
    "authz-tcp-scoped",
    "prometheus-query",
    "http-probe",
];

/// A gate: a named check with a timeout and a verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Gate {
    /// What it checks (one of the built-in gates).
    pub name: String,
    /// Its parameters.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub params: BTreeMap<String, String>,
    /// How long it may take, e.g. `5m`.
    pub timeout: String,
    /// What "no data" means (metric gates): `fail` or `pass`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_data: Option<String>,
}

impl Gate {
    /// A gate with parameters.
    pub fn new(name: &str, timeout: &str, params: &[(&str, &str)]) -> Gate {
        Gate {
            name: name.to_string(),
            params: params.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            timeout: timeout.to_string(),
            no_data: None,
        }
    }
}
