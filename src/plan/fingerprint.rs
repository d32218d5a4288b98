//! The fingerprint of an observed state: a digest of every object a plan depends on, in the form a
//! snapshot records it, so a plan made from a snapshot can be checked against the live cluster
//! later. Objects that change all the time without anyone changing the mesh (pods, replica sets,
//! endpoints, events, leases) are left out, as is everything [`crate::diff::normalize`] drops
//! (status, resource versions, managed fields): otherwise every plan would be stale at once.

use std::borrow::Borrow;

use serde_json::Value;
use sha2::{Digest, Sha256};

/// Kinds whose objects churn on their own and say nothing about the mesh's configuration.
pub const VOLATILE_KINDS: [&str; 7] =
    ["Pod", "ReplicaSet", "Endpoints", "EndpointSlice", "Event", "Lease", "ControllerRevision"];

/// The fingerprint of `objects` (sanitised as `collect` records them), as `sha256:<hex>`: the digest
/// of the sorted digests of the objects' normalised JSON. The order of the objects does not matter.
pub fn of<O: Borrow<Value> + Sync>(objects: &[O]) -> String {
    let mut digests: Vec<[u8; 32]> = crate::parallel::map(
        objects,
        |_| 1,
        |object| -> Result<Option<[u8; 32]>, std::convert::Infallible> {
            let object: &Value = object.borrow();
            let kind = object.get("kind").and_then(Value::as_str).unwrap_or("");
            if VOLATILE_KINDS.contains(&kind) {
                return Ok(None);
            }
            // The normal form is hashed as it is written, without a copy; a copy to sanitise is
            // needed only for what sanitising changes beyond what normalising drops anyway.
            let mut hasher = Hashing(Sha256::new());
            let written = if crate::collect::sanitizing_changes(object) {
                let mut copy = object.clone();
                crate::collect::sanitize(&mut copy);
                crate::diff::write_normalized(&copy, &mut hasher)
            } else {
                crate::diff::write_normalized(object, &mut hasher)
            };
            // Writing into a hash cannot fail, and every value can be written as JSON.
            Ok(written.ok().map(|()| hasher.0.finalize().into()))
        },
    )
    .unwrap_or_default()
    .into_iter()
    .flatten()
    .collect();
    digests.sort_unstable();
    let mut hasher = Sha256::new();
    for digest in &digests {
        hasher.update(digest);
    }
    format!("sha256:{}", crate::digest::hex(&hasher.finalize()))
}

/// Text written into a running digest.
struct Hashing(Sha256);

impl std::io::Write for Hashing {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.update(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn order_status_and_pods_do_not_matter_but_configuration_does() {
        let a = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a", "resourceVersion": "1"}});
        let b = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "b", "labels": {"istio-injection": "enabled"}}});
        let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "a"}});
        let base = of(&[a.clone(), b.clone()]);
        let mut a2 = a.clone();
        a2["metadata"]["resourceVersion"] = json!("99");
        a2["status"] = json!({"phase": "Active"});
        assert_eq!(of(&[b.clone(), a2, pod]), base);
        let mut b2 = b.clone();
        b2["metadata"]["labels"]["istio-injection"] = json!("disabled");
        assert_ne!(of(&[a, b2]), base);
    }
}
