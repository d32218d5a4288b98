//! The cluster state as the plan leaves it after each step, replayed in memory while planning.
//! Later steps need it: an object is backed up (and restored on undo) only if it exists by then, is
//! deleted on undo only if the step created it, and a second hop starts from what the first one left.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde_json::Value;

use super::model::{Action, ObjectRef};

/// (group, kind, namespace, name): the same object whatever apiVersion it is read at.
type Key = (String, String, String, String);

fn key(api_version: &str, kind: &str, namespace: Option<&str>, name: &str) -> Key {
    let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
    (group.to_string(), kind.to_string(), namespace.unwrap_or("").to_string(), name.to_string())
}

fn key_of(object: &Value) -> Option<Key> {
    let reference = ObjectRef::of(object)?;
    Some(key_of_ref(&reference))
}

fn key_of_ref(reference: &ObjectRef) -> Key {
    key(&reference.api_version, &reference.kind, reference.namespace.as_deref(), &reference.name)
}

/// Objects by identity: the observed objects borrowed, and copies only of what the plan changes
/// (a large cluster's objects are not copied to plan it).
#[derive(Debug, Clone, Default)]
pub struct State<'a> {
    objects: BTreeMap<Key, Cow<'a, Value>>,
}

impl<'a> State<'a> {
    /// The state holding `objects`.
    pub fn new(objects: impl IntoIterator<Item = &'a Value>) -> State<'a> {
        State { objects: objects.into_iter().filter_map(|o| Some((key_of(o)?, Cow::Borrowed(o)))).collect() }
    }

    /// Whether the object exists.
    pub fn contains(&self, object: &Value) -> bool {
        key_of(object).is_some_and(|k| self.objects.contains_key(&k))
    }

    /// The named object.
    pub fn get_ref(&self, reference: &ObjectRef) -> Option<&Value> {
        self.objects.get(&key_of_ref(reference)).map(AsRef::as_ref)
    }

    /// Whether the named object exists.
    pub fn contains_ref(&self, reference: &ObjectRef) -> bool {
        self.objects.contains_key(&key_of_ref(reference))
    }

    /// Every object.
    pub fn objects(&self) -> impl Iterator<Item = &Value> {
        self.objects.values().map(AsRef::as_ref)
    }

    /// The object of `kind` in API `group` ("" for core) named `name` in `namespace` ("" when
    /// cluster-scoped).
    pub fn get(&self, group: &str, kind: &str, namespace: &str, name: &str) -> Option<&Value> {
        self.objects
            .get(&(group.to_string(), kind.to_string(), namespace.to_string(), name.to_string()))
            .map(AsRef::as_ref)
    }

    /// The objects of `kind` in API `group` in `namespace` ("" for cluster-scoped kinds, `None` for
    /// every namespace), found through the index rather than by scanning every object.
    pub fn of_kind<'s>(
        &'s self,
        group: &'s str,
        kind: &'s str,
        namespace: Option<&'s str>,
    ) -> impl Iterator<Item = &'s Value> + 's {
        let start = (group.to_string(), kind.to_string(), namespace.unwrap_or("").to_string(), String::new());
        self.objects
            .range(start..)
            .take_while(move |((g, k, ns, _), _)| {
                g == group && k == kind && namespace.is_none_or(|wanted| ns == wanted)
            })
            .map(|(_, object)| object.as_ref())
    }

    /// Replays a step's actions.
    pub fn apply(&mut self, actions: &[Action]) {
        for action in actions {
            match action {
                Action::Apply { objects, .. } => {
                    for object in objects {
                        if let Some(k) = key_of(object) {
                            self.objects.insert(k, Cow::Owned(object.clone()));
                        }
                    }
                }
                Action::Delete { objects } => {
                    for reference in objects {
                        self.objects.remove(&key_of_ref(reference));
                    }
                }
                Action::Relabel { namespace, set, remove } => {
                    let k = key("v1", "Namespace", None, namespace);
                    if let Some(labels) = self.objects.get_mut(&k).and_then(|ns| {
                        let metadata = ns.to_mut().get_mut("metadata")?.as_object_mut()?;
                        Some(metadata.entry("labels").or_insert_with(|| Value::Object(Default::default())))
                    }) && let Some(labels) = labels.as_object_mut()
                    {
                        for label in remove {
                            labels.remove(label);
                        }
                        for (label, value) in set {
                            labels.insert(label.clone(), Value::String(value.clone()));
                        }
                    }
                }
                Action::MoveTag { webhook, .. } => {
                    if let Some(k) = key_of(webhook) {
                        self.objects.insert(k, Cow::Owned(webhook.clone()));
                    }
                }
                Action::Backup { .. } | Action::Restore { .. } | Action::Restart { .. } => {}
            }
        }
    }

    /// For objects a step applies: the names of those that exist (to back up and restore) and of
    /// those that do not (to delete on undo).
    pub fn split_existing(&self, objects: &[Value]) -> (Vec<ObjectRef>, Vec<ObjectRef>) {
        let mut existing = Vec::new();
        let mut created = Vec::new();
        for object in objects {
            if let Some(reference) = ObjectRef::of(object) {
                if self.contains_ref(&reference) {
                    existing.push(reference);
                } else {
                    created.push(reference);
                }
            }
        }
        (existing, created)
    }
}
