//! The apply lock on the real test cluster: one holder at a time, a refusal that names the holder, a
//! release that frees the Lease at once, an expired Lease taken over (and counted), renewal that keeps
//! a Lease alive past its duration, a take-over reported to the holder that lost it, and a holder
//! taking back its own Lease (the resume case).
//!
//! Run with `scripts/test.sh` (or `cargo test -- --ignored`, which starts a cluster for this binary).

#![allow(clippy::unwrap_used)] // integration tests: a failed unwrap is a failed test

mod support;

use std::sync::Arc;
use std::time::Duration;

use sailplan::apply::lock::{ApplyLock, DEFAULT_LEASE_NAME, Holder, LockError, PLAN_ANNOTATION};
use sailplan::cluster::live::LiveCluster;
use sailplan::cluster::{Cluster, ObjectRef};
use serde_json::{Value, json};
use support::{resource, wait_for, with_temp_ns};

fn holder(user: &str, plan: &str) -> Holder {
    Holder { user: user.to_string(), host: "test-host".to_string(), pid: 100, plan: plan.to_string() }
}

async fn lease(client: &LiveCluster, ns: &str) -> Value {
    let leases = resource(client, "coordination.k8s.io", "Lease").await;
    Value::clone(&client.get(&leases, Some(ns), DEFAULT_LEASE_NAME).await.unwrap().unwrap())
}

