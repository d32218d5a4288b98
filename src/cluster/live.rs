//! The live cluster on kube-rs: connection settings as kubectl and Helm users expect them
//! (`--kubeconfig`, `KUBECONFIG`, `--kube-context`, in-cluster), discovery that sees CRDs registered at
//! run time, server-side apply as the `sailplan` field manager, and retries with backoff for the
//! failures that pass (429, 5xx, dropped connections). Errors say which verb on which resource in
//! which namespace failed.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use futures::stream::BoxStream;
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::discovery::{ApiCapabilities, ApiResource, Discovery, Scope};
use kube::runtime::{WatchStreamExt, watcher};
use serde_json::Value;
use tokio::sync::Mutex;
use tower::buffer::BufferLayer;
use tower::retry::RetryLayer;

use super::{
    ApplyOptions, Cluster, ClusterError, Discovered, FIELD_MANAGER, ObjectRef, Propagation, Resource,
    WatchEvent,
};
use crate::version::parse_lenient;

/// How to reach the cluster: the kubectl/Helm flags.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnectOptions {
    /// `--kubeconfig`: a kubeconfig file instead of `KUBECONFIG` / `~/.kube/config`.
    pub kubeconfig: Option<PathBuf>,
    /// `--kube-context`: a context other than the current one.
    pub context: Option<String>,
}

/// A cluster reached through the Kubernetes API.
pub struct LiveCluster {
    client: kube::Client,
    server: String,
    discovered: Mutex<Option<Discovered>>,
}

/// Attempts for a request that fails in a way that may pass (429, 5xx, connection trouble).
const ATTEMPTS: u32 = 4;
/// First pause between attempts; it doubles each time.
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
/// Page size for lists, so very large clusters are read in bounded pieces.
const PAGE_SIZE: u32 = 500;
/// Requests queued for the connection pool at most (as kube's own stack does).
const BUFFER: usize = 1024;

impl LiveCluster {
    /// Connects with kubectl's rules: `--kubeconfig`, else `KUBECONFIG`, else `~/.kube/config`, else the
    /// in-cluster service account; `--kube-context` picks a context.
    pub async fn connect(options: &ConnectOptions) -> Result<LiveCluster, ClusterError> {
        let config_error = |message: String| ClusterError::Config { message };
        let kube_options = KubeConfigOptions { context: options.context.clone(), ..Default::default() };
        let config = match (&options.kubeconfig, &options.context) {
            (Some(path), _) => {
                let kubeconfig = Kubeconfig::read_from(path)
                    .map_err(|e| config_error(format!("cannot read kubeconfig {}: {e}", path.display())))?;
                kube::Config::from_custom_kubeconfig(kubeconfig, &kube_options)
                    .await
                    .map_err(|e| config_error(format!("kubeconfig {}: {e}", path.display())))?
            }
            (None, Some(context)) => kube::Config::from_kubeconfig(&kube_options)
                .await
                .map_err(|e| config_error(format!("context {context:?}: {e}")))?,
            (None, None) => kube::Config::infer().await.map_err(|e| config_error(e.to_string()))?,
        };
        let server = config.cluster_url.to_string();
        let client = kube::client::ClientBuilder::try_from(config)
            .map_err(|e| config_error(e.to_string()))?
            .with_layer(&BufferLayer::<http::Request<kube::client::Body>>::new(BUFFER))
            .with_layer(&RetryLayer::new(RetryReads::default()))
            .build();
        Ok(LiveCluster { client, server, discovered: Mutex::new(None) })
    }

    /// The API server URL, for messages.
    pub fn server(&self) -> &str {
        &self.server
    }

    fn api(&self, resource: &Resource, namespace: Option<&str>) -> Api<DynamicObject> {
        let ar = api_resource(resource);
        match (resource.namespaced, namespace) {
            (true, Some(ns)) => Api::namespaced_with(self.client.clone(), ns, &ar),
            _ => Api::all_with(self.client.clone(), &ar),
        }
    }

    /// The resource serving an object's kind, discovering again when a CRD appeared since.
    async fn resource_for(&self, api_version: &str, kind: &str) -> Result<Resource, ClusterError> {
        if let Some(found) =
            self.discovered.lock().await.as_ref().and_then(|d| d.for_object(api_version, kind))
        {
            return Ok(found.clone());
        }
        let discovered = self.discover().await?;
        discovered.for_object(api_version, kind).cloned().ok_or_else(|| ClusterError::UnknownKind {
            api_version: api_version.to_string(),
            kind: kind.to_string(),
        })
    }

