//! One apply at a time per cluster, with a lock that can never stay stuck (ARCHITECTURE.md §6).
//!
//! The lock is a `coordination.k8s.io/v1` Lease in the control-plane namespace (by default
//! `istio-system/sailplan-apply`), the object Kubernetes itself uses for leader election, so
//! `kubectl get lease` shows who holds it. Its holder is a readable `user@host pid N, plan <id>`.
//! The holder renews it every third of its duration while the apply runs; a holder that stops
//! renewing (killed, network gone) loses it when the duration has passed, and the next apply takes it
//! over. Every write is optimistic (create-only, or replace by `resourceVersion`), so two applies
//! racing for a free or expired Lease cannot both win.
//!
//! Expiry compares the holder's `renewTime` with this machine's clock, so clocks that disagree by more
//! than a few seconds shorten or lengthen the wait by that much; the lease duration should be long
//! against the skew expected between the machines that run applies.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::jiff::{SignedDuration, Timestamp};
use serde_json::{Map, Value, json};
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;

use crate::cluster::{Cluster, ClusterError, Resource};

/// The Lease's name when the user does not choose one.
pub const DEFAULT_LEASE_NAME: &str = "sailplan-apply";

/// How long a lease lives without renewal when the user does not choose: the longest a killed apply
/// can block the next one.
pub const DEFAULT_LEASE_DURATION: Duration = Duration::from_secs(60);

/// The Lease annotation naming the plan being applied.
pub const PLAN_ANNOTATION: &str = "sailplan.dev/plan";

/// How often a read-then-write of the Lease is tried again when the Lease changed in between.
const RACE_ATTEMPTS: u32 = 5;

/// Who holds the lock: a person on a machine, one process, one plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    /// The user name.
    pub user: String,
    /// The host name.
    pub host: String,
    /// The process id.
    pub pid: u32,
    /// The id of the plan being applied.
    pub plan: String,
}

impl Holder {
    /// This process, applying `plan`.
    pub fn current(plan: &str) -> Holder {
        let user = ["USER", "USERNAME"]
            .iter()
            .find_map(|name| std::env::var(name).ok().filter(|value| !value.is_empty()))
            .unwrap_or_else(|| "unknown".to_string());
        let host = hostname::get()
            .ok()
            .and_then(|name| name.into_string().ok())
            .filter(|name| !name.is_empty())
            .unwrap_or_else(|| "unknown-host".to_string());
        Holder { user, host, pid: std::process::id(), plan: plan.to_string() }
    }

    /// Reads a holder written by [`Holder`]'s `Display` (`user@host pid N, plan <id>`); `None` for
    /// anything else (a Lease someone else wrote).
    pub fn parse(text: &str) -> Option<Holder> {
        let (who, plan) = text.rsplit_once(", plan ")?;
        let (user_host, pid) = who.rsplit_once(" pid ")?;
        let (user, host) = user_host.split_once('@')?;
        let pid = pid.parse().ok()?;
        (!user.is_empty() && !host.is_empty() && !plan.is_empty()).then(|| Holder {
            user: user.to_string(),
            host: host.to_string(),
            pid,
            plan: plan.to_string(),
        })
    }
}

impl fmt::Display for Holder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{} pid {}, plan {}", self.user, self.host, self.pid, self.plan)
    }
}

/// Why the lock could not be taken, kept or given back.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another apply holds the lock and keeps renewing it.
    #[error("{}", held_message(lease, holder, *expires_in, *same_plan_here))]
    Held {
        /// The Lease, `namespace/name`.
        lease: String,
        /// Its holder, as written in the Lease.
        holder: String,
        /// How long until it expires unless its holder renews it.
        expires_in: Duration,
        /// The holder is an earlier run of the same plan on this host by this user (a resume).
        same_plan_here: bool,
    },
    /// The namespace that keeps the Lease does not exist.
    #[error(
        "cannot create the apply lock Lease {lease}: namespace {namespace} does not exist; create it \
         (or install the control plane, which creates it) before applying"
    )]
    NoNamespace {
        /// The Lease, `namespace/name`.
        lease: String,
        /// The missing namespace.
        namespace: String,
    },
    /// The lock was taken over or could not be renewed in time: another apply may be changing the
    /// cluster now.
    #[error(
        "lost the apply lock Lease {lease}: {reason}; stop this apply, check what the other apply \
         changed, and run again (an apply resumes from its journal)"
    )]
    Lost {
        /// The Lease, `namespace/name`.
        lease: String,
        /// What happened.
        reason: String,
    },
    /// Reading or writing the Lease failed.
    #[error("cannot read or write the apply lock Lease {lease}: {source}")]
    Cluster {
        /// The Lease, `namespace/name`.
        lease: String,
        /// The cluster error.
        #[source]
        source: Box<ClusterError>,
    },
}

