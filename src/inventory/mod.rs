//! The inventory: typed views over observed objects (a live read or a snapshot, which are the same
//! [`Snapshot`] value), answering "what is actually running": control planes and their versions,
//! revision tags, injection webhooks, namespaces and their injection labels, proxies by revision and
//! version, gateways and how they get certificates, Istio configuration by kind, and Services.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;

use crate::snapshot::{Snapshot, SnapshotInfo};
use crate::version::parse_lenient;

/// The 1.4-era control-plane components, by Deployment name.
pub const LEGACY_COMPONENTS: [&str; 4] =
    ["istio-pilot", "istio-galley", "istio-citadel", "istio-sidecar-injector"];

/// Mixer's Deployments: part of a 1.4-era control plane, or an add-on beside istiod (1.5–1.7).
pub const MIXER_COMPONENTS: [&str; 2] = ["istio-policy", "istio-telemetry"];

/// Where an object lives.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct ObjectId {
    /// Kind.
    pub kind: String,
    /// Namespace ("" for cluster-scoped objects).
    pub namespace: String,
    /// Name.
    pub name: String,
}

impl ObjectId {
    /// The id of an object.
    pub fn of(object: &Value) -> ObjectId {
        ObjectId {
            kind: text(object, "/kind"),
            namespace: text(object, "/metadata/namespace"),
            name: text(object, "/metadata/name"),
        }
    }
}

impl std::fmt::Display for ObjectId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.namespace.is_empty() {
            write!(f, "{} {}", self.kind, self.name)
        } else {
            write!(f, "{} {}/{}", self.kind, self.namespace, self.name)
        }
    }
}

/// The value at a JSON pointer, as `Value::pointer` finds it but without its two allocations per
/// path segment: the inventory and the checks look fields up on every pod of large clusters.
pub fn lookup<'v>(object: &'v Value, pointer: &str) -> Option<&'v Value> {
    if pointer.is_empty() || pointer.contains('~') {
        return object.pointer(pointer);
    }
    pointer.strip_prefix('/')?.split('/').try_fold(object, |value, key| match value {
        Value::Object(map) => field(map, key),
        Value::Array(items) if key == "0" || !key.starts_with(['0', '+']) => {
            key.parse::<usize>().ok().and_then(|index| items.get(index))
        }
        _ => None,
    })
}

/// The longest map searched key by key rather than through its hash index.
const SCANNED: usize = 8;

/// `map[key]`. Most maps of an object have a few keys, and comparing those is quicker than hashing
/// the key (the maps hash with SipHash), so small maps are searched in order.
fn field<'v>(map: &'v serde_json::Map<String, Value>, key: &str) -> Option<&'v Value> {
    if map.len() <= SCANNED { map.iter().find_map(|(k, v)| (k == key).then_some(v)) } else { map.get(key) }
}

/// A string field of an object ("" when absent).
pub fn text(object: &Value, pointer: &str) -> String {
    lookup(object, pointer).and_then(Value::as_str).unwrap_or("").to_string()
}

/// A string field of an object, borrowed ("" when absent): for comparisons in scans over every
/// object, where [`text`]'s copy would be the main cost.
pub fn str_of<'v>(object: &'v Value, pointer: &str) -> &'v str {
    lookup(object, pointer).and_then(Value::as_str).unwrap_or("")
}

/// A label of an object.
pub fn label<'v>(object: &'v Value, key: &str) -> Option<&'v str> {
    object.get("metadata").and_then(|m| m.get("labels")).and_then(|l| l.get(key)).and_then(Value::as_str)
}

/// An annotation of an object.
pub fn annotation<'v>(object: &'v Value, key: &str) -> Option<&'v str> {
    object.get("metadata").and_then(|m| m.get("annotations")).and_then(|a| a.get(key)).and_then(Value::as_str)
}

/// The version in an image reference's tag (`docker.io/istio/pilot:1.6.14` → 1.6.14).
pub fn image_version(image: &str) -> Option<semver::Version> {
    let (_, tag) = image.rsplit_once(':')?;
    if tag.contains('/') {
        return None;
    }
    let tag = tag.split(['-', '@']).next()?;
    parse_lenient(tag).ok()
}

