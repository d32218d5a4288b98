//! YAML in and out, read the way kubectl reads it. We parse with `serde-saphyr` (pure Rust, maintained;
//! see docs/decisions/0001-yaml-serde-saphyr.md) with legacy octal numbers on, so `defaultMode: 0644`
//! means 420 as it does for kubectl, and YAML 1.1 booleans (`yes`, `on`) are booleans. Output quotes
//! every string that another YAML reader could take for a number, boolean or null.

use serde_json::Value;

/// A YAML text that could not be parsed; the message gives the line and column and quotes the text.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct YamlError(String);

impl YamlError {
    fn new(error: &serde_saphyr::Error) -> YamlError {
        let text = error.to_string();
        YamlError(text.strip_prefix("error: ").unwrap_or(&text).to_string())
    }

    /// Names the source in the quoted excerpt instead of `<input>`.
    pub fn in_source(self, name: &str) -> YamlError {
        YamlError(self.0.replace("<input>", name))
    }
}

/// A value that could not be written as YAML.
#[derive(Debug, thiserror::Error)]
#[error("cannot write YAML: {0}")]
pub struct EmitError(#[from] serde_saphyr::SerializeError);

/// Parser options for a text of `length` bytes. serde-saphyr's default budget caps a stream at
/// 250,000 nodes and a million events, which a snapshot's `core.Pod.yaml` passes at a few hundred
/// pods. Without aliases, nodes, events, scalar bytes and documents cannot outnumber the bytes of
/// the text, so those caps grow with it; the alias and anchor caps that stop expansion bombs, and
/// the nesting cap, stay at their defaults.
fn options(length: usize) -> serde_saphyr::Options {
    let defaults = serde_saphyr::Budget::default();
    serde_saphyr::options! {
        legacy_octal_numbers: true,
        budget: serde_saphyr::budget! {
            max_nodes: defaults.max_nodes.max(length),
            max_events: defaults.max_events.max(length.saturating_mul(2)),
            max_total_scalar_bytes: defaults.max_total_scalar_bytes.max(length),
            max_documents: defaults.max_documents.max(length / 4),
        },
    }
}

/// Parses a single YAML document. An empty text is `null`.
pub fn parse_one(text: &str) -> Result<Value, YamlError> {
    if text.trim().is_empty() {
        return Ok(Value::Null);
    }
    serde_saphyr::from_str_with_options(text, options(text.len())).map_err(|e| YamlError::new(&e))
}

/// Parses a multi-document YAML stream; empty documents are skipped.
pub fn parse_documents(text: &str) -> Result<Vec<Value>, YamlError> {
    let docs: Vec<Value> = serde_saphyr::from_str_multiple_with_options(text, options(text.len()))
        .map_err(|e| YamlError::new(&e))?;
    Ok(docs.into_iter().filter(|d| !d.is_null()).collect())
}

/// Writes a value as block-style YAML with a trailing newline. Any serialisable value is written as
/// its JSON form would be (a large plan is written without building that form first).
pub fn to_string<T: serde::Serialize>(value: &T) -> Result<String, EmitError> {
    Ok(serde_saphyr::to_string(value)?)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn reads_like_kubectl() {
        let value = parse_one("mode: 0644\nflag: yes\nother: off\nfloat: 1.5\nint: 8080\n").unwrap();
        assert_eq!(value, json!({"mode": 420, "flag": true, "other": false, "float": 1.5, "int": 8080}));
    }

    #[test]
    fn empty_documents_are_skipped() {
        let docs = parse_documents("a: 1\n---\n---\n# comment only\n---\nb: 2\n").unwrap();
        assert_eq!(docs, vec![json!({"a": 1}), json!({"b": 2})]);
        assert_eq!(parse_one("  \n").unwrap(), Value::Null);
    }

    #[test]
    fn ambiguous_strings_are_quoted_and_multiline_strings_are_blocks() {
        let value =
            json!({"a": "true", "b": "0644", "c": "yes", "d": "1.5", "e": "on", "f": "x\ny\n", "g": "plain"});
        let text = to_string(&value).unwrap();
        assert_eq!(
            text,
            "a: \"true\"\nb: \"0644\"\nc: \"yes\"\nd: \"1.5\"\ne: \"on\"\nf: |\n  x\n  y\ng: plain\n"
        );
        assert_eq!(parse_one(&text).unwrap(), value, "what we write reads back the same");
    }

    #[test]
    fn long_streams_are_read_and_alias_bombs_are_not() {
        let long: String = (0..40_000).map(|i| format!("- {{name: item-{i}, ports: [1, 2]}}\n")).collect();
        assert_eq!(parse_one(&long).unwrap().as_array().map(Vec::len), Some(40_000), "280,000 nodes");
        let mut bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n".to_string();
        for level in 1..9 {
            let previous = format!("*l{}", level - 1).replace("*l0", "*a");
            bomb.push_str(&format!("l{level}: &l{level} [{}]\n", vec![previous; 10].join(", ")));
        }
        assert!(parse_one(&bomb).is_err(), "10^9 expanded nodes from a few hundred bytes");
    }

    #[test]
    fn parse_errors_carry_line_and_column() {
        let message = parse_one("a: b\n  c: d: e\n").unwrap_err().to_string();
        assert!(message.contains("line 2 column 4"), "{message}");
    }
}
