//! Twilio: `X-Twilio-Signature: <base64 HMAC-SHA1(auth token, url + sorted params)>`.
//!
//! Follows Twilio docs, "Webhooks security" → "Validating signatures from Twilio", and the
//! official helper libraries' `RequestValidator.validate` (twilio-python
//! `twilio/request_validator.py`, twilio-node `webhooks.validateRequest`):
//! - The signed content is the full URL Twilio requested (scheme, host, path and query),
//!   then, for `application/x-www-form-urlencoded` POSTs, every parameter sorted by name
//!   (byte order, "Unix-style case-sensitive sorting") and, for repeated names, by value
//!   with identical pairs counted once (as the SDKs do), each appended as name then value
//!   with no delimiters. Values are form-decoded first.
//! - Twilio may or may not have included the port: the SDKs accept the signature over the
//!   URL without any port and over the URL with the port (the default `:443`/`:80` added
//!   when absent), and so do we.
//! - JSON bodies are not parsed: Twilio adds a `bodySHA256` query parameter, the hex
//!   SHA-256 of the raw body, which must match, and signs the URL including it.
//!
//! [`crate::Request::url`] must therefore be the full public URL Twilio called
//! (`https://host/path?query`), as it appears in the webhook's configuration, not the path
//! the server saw behind a proxy. There is no timestamp; dedup on
//! `I-Twilio-Idempotency-Token` is the replay protection.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::{
    mac::{decode_signature, first_matching_key, KeyedMac},
    schemes::token::{form_decode, form_pairs},
    verifier::keyed_macs,
    wire::{malformed, required_header},
    Algorithm, Encoding, KeyError, Request, SignError, SignRequest, Verified, VerifyError,
};

pub(crate) const HEADER: &str = "X-Twilio-Signature";
const BODY_HASH_PARAM: &str = "bodySHA256";

#[derive(Clone)]
pub(crate) struct Keys {
    keys: Vec<KeyedMac>,
}

impl Keys {
    pub(crate) fn new(secrets: &[&[u8]]) -> Result<Keys, KeyError> {
        Ok(Keys {
            keys: keyed_macs(Algorithm::Sha1, secrets.iter().copied())?,
        })
    }

    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }

    pub(crate) fn verify(&self, req: &Request<'_>) -> Result<Verified, VerifyError> {
        let value = required_header(req.headers, HEADER, HEADER)?;
        let candidate = decode_signature(value, Encoding::Base64, 20).ok_or_else(|| {
            malformed(HEADER, "expected the padded base64 of a 20-byte HMAC-SHA1")
        })?;
        let Some(url) = Url::parse(req.url) else {
            return Err(malformed(
                HEADER,
                "cannot be checked: Twilio signs the full public URL (scheme://host/path?query), and the request URL given is not one",
            ));
        };
        let params = signed_params(req.url, req.body)?;
        let mut index = None;
        for variant in [url.without_port(), url.with_port()] {
            let mut parts: Vec<&[u8]> = Vec::with_capacity(1 + 2 * params.len());
            parts.push(variant.as_bytes());
            for (name, value) in &params {
                parts.push(name);
                parts.push(value);
            }
            index = index.or(first_matching_key(&self.keys, &parts, &[candidate]));
        }
        Ok(Verified {
            secret_index: Some(index.ok_or(VerifyError::Mismatch)?),
            timestamp: None,
        })
    }

    /// Signs `req.url` exactly as given; for a JSON body, give a URL that already carries
    /// `bodySHA256=<hex SHA-256 of the body>`, as Twilio's does.
    pub(crate) fn sign(&self, req: &SignRequest<'_>) -> Result<Vec<(String, String)>, SignError> {
        let params = signed_params(req.url, req.body).map_err(|err| SignError::BadRequest {
            reason: match err {
                VerifyError::Mismatch => {
                    "the URL's bodySHA256 is not the SHA-256 of the body".to_owned()
                }
                other => other.to_string(),
            },
        })?;
        let mut parts: Vec<&[u8]> = vec![req.url.as_bytes()];
        for (name, value) in &params {
            parts.push(name);
            parts.push(value);
        }
        let tag = self.keys[0].tag(&parts);
        Ok(vec![(HEADER.to_owned(), tag.encode(Encoding::Base64))])
    }
}

