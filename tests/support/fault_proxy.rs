//! A test stand-in for a flaky network and an overloaded API server: a small HTTP proxy in front of
//! the test cluster's real API server that, for a seeded pseudo-random share of requests, answers
//! 429 (with `Retry-After`) or 500/503 with a Kubernetes `Status` body, or drops the connection
//! without answering, either before forwarding or after the server has done the work (the case where
//! a client cannot know whether its write landed). Runs of failures are bounded, as transient faults
//! are. Everything else is forwarded unchanged and streamed back, so watches work; a watch is only
//! ever faulted before it starts.
//!
//! The proxy speaks plain HTTP to its clients and reaches the real server with a `kube::Client` built
//! from the test kubeconfig (which does the TLS and client-certificate authentication). It writes a
//! kubeconfig pointing at itself, usable by `LiveCluster`, kubectl and helm, and counts what it
//! injected so a test can show the faults really happened.

use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::header::{self, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use kube::config::{KubeConfigOptions, Kubeconfig};
use serde_json::json;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type ProxyBody = UnsyncBoxBody<Bytes, BoxError>;

/// How often and how to fail.
#[derive(Debug, Clone, Copy)]
pub struct Faults {
    /// The share of requests that fail, in percent.
    pub percent: u64,
    /// The seed: the same seed fails the same requests (by arrival order).
    pub seed: u64,
    /// The longest run of failed requests in a row: faults are transient, and a client that
    /// retries more often than this gets through. (A longer outage is an unreachable server, which
    /// fails an apply by design.)
    pub max_in_a_row: u32,
}

/// What the proxy injected so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Injected {
    /// 429 Too Many Requests answers.
    pub too_many_requests: u64,
    /// 500 Internal Server Error answers.
    pub internal_errors: u64,
    /// 503 Service Unavailable answers.
    pub unavailable: u64,
    /// Connections dropped before the request reached the server.
    pub dropped_before: u64,
    /// Connections dropped after the server answered (the request took effect; the client never
    /// learns it).
    pub dropped_after: u64,
    /// Requests forwarded and answered normally.
    pub forwarded: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    TooManyRequests,
    InternalError,
    Unavailable,
    DropBefore,
    DropAfter,
}

/// Every fault; a watch gets only those that strike before it starts (all but the last).
const FAULTS: [Fault; 5] =
    [Fault::TooManyRequests, Fault::InternalError, Fault::Unavailable, Fault::DropBefore, Fault::DropAfter];

/// The arrival count and the current run of failed requests.
#[derive(Default)]
struct Sequence {
    requests: u64,
    in_a_row: u32,
}

#[derive(Default)]
struct Counters {
    too_many_requests: AtomicU64,
    internal_errors: AtomicU64,
    unavailable: AtomicU64,
    dropped_before: AtomicU64,
    dropped_after: AtomicU64,
    forwarded: AtomicU64,
}

struct State {
    client: kube::Client,
    faults: Faults,
    sequence: Mutex<Sequence>,
    counters: Counters,
}

impl State {
    /// The fault for the next request, if any.
    fn next_fault(&self, watch: bool) -> Option<Fault> {
        let mut sequence = self.sequence.lock().unwrap_or_else(PoisonError::into_inner);
        let fault = fault_for(self.faults, sequence.requests, watch)
            .filter(|_| sequence.in_a_row < self.faults.max_in_a_row);
        sequence.requests += 1;
        sequence.in_a_row = if fault.is_some() { sequence.in_a_row + 1 } else { 0 };
        fault
    }
}

/// A running fault proxy; stops when dropped.
pub struct FaultProxy {
    kubeconfig: PathBuf,
    state: Arc<State>,
    accept: JoinHandle<()>,
    _dir: tempfile::TempDir,
}

impl FaultProxy {
    /// Starts a proxy on a free loopback port in front of the API server `kubeconfig` names.
    pub async fn start(kubeconfig: &Path, faults: Faults) -> FaultProxy {
        let mut config = kube::Config::from_custom_kubeconfig(
            Kubeconfig::read_from(kubeconfig).expect("the test kubeconfig reads"),
            &KubeConfigOptions::default(),
        )
        .await
        .expect("the test kubeconfig is usable");
        // Pass the real server's answers through as they are: retrying is the client's business.
        config.default_retry = false;
        let client = kube::Client::try_from(config).expect("a client for the real API server");
        let state =
            Arc::new(State { client, faults, sequence: Mutex::default(), counters: Counters::default() });
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free loopback port");
        let address = listener.local_addr().expect("the bound address");
        let accept = tokio::spawn(accept_loop(listener, state.clone()));
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("kubeconfig");
        std::fs::write(&path, proxy_kubeconfig(address)).expect("the proxy kubeconfig is written");
        FaultProxy { kubeconfig: path, state, accept, _dir: dir }
    }

    /// A kubeconfig for clients of the proxy.
    pub fn kubeconfig(&self) -> &Path {
        &self.kubeconfig
    }

