//! Reading and writing release records through the [`Cluster`] trait, with Helm's rules: a new
//! revision is created (never overwritten) as `pending-*`, and its status changes are optimistic
//! replaces that re-read and re-check the record when someone else wrote it in between. Upgrades and
//! rollbacks prune the history to `--history-max` revisions first, keeping the deployed one.

use serde_json::Value;

use super::codec::{self, Write};
use super::history;
use super::model::{Info, Release, ReleaseContent, Status};
use super::time::{Timestamp, unix_seconds};
use super::{ReleaseError, validate_labels, validate_name};
use crate::cluster::{Cluster, ClusterError, ObjectRef, Propagation, Resource};

/// Helm's default `--history-max`.
pub const DEFAULT_HISTORY_MAX: usize = 10;

/// Times a status change re-reads a record that changed under it before giving up.
const ATTEMPTS: usize = 3;

/// The release records of a cluster (Helm's Secret storage).
pub struct ReleaseStore<'c, C> {
    cluster: &'c C,
    history_max: usize,
}

fn secrets() -> Resource {
    Resource {
        group: String::new(),
        version: "v1".to_string(),
        kind: "Secret".to_string(),
        plural: "secrets".to_string(),
        namespaced: true,
    }
}

impl<'c, C: Cluster> ReleaseStore<'c, C> {
    /// A store keeping at most [`DEFAULT_HISTORY_MAX`] revisions per release.
    pub fn new(cluster: &'c C) -> Self {
        ReleaseStore { cluster, history_max: DEFAULT_HISTORY_MAX }
    }

    /// Keeps at most `max` revisions per release when upgrading or rolling back (`0`: no limit).
    pub fn with_history_max(self, max: usize) -> Self {
        ReleaseStore { history_max: max, ..self }
    }

    fn cluster_error(name: &str, namespace: &str) -> impl Fn(ClusterError) -> ReleaseError {
        move |source| ReleaseError::Cluster {
            release: name.to_string(),
            namespace: namespace.to_string(),
            source: Box::new(source),
        }
    }

    /// Every revision of a release, oldest first; empty when there is none.
    pub async fn history(&self, name: &str, namespace: &str) -> Result<Vec<Release>, ReleaseError> {
        let selector = codec::history_selector(name);
        let records = self
            .cluster
            .list(&secrets(), Some(namespace), Some(&selector))
            .await
            .map_err(Self::cluster_error(name, namespace))?;
        let mut releases = records.iter().map(|r| codec::from_secret(r)).collect::<Result<Vec<_>, _>>()?;
        releases.sort_by_key(|r| r.version);
        Ok(releases)
    }

    /// One revision, or `None` when it does not exist.
    pub async fn get(
        &self,
        name: &str,
        namespace: &str,
        version: u32,
    ) -> Result<Option<Release>, ReleaseError> {
        Ok(self.read(name, namespace, version).await?.map(|(release, _)| release))
    }

    /// The revision and the `resourceVersion` of its record.
    async fn read(
        &self,
        name: &str,
        namespace: &str,
        version: u32,
    ) -> Result<Option<(Release, String)>, ReleaseError> {
        let secret = self
            .cluster
            .get(&secrets(), Some(namespace), &codec::secret_name(name, version))
            .await
            .map_err(Self::cluster_error(name, namespace))?;
        let Some(secret) = secret else { return Ok(None) };
        let resource_version = secret
            .pointer("/metadata/resourceVersion")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        Ok(Some((codec::from_secret(&secret)?, resource_version)))
    }

    /// The newest revision, whatever its status.
    pub async fn last(&self, name: &str, namespace: &str) -> Result<Option<Release>, ReleaseError> {
        Ok(history::last(&self.history(name, namespace).await?).cloned())
    }

    /// The deployed revision (the newest, should several claim it).
    pub async fn last_deployed(&self, name: &str, namespace: &str) -> Result<Option<Release>, ReleaseError> {
        Ok(history::last_deployed(&self.history(name, namespace).await?).cloned())
    }

