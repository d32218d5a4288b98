//! Health gates (ARCHITECTURE.md §5): after a step's actions, each of its gates must pass before the
//! next step starts, or the step is undone. A gate reads the cluster, decides from what it read with a
//! pure function (tested on fixed objects below), and while the answer is "not yet" waits for the
//! next change a watch reports (with a slow fallback tick), until the gate's timeout.
//!
//! The verdict is pass, fail, or no-data. No-data is what a metric gate sees when there is nothing to
//! measure (no Prometheus, no traffic); treating it as success is the classic way metric gates wave
//! bad upgrades through, so it fails unless the gate's `noData` policy says `pass`. Gates that need a
//! running Istio or Prometheus check what the cluster itself shows and otherwise answer no-data,
//! never a silent pass.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use futures::stream::BoxStream;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::kinds;
use super::probe;
use crate::cluster::{Cluster, ClusterError, ObjectRef, Resource, WatchEvent};
use crate::collect::{CollectOptions, observe_configuration};
use crate::inventory::{lookup, str_of};
use crate::plan::model::{GATE_NAMES, Gate, Plan};

/// How long a gate waits for a watch event before looking again anyway.
const FALLBACK_TICK: Duration = Duration::from_secs(10);
/// After a watch event, how long further events are gathered before looking again.
const DEBOUNCE: Duration = Duration::from_millis(300);
/// How long one probe of an address may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(10);

/// The final answer of a gate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// It holds.
    Pass,
    /// It does not hold.
    Fail,
    /// There was nothing to decide from; the gate's `noData` policy decides.
    NoData,
}

/// A gate's outcome: the verdict, why, and whether the step may go on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GateOutcome {
    /// The gate's name.
    pub name: String,
    /// The verdict.
    pub verdict: Verdict,
    /// What was seen.
    pub message: String,
    /// Whether the step may go on (a pass, or no-data with policy `pass`).
    pub passed: bool,
}

/// What a rehearsal changes about gate verdicts; a real apply uses the default, which changes
/// nothing. A gate can be made to fail (to show a step's undo path), and no-data can be accepted
/// where the simulation has nothing to measure (no traffic, no Prometheus). Either way the gate is
/// still evaluated, and its outcome says what it saw and what was overridden.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    /// This gate fails wherever it is evaluated.
    pub fail: Option<String>,
    /// No-data verdicts let the step go on, with this reason added to their message.
    pub accept_no_data: Option<String>,
}

impl Overrides {
    /// `outcome` as the overrides change it.
    pub fn apply(&self, outcome: GateOutcome) -> GateOutcome {
        if self.fail.as_deref() == Some(outcome.name.as_str()) {
            let seen = match outcome.verdict {
                Verdict::Pass => "pass",
                Verdict::Fail => "fail",
                Verdict::NoData => "no data",
            };
            return GateOutcome {
                verdict: Verdict::Fail,
                message: format!(
                    "failed on purpose (fault injected); the gate itself saw {seen}: {}",
                    outcome.message
                ),
                passed: false,
                ..outcome
            };
        }
        match &self.accept_no_data {
            Some(reason) if outcome.verdict == Verdict::NoData && !outcome.passed => GateOutcome {
                message: format!("{}; accepted: {reason}", outcome.message),
                passed: true,
                ..outcome
            },
            _ => outcome,
        }
    }
}

/// One look at the cluster: decided, or not yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Check {
    /// It holds.
    Pass(String),
    /// Not yet; look again when something changes.
    Wait(String),
    /// It does not hold and will not by waiting.
    Fail(String),
    /// Nothing to decide from.
    NoData(String),
}

/// An object a step applied, with the generation the server gave it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Applied {
    /// The object.
    pub object: ObjectRef,
    /// `metadata.generation` as stored, when the kind has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generation: Option<i64>,
}

/// What a gate may need to know besides the cluster.
#[derive(Clone, Copy)]
pub struct GateContext<'a> {
    /// The plan being applied.
    pub plan: &'a Plan,
    /// The control-plane namespace (mesh config, root CA, lock, journal).
    pub namespace: &'a str,
    /// The apply lock's Lease name and our holder identity.
    pub lease: (&'a str, &'a str),
    /// The root CA digest recorded when the apply started.
    pub root_ca_digest: Option<&'a str>,
    /// What the current step applied.
    pub applied: &'a [Applied],
    /// Objects of our own (journal, backups, a namespace we created) left out of staleness checks.
    pub own_objects: &'a (dyn Fn(&Value) -> bool + Sync),
    /// The longest any gate may wait (`--timeout`), if set.
    pub timeout_cap: Option<Duration>,
}

/// Checks, before anything runs, that a gate can be evaluated: a known name, a valid timeout and
/// `noData` policy.
pub fn validate(gate: &Gate) -> Result<(), String> {
    if !GATE_NAMES.contains(&gate.name.as_str()) {
        return Err(format!("unknown gate {:?} (known: {})", gate.name, GATE_NAMES.join(", ")));
    }
    parse_duration(&gate.timeout).map_err(|e| format!("gate {}: timeout {e}", gate.name))?;
    match gate.no_data.as_deref() {
        None | Some("pass" | "fail") => Ok(()),
        Some(other) => Err(format!("gate {}: noData is {other:?}, not pass or fail", gate.name)),
    }
}

/// Parses a duration like `500ms`, `30s`, `5m`, `2h` or `1m30s`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let invalid = || format!("{text:?} is not a duration (use e.g. 30s, 5m, 1h, 1m30s)");
    let text = text.trim();
    if text.is_empty() {
        return Err(invalid());
    }
    let mut total = Duration::ZERO;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
        if digits == 0 {
            return Err(invalid());
        }
        let number: u64 = rest[..digits].parse().map_err(|_| invalid())?;
        rest = &rest[digits..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit()).unwrap_or(rest.len());
        let unit = match &rest[..unit_len] {
            "ms" => Duration::from_millis(number),
            "s" => Duration::from_secs(number),
            "m" => Duration::from_secs(number * 60),
            "h" => Duration::from_secs(number * 3600),
            _ => return Err(invalid()),
        };
        total += unit;
        rest = &rest[unit_len..];
    }
    Ok(total)
}

