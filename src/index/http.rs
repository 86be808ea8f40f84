//! The index as an HTTP/JSON service (axum on tokio): check drafts and add documents from a
//! CMS or a script.
//!
//! Routes: `POST /v1/check`, `POST /v1/documents`, `DELETE /v1/documents/{id}`,
//! `GET /v1/stats`, `GET /health`. Every index call runs on tokio's blocking pool: readers run
//! concurrently, redb serialises the writes. With a token, every request needs
//! `Authorization: Bearer TOKEN` (401 otherwise); bodies over the limit get 413 (at once when
//! their `Content-Length` says so); malformed JSON gets 400 with the parser's message, an id
//! over [`MAX_ID_BYTES`] 400 too.
//!
//! Against cross-site requests and DNS rebinding from a browser: a `Host` other than the bound
//! address (or `localhost`, `127.0.0.1`, `[::1]` with its port, for a loopback bind; any IP
//! address with the port, for an unspecified bind; a name given in
//! [`ServiceOptions::hosts`]) gets 421, an `Origin` other than those gets 403, and a POST or
//! DELETE body that is not `application/json` gets 415.
//!
//! Against clients that hold connections: headers must arrive within
//! [`ServiceOptions::header_timeout`] (also between requests on a kept-alive connection), a
//! body within [`ServiceOptions::body_timeout`] (408 otherwise), at most
//! [`ServiceOptions::max_connections`] are open at once (more wait to be accepted), and a
//! shutdown waits at most [`ServiceOptions::shutdown_deadline`] for open connections.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;

use super::{
    AddOptions, AddOutcome, AddStatus, Index, MAX_ID_BYTES, Match, duplicate_at, unix_now,
};
use crate::error::Error;
use crate::input::{Document, Origin};
use crate::verdict::Level;

/// Service settings; [`Default`] gives those of `storyprint serve`.
#[derive(Debug, Clone)]
pub struct ServiceOptions {
    /// When set, every request must carry `Authorization: Bearer <token>`.
    pub token: Option<String>,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Time a client has to send a request's headers, from the connection's start or the end
    /// of its previous answer: an idle connection is closed after it.
    pub header_timeout: Duration,
    /// Time a client has to send a request's body once its headers are in (408 after it).
    pub body_timeout: Duration,
    /// Connections served at once; further ones wait in the listen queue.
    pub max_connections: usize,
    /// Time a shutdown waits for open connections before closing them.
    pub shutdown_deadline: Duration,
    /// Further host names (`name` or `name:port`) the service answers to in `Host` and
    /// `Origin`, beside its address.
    pub hosts: Vec<String>,
}

impl Default for ServiceOptions {
    fn default() -> ServiceOptions {
        ServiceOptions {
            token: None,
            max_body_bytes: 4 * 1024 * 1024,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            max_connections: 1024,
            shutdown_deadline: Duration::from_secs(10),
            hosts: Vec::new(),
        }
    }
}

/// `POST /v1/check` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckRequest {
    /// The document's text.
    pub text: String,
    /// Its id: never matched against itself; required with `add`.
    pub id: Option<String>,
    /// Add it when it is not a duplicate (atomically with the check).
    #[serde(default)]
    pub add: bool,
    /// Threshold for this check (default: the index's).
    pub threshold: Option<f64>,
    /// The lowest level that makes a duplicate (default: the index's, `rewrite`).
    pub level: Option<Level>,
}

/// `POST /v1/check` answer.
#[derive(Debug, Serialize, Deserialize)]
pub struct CheckResponse {
    /// Whether any match reaches the level asked for.
    pub duplicate: bool,
    /// The matching documents, best first.
    pub matches: Vec<MatchBody>,
    /// With `add`: what the add did (absent when it was a duplicate and not added).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub added: Option<AddStatus>,
}

/// A match in an answer.
#[derive(Debug, Serialize, Deserialize)]
pub struct MatchBody {
    /// The indexed document.
    pub id: String,
    /// Its similarity, rounded to 4 decimals.
    pub similarity: f64,
    /// Its story score, rounded to 4 decimals (absent when the index does not verify
    /// exactly).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub story: Option<f64>,
    /// How alike they are.
    pub level: Level,
}