/// A control plane: an istiod revision, or the 1.4-era microservices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ControlPlane {
    /// `default` for a non-revisioned istiod, the revision otherwise; `legacy` for microservices.
    pub revision: String,
    /// The namespace it runs in.
    pub namespace: String,
    /// Its Deployments, each with the version read from its image.
    pub components: Vec<(String, Option<semver::Version>)>,
    /// True for the pre-istiod microservices layout.
    pub legacy: bool,
}

impl ControlPlane {
    /// The version of its main component (istiod or istio-pilot).
    pub fn version(&self) -> Option<&semver::Version> {
        self.components.iter().find_map(|(_, v)| v.as_ref())
    }
}

/// A revision tag: a stable name pointing at a revision (1.10+).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RevisionTag {
    /// The tag, e.g. `prod-stable`.
    pub tag: String,
    /// The revision it points at.
    pub revision: String,
}

/// An injection webhook configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InjectionWebhook {
    /// The MutatingWebhookConfiguration.
    pub name: String,
    /// The revision it injects for (`istio.io/rev` label), if labelled.
    pub revision: Option<String>,
    /// The Services its webhooks call, as (namespace, name).
    pub services: Vec<(String, String)>,
}

/// A namespace and how it asks for injection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Namespace {
    /// The name.
    pub name: String,
    /// The `istio-injection` label.
    pub injection: Option<String>,
    /// The `istio.io/rev` label.
    pub revision: Option<String>,
}

/// An injected proxy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Proxy {
    /// The pod.
    pub pod: ObjectId,
    /// The proxy image.
    pub image: String,
    /// The version from the image tag.
    pub version: Option<semver::Version>,
    /// The revision that injected it (status annotation, else the `istio.io/rev` label).
    pub revision: Option<String>,
}

/// How a gateway gets its TLS certificates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CertificateMode {
    /// Secrets mounted as files (`/etc/istio/*-certs`).
    FileMounted,
    /// Secret Discovery Service (`credentialName`).
    Sds,
}

/// A gateway Deployment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Gateway {
    /// The Deployment.
    pub deployment: ObjectId,
    /// The proxy version.
    pub version: Option<semver::Version>,
    /// How it gets certificates.
    pub certificates: CertificateMode,
}

/// Typed views over a snapshot.
#[derive(Debug, Clone, Serialize)]
pub struct Inventory {
    /// The Kubernetes version.
    pub kubernetes_version: Option<semver::Version>,
    /// Control planes.
    pub control_planes: Vec<ControlPlane>,
    /// Revision tags.
    pub revision_tags: Vec<RevisionTag>,
    /// Injection webhooks.
    pub injection_webhooks: Vec<InjectionWebhook>,
    /// Namespaces.
    pub namespaces: Vec<Namespace>,
    /// Injected proxies.
    pub proxies: Vec<Proxy>,
    /// Gateways.
    pub gateways: Vec<Gateway>,
    /// Istio configuration objects per `group/Kind`, counted.
    pub config_counts: BTreeMap<String, usize>,
    #[serde(skip)]
    objects: Vec<Arc<Value>>,
    /// Where the objects of each kind are in `objects`, in order: checks ask for one kind at a
    /// time, and on a large cluster a pass over every object costs more than the check itself.
    #[serde(skip)]
    by_kind: BTreeMap<String, Vec<usize>>,
    /// Where the objects of each API group (`v1` for the core group) are, in order.
    #[serde(skip)]
    by_group: BTreeMap<String, Vec<usize>>,
}

/// Appends `position` to the list under `key`, allocating the key only the first time.
fn add_index(index: &mut BTreeMap<String, Vec<usize>>, key: &str, position: usize) {
    match index.get_mut(key) {
        Some(positions) => positions.push(position),
        None => {
            index.insert(key.to_string(), vec![position]);
        }
    }
}

fn containers(pod_spec: &Value) -> impl Iterator<Item = &Value> {
    ["containers", "initContainers"]
        .into_iter()
        .flat_map(move |k| pod_spec.get(k).and_then(Value::as_array).into_iter().flatten())
}

impl From<Snapshot> for Inventory {
    /// Builds the views from observed objects, taking them: on a large cluster copying them costs
    /// more than building the views.
    fn from(snapshot: Snapshot) -> Inventory {
        Inventory::build(&snapshot.info, snapshot.objects)
    }
}

