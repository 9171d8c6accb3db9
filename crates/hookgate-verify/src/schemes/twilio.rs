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
    schemes::token::decode_form,
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
        // The URL as given first: it is what Twilio signs unless a port was added or
        // dropped on the way, so the other form (with the port if it had none, without if it
        // had one) is built, and costs an HMAC, only for those requests. Which form matched
        // is not secret, so stopping early leaks nothing.
        let mut index =
            first_matching_key(&self.keys, &[req.url.as_bytes(), &params], &[candidate]);
        if index.is_none() {
            let other = match url.port {
                Some(_) => url.without_port(),
                None => url.with_port(),
            };
            index = first_matching_key(&self.keys, &[other.as_bytes(), &params], &[candidate]);
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
        let parts: [&[u8]; 2] = [req.url.as_bytes(), &params];
        let tag = self.keys[0].tag(&parts);
        Ok(vec![(HEADER.to_owned(), tag.encode(Encoding::Base64))])
    }
}

/// The form parameters that are signed, sorted; none when the body is carried by
/// `bodySHA256` (after checking that hash).
/// The form parameters that are signed, sorted and concatenated (`name value name value…`,
/// no delimiters); empty when the body is carried by `bodySHA256` (after checking that
/// hash). One buffer holds every decoded field and one the result: a form of a hundred
/// fields costs two allocations, not two hundred.
fn signed_params(url: &str, body: &[u8]) -> Result<Vec<u8>, VerifyError> {
    if let Some(expected) = crate::schemes::token::query_value(url, BODY_HASH_PARAM) {
        // Either case of hex (Twilio sends lower case); a wrong length or a non-hex digit
        // is simply a mismatch. Compared in constant time anyway.
        let mut decoded = [0u8; 32];
        let matches = hex::decode_to_slice(&expected, &mut decoded).is_ok()
            && bool::from(Sha256::digest(body)[..].ct_eq(&decoded[..]));
        if !matches {
            return Err(VerifyError::Mismatch);
        }
        return Ok(Vec::new());
    }
    let text = std::str::from_utf8(body).map_err(|_| VerifyError::MalformedBody {
        reason: "Twilio form bodies are UTF-8 application/x-www-form-urlencoded; a JSON body needs the bodySHA256 query parameter".to_owned(),
    })?;
    let (decoded, ranges) = decode_form(text.as_bytes());
    // Sorting compares a name's first eight bytes as one integer before comparing bytes:
    // most names differ early, and a form then sorts without a memcmp call per comparison.
    let mut pairs: Vec<(u64, &[u8], &[u8])> = ranges
        .into_iter()
        .map(|(name, value)| {
            let name = &decoded[name];
            let mut head = [0u8; 8];
            let len = name.len().min(8);
            head[..len].copy_from_slice(&name[..len]);
            (u64::from_be_bytes(head), name, &decoded[value])
        })
        .collect();
    // Identical name=value pairs count once: twilio-python's `compute_signature` iterates
    // `sorted(set(values))`, and twilio-php's `testValidateWithArrayAndDuplicates` pins it.
    pairs.sort_unstable();
    pairs.dedup();
    let mut signed = Vec::with_capacity(decoded.len());
    for (_, name, value) in &pairs {
        signed.extend_from_slice(name);
        signed.extend_from_slice(value);
    }
    Ok(signed)
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