impl From<Match> for MatchBody {
    fn from(m: Match) -> MatchBody {
        MatchBody {
            id: m.id,
            similarity: crate::output::round4(m.similarity),
            story: m.story.map(crate::output::round4),
            level: m.level,
        }
    }
}

/// `POST /v1/documents` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddRequest {
    /// The document id (a known id with new text replaces the old version).
    pub id: String,
    /// The text.
    pub text: String,
}

/// An error answer: a status and `{"error": message}`.
#[derive(Debug)]
struct ApiError(StatusCode, String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(serde_json::json!({ "error": self.1 }))).into_response()
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> ApiError {
        let status = match e {
            Error::Config(_) => StatusCode::BAD_REQUEST,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ApiError(status, e.to_string())
    }
}

type ApiResult<T> = Result<Json<T>, ApiError>;

/// Parses a JSON body, answering 400 with the parser's message.
fn parse<T: DeserializeOwned>(body: &Bytes) -> Result<T, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError(StatusCode::BAD_REQUEST, format!("malformed JSON body: {e}")))
}

/// Refuses an id over [`MAX_ID_BYTES`].
fn short_id(id: &str) -> Result<(), ApiError> {
    if id.len() > MAX_ID_BYTES {
        return Err(ApiError(
            StatusCode::BAD_REQUEST,
            format!("\"id\" is {} bytes, over {MAX_ID_BYTES}", id.len()),
        ));
    }
    Ok(())
}

/// A document from a request.
fn document(id: Option<String>, text: String) -> Result<Document, ApiError> {
    if text.trim().is_empty() {
        return Err(ApiError(StatusCode::BAD_REQUEST, "text is empty".into()));
    }
    id.as_deref().map_or(Ok(()), short_id)?;
    Ok(Document {
        id: id.unwrap_or_default(),
        text,
        origin: Origin {
            path: "request".into(),
            line: None,
        },
        time: None,
    })
}

/// Runs index work on the blocking pool.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| ApiError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
}

async fn check(State(index): State<Arc<Index>>, body: Bytes) -> ApiResult<CheckResponse> {
    let request: CheckRequest = parse(&body)?;
    if request.add && request.id.as_deref().is_none_or(str::is_empty) {
        return Err(ApiError(
            StatusCode::BAD_REQUEST,
            "\"add\": true needs an \"id\"".into(),
        ));
    }
    let doc = document(request.id, request.text)?;
    let level = request.level.unwrap_or(index.config().level);
    let (matches, added) = blocking(move || {
        if request.add {
            Ok(index.check_and_add(&doc, request.threshold, Some(level), unix_now())?)
        } else {
            let id = (!doc.id.is_empty()).then_some(doc.id.as_str());
            Ok((index.check(&doc.text, id, request.threshold)?, None))
        }
    })
    .await?;
    Ok(Json(CheckResponse {
        duplicate: duplicate_at(&matches, level),
        matches: matches.into_iter().map(MatchBody::from).collect(),
        added,
    }))
}

async fn add(State(index): State<Arc<Index>>, body: Bytes) -> ApiResult<AddOutcome> {
    let request: AddRequest = parse(&body)?;
    if request.id.is_empty() {
        return Err(ApiError(StatusCode::BAD_REQUEST, "\"id\" is empty".into()));
    }
    let doc = document(Some(request.id), request.text)?;
    let mut outcomes = blocking(move || Ok(index.add(&[doc], &AddOptions::now())?)).await?;
    outcomes
        .pop()
        .map(Json)
        .ok_or_else(|| ApiError(StatusCode::INTERNAL_SERVER_ERROR, "nothing added".into()))
}

async fn remove(
    State(index): State<Arc<Index>>,
    Path(id): Path<String>,
) -> ApiResult<serde_json::Value> {
    short_id(&id)?;
    let key = id.clone();
    let missing = blocking(move || Ok(index.remove(&[key])?)).await?;
    if missing.is_empty() {
        Ok(Json(serde_json::json!({ "removed": id })))
    } else {
        Err(ApiError(
            StatusCode::NOT_FOUND,
            format!("no document {id:?} in the index"),
        ))
    }
}

async fn stats(State(index): State<Arc<Index>>) -> ApiResult<super::Stats> {
    Ok(Json(blocking(move || Ok(index.stats()?)).await?))
}

