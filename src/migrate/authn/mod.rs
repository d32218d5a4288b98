//! `meshpolicy-to-peerauthentication`: alpha authentication policies (MeshPolicy and Policy,
//! `authentication.istio.io/v1alpha1`) to PeerAuthentication, RequestAuthentication and DENY
//! AuthorizationPolicies (`security.istio.io/v1beta1`), following the normative algorithm of the
//! migration spec (section 1.7). Istio 1.6 ignores alpha policies entirely, so an upgrade that skips
//! this silently drops every mTLS and JWT requirement.
//!
//! The conversion models what the 1.4 runtime did, not what validation allowed: the oldest policy
//! wins, a more specific policy replaces a less specific one entirely (so JWT requirements are
//! emitted at the narrowest scope that covers exactly the workloads an alpha policy governed), alpha
//! ports are Service ports while beta ports are container ports, and "mTLS off" becomes PERMISSIVE by
//! default (DISABLE needs a client DestinationRule in 1.5–1.6). An error while resolving a policy
//! withholds everything made from it, unless the operator allows partial output.

mod jwt;
mod resolve;

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

use self::jwt::Origins;
use self::resolve::{Context, PortError, ResolvedPort, selects};
use super::{CONVERTED_FROM_ANNOTATION, ChangeSet, Input, Transform};
use crate::analyze::{Area, Finding, Severity};
use crate::inventory::{ObjectId, str_of, text};

/// The registered transform.
pub struct MeshPolicyToPeerAuthentication;

const SECURITY_API: &str = "security.istio.io/v1beta1";

/// A beta mTLS mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Strict,
    Permissive,
    Disable,
}

impl Mode {
    fn as_str(self) -> &'static str {
        match self {
            Mode::Strict => "STRICT",
            Mode::Permissive => "PERMISSIVE",
            Mode::Disable => "DISABLE",
        }
    }
}

/// The scope of an alpha policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Level {
    Mesh,
    Namespace,
    Targeted,
}

/// A resolved target of a targeted policy.
struct Target {
    name: String,
    selector: Map<String, Value>,
    /// The ports it names; `None` for all of the Service's ports.
    ports: Option<Vec<ResolvedPort>>,
}

/// An alpha policy that survived normalisation, resolved.
struct Alpha<'a> {
    object: &'a Value,
    namespace: String,
    name: String,
    level: Level,
    mode: Option<Mode>,
    targets: Vec<Target>,
    origins: Option<Origins>,
    /// An error withholds everything converted from this policy.
    withheld: bool,
}

/// A finding about `object`; the severity follows the code's prefix.
fn finding(code: &'static str, object: &Value, message: String, hint: &str) -> Finding {
    Finding {
        code,
        severity: Severity::of_code(code),
        area: Area::Security,
        object: Some(ObjectId::of(object)),
        message,
        hint: hint.to_string(),
    }
}

fn is_alpha(object: &Value, kind: &str) -> bool {
    str_of(object, "/kind") == kind && text(object, "/apiVersion").starts_with("authentication.istio.io/")
}

/// The mesh's root namespace, from the `istio` mesh ConfigMap (default `istio-system`).
fn root_namespace(objects: &[&Value]) -> String {
    objects
        .iter()
        .filter(|o| str_of(o, "/kind") == "ConfigMap" && str_of(o, "/metadata/name") == "istio")
        .filter_map(|o| o.pointer("/data/mesh").and_then(Value::as_str))
        .filter_map(|mesh| crate::yaml::parse_one(mesh).ok())
        .map(|mesh| text(&mesh, "/rootNamespace"))
        .find(|ns| !ns.is_empty())
        .unwrap_or_else(|| "istio-system".to_string())
}