    /// What was injected so far.
    pub fn injected(&self) -> Injected {
        let c = &self.state.counters;
        let read = |counter: &AtomicU64| counter.load(Ordering::SeqCst);
        Injected {
            too_many_requests: read(&c.too_many_requests),
            internal_errors: read(&c.internal_errors),
            unavailable: read(&c.unavailable),
            dropped_before: read(&c.dropped_before),
            dropped_after: read(&c.dropped_after),
            forwarded: read(&c.forwarded),
        }
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

fn proxy_kubeconfig(address: SocketAddr) -> String {
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: fault-proxy\n  cluster:\n    server: http://{address}\n\
         users:\n- name: fault-proxy\n  user: {{}}\ncontexts:\n- name: fault-proxy\n  context:\n    \
         cluster: fault-proxy\n    user: fault-proxy\ncurrent-context: fault-proxy\n"
    )
}

async fn accept_loop(listener: TcpListener, state: Arc<State>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else { continue };
        let state = state.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request| handle(state.clone(), request));
            // A dropped connection ends here with the error that dropped it: nothing to report.
            let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
        });
    }
}

/// SplitMix64: a well-mixed pseudo-random number from a seed and a counter.
fn mix(seed: u64, index: u64) -> u64 {
    let mut z = seed.wrapping_add(index.wrapping_add(1).wrapping_mul(0x9e37_79b9_7f4a_7c15));
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The fault for the `index`-th request, if any.
fn fault_for(faults: Faults, index: u64, watch: bool) -> Option<Fault> {
    let roll = mix(faults.seed, index);
    if roll % 100 >= faults.percent {
        return None;
    }
    let choices = if watch { &FAULTS[..4] } else { &FAULTS[..] };
    let pick = usize::try_from((roll >> 32) % choices.len() as u64).unwrap_or(0);
    Some(choices[pick])
}

fn is_watch(request: &Request<Incoming>) -> bool {
    request
        .uri()
        .query()
        .is_some_and(|query| query.split('&').any(|pair| pair == "watch=true" || pair == "watch=1"))
}

fn dropped() -> io::Error {
    io::Error::other("connection dropped by the test fault proxy")
}

async fn handle(state: Arc<State>, request: Request<Incoming>) -> Result<Response<ProxyBody>, io::Error> {
    let counters = &state.counters;
    let fault = state.next_fault(is_watch(&request));
    match fault {
        Some(Fault::TooManyRequests) => {
            counters.too_many_requests.fetch_add(1, Ordering::SeqCst);
            return Ok(status(
                StatusCode::TOO_MANY_REQUESTS,
                "TooManyRequests",
                "too many requests, try again",
            ));
        }
        Some(Fault::InternalError) => {
            counters.internal_errors.fetch_add(1, Ordering::SeqCst);
            return Ok(status(StatusCode::INTERNAL_SERVER_ERROR, "InternalError", "internal error"));
        }
        Some(Fault::Unavailable) => {
            counters.unavailable.fetch_add(1, Ordering::SeqCst);
            return Ok(status(
                StatusCode::SERVICE_UNAVAILABLE,
                "ServiceUnavailable",
                "the server is unavailable",
            ));
        }
        Some(Fault::DropBefore) => {
            counters.dropped_before.fetch_add(1, Ordering::SeqCst);
            return Err(dropped());
        }
        Some(Fault::DropAfter) | None => {}
    }
    let response = match forward(&state.client, request).await {
        Ok(response) => response,
        Err(e) => {
            return Ok(status(
                StatusCode::BAD_GATEWAY,
                "BadGateway",
                &format!("cannot reach the API server: {e}"),
            ));
        }
    };
    if fault == Some(Fault::DropAfter) {
        // Read the whole answer so the server has finished the request, then tell the client nothing.
        let _ = response.into_body().collect().await;
        counters.dropped_after.fetch_add(1, Ordering::SeqCst);
        return Err(dropped());
    }
    counters.forwarded.fetch_add(1, Ordering::SeqCst);
    let (parts, body) = response.into_parts();
    let mut answer = Response::new(body.map_err(|e| -> BoxError { Box::new(e) }).boxed_unsync());
    *answer.status_mut() = parts.status;
    for (name, value) in &parts.headers {
        if ![header::CONNECTION, header::TRANSFER_ENCODING, header::CONTENT_LENGTH].contains(name) {
            answer.headers_mut().append(name, value.clone());
        }
    }
    Ok(answer)
}

/// Sends a client's request to the real API server, with the headers that say what it carries and
/// what it wants back.
async fn forward(
    client: &kube::Client,
    request: Request<Incoming>,
) -> Result<Response<kube::client::Body>, BoxError> {
    let (parts, body) = request.into_parts();
    let bytes = body.collect().await?.to_bytes();
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let mut outgoing = Request::builder().method(parts.method).uri(path);
    for name in [header::CONTENT_TYPE, header::ACCEPT] {
        if let Some(value) = parts.headers.get(&name) {
            outgoing = outgoing.header(name, value);
        }
    }
    let outgoing = outgoing.body(kube::client::Body::from(bytes.to_vec()))?;
    Ok(client.send(outgoing).await?)
}

/// A Kubernetes `Status` answer.
fn status(code: StatusCode, reason: &str, message: &str) -> Response<ProxyBody> {
    let body = json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": format!("{message} (injected by the test fault proxy)"),
        "reason": reason, "code": code.as_u16(),
        "details": {"retryAfterSeconds": 1},
    });
    let mut response = Response::new(
        Full::new(Bytes::from(body.to_string())).map_err(|never| match never {}).boxed_unsync(),
    );
    *response.status_mut() = code;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if code == StatusCode::TOO_MANY_REQUESTS {
        headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    response
}