async fn health() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok" }))
}

/// Compares two byte strings in time that depends only on `expected`'s length: no early exit
/// on the first differing byte, and a length mismatch still scans `expected` to the end.
fn same_secret(given: &[u8], expected: &[u8]) -> bool {
    let mut diff = u8::from(given.len() != expected.len());
    for (i, &e) in expected.iter().enumerate() {
        let g = given.get(i).copied().unwrap_or(!e);
        diff |= std::hint::black_box(g ^ e);
    }
    diff == 0
}

/// The token of an `Authorization` value: the scheme `Bearer` in any case (RFC 9110 §11.1),
/// one space, and the token as given (no padding trimmed).
fn bearer_token(value: &[u8]) -> Option<&[u8]> {
    let space = value.iter().position(|&b| b == b' ')?;
    let (scheme, rest) = value.split_at(space);
    scheme.eq_ignore_ascii_case(b"bearer").then(|| &rest[1..])
}

/// Refuses requests without the bearer token.
async fn authorize(State(token): State<Arc<str>>, request: Request, next: Next) -> Response {
    let given = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| bearer_token(v.as_bytes()));
    if given.is_some_and(|g| same_secret(g, token.as_bytes())) {
        next.run(request).await
    } else {
        ApiError(
            StatusCode::UNAUTHORIZED,
            "missing or wrong bearer token (Authorization: Bearer …)".into(),
        )
        .into_response()
    }
}

/// The `host:port` names a request may carry in `Host` and `Origin`.
#[derive(Debug)]
struct AllowedHosts {
    /// Names allowed as they are: the bound address, for a loopback bind its `localhost`,
    /// `127.0.0.1` and `[::1]` spellings, the names the options add.
    names: Vec<String>,
    /// For an unspecified bind (`0.0.0.0`, `[::]`): any IP address with this port. An address
    /// cannot be rebound by DNS; a name can, so names are only those given.
    any_address_on: Option<u16>,
}

impl AllowedHosts {
    fn new(bound: SocketAddr, extra: &[String]) -> AllowedHosts {
        let port = bound.port();
        let mut names: Vec<String> = extra.iter().map(|name| with_port(name, port)).collect();
        let mut any_address_on = None;
        if bound.ip().is_unspecified() {
            any_address_on = Some(port);
            names.push(format!("localhost:{port}"));
        } else {
            names.push(bound.to_string());
            if bound.ip().is_loopback() {
                for name in ["localhost", "127.0.0.1", "[::1]"] {
                    names.push(format!("{name}:{port}"));
                }
            }
        }
        AllowedHosts {
            names,
            any_address_on,
        }
    }

    /// Whether `host_port` (lower case, with its port) is allowed.
    fn allows(&self, host_port: &str) -> bool {
        if self.names.iter().any(|name| name == host_port) {
            return true;
        }
        self.any_address_on.is_some_and(|port| {
            host_port
                .parse::<SocketAddr>()
                .is_ok_and(|addr| addr.port() == port)
        })
    }
}

/// `authority` as `host:port` in lower case, with `default_port` when it has none.
fn with_port(authority: &str, default_port: u16) -> String {
    let authority = authority.to_ascii_lowercase();
    let has_port = match authority.rfind(']') {
        Some(end) => authority[end..].contains(':'),
        None => authority.contains(':'),
    };
    if has_port {
        authority
    } else {
        format!("{authority}:{default_port}")
    }
}

/// The `host:port` of an `Origin` value (`scheme://host[:port]`), or `None` (`null`, garbage).
fn origin_host(origin: &str) -> Option<String> {
    let (scheme, authority) = origin.split_once("://")?;
    let default_port = match scheme.to_ascii_lowercase().as_str() {
        "http" => 80,
        "https" => 443,
        _ => return None,
    };
    (!authority.is_empty() && !authority.contains('/')).then(|| with_port(authority, default_port))
}

/// Whether a POST or DELETE carries a body that is not `application/json`.
fn wrong_content_type(method: &Method, headers: &HeaderMap) -> bool {
    if method != Method::POST && method != Method::DELETE {
        return false;
    }
    let has_body = method == Method::POST
        || headers.contains_key(header::TRANSFER_ENCODING)
        || headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim() != "0");
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    has_body && !json
}

