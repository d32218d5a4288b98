//! What the API server fills in, so that it is not mistaken for drift. An object read back from a
//! cluster carries fields nobody declared: defaults (`dnsPolicy: ClusterFirst`, `protocol: TCP`),
//! allocated values (`clusterIP`, `nodePort`), copies (`serviceAccount` from `serviceAccountName`,
//! `targetPort` from `port`). A field present in the observed object but absent from the planned one
//! is dropped when [`FILLED`] says the server fills that path of that kind and the value is the one
//! it fills in; a map the plan does not set that held nothing else is dropped with it. Anything else
//! the plan does not set stays, and shows as a difference.
//!
//! Two values of a field the plan does set are also the same when they are the same number
//! (`1` and `1.0`) or, where Kubernetes takes a quantity, the same quantity (`2048Mi` and the `2Gi`
//! the server writes back). And a field the plan sets to `""`, `[]` or `{}` is the same as no field:
//! the server leaves empty optional fields out of what it returns (`env[].value: ""` comes back as
//! no `value`). `false` and `0` are not treated so, as many optional fields keep them.
//!
//! The table was checked against kube-apiserver 1.33 (`tests/diff_live.rs` applies the default
//! profile and reads it back): when the server adds something new, the fix is a row here.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::OnceLock;

use serde_json::{Map, Value};

