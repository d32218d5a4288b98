//! The snapshots the planner and rehearsal tests read: the bundled examples, and small synthetic
//! meshes (the same generator as the large benchmarks, at a size a test runs in milliseconds).

#![allow(clippy::unwrap_used)] // test support: a failed unwrap is a failed test

use std::path::Path;

use sailplan::snapshot::Snapshot;
use sailplan::synthetic::{SyntheticSpec, generate};

/// A bundled example snapshot, by directory name under `examples/snapshots`.
pub fn example(name: &str) -> Snapshot {
    Snapshot::read(&Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/snapshots").join(name)).unwrap()
}

/// A small synthetic mesh of `version` (with `revision`, and the legacy objects when `legacy`).
pub fn synthetic(version: &str, revision: Option<&str>, legacy: bool) -> Snapshot {
    generate(&SyntheticSpec {
        namespaces: 6,
        pods: 30,
        istio_objects: 12,
        version: version.to_string(),
        revision: revision.map(str::to_string),
        legacy,
        seed: 7,
    })
    .unwrap()
}
