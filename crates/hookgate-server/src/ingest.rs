//! `POST /in/{source}`: limits, verification, extraction, durable append, acknowledgement.
//!
//! [`ingest`] is the whole pipeline as a plain async function (tests can call it without HTTP);
//! the axum handler only gathers its inputs. The order of checks is deliberate: everything that
//! can be refused without reading the body (unknown source, method, encoding, declared size) is
//! refused before reading it, so a sender cannot make hookgate buffer what it will reject.

use std::{
    net::{IpAddr, SocketAddr},
    time::{SystemTime, UNIX_EPOCH},
};

use axum::{
    body::Body,
    extract::{ConnectInfo, Path, State},
    http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri},
    response::{IntoResponse, Response},
    Json,
};
use bytes::Bytes;
use hookgate_core::{event::Extractor, EventId, NewEvent, RouteInput, Source, Verification};
use hookgate_verify::{
    handshake::{self, HandshakeReply},
    Provider, Request as VerifyRequest,
};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde::Serialize;

use crate::{error::ApiError, App};

/// What a sender gets back once its event is durable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Accepted {
    pub id: String,
    pub duplicate: bool,
}

impl IntoResponse for Accepted {
    fn into_response(self) -> Response {
        (StatusCode::OK, Json(self)).into_response()
    }
}

/// What ingest answers: an acknowledgement, or the reply a provider's handshake expects (Slack's
/// `url_verification`, Zoom's URL validation, Twitch's callback verification, Meta's and
/// Dropbox's GET challenges). Handshakes are answered, never stored: they are not events.
#[derive(Debug)]
pub enum Reply {
    Accepted(Accepted),
    Handshake(HandshakeReply),
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        match self {
            Self::Accepted(accepted) => accepted.into_response(),
            Self::Handshake(reply) => {
                let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::OK);
                // nosniff: the body echoes a sender-chosen challenge; never let a browser guess
                // it is HTML (Dropbox's documentation asks for exactly this).
                (
                    status,
                    [
                        (
                            header::CONTENT_TYPE,
                            HeaderValue::from_static(reply.content_type),
                        ),
                        (
                            header::X_CONTENT_TYPE_OPTIONS,
                            HeaderValue::from_static("nosniff"),
                        ),
                    ],
                    reply.body,
                )
                    .into_response()
            }
        }
    }
}

/// One request as it arrived, before anything is read from its body.
#[derive(Debug)]
pub struct Incoming {
    /// The TCP peer; `None` only when called without a socket (tests of the pipeline itself).
    pub peer: Option<IpAddr>,
    /// The request came to `/in/{source}/{token}`.
    pub path_token: bool,
    pub method: Method,
    pub uri: Uri,
    pub headers: HeaderMap,
    pub body: Body,
}

pub(crate) async fn handler(
    State(app): State<App>,
    source: Result<Path<String>, axum::extract::rejection::PathRejection>,
    request: axum::extract::Request,
) -> Result<Reply, ApiError> {
    let Path(source) = source.map_err(|e| ApiError::bad_request("invalid_path", e.body_text()))?;
    observed(
        &app,
        &source,
        ingest(&app, &source, incoming(request, false)),
    )
    .await
}

/// Counts and times an ingest request. The `source` label is the configured source's name
/// (`*` for everything the catch-all takes, empty for unknown names), never the raw path
/// segment, so a sender cannot mint label values.
async fn observed(
    app: &App,
    name: &str,
    request: impl std::future::Future<Output = Result<Reply, ApiError>>,
) -> Result<Reply, ApiError> {
    let started = std::time::Instant::now();
    let result = request.await;
    let source = app
        .config()
        .source(name)
        .map(|s| s.name.clone())
        .unwrap_or_default();
    let outcome: &'static str = match &result {
        Ok(Reply::Accepted(a)) if a.duplicate => {
            metrics::counter!("hookgate_dedup_hits_total", "source" => source.clone()).increment(1);
            "duplicate"
        }
        Ok(Reply::Accepted(_)) => "accepted",
        Ok(Reply::Handshake(_)) => "handshake",
        Err(e) => e.code,
    };
    metrics::counter!("hookgate_ingest_requests_total", "source" => source.clone(), "outcome" => outcome)
        .increment(1);
    metrics::histogram!("hookgate_ingest_duration_seconds", "source" => source)
        .record(started.elapsed().as_secs_f64());
    result
}

/// `/in/{source}/{token}`: the token segment is read by the verifier from the URL; whether the
/// source takes one is checked in [`ingest`] with the rest of the routing checks.
pub(crate) async fn handler_with_path_token(
    State(app): State<App>,
    path: Result<Path<(String, String)>, axum::extract::rejection::PathRejection>,
    request: axum::extract::Request,
) -> Result<Reply, ApiError> {
    let Path((source, _token)) =
        path.map_err(|e| ApiError::bad_request("invalid_path", e.body_text()))?;
    observed(
        &app,
        &source,
        ingest(&app, &source, incoming(request, true)),
    )
    .await
}

