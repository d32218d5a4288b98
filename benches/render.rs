//! Render benchmark: how long one `sailplan render` of a whole mesh takes in-process, and the peak
//! memory of the process doing it. Run with `cargo bench --bench render`; results go in
//! docs/benchmarks.md. A plain harness (no statistics crate): each case is warmed up, then timed over
//! many iterations, and min / median / p95 / mean are printed as a Markdown table.

use std::time::{Duration, Instant};

use sailplan::render::{MeshRequest, render_mesh};
use sailplan::values::ValueOptions;

const ITERATIONS: usize = 200;
const WARM_UP: usize = 10;

fn request(profile: &str, version: &str, revision: Option<&str>) -> MeshRequest {
    MeshRequest {
        overlay: Default::default(),
        profile: profile.to_string(),
        version: version.to_string(),
        revision: revision.map(str::to_string),
        namespace: "istio-system".to_string(),
        values: ValueOptions::default(),
        kube_version: None,
        allow_unsupported_kubernetes: false,
        charts_dir: None,
    }
}

/// Peak resident set size of this process so far, from /proc (Linux), in MiB.
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    let cases = [
        ("default profile, latest", request("default", "latest", None)),
        ("default profile, 1.6, revision 1-6-14", request("default", "1.6", Some("1-6-14"))),
        ("demo profile, 1.5", request("demo", "1.5", None)),
    ];
    println!("| case | objects | min ms | median ms | p95 ms | mean ms |");
    println!("|---|---|---|---|---|---|");
    for (name, req) in &cases {
        let mut objects = 0;
        for _ in 0..WARM_UP {
            objects =
                render_mesh(req).map(|m| m.manifests().count()).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        let mut times: Vec<Duration> = (0..ITERATIONS)
            .map(|_| {
                let start = Instant::now();
                let mesh = render_mesh(req);
                let elapsed = start.elapsed();
                std::hint::black_box(mesh).ok();
                elapsed
            })
            .collect();
        times.sort();
        let mean = times.iter().sum::<Duration>() / u32::try_from(times.len()).unwrap_or(1);
        let p95 = times[(times.len() * 95) / 100 - 1];
        println!(
            "| {name} | {objects} | {:.2} | {:.2} | {:.2} | {:.2} |",
            millis(times[0]),
            millis(times[times.len() / 2]),
            millis(p95),
            millis(mean)
        );
    }
    match peak_rss_mib() {
        Some(mib) => println!("\npeak resident memory of the benchmark process: {mib:.1} MiB"),
        None => println!("\npeak resident memory: not available on this platform"),
    }
}
