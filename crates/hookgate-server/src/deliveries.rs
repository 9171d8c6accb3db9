//! The delivery side of the admin API: an event's deliveries with every attempt, replay,
//! listing deliveries by status and destination, retrying one or many dead ones, and
//! switching a destination off and on.

use std::time::{SystemTime, UNIX_EPOCH};

use axum::{
    extract::{rejection::JsonRejection, rejection::QueryRejection, Path, Query, State},
    http::StatusCode,
    Json,
};
use hookgate_core::{
    units::rfc3339_from_unix_ms, Attempt, Delivery, DeliveryId, DeliveryStatus, EventId,
    ParseIdError, RouteInput,
};
use hookgate_store::{DeadFilter, DeliveryDetail, DeliveryQuery, RetryOutcome};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::admin::ErrorBody;

use crate::{error::ApiError, App};

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn storage(e: &hookgate_store::StoreError) -> ApiError {
    ApiError::storage_unavailable(e)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AttemptView {
    pub n: u32,
    pub started_at: String,
    pub duration_ms: u64,
    pub status_code: Option<u16>,
    pub exit_code: Option<i32>,
    /// The start of the response body or command output (at most 4 KiB).
    pub response: Option<String>,
    pub error: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryView {
    pub id: String,
    pub event_id: String,
    pub destination: String,
    pub route: Option<String>,
    /// `pending`, `delivered` or `dead`.
    pub status: &'static str,
    /// A pending delivery a worker is sending right now.
    pub in_flight: bool,
    pub attempt_count: u32,
    /// When the next attempt is due (pending deliveries).
    pub next_attempt_at: Option<String>,
    pub last_error: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    /// Present when the route's transform replaced the body.
    pub transformed: bool,
    /// Every attempt, oldest first (in event and delivery details; not in lists).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempts: Option<Vec<AttemptView>>,
}

fn attempt_view(a: Attempt) -> AttemptView {
    AttemptView {
        n: a.n,
        started_at: rfc3339_from_unix_ms(a.started_at_ms),
        duration_ms: a.duration_ms,
        status_code: a.status_code,
        exit_code: a.exit_code,
        response: a.excerpt,
        error: a.error,
    }
}

pub(crate) fn delivery_view(d: Delivery, attempts: Option<Vec<Attempt>>) -> DeliveryView {
    let now = now_ms();
    let pending = d.status == DeliveryStatus::Pending;
    DeliveryView {
        id: d.id.to_string(),
        event_id: d.event_id.to_string(),
        destination: d.destination,
        route: d.route,
        status: d.status.as_str(),
        in_flight: pending && d.lease_until_ms > now,
        attempt_count: d.attempts,
        next_attempt_at: pending.then(|| rfc3339_from_unix_ms(d.next_at_ms)),
        last_error: d.last_error,
        created_at: rfc3339_from_unix_ms(d.created_at_ms),
        updated_at: rfc3339_from_unix_ms(d.updated_at_ms),
        transformed: d.payload.is_some(),
        attempts: attempts.map(|list| list.into_iter().map(attempt_view).collect()),
    }
}

pub(crate) fn detail_view(d: DeliveryDetail) -> DeliveryView {
    delivery_view(d.delivery, Some(d.attempts))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReplayBody {
    /// Only this destination (even if no route leads there).
    destination: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Replayed {
    pub event_id: String,
    pub deliveries: Vec<DeliveryView>,
}

fn parse_event_id(id: &str) -> Result<EventId, ApiError> {
    id.parse()
        .map_err(|e: ParseIdError| ApiError::bad_request("invalid_id", e.to_string()))
}

fn parse_delivery_id(id: &str) -> Result<DeliveryId, ApiError> {
    id.parse().map_err(|_| {
        ApiError::bad_request(
            "invalid_id",
            "not a delivery id (expected dlv_ followed by 32 hex digits)",
        )
    })
}

#[utoipa::path(post, path = "/api/events/{id}/replay", tag = "deliveries",
    params(crate::admin::EventIdPath),
    request_body(content = Option<ReplayBody>, description = "Optional: one destination"),
    responses(
        (status = 202, description = "New deliveries, due now", body = Replayed),
        (status = 400, description = "Malformed id, query or body", body = ErrorBody),
        (status = 404, description = "No such event, or no such destination", body = ErrorBody),
        (status = 409, description = "No route takes this event", body = ErrorBody),
    ))]
/// `POST /api/events/{id}/replay`: new deliveries of a stored event, to every route the
/// current config gives it, or to one destination (`{"destination": "billing"}`).
pub(crate) async fn replay(
    State(app): State<App>,
    Path(id): Path<String>,
    body: Result<Option<Json<serde_json::Value>>, JsonRejection>,
) -> Result<(StatusCode, Json<Replayed>), ApiError> {
    let id = parse_event_id(&id)?;
    let body: ReplayBody = object_body(body)?;
    let config = app.config();
    let router = &config.router;
    if let Some(name) = &body.destination {
        if router.destination(name).is_none() {
            return Err(ApiError::not_found(
                "unknown_destination",
                format!("no destination is named \"{name}\""),
            ));
        }
    }
    let event = app
        .store()
        .event(id)
        .await
        .map_err(|e| storage(&e))?
        .ok_or_else(|| ApiError::not_found("event_not_found", format!("no event {id}")))?;
    let planned = router.plan_replay(&RouteInput::of(&event), body.destination.as_deref());
    if planned.is_empty() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "no_route",
            format!(
                "no route takes events of source \"{}\" (or their filters refuse this one); name a destination to send it anyway",
                event.source
            ),
        ));
    }
    let created = app
        .store()
        .add_deliveries(id, planned, now_ms())
        .await
        .map_err(|e| storage(&e))?
        .ok_or_else(|| ApiError::not_found("event_not_found", format!("no event {id}")))?;
    let fresh: Vec<DeliveryView> = app
        .store()
        .deliveries_of(id)
        .await
        .map_err(|e| storage(&e))?
        .into_iter()
        .filter(|d| created.contains(&d.delivery.id))
        .map(detail_view)
        .collect();
    Ok((
        StatusCode::ACCEPTED,
        Json(Replayed {
            event_id: id.to_string(),
            deliveries: fresh,
        }),
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct DeliveryParams {
    /// `pending`, `delivered` or `dead`.
    #[param(pattern = "^(pending|delivered|dead)$")]
    status: Option<String>,
    destination: Option<String>,
    #[param(minimum = 1, maximum = 500)]
    limit: Option<usize>,
    #[param(pattern = r"^[0-9]{1,18}$")]
    cursor: Option<String>,
}

/// A delivery id in a path.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub(crate) struct DeliveryIdPath {
    /// `dlv_` and 32 hex digits.
    #[param(pattern = r"^dlv_[0-9a-f]{32}$")]
    #[allow(dead_code)]
    id: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryList {
    pub data: Vec<DeliveryView>,
    pub next_cursor: Option<String>,
}

#[utoipa::path(get, path = "/api/deliveries", tag = "deliveries", params(DeliveryParams),
    responses(
        (status = 200, description = "A page of deliveries, newest first", body = DeliveryList),
        (status = 400, description = "Malformed id, query or body", body = ErrorBody),
    ))]
