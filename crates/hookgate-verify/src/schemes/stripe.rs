//! Stripe: `Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>…][,v0=<hex>]`.
//!
//! Follows Stripe Docs, "Receive Stripe events in your webhook endpoint" → "Verify
//! signatures manually": split the header on `,`, each element on `=`; `t` is the
//! timestamp, `v1` the signature(s), and "you can discard all other elements" (`v0` is a
//! test-mode scheme). The signed payload is `{t}.{body}`, HMAC-SHA256 keyed with the
//! endpoint secret, hex-encoded; Stripe sends one `v1` per active secret while a secret is
//! being rolled, so any `v1` matching any secret passes. The key is the whole `whsec_…`
//! string, as stripe-node's `computeSignature` and stripe-python's `_compute_signature`
//! use it. Like those SDKs we check the signature before the timestamp; unlike them we
//! also refuse timestamps too far in the future.

use crate::schemes::stamped::Spec;

pub(crate) const HEADER: &str = "Stripe-Signature";

pub(crate) const SPEC: Spec = Spec {
    header: HEADER,
    lookup: "stripe-signature",
    separator: ',',
    timestamp_key: "t",
    signature_key: "v1",
    joiner: b".",
};