/// The form parameters that are signed, sorted; none when the body is carried by
/// `bodySHA256` (after checking that hash).
/// Decoded `(name, value)` form parameters.
type Params = Vec<(Vec<u8>, Vec<u8>)>;

fn signed_params(url: &str, body: &[u8]) -> Result<Params, VerifyError> {
    if let Some(expected) = crate::schemes::token::query_value(url, BODY_HASH_PARAM) {
        let actual = hex::encode(Sha256::digest(body));
        // Either case of hex: Twilio sends lower case; compared in constant time anyway.
        let expected = expected.to_ascii_lowercase();
        if !bool::from(actual.as_bytes().ct_eq(&expected)) {
            return Err(VerifyError::Mismatch);
        }
        return Ok(Vec::new());
    }
    let text = std::str::from_utf8(body).map_err(|_| VerifyError::MalformedBody {
        reason: "Twilio form bodies are UTF-8 application/x-www-form-urlencoded; a JSON body needs the bodySHA256 query parameter".to_owned(),
    })?;
    let mut params: Params = form_pairs(text)
        .map(|(name, value)| (form_decode(name), form_decode(value)))
        .collect();
    // Identical name=value pairs count once: twilio-python's `compute_signature` iterates
    // `sorted(set(values))`, and twilio-php's `testValidateWithArrayAndDuplicates` pins it.
    params.sort();
    params.dedup();
    Ok(params)
}

/// An absolute `http`/`https` URL split just enough to add or drop the port.
struct Url<'u> {
    scheme: &'u str,
    host: &'u str,
    port: Option<&'u str>,
    rest: &'u str,
}

impl<'u> Url<'u> {
    fn parse(url: &'u str) -> Option<Url<'u>> {
        let (scheme, after) = url.split_once("://")?;
        if !scheme.eq_ignore_ascii_case("https") && !scheme.eq_ignore_ascii_case("http") {
            return None;
        }
        let end = after.find(['/', '?', '#']).unwrap_or(after.len());
        let (authority, rest) = after.split_at(end);
        // A `]` closes an IPv6 literal, whose colons are not a port separator.
        let port_at = authority
            .rfind(':')
            .filter(|at| !authority[*at..].contains(']'));
        let (host, port) = match port_at {
            Some(at) => (&authority[..at], Some(&authority[at + 1..])),
            None => (authority, None),
        };
        (!host.is_empty()).then_some(Url {
            scheme,
            host,
            port,
            rest,
        })
    }

    fn without_port(&self) -> String {
        format!("{}://{}{}", self.scheme, self.host, self.rest)
    }

    fn with_port(&self) -> String {
        let default = if self.scheme.eq_ignore_ascii_case("https") {
            "443"
        } else {
            "80"
        };
        let port = self.port.unwrap_or(default);
        format!("{}://{}:{port}{}", self.scheme, self.host, self.rest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_added_and_dropped() {
        let url = Url::parse("https://example.com/a?b=1").unwrap();
        assert_eq!(url.without_port(), "https://example.com/a?b=1");
        assert_eq!(url.with_port(), "https://example.com:443/a?b=1");
        let url = Url::parse("http://example.com:8080").unwrap();
        assert_eq!(url.without_port(), "http://example.com");
        assert_eq!(url.with_port(), "http://example.com:8080");
        let url = Url::parse("https://[::1]/x").unwrap();
        assert_eq!(url.with_port(), "https://[::1]:443/x");
        assert!(Url::parse("/in/twilio").is_none());
        assert!(Url::parse("ftp://example.com/").is_none());
    }
}
