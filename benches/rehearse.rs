//! Rehearsal benchmark: `sailplan rehearse` on the large cluster the product brief sets (5,000
//! namespaces, 50,000 pods, 20,000 Istio objects; target under 10 s). A synthetic snapshot of Istio
//! 1.29.5 with revision `1-29-5` and a `default` tag is rehearsed to 1.31 in-process, as the command
//! does after reading its snapshot: the simulation is built, observed, planned from, diffed, every
//! step is run with its gates (a canary control plane, moving the tag, a data-plane batch per five
//! namespaces restarting every workload, the gateway, removing the old revision), and the end state
//! is observed and diffed. Run with `cargo bench --bench rehearse`; results go in
//! docs/benchmarks.md. It allocates with mimalloc, as the `sailplan` binary does.

use std::sync::Arc;
use std::time::{Duration, Instant};

use sailplan::apply::Mode;
use sailplan::plan::PlanRequest;
use sailplan::plan::model::DataPlanePolicy;
use sailplan::rehearse::{Ending, Options, rehearse};
use sailplan::snapshot::Snapshot;
use sailplan::synthetic::{SyntheticSpec, generate};
use serde_json::Value;

const RUNS: usize = 3;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let started = Instant::now();
    let snapshot = generate(&SyntheticSpec {
        namespaces: 5_000,
        pods: 50_000,
        istio_objects: 20_000,
        version: "1.29.5".to_string(),
        revision: Some("1-29-5".to_string()),
        legacy: false,
        seed: 42,
    })
    .unwrap_or_else(|e| panic!("{e}"));
    eprintln!("generated {} objects in {:.1}s", snapshot.objects.len(), started.elapsed().as_secs_f64());
    let options = Options {
        request: PlanRequest {
            to: "1.31".to_string(),
            profile: "default".to_string(),
            values: Default::default(),
            strategy: None,
            data_plane: DataPlanePolicy {
                batch_size: 5,
                pause: "30s".to_string(),
                namespace_order: Vec::new(),
            },
            migration_options: Default::default(),
            allow_errors: true,
            gate_policy: Default::default(),
            observed_from: "snapshot".to_string(),
            charts_dir: None,
        },
        istio_namespace: "istio-system".to_string(),
        fail_gate: None,
        gate_timeout: Duration::from_secs(5),
        progress: Mode::Quiet,
    };
    let runtime =
        tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap_or_else(|e| panic!("{e}"));
    let mut times = Vec::new();
    for run in 0..RUNS {
        // `sailplan rehearse` hands the snapshot it read over to the simulation; each run gets a copy
        // of its own, made before the clock starts.
        let own = Snapshot {
            info: snapshot.info.clone(),
            objects: snapshot.objects.iter().map(|o| Arc::new(Value::clone(o))).collect(),
        };
        let start = Instant::now();
        let rehearsal = runtime.block_on(rehearse(own, &options)).unwrap_or_else(|e| panic!("{e}"));
        let elapsed = start.elapsed().as_secs_f64() * 1000.0;
        assert_eq!(rehearsal.ending, Ending::Completed, "{}", sailplan::rehearse::text(&rehearsal));
        eprintln!(
            "run {}: {elapsed:.0} ms, {} steps, {} proxies after",
            run + 1,
            rehearsal.steps.len(),
            rehearsal.after.proxies
        );
        times.push(elapsed);
    }
    times.sort_by(f64::total_cmp);
    println!(
        "| rehearse 1.29.5 → 1.31 (large synthetic) | {:.0} | {:.0} | {:.0} |",
        times[0],
        times[times.len() / 2],
        times[times.len() - 1]
    );
}
