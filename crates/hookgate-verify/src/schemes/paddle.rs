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
    mac::{decode_signature, first_matching_key, KeyedMac, Tag},
    verifier::keyed_macs,
    wire::{check_tolerance, malformed, parse_unix_seconds, required_header},
    Algorithm, Encoding, KeyError, Request, SignRequest, Verified, VerifyError,
};

pub(crate) const HEADER: &str = "Paddle-Signature";
const FORMAT: &str = "expected ts=<timestamp>;h1=<hex signature>";

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
        let value = required_header(req.headers, HEADER, HEADER)?;
        let mut timestamp = None;
        let mut h1_seen = false;
        let mut candidates: Vec<Tag> = Vec::new();
        for element in value.split(';') {
            let Some((key, val)) = element.trim().split_once('=') else {
                continue;
            };
            match key {
                "ts" if timestamp.is_some() => {
                    return Err(malformed(HEADER, "more than one ts= element"));
                }
                "ts" => timestamp = Some(val),
                "h1" => {
                    h1_seen = true;
                    candidates.extend(decode_signature(val, Encoding::Hex, 32));
                }
                _ => {}
            }
        }
        let Some(raw_timestamp) = timestamp else {
            return Err(malformed(HEADER, format!("no ts= element; {FORMAT}")));
        };
        let timestamp = parse_unix_seconds(raw_timestamp, HEADER)?;
        if !h1_seen {
            return Err(malformed(HEADER, format!("no h1= signature; {FORMAT}")));
        }
        if candidates.is_empty() {
            return Err(malformed(HEADER, "h1 signature is not 64 hex digits"));
        }
        let parts: [&[u8]; 3] = [raw_timestamp.as_bytes(), b":", req.body];
        let index =
            first_matching_key(&self.keys, &parts, &candidates).ok_or(VerifyError::Mismatch)?;
        check_tolerance(timestamp, now, tolerance_secs)?;
        Ok(Verified {
            secret_index: Some(index),
            timestamp: Some(timestamp),
        })
    }

    pub(crate) fn sign(&self, req: &SignRequest<'_>, now: i64) -> Vec<(String, String)> {
        let ts = now.to_string();
        let tag = self.keys[0].tag(&[ts.as_bytes(), b":", req.body]);
        vec![(
            HEADER.to_owned(),
            format!("ts={ts};h1={}", tag.encode(Encoding::Hex)),
        )]
    }
}
