//! An in-memory cluster for the executor's unit tests: objects in a map, server-side apply as a
//! whole-object write, merge patches, optimistic replaces by `resourceVersion`, and watches that
//! never report (gates that wait fall back to looking again). It is not the simulation `rehearse`
//! will use; it has just enough behaviour for the executor's own logic.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::sync::Mutex;

use futures::StreamExt;
use futures::stream::BoxStream;
use serde_json::{Value, json};

use crate::cluster::{
    ApplyOptions, Cluster, ClusterError, Discovered, ObjectRef, Propagation, Resource, WatchEvent,
};

type Key = (String, Option<String>, String);

/// The in-memory cluster.
#[derive(Default)]
pub struct Fake {
    objects: Mutex<BTreeMap<Key, Value>>,
    version: Mutex<u64>,
}

fn key_of(reference: &ObjectRef) -> Key {
    (reference.kind.clone(), reference.namespace.clone(), reference.name.clone())
}

fn merge(target: &mut Value, patch: &Value) {
    match (target.as_object_mut(), patch.as_object()) {
        (Some(target), Some(patch)) => {
            for (k, v) in patch {
                if v.is_null() {
                    target.remove(k);
                } else {
                    merge(target.entry(k.clone()).or_insert(Value::Null), v);
                }
            }
        }
        _ => *target = patch.clone(),
    }
}

impl Fake {
    fn stamp(&self, object: &mut Value, generation_from: Option<&Value>) {
        let mut version = self.version.lock().unwrap();
        *version += 1;
        object["metadata"]["resourceVersion"] = json!(version.to_string());
        let generation =
            generation_from.and_then(|o| o.pointer("/metadata/generation")).and_then(Value::as_i64);
        let changed = generation_from.is_none_or(|old| old.get("spec") != object.get("spec"));
        let next = generation.unwrap_or(0) + i64::from(changed);
        object["metadata"]["generation"] = json!(next.max(1));
    }

    /// The stored object, if any.
    pub fn object(&self, kind: &str, namespace: Option<&str>, name: &str) -> Option<Value> {
        self.objects
            .lock()
            .unwrap()
            .get(&(kind.to_string(), namespace.map(str::to_string), name.to_string()))
            .cloned()
    }
}

fn resource(group: &str, kind: &str, plural: &str, namespaced: bool) -> Resource {
    Resource {
        group: group.into(),
        version: "v1".into(),
        kind: kind.into(),
        plural: plural.into(),
        namespaced,
    }
}

impl Cluster for Fake {
    async fn server_version(&self) -> Result<semver::Version, ClusterError> {
        Ok(semver::Version::new(1, 33, 0))
    }

    async fn discover(&self) -> Result<Discovered, ClusterError> {
        Ok(Discovered {
            resources: vec![
                resource("", "Namespace", "namespaces", false),
                resource("", "ConfigMap", "configmaps", true),
                resource("", "Secret", "secrets", true),
                resource("", "Pod", "pods", true),
                resource("apps", "Deployment", "deployments", true),
                resource("coordination.k8s.io", "Lease", "leases", true),
            ],
            preferred: BTreeMap::new(),
        })
    }

    async fn get(
        &self,
        resource: &Resource,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<Option<Value>, ClusterError> {
        let namespace = if resource.namespaced { namespace } else { None };
        Ok(self.object(&resource.kind, namespace, name))
    }

    async fn list(
        &self,
        resource: &Resource,
        namespace: Option<&str>,
        _: Option<&str>,
    ) -> Result<Vec<Value>, ClusterError> {
        Ok(self
            .objects
            .lock()
            .unwrap()
            .iter()
            .filter(|((kind, ns, _), _)| {
                *kind == resource.kind && (namespace.is_none() || ns.as_deref() == namespace)
            })
            .map(|(_, v)| v.clone())
            .collect())
    }

    async fn apply(&self, object: &Value, _: ApplyOptions) -> Result<Value, ClusterError> {
        let key = key_of(&ObjectRef::of(object).unwrap());
        let old = self.objects.lock().unwrap().get(&key).cloned();
        let mut stored = object.clone();
        self.stamp(&mut stored, old.as_ref());
        self.objects.lock().unwrap().insert(key, stored.clone());
        Ok(stored)
    }

    async fn create(&self, object: &Value) -> Result<Value, ClusterError> {
        let reference = ObjectRef::of(object).unwrap();
        if self.objects.lock().unwrap().contains_key(&key_of(&reference)) {
            return Err(ClusterError::AlreadyExists { object: reference.to_string() });
        }
        self.apply(object, ApplyOptions::default()).await
    }

    async fn replace(&self, object: &Value) -> Result<Value, ClusterError> {
        let reference = ObjectRef::of(object).unwrap();
        let old = self.objects.lock().unwrap().get(&key_of(&reference)).cloned();
        let Some(old) = old else {
            return Err(ClusterError::Api {
                verb: "update".into(),
                resource: reference.kind,
                namespace: None,
                code: 404,
                message: "not found".into(),
            });
        };
        if old.pointer("/metadata/resourceVersion") != object.pointer("/metadata/resourceVersion") {
            return Err(ClusterError::Conflict { object: reference.to_string(), message: "changed".into() });
        }
        self.apply(object, ApplyOptions::default()).await
    }

    async fn merge_patch(&self, target: &ObjectRef, patch: &Value) -> Result<Value, ClusterError> {
        let old = self.objects.lock().unwrap().get(&key_of(target)).cloned();
        let Some(mut object) = old.clone() else {
            return Err(ClusterError::Api {
                verb: "patch".into(),
                resource: target.kind.clone(),
                namespace: None,
                code: 404,
                message: "not found".into(),
            });
        };
        merge(&mut object, patch);
        self.stamp(&mut object, old.as_ref());
        self.objects.lock().unwrap().insert(key_of(target), object.clone());
        Ok(object)
    }

    async fn delete(&self, target: &ObjectRef, _: Propagation) -> Result<(), ClusterError> {
        self.objects.lock().unwrap().remove(&key_of(target));
        Ok(())
    }

    fn watch(
        &self,
        _: &Resource,
        _: Option<&str>,
        _: Option<&str>,
    ) -> BoxStream<'static, Result<WatchEvent, ClusterError>> {
        futures::stream::pending().boxed()
    }
}