fn held_message(lease: &str, holder: &str, expires_in: Duration, same_plan_here: bool) -> String {
    let namespace_name = lease.split_once('/').map(|(ns, name)| format!("-n {ns} {name}"));
    let expires = format!("{}s", whole_seconds(expires_in));
    let who = if same_plan_here {
        format!(
            "the apply lock Lease {lease} is held by an earlier run of this plan on this host ({holder}); \
             if that process has ended, its lease expires in {expires} and running again then resumes"
        )
    } else {
        format!(
            "the apply lock Lease {lease} is held by {holder}: another apply is running against this \
             cluster; wait for it to finish (its lease expires in {expires} unless renewed, and is \
             taken over by the next apply once expired)"
        )
    };
    match namespace_name {
        Some(target) => format!(
            "{who}. If you are sure no apply is running, `kubectl delete lease {target}` frees it at once"
        ),
        None => who,
    }
}

/// A held apply lock. It is renewed in the background until [`ApplyLock::release`]; dropped without
/// a release, it stops renewing and simply expires.
#[derive(Debug)]
pub struct ApplyLock {
    lease: String,
    holder: String,
    lost: watch::Receiver<Option<String>>,
    stop: Option<oneshot::Sender<()>>,
    renewal: Option<JoinHandle<Result<(), LockError>>>,
}

impl ApplyLock {
    /// Takes the lock held in the Lease `namespace/name` for `holder`, for `duration` at a time:
    /// creates the Lease, takes over one that is free or expired, takes back one `holder` already
    /// holds, and fails with [`LockError::Held`] while someone else holds it.
    pub async fn acquire<C: Cluster + 'static>(
        cluster: Arc<C>,
        namespace: &str,
        name: &str,
        holder: &Holder,
        duration: Duration,
    ) -> Result<ApplyLock, LockError> {
        let lease_name = format!("{namespace}/{name}");
        let identity = holder.to_string();
        let seconds = whole_seconds(duration);
        let cluster_error =
            |source| LockError::Cluster { lease: lease_name.clone(), source: Box::new(source) };
        let resource = lease_resource();
        let mut attempt = 1;
        let (stored, renewed_at) = loop {
            let now = Timestamp::now();
            let started = tokio::time::Instant::now();
            let (written, created) =
                match cluster.get(&resource, Some(namespace), name).await.map_err(cluster_error)? {
                    None => {
                        let mut lease = json!({
                            "apiVersion": resource.api_version(), "kind": resource.kind,
                            "metadata": {"name": name, "namespace": namespace}, "spec": {}
                        });
                        hold(&mut lease, holder, seconds, now, Hold::New);
                        (cluster.create(&lease).await, true)
                    }
                    Some(lease) => {
                        let mut lease = Arc::unwrap_or_clone(lease);
                        let how = match LeaseRecord::of(&lease).standing(&identity, now) {
                            Standing::Held { holder: other, expires_in } => {
                                let same_plan_here = Holder::parse(&other).is_some_and(|h| {
                                    h.user == holder.user && h.host == holder.host && h.plan == holder.plan
                                });
                                return Err(LockError::Held {
                                    lease: lease_name,
                                    holder: other,
                                    expires_in,
                                    same_plan_here,
                                });
                            }
                            Standing::Ours => Hold::Renew,
                            Standing::Free | Standing::Expired => Hold::TakeOver,
                        };
                        hold(&mut lease, holder, seconds, now, how);
                        (cluster.replace(&lease).await, false)
                    }
                };
            match written {
                Ok(stored) => break (stored, started),
                // Someone wrote or deleted the Lease between our read and our write (or our own
                // write landed and its answer was lost): read it again and decide again.
                Err(ClusterError::AlreadyExists { .. } | ClusterError::Conflict { .. })
                    if attempt < RACE_ATTEMPTS =>
                {
                    attempt += 1;
                }
                Err(ClusterError::Api { code: 404, .. }) if !created && attempt < RACE_ATTEMPTS => {
                    attempt += 1;
                }
                Err(ClusterError::Api { code: 404, .. }) if created => {
                    return Err(LockError::NoNamespace {
                        lease: lease_name,
                        namespace: namespace.to_string(),
                    });
                }
                Err(e) => return Err(cluster_error(e)),
            }
        };
        let (lost_sender, lost) = watch::channel(None);
        let (stop, stopped) = oneshot::channel();
        let renewal = Renewal {
            cluster,
            lease: stored,
            lease_name: lease_name.clone(),
            holder: holder.clone(),
            seconds,
            duration,
            renewed_at,
            lost: lost_sender,
        };
        Ok(ApplyLock {
            lease: lease_name,
            holder: identity,
            lost,
            stop: Some(stop),
            renewal: Some(tokio::spawn(renewal.run(stopped))),
        })
    }

    /// The Lease, `namespace/name`.
    pub fn lease(&self) -> &str {
        &self.lease
    }

    /// The holder written in the Lease.
    pub fn holder(&self) -> &str {
        &self.holder
    }

    /// Whether the lock was lost (taken over, deleted, or not renewed in time); the apply must stop.
    pub fn is_lost(&self) -> bool {
        self.lost.borrow().is_some()
    }

    /// Why the lock was lost, once it was.
    pub fn lost_reason(&self) -> Option<String> {
        self.lost.borrow().clone()
    }

    /// A receiver that changes to `Some(reason)` when the lock is lost, to stop an apply in flight.
    pub fn watch_lost(&self) -> watch::Receiver<Option<String>> {
        self.lost.clone()
    }

    /// Stops renewing and gives the lock back, so the next apply does not wait for it to expire.
    /// Fails with [`LockError::Lost`] when it had been lost.
    pub async fn release(mut self) -> Result<(), LockError> {
        if let Some(stop) = self.stop.take() {
            // The renewal task ends (releasing) as soon as it sees this; it cannot have gone away
            // before, so a failed send needs no handling.
            let _ = stop.send(());
        }
        match self.renewal.take() {
            Some(renewal) => renewal.await.unwrap_or_else(|e| {
                Err(LockError::Lost {
                    lease: self.lease.clone(),
                    reason: format!("the renewal task failed: {e}"),
                })
            }),
            None => Ok(()),
        }
    }
}

