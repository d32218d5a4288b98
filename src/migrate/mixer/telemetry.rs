//! Mixer telemetry to telemetry v2 (spec 2.4 and 2.5). The standard metrics need nothing: the stats
//! filter produces them (with a renamed duration histogram and a different label set, which the
//! operator's dashboards must follow). Each custom Prometheus metric becomes a stats-filter metric
//! definition plus its dimensions, with every Mixer attribute expression translated to the CEL the
//! proxy evaluates, once for the client side (outbound sidecars and gateways) and once for the server
//! side (inbound sidecars), because the peer is on opposite ends. A metric whose value or labels
//! cannot be translated is left out rather than emitted with different meaning. stdio access logs
//! become Envoy's access log.

use serde_json::{Map, Value, json};

use super::expr::{self, Expr, Op};
use super::{
    Adapter, CONVERTED_FROM_ANNOTATION, Config, Handler, Instance, Out, Rule, always_matches, match_text,
    provenance,
};
use crate::inventory::{str_of, text};
use crate::migrate::Input;

/// The Prometheus names of the eight standard Mixer metrics (without the `istio_` prefix).
const STANDARD_METRICS: [&str; 8] = [
    "requests_total",
    "request_duration_seconds",
    "request_bytes",
    "response_bytes",
    "tcp_sent_bytes_total",
    "tcp_received_bytes_total",
    "tcp_connections_opened_total",
    "tcp_connections_closed_total",
];

/// Tags the proxy bootstrap already extracts from stat names (the standard labels); others need
/// `extraStatTags`.
const DEFAULT_STAT_TAGS: [&str; 32] = [
    "reporter",
    "source_namespace",
    "source_workload",
    "source_workload_namespace",
    "source_principal",
    "source_app",
    "source_version",
    "source_cluster",
    "destination_namespace",
    "destination_workload",
    "destination_workload_namespace",
    "destination_principal",
    "destination_app",
    "destination_version",
    "destination_service",
    "destination_service_name",
    "destination_service_namespace",
    "destination_port",
    "destination_cluster",
    "request_protocol",
    "request_operation",
    "request_host",
    "response_flags",
    "grpc_response_status",
    "connection_security_policy",
    "permissive_response_code",
    "permissive_response_policyid",
    "source_canonical_service",
    "destination_canonical_service",
    "source_canonical_revision",
    "destination_canonical_revision",
    "response_code",
];

/// Which proxy evaluates an expression: the client (outbound sidecars and gateways) or the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Outbound,
    Inbound,
}

const ROLES: [Role; 2] = [Role::Outbound, Role::Inbound];

/// The type of a translated expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ty {
    Str,
    Int,
    Bool,
    /// `response.duration`: no integer value, no label.
    Duration,
}

/// A translated expression: a constant (folded), or CEL text.
#[derive(Debug, Clone, PartialEq)]
enum Term {
    Str(String),
    Int(i64),
    Bool(bool),
    Cel { text: String, ty: Ty, atomic: bool },
}

/// A CEL string literal.
fn cel_string(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
}

impl Term {
    fn cel(&self) -> String {
        match self {
            Term::Str(s) => cel_string(s),
            Term::Int(i) => i.to_string(),
            Term::Bool(b) => b.to_string(),
            Term::Cel { text, .. } => text.clone(),
        }
    }

    /// The CEL text, parenthesised unless it is a single operand.
    fn operand(&self) -> String {
        match self {
            Term::Cel { text, atomic: false, .. } => format!("({text})"),
            other => other.cel(),
        }
    }
}

/// What translating expressions revealed, for findings.
#[derive(Debug, Default)]
struct Notes {
    /// A `| "unknown"` fallback was dropped.
    default_unknown: bool,
    /// Peer metadata (`upstream_peer`, `downstream_peer`) is used.
    peer: bool,
    /// Attributes whose values look different in v2.
    value_domain: Vec<String>,
}

struct Translator<'n> {
    role: Role,
    notes: &'n mut Notes,
}