/// The beta mode of an alpha policy's `peers` (spec 1.7 B); `None` when it cannot be converted.
fn peer_mode(policy: &Value, level: Level, literal_off: bool, findings: &mut Vec<Finding>) -> Option<Mode> {
    let spec = policy.get("spec").unwrap_or(&Value::Null);
    let peers = spec.get("peers").and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[]);
    let mtls = peers.iter().find_map(|p| p.as_object().and_then(|p| p.get("mtls")));
    let Some(mtls) = mtls else {
        if peers.iter().any(|p| p.get("jwt").is_some()) {
            findings.push(finding(
                "E-AUTHN-PEER-JWT",
                policy,
                "uses JWT as a peer authentication method, which Istio never implemented".to_string(),
                "remove the jwt peer (use origins for end-user JWT) and run the migration again",
            ));
            return None;
        }
        let mode = if literal_off { Mode::Disable } else { Mode::Permissive };
        findings.push(finding(
            "W-AUTHN-MTLS-OFF",
            policy,
            format!("has no peers, so it accepted plaintext only; converted to {}", mode.as_str()),
            "PERMISSIVE also accepts mTLS; use --literal-mtls-off for DISABLE",
        ));
        if literal_off && level == Level::Targeted {
            findings.push(finding(
                "I-DR-DISABLE-NEEDED",
                policy,
                "a workload-level DISABLE still receives mTLS from auto-mTLS clients in 1.5-1.6".to_string(),
                "add a DestinationRule with trafficPolicy.tls.mode: DISABLE for the service",
            ));
        }
        return Some(mode);
    };
    let mut mode = match mtls.get("mode").and_then(Value::as_str) {
        Some("PERMISSIVE") => Mode::Permissive,
        _ => Mode::Strict,
    };
    if mtls.get("allowTls").and_then(Value::as_bool) == Some(true) {
        findings.push(finding(
            "W-AUTHN-ALLOWTLS",
            policy,
            "allowTls is ignored: clients using one-way TLS keep failing, as they did in 1.4".to_string(),
            "nothing changes; remove allowTls from your sources",
        ));
    }
    if mode == Mode::Strict && spec.get("peerIsOptional").and_then(Value::as_bool) == Some(true) {
        mode = Mode::Permissive;
        findings.push(finding(
            "W-AUTHN-PEER-OPTIONAL",
            policy,
            "STRICT with peerIsOptional accepted plaintext too; converted to PERMISSIVE".to_string(),
            "nothing to do; PERMISSIVE is the same behaviour",
        ));
    }
    Some(mode)
}

/// A DNS-subdomain name for a generated object: `<policy>-<service>`, shortened with a hash when
/// longer than 253 characters.
fn generated_name(policy: &str, service: &str) -> String {
    let name = format!("{policy}-{service}");
    if name.len() <= 253 {
        return name;
    }
    let hash = &crate::digest::sha256_hex(name.as_bytes())[..12];
    format!("{}-{hash}", name[..240].trim_end_matches(['-', '.']))
}

/// Resolves the targets of a targeted policy (spec 1.7 A3 and C).
fn resolve_targets<'a>(
    policy: &'a Value,
    context: &Context<'a>,
    app_protocol: bool,
    findings: &mut Vec<Finding>,
) -> (Vec<Target>, bool) {
    let namespace = text(policy, "/metadata/namespace");
    let mut targets = Vec::new();
    let mut failed = false;
    let mut seen = BTreeSet::new();
    let mut error = |code, message: String, hint: &str, findings: &mut Vec<Finding>| {
        failed = true;
        findings.push(finding(code, policy, message, hint));
    };
    for target in policy.pointer("/spec/targets").and_then(Value::as_array).into_iter().flatten() {
        let name = text(target, "/name");
        if !seen.insert(name.clone()) {
            findings.push(finding(
                "W-AUTHN-DUP-TARGET",
                policy,
                format!("targets Service {name} more than once"),
                "only the first entry is converted; merge the entries in your sources",
            ));
            continue;
        }
        if target.get("labels").is_some() {
            findings.push(finding(
                "W-AUTHN-TARGET-LABELS",
                policy,
                format!("target {name} has labels, which Istio never implemented; they are ignored"),
                "nothing to do",
            ));
        }
        let Some(service) = context.service(&namespace, &name) else {
            error(
                "E-AUTHN-SERVICE-NOT-FOUND",
                format!("targets Service {namespace}/{name}, which is not in the input"),
                "include the namespace's Services (kubectl get svc -o yaml) as --context-file, or remove the target",
                findings,
            );
            continue;
        };
        let selector = service.pointer("/spec/selector").and_then(Value::as_object).filter(|s| !s.is_empty());
        let Some(selector) = selector else {
            error(
                "E-AUTHN-SERVICE-NO-SELECTOR",
                format!(
                    "targets Service {namespace}/{name}, which has no selector, so no workload selector can be derived"
                ),
                "write a PeerAuthentication with a selector for the pods behind it by hand",
                findings,
            );
            continue;
        };
        let mut ports = None;
        if let Some(list) = target.get("ports").and_then(Value::as_array).filter(|l| !l.is_empty()) {
            let mut resolved = Vec::new();
            for port in list {
                match context.resolve_selector(service, port, app_protocol) {
                    Ok((port, ambiguous)) => {
                        if ambiguous {
                            findings.push(finding(
                                "W-AUTHN-NAMED-PORT-MULTI",
                                policy,
                                format!(
                                    "Service {name} port {} maps to container ports {:?} (or a number is used under another name)",
                                    port.service_port, port.workload_ports
                                ),
                                "check that every listed container port is meant; all of them are converted",
                            ));
                        }
                        resolved.push(port);
                    }
                    Err(PortError::NotFound(what)) => error(
                        "E-AUTHN-PORT-NOT-FOUND",
                        format!(
                            "port {what} is not a port of Service {name}, so the policy never applied to it"
                        ),
                        "fix or remove the port selector",
                        findings,
                    ),
                    Err(PortError::NamedUnresolved(port_name)) => error(
                        "E-AUTHN-NAMED-PORT-UNRESOLVED",
                        format!(
                            "Service {name} targets container port {port_name:?}, which no selected pod declares"
                        ),
                        "include the pods or their Deployments as --context-file",
                        findings,
                    ),
                }
            }
            ports = Some(resolved);
        }
        targets.push(Target { name, selector: selector.clone(), ports });
    }
    (targets, failed)
}

