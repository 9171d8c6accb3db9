//! Bitbucket Cloud: `X-Hub-Signature: sha256=<hex HMAC-SHA256(secret, body)>`.
//!
//! Follows Bitbucket Cloud docs, "Manage webhooks" → "Secure webhooks": with a secret set,
//! each request carries an HMAC-SHA256 hex digest of the raw body, prefixed `sha256=`, in
//! `X-Hub-Signature` (SHA-256 despite the header name, unlike Intercom's SHA-1). No
//! timestamp is signed: dedup on `X-Request-UUID` is the replay protection.

use crate::{
    schemes::fixed::{Clock, Part, Spec},
    Algorithm, Encoding,
};

pub(crate) const SPEC: Spec = Spec {
    header: "X-Hub-Signature",
    prefix: "sha256=",
    encoding: Encoding::Hex,
    algorithm: Algorithm::Sha256,
    clock: Clock::None,
    signed: &[Part::Body],
};
