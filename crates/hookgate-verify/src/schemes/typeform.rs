//! Typeform: `Typeform-Signature: sha256=<base64 HMAC-SHA256(secret, body)>`.
//!
//! Follows Typeform Developers, "Webhooks" → "Secure your webhooks": the payload is signed
//! with the webhook's secret using HMAC-SHA256, base64-encoded and prefixed `sha256=`
//! (base64, not hex, despite the GitHub-like prefix). No timestamp is signed.

use crate::{
    schemes::fixed::{Clock, Part, Spec},
    Algorithm, Encoding,
};

pub(crate) const SPEC: Spec = Spec {
    header: "Typeform-Signature",
    prefix: "sha256=",
    encoding: Encoding::Base64,
    algorithm: Algorithm::Sha256,
    clock: Clock::None,
    signed: &[Part::Body],
};
