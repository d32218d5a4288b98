//! Writes a synthetic snapshot (see `sailplan::synthetic` and docs/snapshots.md) for benchmarks and
//! for trying `check` on a cluster far larger than the examples:
//!
//! ```sh
//! cargo run --release --example synthetic-snapshot -- --namespaces 5000 --pods 50000 \
//!     --istio-objects 20000 --version 1.6.14 --legacy -o big.tar.gz
//! ```
//!
//! The output is written by the same writer as `sailplan collect`: a `.tar.gz` (or `.tgz`) file, or
//! a directory for any other name.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use sailplan::synthetic::{SyntheticSpec, generate};

/// Generate a large, realistic snapshot of an Istio mesh.
#[derive(Debug, Parser)]
#[command(name = "synthetic-snapshot")]
struct Args {
    /// Namespace objects in all, istio-system included
    #[arg(long, default_value_t = 50)]
    namespaces: usize,
    /// Pod objects in all, control-plane and gateway pods included
    #[arg(long, default_value_t = 500)]
    pods: usize,
    /// Objects of Istio API groups (*.istio.io) in all
    #[arg(long, default_value_t = 200)]
    istio_objects: usize,
    /// The Istio version running: a catalogued minor (1.6) or an exact version (1.6.14)
    #[arg(long, default_value = "1.6.14")]
    version: String,
    /// Run a revisioned control plane with this revision (Istio 1.6 and later)
    #[arg(long)]
    revision: Option<String>,
    /// Add alpha authentication policies and Mixer configuration (and Mixer, up to 1.7)
    #[arg(long)]
    legacy: bool,
    /// Seed of the variety; the same arguments always give the same bytes
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Write here: a .tar.gz or .tgz file, or a directory for any other name
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: PathBuf,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let spec = SyntheticSpec {
        namespaces: args.namespaces,
        pods: args.pods,
        istio_objects: args.istio_objects,
        version: args.version,
        revision: args.revision,
        legacy: args.legacy,
        seed: args.seed,
    };
    let written = generate(&spec).map_err(|e| e.to_string()).and_then(|snapshot| {
        snapshot.write(&args.output).map_err(|e| e.to_string())?;
        Ok(snapshot.objects.len())
    });
    match written {
        Ok(objects) => {
            eprintln!("wrote {objects} objects to {}", args.output.display());
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}