impl Translator<'_> {
    /// The CEL for a Mixer attribute (a map attribute with its key), per the spec's table.
    fn attribute(&mut self, name: &str, key: Option<&str>) -> Result<Term, String> {
        let outbound = self.role == Role::Outbound;
        let (text, ty) = match (name, key) {
            ("context.reporter.kind", None) => {
                return Ok(Term::Str(if outbound { "outbound" } else { "inbound" }.to_string()));
            }
            ("source.workload.name", None) => (
                if outbound { "node.metadata['WORKLOAD_NAME']" } else { "downstream_peer.workload_name" }
                    .into(),
                Ty::Str,
            ),
            ("source.workload.namespace", None) => (
                if outbound { "node.metadata['NAMESPACE']" } else { "downstream_peer.namespace" }.into(),
                Ty::Str,
            ),
            ("destination.workload.name", None) => (
                if outbound { "upstream_peer.workload_name" } else { "node.metadata['WORKLOAD_NAME']" }
                    .into(),
                Ty::Str,
            ),
            ("destination.workload.namespace", None) => (
                if outbound { "upstream_peer.namespace" } else { "node.metadata['NAMESPACE']" }.into(),
                Ty::Str,
            ),
            ("source.labels", Some(k)) => (
                if outbound {
                    format!("node.metadata['LABELS'][{}]", cel_string(k))
                } else {
                    format!("downstream_peer.labels[{}].value", cel_string(k))
                },
                Ty::Str,
            ),
            ("destination.labels", Some(k)) => (
                if outbound {
                    format!("upstream_peer.labels[{}].value", cel_string(k))
                } else {
                    format!("node.metadata['LABELS'][{}]", cel_string(k))
                },
                Ty::Str,
            ),
            ("request.headers", Some(k)) => (format!("request.headers[{}]", cel_string(k)), Ty::Str),
            ("request.host" | "request.path" | "request.method" | "request.useragent", None) => {
                (name.to_string(), Ty::Str)
            }
            ("response.code" | "destination.port", None) => (name.to_string(), Ty::Int),
            ("connection.mtls", None) => (name.to_string(), Ty::Bool),
            ("context.protocol" | "api.protocol", None) => {
                self.note_domain(format!(
                    "{name} becomes request.protocol, whose values differ (HTTP/1.1, HTTP/2, ...)"
                ));
                ("request.protocol".to_string(), Ty::Str)
            }
            ("source.ip" | "destination.ip", None) => {
                let side = name.split('.').next().unwrap_or_default();
                self.note_domain(format!("{name} becomes {side}.address, an ip:port string"));
                (format!("{side}.address"), Ty::Str)
            }
            ("response.duration", None) => (name.to_string(), Ty::Duration),
            ("request.size" | "response.size", None) => {
                return Err(format!(
                    "{name}: the standard istio_{}_bytes histogram measures it",
                    name.split('.').next().unwrap_or_default()
                ));
            }
            _ => {
                let shown = key.map_or_else(|| name.to_string(), |k| format!("{name}[{k:?}]"));
                return Err(format!("attribute {shown} has no equivalent in the stats filter's CEL"));
            }
        };
        if text.starts_with("upstream_peer") || text.starts_with("downstream_peer") {
            self.notes.peer = true;
        }
        let atomic = true;
        Ok(Term::Cel { text, ty, atomic })
    }

    fn note_domain(&mut self, note: String) {
        if !self.notes.value_domain.contains(&note) {
            self.notes.value_domain.push(note);
        }
    }

    fn term(&mut self, expr: &Expr) -> Result<Term, String> {
        match expr {
            Expr::Str(s) => Ok(Term::Str(s.clone())),
            Expr::Int(i) => Ok(Term::Int(*i)),
            Expr::Bool(b) => Ok(Term::Bool(*b)),
            Expr::Attr(name) => self.attribute(name, None),
            Expr::Index(map, key) => self.attribute(map, Some(key)),
            Expr::Binary(Op::Default, left, right) => {
                let value = self.term(left)?;
                let Term::Cel { text, ty, .. } = &value else {
                    // A constant attribute is always present.
                    return Ok(value);
                };
                if matches!(&**right, Expr::Str(s) if s == "unknown") {
                    // The stats filter reports "unknown" itself when an expression fails.
                    self.notes.default_unknown = true;
                    return Ok(value);
                }
                let fallback = self.term(right)?;
                let plain = text.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.');
                if !plain {
                    return Err(format!("{expr}: the fallback for {left} cannot be expressed in CEL"));
                }
                Ok(Term::Cel {
                    text: format!("has({text}) ? {text} : {}", fallback.operand()),
                    ty: *ty,
                    atomic: false,
                })
            }
            Expr::Binary(op @ (Op::Eq | Op::Ne), left, right) => {
                let (l, r) = (self.term(left)?, self.term(right)?);
                let equal = *op == Op::Eq;
                Ok(match (&l, &r) {
                    (Term::Cel { .. }, _) | (_, Term::Cel { .. }) => Term::Cel {
                        text: format!("{} {} {}", l.operand(), if equal { "==" } else { "!=" }, r.operand()),
                        ty: Ty::Bool,
                        atomic: false,
                    },
                    _ => Term::Bool((l == r) == equal),
                })
            }
            Expr::Binary(op @ (Op::And | Op::Or), left, right) => {
                let (l, r) = (self.term(left)?, self.term(right)?);
                let and = *op == Op::And;
                Ok(match (&l, &r) {
                    (Term::Bool(a), Term::Bool(b)) => Term::Bool(if and { *a && *b } else { *a || *b }),
                    (Term::Bool(a), other) | (other, Term::Bool(a)) if *a == and => other.clone(),
                    (Term::Bool(a), _) | (_, Term::Bool(a)) => Term::Bool(*a),
                    _ => Term::Cel {
                        text: format!("{} {} {}", l.operand(), if and { "&&" } else { "||" }, r.operand()),
                        ty: Ty::Bool,
                        atomic: false,
                    },
                })
            }
            Expr::Not(inner) => Ok(match self.term(inner)? {
                Term::Bool(b) => Term::Bool(!b),
                other => Term::Cel { text: format!("!{}", other.operand()), ty: Ty::Bool, atomic: true },
            }),
            Expr::Call(name, args) if name == "conditional" && args.len() == 3 => {
                match self.term(&args[0])? {
                    Term::Bool(choice) => self.term(if choice { &args[1] } else { &args[2] }),
                    Term::Cel { text, ty: Ty::Bool, atomic } => {
                        let condition = Term::Cel { text, ty: Ty::Bool, atomic };
                        let (yes, no) = (self.term(&args[1])?, self.term(&args[2])?);
                        let ty = match &yes {
                            Term::Int(_) => Ty::Int,
                            Term::Bool(_) => Ty::Bool,
                            Term::Cel { ty, .. } => *ty,
                            Term::Str(_) => Ty::Str,
                        };
                        Ok(Term::Cel {
                            text: format!("{} ? {} : {}", condition.operand(), yes.operand(), no.operand()),
                            ty,
                            atomic: false,
                        })
                    }
                    _ => Err(format!("{expr}: the condition is not a boolean")),
                }
            }
            Expr::Call(name, _) => {
                Err(format!("{expr}: function {name} has no equivalent in the stats filter's CEL"))
            }
        }
    }

    /// A label value: CEL evaluating to a string.
    fn dimension(&mut self, expr: &Expr) -> Result<String, String> {
        Ok(match self.term(expr)? {
            Term::Str(s) => cel_string(&s),
            Term::Int(i) => cel_string(&i.to_string()),
            Term::Bool(b) => cel_string(&b.to_string()),
            Term::Cel { ty: Ty::Duration, .. } => {
                return Err(format!(
                    "{expr}: a duration is no label; istio_request_duration_milliseconds measures it"
                ));
            }
            Term::Cel { text, ty: Ty::Int, .. } => format!("string({text})"),
            Term::Cel { text, .. } => text,
        })
    }
}