impl Inventory {
    /// Builds the views from observed objects (copying them; see also `Inventory::from(snapshot)`).
    pub fn from_snapshot(snapshot: &Snapshot) -> Inventory {
        Inventory::build(&snapshot.info, snapshot.objects.clone())
    }

    fn build(info: &SnapshotInfo, objects: Vec<Arc<Value>>) -> Inventory {
        let mut by_kind = BTreeMap::new();
        let mut by_group = BTreeMap::new();
        for (position, object) in objects.iter().enumerate() {
            if let Some(kind) = object.get("kind").and_then(Value::as_str) {
                add_index(&mut by_kind, kind, position);
            }
            let api_version = object.get("apiVersion").and_then(Value::as_str).unwrap_or("");
            add_index(&mut by_group, api_version.split('/').next().unwrap_or(""), position);
        }
        let of_kind =
            |kind: &str| by_kind.get(kind).into_iter().flatten().map(|&position| &*objects[position]);
        let mut control_planes: BTreeMap<(String, String), ControlPlane> = BTreeMap::new();
        let mut gateways = Vec::new();
        let mut mixer = Vec::new();
        for deployment in of_kind("Deployment") {
            let id = ObjectId::of(deployment);
            let spec = deployment.pointer("/spec/template/spec").unwrap_or(&Value::Null);
            let first_image = containers(spec).next().map(|c| text(c, "/image")).unwrap_or_default();
            let version = image_version(&first_image);
            let app = label(deployment, "app").unwrap_or("");
            if app == "istiod" || id.name == "istiod" || id.name.starts_with("istiod-") {
                let revision = label(deployment, "istio.io/rev").unwrap_or("default").to_string();
                control_planes
                    .entry((id.namespace.clone(), revision.clone()))
                    .or_insert_with(|| ControlPlane {
                        revision,
                        namespace: id.namespace.clone(),
                        components: Vec::new(),
                        legacy: false,
                    })
                    .components
                    .push((id.name.clone(), version));
            } else if MIXER_COMPONENTS.contains(&id.name.as_str()) {
                mixer.push((id.namespace.clone(), id.name.clone(), version));
            } else if LEGACY_COMPONENTS.contains(&id.name.as_str()) {
                control_planes
                    .entry((id.namespace.clone(), "legacy".to_string()))
                    .or_insert_with(|| ControlPlane {
                        revision: "legacy".to_string(),
                        namespace: id.namespace.clone(),
                        components: Vec::new(),
                        legacy: true,
                    })
                    .components
                    .push((id.name.clone(), version));
            } else if label(deployment, "istio").is_some_and(|l| l.ends_with("gateway")) {
                let file_mounted =
                    spec.get("volumes").and_then(Value::as_array).into_iter().flatten().any(|v| {
                        let name = text(v, "/secret/secretName");
                        name.ends_with("gateway-certs") || name.ends_with("gateway-ca-certs")
                    });
                let certificates =
                    if file_mounted { CertificateMode::FileMounted } else { CertificateMode::Sds };
                let proxy_image =
                    containers(spec).find(|c| text(c, "/name") == "istio-proxy").map(|c| text(c, "/image"));
                gateways.push(Gateway {
                    deployment: id,
                    version: proxy_image.as_deref().and_then(image_version),
                    certificates,
                });
            }
        }
        // Mixer belongs to a 1.4-era control plane when there is one in its namespace.
        for (namespace, name, version) in mixer {
            if let Some(plane) = control_planes.get_mut(&(namespace, "legacy".to_string())) {
                plane.components.push((name, version));
            }
        }
        let mut revision_tags = Vec::new();
        let mut injection_webhooks = Vec::new();
        for webhook in of_kind("MutatingWebhookConfiguration") {
            let name = text(webhook, "/metadata/name");
            if let (Some(tag), Some(revision)) =
                (label(webhook, "istio.io/tag"), label(webhook, "istio.io/rev"))
            {
                revision_tags.push(RevisionTag { tag: tag.to_string(), revision: revision.to_string() });
            }
            let services: Vec<(String, String)> = webhook
                .get("webhooks")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter(|w| text(w, "/name").contains("sidecar-injector"))
                .map(|w| (text(w, "/clientConfig/service/namespace"), text(w, "/clientConfig/service/name")))
                .collect();
            if !services.is_empty() {
                injection_webhooks.push(InjectionWebhook {
                    name,
                    revision: label(webhook, "istio.io/rev").map(str::to_string),
                    services,
                });
            }
        }
        let namespaces = of_kind("Namespace")
            .map(|ns| Namespace {
                name: text(ns, "/metadata/name"),
                injection: label(ns, "istio-injection").map(str::to_string),
                revision: label(ns, "istio.io/rev").map(str::to_string),
            })
            .collect();
        let proxies = of_kind("Pod")
            .filter_map(|pod| {
                let spec = pod.get("spec")?;
                let proxy =
                    spec.get("containers")?.as_array()?.iter().find(|c| text(c, "/name") == "istio-proxy")?;
                let image = text(proxy, "/image");
                let from_status = annotation(pod, "sidecar.istio.io/status")
                    .and_then(|s| serde_json::from_str::<Value>(s).ok())
                    .and_then(|s| s.get("revision").and_then(Value::as_str).map(str::to_string));
                let revision = from_status.or_else(|| label(pod, "istio.io/rev").map(str::to_string));
                Some(Proxy { pod: ObjectId::of(pod), version: image_version(&image), image, revision })
            })
            .collect();
        let mut config_counts = BTreeMap::new();
        for (group, positions) in by_group.iter().filter(|(group, _)| group.ends_with("istio.io")) {
            for &position in positions {
                let kind = text(&objects[position], "/kind");
                *config_counts.entry(format!("{group}/{kind}")).or_insert(0) += 1;
            }
        }
        Inventory {
            kubernetes_version: info.kubernetes_version.as_deref().and_then(|v| parse_lenient(v).ok()),
            control_planes: control_planes.into_values().collect(),
            revision_tags,
            injection_webhooks,
            namespaces,
            proxies,
            gateways,
            config_counts,
            objects,
            by_kind,
            by_group,
        }
    }

