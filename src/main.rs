//! The `sailplan` binary: parse arguments, run, print errors with hints, exit with the documented code.
//!
//! It allocates with mimalloc: reading a large cluster's snapshot makes millions of small JSON
//! strings and maps, and the system allocator spends much of planning's time and memory on them
//! (docs/benchmarks.md). Without transparent huge pages (mimalloc's `no_thp`): with them, memory
//! mimalloc returns to the system and takes back is zeroed again 2 MiB at a time, which cost planning
//! a large cluster seconds of system time.

use std::process::ExitCode;

use clap::Parser;
use sailplan::cli::{Cli, print_error};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    match Cli::parse().run() {
        Ok(code) => code,
        Err(error) => {
            print_error(&error);
            ExitCode::FAILURE
        }
    }
}
