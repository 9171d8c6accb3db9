//! Intercom: `X-Hub-Signature: sha1=<hex HMAC-SHA1(client secret, body)>`.
//!
//! Follows Intercom Developer docs, "Webhooks" → "Signed notifications": the signature is
//! an HMAC-SHA1 hex digest of the raw body keyed with the app's client secret, prefixed
//! `sha1=`. Note the header name is GitHub's legacy one but the hash is SHA-1, unlike
//! Bitbucket's SHA-256 under the same name. No timestamp is signed.

use crate::{
    schemes::fixed::{Clock, Part, Spec},
    Algorithm, Encoding,
};

pub(crate) const SPEC: Spec = Spec {
    header: "X-Hub-Signature",
    prefix: "sha1=",
    encoding: Encoding::Hex,
    algorithm: Algorithm::Sha1,
    clock: Clock::None,
    signed: &[Part::Body],
};