/// Evaluates `gate`: looks, and while the answer is "not yet", waits for a change and looks again,
/// until the gate's timeout (capped by `--timeout`).
pub async fn evaluate<C: Cluster>(cluster: &C, gate: &Gate, context: &GateContext<'_>) -> GateOutcome {
    let outcome = |verdict: Verdict, message: String| {
        let passed = match verdict {
            Verdict::Pass => true,
            Verdict::Fail => false,
            Verdict::NoData => gate.no_data.as_deref() == Some("pass"),
        };
        let message = match verdict {
            Verdict::NoData if passed => format!("{message} (no data; the gate's noData policy is pass)"),
            Verdict::NoData => {
                format!("{message} (no data counts as a failure unless the gate sets noData: pass)")
            }
            _ => message,
        };
        GateOutcome { name: gate.name.clone(), verdict, message, passed }
    };
    let mut timeout = match parse_duration(&gate.timeout) {
        Ok(timeout) => timeout,
        Err(e) => return outcome(Verdict::Fail, format!("the gate's timeout {e}")),
    };
    if let Some(cap) = context.timeout_cap {
        timeout = timeout.min(cap);
    }
    let deadline = tokio::time::Instant::now() + timeout;
    let mut memory = Memory::default();
    let mut events: Option<BoxStream<'static, Result<WatchEvent, ClusterError>>> = None;
    loop {
        let remaining = deadline.saturating_duration_since(tokio::time::Instant::now());
        let check = match tokio::time::timeout(remaining, look(cluster, gate, context, &mut memory)).await {
            Ok(Ok(check)) => check,
            Ok(Err(e)) => Check::Wait(format!("cannot read the cluster: {e}")),
            Err(_) => Check::Wait("the cluster did not answer in time".to_string()),
        };
        match check {
            Check::Pass(message) => return outcome(Verdict::Pass, message),
            Check::Fail(message) => return outcome(Verdict::Fail, message),
            Check::NoData(message) => return outcome(Verdict::NoData, message),
            Check::Wait(reason) => {
                if tokio::time::Instant::now() >= deadline {
                    return outcome(
                        Verdict::Fail,
                        format!("not met within {}: {reason}", timeout_text(gate, timeout)),
                    );
                }
            }
        }
        if events.is_none() {
            let streams: Vec<_> = watch_targets(gate, context)
                .into_iter()
                .map(|(resource, namespace)| cluster.watch(&resource, namespace.as_deref(), None))
                .collect();
            if !streams.is_empty() {
                events = Some(futures::stream::select_all(streams).boxed());
            }
        }
        let remaining = deadline.saturating_duration_since(tokio::time::Instant::now());
        let wait = remaining.min(FALLBACK_TICK);
        match events.as_mut() {
            Some(stream) => match tokio::time::timeout(wait, stream.next()).await {
                Ok(Some(Ok(_))) => {
                    // Gather what else arrives at once (a rollout changes many objects).
                    let _ = tokio::time::timeout(DEBOUNCE, async {
                        while let Some(Ok(_)) = stream.next().await {}
                    })
                    .await;
                }
                Ok(Some(Err(_)) | None) => {
                    // The watch broke (a dropped connection): look again after a short pause and
                    // watch anew.
                    events = None;
                    tokio::time::sleep(wait.min(Duration::from_secs(1))).await;
                }
                Err(_) => {}
            },
            None => tokio::time::sleep(wait.min(Duration::from_secs(2))).await,
        }
    }
}

/// The timeout as written, or the `--timeout` that capped it.
fn timeout_text(gate: &Gate, effective: Duration) -> String {
    if parse_duration(&gate.timeout).ok() == Some(effective) {
        gate.timeout.clone()
    } else {
        format!("{}s (--timeout)", effective.as_secs_f64())
    }
}

/// What a gate remembers between looks (restart counts seen at its first look).
#[derive(Debug, Default)]
struct Memory {
    restarts: Option<BTreeMap<String, i64>>,
}

fn param<'g>(gate: &'g Gate, name: &str) -> Option<&'g str> {
    gate.params.get(name).map(String::as_str).filter(|v| !v.is_empty())
}

/// `namespaces=a,b` (or `namespace=a`) as a list; empty when neither is set.
fn namespaces(gate: &Gate) -> Vec<String> {
    param(gate, "namespaces")
        .or_else(|| param(gate, "namespace"))
        .map(|list| list.split(',').map(str::trim).filter(|n| !n.is_empty()).map(str::to_string).collect())
        .unwrap_or_default()
}

/// What to watch while waiting on a gate.
fn watch_targets(gate: &Gate, context: &GateContext<'_>) -> Vec<(Resource, Option<String>)> {
    let per_namespace = |resources: Vec<Resource>| -> Vec<(Resource, Option<String>)> {
        let names = namespaces(gate);
        if names.is_empty() {
            resources.into_iter().map(|r| (r, None)).collect()
        } else {
            resources
                .into_iter()
                .flat_map(|r| names.iter().map(move |n| (r.clone(), Some(n.clone()))))
                .collect()
        }
    };
    match gate.name.as_str() {
        "rollout-complete" => match param(gate, "kind").and_then(kinds::workload) {
            Some(resource) => per_namespace(vec![resource]),
            None => per_namespace(kinds::workloads()),
        },
        "pods-ready" | "proxies-converged" => per_namespace(vec![kinds::pod()]),
        "crd-established" => vec![(kinds::crd(), None)],
        "webhook-ready" => per_namespace(vec![kinds::endpoint_slice()]),
        "root-ca-unchanged" => vec![(kinds::secret(), Some(context.namespace.to_string()))],
        _ => Vec::new(),
    }
}