/// How to recognise the value the server fills in.
#[derive(Debug)]
enum Filled {
    /// This string.
    Text(&'static str),
    /// This integer.
    Number(i64),
    /// This boolean.
    Bool(bool),
    /// `{}`.
    EmptyMap,
    /// This list of strings.
    Texts(&'static [&'static str]),
    /// This map of strings.
    Pairs(&'static [(&'static str, &'static str)]),
    /// Whatever the server or a controller chose (addresses, ports, replicas an autoscaler owns).
    Assigned,
    /// A copy of the sibling field.
    Sibling(&'static str),
    /// The sibling field in lower case.
    SiblingLowercase(&'static str),
    /// The sibling field followed by a suffix.
    SiblingWithSuffix(&'static str, &'static str),
    /// The object's name.
    ObjectName,
    /// `Always` for an image tagged `latest` or not tagged at all, else `IfNotPresent`.
    PullPolicy,
}

const WORKLOADS: &[&str] = &["Deployment", "DaemonSet", "StatefulSet"];
const WEBHOOKS: &[&str] = &["MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"];

/// What the API server fills in: (kinds, path, value). Paths are JSON pointers (`~1` is `/` in a
/// key) where `*` is every list element and `(a|b)` stands for each alternative.
const FILLED: &[(&[&str], &str, Filled)] = &[
    // Deployment, DaemonSet, StatefulSet.
    (&["Deployment", "StatefulSet"], "/spec/replicas", Filled::Assigned),
    (WORKLOADS, "/spec/revisionHistoryLimit", Filled::Number(10)),
    (&["Deployment"], "/spec/progressDeadlineSeconds", Filled::Number(600)),
    (&["Deployment"], "/spec/strategy/type", Filled::Text("RollingUpdate")),
    (&["Deployment"], "/spec/strategy/rollingUpdate/(maxSurge|maxUnavailable)", Filled::Text("25%")),
    (&["DaemonSet", "StatefulSet"], "/spec/updateStrategy/type", Filled::Text("RollingUpdate")),
    (&["DaemonSet"], "/spec/updateStrategy/rollingUpdate/maxUnavailable", Filled::Number(1)),
    (&["DaemonSet"], "/spec/updateStrategy/rollingUpdate/maxSurge", Filled::Number(0)),
    (&["StatefulSet"], "/spec/updateStrategy/rollingUpdate/partition", Filled::Number(0)),
    (&["StatefulSet"], "/spec/podManagementPolicy", Filled::Text("OrderedReady")),
    (
        &["StatefulSet"],
        "/spec/persistentVolumeClaimRetentionPolicy/(whenDeleted|whenScaled)",
        Filled::Text("Retain"),
    ),
    // Their pod templates.
    (WORKLOADS, "/spec/template/spec/dnsPolicy", Filled::Text("ClusterFirst")),
    (WORKLOADS, "/spec/template/spec/restartPolicy", Filled::Text("Always")),
    (WORKLOADS, "/spec/template/spec/schedulerName", Filled::Text("default-scheduler")),
    (WORKLOADS, "/spec/template/spec/securityContext", Filled::EmptyMap),
    (WORKLOADS, "/spec/template/spec/terminationGracePeriodSeconds", Filled::Number(30)),
    (WORKLOADS, "/spec/template/spec/serviceAccount", Filled::Sibling("serviceAccountName")),
    (
        WORKLOADS,
        "/spec/template/spec/volumes/*/(secret|configMap|projected|downwardAPI)/defaultMode",
        Filled::Number(420),
    ),
    (
        WORKLOADS,
        "/spec/template/spec/volumes/*/projected/sources/*/serviceAccountToken/expirationSeconds",
        Filled::Number(3600),
    ),
    (WORKLOADS, "/spec/template/spec/volumes/*/hostPath/type", Filled::Text("")),
    (
        WORKLOADS,
        "/spec/template/spec/volumes/*/(downwardAPI|projected/sources/*/downwardAPI)/items/*/fieldRef/apiVersion",
        Filled::Text("v1"),
    ),
    (WORKLOADS, "/spec/template/spec/(containers|initContainers)/*/imagePullPolicy", Filled::PullPolicy),
    (
        WORKLOADS,
        "/spec/template/spec/(containers|initContainers)/*/terminationMessagePath",
        Filled::Text("/dev/termination-log"),
    ),
    (
        WORKLOADS,
        "/spec/template/spec/(containers|initContainers)/*/terminationMessagePolicy",
        Filled::Text("File"),
    ),
    (WORKLOADS, "/spec/template/spec/(containers|initContainers)/*/resources", Filled::EmptyMap),
    (WORKLOADS, "/spec/template/spec/(containers|initContainers)/*/ports/*/protocol", Filled::Text("TCP")),
    (
        WORKLOADS,
        "/spec/template/spec/(containers|initContainers)/*/env/*/valueFrom/fieldRef/apiVersion",
        Filled::Text("v1"),
    ),
    (
        WORKLOADS,
        "/spec/template/spec/(containers|initContainers)/*/env/*/valueFrom/resourceFieldRef/divisor",
        Filled::Text("0"),
    ),
    (
        WORKLOADS,
        "/spec/template/spec/(containers|initContainers)/*/(livenessProbe|readinessProbe|startupProbe)/timeoutSeconds",
        Filled::Number(1),
    ),
    (
        WORKLOADS,
        "/spec/template/spec/(containers|initContainers)/*/(livenessProbe|readinessProbe|startupProbe)/periodSeconds",
        Filled::Number(10),
    ),
    (
        WORKLOADS,
        "/spec/template/spec/(containers|initContainers)/*/(livenessProbe|readinessProbe|startupProbe)/successThreshold",
        Filled::Number(1),
    ),
    (
        WORKLOADS,
        "/spec/template/spec/(containers|initContainers)/*/(livenessProbe|readinessProbe|startupProbe)/failureThreshold",
        Filled::Number(3),
    ),
    (
        WORKLOADS,
        "/spec/template/spec/(containers|initContainers)/*/(livenessProbe|readinessProbe|startupProbe|lifecycle/postStart|lifecycle/preStop)/httpGet/scheme",
        Filled::Text("HTTP"),
    ),
    (
        WORKLOADS,
        "/spec/template/spec/(containers|initContainers)/*/(livenessProbe|readinessProbe|startupProbe|lifecycle/postStart|lifecycle/preStop)/httpGet/path",
        Filled::Text("/"),
    ),
    // Service.
    (&["Service"], "/spec/type", Filled::Text("ClusterIP")),
    (&["Service"], "/spec/sessionAffinity", Filled::Text("None")),
    (&["Service"], "/spec/sessionAffinityConfig/clientIP/timeoutSeconds", Filled::Number(10800)),
    (
        &["Service"],
        "/spec/(clusterIP|clusterIPs|ipFamilies|ipFamilyPolicy|healthCheckNodePort)",
        Filled::Assigned,
    ),
    (&["Service"], "/spec/(internalTrafficPolicy|externalTrafficPolicy)", Filled::Text("Cluster")),
    (&["Service"], "/spec/allocateLoadBalancerNodePorts", Filled::Bool(true)),
    (&["Service"], "/spec/ports/*/protocol", Filled::Text("TCP")),
    (&["Service"], "/spec/ports/*/targetPort", Filled::Sibling("port")),
    (&["Service"], "/spec/ports/*/nodePort", Filled::Assigned),
    // Webhook configurations (sideEffects and admissionReviewVersions had defaults in v1beta1).
    (WEBHOOKS, "/webhooks/*/matchPolicy", Filled::Text("Equivalent")),
    (WEBHOOKS, "/webhooks/*/(namespaceSelector|objectSelector)", Filled::EmptyMap),
    (WEBHOOKS, "/webhooks/*/timeoutSeconds", Filled::Number(10)),
    (WEBHOOKS, "/webhooks/*/sideEffects", Filled::Text("Unknown")),
    (WEBHOOKS, "/webhooks/*/admissionReviewVersions", Filled::Texts(&["v1beta1"])),
    (WEBHOOKS, "/webhooks/*/rules/*/scope", Filled::Text("*")),
    (WEBHOOKS, "/webhooks/*/clientConfig/service/port", Filled::Number(443)),
    (&["MutatingWebhookConfiguration"], "/webhooks/*/reinvocationPolicy", Filled::Text("Never")),
    // CustomResourceDefinition.
    (&["CustomResourceDefinition"], "/spec/conversion", Filled::Pairs(&[("strategy", "None")])),
    (&["CustomResourceDefinition"], "/spec/conversion/strategy", Filled::Text("None")),
    (&["CustomResourceDefinition"], "/spec/names/singular", Filled::SiblingLowercase("kind")),
    (&["CustomResourceDefinition"], "/spec/names/listKind", Filled::SiblingWithSuffix("kind", "List")),
    // Others.
    (&["HorizontalPodAutoscaler"], "/spec/minReplicas", Filled::Number(1)),
    (&["Secret"], "/type", Filled::Text("Opaque")),
    (&["Namespace"], "/spec/finalizers", Filled::Texts(&["kubernetes"])),
    (&["Namespace"], "/metadata/labels/kubernetes.io~1metadata.name", Filled::ObjectName),
];

/// Where values are Kubernetes quantities: maps whose every value is one, and single fields.
const QUANTITY_MAPS: &[&str] = &["/resources/limits", "/resources/requests", "/spec/hard"];
const QUANTITY_FIELDS: &[&str] =
    &["/emptyDir/sizeLimit", "/resourceFieldRef/divisor", "/target/averageValue", "/target/value"];

type Rules = HashMap<String, &'static Filled>;

/// [`FILLED`] by kind, with every path pattern expanded.
fn rules() -> &'static HashMap<&'static str, Rules> {
    static RULES: OnceLock<HashMap<&'static str, Rules>> = OnceLock::new();
    RULES.get_or_init(|| {
        let mut rules: HashMap<&'static str, Rules> = HashMap::new();
        for (kinds, pattern, filled) in FILLED {
            for path in expand(pattern) {
                for kind in *kinds {
                    rules.entry(kind).or_default().insert(path.clone(), filled);
                }
            }
        }
        rules
    })
}

/// `/a/(b|c)/d` → `/a/b/d`, `/a/c/d`.
fn expand(pattern: &str) -> Vec<String> {
    match (pattern.find('('), pattern.find(')')) {
        (Some(open), Some(close)) if open < close => {
            let (head, tail) = (&pattern[..open], &pattern[close + 1..]);
            pattern[open + 1..close]
                .split('|')
                .flat_map(|alt| expand(&format!("{head}{alt}{tail}")))
                .collect()
        }
        _ => vec![pattern.to_string()],
    }
}

impl Filled {
    fn matches(&self, value: &Value, siblings: &Map<String, Value>, object_name: &str) -> bool {
        let sibling = |key: &str| siblings.get(key).and_then(Value::as_str);
        match self {
            Filled::Text(text) => value.as_str() == Some(text),
            Filled::Number(number) => value.as_i64() == Some(*number),
            Filled::Bool(flag) => value.as_bool() == Some(*flag),
            Filled::EmptyMap => value.as_object().is_some_and(Map::is_empty),
            Filled::Texts(texts) => value.as_array().is_some_and(|items| {
                items.len() == texts.len() && items.iter().zip(*texts).all(|(i, t)| i == t)
            }),
            Filled::Pairs(pairs) => value.as_object().is_some_and(|map| {
                map.len() == pairs.len()
                    && pairs.iter().all(|(k, v)| map.get(*k).and_then(Value::as_str) == Some(v))
            }),
            Filled::Assigned => true,
            Filled::Sibling(key) => siblings.get(*key) == Some(value),
            Filled::SiblingLowercase(key) => {
                sibling(key).is_some_and(|s| value.as_str() == Some(s.to_lowercase().as_str()))
            }
            Filled::SiblingWithSuffix(key, suffix) => {
                sibling(key).is_some_and(|s| value.as_str() == Some(format!("{s}{suffix}").as_str()))
            }
            Filled::ObjectName => value.as_str() == Some(object_name),
            Filled::PullPolicy => value.as_str() == Some(pull_policy(sibling("image").unwrap_or(""))),
        }
    }
}

/// The pull policy the API server gives a container without one, from its image reference.
fn pull_policy(image: &str) -> &'static str {
    let (name, digest) = match image.split_once('@') {
        Some((name, _)) => (name, true),
        None => (image, false),
    };
    let last = name.rsplit('/').next().unwrap_or(name);
    match last.rsplit_once(':') {
        Some((_, "latest")) => "Always",
        Some(_) => "IfNotPresent",
        None if digest => "IfNotPresent",
        None => "Always",
    }
}

/// A quantity (`500m`, `2Gi`, `1e3`, `1.5`) in billionths, when it is exact at that precision.
fn quantity(value: &Value) -> Option<i128> {
    let text = match value {
        Value::String(text) => Cow::Borrowed(text.as_str()),
        Value::Number(number) => Cow::Owned(number.to_string()),
        _ => return None,
    };
    let (sign, rest) = match text.strip_prefix('-') {
        Some(rest) => (-1, rest),
        None => (1, text.strip_prefix('+').unwrap_or(&text)),
    };
    let end = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
    let (number, suffix) = rest.split_at(end);
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    let digits = format!("{whole}{fraction}");
    if digits.is_empty() || digits.len() > 30 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut exponent = 9 - i32::try_from(fraction.len()).ok()?;
    let mut factor: i128 = 1;
    match suffix {
        "" => {}
        "n" => exponent -= 9,
        "u" => exponent -= 6,
        "m" => exponent -= 3,
        "k" => exponent += 3,
        "M" => exponent += 6,
        "G" => exponent += 9,
        "T" => exponent += 12,
        "P" => exponent += 15,
        "E" => exponent += 18,
        "Ki" => factor = 1 << 10,
        "Mi" => factor = 1 << 20,
        "Gi" => factor = 1 << 30,
        "Ti" => factor = 1 << 40,
        "Pi" => factor = 1 << 50,
        "Ei" => factor = 1 << 60,
        other => exponent += other.strip_prefix(['e', 'E'])?.parse::<i32>().ok()?,
    }
    let value = digits.parse::<i128>().ok()?.checked_mul(factor)?;
    let scaled = if exponent >= 0 {
        value.checked_mul(10_i128.checked_pow(u32::try_from(exponent).ok()?)?)?
    } else {
        let divisor = 10_i128.checked_pow(u32::try_from(-exponent).ok()?)?;
        if value % divisor != 0 {
            return None;
        }
        value / divisor
    };
    Some(sign * scaled)
}

/// Removes from `observed` what the API server filled in and `desired` does not set, and gives
/// equivalent values (numbers, quantities) the planned spelling, so that what is left differs
/// from `desired` only where the plan changes something. Key order is kept.
pub(super) fn strip(observed: &mut Value, desired: &Value) {
    let kind = desired.get("kind").and_then(Value::as_str).unwrap_or("");
    let name = desired.get("metadata").and_then(|m| m.get("name")).and_then(Value::as_str).unwrap_or("");
    let mut walk = Walk { rules: rules().get(kind), name, path: String::new() };
    walk.value(observed, Some(desired));
}

/// One walk down an observed object beside its planned version, `path` being where it is.
struct Walk<'a> {
    rules: Option<&'a Rules>,
    name: &'a str,
    path: String,
}

/// A key as a JSON-pointer segment.
fn escape(key: &str) -> Cow<'_, str> {
    if key.contains(['~', '/']) {
        Cow::Owned(key.replace('~', "~0").replace('/', "~1"))
    } else {
        Cow::Borrowed(key)
    }
}