/// Refuses what a browser on another site could send: a foreign `Host` (DNS rebinding, 421),
/// a foreign `Origin` (403), a body that is not JSON (415, no CORS preflight skips it).
async fn same_origin(
    State(allowed): State<Arc<AllowedHosts>>,
    request: Request,
    next: Next,
) -> Response {
    let headers = request.headers();
    let allowed_name = |name: &str| allowed.allows(name);
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .or_else(|| request.uri().authority().map(|a| a.as_str()))
        .map(|h| with_port(h.trim(), 80));
    if !host.as_deref().is_some_and(allowed_name) {
        return ApiError(
            StatusCode::MISDIRECTED_REQUEST,
            format!(
                "the Host {:?} is not this server's address",
                host.unwrap_or_default()
            ),
        )
        .into_response();
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let origin = origin.to_str().ok().and_then(origin_host);
        if !origin.as_deref().is_some_and(allowed_name) {
            return ApiError(
                StatusCode::FORBIDDEN,
                "cross-origin requests are refused".into(),
            )
            .into_response();
        }
    }
    if wrong_content_type(request.method(), headers) {
        return ApiError(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "the body must be Content-Type: application/json".into(),
        )
        .into_response();
    }
    next.run(request).await
}

/// The limits a request body is read under.
#[derive(Debug, Clone, Copy)]
struct BodyLimits {
    max_bytes: usize,
    timeout: Duration,
}

/// Reads a request's body before the handler runs: 413 at once when its `Content-Length` is
/// over the limit (the body is not waited for), 408 when it does not arrive in time.
async fn read_body(State(limits): State<BodyLimits>, request: Request, next: Next) -> Response {
    let too_large = || {
        let mut response = ApiError(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the body is over {} bytes", limits.max_bytes),
        )
        .into_response();
        // The rest of the body is not read: the connection cannot carry another request.
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
        response
    };
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|length| length > limits.max_bytes as u64) {
        return too_large();
    }
    let (parts, body) = request.into_parts();
    let read = axum::body::to_bytes(body, limits.max_bytes);
    match tokio::time::timeout(limits.timeout, read).await {
        Ok(Ok(bytes)) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        Ok(Err(_)) => too_large(),
        Err(_) => {
            let mut response = ApiError(
                StatusCode::REQUEST_TIMEOUT,
                format!("the body did not arrive within {:?}", limits.timeout),
            )
            .into_response();
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            response
        }
    }
}

/// The service's routes over an open index bound to `bound`.
pub fn router(index: Arc<Index>, options: &ServiceOptions, bound: SocketAddr) -> Router {
    let limits = BodyLimits {
        max_bytes: options.max_body_bytes,
        timeout: options.body_timeout,
    };
    let routes = Router::new()
        .route("/v1/check", post(check))
        .route("/v1/documents", post(add))
        .route("/v1/documents/{id}", delete(remove))
        .route("/v1/stats", get(stats))
        .route("/health", get(health))
        .with_state(index)
        .layer(DefaultBodyLimit::max(options.max_body_bytes))
        .layer(middleware::from_fn_with_state(limits, read_body));
    let routes = match &options.token {
        Some(token) => routes.layer(middleware::from_fn_with_state(
            Arc::<str>::from(token.as_str()),
            authorize,
        )),
        None => routes,
    };
    routes.layer(middleware::from_fn_with_state(
        Arc::new(AllowedHosts::new(bound, &options.hosts)),
        same_origin,
    ))
}

