//! The admin API under `/api`, events side: list events newest first with an opaque cursor,
//! show one event in full with its deliveries (the delivery endpoints are in `deliveries`). Access: a bearer `admin_token` when one is configured;
//! without one, loopback peers only, so a default install never exposes events to the network.

use std::net::SocketAddr;

use axum::{
    extract::{ConnectInfo, Path, Query, Request, State},
    http::{header, StatusCode},
    middleware::Next,
    response::Response,
    Json,
};
use base64::Engine;
use hookgate_core::{units::rfc3339_from_unix_ms, Event, EventId, Verification};
use hookgate_store::{EventQuery, EventSummary};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use utoipa::{IntoParams, ToSchema};

use crate::{error::ApiError, App};

/// The cookie the inspector's login sets: the admin token itself, `HttpOnly` and
/// `SameSite=Strict` (so no other site can make a browser send it with a request).
pub(crate) const SESSION_COOKIE: &str = "hookgate_admin";

fn cookie<'r>(request: &'r Request, name: &str) -> Option<&'r str> {
    request
        .headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Whether `request` may use the admin surface: with `admin_token`, a matching bearer token
/// (or the inspector's cookie); without one, a loopback peer.
fn check_access(app: &App, request: &Request) -> Result<(), ApiError> {
    match &app.config().server.admin_token {
        Some(token) => {
            let bearer = request
                .headers()
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "));
            let presented = bearer
                .or_else(|| cookie(request, SESSION_COOKIE))
                .unwrap_or("");
            if !bool::from(presented.as_bytes().ct_eq(token.expose().as_bytes())) {
                return Err(ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "unauthorized",
                    "send the admin token as Authorization: Bearer <token>",
                )
                .with_header(
                    header::WWW_AUTHENTICATE,
                    header::HeaderValue::from_static("Bearer"),
                ));
            }
        }
        None => {
            let loopback = request
                .extensions()
                .get::<ConnectInfo<SocketAddr>>()
                .is_some_and(|ConnectInfo(peer)| peer.ip().is_loopback());
            if !loopback {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "admin_loopback_only",
                    "the admin API answers loopback clients only unless server.admin_token is set",
                ));
            }
        }
    }
    Ok(())
}

pub(crate) async fn require_access(
    State(app): State<App>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    check_access(&app, &request)?;
    Ok(next.run(request).await)
}

/// The inspector's pages: like [`require_access`], but a browser without the token is sent
/// to the login page instead of getting a JSON 401.
pub(crate) async fn require_ui_access(
    State(app): State<App>,
    request: Request,
    next: Next,
) -> Response {
    use axum::response::IntoResponse;
    match check_access(&app, &request) {
        Ok(()) => next.run(request).await,
        Err(e) if e.status == StatusCode::UNAUTHORIZED => {
            axum::response::Redirect::to("/ui/login").into_response()
        }
        Err(e) => e.into_response(),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListParams {
    /// Page size, 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<usize>,
    /// `next_cursor` of the previous page.
    #[param(pattern = r"^[0-9]{1,18}$")]
    cursor: Option<String>,
    /// Only events of this source (as stored: for the catch-all, the name in the URL).
    source: Option<String>,
    /// Only events of this type.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    event_type: Option<String>,
    /// Only events with a delivery in this status: `dead` lists what could not be delivered.
    #[param(pattern = "^(pending|delivered|dead)$")]
    delivery_status: Option<String>,
    /// Received at or after (RFC 3339 UTC).
    #[param(
        pattern = r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,9})?(Z|[+-]00:00)$"
    )]
    since: Option<String>,
    /// Text in the body (matched as a phrase of whole words).
    q: Option<String>,
    /// Received at or before (RFC 3339 UTC).
    #[param(
        pattern = r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,9})?(Z|[+-]00:00)$"
    )]
    until: Option<String>,
}

/// An event id in a path.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub(crate) struct EventIdPath {
    /// `evt_` and 32 hex digits.
    #[param(pattern = r"^evt_[0-9a-f]{32}$")]
    #[allow(dead_code)]
    id: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EventListItem {
    pub id: String,
    pub source: String,
    pub received_at: String,
    #[serde(rename = "type")]
    pub event_type: Option<String>,
    pub dedup_key: Option<String>,
    pub body_size: u64,
    #[schema(value_type = VerificationSchema)]
    pub verification: Verification,
    /// The event's deliveries by status.
    pub deliveries: DeliveryCountsView,
}

