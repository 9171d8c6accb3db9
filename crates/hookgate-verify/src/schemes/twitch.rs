//! Twitch EventSub: `Twitch-Eventsub-Message-Signature: sha256=<hex HMAC-SHA256(secret,
//! id + timestamp + body)>`.
//!
//! Follows Twitch Developers, "EventSub" → "Handling webhook events" → "Verifying the event
//! message": the HMAC message is the `Twitch-Eventsub-Message-Id` header, then the
//! `Twitch-Eventsub-Message-Timestamp` header (RFC 3339, signed as received), then the raw
//! body, keyed with the subscription secret, hex, prefixed `sha256=`; messages more than
//! 10 minutes old are to be rejected. Twitch publishes no official server SDK; its docs'
//! Node.js sample (`getHmacMessage`/`getHmac`) is what this follows.

use crate::{
    schemes::fixed::{Clock, Part, Spec},
    Algorithm, Encoding,
};

pub(crate) const SPEC: Spec = Spec {
    header: "Twitch-Eventsub-Message-Signature",
    prefix: "sha256=",
    encoding: Encoding::Hex,
    algorithm: Algorithm::Sha256,
    clock: Clock::Rfc3339("Twitch-Eventsub-Message-Timestamp"),
    signed: &[
        Part::Header("Twitch-Eventsub-Message-Id"),
        Part::Timestamp,
        Part::Body,
    ],
};
