//! Mixer policy to AuthorizationPolicy (spec 2.6). A `denier` rule becomes a DENY policy and a
//! `listchecker` rule an ALLOW (whitelist) or DENY (blacklist) policy, when every term of the rule's
//! `match` maps onto a policy field: destination labels and namespace scope the policy, source
//! namespaces, principals and IPs, request paths, methods, hosts and headers become its rule. A rule
//! in the root namespace that matches on a gateway's `istio` label was checked by that gateway, so the
//! policy goes on the gateway. Other source labels become the principals of the service accounts the
//! matching pods run as, which needs mTLS and is broader when a service account is shared. Terms
//! that have no field make the rule unconvertible: dropping one would deny or allow other requests
//! than Mixer did, so policy is never converted in part. Quotas, OPA, Mixer RBAC and out-of-process
//! adapters are reported with what replaces them.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use super::expr::{self, Expr, Op};
use super::{
    Adapter, CONVERTED_FROM_ANNOTATION, Config, Handler, Instance, Out, Rule, match_text, provenance,
};
use crate::inventory::{ObjectId, str_of, text};

/// A pod or pod template: (namespace, pod labels, service account).
type Workload<'a> = (String, Option<&'a Map<String, Value>>, String);

/// Pods and pod templates, for mapping labels to service accounts.
pub(super) struct Workloads<'a> {
    items: Vec<Workload<'a>>,
}

impl<'a> Workloads<'a> {
    pub(super) fn new(objects: &'a [&'a Value]) -> Workloads<'a> {
        let mut items = Vec::new();
        for object in objects {
            let pod = match str_of(object, "/kind") {
                "Pod" => Some((object.pointer("/metadata/labels"), object.get("spec"))),
                "Deployment"
                | "StatefulSet"
                | "DaemonSet"
                | "ReplicaSet"
                | "Job"
                | "ReplicationController" => Some((
                    object.pointer("/spec/template/metadata/labels"),
                    object.pointer("/spec/template/spec"),
                )),
                _ => None,
            };
            let Some((labels, spec)) = pod else { continue };
            let spec = spec.unwrap_or(&Value::Null);
            let account = [text(spec, "/serviceAccountName"), text(spec, "/serviceAccount")]
                .into_iter()
                .find(|s| !s.is_empty())
                .unwrap_or_else(|| "default".to_string());
            items.push((text(object, "/metadata/namespace"), labels.and_then(Value::as_object), account));
        }
        Workloads { items }
    }

    /// The principals of the service accounts of workloads whose labels satisfy `selects`, and the
    /// service accounts that workloads which do not also run as.
    fn principals(
        &self,
        trust_domain: &str,
        selects: impl Fn(&Map<String, Value>) -> bool,
    ) -> (Vec<String>, Vec<String>) {
        let selected = |labels: Option<&Map<String, Value>>| labels.is_some_and(&selects);
        let accounts: BTreeSet<(&str, &str)> = self
            .items
            .iter()
            .filter(|(_, labels, _)| selected(*labels))
            .map(|(ns, _, sa)| (ns.as_str(), sa.as_str()))
            .collect();
        let shared: BTreeSet<(&str, &str)> = self
            .items
            .iter()
            .filter(|(ns, labels, sa)| !selected(*labels) && accounts.contains(&(ns.as_str(), sa.as_str())))
            .map(|(ns, _, sa)| (ns.as_str(), sa.as_str()))
            .collect();
        let principal = |(ns, sa): &(&str, &str)| format!("{trust_domain}/ns/{ns}/sa/{sa}");
        (accounts.iter().map(principal).collect(), shared.iter().map(principal).collect())
    }
}