    /// Records revision 1 of a new release as `pending-install`. A release whose last revision is
    /// `uninstalled`, or that failed without ever being deployed, is installed again as the next
    /// revision (Helm's `--replace`); any other existing release must be upgraded instead.
    pub async fn begin_install(
        &self,
        name: &str,
        namespace: &str,
        content: ReleaseContent,
    ) -> Result<Release, ReleaseError> {
        validate_name(name)?;
        validate_labels(name, &content.labels)?;
        let history = self.history(name, namespace).await?;
        let version = match history::last(&history) {
            None => 1,
            Some(last) if last.status().is_pending() => return Err(in_progress(last)),
            Some(last)
                if last.status() == Status::Uninstalled
                    || (last.status() == Status::Failed && history::last_deployed(&history).is_none()) =>
            {
                if last.status() != Status::Failed {
                    self.set_status(last, Status::Superseded, Some("superseded by new release")).await?;
                }
                version_after(last)
            }
            Some(last) => {
                return Err(ReleaseError::InUse {
                    release: name.to_string(),
                    namespace: namespace.to_string(),
                    version: last.version,
                    status: last.status(),
                });
            }
        };
        let now = Timestamp::now();
        let info = Info {
            first_deployed: now.clone(),
            last_deployed: now,
            description: "Initial install underway".to_string(),
            status: Status::PendingInstall,
            ..Info::default()
        };
        self.create(new_revision(name, namespace, version, info, content)).await
    }

    /// Records the next revision of an installed release as `pending-upgrade`, after pruning the
    /// history. Refused while the last revision is pending (another operation is under way, or was
    /// interrupted: mark it failed first).
    pub async fn begin_upgrade(
        &self,
        name: &str,
        namespace: &str,
        content: ReleaseContent,
    ) -> Result<Release, ReleaseError> {
        validate_name(name)?;
        validate_labels(name, &content.labels)?;
        let history = self.history(name, namespace).await?;
        let (last, current) = self.upgradable(name, namespace, &history)?;
        let info = Info {
            first_deployed: current.info.first_deployed.clone(),
            last_deployed: Timestamp::now(),
            description: "Preparing upgrade".to_string(),
            status: Status::PendingUpgrade,
            ..Info::default()
        };
        let release = new_revision(name, namespace, version_after(last), info, content);
        self.prune(&history).await?;
        self.create(release).await
    }

    /// Records the next revision as `pending-rollback` with the chart, values, manifest, notes and
    /// labels of revision `to`, after pruning the history, as `helm rollback <name> <to>` does.
    pub async fn begin_rollback(
        &self,
        name: &str,
        namespace: &str,
        to: u32,
    ) -> Result<Release, ReleaseError> {
        let history = self.history(name, namespace).await?;
        let (last, current) = self.upgradable(name, namespace, &history)?;
        let target = history.iter().find(|r| r.version == to).ok_or_else(|| ReleaseError::NoRevision {
            release: name.to_string(),
            namespace: namespace.to_string(),
            version: to,
        })?;
        let info = Info {
            first_deployed: current.info.first_deployed.clone(),
            last_deployed: Timestamp::now(),
            description: format!("Rollback to {to}"),
            status: Status::PendingRollback,
            ..Info::default()
        };
        let mut release = new_revision(
            name,
            namespace,
            version_after(last),
            info,
            ReleaseContent {
                chart: target.chart.clone(),
                config: target.config.clone(),
                manifest: target.manifest.clone(),
                notes: target.info.notes.clone(),
                labels: target.labels.clone(),
            },
        );
        release.hooks.clone_from(&target.hooks);
        self.prune(&history).await?;
        self.create(release).await
    }