impl Drop for ApplyLock {
    fn drop(&mut self) {
        if let Some(renewal) = self.renewal.take() {
            renewal.abort();
        }
    }
}

/// The background task that keeps a held Lease renewed, and releases it when asked.
struct Renewal<C> {
    cluster: Arc<C>,
    /// The Lease as last stored (its `resourceVersion` makes the next write optimistic).
    lease: Arc<Value>,
    lease_name: String,
    holder: Holder,
    seconds: i64,
    duration: Duration,
    /// When the last successful renewal started: the Lease expires `duration` after it.
    renewed_at: tokio::time::Instant,
    lost: watch::Sender<Option<String>>,
}

impl<C: Cluster> Renewal<C> {
    async fn run(mut self, mut stop: oneshot::Receiver<()>) -> Result<(), LockError> {
        let period = self.duration / 3;
        loop {
            let lost = self.lost.borrow().is_some();
            tokio::select! {
                command = &mut stop => {
                    return match command {
                        Ok(()) => self.release().await,
                        Err(_) => Ok(()),
                    };
                }
                () = tokio::time::sleep(period), if !lost => self.renew().await,
            }
        }
    }

    async fn renew(&mut self) {
        let identity = self.holder.to_string();
        for _ in 0..RACE_ATTEMPTS {
            let started = tokio::time::Instant::now();
            let mut lease = Value::clone(&self.lease);
            hold(&mut lease, &self.holder, self.seconds, Timestamp::now(), Hold::Renew);
            let error = match self.cluster.replace(&lease).await {
                Ok(stored) => {
                    self.lease = stored;
                    self.renewed_at = started;
                    return;
                }
                Err(ClusterError::Conflict { .. }) => match self.current().await {
                    Ok(Some(current)) => {
                        match LeaseRecord::of(&current).holder {
                            Some(holder) if holder == identity => {
                                self.lease = current;
                                continue;
                            }
                            Some(holder) => self.lose(format!("{holder} took it over")),
                            None => self.lose("it was released by someone else".to_string()),
                        }
                        return;
                    }
                    Ok(None) => return self.lose("the Lease was deleted".to_string()),
                    Err(e) => e,
                },
                Err(e) => e,
            };
            if self.renewed_at.elapsed() >= self.duration {
                self.lose(format!("it could not be renewed for {}s: {error}", self.seconds));
            }
            return;
        }
    }

