//! Standard Webhooks (standardwebhooks.com, spec `standard-webhooks.md`, "Signature
//! scheme" and "Webhook headers"), and Svix, which sends the same scheme under `svix-*`
//! header names.
//!
//! Three headers: `webhook-id`, `webhook-timestamp` (unix seconds) and `webhook-signature`,
//! a space-delimited list of `<version>,<base64>` so that senders can sign with an old and
//! a new key during rotation. The signed content is `{id}.{timestamp}.{body}`.
//! - `v1` is HMAC-SHA256 with standard, padded base64. Secrets are `whsec_<base64>`; the
//!   key is the decoded bytes, as the reference libraries do.
//! - `v1a` is Ed25519 (the spec's asymmetric scheme): the configured secret is the
//!   sender's public key, `whpk_<base64 of 32 bytes>`, which can verify but not sign.
//!
//! Other versions are skipped, not rejected, since the spec lets one header carry several
//! schemes. Svix: the official `svix` libraries (`Webhook.verify`) read `svix-id`,
//! `svix-timestamp` and `svix-signature`, falling back to the unbranded `webhook-*` names;
//! so does [`SVIX`].

use base64::{engine::general_purpose::STANDARD as BASE64, Engine as _};
use ed25519_dalek::{Signature, VerifyingKey};

use crate::{
    mac::{decode_signature, KeyedMac, Tag},
    schemes::check_header_safe_id,
    verifier::keyed_macs,
    wire::{check_tolerance, malformed, optional_header, parse_unix_seconds, required_header},
    Algorithm, Encoding, KeyError, Provider, Request, SignError, SignRequest, Verified,
    VerifyError,
};

/// The three header names a flavour of the scheme uses.
#[derive(Debug)]
pub(crate) struct Names {
    pub(crate) id: &'static str,
    pub(crate) timestamp: &'static str,
    pub(crate) signature: &'static str,
}

pub(crate) const STANDARD: Names = Names {
    id: "webhook-id",
    timestamp: "webhook-timestamp",
    signature: "webhook-signature",
};

pub(crate) const SVIX: Names = Names {
    id: "svix-id",
    timestamp: "svix-timestamp",
    signature: "svix-signature",
};

const SECRET_PREFIX: &[u8] = b"whsec_";
const PUBLIC_KEY_PREFIX: &[u8] = b"whpk_";

// A source has a handful of keys, held for its lifetime; boxing the HMAC state would only
// add a pointer chase to every verification.
#[allow(clippy::large_enum_variant)]
#[derive(Clone)]
enum Key {
    Symmetric(KeyedMac),
    Public(VerifyingKey),
}

#[derive(Clone)]
pub(crate) struct Keys {
    provider: Provider,
    keys: Vec<Key>,
}