    /// The last revision and the one an upgrade builds on, or why the release cannot be upgraded.
    fn upgradable<'h>(
        &self,
        name: &str,
        namespace: &str,
        history: &'h [Release],
    ) -> Result<(&'h Release, &'h Release), ReleaseError> {
        let not_installed =
            || ReleaseError::NotInstalled { release: name.to_string(), namespace: namespace.to_string() };
        let last = history::last(history).ok_or_else(not_installed)?;
        if last.status().is_pending() {
            return Err(in_progress(last));
        }
        let current = history::current(history).ok_or_else(not_installed)?;
        Ok((last, current))
    }

    /// Marks a pending revision `deployed` (Helm's descriptions: `Install complete`, `Upgrade
    /// complete`; a rollback keeps `Rollback to N`), then every other deployed revision `superseded`.
    /// The new revision goes first, so an interruption leaves two deployed revisions (Helm takes the
    /// newest) rather than none. Marking a deployed revision again changes nothing.
    pub async fn mark_deployed(&self, release: &Release) -> Result<Release, ReleaseError> {
        let deployed = self
            .change(release, Status::Deployed, |pending| match pending {
                Status::PendingInstall => Some("Install complete"),
                Status::PendingUpgrade => Some("Upgrade complete"),
                _ => None,
            })
            .await?;
        for older in self.history(&release.name, &release.namespace).await? {
            if older.version != deployed.version && older.status() == Status::Deployed {
                self.set_status(&older, Status::Superseded, None).await?;
            }
        }
        Ok(deployed)
    }

    /// Marks a pending revision `failed` with `reason` in Helm's description for the operation
    /// (`Upgrade "<name>" failed: <reason>`). The deployed revision, if any, stays deployed. Marking
    /// a failed revision again changes nothing.
    pub async fn mark_failed(&self, release: &Release, reason: &str) -> Result<Release, ReleaseError> {
        let name = &release.name;
        let install = format!("Release {name:?} failed: {reason}");
        let upgrade = format!("Upgrade {name:?} failed: {reason}");
        let rollback = format!("Rollback {name:?} failed: {reason}");
        self.change(release, Status::Failed, |pending| match pending {
            Status::PendingInstall => Some(&install),
            Status::PendingUpgrade => Some(&upgrade),
            Status::PendingRollback => Some(&rollback),
            _ => None,
        })
        .await
    }

    /// Marks a revision uninstalled, as `helm uninstall --keep-history` leaves a release whose objects
    /// are gone: through `uninstalling` to `uninstalled`, with the deletion time and Helm's
    /// description. Marking an uninstalled revision again changes nothing.
    pub async fn mark_uninstalled(&self, release: &Release) -> Result<Release, ReleaseError> {
        if release.status() == Status::Uninstalled {
            return Ok(release.clone());
        }
        let uninstalling = self.change(release, Status::Uninstalling, |_| None).await?;
        self.rewrite(&uninstalling, |stored| {
            if stored.status() == Status::Uninstalled {
                return Ok(());
            }
            check_transition(stored, Status::Uninstalled)?;
            stored.info.status = Status::Uninstalled;
            stored.info.deleted = Timestamp::now();
            stored.info.description = "Uninstallation complete".to_string();
            Ok(())
        })
        .await
    }

    /// Moves a revision to `next`, with the description `describe` gives for its current status.
    async fn change<'d>(
        &self,
        release: &Release,
        next: Status,
        describe: impl Fn(Status) -> Option<&'d str>,
    ) -> Result<Release, ReleaseError> {
        self.rewrite(release, |stored| {
            let from = stored.status();
            if from == next {
                return Ok(());
            }
            check_transition(stored, next)?;
            stored.info.status = next;
            if let Some(description) = describe(from) {
                stored.info.description = description.to_string();
            }
            Ok(())
        })
        .await
    }

    /// Moves a revision to `next`, replacing its description when one is given.
    async fn set_status(
        &self,
        release: &Release,
        next: Status,
        description: Option<&str>,
    ) -> Result<Release, ReleaseError> {
        self.change(release, next, |_| description).await
    }

    /// Read-modify-write of one revision's record: `edit` sees the record as stored now; when the
    /// record changed before the write lands, it is read and edited again. An edit that leaves the
    /// record as it was writes nothing.
    async fn rewrite(
        &self,
        release: &Release,
        mut edit: impl FnMut(&mut Release) -> Result<(), ReleaseError>,
    ) -> Result<Release, ReleaseError> {
        let (name, namespace, version) = (&release.name, &release.namespace, release.version);
        for attempt in 1..=ATTEMPTS {
            let (stored, resource_version) = self.read(name, namespace, version).await?.ok_or_else(|| {
                ReleaseError::NoRevision { release: name.clone(), namespace: namespace.clone(), version }
            })?;
            let mut edited = stored.clone();
            edit(&mut edited)?;
            if edited == stored {
                return Ok(stored);
            }
            let secret = codec::to_secret(&edited, Write::Update(&resource_version), unix_seconds())?;
            match self.cluster.replace(&secret).await {
                Ok(_) => return Ok(edited),
                Err(ClusterError::Conflict { .. }) if attempt < ATTEMPTS => continue,
                Err(ClusterError::Conflict { .. }) => {
                    return Err(ReleaseError::Contended {
                        release: name.clone(),
                        namespace: namespace.clone(),
                        version,
                    });
                }
                Err(other) => return Err(Self::cluster_error(name, namespace)(other)),
            }
        }
        Err(ReleaseError::Contended { release: name.clone(), namespace: namespace.clone(), version })
    }

    /// Creates the record of a new revision; `RevisionTaken` when someone created it first.
    async fn create(&self, release: Release) -> Result<Release, ReleaseError> {
        let secret = codec::to_secret(&release, Write::Create, unix_seconds())?;
        match self.cluster.create(&secret).await {
            Ok(_) => Ok(release),
            Err(ClusterError::AlreadyExists { .. }) => Err(ReleaseError::RevisionTaken {
                release: release.name,
                namespace: release.namespace,
                version: release.version,
            }),
            Err(other) => Err(Self::cluster_error(&release.name, &release.namespace)(other)),
        }
    }

    /// Deletes the oldest revisions so that one more fits within the history limit.
    async fn prune(&self, history: &[Release]) -> Result<(), ReleaseError> {
        for release in history::revisions_to_prune(history, self.history_max)
            .into_iter()
            .filter_map(|version| history.iter().find(|r| r.version == version))
        {
            let target = ObjectRef {
                api_version: "v1".to_string(),
                kind: "Secret".to_string(),
                namespace: Some(release.namespace.clone()),
                name: codec::secret_name(&release.name, release.version),
            };
            self.cluster
                .delete(&target, Propagation::Background)
                .await
                .map_err(Self::cluster_error(&release.name, &release.namespace))?;
        }
        Ok(())
    }
}

