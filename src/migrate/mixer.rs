//! `mixer-to-telemetry-v2`: Mixer (`istio-telemetry`, `istio-policy` and the `config.istio.io`
//! configuration they run) to what replaced it: in-proxy telemetry v2 for metrics, Envoy access logs,
//! and AuthorizationPolicy for the checks Mixer's denier and list adapters made (migration spec,
//! section 2). Mixer was removed in Istio 1.8, and a 1.5–1.7 control plane without it silently stops
//! producing custom metrics and enforcing Mixer policy, so every Mixer rule either converts, or is
//! named in a finding that says what replaces it.
//!
//! Configuration is read in both of Mixer's forms: the generic kinds (`handler` with
//! `compiledAdapter` or an out-of-process `adapter`, `instance` with `compiledTemplate`, parameters
//! under `params`) and the pre-1.2 adapter- and template-specific kinds (`kind: denier`,
//! `kind: listentry`, parameters directly under `spec`), with rule references short, `name.namespace`
//! or `name.kind[.namespace]`. The standard Mixer metrics need no conversion (telemetry v2 produces
//! them), custom Prometheus metrics become stats-filter definitions (control-plane values from 1.7, an
//! EnvoyFilter for 1.6), stdio access logs become the mesh access log, and policy becomes
//! AuthorizationPolicy where the rule's match can be expressed exactly; quotas, OPA, Mixer RBAC and
//! out-of-process adapters need a human. The run part changes no existing object; the finalize part
//! removes Mixer's components and configuration (and, for 1.8, its CRDs) after a backup.

mod expr;
mod policy;
mod telemetry;
#[cfg(test)]
mod tests;

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use super::CONVERTED_FROM_ANNOTATION;
use super::{ChangeSet, Input, Transform};
use crate::analyze::{Area, Finding, Severity};
use crate::inventory::{MIXER_COMPONENTS, ObjectId, str_of, text};

/// The registered transform.
pub struct MixerToTelemetryV2;

/// Mixer's API group.
const CONFIG_GROUP: &str = "config.istio.io";

/// Adapter-specific handler kinds (CRDs shipped up to 1.1, still read with `useAdapterCRDs`).
const LEGACY_ADAPTERS: [&str; 20] = [
    "bypass",
    "circonus",
    "cloudwatch",
    "denier",
    "dogstatsd",
    "fluentd",
    "kubernetesenv",
    "listchecker",
    "memquota",
    "noop",
    "opa",
    "prometheus",
    "rbac",
    "redisquota",
    "signalfx",
    "solarwinds",
    "stackdriver",
    "statsd",
    "stdio",
    "zipkin",
];

/// Template-specific instance kinds.
const LEGACY_TEMPLATES: [&str; 11] = [
    "apikey",
    "authorization",
    "checknothing",
    "edge",
    "kubernetes",
    "listentry",
    "logentry",
    "metric",
    "quota",
    "reportnothing",
    "tracespan",
];

/// Templates whose instances feed policy checks (the others feed reports).
const POLICY_TEMPLATES: [&str; 5] = ["apikey", "authorization", "checknothing", "listentry", "quota"];

/// Gates, in the order the migration file lists them.
const GATE_METRICS: &str = "telemetry-v2-metrics";
const GATE_POLICY_OFF: &str = "policy-checks-off";
const GATE_AUTHZ_TCP: &str = "authz-tcp-scoped";
const GATE_PROXIES: &str = "proxies-converged";

static NULL: Value = Value::Null;

/// What a handler's adapter does, and so what replaces it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Adapter {
    /// Prometheus metrics: the stats filter.
    Prometheus,
    /// Logs to stdout: the mesh access log.
    Stdio,
    /// Nothing to replace: `kubernetesenv` (metadata exchange does its job) and `noop`.
    Builtin,
    /// Another telemetry backend (fluentd, Stackdriver, statsd, Zipkin, ...).
    TelemetryBackend,
    /// `denier`: a DENY AuthorizationPolicy.
    Denier,
    /// `listchecker`: an ALLOW (whitelist) or DENY (blacklist) AuthorizationPolicy.
    ListChecker,
    /// `memquota`, `redisquota`: Envoy rate limiting, by hand.
    Quota,
    /// `opa`, `rbac`, `bypass`: by hand.
    PolicyBackend,
    /// An out-of-process adapter (`adapter:` with a `connection`), or one sailplan does not know.
    External,
}