impl Keys {
    pub(crate) fn new(provider: Provider, secrets: &[&[u8]]) -> Result<Keys, KeyError> {
        let keys = secrets
            .iter()
            .enumerate()
            .map(|(index, secret)| {
                let bad = |reason| KeyError::BadSecret { index, reason };
                if let Some(encoded) = secret.strip_prefix(PUBLIC_KEY_PREFIX) {
                    return decode_public_key(encoded).map(Key::Public).map_err(bad);
                }
                let key = decode_secret(secret).map_err(bad)?;
                let mac = keyed_macs(Algorithm::Sha256, [key.as_slice()])
                    .map_err(|_| bad("not usable as an HMAC key".to_owned()))?;
                Ok(Key::Symmetric(mac.into_iter().next().ok_or_else(|| {
                    bad("not usable as an HMAC key".to_owned())
                })?))
            })
            .collect::<Result<_, _>>()?;
        Ok(Keys { provider, keys })
    }

    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }

    fn names(&self, req: &Request<'_>) -> Result<&'static Names, VerifyError> {
        if self.provider == Provider::Svix
            && optional_header(req.headers, SVIX.signature, SVIX.signature)?.is_some()
        {
            return Ok(&SVIX);
        }
        if self.provider == Provider::Svix
            && optional_header(req.headers, STANDARD.signature, STANDARD.signature)?.is_none()
        {
            return Ok(&SVIX);
        }
        Ok(&STANDARD)
    }

    pub(crate) fn verify(
        &self,
        req: &Request<'_>,
        now: i64,
        tolerance_secs: u64,
    ) -> Result<Verified, VerifyError> {
        let names = self.names(req)?;
        let signatures = required_header(req.headers, names.signature, names.signature)?;
        let id = required_header(req.headers, names.id, names.id)?;
        let raw_timestamp = required_header(req.headers, names.timestamp, names.timestamp)?;
        let timestamp = parse_unix_seconds(raw_timestamp, names.timestamp)?;

        let mut seen = false;
        let mut symmetric: Vec<Tag> = Vec::new();
        let mut asymmetric: Vec<Signature> = Vec::new();
        for entry in signatures.split(' ').filter(|e| !e.is_empty()) {
            match entry.split_once(',') {
                Some(("v1", signature)) => {
                    seen = true;
                    symmetric.extend(decode_signature(signature, Encoding::Base64, 32));
                }
                Some(("v1a", signature)) => {
                    seen = true;
                    asymmetric.extend(
                        decode_signature(signature, Encoding::Base64, 64)
                            .and_then(|tag| Signature::from_slice(tag.as_bytes()).ok()),
                    );
                }
                _ => {}
            }
        }
        if !seen {
            return Err(malformed(
                names.signature,
                "no v1,<base64> (HMAC-SHA256) or v1a,<base64> (Ed25519) signature",
            ));
        }
        if symmetric.is_empty() && asymmetric.is_empty() {
            return Err(malformed(
                names.signature,
                "signatures are not padded base64 of a 32-byte HMAC-SHA256 (v1) or a 64-byte Ed25519 signature (v1a)",
            ));
        }
        let parts: [&[u8]; 5] = [
            id.as_bytes(),
            b".",
            raw_timestamp.as_bytes(),
            b".",
            req.body,
        ];
        // Only built when an Ed25519 signature needs the message in one piece.
        let message = (!asymmetric.is_empty()).then(|| parts.concat());
        let index = self
            .keys
            .iter()
            .position(|key| match key {
                // Every candidate is compared, without short-circuiting, as in
                // `mac::first_matching_key`.
                Key::Symmetric(mac) => {
                    let expected = mac.tag(&parts);
                    symmetric
                        .iter()
                        .fold(false, |found, c| found | expected.matches(c))
                }
                Key::Public(key) => asymmetric.iter().any(|signature| {
                    message
                        .as_deref()
                        .is_some_and(|m| key.verify_strict(m, signature).is_ok())
                }),
            })
            .ok_or(VerifyError::Mismatch)?;
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
        let Key::Symmetric(mac) = &self.keys[0] else {
            return Err(SignError::VerifyOnly {
                provider: self.provider,
            });
        };
        let id = id.ok_or(SignError::MissingId)?;
        check_header_safe_id(id)?;
        let names = if self.provider == Provider::Svix {
            &SVIX
        } else {
            &STANDARD
        };
        let timestamp = now.to_string();
        let tag = mac.tag(&[id.as_bytes(), b".", timestamp.as_bytes(), b".", req.body]);
        Ok(vec![
            (names.id.to_owned(), id.to_owned()),
            (names.timestamp.to_owned(), timestamp),
            (
                names.signature.to_owned(),
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

fn decode_public_key(encoded: &[u8]) -> Result<VerifyingKey, String> {
    let bytes = BASE64.decode(encoded).ok();
    bytes
        .as_deref()
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .and_then(|b| VerifyingKey::from_bytes(&b).ok())
        .ok_or_else(|| {
            "not an Ed25519 public key after \"whpk_\" (expected the base64 of 32 bytes)".to_owned()
        })
}