/// Why a metric cannot be converted: (finding code, message).
type Problem = (&'static str, String);

/// A metric value: CEL evaluating to an integer.
fn metric_value(translator: &mut Translator<'_>, source: &str) -> Result<String, Problem> {
    let parsed = expr::parse(source).map_err(|e| ("E-TEL-ATTR", format!("value {source:?}: {e}")))?;
    match translator.term(&parsed).map_err(|e| ("E-TEL-ATTR", format!("value: {e}")))? {
        Term::Int(i) => Ok(i.to_string()),
        Term::Cel { text, ty: Ty::Int, .. } => Ok(text),
        Term::Cel { ty: Ty::Duration, .. } => Err((
            "E-TEL-VALUE-NOT-INT",
            format!(
                "value {source:?} is a duration; the stats filter needs an integer (use istio_request_duration_milliseconds)"
            ),
        )),
        other => {
            Err(("E-TEL-VALUE-NOT-INT", format!("value {source:?} ({}) is not an integer", other.cel())))
        }
    }
}

/// An expression field as text (YAML may give numbers or booleans).
fn expression_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Problems with the same code joined into one message (one finding per code and object).
fn grouped(problems: Vec<Problem>) -> Vec<Problem> {
    let mut out: Vec<Problem> = Vec::new();
    for (code, message) in problems {
        match out.iter_mut().find(|(c, _)| *c == code) {
            Some((_, joined)) => {
                joined.push_str("; ");
                joined.push_str(&message);
            }
            None => out.push((code, message)),
        }
    }
    out
}

/// One custom metric, converted for both roles.
struct Metric {
    name: String,
    kind: &'static str,
    /// Per role: the value, and the dimensions in label order.
    roles: [(String, Vec<(String, String)>); 2],
    /// Labels that need `extraStatTags`.
    tags: Vec<String>,
}

/// Converts one handler metric whose instance is `instance`; problems make the metric (or, with
/// `allow_partial`, the labels concerned) go.
fn convert_metric(
    metric: &Value,
    instance: &Instance<'_>,
    allow_partial: bool,
    notes: &mut Notes,
) -> Result<(Metric, Vec<Problem>), Vec<Problem>> {
    let name = text(metric, "/name");
    let kind = match str_of(metric, "/kind") {
        "COUNTER" => "COUNTER",
        "GAUGE" => "GAUGE",
        "DISTRIBUTION" => "HISTOGRAM",
        other => return Err(vec![("E-TEL-METRIC-KIND", format!("metric {name}: unknown kind {other:?}"))]),
    };
    let labels: Vec<String> = metric
        .get("label_names")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|l| l.as_str().map(str::to_string))
        .collect();
    let value_source = instance.params.get("value").and_then(expression_text).unwrap_or_default();
    let mut problems = Vec::new();
    let mut value_failed = false;
    let mut dropped: Vec<String> = Vec::new();
    let mut roles: [(String, Vec<(String, String)>); 2] = Default::default();
    for (slot, role) in roles.iter_mut().zip(ROLES) {
        let mut translator = Translator { role, notes: &mut *notes };
        match metric_value(&mut translator, &value_source) {
            Ok(value) => slot.0 = value,
            Err(problem) => {
                value_failed = true;
                if !problems.contains(&problem) {
                    problems.push(problem);
                }
            }
        }
        for label in &labels {
            let source =
                instance.params.pointer("/dimensions").and_then(|d| d.get(label)).and_then(expression_text);
            let result = match source {
                None => Err(format!("label {label} is not among the instance's dimensions")),
                Some(source) => expr::parse(&source)
                    .map_err(|e| format!("label {label} ({source:?}): {e}"))
                    .and_then(|e| translator.dimension(&e).map_err(|why| format!("label {label}: {why}"))),
            };
            match result {
                Ok(cel) => slot.1.push((label.clone(), cel)),
                Err(message) => {
                    let problem = ("E-TEL-ATTR", format!("metric {name}, {message}"));
                    if !problems.contains(&problem) {
                        problems.push(problem);
                    }
                    if !dropped.contains(label) {
                        dropped.push(label.clone());
                    }
                }
            }
        }
    }
    if !problems.is_empty() && (value_failed || !allow_partial) {
        return Err(problems);
    }
    for (_, dimensions) in &mut roles {
        dimensions.retain(|(label, _)| !dropped.contains(label));
    }
    let tags = labels
        .into_iter()
        .filter(|l| !dropped.contains(l) && !DEFAULT_STAT_TAGS.contains(&l.as_str()))
        .collect();
    Ok((Metric { name, kind, roles, tags }, problems))
}

