//! `values.schema.json` validation. Helm validates each chart's coalesced values against the chart's
//! schema after merging and before rendering; we do the same and report every violation with the JSON
//! pointer of the offending value and the value itself, in the shape Helm users know.

use serde_json::Value;

/// The coalesced values of one chart break its schema, or the schema itself is unusable.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    /// One or more values violate the schema.
    #[error("values don't meet the specifications of the schema(s) in the following chart(s):\n{chart}:\n{}", violations.join("\n"))]
    Violations {
        /// The chart whose schema was broken.
        chart: String,
        /// One line per violation: `- at '<pointer>': <message> (value: <v>)`.
        violations: Vec<String>,
    },
    /// The chart's `values.schema.json` is not a usable JSON Schema.
    #[error("chart {chart}: values.schema.json is not a valid JSON Schema: {message}")]
    InvalidSchema {
        /// The chart that ships the schema.
        chart: String,
        /// The compiler's complaint.
        message: String,
    },
}

/// Validates `values` against `schema` (JSON Schema, draft 2020-12 unless `$schema` says otherwise).
pub fn validate(chart: &str, schema: &Value, values: &Value) -> Result<(), SchemaError> {
    let validator = jsonschema::validator_for(schema)
        .map_err(|e| SchemaError::InvalidSchema { chart: chart.to_string(), message: e.to_string() })?;
    let mut violations: Vec<String> = validator
        .iter_errors(values)
        .map(|error| {
            let pointer = error.instance_path().to_string();
            let shown = short(error.instance());
            format!("- at '{pointer}': {error} (value: {shown})")
        })
        .collect();
    if violations.is_empty() {
        return Ok(());
    }
    violations.sort();
    violations.dedup();
    Err(SchemaError::Violations { chart: chart.to_string(), violations })
}

/// The offending value as compact JSON, cut short so a large map does not flood the terminal.
fn short(value: &Value) -> String {
    const LIMIT: usize = 80;
    let text = value.to_string();
    if text.chars().count() <= LIMIT {
        return text;
    }
    let cut: String = text.chars().take(LIMIT).collect();
    format!("{cut}…")
}