/// Serves until `shutdown` resolves, then stops accepting, lets the connections finish the
/// requests in flight (writes included) for at most [`ServiceOptions::shutdown_deadline`],
/// closes those still open (a half-sent request) and returns how many it closed.
pub async fn serve(
    index: Arc<Index>,
    listener: TcpListener,
    options: &ServiceOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<usize> {
    let bound = listener.local_addr()?;
    let service = TowerToHyperService::new(router(index, options, bound));
    let slots = Arc::new(Semaphore::new(options.max_connections.max(1)));
    let (stop, stopping) = watch::channel(false);
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            () = &mut shutdown => break,
            slot = Arc::clone(&slots).acquire_owned() => slot,
        };
        let Ok(slot) = slot else { break };
        let stream = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        match stream {
            Ok((stream, _)) => {
                let (service, stopping) = (service.clone(), stopping.clone());
                let header_timeout = options.header_timeout;
                connections.spawn(async move {
                    connection(stream, service, header_timeout, stopping).await;
                    drop(slot);
                });
            }
            // Out of file descriptors, or a connection reset before it was accepted: the
            // connections open will end by their timeouts.
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
        while connections.try_join_next().is_some() {}
    }
    drop(listener);
    // No receiver left means no connection left to tell.
    let _ = stop.send(true);
    let drained = async { while connections.join_next().await.is_some() {} };
    if tokio::time::timeout(options.shutdown_deadline, drained)
        .await
        .is_ok()
    {
        return Ok(0);
    }
    let closed = connections.len();
    connections.shutdown().await;
    Ok(closed)
}

/// Serves one connection over HTTP/1.1 until the client closes it, a timeout ends it, or a
/// shutdown (`stopping` turning true) lets its request in flight finish.
async fn connection(
    stream: TcpStream,
    service: TowerToHyperService<Router>,
    header_timeout: Duration,
    mut stopping: watch::Receiver<bool>,
) {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(header_timeout);
    let served = http.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(served);
    tokio::select! {
        _ = served.as_mut() => return,
        _ = stopping.wait_for(|stop| *stop) => served.as_mut().graceful_shutdown(),
    }
    // An error here is the client's (a reset, a timeout): nothing to answer.
    let _ = served.await;
}

#[cfg(test)]
mod tests {
    use super::{AllowedHosts, bearer_token, origin_host, same_secret};

    #[test]
    fn secrets_compare_by_every_byte_and_length() {
        assert!(same_secret(b"s3cret", b"s3cret"));
        assert!(!same_secret(b"s3cre", b"s3cret"));
        assert!(!same_secret(b"s3cretX", b"s3cret"));
        assert!(!same_secret(b"S3cret", b"s3cret"));
        assert!(!same_secret(b"", b"s3cret"));
        assert!(!same_secret(b" s3cret", b"s3cret"));
    }

    #[test]
    fn the_bearer_scheme_is_case_insensitive_and_the_token_untrimmed() {
        assert_eq!(bearer_token(b"Bearer abc"), Some(&b"abc"[..]));
        assert_eq!(bearer_token(b"bEaReR abc"), Some(&b"abc"[..]));
        assert_eq!(bearer_token(b"Bearer  abc"), Some(&b" abc"[..]));
        assert_eq!(bearer_token(b"Basic abc"), None);
        assert_eq!(bearer_token(b"Bearerabc"), None);
    }

    #[test]
    fn origins_and_hosts_carry_their_port() {
        let hosts = AllowedHosts::new("127.0.0.1:7878".parse().unwrap(), &[]);
        assert!(hosts.allows("localhost:7878"));
        assert!(hosts.allows("[::1]:7878"));
        assert!(!hosts.allows("10.0.0.1:7878"));
        assert_eq!(
            origin_host("http://LOCALHOST:7878").as_deref(),
            Some("localhost:7878")
        );
        assert_eq!(
            origin_host("https://evil.example").as_deref(),
            Some("evil.example:443")
        );
        assert_eq!(origin_host("http://[::1]").as_deref(), Some("[::1]:80"));
        assert_eq!(origin_host("null"), None);
    }

    #[test]
    fn an_unspecified_bind_allows_addresses_on_its_port_and_given_names_only() {
        let extra = ["news.example".to_string(), "cms.example:8080".to_string()];
        let hosts = AllowedHosts::new("0.0.0.0:7878".parse().unwrap(), &extra);
        assert!(hosts.allows("192.168.1.20:7878"));
        assert!(hosts.allows("[fe80::1]:7878"));
        assert!(hosts.allows("localhost:7878"));
        assert!(hosts.allows("news.example:7878"));
        assert!(hosts.allows("cms.example:8080"));
        assert!(!hosts.allows("192.168.1.20:80"));
        assert!(!hosts.allows("evil.example:7878"));
        assert!(!hosts.allows("cms.example:7878"));
    }
}
