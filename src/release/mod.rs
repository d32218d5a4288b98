//! Helm v3 release records. Every component sailplan installs (`istio-base`, `istiod-<revision>`,
//! the gateways) is recorded as a Helm release in Helm's own storage format, so `helm list`, `helm
//! history`, `helm get manifest|values` and `helm rollback` work on what sailplan installed, and
//! sailplan reads what `helm` wrote. Objects of a release carry Helm's ownership markers, and an
//! existing object joins a release only if it already belongs to it.
//!
//! * [`model`]: the record, field for field as Helm serialises it;
//! * [`codec`]: the Secret a revision is stored in, and the encoding of its `data.release`;
//! * [`ReleaseStore`]: history, and the status changes of install, upgrade and rollback;
//! * [`ownership`]: stamping objects and checking that existing ones may be adopted;
//! * [`manifest_text`] / [`parse_manifest`]: the stored manifest.
//!
//! Records hold the user's values and the rendered manifest, which may include secrets: nothing
//! here prints or logs them, and errors name records and templates, never their content.

pub mod codec;
mod history;
mod manifest;
pub mod model;
pub mod ownership;
mod store;
mod time;

use std::collections::BTreeMap;

pub use codec::{SECRET_TYPE, decode, encode, from_secret, secret_name};
pub use manifest::{manifest_text, parse_manifest};
pub use model::{File, Hook, HookRun, Info, Metadata, Release, ReleaseChart, ReleaseContent, Status};
pub use ownership::{Owner, OwnershipConflict, check_adoption, ownership_conflict, stamp};
pub use store::{DEFAULT_HISTORY_MAX, ReleaseStore};
pub use time::Timestamp;

use crate::cluster::ClusterError;

/// Why a release record could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum ReleaseError {
    /// The cluster refused or failed a request.
    #[error("release {release} in namespace {namespace}: {source}")]
    Cluster {
        /// The release.
        release: String,
        /// Its namespace.
        namespace: String,
        /// What the cluster said.
        #[source]
        source: Box<ClusterError>,
    },
    /// A stored record is not a Helm release.
    #[error(
        "{record} cannot be read as a Helm release record: {reason}; if it is not a release record, remove its owner=helm label"
    )]
    Corrupt {
        /// The record, e.g. `Secret istio-system/sh.helm.release.v1.istiod.v3`.
        record: String,
        /// What is wrong.
        reason: String,
    },
    /// A record could not be encoded.
    #[error("cannot encode revision {version} of release {release}: {message}")]
    Encode {
        /// The release.
        release: String,
        /// The revision.
        version: u32,
        /// What went wrong.
        message: String,
    },
    /// A record would exceed what the API server stores in one Secret.
    #[error(
        "revision {version} of release {release} is {bytes} bytes compressed, over the 1 MiB a Secret may hold \
         (manifest {manifest_bytes} bytes, chart files {chart_bytes} bytes); trim large files from the chart"
    )]
    TooLarge {
        /// The release.
        release: String,
        /// The revision.
        version: u32,
        /// The encoded size.
        bytes: usize,
        /// The manifest's size before compression.
        manifest_bytes: usize,
        /// The chart templates' and files' size before compression.
        chart_bytes: usize,
    },
    /// A release name Helm would not accept.
    #[error(
        "{release:?} is not a valid release name: {reason} (use at most 53 lower-case letters, digits, '-' and '.')"
    )]
    InvalidName {
        /// The name.
        release: String,
        /// What is wrong.
        reason: String,
    },
    /// User labels use a key Helm reserves on release records.
    #[error(
        "release {release}: label {label:?} is reserved for Helm's own use on release records; rename it"
    )]
    ReservedLabel {
        /// The release.
        release: String,
        /// The label key.
        label: String,
    },
    /// The last revision is still pending.
    #[error(
        "another operation (install/upgrade/rollback) is in progress on release {release} in namespace {namespace}: \
         revision {version} is {status}; wait for it to finish, or if it was interrupted, mark that revision failed and retry"
    )]
    InProgress {
        /// The release.
        release: String,
        /// Its namespace.
        namespace: String,
        /// The pending revision.
        version: u32,
        /// Its status.
        status: Status,
    },
    /// An install found the release installed.
    #[error(
        "cannot install release {release} in namespace {namespace}: the name is still in use (revision {version} is {status}); upgrade it instead"
    )]
    InUse {
        /// The release.
        release: String,
        /// Its namespace.
        namespace: String,
        /// The last revision.
        version: u32,
        /// Its status.
        status: Status,
    },
    /// An upgrade or rollback found nothing installed.
    #[error("release {release} has no deployed revision in namespace {namespace}; install it first")]
    NotInstalled {
        /// The release.
        release: String,
        /// Its namespace.
        namespace: String,
    },
    /// A revision asked for does not exist.
    #[error(
        "release {release} has no revision {version} in namespace {namespace}; `helm history {release} -n {namespace}` lists them"
    )]
    NoRevision {
        /// The release.
        release: String,
        /// Its namespace.
        namespace: String,
        /// The revision.
        version: u32,
    },
    /// A status change Helm's state machine does not allow.
    #[error(
        "cannot mark revision {version} of release {release} in namespace {namespace} {to}: it is {from}"
    )]
    Transition {
        /// The release.
        release: String,
        /// Its namespace.
        namespace: String,
        /// The revision.
        version: u32,
        /// Its status.
        from: Status,
        /// The status asked for.
        to: Status,
    },
    /// Someone else created the same revision first.
    #[error(
        "revision {version} of release {release} in namespace {namespace} was created by someone else at the same time; \
         check `helm history {release} -n {namespace}` and retry"
    )]
    RevisionTaken {
        /// The release.
        release: String,
        /// Its namespace.
        namespace: String,
        /// The revision.
        version: u32,
    },
    /// A record kept changing under a status change.
    #[error(
        "revision {version} of release {release} in namespace {namespace} kept changing while sailplan updated it; \
         another tool is working on this release: let it finish and retry"
    )]
    Contended {
        /// The release.
        release: String,
        /// Its namespace.
        namespace: String,
        /// The revision.
        version: u32,
    },
    /// Existing objects belong to another release, or to none.
    #[error(
        "release {release} in namespace {namespace} cannot take over existing objects:\n{}\n\
         An object of another release must be removed from that release first. To adopt an object no release owns, run \
         `kubectl label <kind> <name> app.kubernetes.io/managed-by=Helm` and \
         `kubectl annotate <kind> <name> meta.helm.sh/release-name={release} meta.helm.sh/release-namespace={namespace}`",
        bullets(conflicts)
    )]
    Ownership {
        /// The release.
        release: String,
        /// Its namespace.
        namespace: String,
        /// Every object in the way.
        conflicts: Vec<OwnershipConflict>,
    },
    /// A stored manifest could not be read back.
    #[error("the stored manifest of release {release} cannot be read: the document from {template} {reason}")]
    Manifest {
        /// The release.
        release: String,
        /// The `# Source:` template of the document.
        template: String,
        /// What is wrong.
        reason: String,
    },
}

