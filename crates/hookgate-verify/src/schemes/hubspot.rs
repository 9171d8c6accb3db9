//! HubSpot: three signature versions, chosen by what the request carries.
//!
//! Follows HubSpot Developers, "Validating requests from HubSpot" (and the official
//! `@hubspot/api-client` `Signature.isValid`, `signatureVersion` v1/v2/v3):
//! - v3: `X-HubSpot-Signature-v3: <base64 HMAC-SHA256(client secret, method + uri + body +
//!   timestamp)>`, the timestamp being `X-HubSpot-Request-Timestamp` in unix
//!   **milliseconds**; requests older than 5 minutes are refused. The URI is the full URL
//!   with the percent-escapes HubSpot lists decoded (`%3A` `%2F` `%3F` `%40` `%21` `%24`
//!   `%27` `%28` `%29` `%2A` `%2C` `%3B`).
//! - v1: `X-HubSpot-Signature: <hex SHA-256(client secret + body)>` with
//!   `X-HubSpot-Signature-Version: v1` (a plain hash, not an HMAC).
//! - v2: the same header, `v2`, over `client secret + method + uri + body`.
//!
//! v1 and v2 carry no timestamp. [`crate::Request::url`] must be the full public URL
//! HubSpot called (`https://host/path?query`).

use base64::{engine::general_purpose::STANDARD as BASE64, Engine as _};
use sha2::{Digest, Sha256};

use crate::{
    mac::{decode_signature, first_matching_key, KeyedMac, Tag},
    verifier::keyed_macs,
    wire::{malformed, optional_header, parse_unix_seconds, required_header},
    Algorithm, Encoding, KeyError, Request, SignRequest, Verified, VerifyError,
};

pub(crate) const SIGNATURE_V3: &str = "X-HubSpot-Signature-v3";
pub(crate) const TIMESTAMP: &str = "X-HubSpot-Request-Timestamp";
pub(crate) const SIGNATURE: &str = "X-HubSpot-Signature";
pub(crate) const VERSION: &str = "X-HubSpot-Signature-Version";

#[derive(Clone)]
pub(crate) struct Keys {
    macs: Vec<KeyedMac>,
    /// SHA-256 states with the secret already absorbed, for v1 and v2.
    hashes: Vec<Sha256>,
}

impl Keys {
    pub(crate) fn new(secrets: &[&[u8]]) -> Result<Keys, KeyError> {
        Ok(Keys {
            macs: keyed_macs(Algorithm::Sha256, secrets.iter().copied())?,
            hashes: secrets.iter().map(Sha256::new_with_prefix).collect(),
        })
    }

    pub(crate) fn len(&self) -> usize {
        self.macs.len()
    }

    pub(crate) fn verify(
        &self,
        req: &Request<'_>,
        now: i64,
        tolerance_secs: u64,
    ) -> Result<Verified, VerifyError> {
        if let Some(value) = optional_header(req.headers, SIGNATURE_V3, SIGNATURE_V3)? {
            return self.verify_v3(req, value, now, tolerance_secs);
        }
        let value = required_header(req.headers, SIGNATURE, SIGNATURE)?;
        let version = required_header(req.headers, VERSION, VERSION)?;
        let candidate = decode_signature(value, Encoding::Hex, 32)
            .ok_or_else(|| malformed(SIGNATURE, "expected 64 hex digits of a SHA-256"))?;
        let parts: Vec<&[u8]> = match version {
            "v1" => vec![req.body],
            "v2" => vec![req.method.as_bytes(), req.url.as_bytes(), req.body],
            _ => {
                return Err(malformed(
                    VERSION,
                    "expected v1 or v2 (v3 signatures come in X-HubSpot-Signature-v3)",
                ))
            }
        };
        let index = self
            .hashes
            .iter()
            .position(|state| {
                let mut state = state.clone();
                for part in &parts {
                    state.update(part);
                }
                Tag::from_slice(&state.finalize()).matches(&candidate)
            })
            .ok_or(VerifyError::Mismatch)?;
        Ok(Verified {
            secret_index: Some(index),
            timestamp: None,
        })
    }

    fn verify_v3(
        &self,
        req: &Request<'_>,
        value: &str,
        now: i64,
        tolerance_secs: u64,
    ) -> Result<Verified, VerifyError> {
        let candidate = decode_signature(value, Encoding::Base64, 32).ok_or_else(|| {
            malformed(
                SIGNATURE_V3,
                "expected the padded base64 of a 32-byte HMAC-SHA256",
            )
        })?;
        let raw = required_header(req.headers, TIMESTAMP, TIMESTAMP)?;
        let millis = parse_unix_seconds(raw, TIMESTAMP)?;
        let uri = decode_uri(req.url);
        let parts: [&[u8]; 4] = [
            req.method.as_bytes(),
            uri.as_bytes(),
            req.body,
            raw.as_bytes(),
        ];
        let index =
            first_matching_key(&self.macs, &parts, &[candidate]).ok_or(VerifyError::Mismatch)?;
        let timestamp = millis.div_euclid(1000);
        let skew = (i128::from(now) * 1000 - i128::from(millis)).unsigned_abs();
        if skew > u128::from(tolerance_secs) * 1000 {
            return Err(VerifyError::TimestampOutOfTolerance {
                timestamp,
                now,
                tolerance_secs,
            });
        }
        Ok(Verified {
            secret_index: Some(index),
            timestamp: Some(timestamp),
        })
    }

    /// v3, the version HubSpot sends today.
    pub(crate) fn sign(&self, req: &SignRequest<'_>, now: i64) -> Vec<(String, String)> {
        let millis = (i128::from(now) * 1000).to_string();
        let uri = decode_uri(req.url);
        let tag = self.macs[0].tag(&[
            req.method.as_bytes(),
            uri.as_bytes(),
            req.body,
            millis.as_bytes(),
        ]);
        vec![
            (TIMESTAMP.to_owned(), millis),
            (SIGNATURE_V3.to_owned(), BASE64.encode(tag.as_bytes())),
        ]
    }
}

/// Decodes exactly the escapes HubSpot's v3 instructions list, leaving every other `%XX`
/// as sent.
fn decode_uri(url: &str) -> String {
    const DECODED: [(&str, char); 12] = [
        ("3A", ':'),
        ("2F", '/'),
        ("3F", '?'),
        ("40", '@'),
        ("21", '!'),
        ("24", '$'),
        ("27", '\''),
        ("28", '('),
        ("29", ')'),
        ("2A", '*'),
        ("2C", ','),
        ("3B", ';'),
    ];
    let mut out = String::with_capacity(url.len());
    let mut rest = url;
    while let Some(at) = rest.find('%') {
        out.push_str(&rest[..at]);
        let escape = rest.get(at + 1..at + 3);
        match DECODED
            .iter()
            .find(|(code, _)| escape.is_some_and(|e| e.eq_ignore_ascii_case(code)))
        {
            Some((_, c)) => {
                out.push(*c);
                rest = &rest[at + 3..];
            }
            None => {
                out.push('%');
                rest = &rest[at + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_listed_escapes_are_decoded() {
        assert_eq!(
            decode_uri("https://h.example/a%3Ab?x=%2f%20%40%"),
            "https://h.example/a:b?x=/%20@%"
        );
    }
}
