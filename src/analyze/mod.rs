//! Findings: what in an observed cluster will break, or is already broken, with a stable code, a
//! severity, the object, a message and a hint to fix it. Codes follow the glossary of the migration
//! spec where one fits (`W-INJECT-BOTH-LABELS`, `W-MIXER-QUOTASPECBINDING-PANIC`, `W-MTLS-DR-CONFLICT`);
//! the first letter always matches the severity, so a condition that is a warning for one target and
//! an error for another has an `E-` and a `W-` code.
//! Every check is a pure function of the inventory, the catalog and the target version, so a live
//! cluster and a snapshot of it give the same findings.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;

use crate::catalog::Catalog;
use crate::inventory::{Inventory, ObjectId, lookup, str_of, text};

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Breaks now or breaks the upgrade: fix first.
    Error,
    /// Risky or deprecated: fix before or during the upgrade.
    Warning,
    /// Worth knowing.
    Info,
}

impl Severity {
    /// The severity a finding code's first letter states (`E-`, `W-`, otherwise info): migrations
    /// name their codes that way.
    pub fn of_code(code: &str) -> Severity {
        match code.as_bytes().first() {
            Some(b'E') => Severity::Error,
            Some(b'W') => Severity::Warning,
            _ => Severity::Info,
        }
    }
}

/// Which part of the mesh a finding concerns (the report's summary groups by area).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Area {
    /// Kubernetes, control planes, webhooks.
    Platform,
    /// mTLS, authentication, certificates.
    Security,
    /// Gateways.
    IngressEgress,
    /// Mixer policy and telemetry.
    Policy,
    /// Versions, skew, upgrade paths.
    UpgradeReadiness,
}

impl Area {
    /// Every area, in report order.
    pub const ALL: [Area; 5] =
        [Area::Platform, Area::Security, Area::IngressEgress, Area::Policy, Area::UpgradeReadiness];

    /// A human name.
    pub fn title(self) -> &'static str {
        match self {
            Area::Platform => "Platform",
            Area::Security => "Security",
            Area::IngressEgress => "Ingress and egress",
            Area::Policy => "Policy and telemetry",
            Area::UpgradeReadiness => "Upgrade readiness",
        }
    }
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Stable code, e.g. `W-INJECT-BOTH-LABELS`.
    pub code: &'static str,
    /// How bad it is.
    pub severity: Severity,
    /// What part of the mesh it concerns.
    pub area: Area,
    /// The object it is about (absent for cluster-wide findings).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object: Option<ObjectId>,
    /// What is wrong.
    pub message: String,
    /// What to do.
    pub hint: String,
}

fn finding(
    code: &'static str,
    severity: Severity,
    area: Area,
    object: Option<ObjectId>,
    message: String,
    hint: &str,
) -> Finding {
    Finding { code, severity, area, object, message, hint: hint.to_string() }
}

/// Runs every check against an inventory, for an optional target version.
pub fn check(inventory: &Inventory, catalog: &Catalog, target: Option<&semver::Version>) -> Vec<Finding> {
    let mut findings = Vec::new();
    legacy_apis(inventory, target, &mut findings);
    mixer(inventory, target, &mut findings);
    certificates(inventory, &mut findings);
    injection_labels(inventory, &mut findings);
    injection_targets(inventory, &mut findings);
    versions(inventory, catalog, target, &mut findings);
    service_ports(inventory, &mut findings);
    webhook_endpoints(inventory, &mut findings);
    mtls_conflicts(inventory, &mut findings);
    trust_domains(inventory, &mut findings);
    invalid_config(inventory, &mut findings);
    findings.sort_by(|a, b| {
        (a.severity, a.area, a.code, &a.object).cmp(&(b.severity, b.area, b.code, &b.object))
    });
    findings
}

/// A string field of an object, borrowed ("" when absent): for the loops over every pod or Service.
fn str_at<'v>(object: &'v Value, pointer: &str) -> &'v str {
    lookup(object, pointer).and_then(Value::as_str).unwrap_or("")
}

