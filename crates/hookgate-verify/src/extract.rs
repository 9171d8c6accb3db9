//! An axum extractor (feature `axum`): [`Verified`] yields the body of a request whose signature
//! verifies, and rejects anything else with the JSON error body
//! `{"error": {"code": "...", "message": "..."}}` and a 401 (or 400 when the body cannot be
//! read). The [`Verifier`] comes from the router's state through `FromRef`.
//!
//! This adapter is the one place in the crate that reads the clock (`SystemTime::now`), because
//! an extractor has nowhere else to get it from; everything it calls still takes `now` as an
//! argument. It never answers handshakes: call [`crate::handshake::respond`] for those.

use std::{
    sync::Arc,
    time::{SystemTime, UNIX_EPOCH},
};

use axum::{
    body::Bytes,
    extract::{FromRef, FromRequest, Request as AxumRequest},
    http::{header, StatusCode},
    response::{IntoResponse, Response},
};

use crate::{Request, Verifier};

/// The raw body of a request that passed verification.
#[derive(Debug, Clone)]
pub struct Verified(pub Bytes);

/// Why [`Verified`] refused a request; answers with the JSON error body.
#[derive(Debug, Clone)]
pub struct Rejection {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        let body = format!(
            r#"{{"error":{{"code":"{}","message":{}}}}}"#,
            self.code,
            json_string(&self.message)
        );
        (
            self.status,
            [(header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response()
    }
}

/// A JSON string literal. Messages are ours (no secrets), but may quote header names.
fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

impl<S> FromRequest<S> for Verified
where
    Arc<Verifier>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Rejection;

    async fn from_request(req: AxumRequest, state: &S) -> Result<Self, Self::Rejection> {
        let verifier = Arc::<Verifier>::from_ref(state);
        let (parts, body) = req.into_parts();
        let url = parts
            .uri
            .path_and_query()
            .map_or("/", |pq| pq.as_str())
            .to_owned();
        let body = Bytes::from_request(AxumRequest::from_parts(parts.clone(), body), state)
            .await
            .map_err(|e| Rejection {
                status: StatusCode::BAD_REQUEST,
                code: "body_read_failed",
                message: e.body_text(),
            })?;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        let request = Request {
            method: parts.method.as_str(),
            url: &url,
            headers: &parts.headers,
            body: &body,
        };
        match verifier.verify(&request, now) {
            Ok(_) => Ok(Verified(body)),
            Err(e) => Err(Rejection {
                status: StatusCode::UNAUTHORIZED,
                code: e.code(),
                message: e.to_string(),
            }),
        }
    }
}
