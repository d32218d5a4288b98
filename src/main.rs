//! The `sailplan` binary: parse arguments, run, print errors with hints, exit with the documented code.

use std::process::ExitCode;

use clap::Parser;
use sailplan::cli::{Cli, print_error};

fn main() -> ExitCode {
    match Cli::parse().run() {
        Ok(code) => code,
        Err(error) => {
            print_error(&error);
            ExitCode::FAILURE
        }
    }
}
