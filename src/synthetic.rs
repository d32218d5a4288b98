//! Synthetic snapshots: large, realistic meshes made up from a few numbers, for benchmarks and tests
//! that need clusters far bigger than the hand-written examples under `examples/snapshots/` (5,000
//! namespaces and 50,000 pods instead of a dozen), without a cluster and without shipping megabytes of
//! fixtures.
//!
//! The objects are modelled on those examples and on what `collect` records: an Istio control plane of
//! the requested version laid out as that version installs it (the 1.4 microservices, istiod, or a
//! revisioned istiod with a `default` revision tag), an ingress gateway, namespaces with a mix of
//! injection labels, Deployments, StatefulSets and DaemonSets with their pods (injected ones carry the
//! version's sidecar, `sidecar.istio.io/status` and revision record), Services, Secrets by name, type
//! and key names only, CRDs without schemas, and Istio configuration that refers to the generated
//! services. With `legacy`, alpha authentication policies and Mixer configuration (and Mixer itself,
//! where the version still ships it) are added so the migrations have work to do.
//!
//! Generation is a pure function of the spec: a small inline SplitMix64 generator seeded from
//! `seed` provides the variety, and timestamps count back from a fixed collection time, so the same
//! spec always gives byte-identical snapshot files.

use serde_json::{Map, Value, json};

use crate::catalog::{Catalog, CatalogError, Features, RevisionRecord};
use crate::cluster::Resource;
use crate::collect::SECRET_KEYS_ANNOTATION;
use crate::snapshot::{FORMAT_VERSION, Snapshot, SnapshotInfo};

/// What to generate. Counts are totals of the snapshot: `namespaces` Namespace objects (the control
/// plane's `istio-system` included), `pods` Pod objects (control-plane and gateway pods included) and
/// `istio_objects` objects of `*.istio.io` API groups (legacy ones included).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntheticSpec {
    /// Namespace objects, `istio-system` included (at least 1).
    pub namespaces: usize,
    /// Pod objects, control-plane and gateway pods included.
    pub pods: usize,
    /// Objects of Istio API groups.
    pub istio_objects: usize,
    /// The Istio version running: a catalogued minor (`1.6`) or an exact version (`1.6.14`).
    pub version: String,
    /// The control plane's revision (Istio 1.6 and later), e.g. `1-6-14`; `None` for a
    /// non-revisioned control plane.
    pub revision: Option<String>,
    /// Add alpha authentication policies (MeshPolicy, Policy) and Mixer configuration, and Mixer's
    /// Deployments where the version still ships Mixer.
    pub legacy: bool,
    /// Seed of the variety (names, replicas, label mix); the same seed gives the same snapshot.
    pub seed: u64,
}

/// A spec that cannot be generated.
#[derive(Debug, thiserror::Error)]
pub enum SyntheticError {
    /// The version is not in the catalog.
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    /// A revision was asked for on a version without revisions.
    #[error("Istio {version} has no revisioned control planes (revisions start with 1.6)")]
    NoRevisions {
        /// The version.
        version: String,
    },
    /// Fewer pods than the control plane runs.
    #[error("the control plane of this spec runs {needed} pods, but only {asked} pods were asked for")]
    TooFewPods {
        /// Pods asked for.
        asked: usize,
        /// Pods of the control plane and gateway.
        needed: usize,
    },
    /// No namespace at all, or application pods without an application namespace.
    #[error("{0}")]
    TooFewNamespaces(&'static str),
}

/// Generates the snapshot a spec describes.
pub fn generate(spec: &SyntheticSpec) -> Result<Snapshot, SyntheticError> {
    let catalog = Catalog::embedded()?;
    let resolved = catalog.resolve(&spec.version)?;
    let era = Era {
        version: resolved.version.clone(),
        features: resolved.release.features,
        kubernetes: {
            let newest = resolved.release.newest_kubernetes();
            semver::Version::new(newest.major, newest.minor, 9)
        },
    };
    if spec.revision.is_some() && !era.features.revisions {
        return Err(SyntheticError::NoRevisions { version: era.version.to_string() });
    }
    if spec.namespaces == 0 {
        return Err(SyntheticError::TooFewNamespaces(
            "the control plane needs its namespace: ask for at least 1",
        ));
    }
    let mixer = spec.legacy && era.features.mixer_available;
    let control_plane_pods =
        if era.features.istiod { 1 } else { LEGACY_PLANE.len() } + 1 + if mixer { 2 } else { 0 };
    if spec.pods < control_plane_pods {
        return Err(SyntheticError::TooFewPods { asked: spec.pods, needed: control_plane_pods });
    }
    if spec.pods > control_plane_pods && spec.namespaces < 2 {
        return Err(SyntheticError::TooFewNamespaces(
            "application pods need an application namespace: ask for at least 2 namespaces",
        ));
    }
    let mut generator = Generator {
        era,
        revision: spec.revision.clone(),
        legacy: spec.legacy,
        rng: Rng(spec.seed),
        objects: Vec::new(),
        resource_version: 10_000,
        pods: 0,
        services: 0,
        targets: Vec::new(),
    };
    let plane = generator.control_plane(mixer);
    generator.applications(spec.namespaces - 1, spec.pods - control_plane_pods, &plane);
    generator.istio_config(spec.istio_objects);
    let served = generator.crds();
    let info = SnapshotInfo {
        format_version: FORMAT_VERSION,
        kubernetes_version: Some(generator.era.kubernetes.to_string()),
        collected_at: Some(timestamp(0)),
        tool_version: Some(env!("CARGO_PKG_VERSION").to_string()),
        served,
    };
    // What `collect` would keep of these objects, so a synthetic snapshot is what collecting such a
    // cluster gives.
    for object in &mut generator.objects {
        crate::collect::sanitize(object);
    }
    Ok(Snapshot::new(info, generator.objects))
}

/// The control plane's namespace.
const ISTIO_NAMESPACE: &str = "istio-system";
/// The image registry of Istio's images.
const HUB: &str = "docker.io/istio";
/// The collection time, in seconds since the epoch (2026-11-22T06:00:00Z); every other timestamp
/// counts back from it.
const COLLECTED_AT: i64 = 1_795_327_200;
const DAY: i64 = 86_400;

/// The 1.4 control-plane Deployments and the images they run.
const LEGACY_PLANE: [(&str, &str); 4] = [
    ("istio-pilot", "pilot"),
    ("istio-galley", "galley"),
    ("istio-citadel", "citadel"),
    ("istio-sidecar-injector", "sidecar_injector"),
];

/// Team names that make up namespace names.
const TEAMS: [&str; 16] = [
    "payments",
    "web",
    "shop",
    "orders",
    "data",
    "ml",
    "search",
    "identity",
    "platform",
    "media",
    "analytics",
    "billing",
    "ops",
    "edge",
    "mobile",
    "partners",
];

/// Workload names within a namespace.
const WORKLOADS: [&str; 24] = [
    "api",
    "frontend",
    "worker",
    "cart",
    "catalog",
    "checkout",
    "ledger",
    "search",
    "auth",
    "inventory",
    "notifications",
    "reports",
    "profile",
    "shipping",
    "pricing",
    "recommendations",
    "reviews",
    "ratings",
    "details",
    "media",
    "scheduler",
    "gateway-bff",
    "events",
    "exporter",
];

/// The characters Kubernetes uses in generated name suffixes.
const SUFFIX_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// The PEM of the example clusters' self-signed root (public part only; see examples/snapshots).
const ROOT_CERT: &str = "-----BEGIN CERTIFICATE-----
MIIDHzCCAgegAwIBAgIKYaDE0vO36AkaKzANBgkqhkiG9w0BAQsFADA8MRUwEwYD
VQQKDAxFeGFtcGxlIENvcnAxIzAhBgNVBAMMGkV4YW1wbGUgQ29ycCBJc3RpbyBS
b290IENBMB4XDTI1MDMwMzA5MDAwMFoXDTQ1MDIyNjA5MDAwMFowPDEVMBMGA1UE
CgwMRXhhbXBsZSBDb3JwMSMwIQYDVQQDDBpFeGFtcGxlIENvcnAgSXN0aW8gUm9v
dCBDQTCCASIwDQYJKoZIhvcNAQEBBQADggEPADCCAQoCggEBAKu+GBKgGLw1oBE9
r4E1cGH7Y0zAXstpjbQZgxWllu7wRLNv4RNUN9pZ+Rxv83PPsK9b6IPcrH1mz5RW
rNqbeuoBo7i3yWCJR1gQABzwNvhY3fNpYW51V9l+ku8LNEGl0Dl4Raw+U9F54vR4
T4rMRiTDWDZVwRGb0JtWGjDpLo6BaB+6axw1boOu9q9eSUiz8Hm0gp90tmZLJbK1
0UsTrLwOumr8uo+CUwbGBQOyKOkHNlAcpwBpzaK9oOYEpmYZd1lCPyj4Q6BoCA4o
K/woVbNHt8tKfIg3zkuhYvFbaLTgpuZTRMlDEGixiEMfaIsv7yKvJ4e7i06Ran8D
UZJlCHMCAwEAAaMjMCEwDwYDVR0TAQH/BAUwAwEB/zAOBgNVHQ8BAf8EBAMCAYYw
DQYJKoZIhvcNAQELBQADggEBAHFbesTmqo2cChO0keIH46DdGdZuYkrAddCmjkry
g8wcnElzPtVT4Z9uZomevOTJOMSRlgUQjTPRQmkveW2pk7NY3+3IWdZs5guW6E2n
6dfmEdshL3dUrgppdNl4EEinq9xIjVJFuK7cw/mvBYLKfviJwCJs6U24DKyAD4Rr
XWnPmEu0H8b25VdhuBHXkOJw8jW9QAyUa1egHebyc3Sa/qM6GClT6G9NBr1hrLFo
f/btPlzhncmlkcehUziTA4ZJRx6Fb56UTGH6YVb1N2WWpcDPGManuOr7mDL2M3VK
mCQoVoPwKDvtW9p1j6GaZN0I4DmImI9FshhkoaB+l8Y/++o=
-----END CERTIFICATE-----
";

/// An RFC 3339 time `seconds_before` the collection time.
fn timestamp(seconds_before: i64) -> String {
    k8s_openapi::jiff::Timestamp::from_second(COLLECTED_AT - seconds_before)
        .map_or_else(|_| String::new(), |t| t.to_string())
}

/// SplitMix64: tiny, fast and good enough for picking names and shares; no dependency needed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    /// True `percent` times in a hundred.
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    /// A name suffix as the ReplicaSet and pod controllers make them.
    fn suffix(&mut self, length: usize) -> String {
        (0..length)
            .map(|_| char::from(SUFFIX_ALPHABET[self.below(SUFFIX_ALPHABET.len() as u64) as usize]))
            .collect()
    }

    /// A uid in the layout the API server uses.
    fn uid(&mut self) -> String {
        let (a, b) = (self.next(), self.next());
        format!(
            "{:08x}-{:04x}-5{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            0x8000 | ((b >> 48) & 0x3fff),
            b & 0xffff_ffff_ffff
        )
    }
}

/// What the running version does, from the catalog, plus the API versions it serves.
struct Era {
    version: semver::Version,
    features: Features,
    kubernetes: semver::Version,
}

impl Era {
    fn minor(&self) -> u64 {
        self.version.minor
    }

    /// The preferred version of `networking.istio.io` (EnvoyFilter aside).
    fn networking(&self) -> &'static str {
        match self.minor() {
            ..5 => "v1alpha3",
            5..22 => "v1beta1",
            _ => "v1",
        }
    }

    /// The preferred version of `security.istio.io`.
    fn security(&self) -> &'static str {
        if self.minor() < 22 { "v1beta1" } else { "v1" }
    }

    /// The preferred version of `telemetry.istio.io`.
    fn telemetry(&self) -> &'static str {
        if self.minor() < 22 { "v1alpha1" } else { "v1" }
    }

    /// Built-in API groups at v1 (Kubernetes 1.16 and later) or v1beta1.
    fn builtin(&self, group: &str) -> String {
        let version = if self.kubernetes.minor >= 16 { "v1" } else { "v1beta1" };
        format!("{group}/{version}")
    }

    /// Whether pods carry the newer sidecar layout (istio-agent with short arguments, 1.11+).
    fn agent_sidecar(&self) -> bool {
        self.minor() >= 11
    }

    /// The version of proxies that were not restarted since the last patch upgrade.
    fn previous_patch(&self) -> semver::Version {
        semver::Version::new(self.version.major, self.version.minor, self.version.patch.saturating_sub(1))
    }
}

/// A Service that Istio configuration can refer to.
#[derive(Clone)]
struct Target {
    namespace: String,
    name: String,
    port: u16,
}

/// A workload to make: where, what, how many pods, and whether its namespace gets sidecars.
struct App<'a> {
    namespace: &'a str,
    team: &'a str,
    name: String,
    kind: &'static str,
    replicas: usize,
    meshed: bool,
}

/// What the application namespaces need to know about the control plane.
struct Plane {
    /// The revision that injects (`default` for a non-revisioned control plane).
    injecting_revision: String,
    /// The `istio.io/rev` value namespaces use, where revisions exist.
    namespace_revision: Option<String>,
    /// Whether `istio-injection=enabled` namespaces get sidecars.
    default_injection: bool,
    /// The address proxies connect to.
    discovery: String,
}

struct Generator {
    era: Era,
    revision: Option<String>,
    legacy: bool,
    rng: Rng,
    objects: Vec<Value>,
    resource_version: u64,
    pods: u64,
    services: u64,
    targets: Vec<Target>,
}