/// A new revision of `name` in `namespace`.
fn new_revision(name: &str, namespace: &str, version: u32, info: Info, content: ReleaseContent) -> Release {
    Release {
        name: name.to_string(),
        info: Info { notes: content.notes, ..info },
        chart: content.chart,
        config: content.config,
        manifest: content.manifest,
        version,
        namespace: namespace.to_string(),
        labels: content.labels,
        ..Release::default()
    }
}

/// The revision number after `last`.
fn version_after(last: &Release) -> u32 {
    last.version + 1
}

fn in_progress(last: &Release) -> ReleaseError {
    ReleaseError::InProgress {
        release: last.name.clone(),
        namespace: last.namespace.clone(),
        version: last.version,
        status: last.status(),
    }
}

fn check_transition(release: &Release, next: Status) -> Result<(), ReleaseError> {
    if release.status().can_become(next) {
        Ok(())
    } else {
        Err(ReleaseError::Transition {
            release: release.name.clone(),
            namespace: release.namespace.clone(),
            version: release.version,
            from: release.status(),
            to: next,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};

    use futures::stream::BoxStream;
    use serde_json::{Map, json};

    use super::*;
    use crate::cluster::{ApplyOptions, Discovered, WatchEvent};
    use crate::release::model::{Metadata, ReleaseChart};

    /// Secrets in memory, with resourceVersions, label selectors of `k=v` terms, and conflicts on
    /// demand.
    #[derive(Default)]
    struct Secrets {
        objects: Mutex<BTreeMap<(String, String), Value>>,
        next_version: AtomicUsize,
        conflicts: AtomicUsize,
    }

    impl Secrets {
        fn key(object: &Value) -> (String, String) {
            let text = |p: &str| object.pointer(p).and_then(Value::as_str).unwrap().to_string();
            (text("/metadata/namespace"), text("/metadata/name"))
        }

        fn stamp(&self, mut object: Value) -> Value {
            let version = self.next_version.fetch_add(1, Ordering::SeqCst) + 1;
            object["metadata"]["resourceVersion"] = json!(version.to_string());
            object
        }

        fn labels(&self, namespace: &str, name: &str) -> Value {
            let objects = self.objects.lock().unwrap();
            objects[&(namespace.to_string(), name.to_string())]["metadata"]["labels"].clone()
        }
    }

    impl Cluster for Secrets {
        async fn server_version(&self) -> Result<semver::Version, ClusterError> {
            unreachable!()
        }
        async fn discover(&self) -> Result<Discovered, ClusterError> {
            unreachable!()
        }
        async fn get(
            &self,
            _: &Resource,
            ns: Option<&str>,
            name: &str,
        ) -> Result<Option<Arc<Value>>, ClusterError> {
            let key = (ns.unwrap().to_string(), name.to_string());
            Ok(self.objects.lock().unwrap().get(&key).cloned().map(Arc::new))
        }
        async fn list(
            &self,
            _: &Resource,
            ns: Option<&str>,
            selector: Option<&str>,
        ) -> Result<Vec<Arc<Value>>, ClusterError> {
            let terms: Vec<(&str, &str)> =
                selector.unwrap_or_default().split(',').filter_map(|t| t.split_once('=')).collect();
            let objects = self.objects.lock().unwrap();
            Ok(objects
                .iter()
                .filter(|((n, _), o)| {
                    Some(n.as_str()) == ns && terms.iter().all(|(k, v)| o["metadata"]["labels"][k] == *v)
                })
                .map(|(_, o)| Arc::new(o.clone()))
                .collect())
        }
        async fn apply(&self, _: &Value, _: ApplyOptions) -> Result<Arc<Value>, ClusterError> {
            unreachable!()
        }
        async fn create(&self, object: &Value) -> Result<Arc<Value>, ClusterError> {
            let key = Secrets::key(object);
            let stored = self.stamp(object.clone());
            let mut objects = self.objects.lock().unwrap();
            if objects.contains_key(&key) {
                return Err(ClusterError::AlreadyExists { object: key.1 });
            }
            objects.insert(key, stored.clone());
            Ok(Arc::new(stored))
        }
        async fn replace(&self, object: &Value) -> Result<Arc<Value>, ClusterError> {
            let key = Secrets::key(object);
            let conflict = || ClusterError::Conflict { object: key.1.clone(), message: "changed".into() };
            if self.conflicts.load(Ordering::SeqCst) > 0 {
                self.conflicts.fetch_sub(1, Ordering::SeqCst);
                return Err(conflict());
            }
            let stored = self.stamp(object.clone());
            let mut objects = self.objects.lock().unwrap();
            let current = objects.get(&key).ok_or_else(conflict)?;
            if current["metadata"]["resourceVersion"] != object["metadata"]["resourceVersion"] {
                return Err(conflict());
            }
            objects.insert(key, stored.clone());
            Ok(Arc::new(stored))
        }
        async fn merge_patch(&self, _: &ObjectRef, _: &Value) -> Result<Arc<Value>, ClusterError> {
            unreachable!()
        }
        async fn delete(&self, target: &ObjectRef, _: Propagation) -> Result<(), ClusterError> {
            let key = (target.namespace.clone().unwrap(), target.name.clone());
            self.objects.lock().unwrap().remove(&key);
            Ok(())
        }
        fn watch(
            &self,
            _: &Resource,
            _: Option<&str>,
            _: Option<&str>,
        ) -> BoxStream<'static, Result<WatchEvent, ClusterError>> {
            unreachable!()
        }
    }

    fn content(greeting: &str) -> ReleaseContent {
        let metadata = Metadata {
            name: "demo".into(),
            version: "0.1.0".into(),
            api_version: "v2".into(),
            app_version: "1.6.14".into(),
            ..Metadata::default()
        };
        let mut config = Map::new();
        config.insert("greeting".into(), json!(greeting));
        ReleaseContent {
            chart: ReleaseChart { metadata: Some(metadata), ..ReleaseChart::default() },
            config,
            manifest: format!(
                "---\n# Source: demo/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  greeting: {greeting}\n"
            ),
            ..ReleaseContent::default()
        }
    }

    fn statuses(history: &[Release]) -> Vec<(u32, Status)> {
        history.iter().map(|r| (r.version, r.status())).collect()
    }

    #[tokio::test]
    async fn install_then_upgrade_supersedes_the_first_revision() {
        let cluster = Secrets::default();
        let store = ReleaseStore::new(&cluster);
        let pending = store.begin_install("demo", "ns", content("hello")).await.unwrap();
        assert_eq!((pending.version, pending.status()), (1, Status::PendingInstall));
        assert_eq!(pending.info.description, "Initial install underway");
        assert_eq!(cluster.labels("ns", "sh.helm.release.v1.demo.v1")["status"], "pending-install");
        let first = store.mark_deployed(&pending).await.unwrap();
        assert_eq!(first.info.description, "Install complete");
        let labels = cluster.labels("ns", "sh.helm.release.v1.demo.v1");
        assert_eq!((labels["status"].as_str(), labels.get("createdAt")), (Some("deployed"), None));
        assert!(labels.get("modifiedAt").is_some());

        let upgrade = store.begin_upgrade("demo", "ns", content("bonjour")).await.unwrap();
        assert_eq!((upgrade.version, upgrade.status()), (2, Status::PendingUpgrade));
        assert_eq!(upgrade.info.first_deployed, first.info.first_deployed);
        let deployed = store.mark_deployed(&upgrade).await.unwrap();
        assert_eq!(deployed.info.description, "Upgrade complete");
        let history = store.history("demo", "ns").await.unwrap();
        assert_eq!(statuses(&history), [(1, Status::Superseded), (2, Status::Deployed)]);
        assert_eq!(history[0].info.description, "Install complete");
        assert_eq!(cluster.labels("ns", "sh.helm.release.v1.demo.v1")["status"], "superseded");
        assert_eq!(store.last_deployed("demo", "ns").await.unwrap().unwrap().config["greeting"], "bonjour");
        assert_eq!(store.get("demo", "ns", 1).await.unwrap().unwrap().config["greeting"], "hello");
        assert!(store.get("demo", "ns", 9).await.unwrap().is_none());
        // Resuming after a crash: marking again changes nothing.
        assert_eq!(store.mark_deployed(&upgrade).await.unwrap(), deployed);
    }

    #[tokio::test]
    async fn helms_locks_and_refusals_hold() {
        let cluster = Secrets::default();
        let store = ReleaseStore::new(&cluster);
        let error = store.begin_upgrade("demo", "ns", content("a")).await.unwrap_err();
        assert!(matches!(error, ReleaseError::NotInstalled { .. }), "{error}");
        let pending = store.begin_install("demo", "ns", content("a")).await.unwrap();
        let error = store.begin_upgrade("demo", "ns", content("b")).await.unwrap_err().to_string();
        assert!(error.starts_with("another operation (install/upgrade/rollback) is in progress"), "{error}");
        assert!(error.contains("revision 1 is pending-install"), "{error}");
        store.mark_deployed(&pending).await.unwrap();
        let error = store.begin_install("demo", "ns", content("b")).await.unwrap_err().to_string();
        assert!(error.contains("still in use") && error.contains("upgrade it instead"), "{error}");
        let error = store.mark_failed(&pending, "boom").await.unwrap_err().to_string();
        assert_eq!(error, "cannot mark revision 1 of release demo in namespace ns failed: it is deployed");
        let mut labelled = content("c");
        labelled.labels.insert("owner".into(), "me".into());
        assert!(matches!(
            store.begin_upgrade("demo", "ns", labelled).await,
            Err(ReleaseError::ReservedLabel { .. })
        ));
        assert!(matches!(
            store.begin_install("Demo", "ns", content("a")).await,
            Err(ReleaseError::InvalidName { .. })
        ));
    }

    #[tokio::test]
    async fn a_failed_upgrade_leaves_the_deployed_revision_and_a_failed_install_can_be_retried() {
        let cluster = Secrets::default();
        let store = ReleaseStore::new(&cluster);
        let first = store.begin_install("demo", "ns", content("a")).await.unwrap();
        let failed = store.mark_failed(&first, "timed out").await.unwrap();
        assert_eq!(failed.info.description, "Release \"demo\" failed: timed out");
        let retry = store.begin_install("demo", "ns", content("a")).await.unwrap();
        assert_eq!(retry.version, 2);
        store.mark_deployed(&retry).await.unwrap();
        let upgrade = store.begin_upgrade("demo", "ns", content("b")).await.unwrap();
        let failed = store.mark_failed(&upgrade, "gate failed").await.unwrap();
        assert_eq!(failed.info.description, "Upgrade \"demo\" failed: gate failed");
        let history = store.history("demo", "ns").await.unwrap();
        assert_eq!(statuses(&history), [(1, Status::Failed), (2, Status::Deployed), (3, Status::Failed)]);
        // The next upgrade builds on the deployed revision, after the failed one.
        let again = store.begin_upgrade("demo", "ns", content("c")).await.unwrap();
        assert_eq!(again.version, 4);
        assert_eq!(again.info.first_deployed, history[1].info.first_deployed);
    }

    #[tokio::test]
    async fn rollback_copies_the_target_and_supersedes_the_deployed_revision() {
        let cluster = Secrets::default();
        let store = ReleaseStore::new(&cluster);
        let first = store.begin_install("demo", "ns", content("a")).await.unwrap();
        store.mark_deployed(&first).await.unwrap();
        let second = store.begin_upgrade("demo", "ns", content("b")).await.unwrap();
        store.mark_deployed(&second).await.unwrap();
        let rollback = store.begin_rollback("demo", "ns", 1).await.unwrap();
        assert_eq!((rollback.version, rollback.status()), (3, Status::PendingRollback));
        assert_eq!(rollback.info.description, "Rollback to 1");
        assert_eq!((rollback.config.clone(), rollback.manifest.clone()), (first.config, first.manifest));
        let done = store.mark_deployed(&rollback).await.unwrap();
        assert_eq!(done.info.description, "Rollback to 1");
        let history = store.history("demo", "ns").await.unwrap();
        assert_eq!(
            statuses(&history),
            [(1, Status::Superseded), (2, Status::Superseded), (3, Status::Deployed)]
        );
        assert!(matches!(store.begin_rollback("demo", "ns", 7).await, Err(ReleaseError::NoRevision { .. })));
    }

    #[tokio::test]
    async fn upgrades_prune_the_history_but_keep_the_deployed_revision() {
        let cluster = Secrets::default();
        let store = ReleaseStore::new(&cluster).with_history_max(3);
        let first = store.begin_install("demo", "ns", content("v1")).await.unwrap();
        store.mark_deployed(&first).await.unwrap();
        for n in 2..=4 {
            let upgrade = store.begin_upgrade("demo", "ns", content(&format!("v{n}"))).await.unwrap();
            store.mark_deployed(&upgrade).await.unwrap();
        }
        let history = store.history("demo", "ns").await.unwrap();
        assert_eq!(
            statuses(&history),
            [(2, Status::Superseded), (3, Status::Superseded), (4, Status::Deployed)]
        );
        for n in 5..=7 {
            let upgrade = store.begin_upgrade("demo", "ns", content(&format!("v{n}"))).await.unwrap();
            store.mark_failed(&upgrade, "no").await.unwrap();
        }
        let history = store.history("demo", "ns").await.unwrap();
        assert_eq!(statuses(&history), [(4, Status::Deployed), (6, Status::Failed), (7, Status::Failed)]);
        let unlimited = ReleaseStore::new(&cluster).with_history_max(0);
        unlimited.begin_upgrade("demo", "ns", content("v8")).await.unwrap();
        assert_eq!(unlimited.history("demo", "ns").await.unwrap().len(), 4);
    }

    #[tokio::test]
    async fn status_changes_survive_a_concurrent_write_and_give_up_when_it_persists() {
        let cluster = Secrets::default();
        let store = ReleaseStore::new(&cluster);
        let pending = store.begin_install("demo", "ns", content("a")).await.unwrap();
        cluster.conflicts.store(1, Ordering::SeqCst);
        assert_eq!(store.mark_deployed(&pending).await.unwrap().status(), Status::Deployed);
        let upgrade = store.begin_upgrade("demo", "ns", content("b")).await.unwrap();
        cluster.conflicts.store(ATTEMPTS, Ordering::SeqCst);
        let error = store.mark_deployed(&upgrade).await.unwrap_err().to_string();
        assert!(error.contains("kept changing"), "{error}");
        assert!(matches!(store.begin_install("demo", "other", content("a")).await.map(|r| r.version), Ok(1)));
        // Someone else took the next revision number first.
        cluster.objects.lock().unwrap().remove(&("ns".to_string(), "sh.helm.release.v1.demo.v2".to_string()));
        let taken = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "sh.helm.release.v1.demo.v2", "namespace": "ns", "labels": {}}});
        cluster.create(&taken).await.unwrap();
        let error = store.begin_upgrade("demo", "ns", content("c")).await.unwrap_err();
        assert!(matches!(error, ReleaseError::RevisionTaken { version: 2, .. }), "{error}");
    }
}
