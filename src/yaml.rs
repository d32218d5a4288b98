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

fn options() -> serde_saphyr::Options {
    serde_saphyr::options! { legacy_octal_numbers: true }
}

/// Parses a single YAML document. An empty text is `null`.
pub fn parse_one(text: &str) -> Result<Value, YamlError> {
    if text.trim().is_empty() {
        return Ok(Value::Null);
    }
    serde_saphyr::from_str_with_options(text, options()).map_err(|e| YamlError::new(&e))
}

/// Parses a multi-document YAML stream; empty documents are skipped.
pub fn parse_documents(text: &str) -> Result<Vec<Value>, YamlError> {
    let docs: Vec<Value> =
        serde_saphyr::from_str_multiple_with_options(text, options()).map_err(|e| YamlError::new(&e))?;
    Ok(docs.into_iter().filter(|d| !d.is_null()).collect())
}

/// Writes a value as block-style YAML with a trailing newline.
pub fn to_string(value: &Value) -> Result<String, EmitError> {
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
    fn parse_errors_carry_line_and_column() {
        let message = parse_one("a: b\n  c: d: e\n").unwrap_err().to_string();
        assert!(message.contains("line 2 column 4"), "{message}");
    }
}
