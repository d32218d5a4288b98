//! The `manifest` text of a release, in Helm's format: one `---\n# Source: <chart>/templates/<file>\n`
//! header per object, then the object as YAML. `helm get manifest` prints it as stored, Helm rolls
//! back from it, and Helm's next upgrade diffs against it; sailplan reads it back into objects to know
//! what a revision (its own or Helm's) installed.

use serde_json::Value;

use super::ReleaseError;
use crate::chart::ChartError;
use crate::chart::manifest::{self, Manifest};
use crate::yaml;

/// The manifest text of a release's objects (in install order, as rendered), as Helm stores it.
pub fn manifest_text(manifests: &[Manifest]) -> Result<String, ChartError> {
    manifest::to_helm_template(manifests)
}

/// The objects of a stored manifest text, each with the template named in its `# Source:` line.
/// Documents holding only comments are skipped. `release` names the release in errors, which give
/// the template and never quote the text (a manifest may hold Secrets).
pub fn parse_manifest(text: &str, release: &str) -> Result<Vec<Manifest>, ReleaseError> {
    let mut objects = Vec::new();
    for document in split(text) {
        let source = document
            .lines()
            .find_map(|line| line.strip_prefix("# Source: "))
            .map(|s| s.trim().to_string())
            .unwrap_or_default();
        let bad = |reason: &str| ReleaseError::Manifest {
            release: release.to_string(),
            template: if source.is_empty() { "a document without # Source:".into() } else { source.clone() },
            reason: reason.to_string(),
        };
        let object = yaml::parse_one(&document).map_err(|_| bad("it is not valid YAML"))?;
        match &object {
            Value::Null => continue,
            Value::Object(_) if object.pointer("/kind").and_then(Value::as_str).is_some() => {}
            _ => return Err(bad("it is not a Kubernetes object")),
        }
        objects.push(Manifest { source, object });
    }
    Ok(objects)
}

/// Splits on lines that are `---` (optionally followed by white space), as Helm does.
fn split(text: &str) -> Vec<String> {
    let mut documents = vec![String::new()];
    for line in text.lines() {
        let separator = line
            .strip_prefix("---")
            .is_some_and(|rest| rest.is_empty() || rest.starts_with(char::is_whitespace));
        match documents.last_mut() {
            Some(current) if !separator => {
                current.push_str(line);
                current.push('\n');
            }
            _ => documents.push(String::new()),
        }
    }
    documents.retain(|d| !d.trim().is_empty());
    documents
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_text_has_helms_headers_and_reads_back() {
        let manifests = vec![
            Manifest {
                source: "demo/templates/cm.yaml".into(),
                object: json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}, "data": {"k": "v"}}),
            },
            Manifest {
                source: "demo/templates/svc.yaml".into(),
                object: json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "b"}}),
            },
        ];
        let text = manifest_text(&manifests).unwrap();
        assert_eq!(
            text,
            "---\n# Source: demo/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  k: v\n\
             ---\n# Source: demo/templates/svc.yaml\napiVersion: v1\nkind: Service\nmetadata:\n  name: b\n"
        );
        assert_eq!(parse_manifest(&text, "demo").unwrap(), manifests);
    }

    #[test]
    fn helm_written_text_with_comment_only_documents_reads() {
        let text = "---\n# Source: demo/templates/empty.yaml\n# nothing here\n---\n# Source: demo/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: demo-config\n";
        let objects = parse_manifest(text, "demo").unwrap();
        assert_eq!(objects.len(), 1);
        assert_eq!(objects[0].source, "demo/templates/cm.yaml");
        assert_eq!(objects[0].name(), "demo-config");
    }

    #[test]
    fn errors_name_the_template_but_not_the_text() {
        let text = "---\n# Source: demo/templates/secret.yaml\napiVersion: v1\nkind: Secret\ndata: {password: planted-value\n";
        let error = parse_manifest(text, "demo").unwrap_err().to_string();
        assert!(error.contains("demo/templates/secret.yaml") && error.contains("demo"), "{error}");
        assert!(!error.contains("planted-value"), "{error}");
        let error = parse_manifest("---\n- a\n", "demo").unwrap_err().to_string();
        assert!(error.contains("not a Kubernetes object"), "{error}");
    }
}
