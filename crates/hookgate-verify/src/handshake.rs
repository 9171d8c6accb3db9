//! Provider handshakes: the requests a provider sends to prove an endpoint is the
//! subscriber's before (or while) delivering events, and the exact answers they expect.
//!
//! [`respond`] is a pure function like the rest of the crate: the server calls it before
//! ingesting, sends the [`HandshakeReply`] when there is one, and ingests normally on
//! `None`. A handshake that carries a signature is answered only after it verifies, so an
//! unauthenticated caller cannot make the endpoint answer on the subscriber's behalf.
//!
//! | provider | request | answer |
//! | --- | --- | --- |
//! | slack | POST `{"type":"url_verification","challenge":C}`, signed | `{"challenge":C}` JSON |
//! | zoom | POST `{"event":"endpoint.url_validation","payload":{"plainToken":P}}`, signed | `{"plainToken":P,"encryptedToken":hex(HMAC-SHA256(secret,P))}` JSON |
//! | twitch | POST, `Twitch-Eventsub-Message-Type: webhook_callback_verification`, signed | the body's `challenge`, text/plain |
//! | meta | GET `?hub.mode=subscribe&hub.verify_token=T&hub.challenge=C` | C, text/plain, if T is a `verify:` secret |
//! | msgraph | POST `?validationToken=X` | X (decoded), text/plain |
//! | dropbox | GET `?challenge=X` | X, text/plain |
//! | discord | POST interaction `{"type":1}` (PING), signed | `{"type":1}` JSON (PONG) |
//! | discord | POST webhook event `{"type":0,…}` (PING), signed | 204, empty |
//! | woocommerce | POST `webhook_id=N` (form), unsigned, when a webhook is activated | 200, empty |
//!
//! Sources: Slack API "url_verification event"; Zoom "Using webhooks" → "Validate your
//! webhook endpoint"; Twitch EventSub "Handling webhook events" → "Responding to a
//! challenge request"; Meta "Webhooks" → "Verification requests"; Microsoft Graph "Set up
//! notifications…" → "Notification endpoint validation" (answer within 10 s, 200,
//! `text/plain`); Dropbox "Webhooks" → "Verification request" (Dropbox also requires the
//! response header `X-Content-Type-Options: nosniff`, which the server must add: every
//! text/plain reply here echoes caller-chosen text, so the server should send that header
//! with all of them). Discord "Interactions" → "Receiving an interaction" (a PING must be
//! acknowledged with a PONG, `{"type":1}`, or the portal refuses the URL) and "Webhook
//! Events" → "Responding to PING events" (204, empty); WooCommerce's
//! `WC_Webhook::deliver_ping` (an unsigned `webhook_id=N` form post when a webhook is saved
//! active; any 2xx marks it healthy). The WooCommerce ping is answered without a signature
//! because it carries none; it is never stored, so answering it grants nothing.

use serde_json::{json, Value};

use crate::{
    schemes::token::query_value, verifier::Prepared, Provider, Request, Verifier, VerifyError,
};

/// What to send back instead of ingesting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandshakeReply {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
}

const TEXT: &str = "text/plain; charset=utf-8";
const JSON: &str = "application/json";

/// The answer to `req` if it is `verifier`'s provider's handshake; `None` if it is an
/// ordinary delivery (or a provider without handshakes).
///
/// # Errors
/// `Some(Err(…))` when it is a handshake but its signature does not verify, its verify
/// token is wrong, or a required field is missing: answer it like any failed
/// verification.
#[must_use]
pub fn respond(
    verifier: &Verifier,
    req: &Request<'_>,
    now_unix: i64,
) -> Option<Result<HandshakeReply, VerifyError>> {
    match (verifier.provider(), verifier.prepared()) {
        (Provider::Slack, _) => slack(verifier, req, now_unix),
        (Provider::Zoom, Prepared::Fixed(keys)) => {
            let (verified, plain) = match zoom_token(verifier, req, now_unix)? {
                Ok(found) => found,
                Err(err) => return Some(Err(err)),
            };
            let index = verified.secret_index.unwrap_or(0);
            let tag = keys.tag(index, &[plain.as_bytes()])?;
            Some(Ok(json_reply(&json!({
                "plainToken": plain,
                "encryptedToken": hex::encode(tag.as_bytes()),
            }))))
        }
        (Provider::Twitch, _) => twitch(verifier, req, now_unix),
        (Provider::Meta, Prepared::Meta(keys)) => {
            if !req.method.eq_ignore_ascii_case("GET") {
                return None;
            }
            let mode = query_value(req.url, "hub.mode")?;
            Some(meta(req.url, &mode, |token| keys.is_verify_token(token)))
        }
        (Provider::Msgraph, _) => {
            let token = query_value(req.url, "validationToken")?;
            Some(Ok(text_reply(token)))
        }
        (Provider::Discord, _) => discord(verifier, req, now_unix),
        (Provider::Woocommerce, _) => {
            let ping = req.headers.get("x-wc-webhook-signature").is_none()
                && req.body.starts_with(b"webhook_id=")
                && req.body.len() <= 32
                && req.body[11..].iter().all(u8::is_ascii_digit)
                && req.body.len() > 11;
            ping.then(|| {
                Ok(HandshakeReply {
                    status: 200,
                    content_type: TEXT,
                    body: Vec::new(),
                })
            })
        }
        (Provider::Dropbox, _) => {
            if !req.method.eq_ignore_ascii_case("GET") {
                return None;
            }
            let challenge = query_value(req.url, "challenge")?;
            Some(Ok(text_reply(challenge)))
        }
        _ => None,
    }
}

