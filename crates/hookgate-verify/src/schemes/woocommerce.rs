//! WooCommerce: `X-WC-Webhook-Signature: <base64 HMAC-SHA256(secret, body)>`.
//!
//! Follows the WooCommerce REST API docs, "Webhooks" ("a base64 encoded HMAC-SHA256 hash of
//! the payload") and WooCommerce core's `WC_Webhook::generate_signature`
//! (`base64_encode(hash_hmac('sha256', $payload, $secret, true))`). No timestamp is signed.

use crate::{
    schemes::fixed::{Clock, Part, Spec},
    Algorithm, Encoding,
};

pub(crate) const SPEC: Spec = Spec {
    header: "X-WC-Webhook-Signature",
    prefix: "",
    encoding: Encoding::Base64,
    algorithm: Algorithm::Sha256,
    clock: Clock::None,
    signed: &[Part::Body],
};
