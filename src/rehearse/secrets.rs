//! What a snapshot never holds and a rehearsal needs: Secret values. `collect` keeps a Secret's name,
//! type and key names only, but a plan may copy Secret data (the SDS migration) and the executor
//! reads Helm's release records (Secrets whose value is the release). So before the simulation is
//! built, every Secret gets a placeholder value per key (the words "simulated value"), and every Helm
//! release record a release rebuilt from its labels: its name, revision and status, with no manifest
//! and no chart content (those were never collected). Nothing here is a customer's value.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};

use crate::collect::SECRET_KEYS_ANNOTATION;
use crate::release::codec;
use crate::release::model::{Metadata, Release, Status};

/// The placeholder of every Secret value.
const PLACEHOLDER: &str = "simulated value";

/// The Secret type of Helm's release records.
const HELM_RELEASE_TYPE: &str = "helm.sh/release.v1";

fn label<'v>(object: &'v Value, key: &str) -> Option<&'v str> {
    object.pointer("/metadata/labels").and_then(|l| l.get(key)).and_then(Value::as_str)
}

/// A Helm release record's value, rebuilt from the record's labels.
fn release_value(secret: &Value) -> Option<String> {
    let name = label(secret, "name")?;
    let version: u32 = label(secret, "version")?.parse().ok()?;
    let status: Status = serde_json::from_value(json!(label(secret, "status")?)).ok()?;
    let namespace = secret.pointer("/metadata/namespace").and_then(Value::as_str).unwrap_or("");
    let mut release =
        Release { name: name.to_string(), version, namespace: namespace.to_string(), ..Release::default() };
    release.info.status = status;
    release.info.description = "rebuilt from the record's labels for a rehearsal".to_string();
    release.chart.metadata = Some(Metadata {
        name: name.to_string(),
        version: "0.0.0".to_string(),
        api_version: "v2".to_string(),
        ..Metadata::default()
    });
    let encoded = codec::encode(&release).ok()?;
    Some(STANDARD.encode(encoded))
}

/// `secret` with placeholder data, unless it has data already (any other object as it is).
pub fn fill_in(object: Arc<Value>) -> Arc<Value> {
    if object.get("kind").and_then(Value::as_str) != Some("Secret") || object.get("data").is_some() {
        return object;
    }
    let mut secret = Arc::unwrap_or_clone(object);
    let keys: Vec<String> = secret
        .pointer("/metadata/annotations")
        .and_then(|a| a.get(SECRET_KEYS_ANNOTATION))
        .and_then(Value::as_str)
        .map(|keys| keys.split(',').filter(|k| !k.is_empty()).map(str::to_string).collect())
        .unwrap_or_default();
    let helm = secret.get("type").and_then(Value::as_str) == Some(HELM_RELEASE_TYPE);
    let release = if helm { release_value(&secret) } else { None };
    let mut data: Map<String, Value> =
        keys.into_iter().map(|key| (key, json!(STANDARD.encode(PLACEHOLDER)))).collect();
    if let Some(release) = release {
        // A record whose key names were not collected still holds its release under `release`.
        data.insert("release".to_string(), json!(release));
    }
    if !data.is_empty() {
        secret["data"] = Value::Object(data);
    }
    Arc::new(secret)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn secrets_get_placeholders_and_release_records_a_readable_release() {
        let secret = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "cert", "namespace": "a",
            "annotations": {SECRET_KEYS_ANNOTATION: "tls.crt,tls.key"}}});
        let filled = fill_in(Arc::new(secret));
        assert_eq!(filled["data"]["tls.key"], STANDARD.encode(PLACEHOLDER));
        let record = json!({"apiVersion": "v1", "kind": "Secret", "type": HELM_RELEASE_TYPE,
            "metadata": {"name": "sh.helm.release.v1.istio-base.v1", "namespace": "istio-system",
                "labels": {"name": "istio-base", "owner": "helm", "status": "deployed", "version": "1"},
                "annotations": {SECRET_KEYS_ANNOTATION: "release"}}});
        let release = codec::from_secret(&fill_in(Arc::new(record))).unwrap();
        assert_eq!(
            (release.name.as_str(), release.version, release.status()),
            ("istio-base", 1, Status::Deployed)
        );
    }
}