/// The complete stats-filter configuration of one proxy role.
fn stats_config(metrics: &[Metric], role: Role, gateway: bool) -> Value {
    let index = usize::from(role == Role::Inbound);
    let mut config = Map::new();
    config.insert("debug".to_string(), Value::Bool(false));
    config.insert("stat_prefix".to_string(), json!("istio"));
    if gateway {
        config.insert("disable_host_header_fallback".to_string(), Value::Bool(true));
    }
    let definitions: Vec<Value> =
        metrics.iter().map(|m| json!({"name": m.name, "value": m.roles[index].0, "type": m.kind})).collect();
    let entries: Vec<Value> = metrics
        .iter()
        .filter(|m| !m.roles[index].1.is_empty())
        .map(|m| {
            let dimensions: Map<String, Value> =
                m.roles[index].1.iter().map(|(l, cel)| (l.clone(), Value::String(cel.clone()))).collect();
            json!({"name": m.name, "dimensions": dimensions})
        })
        .collect();
    config.insert("definitions".to_string(), Value::Array(definitions));
    config.insert("metrics".to_string(), Value::Array(entries));
    Value::Object(config)
}

/// An EnvoyFilter for 1.6 proxies that replaces the configuration of the stats filters the istiod
/// chart inserts (`istio.stats`) for each proxy role.
fn envoy_filter(root: &str, minor: u64, roles: [(&str, Value); 3], sources: &[&Value]) -> Value {
    let patches: Vec<Value> = roles
        .into_iter()
        .map(|(context, config)| {
            json!({
                "applyTo": "HTTP_FILTER",
                "match": {
                    "context": context,
                    "proxy": {"proxyVersion": format!("^1\\.{minor}.*")},
                    "listener": {"filterChain": {"filter": {"name": "envoy.http_connection_manager", "subFilter": {"name": "istio.stats"}}}},
                },
                "patch": {
                    "operation": "MERGE",
                    "value": {"typed_config": {
                        "@type": "type.googleapis.com/udpa.type.v1.TypedStruct",
                        "type_url": "type.googleapis.com/envoy.config.filter.http.wasm.v2.Wasm",
                        "value": {"config": {"configuration": config.to_string()}},
                    }},
                },
            })
        })
        .collect();
    json!({
        "apiVersion": "networking.istio.io/v1alpha3",
        "kind": "EnvoyFilter",
        "metadata": {
            "name": format!("mixer-custom-metrics-1.{minor}"),
            "namespace": root,
            "annotations": {CONVERTED_FROM_ANNOTATION: provenance(sources)},
        },
        "spec": {"configPatches": patches},
    })
}

