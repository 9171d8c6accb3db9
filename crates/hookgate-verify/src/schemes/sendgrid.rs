//! SendGrid (Twilio SendGrid signed Event Webhook): ECDSA P-256 with SHA-256 over
//! `timestamp + body`.
//!
//! Follows SendGrid docs, "Getting Started with the Event Webhook Security Features" →
//! "Signature verification", and the official `@sendgrid/eventwebhook`
//! (`EventWebhook.verifySignature`) and sendgrid-python `EventWebhook.verify_signature`:
//! the signed content is `X-Twilio-Email-Event-Webhook-Timestamp` followed by the raw body
//! exactly as received, trailing `\r\n` included; `X-Twilio-Email-Event-Webhook-Signature`
//! is the base64 of a DER-encoded ECDSA signature. The configured secret is the
//! "Verification Key" SendGrid shows: the base64 of a DER SubjectPublicKeyInfo (PEM armour
//! is tolerated). High-S signatures are accepted, as those SDKs accept them. SendGrid
//! documents no replay window; the default five minutes applies. Being a public key, the
//! secret cannot sign: `sign` answers [`crate::SignError::VerifyOnly`].

use base64::{engine::general_purpose::STANDARD as BASE64, Engine as _};
use p256::{
    ecdsa::{signature::Verifier as _, Signature, VerifyingKey},
    pkcs8::DecodePublicKey,
    PublicKey,
};

use crate::{
    wire::{check_tolerance, malformed, parse_unix_seconds, required_header},
    KeyError, Request, Verified, VerifyError,
};

pub(crate) const SIGNATURE: &str = "X-Twilio-Email-Event-Webhook-Signature";
pub(crate) const TIMESTAMP: &str = "X-Twilio-Email-Event-Webhook-Timestamp";

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
                decode_key(secret).ok_or_else(|| KeyError::BadSecret {
                    index,
                    reason: "not a P-256 public key (SendGrid's verification key is the base64 of a DER SubjectPublicKeyInfo)".to_owned(),
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
        let signature = BASE64
            .decode(value)
            .ok()
            .and_then(|der| Signature::from_der(&der).ok())
            .ok_or_else(|| {
                malformed(
                    SIGNATURE,
                    "expected the base64 of a DER-encoded ECDSA signature",
                )
            })?;
        let signature = signature.normalize_s().unwrap_or(signature);
        let message = [raw.as_bytes(), req.body].concat();
        let index = self
            .keys
            .iter()
            .position(|key| key.verify(&message, &signature).is_ok())
            .ok_or(VerifyError::Mismatch)?;
        check_tolerance(timestamp, now, tolerance_secs)?;
        Ok(Verified {
            secret_index: Some(index),
            timestamp: Some(timestamp),
        })
    }
}

fn decode_key(secret: &[u8]) -> Option<VerifyingKey> {
    let text = std::str::from_utf8(secret).ok()?;
    let base64: String = text
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .flat_map(|line| line.chars().filter(|c| !c.is_ascii_whitespace()))
        .collect();
    let der = BASE64.decode(base64).ok()?;
    let key = PublicKey::from_public_key_der(&der).ok()?;
    Some(VerifyingKey::from(&key))
}
