//! Zoom: `x-zm-signature: v0=<hex HMAC-SHA256(secret token, "v0:{ts}:{body}")>`.
//!
//! Follows Zoom Developer docs, "Using webhooks" → "Verify webhook events": the message is
//! `v0:{x-zm-request-timestamp}:{request body}`, hashed with the app's webhook secret
//! token, hex, prefixed `v0=`, as in Zoom's official `zoom/webhook-sample` (`index.js`).
//! Zoom documents no replay window; the default five minutes applies.

use crate::{
    schemes::fixed::{Clock, Part, Spec},
    Algorithm, Encoding,
};

pub(crate) const SPEC: Spec = Spec {
    header: "x-zm-signature",
    prefix: "v0=",
    encoding: Encoding::Hex,
    algorithm: Algorithm::Sha256,
    clock: Clock::UnixSeconds("x-zm-request-timestamp"),
    signed: &[
        Part::Literal("v0:"),
        Part::Timestamp,
        Part::Literal(":"),
        Part::Body,
    ],
};