fn bullets(conflicts: &[OwnershipConflict]) -> String {
    conflicts.iter().map(|c| format!("  - {c}")).collect::<Vec<_>>().join("\n")
}

/// The longest release name Helm accepts (it must fit a label value with room for Helm's suffixes).
const MAX_NAME_LEN: usize = 53;

/// Checks a release name against Helm's rule: DNS-1123 labels joined by dots, at most 53 characters.
pub fn validate_name(name: &str) -> Result<(), ReleaseError> {
    let invalid =
        |reason: &str| ReleaseError::InvalidName { release: name.to_string(), reason: reason.to_string() };
    if name.is_empty() || name.len() > MAX_NAME_LEN {
        return Err(invalid("it must have 1 to 53 characters"));
    }
    for part in name.split('.') {
        let alphanumeric = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
        if !part.chars().all(|c| alphanumeric(c) || c == '-') {
            return Err(invalid("it may hold only lower-case letters, digits, '-' and '.'"));
        }
        if !part.starts_with(alphanumeric) || !part.ends_with(alphanumeric) {
            return Err(invalid("each dot-separated part must start and end with a letter or digit"));
        }
    }
    Ok(())
}

/// Rejects user labels that use Helm's reserved keys.
fn validate_labels(release: &str, labels: &BTreeMap<String, String>) -> Result<(), ReleaseError> {
    match labels.keys().find(|key| codec::SYSTEM_LABELS.contains(&key.as_str())) {
        Some(label) => {
            Err(ReleaseError::ReservedLabel { release: release.to_string(), label: label.clone() })
        }
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn release_names_follow_helms_rule() {
        for good in ["istio-base", "istiod-1-6-14", "a", "web.v2", &"a".repeat(53)] {
            assert!(validate_name(good).is_ok(), "{good}");
        }
        for bad in ["", "Istiod", "istiod_1", "-a", "a-", "a..b", ".a", &"a".repeat(54)] {
            let error = validate_name(bad).unwrap_err().to_string();
            assert!(error.contains("not a valid release name"), "{bad}: {error}");
        }
    }

    #[test]
    fn reserved_labels_are_refused() {
        let labels = BTreeMap::from([("status".to_string(), "x".to_string())]);
        let error = validate_labels("istiod", &labels).unwrap_err().to_string();
        assert!(error.contains("\"status\" is reserved"), "{error}");
        assert!(validate_labels("istiod", &BTreeMap::from([("team".to_string(), "m".to_string())])).is_ok());
    }
}