fn is_empty_map(value: &Value) -> bool {
    value.as_object().is_some_and(Map::is_empty)
}

/// `""`, `[]` or `{}`: what Kubernetes leaves out of an object it returns.
fn is_empty_value(value: &Value) -> bool {
    match value {
        Value::String(text) => text.is_empty(),
        Value::Array(items) => items.is_empty(),
        Value::Object(map) => map.is_empty(),
        _ => false,
    }
}

impl Walk<'_> {
    fn enter(&mut self, segment: &str) -> usize {
        let length = self.path.len();
        self.path.push('/');
        self.path.push_str(&escape(segment));
        length
    }

    fn value(&mut self, observed: &mut Value, desired: Option<&Value>) {
        match (observed, desired) {
            (Value::Object(observed), Some(Value::Object(desired))) => self.map(observed, Some(desired)),
            (Value::Object(observed), None) => self.map(observed, None),
            (Value::Array(observed), desired) => {
                let partners =
                    partners(observed, desired.and_then(Value::as_array).map_or(&[], Vec::as_slice));
                for (item, partner) in observed.iter_mut().zip(partners) {
                    let back = self.enter("*");
                    self.value(item, partner);
                    self.path.truncate(back);
                }
            }
            (leaf, Some(desired)) if leaf != desired && self.equivalent(leaf, desired) => {
                *leaf = desired.clone()
            }
            _ => {}
        }
    }

    fn map(&mut self, observed: &mut Map<String, Value>, desired: Option<&Map<String, Value>>) {
        if let Some(rules) = self.rules {
            let mut filled = Vec::new();
            for (key, value) in observed.iter() {
                if desired.is_some_and(|d| d.contains_key(key)) {
                    continue;
                }
                let back = self.enter(key);
                if rules.get(&self.path).is_some_and(|f| f.matches(value, observed, self.name)) {
                    filled.push(key.clone());
                }
                self.path.truncate(back);
            }
            for key in filled {
                observed.shift_remove(&key);
            }
        }
        let mut emptied = Vec::new();
        for (key, value) in observed.iter_mut() {
            let partner = desired.and_then(|d| d.get(key));
            let had_fields = value.as_object().is_some_and(|m| !m.is_empty());
            let back = self.enter(key);
            self.value(value, partner);
            self.path.truncate(back);
            if partner.is_none() && had_fields && is_empty_map(value) {
                emptied.push(key.clone());
            }
        }
        for key in emptied {
            observed.shift_remove(&key);
        }
        // The server does not write empty optional fields back (`env[].value: ""`).
        let Some(desired) = desired else { return };
        let mut added = false;
        for (key, value) in desired {
            if is_empty_value(value) && !observed.contains_key(key) {
                observed.insert(key.clone(), value.clone());
                added = true;
            }
        }
        if added {
            observed.sort_keys();
        }
    }

    /// Different spellings of one value: the same number, or the same quantity where Kubernetes
    /// takes one.
    fn equivalent(&self, observed: &Value, desired: &Value) -> bool {
        if observed.is_number() && desired.is_number() {
            return observed.as_f64() == desired.as_f64();
        }
        let parent = self.path.rsplit_once('/').map_or("", |(parent, _)| parent);
        let is_quantity = QUANTITY_MAPS.iter().any(|m| parent.ends_with(m))
            || QUANTITY_FIELDS.iter().any(|f| self.path.ends_with(f));
        is_quantity && quantity(observed).is_some_and(|q| Some(q) == quantity(desired))
    }
}