impl Adapter {
    fn of(name: &str, out_of_process: bool) -> Adapter {
        if out_of_process {
            return Adapter::External;
        }
        match name {
            "prometheus" => Adapter::Prometheus,
            "stdio" => Adapter::Stdio,
            "kubernetesenv" | "noop" => Adapter::Builtin,
            "fluentd" | "stackdriver" | "statsd" | "dogstatsd" | "signalfx" | "solarwinds" | "circonus"
            | "cloudwatch" | "zipkin" => Adapter::TelemetryBackend,
            "denier" => Adapter::Denier,
            "listchecker" => Adapter::ListChecker,
            "memquota" | "redisquota" => Adapter::Quota,
            "opa" | "rbac" | "bypass" => Adapter::PolicyBackend,
            _ => Adapter::External,
        }
    }

    fn is_policy(self) -> bool {
        matches!(self, Adapter::Denier | Adapter::ListChecker | Adapter::Quota | Adapter::PolicyBackend)
    }
}

/// A handler, in either form.
struct Handler<'a> {
    object: &'a Value,
    /// `compiledAdapter`, `adapter`, or the legacy kind.
    adapter: String,
    /// Its parameters (`spec.params`, or the whole `spec` of a legacy kind).
    params: &'a Value,
    category: Adapter,
}

/// An instance, in either form.
struct Instance<'a> {
    object: &'a Value,
    /// `compiledTemplate`, `template`, or the legacy kind.
    template: String,
    params: &'a Value,
}

/// One action of a rule, resolved.
struct Action {
    handler: usize,
    instances: Vec<usize>,
}

/// A rule with its references resolved.
struct Rule<'a> {
    object: &'a Value,
    actions: Vec<Action>,
    /// References that name no object in the input.
    unresolved: Vec<String>,
}

/// The Mixer configuration of the input, indexed.
struct Config<'a> {
    handlers: Vec<Handler<'a>>,
    instances: Vec<Instance<'a>>,
    rules: Vec<Rule<'a>>,
    /// Everything else in `config.istio.io` (attribute manifests, adapter and template descriptors,
    /// HTTPAPISpec(Binding), QuotaSpec(Binding)), by kind in lower case.
    others: Vec<(String, &'a Value)>,
    /// Every `config.istio.io` object.
    all: Vec<&'a Value>,
}

fn is_config(object: &Value) -> bool {
    text(object, "/apiVersion").rsplit_once('/').is_some_and(|(group, _)| group == CONFIG_GROUP)
}

fn kind_of(object: &Value) -> String {
    text(object, "/kind").to_ascii_lowercase()
}

/// `(name, kind if given, namespace)` candidates for a reference.
fn reference_parts<'r>(
    reference: &'r str,
    namespace: &'r str,
    generic: &str,
    legacy: &[&str],
) -> Option<(&'r str, Option<&'r str>, &'r str)> {
    let parts: Vec<&str> = reference.split('.').collect();
    match parts.as_slice() {
        [name] => Some((name, None, namespace)),
        [name, second] if *second == generic || legacy.contains(second) => {
            Some((name, Some(second), namespace))
        }
        [name, ns] => Some((name, None, ns)),
        [name, kind, ns, ..] => Some((name, Some(kind), ns)),
        [] => None,
    }
}

/// Finds a handler or instance by reference, resolved from `namespace`.
fn resolve<'v>(
    objects: impl Iterator<Item = (usize, &'v Value)>,
    reference: &str,
    namespace: &str,
    generic: &str,
    legacy: &[&str],
) -> Option<usize> {
    let (name, kind, ns) = reference_parts(reference.trim(), namespace, generic, legacy)?;
    let mut found = None;
    for (index, object) in objects {
        let object_kind = kind_of(object);
        if str_of(object, "/metadata/name") == name
            && str_of(object, "/metadata/namespace") == ns
            && kind.is_none_or(|k| k.eq_ignore_ascii_case(&object_kind))
        {
            found = Some(index);
            // A generic object wins over a legacy one of the same name.
            if object_kind == generic {
                break;
            }
        }
    }
    found
}

