//! Square: `x-square-hmacsha256-signature: <base64 HMAC-SHA256(key, url + body)>`.
//!
//! Follows Square docs, "Validate webhook event notifications": the signed content is the
//! notification URL exactly as registered in the Developer Console followed by the raw
//! body, keyed with the subscription's signature key, base64; the official SDKs'
//! `WebhooksHelper.isValidWebhookEventSignature(body, signature, key, notificationUrl)`
//! compute the same. The URL is [`crate::Request::url`], so it must be the full public
//! URL Square was given (`https://host/path`), not just the path.

use crate::{
    schemes::fixed::{Clock, Part, Spec},
    Algorithm, Encoding,
};

pub(crate) const SPEC: Spec = Spec {
    header: "x-square-hmacsha256-signature",
    prefix: "",
    encoding: Encoding::Base64,
    algorithm: Algorithm::Sha256,
    clock: Clock::None,
    signed: &[Part::Url, Part::Body],
};
