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

use crate::{
    mac::KeyedMac,
    schemes::stamped::{self, Spec},
    verifier::keyed_macs,
    Algorithm, KeyError, Request, SignRequest, Verified, VerifyError,
};

pub(crate) const HEADER: &str = "Paddle-Signature";

const SPEC: Spec = Spec {
    header: HEADER,
    lookup: "paddle-signature",
    separator: ';',
    timestamp_key: "ts",
    signature_key: "h1",
    joiner: b":",
};

#[derive(Clone)]
pub(crate) struct Keys {
    keys: Vec<KeyedMac>,
}

impl Keys {
    pub(crate) fn new(secrets: &[&[u8]]) -> Result<Keys, KeyError> {
        Ok(Keys {
            keys: keyed_macs(Algorithm::Sha256, secrets.iter().copied())?,
        })
    }

    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }

    pub(crate) fn verify(
        &self,
        req: &Request<'_>,
        now: i64,
        tolerance_secs: u64,
    ) -> Result<Verified, VerifyError> {
        stamped::verify(&SPEC, &self.keys, req, now, tolerance_secs)
    }

    pub(crate) fn sign(&self, req: &SignRequest<'_>, now: i64) -> Vec<(String, String)> {
        stamped::sign(&SPEC, &self.keys[0], req, now)
    }
}