    /// The reference, resource and API of an object about to be written.
    async fn locate(
        &self,
        object: &Value,
    ) -> Result<(ObjectRef, Resource, Api<DynamicObject>), ClusterError> {
        let target = ObjectRef::of(object).ok_or_else(|| ClusterError::Invalid {
            object: "an object".to_string(),
            message: "apiVersion, kind and metadata.name are required".to_string(),
        })?;
        let resource = self.resource_for(&target.api_version, &target.kind).await?;
        if resource.namespaced && target.namespace.is_none() {
            return Err(ClusterError::Invalid {
                object: target.to_string(),
                message: format!("{} is namespaced: set metadata.namespace", target.kind),
            });
        }
        let api = self.api(&resource, target.namespace.as_deref());
        Ok((target, resource, api))
    }

    /// The outcome of a write, with the failures a writer acts on told apart.
    fn written(
        &self,
        result: Result<DynamicObject, kube::Error>,
        verb: &str,
        target: &ObjectRef,
        resource: &Resource,
    ) -> Result<Arc<Value>, ClusterError> {
        match result {
            Ok(stored) => Ok(to_value(stored, resource)),
            Err(kube::Error::Api(status)) if status.code == 409 && status.reason == "AlreadyExists" => {
                Err(ClusterError::AlreadyExists { object: target.to_string() })
            }
            Err(kube::Error::Api(status)) if status.code == 409 => {
                Err(ClusterError::Conflict { object: target.to_string(), message: status.message })
            }
            Err(kube::Error::Api(status)) if status.code == 422 || status.code == 400 => {
                Err(ClusterError::Invalid { object: target.to_string(), message: status.message })
            }
            Err(e) => Err(self.error(e, verb, resource, target.namespace.as_deref())),
        }
    }

    fn error(
        &self,
        error: kube::Error,
        verb: &str,
        resource: &Resource,
        namespace: Option<&str>,
    ) -> ClusterError {
        let resource_name = resource.to_string();
        match error {
            kube::Error::Api(status) => match status.code {
                403 => ClusterError::Forbidden {
                    verb: verb.to_string(),
                    resource: resource_name,
                    namespace: namespace.map(str::to_string),
                    message: status.message,
                },
                code => ClusterError::Api {
                    verb: verb.to_string(),
                    resource: resource_name,
                    namespace: namespace.map(str::to_string),
                    code,
                    message: status.message,
                },
            },
            kube::Error::HyperError(_) | kube::Error::Service(_) => {
                ClusterError::Unreachable { server: self.server.clone(), message: error_chain(&error) }
            }
            other => ClusterError::Api {
                verb: verb.to_string(),
                resource: resource_name,
                namespace: namespace.map(str::to_string),
                code: 0,
                message: error_chain(&other),
            },
        }
    }
}

/// The error and its causes on one line (transport errors hide the useful part in their sources).
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

fn api_resource(resource: &Resource) -> ApiResource {
    ApiResource {
        group: resource.group.clone(),
        version: resource.version.clone(),
        api_version: resource.api_version(),
        kind: resource.kind.clone(),
        plural: resource.plural.clone(),
    }
}

fn transient(error: &kube::Error) -> bool {
    match error {
        kube::Error::Api(status) => matches!(status.code, 429 | 500 | 502 | 503 | 504),
        kube::Error::HyperError(_) | kube::Error::Service(_) => true,
        _ => false,
    }
}

/// A discovery walk lists the groups, then fetches each: a CRD removed (or its group's last version
/// going away) between the two answers 404, which passes on the next walk.
fn transient_in_discovery(error: &kube::Error) -> bool {
    transient(error) || matches!(error, kube::Error::Api(status) if status.code == 404)
}

/// Retries each read (GET) on its own while it fails in a way that may pass: a dropped connection,
/// or a 500/502 from the API server or a proxy in front of it (kube's own layer already retries 429,
/// 503 and 504). A discovery walk makes one request per API group and fails as a whole when any one
/// does, so with many groups retrying only the walk is not enough. Writes are not retried here: a
/// write whose answer was lost may have landed, so they are retried per operation by
/// [`with_retries`], where [`LiveCluster::written`] tells the outcomes apart.
#[derive(Debug, Clone, Copy, Default)]
struct RetryReads {
    attempt: u32,
}

