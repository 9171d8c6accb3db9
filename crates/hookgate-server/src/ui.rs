//! The web inspector at `/ui`: server-rendered HTML (maud escapes every value) with its CSS
//! and a little JavaScript embedded in the binary, so it works offline and needs no build
//! step. Live rows come from `/api/stream`; buttons call the admin API. It reads through the
//! same store and views as the API, so the two never disagree.

use axum::{
    extract::{Path, Query, State},
    http::header,
    response::{Html, IntoResponse, Response},
};
use hookgate_core::{units::rfc3339_from_unix_ms, EventId};
use hookgate_store::EventQuery;
use maud::{html, Markup, DOCTYPE};
use serde::Deserialize;

use crate::{admin, deliveries, error::ApiError, App};

const CSS: &str = include_str!("../assets/app.css");
const JS: &str = include_str!("../assets/app.js");

pub(crate) async fn css() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], CSS).into_response()
}

pub(crate) async fn js() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        JS,
    )
        .into_response()
}

fn page(title: &str, body: &Markup) -> Html<String> {
    Html(
        html! {
            (DOCTYPE)
            html lang="en" {
                head {
                    meta charset="utf-8";
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    meta name="color-scheme" content="light dark";
                    title { (title) " · hookgate" }
                    link rel="stylesheet" href="/ui/assets/app.css";
                }
                body {
                    header {
                        strong { "hookgate" }
                        a href="/ui" { "Events" }
                        a href="/ui?delivery_status=dead" { "Dead letters" }
                        a href="/ui/destinations" { "Destinations" }
                        a href="/ui/sources" { "Sources" }
                    }
                    main { (body) }
                    script src="/ui/assets/app.js" {}
                }
            }
        }
        .into_string(),
    )
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct Filters {
    source: Option<String>,
    #[serde(rename = "type")]
    event_type: Option<String>,
    delivery_status: Option<String>,
    q: Option<String>,
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.filter(|s| !s.trim().is_empty())
}

fn delivery_badges(d: &admin::DeliveryCountsView) -> Markup {
    html! {
        @if d.pending > 0 { span.badge.wait { (d.pending) " pending" } }
        @if d.delivered > 0 { span.badge.ok { (d.delivered) " delivered" } }
        @if d.dead > 0 { span.badge.bad { (d.dead) " dead" } }
        @if d.pending + d.delivered + d.dead == 0 { span.muted { "—" } }
    }
}

/// `GET /ui`: the newest events, filtered, with new ones appearing live.
pub(crate) async fn events(
    State(app): State<App>,
    filters: Result<Query<Filters>, axum::extract::rejection::QueryRejection>,
) -> Result<Html<String>, ApiError> {
    // A malformed query shows the unfiltered list rather than an error page.
    let f = filters.map(|Query(f)| f).unwrap_or_default();
    let (source, event_type) = (non_empty(f.source), non_empty(f.event_type));
    let status = non_empty(f.delivery_status);
    let text = non_empty(f.q);
    let filtered = source.is_some() || event_type.is_some() || status.is_some() || text.is_some();
    let page_data = app
        .store()
        .list_events(EventQuery {
            limit: 100,
            source: source.clone(),
            event_type: event_type.clone(),
            delivery_status: status.as_deref().and_then(|s| s.parse().ok()),
            text: text.clone(),
            ..EventQuery::default()
        })
        .await
        .map_err(|e| ApiError::storage_unavailable(&e))?;
    let dead_view = status.as_deref() == Some("dead");
    let title = if dead_view { "Dead letters" } else { "Events" };
    let body = html! {
        h1 { (title) }
        form.filters method="get" action="/ui" {
            input name="source" placeholder="source" value=[source.as_deref()];
            input name="type" placeholder="type" value=[event_type.as_deref()];
            input name="q" type="search" placeholder="text in body" value=[text.as_deref()];
            select name="delivery_status" {
                option value="" { "any delivery status" }
                @for s in ["pending", "delivered", "dead"] {
                    option value=(s) selected[status.as_deref() == Some(s)] { "has " (s) }
                }
            }
            button type="submit" { "Filter" }
            @if dead_view {
                button type="button" data-post="/api/deliveries/retry" data-body="{}" { "Retry all dead" }
            }
        }
        table {
            thead { tr {
                th { "Event" } th.wide { "Received" } th { "Source" } th { "Type" }
                th.wide { "Verified" } th { "Deliveries" }
            } }
            // Live rows only make sense for the unfiltered view.
            tbody data-live=[(!filtered).then_some("1")] {
                @if page_data.items.is_empty() {
                    tr data-empty="1" { td colspan="6" .muted {
                        "No events yet. Send one: curl -X POST http://" (app.config().server.listen) "/in/demo -d '{}'"
                    } }
                }
                @for e in page_data.items.into_iter().map(admin::list_item) {
                    tr data-id=(e.id) {
                        td.mono { a href={ "/ui/events/" (e.id) } { (e.id) } }
                        td.wide { (e.received_at) }
                        td { (e.source) }
                        td { (e.event_type.as_deref().unwrap_or("—")) }
                        td.wide { span.badge.(if e.verification.status == "verified" { "ok" } else { "muted" }) { (e.verification.status) } }
                        td { (delivery_badges(&e.deliveries)) }
                    }
                }
            }
        }
    };
    Ok(page(title, &body))
}

/// Pretty-prints a JSON body with token classes for colouring; anything else is shown as is.
fn highlighted(body: &str) -> Markup {
    let Ok(value) = serde_json::from_str::<serde_json::Value>(body) else {
        return html! { pre { (body) } };
    };
    let pretty = serde_json::to_string_pretty(&value).unwrap_or_else(|_| body.to_owned());
    let mut tokens: Vec<(&'static str, String)> = Vec::new();
    let chars: Vec<char> = pretty.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '"' {
            let start = i;
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    i += 1;
                }
                i += 1;
            }
            i = (i + 1).min(chars.len());
            let text: String = chars[start..i].iter().collect();
            let is_key = chars[i..].iter().find(|c| !c.is_whitespace()) == Some(&':');
            tokens.push((if is_key { "k" } else { "s" }, text));
        } else if c == '-' || c.is_ascii_digit() {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || "+-.".contains(chars[i]))
            {
                i += 1;
            }
            tokens.push(("n", chars[start..i].iter().collect()));
        } else if c.is_ascii_alphabetic() {
            let start = i;
            while i < chars.len() && chars[i].is_ascii_alphabetic() {
                i += 1;
            }
            tokens.push(("b", chars[start..i].iter().collect()));
        } else {
            tokens.push(("", c.to_string()));
            i += 1;
        }
    }
    html! {
        pre.json { @for (class, text) in tokens {
            @if class.is_empty() { (text) } @else { span class=(class) { (text) } }
        } }
    }
}

