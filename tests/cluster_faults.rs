//! The live cluster layer through a faulty API server: with the test fault proxy answering 429, 500
//! and 503 and dropping connections (before and after the server did the work) for 30% of requests,
//! applies, lists, gets and deletes still come out right, and the apply lock is still taken and given
//! back exactly once per apply.
//!
//! Run with `scripts/test.sh` (or `cargo test -- --ignored`, which starts a cluster for this binary).

#![allow(clippy::unwrap_used)] // integration tests: a failed unwrap is a failed test

mod support;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use sailplan::apply::lock::{ApplyLock, DEFAULT_LEASE_NAME, Holder};
use sailplan::cluster::live::{ConnectOptions, LiveCluster};
use sailplan::cluster::{ApplyOptions, Cluster, ObjectRef, Propagation};
use serde_json::{Value, json};
use support::fault_proxy::{FaultProxy, Faults, Injected};
use support::{cluster, resource, with_temp_ns};

const SELECTOR: &str = "sailplan.dev/fault-test=yes";

/// 30% of requests fail, never more than three in a row: `LiveCluster` tries a write four times, so
/// a longer run is an outage (which fails an apply by design), not a transient fault.
fn faults(seed: u64) -> Faults {
    Faults { percent: 30, seed, max_in_a_row: 3 }
}

async fn through(proxy: &FaultProxy) -> LiveCluster {
    LiveCluster::connect(&ConnectOptions {
        kubeconfig: Some(proxy.kubeconfig().to_path_buf()),
        context: None,
    })
    .await
    .unwrap()
}

fn config_map(ns: &str, index: usize) -> Value {
    json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": format!("cm-{index:02}"), "namespace": ns,
            "labels": {"sailplan.dev/fault-test": "yes"}},
        "data": {"index": index.to_string()}
    })
}

fn target(ns: &str, index: usize) -> ObjectRef {
    ObjectRef {
        api_version: "v1".into(),
        kind: "ConfigMap".into(),
        namespace: Some(ns.to_string()),
        name: format!("cm-{index:02}"),
    }
}

/// Name → `data.index` of listed ConfigMaps.
fn indexes(objects: &[Arc<Value>]) -> BTreeMap<String, String> {
    objects
        .iter()
        .map(|o| {
            (
                o["metadata"]["name"].as_str().unwrap().to_string(),
                o["data"]["index"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn expected(range: std::ops::Range<usize>) -> BTreeMap<String, String> {
    range.map(|i| (format!("cm-{i:02}"), i.to_string())).collect()
}

fn every_fault_happened(injected: Injected) {
    let Injected {
        too_many_requests,
        internal_errors,
        unavailable,
        dropped_before,
        dropped_after,
        forwarded,
    } = injected;
    assert!(
        too_many_requests > 0
            && internal_errors > 0
            && unavailable > 0
            && dropped_before > 0
            && dropped_after > 0
            && forwarded > 0,
        "every kind of fault was injected: {injected:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a cluster: run scripts/test.sh"]
async fn applies_lists_gets_and_deletes_come_out_right_through_a_faulty_api_server() {
    with_temp_ns("faults", |direct, ns| async move {
        let proxy = FaultProxy::start(&cluster().kubeconfig, faults(7)).await;
        let client = through(&proxy).await;
        for index in 0..20 {
            let stored = client.apply(&config_map(&ns, index), ApplyOptions::default()).await.unwrap();
            assert_eq!(stored["data"]["index"], index.to_string());
        }
        let config_maps = resource(&direct, "", "ConfigMap").await;
        let listed = client.list(&config_maps, Some(&ns), Some(SELECTOR)).await.unwrap();
        assert_eq!(indexes(&listed), expected(0..20));
        for index in 0..20 {
            let name = format!("cm-{index:02}");
            let got = client.get(&config_maps, Some(&ns), &name).await.unwrap().unwrap();
            assert_eq!(got["data"]["index"], index.to_string(), "{name}");
        }
        for index in 0..10 {
            client.delete(&target(&ns, index), Propagation::Background).await.unwrap();
        }
        let listed = client.list(&config_maps, Some(&ns), Some(SELECTOR)).await.unwrap();
        assert_eq!(indexes(&listed), expected(10..20));
        let truth = direct.list(&config_maps, Some(&ns), Some(SELECTOR)).await.unwrap();
        assert_eq!(indexes(&truth), expected(10..20), "the server agrees");
        every_fault_happened(proxy.injected());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a cluster: run scripts/test.sh"]
async fn the_apply_lock_is_taken_and_given_back_through_a_faulty_api_server() {
    with_temp_ns("faults-lock", |direct, ns| async move {
        let proxy = FaultProxy::start(&cluster().kubeconfig, faults(11)).await;
        let client = Arc::new(through(&proxy).await);
        let leases = resource(&direct, "coordination.k8s.io", "Lease").await;
        // Leases long enough not to be renewed during the test, so the requests stay one at a time.
        let applies = 8;
        for apply in 0..applies {
            let holder = Holder {
                user: format!("user{}", apply % 2),
                host: "h".into(),
                pid: 1,
                plan: format!("p{apply}"),
            };
            let lock =
                ApplyLock::acquire(client.clone(), &ns, DEFAULT_LEASE_NAME, &holder, Duration::from_secs(60))
                    .await
                    .unwrap();
            let held = direct.get(&leases, Some(&ns), DEFAULT_LEASE_NAME).await.unwrap().unwrap();
            assert_eq!(held["spec"]["holderIdentity"], holder.to_string());
            lock.release().await.unwrap();
        }
        let lease = direct.get(&leases, Some(&ns), DEFAULT_LEASE_NAME).await.unwrap().unwrap();
        assert_eq!(lease["spec"].get("holderIdentity"), None, "released: {lease}");
        assert_eq!(lease["spec"]["leaseTransitions"], applies - 1, "one transition per later apply: {lease}");
        let injected = proxy.injected();
        assert!(injected.dropped_after > 0 && injected.internal_errors > 0, "{injected:?}");
    })
    .await;
}
