//! Razorpay: `X-Razorpay-Signature: <hex HMAC-SHA256(webhook secret, body)>`.
//!
//! Follows Razorpay docs, "Webhooks" → "Validate and test webhooks", and the official
//! razorpay-node `validateWebhookSignature(body, signature, secret)`: a hex HMAC-SHA256 of
//! the raw body with the webhook secret, no prefix. No timestamp is signed: dedup on
//! `x-razorpay-event-id` is the replay protection.

use crate::{
    schemes::fixed::{Clock, Part, Spec},
    Algorithm, Encoding,
};

pub(crate) const SPEC: Spec = Spec {
    header: "X-Razorpay-Signature",
    prefix: "",
    encoding: Encoding::Hex,
    algorithm: Algorithm::Sha256,
    clock: Clock::None,
    signed: &[Part::Body],
};