impl<'a> Config<'a> {
    fn new(objects: &'a [&'a Value]) -> Config<'a> {
        let mut all: Vec<&Value> = objects.iter().copied().filter(|o| is_config(o)).collect();
        all.sort_by_key(|o| ObjectId::of(o));
        let mut config = Config {
            handlers: Vec::new(),
            instances: Vec::new(),
            rules: Vec::new(),
            others: Vec::new(),
            all,
        };
        let mut rules = Vec::new();
        for &object in &config.all {
            let kind = kind_of(object);
            let spec = object.get("spec").unwrap_or(&NULL);
            if kind == "handler" {
                let compiled = text(spec, "/compiledAdapter");
                let external = text(spec, "/adapter");
                let out_of_process =
                    compiled.is_empty() && (!external.is_empty() || spec.get("connection").is_some());
                let adapter = if compiled.is_empty() { external } else { compiled };
                let category = Adapter::of(&adapter, out_of_process);
                config.handlers.push(Handler {
                    object,
                    adapter,
                    params: spec.get("params").unwrap_or(&NULL),
                    category,
                });
            } else if LEGACY_ADAPTERS.contains(&kind.as_str()) {
                let category = Adapter::of(&kind, false);
                config.handlers.push(Handler { object, adapter: kind, params: spec, category });
            } else if kind == "instance" {
                let compiled = text(spec, "/compiledTemplate");
                let template = if compiled.is_empty() { text(spec, "/template") } else { compiled };
                config.instances.push(Instance {
                    object,
                    template,
                    params: spec.get("params").unwrap_or(&NULL),
                });
            } else if LEGACY_TEMPLATES.contains(&kind.as_str()) {
                config.instances.push(Instance { object, template: kind, params: spec });
            } else if kind == "rule" {
                rules.push(object);
            } else {
                config.others.push((kind, object));
            }
        }
        for object in rules {
            let namespace = text(object, "/metadata/namespace");
            let mut rule = Rule { object, actions: Vec::new(), unresolved: Vec::new() };
            for action in object.pointer("/spec/actions").and_then(Value::as_array).into_iter().flatten() {
                let reference = text(action, "/handler");
                let Some(handler) = config.handler(&reference, &namespace) else {
                    rule.unresolved.push(format!("handler {reference:?}"));
                    continue;
                };
                let mut instances = Vec::new();
                for value in action.get("instances").and_then(Value::as_array).into_iter().flatten() {
                    let reference = value.as_str().unwrap_or_default();
                    match config.instance(reference, &namespace) {
                        Some(index) => instances.push(index),
                        None => rule.unresolved.push(format!("instance {reference:?}")),
                    }
                }
                rule.actions.push(Action { handler, instances });
            }
            config.rules.push(rule);
        }
        config
    }

    fn handler(&self, reference: &str, namespace: &str) -> Option<usize> {
        let objects = self.handlers.iter().map(|h| h.object).enumerate();
        resolve(objects, reference, namespace, "handler", &LEGACY_ADAPTERS)
    }

    fn instance(&self, reference: &str, namespace: &str) -> Option<usize> {
        let objects = self.instances.iter().map(|i| i.object).enumerate();
        resolve(objects, reference, namespace, "instance", &LEGACY_TEMPLATES)
    }

    /// Rules that send `instance` to `handler`.
    fn rules_sending(&self, handler: usize, instance: usize) -> impl Iterator<Item = &Rule<'a>> {
        self.rules.iter().filter(move |r| {
            r.actions.iter().any(|a| a.handler == handler && a.instances.contains(&instance))
        })
    }

    fn others_of_kind(&self, kind: &str) -> impl Iterator<Item = &'a Value> {
        let kind = kind.to_ascii_lowercase();
        self.others.iter().filter(move |(k, _)| *k == kind).map(|(_, o)| *o)
    }
}

/// Whether the mesh has Mixer policy: the istio-policy Deployment, a policy adapter, a policy
/// instance or a QuotaSpec.
fn has_policy(config: &Config<'_>, objects: &[&Value]) -> bool {
    objects
        .iter()
        .any(|o| str_of(o, "/kind") == "Deployment" && str_of(o, "/metadata/name") == "istio-policy")
        || config.handlers.iter().any(|h| h.category.is_policy())
        || config.instances.iter().any(|i| POLICY_TEMPLATES.contains(&i.template.as_str()))
        || config.others_of_kind("QuotaSpec").next().is_some()
}

/// The mesh configuration of the control plane in the input (the `istio` ConfigMap's `mesh` key).
fn mesh_config(objects: &[&Value]) -> Value {
    let mut maps: Vec<&Value> = objects
        .iter()
        .copied()
        .filter(|o| str_of(o, "/kind") == "ConfigMap" && str_of(o, "/metadata/name") == "istio")
        .collect();
    maps.sort_by_key(|o| ObjectId::of(o));
    maps.iter()
        .filter_map(|cm| crate::yaml::parse_one(cm.pointer("/data/mesh")?.as_str()?).ok())
        .find(Value::is_object)
        .unwrap_or(Value::Null)
}