impl<B> tower::retry::Policy<http::Request<kube::client::Body>, http::Response<B>, tower::BoxError>
    for RetryReads
{
    type Future = tokio::time::Sleep;

    fn retry(
        &mut self,
        request: &mut http::Request<kube::client::Body>,
        result: &mut Result<http::Response<B>, tower::BoxError>,
    ) -> Option<Self::Future> {
        let passing = match result {
            Ok(response) => matches!(response.status().as_u16(), 500 | 502),
            Err(_) => true,
        };
        (passing && request.method() == http::Method::GET && self.attempt + 1 < ATTEMPTS).then(|| {
            let pause = FIRST_BACKOFF * 2u32.pow(self.attempt);
            self.attempt += 1;
            tokio::time::sleep(pause)
        })
    }

    fn clone_request(
        &mut self,
        request: &http::Request<kube::client::Body>,
    ) -> Option<http::Request<kube::client::Body>> {
        if request.method() != http::Method::GET {
            return None;
        }
        let mut copy = http::Request::new(request.body().try_clone()?);
        *copy.method_mut() = request.method().clone();
        *copy.uri_mut() = request.uri().clone();
        *copy.version_mut() = request.version();
        *copy.headers_mut() = request.headers().clone();
        *copy.extensions_mut() = request.extensions().clone();
        Some(copy)
    }
}

/// Runs a request, retrying with exponential backoff while it fails in a way that may pass.
async fn with_retries<T, F, Fut>(request: F) -> Result<T, kube::Error>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, kube::Error>>,
{
    retry_while(transient, request).await
}

/// Runs a request, retrying with exponential backoff while `passing` says its error may pass.
async fn retry_while<T, F, Fut>(passing: fn(&kube::Error) -> bool, mut request: F) -> Result<T, kube::Error>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, kube::Error>>,
{
    let mut pause = FIRST_BACKOFF;
    let mut attempt = 1;
    loop {
        match request().await {
            Err(error) if attempt < ATTEMPTS && passing(&error) => {
                tokio::time::sleep(pause).await;
                pause *= 2;
                attempt += 1;
            }
            result => return result,
        }
    }
}

/// A listed or fetched object as JSON, with apiVersion and kind filled in (lists omit them).
/// An object as the API server returned it, with its `apiVersion` and `kind` (which list items lack).
fn to_value(object: DynamicObject, resource: &Resource) -> Arc<Value> {
    let mut value = serde_json::to_value(object).unwrap_or(Value::Null);
    if let Some(map) = value.as_object_mut() {
        map.insert("apiVersion".to_string(), Value::String(resource.api_version()));
        map.insert("kind".to_string(), Value::String(resource.kind.clone()));
    }
    Arc::new(value)
}

fn resource_of(ar: &ApiResource, caps: &ApiCapabilities) -> Resource {
    Resource {
        group: ar.group.clone(),
        version: ar.version.clone(),
        kind: ar.kind.clone(),
        plural: ar.plural.clone(),
        namespaced: caps.scope == Scope::Namespaced,
    }
}

impl Cluster for LiveCluster {
    async fn server_version(&self) -> Result<semver::Version, ClusterError> {
        let info = with_retries(|| self.client.apiserver_version()).await.map_err(|e| {
            let resource = Resource {
                group: String::new(),
                version: "v1".to_string(),
                kind: "Version".to_string(),
                plural: "version".to_string(),
                namespaced: false,
            };
            self.error(e, "get", &resource, None)
        })?;
        parse_lenient(&info.git_version).map_err(|e| ClusterError::Api {
            verb: "get".to_string(),
            resource: "version".to_string(),
            namespace: None,
            code: 0,
            message: e.to_string(),
        })
    }

    async fn discover(&self) -> Result<Discovered, ClusterError> {
        let discovery = retry_while(transient_in_discovery, || Discovery::new(self.client.clone()).run())
            .await
            .map_err(|e| match e {
                kube::Error::HyperError(_) | kube::Error::Service(_) => {
                    ClusterError::Unreachable { server: self.server.clone(), message: error_chain(&e) }
                }
                other => ClusterError::Api {
                    verb: "discover".to_string(),
                    resource: "API groups".to_string(),
                    namespace: None,
                    code: 0,
                    message: error_chain(&other),
                },
            })?;
        let mut found = Discovered::default();
        for group in discovery.groups() {
            found.preferred.insert(group.name().to_string(), group.preferred_version_or_latest().to_string());
            for version in group.versions() {
                for (ar, caps) in group.versioned_resources(version) {
                    found.resources.push(resource_of(&ar, &caps));
                }
            }
        }
        found.resources.sort();
        *self.discovered.lock().await = Some(found.clone());
        Ok(found)
    }

