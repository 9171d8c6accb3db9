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

use crate::{
    mac::{decode_signature, first_matching_key, KeyedMac, Tag},
    verifier::keyed_macs,
    wire::{check_tolerance, malformed, parse_unix_seconds, required_header},
    Algorithm, Encoding, KeyError, Request, SignRequest, Verified, VerifyError,
};

pub(crate) const HEADER: &str = "Stripe-Signature";
const FORMAT: &str = "expected t=<timestamp>,v1=<hex signature>";

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
        let value = required_header(req.headers, "stripe-signature", HEADER)?;
        let mut timestamp = None;
        let mut v1_seen = false;
        let mut candidates: Vec<Tag> = Vec::new();
        for element in value.split(',') {
            let Some((key, val)) = element.trim().split_once('=') else {
                continue;
            };
            match key {
                "t" if timestamp.is_some() => {
                    return Err(malformed(HEADER, "more than one t= element"));
                }
                "t" => timestamp = Some(val),
                "v1" => {
                    v1_seen = true;
                    candidates.extend(decode_signature(val, Encoding::Hex, 32));
                }
                _ => {}
            }
        }
        let Some(raw_timestamp) = timestamp else {
            return Err(malformed(HEADER, format!("no t= element; {FORMAT}")));
        };
        let timestamp = parse_unix_seconds(raw_timestamp, HEADER)?;
        if !v1_seen {
            return Err(malformed(HEADER, format!("no v1= signature; {FORMAT}")));
        }
        if candidates.is_empty() {
            return Err(malformed(HEADER, "v1 signature is not 64 hex digits"));
        }
        // The raw `t` text is what was signed, so it is hashed as received.
        let parts: [&[u8]; 3] = [raw_timestamp.as_bytes(), b".", req.body];
        let index =
            first_matching_key(&self.keys, &parts, &candidates).ok_or(VerifyError::Mismatch)?;
        check_tolerance(timestamp, now, tolerance_secs)?;
        Ok(Verified {
            secret_index: Some(index),
            timestamp: Some(timestamp),
        })
    }

    pub(crate) fn sign(&self, req: &SignRequest<'_>, now: i64) -> Vec<(String, String)> {
        let t = now.to_string();
        let tag = self.keys[0].tag(&[t.as_bytes(), b".", req.body]);
        vec![(
            HEADER.to_owned(),
            format!("t={t},v1={}", tag.encode(Encoding::Hex)),
        )]
    }
}