/// `GET /api/deliveries?status=dead&destination=billing`
pub(crate) async fn list(
    State(app): State<App>,
    params: Result<Query<DeliveryParams>, QueryRejection>,
) -> Result<Json<DeliveryList>, ApiError> {
    let Query(params) =
        params.map_err(|e| ApiError::bad_request("invalid_query", e.body_text()))?;
    let status = params
        .status
        .map(|s| s.parse::<DeliveryStatus>())
        .transpose()
        .map_err(|e| ApiError::bad_request("invalid_query", e))?;
    let (limit, before_seq) = crate::admin::page_params(params.limit, params.cursor.as_deref())?;
    let page = app
        .store()
        .list_deliveries(DeliveryQuery {
            status,
            destination: params.destination,
            limit,
            before_seq,
        })
        .await
        .map_err(|e| storage(&e))?;
    Ok(Json(DeliveryList {
        data: page
            .items
            .into_iter()
            .map(|d| delivery_view(d, None))
            .collect(),
        next_cursor: page.next.map(|s| s.to_string()),
    }))
}

#[utoipa::path(get, path = "/api/deliveries/{id}", tag = "deliveries",
    params(DeliveryIdPath),
    responses(
        (status = 200, description = "The delivery with its attempts", body = DeliveryView),
        (status = 400, description = "Malformed id, query or body", body = ErrorBody),
        (status = 404, description = "No such delivery", body = ErrorBody),
    ))]