/// Where an alpha policy's mode goes: a selector (none for mesh and namespace scope), the name of
/// the PeerAuthentication, and the ports (none for the whole workload).
type PeerScope<'t> = (Option<&'t Map<String, Value>>, String, Option<&'t Vec<ResolvedPort>>);

/// A Service's ports with the index of the alpha policy in effect on each (none when no policy
/// applies).
type ServicePorts<'a> = (&'a Value, Vec<(ResolvedPort, Option<usize>)>);

/// A PeerAuthentication being assembled from one or more alpha policies.
struct PeerDraft {
    namespace: String,
    selector: Option<Map<String, Value>>,
    name: String,
    sources: Vec<String>,
    mode: Option<Mode>,
    port_modes: BTreeMap<i64, Mode>,
}

impl PeerDraft {
    fn object(&self) -> Value {
        let mut spec = Map::new();
        if let Some(selector) = &self.selector {
            spec.insert("selector".to_string(), json!({"matchLabels": selector}));
        }
        if let Some(mode) = self.mode {
            spec.insert("mtls".to_string(), json!({"mode": mode.as_str()}));
        }
        if !self.port_modes.is_empty() {
            let ports: Map<String, Value> =
                self.port_modes.iter().map(|(p, m)| (p.to_string(), json!({"mode": m.as_str()}))).collect();
            spec.insert("portLevelMtls".to_string(), Value::Object(ports));
        }
        generated("PeerAuthentication", &self.namespace, &self.name, &self.sources.join(", "), spec)
    }
}

fn generated(kind: &str, namespace: &str, name: &str, source: &str, spec: Map<String, Value>) -> Value {
    json!({
        "apiVersion": SECURITY_API,
        "kind": kind,
        "metadata": {"name": name, "namespace": namespace, "annotations": {CONVERTED_FROM_ANNOTATION: source}},
        "spec": spec,
    })
}

/// Whether v1alpha1 RBAC (ClusterRbacConfig or RbacConfig) protects any of the services; an
/// AuthorizationPolicy on their workloads would silently switch it off (spec 1.5).
fn rbac_covers(objects: &[&Value], namespace: &str, services: &[String]) -> bool {
    let listed = |list: &Value| {
        let namespaces = list.get("namespaces").and_then(Value::as_array);
        let in_namespaces = namespaces.into_iter().flatten().any(|n| n.as_str() == Some(namespace));
        let in_services = list.get("services").and_then(Value::as_array).into_iter().flatten().any(|s| {
            let s = s.as_str().unwrap_or_default();
            services.iter().any(|name| {
                s == format!("{name}.{namespace}") || s.starts_with(&format!("{name}.{namespace}."))
            })
        });
        in_namespaces || in_services
    };
    objects
        .iter()
        .filter(|o| {
            matches!(str_of(o, "/kind"), "ClusterRbacConfig" | "RbacConfig")
                && text(o, "/apiVersion").starts_with("rbac.istio.io/")
        })
        .any(|config| match str_of(config, "/spec/mode") {
            "ON" => true,
            "ON_WITH_INCLUSION" => config.pointer("/spec/inclusion").is_some_and(listed),
            "ON_WITH_EXCLUSION" => !config.pointer("/spec/exclusion").is_some_and(listed),
            _ => false,
        })
}

/// Everything the conversion produces, before it becomes a change set.
struct Conversion<'a> {
    alphas: Vec<Alpha<'a>>,
    objects: Vec<Value>,
    findings: Vec<Finding>,
}

/// The scope a JWT requirement is emitted at.
struct JwtScope {
    namespace: String,
    selector: Option<Map<String, Value>>,
    name: String,
    ports: Option<Vec<i64>>,
    services: Vec<String>,
}

/// The state of one conversion.
struct Converter<'a, 'i> {
    input: &'i Input<'a>,
    context: Context<'a>,
    root: String,
    /// Whether the target honours `appProtocol` (1.6 and later).
    app_protocol: bool,
    findings: Vec<Finding>,
}