fn at_least(target: Option<&semver::Version>, major: u64, minor: u64) -> bool {
    target.is_some_and(|t| (t.major, t.minor) >= (major, minor))
}

fn legacy_apis(inventory: &Inventory, target: Option<&semver::Version>, out: &mut Vec<Finding>) {
    for object in inventory.in_group("authentication.istio.io") {
        let removed = at_least(target, 1, 6);
        out.push(finding(
            if removed { "E-API-AUTHN-ALPHA" } else { "W-API-AUTHN-ALPHA" },
            if removed { Severity::Error } else { Severity::Warning },
            Area::Security,
            Some(ObjectId::of(object)),
            format!(
                "{} uses authentication.istio.io/v1alpha1, which Istio 1.6 and later ignore{}",
                text(object, "/kind"),
                if removed { ": after the upgrade its mTLS and JWT rules stop applying" } else { "" }
            ),
            "convert it with the meshpolicy-to-peerauthentication migration (PeerAuthentication, RequestAuthentication, AuthorizationPolicy) before upgrading to 1.6",
        ));
    }
    for object in inventory.in_group("rbac.istio.io") {
        let ignored = at_least(target, 1, 6);
        out.push(finding(
            if ignored { "E-API-RBAC-ALPHA" } else { "W-API-RBAC-ALPHA" },
            if ignored { Severity::Error } else { Severity::Warning },
            Area::Security,
            Some(ObjectId::of(object)),
            format!(
                "{} uses rbac.istio.io/v1alpha1, ignored from Istio 1.6 and no longer shipped from 1.7",
                text(object, "/kind")
            ),
            "rewrite the rules as security.istio.io AuthorizationPolicy objects",
        ));
    }
    for object in inventory.in_group("config.istio.io") {
        let kind = text(object, "/kind");
        if kind == "QuotaSpecBinding" {
            let crashes = target.is_some_and(|t| (t.major, t.minor) == (1, 6));
            out.push(finding(
                if crashes { "E-MIXER-QUOTASPECBINDING-PANIC" } else { "W-MIXER-QUOTASPECBINDING-PANIC" },
                if crashes { Severity::Error } else { Severity::Warning },
                Area::Policy,
                Some(ObjectId::of(object)),
                "QuotaSpecBinding objects crash istiod 1.6.0 (istio#24264)".to_string(),
                "back up and delete QuotaSpecBinding objects before upgrading to 1.6",
            ));
        }
        let removed = at_least(target, 1, 8);
        out.push(finding(
            if removed { "E-API-MIXER-CONFIG" } else { "W-API-MIXER-CONFIG" },
            if removed { Severity::Error } else { Severity::Warning },
            Area::Policy,
            Some(ObjectId::of(object)),
            format!("{kind} is Mixer configuration (config.istio.io), removed with Mixer in Istio 1.8"),
            "move metrics to telemetry v2 and policy to AuthorizationPolicy with the mixer-to-telemetry-v2 migration",
        ));
    }
}

/// The mesh configuration text of each control plane's mesh ConfigMap.
fn mesh_configs(inventory: &Inventory) -> Vec<(ObjectId, Value)> {
    inventory
        .of_kind("ConfigMap")
        .filter(|cm| {
            let name = text(cm, "/metadata/name");
            name == "istio"
                || (name.starts_with("istio-")
                    && !name.starts_with("istio-sidecar-injector")
                    && cm.pointer("/data/mesh").is_some())
        })
        .filter_map(|cm| {
            let mesh = crate::yaml::parse_one(cm.pointer("/data/mesh")?.as_str()?).ok()?;
            Some((ObjectId::of(cm), mesh))
        })
        .collect()
}

