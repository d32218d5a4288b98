//! How a release is stored in the cluster, byte for byte as Helm's Secret driver does it: one Secret
//! per revision named `sh.helm.release.v1.<name>.v<revision>`, of type `helm.sh/release.v1`, with
//! labels Helm selects on (`owner=helm`, `name`, `status`, `version`) and one data key, `release`,
//! holding base64(gzip(JSON)). The API's own base64 of Secret data comes on top, so the wire form is
//! base64(base64(gzip(JSON))).

use std::collections::BTreeMap;
use std::io::{Read as _, Write as _};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use serde_json::{Map, Value, json};

use super::ReleaseError;
use super::model::Release;

/// The `type` of a release Secret.
pub const SECRET_TYPE: &str = "helm.sh/release.v1";
/// The label every release record carries (`owner=helm`); `helm list` selects on it.
pub const OWNER_LABEL: &str = "owner";
/// The labels Helm reserves on a release record; user labels may not use them.
pub const SYSTEM_LABELS: [&str; 6] = ["name", OWNER_LABEL, "status", "version", "createdAt", "modifiedAt"];

/// The largest `data` the API server accepts in one Secret.
const MAX_SECRET_DATA: usize = 1024 * 1024;

/// The name of the record of one revision: `sh.helm.release.v1.<name>.v<revision>`.
pub fn secret_name(name: &str, version: u32) -> String {
    format!("sh.helm.release.v1.{name}.v{version}")
}

/// The label selector of every revision of a release, as Helm queries it.
pub(crate) fn history_selector(name: &str) -> String {
    format!("name={name},{OWNER_LABEL}=helm")
}

/// Encodes a release as the `release` value Helm stores: JSON, gzip, standard base64.
pub fn encode(release: &Release) -> Result<String, ReleaseError> {
    let failed = |message: String| ReleaseError::Encode {
        release: release.name.clone(),
        version: release.version,
        message,
    };
    let json = serde_json::to_vec(release).map_err(|e| failed(e.to_string()))?;
    let mut gzip = GzEncoder::new(Vec::new(), Compression::best());
    gzip.write_all(&json).map_err(|e| failed(e.to_string()))?;
    let compressed = gzip.finish().map_err(|e| failed(e.to_string()))?;
    Ok(STANDARD.encode(compressed))
}

/// Decodes the `release` value of a record: base64, then gunzip when it is gzip (early Helm 3 stored
/// plain JSON), then JSON. `record` names the record in errors.
pub fn decode(text: &str, record: &str) -> Result<Release, ReleaseError> {
    let corrupt = |reason: String| ReleaseError::Corrupt { record: record.to_string(), reason };
    let bytes =
        STANDARD.decode(text.trim()).map_err(|e| corrupt(format!("data.release is not base64: {e}")))?;
    let json = if bytes.len() > 3 && bytes.starts_with(&[0x1f, 0x8b, 0x08]) {
        let mut json = Vec::new();
        GzDecoder::new(bytes.as_slice())
            .read_to_end(&mut json)
            .map_err(|e| corrupt(format!("data.release is not valid gzip: {e}")))?;
        json
    } else {
        bytes
    };
    let mut release: Release = serde_json::from_slice(&json)
        .map_err(|e| corrupt(format!("data.release is not a Helm release: {e}")))?;
    // Helm fills `info.resources` only in memory, and cannot read a record that has it.
    release.info.other.remove("resources");
    Ok(release)
}

/// Whether a record is being created or updated: Helm labels the first with `createdAt` and
/// every later write (a fresh object) with `modifiedAt`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Write<'a> {
    /// A new record.
    Create,
    /// An update of the record read at this `resourceVersion`.
    Update(&'a str),
}

/// The Secret that stores one revision.
pub(crate) fn to_secret(
    release: &Release,
    write: Write<'_>,
    unix_seconds: u64,
) -> Result<Value, ReleaseError> {
    let encoded = encode(release)?;
    if encoded.len() > MAX_SECRET_DATA {
        return Err(ReleaseError::TooLarge {
            release: release.name.clone(),
            version: release.version,
            bytes: encoded.len(),
            manifest_bytes: release.manifest.len(),
            chart_bytes: release
                .chart
                .templates
                .iter()
                .chain(&release.chart.files)
                .map(|f| f.data.len())
                .sum(),
        });
    }
    let mut labels: Map<String, Value> =
        release.labels.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
    labels.insert("name".into(), release.name.clone().into());
    labels.insert(OWNER_LABEL.into(), "helm".into());
    labels.insert("status".into(), release.info.status.as_str().into());
    labels.insert("version".into(), release.version.to_string().into());
    let mut metadata = json!({
        "name": secret_name(&release.name, release.version),
        "namespace": release.namespace,
    });
    match write {
        Write::Create => {
            labels.insert("createdAt".into(), unix_seconds.to_string().into());
        }
        Write::Update(resource_version) => {
            labels.insert("modifiedAt".into(), unix_seconds.to_string().into());
            metadata["resourceVersion"] = resource_version.into();
        }
    }
    metadata["labels"] = Value::Object(labels);
    Ok(json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": metadata,
        "type": SECRET_TYPE,
        "data": {"release": STANDARD.encode(encoded)},
    }))
}

