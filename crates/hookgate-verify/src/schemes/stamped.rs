//! One header carrying a timestamp and one or more signatures, `<ts-key>=<unix>` and
//! `<sig-key>=<hex>` elements separated by a delimiter, signed over `{ts}{joiner}{body}`
//! with HMAC-SHA256: Stripe (`t=…,v1=…`, `.`) and Paddle (`ts=…;h1=…`, `:`) differ only in
//! these spellings, so they share this code and keep their own docs and specs.
//!
//! Several signatures are accepted (providers send one per active secret while one is
//! rolled); unknown elements are ignored, a repeated timestamp is malformed, the raw
//! timestamp text is what is hashed, and the signature is checked before the timestamp so
//! a tolerance error always names a timestamp the sender really signed.

use crate::{
    mac::{decode_signature, first_matching_key, KeyedMac, Tag},
    verifier::keyed_macs,
    wire::{check_tolerance, malformed, parse_unix_seconds, required_header},
    Algorithm, Encoding, KeyError, Request, SignRequest, Verified, VerifyError,
};

/// A provider's spec with its HMAC-SHA256 keys, one per configured secret.
#[derive(Clone)]
pub(crate) struct Keys {
    spec: &'static Spec,
    keys: Vec<KeyedMac>,
}

impl Keys {
    pub(crate) fn new(spec: &'static Spec, secrets: &[&[u8]]) -> Result<Keys, KeyError> {
        Ok(Keys {
            spec,
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
        verify(self.spec, &self.keys, req, now, tolerance_secs)
    }

    pub(crate) fn sign(&self, req: &SignRequest<'_>, now: i64) -> Vec<(String, String)> {
        sign(self.spec, &self.keys[0], req, now)
    }
}

pub(crate) struct Spec {
    /// The header as providers document it, for messages.
    pub(crate) header: &'static str,
    /// The header name to look up (lower case).
    pub(crate) lookup: &'static str,
    pub(crate) separator: char,
    pub(crate) timestamp_key: &'static str,
    pub(crate) signature_key: &'static str,
    /// Between the timestamp and the body in the signed content.
    pub(crate) joiner: &'static [u8],
}

impl Spec {
    fn format(&self) -> String {
        format!(
            "expected {}=<timestamp>{}{}=<hex signature>",
            self.timestamp_key, self.separator, self.signature_key
        )
    }
}

fn verify(
    spec: &Spec,
    keys: &[KeyedMac],
    req: &Request<'_>,
    now: i64,
    tolerance_secs: u64,
) -> Result<Verified, VerifyError> {
    let value = required_header(req.headers, spec.lookup, spec.header)?;
    let mut timestamp = None;
    let mut signature_seen = false;
    let mut candidates: Vec<Tag> = Vec::new();
    for element in value.split(spec.separator) {
        let Some((key, val)) = element.trim().split_once('=') else {
            continue;
        };
        if key == spec.timestamp_key {
            if timestamp.is_some() {
                return Err(malformed(
                    spec.header,
                    format!("more than one {}= element", spec.timestamp_key),
                ));
            }
            timestamp = Some(val);
        } else if key == spec.signature_key {
            signature_seen = true;
            candidates.extend(decode_signature(val, Encoding::Hex, 32));
        }
    }
    let Some(raw_timestamp) = timestamp else {
        return Err(malformed(
            spec.header,
            format!("no {}= element; {}", spec.timestamp_key, spec.format()),
        ));
    };
    let timestamp = parse_unix_seconds(raw_timestamp, spec.header)?;
    if !signature_seen {
        return Err(malformed(
            spec.header,
            format!("no {}= signature; {}", spec.signature_key, spec.format()),
        ));
    }
    if candidates.is_empty() {
        return Err(malformed(
            spec.header,
            format!("{} signature is not 64 hex digits", spec.signature_key),
        ));
    }
    let parts: [&[u8]; 3] = [raw_timestamp.as_bytes(), spec.joiner, req.body];
    let index = first_matching_key(keys, &parts, &candidates).ok_or(VerifyError::Mismatch)?;
    check_tolerance(timestamp, now, tolerance_secs)?;
    Ok(Verified {
        secret_index: Some(index),
        timestamp: Some(timestamp),
    })
}

fn sign(spec: &Spec, key: &KeyedMac, req: &SignRequest<'_>, now: i64) -> Vec<(String, String)> {
    let ts = now.to_string();
    let tag = key.tag(&[ts.as_bytes(), spec.joiner, req.body]);
    vec![(
        spec.header.to_owned(),
        format!(
            "{}={ts}{}{}={}",
            spec.timestamp_key,
            spec.separator,
            spec.signature_key,
            tag.encode(Encoding::Hex)
        ),
    )]
}