/// One term of a rule's `match`, as a policy field.
#[derive(Debug, Clone, PartialEq)]
enum Cond {
    /// `destination.labels["k"] == "v"`: the policy's selector.
    Selector(String, String),
    /// `destination.namespace == "ns"`: the policy's namespace.
    DestinationNamespace(String),
    /// `source.labels["k"] == "v"`: a gateway placement, or principals.
    SourceLabel(String, String),
    /// A `from.source` field and one value.
    Source(&'static str, String),
    /// A `to.operation` field and one value.
    Operation(&'static str, String),
    /// `request.headers["h"] == "v"`: a `when` condition.
    Header(String, String),
}

/// A literal in a comparison: a string, `ip("...")`, a number or a boolean.
fn literal(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Str(s) => Some(s.clone()),
        Expr::Call(name, args) if name == "ip" => match args.as_slice() {
            [Expr::Str(s)] => Some(s.clone()),
            _ => None,
        },
        Expr::Int(i) => Some(i.to_string()),
        Expr::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A path or host glob: `*` only at the start or the end, as both Mixer's `match` and
/// AuthorizationPolicy read it.
fn glob(value: &str) -> Result<String, String> {
    let inner = value.strip_prefix('*').unwrap_or(value);
    let inner = inner.strip_suffix('*').unwrap_or(inner);
    if inner.contains('*') || (value.starts_with('*') && value.ends_with('*') && value.len() > 1) {
        return Err(format!("{value:?} has a wildcard AuthorizationPolicy cannot express"));
    }
    Ok(value.to_string())
}

/// One match term as a policy field; `None` for `true`.
fn condition(term: &Expr) -> Result<Option<Cond>, String> {
    let unsupported = || format!("`{term}` has no AuthorizationPolicy equivalent");
    match term {
        Expr::Bool(true) => Ok(None),
        Expr::Binary(op @ (Op::Eq | Op::Ne), left, right) => {
            let (subject, value) = match (literal(right), literal(left)) {
                (Some(v), _) => (&**left, v),
                (None, Some(v)) => (&**right, v),
                (None, None) => return Err(unsupported()),
            };
            let equal = *op == Op::Eq;
            let subject = match subject {
                // `(a | "d") == "v"` is `a == "v"` unless the fallback itself is "v" (then it also
                // matches requests without the attribute).
                Expr::Binary(Op::Default, inner, fallback) => {
                    if !equal || literal(fallback).is_none_or(|f| f == value) {
                        return Err(format!("`{term}` also matches requests without {inner}"));
                    }
                    &**inner
                }
                other => other,
            };
            let pick = |yes: &'static str, no: &'static str| if equal { yes } else { no };
            Ok(Some(match subject {
                Expr::Index(map, key) if map == "destination.labels" && equal => {
                    Cond::Selector(key.clone(), value)
                }
                Expr::Attr(a)
                    if equal
                        && matches!(
                            a.as_str(),
                            "destination.namespace"
                                | "destination.workload.namespace"
                                | "destination.service.namespace"
                        ) =>
                {
                    Cond::DestinationNamespace(value)
                }
                Expr::Index(map, key) if map == "source.labels" && equal => {
                    Cond::SourceLabel(key.clone(), value)
                }
                Expr::Attr(a) if a == "source.namespace" || a == "source.workload.namespace" => {
                    Cond::Source(pick("namespaces", "notNamespaces"), value)
                }
                Expr::Attr(a) if a == "source.principal" || a == "source.user" => Cond::Source(
                    pick("principals", "notPrincipals"),
                    value.strip_prefix("spiffe://").unwrap_or(&value).to_string(),
                ),
                Expr::Attr(a) if a == "source.ip" => Cond::Source(pick("ipBlocks", "notIpBlocks"), value),
                Expr::Index(map, key) if map == "request.headers" && equal => {
                    Cond::Header(key.clone(), value)
                }
                Expr::Attr(a) if a == "request.path" => {
                    Cond::Operation(pick("paths", "notPaths"), exact(&value)?)
                }
                Expr::Attr(a) if a == "request.method" => {
                    Cond::Operation(pick("methods", "notMethods"), value)
                }
                Expr::Attr(a) if a == "request.host" => {
                    Cond::Operation(pick("hosts", "notHosts"), exact(&value)?)
                }
                _ => return Err(unsupported()),
            }))
        }
        Expr::Call(name, args) => match (name.as_str(), args.as_slice()) {
            ("match" | "startsWith" | "endsWith", [Expr::Attr(attribute), Expr::Str(pattern)])
                if attribute == "request.path" || attribute == "request.host" =>
            {
                let value = match name.as_str() {
                    "match" => glob(pattern)?,
                    "startsWith" => format!("{}*", exact(pattern)?),
                    _ => format!("*{}", exact(pattern)?),
                };
                let field = if attribute == "request.path" { "paths" } else { "hosts" };
                Ok(Some(Cond::Operation(field, value)))
            }
            _ => Err(unsupported()),
        },
        _ => Err(unsupported()),
    }
}

/// A value compared exactly: a `*` in it would become a wildcard.
fn exact(value: &str) -> Result<String, String> {
    if value.contains('*') {
        Err(format!("{value:?} contains '*', which AuthorizationPolicy reads as a wildcard"))
    } else {
        Ok(value.to_string())
    }
}

/// Whether an IPv4 address lies in an IPv4 CIDR block (or equals an address).
fn ip_in(address: &str, block: &str) -> bool {
    let parse = |s: &str| -> Option<u32> {
        let octets: Vec<u8> = s.split('.').map(|o| o.parse().ok()).collect::<Option<_>>()?;
        let [a, b, c, d] = octets.as_slice() else { return None };
        Some(u32::from_be_bytes([*a, *b, *c, *d]))
    };
    let (network, bits) = block.split_once('/').unwrap_or((block, "32"));
    match (parse(address), parse(network), bits.parse::<u32>()) {
        (Some(a), Some(n), Ok(bits)) if bits <= 32 => {
            let mask = if bits == 0 { 0 } else { u32::MAX << (32 - bits) };
            a & mask == n & mask
        }
        _ => address == block,
    }
}

/// The `from.source` and `to.operation` fields and `when` conditions of the one policy rule.
#[derive(Default)]
struct Fields {
    source: Map<String, Value>,
    operation: Map<String, Value>,
    when: Vec<Value>,
}

impl Fields {
    fn set(map: &mut Map<String, Value>, field: &str, values: Vec<String>) -> Result<(), String> {
        if map.contains_key(field) {
            return Err(format!(
                "{field} would be needed twice (AuthorizationPolicy ORs the values of one field)"
            ));
        }
        map.insert(field.to_string(), json!(values));
        Ok(())
    }
}

/// A finding to record: code and message.
type Note = (&'static str, String);

/// The list of a `listchecker` handler as policy fields; notes go to `notes`.
fn list_fields(
    handler: &Handler<'_>,
    entry: &Instance<'_>,
    workloads: &Workloads<'_>,
    trust_domain: &str,
    fields: &mut Fields,
    notes: &mut Vec<Note>,
) -> Result<(), String> {
    let params = handler.params;
    let entry_type = params.get("entryType").and_then(Value::as_str).unwrap_or("STRING");
    let values: Vec<String> = params
        .get("overrides")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect();
    if !text(params, "/providerUrl").is_empty() {
        return Err("the list is fetched from providerUrl at run time".to_string());
    }
    if entry_type != "STRING" && entry_type != "IP_ADDRESSES" {
        return Err(format!("entryType {entry_type} has no AuthorizationPolicy equivalent"));
    }
    if values.is_empty() {
        return Err("the list is empty".to_string());
    }
    let source = match entry.params.get("value") {
        Some(Value::String(s)) => s.clone(),
        _ => {
            return Err(format!("instance {} has no value expression", text(entry.object, "/metadata/name")));
        }
    };
    let parsed = expr::parse(&source).map_err(|e| format!("value {source:?}: {e}"))?;
    let subject = match &parsed {
        Expr::Binary(Op::Default, inner, fallback) => {
            let fallback =
                literal(fallback).ok_or_else(|| format!("value {source:?}: unsupported fallback"))?;
            if values.iter().any(|v| v == &fallback || ip_in(&fallback, v)) {
                return Err(format!("value {source:?}: requests without the attribute match the list"));
            }
            &**inner
        }
        other => other,
    };
    let ips = entry_type == "IP_ADDRESSES";
    match subject {
        Expr::Attr(a) if a == "source.ip" && ips => {
            Fields::set(&mut fields.source, "ipBlocks", values)?;
            notes.push((
                "W-POL-SOURCE-IP",
                "ipBlocks match the address of the connection's peer: behind a load balancer or another proxy that is not the client unless the gateway Service has externalTrafficPolicy: Local or PROXY protocol (from 1.8, remoteIpBlocks reads X-Forwarded-For)".to_string(),
            ));
        }
        _ if ips => return Err(format!("IP list over {subject}, not source.ip")),
        Expr::Index(map, key) if map == "source.labels" => {
            let (principals, shared) = workloads.principals(trust_domain, |labels| {
                labels.get(key).and_then(Value::as_str).is_some_and(|v| values.iter().any(|x| x == v))
            });
            if principals.is_empty() {
                return Err(format!(
                    "no pod in the input has label {key} in {values:?}, so no service account can stand for it"
                ));
            }
            label_notes(&principals, &shared, notes);
            Fields::set(&mut fields.source, "principals", principals)?;
        }
        Expr::Attr(a) if a == "source.namespace" || a == "source.workload.namespace" => {
            notes.push(requires_mtls());
            Fields::set(&mut fields.source, "namespaces", values)?;
        }
        Expr::Attr(a) if a == "source.principal" || a == "source.user" => {
            let values =
                values.iter().map(|v| v.strip_prefix("spiffe://").unwrap_or(v).to_string()).collect();
            Fields::set(&mut fields.source, "principals", values)?;
        }
        Expr::Index(map, key) if map == "request.headers" => {
            fields.when.push(json!({"key": format!("request.headers[{key}]"), "values": values}));
        }
        Expr::Attr(a) if a == "request.path" || a == "request.method" => {
            let values = values.iter().map(|v| exact(v)).collect::<Result<Vec<_>, _>>()?;
            Fields::set(
                &mut fields.operation,
                if a == "request.path" { "paths" } else { "methods" },
                values,
            )?;
        }
        other => return Err(format!("a list over {other} has no AuthorizationPolicy equivalent")),
    }
    Ok(())
}

fn requires_mtls() -> Note {
    (
        "W-POL-REQUIRES-MTLS",
        "source namespaces and principals come from the peer's mTLS certificate: requests from workloads without a sidecar, or over plaintext, no longer match".to_string(),
    )
}

/// Notes for principals derived from pod labels.
fn label_notes(principals: &[String], shared: &[String], notes: &mut Vec<Note>) {
    notes.push(requires_mtls());
    if !shared.is_empty() {
        notes.push((
            "W-POL-PRINCIPAL-OVERBROAD",
            format!(
                "the labels map to {}, but {} also run pods without those labels: the policy covers them too",
                principals.join(", "),
                shared.join(", ")
            ),
        ));
    }
}

/// A `denier` or `listchecker` rule action as an AuthorizationPolicy named `name`.
pub(super) fn authorization(
    rule: &Rule<'_>,
    handler: &Handler<'_>,
    instances: &[&Instance<'_>],
    name: &str,
    existing: &BTreeSet<(&str, &str)>,
    workloads: &Workloads<'_>,
    out: &mut Out,
) {
    let rule_namespace = text(rule.object, "/metadata/namespace");
    let mut notes: Vec<Note> = Vec::new();
    let mut fields = Fields::default();
    let mut errors: Vec<Note> = Vec::new();

    let whitelist = handler.category == Adapter::ListChecker
        && !handler.params.get("blacklist").and_then(Value::as_bool).unwrap_or(false);
    if handler.category == Adapter::ListChecker {
        let entries: Vec<&&Instance<'_>> = instances.iter().filter(|i| i.template == "listentry").collect();
        let listed = match entries.as_slice() {
            [entry] => list_fields(handler, entry, workloads, &out.trust_domain, &mut fields, &mut notes),
            _ => Err(format!("the rule checks {} list entries; exactly one converts", entries.len())),
        };
        if let Err(why) = listed {
            errors.push(("E-POL-LIST-MANUAL", why));
        }
    }

    let source = match_text(rule.object);
    let terms: Vec<Expr> = if source.trim().is_empty() {
        Vec::new()
    } else {
        match expr::parse(&source) {
            Ok(parsed) => expr::conjuncts(&parsed).into_iter().cloned().collect(),
            Err(e) => {
                errors.push(("E-POL-MATCH-UNSUPPORTED", format!("match {source:?} does not parse: {e}")));
                Vec::new()
            }
        }
    };
    if terms.contains(&Expr::Bool(false)) {
        out.finding(
            "I-MIXER-UNUSED",
            rule.object,
            "the rule never matches".to_string(),
            "nothing to convert; finalize removes it",
        );
        return;
    }
    let mut selector: Vec<(String, String)> = Vec::new();
    let mut namespace: Option<String> = None;
    let mut gateway: Option<(String, String)> = None;
    let mut source_labels: Vec<(String, String)> = Vec::new();
    let mut unsupported = Vec::new();
    for term in &terms {
        let cond = match condition(term) {
            Ok(Some(cond)) => cond,
            Ok(None) => continue,
            Err(why) => {
                unsupported.push(why);
                continue;
            }
        };
        let scoping = matches!(cond, Cond::Selector(..) | Cond::DestinationNamespace(_))
            || matches!(&cond, Cond::SourceLabel(k, v) if rule_namespace == out.root && k == "istio" && v.ends_with("gateway"));
        if whitelist && !scoping {
            unsupported.push(format!(
                "`{term}`: a whitelist that applies only to some requests cannot be an ALLOW policy"
            ));
            continue;
        }
        let result = match cond {
            Cond::Selector(k, v) => {
                selector.push((k, v));
                Ok(())
            }
            Cond::DestinationNamespace(ns) => {
                if rule_namespace == out.root || rule_namespace == ns {
                    namespace = Some(ns);
                    Ok(())
                } else {
                    Err(format!("`{term}`: a rule in {rule_namespace} only sees traffic to {rule_namespace}"))
                }
            }
            Cond::SourceLabel(k, v) if scoping => {
                gateway = Some((k, v));
                Ok(())
            }
            Cond::SourceLabel(k, v) => {
                source_labels.push((k, v));
                Ok(())
            }
            Cond::Source(field, value) => {
                if field.ends_with("amespaces") {
                    notes.push(requires_mtls());
                }
                if field.ends_with("pBlocks") {
                    notes.push((
                        "W-POL-SOURCE-IP",
                        "ipBlocks match the address of the connection's peer, which behind a load balancer or proxy is not the client".to_string(),
                    ));
                }
                Fields::set(&mut fields.source, field, vec![value])
            }
            Cond::Operation(field, value) => Fields::set(&mut fields.operation, field, vec![value]),
            Cond::Header(h, v) => {
                fields.when.push(json!({"key": format!("request.headers[{h}]"), "values": [v]}));
                Ok(())
            }
        };
        if let Err(why) = result {
            unsupported.push(why);
        }
    }
    if !source_labels.is_empty() {
        let (principals, shared) = workloads.principals(&out.trust_domain, |labels| {
            source_labels.iter().all(|(k, v)| labels.get(k).and_then(Value::as_str) == Some(v))
        });
        if principals.is_empty() {
            errors.push((
                "E-POL-SOURCE-UNRESOLVED",
                format!("no pod in the input has the source labels {source_labels:?}, so no service account can stand for them"),
            ));
        } else {
            label_notes(&principals, &shared, &mut notes);
            if let Err(why) = Fields::set(&mut fields.source, "principals", principals) {
                unsupported.push(why);
            }
        }
    }
    if let Some((k, v)) = &gateway {
        if selector.is_empty() {
            selector.push((k.clone(), v.clone()));
            notes.push((
                "W-POL-CHECK-LOCATION",
                format!("Mixer checked this rule at the {v} (as the request's source) and again at the destinations; the policy goes on the {v} only"),
            ));
        } else {
            unsupported
                .push("the rule selects both a gateway (source) and destination workloads".to_string());
        }
    }
    if !unsupported.is_empty() {
        errors.push(("E-POL-MATCH-UNSUPPORTED", unsupported.join("; ")));
    }
    let namespace = namespace.unwrap_or(rule_namespace);
    if existing.contains(&(namespace.as_str(), name)) {
        errors.push(("E-NAME-COLLISION", format!("AuthorizationPolicy {namespace}/{name} already exists")));
    }
    if !errors.is_empty() {
        for (code, message) in errors {
            out.finding(code, rule.object, message, "the rule is not converted: write the AuthorizationPolicy by hand, or keep the rule in Mixer until you do");
        }
        return;
    }
    if handler.category == Adapter::Denier {
        let status = handler.params.get("status");
        notes.push((
            "I-POL-STATUS-MESSAGE-LOST",
            format!(
                "denied requests get 403 \"RBAC: access denied\" instead of the denier's status (code {}, message {:?})",
                status.and_then(|s| s.get("code")).map_or_else(|| "unset".to_string(), ToString::to_string),
                status.map(|s| text(s, "/message")).unwrap_or_default()
            ),
        ));
    }
    for (code, message) in notes {
        let hint = match code {
            "W-POL-SOURCE-IP" => {
                "preserve the client address (externalTrafficPolicy: Local, PROXY protocol) or use remoteIpBlocks from 1.8"
            }
            "W-POL-CHECK-LOCATION" => "check that the gateway is where the rule was meant to apply",
            "W-POL-REQUIRES-MTLS" | "W-POL-PRINCIPAL-OVERBROAD" => {
                "give the workloads their own service accounts and make mTLS STRICT for them"
            }
            _ => "tell clients that rely on the old denial status",
        };
        out.finding(code, rule.object, message, hint);
    }

    let mut policy_rule = Map::new();
    if !fields.source.is_empty() {
        policy_rule.insert("from".to_string(), json!([{"source": fields.source}]));
    }
    if !fields.operation.is_empty() {
        policy_rule.insert("to".to_string(), json!([{"operation": fields.operation}]));
    }
    if !fields.when.is_empty() {
        policy_rule.insert("when".to_string(), Value::Array(fields.when));
    }
    let mut spec = Map::new();
    if !selector.is_empty() {
        let labels: Map<String, Value> = selector.into_iter().map(|(k, v)| (k, Value::String(v))).collect();
        spec.insert("selector".to_string(), json!({"matchLabels": labels}));
    }
    spec.insert("action".to_string(), json!(if whitelist { "ALLOW" } else { "DENY" }));
    spec.insert("rules".to_string(), json!([policy_rule]));
    let mut sources = vec![rule.object, handler.object];
    sources.extend(instances.iter().map(|i| i.object));
    let mut metadata =
        json!({"name": name, "annotations": {CONVERTED_FROM_ANNOTATION: provenance(&sources)}});
    if !namespace.is_empty() {
        metadata["namespace"] = json!(namespace);
    }
    out.create.push(json!({
        "apiVersion": "security.istio.io/v1beta1",
        "kind": "AuthorizationPolicy",
        "metadata": metadata,
        "spec": spec,
    }));
}

/// The instances a QuotaSpec charges.
fn charged_instances(config: &Config<'_>, spec: &Value) -> BTreeSet<usize> {
    let namespace = text(spec, "/metadata/namespace");
    spec.pointer("/spec/rules")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .flat_map(|r| r.get("quotas").and_then(Value::as_array).into_iter().flatten())
        .filter_map(|q| config.instance(&text(q, "/quota"), &namespace))
        .collect()
}

/// A quota rule: Envoy rate limiting, designed by hand.
/// `instances` are the indices of the quota instances the rule sends.
pub(super) fn quota(
    config: &Config<'_>,
    rule: &Rule<'_>,
    handler: &Handler<'_>,
    instances: &[usize],
    out: &mut Out,
) {
    let limits: Vec<String> = handler
        .params
        .get("quotas")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|q| {
            let overrides = q.get("overrides").and_then(Value::as_array).map_or(0, Vec::len);
            format!(
                "{}: {} per {} ({overrides} overrides)",
                text(q, "/name"),
                q.get("maxAmount").map_or_else(|| "?".to_string(), ToString::to_string),
                q.get("validDuration").and_then(Value::as_str).unwrap_or("?")
            )
        })
        .collect();
    let charged: Vec<String> = config
        .others_of_kind("QuotaSpec")
        .filter(|spec| instances.iter().any(|i| charged_instances(config, spec).contains(i)))
        .map(|spec| ObjectId::of(spec).to_string())
        .collect();
    out.finding(
        "E-POL-QUOTA-MANUAL",
        rule.object,
        format!(
            "the rule enforces rate limits with the {} adapter ({}): {}; charged by {}",
            handler.adapter,
            ObjectId::of(handler.object),
            if limits.is_empty() { "no quotas".to_string() } else { limits.join(", ") },
            if charged.is_empty() { "no QuotaSpec in the input".to_string() } else { charged.join(", ") }
        ),
        "design Envoy rate limiting by hand (envoy.filters.http.local_ratelimit per proxy, or envoy.filters.http.ratelimit with a rate-limit service for a global limit, via EnvoyFilter); Mixer's overrides, validDuration and rolling windows have no 1:1 mapping",
    );
}

/// A policy adapter with no automatic replacement.
pub(super) fn backend(rule: &Rule<'_>, handler: &Handler<'_>, out: &mut Out) {
    let hint = match handler.adapter.as_str() {
        "rbac" => "write AuthorizationPolicy objects for the ServiceRoles and bindings the adapter enforced",
        "opa" => {
            "run OPA as an Envoy ext_authz service (AuthorizationPolicy action CUSTOM with an extension provider, Istio 1.9+)"
        }
        _ => {
            "run the adapter's logic as an ext_authz service (AuthorizationPolicy action CUSTOM, Istio 1.9+) or as a Wasm extension"
        }
    };
    out.finding(
        "E-POL-ADAPTER-MANUAL",
        rule.object,
        format!(
            "the rule makes policy checks with the {} adapter ({}), which has no automatic replacement",
            handler.adapter,
            ObjectId::of(handler.object)
        ),
        hint,
    );
}

/// QuotaSpecs no quota rule in the input uses, QuotaSpecBindings and HTTPAPISpecs.
pub(super) fn leftovers(config: &Config<'_>, out: &mut Out) {
    let enforced: BTreeSet<usize> = config
        .rules
        .iter()
        .flat_map(|r| &r.actions)
        .filter(|a| config.handlers[a.handler].category == Adapter::Quota)
        .flat_map(|a| a.instances.iter().copied())
        .collect();
    for spec in config.others_of_kind("QuotaSpec") {
        if charged_instances(config, spec).is_disjoint(&enforced) {
            out.finding(
                "E-POL-QUOTA-MANUAL",
                spec,
                "the QuotaSpec charges quotas that no quota rule in the input enforces (the rule may live elsewhere)".to_string(),
                "if a memquota or redisquota rule enforces them, design Envoy rate limiting by hand; otherwise nothing to convert",
            );
        }
    }
    for binding in config.others_of_kind("QuotaSpecBinding") {
        out.finding(
            "W-MIXER-QUOTASPECBINDING-PANIC",
            binding,
            "QuotaSpecBinding objects crash istiod 1.6.0 (istio#24264)".to_string(),
            "back it up and delete it before installing a 1.6.0 control plane (later 1.6 patches are fixed); finalize removes it",
        );
    }
    for spec in config.others_of_kind("HTTPAPISpec") {
        out.finding(
            "W-MIXER-HTTPAPISPEC",
            spec,
            "the API attributes (api.operation, api.key, ...) and API-key extraction it defines end with Mixer".to_string(),
            "authenticate API keys or tokens with RequestAuthentication or an ext_authz service; remove rules that read api.* attributes",
        );
    }
}
