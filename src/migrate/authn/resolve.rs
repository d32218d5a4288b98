//! Resolving what an alpha authentication policy points at: its target Services, their workload
//! selectors, and the workload (container) ports behind the Service ports it names. Alpha policies
//! speak in Service ports; the beta APIs speak in container ports, so every port goes through the
//! Service's `targetPort`, and a named `targetPort` through the containers of the pods it selects
//! (spec 1.7 C). The official converter fell back to the Service port for named targetPorts, which is
//! wrong whenever the numbers differ.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use crate::inventory::{str_of, text};

/// The objects a conversion looks things up in, indexed once.
pub struct Context<'a> {
    /// Services.
    services: Vec<&'a Value>,
    /// Pods, and pod templates of Deployments, StatefulSets and DaemonSets.
    workloads: Vec<PodShape<'a>>,
}

/// A pod or a pod template: where it runs, its labels and its pod spec.
struct PodShape<'a> {
    namespace: String,
    labels: Option<&'a Map<String, Value>>,
    spec: &'a Value,
}

/// A Service port resolved to the workload ports behind it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedPort {
    /// The Service port number.
    pub service_port: i64,
    /// The Service port's name ("" when unnamed).
    pub name: String,
    /// Distinct container ports (several when a named targetPort means different numbers in
    /// different pods).
    pub workload_ports: Vec<i64>,
    /// Whether the port carries HTTP (by the Service port's name or appProtocol).
    pub http: bool,
}

/// Why a port could not be resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PortError {
    /// No Service port has that number or name.
    NotFound(String),
    /// A named targetPort no selected container declares.
    NamedUnresolved(String),
}

/// The protocol prefixes (in Service port names) that Istio treats as HTTP.
const HTTP_PREFIXES: [&str; 4] = ["http", "http2", "grpc", "grpc-web"];

/// Whether a Service port carries HTTP: its name is one of the HTTP protocols, alone or followed by
/// `-`, or (from 1.6) its appProtocol is. Unnamed and other ports are not: inbound protocol sniffing
/// gives them a TCP chain too, and a DENY policy with HTTP-only fields would close it.
pub fn is_http(port: &Value, app_protocol_honoured: bool) -> bool {
    let matches = |name: &str| {
        HTTP_PREFIXES.iter().any(|p| name == *p || name.strip_prefix(p).is_some_and(|r| r.starts_with('-')))
    };
    let name = text(port, "/name").to_lowercase();
    let app = text(port, "/appProtocol").to_lowercase();
    matches(&name) || (app_protocol_honoured && HTTP_PREFIXES.contains(&app.as_str()))
}

/// Whether every `selector` label is among `labels`.
pub fn selects(selector: &Map<String, Value>, labels: Option<&Map<String, Value>>) -> bool {
    selector.iter().all(|(k, v)| labels.and_then(|l| l.get(k)) == Some(v))
}