    async fn get(
        &self,
        resource: &Resource,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<Option<Arc<Value>>, ClusterError> {
        let api = self.api(resource, namespace);
        let object = with_retries(|| api.get_opt(name))
            .await
            .map_err(|e| self.error(e, "get", resource, namespace))?;
        Ok(object.map(|o| to_value(o, resource)))
    }

    async fn list(
        &self,
        resource: &Resource,
        namespace: Option<&str>,
        label_selector: Option<&str>,
    ) -> Result<Vec<Arc<Value>>, ClusterError> {
        let api = self.api(resource, namespace);
        let mut params = ListParams::default().limit(PAGE_SIZE);
        if let Some(selector) = label_selector {
            params = params.labels(selector);
        }
        let mut objects = Vec::new();
        loop {
            let page = with_retries(|| api.list(&params))
                .await
                .map_err(|e| self.error(e, "list", resource, namespace))?;
            let next = page.metadata.continue_.clone().filter(|token| !token.is_empty());
            objects.extend(page.items.into_iter().map(|o| to_value(o, resource)));
            match next {
                Some(token) => params = params.continue_token(&token),
                None => return Ok(objects),
            }
        }
    }

    async fn apply(&self, object: &Value, options: ApplyOptions) -> Result<Arc<Value>, ClusterError> {
        let (target, resource, api) = self.locate(object).await?;
        let mut params = PatchParams::apply(FIELD_MANAGER);
        params.force = options.force;
        params.dry_run = options.dry_run;
        let patch = Patch::Apply(object);
        let result = with_retries(|| api.patch(&target.name, &params, &patch)).await;
        self.written(result, "patch", &target, &resource)
    }

    async fn create(&self, object: &Value) -> Result<Arc<Value>, ClusterError> {
        let (target, resource, api) = self.locate(object).await?;
        let typed: DynamicObject = serde_json::from_value(object.clone())
            .map_err(|e| ClusterError::Invalid { object: target.to_string(), message: e.to_string() })?;
        let params = PostParams { field_manager: Some(FIELD_MANAGER.to_string()), ..PostParams::default() };
        let result = with_retries(|| api.create(&params, &typed)).await;
        self.written(result, "create", &target, &resource)
    }

    async fn replace(&self, object: &Value) -> Result<Arc<Value>, ClusterError> {
        let (target, resource, api) = self.locate(object).await?;
        let typed: DynamicObject = serde_json::from_value(object.clone())
            .map_err(|e| ClusterError::Invalid { object: target.to_string(), message: e.to_string() })?;
        let params = PostParams { field_manager: Some(FIELD_MANAGER.to_string()), ..PostParams::default() };
        let result = with_retries(|| api.replace(&target.name, &params, &typed)).await;
        self.written(result, "update", &target, &resource)
    }

    async fn merge_patch(&self, target: &ObjectRef, patch: &Value) -> Result<Arc<Value>, ClusterError> {
        let resource = self.resource_for(&target.api_version, &target.kind).await?;
        let api = self.api(&resource, target.namespace.as_deref());
        let params = PatchParams { field_manager: Some(FIELD_MANAGER.to_string()), ..PatchParams::default() };
        let patch = Patch::Merge(patch);
        let result = with_retries(|| api.patch(&target.name, &params, &patch)).await;
        self.written(result, "patch", target, &resource)
    }

    async fn delete(&self, target: &ObjectRef, propagation: Propagation) -> Result<(), ClusterError> {
        let resource = self.resource_for(&target.api_version, &target.kind).await?;
        let api = self.api(&resource, target.namespace.as_deref());
        let params = DeleteParams {
            propagation_policy: Some(match propagation {
                Propagation::Background => kube::api::PropagationPolicy::Background,
                Propagation::Foreground => kube::api::PropagationPolicy::Foreground,
                Propagation::Orphan => kube::api::PropagationPolicy::Orphan,
            }),
            ..DeleteParams::default()
        };
        match with_retries(|| api.delete(&target.name, &params)).await {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(status)) if status.code == 404 => Ok(()),
            Err(e) => Err(self.error(e, "delete", &resource, target.namespace.as_deref())),
        }
    }

