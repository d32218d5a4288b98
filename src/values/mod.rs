//! Values exactly as Helm builds them: `-f` files deep-merged in order, then `--set-json`, `--set`,
//! `--set-string`, `--set-file` and `--set-literal` applied in that fixed order (grouped by flag type,
//! not by position on the command line), then coalesced over chart defaults and checked against the
//! chart's `values.schema.json`.

pub mod merge;
pub mod schema;
pub mod strvals;

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::yaml;

/// Everything a user can pass to shape values, as the `-f`/`--set*` flags collect it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ValueOptions {
    /// `-f/--values`: YAML files (or `-` for stdin), merged in order.
    pub files: Vec<PathBuf>,
    /// `--set-json`: `key=<json>` items.
    pub json: Vec<String>,
    /// `--set`: typed `key=value` items.
    pub set: Vec<String>,
    /// `--set-string`: `key=value` items whose values are always strings.
    pub string: Vec<String>,
    /// `--set-file`: `key=path` items whose values are file contents.
    pub file: Vec<String>,
    /// `--set-literal`: one `key=value` per flag, the value taken verbatim.
    pub literal: Vec<String>,
}

/// A values input that cannot be read or understood.
#[derive(Debug, thiserror::Error)]
pub enum ValuesError {
    /// A `-f` file could not be read.
    #[error("cannot read values file {path}: {source}")]
    Read {
        /// The file named on the command line.
        path: PathBuf,
        /// The I/O failure.
        #[source]
        source: std::io::Error,
    },
    /// A `-f` file is not valid YAML.
    #[error("values file {path} is not valid YAML: {source}")]
    Parse {
        /// The file named on the command line.
        path: PathBuf,
        /// The parser's error, with line and column.
        #[source]
        source: yaml::YamlError,
    },
    /// A `-f` file holds something other than a map at the top.
    #[error("values file {path} must hold a map of values at the top level, not {found}")]
    NotAMap {
        /// The file named on the command line.
        path: PathBuf,
        /// What it held instead.
        found: &'static str,
    },
    /// A `--set*` expression is malformed.
    #[error("invalid {flag} expression {expr:?}: {source}")]
    Set {
        /// The flag, e.g. `--set-string`.
        flag: &'static str,
        /// The expression as given.
        expr: String,
        /// What is wrong with it.
        #[source]
        source: strvals::SetError,
    },
}

impl ValueOptions {
    /// True when the user passed no values at all.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// Builds the user-supplied values map in Helm's order. Relative `-f` and `--set-file` paths are
    /// resolved against the current directory.
    pub fn merge(&self) -> Result<Map<String, Value>, ValuesError> {
        let mut values = Map::new();
        for path in &self.files {
            let text = read_values_file(path)?;
            let parsed = yaml::parse_one(&text).map_err(|source| ValuesError::Parse {
                path: path.clone(),
                source: source.in_source(&path.display().to_string()),
            })?;
            match parsed {
                Value::Object(map) => merge::deep_merge(&mut values, map),
                Value::Null => {}
                other => {
                    return Err(ValuesError::NotAMap {
                        path: path.clone(),
                        found: strvals::describe(&other),
                    });
                }
            }
        }
        let read_file = |p: &str| {
            std::fs::read_to_string(p).map_err(|e| format!("cannot read file {p:?} given to --set-file: {e}"))
        };
        let groups: [(&'static str, &[String], strvals::SetKind); 4] = [
            ("--set-json", &self.json, strvals::SetKind::Json),
            ("--set", &self.set, strvals::SetKind::Typed),
            ("--set-string", &self.string, strvals::SetKind::String),
            ("--set-file", &self.file, strvals::SetKind::File),
        ];
        for (flag, exprs, kind) in groups {
            for expr in exprs {
                strvals::apply(expr, kind, &mut values, &read_file).map_err(|source| ValuesError::Set {
                    flag,
                    expr: expr.clone(),
                    source,
                })?;
            }
        }
        for expr in &self.literal {
            strvals::apply_literal(expr, &mut values).map_err(|source| ValuesError::Set {
                flag: "--set-literal",
                expr: expr.clone(),
                source,
            })?;
        }
        Ok(values)
    }
}

fn read_values_file(path: &Path) -> Result<String, ValuesError> {
    let result = if path == Path::new("-") {
        std::io::read_to_string(std::io::stdin())
    } else {
        std::fs::read_to_string(path)
    };
    result.map_err(|source| ValuesError::Read { path: path.to_path_buf(), source })
}
