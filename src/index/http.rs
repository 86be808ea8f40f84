//! The index as an HTTP/JSON service (axum on tokio): check drafts and add documents from a
//! CMS or a script.
//!
//! Routes: `POST /v1/check`, `POST /v1/documents`, `DELETE /v1/documents/{id}`,
//! `GET /v1/stats`, `GET /health`. Every index call runs on tokio's blocking pool: readers run
//! concurrently, redb serialises the writes. With a token, every request needs
//! `Authorization: Bearer TOKEN` (401 otherwise); bodies over the limit get 413; malformed
//! JSON gets 400 with the parser's message, an id over [`MAX_ID_BYTES`] 400 too.
//!
//! Against cross-site requests and DNS rebinding from a browser: a `Host` other than the bound
//! address (or `localhost`, `127.0.0.1`, `[::1]` with its port, for a loopback bind) gets 421,
//! an `Origin` other than those gets 403, and a POST or DELETE body that is not
//! `application/json` gets 415.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;

use super::{
    AddOptions, AddOutcome, AddStatus, Index, MAX_ID_BYTES, Match, duplicate_at, unix_now,
};
use crate::error::Error;
use crate::input::{Document, Origin};
use crate::verdict::Level;

/// Service settings.
#[derive(Debug, Clone)]
pub struct ServiceOptions {
    /// When set, every request must carry `Authorization: Bearer <token>`.
    pub token: Option<String>,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
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

/// A document from a request.
fn document(id: Option<String>, text: String) -> Result<Document, ApiError> {
    if text.trim().is_empty() {
        return Err(ApiError(StatusCode::BAD_REQUEST, "text is empty".into()));
    }
    if let Some(id) = id.as_ref().filter(|id| id.len() > MAX_ID_BYTES) {
        return Err(ApiError(
            StatusCode::BAD_REQUEST,
            format!("\"id\" is {} bytes, over {MAX_ID_BYTES}", id.len()),
        ));
    }
    Ok(Document {
        id: id.unwrap_or_default(),
        text,
        origin: Origin {
            path: "request".into(),
            line: None,
        },
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

/// The `host:port` names a request may carry in `Host` and `Origin` for a bound address:
/// that address, and for a loopback bind its `localhost`, `127.0.0.1` and `[::1]` spellings.
/// Empty for an unspecified bind (`0.0.0.0`): its names are unknown, the token guards it.
fn allowed_hosts(bound: SocketAddr) -> Vec<String> {
    if bound.ip().is_unspecified() {
        return Vec::new();
    }
    let port = bound.port();
    let mut hosts = vec![bound.to_string()];
    if bound.ip().is_loopback() {
        for name in ["localhost", "127.0.0.1", "[::1]"] {
            hosts.push(format!("{name}:{port}"));
        }
    }
    hosts
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
    State(allowed): State<Arc<Vec<String>>>,
    request: Request,
    next: Next,
) -> Response {
    let headers = request.headers();
    let allowed_name = |name: &str| allowed.is_empty() || allowed.iter().any(|a| a == name);
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

/// The service's routes over an open index bound to `bound`.
pub fn router(index: Arc<Index>, options: &ServiceOptions, bound: SocketAddr) -> Router {
    let routes = Router::new()
        .route("/v1/check", post(check))
        .route("/v1/documents", post(add))
        .route("/v1/documents/{id}", delete(remove))
        .route("/v1/stats", get(stats))
        .route("/health", get(health))
        .with_state(index)
        .layer(DefaultBodyLimit::max(options.max_body_bytes));
    let routes = match &options.token {
        Some(token) => routes.layer(middleware::from_fn_with_state(
            Arc::<str>::from(token.as_str()),
            authorize,
        )),
        None => routes,
    };
    routes.layer(middleware::from_fn_with_state(
        Arc::new(allowed_hosts(bound)),
        same_origin,
    ))
}

/// Serves until `shutdown` resolves, then stops accepting, finishes the requests in flight
/// (writes included) and returns.
pub async fn serve(
    index: Arc<Index>,
    listener: TcpListener,
    options: &ServiceOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let bound = listener.local_addr()?;
    axum::serve(listener, router(index, options, bound))
        .with_graceful_shutdown(shutdown)
        .await
}

#[cfg(test)]
mod tests {
    use super::{allowed_hosts, bearer_token, origin_host, same_secret};

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
        let hosts = allowed_hosts("127.0.0.1:7878".parse().unwrap());
        assert!(hosts.contains(&"localhost:7878".to_string()));
        assert!(hosts.contains(&"[::1]:7878".to_string()));
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
}