/// What a run collects before it becomes a change set.
struct Out {
    create: Vec<Value>,
    findings: Vec<Finding>,
    /// `meshConfig` values.
    mesh: Map<String, Value>,
    /// `telemetry.v2.prometheus.configOverride` values.
    config_override: Map<String, Value>,
    /// The root namespace (mesh-wide policy, EnvoyFilters).
    root: String,
    /// The mesh's trust domain (principals).
    trust_domain: String,
}

impl Out {
    /// Records a finding once per (code, object); the severity follows the code's letter.
    fn finding(&mut self, code: &'static str, object: &Value, message: String, hint: &str) {
        let id = ObjectId::of(object);
        if self.findings.iter().any(|f| f.code == code && f.object.as_ref() == Some(&id)) {
            return;
        }
        self.findings.push(Finding {
            code,
            severity: Severity::of_code(code),
            area: Area::Policy,
            object: Some(id),
            message,
            hint: hint.to_string(),
        });
    }
}

/// The provenance annotation value for objects made from `sources`.
fn provenance(sources: &[&Value]) -> String {
    let mut seen = Vec::new();
    for source in sources {
        let id = ObjectId::of(source).to_string();
        if !seen.contains(&id) {
            seen.push(id);
        }
    }
    seen.join(", ")
}

/// Whether a rule's `match` is absent or always true.
fn always_matches(rule: &Value) -> bool {
    match rule.pointer("/spec/match") {
        None | Some(Value::Null) => true,
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.trim().is_empty() || expr::parse(s) == Ok(expr::Expr::Bool(true)),
        Some(_) => false,
    }
}

/// A rule's `match` as text (YAML may give a boolean).
fn match_text(rule: &Value) -> String {
    match rule.pointer("/spec/match") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Bool(b)) => b.to_string(),
        _ => String::new(),
    }
}

/// Every rule action, dispatched to what replaces its adapter.
fn convert_rules(config: &Config<'_>, input: &Input<'_>, out: &mut Out) {
    let workloads = policy::Workloads::new(input.objects);
    // The AuthorizationPolicies already there, by (namespace, name): a conversion must not collide.
    let existing: BTreeSet<(&str, &str)> = input
        .objects
        .iter()
        .filter(|o| o.get("kind").and_then(Value::as_str) == Some("AuthorizationPolicy"))
        .filter_map(|o| {
            let metadata = o.get("metadata")?;
            Some((metadata.get("namespace")?.as_str()?, metadata.get("name")?.as_str()?))
        })
        .collect();
    for rule in &config.rules {
        if !rule.unresolved.is_empty() {
            out.finding(
                "E-MIXER-REF-UNRESOLVED",
                rule.object,
                format!("the rule names {} that the input does not hold", rule.unresolved.join(", ")),
                "include every handler and instance the rule uses (all namespaces), or convert the rule by hand",
            );
        }
        for field in ["requestHeaderOperations", "responseHeaderOperations"] {
            if rule
                .object
                .pointer(&format!("/spec/{field}"))
                .and_then(Value::as_array)
                .is_some_and(|a| !a.is_empty())
            {
                out.finding(
                    "E-POL-HEADER-OPERATIONS",
                    rule.object,
                    format!("the rule rewrites headers ({field}); nothing does that once Mixer is gone"),
                    "move header changes to the VirtualService `headers` field, or to a Lua or Wasm filter",
                );
            }
        }
        let mut policy_actions = 0;
        for action in &rule.actions {
            let handler = &config.handlers[action.handler];
            let instances: Vec<&Instance<'_>> =
                action.instances.iter().map(|&i| &config.instances[i]).collect();
            match handler.category {
                Adapter::Prometheus | Adapter::Builtin => {}
                Adapter::Stdio => telemetry::access_log(rule, handler, &instances, out),
                Adapter::TelemetryBackend => telemetry::backend(rule, handler, out),
                Adapter::Denier | Adapter::ListChecker => {
                    let name = match policy_actions {
                        0 => text(rule.object, "/metadata/name"),
                        n => format!("{}-{n}", text(rule.object, "/metadata/name")),
                    };
                    policy_actions += 1;
                    policy::authorization(rule, handler, &instances, &name, &existing, &workloads, out);
                }
                Adapter::Quota => policy::quota(config, rule, handler, &action.instances, out),
                Adapter::PolicyBackend => policy::backend(rule, handler, out),
                Adapter::External => {
                    if instances.iter().any(|i| POLICY_TEMPLATES.contains(&i.template.as_str())) {
                        policy::backend(rule, handler, out);
                    } else {
                        telemetry::backend(rule, handler, out);
                    }
                }
            }
        }
    }
}