/// The standard-metrics warning, and every custom Prometheus metric. Returns whether the input has
/// Mixer telemetry (its metrics are what the `telemetry-v2-metrics` gate compares).
pub(super) fn convert(config: &Config<'_>, input: &Input<'_>, out: &mut Out) -> bool {
    let prometheus: Vec<(usize, &Handler<'_>)> =
        config.handlers.iter().enumerate().filter(|(_, h)| h.category == Adapter::Prometheus).collect();
    let metrics_of =
        |h: &Handler<'_>| h.params.get("metrics").and_then(Value::as_array).cloned().unwrap_or_default();
    let standard = prometheus
        .iter()
        .find(|(_, h)| metrics_of(h).iter().any(|m| STANDARD_METRICS.contains(&str_of(m, "/name"))))
        .map(|(_, h)| h.object)
        .or_else(|| {
            input.objects.iter().copied().find(|o| {
                str_of(o, "/kind") == "Deployment" && str_of(o, "/metadata/name") == "istio-telemetry"
            })
        });
    if let Some(object) = standard {
        out.finding(
            "W-TEL-DASHBOARDS",
            object,
            "telemetry v2 produces the standard metrics itself, but istio_request_duration_seconds becomes istio_request_duration_milliseconds (unit ms, other buckets), request/response size buckets differ, the labels permissive_response_code and permissive_response_policyid are gone and source/destination_canonical_service, source/destination_canonical_revision and grpc_response_status are new; the series come from the proxies (scrape job envoy-stats or the merged port 15020), not from istio-telemetry (job istio-mesh)".to_string(),
            "update dashboards, recording rules and alerts (query both names while old proxies remain), scrape the proxies, and compare both jobs per workload before removing Mixer",
        );
    }

    let mut metrics: Vec<Metric> = Vec::new();
    let mut sources: Vec<&serde_json::Value> = Vec::new();
    for (index, handler) in &prometheus {
        for metric in metrics_of(handler) {
            let name = text(&metric, "/name");
            if STANDARD_METRICS.contains(&name.as_str()) {
                continue;
            }
            let reference = text(&metric, "/instance_name");
            let Some(instance_index) =
                config.instance(&reference, &text(handler.object, "/metadata/namespace"))
            else {
                out.finding(
                    "E-MIXER-REF-UNRESOLVED",
                    handler.object,
                    format!("metric {name} reads instance {reference:?}, which the input does not hold"),
                    "include the instance, or convert the metric by hand",
                );
                continue;
            };
            let instance = &config.instances[instance_index];
            let rules: Vec<&Rule<'_>> = config.rules_sending(*index, instance_index).collect();
            if rules.is_empty() {
                out.finding(
                    "I-MIXER-UNUSED",
                    handler.object,
                    format!("metric {name}: no rule sends instance {reference} to this handler, so Mixer never produced it"),
                    "nothing to convert; finalize removes it",
                );
                continue;
            }
            let mut notes = Notes::default();
            match convert_metric(&metric, instance, input.options.allow_partial, &mut notes) {
                Err(problems) => {
                    for (code, message) in grouped(problems) {
                        out.finding(code, instance.object, message, "the metric is not converted: rewrite it by hand with the stats filter's CEL attributes, or use a standard metric");
                    }
                }
                Ok((converted, problems)) => {
                    for (code, message) in grouped(problems) {
                        out.finding(
                            code,
                            instance.object,
                            format!("{message} (dropped: allow-partial)"),
                            "the label is not converted: add it by hand",
                        );
                    }
                    if notes.default_unknown {
                        out.finding("I-TEL-DEFAULT-UNKNOWN", instance.object, format!("metric {name}: the `| \"unknown\"` fallbacks are dropped; the stats filter reports \"unknown\" when an expression fails"), "nothing to do");
                    }
                    if notes.peer {
                        out.finding("W-TEL-PEER-ATTR-VERSION", instance.object, format!("metric {name} reads peer metadata (upstream_peer, downstream_peer), whose CEL paths are verified for 1.8 proxies only"), "check the new series on a 1.6 or 1.7 proxy before relying on them");
                    }
                    for note in &notes.value_domain {
                        out.finding(
                            "W-TEL-VALUE-DOMAIN",
                            instance.object,
                            format!("metric {name}: {note}"),
                            "adjust queries that compare these label values",
                        );
                    }
                    if metric.get("buckets").is_some_and(|b| !b.is_null()) {
                        out.finding("W-TEL-BUCKETS-LOST", handler.object, format!("metric {name}: the stats filter uses Envoy's default histogram buckets, not the handler's"), "adjust queries that depend on the bucket boundaries");
                    }
                    let prefix = text(&metric, "/namespace");
                    if !prefix.is_empty() && prefix != "istio" {
                        out.finding(
                            "W-TEL-PREFIX",
                            handler.object,
                            format!(
                                "metric {name} was {prefix}_{name}; the stats filter names it istio_{name}"
                            ),
                            "rename the series in queries, or relabel it in Prometheus",
                        );
                    }
                    for rule in &rules {
                        if !always_matches(rule.object) {
                            out.finding("W-TEL-MATCH-LOST", rule.object, format!("metric {name} was recorded only when {:?}; stats-filter metrics apply to every HTTP request", match_text(rule.object)), "filter the series in queries (by its labels) instead");
                        }
                        sources.push(rule.object);
                    }
                    sources.extend([instance.object, handler.object]);
                    if !metrics.iter().any(|m| m.name == converted.name) {
                        metrics.push(converted);
                    }
                }
            }
        }
    }
    if !metrics.is_empty() {
        deliver(&metrics, &sources, input, out);
    }
    standard.is_some() || !prometheus.is_empty()
}

/// Puts the converted metrics where the target version reads them.
fn deliver(metrics: &[Metric], sources: &[&Value], input: &Input<'_>, out: &mut Out) {
    let minor = input.target.minor;
    if input.target.major != 1 || !(6..=12).contains(&minor) {
        let why = if minor < 6 {
            "Istio 1.5 cannot register new metric labels (extraStatTags is 1.6+) and names all its Wasm filters alike, so no EnvoyFilter can target the stats filter"
        } else {
            "from Istio 1.13 the stats filter is configured through the Telemetry API, which cannot define new metrics"
        };
        for source in sources.iter().filter(|s| super::kind_of(s) != "rule") {
            out.finding(
                "E-TEL-TARGET",
                source,
                format!("custom metrics are not converted for {}: {why}", input.target),
                "convert the metrics while upgrading through a 1.6-1.12 control plane",
            );
        }
        return;
    }
    let outbound = stats_config(metrics, Role::Outbound, false);
    let inbound = stats_config(metrics, Role::Inbound, false);
    let gateway = stats_config(metrics, Role::Outbound, true);
    if minor >= 7 {
        out.config_override.insert("outboundSidecar".to_string(), outbound);
        out.config_override.insert("inboundSidecar".to_string(), inbound);
        out.config_override.insert("gateway".to_string(), gateway);
    } else {
        let roles = [("SIDECAR_OUTBOUND", outbound), ("SIDECAR_INBOUND", inbound), ("GATEWAY", gateway)];
        out.create.push(envoy_filter(&out.root, minor, roles, sources));
    }
    let mut tags: Vec<Value> = Vec::new();
    for tag in metrics.iter().flat_map(|m| &m.tags) {
        let tag = Value::String(tag.clone());
        if !tags.contains(&tag) {
            tags.push(tag);
        }
    }
    if !tags.is_empty() {
        out.mesh.insert("defaultConfig".to_string(), json!({"extraStatTags": tags}));
    }
}

/// A stdio rule: Envoy's access log to stdout.
pub(super) fn access_log(rule: &Rule<'_>, handler: &Handler<'_>, instances: &[&Instance<'_>], out: &mut Out) {
    if !instances.iter().any(|i| i.template == "logentry") {
        return;
    }
    let json = handler.params.get("outputAsJson").and_then(Value::as_bool).unwrap_or(false);
    out.mesh.insert("accessLogFile".to_string(), json!("/dev/stdout"));
    let encoding =
        if json || out.mesh.get("accessLogEncoding") == Some(&json!("JSON")) { "JSON" } else { "TEXT" };
    out.mesh.insert("accessLogEncoding".to_string(), json!(encoding));
    out.finding(
        "W-TEL-ACCESSLOG",
        rule.object,
        format!(
            "Mixer's log entries ({}) become Envoy access logs on the proxies' stdout (meshConfig.accessLogFile, encoding {encoding}); Envoy's fields, severities and the match condition are not the same",
            instances.iter().map(|i| text(i.object, "/metadata/name")).collect::<Vec<_>>().join(", ")
        ),
        "check that log consumers parse Envoy's format (or set meshConfig.accessLogFormat), and collect container logs with a node agent",
    );
}

/// A telemetry backend with no automatic replacement.
pub(super) fn backend(rule: &Rule<'_>, handler: &Handler<'_>, out: &mut Out) {
    let hint = match handler.adapter.as_str() {
        "fluentd" => {
            "set meshConfig.accessLogFile: /dev/stdout and ship container logs with a node agent (e.g. a fluentd DaemonSet)"
        }
        "stackdriver" => {
            "enable the Stackdriver extension (values telemetry.v2.stackdriver.enabled, logging, monitoring, topology)"
        }
        "zipkin" => "configure proxy tracing instead (meshConfig.enableTracing, defaultConfig.tracing)",
        _ => "scrape the proxies' Prometheus metrics into that backend, or write a Wasm extension",
    };
    out.finding(
        "E-TEL-ADAPTER-MANUAL",
        rule.object,
        format!(
            "the rule sends telemetry to the {} adapter ({}), which has no automatic replacement",
            handler.adapter,
            crate::inventory::ObjectId::of(handler.object)
        ),
        hint,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn translate(source: &str, role: Role) -> (Result<String, String>, Notes) {
        let mut notes = Notes::default();
        let mut translator = Translator { role, notes: &mut notes };
        let result = translator.dimension(&expr::parse(source).unwrap());
        (result, notes)
    }

    #[test]
    fn attribute_table_per_role() {
        let cases = [
            (
                "source.labels[\"app\"]",
                "node.metadata['LABELS']['app']",
                "downstream_peer.labels['app'].value",
            ),
            (
                "destination.labels[\"app\"]",
                "upstream_peer.labels['app'].value",
                "node.metadata['LABELS']['app']",
            ),
            ("request.headers[\"x-b3\"]", "request.headers['x-b3']", "request.headers['x-b3']"),
            ("response.code", "string(response.code)", "string(response.code)"),
            (
                "response.code | 200",
                "string(has(response.code) ? response.code : 200)",
                "string(has(response.code) ? response.code : 200)",
            ),
            ("context.reporter.kind", "'outbound'", "'inbound'"),
            (
                "conditional(connection.mtls, \"mutual_tls\", \"none\")",
                "connection.mtls ? 'mutual_tls' : 'none'",
                "connection.mtls ? 'mutual_tls' : 'none'",
            ),
            ("\"it's\"", "'it\\'s'", "'it\\'s'"),
        ];
        for (source, outbound, inbound) in cases {
            assert_eq!(translate(source, Role::Outbound).0.as_deref(), Ok(outbound), "{source}");
            assert_eq!(translate(source, Role::Inbound).0.as_deref(), Ok(inbound), "{source}");
        }
        let (_, notes) = translate("context.protocol", Role::Outbound);
        assert_eq!(notes.value_domain.len(), 1);
        let (_, notes) = translate("destination.workload.name | \"unknown\"", Role::Outbound);
        assert!(notes.peer && notes.default_unknown);
    }

    #[test]
    fn untranslatable_forms_are_errors() {
        for source in [
            "source.owner",
            "match(request.path, \"/a*\")",
            "source.labels[\"app\"] | source.workload.name",
            "response.duration",
            "request.size",
        ] {
            assert!(translate(source, Role::Outbound).0.is_err(), "{source}");
        }
        let mut notes = Notes::default();
        let mut translator = Translator { role: Role::Outbound, notes: &mut notes };
        assert_eq!(metric_value(&mut translator, "2"), Ok("2".to_string()));
        assert_eq!(metric_value(&mut translator, "response.duration").unwrap_err().0, "E-TEL-VALUE-NOT-INT");
        assert_eq!(metric_value(&mut translator, "\"x\"").unwrap_err().0, "E-TEL-VALUE-NOT-INT");
        assert_eq!(metric_value(&mut translator, "connection.sent.bytes | 0").unwrap_err().0, "E-TEL-ATTR");
    }
}