/// `GET /api/deliveries/{id}`
pub(crate) async fn show(
    State(app): State<App>,
    Path(id): Path<String>,
) -> Result<Json<DeliveryView>, ApiError> {
    let id = parse_delivery_id(&id)?;
    let detail = app
        .store()
        .delivery(id)
        .await
        .map_err(|e| storage(&e))?
        .ok_or_else(|| ApiError::not_found("delivery_not_found", format!("no delivery {id}")))?;
    Ok(Json(detail_view(detail)))
}

#[utoipa::path(post, path = "/api/deliveries/{id}/retry", tag = "deliveries",
    params(DeliveryIdPath),
    responses(
        (status = 200, description = "Pending again, due now", body = DeliveryView),
        (status = 400, description = "Malformed id, query or body", body = ErrorBody),
        (status = 404, description = "No such delivery", body = ErrorBody),
        (status = 409, description = "Already delivered: replay the event instead", body = ErrorBody),
    ))]
/// `POST /api/deliveries/{id}/retry`: a dead (or waiting) delivery, due now.
pub(crate) async fn retry(
    State(app): State<App>,
    Path(id): Path<String>,
) -> Result<Json<DeliveryView>, ApiError> {
    let id = parse_delivery_id(&id)?;
    match app
        .store()
        .retry(id, now_ms())
        .await
        .map_err(|e| storage(&e))?
    {
        RetryOutcome::Retried(d) => Ok(Json(delivery_view(d, None))),
        RetryOutcome::AlreadyDelivered => Err(ApiError::new(
            StatusCode::CONFLICT,
            "already_delivered",
            format!("{id} was delivered; replay its event to send it again"),
        )),
        RetryOutcome::NotFound => Err(ApiError::not_found(
            "delivery_not_found",
            format!("no delivery {id}"),
        )),
    }
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct BulkBody {
    destination: Option<String>,
    /// RFC 3339 UTC; deliveries created at or after.
    #[schema(
        pattern = r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,9})?(Z|[+-]00:00)$"
    )]
    since: Option<String>,
    /// RFC 3339 UTC; deliveries created at or before.
    #[schema(
        pattern = r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,9})?(Z|[+-]00:00)$"
    )]
    until: Option<String>,
    /// At most this many in this call (default 500, at most 5000); call again while
    /// `remaining` is above 0.
    #[schema(minimum = 1, maximum = 5000)]
    #[serde(default, deserialize_with = "whole_number")]
    limit: Option<usize>,
}

/// An optional JSON object body: absent or `null` is the default; anything but an object is
/// refused (serde would otherwise read `[null]` as a struct written as a list).
fn object_body<T: serde::de::DeserializeOwned + Default>(
    body: Result<Option<Json<serde_json::Value>>, JsonRejection>,
) -> Result<T, ApiError> {
    let value = body
        .map_err(|e| ApiError::bad_request("invalid_body", e.body_text()))?
        .map(|Json(v)| v);
    match value {
        None | Some(serde_json::Value::Null) => Ok(T::default()),
        Some(v @ serde_json::Value::Object(_)) => serde_json::from_value(v)
            .map_err(|e| ApiError::bad_request("invalid_body", e.to_string())),
        Some(_) => Err(ApiError::bad_request(
            "invalid_body",
            "the body must be a JSON object (or nothing)",
        )),
    }
}

/// JSON Schema's `integer` includes `571.0`; so does this.
fn whole_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<usize>, D::Error> {
    let Some(n) = Option::<serde_json::Number>::deserialize(d)? else {
        return Ok(None);
    };
    let whole = n.as_u64().or_else(|| {
        n.as_f64()
            .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f <= 1e15)
            .map(|f| {
                // Exact: a whole number below 2^53 converts without loss.
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                let n = f as u64;
                n
            })
    });
    whole
        .and_then(|n| usize::try_from(n).ok())
        .map(Some)
        .ok_or_else(|| serde::de::Error::custom("limit must be a whole number"))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BulkRetried {
    pub retried: u64,
    pub remaining: u64,
}

