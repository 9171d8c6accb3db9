//! Shopify: `X-Shopify-Hmac-Sha256: <base64 HMAC-SHA256(client secret, body)>`.
//!
//! Follows Shopify docs, "Deliver webhooks through HTTPS" → "Verify the webhook": the
//! HMAC is computed over the raw body with the app's client secret and base64-encoded, as
//! `@shopify/shopify-api`'s `webhooks.validate` (`validateHmacFromRequestFactory`) does.
//! No timestamp is signed: dedup on `X-Shopify-Webhook-Id` is the replay protection.

use crate::{
    schemes::fixed::{Clock, Part, Spec},
    Algorithm, Encoding,
};

pub(crate) const SPEC: Spec = Spec {
    header: "X-Shopify-Hmac-Sha256",
    prefix: "",
    encoding: Encoding::Base64,
    algorithm: Algorithm::Sha256,
    clock: Clock::None,
    signed: &[Part::Body],
};