fn mixer(inventory: &Inventory, target: Option<&semver::Version>, out: &mut Vec<Finding>) {
    for deployment in inventory.of_kind("Deployment") {
        let name = text(deployment, "/metadata/name");
        if name == "istio-policy" || name == "istio-telemetry" {
            let removed = at_least(target, 1, 8);
            out.push(finding(
                if removed { "E-MIXER-ENABLED" } else { "W-MIXER-ENABLED" },
                if removed { Severity::Error } else { Severity::Warning },
                Area::Policy,
                Some(ObjectId::of(deployment)),
                format!("Mixer ({name}) is running; Mixer was deprecated in 1.5 and removed in 1.8"),
                "enable telemetry v2, check the metrics, turn policy checks off, then remove Mixer (mixer-to-telemetry-v2)",
            ));
        }
    }
    for (id, mesh) in mesh_configs(inventory) {
        if mesh.get("disablePolicyChecks") == Some(&Value::Bool(false)) {
            out.push(finding(
                "W-POLICY-CHECKS-ON",
                Severity::Warning,
                Area::Policy,
                Some(id),
                "policy checks are on (disablePolicyChecks: false): every request waits for istio-policy".to_string(),
                "set disablePolicyChecks: true once denier and list rules are replaced by AuthorizationPolicy",
            ));
        }
    }
}

fn certificates(inventory: &Inventory, out: &mut Vec<Finding>) {
    for gateway in inventory.of_kind("Gateway") {
        let file_servers = gateway
            .pointer("/spec/servers")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter(|server| {
                let tls = server.get("tls");
                let path = tls
                    .and_then(|t| t.get("serverCertificate"))
                    .and_then(Value::as_str)
                    .is_some_and(|p| !p.is_empty());
                let credential = tls
                    .and_then(|t| t.get("credentialName"))
                    .and_then(Value::as_str)
                    .is_some_and(|c| !c.is_empty());
                path && !credential
            })
            .count();
        if file_servers > 0 {
            out.push(finding(
                "W-GATEWAY-FILE-CERTS",
                Severity::Warning,
                Area::IngressEgress,
                Some(ObjectId::of(gateway)),
                format!("{file_servers} TLS server(s) read certificates from files mounted into the gateway pods instead of SDS"),
                "convert them to credentialName (sds-enablement) so certificates rotate without restarts",
            ));
        }
    }
    for pod in inventory.of_kind("Pod") {
        let legacy = pod.pointer("/spec/volumes").and_then(Value::as_array).into_iter().flatten().any(|v| {
            let secret = str_at(v, "/secret/secretName");
            secret.starts_with("istio.") && secret != "istio.io"
        });
        if legacy {
            out.push(finding(
                "W-LEGACY-SECRET-MOUNTED",
                Severity::Warning,
                Area::Security,
                Some(ObjectId::of(pod)),
                "the pod mounts a Citadel istio.* certificate secret (no SDS); istiod does not renew these"
                    .to_string(),
                "restart it under an SDS-enabled proxy (1.5+) before the mounted certificate expires",
            ));
        }
    }
}

fn injection_labels(inventory: &Inventory, out: &mut Vec<Finding>) {
    let known = inventory.known_revisions();
    for ns in &inventory.namespaces {
        let id =
            Some(ObjectId { kind: "Namespace".to_string(), namespace: String::new(), name: ns.name.clone() });
        if ns.injection.is_some() && ns.revision.is_some() {
            out.push(finding(
                "W-INJECT-BOTH-LABELS",
                Severity::Warning,
                Area::Platform,
                id.clone(),
                "the namespace carries both istio-injection and istio.io/rev; istio-injection wins (IST0123)"
                    .to_string(),
                "remove the istio-injection label and keep istio.io/rev",
            ));
        }
        if let Some(revision) = &ns.revision
            && !known.contains(revision)
        {
            out.push(finding(
                "E-INJECT-UNKNOWN-REVISION",
                Severity::Error,
                Area::Platform,
                id,
                format!(
                    "istio.io/rev={revision} names no installed revision or tag; new pods here get no sidecar"
                ),
                "relabel the namespace to an installed revision or tag, or install that revision",
            ));
        }
    }
}