impl<'a> Context<'a> {
    /// Indexes `objects`.
    pub fn new(objects: &'a [&'a Value]) -> Self {
        let mut services = Vec::new();
        let mut workloads = Vec::new();
        for &object in objects {
            let namespace = text(object, "/metadata/namespace");
            match str_of(object, "/kind") {
                "Service" if str_of(object, "/apiVersion") == "v1" => services.push(object),
                "Pod" => {
                    if let Some(spec) = object.get("spec") {
                        let labels = object.pointer("/metadata/labels").and_then(Value::as_object);
                        workloads.push(PodShape { namespace, labels, spec });
                    }
                }
                "Deployment" | "StatefulSet" | "DaemonSet" => {
                    if let Some(spec) = object.pointer("/spec/template/spec") {
                        let labels =
                            object.pointer("/spec/template/metadata/labels").and_then(Value::as_object);
                        workloads.push(PodShape { namespace, labels, spec });
                    }
                }
                _ => {}
            }
        }
        services.sort_by_key(|s| (text(s, "/metadata/namespace"), text(s, "/metadata/name")));
        Context { services, workloads }
    }

    /// The Service `name` in `namespace`.
    pub fn service(&self, namespace: &str, name: &str) -> Option<&'a Value> {
        self.services
            .iter()
            .find(|s| str_of(s, "/metadata/namespace") == namespace && str_of(s, "/metadata/name") == name)
            .copied()
    }

    /// Every Service, by namespace and name.
    pub fn services(&self) -> &[&'a Value] {
        &self.services
    }

    /// Pod specs (and pod template specs) in `namespace` whose labels the selector matches.
    pub fn selected_pods<'s>(
        &'s self,
        namespace: &'s str,
        selector: &'s Map<String, Value>,
    ) -> impl Iterator<Item = (Option<&'a Map<String, Value>>, &'a Value)> + 's {
        self.workloads
            .iter()
            .filter(move |pod| pod.namespace == namespace && selects(selector, pod.labels))
            .map(|pod| (pod.labels, pod.spec))
    }

    /// Whether the selector picks gateway pods (which alpha mTLS never applied to).
    pub fn selects_gateway(&self, namespace: &str, selector: &Map<String, Value>) -> bool {
        let is_gateway = |labels: &Map<String, Value>| {
            labels.get("istio").and_then(Value::as_str).is_some_and(|v| v.ends_with("gateway"))
        };
        is_gateway(selector)
            || self.selected_pods(namespace, selector).any(|(labels, spec)| {
                labels.is_some_and(is_gateway)
                    || spec.get("containers").and_then(Value::as_array).into_iter().flatten().any(|c| {
                        c.get("args")
                            .and_then(Value::as_array)
                            .is_some_and(|args| args.iter().any(|a| a.as_str() == Some("router")))
                    })
            })
    }

    /// Resolves one Service port to workload ports. Also returns, for a named targetPort, whether
    /// some selected container uses one of the numbers under another name (a sign of confusion).
    fn resolve_port(
        &self,
        service: &Value,
        port: &Value,
        app_protocol_honoured: bool,
    ) -> Result<(ResolvedPort, bool), PortError> {
        let namespace = text(service, "/metadata/namespace");
        let number = port.get("port").and_then(Value::as_i64).unwrap_or(0);
        let name = text(port, "/name");
        let http = is_http(port, app_protocol_honoured);
        let (workload_ports, renamed) = match port.get("targetPort") {
            None | Some(Value::Null) => (vec![number], false),
            Some(Value::Number(n)) => (vec![n.as_i64().unwrap_or(number)], false),
            Some(Value::String(s)) => match s.parse::<i64>() {
                Ok(n) => (vec![n], false),
                Err(_) => {
                    let empty = Map::new();
                    let selector =
                        service.pointer("/spec/selector").and_then(Value::as_object).unwrap_or(&empty);
                    let mut numbers = BTreeSet::new();
                    let mut by_other_name = BTreeSet::new();
                    for (_, spec) in self.selected_pods(&namespace, selector) {
                        for container_port in spec
                            .get("containers")
                            .and_then(Value::as_array)
                            .into_iter()
                            .flatten()
                            .filter_map(|c| c.get("ports").and_then(Value::as_array))
                            .flatten()
                        {
                            let Some(n) = container_port.get("containerPort").and_then(Value::as_i64) else {
                                continue;
                            };
                            if str_of(container_port, "/name") == *s {
                                numbers.insert(n);
                            } else {
                                by_other_name.insert(n);
                            }
                        }
                    }
                    if numbers.is_empty() {
                        return Err(PortError::NamedUnresolved(s.clone()));
                    }
                    let renamed = numbers.iter().any(|n| by_other_name.contains(n));
                    (numbers.into_iter().collect(), renamed)
                }
            },
            Some(_) => (vec![number], false),
        };
        Ok((ResolvedPort { service_port: number, name, workload_ports, http }, renamed))
    }

    /// Resolves a port selector (`{number}` or `{name}`) of a policy target against the Service.
    /// The boolean is true when a named targetPort is ambiguous (several numbers, or a number also
    /// used under another name).
    pub fn resolve_selector(
        &self,
        service: &Value,
        selector: &Value,
        app_protocol_honoured: bool,
    ) -> Result<(ResolvedPort, bool), PortError> {
        let ports =
            service.pointer("/spec/ports").and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[]);
        let wanted_number = selector.get("number").and_then(Value::as_i64);
        let wanted_name = selector.get("name").and_then(Value::as_str);
        let found = ports.iter().find(|p| match (wanted_number, wanted_name) {
            (Some(n), _) => p.get("port").and_then(Value::as_i64) == Some(n),
            (None, Some(name)) => str_of(p, "/name") == name,
            (None, None) => false,
        });
        let Some(port) = found else {
            let what = wanted_number.map(|n| n.to_string()).or(wanted_name.map(str::to_string));
            return Err(PortError::NotFound(what.unwrap_or_else(|| selector.to_string())));
        };
        let (resolved, renamed) = self.resolve_port(service, port, app_protocol_honoured)?;
        let ambiguous = renamed || resolved.workload_ports.len() > 1;
        Ok((resolved, ambiguous))
    }

    /// Every port of a Service, resolved; ports that cannot be resolved are left out.
    pub fn all_ports(&self, service: &Value, app_protocol_honoured: bool) -> Vec<ResolvedPort> {
        service
            .pointer("/spec/ports")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|p| self.resolve_port(service, p, app_protocol_honoured).ok().map(|(r, _)| r))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn http_ness_follows_the_port_name_prefix_rules() {
        for (name, http) in [
            ("http", true),
            ("http-web", true),
            ("http2", true),
            ("grpc-web", true),
            ("grpc", true),
            ("https", false),
            ("httpx", false),
            ("tcp-db", false),
            ("", false),
        ] {
            assert_eq!(is_http(&json!({"name": name}), false), http, "{name}");
        }
        assert!(is_http(&json!({"name": "web", "appProtocol": "http"}), true));
        assert!(!is_http(&json!({"name": "web", "appProtocol": "http"}), false), "1.5 ignores appProtocol");
    }

    #[test]
    fn a_named_target_port_with_two_numbers_is_ambiguous() {
        let objects = [
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s", "namespace": "n"},
                   "spec": {"selector": {"app": "s"}, "ports": [{"name": "http", "port": 80, "targetPort": "web"}]}}),
            json!({"kind": "Pod", "metadata": {"name": "a", "namespace": "n", "labels": {"app": "s"}},
                   "spec": {"containers": [{"ports": [{"name": "web", "containerPort": 8080}]}]}}),
            json!({"kind": "Pod", "metadata": {"name": "b", "namespace": "n", "labels": {"app": "s"}},
                   "spec": {"containers": [{"ports": [{"name": "web", "containerPort": 9090}]}]}}),
        ];
        let refs: Vec<&Value> = objects.iter().collect();
        let context = Context::new(&refs);
        let service = context.service("n", "s").unwrap();
        let (port, ambiguous) = context.resolve_selector(service, &json!({"number": 80}), true).unwrap();
        assert_eq!(port.workload_ports, [8080, 9090]);
        assert!(ambiguous);
        assert_eq!(
            context.resolve_selector(service, &json!({"name": "grpc"}), true),
            Err(PortError::NotFound("grpc".to_string()))
        );
    }
}