/// `GET /ui/events/{id}`: headers, body, verification, deliveries with every attempt.
pub(crate) async fn event(
    State(app): State<App>,
    Path(id): Path<String>,
) -> Result<Html<String>, ApiError> {
    let id: EventId = id.parse().map_err(|e: hookgate_core::ParseIdError| {
        ApiError::bad_request("invalid_id", e.to_string())
    })?;
    let stored = app
        .store()
        .event(id)
        .await
        .map_err(|e| ApiError::storage_unavailable(&e))?
        .ok_or_else(|| ApiError::not_found("event_not_found", format!("no event {id}")))?;
    let views = app
        .store()
        .deliveries_of(id)
        .await
        .map_err(|e| ApiError::storage_unavailable(&e))?
        .into_iter()
        .map(deliveries::detail_view)
        .collect();
    let e = admin::detail(stored, views);
    let body = html! {
        h1.mono { (e.id) }
        dl {
            dt { "Source" } dd { (e.source) }
            dt { "Received" } dd { (e.received_at) }
            dt { "Type" } dd { (e.event_type.as_deref().unwrap_or("—")) }
            dt { "Dedup key" } dd.mono { (e.dedup_key.as_deref().unwrap_or("—")) }
            dt { "Request" } dd.mono { (e.method) " " (e.path) }
            dt { "Verification" } dd {
                span.badge.(if e.verification.status == "verified" { "ok" } else { "muted" }) { (e.verification.status) }
                " " (e.verification.provider)
                @if let Some(i) = e.verification.secret_index { " · secret #" (i) }
                @if let Some(t) = e.verification.timestamp { " · signed at " (rfc3339_from_unix_ms(t * 1000)) }
            }
        }
        h2 { "Deliveries" }
        p { button type="button" data-post={ "/api/events/" (e.id) "/replay" } { "Replay" } }
        @if e.deliveries.is_empty() { p.muted { "No route takes this source." } }
        @for d in &e.deliveries {
            h2.mono {
                (d.destination) " · "
                span.badge.(match d.status { "delivered" => "ok", "dead" => "bad", _ => "wait" }) { (d.status) }
                " " span.muted { (d.id) }
            }
            @if d.status != "delivered" {
                p {
                    @if let Some(next) = &d.next_attempt_at { span.muted { "next attempt " (next) " " } }
                    button type="button" data-post={ "/api/deliveries/" (d.id) "/retry" } { "Retry now" }
                }
            }
            @if let Some(err) = &d.last_error { p.bad { (err) } }
            table.attempts {
                thead { tr { th { "#" } th.wide { "Started" } th { "Took" } th { "Result" } th { "Response" } } }
                tbody {
                    @for a in d.attempts.as_deref().unwrap_or_default() {
                        tr {
                            td { (a.n) }
                            td.wide { (a.started_at) }
                            td { (a.duration_ms) " ms" }
                            td {
                                @if let Some(code) = a.status_code {
                                    span.badge.(if (200..300).contains(&code) { "ok" } else { "bad" }) { "HTTP " (code) }
                                } @else if let Some(code) = a.exit_code {
                                    span.badge.(if code == 0 { "ok" } else { "bad" }) { "exit " (code) }
                                }
                                @if let Some(err) = &a.error { " " span.bad { (err) } }
                            }
                            td.mono { (a.response.as_deref().unwrap_or("")) }
                        }
                    }
                }
            }
        }
        h2 { "Body" (if e.body_encoding == "base64" { " (base64)" } else { "" }) }
        (highlighted(&e.body))
        h2 { "Headers" }
        table { tbody { @for h in &e.headers { tr { td.mono { (h.name) } td.mono { (h.value) } } } } }
    };
    Ok(page(&e.id, &body))
}