impl Transform for MixerToTelemetryV2 {
    fn run(&self, input: &Input<'_>) -> ChangeSet {
        let config = Config::new(input.objects);
        let mixer_running = input.objects.iter().copied().any(|o| {
            str_of(o, "/kind") == "Deployment" && MIXER_COMPONENTS.contains(&str_of(o, "/metadata/name"))
        });
        if config.all.is_empty() && !mixer_running {
            return ChangeSet::default();
        }
        let mesh = mesh_config(input.objects);
        let setting = |key: &str, default: &str| {
            mesh.get(key).and_then(Value::as_str).filter(|s| !s.is_empty()).unwrap_or(default).to_string()
        };
        let mut out = Out {
            create: Vec::new(),
            findings: Vec::new(),
            mesh: Map::new(),
            config_override: Map::new(),
            root: setting("rootNamespace", "istio-system"),
            trust_domain: setting("trustDomain", "cluster.local"),
        };
        let policy = has_policy(&config, input.objects);
        let telemetry = telemetry::convert(&config, input, &mut out);
        convert_rules(&config, input, &mut out);
        policy::leftovers(&config, &mut out);

        let target = (input.target.major, input.target.minor);
        let mut values = json!({"telemetry": {"v2": {"enabled": true, "prometheus": {"enabled": true}}}});
        if !out.config_override.is_empty() {
            values["telemetry"]["v2"]["prometheus"]["configOverride"] = Value::Object(out.config_override);
        }
        let mut mesh_values = Map::new();
        // The field went with Mixer in 1.8; an unknown field would make the mesh config invalid.
        if policy && target < (1, 8) {
            mesh_values.insert("disablePolicyChecks".to_string(), Value::Bool(true));
        }
        mesh_values.extend(out.mesh);
        if !mesh_values.is_empty() {
            values["meshConfig"] = Value::Object(mesh_values);
        }

        let authz = out.create.iter().any(|o| str_of(o, "/kind") == "AuthorizationPolicy");
        let gates = [(GATE_METRICS, telemetry), (GATE_POLICY_OFF, policy), (GATE_AUTHZ_TCP, authz)];
        ChangeSet {
            create: out.create,
            findings: out.findings,
            gates: gates.iter().filter(|(_, on)| *on).map(|(gate, _)| gate.to_string()).collect(),
            values,
            ..ChangeSet::default()
        }
    }

    fn finalize(&self, input: &Input<'_>) -> ChangeSet {
        let crds_removed = (input.target.major, input.target.minor) >= (1, 8);
        let mixer_namespaces: BTreeSet<String> = input
            .objects
            .iter()
            .filter(|o| {
                matches!(str_of(o, "/kind"), "Deployment" | "Service")
                    && MIXER_COMPONENTS.contains(&str_of(o, "/metadata/name"))
            })
            .map(|o| text(o, "/metadata/namespace"))
            .chain(std::iter::once(
                mesh_config(input.objects)
                    .get("rootNamespace")
                    .and_then(Value::as_str)
                    .unwrap_or("istio-system")
                    .to_string(),
            ))
            .collect();
        let removed = |object: &Value| {
            let kind = text(object, "/kind");
            let name = text(object, "/metadata/name");
            let in_mixer_namespace = mixer_namespaces.contains(&text(object, "/metadata/namespace"));
            let component = MIXER_COMPONENTS.contains(&name.as_str());
            match kind.as_str() {
                _ if is_config(object) => true,
                "Deployment" | "Service" | "HorizontalPodAutoscaler" | "PodDisruptionBudget" => {
                    component && in_mixer_namespace
                }
                "DestinationRule" => {
                    component
                        && in_mixer_namespace
                        && text(object, "/apiVersion").starts_with("networking.istio.io/")
                }
                "ServiceAccount" => name == "istio-mixer-service-account" && in_mixer_namespace,
                "ClusterRole" | "ClusterRoleBinding" => name.starts_with("istio-mixer-"),
                "CustomResourceDefinition" => crds_removed && str_of(object, "/spec/group") == CONFIG_GROUP,
                _ => false,
            }
        };
        let mut delete: Vec<Value> = input.objects.iter().copied().filter(|o| removed(o)).cloned().collect();
        delete.sort_by_key(ObjectId::of);
        ChangeSet {
            backup: delete.clone(),
            delete,
            gates: vec![GATE_PROXIES.to_string()],
            ..ChangeSet::default()
        }
    }
}
