//! Plan + diff benchmark: `sailplan plan` and `sailplan diff` as a user runs them, on the large
//! cluster the product brief sets (5,000 namespaces, 50,000 pods, 20,000 Istio objects; target under
//! 2 s and under 1 GB). A synthetic snapshot (Istio 1.6.14, revision `1-6-14`, with legacy objects,
//! so that all three migrations, Mixer's removal and two hops are planned) is written to a temporary
//! directory; then the release binary plans an upgrade to 1.8 from it and diffs that plan against
//! it, each three times in a fresh process. Run with `cargo bench --bench plan`; results go in
//! docs/benchmarks.md.
//!
//! Each command runs as its own process, so the figures include reading the snapshot, writing the
//! plan and exiting. Peak memory is the process's high-water mark (`VmHWM` in /proc, Linux), read
//! while it runs.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use sailplan::synthetic::{SyntheticSpec, generate};

const RUNS: usize = 3;

fn fail(error: impl std::fmt::Display) -> ! {
    panic!("{error}")
}

/// The peak resident memory of process `pid` so far, in KiB.
fn high_water_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Runs the command once; returns its wall time and peak memory (MiB).
fn run_once(args: &[&str]) -> (Duration, f64) {
    let start = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_sailplan"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| fail(e));
    let mut peak = 0;
    loop {
        if let Some(kib) = high_water_kib(child.id()) {
            peak = peak.max(kib);
        }
        if let Some(status) = child.try_wait().unwrap_or_else(|e| fail(e)) {
            // diff exits 0 or 2 (changes found).
            assert!(matches!(status.code(), Some(0 | 2)), "sailplan {args:?} failed: {status}");
            return (start.elapsed(), peak as f64 / 1024.0);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn measure(name: &str, args: &[&str]) {
    let mut times = Vec::new();
    let mut peaks = Vec::new();
    for _ in 0..RUNS {
        let (time, peak) = run_once(args);
        times.push(time.as_secs_f64() * 1000.0);
        peaks.push(peak);
    }
    times.sort_by(f64::total_cmp);
    peaks.sort_by(f64::total_cmp);
    println!(
        "| {name} | {:.0} | {:.0} | {:.0} | {:.0} |",
        times[0],
        times[RUNS / 2],
        times[RUNS - 1],
        peaks[RUNS - 1]
    );
}

fn main() {
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
    let snapshot_dir = dir.path().join("snapshot");
    let snapshot = generate(&spec).unwrap_or_else(|e| fail(e));
    let objects = snapshot.objects.len();
    snapshot.write(&snapshot_dir).unwrap_or_else(|e| fail(e));
    drop(snapshot);
    let snapshot_arg = snapshot_dir.to_string_lossy().into_owned();
    let plan_file = dir.path().join("plan.yaml");
    let plan_arg = plan_file.to_string_lossy().into_owned();
    println!("| command | min ms | median ms | max ms | peak RSS MiB (max) |");
    println!("|---|---|---|---|---|");
    measure(
        "sailplan plan --snapshot S --to 1.8 --out plan.yaml",
        &["plan", "--snapshot", &snapshot_arg, "--to", "1.8", "--out", &plan_arg],
    );
    measure(
        "sailplan diff --plan plan.yaml --snapshot S",
        &["diff", "--plan", &plan_arg, "--snapshot", &snapshot_arg],
    );
    println!(
        "\n{objects} objects, {:.1} MiB of object files; the plan: {:.1} MiB",
        size(&snapshot_dir) as f64 / 1_048_576.0,
        size(&plan_file) as f64 / 1_048_576.0
    );
}

/// Bytes of a file, or of the files under a directory.
fn size(path: &Path) -> u64 {
    if !path.is_dir() {
        return std::fs::metadata(path).map_or(0, |m| m.len());
    }
    std::fs::read_dir(path)
        .map(|entries| entries.filter_map(Result::ok).map(|e| size(&e.path())).sum())
        .unwrap_or(0)
}