fn slack(
    verifier: &Verifier,
    req: &Request<'_>,
    now: i64,
) -> Option<Result<HandshakeReply, VerifyError>> {
    // A byte search first, so ordinary events are not parsed twice on the hot path.
    if !contains(req.body, b"url_verification") {
        return None;
    }
    let body: Value = serde_json::from_slice(req.body).ok()?;
    if body.get("type").and_then(Value::as_str) != Some("url_verification") {
        return None;
    }
    Some(verifier.verify(req, now).and_then(|_| {
        let challenge = body
            .get("challenge")
            .and_then(Value::as_str)
            .ok_or_else(|| missing_field("challenge"))?;
        Ok(json_reply(&json!({ "challenge": challenge })))
    }))
}

/// Discord's PINGs: interaction type 1 (answer PONG) and webhook-event type 0 (answer 204).
fn discord(
    verifier: &Verifier,
    req: &Request<'_>,
    now: i64,
) -> Option<Result<HandshakeReply, VerifyError>> {
    // Only small bodies can be PINGs; events are not parsed twice on the hot path.
    if req.body.len() > 512 || !contains(req.body, b"\"type\"") {
        return None;
    }
    let body: Value = serde_json::from_slice(req.body).ok()?;
    let kind = body.get("type").and_then(Value::as_u64)?;
    // A webhook event PING carries `version` and no `event`; an interaction PING has no
    // `version`. Anything else is an event to ingest.
    let event_ping = kind == 0 && body.get("event").is_none() && body.get("version").is_some();
    let interaction_ping = kind == 1 && body.get("version").is_none();
    if !event_ping && !interaction_ping {
        return None;
    }
    Some(verifier.verify(req, now).map(|_| {
        if interaction_ping {
            json_reply(&json!({ "type": 1 }))
        } else {
            HandshakeReply {
                status: 204,
                content_type: TEXT,
                body: Vec::new(),
            }
        }
    }))
}

fn zoom_token(
    verifier: &Verifier,
    req: &Request<'_>,
    now: i64,
) -> Option<Result<(crate::Verified, String), VerifyError>> {
    if !contains(req.body, b"endpoint.url_validation") {
        return None;
    }
    let body: Value = serde_json::from_slice(req.body).ok()?;
    if body.get("event").and_then(Value::as_str) != Some("endpoint.url_validation") {
        return None;
    }
    Some(verifier.verify(req, now).and_then(|verified| {
        let plain = body
            .pointer("/payload/plainToken")
            .and_then(Value::as_str)
            .ok_or_else(|| missing_field("payload.plainToken"))?;
        Ok((verified, plain.to_owned()))
    }))
}

fn twitch(
    verifier: &Verifier,
    req: &Request<'_>,
    now: i64,
) -> Option<Result<HandshakeReply, VerifyError>> {
    let kind = req.headers.get("twitch-eventsub-message-type")?;
    if kind.as_bytes() != b"webhook_callback_verification" {
        return None;
    }
    Some(verifier.verify(req, now).and_then(|_| {
        let body: Value =
            serde_json::from_slice(req.body).map_err(|_| missing_field("challenge"))?;
        let challenge = body
            .get("challenge")
            .and_then(Value::as_str)
            .ok_or_else(|| missing_field("challenge"))?;
        Ok(text_reply(challenge.as_bytes().to_vec()))
    }))
}

fn meta(
    url: &str,
    mode: &[u8],
    is_verify_token: impl Fn(&[u8]) -> bool,
) -> Result<HandshakeReply, VerifyError> {
    let bad = |param: &str, reason: &str| VerifyError::BadQuery {
        param: param.to_owned(),
        reason: reason.to_owned(),
    };
    if mode != b"subscribe" {
        return Err(bad("hub.mode", "expected \"subscribe\""));
    }
    let token =
        query_value(url, "hub.verify_token").ok_or_else(|| bad("hub.verify_token", "missing"))?;
    if !is_verify_token(&token) {
        return Err(VerifyError::TokenMismatch);
    }
    let challenge =
        query_value(url, "hub.challenge").ok_or_else(|| bad("hub.challenge", "missing"))?;
    Ok(text_reply(challenge))
}

fn missing_field(name: &str) -> VerifyError {
    VerifyError::MalformedBody {
        reason: format!("handshake has no {name} string"),
    }
}

fn json_reply(value: &Value) -> HandshakeReply {
    HandshakeReply {
        status: 200,
        content_type: JSON,
        body: value.to_string().into_bytes(),
    }
}

fn text_reply(body: Vec<u8>) -> HandshakeReply {
    HandshakeReply {
        status: 200,
        content_type: TEXT,
        body,
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}