/// The planned element each observed list element is compared with: the one of the same `name`
/// when every element has one, else the one at the same position.
fn partners<'d>(observed: &[Value], desired: &'d [Value]) -> Vec<Option<&'d Value>> {
    fn name(v: &Value) -> Option<&str> {
        v.get("name").and_then(Value::as_str)
    }
    if desired.is_empty() || !observed.iter().chain(desired).all(|v| name(v).is_some()) {
        return (0..observed.len()).map(|i| desired.get(i)).collect();
    }
    if desired.len() <= 16 {
        return observed.iter().map(|o| desired.iter().find(|d| name(d) == name(o))).collect();
    }
    let by_name: HashMap<&str, &Value> = desired.iter().filter_map(|d| Some((name(d)?, d))).collect();
    observed.iter().map(|o| name(o).and_then(|n| by_name.get(n).copied())).collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn stripped(mut observed: Value, desired: &Value) -> Value {
        strip(&mut observed, desired);
        observed
    }

    #[test]
    fn patterns_expand_every_alternative() {
        assert_eq!(expand("/a/(b|c)/d/(e|f)"), ["/a/b/d/e", "/a/b/d/f", "/a/c/d/e", "/a/c/d/f"]);
        assert_eq!(expand("/plain"), ["/plain"]);
        for (kinds, pattern, _) in FILLED {
            assert!(!kinds.is_empty() && pattern.starts_with('/'), "{pattern}");
            for path in expand(pattern) {
                assert!(!path.contains(['(', ')', '|']), "{path}");
            }
        }
    }

    #[test]
    fn quantities_compare_by_value() {
        let q = |t: Value| quantity(&t);
        assert_eq!(q(json!("2048Mi")), q(json!("2Gi")));
        assert_eq!(q(json!("1000m")), q(json!(1)));
        assert_eq!(q(json!("0.5")), q(json!("500m")));
        assert_eq!(q(json!(0.5)), q(json!("500m")));
        assert_eq!(q(json!("1e3")), q(json!("1k")));
        assert_eq!(q(json!("-1")), Some(-1_000_000_000));
        assert_ne!(q(json!("1G")), q(json!("1Gi")));
        assert_eq!(q(json!("1.5n")), None, "finer than a billionth: compared as written");
        assert_eq!(q(json!("lots")), None);
        assert_eq!(q(json!("12Qi")), None);
    }

    #[test]
    fn pull_policy_follows_the_tag() {
        assert_eq!(pull_policy("docker.io/istio/pilot:1.31.1"), "IfNotPresent");
        assert_eq!(pull_policy("istio/pilot:latest"), "Always");
        assert_eq!(pull_policy("istio/pilot"), "Always");
        assert_eq!(pull_policy("localhost:5000/pilot"), "Always");
        assert_eq!(pull_policy("istio/pilot@sha256:abc"), "IfNotPresent");
    }

    #[test]
    fn filled_fields_go_only_where_the_plan_does_not_set_them() {
        let desired = json!({"kind": "Service", "metadata": {"name": "s"},
            "spec": {"type": "LoadBalancer", "ports": [{"name": "http", "port": 80, "targetPort": 8080}, {"name": "tcp", "port": 31400}]}});
        let observed = json!({"kind": "Service", "metadata": {"name": "s"},
            "spec": {"type": "LoadBalancer", "clusterIP": "10.96.0.7", "clusterIPs": ["10.96.0.7"], "sessionAffinity": "None",
                "externalTrafficPolicy": "Cluster", "allocateLoadBalancerNodePorts": true,
                "ports": [{"name": "tcp", "port": 31400, "protocol": "TCP", "targetPort": 31400, "nodePort": 30001},
                    {"name": "http", "port": 80, "protocol": "TCP", "targetPort": 8080, "nodePort": 30002}]}});
        assert_eq!(
            stripped(observed, &desired),
            json!({"kind": "Service", "metadata": {"name": "s"}, "spec": {"type": "LoadBalancer",
                "ports": [{"name": "tcp", "port": 31400}, {"name": "http", "port": 80, "targetPort": 8080}]}}),
            "ports are paired by name, wherever they are in the list"
        );
        // A value that is not the default, or a default the plan sets to something else, stays.
        let desired = json!({"kind": "Service", "metadata": {"name": "s"}, "spec": {"ports": [{"name": "a", "port": 80}]}});
        let observed = json!({"kind": "Service", "metadata": {"name": "s"}, "spec": {"sessionAffinity": "ClientIP",
            "ports": [{"name": "a", "port": 80, "targetPort": 8080, "protocol": "UDP"}]}});
        assert_eq!(stripped(observed.clone(), &desired), observed);
    }

    #[test]
    fn maps_that_held_only_defaults_go_and_empty_maps_only_when_listed() {
        let desired = json!({"kind": "Deployment", "metadata": {"name": "d"}, "spec": {"template": {"spec": {"containers": []}}}});
        let observed = json!({"kind": "Deployment", "metadata": {"name": "d"}, "spec": {
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
            "template": {"spec": {"containers": [], "securityContext": {}, "affinity": {}}}}});
        assert_eq!(
            stripped(observed, &desired),
            json!({"kind": "Deployment", "metadata": {"name": "d"}, "spec": {"template": {"spec": {"containers": [], "affinity": {}}}}})
        );
        let partly = json!({"kind": "Deployment", "metadata": {"name": "d"}, "spec": {"strategy": {"type": "Recreate"}}});
        assert_eq!(stripped(partly.clone(), &desired)["spec"]["strategy"], json!({"type": "Recreate"}));
    }

    #[test]
    fn computed_defaults_follow_their_siblings_and_the_object() {
        let crd = |names: Value| json!({"kind": "CustomResourceDefinition", "metadata": {"name": "gateways.networking.istio.io"}, "spec": {"names": names}});
        let desired = crd(json!({"kind": "Gateway", "plural": "gateways"}));
        let observed = crd(
            json!({"kind": "Gateway", "plural": "gateways", "singular": "gateway", "listKind": "GatewayList"}),
        );
        assert_eq!(stripped(observed, &desired), desired);
        let odd =
            crd(json!({"kind": "Gateway", "plural": "gateways", "singular": "gw", "listKind": "Gateways"}));
        assert_eq!(stripped(odd.clone(), &desired), odd);
        let namespace =
            |labels: Value| json!({"kind": "Namespace", "metadata": {"name": "prod", "labels": labels}});
        let desired = namespace(json!({"istio-injection": "enabled"}));
        let observed = json!({"kind": "Namespace", "metadata": {"name": "prod",
            "labels": {"istio-injection": "enabled", "kubernetes.io/metadata.name": "prod"}}, "spec": {"finalizers": ["kubernetes"]}});
        assert_eq!(stripped(observed, &desired), desired);
    }

    #[test]
    fn empty_values_the_server_leaves_out_are_the_same_as_absent_ones() {
        let desired = json!({"kind": "Deployment", "metadata": {"name": "d"}, "spec": {"template": {"spec": {
            "containers": [{"name": "c", "image": "x:1", "args": [], "env": [{"name": "A", "value": ""}, {"name": "B", "value": false}]}]}}}});
        let observed = json!({"kind": "Deployment", "metadata": {"name": "d"}, "spec": {"template": {"spec": {
            "containers": [{"name": "c", "image": "x:1", "env": [{"name": "A"}, {"name": "B"}]}]}}}});
        let expected = json!({"kind": "Deployment", "metadata": {"name": "d"}, "spec": {"template": {"spec": {
            "containers": [{"args": [], "env": [{"name": "A", "value": ""}, {"name": "B"}], "image": "x:1", "name": "c"}]}}}});
        assert_eq!(stripped(observed, &desired), expected);
    }

    #[test]
    fn numbers_and_quantities_in_other_spellings_are_the_same() {
        let deployment = |resources: Value, grace: Value| {
            json!({"kind": "Deployment", "metadata": {"name": "d"},
            "spec": {"template": {"spec": {"terminationGracePeriodSeconds": grace, "containers": [{"name": "c", "image": "x:1", "resources": resources}]}}}})
        };
        let desired = deployment(json!({"requests": {"memory": "2048Mi", "cpu": 0.5}}), json!(45.0));
        let observed = deployment(json!({"requests": {"memory": "2Gi", "cpu": "500m"}}), json!(45));
        assert_eq!(stripped(observed, &desired), desired);
        // Outside quantity fields, strings are compared as written.
        let labelled = |v: &str| json!({"kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"size": v}});
        assert_eq!(stripped(labelled("2Gi"), &labelled("2048Mi")), labelled("2Gi"));
    }
}
