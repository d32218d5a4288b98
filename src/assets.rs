//! The charts and profiles compiled into the binary, so one file runs anywhere. A working copy on
//! disk can replace the charts for chart development (`--charts DIR`).

use include_dir::{Dir, include_dir};

/// `charts/`: one directory per chart.
pub static CHARTS: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/charts");

/// `profiles/`: one YAML file per profile.
pub static PROFILES: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/profiles");

/// `migrations/`: one metadata file per versioned migration.
pub static MIGRATIONS: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/migrations");