/// Reads the release stored in a record (a Secret as the API returns it). The record's labels other
/// than the reserved ones become [`Release::labels`].
pub fn from_secret(secret: &Value) -> Result<Release, ReleaseError> {
    let text = |pointer: &str| secret.pointer(pointer).and_then(Value::as_str).unwrap_or("");
    let record = format!("Secret {}/{}", text("/metadata/namespace"), text("/metadata/name"));
    let corrupt = |reason: &str| ReleaseError::Corrupt { record: record.clone(), reason: reason.to_string() };
    let data = secret
        .pointer("/data/release")
        .and_then(Value::as_str)
        .ok_or_else(|| corrupt("it has no data.release"))?;
    let inner =
        STANDARD.decode(data).map_err(|_| corrupt("data.release is not base64 (as Secret data must be)"))?;
    let inner = String::from_utf8(inner).map_err(|_| corrupt("data.release does not hold base64 text"))?;
    let mut release = decode(&inner, &record)?;
    release.labels = secret
        .pointer("/metadata/labels")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter(|(key, _)| !SYSTEM_LABELS.contains(&key.as_str()))
        .filter_map(|(key, value)| Some((key.clone(), value.as_str()?.to_string())))
        .collect::<BTreeMap<_, _>>();
    Ok(release)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::release::model::Status;

    fn helm_fixture() -> Value {
        let text = include_str!("../../tests/fixtures/release/helm-v3.22.0-install-secret.json");
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn a_record_the_helm_cli_wrote_decodes() {
        let secret = helm_fixture();
        let release = from_secret(&secret).unwrap();
        assert_eq!(release.name, "demo");
        assert_eq!(release.version, 1);
        assert_eq!(release.status(), Status::Deployed);
        assert_eq!(release.info.description, "Install complete");
        assert_eq!(release.info.first_deployed.as_str(), "2026-11-22T08:57:45.04512262Z");
        assert!(release.info.deleted.is_zero());
        assert_eq!(release.info.notes, "Installed demo.\n");
        let metadata = release.chart.metadata.as_ref().unwrap();
        assert_eq!((metadata.name.as_str(), metadata.app_version.as_str()), ("demo", "1.2.3"));
        assert_eq!(metadata.other["keywords"], json!(["test"]));
        assert_eq!(release.chart.templates.len(), 2);
        assert_eq!(release.config, json!({"greeting": "bonjour"}).as_object().unwrap().clone());
        assert_eq!(
            release.manifest,
            "---\n# Source: demo/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: demo-config\ndata:\n  greeting: \"bonjour\"\n"
        );
        assert!(release.labels.is_empty(), "system labels are not user labels: {:?}", release.labels);
    }

    #[test]
    fn what_sailplan_writes_reads_back_identically() {
        let mut release = from_secret(&helm_fixture()).unwrap();
        release.labels.insert("team".into(), "mesh".into());
        let secret = to_secret(&release, Write::Create, 1_795_337_865).unwrap();
        assert_eq!(secret["metadata"]["name"], "sh.helm.release.v1.demo.v1");
        assert_eq!(secret["type"], SECRET_TYPE);
        assert_eq!(
            secret["metadata"]["labels"],
            json!({"team": "mesh", "name": "demo", "owner": "helm", "status": "deployed", "version": "1", "createdAt": "1795337865"})
        );
        assert_eq!(from_secret(&secret).unwrap(), release);
        // Two base64 layers on the wire, then gzip with Helm's magic, then JSON.
        let outer = STANDARD.decode(secret["data"]["release"].as_str().unwrap()).unwrap();
        let gzip = STANDARD.decode(outer).unwrap();
        assert_eq!(&gzip[..3], &[0x1f, 0x8b, 0x08]);
        let updated = to_secret(&release, Write::Update("42"), 7).unwrap();
        assert_eq!(updated["metadata"]["resourceVersion"], "42");
        assert_eq!(updated["metadata"]["labels"]["modifiedAt"], "7");
        assert!(updated["metadata"]["labels"].get("createdAt").is_none());
    }

    #[test]
    fn uncompressed_json_from_early_helm_3_is_read() {
        let json = r#"{"name":"old","version":2,"info":{"status":"superseded","resources":{"v1/Pod":[]}},"chart":{"metadata":{"name":"old","version":"1.0.0"}}}"#;
        let release = decode(&STANDARD.encode(json), "Secret ns/old").unwrap();
        assert_eq!((release.version, release.status()), (2, Status::Superseded));
        assert!(release.info.other.is_empty(), "info.resources is dropped");
    }

    #[test]
    fn broken_records_are_named() {
        let error = decode("not base64!", "Secret ns/sh.helm.release.v1.x.v1").unwrap_err().to_string();
        assert!(error.contains("Secret ns/sh.helm.release.v1.x.v1") && error.contains("base64"), "{error}");
        let mut secret = helm_fixture();
        secret["data"]["release"] = json!(STANDARD.encode(STANDARD.encode(b"[1, 2]")));
        let error = from_secret(&secret).unwrap_err().to_string();
        assert!(error.contains("sp-release-fixture/sh.helm.release.v1.demo.v1"), "{error}");
    }

    #[test]
    fn records_over_the_api_limit_are_refused_before_writing() {
        let mut release = from_secret(&helm_fixture()).unwrap();
        // Incompressible text: base64 of pseudo-random bytes.
        let mut state = 0x2545_f491_u32;
        let noise: Vec<u8> = (0..900_000)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                state as u8
            })
            .collect();
        release.manifest = STANDARD.encode(noise);
        let error = to_secret(&release, Write::Create, 0).unwrap_err().to_string();
        assert!(error.contains("demo") && error.contains("1 MiB"), "{error}");
    }
}