/// One look at the cluster for `gate`.
async fn look<C: Cluster>(
    cluster: &C,
    gate: &Gate,
    context: &GateContext<'_>,
    memory: &mut Memory,
) -> Result<Check, ClusterError> {
    let names = namespaces(gate);
    Ok(match gate.name.as_str() {
        "cluster-reachable" => {
            let version = cluster.server_version().await?;
            Check::Pass(format!("the API server answers (Kubernetes {version})"))
        }
        "no-apply-in-progress" => {
            let (lease, ours) = context.lease;
            let holder = cluster
                .get(&kinds::lease(), Some(context.namespace), lease)
                .await?
                .and_then(|l| lookup(&l, "/spec/holderIdentity").and_then(Value::as_str).map(str::to_string));
            match holder {
                Some(holder) if holder == ours => {
                    Check::Pass(format!("this apply holds the lock {}/{lease}", context.namespace))
                }
                Some(holder) => Check::Fail(format!("the lock {}/{lease} is held by {holder}", context.namespace)),
                None => Check::Fail(format!("the lock {}/{lease} is not held by this apply", context.namespace)),
            }
        }
        "plan-not-stale" => {
            let planned = param(gate, "fingerprint").unwrap_or(&context.plan.spec.fingerprint);
            let found = current_fingerprint(cluster, context.namespace, context.own_objects).await?;
            if found == planned {
                Check::Pass("the cluster is in the state the plan was made from".to_string())
            } else {
                Check::Fail(format!("the cluster has changed since the plan was made ({found}, plan {planned})"))
            }
        }
        "no-blocking-findings" => blocking_check(context.plan, param(gate, "allowErrors") == Some("true")),
        "rollout-complete" => {
            let mut objects = Vec::new();
            let single = match (param(gate, "kind"), param(gate, "name")) {
                (Some(kind), Some(name)) => {
                    let resource = kinds::workload(kind)
                        .ok_or_else(|| unknown_kind(kind))?;
                    let namespace = names.first().map(String::as_str);
                    objects.extend(cluster.get(&resource, namespace, name).await?);
                    Some(format!("{kind} {}/{name}", namespace.unwrap_or_default()))
                }
                _ => {
                    for resource in kinds::workloads() {
                        for namespace in &names {
                            objects.extend(cluster.list(&resource, Some(namespace), None).await?);
                        }
                    }
                    None
                }
            };
            rollout_check(&objects, single.as_deref())
        }
        "pods-ready" => {
            let selector = param(gate, "selector");
            let pods = list_in(cluster, &kinds::pod(), &names, selector).await?;
            let baseline = memory.restarts.get_or_insert_with(|| restart_counts(&pods)).clone();
            pods_check(&pods, &baseline, selector.is_some())
        }
        "proxies-converged" => {
            let pods = list_in(cluster, &kinds::pod(), &names, None).await?;
            let target = match (param(gate, "revision"), param(gate, "version")) {
                (Some(revision), _) => Converge::Revision(revision.to_string()),
                (None, Some(version)) => Converge::Version(version.to_string()),
                (None, None) => return Ok(Check::Fail("the gate names neither a revision nor a version".into())),
            };
            proxies_check(&pods, &target)
        }
        "no-dual-injection-labels" => {
            // The named namespaces one by one (a data-plane batch names a few of thousands), else all.
            let selected = if names.is_empty() {
                cluster.list(&kinds::namespace(), None, None).await?
            } else {
                let mut found = Vec::new();
                for name in &names {
                    found.extend(cluster.get(&kinds::namespace(), None, name).await?);
                }
                found
            };
            dual_labels_check(&selected)
        }
        "crd-established" => {
            let wanted: Vec<&str> =
                param(gate, "crds").map(|l| l.split(',').map(str::trim).filter(|c| !c.is_empty()).collect()).unwrap_or_default();
            let crds = cluster.list(&kinds::crd(), None, None).await?;
            crds_check(&crds, &wanted)
        }
        "webhook-ready" => {
            let service = param(gate, "service").unwrap_or("istiod");
            let namespace = names.first().map_or(context.namespace, String::as_str);
            let selector = format!("kubernetes.io/service-name={service}");
            let slices = cluster.list(&kinds::endpoint_slice(), Some(namespace), Some(&selector)).await?;
            let endpoints = cluster.get(&kinds::endpoints(), Some(namespace), service).await?;
            endpoints_check(&slices, endpoints.as_deref(), &format!("Service {namespace}/{service}"))
        }
        "root-ca-unchanged" => {
            let now = root_ca_digest(cluster, context.namespace).await?;
            root_ca_check(context.root_ca_digest, &now)
        }
        "config-accepted" => config_accepted(cluster, context.applied).await?,
        "policy-checks-off" => {
            let mesh = mesh_config(cluster, context.namespace, param(gate, "revision")).await?;
            policy_checks_check(mesh.as_ref())
        }
        "telemetry-v2-metrics" => match param(gate, "prometheus") {
            Some(url) => {
                let query = param(gate, "query").unwrap_or("sum(istio_requests_total)");
                prometheus_check(url, query, 0.0, ">").await
            }
            None => Check::NoData(
                "telemetry v2 metrics can only be seen in Prometheus, and the gate names none (param prometheus)"
                    .to_string(),
            ),
        },
        "jwks-reachable" => jwks_check(cluster).await?,
        "gateway-tls-handshake" => gateway_tls_check(cluster).await?,
        "authz-tcp-scoped" => authz_check(cluster).await?,
        "prometheus-query" => match (param(gate, "url"), param(gate, "query")) {
            (Some(url), Some(query)) => {
                let threshold = param(gate, "threshold").unwrap_or("0");
                match threshold.parse::<f64>() {
                    Ok(threshold) => {
                        prometheus_check(url, query, threshold, param(gate, "comparison").unwrap_or(">")).await
                    }
                    Err(_) => Check::Fail(format!("threshold {threshold:?} is not a number")),
                }
            }
            _ => Check::Fail("the gate needs params url and query".to_string()),
        },
        "http-probe" => match param(gate, "url") {
            Some(url) => {
                let expect = param(gate, "expect").or_else(|| param(gate, "status")).unwrap_or("200");
                http_probe_check(url, expect).await
            }
            None => Check::Fail("the gate needs param url".to_string()),
        },
        other => Check::Fail(format!("unknown gate {other:?}; this sailplan cannot evaluate it")),
    })
}

fn unknown_kind(kind: &str) -> ClusterError {
    ClusterError::UnknownKind { api_version: "apps/v1".to_string(), kind: kind.to_string() }
}

fn int(object: &Value, pointer: &str) -> Option<i64> {
    lookup(object, pointer).and_then(Value::as_i64)
}

/// The fingerprint of the cluster now, taken as a plan's is (see [`crate::plan::fingerprint`]),
/// leaving out sailplan's own objects (`own`: the journal, the lock, backups), which a running apply
/// adds.
pub async fn current_fingerprint<C: Cluster>(
    cluster: &C,
    namespace: &str,
    own: &(dyn Fn(&Value) -> bool + Sync),
) -> Result<String, ClusterError> {
    let options = CollectOptions { istio_namespace: namespace.to_string() };
    let snapshot = observe_configuration(cluster, &options).await?;
    let objects: Vec<Arc<Value>> = snapshot.objects.into_iter().filter(|o| !own(o)).collect();
    Ok(crate::plan::fingerprint::of(&objects))
}

/// Lists `resource` in each of `namespaces` (or everywhere when empty).
async fn list_in<C: Cluster>(
    cluster: &C,
    resource: &Resource,
    namespaces: &[String],
    selector: Option<&str>,
) -> Result<Vec<Arc<Value>>, ClusterError> {
    if namespaces.is_empty() {
        return cluster.list(resource, None, selector).await;
    }
    let mut out = Vec::new();
    for namespace in namespaces {
        out.extend(cluster.list(resource, Some(namespace), selector).await?);
    }
    Ok(out)
}

fn name_of(object: &Value) -> String {
    let namespace = str_of(object, "/metadata/namespace");
    let name = str_of(object, "/metadata/name");
    let kind = str_of(object, "/kind");
    if namespace.is_empty() { format!("{kind} {name}") } else { format!("{kind} {namespace}/{name}") }
}

/// `no-blocking-findings`: the plan is not blocked by error findings (or was made to allow them).
pub fn blocking_check(plan: &Plan, allow_errors: bool) -> Check {
    let blocking: Vec<&str> =
        plan.spec.findings.iter().filter(|f| f.blocks()).map(|f| f.code.as_str()).collect();
    if !plan.spec.blocked || allow_errors || blocking.is_empty() {
        Check::Pass("no finding blocks the plan".to_string())
    } else {
        Check::Fail(format!("findings block the plan: {}", blocking.join(", ")))
    }
}

/// Whether one workload has rolled out; `Err` says why not, `Ok(Err)` that it never will.
fn workload_state(object: &Value) -> Result<(), (bool, String)> {
    let name = name_of(object);
    let generation = int(object, "/metadata/generation").unwrap_or(0);
    let observed = int(object, "/status/observedGeneration").unwrap_or(0);
    if observed < generation {
        return Err((false, format!("{name}: the controller has not seen generation {generation} yet")));
    }
    let conditions =
        lookup(object, "/status/conditions").and_then(Value::as_array).cloned().unwrap_or_default();
    if conditions
        .iter()
        .any(|c| str_of(c, "/type") == "Progressing" && str_of(c, "/reason") == "ProgressDeadlineExceeded")
    {
        return Err((true, format!("{name}: its progress deadline was exceeded")));
    }
    let status = |field: &str| int(object, &format!("/status/{field}")).unwrap_or(0);
    match str_of(object, "/kind") {
        "DaemonSet" => {
            let desired = status("desiredNumberScheduled");
            let updated = status("updatedNumberScheduled");
            let available = status("numberAvailable");
            if updated < desired || available < desired {
                return Err((
                    false,
                    format!("{name}: {updated} of {desired} updated, {available} available"),
                ));
            }
        }
        _ => {
            let wanted = int(object, "/spec/replicas").unwrap_or(1);
            let updated = status("updatedReplicas");
            let total = status("replicas");
            let available = if str_of(object, "/kind") == "StatefulSet" {
                status("readyReplicas")
            } else {
                status("availableReplicas")
            };
            if updated < wanted || available < wanted || total > wanted {
                return Err((
                    false,
                    format!("{name}: {updated} of {wanted} updated, {available} available, {total} in total"),
                ));
            }
        }
    }
    Ok(())
}