fn incoming(request: axum::extract::Request, path_token: bool) -> Incoming {
    let (parts, body) = request.into_parts();
    Incoming {
        peer: parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip()),
        path_token,
        method: parts.method,
        uri: parts.uri,
        headers: parts.headers,
        body,
    }
}

/// A path token goes with `token_in_path` sources and nowhere else.
fn check_path_token(source: &Source, source_name: &str, path_token: bool) -> Result<(), ApiError> {
    match (source.token_in_path, path_token) {
        (true, false) => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "missing_signature",
            format!("this source takes its token in the path: POST /in/{source_name}/<token>"),
        )),
        (false, true) => Err(ApiError::not_found(
            "not_found",
            "no such endpoint; webhooks go to POST /in/{source}",
        )),
        _ => Ok(()),
    }
}

/// Receives one webhook for `source_name`: returns `Ok` only once the event is durably stored
/// (or recognised as a duplicate of a stored one).
pub async fn ingest(app: &App, source_name: &str, request: Incoming) -> Result<Reply, ApiError> {
    let config = app.config();
    let source = config.source(source_name).ok_or_else(|| {
        ApiError::not_found(
            "unknown_source",
            format!("no source named \"{source_name}\" is configured"),
        )
    })?;
    check_path_token(source, source_name, request.path_token)?;
    check_client(
        source,
        request.peer,
        &request.headers,
        &config.server.trusted_proxies,
    )?;
    check_method(source, &request.method)?;
    check_encoding(&request.headers)?;
    let body = read_body(
        request.body,
        &request.headers,
        config.server.max_body,
        config.server.body_read_timeout,
    )
    .await?;

    let path = request.uri.path_and_query().map_or("/", |pq| pq.as_str());
    let url = public_url(config.server.public_url.as_deref(), &request.headers, path);
    let url = url.as_str();
    let verify_request = VerifyRequest {
        method: request.method.as_str(),
        url,
        headers: &request.headers,
        body: &body,
    };
    let now = unix_now_ms() / 1000;
    let rejected = |e: hookgate_verify::VerifyError| {
        ApiError::new(StatusCode::UNAUTHORIZED, e.code(), e.to_string())
    };
    if let Some(handshake) = handshake::respond(&source.verifier, &verify_request, now) {
        return handshake.map(Reply::Handshake).map_err(rejected);
    }
    let verified = source
        .verifier
        .verify(&verify_request, now)
        .map_err(rejected)?;

    let extractor = Extractor::new(&request.headers, &body);
    let dedup_key = source.dedup.as_ref().and_then(|rule| extractor.get(rule));
    let event_type = source
        .event_type
        .as_ref()
        .and_then(|rule| extractor.get(rule));
    let mut event = NewEvent {
        id: EventId::generate(),
        source: source_name.to_owned(),
        received_at_ms: unix_now_ms(),
        event_type,
        dedup_key,
        method: request.method.as_str().to_owned(),
        // Stored events are shown by the admin API: keep secrets that travel in the request
        // (a token in the URL, a token or credentials in a header) out of them.
        path: source.verifier.redact_url(path).into_owned(),
        headers: request
            .headers
            .iter()
            .map(|(name, value)| {
                let value = if is_credential(source, name) {
                    REDACTED.to_owned()
                } else {
                    String::from_utf8_lossy(value.as_bytes()).into_owned()
                };
                (name.as_str().to_owned(), value)
            })
            .collect(),
        body: body.into(),
        verification: Verification {
            provider: source.provider.as_str().to_owned(),
            status: if source.provider == Provider::None {
                "unverified"
            } else {
                "verified"
            }
            .to_owned(),
            secret_index: verified.secret_index,
            timestamp: verified.timestamp,
        },
        deliveries: Vec::new(),
    };
    // Routed before the append so the deliveries share the event's transaction: once the
    // sender has its 2xx, the routing decision is as durable as the event.
    event.deliveries = config.router.plan(&RouteInput::of_new(&event));
    // Built only when someone is watching `/api/stream`; sent only once the event is durable.
    let live = app.has_watchers().then(|| crate::admin::EventListItem {
        id: event.id.to_string(),
        source: event.source.clone(),
        received_at: hookgate_core::units::rfc3339_from_unix_ms(event.received_at_ms),
        event_type: event.event_type.clone(),
        dedup_key: event.dedup_key.clone(),
        body_size: u64::try_from(event.body.len()).unwrap_or(u64::MAX),
        verification: event.verification.clone(),
        deliveries: {
            let dead = event
                .deliveries
                .iter()
                .filter(|d| d.dead_reason.is_some())
                .count();
            crate::admin::DeliveryCountsView {
                pending: (event.deliveries.len() - dead) as u64,
                delivered: 0,
                dead: dead as u64,
            }
        },
    });
    let appended = app
        .store()
        .append(event)
        .await
        .map_err(|e| ApiError::storage_unavailable(&e))?;
    if let (Some(item), false) = (live, appended.duplicate) {
        app.publish(item);
    }
    Ok(Reply::Accepted(Accepted {
        id: appended.id.to_string(),
        duplicate: appended.duplicate,
    }))
}

