//! Backups (ARCHITECTURE.md §6: nothing is deleted that has not been backed up first). Every object a
//! step backs up is stored in the cluster, as a Secret `sailplan-backup-<plan>-<n>` of type
//! `sailplan.dev/backup` in the control-plane namespace, so that a Secret's values never leave the
//! cluster; objects other than Secrets are also written under `<journal dir>/<plan-id>/backups/`, for
//! the operator to read and to restore from should the in-cluster copy be gone. Restores read the
//! in-cluster copy first and the local one second.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use super::journal::{BackupRecord, MANAGED_BY, PLAN_LABEL, short_id};
use super::kinds::{self, Kinds};
use crate::cluster::{ApplyOptions, Cluster, ClusterError, ObjectRef};

/// The type of backup Secrets.
pub const BACKUP_SECRET_TYPE: &str = "sailplan.dev/backup";
/// The annotation on a backup Secret naming the object it holds.
pub const BACKUP_OF_ANNOTATION: &str = "sailplan.dev/backup-of";
/// The data key holding the object.
const OBJECT_KEY: &str = "object.json";

/// Why a backup could not be taken or read.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// Reading the object or writing its backup failed.
    #[error("cannot back up {object}: {source}")]
    Cluster {
        /// The object.
        object: String,
        /// What the cluster said.
        #[source]
        source: Box<ClusterError>,
    },
    /// The local copy could not be written or read.
    #[error("cannot {verb} the local backup {path} of {object}: {message}")]
    File {
        /// `write` or `read`.
        verb: &'static str,
        /// The file.
        path: PathBuf,
        /// The object.
        object: String,
        /// What failed.
        message: String,
    },
    /// Neither copy can be found.
    #[error(
        "the backup of {object} is gone (Secret {secret} in the cluster, and no local copy); restore it by hand from your own records"
    )]
    Missing {
        /// The object.
        object: String,
        /// The backup Secret's name.
        secret: String,
    },
}

/// The name of backup number `n` of a plan.
pub fn secret_name(plan_id: &str, n: usize) -> String {
    format!("sailplan-backup-{}-{n}", short_id(plan_id))
}

fn file_name(n: usize, object: &ObjectRef) -> String {
    let clean =
        |s: &str| {
            s.chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                        c.to_ascii_lowercase()
                    } else {
                        '_'
                    }
                })
                .collect::<String>()
        };
    let namespace = object.namespace.as_deref().map(|n| format!("{}-", clean(n))).unwrap_or_default();
    format!("{n:03}-{}-{namespace}{}.json", clean(&object.kind), clean(&object.name))
}

/// Backs `target` up as backup number `n`: in the cluster always, locally when it is not a Secret.
/// An object that does not exist is recorded as such (nothing to restore, nothing to delete).
pub async fn back_up<C: Cluster>(
    cluster: &C,
    kinds: &mut Kinds,
    target: &ObjectRef,
    plan_id: &str,
    n: usize,
    namespace: &str,
    local_dir: &Path,
) -> Result<BackupRecord, BackupError> {
    let cluster_error =
        |source| BackupError::Cluster { object: target.to_string(), source: Box::new(source) };
    let resource = kinds.resource(cluster, &target.api_version, &target.kind).await;
    let live = match resource {
        Ok(resource) => {
            cluster.get(&resource, target.namespace.as_deref(), &target.name).await.map_err(cluster_error)?
        }
        // A kind no longer served has no objects to back up.
        Err(ClusterError::UnknownKind { .. }) => None,
        Err(e) => return Err(cluster_error(e)),
    };
    let Some(live) = live else {
        return Ok(BackupRecord { object: target.clone(), secret: None, file: None });
    };
    let mut live = std::sync::Arc::unwrap_or_clone(live);
    if let Some(metadata) = live.get_mut("metadata").and_then(Value::as_object_mut) {
        metadata.remove("managedFields");
    }
    let name = secret_name(plan_id, n);
    let text = serde_json::to_string(&live).unwrap_or_default();
    let secret = json!({
        "apiVersion": "v1", "kind": "Secret", "type": BACKUP_SECRET_TYPE,
        "metadata": {"name": name, "namespace": namespace,
            "labels": {MANAGED_BY.0: MANAGED_BY.1, PLAN_LABEL: short_id(plan_id)},
            "annotations": {BACKUP_OF_ANNOTATION: target.to_string()}},
        "data": {OBJECT_KEY: STANDARD.encode(text.as_bytes())},
    });
    cluster.apply(&secret, ApplyOptions { dry_run: false, force: true }).await.map_err(cluster_error)?;
    let file = if target.kind == "Secret" {
        None
    } else {
        let path = local_dir.join(file_name(n, target));
        let file_error = |e: std::io::Error| BackupError::File {
            verb: "write",
            path: path.clone(),
            object: target.to_string(),
            message: e.to_string(),
        };
        std::fs::create_dir_all(local_dir).map_err(file_error)?;
        let pretty = serde_json::to_string_pretty(&live).unwrap_or_default();
        std::fs::write(&path, format!("{pretty}\n")).map_err(file_error)?;
        Some(path)
    };
    Ok(BackupRecord { object: target.clone(), secret: Some(name), file })
}

/// The object a backup holds: from its in-cluster Secret, else from the local copy; `None` when the
/// object did not exist when it was backed up.
pub async fn read<C: Cluster>(
    cluster: &C,
    record: &BackupRecord,
    namespace: &str,
) -> Result<Option<Value>, BackupError> {
    let Some(secret_name) = &record.secret else { return Ok(None) };
    let object = record.object.to_string();
    let stored = cluster
        .get(&kinds::secret(), Some(namespace), secret_name)
        .await
        .map_err(|source| BackupError::Cluster { object: object.clone(), source: Box::new(source) })?;
    if let Some(decoded) = stored
        .as_ref()
        .and_then(|s| s.pointer(&format!("/data/{OBJECT_KEY}")))
        .and_then(Value::as_str)
        .and_then(|text| STANDARD.decode(text).ok())
        .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
    {
        return Ok(Some(decoded));
    }
    match &record.file {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| BackupError::File {
                verb: "read",
                path: path.clone(),
                object: object.clone(),
                message: e.to_string(),
            })?;
            serde_json::from_str(&text).map(Some).map_err(|e| BackupError::File {
                verb: "read",
                path: path.clone(),
                object,
                message: e.to_string(),
            })
        }
        None => Err(BackupError::Missing { object, secret: secret_name.clone() }),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn names_are_stable_and_safe() {
        assert_eq!(secret_name("ABCdef0123456789", 3), "sailplan-backup-abcdef012345-3");
        let target = ObjectRef {
            api_version: "v1".into(),
            kind: "ConfigMap".into(),
            namespace: Some("ns".into()),
            name: "a:b".into(),
        };
        assert_eq!(file_name(7, &target), "007-configmap-ns-a_b.json");
    }
}
