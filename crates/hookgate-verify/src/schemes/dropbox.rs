//! Dropbox: `X-Dropbox-Signature: <hex HMAC-SHA256(app secret, body)>`.
//!
//! Follows Dropbox Developers, "Webhooks" → "Receiving notifications": "the HMAC-SHA256
//! signature of the request body, using your app secret as the key", hex. Endpoint
//! verification is a `GET ?challenge=…`, answered by [`crate::handshake`].

use crate::{
    schemes::fixed::{Clock, Part, Spec},
    Algorithm, Encoding,
};

pub(crate) const SPEC: Spec = Spec {
    header: "X-Dropbox-Signature",
    prefix: "",
    encoding: Encoding::Hex,
    algorithm: Algorithm::Sha256,
    clock: Clock::None,
    signed: &[Part::Body],
};