/// The client's address: the TCP peer, unless the peer is a trusted proxy, in which case the
/// right-most `X-Forwarded-For` entry that is not itself a trusted proxy. Entries to the left of
/// that were written by whoever sent the request and prove nothing.
fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[ipnet::IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let mut client = peer;
    let hops = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .collect::<Vec<_>>();
    for hop in hops.iter().rev() {
        match hop.trim().parse::<IpAddr>() {
            Ok(ip) if is_trusted(&ip) => client = ip,
            Ok(ip) => return ip,
            // Garbage in the chain: stop at the last address a trusted proxy vouched for.
            Err(_) => return client,
        }
    }
    client
}

fn check_client(
    source: &Source,
    peer: Option<IpAddr>,
    headers: &HeaderMap,
    trusted: &[ipnet::IpNet],
) -> Result<(), ApiError> {
    if source.allow_ips.is_empty() {
        return Ok(());
    }
    let Some(peer) = peer else {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "ip_not_allowed",
            "the client address is unknown",
        ));
    };
    let client = client_ip(peer, headers, trusted);
    if source.allow_ips.iter().any(|net| net.contains(&client)) {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "ip_not_allowed",
            format!("requests from {client} are not accepted by this source"),
        ))
    }
}

/// The URL as the sender addressed it, for schemes that sign it: the configured public URL, or
/// `http://{Host}` when none is configured.
fn public_url(configured: Option<&str>, headers: &HeaderMap, path: &str) -> String {
    match configured {
        Some(base) => format!("{base}{path}"),
        None => {
            let host = headers
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .unwrap_or("localhost");
            format!("http://{host}{path}")
        }
    }
}

const REDACTED: &str = "[redacted]";

/// Headers whose values are credentials: the source's own token header, and the ones that carry
/// credentials whatever the provider. Signature headers are not secrets and are kept, since
/// they show what was verified.
fn is_credential(source: &Source, name: &header::HeaderName) -> bool {
    name == header::AUTHORIZATION
        || name == header::PROXY_AUTHORIZATION
        || name == header::COOKIE
        || source.verifier.is_secret_header(name)
}

fn check_method(source: &Source, method: &Method) -> Result<(), ApiError> {
    if source.methods.contains(method) {
        return Ok(());
    }
    let allow = source
        .methods
        .iter()
        .map(Method::as_str)
        .collect::<Vec<_>>()
        .join(", ");
    let err = ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!("{method} is not accepted here; use {allow}"),
    );
    Err(match HeaderValue::from_str(&allow) {
        Ok(value) => err.with_header(header::ALLOW, value),
        Err(_) => err,
    })
}

/// Compressed bodies are refused: providers sign the bytes they send uncompressed, and inflating
/// would let a small request expand past `max_body` (a zip bomb) before any check could run.
fn check_encoding(headers: &HeaderMap) -> Result<(), ApiError> {
    for value in headers.get_all(header::CONTENT_ENCODING) {
        let encoding = value.to_str().unwrap_or("?").trim();
        if !encoding.is_empty() && !encoding.eq_ignore_ascii_case("identity") {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_content_encoding",
                format!(
                    "Content-Encoding \"{encoding}\" is not accepted; send the body uncompressed"
                ),
            ));
        }
    }
    Ok(())
}

fn too_large(max: u64) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        format!("the body is larger than the {max} bytes this server accepts"),
    )
}

async fn read_body(
    body: Body,
    headers: &HeaderMap,
    max: u64,
    timeout: std::time::Duration,
) -> Result<Bytes, ApiError> {
    if let Some(length) = headers.get(header::CONTENT_LENGTH) {
        let declared: u64 = length
            .to_str()
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| {
                ApiError::bad_request("invalid_content_length", "Content-Length is not a number")
            })?;
        if declared > max {
            return Err(too_large(max));
        }
    }
    // The cap applies while reading too: chunked bodies declare no length, and hyper enforces a
    // declared one, so no byte past `max` is ever buffered.
    let limit = usize::try_from(max).unwrap_or(usize::MAX);
    match tokio::time::timeout(timeout, Limited::new(body, limit).collect()).await {
        Err(_) => Err(ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "body_timeout",
            format!("the body was not received within {} s", timeout.as_secs()),
        )),
        Ok(Err(e)) if e.downcast_ref::<LengthLimitError>().is_some() => Err(too_large(max)),
        Ok(Err(e)) => Err(ApiError::bad_request(
            "body_read_failed",
            format!("the body could not be read: {e}"),
        )),
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
    }
}

fn unix_now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
