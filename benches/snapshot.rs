//! Snapshot benchmark: how long the stages before planning take on a large cluster, and how much
//! memory they need. A synthetic snapshot of 5,000 namespaces, 50,000 pods and 20,000 Istio objects
//! (Istio 1.6.14, a revisioned control plane, legacy objects) is generated and written as `.tar.gz`;
//! then a fresh process reads it back, builds the inventory and checks it against an upgrade to 1.8,
//! as `sailplan check --snapshot` does. Run with `cargo bench --bench snapshot`; results go in
//! docs/benchmarks.md.
//!
//! A plain harness like `benches/render.rs`: every stage runs a few times and min / median / max are
//! printed as a Markdown table, with the peak resident memory of the process so far (Linux). Reading
//! runs in its own process (this binary again, with `--read ARCHIVE`) so that its peak is not the
//! generator's: memory freed by one stage stays resident in the process.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use sailplan::analyze::check;
use sailplan::catalog::Catalog;
use sailplan::inventory::Inventory;
use sailplan::snapshot::Snapshot;
use sailplan::synthetic::{SyntheticSpec, generate};

const RUNS: usize = 3;

/// Peak resident memory of this process so far, from /proc (Linux), in MiB.
fn peak_rss_mib() -> String {
    let peak = || -> Option<f64> {
        let status = std::fs::read_to_string("/proc/self/status").ok()?;
        let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
        let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib / 1024.0)
    };
    peak().map_or_else(|| "n/a".to_string(), |mib| format!("{mib:.0}"))
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Runs `stage` on a fresh `setup()` RUNS times, timing only the stage, and prints a table row;
/// returns the last result.
fn measure<S, T>(name: &str, mut setup: impl FnMut() -> S, mut stage: impl FnMut(S) -> T) -> T {
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..RUNS {
        // The previous result goes first, so every run starts from the same memory.
        drop(last.take());
        let input = setup();
        let start = Instant::now();
        let result = stage(input);
        times.push(start.elapsed());
        last = Some(std::hint::black_box(result));
    }
    times.sort();
    println!(
        "| {name} | {:.0} | {:.0} | {:.0} | {} |",
        millis(times[0]),
        millis(times[times.len() / 2]),
        millis(times[times.len() - 1]),
        peak_rss_mib()
    );
    last.unwrap_or_else(|| unreachable!("RUNS > 0"))
}

fn fail(error: impl std::fmt::Display) -> ! {
    panic!("{error}")
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == "--read") {
        read_and_check(Path::new(&args[at + 1]));
        return;
    }
    let spec = SyntheticSpec {
        namespaces: 5_000,
        pods: 50_000,
        istio_objects: 20_000,
        version: "1.6.14".to_string(),
        revision: Some("1-6-14".to_string()),
        legacy: true,
        seed: 1,
    };
    let dir = tempfile::tempdir().unwrap_or_else(|e| fail(e));
    let archive = dir.path().join("snapshot.tar.gz");
    println!("| stage | min ms | median ms | max ms | peak RSS MiB (process) |");
    println!("|---|---|---|---|---|");
    let snapshot = measure("generate", || (), |()| generate(&spec).unwrap_or_else(|e| fail(e)));
    measure("write .tar.gz", || (), |()| snapshot.write(&archive).unwrap_or_else(|e| fail(e)));
    let folder = dir.path().join("snapshot");
    snapshot.write(&folder).unwrap_or_else(|e| fail(e));
    let objects = snapshot.objects.len();
    drop(snapshot);
    let exe = std::env::current_exe().unwrap_or_else(|e| fail(e));
    let child =
        std::process::Command::new(exe).arg("--read").arg(&archive).output().unwrap_or_else(|e| fail(e));
    print!("{}", String::from_utf8_lossy(&child.stdout));
    eprint!("{}", String::from_utf8_lossy(&child.stderr));
    println!(
        "\n{objects} objects; {:.1} MiB of object files, {:.1} MiB as .tar.gz",
        size(&folder) as f64 / 1_048_576.0,
        size(&archive) as f64 / 1_048_576.0,
    );
}

/// The reading process: read, inventory (copying and taking the objects), check.
fn read_and_check(archive: &Path) {
    let catalog = Catalog::embedded().unwrap_or_else(|e| fail(e));
    let target = catalog.resolve("1.8").unwrap_or_else(|e| fail(e)).version;
    let snapshot = measure(
        "read .tar.gz (new process)",
        || (),
        |()| Snapshot::read(archive).unwrap_or_else(|e| fail(e)),
    );
    measure("Inventory::from_snapshot(&snapshot)", || (), |()| Inventory::from_snapshot(&snapshot));
    let inventory = measure("Inventory::from(snapshot)", || snapshot.clone(), Inventory::from);
    let findings = measure("check --to 1.8", || (), |()| check(&inventory, catalog, Some(&target)));
    println!(
        "\n{} pods, {} proxies, {} findings",
        inventory.of_kind("Pod").count(),
        inventory.proxies.len(),
        findings.len()
    );
}

/// Bytes of a file, or of the files under a directory.
fn size(path: &Path) -> u64 {
    if !path.is_dir() {
        return std::fs::metadata(path).map_or(0, |m| m.len());
    }
    let entries: Vec<PathBuf> =
        std::fs::read_dir(path).into_iter().flatten().flatten().map(|e| e.path()).collect();
    entries.iter().map(|p| size(p)).sum()
}
