//! Paddle Billing: `Paddle-Signature: ts=<unix>;h1=<hex HMAC-SHA256(secret, "{ts}:{body}")>`.
//!
//! Follows Paddle Developer docs, "Verify webhook signatures" (manual verification): split
//! the header on `;`, each element on `=`; `ts` is the timestamp and `h1` a signature, of
//! which there may be several while a secret is rotated. The signed payload is
//! `{ts}:{raw body}`, keyed with the notification destination's secret key, hex. The
//! official `@paddle/paddle-node-sdk` (`WebhooksValidator`, `MAX_VALID_TIME_DIFFERENCE`)
//! and `paddle-python-sdk` (`Verifier`) refuse a `ts` more than 5 seconds away, which is
//! therefore this provider's default tolerance. (Paddle Classic's RSA `p_signature` in the
//! form body is a different, retired scheme and is not supported.)

use crate::schemes::stamped::Spec;

pub(crate) const HEADER: &str = "Paddle-Signature";

pub(crate) const SPEC: Spec = Spec {
    header: HEADER,
    lookup: "paddle-signature",
    separator: ';',
    timestamp_key: "ts",
    signature_key: "h1",
    joiner: b":",
};