/// `rollout-complete` over workloads: the controller saw the latest generation and every replica is
/// updated and available. `single` names the one workload expected, when the gate names one.
pub fn rollout_check(workloads: &[Arc<Value>], single: Option<&str>) -> Check {
    if let Some(single) = single
        && workloads.is_empty()
    {
        return Check::Wait(format!("{single} does not exist yet"));
    }
    let mut waiting = Vec::new();
    for workload in workloads {
        match workload_state(workload) {
            Ok(()) => {}
            Err((true, reason)) => return Check::Fail(reason),
            Err((false, reason)) => waiting.push(reason),
        }
    }
    if waiting.is_empty() {
        Check::Pass(format!("{} workload(s) rolled out", workloads.len()))
    } else {
        Check::Wait(waiting.join("; "))
    }
}

fn pod_key(pod: &Value) -> String {
    let uid = str_of(pod, "/metadata/uid");
    if uid.is_empty() { name_of(pod) } else { uid.to_string() }
}

fn restarts_of(pod: &Value) -> i64 {
    lookup(pod, "/status/containerStatuses")
        .and_then(Value::as_array)
        .map(|statuses| statuses.iter().filter_map(|s| int(s, "/restartCount")).sum())
        .unwrap_or(0)
}

/// Each pod's total container restarts.
pub fn restart_counts(pods: &[Arc<Value>]) -> BTreeMap<String, i64> {
    pods.iter().map(|p| (pod_key(p), restarts_of(p))).collect()
}

/// `pods-ready`: every running pod is Ready, none crash-loops, and none restarted since the gate
/// first looked (`baseline`). With a selector, no pod at all means "not yet".
pub fn pods_check(pods: &[Arc<Value>], baseline: &BTreeMap<String, i64>, selector: bool) -> Check {
    let live: Vec<&Value> = pods
        .iter()
        .map(Arc::as_ref)
        .filter(|p| lookup(p, "/metadata/deletionTimestamp").is_none())
        .filter(|p| !matches!(str_of(p, "/status/phase"), "Succeeded" | "Failed"))
        .collect();
    if live.is_empty() {
        return if selector {
            Check::Wait("no pod matches yet".to_string())
        } else {
            Check::Pass("no pods to wait for".to_string())
        };
    }
    let mut not_ready = Vec::new();
    for pod in &live {
        let statuses =
            lookup(pod, "/status/containerStatuses").and_then(Value::as_array).cloned().unwrap_or_default();
        if let Some(crashing) =
            statuses.iter().find(|s| str_of(s, "/state/waiting/reason") == "CrashLoopBackOff")
        {
            return Check::Fail(format!(
                "{}: container {} is in CrashLoopBackOff",
                name_of(pod),
                str_of(crashing, "/name")
            ));
        }
        if let Some(before) = baseline.get(&pod_key(pod))
            && restarts_of(pod) > *before
        {
            return Check::Fail(format!(
                "{}: containers restarted {} time(s) while the gate watched",
                name_of(pod),
                restarts_of(pod) - before
            ));
        }
        let ready = pod.pointer("/status/conditions").and_then(Value::as_array).is_some_and(|c| {
            c.iter().any(|c| str_of(c, "/type") == "Ready" && str_of(c, "/status") == "True")
        });
        if !ready {
            not_ready.push(name_of(pod));
        }
    }
    if not_ready.is_empty() {
        Check::Pass(format!("{} pod(s) ready", live.len()))
    } else {
        Check::Wait(format!("not ready: {}", not_ready.join(", ")))
    }
}

/// What proxies must converge on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Converge {
    /// The revision that injected them (`default` for the unrevisioned control plane).
    Revision(String),
    /// The proxy image's version.
    Version(String),
}

/// The revision that injected a pod: the `istio.io/rev` label, else the `revision` in
/// `sidecar.istio.io/status`, else `default`.
fn pod_revision(pod: &Value) -> String {
    let label = str_of(pod, "/metadata/labels/istio.io~1rev");
    if !label.is_empty() {
        return label.to_string();
    }
    let status = str_of(pod, "/metadata/annotations/sidecar.istio.io~1status");
    serde_json::from_str::<Value>(status)
        .ok()
        .and_then(|s| s.get("revision").and_then(Value::as_str).map(str::to_string))
        .filter(|r| !r.is_empty())
        .unwrap_or_else(|| "default".to_string())
}

fn proxy_image(pod: &Value) -> Option<&str> {
    lookup(pod, "/spec/containers")?
        .as_array()?
        .iter()
        .find(|c| str_of(c, "/name") == "istio-proxy")
        .map(|c| str_of(c, "/image"))
}

/// `proxies-converged`: every injected, running pod was injected by the revision (or runs a proxy
/// image of the version).
pub fn proxies_check(pods: &[Arc<Value>], target: &Converge) -> Check {
    let mut behind = Vec::new();
    let mut injected = 0;
    for pod in pods {
        if lookup(pod, "/metadata/deletionTimestamp").is_some()
            || matches!(str_of(pod, "/status/phase"), "Succeeded" | "Failed")
        {
            continue;
        }
        let Some(image) = proxy_image(pod) else { continue };
        injected += 1;
        let ok = match target {
            Converge::Revision(revision) => pod_revision(pod) == *revision,
            Converge::Version(version) => {
                let tag = image.rsplit_once(':').map_or("", |(_, tag)| tag);
                tag == version || tag.starts_with(&format!("{version}-"))
            }
        };
        if !ok {
            behind.push(name_of(pod));
        }
    }
    let what = match target {
        Converge::Revision(r) => format!("revision {r}"),
        Converge::Version(v) => format!("version {v}"),
    };
    if behind.is_empty() {
        Check::Pass(format!("{injected} proxy(ies) on {what}"))
    } else {
        behind.sort();
        let shown: Vec<String> = behind.iter().take(5).cloned().collect();
        Check::Wait(format!("{} proxy(ies) not on {what} yet: {}", behind.len(), shown.join(", ")))
    }
}

/// `no-dual-injection-labels`: no namespace carries both `istio-injection` and `istio.io/rev`
/// (Istio then injects by `istio-injection` and ignores the revision, silently).
pub fn dual_labels_check(namespaces: &[Arc<Value>]) -> Check {
    let dual: Vec<&str> = namespaces
        .iter()
        .filter(|n| {
            let labels = lookup(n, "/metadata/labels");
            labels.and_then(|l| l.get("istio-injection")).is_some()
                && labels.and_then(|l| l.get("istio.io/rev")).is_some()
        })
        .map(|n| str_of(n, "/metadata/name"))
        .collect();
    if dual.is_empty() {
        Check::Pass(format!("{} namespace(s), none with both injection labels", namespaces.len()))
    } else {
        Check::Fail(format!("namespaces with both istio-injection and istio.io/rev: {}", dual.join(", ")))
    }
}