/// Inserts `key: value` pairs into a JSON object (a no-op for anything else).
fn extend(object: &mut Value, entries: impl IntoIterator<Item = (String, Value)>) {
    if let Some(map) = object.as_object_mut() {
        map.extend(entries);
    }
}

fn labels(pairs: &[(&str, &str)]) -> Map<String, Value> {
    pairs.iter().map(|(k, v)| (k.to_string(), Value::String(v.to_string()))).collect()
}

/// The labels, annotations and creation time of an object to make.
#[derive(Debug, Clone, Default)]
struct About {
    labels: Map<String, Value>,
    annotations: Map<String, Value>,
    created: String,
}

impl About {
    fn new(labels: Map<String, Value>, annotations: Map<String, Value>, created: &str) -> About {
        About { labels, annotations, created: created.to_string() }
    }

    fn at(created: &str) -> About {
        About::new(Map::new(), Map::new(), created)
    }
}

impl Generator {
    fn suffix(&self) -> String {
        self.revision.as_ref().map_or_else(String::new, |r| format!("-{r}"))
    }

    /// Object metadata as the API server returns it: name, namespace, uid, resourceVersion,
    /// creationTimestamp, then labels and annotations when there are any.
    fn metadata(&mut self, name: &str, namespace: Option<&str>, about: About) -> Value {
        let About { labels, annotations, created } = about;
        self.resource_version += 1 + self.rng.below(7);
        let mut meta = Map::new();
        meta.insert("name".into(), json!(name));
        if let Some(namespace) = namespace {
            meta.insert("namespace".into(), json!(namespace));
        }
        meta.insert("uid".into(), json!(self.rng.uid()));
        meta.insert("resourceVersion".into(), json!(self.resource_version.to_string()));
        meta.insert("creationTimestamp".into(), json!(created));
        if !labels.is_empty() {
            meta.insert("labels".into(), Value::Object(labels));
        }
        if !annotations.is_empty() {
            meta.insert("annotations".into(), Value::Object(annotations));
        }
        Value::Object(meta)
    }

    /// Labels and annotations that say how a control-plane object was installed: Helm releases as
    /// sailplan installs them (1.6+), `istioctl` (1.5) or the Tiller charts (1.4).
    fn installed_by(&self, component: &str, release: &str) -> (Map<String, Value>, Map<String, Value>) {
        let version = self.era.version.to_string();
        match self.era.minor() {
            ..5 => {
                (labels(&[("chart", component), ("heritage", "Tiller"), ("release", "istio")]), Map::new())
            }
            5 => (
                labels(&[
                    ("operator.istio.io/component", component),
                    ("operator.istio.io/managed", "Reconcile"),
                    ("operator.istio.io/version", &version),
                    ("release", "istio"),
                ]),
                Map::new(),
            ),
            _ => (
                labels(&[
                    ("release", release),
                    ("app.kubernetes.io/managed-by", "Helm"),
                    ("sailplan.dev/component", component),
                    ("sailplan.dev/version", &version),
                ]),
                labels(&[
                    ("meta.helm.sh/release-name", release),
                    ("meta.helm.sh/release-namespace", ISTIO_NAMESPACE),
                ]),
            ),
        }
    }

