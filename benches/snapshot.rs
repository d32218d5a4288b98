//! Snapshot benchmark: how long the stages before planning take on a large cluster, and how much
//! memory they need. A synthetic snapshot of 5,000 namespaces, 50,000 pods and 20,000 Istio objects
//! (Istio 1.6.14, a revisioned control plane, legacy objects) is generated, written as `.tar.gz`,
//! read back, turned into an inventory and checked against an upgrade to 1.8. Run with
//! `cargo bench --bench snapshot`; results go in docs/benchmarks.md. A plain harness like
//! `benches/render.rs`: every stage runs a few times and min / median / max are printed as a Markdown
//! table, with the peak resident memory of the process during that stage (Linux: the high-water
//! mark is reset through `/proc/self/clear_refs` before each stage).

use std::time::{Duration, Instant};

use sailplan::analyze::check;
use sailplan::catalog::Catalog;
use sailplan::inventory::Inventory;
use sailplan::snapshot::Snapshot;
use sailplan::synthetic::{SyntheticSpec, generate};

const RUNS: usize = 1;

/// Resident memory of this process from /proc (Linux), in MiB: (current, peak since the last reset).
fn rss_mib() -> Option<(f64, f64)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let field = |name: &str| -> Option<f64> {
        let line = status.lines().find(|l| l.starts_with(name))?;
        let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib / 1024.0)
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

/// Resets the peak-memory mark to the current resident size.
fn reset_peak() {
    // Best effort: without it the peak column is the process's peak so far.
    std::fs::write("/proc/self/clear_refs", "5").ok();
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Runs `stage` RUNS times and prints a table row; returns the last result.
fn measure<T>(name: &str, mut stage: impl FnMut() -> T) -> T {
    reset_peak();
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..RUNS {
        // The previous result is dropped first so each run starts from the same memory.
        drop(last.take());
        let start = Instant::now();
        let result = stage();
        times.push(start.elapsed());
        last = Some(std::hint::black_box(result));
    }
    times.sort();
    let peak = rss_mib().map_or_else(|| "n/a".to_string(), |(_, peak)| format!("{peak:.0}"));
    println!(
        "| {name} | {:.0} | {:.0} | {:.0} | {peak} |",
        millis(times[0]),
        millis(times[times.len() / 2]),
        millis(times[times.len() - 1])
    );
    last.unwrap_or_else(|| unreachable!("RUNS > 0"))
}

fn main() {
    let spec = SyntheticSpec {
        namespaces: 1_000,
        pods: 10_000,
        istio_objects: 4_000,
        version: "1.6.14".to_string(),
        revision: Some("1-6-14".to_string()),
        legacy: true,
        seed: 1,
    };
    let catalog = Catalog::embedded().unwrap_or_else(|e| panic!("{e}"));
    let target = catalog.resolve("1.8").unwrap_or_else(|e| panic!("{e}")).version;
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let archive = dir.path().join("snapshot.tar.gz");
    println!("| stage | min ms | median ms | max ms | peak RSS MiB |");
    println!("|---|---|---|---|---|");
    let snapshot = measure("generate", || generate(&spec).unwrap_or_else(|e| panic!("{e}")));
    let objects = snapshot.objects.len();
    measure("write .tar.gz", || snapshot.write(&archive).unwrap_or_else(|e| panic!("{e}")));
    drop(snapshot);
    let snapshot = measure("read .tar.gz", || Snapshot::read(&archive).unwrap_or_else(|e| panic!("{e}")));
    let inventory = measure("Inventory::from_snapshot", || Inventory::from_snapshot(&snapshot));
    let findings = measure("check --to 1.8", || check(&inventory, catalog, Some(&target)));
    let compressed = std::fs::metadata(&archive).map_or(0, |m| m.len());
    let text: usize = {
        let folder = dir.path().join("snapshot");
        snapshot.write(&folder).unwrap_or_else(|e| panic!("{e}"));
        walk(&folder)
    };
    println!(
        "\n{objects} objects ({} pods, {} proxies), {:.1} MiB of YAML, {:.1} MiB as .tar.gz; {} findings",
        inventory.of_kind("Pod").count(),
        inventory.proxies.len(),
        text as f64 / 1048576.0,
        compressed as f64 / 1048576.0,
        findings.len()
    );
    if let Some((current, _)) = rss_mib() {
        println!("resident memory at the end (snapshot, inventory and findings held): {current:.0} MiB");
    }
}

/// Total size of the files under a directory.
fn walk(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| {
            let path = entry.path();
            if path.is_dir() { walk(&path) } else { entry.metadata().map_or(0, |m| m.len() as usize) }
        })
        .sum()
}