/// Whether some injection webhook selects namespaces labelled `istio-injection=enabled`.
fn has_default_injector(inventory: &Inventory) -> bool {
    inventory.of_kind("MutatingWebhookConfiguration").any(|config| {
        config.get("webhooks").and_then(Value::as_array).into_iter().flatten().any(|webhook| {
            let selector = webhook.get("namespaceSelector");
            let by_label =
                selector.and_then(|s| s.pointer("/matchLabels/istio-injection")).and_then(Value::as_str)
                    == Some("enabled");
            let by_expression = selector
                .and_then(|s| s.get("matchExpressions"))
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .any(|e| {
                    str_of(e, "/key") == "istio-injection"
                        && str_of(e, "/operator") == "In"
                        && e.get("values")
                            .and_then(Value::as_array)
                            .is_some_and(|v| v.iter().any(|x| x == "enabled"))
                });
            by_label || by_expression
        })
    })
}

fn injection_targets(inventory: &Inventory, out: &mut Vec<Finding>) {
    let default_injector = has_default_injector(inventory);
    let tags: BTreeMap<&str, &str> =
        inventory.revision_tags.iter().map(|t| (t.tag.as_str(), t.revision.as_str())).collect();
    let mut proxies_in: BTreeMap<&str, Vec<&crate::inventory::Proxy>> = BTreeMap::new();
    for proxy in &inventory.proxies {
        proxies_in.entry(proxy.pod.namespace.as_str()).or_default().push(proxy);
    }
    for ns in &inventory.namespaces {
        if ns.injection.as_deref() == Some("enabled") && ns.revision.is_none() && !default_injector {
            out.push(finding(
                "E-INJECT-NO-INJECTOR",
                Severity::Error,
                Area::Platform,
                Some(ObjectId { kind: "Namespace".to_string(), namespace: String::new(), name: ns.name.clone() }),
                "the namespace asks for injection with istio-injection=enabled, but no webhook serves that label: new pods get no sidecar".to_string(),
                "label it istio.io/rev=<revision or tag> instead, or point the `default` revision tag at a revision",
            ));
        }
        let Some(wanted) = ns.revision.as_deref().map(|r| tags.get(r).copied().unwrap_or(r)) else {
            continue;
        };
        for proxy in proxies_in.get(ns.name.as_str()).into_iter().flatten() {
            if let Some(actual) = &proxy.revision
                && actual != wanted
            {
                out.push(finding(
                    "I-PROXY-STALE-REVISION",
                    Severity::Info,
                    Area::UpgradeReadiness,
                    Some(proxy.pod.clone()),
                    format!(
                        "the proxy was injected by revision {actual}, but its namespace now selects {wanted}"
                    ),
                    "restart the workload (kubectl rollout restart) to move it to the namespace's revision",
                ));
            }
        }
    }
}

fn versions(
    inventory: &Inventory,
    catalog: &Catalog,
    target: Option<&semver::Version>,
    out: &mut Vec<Finding>,
) {
    let current = inventory.current_version().cloned();
    for proxy in &inventory.proxies {
        let (Some(proxy_version), Some(control)) = (&proxy.version, &current) else { continue };
        let too_new = (proxy_version.major, proxy_version.minor) > (control.major, control.minor);
        let too_old = control.minor > proxy_version.minor + 1;
        if too_new || too_old {
            out.push(finding(
                "E-PROXY-SKEW",
                Severity::Error,
                Area::UpgradeReadiness,
                Some(proxy.pod.clone()),
                format!(
                    "proxy {proxy_version} is {} the control plane {control}",
                    if too_new { "newer than" } else { "more than one minor behind" }
                ),
                "restart the workload so it is injected with the current proxy",
            ));
        }
    }
    let Some(target) = target else { return };
    if let (Some(kube), Ok(resolved)) = (&inventory.kubernetes_version, catalog.resolve(&target.to_string()))
        && !resolved.release.supports_kubernetes(kube)
    {
        out.push(finding(
            "E-K8S-UNSUPPORTED",
            Severity::Error,
            Area::Platform,
            None,
            format!(
                "Istio {target} supports Kubernetes {} to {}; this cluster runs {}.{}",
                resolved.release.kubernetes.min, resolved.release.kubernetes.max, kube.major, kube.minor
            ),
            "upgrade Kubernetes first, or choose an Istio version that supports it (`sailplan version list`)",
        ));
    }
    if let Some(current) = current
        && current < *target
        && catalog.strategies(&current, target).is_empty()
    {
        let path = upgrade_path(catalog, &current, target);
        out.push(finding(
            "E-UPGRADE-EDGE",
            Severity::Error,
            Area::UpgradeReadiness,
            None,
            match &path {
                Some(hops) => format!(
                    "Istio {current} cannot be upgraded to {target} in one step; go through {}",
                    hops.join(" → ")
                ),
                None => format!("the catalog has no upgrade path from Istio {current} to {target}"),
            },
            "plan the upgrade in the hops named; `sailplan plan` does this for you",
        ));
    }
}