/// `crd-established`: each named CRD exists with condition Established=True.
pub fn crds_check(crds: &[Arc<Value>], wanted: &[&str]) -> Check {
    let mut waiting = Vec::new();
    for name in wanted {
        match crds.iter().find(|c| str_of(c, "/metadata/name") == *name) {
            None => waiting.push(format!("{name} (not found)")),
            Some(crd) => {
                let established =
                    lookup(crd, "/status/conditions").and_then(Value::as_array).is_some_and(|c| {
                        c.iter()
                            .any(|c| str_of(c, "/type") == "Established" && str_of(c, "/status") == "True")
                    });
                if !established {
                    waiting.push(format!("{name} (not established)"));
                }
            }
        }
    }
    if waiting.is_empty() {
        Check::Pass(format!("{} CRD(s) established", wanted.len()))
    } else {
        Check::Wait(waiting.join(", "))
    }
}

/// `webhook-ready`: the Service's EndpointSlices (or, without slices, its Endpoints) list a ready
/// address.
pub fn endpoints_check(slices: &[Arc<Value>], endpoints: Option<&Value>, service: &str) -> Check {
    let from_slices = slices
        .iter()
        .flat_map(|s| s.get("endpoints").and_then(Value::as_array).cloned().unwrap_or_default())
        .filter(|e| lookup(e, "/conditions/ready").and_then(Value::as_bool) != Some(false))
        .count();
    let from_endpoints = endpoints
        .and_then(|e| e.get("subsets"))
        .and_then(Value::as_array)
        .map(|subsets| {
            subsets
                .iter()
                .map(|s| s.get("addresses").and_then(Value::as_array).map_or(0, Vec::len))
                .sum::<usize>()
        })
        .unwrap_or(0);
    let ready = from_slices.max(from_endpoints);
    if ready > 0 {
        Check::Pass(format!("{service} has {ready} ready endpoint(s)"))
    } else {
        Check::Wait(format!("{service} has no ready endpoint yet"))
    }
}

/// The names of the Secrets that hold the mesh's root CA.
const ROOT_CA_SECRETS: [&str; 2] = ["cacerts", "istio-ca-secret"];

/// The digest of a set of root CA Secrets (their names and data), never their values.
pub fn root_ca_digest_of(secrets: &[Arc<Value>]) -> String {
    if secrets.is_empty() {
        return "none".to_string();
    }
    let mut canonical = BTreeMap::new();
    for secret in secrets {
        let data: BTreeMap<String, String> = secret
            .get("data")
            .and_then(Value::as_object)
            .map(|d| d.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string())).collect())
            .unwrap_or_default();
        canonical.insert(str_of(secret, "/metadata/name").to_string(), data);
    }
    let bytes = serde_json::to_vec(&canonical).unwrap_or_default();
    format!("sha256:{}", crate::digest::sha256_hex(&bytes))
}

/// The digest of the root CA Secrets in `namespace` (`none` when there are none).
pub async fn root_ca_digest<C: Cluster>(cluster: &C, namespace: &str) -> Result<String, ClusterError> {
    let mut secrets = Vec::new();
    for name in ROOT_CA_SECRETS {
        secrets.extend(cluster.get(&kinds::secret(), Some(namespace), name).await?);
    }
    Ok(root_ca_digest_of(&secrets))
}

/// `root-ca-unchanged`: the digest now equals the one recorded when the apply started.
pub fn root_ca_check(recorded: Option<&str>, now: &str) -> Check {
    match recorded {
        None => Check::NoData("no root CA digest was recorded when the apply started".to_string()),
        Some(before) if before == now => Check::Pass(if now == "none" {
            "no root CA Secret (cacerts, istio-ca-secret) before or now".to_string()
        } else {
            format!("root CA unchanged ({now})")
        }),
        Some(before) => Check::Fail(format!(
            "the root CA Secrets changed during the apply ({before} before, {now} now): workloads may stop trusting each other"
        )),
    }
}

/// `config-accepted`: each Istio object the step applied still exists at the generation it was
/// applied at (nothing rejected, replaced or reverted it).
async fn config_accepted<C: Cluster>(cluster: &C, applied: &[Applied]) -> Result<Check, ClusterError> {
    let istio: Vec<&Applied> = applied
        .iter()
        .filter(|a| {
            let group = a.object.api_version.rsplit_once('/').map_or("", |(g, _)| g);
            group == "istio.io" || group.ends_with(".istio.io")
        })
        .collect();
    if istio.is_empty() {
        return Ok(Check::Pass("the step applied no Istio configuration".to_string()));
    }
    let discovered = cluster.discover().await?;
    for item in &istio {
        let Some(resource) = discovered.for_object(&item.object.api_version, &item.object.kind) else {
            return Ok(Check::Fail(format!("{} is no longer served by the cluster", item.object)));
        };
        let live = cluster.get(resource, item.object.namespace.as_deref(), &item.object.name).await?;
        let Some(live) = live else {
            return Ok(Check::Fail(format!("{} was applied but no longer exists", item.object)));
        };
        let generation = int(&live, "/metadata/generation");
        if item.generation.is_some() && generation != item.generation {
            return Ok(Check::Fail(format!(
                "{} changed after it was applied (generation {:?}, applied at {:?})",
                item.object, generation, item.generation
            )));
        }
    }
    Ok(Check::Pass(format!("{} Istio object(s) in place as applied", istio.len())))
}

/// The mesh config (`istio` ConfigMap, else the first `istio-<revision>`), parsed.
async fn mesh_config<C: Cluster>(
    cluster: &C,
    namespace: &str,
    revision: Option<&str>,
) -> Result<Option<Value>, ClusterError> {
    let maps = cluster.list(&kinds::config_map(), Some(namespace), None).await?;
    let mut candidates: Vec<&Value> = maps
        .iter()
        .map(Arc::as_ref)
        .filter(|m| {
            let name = str_of(m, "/metadata/name");
            (name == "istio" || name.starts_with("istio-")) && lookup(m, "/data/mesh").is_some()
        })
        .collect();
    // The revision's own mesh config first (`istio-<revision>`), then the default one.
    let own = revision.map(|r| format!("istio-{r}"));
    candidates.sort_by_key(|m| {
        let name = str_of(m, "/metadata/name");
        (own.as_deref() != Some(name), name != "istio", name.to_string())
    });
    Ok(candidates.first().and_then(|m| crate::yaml::parse_one(str_of(m, "/data/mesh")).ok()))
}

/// `policy-checks-off`: the mesh config disables Mixer policy checks (Istio's default since 1.5 when
/// the field is absent).
pub fn policy_checks_check(mesh: Option<&Value>) -> Check {
    match mesh {
        None => {
            Check::NoData("no mesh config (ConfigMap istio or istio-<revision> with data.mesh)".to_string())
        }
        Some(mesh) => match mesh.get("disablePolicyChecks").and_then(Value::as_bool) {
            Some(true) => Check::Pass("the mesh config sets disablePolicyChecks: true".to_string()),
            None => {
                Check::Pass("the mesh config leaves disablePolicyChecks at its default (true)".to_string())
            }
            Some(false) => Check::Fail("the mesh config sets disablePolicyChecks: false".to_string()),
        },
    }
}

/// Objects of an Istio kind (any served version), empty when the kind is not served.
async fn istio_objects<C: Cluster>(
    cluster: &C,
    group: &str,
    kind: &str,
) -> Result<Vec<Arc<Value>>, ClusterError> {
    match cluster.discover().await?.find(group, kind) {
        Some(resource) => cluster.list(resource, None, None).await,
        None => Ok(Vec::new()),
    }
}