    /// Every observed object.
    pub fn objects(&self) -> &[Arc<Value>] {
        &self.objects
    }

    /// The observed objects, giving up the views.
    pub fn into_objects(self) -> Vec<Arc<Value>> {
        self.objects
    }

    /// Observed objects of a kind.
    pub fn of_kind<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
        self.by_kind.get(kind).into_iter().flatten().map(|&position| &*self.objects[position])
    }

    /// Istio configuration objects in an API group (e.g. `authentication.istio.io`).
    pub fn in_group<'a>(&'a self, group: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
        self.by_group.get(group).into_iter().flatten().map(|&position| &*self.objects[position])
    }

    /// The newest control-plane version running.
    pub fn current_version(&self) -> Option<&semver::Version> {
        self.control_planes.iter().filter_map(ControlPlane::version).max()
    }

    /// Revisions (and tags) that exist: istiod revisions, `default` when a non-revisioned istiod or a
    /// legacy control plane runs, and tag names.
    pub fn known_revisions(&self) -> Vec<String> {
        let mut known: Vec<String> = self
            .control_planes
            .iter()
            .map(|c| if c.legacy { "default".to_string() } else { c.revision.clone() })
            .collect();
        known.extend(self.revision_tags.iter().map(|t| t.tag.clone()));
        known.sort();
        known.dedup();
        known
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups_find_what_json_pointers_find() {
        let object = serde_json::json!({"metadata": {"labels": {"istio.io/rev": "1-6"}, "name": "n"},
            "spec": {"ports": [{"port": 80}, {"port": 443}]}, "": {"x": 1}});
        for pointer in [
            "",
            "/metadata/name",
            "/spec/ports/1/port",
            "/spec/ports/01/port",
            "/spec/ports/+1/port",
            "/spec/ports/2",
            "/metadata/labels/istio.io~1rev",
            "/missing/x",
            "metadata",
            "//x",
            "/spec/ports/x",
        ] {
            assert_eq!(lookup(&object, pointer), object.pointer(pointer), "{pointer}");
        }
    }

    #[test]
    fn versions_come_from_image_tags() {
        assert_eq!(image_version("docker.io/istio/pilot:1.6.14"), Some(semver::Version::new(1, 6, 14)));
        assert_eq!(
            image_version("gcr.io/istio-release/proxyv2:1.31.1-distroless"),
            Some(semver::Version::new(1, 31, 1))
        );
        assert_eq!(image_version("localhost:5000/pilot"), None);
        assert_eq!(image_version("istio/pilot:latest"), None);
    }
}
