//! YAML in and out, read the way kubectl reads it. We parse with `serde-saphyr` (pure Rust, maintained;
//! see docs/decisions/0001-yaml-serde-saphyr.md) with legacy octal numbers on, so `defaultMode: 0644`
//! means 420 as it does for kubectl, and YAML 1.1 booleans (`yes`, `on`) are booleans. Output quotes
//! every string that another YAML reader could take for a number, boolean or null.

use serde_json::Value;

/// A YAML text that could not be parsed; the message quotes the line and column.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct YamlError(Box<serde_saphyr::Error>);

/// A value that could not be written as YAML.
#[derive(Debug, thiserror::Error)]
#[error("cannot write YAML: {0}")]
pub struct EmitError(#[from] serde_saphyr::SerializeError);

fn options() -> serde_saphyr::Options {
    serde_saphyr::options! { legacy_octal_numbers: true }
}

/// Parses a single YAML document. An empty text is `null`.
pub fn parse_one(text: &str) -> Result<Value, YamlError> {
    if text.trim().is_empty() {
        return Ok(Value::Null);
    }
    serde_saphyr::from_str_with_options(text, options()).map_err(|e| YamlError(Box::new(e)))
}

/// Parses a multi-document YAML stream; empty documents are skipped.
pub fn parse_documents(text: &str) -> Result<Vec<Value>, YamlError> {
    let docs: Vec<Value> =
        serde_saphyr::from_str_multiple_with_options(text, options()).map_err(|e| YamlError(Box::new(e)))?;
    Ok(docs.into_iter().filter(|d| !d.is_null()).collect())
}

/// Writes a value as block-style YAML with a trailing newline.
pub fn to_string(value: &Value) -> Result<String, EmitError> {
    Ok(serde_saphyr::to_string(value)?)
}