    fn watch(
        &self,
        resource: &Resource,
        namespace: Option<&str>,
        label_selector: Option<&str>,
    ) -> BoxStream<'static, Result<WatchEvent, ClusterError>> {
        let api = self.api(resource, namespace);
        let mut config = watcher::Config::default();
        if let Some(selector) = label_selector {
            config = config.labels(selector);
        }
        let owned = resource.clone();
        let described = resource.to_string();
        let namespace = namespace.map(str::to_string);
        watcher(api, config)
            .default_backoff()
            .filter_map(move |event| {
                let item = match event {
                    Ok(watcher::Event::Apply(o) | watcher::Event::InitApply(o)) => {
                        Some(Ok(WatchEvent::Applied(to_value(o, &owned))))
                    }
                    Ok(watcher::Event::Delete(o)) => Some(Ok(WatchEvent::Deleted(to_value(o, &owned)))),
                    Ok(watcher::Event::Init | watcher::Event::InitDone) => None,
                    Err(e) => Some(Err(ClusterError::Api {
                        verb: "watch".to_string(),
                        resource: described.clone(),
                        namespace: namespace.clone(),
                        code: 0,
                        message: error_chain(&e),
                    })),
                };
                futures::future::ready(item)
            })
            .boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api_error(code: u16) -> kube::Error {
        kube::Error::Api(Box::new(kube::core::Status {
            code,
            message: "m".to_string(),
            reason: "r".to_string(),
            ..Default::default()
        }))
    }

    #[test]
    fn only_failures_that_may_pass_are_retried() {
        for code in [429, 500, 502, 503, 504] {
            assert!(transient(&api_error(code)), "{code} is retried");
        }
        for code in [400, 401, 403, 404, 409, 422] {
            assert!(!transient(&api_error(code)), "{code} is not retried");
        }
    }

    #[tokio::test]
    async fn retries_back_off_and_give_up_after_the_last_attempt() {
        let mut calls = 0;
        let started = tokio::time::Instant::now();
        let result: Result<(), kube::Error> = with_retries(|| {
            calls += 1;
            async { Err(api_error(503)) }
        })
        .await;
        assert!(result.is_err());
        assert_eq!(calls, ATTEMPTS);
        assert!(started.elapsed() >= FIRST_BACKOFF * 7, "250 + 500 + 1000 ms of backoff");
        let mut calls = 0;
        let _: Result<(), kube::Error> = with_retries(|| {
            calls += 1;
            async { Err(api_error(404)) }
        })
        .await;
        assert_eq!(calls, 1, "a 404 is final");
    }

    #[tokio::test]
    async fn reads_are_retried_one_request_at_a_time_and_writes_are_not() {
        use tower::retry::Policy;
        let request = |method: http::Method| {
            let mut request = http::Request::new(kube::client::Body::empty());
            *request.method_mut() = method;
            request
        };
        let answer = |code: u16| -> Result<http::Response<()>, tower::BoxError> {
            Ok(http::Response::builder().status(code).body(()).unwrap())
        };
        let clones = |policy: &mut RetryReads, request: &http::Request<kube::client::Body>| {
            Policy::<_, http::Response<()>, tower::BoxError>::clone_request(policy, request).is_some()
        };
        let mut policy = RetryReads::default();
        let mut get = request(http::Method::GET);
        assert!(clones(&mut policy, &get));
        let mut dropped: Result<http::Response<()>, tower::BoxError> = Err("connection closed".into());
        assert!(policy.retry(&mut get, &mut dropped).is_some(), "a dropped read is retried");
        assert!(policy.retry(&mut get, &mut answer(500)).is_some(), "a 500 read is retried");
        assert!(policy.retry(&mut get, &mut answer(502)).is_some());
        assert!(policy.retry(&mut get, &mut answer(502)).is_none(), "{ATTEMPTS} attempts in all");
        let mut fresh = RetryReads::default();
        for code in [200, 404, 403, 409] {
            assert!(fresh.retry(&mut get, &mut answer(code)).is_none(), "{code} is final");
        }
        for method in [http::Method::POST, http::Method::PUT, http::Method::PATCH, http::Method::DELETE] {
            let mut write = request(method.clone());
            assert!(!clones(&mut fresh, &write), "{method} is not retried here");
            assert!(fresh.retry(&mut write, &mut answer(500)).is_none(), "{method} is not retried here");
        }
    }

    #[tokio::test]
    async fn a_discovery_walk_that_meets_a_vanished_group_walks_again() {
        let mut calls = 0;
        let result = retry_while(transient_in_discovery, || {
            calls += 1;
            let outcome = if calls == 1 { Err(api_error(404)) } else { Ok(calls) };
            async move { outcome }
        })
        .await;
        assert_eq!(result.ok(), Some(2));
        assert!(!transient_in_discovery(&api_error(403)), "a forbidden discovery is final");
    }
}