/// `jwks-reachable`: every `jwksUri` of a RequestAuthentication answers 200. Only `http://` URIs can
/// be fetched; any other makes the answer no-data.
async fn jwks_check<C: Cluster>(cluster: &C) -> Result<Check, ClusterError> {
    let policies = istio_objects(cluster, "security.istio.io", "RequestAuthentication").await?;
    let uris: BTreeSet<String> = policies
        .iter()
        .flat_map(|p| lookup(p, "/spec/jwtRules").and_then(Value::as_array).cloned().unwrap_or_default())
        .filter_map(|r| r.get("jwksUri").and_then(Value::as_str).map(str::to_string))
        .collect();
    if uris.is_empty() {
        return Ok(Check::Pass("no RequestAuthentication names a jwksUri".to_string()));
    }
    let mut unknown = Vec::new();
    for uri in &uris {
        match probe::get(uri, PROBE_TIMEOUT).await {
            Ok(response) if response.status == 200 => {}
            Ok(response) => return Ok(Check::Fail(format!("{uri} answered {}", response.status))),
            Err(probe::ProbeError::Unsupported { .. }) => unknown.push(uri.clone()),
            Err(e) => return Ok(Check::Fail(e.to_string())),
        }
    }
    Ok(if unknown.is_empty() {
        Check::Pass(format!("{} JWKS URI(s) answer 200", uris.len()))
    } else {
        Check::NoData(format!("cannot fetch {} (only http:// can be fetched here)", unknown.join(", ")))
    })
}

/// `gateway-tls-handshake`: a handshake needs a running gateway; what the cluster shows is whether
/// every `credentialName` Secret exists beside a gateway with certificate and key. A missing one
/// fails; all present is no-data (the handshake itself was not tried).
async fn gateway_tls_check<C: Cluster>(cluster: &C) -> Result<Check, ClusterError> {
    let gateways = istio_objects(cluster, "networking.istio.io", "Gateway").await?;
    let mut credentials = BTreeSet::new();
    for gateway in &gateways {
        let namespace = str_of(gateway, "/metadata/namespace").to_string();
        for server in lookup(gateway, "/spec/servers").and_then(Value::as_array).cloned().unwrap_or_default()
        {
            if let Some(name) = lookup(&server, "/tls/credentialName").and_then(Value::as_str) {
                credentials.insert((namespace.clone(), name.to_string()));
            }
        }
    }
    if credentials.is_empty() {
        return Ok(Check::Pass("no Gateway server uses credentialName".to_string()));
    }
    let secrets = cluster.list(&kinds::secret(), None, None).await?;
    let mut missing = Vec::new();
    for (namespace, name) in &credentials {
        // Istio reads a gateway's credential in the gateway pods' namespace, which the Gateway
        // object does not name; a Secret of that name in any namespace is accepted here.
        let found = secrets.iter().any(|s| {
            str_of(s, "/metadata/name") == name
                && s.get("data").and_then(Value::as_object).is_some_and(|d| {
                    (d.contains_key("tls.crt") && d.contains_key("tls.key"))
                        || (d.contains_key("cert") && d.contains_key("key"))
                })
        });
        if !found {
            missing.push(format!("{namespace}/{name}"));
        }
    }
    Ok(if missing.is_empty() {
        Check::NoData(format!(
            "{} credential Secret(s) present with certificate and key; a TLS handshake needs a running gateway",
            credentials.len()
        ))
    } else {
        Check::Fail(format!("credential Secrets missing or without tls.crt/tls.key: {}", missing.join(", ")))
    })
}

/// `authz-tcp-scoped`: whether HTTP-only rules of AuthorizationPolicies would also match TCP traffic
/// (after 1.6 an ALLOW rule with HTTP-only fields matches nothing on TCP) needs traffic to tell; the
/// cluster shows only whether there are policies at all.
async fn authz_check<C: Cluster>(cluster: &C) -> Result<Check, ClusterError> {
    let policies = istio_objects(cluster, "security.istio.io", "AuthorizationPolicy").await?;
    Ok(if policies.is_empty() {
        Check::Pass("no AuthorizationPolicy in the cluster".to_string())
    } else {
        Check::NoData(format!(
            "{} AuthorizationPolicy object(s); how they treat TCP traffic shows only in traffic",
            policies.len()
        ))
    })
}

/// Compares `value` with `threshold` by `comparison` (`>`, `>=`, `<`, `<=`, `==`, `!=`).
pub fn compare(value: f64, comparison: &str, threshold: f64) -> Result<bool, String> {
    Ok(match comparison {
        ">" | "gt" => value > threshold,
        ">=" | "ge" => value >= threshold,
        "<" | "lt" => value < threshold,
        "<=" | "le" => value <= threshold,
        "==" | "eq" => (value - threshold).abs() < f64::EPSILON,
        "!=" | "ne" => (value - threshold).abs() >= f64::EPSILON,
        other => return Err(format!("unknown comparison {other:?} (use >, >=, <, <=, ==, !=)")),
    })
}

/// The decision on a Prometheus `/api/v1/query` answer: no series (or NaN) is no-data.
pub fn prometheus_verdict(body: &[u8], query: &str, threshold: f64, comparison: &str) -> Check {
    let Ok(answer) = serde_json::from_slice::<Value>(body) else {
        return Check::NoData(format!("Prometheus answered {query:?} with something that is not JSON"));
    };
    if str_of(&answer, "/status") != "success" {
        return Check::Fail(format!("Prometheus rejected {query:?}: {}", str_of(&answer, "/error")));
    }
    let results = lookup(&answer, "/data/result").and_then(Value::as_array).cloned().unwrap_or_default();
    let scalar = lookup(&answer, "/data/result/1").and_then(Value::as_str).map(str::to_string);
    let values: Vec<f64> = if str_of(&answer, "/data/resultType") == "scalar" {
        scalar.iter().filter_map(|v| v.parse().ok()).collect()
    } else {
        results
            .iter()
            .filter_map(|r| lookup(r, "/value/1").and_then(Value::as_str).and_then(|v| v.parse().ok()))
            .collect()
    };
    let values: Vec<f64> = values.into_iter().filter(|v: &f64| !v.is_nan()).collect();
    if values.is_empty() {
        return Check::NoData(format!("{query:?} returned no series"));
    }
    for value in &values {
        match compare(*value, comparison, threshold) {
            Ok(true) => {}
            Ok(false) => {
                return Check::Fail(format!("{query:?} = {value}, wanted {comparison} {threshold}"));
            }
            Err(e) => return Check::Fail(e),
        }
    }
    Check::Pass(format!("{query:?}: {} series {comparison} {threshold}", values.len()))
}

async fn prometheus_check(url: &str, query: &str, threshold: f64, comparison: &str) -> Check {
    if let Err(e) = compare(0.0, comparison, threshold) {
        return Check::Fail(e);
    }
    let address = format!("{}/api/v1/query?query={}", url.trim_end_matches('/'), probe::encode_query(query));
    match probe::get(&address, PROBE_TIMEOUT).await {
        Ok(response) if response.status == 200 => {
            prometheus_verdict(&response.body, query, threshold, comparison)
        }
        Ok(response) if response.status == 400 || response.status == 422 => {
            prometheus_verdict(&response.body, query, threshold, comparison)
        }
        Ok(response) => Check::Wait(format!("Prometheus answered {}", response.status)),
        Err(probe::ProbeError::Unsupported { url }) => {
            Check::Fail(format!("{url}: only http:// Prometheus addresses can be queried"))
        }
        Err(e) => Check::NoData(format!("Prometheus cannot be reached: {e}")),
    }
}