#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub struct DeliveryCountsView {
    pub pending: u64,
    pub delivered: u64,
    pub dead: u64,
}

/// What verification established (`status`: `verified`, or `unverified` for provider `none`).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Verification)]
pub struct VerificationSchema {
    pub provider: String,
    pub status: String,
    pub secret_index: Option<u64>,
    pub timestamp: Option<i64>,
}

/// Every error: a stable machine code and a message for people.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    pub code: String,
    pub message: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventList {
    pub data: Vec<EventListItem>,
    /// Pass as `cursor` for the next (older) page; null on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Header {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventDetail {
    pub id: String,
    pub source: String,
    pub received_at: String,
    #[serde(rename = "type")]
    pub event_type: Option<String>,
    pub dedup_key: Option<String>,
    pub method: String,
    pub path: String,
    pub headers: Vec<Header>,
    /// The body as UTF-8 text, or base64 when it is not valid UTF-8 (see `body_encoding`).
    pub body: String,
    /// `utf8` or `base64`.
    pub body_encoding: &'static str,
    #[schema(value_type = VerificationSchema)]
    pub verification: Verification,
    /// Where the event went: one delivery per destination its routes chose (and per replay),
    /// each with every attempt.
    pub deliveries: Vec<crate::deliveries::DeliveryView>,
}

const DEFAULT_PAGE: usize = 50;
const MAX_PAGE: usize = 500;

/// Events, newest first.
#[utoipa::path(get, path = "/api/events", tag = "events", params(ListParams),
    responses(
        (status = 200, description = "A page of events", body = EventList),
        (status = 400, description = "Malformed id, query or body", body = ErrorBody),
    ))]
pub(crate) async fn list_events(
    State(app): State<App>,
    params: Result<Query<ListParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<EventList>, ApiError> {
    let Query(params) =
        params.map_err(|e| ApiError::bad_request("invalid_query", e.body_text()))?;
    let (limit, before_seq) = page_params(params.limit, params.cursor.as_deref())?;
    let query = EventQuery {
        limit,
        before_seq,
        source: params.source,
        event_type: params.event_type,
        delivery_status: params
            .delivery_status
            .map(|s| s.parse())
            .transpose()
            .map_err(|e: String| ApiError::bad_request("invalid_query", e))?,
        from_ms: time_param(params.since.as_deref(), "since", "invalid_query")?,
        to_ms: time_param(params.until.as_deref(), "until", "invalid_query")?,
        text: params.q,
    };
    let page = app
        .store()
        .list_events(query)
        .await
        .map_err(|e| ApiError::storage_unavailable(&e))?;
    Ok(Json(EventList {
        data: page.items.into_iter().map(list_item).collect(),
        next_cursor: page.next.map(|seq| seq.to_string()),
    }))
}

/// An optional RFC 3339 UTC time from a query or body field, as unix ms; `code` is the
/// error code to answer with (`invalid_query` or `invalid_body`).
pub(crate) fn time_param(
    text: Option<&str>,
    field: &str,
    code: &'static str,
) -> Result<Option<i64>, ApiError> {
    text.map(|t| {
        hookgate_core::units::parse_rfc3339_ms(t)
            .map_err(|m| ApiError::bad_request(code, format!("{field}: {m}")))
    })
    .transpose()
}

/// A list's `limit` (default 50, at most 500) and `cursor` (an opaque position this server
/// issued), checked the same way for every list.
pub(crate) fn page_params(
    limit: Option<usize>,
    cursor: Option<&str>,
) -> Result<(usize, Option<i64>), ApiError> {
    let limit = limit.unwrap_or(DEFAULT_PAGE);
    if limit == 0 || limit > MAX_PAGE {
        return Err(ApiError::bad_request(
            "invalid_query",
            format!("limit must be between 1 and {MAX_PAGE}"),
        ));
    }
    let before_seq = cursor
        .map(|c| {
            c.parse::<i64>().map_err(|_| {
                ApiError::bad_request("invalid_cursor", "cursor is not one this server issued")
            })
        })
        .transpose()?;
    Ok((limit, before_seq))
}

pub(crate) fn list_item(e: EventSummary) -> EventListItem {
    EventListItem {
        id: e.id.to_string(),
        source: e.source,
        received_at: rfc3339_from_unix_ms(e.received_at_ms),
        event_type: e.event_type,
        dedup_key: e.dedup_key,
        body_size: e.body_size,
        verification: e.verification,
        deliveries: DeliveryCountsView {
            pending: e.deliveries.pending,
            delivered: e.deliveries.delivered,
            dead: e.deliveries.dead,
        },
    }
}

/// One event in full, with its deliveries and their attempts.
#[utoipa::path(get, path = "/api/events/{id}", tag = "events",
    params(EventIdPath),
    responses(
        (status = 200, description = "The event", body = EventDetail),
        (status = 400, description = "Malformed id, query or body", body = ErrorBody),
        (status = 404, description = "No such event", body = ErrorBody),
    ))]