    fn namespace(&mut self, name: &str, mut labels: Map<String, Value>, created: &str) {
        labels.insert("kubernetes.io/metadata.name".into(), json!(name));
        let metadata = self.metadata(name, None, About::new(labels, Map::new(), created));
        self.objects.push(json!({
            "apiVersion": "v1", "kind": "Namespace", "metadata": metadata,
            "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"},
        }));
    }

    /// A Secret as `collect` records it: type and key names, no data.
    fn secret(&mut self, (namespace, name): (&str, &str), kind: &str, keys: &str, mut about: About) {
        about.annotations.insert(SECRET_KEYS_ANNOTATION.into(), json!(keys));
        let metadata = self.metadata(name, Some(namespace), about);
        self.objects.push(json!({"apiVersion": "v1", "kind": "Secret", "metadata": metadata, "type": kind}));
    }

    /// A ClusterIP (or LoadBalancer) Service selecting `selector`.
    fn service(
        &mut self,
        (namespace, name): (&str, &str),
        about: About,
        ports: Value,
        selector: Map<String, Value>,
        load_balancer: bool,
    ) {
        self.services += 1;
        let ip = format!(
            "10.{}.{}.{}",
            96 + self.services / 65_536,
            (self.services / 256) % 256,
            self.services % 256
        );
        let metadata = self.metadata(name, Some(namespace), about);
        let mut spec = json!({
            "clusterIP": ip, "clusterIPs": [ip], "internalTrafficPolicy": "Cluster", "ipFamilies": ["IPv4"],
            "ipFamilyPolicy": "SingleStack", "ports": ports, "selector": selector, "sessionAffinity": "None",
            "type": if load_balancer { "LoadBalancer" } else { "ClusterIP" },
        });
        let status = if load_balancer {
            extend(&mut spec, [("externalTrafficPolicy".to_string(), json!("Cluster"))]);
            json!({"loadBalancer": {"ingress": [{"ip": format!("203.0.113.{}", 10 + self.services % 200)}]}})
        } else {
            json!({"loadBalancer": {}})
        };
        self.objects.push(json!({"apiVersion": "v1", "kind": "Service", "metadata": metadata, "spec": spec, "status": status}));
    }

    /// A workload (Deployment, StatefulSet or DaemonSet) with its pod template and status.
    fn workload(
        &mut self,
        kind: &str,
        (namespace, name): (&str, &str),
        about: About,
        selector: &Map<String, Value>,
        (template, pod_spec): (&About, &Value),
        replicas: usize,
    ) {
        let generation = 1 + self.rng.below(40);
        let mut metadata = self.metadata(name, Some(namespace), about);
        extend(&mut metadata, [("generation".to_string(), json!(generation))]);
        let mut template_metadata = Map::new();
        template_metadata.insert("labels".into(), Value::Object(template.labels.clone()));
        if !template.annotations.is_empty() {
            template_metadata.insert("annotations".into(), Value::Object(template.annotations.clone()));
        }
        let template = json!({"metadata": template_metadata, "spec": pod_spec});
        let changed = timestamp(DAY * (1 + self.rng.below(60)) as i64);
        let (spec, status) = match kind {
            "StatefulSet" => (
                json!({
                    "podManagementPolicy": "OrderedReady", "replicas": replicas, "revisionHistoryLimit": 10,
                    "selector": {"matchLabels": selector}, "serviceName": name, "template": template,
                    "updateStrategy": {"rollingUpdate": {"partition": 0}, "type": "RollingUpdate"},
                }),
                json!({
                    "availableReplicas": replicas, "collisionCount": 0, "currentReplicas": replicas,
                    "observedGeneration": generation, "readyReplicas": replicas, "replicas": replicas,
                    "updatedReplicas": replicas,
                }),
            ),
            "DaemonSet" => (
                json!({
                    "revisionHistoryLimit": 10, "selector": {"matchLabels": selector}, "template": template,
                    "updateStrategy": {"rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1}, "type": "RollingUpdate"},
                }),
                json!({
                    "currentNumberScheduled": replicas, "desiredNumberScheduled": replicas, "numberAvailable": replicas,
                    "numberMisscheduled": 0, "numberReady": replicas, "observedGeneration": generation,
                    "updatedNumberScheduled": replicas,
                }),
            ),
            _ => (
                json!({
                    "progressDeadlineSeconds": 600, "replicas": replicas, "revisionHistoryLimit": 10,
                    "selector": {"matchLabels": selector},
                    "strategy": {"rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}, "type": "RollingUpdate"},
                    "template": template,
                }),
                json!({
                    "observedGeneration": generation, "replicas": replicas, "updatedReplicas": replicas,
                    "readyReplicas": replicas, "availableReplicas": replicas,
                    "conditions": [
                        {"type": "Available", "status": "True", "lastUpdateTime": changed, "lastTransitionTime": changed,
                         "reason": "MinimumReplicasAvailable", "message": "Deployment has minimum availability."},
                        {"type": "Progressing", "status": "True", "lastUpdateTime": changed, "lastTransitionTime": changed,
                         "reason": "NewReplicaSetAvailable", "message": format!("ReplicaSet \"{name}\" has successfully progressed.")},
                    ],
                }),
            ),
        };
        self.objects.push(json!({"apiVersion": "apps/v1", "kind": kind, "metadata": metadata, "spec": spec, "status": status}));
    }

    /// One running pod of a workload: the template's spec plus what the scheduler and kubelet add.
    fn pod(
        &mut self,
        (namespace, name): (&str, &str),
        owner: (&str, &str, &str),
        about: About,
        mut spec: Value,
    ) {
        self.pods += 1;
        let started = about.created.clone();
        let started = started.as_str();
        let (owner_kind, owner_name, owner_uid) = owner;
        let generate_name = match owner_kind {
            "StatefulSet" => format!("{owner_name}-"),
            _ => format!("{}-", name.rsplit_once('-').map_or(name, |(prefix, _)| prefix)),
        };
        let mut metadata = self.metadata(name, Some(namespace), about);
        if let Some(map) = metadata.as_object_mut() {
            map.shift_insert(0, "generateName".into(), json!(generate_name));
            map.insert(
                "ownerReferences".into(),
                json!([{"apiVersion": "apps/v1", "kind": owner_kind, "name": owner_name, "uid": owner_uid,
                        "controller": true, "blockOwnerDeletion": true}]),
            );
        }
        let node = format!("aks-apps-31415926-vmss{:06}", self.pods % 997);
        let pod_ip =
            format!("10.{}.{}.{}", 244 + (self.pods / 65_536) % 8, (self.pods / 256) % 256, self.pods % 256);
        let host_ip = format!("10.224.{}.{}", (self.pods % 997) / 250, 4 + (self.pods % 997) % 250);
        let statuses = |list: &str, spec: &Value| -> Vec<Value> {
            spec.get(list)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|c| {
                    let state = if list == "initContainers" {
                        json!({"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": started, "finishedAt": started}})
                    } else {
                        json!({"running": {"startedAt": started}})
                    };
                    json!({"name": c["name"], "image": c["image"], "ready": true, "restartCount": 0,
                           "started": list != "initContainers", "state": state})
                })
                .collect()
        };
        let init_statuses = statuses("initContainers", &spec);
        let mut container_statuses = statuses("containers", &spec);
        container_statuses.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
        extend(
            &mut spec,
            [
                ("enableServiceLinks".to_string(), json!(true)),
                ("nodeName".to_string(), json!(node)),
                ("preemptionPolicy".to_string(), json!("PreemptLowerPriority")),
                ("priority".to_string(), json!(0)),
                (
                    "tolerations".to_string(),
                    json!([
                        {"effect": "NoExecute", "key": "node.kubernetes.io/not-ready", "operator": "Exists", "tolerationSeconds": 300},
                        {"effect": "NoExecute", "key": "node.kubernetes.io/unreachable", "operator": "Exists", "tolerationSeconds": 300},
                    ]),
                ),
            ],
        );
        let condition = |kind: &str| json!({"type": kind, "status": "True", "lastProbeTime": null, "lastTransitionTime": started});
        let conditions: Vec<Value> =
            ["PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"]
                .into_iter()
                .map(condition)
                .collect();
        let mut status = json!({
            "phase": "Running",
            "conditions": conditions,
            "hostIP": host_ip, "podIP": pod_ip, "hostIPs": [{"ip": host_ip}], "podIPs": [{"ip": pod_ip}],
            "startTime": started,
        });
        if !init_statuses.is_empty() {
            extend(&mut status, [("initContainerStatuses".to_string(), json!(init_statuses))]);
        }
        extend(
            &mut status,
            [
                ("containerStatuses".to_string(), json!(container_statuses)),
                ("qosClass".to_string(), json!("Burstable")),
            ],
        );
        self.objects.push(
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec, "status": status}),
        );
    }

    /// A single-replica control-plane Deployment with its pod (owned through a ReplicaSet).
    fn plane_deployment(
        &mut self,
        name: &str,
        (component, release): (&str, &str),
        mut pod: About,
        pod_spec: &Value,
    ) -> String {
        let (mut labels, annotations) = self.installed_by(component, release);
        for (key, value) in &pod.labels {
            if key != "sidecar.istio.io/inject" && !key.starts_with("service.istio.io/") {
                labels.insert(key.clone(), value.clone());
            }
        }
        let selector: Map<String, Value> = pod
            .labels
            .iter()
            .filter(|(k, _)| matches!(k.as_str(), "app" | "istio" | "istio.io/rev"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let about = About::new(labels, annotations, &pod.created);
        self.workload("Deployment", (ISTIO_NAMESPACE, name), about, &selector, (&pod, pod_spec), 1);
        let hash = self.rng.suffix(10);
        let pod_name = format!("{name}-{hash}-{}", self.rng.suffix(5));
        pod.labels.insert("pod-template-hash".into(), json!(hash));
        pod.created = timestamp(DAY * (2 + self.rng.below(20)) as i64);
        let owner_uid = self.rng.uid();
        let owner = format!("{name}-{hash}");
        self.pod(
            (ISTIO_NAMESPACE, &pod_name),
            ("ReplicaSet", &owner, &owner_uid),
            pod,
            defaults(pod_spec.clone()),
        );
        pod_name
    }

    /// The Endpoints `collect` records for a webhook's Service, pointing at its pod.
    fn endpoints(&mut self, name: &str, pod: &str, labels: Map<String, Value>, ports: Value, created: &str) {
        let metadata = self.metadata(name, Some(ISTIO_NAMESPACE), About::new(labels, Map::new(), created));
        let ip = format!("10.244.0.{}", 10 + self.rng.below(200));
        let pod_uid = self.rng.uid();
        self.objects.push(json!({
            "apiVersion": "v1", "kind": "Endpoints", "metadata": metadata,
            "subsets": [{
                "addresses": [{"ip": ip, "nodeName": "aks-apps-31415926-vmss000000",
                               "targetRef": {"kind": "Pod", "name": pod, "namespace": ISTIO_NAMESPACE, "uid": pod_uid}}],
                "ports": ports,
            }],
        }));
    }

    /// The control plane, its webhooks, ConfigMaps and Secrets, and the ingress gateway.
    fn control_plane(&mut self, mixer: bool) -> Plane {
        let installed = timestamp(DAY * 70);
        let namespace_labels =
            if self.era.minor() < 6 { labels(&[("istio-injection", "disabled")]) } else { Map::new() };
        self.namespace(ISTIO_NAMESPACE, namespace_labels, &installed);
        let suffix = self.suffix();
        let revision = self.revision.clone();
        let injecting_revision = revision.clone().unwrap_or_else(|| "default".to_string());
        let tags = self.era.features.revision_tags;
        let plane = Plane {
            injecting_revision: injecting_revision.clone(),
            namespace_revision: match (&revision, tags) {
                (Some(r), _) => Some(r.clone()),
                (None, true) => Some("default".to_string()),
                (None, false) => None,
            },
            default_injection: revision.is_none() || tags,
            discovery: if self.era.features.istiod {
                format!("istiod{suffix}.{ISTIO_NAMESPACE}.svc:15012")
            } else {
                format!("istio-pilot.{ISTIO_NAMESPACE}:15011")
            },
        };
        let (injector_service, validation_service) = if self.era.features.istiod {
            let name = format!("istiod{suffix}");
            let pod = self.istiod(&name, &installed);
            let service_labels = self.rev_labels(&[("app", "istiod"), ("istio", "pilot")]);
            let (mut labels, annotations) = self.installed_by("istiod", &format!("istiod{suffix}"));
            labels.extend(service_labels.clone());
            let ports = json!([
                {"name": "grpc-xds", "port": 15010, "protocol": "TCP", "targetPort": 15010},
                {"name": "https-dns", "port": 15012, "protocol": "TCP", "targetPort": 15012},
                {"name": "https-webhook", "port": 443, "protocol": "TCP", "targetPort": 15017},
                {"name": "http-monitoring", "port": 15014, "protocol": "TCP", "targetPort": 15014},
            ]);
            let selector = self.rev_labels(&[("app", "istiod")]);
            self.service(
                (ISTIO_NAMESPACE, &name),
                About::new(labels, annotations, &installed),
                ports,
                selector,
                false,
            );
            let mut endpoint_labels = service_labels;
            endpoint_labels.insert("endpoints.kubernetes.io/managed-by".into(), json!("endpoint-controller"));
            let endpoint_ports = json!([
                {"name": "https-webhook", "port": 15017, "protocol": "TCP"},
                {"name": "grpc-xds", "port": 15010, "protocol": "TCP"},
                {"name": "https-dns", "port": 15012, "protocol": "TCP"},
                {"name": "http-monitoring", "port": 15014, "protocol": "TCP"},
            ]);
            self.endpoints(&name, &pod, endpoint_labels, endpoint_ports, &installed);
            (name.clone(), name)
        } else {
            self.legacy_plane(&installed);
            ("istio-sidecar-injector".to_string(), "istio-galley".to_string())
        };
        self.injector_webhooks(&injector_service, &installed);
        self.validating_webhook(&validation_service, &installed);
        self.mesh_config_maps(mixer, &installed);
        self.secret(
            (ISTIO_NAMESPACE, "istio-ca-secret"),
            "istio.io/ca-root",
            "ca-cert.pem,ca-key.pem",
            About::at(&installed),
        );
        if self.era.minor() >= 6 {
            let release_labels = |name: &str, modified: i64| {
                labels(&[
                    ("modifiedAt", &modified.to_string()),
                    ("name", name),
                    ("owner", "helm"),
                    ("status", "deployed"),
                    ("version", "1"),
                ])
            };
            for release in ["istio-base".to_string(), format!("istiod{suffix}"), "istio-ingress".to_string()]
            {
                let about =
                    About::new(release_labels(&release, COLLECTED_AT - DAY * 70), Map::new(), &installed);
                let name = format!("sh.helm.release.v1.{release}.v1");
                self.secret((ISTIO_NAMESPACE, &name), "helm.sh/release.v1", "release", about);
            }
        }
        self.ingress_gateway(&installed);
        if mixer {
            for component in ["istio-policy", "istio-telemetry"] {
                self.mixer(component, &installed);
            }
        }
        plane
    }

    /// Labels plus `istio.io/rev` when the control plane is revisioned.
    fn rev_labels(&self, pairs: &[(&str, &str)]) -> Map<String, Value> {
        let mut out = labels(pairs);
        if let Some(revision) = &self.revision {
            out.insert("istio.io/rev".into(), json!(revision));
        }
        out
    }

    fn istiod(&mut self, name: &str, created: &str) -> String {
        let image = format!("{HUB}/pilot:{}", self.era.version);
        let suffix = self.suffix();
        let mut pod_labels = self.rev_labels(&[("app", "istiod"), ("istio", "pilot")]);
        pod_labels.insert("sidecar.istio.io/inject".into(), json!("false"));
        let annotations = labels(&[
            ("sidecar.istio.io/inject", "false"),
            ("prometheus.io/port", "15014"),
            ("prometheus.io/scrape", "true"),
        ]);
        let spec = json!({
            "serviceAccountName": name,
            "securityContext": {"fsGroup": 1337},
            "containers": [{
                "name": "discovery", "image": image, "imagePullPolicy": "IfNotPresent",
                "args": ["discovery", "--monitoringAddr=:15014", "--log_output_level=default:info", "--domain",
                         "cluster.local", "--keepaliveMaxServerConnectionAge", "30m"],
                "ports": [
                    {"name": "http-debug", "containerPort": 8080, "protocol": "TCP"},
                    {"name": "grpc-xds", "containerPort": 15010, "protocol": "TCP"},
                    {"name": "https-webhooks", "containerPort": 15017, "protocol": "TCP"},
                ],
                "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}, "initialDelaySeconds": 1,
                                   "periodSeconds": 3, "timeoutSeconds": 5},
                "env": [
                    {"name": "REVISION"}, {"name": "JWT_POLICY"}, {"name": "PILOT_CERT_PROVIDER"},
                    {"name": "POD_NAME", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}}},
                    {"name": "POD_NAMESPACE", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}},
                    {"name": "SERVICE_ACCOUNT", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "spec.serviceAccountName"}}},
                    {"name": "KUBECONFIG"}, {"name": "PILOT_TRACE_SAMPLING"},
                    {"name": "PILOT_ENABLE_PROTOCOL_SNIFFING_FOR_OUTBOUND"}, {"name": "PILOT_ENABLE_PROTOCOL_SNIFFING_FOR_INBOUND"},
                    {"name": "INJECTION_WEBHOOK_CONFIG_NAME"}, {"name": "VALIDATION_WEBHOOK_CONFIG_NAME"},
                    {"name": "ISTIOD_ADDR"}, {"name": "PILOT_ENABLE_ANALYSIS"}, {"name": "CLUSTER_ID"},
                ],
                "resources": {"requests": {"cpu": "500m", "memory": "2048Mi"}},
                "securityContext": {"allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true, "runAsUser": 1337,
                                    "runAsGroup": 1337, "runAsNonRoot": true, "capabilities": {"drop": ["ALL"]}},
                "volumeMounts": [
                    {"name": "istio-token", "mountPath": "/var/run/secrets/tokens", "readOnly": true},
                    {"name": "local-certs", "mountPath": "/var/run/secrets/istio-dns"},
                    {"name": "cacerts", "mountPath": "/etc/cacerts", "readOnly": true},
                    {"name": "istio-kubeconfig", "mountPath": "/var/run/secrets/remote", "readOnly": true},
                    {"name": "config-volume", "mountPath": "/etc/istio/config"},
                    {"name": "inject", "mountPath": "/var/lib/istio/inject", "readOnly": true},
                ],
                "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File",
            }],
            "volumes": [
                {"name": "istio-token", "projected": {"sources": [{"serviceAccountToken": {
                    "audience": "istio-ca", "expirationSeconds": 43200, "path": "istio-token"}}]}},
                {"name": "local-certs", "emptyDir": {"medium": "Memory"}},
                {"name": "cacerts", "secret": {"secretName": "cacerts", "optional": true}},
                {"name": "istio-kubeconfig", "secret": {"secretName": "istio-kubeconfig", "optional": true}},
                {"name": "config-volume", "configMap": {"name": format!("istio{suffix}")}},
                {"name": "inject", "configMap": {"name": format!("istio-sidecar-injector{suffix}")}},
            ],
            "dnsPolicy": "ClusterFirst", "restartPolicy": "Always", "schedulerName": "default-scheduler",
            "terminationGracePeriodSeconds": 30,
        });
        self.plane_deployment(name, ("istiod", name), About::new(pod_labels, annotations, created), &spec)
    }

    /// The 1.4 microservices: pilot (with its own proxy), galley, citadel and the sidecar injector.
    fn legacy_plane(&mut self, created: &str) {
        for (name, image) in LEGACY_PLANE {
            let app = name.trim_start_matches("istio-");
            let pod_labels = labels(&[("app", app), ("istio", app), ("sidecar.istio.io/inject", "false")]);
            let annotations = labels(&[("sidecar.istio.io/inject", "false")]);
            let mut containers = vec![json!({
                "name": if app == "pilot" { "discovery" } else { app },
                "image": format!("{HUB}/{image}:{}", self.era.version),
                "imagePullPolicy": "IfNotPresent",
                "resources": {"requests": {"cpu": "10m"}},
                "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File",
            })];
            if app == "pilot" {
                containers.push(
                    self.gateway_proxy_container(&format!("{HUB}/proxyv2:{}", self.era.version), "sidecar"),
                );
            }
            let spec = json!({
                "serviceAccountName": format!("istio-{app}-service-account"),
                "containers": containers,
                "dnsPolicy": "ClusterFirst", "restartPolicy": "Always", "schedulerName": "default-scheduler",
                "securityContext": {}, "terminationGracePeriodSeconds": 30,
            });
            let pod = self.plane_deployment(
                name,
                (app, "istio"),
                About::new(pod_labels, annotations, created),
                &spec,
            );
            let (port_name, port, target) = match app {
                "pilot" => ("grpc-xds", 15010, 15010),
                "citadel" => ("grpc-citadel", 8060, 8060),
                _ => ("https-webhook", 443, 9443),
            };
            let (labels, annotations) = self.installed_by(app, "istio");
            let ports = json!([{"name": port_name, "port": port, "protocol": "TCP", "targetPort": target}]);
            let about = About::new(labels.clone(), annotations, created);
            self.service((ISTIO_NAMESPACE, name), about, ports, self::labels(&[("istio", app)]), false);
            if matches!(app, "galley" | "sidecar-injector") {
                let ports = json!([{"name": port_name, "port": target, "protocol": "TCP"}]);
                self.endpoints(name, &pod, labels, ports, created);
            }
        }
    }

    /// The mutating webhook configurations that inject sidecars, as the version's charts make them.
    fn injector_webhooks(&mut self, service: &str, created: &str) {
        let admission = self.era.builtin("admissionregistration.k8s.io");
        let webhook = |name: &str, namespace_selector: Value, object_selector: Value| {
            json!({
                "name": name,
                "clientConfig": {"service": {"name": service, "namespace": ISTIO_NAMESPACE, "path": "/inject", "port": 443}},
                "rules": [{"operations": ["CREATE"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["pods"], "scope": "*"}],
                "failurePolicy": "Fail", "sideEffects": "None", "admissionReviewVersions": ["v1beta1", "v1"],
                "namespaceSelector": namespace_selector, "objectSelector": object_selector,
                "matchPolicy": "Equivalent", "reinvocationPolicy": "Never", "timeoutSeconds": 10,
            })
        };
        let opt_out = json!({"matchExpressions": [{"key": "sidecar.istio.io/inject", "operator": "NotIn", "values": ["false"]}]});
        let revision_selector = |revision: &str| {
            json!({"matchExpressions": [
                {"key": "istio.io/rev", "operator": "In", "values": [revision]},
                {"key": "istio-injection", "operator": "DoesNotExist"},
            ]})
        };
        let injection_selector = json!({"matchExpressions": [{"key": "istio-injection", "operator": "In", "values": ["enabled"]}]});
        let modern = self.era.minor() >= 10;
        let suffix = self.suffix();
        let mut configurations = Vec::new();
        match &self.revision {
            Some(revision) if modern => {
                configurations.push((
                    format!("istio-sidecar-injector{suffix}"),
                    None,
                    vec![webhook(
                        "rev.namespace.sidecar-injector.istio.io",
                        revision_selector(revision),
                        opt_out.clone(),
                    )],
                ));
                configurations.push((
                    "istio-revision-tag-default".to_string(),
                    Some("default"),
                    vec![
                        webhook(
                            "rev.namespace.sidecar-injector.istio.io",
                            revision_selector("default"),
                            opt_out.clone(),
                        ),
                        webhook("namespace.sidecar-injector.istio.io", injection_selector, opt_out),
                    ],
                ));
            }
            Some(revision) => configurations.push((
                format!("istio-sidecar-injector{suffix}"),
                None,
                vec![webhook("sidecar-injector.istio.io", revision_selector(revision), json!({}))],
            )),
            None if modern => configurations.push((
                "istio-sidecar-injector".to_string(),
                None,
                vec![
                    webhook(
                        "rev.namespace.sidecar-injector.istio.io",
                        revision_selector("default"),
                        opt_out.clone(),
                    ),
                    webhook("namespace.sidecar-injector.istio.io", injection_selector, opt_out),
                ],
            )),
            None => configurations.push((
                "istio-sidecar-injector".to_string(),
                None,
                vec![webhook(
                    "sidecar-injector.istio.io",
                    json!({"matchLabels": {"istio-injection": "enabled"}}),
                    json!({}),
                )],
            )),
        }
        let release = format!("istiod{suffix}");
        for (name, tag, webhooks) in configurations {
            let (mut labels, annotations) = self.installed_by("istiod", &release);
            labels.insert("app".into(), json!("sidecar-injector"));
            if let Some(tag) = tag {
                labels.insert("istio.io/tag".into(), json!(tag));
            }
            if let Some(revision) = &self.revision {
                labels.insert("istio.io/rev".into(), json!(revision));
            }
            let mut metadata = self.metadata(&name, None, About::new(labels, annotations, created));
            extend(&mut metadata, [("generation".to_string(), json!(2))]);
            self.objects.push(json!({
                "apiVersion": admission, "kind": "MutatingWebhookConfiguration", "metadata": metadata, "webhooks": webhooks,
            }));
        }
    }

    fn validating_webhook(&mut self, service: &str, created: &str) {
        let admission = self.era.builtin("admissionregistration.k8s.io");
        let mut groups = vec!["networking.istio.io", "security.istio.io"];
        if self.era.minor() < 6 || self.legacy {
            groups.extend(["authentication.istio.io", "config.istio.io", "rbac.istio.io"]);
        }
        if self.era.minor() >= 12 {
            groups.push("telemetry.istio.io");
        }
        let (name, webhook_name, path) = match (self.era.features.istiod, &self.revision) {
            (false, _) => ("istio-galley".to_string(), "pilot.validation.istio.io", "/admitpilot"),
            (true, Some(revision)) => (
                format!("istio-validator-{revision}-{ISTIO_NAMESPACE}"),
                "rev.validation.istio.io",
                "/validate",
            ),
            (true, None) => (format!("istiod-{ISTIO_NAMESPACE}"), "validation.istio.io", "/validate"),
        };
        let (mut labels, annotations) = self.installed_by("istiod", &format!("istiod{}", self.suffix()));
        labels.insert("app".into(), json!("istiod"));
        if let Some(revision) = &self.revision {
            labels.insert("istio.io/rev".into(), json!(revision));
        }
        let object_selector = match &self.revision {
            Some(revision) => {
                json!({"matchExpressions": [{"key": "istio.io/rev", "operator": "In", "values": [revision]}]})
            }
            None => json!({}),
        };
        let mut metadata = self.metadata(&name, None, About::new(labels, annotations, created));
        extend(&mut metadata, [("generation".to_string(), json!(2))]);
        self.objects.push(json!({
            "apiVersion": admission, "kind": "ValidatingWebhookConfiguration", "metadata": metadata,
            "webhooks": [{
                "name": webhook_name,
                "clientConfig": {"service": {"name": service, "namespace": ISTIO_NAMESPACE, "path": path, "port": 443}},
                "rules": [{"operations": ["CREATE", "UPDATE"], "apiGroups": groups, "apiVersions": ["*"],
                           "resources": ["*"], "scope": "*"}],
                "failurePolicy": "Fail",
                "sideEffects": "None", "admissionReviewVersions": ["v1beta1", "v1"],
                "objectSelector": object_selector, "namespaceSelector": {},
                "matchPolicy": "Equivalent", "timeoutSeconds": 10,
            }],
        }));
    }

    /// The mesh ConfigMap (`istio[-rev]`), the injector's ConfigMap and the root certificate.
    fn mesh_config_maps(&mut self, mixer: bool, created: &str) {
        let suffix = self.suffix();
        let discovery = if self.era.features.istiod {
            format!("istiod{suffix}.{ISTIO_NAMESPACE}.svc:15012")
        } else {
            format!("istio-pilot.{ISTIO_NAMESPACE}:15011")
        };
        let mut mesh = vec![
            "accessLogEncoding: TEXT".to_string(),
            "accessLogFile: \"\"".to_string(),
            "accessLogFormat: \"\"".to_string(),
            "connectTimeout: 10s".to_string(),
            "defaultConfig:".to_string(),
            format!("  discoveryAddress: {discovery}"),
            "  tracing:".to_string(),
            "    zipkin:".to_string(),
            format!("      address: zipkin.{ISTIO_NAMESPACE}:9411"),
            "enableAutoMtls: true".to_string(),
            "enableTracing: true".to_string(),
            "ingressClass: istio".to_string(),
            "ingressControllerMode: STRICT".to_string(),
            "ingressService: istio-ingressgateway".to_string(),
            "outboundTrafficPolicy:".to_string(),
            "  mode: ALLOW_ANY".to_string(),
            format!("rootNamespace: {ISTIO_NAMESPACE}"),
            "trustDomain: cluster.local".to_string(),
            "trustDomainAliases: []".to_string(),
        ];
        if mixer {
            mesh.extend([
                "disableMixerHttpReports: false".to_string(),
                "disablePolicyChecks: false".to_string(),
                format!("mixerCheckServer: istio-policy.{ISTIO_NAMESPACE}.svc.cluster.local:15004"),
                format!("mixerReportServer: istio-telemetry.{ISTIO_NAMESPACE}.svc.cluster.local:15004"),
                "policyCheckFailOpen: false".to_string(),
            ]);
        } else if self.era.features.mixer_available {
            mesh.push("disablePolicyChecks: true".to_string());
        }
        let mesh = mesh.join("\n") + "\n";
        let (mut labels, annotations) = self.installed_by("istiod", &format!("istiod{suffix}"));
        if let Some(revision) = &self.revision {
            labels.insert("istio.io/rev".into(), json!(revision));
        }
        let about = About::new(labels, annotations, created);
        let metadata = self.metadata(&format!("istio{suffix}"), Some(ISTIO_NAMESPACE), about.clone());
        self.objects.push(json!({
            "apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata,
            "data": {"mesh": mesh, "meshNetworks": "networks: {}"},
        }));
        let version = &self.era.version;
        let injector = [
            format!("# abridged: the injection template of Istio {version}"),
            "policy: enabled".to_string(),
            "alwaysInjectSelector: []".to_string(),
            "neverInjectSelector: []".to_string(),
            "template: |".to_string(),
            "  initContainers:".to_string(),
            "  - name: istio-init".to_string(),
            format!("    image: {HUB}/proxyv2:{version}"),
            "  containers:".to_string(),
            "  - name: istio-proxy".to_string(),
            format!("    image: {HUB}/proxyv2:{version}\n"),
        ]
        .join("\n");
        let values = json!({
            "global": {"hub": HUB, "tag": version.to_string(), "istioNamespace": ISTIO_NAMESPACE,
                       "proxy": {"image": "proxyv2"}},
            "revision": self.revision.as_deref().unwrap_or(""),
        })
        .to_string();
        let metadata =
            self.metadata(&format!("istio-sidecar-injector{suffix}"), Some(ISTIO_NAMESPACE), about);
        self.objects.push(json!({
            "apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata, "data": {"config": injector, "values": values},
        }));
        if self.era.features.istiod {
            let about = About::new(self::labels(&[("istio.io/config", "true")]), Map::new(), created);
            let metadata = self.metadata("istio-ca-root-cert", Some(ISTIO_NAMESPACE), about);
            self.objects.push(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata, "data": {"root-cert.pem": ROOT_CERT}}));
        }
    }

    /// A gateway's (or pilot's) istio-proxy container.
    fn gateway_proxy_container(&self, image: &str, mode: &str) -> Value {
        json!({
            "name": "istio-proxy", "image": image, "imagePullPolicy": "IfNotPresent",
            "args": ["proxy", mode, "--domain", "$(POD_NAMESPACE).svc.cluster.local", "--proxyLogLevel=warning",
                     "--proxyComponentLogLevel=misc:error", "--log_output_level=default:info"],
            "securityContext": {"allowPrivilegeEscalation": false, "privileged": false, "readOnlyRootFilesystem": true,
                                "capabilities": {"drop": ["ALL"]}},
            "ports": [
                {"name": "http2", "containerPort": 8080, "protocol": "TCP"},
                {"name": "https", "containerPort": 8443, "protocol": "TCP"},
                {"name": "status-port", "containerPort": 15021, "protocol": "TCP"},
                {"name": "http-envoy-prom", "containerPort": 15090, "protocol": "TCP"},
            ],
            "readinessProbe": {"httpGet": {"path": "/healthz/ready", "port": 15021}, "initialDelaySeconds": 1,
                               "periodSeconds": 2, "timeoutSeconds": 1, "failureThreshold": 30},
            "resources": {"limits": {"cpu": "2000m", "memory": "1024Mi"}, "requests": {"cpu": "100m", "memory": "128Mi"}},
            "env": [
                {"name": "JWT_POLICY"}, {"name": "PILOT_CERT_PROVIDER"}, {"name": "CA_ADDR"},
                {"name": "NODE_NAME", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "spec.nodeName"}}},
                {"name": "POD_NAME", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}}},
                {"name": "POD_NAMESPACE", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}},
                {"name": "INSTANCE_IP", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "status.podIP"}}},
                {"name": "SERVICE_ACCOUNT", "valueFrom": {"fieldRef": {"fieldPath": "spec.serviceAccountName"}}},
                {"name": "ISTIO_META_WORKLOAD_NAME"}, {"name": "ISTIO_META_OWNER"}, {"name": "ISTIO_META_MESH_ID"},
                {"name": "TRUST_DOMAIN"}, {"name": "ISTIO_META_CLUSTER_ID"},
            ],
            "volumeMounts": [
                {"name": "istio-envoy", "mountPath": "/etc/istio/proxy"},
                {"name": "podinfo", "mountPath": "/etc/istio/pod"},
                {"name": "istiod-ca-cert", "mountPath": "/var/run/secrets/istio"},
            ],
            "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File",
        })
    }

    fn ingress_gateway(&mut self, created: &str) {
        let name = "istio-ingressgateway";
        let image = format!("{HUB}/proxyv2:{}", self.era.version);
        let mut pod_labels = self.rev_labels(&[("app", name), ("istio", "ingressgateway")]);
        pod_labels.insert("service.istio.io/canonical-name".into(), json!(name));
        pod_labels.insert("service.istio.io/canonical-revision".into(), json!("latest"));
        pod_labels.insert("sidecar.istio.io/inject".into(), json!("false"));
        let annotations = labels(&[
            ("sidecar.istio.io/inject", "false"),
            ("prometheus.io/port", "15020"),
            ("prometheus.io/scrape", "true"),
            ("prometheus.io/path", "/stats/prometheus"),
        ]);
        let mut volumes = vec![
            json!({"name": "istio-envoy", "emptyDir": {}}),
            json!({"name": "podinfo", "downwardAPI": {"items": [
                {"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}},
                {"path": "annotations", "fieldRef": {"fieldPath": "metadata.annotations"}},
            ]}}),
            json!({"name": "istiod-ca-cert", "configMap": {"name": "istio-ca-root-cert"}}),
        ];
        let mut proxy = self.gateway_proxy_container(&image, "router");
        if !self.era.features.gateway_sds_default {
            // Gateways of 1.4 and 1.5 read their certificates from mounted Secrets.
            for (volume, secret, path) in [
                ("ingressgateway-certs", "istio-ingressgateway-certs", "/etc/istio/ingressgateway-certs"),
                (
                    "ingressgateway-ca-certs",
                    "istio-ingressgateway-ca-certs",
                    "/etc/istio/ingressgateway-ca-certs",
                ),
            ] {
                volumes.push(json!({"name": volume, "secret": {"secretName": secret, "optional": true}}));
                if let Some(mounts) = proxy.get_mut("volumeMounts").and_then(Value::as_array_mut) {
                    mounts.push(json!({"name": volume, "mountPath": path, "readOnly": true}));
                }
            }
            let certs = (ISTIO_NAMESPACE, "istio-ingressgateway-certs");
            self.secret(certs, "kubernetes.io/tls", "tls.crt,tls.key", About::at(created));
            let ca_certs = (ISTIO_NAMESPACE, "istio-ingressgateway-ca-certs");
            self.secret(ca_certs, "Opaque", "ca-chain.cert.pem", About::at(created));
        }
        let spec = json!({
            "serviceAccountName": "istio-ingressgateway-service-account",
            "securityContext": {"runAsUser": 1337, "runAsGroup": 1337, "runAsNonRoot": true, "fsGroup": 1337},
            "containers": [proxy],
            "volumes": volumes,
            "dnsPolicy": "ClusterFirst", "restartPolicy": "Always", "schedulerName": "default-scheduler",
            "terminationGracePeriodSeconds": 30,
        });
        let pod = About::new(pod_labels, annotations, created);
        self.plane_deployment(name, ("ingressGateway", "istio-ingress"), pod, &spec);
        let (mut labels, annotations) = self.installed_by("ingressGateway", "istio-ingress");
        labels.extend(self.rev_labels(&[("app", name), ("istio", "ingressgateway")]));
        let ports = json!([
            {"name": "status-port", "nodePort": 30004, "port": 15021, "protocol": "TCP", "targetPort": 15021},
            {"name": "http2", "nodePort": 30773, "port": 80, "protocol": "TCP", "targetPort": 8080},
            {"name": "https", "nodePort": 30594, "port": 443, "protocol": "TCP", "targetPort": 8443},
        ]);
        let selector = self::labels(&[("app", name), ("istio", "ingressgateway")]);
        self.service(
            (ISTIO_NAMESPACE, name),
            About::new(labels, annotations, created),
            ports,
            selector,
            true,
        );
    }

    /// A Mixer Deployment (istio-policy or istio-telemetry) with its own sidecar, and its Service.
    fn mixer(&mut self, name: &str, created: &str) {
        let component = name.trim_start_matches("istio-");
        let pod_labels = labels(&[("app", name), ("istio", "mixer"), ("istio-mixer-type", component)]);
        let annotations = labels(&[("sidecar.istio.io/inject", "false")]);
        let spec = json!({
            "serviceAccountName": format!("istio-{component}-service-account"),
            "containers": [
                {"name": "mixer", "image": format!("{HUB}/mixer:{}", self.era.version), "imagePullPolicy": "IfNotPresent",
                 "args": ["--monitoringPort=15014", "--address", "unix:///sock/mixer.socket", "--log_output_level=default:info",
                          "--configStoreURL=mcp://istio-galley.istio-system.svc:9901", format!("--configDefaultNamespace={ISTIO_NAMESPACE}")],
                 "ports": [{"containerPort": 15014, "protocol": "TCP"}, {"containerPort": 42422, "protocol": "TCP"}],
                 "resources": {"requests": {"cpu": "10m"}},
                 "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File"},
                self.gateway_proxy_container(&format!("{HUB}/proxyv2:{}", self.era.version), "sidecar"),
            ],
            "volumes": [
                {"name": "istio-envoy", "emptyDir": {"medium": "Memory"}},
                {"name": "podinfo", "downwardAPI": {"items": [{"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}}]}},
                {"name": "istiod-ca-cert", "configMap": {"name": "istio-ca-root-cert"}},
                {"name": format!("{component}-adapter-secret"), "secret": {"secretName": format!("{component}-adapter-secret"), "optional": true}},
            ],
            "dnsPolicy": "ClusterFirst", "restartPolicy": "Always", "schedulerName": "default-scheduler",
            "securityContext": {}, "terminationGracePeriodSeconds": 30,
        });
        let pod = About::new(pod_labels, annotations, created);
        self.plane_deployment(name, (component, "istio"), pod, &spec);
        let (labels, annotations) = self.installed_by(component, "istio");
        let ports = json!([
            {"name": "grpc-mixer", "port": 9091, "protocol": "TCP", "targetPort": 9091},
            {"name": "grpc-mixer-mtls", "port": 15004, "protocol": "TCP", "targetPort": 15004},
            {"name": "http-monitoring", "port": 15014, "protocol": "TCP", "targetPort": 15014},
        ]);
        let selector = self::labels(&[("istio", "mixer"), ("istio-mixer-type", component)]);
        self.service(
            (ISTIO_NAMESPACE, name),
            About::new(labels, annotations, created),
            ports,
            selector,
            false,
        );
    }

    /// Application namespaces, workloads, their pods, Services and Secrets.
    fn applications(&mut self, namespaces: usize, pods: usize, plane: &Plane) {
        for index in 0..namespaces {
            let team = TEAMS[index % TEAMS.len()];
            let name = format!("{team}-{:04}", index + 1);
            let roll = self.rng.below(100);
            let mut namespace_labels = Map::new();
            let mut injection = false;
            let mut revision_label = false;
            match roll {
                0..3 => {
                    namespace_labels.insert("istio-injection".into(), json!("disabled"));
                }
                3..6 => {}
                6..8 if plane.namespace_revision.is_some() => {
                    injection = true;
                    revision_label = true;
                }
                _ if roll < 50 && plane.default_injection || plane.namespace_revision.is_none() => {
                    injection = true
                }
                _ => revision_label = true,
            }
            if injection {
                namespace_labels.insert("istio-injection".into(), json!("enabled"));
            }
            if revision_label && let Some(revision) = &plane.namespace_revision {
                namespace_labels.insert("istio.io/rev".into(), json!(revision));
            }
            // istio-injection wins over istio.io/rev, and is served only by a default injector.
            let meshed = if injection { plane.default_injection } else { revision_label };
            let created = timestamp(DAY * (100 + self.rng.below(600)) as i64);
            self.namespace(&name, namespace_labels, &created);
            let share = pods / namespaces + usize::from(index < pods % namespaces);
            self.namespace_workloads(&name, team, share, meshed, plane);
        }
    }

    /// Workloads of one namespace, `pods` pods in all.
    fn namespace_workloads(&mut self, namespace: &str, team: &str, pods: usize, meshed: bool, plane: &Plane) {
        let mut left = pods;
        let mut used: Vec<String> = Vec::new();
        let mut index = 0;
        while left > 0 {
            let replicas = (1 + self.rng.below(4) as usize).min(left);
            left -= replicas;
            let base = WORKLOADS[(self.rng.below(WORKLOADS.len() as u64)) as usize];
            let name =
                if used.iter().any(|u| u == base) { format!("{base}-{index}") } else { base.to_string() };
            used.push(name.clone());
            index += 1;
            let kind = match self.rng.below(100) {
                0..3 => "DaemonSet",
                3..15 => "StatefulSet",
                _ => "Deployment",
            };
            let app = App { namespace, team, name, kind, replicas, meshed };
            self.application(&app, plane);
        }
    }

    /// One workload with its pods, Service (except DaemonSets) and Secret.
    fn application(&mut self, app: &App, plane: &Plane) {
        let App { namespace, team, kind, replicas, meshed, .. } = *app;
        let name = app.name.as_str();
        let created = timestamp(DAY * (20 + self.rng.below(500)) as i64);
        let (port, port_name) = match (kind, self.rng.below(5)) {
            ("StatefulSet", _) => (5432, "tcp-postgres"),
            (_, 0) => (9090, "grpc"),
            (_, 1) => (8080, "http-api"),
            (_, 2) => (9100, "http-metrics"),
            _ => (8080, "http"),
        };
        let app_version = format!("v{}", 1 + self.rng.below(3));
        let image = format!(
            "registry.example.com/{team}/{name}:{}.{}.{}",
            1 + self.rng.below(9),
            self.rng.below(20),
            self.rng.below(10)
        );
        let has_secret = self.rng.chance(35);
        let mut env = vec![json!({"name": "LOG_LEVEL"}), json!({"name": "PORT"})];
        if has_secret {
            for key in ["username", "password"] {
                env.push(json!({"name": key.to_uppercase(), "valueFrom": {"secretKeyRef": {"name": format!("{name}-credentials"), "key": key}}}));
            }
            let secret = format!("{name}-credentials");
            self.secret((namespace, &secret), "Opaque", "password,username", About::at(&created));
        }
        let template_spec = json!({
            "containers": [{
                "name": name, "image": image, "imagePullPolicy": "IfNotPresent",
                "ports": [{"containerPort": port, "name": port_name, "protocol": "TCP"}],
                "env": env,
                "resources": {"requests": {"cpu": "100m", "memory": "256Mi"}},
                "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File",
            }],
            "dnsPolicy": "ClusterFirst", "restartPolicy": "Always", "schedulerName": "default-scheduler",
            "securityContext": {}, "serviceAccountName": name, "terminationGracePeriodSeconds": 30,
        });
        let opted_out = kind == "DaemonSet" || self.rng.chance(3);
        let mut template =
            About::new(labels(&[("app", name), ("version", &app_version)]), Map::new(), &created);
        if opted_out && meshed {
            template.labels.insert("sidecar.istio.io/inject".into(), json!("false"));
            template.annotations.insert("sidecar.istio.io/inject".into(), json!("false"));
        }
        let selector = labels(&[("app", name)]);
        let owner_uid = self.rng.uid();
        let workload_labels = labels(&[("app", name)]);
        let generation_annotations = if kind == "Deployment" {
            labels(&[("deployment.kubernetes.io/revision", &(1 + self.rng.below(30)).to_string())])
        } else {
            Map::new()
        };
        let about = About::new(workload_labels, generation_annotations, &created);
        self.workload(kind, (namespace, name), about, &selector, (&template, &template_spec), replicas);
        let injected = meshed && !opted_out;
        let proxy_version = if injected && self.rng.chance(10) {
            self.era.previous_patch()
        } else {
            self.era.version.clone()
        };
        let hash = self.rng.suffix(10);
        let started = timestamp(DAY * (1 + self.rng.below(30)) as i64);
        for replica in 0..replicas {
            let mut pod = template.clone();
            pod.created.clone_from(&started);
            let pod_labels = &mut pod.labels;
            let pod_name = match kind {
                "StatefulSet" => {
                    pod_labels.insert("apps.kubernetes.io/pod-index".into(), json!(replica.to_string()));
                    pod_labels.insert("controller-revision-hash".into(), json!(format!("{name}-{hash}")));
                    pod_labels.insert(
                        "statefulset.kubernetes.io/pod-name".into(),
                        json!(format!("{name}-{replica}")),
                    );
                    format!("{name}-{replica}")
                }
                "DaemonSet" => {
                    pod_labels.insert("controller-revision-hash".into(), json!(hash));
                    pod_labels.insert("pod-template-generation".into(), json!("1"));
                    format!("{name}-{}", self.rng.suffix(5))
                }
                _ => {
                    pod_labels.insert("pod-template-hash".into(), json!(hash));
                    format!("{name}-{hash}-{}", self.rng.suffix(5))
                }
            };
            let mut spec = defaults(template_spec.clone());
            if injected {
                self.inject(&mut spec, &mut pod, (name, &app_version), &proxy_version, plane);
            }
            let owner_name = if kind == "Deployment" { format!("{name}-{hash}") } else { name.to_string() };
            let owner_kind = if kind == "Deployment" { "ReplicaSet" } else { kind };
            self.pod((namespace, &pod_name), (owner_kind, &owner_name, &owner_uid), pod, spec);
        }
        if self.era.minor() < 5 {
            // Citadel writes a key-and-cert Secret for every service account; 1.4 sidecars mount it.
            let about = About::new(Map::new(), labels(&[("istio.io/service-account.name", name)]), &created);
            let secret = format!("istio.{name}");
            self.secret(
                (namespace, &secret),
                "istio.io/key-and-cert",
                "cert-chain.pem,key.pem,root-cert.pem",
                about,
            );
        }
        if kind != "DaemonSet" {
            let service_port = if port == 8080 { 80 } else { port };
            let ports =
                json!([{"name": port_name, "port": service_port, "protocol": "TCP", "targetPort": port}]);
            let about = About::new(labels(&[("app", name)]), Map::new(), &created);
            self.service((namespace, name), about, ports, selector, false);
            self.targets.push(Target {
                namespace: namespace.to_string(),
                name: name.to_string(),
                port: service_port,
            });
        }
    }

    /// What the sidecar injector of the version adds to a pod.
    fn inject(
        &mut self,
        spec: &mut Value,
        pod: &mut About,
        (app, app_version): (&str, &str),
        proxy_version: &semver::Version,
        plane: &Plane,
    ) {
        let (pod_labels, annotations) = (&mut pod.labels, &mut pod.annotations);
        let image = format!("{HUB}/proxyv2:{proxy_version}");
        let revision = &plane.injecting_revision;
        let volumes: &[&str] = if self.era.agent_sidecar() {
            &[
                "workload-socket",
                "credential-socket",
                "workload-certs",
                "istio-envoy",
                "istio-data",
                "istio-podinfo",
                "istio-token",
                "istiod-ca-cert",
            ]
        } else if self.era.features.istiod {
            &["istio-envoy", "istio-data", "istio-podinfo", "istio-token", "istiod-ca-cert"]
        } else {
            &["istio-envoy", "istio-certs"]
        };
        let status = match self.era.features.pod_revision_record {
            RevisionRecord::StatusAnnotation => {
                json!({"initContainers": ["istio-init"], "containers": ["istio-proxy"],
                "volumes": volumes, "imagePullSecrets": null, "revision": revision})
            }
            _ => json!({"version": template_hash(&self.era.version), "initContainers": ["istio-init"],
                "containers": ["istio-proxy"], "volumes": volumes, "imagePullSecrets": null}),
        };
        pod_labels.insert("security.istio.io/tlsMode".into(), json!("istio"));
        pod_labels.insert("service.istio.io/canonical-name".into(), json!(app));
        pod_labels.insert("service.istio.io/canonical-revision".into(), json!(app_version));
        match self.era.features.pod_revision_record {
            RevisionRecord::Label => {
                pod_labels.insert("istio.io/rev".into(), json!(revision));
            }
            RevisionRecord::StatusAnnotation => {
                annotations.insert("istio.io/rev".into(), json!(revision));
            }
            RevisionRecord::None => {}
        }
        if self.era.minor() >= 10 {
            annotations.insert("kubectl.kubernetes.io/default-container".into(), json!(app));
            annotations.insert("kubectl.kubernetes.io/default-logs-container".into(), json!(app));
        }
        annotations.insert("prometheus.io/path".into(), json!("/stats/prometheus"));
        annotations.insert("prometheus.io/port".into(), json!("15020"));
        annotations.insert("prometheus.io/scrape".into(), json!("true"));
        annotations.insert("sidecar.istio.io/status".into(), json!(status.to_string()));
        let field = |path: &str| json!({"fieldRef": {"apiVersion": "v1", "fieldPath": path}});
        let mut env = vec![
            json!({"name": "PILOT_CERT_PROVIDER"}),
            json!({"name": "CA_ADDR"}),
            json!({"name": "POD_NAME", "valueFrom": field("metadata.name")}),
            json!({"name": "POD_NAMESPACE", "valueFrom": field("metadata.namespace")}),
            json!({"name": "INSTANCE_IP", "valueFrom": field("status.podIP")}),
            json!({"name": "SERVICE_ACCOUNT", "valueFrom": field("spec.serviceAccountName")}),
            json!({"name": "HOST_IP", "valueFrom": field("status.hostIP")}),
            json!({"name": "ISTIO_META_POD_PORTS"}),
            json!({"name": "ISTIO_META_APP_CONTAINERS"}),
            json!({"name": "ISTIO_META_CLUSTER_ID"}),
            json!({"name": "ISTIO_META_INTERCEPTION_MODE"}),
            json!({"name": "ISTIO_META_WORKLOAD_NAME"}),
            json!({"name": "ISTIO_META_OWNER"}),
            json!({"name": "ISTIO_META_MESH_ID"}),
            json!({"name": "TRUST_DOMAIN"}),
        ];
        let (args, mounts, probe_port) = if self.era.agent_sidecar() {
            env.push(json!({"name": "GOMEMLIMIT", "valueFrom": {"resourceFieldRef": {"divisor": "0", "resource": "limits.memory"}}}));
            env.push(json!({"name": "GOMAXPROCS", "valueFrom": {"resourceFieldRef": {"divisor": "0", "resource": "limits.cpu"}}}));
            (
                json!([
                    "proxy",
                    "sidecar",
                    "--domain",
                    "$(POD_NAMESPACE).svc.cluster.local",
                    "--proxyLogLevel=warning",
                    "--proxyComponentLogLevel=misc:error",
                    "--log_output_level=default:info"
                ]),
                json!([
                    {"mountPath": "/var/run/secrets/workload-spiffe-uds", "name": "workload-socket"},
                    {"mountPath": "/var/run/secrets/credential-uds", "name": "credential-socket"},
                    {"mountPath": "/var/run/secrets/workload-spiffe-credentials", "name": "workload-certs"},
                    {"mountPath": "/var/run/secrets/istio", "name": "istiod-ca-cert"},
                    {"mountPath": "/var/lib/istio/data", "name": "istio-data"},
                    {"mountPath": "/etc/istio/proxy", "name": "istio-envoy"},
                    {"mountPath": "/var/run/secrets/tokens", "name": "istio-token"},
                    {"mountPath": "/etc/istio/pod", "name": "istio-podinfo"},
                ]),
                15021,
            )
        } else {
            let mut mounts = vec![json!({"mountPath": "/etc/istio/proxy", "name": "istio-envoy"})];
            if self.era.features.istiod {
                mounts.extend([
                    json!({"mountPath": "/var/run/secrets/istio", "name": "istiod-ca-cert"}),
                    json!({"mountPath": "/var/lib/istio/data", "name": "istio-data"}),
                    json!({"mountPath": "/var/run/secrets/tokens", "name": "istio-token"}),
                    json!({"mountPath": "/etc/istio/pod", "name": "istio-podinfo"}),
                ]);
            } else {
                mounts.push(json!({"mountPath": "/etc/certs/", "name": "istio-certs", "readOnly": true}));
            }
            (
                json!([
                    "proxy",
                    "sidecar",
                    "--domain",
                    "$(POD_NAMESPACE).svc.cluster.local",
                    "--configPath",
                    "/etc/istio/proxy",
                    "--binaryPath",
                    "/usr/local/bin/envoy",
                    "--serviceCluster",
                    format!("{app}.$(POD_NAMESPACE)"),
                    "--drainDuration",
                    "45s",
                    "--parentShutdownDuration",
                    "1m0s",
                    "--discoveryAddress",
                    plane.discovery,
                    "--zipkinAddress",
                    "zipkin.istio-system:9411",
                    "--proxyLogLevel=warning",
                    "--proxyComponentLogLevel=misc:error",
                    "--connectTimeout",
                    "10s",
                    "--proxyAdminPort",
                    "15000",
                    "--concurrency",
                    "2",
                    "--controlPlaneAuthPolicy",
                    if self.era.features.istiod { "NONE" } else { "MUTUAL_TLS" },
                    "--dnsRefreshRate",
                    "300s",
                    "--statusPort",
                    "15020",
                    "--trust-domain=cluster.local"
                ]),
                json!(mounts),
                15020,
            )
        };
        let proxy = json!({
            "name": "istio-proxy", "image": image, "imagePullPolicy": "IfNotPresent", "args": args, "env": env,
            "ports": [{"containerPort": 15090, "name": "http-envoy-prom", "protocol": "TCP"}],
            "readinessProbe": {"failureThreshold": 30, "httpGet": {"path": "/healthz/ready", "port": probe_port, "scheme": "HTTP"},
                               "initialDelaySeconds": 1, "periodSeconds": 2, "successThreshold": 1, "timeoutSeconds": 3},
            "resources": {"limits": {"cpu": "2", "memory": "1Gi"}, "requests": {"cpu": "100m", "memory": "128Mi"}},
            "securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}, "privileged": false,
                                "readOnlyRootFilesystem": true, "runAsGroup": 1337, "runAsNonRoot": true, "runAsUser": 1337},
            "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File",
            "volumeMounts": mounts,
        });
        let init = json!({
            "name": "istio-init", "image": image, "imagePullPolicy": "IfNotPresent",
            "args": ["istio-iptables", "-p", "15001", "-z", "15006", "-u", "1337", "-m", "REDIRECT", "-i", "*", "-x", "",
                     "-b", "*", "-d", format!("15090,{probe_port}"), "--log_output_level=default:info"],
            "resources": {"limits": {"cpu": "2", "memory": "1Gi"}, "requests": {"cpu": "10m", "memory": "40Mi"}},
            "securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"add": ["NET_ADMIN", "NET_RAW"], "drop": ["ALL"]},
                                "privileged": false, "readOnlyRootFilesystem": false, "runAsGroup": 0, "runAsNonRoot": false,
                                "runAsUser": 0},
            "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File",
        });
        let downward = json!({"defaultMode": 420, "items": [
            {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.labels"}, "path": "labels"},
            {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.annotations"}, "path": "annotations"},
        ]});
        let token = json!({"defaultMode": 420, "sources": [{"serviceAccountToken": {
            "audience": "istio-ca", "expirationSeconds": 43200, "path": "istio-token"}}]});
        let service_account =
            spec.get("serviceAccountName").and_then(Value::as_str).unwrap_or("default").to_string();
        let new_volumes: Vec<Value> = volumes
            .iter()
            .map(|volume| match *volume {
                "istio-envoy" => json!({"name": volume, "emptyDir": {"medium": "Memory"}}),
                "istio-podinfo" => json!({"name": volume, "downwardAPI": downward}),
                "istio-token" => json!({"name": volume, "projected": token}),
                "istiod-ca-cert" => json!({"name": volume, "configMap": {"defaultMode": 420, "name": "istio-ca-root-cert"}}),
                "istio-certs" => json!({"name": volume, "secret": {"defaultMode": 420, "optional": true,
                                                                   "secretName": format!("istio.{service_account}")}}),
                _ => json!({"name": volume, "emptyDir": {}}),
            })
            .collect();
        if let Some(map) = spec.as_object_mut() {
            if let Some(containers) = map.get_mut("containers").and_then(Value::as_array_mut) {
                containers.push(proxy);
            }
            map.insert("initContainers".into(), json!([init]));
            match map.get_mut("volumes").and_then(Value::as_array_mut) {
                Some(existing) => existing.extend(new_volumes),
                None => {
                    map.insert("volumes".into(), json!(new_volumes));
                }
            }
        }
    }

    /// Istio configuration: `count` objects spread over the kinds the version serves, each referring
    /// to a generated Service (or to the ingress gateway when there are none).
    fn istio_config(&mut self, count: usize) {
        let mut kinds: Vec<(&'static str, u64)> = vec![
            ("VirtualService", 28),
            ("DestinationRule", 26),
            ("Gateway", 4),
            ("ServiceEntry", 6),
            ("Sidecar", 6),
            ("EnvoyFilter", 2),
            ("AuthorizationPolicy", 14),
        ];
        if self.era.minor() >= 5 {
            kinds.extend([("PeerAuthentication", 6), ("RequestAuthentication", 3)]);
        }
        if self.era.minor() >= 12 {
            kinds.push(("Telemetry", 2));
        }
        let mut budget = count;
        if self.legacy {
            if budget > 0 {
                self.legacy_object("MeshPolicy", 0, None);
                budget -= 1;
            }
            kinds.extend([("Policy", 8), ("handler", 1), ("instance", 1), ("rule", 2)]);
        }
        let total: u64 = kinds.iter().map(|(_, w)| w).sum();
        let mut counts: Vec<usize> =
            kinds.iter().map(|(_, weight)| (budget as u64 * weight / total) as usize).collect();
        let left = budget - counts.iter().sum::<usize>();
        // Flooring loses less than one object per kind: the first kinds take the rest.
        for slot in counts.iter_mut().take(left) {
            *slot += 1;
        }
        if self.targets.is_empty() {
            self.targets.push(Target {
                namespace: ISTIO_NAMESPACE.to_string(),
                name: "istio-ingressgateway".to_string(),
                port: 80,
            });
        }
        let targets = self.targets.len();
        // A stride coprime with the number of targets walks every Service once before repeating.
        let mut stride = (targets * 5 / 8).max(1);
        while gcd(stride, targets) != 1 {
            stride += 1;
        }
        let gateways = counts[2];
        for ((kind, _), count) in kinds.iter().zip(counts) {
            for index in 0..count {
                let target = self.targets[(index * stride) % targets].clone();
                let round = index / targets;
                let name = if round == 0 { target.name.clone() } else { format!("{}-r{round}", target.name) };
                match *kind {
                    "Policy" | "handler" | "instance" | "rule" => {
                        self.legacy_object(kind, index, Some((&target, &name)))
                    }
                    _ => self.config_object(kind, index, &target, &name, index < gateways),
                }
            }
        }
    }

    fn push_config(
        &mut self,
        api_version: String,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
        spec: Value,
    ) {
        let created = timestamp(DAY * (5 + self.rng.below(400)) as i64);
        let mut metadata = self.metadata(name, namespace, About::at(&created));
        extend(&mut metadata, [("generation".to_string(), json!(1 + self.rng.below(5)))]);
        self.objects
            .push(json!({"apiVersion": api_version, "kind": kind, "metadata": metadata, "spec": spec}));
    }

    /// One networking, security or telemetry object about `target`.
    fn config_object(&mut self, kind: &str, index: usize, target: &Target, name: &str, gatewayed: bool) {
        let ns = target.namespace.as_str();
        let svc = target.name.as_str();
        let host = format!("{svc}.{ns}.svc.cluster.local");
        let public = format!("{name}.{ns}.example.com");
        let selector = json!({"matchLabels": {"app": svc}});
        let networking = format!("networking.istio.io/{}", self.era.networking());
        let security = format!("security.istio.io/{}", self.era.security());
        let variant = self.rng.below(3);
        match kind {
            "VirtualService" => {
                let route = |subset: &str, weight: u64| {
                    json!({"destination": {"host": host, "subset": subset, "port": {"number": target.port}},
                           "weight": weight})
                };
                let http = match variant {
                    0 => json!([{"route": [route("v1", 90), route("v2", 10)]}]),
                    1 => json!([
                        {"match": [{"uri": {"prefix": "/v2/"}}], "route": [route("v2", 100)]},
                        {"route": [route("v1", 100)], "retries": {"attempts": 3, "perTryTimeout": "2s", "retryOn": "5xx,reset"}},
                    ]),
                    _ => {
                        json!([{"route": [{"destination": {"host": host, "port": {"number": target.port}}}], "timeout": "5s"}])
                    }
                };
                let spec = if gatewayed {
                    json!({"hosts": [public], "gateways": [format!("{name}-gateway")], "http": http})
                } else {
                    json!({"hosts": [host], "http": http})
                };
                self.push_config(networking, kind, Some(ns), name, spec);
            }
            "DestinationRule" => {
                let subsets = json!([{"name": "v1", "labels": {"version": "v1"}}, {"name": "v2", "labels": {"version": "v2"}}]);
                let policy = match variant {
                    0 => json!({"tls": {"mode": "ISTIO_MUTUAL"}}),
                    1 => {
                        json!({"connectionPool": {"http": {"http2MaxRequests": 1000, "maxRequestsPerConnection": 10}},
                                "outlierDetection": {"consecutive5xxErrors": 5, "interval": "10s", "baseEjectionTime": "30s"}})
                    }
                    _ => json!({"loadBalancer": {"simple": "LEAST_REQUEST"}}),
                };
                self.push_config(
                    networking,
                    kind,
                    Some(ns),
                    name,
                    json!({"host": host, "trafficPolicy": policy, "subsets": subsets}),
                );
            }
            "Gateway" => {
                let tls = if self.era.features.gateway_sds_default {
                    let secret = format!("{ns}-{name}-tls");
                    let about = About::at(&timestamp(DAY * 30));
                    self.secret((ISTIO_NAMESPACE, &secret), "kubernetes.io/tls", "tls.crt,tls.key", about);
                    json!({"mode": "SIMPLE", "credentialName": secret})
                } else {
                    json!({"mode": "SIMPLE", "serverCertificate": "/etc/istio/ingressgateway-certs/tls.crt",
                           "privateKey": "/etc/istio/ingressgateway-certs/tls.key"})
                };
                let spec = json!({
                    "selector": {"istio": "ingressgateway"},
                    "servers": [
                        {"port": {"number": 80, "name": "http", "protocol": "HTTP"}, "hosts": [public], "tls": {"httpsRedirect": true}},
                        {"port": {"number": 443, "name": format!("https-{name}"), "protocol": "HTTPS"}, "hosts": [public], "tls": tls},
                    ],
                });
                self.push_config(networking, kind, Some(ns), &format!("{name}-gateway"), spec);
            }
            "ServiceEntry" => {
                let spec = json!({
                    "hosts": [format!("{name}.{ns}.partners.example.net")], "location": "MESH_EXTERNAL", "resolution": "DNS",
                    "ports": [{"number": 443, "name": "tls", "protocol": "TLS"}],
                });
                self.push_config(networking, kind, Some(ns), &format!("{name}-upstream"), spec);
            }
            "Sidecar" => {
                let spec = json!({
                    "workloadSelector": {"labels": {"app": svc}},
                    "egress": [{"hosts": ["./*", format!("{ISTIO_NAMESPACE}/*")]}],
                });
                self.push_config(networking, kind, Some(ns), name, spec);
            }
            "EnvoyFilter" => {
                let lua = [
                    "function envoy_on_response(response_handle)".to_string(),
                    format!("  response_handle:headers():add(\"x-served-by\", \"{svc}\")"),
                    "end\n".to_string(),
                ]
                .join("\n");
                let spec = json!({
                    "workloadSelector": {"labels": {"app": svc}},
                    "configPatches": [{
                        "applyTo": "HTTP_FILTER",
                        "match": {"context": "SIDECAR_INBOUND", "listener": {"filterChain": {"filter": {
                            "name": "envoy.filters.network.http_connection_manager",
                            "subFilter": {"name": "envoy.filters.http.router"}}}}},
                        "patch": {"operation": "INSERT_BEFORE", "value": {
                            "name": "envoy.filters.http.lua",
                            "typed_config": {"@type": "type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua",
                                "defaultSourceCode": {"inlineString": lua}}}},
                    }],
                });
                self.push_config(
                    "networking.istio.io/v1alpha3".to_string(),
                    kind,
                    Some(ns),
                    &format!("{name}-headers"),
                    spec,
                );
            }
            "AuthorizationPolicy" => {
                let caller = self.targets[(index + 1) % self.targets.len()].clone();
                let spec = json!({
                    "selector": selector, "action": "ALLOW",
                    "rules": [{
                        "from": [{"source": {"principals": [
                            format!("cluster.local/ns/{}/sa/{}", caller.namespace, caller.name),
                            format!("cluster.local/ns/{ISTIO_NAMESPACE}/sa/istio-ingressgateway-service-account"),
                        ]}}],
                        "to": [{"operation": {"methods": ["GET", "POST"], "paths": ["/api/*", "/healthz"]}}],
                    }],
                });
                self.push_config(security, kind, Some(ns), name, spec);
            }
            "PeerAuthentication" if index == 0 => {
                self.push_config(
                    security,
                    kind,
                    Some(ISTIO_NAMESPACE),
                    "default",
                    json!({"mtls": {"mode": "STRICT"}}),
                );
            }
            "PeerAuthentication" => {
                let spec = if variant == 0 {
                    json!({"selector": selector, "mtls": {"mode": "STRICT"},
                           "portLevelMtls": {target.port.to_string(): {"mode": "PERMISSIVE"}}})
                } else {
                    json!({"selector": selector, "mtls": {"mode": "STRICT"}})
                };
                self.push_config(security, kind, Some(ns), name, spec);
            }
            "RequestAuthentication" => {
                let spec = json!({
                    "selector": selector,
                    "jwtRules": [{"issuer": "https://login.example.com/", "audiences": [svc],
                                  "jwksUri": "https://login.example.com/.well-known/jwks.json", "forwardOriginalToken": true}],
                });
                self.push_config(security, kind, Some(ns), name, spec);
            }
            _ => {
                let telemetry = format!("telemetry.istio.io/{}", self.era.telemetry());
                if index == 0 {
                    let spec = json!({"accessLogging": [{"providers": [{"name": "envoy"}]}], "tracing": [{"randomSamplingPercentage": 1.0}]});
                    self.push_config(telemetry, kind, Some(ISTIO_NAMESPACE), "mesh-default", spec);
                } else {
                    let spec = json!({
                        "selector": selector,
                        "metrics": [{"providers": [{"name": "prometheus"}], "overrides": [{
                            "match": {"metric": "REQUEST_COUNT", "mode": "CLIENT_AND_SERVER"},
                            "tagOverrides": {"request_host": {"operation": "UPSERT", "value": "request.host"}}}]}],
                    });
                    self.push_config(telemetry, kind, Some(ns), name, spec);
                }
            }
        }
    }

    /// Alpha authentication and Mixer configuration (the first handler, instance and rule are
    /// Mixer's default Prometheus metric in the root namespace).
    fn legacy_object(&mut self, kind: &str, index: usize, target: Option<(&Target, &str)>) {
        let authentication = "authentication.istio.io/v1alpha1".to_string();
        let config = "config.istio.io/v1alpha2".to_string();
        let Some((target, name)) = target else {
            self.push_config(
                authentication,
                "MeshPolicy",
                None,
                "default",
                json!({"peers": [{"mtls": {"mode": "PERMISSIVE"}}]}),
            );
            return;
        };
        let ns = target.namespace.as_str();
        let svc = target.name.as_str();
        match (kind, index) {
            ("Policy", _) if index.is_multiple_of(3) => {
                let spec = json!({
                    "targets": [{"name": svc}],
                    "origins": [{"jwt": {"issuer": "https://login.example.com/", "jwksUri": "https://login.example.com/.well-known/jwks.json",
                                         "triggerRules": [{"excludedPaths": [{"exact": "/healthz"}]}]}}],
                    "principalBinding": "USE_ORIGIN",
                });
                self.push_config(authentication, kind, Some(ns), name, spec);
            }
            ("Policy", _) => {
                let spec = json!({"targets": [{"name": svc, "ports": [{"number": target.port}]}], "peers": [{"mtls": {}}]});
                self.push_config(authentication, kind, Some(ns), name, spec);
            }
            ("handler", 0) => {
                let spec = json!({"compiledAdapter": "prometheus", "params": {
                    "metricsExpirationPolicy": {"metricsExpiryDuration": "10m"},
                    "metrics": [{"name": "requests_total", "instance_name": format!("requestcount.instance.{ISTIO_NAMESPACE}"),
                                 "kind": "COUNTER", "label_names": ["reporter", "source_workload", "destination_service", "response_code"]}]}});
                self.push_config(config, kind, Some(ISTIO_NAMESPACE), "prometheus", spec);
            }
            ("handler", _) => {
                let spec = json!({"compiledAdapter": "listchecker", "params": {
                    "overrides": ["10.57.0.0/16", "192.0.2.0/24"], "blacklist": false, "entryType": "IP_ADDRESSES"}});
                self.push_config(config, kind, Some(ns), &format!("{name}-allowlist"), spec);
            }
            ("instance", 0) => {
                let spec = json!({"compiledTemplate": "metric", "params": {"value": "1", "dimensions": {
                    "reporter": "conditional((context.reporter.kind | \"inbound\") == \"outbound\", \"source\", \"destination\")",
                    "source_workload": "source.workload.name | \"unknown\"",
                    "destination_service": "destination.service.host | \"unknown\"",
                    "response_code": "response.code | 200"}, "monitored_resource_type": "\"UNSPECIFIED\""}});
                self.push_config(config, kind, Some(ISTIO_NAMESPACE), "requestcount", spec);
            }
            ("instance", _) => {
                let spec = json!({"compiledTemplate": "listentry", "params": {"value": "source.ip | ip(\"0.0.0.0\")"}});
                self.push_config(config, kind, Some(ns), &format!("{name}-sourceip"), spec);
            }
            ("rule", 0) => {
                let spec = json!({"match": "context.protocol == \"http\" || context.protocol == \"grpc\"",
                                  "actions": [{"handler": "prometheus", "instances": ["requestcount"]}]});
                self.push_config(config, kind, Some(ISTIO_NAMESPACE), "promhttp", spec);
            }
            _ => {
                let spec = json!({"match": format!("destination.labels[\"app\"] == \"{svc}\""),
                                  "actions": [{"handler": format!("{name}-allowlist"), "instances": [format!("{name}-sourceip")]}]});
                self.push_config(config, kind, Some(ns), &format!("{name}-checkip"), spec);
            }
        }
    }

    /// CRDs of the Istio kinds the version installs (plus the legacy groups when asked for or still
    /// shipped), without schemas as `collect` writes them; returns the served kinds for the
    /// snapshot's header.
    fn crds(&mut self) -> Vec<Resource> {
        let networking: &[&str] = match self.era.minor() {
            ..5 => &["v1alpha3"],
            5..22 => &["v1alpha3", "v1beta1"],
            _ => &["v1", "v1alpha3", "v1beta1"],
        };
        let security: &[&str] = if self.era.minor() < 22 { &["v1beta1"] } else { &["v1", "v1beta1"] };
        let telemetry: &[&str] = if self.era.minor() < 22 { &["v1alpha1"] } else { &["v1", "v1alpha1"] };
        let mut kinds: Vec<(&str, &str, &str, bool, &[&str])> = vec![
            ("networking.istio.io", "DestinationRule", "destinationrules", true, networking),
            ("networking.istio.io", "EnvoyFilter", "envoyfilters", true, &["v1alpha3"]),
            ("networking.istio.io", "Gateway", "gateways", true, networking),
            ("networking.istio.io", "ServiceEntry", "serviceentries", true, networking),
            ("networking.istio.io", "Sidecar", "sidecars", true, networking),
            ("networking.istio.io", "VirtualService", "virtualservices", true, networking),
            ("security.istio.io", "AuthorizationPolicy", "authorizationpolicies", true, security),
        ];
        if self.era.minor() >= 5 {
            kinds.extend([
                ("security.istio.io", "PeerAuthentication", "peerauthentications", true, security),
                ("security.istio.io", "RequestAuthentication", "requestauthentications", true, security),
            ]);
        }
        if self.era.minor() >= 6 {
            kinds.push(("networking.istio.io", "WorkloadEntry", "workloadentries", true, networking));
        }
        if self.era.minor() >= 12 {
            kinds.push(("telemetry.istio.io", "Telemetry", "telemetries", true, telemetry));
        }
        if self.legacy || self.era.minor() < 6 {
            kinds.extend([
                ("authentication.istio.io", "MeshPolicy", "meshpolicies", false, &["v1alpha1"] as &[&str]),
                ("authentication.istio.io", "Policy", "policies", true, &["v1alpha1"]),
                ("config.istio.io", "handler", "handlers", true, &["v1alpha2"]),
                ("config.istio.io", "instance", "instances", true, &["v1alpha2"]),
                ("config.istio.io", "rule", "rules", true, &["v1alpha2"]),
            ]);
        }
        let api_version = self.era.builtin("apiextensions.k8s.io");
        let installed = timestamp(DAY * 70);
        let mut served = Vec::new();
        for (group, kind, plural, namespaced, versions) in kinds {
            let (mut labels, mut annotations) = self.installed_by("base", "istio-base");
            labels.insert("istio".into(), json!(group.split('.').next().unwrap_or(group)));
            annotations.insert("helm.sh/resource-policy".into(), json!("keep"));
            let name = format!("{plural}.{group}");
            let mut metadata = self.metadata(&name, None, About::new(labels, annotations, &installed));
            extend(&mut metadata, [("generation".to_string(), json!(1))]);
            let short_group = group.split('.').next().unwrap_or(group);
            let names = json!({"kind": kind, "listKind": format!("{kind}List"), "plural": plural,
                               "singular": kind.to_lowercase(), "categories": ["istio-io", format!("{short_group}-istio-io")]});
            let storage = versions[0];
            let spec_versions: Vec<Value> = versions
                .iter()
                .map(|v| json!({"name": v, "served": true, "storage": *v == storage, "subresources": {"status": {}}}))
                .collect();
            self.objects.push(json!({
                "apiVersion": api_version, "kind": "CustomResourceDefinition", "metadata": metadata,
                "spec": {"conversion": {"strategy": "None"}, "group": group, "names": names,
                         "scope": if namespaced { "Namespaced" } else { "Cluster" }, "versions": spec_versions},
                "status": {"acceptedNames": names, "conditions": [
                    {"type": "NamesAccepted", "status": "True", "lastTransitionTime": installed,
                     "reason": "NoConflicts", "message": "no conflicts found"},
                    {"type": "Established", "status": "True", "lastTransitionTime": installed,
                     "reason": "InitialNamesAccepted", "message": "the initial names have been accepted"},
                ], "storedVersions": [storage]},
            }));
            for version in versions {
                served.push(Resource {
                    group: group.to_string(),
                    version: (*version).to_string(),
                    kind: kind.to_string(),
                    plural: plural.to_string(),
                    namespaced,
                });
            }
        }
        served.sort_by(|a, b| (&a.group, &a.kind, &a.version).cmp(&(&b.group, &b.kind, &b.version)));
        served
    }
}

/// The pod-spec fields the API server fills in that a template usually leaves out.
fn defaults(mut spec: Value) -> Value {
    if let Some(map) = spec.as_object_mut() {
        map.entry("securityContext").or_insert_with(|| json!({}));
    }
    spec
}

/// The injection template hash that pre-1.11 status annotations carry (stable per version).
fn template_hash(version: &semver::Version) -> String {
    let mut rng = Rng((version.major << 40) | (version.minor << 20) | version.patch);
    (0..4).map(|_| format!("{:016x}", rng.next())).collect()
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 { a } else { gcd(b, a % b) }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::analyze::{Severity, check};
    use crate::inventory::Inventory;

    fn spec(version: &str, revision: Option<&str>, legacy: bool) -> SyntheticSpec {
        SyntheticSpec {
            namespaces: 40,
            pods: 400,
            istio_objects: 150,
            version: version.to_string(),
            revision: revision.map(str::to_string),
            legacy,
            seed: 7,
        }
    }

    /// One spec per layout: 1.4 microservices, 1.5 istiod, revisions with the pod label (1.6,
    /// 1.10 with tags), revisions in the status annotation (1.29), non-revisioned modern istiod.
    fn layouts() -> Vec<SyntheticSpec> {
        vec![
            spec("1.4.10", None, false),
            spec("1.4.10", None, true),
            spec("1.5.10", None, true),
            spec("1.6.14", None, false),
            spec("1.6.14", Some("1-6-14"), true),
            spec("1.10", Some("1-10-6"), false),
            spec("1.29.5", Some("1-29-5"), false),
            spec("1.31", None, false),
        ]
    }

    fn kinds(snapshot: &Snapshot) -> BTreeMap<&str, usize> {
        let mut out = BTreeMap::new();
        for object in &snapshot.objects {
            *out.entry(object["kind"].as_str().unwrap()).or_insert(0) += 1;
        }
        out
    }

    fn istio_objects(snapshot: &Snapshot) -> usize {
        snapshot
            .objects
            .iter()
            .filter(|o| o["apiVersion"].as_str().unwrap().split('/').next().unwrap().ends_with("istio.io"))
            .count()
    }

    #[test]
    fn counts_are_exactly_as_asked() {
        for spec in layouts() {
            let snapshot = generate(&spec).unwrap();
            let kinds = kinds(&snapshot);
            assert_eq!(kinds["Namespace"], spec.namespaces, "{spec:?}");
            assert_eq!(kinds["Pod"], spec.pods, "{spec:?}");
            assert_eq!(istio_objects(&snapshot), spec.istio_objects, "{spec:?}");
        }
        let tiny = SyntheticSpec { namespaces: 1, pods: 2, istio_objects: 3, ..spec("1.31", None, false) };
        let snapshot = generate(&tiny).unwrap();
        assert_eq!(
            (kinds(&snapshot)["Namespace"], kinds(&snapshot)["Pod"], istio_objects(&snapshot)),
            (1, 2, 3)
        );
    }

    #[test]
    fn names_are_unique_and_objects_are_complete() {
        for spec in layouts() {
            let snapshot = generate(&spec).unwrap();
            let mut seen = std::collections::BTreeSet::new();
            for object in &snapshot.objects {
                let id = crate::inventory::ObjectId::of(object);
                let group = object["apiVersion"].as_str().unwrap().rsplit_once('/').map_or("", |(g, _)| g);
                assert!(seen.insert((group.to_string(), id.clone())), "{spec:?}: {id} twice");
                // Pods are kept as `collect` keeps them: no uid or resourceVersion.
                let fields: &[&str] = if id.kind == "Pod" {
                    &["creationTimestamp"]
                } else {
                    &["uid", "resourceVersion", "creationTimestamp"]
                };
                for field in fields {
                    assert!(object["metadata"][field].is_string(), "{id} has no {field}");
                }
                if id.kind == "Secret" {
                    assert!(
                        object.get("data").is_none() && object.get("stringData").is_none(),
                        "{id} has values"
                    );
                    assert!(object["metadata"]["annotations"][SECRET_KEYS_ANNOTATION].is_string(), "{id}");
                }
                if id.kind == "CustomResourceDefinition" {
                    assert!(
                        object["spec"]["versions"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .all(|v| v.get("schema").is_none())
                    );
                }
            }
        }
    }

    #[test]
    fn the_same_spec_gives_the_same_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let spec = SyntheticSpec { pods: 150, ..spec("1.6.14", Some("1-6-14"), true) };
        let (first, second, other) =
            (dir.path().join("a.tar.gz"), dir.path().join("b.tar.gz"), dir.path().join("c.tar.gz"));
        generate(&spec).unwrap().write(&first).unwrap();
        generate(&spec).unwrap().write(&second).unwrap();
        generate(&SyntheticSpec { seed: 8, ..spec }).unwrap().write(&other).unwrap();
        let bytes = |path: &std::path::Path| std::fs::read(path).unwrap();
        assert_eq!(bytes(&first), bytes(&second));
        assert_ne!(bytes(&first), bytes(&other), "the seed matters");
    }

    #[test]
    fn round_trips_through_the_writer_and_reader() {
        let dir = tempfile::tempdir().unwrap();
        for (index, spec) in layouts().into_iter().enumerate() {
            let spec = SyntheticSpec { namespaces: 12, pods: 60, istio_objects: 40, ..spec };
            let snapshot = generate(&spec).unwrap();
            let archive = dir.path().join(format!("{index}.tar.gz"));
            snapshot.write(&archive).unwrap();
            assert_eq!(Snapshot::read(&archive).unwrap(), snapshot, "{spec:?}");
            if index == 0 {
                let folder = dir.path().join("folder");
                snapshot.write(&folder).unwrap();
                assert_eq!(Snapshot::read(&folder).unwrap(), snapshot, "{spec:?}");
            }
        }
    }

    /// Proxies counted straight from the pods: the tag of every istio-proxy container's image.
    fn proxy_images(snapshot: &Snapshot) -> BTreeMap<String, usize> {
        let mut out = BTreeMap::new();
        for pod in snapshot.objects.iter().filter(|o| o["kind"] == "Pod") {
            for container in pod["spec"]["containers"].as_array().unwrap() {
                if container["name"] == "istio-proxy" {
                    let tag = container["image"].as_str().unwrap().rsplit_once(':').unwrap().1;
                    *out.entry(tag.to_string()).or_insert(0) += 1;
                }
            }
        }
        out
    }

    #[test]
    fn the_inventory_finds_the_control_plane_and_counts_proxies_by_version() {
        for spec in layouts() {
            let snapshot = generate(&spec).unwrap();
            let inventory = Inventory::from_snapshot(&snapshot);
            let resolved = Catalog::embedded().unwrap().resolve(&spec.version).unwrap().version;
            assert_eq!(inventory.control_planes.len(), 1, "{spec:?}");
            let plane = &inventory.control_planes[0];
            let expected = match (&spec.revision, resolved.minor) {
                (_, 4) => "legacy",
                (Some(revision), _) => revision.as_str(),
                (None, _) => "default",
            };
            assert_eq!((plane.revision.as_str(), plane.namespace.as_str()), (expected, ISTIO_NAMESPACE));
            assert_eq!(plane.version(), Some(&resolved), "{spec:?}");
            assert_eq!(inventory.current_version(), Some(&resolved));
            assert_eq!(inventory.kubernetes_version.as_ref().map(|k| k.minor), {
                let release = Catalog::embedded().unwrap().resolve(&spec.version).unwrap().release;
                Some(release.newest_kubernetes().minor)
            });
            let mut by_version: BTreeMap<String, usize> = BTreeMap::new();
            for proxy in &inventory.proxies {
                *by_version.entry(proxy.version.as_ref().unwrap().to_string()).or_insert(0) += 1;
            }
            assert_eq!(by_version, proxy_images(&snapshot), "{spec:?}");
            let previous = Era {
                version: resolved.clone(),
                features: plane_features(&spec),
                kubernetes: resolved.clone(),
            }
            .previous_patch()
            .to_string();
            assert!(by_version.len() == 2 && by_version.contains_key(&previous), "{spec:?}: {by_version:?}");
            let injected = snapshot
                .objects
                .iter()
                .filter(|o| {
                    o["kind"] == "Pod" && o["metadata"]["labels"]["security.istio.io/tlsMode"] == "istio"
                })
                .count();
            assert!(injected > spec.pods / 2, "{spec:?}: most pods are injected ({injected})");
            // Injected pods, the gateway, and the proxies of pilot and Mixer in their layouts.
            let control_plane_proxies = inventory.proxies.len() - injected;
            let mixer = if spec.legacy && resolved.minor < 8 { 2 } else { 0 };
            let pilot = usize::from(resolved.minor == 4);
            assert_eq!(control_plane_proxies, 1 + mixer + pilot, "{spec:?}");
            if resolved.minor >= 6 {
                let revisions: Vec<&str> = inventory
                    .proxies
                    .iter()
                    .filter(|p| p.pod.namespace != ISTIO_NAMESPACE)
                    .filter_map(|p| p.revision.as_deref())
                    .collect();
                assert_eq!(revisions.len(), injected, "{spec:?}: every injected pod records its revision");
                assert!(revisions.iter().all(|r| *r == expected), "{spec:?}");
            }
            let gateways = &inventory.gateways;
            assert_eq!(gateways.len(), 1);
            assert_eq!(gateways[0].version.as_ref(), Some(&resolved));
            assert_eq!(inventory.config_counts.values().sum::<usize>(), spec.istio_objects);
            let owned = Inventory::from(snapshot.clone());
            assert_eq!(owned.objects(), inventory.objects(), "taking the objects gives the same views");
            assert_eq!(serde_json::to_value(&owned).unwrap(), serde_json::to_value(&inventory).unwrap());
        }
    }

    fn plane_features(spec: &SyntheticSpec) -> Features {
        Catalog::embedded().unwrap().resolve(&spec.version).unwrap().release.features
    }

    #[test]
    fn namespaces_mix_injection_labels() {
        for spec in [spec("1.29.5", Some("1-29-5"), false), spec("1.31", None, false)] {
            let inventory = Inventory::from_snapshot(&generate(&spec).unwrap());
            let count = |f: &dyn Fn(&crate::inventory::Namespace) -> bool| {
                inventory.namespaces.iter().filter(|n| f(n)).count()
            };
            let enabled = count(&|n| n.injection.as_deref() == Some("enabled") && n.revision.is_none());
            let revision = count(&|n| n.injection.is_none() && n.revision.is_some());
            let both = count(&|n| n.injection.is_some() && n.revision.is_some());
            let out = count(&|n| n.injection.as_deref() != Some("enabled") && n.revision.is_none());
            assert!(enabled > 5 && revision > 5 && both > 0 && out > 1, "{enabled} {revision} {both} {out}");
        }
    }

    #[test]
    fn healthy_specs_have_no_error_findings() {
        let catalog = Catalog::embedded().unwrap();
        for spec in layouts().into_iter().filter(|s| !s.legacy) {
            let inventory = Inventory::from_snapshot(&generate(&spec).unwrap());
            let version = catalog.resolve(&spec.version).unwrap().version;
            for target in [None, Some(&version)] {
                let errors: Vec<String> = check(&inventory, catalog, target)
                    .into_iter()
                    .filter(|f| f.severity == Severity::Error)
                    .map(|f| format!("{} {:?}: {}", f.code, f.object, f.message))
                    .collect();
                assert!(errors.is_empty(), "{spec:?} → {target:?}: {errors:#?}");
            }
        }
    }

    #[test]
    fn legacy_objects_are_what_the_migrations_convert() {
        let catalog = Catalog::embedded().unwrap();
        let inventory = Inventory::from_snapshot(&generate(&spec("1.5.10", None, true)).unwrap());
        for group in ["authentication.istio.io", "config.istio.io"] {
            assert!(inventory.in_group(group).count() > 3, "{group}");
        }
        let codes: std::collections::BTreeSet<&str> =
            check(&inventory, catalog, Some(&semver::Version::new(1, 6, 14)))
                .into_iter()
                .map(|f| f.code)
                .collect();
        for code in [
            "E-API-AUTHN-ALPHA",
            "W-API-MIXER-CONFIG",
            "W-MIXER-ENABLED",
            "W-POLICY-CHECKS-ON",
            "W-GATEWAY-FILE-CERTS",
        ] {
            assert!(codes.contains(code), "{code} missing from {codes:?}");
        }
    }

    #[test]
    fn impossible_specs_are_refused() {
        let refused = |spec: SyntheticSpec| generate(&spec).unwrap_err().to_string();
        assert!(refused(spec("1.5", Some("canary"), false)).contains("revisions start with 1.6"));
        assert!(refused(SyntheticSpec { pods: 1, ..spec("1.31", None, false) }).contains("runs 2 pods"));
        assert!(refused(SyntheticSpec { namespaces: 0, ..spec("1.31", None, false) }).contains("at least 1"));
        assert!(refused(SyntheticSpec { namespaces: 1, ..spec("1.31", None, false) }).contains("at least 2"));
        assert!(refused(spec("1.13", None, false)).contains("not in the catalog"));
    }
}