    async fn release(self) -> Result<(), LockError> {
        if let Some(reason) = self.lost.borrow().clone() {
            return Err(LockError::Lost { lease: self.lease_name.clone(), reason });
        }
        let identity = self.holder.to_string();
        let mut lease = Value::clone(&self.lease);
        let mut attempt = 1;
        loop {
            release(&mut lease);
            let error = match self.cluster.replace(&lease).await {
                Ok(_) => return Ok(()),
                Err(ClusterError::Conflict { .. }) => match self.current().await {
                    Ok(Some(current)) => match LeaseRecord::of(&current).holder {
                        Some(holder) if holder == identity => {
                            lease = Arc::unwrap_or_clone(current);
                            ClusterError::Conflict {
                                object: format!("Lease {}", self.lease_name),
                                message: "the Lease kept changing".to_string(),
                            }
                        }
                        Some(holder) => {
                            return Err(LockError::Lost {
                                lease: self.lease_name.clone(),
                                reason: format!("{holder} took it over"),
                            });
                        }
                        // Released already: our own release landed and its answer was lost.
                        None => return Ok(()),
                    },
                    Ok(None) => return Ok(()),
                    Err(e) => e,
                },
                Err(e) => e,
            };
            if attempt >= RACE_ATTEMPTS {
                return Err(LockError::Cluster { lease: self.lease_name.clone(), source: Box::new(error) });
            }
            attempt += 1;
        }
    }

    async fn current(&self) -> Result<Option<Arc<Value>>, ClusterError> {
        let (namespace, name) = self.lease_name.split_once('/').unwrap_or(("", &self.lease_name));
        self.cluster.get(&lease_resource(), Some(namespace), name).await
    }

    fn lose(&self, reason: String) {
        self.lost.send_replace(Some(reason));
    }
}

fn lease_resource() -> Resource {
    Resource {
        group: "coordination.k8s.io".to_string(),
        version: "v1".to_string(),
        kind: "Lease".to_string(),
        plural: "leases".to_string(),
        namespaced: true,
    }
}

/// A duration in whole seconds, rounded up, at least one (`leaseDurationSeconds` is an int32).
fn whole_seconds(duration: Duration) -> i64 {
    let seconds = duration.as_secs().saturating_add(u64::from(duration.subsec_nanos() > 0));
    i64::try_from(seconds).unwrap_or(i64::MAX).clamp(1, i64::from(i32::MAX))
}

