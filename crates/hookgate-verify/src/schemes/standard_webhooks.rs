//! Standard Webhooks (standardwebhooks.com, spec `standard-webhooks.md`, "Signature
//! scheme" and "Webhook headers").
//!
//! Three headers: `webhook-id`, `webhook-timestamp` (unix seconds) and `webhook-signature`,
//! a space-delimited list of `<version>,<base64>` so that senders can sign with an old and
//! a new key during rotation. The signed content is `{id}.{timestamp}.{body}`; `v1` is
//! HMAC-SHA256 with standard, padded base64. Other versions (`v1a` is ed25519) are
//! skipped, not rejected, since the spec lets one header carry several schemes. Secrets
//! are `whsec_<base64>`; the key is the decoded bytes, as the reference libraries do.

use base64::{engine::general_purpose::STANDARD as BASE64, Engine as _};

use crate::{
    mac::{decode_signature, first_matching_key, KeyedMac, Tag},
    schemes::check_header_safe_id,
    verifier::keyed_macs,
    wire::{check_tolerance, malformed, parse_unix_seconds, required_header},
    Algorithm, Encoding, KeyError, Request, SignError, SignRequest, Verified, VerifyError,
};

pub(crate) const ID: &str = "webhook-id";
pub(crate) const TIMESTAMP: &str = "webhook-timestamp";
pub(crate) const SIGNATURE: &str = "webhook-signature";
const SECRET_PREFIX: &[u8] = b"whsec_";

#[derive(Clone)]
pub(crate) struct Keys {
    keys: Vec<KeyedMac>,
}

impl Keys {
    pub(crate) fn new(secrets: &[&[u8]]) -> Result<Keys, KeyError> {
        let decoded = secrets
            .iter()
            .enumerate()
            .map(|(index, secret)| {
                decode_secret(secret).map_err(|reason| KeyError::BadSecret { index, reason })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Keys {
            keys: keyed_macs(Algorithm::Sha256, decoded.iter().map(Vec::as_slice))?,
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
        let signatures = required_header(req.headers, SIGNATURE, SIGNATURE)?;
        let id = required_header(req.headers, ID, ID)?;
        let raw_timestamp = required_header(req.headers, TIMESTAMP, TIMESTAMP)?;
        let timestamp = parse_unix_seconds(raw_timestamp, TIMESTAMP)?;

        let mut v1_seen = false;
        let mut candidates: Vec<Tag> = Vec::new();
        for entry in signatures.split(' ').filter(|e| !e.is_empty()) {
            if let Some(("v1", signature)) = entry.split_once(',') {
                v1_seen = true;
                candidates.extend(decode_signature(signature, Encoding::Base64, 32));
            }
        }
        if !v1_seen {
            return Err(malformed(
                SIGNATURE,
                "no v1,<base64> signature (only symmetric v1 signatures are accepted)",
            ));
        }
        if candidates.is_empty() {
            return Err(malformed(
                SIGNATURE,
                "v1 signature is not the padded base64 of a 32-byte HMAC-SHA256",
            ));
        }
        let parts: [&[u8]; 5] = [
            id.as_bytes(),
            b".",
            raw_timestamp.as_bytes(),
            b".",
            req.body,
        ];
        let index =
            first_matching_key(&self.keys, &parts, &candidates).ok_or(VerifyError::Mismatch)?;
        // After the signature, so the timestamp we report is one the sender really signed.
        check_tolerance(timestamp, now, tolerance_secs)?;
        Ok(Verified {
            secret_index: Some(index),
            timestamp: Some(timestamp),
        })
    }

    pub(crate) fn sign(
        &self,
        req: &SignRequest<'_>,
        now: i64,
        id: Option<&str>,
    ) -> Result<Vec<(String, String)>, SignError> {
        let id = id.ok_or(SignError::MissingId)?;
        check_header_safe_id(id)?;
        let timestamp = now.to_string();
        let tag = self.keys[0].tag(&[id.as_bytes(), b".", timestamp.as_bytes(), b".", req.body]);
        Ok(vec![
            (ID.to_owned(), id.to_owned()),
            (TIMESTAMP.to_owned(), timestamp),
            (
                SIGNATURE.to_owned(),
                format!("v1,{}", tag.encode(Encoding::Base64)),
            ),
        ])
    }
}

/// `whsec_` is optional, as in the reference libraries (a secret copied without it still
/// works); what follows must be base64.
fn decode_secret(secret: &[u8]) -> Result<Vec<u8>, String> {
    let encoded = secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret);
    let key = BASE64.decode(encoded).map_err(|_| {
        "not base64 after the \"whsec_\" prefix (Standard Webhooks secrets are whsec_<base64>)"
            .to_owned()
    })?;
    if key.is_empty() {
        return Err("decodes to an empty key".to_owned());
    }
    Ok(key)
}
