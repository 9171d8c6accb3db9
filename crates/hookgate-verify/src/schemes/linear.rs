//! Linear: `Linear-Signature: <hex HMAC-SHA256(signing secret, body)>`, with the timestamp
//! in the body.
//!
//! Follows Linear Developers, "Webhooks" → "Securing webhooks": the signature is a hex
//! HMAC-SHA256 of the raw body keyed with the webhook's signing secret, and the payload's
//! `webhookTimestamp` field (unix **milliseconds**) should be within a minute of the
//! receiver's clock, as `LinearWebhooks.verify` in the official `@linear/sdk` checks. The
//! timestamp is covered by the signature because it is inside the signed body, so it is
//! read only after the signature has matched. Default tolerance: 60 seconds.

use serde::Deserialize;

use crate::{
    schemes::fixed::{self, Clock, Part, Spec},
    Algorithm, Encoding, Request, Verified, VerifyError,
};

pub(crate) const SPEC: Spec = Spec {
    header: "Linear-Signature",
    prefix: "",
    encoding: Encoding::Hex,
    algorithm: Algorithm::Sha256,
    clock: Clock::None,
    signed: &[Part::Body],
};

pub(crate) fn verify(
    keys: &fixed::Keys,
    req: &Request<'_>,
    now: i64,
    tolerance_secs: u64,
) -> Result<Verified, VerifyError> {
    let verified = keys.verify(req, now, tolerance_secs)?;
    let millis = body_timestamp(req.body)?;
    let skew = (i128::from(now) * 1000 - i128::from(millis)).unsigned_abs();
    let timestamp = millis.div_euclid(1000);
    if skew > u128::from(tolerance_secs) * 1000 {
        return Err(VerifyError::TimestampOutOfTolerance {
            timestamp,
            now,
            tolerance_secs,
        });
    }
    Ok(Verified {
        timestamp: Some(timestamp),
        ..verified
    })
}

fn body_timestamp(body: &[u8]) -> Result<i64, VerifyError> {
    // Only `webhookTimestamp` is read; serde skips the rest without building it.
    #[derive(Deserialize)]
    struct Body {
        #[serde(rename = "webhookTimestamp")]
        webhook_timestamp: Option<i64>,
    }
    let bad = || VerifyError::MalformedBody {
        reason: "expected a JSON object with a numeric webhookTimestamp (unix milliseconds)"
            .to_owned(),
    };
    serde_json::from_slice::<Body>(body)
        .ok()
        .and_then(|parsed| parsed.webhook_timestamp)
        .ok_or_else(bad)
}
