//! Shared tokens: the secret itself, in a header (`Authorization: Bearer <token>`) or in
//! the URL's query string (`/in/x?token=<token>`), for senders that cannot sign.
//!
//! Tokens are compared as SHA-256 digests: comparing fixed-length digests in constant time
//! hides the token's length too, which a direct comparison of unequal-length byte strings
//! would reveal. Query values are decoded as `application/x-www-form-urlencoded` (WHATWG
//! URL standard, "urlencoded parsing": `+` is a space, `%XX` a byte, and a malformed `%`
//! stays literal), which is how senders' HTTP libraries encode them.

use http::HeaderName;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::{
    wire::{malformed, required_header},
    KeyError, Request, SignError, TokenOptions, Verified, VerifyError,
};

#[derive(Clone)]
pub(crate) struct Prepared {
    digests: Vec<[u8; 32]>,
    location: Location,
}

#[derive(Clone)]
enum Location {
    Header {
        name: HeaderName,
        display: String,
        prefix: Option<String>,
    },
    Query {
        param: String,
    },
}

impl Prepared {
    pub(crate) fn new(options: TokenOptions, secrets: &[&[u8]]) -> Result<Prepared, KeyError> {
        let bad = |reason: &str| KeyError::BadOptions {
            reason: format!("token: {reason}"),
        };
        let location = match (options.header, options.query) {
            (Some(display), None) => Location::Header {
                name: HeaderName::from_bytes(display.as_bytes()).map_err(|_| {
                    bad(&format!(
                        "header {display:?} is not a valid HTTP header name"
                    ))
                })?,
                display,
                prefix: options.prefix.filter(|p| !p.is_empty()),
            },
            (None, Some(param)) => {
                if param.is_empty() {
                    return Err(bad("query parameter name is empty"));
                }
                if options.prefix.is_some() {
                    return Err(bad("prefix applies only to a token in a header"));
                }
                Location::Query { param }
            }
            (Some(_), Some(_)) | (None, None) => {
                return Err(bad("set exactly one of header and query"));
            }
        };
        Ok(Prepared {
            digests: secrets.iter().map(|s| digest(s)).collect(),
            location,
        })
    }

    pub(crate) fn len(&self) -> usize {
        self.digests.len()
    }

    pub(crate) fn verify(&self, req: &Request<'_>) -> Result<Verified, VerifyError> {
        let presented = match &self.location {
            Location::Header {
                name,
                display,
                prefix,
            } => {
                let value = required_header(req.headers, name, display)?;
                let token = match prefix {
                    Some(prefix) => strip_prefix_ignore_case(value, prefix)
                        .ok_or_else(|| malformed(display, format!("expected {prefix}<token>")))?,
                    None => value,
                };
                if token.is_empty() {
                    return Err(malformed(display, "empty token"));
                }
                digest(token.as_bytes())
            }
            Location::Query { param } => match query_value(req.url, param) {
                Some(token) if !token.is_empty() => digest(&token),
                _ => {
                    return Err(VerifyError::MissingToken {
                        param: param.clone(),
                    })
                }
            },
        };
        let index = self
            .digests
            .iter()
            .position(|expected| bool::from(expected.ct_eq(&presented)))
            .ok_or(VerifyError::TokenMismatch)?;
        Ok(Verified {
            secret_index: Some(index),
            timestamp: None,
        })
    }

    pub(crate) fn sign(&self, secret: &[u8]) -> Result<Vec<(String, String)>, SignError> {
        match &self.location {
            Location::Header {
                display, prefix, ..
            } => {
                let token = std::str::from_utf8(secret)
                    .ok()
                    .filter(|t| t.bytes().all(|b| b.is_ascii_graphic()))
                    .ok_or(SignError::SecretNotHeaderSafe)?;
                Ok(vec![(
                    display.clone(),
                    format!("{}{token}", prefix.as_deref().unwrap_or("")),
                )])
            }
            Location::Query { param } => Err(SignError::QueryToken {
                param: param.clone(),
            }),
        }
    }
}

pub(crate) fn digest(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

fn strip_prefix_ignore_case<'v>(value: &'v str, prefix: &str) -> Option<&'v str> {
    let head = value.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &value[prefix.len()..])
}

/// The decoded value of the first `param` in `url`'s query, or `None` if it is absent.
/// `url` may be absolute or just path and query; a fragment is never part of the query.
pub(crate) fn query_value(url: &str, param: &str) -> Option<Vec<u8>> {
    let url = url.split_once('#').map_or(url, |(before, _)| before);
    let (_, query) = url.split_once('?')?;
    form_pairs(query)
        .find(|(key, _)| form_decode(key) == param.as_bytes())
        .map(|(_, value)| form_decode(value))
}

/// The raw `name=value` pairs of a query string or form body, empty segments skipped.
pub(crate) fn form_pairs(text: &str) -> impl Iterator<Item = (&str, &str)> {
    text.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| pair.split_once('=').unwrap_or((pair, "")))
}

pub(crate) fn form_decode(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let high = bytes.get(i + 1).and_then(|b| hex_value(*b));
                let low = bytes.get(i + 2).and_then(|b| hex_value(*b));
                if let (Some(high), Some(low)) = (high, low) {
                    out.push(high << 4 | low);
                    i += 3;
                    continue;
                }
                out.push(b'%');
            }
            other => out.push(other),
        }
        i += 1;
    }
    out
}

fn hex_value(digit: u8) -> Option<u8> {
    char::from(digit)
        .to_digit(16)
        .and_then(|v| u8::try_from(v).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_parsing() {
        assert_eq!(
            query_value("/in/x?token=abc", "token"),
            Some(b"abc".to_vec())
        );
        assert_eq!(
            query_value(
                "https://h.example/in/x?a=1&token=a%2Bb+c&token=second#frag",
                "token"
            ),
            Some(b"a+b c".to_vec())
        );
        assert_eq!(
            query_value("/in/x?token=abc#x", "token"),
            Some(b"abc".to_vec())
        );
        assert_eq!(query_value("/in/x?tok%65n=v", "token"), Some(b"v".to_vec()));
        assert_eq!(query_value("/in/x?token", "token"), Some(Vec::new()));
        assert_eq!(query_value("/in/x?other=1", "token"), None);
        assert_eq!(query_value("/in/x#?token=1", "token"), None);
        assert_eq!(query_value("/in/x", "token"), None);
    }

    #[test]
    fn malformed_percent_stays_literal() {
        assert_eq!(form_decode("%zz%4"), b"%zz%4".to_vec());
        assert_eq!(form_decode("%41%e2%82%ac"), "A€".as_bytes().to_vec());
    }

    #[test]
    fn prefixes_ignore_case() {
        assert_eq!(
            strip_prefix_ignore_case("bearer abc", "Bearer "),
            Some("abc")
        );
        assert_eq!(strip_prefix_ignore_case("Basic abc", "Bearer "), None);
        assert_eq!(strip_prefix_ignore_case("Bear", "Bearer "), None);
    }
}