/// A Lease time in the `MicroTime` format (`2006-01-02T15:04:05.000000Z`).
fn micro_time(time: Timestamp) -> String {
    time.strftime("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// What the lock's fields say.
#[derive(Debug, Clone, PartialEq)]
struct LeaseRecord {
    holder: Option<String>,
    duration_seconds: Option<i64>,
    acquired: Option<Timestamp>,
    renewed: Option<Timestamp>,
    transitions: i64,
}

/// Where a Lease stands for one would-be holder.
#[derive(Debug, Clone, PartialEq)]
enum Standing {
    /// Nobody holds it (released).
    Free,
    /// This holder holds it already.
    Ours,
    /// Someone else held it and stopped renewing.
    Expired,
    /// Someone else holds it.
    Held { holder: String, expires_in: Duration },
}

impl LeaseRecord {
    fn of(lease: &Value) -> LeaseRecord {
        let spec = &lease["spec"];
        let time = |field: &str| spec[field].as_str().and_then(|text| text.parse::<Timestamp>().ok());
        LeaseRecord {
            holder: spec["holderIdentity"].as_str().filter(|h| !h.is_empty()).map(str::to_string),
            duration_seconds: spec["leaseDurationSeconds"].as_i64(),
            acquired: time("acquireTime"),
            renewed: time("renewTime"),
            transitions: spec["leaseTransitions"].as_i64().unwrap_or(0),
        }
    }

    /// When the lease runs out unless renewed; `None` when its fields cannot say (then nothing keeps
    /// it, so it counts as expired).
    fn expires_at(&self) -> Option<Timestamp> {
        let last = self.renewed.or(self.acquired)?;
        let seconds = self.duration_seconds.filter(|s| *s > 0)?;
        last.checked_add(SignedDuration::from_secs(seconds)).ok()
    }

    fn standing(&self, ours: &str, now: Timestamp) -> Standing {
        let Some(holder) = &self.holder else { return Standing::Free };
        if holder == ours {
            return Standing::Ours;
        }
        match self.expires_at() {
            Some(expiry) if expiry > now => Standing::Held {
                holder: holder.clone(),
                expires_in: Duration::try_from(expiry.duration_since(now)).unwrap_or_default(),
            },
            _ => Standing::Expired,
        }
    }
}

/// How a write takes the Lease.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hold {
    /// A new Lease: first acquisition.
    New,
    /// From a released or expired holder: a new acquisition, one more transition.
    TakeOver,
    /// Already ours: only the renewal time moves.
    Renew,
}

/// Writes `holder`'s hold into a Lease object.
fn hold(lease: &mut Value, holder: &Holder, seconds: i64, now: Timestamp, how: Hold) {
    let transitions = LeaseRecord::of(lease).transitions;
    if let Some(spec) = object_at(lease, "spec") {
        spec.insert("holderIdentity".to_string(), json!(holder.to_string()));
        spec.insert("leaseDurationSeconds".to_string(), json!(seconds));
        spec.insert("renewTime".to_string(), json!(micro_time(now)));
        match how {
            Hold::New => {
                spec.insert("acquireTime".to_string(), json!(micro_time(now)));
                spec.insert("leaseTransitions".to_string(), json!(0));
            }
            Hold::TakeOver => {
                spec.insert("acquireTime".to_string(), json!(micro_time(now)));
                spec.insert("leaseTransitions".to_string(), json!(transitions + 1));
            }
            Hold::Renew => {}
        }
    }
    if let Some(annotations) = object_at(lease, "metadata").and_then(|m| {
        let annotations = m.entry("annotations").or_insert_with(|| json!({}));
        annotations.as_object_mut()
    }) {
        annotations.insert(PLAN_ANNOTATION.to_string(), json!(holder.plan));
    }
}

/// Gives a Lease back: no holder, no plan; the times and transitions stay as a record.
fn release(lease: &mut Value) {
    if let Some(spec) = lease.get_mut("spec").and_then(Value::as_object_mut) {
        spec.remove("holderIdentity");
    }
    if let Some(annotations) = lease.pointer_mut("/metadata/annotations").and_then(Value::as_object_mut) {
        annotations.remove(PLAN_ANNOTATION);
    }
}

/// The object under `key` in an object, made one if it is missing or not an object.
fn object_at<'a>(value: &'a mut Value, key: &str) -> Option<&'a mut Map<String, Value>> {
    let entry = value.as_object_mut()?.entry(key).or_insert_with(|| json!({}));
    if !entry.is_object() {
        *entry = json!({});
    }
    entry.as_object_mut()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn alice() -> Holder {
        Holder { user: "alice".into(), host: "laptop".into(), pid: 4242, plan: "3f2a9c".into() }
    }

    fn lease(holder: &str, renewed: &str, seconds: i64) -> Value {
        json!({"spec": {"holderIdentity": holder, "leaseDurationSeconds": seconds,
            "acquireTime": "2025-01-01T00:00:00.000000Z", "renewTime": renewed, "leaseTransitions": 2}})
    }

    #[test]
    fn a_holder_reads_back_what_it_writes() {
        let text = alice().to_string();
        assert_eq!(text, "alice@laptop pid 4242, plan 3f2a9c");
        assert_eq!(Holder::parse(&text), Some(alice()));
        let dotted = Holder { host: "node-1.example.com".into(), ..alice() };
        assert_eq!(Holder::parse(&dotted.to_string()), Some(dotted));
        for foreign in
            ["", "kube-controller-manager_1234", "a@b pid x, plan p", "@b pid 1, plan p", "a@b pid 1"]
        {
            assert_eq!(Holder::parse(foreign), None, "{foreign:?}");
        }
        let current = Holder::current("p1");
        assert_eq!(current.pid, std::process::id());
        assert_eq!(Holder::parse(&current.to_string()), Some(current));
    }

    #[test]
    fn a_lease_expires_its_duration_after_the_last_renewal() {
        let record = LeaseRecord::of(&lease("bob@ci pid 1, plan p", "2025-01-01T00:01:00.500000Z", 30));
        assert_eq!(record.expires_at(), Some(at("2025-01-01T00:01:30.5Z")));
        assert_eq!(
            record.standing("me", at("2025-01-01T00:01:10.5Z")),
            Standing::Held { holder: "bob@ci pid 1, plan p".into(), expires_in: Duration::from_secs(20) }
        );
        assert_eq!(
            record.standing("me", at("2025-01-01T00:01:30.5Z")),
            Standing::Expired,
            "expiry is exclusive"
        );
        assert_eq!(record.standing("me", at("2025-01-01T02:00:00Z")), Standing::Expired);
        assert_eq!(record.standing("bob@ci pid 1, plan p", at("2025-01-01T02:00:00Z")), Standing::Ours);
    }

    #[test]
    fn a_lease_without_renewal_counts_from_acquisition_and_one_without_times_is_expired() {
        let mut value = lease("bob", "x", 30);
        value["spec"].as_object_mut().unwrap().remove("renewTime");
        let record = LeaseRecord::of(&value);
        assert_eq!(record.expires_at(), Some(at("2025-01-01T00:00:30Z")));
        let bare = LeaseRecord::of(&json!({"spec": {"holderIdentity": "bob"}}));
        assert_eq!(bare.standing("me", at("2025-01-01T00:00:00Z")), Standing::Expired);
        let released = LeaseRecord::of(&json!({"spec": {"holderIdentity": "", "leaseDurationSeconds": 30}}));
        assert_eq!(released.standing("me", at("2025-01-01T00:00:00Z")), Standing::Free);
    }

    #[test]
    fn holding_writes_micro_times_and_counts_transitions() {
        let now = at("2025-06-01T12:00:00.123456789Z");
        let mut new = json!({"metadata": {"name": "l"}});
        hold(&mut new, &alice(), 30, now, Hold::New);
        assert_eq!(new["spec"]["renewTime"], "2025-06-01T12:00:00.123456Z");
        assert_eq!(new["spec"]["acquireTime"], "2025-06-01T12:00:00.123456Z");
        assert_eq!(new["spec"]["leaseTransitions"], 0);
        assert_eq!(new["spec"]["holderIdentity"], "alice@laptop pid 4242, plan 3f2a9c");
        assert_eq!(new["metadata"]["annotations"][PLAN_ANNOTATION], "3f2a9c");

        let mut taken = lease("bob", "2025-01-01T00:00:00.000000Z", 30);
        hold(&mut taken, &alice(), 60, now, Hold::TakeOver);
        assert_eq!(taken["spec"]["leaseTransitions"], 3);
        assert_eq!(taken["spec"]["leaseDurationSeconds"], 60);
        assert_eq!(taken["spec"]["acquireTime"], "2025-06-01T12:00:00.123456Z");

        let mut renewed = lease(&alice().to_string(), "2025-01-01T00:00:00.000000Z", 30);
        hold(&mut renewed, &alice(), 30, now, Hold::Renew);
        assert_eq!(renewed["spec"]["leaseTransitions"], 2);
        assert_eq!(renewed["spec"]["acquireTime"], "2025-01-01T00:00:00.000000Z");
        assert_eq!(renewed["spec"]["renewTime"], "2025-06-01T12:00:00.123456Z");

        release(&mut renewed);
        assert_eq!(LeaseRecord::of(&renewed).standing("anyone", now), Standing::Free);
        assert_eq!(renewed["metadata"]["annotations"].get(PLAN_ANNOTATION), None);
        assert_eq!(renewed["spec"]["leaseTransitions"], 2, "the record stays");
    }

    #[test]
    fn durations_become_whole_seconds() {
        assert_eq!(whole_seconds(Duration::from_secs(30)), 30);
        assert_eq!(whole_seconds(Duration::from_millis(1500)), 2);
        assert_eq!(whole_seconds(Duration::ZERO), 1);
        assert_eq!(whole_seconds(Duration::MAX), i64::from(i32::MAX));
    }

    #[test]
    fn a_refusal_names_the_lease_and_holder_and_says_what_to_do() {
        let message = LockError::Held {
            lease: "istio-system/sailplan-apply".into(),
            holder: "bob@ci pid 7, plan 99".into(),
            expires_in: Duration::from_millis(24_500),
            same_plan_here: false,
        }
        .to_string();
        for part in [
            "istio-system/sailplan-apply",
            "bob@ci pid 7, plan 99",
            "expires in 25s",
            "wait for it",
            "kubectl delete lease -n istio-system sailplan-apply",
        ] {
            assert!(message.contains(part), "{part:?} in {message}");
        }
        let resume = LockError::Held {
            lease: "istio-system/sailplan-apply".into(),
            holder: "alice@laptop pid 7, plan 3f2a9c".into(),
            expires_in: Duration::from_secs(3),
            same_plan_here: true,
        }
        .to_string();
        assert!(resume.contains("earlier run of this plan"), "{resume}");
    }
}