fn transitions(lease: &Value) -> i64 {
    lease["spec"]["leaseTransitions"].as_i64().unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a cluster: run scripts/test.sh"]
async fn a_second_apply_is_refused_naming_the_holder_until_the_first_releases() {
    with_temp_ns("lock-held", |client, ns| async move {
        let client = Arc::new(client);
        let (alice, bob) = (holder("alice", "plan-a"), holder("bob", "plan-b"));
        let first =
            ApplyLock::acquire(client.clone(), &ns, DEFAULT_LEASE_NAME, &alice, Duration::from_secs(30))
                .await
                .unwrap();
        assert_eq!(first.lease(), format!("{ns}/{DEFAULT_LEASE_NAME}"));
        let stored = lease(&client, &ns).await;
        assert_eq!(stored["spec"]["holderIdentity"], alice.to_string());
        assert_eq!(stored["spec"]["leaseDurationSeconds"], 30);
        assert_eq!(stored["metadata"]["annotations"][PLAN_ANNOTATION], "plan-a");
        let renewed = stored["spec"]["renewTime"].as_str().unwrap();
        assert!(renewed.len() == 27 && renewed.ends_with('Z'), "MicroTime: {renewed}");
        assert_eq!(transitions(&stored), 0);

        let refused =
            ApplyLock::acquire(client.clone(), &ns, DEFAULT_LEASE_NAME, &bob, Duration::from_secs(30))
                .await
                .unwrap_err();
        let message = refused.to_string();
        assert!(matches!(refused, LockError::Held { .. }), "{message}");
        assert!(message.contains(&alice.to_string()), "names the holder: {message}");
        assert!(message.contains(&format!("{ns}/{DEFAULT_LEASE_NAME}")), "names the Lease: {message}");

        first.release().await.unwrap();
        let released = lease(&client, &ns).await;
        assert_eq!(released["spec"].get("holderIdentity"), None, "released: {released}");

        let second =
            ApplyLock::acquire(client.clone(), &ns, DEFAULT_LEASE_NAME, &bob, Duration::from_secs(30))
                .await
                .unwrap();
        let stored = lease(&client, &ns).await;
        assert_eq!(stored["spec"]["holderIdentity"], bob.to_string());
        assert_eq!(stored["metadata"]["annotations"][PLAN_ANNOTATION], "plan-b");
        assert_eq!(transitions(&stored), 1);
        second.release().await.unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a cluster: run scripts/test.sh"]
async fn a_lease_its_holder_stopped_renewing_expires_and_is_taken_over() {
    with_temp_ns("lock-expired", |client, ns| async move {
        let client = Arc::new(client);
        let short = Duration::from_secs(2);
        let abandoned =
            ApplyLock::acquire(client.clone(), &ns, DEFAULT_LEASE_NAME, &holder("alice", "a"), short)
                .await
                .unwrap();
        // A killed apply: no release, no more renewals.
        drop(abandoned);
        let bob = holder("bob", "b");
        let taken = wait_for("the abandoned lease to expire", Duration::from_secs(30), || async {
            match ApplyLock::acquire(client.clone(), &ns, DEFAULT_LEASE_NAME, &bob, short).await {
                Ok(lock) => Some(lock),
                Err(LockError::Held { .. }) => None,
                Err(e) => panic!("{e}"),
            }
        })
        .await;
        let stored = lease(&client, &ns).await;
        assert_eq!(stored["spec"]["holderIdentity"], bob.to_string());
        assert_eq!(transitions(&stored), 1, "the take-over is counted");
        taken.release().await.unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a cluster: run scripts/test.sh"]
async fn renewal_keeps_a_lease_alive_past_its_duration() {
    with_temp_ns("lock-renew", |client, ns| async move {
        let client = Arc::new(client);
        let duration = Duration::from_secs(3);
        let alice = holder("alice", "a");
        let held =
            ApplyLock::acquire(client.clone(), &ns, DEFAULT_LEASE_NAME, &alice, duration).await.unwrap();
        let first_renewal = lease(&client, &ns).await["spec"]["renewTime"].clone();
        tokio::time::sleep(duration * 3).await;
        let refused =
            ApplyLock::acquire(client.clone(), &ns, DEFAULT_LEASE_NAME, &holder("bob", "b"), duration).await;
        assert!(matches!(refused, Err(LockError::Held { .. })), "still held after 3 durations");
        assert!(!held.is_lost(), "{:?}", held.lost_reason());
        let stored = lease(&client, &ns).await;
        assert_ne!(stored["spec"]["renewTime"], first_renewal, "renewed");
        assert_eq!(stored["spec"]["holderIdentity"], alice.to_string());
        held.release().await.unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a cluster: run scripts/test.sh"]
async fn a_holder_learns_it_lost_the_lease_and_its_release_says_so() {
    with_temp_ns("lock-lost", |client, ns| async move {
        let client = Arc::new(client);
        let held = ApplyLock::acquire(
            client.clone(),
            &ns,
            DEFAULT_LEASE_NAME,
            &holder("alice", "a"),
            Duration::from_secs(3),
        )
        .await
        .unwrap();
        let mut lost = held.watch_lost();
        let target = ObjectRef {
            api_version: "coordination.k8s.io/v1".into(),
            kind: "Lease".into(),
            namespace: Some(ns.clone()),
            name: DEFAULT_LEASE_NAME.into(),
        };
        client.merge_patch(&target, &json!({"spec": {"holderIdentity": "intruder"}})).await.unwrap();
        let reason = tokio::time::timeout(Duration::from_secs(30), lost.wait_for(Option::is_some))
            .await
            .expect("the renewal notices within 30 s")
            .unwrap()
            .clone()
            .unwrap();
        assert!(reason.contains("intruder"), "{reason}");
        assert!(held.is_lost());
        let error = held.release().await.unwrap_err();
        assert!(matches!(error, LockError::Lost { .. }), "{error}");
        assert_eq!(
            lease(&client, &ns).await["spec"]["holderIdentity"],
            "intruder",
            "not released from under them"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a cluster: run scripts/test.sh"]
async fn a_holder_takes_back_its_own_lease_and_a_missing_namespace_is_named() {
    with_temp_ns("lock-resume", |client, ns| async move {
        let client = Arc::new(client);
        let alice = holder("alice", "a");
        let duration = Duration::from_secs(60);
        let interrupted =
            ApplyLock::acquire(client.clone(), &ns, DEFAULT_LEASE_NAME, &alice, duration).await.unwrap();
        drop(interrupted);
        let resumed =
            ApplyLock::acquire(client.clone(), &ns, DEFAULT_LEASE_NAME, &alice, duration).await.unwrap();
        assert_eq!(transitions(&lease(&client, &ns).await), 0, "taking back is not a transition");
        resumed.release().await.unwrap();

        let missing = format!("{ns}-missing");
        let error = ApplyLock::acquire(client.clone(), &missing, DEFAULT_LEASE_NAME, &alice, duration)
            .await
            .unwrap_err();
        assert!(matches!(error, LockError::NoNamespace { .. }), "{error}");
        assert!(error.to_string().contains(&missing), "{error}");
    })
    .await;
}
