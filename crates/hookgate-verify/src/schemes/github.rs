//! GitHub: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, body)>`.
//!
//! Follows GitHub Docs, "Validating webhook deliveries": the signature is an HMAC hex
//! digest of the raw payload with the webhook secret as key, prefixed `sha256=`, and
//! should be compared in constant time. The legacy `X-Hub-Signature: sha1=<hex>` header
//! ("only for compatibility with existing integrations", GitHub Docs "Webhook events and
//! payloads") is accepted only when the SHA-256 header is absent: some relays and older
//! GitHub Enterprise Server releases send only it. That is no downgrade an attacker can
//! use, since forging HMAC-SHA1 without the key is still infeasible. There is no timestamp,
//! so no replay window: dedup on `X-GitHub-Delivery` is the protection.

use crate::{
    mac::{decode_signature, first_matching_key, KeyedMac},
    schemes::check_header_safe_id,
    verifier::keyed_macs,
    wire::{malformed, optional_header},
    Algorithm, Encoding, KeyError, Request, SignError, SignRequest, Verified, VerifyError,
};

pub(crate) const SIGNATURE_256: &str = "X-Hub-Signature-256";
pub(crate) const SIGNATURE_SHA1: &str = "X-Hub-Signature";
pub(crate) const DELIVERY: &str = "X-GitHub-Delivery";

#[derive(Clone)]
pub(crate) struct Keys {
    sha256: Vec<KeyedMac>,
    sha1: Vec<KeyedMac>,
}

impl Keys {
    pub(crate) fn new(secrets: &[&[u8]]) -> Result<Keys, KeyError> {
        Ok(Keys {
            sha256: keyed_macs(Algorithm::Sha256, secrets.iter().copied())?,
            sha1: keyed_macs(Algorithm::Sha1, secrets.iter().copied())?,
        })
    }

    pub(crate) fn len(&self) -> usize {
        self.sha256.len()
    }

    pub(crate) fn verify(&self, req: &Request<'_>) -> Result<Verified, VerifyError> {
        if let Some(value) = optional_header(req.headers, "x-hub-signature-256", SIGNATURE_256)? {
            return check(
                value,
                SIGNATURE_256,
                Algorithm::Sha256,
                &self.sha256,
                req.body,
            );
        }
        if let Some(value) = optional_header(req.headers, "x-hub-signature", SIGNATURE_SHA1)? {
            return check(value, SIGNATURE_SHA1, Algorithm::Sha1, &self.sha1, req.body);
        }
        Err(VerifyError::MissingHeader {
            header: SIGNATURE_256.to_owned(),
        })
    }

    /// Headers in the order GitHub's documented example delivery shows them.
    pub(crate) fn sign(
        &self,
        req: &SignRequest<'_>,
        id: Option<&str>,
    ) -> Result<Vec<(String, String)>, SignError> {
        let mut headers = Vec::with_capacity(3);
        if let Some(id) = id {
            check_header_safe_id(id)?;
            headers.push((DELIVERY.to_owned(), id.to_owned()));
        }
        for (name, algorithm, keys) in [
            (SIGNATURE_SHA1, Algorithm::Sha1, &self.sha1),
            (SIGNATURE_256, Algorithm::Sha256, &self.sha256),
        ] {
            let tag = keys[0].tag(&[req.body]);
            headers.push((
                name.to_owned(),
                format!("{}={}", algorithm.as_str(), tag.encode(Encoding::Hex)),
            ));
        }
        Ok(headers)
    }
}

fn check(
    value: &str,
    header: &str,
    algorithm: Algorithm,
    keys: &[KeyedMac],
    body: &[u8],
) -> Result<Verified, VerifyError> {
    let name = algorithm.as_str();
    let Some(hex) = value.strip_prefix(name).and_then(|v| v.strip_prefix('=')) else {
        return Err(malformed(header, format!("expected {name}=<hex>")));
    };
    let Some(candidate) = decode_signature(hex, Encoding::Hex, algorithm.output_len()) else {
        return Err(malformed(
            header,
            format!(
                "expected {name}= followed by {} hex digits",
                2 * algorithm.output_len()
            ),
        ));
    };
    match first_matching_key(keys, &[body], &[candidate]) {
        Some(index) => Ok(Verified {
            secret_index: Some(index),
            timestamp: None,
        }),
        None => Err(VerifyError::Mismatch),
    }
}