#[utoipa::path(post, path = "/api/deliveries/retry", tag = "deliveries",
    request_body(content = Option<BulkBody>, description = "Filters; all optional"),
    responses(
        (status = 200, description = "How many were retried and how many remain", body = BulkRetried),
        (status = 400, description = "Malformed id, query or body", body = ErrorBody),
    ))]
/// `POST /api/deliveries/retry`: dead deliveries by destination and time range, in chunks.
pub(crate) async fn retry_dead(
    State(app): State<App>,
    body: Result<Option<Json<serde_json::Value>>, JsonRejection>,
) -> Result<Json<BulkRetried>, ApiError> {
    let body: BulkBody = object_body(body)?;
    let limit = body.limit.unwrap_or(500);
    if limit == 0 || limit > 5000 {
        return Err(ApiError::bad_request(
            "invalid_body",
            "limit must be between 1 and 5000",
        ));
    }
    let filter = DeadFilter {
        destination: body.destination,
        from_ms: crate::admin::time_param(body.since.as_deref(), "since", "invalid_body")?,
        to_ms: crate::admin::time_param(body.until.as_deref(), "until", "invalid_body")?,
    };
    let done = app
        .store()
        .retry_dead(filter, limit, now_ms())
        .await
        .map_err(|e| storage(&e))?;
    Ok(Json(BulkRetried {
        retried: done.retried,
        remaining: done.remaining,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DestinationView {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// For HTTP destinations, the URL without its query (which may carry a key).
    pub target: String,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    pub disabled_since: Option<String>,
    pub max_in_flight: usize,
    pub ordered: bool,
    /// Pending deliveries waiting for it.
    pub backlog: u64,
    /// `closed`, `open` (nothing is sent until the cooldown ends) or `half-open` (one probe).
    pub circuit: String,
    pub in_flight: usize,
    pub consecutive_failures: u32,
    /// Attempts that succeeded, as a fraction of all attempts since the server started;
    /// null before the first attempt.
    pub success_rate: Option<f64>,
    pub last_error: Option<String>,
}

#[utoipa::path(get, path = "/api/destinations", tag = "destinations",
    responses((status = 200, description = "Every configured destination", body = Vec<DestinationView>)))]
/// `GET /api/destinations`
pub(crate) async fn destinations(
    State(app): State<App>,
) -> Result<Json<Vec<DestinationView>>, ApiError> {
    let disabled = app
        .store()
        .disabled_destinations()
        .await
        .map_err(|e| storage(&e))?;
    let backlog = app.store().backlog().await.map_err(|e| storage(&e))?;
    let health = app.health();
    let views = app
        .config()
        .router
        .destinations
        .iter()
        .map(|d| {
            let off = disabled.iter().find(|x| x.name == d.name);
            let h = health.iter().find(|h| h.destination == d.name);
            let attempts = h.map_or(0, |h| h.delivered + h.failed);
            let target = match &d.kind {
                hookgate_core::DestinationKind::Http(h) => h
                    .url
                    .split(['?', '#'])
                    .next()
                    .unwrap_or_default()
                    .to_owned(),
                hookgate_core::DestinationKind::Command(c) => c.program.clone(),
            };
            DestinationView {
                name: d.name.clone(),
                kind: d.kind.as_str(),
                target,
                enabled: off.is_none(),
                disabled_reason: off.map(|x| x.reason.clone()),
                disabled_since: off.map(|x| rfc3339_from_unix_ms(x.since_ms)),
                max_in_flight: d.max_in_flight,
                ordered: d.ordered,
                backlog: backlog
                    .iter()
                    .find(|(name, _)| *name == d.name)
                    .map_or(0, |(_, n)| *n),
                circuit: h.map_or("closed", |h| h.circuit).to_owned(),
                in_flight: h.map_or(0, |h| h.in_flight),
                consecutive_failures: h.map_or(0, |h| h.consecutive_failures),
                #[allow(clippy::cast_precision_loss)]
                success_rate: h
                    .filter(|_| attempts > 0)
                    .map(|h| h.delivered as f64 / attempts as f64),
                last_error: h.and_then(|h| h.last_error.clone()),
            }
        })
        .collect();
    Ok(Json(views))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SourceView {
    pub name: String,
    pub provider: String,
    /// Where senders POST: `server.public_url` (or the listen address) + `/in/{name}`;
    /// for the catch-all, `{any}` stands for the name the sender picks.
    pub ingest_url: String,
    pub methods: Vec<String>,
    /// Where the dedup key is read (a header, or a JSON pointer into the body).
    pub dedup: Option<String>,
    pub event_type: Option<String>,
    pub token_in_path: bool,
    /// Client addresses allowed (CIDR); empty means any.
    pub allow_ips: Vec<String>,
    /// A command that sends a correctly signed test event (fill in the secret).
    pub try_it: String,
}

#[utoipa::path(get, path = "/api/sources", tag = "sources",
    responses((status = 200, description = "Every configured source, with its ingest URL", body = Vec<SourceView>)))]
/// `GET /api/sources`: what senders can reach, never a secret.
pub(crate) async fn sources(State(app): State<App>) -> Json<Vec<SourceView>> {
    let config = app.config();
    let base = config
        .server
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", config.server.listen));
    let rule = |e: &hookgate_core::Extract| match e {
        hookgate_core::Extract::Header(h) => format!("header {h}"),
        hookgate_core::Extract::JsonPointer(p) => format!("json {p}"),
    };
    let views = config
        .sources
        .iter()
        .map(|s| {
            let name = if s.name == hookgate_core::CATCH_ALL_SOURCE {
                "{any}".to_owned()
            } else {
                s.name.clone()
            };
            let ingest_url = format!("{base}/in/{name}");
            use hookgate_verify::Provider;
            let try_it = match s.provider {
                Provider::None => format!(
                    "curl -X POST {ingest_url} -H 'content-type: application/json' -d '{{\"hello\":\"world\"}}'"
                ),
                // A public key cannot sign, and these carry the signature in the body: check
                // a request the provider really sent instead.
                Provider::Discord | Provider::Sendgrid | Provider::Mailgun | Provider::Msgraph => {
                    format!(
                        "hookgate verify --provider {} --secret \"$SECRET\" --header 'Name: value' --body-file captured-body",
                        s.provider
                    )
                }
                Provider::Hmac | Provider::Token => format!(
                    "hookgate send {ingest_url} --provider {} --secret \"$SECRET\" --body-file body.json  # plus this source's options, see hookgate send --help",
                    s.provider
                ),
                _ => format!(
                    "hookgate send {ingest_url} --provider {} --secret \"$SECRET\" --body-file body.json",
                    s.provider
                ),
            };
            SourceView {
                name: s.name.clone(),
                provider: s.provider.as_str().to_owned(),
                ingest_url,
                methods: s.methods.iter().map(ToString::to_string).collect(),
                dedup: s.dedup.as_ref().map(rule),
                event_type: s.event_type.as_ref().map(rule),
                token_in_path: s.token_in_path,
                allow_ips: s.allow_ips.iter().map(ToString::to_string).collect(),
                try_it,
            }
        })
        .collect();
    Json(views)
}

async fn set_enabled(app: &App, name: &str, enabled: bool) -> Result<StatusCode, ApiError> {
    if app.config().router.destination(name).is_none() {
        return Err(ApiError::not_found(
            "destination_not_found",
            format!("no destination is named \"{name}\""),
        ));
    }
    let reason = (!enabled).then(|| "disabled by an operator".to_owned());
    app.store()
        .set_destination_disabled(name, reason, now_ms())
        .await
        .map_err(|e| storage(&e))?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/destinations/{name}/enable", tag = "destinations",
    params(("name" = String, Path)),
    responses(
        (status = 204, description = "Enabled"),
        (status = 404, description = "No such destination", body = ErrorBody),
    ))]
/// `POST /api/destinations/{name}/enable`: after a `410 Gone`, or an operator's disable.
pub(crate) async fn enable(
    State(app): State<App>,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    set_enabled(&app, &name, true).await
}

#[utoipa::path(post, path = "/api/destinations/{name}/disable", tag = "destinations",
    params(("name" = String, Path)),
    responses(
        (status = 204, description = "Disabled"),
        (status = 404, description = "No such destination", body = ErrorBody),
    ))]
/// `POST /api/destinations/{name}/disable`: deliveries wait until it is enabled again.
pub(crate) async fn disable(
    State(app): State<App>,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    set_enabled(&app, &name, false).await
}