pub(crate) async fn show_event(
    State(app): State<App>,
    Path(id): Path<String>,
) -> Result<Json<EventDetail>, ApiError> {
    let id: EventId = id.parse().map_err(|e: hookgate_core::ParseIdError| {
        ApiError::bad_request("invalid_id", e.to_string())
    })?;
    let event = app
        .store()
        .event(id)
        .await
        .map_err(|e| ApiError::storage_unavailable(&e))?
        .ok_or_else(|| ApiError::not_found("event_not_found", format!("no event {id}")))?;
    let deliveries = app
        .store()
        .deliveries_of(id)
        .await
        .map_err(|e| ApiError::storage_unavailable(&e))?
        .into_iter()
        .map(crate::deliveries::detail_view)
        .collect();
    Ok(Json(detail(event, deliveries)))
}

pub(crate) fn detail(e: Event, deliveries: Vec<crate::deliveries::DeliveryView>) -> EventDetail {
    let (body, body_encoding) = match String::from_utf8(e.body) {
        Ok(text) => (text, "utf8"),
        Err(raw) => (
            base64::engine::general_purpose::STANDARD.encode(raw.as_bytes()),
            "base64",
        ),
    };
    EventDetail {
        id: e.id.to_string(),
        source: e.source,
        received_at: rfc3339_from_unix_ms(e.received_at_ms),
        event_type: e.event_type,
        dedup_key: e.dedup_key,
        method: e.method,
        path: e.path,
        headers: e
            .headers
            .into_iter()
            .map(|(name, value)| Header { name, value })
            .collect(),
        body,
        body_encoding,
        verification: e.verification,
        deliveries,
    }
}

/// `GET /api/stream`: Server-Sent Events, one `event` message per event stored from now on
/// (the JSON of a list item), with keep-alive comments. A watcher that falls more than 1024
/// events behind gets a `lagged` message with the number skipped, then continues.
#[utoipa::path(get, path = "/api/stream", tag = "events",
    responses((status = 200, description = "Server-Sent Events: `event` messages carrying an event list item as JSON; `lagged` with the number skipped", content_type = "text/event-stream", body = String)))]
pub(crate) async fn stream(
    State(app): State<App>,
) -> axum::response::sse::Sse<
    impl futures_util::Stream<Item = Result<axum::response::sse::Event, std::convert::Infallible>>,
> {
    use axum::response::sse::{Event, KeepAlive, Sse};
    use tokio::sync::broadcast::error::RecvError;
    let rx = app.subscribe();
    let events = futures_util::stream::unfold(rx, |mut rx| async move {
        let message = match rx.recv().await {
            Ok(item) => Event::default()
                .event("event")
                .id(item.id.clone())
                .json_data(&item)
                .ok()?,
            Err(RecvError::Lagged(n)) => Event::default().event("lagged").data(n.to_string()),
            Err(RecvError::Closed) => return None,
        };
        Some((Ok(message), rx))
    });
    Sse::new(events).keep_alive(KeepAlive::default())
}
