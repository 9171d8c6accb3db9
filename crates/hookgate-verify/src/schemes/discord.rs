//! Discord interactions: `X-Signature-Ed25519: <hex Ed25519 signature of timestamp + body>`.
//!
//! Follows Discord Developer docs, "Interactions" → "Receiving an interaction" → "Security
//! and authorization": the signature covers `X-Signature-Timestamp` followed by the raw
//! body, made with Discord's key for the application and checked with the application's
//! **public key** (64 hex digits in the Developer Portal), which is the configured
//! secret. This is what the official `discord-interactions` libraries' `verifyKey` does.
//! Discord documents no replay window; the default five minutes applies. Being a public
//! key, the secret cannot sign: `sign` answers [`crate::SignError::VerifyOnly`].

use ed25519_dalek::{Signature, VerifyingKey};

use crate::{
    wire::{check_tolerance, malformed, parse_unix_seconds, required_header},
    KeyError, Request, Verified, VerifyError,
};

pub(crate) const SIGNATURE: &str = "X-Signature-Ed25519";
pub(crate) const TIMESTAMP: &str = "X-Signature-Timestamp";

#[derive(Clone)]
pub(crate) struct Keys {
    keys: Vec<VerifyingKey>,
}

impl Keys {
    pub(crate) fn new(secrets: &[&[u8]]) -> Result<Keys, KeyError> {
        let keys = secrets
            .iter()
            .enumerate()
            .map(|(index, secret)| {
                let mut bytes = [0u8; 32];
                hex::decode_to_slice(secret.trim_ascii(), &mut bytes)
                    .ok()
                    .and_then(|()| VerifyingKey::from_bytes(&bytes).ok())
                    .ok_or_else(|| KeyError::BadSecret {
                        index,
                        reason: "not an Ed25519 public key (Discord's application public key is 64 hex digits)".to_owned(),
                    })
            })
            .collect::<Result<_, _>>()?;
        Ok(Keys { keys })
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
        let value = required_header(req.headers, SIGNATURE, SIGNATURE)?;
        let raw = required_header(req.headers, TIMESTAMP, TIMESTAMP)?;
        let timestamp = parse_unix_seconds(raw, TIMESTAMP)?;
        let mut bytes = [0u8; 64];
        hex::decode_to_slice(value, &mut bytes)
            .map_err(|_| malformed(SIGNATURE, "expected 128 hex digits of an Ed25519 signature"))?;
        let signature = Signature::from_bytes(&bytes);
        let message = [raw.as_bytes(), req.body].concat();
        let index = self
            .keys
            .iter()
            .position(|key| key.verify_strict(&message, &signature).is_ok())
            .ok_or(VerifyError::Mismatch)?;
        check_tolerance(timestamp, now, tolerance_secs)?;
        Ok(Verified {
            secret_index: Some(index),
            timestamp: Some(timestamp),
        })
    }
}