/// The shortest chain of catalogued versions from `from` to `to`, each hop allowed by the catalog.
pub fn upgrade_path(catalog: &Catalog, from: &semver::Version, to: &semver::Version) -> Option<Vec<String>> {
    let mut frontier = vec![(from.clone(), vec![from.to_string()])];
    let mut seen = vec![from.clone()];
    while !frontier.is_empty() {
        let mut next = Vec::new();
        for (at, path) in frontier {
            for release in &catalog.versions {
                let step = if release.version.major == to.major && release.version.minor == to.minor {
                    to.clone()
                } else {
                    release.version.clone()
                };
                if seen.contains(&step) || step > *to || catalog.strategies(&at, &step).is_empty() {
                    continue;
                }
                let mut hops = path.clone();
                hops.push(step.to_string());
                if step == *to {
                    return Some(hops);
                }
                seen.push(step.clone());
                next.push((step, hops));
            }
        }
        frontier = next;
    }
    None
}

/// Protocol prefixes Istio recognises in Service port names.
const PROTOCOLS: [&str; 13] = [
    "http",
    "http2",
    "https",
    "grpc",
    "grpc-web",
    "tcp",
    "tls",
    "mongo",
    "mysql",
    "redis",
    "udp",
    "thrift",
    "zookeeper",
];

/// Names of the namespaces that ask for sidecars (`istio-injection=enabled` or `istio.io/rev`).
fn meshed_namespaces(inventory: &Inventory) -> BTreeSet<&str> {
    inventory
        .namespaces
        .iter()
        .filter(|n| n.injection.as_deref() == Some("enabled") || n.revision.is_some())
        .map(|n| n.name.as_str())
        .collect()
}

fn service_ports(inventory: &Inventory, out: &mut Vec<Finding>) {
    let meshed = meshed_namespaces(inventory);
    for service in inventory.of_kind("Service") {
        if !meshed.contains(str_at(service, "/metadata/namespace")) {
            continue;
        }
        for port in service.pointer("/spec/ports").and_then(Value::as_array).into_iter().flatten() {
            let name = text(port, "/name");
            let has_prefix = PROTOCOLS
                .iter()
                .any(|p| name.strip_prefix(p).is_some_and(|rest| rest.is_empty() || rest.starts_with('-')));
            if !has_prefix && port.get("appProtocol").is_none() {
                out.push(finding(
                    "W-PORT-NAME-PROTOCOL",
                    Severity::Warning,
                    Area::Platform,
                    Some(ObjectId::of(service)),
                    format!("port {} is named {:?}, without a protocol prefix; Istio treats its traffic as opaque TCP or sniffs it", port.get("port").unwrap_or(&Value::Null), name),
                    "name the port <protocol>[-<suffix>] (e.g. http-web) or set appProtocol",
                ));
            }
        }
    }
}