impl<'a, 'i> Converter<'a, 'i> {
    /// A. The policies the runtime actually used, oldest first, with their scope.
    fn normalise(&mut self) -> Vec<(&'a Value, Level)> {
        let mut policies: Vec<&Value> =
            self.input.objects.iter().copied().filter(|o| is_alpha(o, "Policy")).collect();
        policies.sort_by_key(|p| {
            (
                text(p, "/metadata/creationTimestamp"),
                text(p, "/metadata/namespace"),
                text(p, "/metadata/name"),
            )
        });
        let mut candidates: Vec<(&Value, Level)> = Vec::new();
        for mesh in self.input.objects.iter().copied().filter(|o| is_alpha(o, "MeshPolicy")) {
            if str_of(mesh, "/metadata/name") == "default" {
                candidates.push((mesh, Level::Mesh));
            } else {
                self.findings.push(finding(
                    "W-AUTHN-MESHPOLICY-IGNORED",
                    mesh,
                    "a MeshPolicy not named default never had any effect; nothing is converted".to_string(),
                    "delete it, or rename it to default if it was meant to apply",
                ));
            }
        }
        let mut namespace_policy: BTreeMap<String, String> = BTreeMap::new();
        for policy in policies {
            let namespace = text(policy, "/metadata/namespace");
            let name = text(policy, "/metadata/name");
            let targeted =
                policy.pointer("/spec/targets").and_then(Value::as_array).is_some_and(|t| !t.is_empty());
            if targeted {
                candidates.push((policy, Level::Targeted));
            } else if let Some(winner) = namespace_policy.get(&namespace) {
                self.findings.push(finding(
                    "W-AUTHN-SHADOWED",
                    policy,
                    format!("namespace {namespace} already has the older namespace-wide policy {winner}, which the runtime used"),
                    "delete this policy; it never applied",
                ));
            } else {
                if name != "default" {
                    self.findings.push(finding(
                        "W-AUTHN-NS-POLICY-NONDEFAULT",
                        policy,
                        "a policy without targets applies to the whole namespace whatever its name; converted as the namespace policy".to_string(),
                        "nothing to do",
                    ));
                }
                namespace_policy.insert(namespace, name);
                candidates.push((policy, Level::Namespace));
            }
        }
        candidates
    }