/// `GET /ui/destinations`: health at a glance.
pub(crate) async fn destinations(State(app): State<App>) -> Result<Html<String>, ApiError> {
    let axum::Json(list) = deliveries::destinations(State(app)).await?;
    let body = html! {
        h1 { "Destinations" }
        table {
            thead { tr {
                th { "Name" } th.wide { "Target" } th { "State" } th { "Backlog" }
                th { "Success" } th { "Last error" }
            } }
            tbody { @for d in &list {
                tr {
                    td { (d.name) " " span.muted { (d.kind) } }
                    td.wide.mono { (d.target) }
                    td {
                        @if d.enabled {
                            span.badge.(match d.circuit.as_str() { "closed" => "ok", "open" => "bad", _ => "wait" }) { "circuit " (d.circuit) }
                        } @else {
                            span.badge.bad { "disabled" }
                            " " (d.disabled_reason.as_deref().unwrap_or(""))
                            " " button type="button" data-post={ "/api/destinations/" (d.name) "/enable" } { "Enable" }
                        }
                    }
                    td { (d.backlog) }
                    td { @match d.success_rate { Some(r) => { (format!("{:.0}%", r * 100.0)) }, None => { span.muted { "—" } } } }
                    td.bad { (d.last_error.as_deref().unwrap_or("")) }
                }
            } }
        }
    };
    Ok(page("Destinations", &body))
}

/// `GET /ui/sources`: where to point each sender, and a command to try it.
pub(crate) async fn sources(State(app): State<App>) -> Html<String> {
    let axum::Json(list) = deliveries::sources(State(app)).await;
    let body = html! {
        h1 { "Sources" }
        @for s in &list {
            h2 { (s.name) " " span.muted { (s.provider) } }
            dl {
                dt { "Ingest URL" } dd.mono { (s.ingest_url) }
                dt { "Methods" } dd { (s.methods.join(", ")) }
                dt { "Dedup" } dd { (s.dedup.as_deref().unwrap_or("—")) }
            }
            pre { (s.try_it) }
        }
    };
    page("Sources", &body)
}

/// `GET /ui/login`: where a browser goes when `admin_token` is set and it has no cookie yet.
pub(crate) async fn login_page(State(app): State<App>) -> Html<String> {
    let body = html! {
        h1 { "Sign in" }
        @if app.config().server.admin_token.is_none() {
            p.muted { "This server has no admin_token: the inspector is open to loopback clients." }
        }
        form method="post" action="/ui/login" {
            p { input type="password" name="token" placeholder="admin token" autocomplete="current-password" autofocus; }
            p { button type="submit" { "Open the inspector" } }
        }
    };
    page("Sign in", &body)
}

/// `POST /ui/login` (`token=…`, form-encoded): a matching token sets the session cookie.
pub(crate) async fn login(State(app): State<App>, body: axum::body::Bytes) -> Response {
    use subtle::ConstantTimeEq;
    let presented = url::form_urlencoded::parse(&body)
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    let Some(token) = app.config().server.admin_token.clone() else {
        return axum::response::Redirect::to("/ui").into_response();
    };
    if !bool::from(presented.as_bytes().ct_eq(token.expose().as_bytes())) {
        let body = html! {
            h1 { "Sign in" }
            p.bad { "That is not the admin token." }
            p { a href="/ui/login" { "Try again" } }
        };
        return (axum::http::StatusCode::UNAUTHORIZED, page("Sign in", &body)).into_response();
    }
    // The token only ever travels in this header and the browser's cookie jar; a value
    // that cannot be a header value (it came from the operator's own config) is refused.
    let cookie = format!(
        "{}={}; Path=/; HttpOnly; SameSite=Strict",
        admin::SESSION_COOKIE,
        token.expose()
    );
    match axum::http::HeaderValue::from_str(&cookie) {
        Ok(value) => (
            axum::http::StatusCode::SEE_OTHER,
            [(header::SET_COOKIE, value), (header::LOCATION, axum::http::HeaderValue::from_static("/ui"))],
        )
            .into_response(),
        Err(_) => (
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            page("Sign in", &html! { p.bad { "The admin token cannot be stored in a cookie; use the API with a bearer token." } }),
        )
            .into_response(),
    }
}