/// The decision on an HTTP probe's status: `expect` is a code (`200`) or a class (`2xx`).
pub fn status_matches(status: u16, expect: &str) -> bool {
    match expect.strip_suffix("xx") {
        Some(class) => class.parse::<u16>().is_ok_and(|c| status / 100 == c),
        None => expect.parse::<u16>().is_ok_and(|e| e == status),
    }
}

async fn http_probe_check(url: &str, expect: &str) -> Check {
    match probe::get(url, PROBE_TIMEOUT).await {
        Ok(response) if status_matches(response.status, expect) => {
            Check::Pass(format!("{url} answered {}", response.status))
        }
        Ok(response) => Check::Wait(format!("{url} answered {}, expected {expect}", response.status)),
        Err(probe::ProbeError::Unsupported { .. }) => Check::Fail(format!(
            "{url}: only http:// URLs can be probed (https needs a TLS client sailplan does not carry)"
        )),
        Err(e) => Check::Wait(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn gates_are_validated_before_anything_runs() {
        assert!(validate(&Gate::new("rollout-complete", "5m", &[])).is_ok());
        assert!(validate(&Gate::new("rollout-completed", "5m", &[])).is_err());
        assert!(validate(&Gate::new("pods-ready", "five minutes", &[])).is_err());
        let mut gate = Gate::new("prometheus-query", "1m", &[]);
        gate.no_data = Some("maybe".into());
        assert!(validate(&gate).is_err());
    }

    #[test]
    fn durations_parse_in_the_plan_file_spelling() {
        assert_eq!(parse_duration("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_duration("5m").unwrap(), Duration::from_secs(300));
        assert_eq!(parse_duration("10m").unwrap(), Duration::from_secs(600));
        assert_eq!(parse_duration("1h").unwrap(), Duration::from_secs(3600));
        assert_eq!(parse_duration("1m30s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        for bad in ["", "5", "m", "5 m", "-1s", "5d", "1.5s"] {
            assert!(parse_duration(bad).is_err(), "{bad:?}");
        }
    }

    /// Objects as a cluster returns them.
    fn shared(objects: impl IntoIterator<Item = Value>) -> Vec<Arc<Value>> {
        objects.into_iter().map(Arc::new).collect()
    }

    fn deployment(generation: i64, observed: i64, replicas: i64, updated: i64, available: i64) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "apps", "generation": generation},
            "spec": {"replicas": replicas},
            "status": {"observedGeneration": observed, "replicas": replicas, "updatedReplicas": updated, "availableReplicas": available}})
    }

    #[test]
    fn rollout_passes_only_when_every_replica_is_updated_and_available() {
        assert!(matches!(rollout_check(&shared([deployment(2, 2, 3, 3, 3)]), None), Check::Pass(_)));
        assert!(matches!(rollout_check(&shared([deployment(2, 1, 3, 3, 3)]), None), Check::Wait(_)));
        assert!(matches!(rollout_check(&shared([deployment(2, 2, 3, 2, 3)]), None), Check::Wait(_)));
        assert!(matches!(rollout_check(&shared([deployment(2, 2, 3, 3, 1)]), None), Check::Wait(_)));
        assert!(matches!(rollout_check(&[] as &[Arc<Value>], Some("Deployment apps/web")), Check::Wait(_)));
        assert!(matches!(rollout_check(&[] as &[Arc<Value>], None), Check::Pass(_)));
        let mut stuck = deployment(2, 2, 3, 1, 3);
        stuck["status"]["conditions"] =
            json!([{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"}]);
        assert!(matches!(rollout_check(&shared([stuck]), None), Check::Fail(_)));
        let daemonset = json!({"kind": "DaemonSet", "metadata": {"name": "d", "generation": 1},
            "status": {"observedGeneration": 1, "desiredNumberScheduled": 2, "updatedNumberScheduled": 2, "numberAvailable": 1}});
        assert!(matches!(rollout_check(&shared([daemonset]), None), Check::Wait(_)));
    }

    fn pod(name: &str, ready: bool, restarts: i64, waiting: Option<&str>) -> Value {
        let mut status = json!({"name": "app", "restartCount": restarts});
        if let Some(reason) = waiting {
            status["state"] = json!({"waiting": {"reason": reason}});
        }
        json!({"kind": "Pod", "metadata": {"name": name, "namespace": "apps", "uid": name},
            "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": if ready { "True" } else { "False" }}],
                "containerStatuses": [status]}})
    }

    #[test]
    fn pods_ready_fails_on_crash_loops_and_growing_restarts() {
        let baseline = restart_counts(&shared([pod("a", true, 1, None)]));
        assert!(matches!(pods_check(&shared([pod("a", true, 1, None)]), &baseline, false), Check::Pass(_)));
        assert!(matches!(pods_check(&shared([pod("a", false, 1, None)]), &baseline, false), Check::Wait(_)));
        assert!(matches!(pods_check(&shared([pod("a", true, 2, None)]), &baseline, false), Check::Fail(_)));
        assert!(matches!(
            pods_check(&shared([pod("b", false, 5, Some("CrashLoopBackOff"))]), &baseline, false),
            Check::Fail(_)
        ));
        assert!(matches!(pods_check(&[] as &[Arc<Value>], &baseline, false), Check::Pass(_)));
        assert!(matches!(pods_check(&[] as &[Arc<Value>], &baseline, true), Check::Wait(_)));
    }

    fn injected(name: &str, image: &str, revision: Option<&str>) -> Value {
        let mut pod = json!({"kind": "Pod", "metadata": {"name": name, "namespace": "apps"},
            "spec": {"containers": [{"name": "app", "image": "app:1"}, {"name": "istio-proxy", "image": image}]},
            "status": {"phase": "Running"}});
        if let Some(revision) = revision {
            pod["metadata"]["annotations"] =
                json!({"sidecar.istio.io/status": format!("{{\"revision\":\"{revision}\"}}")});
        }
        pod
    }

    #[test]
    fn proxies_converge_by_revision_or_by_image_version() {
        let pods = shared([
            injected("a", "docker.io/istio/proxyv2:1.6.14", Some("1-6-14")),
            injected("b", "docker.io/istio/proxyv2:1.5.10", None),
            json!({"kind": "Pod", "metadata": {"name": "plain"}, "spec": {"containers": [{"name": "app"}]}}),
        ]);
        assert!(matches!(proxies_check(&pods, &Converge::Revision("1-6-14".into())), Check::Wait(_)));
        assert!(matches!(proxies_check(&pods[..1], &Converge::Revision("1-6-14".into())), Check::Pass(_)));
        assert!(matches!(proxies_check(&pods[1..], &Converge::Revision("default".into())), Check::Pass(_)));
        assert!(matches!(proxies_check(&pods[..1], &Converge::Version("1.6.14".into())), Check::Pass(_)));
        assert!(matches!(proxies_check(&pods, &Converge::Version("1.6.14".into())), Check::Wait(_)));
        let mut labelled = injected("c", "proxyv2:1.6.14-distroless", None);
        labelled["metadata"]["labels"] = json!({"istio.io/rev": "canary"});
        assert!(matches!(
            proxies_check(&shared([labelled.clone()]), &Converge::Revision("canary".into())),
            Check::Pass(_)
        ));
        assert!(matches!(
            proxies_check(&shared([labelled]), &Converge::Version("1.6.14".into())),
            Check::Pass(_)
        ));
    }

    #[test]
    fn dual_injection_labels_fail() {
        let ok = json!({"metadata": {"name": "a", "labels": {"istio.io/rev": "1-6-14"}}});
        let dual = json!({"metadata": {"name": "b", "labels": {"istio.io/rev": "1-6-14", "istio-injection": "enabled"}}});
        assert!(matches!(dual_labels_check(&shared([ok.clone()])), Check::Pass(_)));
        assert_eq!(
            dual_labels_check(&shared([ok, dual])),
            Check::Fail("namespaces with both istio-injection and istio.io/rev: b".into())
        );
    }

    #[test]
    fn crds_must_be_established() {
        let crd = |name: &str, status: &str| json!({"metadata": {"name": name}, "status": {"conditions": [{"type": "Established", "status": status}]}});
        let crds = shared([crd("a.istio.io", "True"), crd("b.istio.io", "False")]);
        assert!(matches!(crds_check(&crds, &["a.istio.io"]), Check::Pass(_)));
        assert!(matches!(crds_check(&crds, &["a.istio.io", "b.istio.io"]), Check::Wait(_)));
        assert!(matches!(crds_check(&crds, &["c.istio.io"]), Check::Wait(_)));
    }

    #[test]
    fn webhooks_need_a_ready_endpoint() {
        let slice =
            |ready: bool| json!({"endpoints": [{"addresses": ["10.0.0.1"], "conditions": {"ready": ready}}]});
        assert!(matches!(endpoints_check(&shared([slice(true)]), None, "istiod"), Check::Pass(_)));
        assert!(matches!(endpoints_check(&shared([slice(false)]), None, "istiod"), Check::Wait(_)));
        let endpoints = json!({"subsets": [{"addresses": [{"ip": "10.0.0.2"}]}]});
        assert!(matches!(endpoints_check(&[] as &[Arc<Value>], Some(&endpoints), "istiod"), Check::Pass(_)));
    }

    #[test]
    fn root_ca_digest_sees_changes_but_holds_no_value() {
        let secret = |value: &str| json!({"metadata": {"name": "cacerts"}, "data": {"ca-cert.pem": value}});
        let before = root_ca_digest_of(&shared([secret("QUJD")]));
        assert!(!before.contains("QUJD"));
        assert!(before.starts_with("sha256:"));
        assert!(matches!(
            root_ca_check(Some(&before), &root_ca_digest_of(&shared([secret("QUJD")]))),
            Check::Pass(_)
        ));
        assert!(matches!(
            root_ca_check(Some(&before), &root_ca_digest_of(&shared([secret("WFla")]))),
            Check::Fail(_)
        ));
        assert!(matches!(
            root_ca_check(Some("none"), &root_ca_digest_of(&[] as &[Arc<Value>])),
            Check::Pass(_)
        ));
        assert!(matches!(root_ca_check(None, "none"), Check::NoData(_)));
    }

    #[test]
    fn policy_checks_follow_the_mesh_config() {
        assert!(matches!(policy_checks_check(Some(&json!({"disablePolicyChecks": true}))), Check::Pass(_)));
        assert!(matches!(policy_checks_check(Some(&json!({"disablePolicyChecks": false}))), Check::Fail(_)));
        assert!(matches!(policy_checks_check(Some(&json!({}))), Check::Pass(_)));
        assert!(matches!(policy_checks_check(None), Check::NoData(_)));
    }

    #[test]
    fn prometheus_answers_compare_and_empty_results_are_no_data() {
        let vector = |v: &str| {
            serde_json::to_vec(&json!({"status": "success", "data": {"resultType": "vector", "result": [{"metric": {}, "value": [1.0, v]}]}}))
                .unwrap()
        };
        assert!(matches!(prometheus_verdict(&vector("0.5"), "q", 1.0, "<"), Check::Pass(_)));
        assert!(matches!(prometheus_verdict(&vector("2"), "q", 1.0, "<"), Check::Fail(_)));
        assert!(matches!(prometheus_verdict(&vector("NaN"), "q", 1.0, "<"), Check::NoData(_)));
        let empty =
            serde_json::to_vec(&json!({"status": "success", "data": {"resultType": "vector", "result": []}}))
                .unwrap();
        assert!(matches!(prometheus_verdict(&empty, "q", 1.0, "<"), Check::NoData(_)));
        let scalar = serde_json::to_vec(
            &json!({"status": "success", "data": {"resultType": "scalar", "result": [1.0, "3"]}}),
        )
        .unwrap();
        assert!(matches!(prometheus_verdict(&scalar, "q", 2.0, ">="), Check::Pass(_)));
        assert!(compare(1.0, "~", 1.0).is_err());
        assert!(status_matches(204, "2xx") && status_matches(200, "200") && !status_matches(500, "2xx"));
    }

    #[test]
    fn overrides_fail_a_named_gate_and_accept_no_data_with_a_reason() {
        let outcome = |name: &str, verdict: Verdict| GateOutcome {
            name: name.into(),
            passed: verdict == Verdict::Pass,
            verdict,
            message: "seen".into(),
        };
        assert_eq!(Overrides::default().apply(outcome("a", Verdict::NoData)), outcome("a", Verdict::NoData));
        let overrides = Overrides { fail: Some("a".into()), accept_no_data: Some("no traffic here".into()) };
        let failed = overrides.apply(outcome("a", Verdict::Pass));
        assert!(
            !failed.passed && failed.verdict == Verdict::Fail && failed.message.contains("saw pass: seen")
        );
        let accepted = overrides.apply(outcome("b", Verdict::NoData));
        assert!(accepted.passed && accepted.verdict == Verdict::NoData);
        assert!(accepted.message.ends_with("accepted: no traffic here"));
        assert!(!overrides.apply(outcome("b", Verdict::Fail)).passed);
    }

    #[test]
    fn blocked_plans_fail_the_findings_gate_unless_errors_are_allowed() {
        let mut plan: Plan = serde_json::from_value(json!({
            "apiVersion": "sailplan.dev/v1alpha1", "kind": "UpgradePlan",
            "metadata": {"id": "abc", "observedFrom": "cluster"},
            "spec": {"source": {"controlPlanes": [], "proxies": {}},
                "target": {"version": "1.6.14", "profile": "default", "strategy": "canary", "valuesDigest": "", "values": {},
                    "dataPlane": {"batchSize": 1, "pause": "0s"}},
                "fingerprint": "", "hops": [], "findings": [{"code": "E-X", "severity": "error", "message": "m", "hint": "h", "from": "check"}],
                "blocked": true, "steps": []}})).unwrap();
        assert!(matches!(blocking_check(&plan, false), Check::Fail(m) if m.contains("E-X")));
        assert!(matches!(blocking_check(&plan, true), Check::Pass(_)));
        plan.spec.blocked = false;
        assert!(matches!(blocking_check(&plan, false), Check::Pass(_)));
    }
}