fn webhook_endpoints(inventory: &Inventory, out: &mut Vec<Finding>) {
    let ready: BTreeMap<(String, String), bool> = inventory
        .of_kind("Endpoints")
        .map(|e| {
            let has_ready = e
                .get("subsets")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .any(|s| s.get("addresses").and_then(Value::as_array).is_some_and(|a| !a.is_empty()));
            ((text(e, "/metadata/namespace"), text(e, "/metadata/name")), has_ready)
        })
        .collect();
    let services: BTreeSet<(&str, &str)> = inventory
        .of_kind("Service")
        .map(|s| (str_at(s, "/metadata/namespace"), str_at(s, "/metadata/name")))
        .collect();
    for kind in ["MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"] {
        for config in inventory.of_kind(kind) {
            for webhook in config.get("webhooks").and_then(Value::as_array).into_iter().flatten() {
                let service = (
                    text(webhook, "/clientConfig/service/namespace"),
                    text(webhook, "/clientConfig/service/name"),
                );
                if service.1.is_empty() {
                    continue;
                }
                let missing = !services.contains(&(service.0.as_str(), service.1.as_str()));
                if !missing && ready.get(&service).copied().unwrap_or(true) {
                    continue;
                }
                let fails_closed = text(webhook, "/failurePolicy") != "Ignore";
                out.push(finding(
                    if fails_closed { "E-WEBHOOK-NO-ENDPOINTS" } else { "W-WEBHOOK-NO-ENDPOINTS" },
                    if fails_closed { Severity::Error } else { Severity::Warning },
                    Area::Platform,
                    Some(ObjectId::of(config)),
                    format!(
                        "webhook {} calls Service {}/{}, which {}; {}",
                        text(webhook, "/name"),
                        service.0,
                        service.1,
                        if missing { "does not exist" } else { "has no ready endpoints" },
                        if fails_closed { "matching requests are rejected (failurePolicy Fail)" } else { "matching requests skip it (failurePolicy Ignore)" }
                    ),
                    "bring the webhook's service back, or delete the webhook configuration if its control plane is gone",
                ));
            }
        }
    }
}

fn mtls_conflicts(inventory: &Inventory, out: &mut Vec<Finding>) {
    // Effective STRICT mTLS per namespace (mesh-wide from the root namespace, or per namespace).
    let root = inventory.control_planes.first().map_or("istio-system", |c| c.namespace.as_str()).to_string();
    let mut strict_mesh = false;
    let mut strict_namespaces = Vec::new();
    for pa in inventory.of_kind("PeerAuthentication") {
        if pa.pointer("/spec/selector").is_some() || text(pa, "/spec/mtls/mode") != "STRICT" {
            continue;
        }
        let ns = text(pa, "/metadata/namespace");
        if ns == root { strict_mesh = true } else { strict_namespaces.push(ns) }
    }
    for mp in inventory.of_kind("MeshPolicy") {
        let peers = mp.pointer("/spec/peers").and_then(Value::as_array).cloned().unwrap_or_default();
        let strict = peers.iter().any(|p| {
            p.get("mtls").is_some_and(|m| m.get("mode").and_then(Value::as_str) != Some("PERMISSIVE"))
        });
        if str_of(mp, "/metadata/name") == "default" && strict {
            strict_mesh = true;
        }
    }
    let meshed_namespaces = meshed_namespaces(inventory);
    for dr in inventory.of_kind("DestinationRule") {
        if text(dr, "/spec/trafficPolicy/tls/mode") != "DISABLE" {
            continue;
        }
        let host = text(dr, "/spec/host");
        let host_ns = host.split('.').nth(1).map_or_else(|| text(dr, "/metadata/namespace"), str::to_string);
        // Only workloads with sidecars enforce mTLS: hosts outside meshed namespaces (the API
        // server, external services) are rightly reached in plain text.
        let meshed = meshed_namespaces.contains(host_ns.as_str());
        if meshed && (strict_mesh || strict_namespaces.contains(&host_ns)) {
            out.push(finding(
                "W-MTLS-DR-CONFLICT",
                Severity::Warning,
                Area::Security,
                Some(ObjectId::of(dr)),
                format!("sends plain text to {host}, whose workloads require mutual TLS (STRICT): those requests fail"),
                "set tls.mode ISTIO_MUTUAL (or remove the tls block and rely on auto mTLS)",
            ));
        }
    }
}

