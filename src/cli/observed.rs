//! Where `check`, `plan` and `diff` read the observed state from: a snapshot file, or the live
//! cluster read exactly as `collect` reads it (so a plan made from either has the same fingerprint
//! for the same cluster).

use std::path::Path;

use super::ClusterFlags;
use super::output::{WithHint, with_hint};
use crate::cluster::live::LiveCluster;
use crate::collect::{CollectOptions, observe};
use crate::snapshot::{Selection, Snapshot};

/// The observed state, and what it came from (`snapshot` or `cluster`).
pub fn read(
    snapshot: Option<&Path>,
    cluster: &ClusterFlags,
    istio_namespace: &str,
) -> anyhow::Result<(Snapshot, &'static str)> {
    read_selected(snapshot, None, cluster, istio_namespace)
}

/// As [`read`], but of a snapshot only the objects `selection` names (a live read is whole).
pub fn read_selected(
    snapshot: Option<&Path>,
    selection: Option<&Selection>,
    cluster: &ClusterFlags,
    istio_namespace: &str,
) -> anyhow::Result<(Snapshot, &'static str)> {
    match snapshot {
        Some(path) => Ok((
            Snapshot::read_selected(path, selection)
                .hint("pass a snapshot written by `sailplan collect`, or YAML from `kubectl get -o yaml`")?,
            "snapshot",
        )),
        None => {
            let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
            let snapshot = runtime.block_on(async {
                let cluster = LiveCluster::connect(&cluster.options()).await.map_err(with_hint)?;
                let options = CollectOptions { istio_namespace: istio_namespace.to_string() };
                observe(&cluster, &options, &|_, _, _| {}).await.map_err(with_hint)
            })?;
            Ok((snapshot, "cluster"))
        }
    }
}