    /// B and C, and the origins of E: each policy's mode, targets, ports and JWT rules.
    fn resolve(&mut self, candidates: Vec<(&'a Value, Level)>) -> Vec<Alpha<'a>> {
        let mut alphas = Vec::new();
        for (object, level) in candidates {
            let mut own = Vec::new();
            let mode = peer_mode(object, level, self.input.options.literal_mtls_off, &mut own);
            let mut failed = mode.is_none();
            let (targets, target_failed) = if level == Level::Targeted {
                resolve_targets(object, &self.context, self.app_protocol, &mut own)
            } else {
                (Vec::new(), false)
            };
            failed |= target_failed;
            let origins = match jwt::convert(object.get("spec").unwrap_or(&Value::Null)) {
                Ok(origins) => origins,
                Err((code, message)) => {
                    own.push(finding(code, object, message, "convert this policy's JWT requirement by hand"));
                    failed = true;
                    None
                }
            };
            if let Some(origins) = &origins
                && object.pointer("/spec/principalBinding").and_then(Value::as_str) == Some("USE_ORIGIN")
            {
                own.push(finding(
                    "I-AUTHN-PRINCIPALBINDING-DROPPED",
                    object,
                    format!("principalBinding USE_ORIGIN has no beta equivalent; the JWT identity of {} is available as requestPrincipals", jwt::issuers(origins)),
                    "use requestPrincipals (iss/sub) in AuthorizationPolicies instead of principals",
                ));
            }
            let withheld = failed && !self.input.options.allow_partial;
            // Nothing is made from a withheld policy, so only the errors that say why matter.
            self.findings.extend(own.into_iter().filter(|f| !withheld || f.severity == Severity::Error));
            alphas.push(Alpha {
                object,
                namespace: if level == Level::Mesh {
                    self.root.clone()
                } else {
                    text(object, "/metadata/namespace")
                },
                name: text(object, "/metadata/name"),
                level,
                mode,
                targets,
                origins,
                withheld,
            });
        }
        alphas
    }

    /// D. PeerAuthentications, merged by (namespace, selector), oldest contributor first.
    fn peer_drafts(&mut self, alphas: &[Alpha<'a>]) -> Vec<PeerDraft> {
        let mut drafts: Vec<PeerDraft> = Vec::new();
        for alpha in alphas.iter().filter(|a| !a.withheld) {
            let Some(mode) = alpha.mode else { continue };
            let source = ObjectId::of(alpha.object).to_string();
            let scopes: Vec<PeerScope<'_>> = match alpha.level {
                Level::Mesh | Level::Namespace => vec![(None, "default".to_string(), None)],
                Level::Targeted => alpha
                    .targets
                    .iter()
                    .filter(|t| {
                        let gateway = self.context.selects_gateway(&alpha.namespace, &t.selector);
                        if gateway {
                            self.findings.push(finding(
                                "I-AUTHN-GATEWAY-PEER-SKIPPED",
                                alpha.object,
                                format!("Service {} selects gateway pods, where alpha mTLS never applied; no PeerAuthentication for it", t.name),
                                "nothing to do",
                            ));
                        }
                        !gateway
                    })
                    .map(|t| (Some(&t.selector), generated_name(&alpha.name, &t.name), t.ports.as_ref()))
                    .collect(),
            };
            for (selector, name, ports) in scopes {
                let index = match drafts
                    .iter()
                    .position(|d| d.namespace == alpha.namespace && d.selector.as_ref() == selector)
                {
                    Some(index) => index,
                    None => {
                        drafts.push(PeerDraft {
                            namespace: alpha.namespace.clone(),
                            selector: selector.cloned(),
                            name,
                            sources: Vec::new(),
                            mode: None,
                            port_modes: BTreeMap::new(),
                        });
                        drafts.len() - 1
                    }
                };
                let draft = &mut drafts[index];
                let mut shadowed = false;
                match ports {
                    None if draft.mode.is_none() => draft.mode = Some(mode),
                    None => shadowed = true,
                    Some(ports) => {
                        for port in ports.iter().flat_map(|p| &p.workload_ports) {
                            if draft.port_modes.contains_key(port) {
                                shadowed = true;
                            } else {
                                draft.port_modes.insert(*port, mode);
                            }
                        }
                    }
                }
                if shadowed {
                    self.findings.push(finding(
                        "W-AUTHN-SHADOWED",
                        alpha.object,
                        format!("an older policy already set the mode for the same workloads in {}; the runtime used that one", draft.name),
                        "delete this policy; it never applied",
                    ));
                }
                if !draft.sources.contains(&source) {
                    draft.sources.push(source.clone());
                }
            }
        }
        for (i, a) in drafts.iter().enumerate() {
            for b in &drafts[i + 1..] {
                let (Some(sa), Some(sb)) = (&a.selector, &b.selector) else { continue };
                if a.namespace != b.namespace {
                    continue;
                }
                let nested = selects(sa, Some(sb)) || selects(sb, Some(sa));
                let shared =
                    self.context.selected_pods(&a.namespace, sa).any(|(labels, _)| selects(sb, labels));
                if nested || shared {
                    let object = json!({"kind": "PeerAuthentication", "metadata": {"namespace": b.namespace, "name": b.name}});
                    self.findings.push(finding(
                        "W-AUTHN-SELECTOR-OVERLAP",
                        &object,
                        format!("its selector and that of {} match the same pods; the oldest PeerAuthentication wins for them", a.name),
                        "merge the two policies or make their selectors disjoint",
                    ));
                }
            }
        }
        drafts
    }

    /// E. The scopes JWT requirements are emitted at: the narrowest that covers exactly the workloads
    /// each alpha policy governed, as (policy index, scope).
    fn jwt_scopes(&mut self, alphas: &[Alpha<'a>]) -> Vec<(usize, JwtScope)> {
        let effective = |service: &Value, port: &ResolvedPort| -> Option<usize> {
            let namespace = text(service, "/metadata/namespace");
            let name = text(service, "/metadata/name");
            let targeting = |with_ports: bool| {
                alphas.iter().position(|a| {
                    a.level == Level::Targeted
                        && a.namespace == namespace
                        && a.targets.iter().any(|t| {
                            t.name == name
                                && match &t.ports {
                                    Some(ports) => {
                                        with_ports
                                            && ports.iter().any(|p| p.service_port == port.service_port)
                                    }
                                    None => !with_ports,
                                }
                        })
                })
            };
            targeting(true)
                .or_else(|| targeting(false))
                .or_else(|| {
                    alphas.iter().position(|a| a.level == Level::Namespace && a.namespace == namespace)
                })
                .or_else(|| alphas.iter().position(|a| a.level == Level::Mesh))
        };
        let mut scopes: Vec<(usize, JwtScope)> = Vec::new();
        let mesh_with_origins = alphas.iter().position(|a| a.level == Level::Mesh && a.origins.is_some());
        let only_mesh = alphas.iter().all(|a| a.level == Level::Mesh);
        let all_http = self
            .context
            .services()
            .iter()
            .all(|s| self.context.all_ports(s, self.app_protocol).iter().all(|p| p.http));
        match mesh_with_origins {
            Some(mesh) if only_mesh && all_http => scopes.push((
                mesh,
                JwtScope {
                    namespace: self.root.clone(),
                    selector: None,
                    name: "default".to_string(),
                    ports: None,
                    services: self.context.services().iter().map(|s| text(s, "/metadata/name")).collect(),
                },
            )),
            _ if alphas.iter().any(|a| a.origins.is_some()) => {
                let mut by_namespace: BTreeMap<String, Vec<ServicePorts<'_>>> = BTreeMap::new();
                for service in self.context.services() {
                    let ports = self
                        .context
                        .all_ports(service, self.app_protocol)
                        .into_iter()
                        .map(|p| {
                            let owner = effective(service, &p);
                            (p, owner)
                        })
                        .collect();
                    by_namespace
                        .entry(text(service, "/metadata/namespace"))
                        .or_default()
                        .push((service, ports));
                }
                for (namespace, services) in &by_namespace {
                    let owners: BTreeSet<Option<usize>> =
                        services.iter().flat_map(|(_, ports)| ports.iter().map(|(_, o)| *o)).collect();
                    let single = match owners.iter().collect::<Vec<_>>().as_slice() {
                        [Some(owner)] => Some(*owner),
                        _ => None,
                    };
                    let namespace_wide = single.filter(|o| {
                        alphas[*o].level != Level::Targeted
                            && alphas[*o].origins.is_some()
                            && services.iter().all(|(_, ports)| ports.iter().all(|(p, _)| p.http))
                    });
                    if let Some(owner) = namespace_wide {
                        scopes.push((
                            owner,
                            JwtScope {
                                namespace: namespace.clone(),
                                selector: None,
                                name: "default".to_string(),
                                ports: None,
                                services: services.iter().map(|(s, _)| text(s, "/metadata/name")).collect(),
                            },
                        ));
                        continue;
                    }
                    for (service, ports) in services {
                        let service_name = text(service, "/metadata/name");
                        let owners: BTreeSet<usize> = ports.iter().filter_map(|(_, o)| *o).collect();
                        for owner in owners {
                            let alpha = &alphas[owner];
                            if alpha.origins.is_none() {
                                continue;
                            }
                            let Some(selector) = service
                                .pointer("/spec/selector")
                                .and_then(Value::as_object)
                                .filter(|s| !s.is_empty())
                            else {
                                if alpha.level != Level::Targeted {
                                    self.findings.push(finding(
                                        "E-AUTHN-SERVICE-NO-SELECTOR",
                                        alpha.object,
                                        format!("its JWT requirement covers Service {namespace}/{service_name}, which has no selector"),
                                        "write a RequestAuthentication with a selector for the pods behind it by hand",
                                    ));
                                }
                                continue;
                            };
                            let mut http_ports: Vec<i64> = ports
                                .iter()
                                .filter(|(p, o)| *o == Some(owner) && p.http)
                                .flat_map(|(p, _)| p.workload_ports.iter().copied())
                                .collect();
                            http_ports.sort_unstable();
                            http_ports.dedup();
                            if http_ports.is_empty() {
                                continue;
                            }
                            let explicit_ports =
                                alpha.targets.iter().any(|t| t.name == service_name && t.ports.is_some());
                            let other_ports = ports.iter().any(|(p, o)| *o != Some(owner) || !p.http);
                            if alpha.level != Level::Targeted {
                                self.findings.push(finding(
                                    "I-AUTHN-MESH-JWT-EXPANDED",
                                    alpha.object,
                                    format!("its JWT requirement is emitted for Service {namespace}/{service_name} only, because more specific policies or non-HTTP ports exist around it"),
                                    "nothing to do",
                                ));
                            }
                            scopes.push((
                                owner,
                                JwtScope {
                                    namespace: namespace.clone(),
                                    selector: Some(selector.clone()),
                                    name: generated_name(&alpha.name, &service_name),
                                    ports: (explicit_ports || other_ports).then_some(http_ports),
                                    services: vec![service_name.clone()],
                                },
                            ));
                        }
                    }
                }
            }
            _ => {}
        }
        scopes
    }

    /// E. A RequestAuthentication per scope, and the DENY AuthorizationPolicy unless the token was
    /// optional or v1alpha1 RBAC would be switched off by it.
    fn jwt_objects(&mut self, alphas: &[Alpha<'a>], scopes: Vec<(usize, JwtScope)>) -> Vec<Value> {
        let mut generated_objects = Vec::new();
        for (owner, scope) in scopes {
            let alpha = &alphas[owner];
            let Some(origins) = alpha.origins.as_ref().filter(|_| !alpha.withheld) else { continue };
            let source = ObjectId::of(alpha.object).to_string();
            let selector_spec = |spec: &mut Map<String, Value>| {
                if let Some(selector) = &scope.selector {
                    spec.insert("selector".to_string(), json!({"matchLabels": selector}));
                }
            };
            let mut spec = Map::new();
            selector_spec(&mut spec);
            spec.insert("jwtRules".to_string(), Value::Array(origins.jwt_rules.clone()));
            generated_objects.push(generated(
                "RequestAuthentication",
                &scope.namespace,
                &scope.name,
                &source,
                spec,
            ));
            if origins.optional {
                self.findings.push(finding(
                    "W-AUTHN-ORIGIN-OPTIONAL",
                    alpha.object,
                    "originIsOptional: no DENY policy, so requests without a token pass; invalid tokens are now rejected".to_string(),
                    "nothing to do, unless clients send expired tokens on purpose",
                ));
                continue;
            }
            if rbac_covers(self.input.objects, &scope.namespace, &scope.services) {
                self.findings.push(finding(
                    "E-AUTHN-RBAC-WOULD-BE-BYPASSED",
                    alpha.object,
                    format!("v1alpha1 RBAC protects {}; any AuthorizationPolicy on these workloads would switch it off, so the DENY policy that makes a token mandatory is withheld", scope.namespace),
                    "convert the RBAC policies to AuthorizationPolicies first, then run this migration again",
                ));
                continue;
            }
            let mut spec = Map::new();
            selector_spec(&mut spec);
            spec.insert("action".to_string(), json!("DENY"));
            spec.insert(
                "rules".to_string(),
                Value::Array(jwt::deny_rules(
                    origins,
                    scope.ports.as_deref(),
                    self.input.options.exempt_options,
                )),
            );
            generated_objects.push(generated(
                "AuthorizationPolicy",
                &scope.namespace,
                &scope.name,
                &source,
                spec,
            ));
            if !self.input.options.exempt_options {
                self.findings.push(finding(
                    "W-AUTHN-CORS-PREFLIGHT",
                    alpha.object,
                    "the alpha JWT filter let CORS preflight requests through; the DENY policy rejects unauthenticated OPTIONS requests (403 instead of the old 401 for a missing token)".to_string(),
                    "use --exempt-options if browsers call this service cross-origin",
                ));
            }
        }
        generated_objects
    }

    /// Drops generated objects that already exist: identical ones are already converted, different
    /// ones are name collisions.
    fn drop_existing(&mut self, generated_objects: &mut Vec<Value>) {
        let existing: BTreeMap<ObjectId, &Value> = self
            .input
            .objects
            .iter()
            .copied()
            .filter(|o| text(o, "/apiVersion").starts_with("security.istio.io/"))
            .map(|o| (ObjectId::of(o), o))
            .collect();
        generated_objects.retain(|object| match existing.get(&ObjectId::of(object)) {
            None => true,
            Some(found) if found.get("spec") == object.get("spec") => false,
            Some(found) => {
                self.findings.push(finding(
                    "E-NAME-COLLISION",
                    found,
                    "an existing object has the name the conversion wants, with a different spec; it is not overwritten".to_string(),
                    "rename or delete the existing object, then run the migration again",
                ));
                false
            }
        });
    }
}

fn convert<'a>(input: &Input<'a>) -> Conversion<'a> {
    let mut converter = Converter {
        input,
        context: Context::new(input.objects),
        root: root_namespace(input.objects),
        app_protocol: (input.target.major, input.target.minor) >= (1, 6),
        findings: Vec::new(),
    };
    let candidates = converter.normalise();
    let alphas = converter.resolve(candidates);
    let drafts = converter.peer_drafts(&alphas);
    let mut objects: Vec<Value> = drafts.iter().map(PeerDraft::object).collect();
    let scopes = converter.jwt_scopes(&alphas);
    objects.extend(converter.jwt_objects(&alphas, scopes));
    converter.drop_existing(&mut objects);
    let mut findings = converter.findings;
    destination_rule_conflicts(input.objects, &converter.context, &converter.root, &drafts, &mut findings);
    dedup_findings(&mut findings);
    Conversion { alphas, objects, findings }
}

/// Reports DestinationRules that send plaintext to workloads that end up STRICT (IST0113's check).
fn destination_rule_conflicts(
    objects: &[&Value],
    context: &Context<'_>,
    root: &str,
    drafts: &[PeerDraft],
    findings: &mut Vec<Finding>,
) {
    let mode_of = |service: &Value| -> Option<Mode> {
        let namespace = text(service, "/metadata/namespace");
        let selector = service.pointer("/spec/selector").and_then(Value::as_object);
        let workload = drafts.iter().find(|d| {
            d.namespace == namespace
                && d.selector.as_ref().is_some_and(|s| selector.is_some_and(|sel| selects(s, Some(sel))))
        });
        let strict_port = workload.is_some_and(|d| d.port_modes.values().any(|m| *m == Mode::Strict));
        let scoped =
            |ns: &str| drafts.iter().find(|d| d.namespace == ns && d.selector.is_none()).and_then(|d| d.mode);
        let mode = workload.and_then(|d| d.mode).or_else(|| scoped(&namespace)).or_else(|| scoped(root));
        if strict_port { Some(Mode::Strict) } else { mode }
    };
    for rule in objects.iter().filter(|o| {
        str_of(o, "/kind") == "DestinationRule" && text(o, "/apiVersion").starts_with("networking.istio.io/")
    }) {
        let plaintext = str_of(rule, "/spec/trafficPolicy/tls/mode") == "DISABLE"
            || rule
                .pointer("/spec/trafficPolicy/portLevelSettings")
                .and_then(Value::as_array)
                .is_some_and(|s| s.iter().any(|p| str_of(p, "/tls/mode") == "DISABLE"));
        if !plaintext {
            continue;
        }
        let host = text(rule, "/spec/host");
        let rule_namespace = text(rule, "/metadata/namespace");
        let strict: Vec<String> = context
            .services()
            .iter()
            .filter(|s| {
                host_matches(
                    &host,
                    &rule_namespace,
                    &text(s, "/metadata/namespace"),
                    &text(s, "/metadata/name"),
                )
            })
            .filter(|s| mode_of(s) == Some(Mode::Strict))
            .map(|s| format!("{}/{}", text(s, "/metadata/namespace"), text(s, "/metadata/name")))
            .collect();
        if !strict.is_empty() {
            findings.push(finding(
                "W-MTLS-DR-CONFLICT",
                rule,
                format!(
                    "sends plaintext to {} whose workloads require mTLS (STRICT): those requests fail",
                    strict.join(", ")
                ),
                "remove the tls.mode DISABLE from the DestinationRule, or make the workload PERMISSIVE",
            ));
        }
    }
}

/// Whether a DestinationRule host names the Service `namespace/name`.
fn host_matches(host: &str, rule_namespace: &str, namespace: &str, name: &str) -> bool {
    if host == "*" {
        return true;
    }
    if let Some(suffix) = host.strip_prefix('*') {
        return format!("{name}.{namespace}.svc.cluster.local").ends_with(suffix);
    }
    let parts: Vec<&str> = host.split('.').collect();
    match parts.as_slice() {
        [short] => *short == name && rule_namespace == namespace,
        [service, ns, ..] => *service == name && *ns == namespace,
        [] => false,
    }
}

fn dedup_findings(findings: &mut Vec<Finding>) {
    let mut seen = BTreeSet::new();
    findings.retain(|f| seen.insert((f.code, f.object.clone(), f.message.clone())));
}

impl Transform for MeshPolicyToPeerAuthentication {
    fn run(&self, input: &Input<'_>) -> ChangeSet {
        let conversion = convert(input);
        let jwks = conversion.objects.iter().any(|o| {
            o.pointer("/spec/jwtRules")
                .and_then(Value::as_array)
                .is_some_and(|r| r.iter().any(|r| r.get("jwksUri").is_some()))
        });
        let mut gates = vec!["config-accepted".to_string()];
        if jwks {
            gates.push("jwks-reachable".to_string());
        }
        ChangeSet { create: conversion.objects, findings: conversion.findings, gates, ..ChangeSet::default() }
    }

    /// Deletes the alpha policies once converted (1.6 ignores them; `istioctl upgrade` refuses
    /// while they exist). Policies whose conversion failed stay, with the findings that say why.
    fn finalize(&self, input: &Input<'_>) -> ChangeSet {
        let conversion = convert(input);
        let withheld: BTreeSet<ObjectId> =
            conversion.alphas.iter().filter(|a| a.withheld).map(|a| ObjectId::of(a.object)).collect();
        let delete: Vec<Value> = input
            .objects
            .iter()
            .filter(|o| is_alpha(o, "Policy") || is_alpha(o, "MeshPolicy"))
            .filter(|o| !withheld.contains(&ObjectId::of(o)))
            .map(|o| (*o).clone())
            .collect();
        let findings = conversion.findings.into_iter().filter(|f| f.severity == Severity::Error).collect();
        ChangeSet {
            backup: delete.clone(),
            delete,
            findings,
            gates: vec!["config-accepted".to_string()],
            ..ChangeSet::default()
        }
    }
}

#[cfg(test)]
mod tests;