fn trust_domains(inventory: &Inventory, out: &mut Vec<Finding>) {
    let mut domains: BTreeMap<String, ObjectId> = BTreeMap::new();
    for (id, mesh) in mesh_configs(inventory) {
        let domain = mesh.get("trustDomain").and_then(Value::as_str).unwrap_or("cluster.local").to_string();
        domains.entry(domain).or_insert(id);
    }
    if domains.len() > 1 {
        let listed: Vec<String> = domains.iter().map(|(d, id)| format!("{d} ({})", id.name)).collect();
        out.push(finding(
            "E-TRUST-DOMAIN-CHANGE",
            Severity::Error,
            Area::Security,
            None,
            format!("control planes use different trust domains: {}; proxies of one will reject the other's identities", listed.join(", ")),
            "keep meshConfig.trustDomain the same across revisions, or list the old one in trustDomainAliases",
        ));
    }
}

/// Istio configuration that istiod's validation would reject (the checks that matter most when a
/// new control plane starts validating again after an upgrade).
fn invalid_config(inventory: &Inventory, out: &mut Vec<Finding>) {
    let empty = |object: &Value, pointer: &str| {
        object.pointer(pointer).and_then(Value::as_array).is_none_or(Vec::is_empty)
    };
    let mut report = |object: &Value, problem: &str, area: Area| {
        out.push(finding(
            "E-CONFIG-INVALID",
            Severity::Error,
            area,
            Some(ObjectId::of(object)),
            format!("{} is invalid: {problem}", text(object, "/kind")),
            "fix or delete it: the validating webhook rejects any change to it, and istiod ignores it",
        ));
    };
    for object in inventory
        .in_group("networking.istio.io")
        .filter(|o| text(o, "/apiVersion").starts_with("networking.istio.io/"))
    {
        match str_of(object, "/kind") {
            "Gateway" => {
                if empty(object, "/spec/servers") {
                    report(object, "a Gateway needs at least one server", Area::IngressEgress);
                }
                for server in object.pointer("/spec/servers").and_then(Value::as_array).into_iter().flatten()
                {
                    if server.get("port").is_none() || empty(server, "/hosts") {
                        report(
                            object,
                            "every server needs a port and at least one host",
                            Area::IngressEgress,
                        );
                    }
                }
            }
            "VirtualService" if empty(object, "/spec/hosts") => {
                report(object, "a VirtualService needs at least one host", Area::Platform)
            }
            "DestinationRule" if text(object, "/spec/host").is_empty() => {
                report(object, "a DestinationRule needs a host", Area::Platform)
            }
            "ServiceEntry" if empty(object, "/spec/hosts") => {
                report(object, "a ServiceEntry needs at least one host", Area::Platform)
            }
            _ => {}
        }
    }
}

/// Counts by severity and by area, for summaries.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Error findings.
    pub errors: usize,
    /// Warning findings.
    pub warnings: usize,
    /// Info findings.
    pub info: usize,
    /// Findings per area.
    pub by_area: BTreeMap<Area, usize>,
}

/// Summarises findings.
pub fn summarize(findings: &[Finding]) -> Summary {
    let mut summary = Summary::default();
    for area in Area::ALL {
        summary.by_area.insert(area, 0);
    }
    for f in findings {
        match f.severity {
            Severity::Error => summary.errors += 1,
            Severity::Warning => summary.warnings += 1,
            Severity::Info => summary.info += 1,
        }
        *summary.by_area.entry(f.area).or_insert(0) += 1;
    }
    summary
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(text: &str) -> semver::Version {
        crate::version::parse_lenient(text).unwrap()
    }

    #[test]
    fn upgrade_paths_follow_the_catalog() {
        let catalog = Catalog::embedded().unwrap();
        assert_eq!(
            upgrade_path(catalog, &v("1.4.10"), &v("1.6.14")).unwrap(),
            ["1.4.10", "1.5.10", "1.6.14"]
        );
        assert_eq!(upgrade_path(catalog, &v("1.6.14"), &v("1.8.6")).unwrap(), ["1.6.14", "1.8.6"]);
        assert_eq!(
            upgrade_path(catalog, &v("1.6.14"), &v("1.12.9")).unwrap().len(),
            4,
            "two minors per canary hop"
        );
        assert!(
            upgrade_path(catalog, &v("1.12.9"), &v("1.31.1")).is_none(),
            "the catalog has no 1.13 to 1.28"
        );
    }
}
