//! Shared tokens: the secret itself, in a header (`Authorization: Bearer <token>`), in the
//! URL's query string (`/in/x?token=<token>`) or as its last path segment
//! (`/in/x/<token>`), and HTTP Basic credentials (RFC 7617), for senders that cannot sign.
//!
//! Because the secret itself travels in the request, [`Prepared::redact_url`] and
//! [`Prepared::secret_header`] say where, so that nothing stored or logged keeps it.
//!
//! Tokens are compared as SHA-256 digests: comparing fixed-length digests in constant time
//! hides the token's length too, which a direct comparison of unequal-length byte strings
//! would reveal. Query values are decoded as `application/x-www-form-urlencoded` (WHATWG
//! URL standard, "urlencoded parsing": `+` is a space, `%XX` a byte, and a malformed `%`
//! stays literal), which is how senders' HTTP libraries encode them.

use base64::Engine as _;
use http::HeaderName;
use sha2::{Digest, Sha256};
use std::{borrow::Cow, ops::Range};
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
    /// The last segment of the URL's path.
    Path,
    /// `Authorization: Basic base64(user:password)`; digests are of `user:password`.
    Basic,
}

impl Prepared {
    pub(crate) fn new(options: TokenOptions, secrets: &[&[u8]]) -> Result<Prepared, KeyError> {
        let bad = |reason: &str| KeyError::BadOptions {
            reason: format!("token: {reason}"),
        };
        let location = match (options.header, options.query) {
            (None, None) if options.path => {
                if options.prefix.is_some() {
                    return Err(bad("prefix applies only to a token in a header"));
                }
                Location::Path
            }
            _ if options.path => return Err(bad("set exactly one of header, query and path")),
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

    /// HTTP Basic authentication: each secret is `user:password`.
    pub(crate) fn basic(secrets: &[&[u8]]) -> Result<Prepared, KeyError> {
        if let Some(index) = secrets.iter().position(|s| !s.contains(&b':')) {
            return Err(KeyError::BadSecret {
                index,
                reason: "basic credentials are written user:password".to_owned(),
            });
        }
        Ok(Prepared {
            digests: secrets.iter().map(|s| digest(s)).collect(),
            location: Location::Basic,
        })
    }

    pub(crate) fn len(&self) -> usize {
        self.digests.len()
    }

    /// The header that carries the secret itself, if any.
    pub(crate) fn secret_header(&self) -> Option<&HeaderName> {
        match &self.location {
            Location::Header { name, .. } => Some(name),
            Location::Basic => Some(&http::header::AUTHORIZATION),
            Location::Query { .. } | Location::Path => None,
        }
    }

    /// `url` with the token replaced by `***` when the token travels in it.
    pub(crate) fn redact_url(&self, url: &str) -> Option<String> {
        let (before_fragment, _) = url.split_once('#').unwrap_or((url, ""));
        let (path, query) = match before_fragment.split_once('?') {
            Some((path, query)) => (path, Some(query)),
            None => (before_fragment, None),
        };
        match &self.location {
            Location::Query { param } => {
                let query = query?;
                let redacted: Vec<String> = query
                    .split('&')
                    .map(|pair| {
                        let key = pair.split_once('=').map_or(pair, |(k, _)| k);
                        if *form_decode(key) == *param.as_bytes() {
                            format!("{key}=***")
                        } else {
                            pair.to_owned()
                        }
                    })
                    .collect();
                Some(format!("{path}?{}", redacted.join("&")))
            }
            Location::Path => {
                let (head, _) = path.rsplit_once('/')?;
                Some(match query {
                    Some(query) => format!("{head}/***?{query}"),
                    None => format!("{head}/***"),
                })
            }
            Location::Header { .. } | Location::Basic => None,
        }
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
            Location::Path => match last_path_segment(req.url) {
                Some(token) if !token.is_empty() => digest(&token),
                _ => {
                    return Err(VerifyError::MissingToken {
                        param: "path".to_owned(),
                    })
                }
            },
            Location::Basic => {
                let value =
                    required_header(req.headers, &http::header::AUTHORIZATION, "Authorization")?;
                let encoded = strip_prefix_ignore_case(value, "Basic ").ok_or_else(|| {
                    malformed("Authorization", "expected Basic <base64 of user:password>")
                })?;
                let credentials = base64::engine::general_purpose::STANDARD
                    .decode(encoded.trim())
                    .map_err(|_| {
                        malformed("Authorization", "the Basic credentials are not base64")
                    })?;
                digest(&credentials)
            }
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
            Location::Path => Err(SignError::PathToken),
            Location::Basic => Ok(vec![(
                "Authorization".to_owned(),
                format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(secret)
                ),
            )]),
        }
    }
}

/// The percent-decoded last segment of `url`'s path (RFC 3986 §2.1; `+` is not a space in a
/// path), or `None` when the path has no segment after its last `/`.
fn last_path_segment(url: &str) -> Option<Vec<u8>> {
    let url = url.split(['?', '#']).next().unwrap_or(url);
    let path = match url.split_once("://") {
        Some((_, rest)) => &rest[rest.find('/')?..],
        None => url,
    };
    let (_, segment) = path.rsplit_once('/')?;
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(hi), Some(lo)) => {
                out.push(u8::try_from(hi * 16 + lo).unwrap_or(b'?'));
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    Some(out)
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
        .find(|(key, _)| *form_decode(key) == *param.as_bytes())
        .map(|(_, value)| form_decode(value).into_owned())
}

/// The raw `name=value` pairs of a query string or form body, empty segments skipped.
pub(crate) fn form_pairs(text: &str) -> impl Iterator<Item = (&str, &str)> {
    // memchr finds the ASCII separators (SIMD); the pieces are still valid UTF-8 because a
    // multi-byte character never contains an ASCII byte.
    let mut rest = text;
    std::iter::from_fn(move || loop {
        if rest.is_empty() {
            return None;
        }
        let end = memchr::memchr(b'&', rest.as_bytes()).unwrap_or(rest.len());
        let pair = &rest[..end];
        rest = rest.get(end + 1..).unwrap_or("");
        if pair.is_empty() {
            continue;
        }
        return Some(match memchr::memchr(b'=', pair.as_bytes()) {
            Some(at) => (&pair[..at], &pair[at + 1..]),
            None => (pair, ""),
        });
    })
}

/// Decodes `+` and `%XX`; borrows when there is nothing to decode, which is the common case
/// for form names, so a lookup by name allocates only for escaped fields.
pub(crate) fn form_decode(text: &str) -> Cow<'_, [u8]> {
    let bytes = text.as_bytes();
    if memchr::memchr2(b'+', b'%', bytes).is_none() {
        return Cow::Borrowed(bytes);
    }
    let mut out = Vec::with_capacity(bytes.len());
    form_decode_into(text, &mut out);
    Cow::Owned(out)
}

/// Appends the decoded `text` to `out` and returns where it landed: parsing a whole form
/// into one buffer costs one allocation instead of one per field.
fn form_decode_into(text: &str, out: &mut Vec<u8>) -> Range<usize> {
    let start = out.len();
    let mut rest = text.as_bytes();
    // Runs between `%` escapes are copied whole and their `+` turned into spaces in one
    // pass that the compiler vectorises: most of a form is plain text or `+`-joined words.
    while let Some(at) = memchr::memchr(b'%', rest) {
        push_plus_decoded(out, &rest[..at]);
        let high = rest.get(at + 1).and_then(|b| hex_value(*b));
        let low = rest.get(at + 2).and_then(|b| hex_value(*b));
        if let (Some(high), Some(low)) = (high, low) {
            out.push(high << 4 | low);
            rest = &rest[at + 3..];
        } else {
            out.push(b'%');
            rest = &rest[at + 1..];
        }
    }
    push_plus_decoded(out, rest);
    start..out.len()
}

fn push_plus_decoded(out: &mut Vec<u8>, run: &[u8]) {
    // A select, not a conditional store: it vectorises (compare and blend).
    out.extend(run.iter().map(|&b| if b == b'+' { b' ' } else { b }));
}

/// Where one field's decoded name and value are in the buffer [`decode_form`] returns.
pub(crate) type FieldRanges = (Range<usize>, Range<usize>);

/// Splits and decodes a whole form in one pass: every field's name and value, `+` and `%XX`
/// decoded, land in one buffer, and the ranges say where. Empty fields (`a=1&&b=2`) are
/// skipped; a field without `=` has an empty value.
///
/// Why not split first and decode each piece: that was a memchr call (with its set-up) per
/// separator, per escape and per field, which for a 20-field SMS form cost more than the
/// HMAC. Here one SIMD scan finds every `&`, `=` and `%`, the `+`s are turned into spaces
/// over the whole copy at once (one vectorised loop; an escaped `%2B` is decoded after and
/// stays `+`), and the bytes between separators only move once the first escape has made
/// the decoded text shorter than the raw one.
pub(crate) fn decode_form(raw: &[u8]) -> (Vec<u8>, Vec<FieldRanges>) {
    // A select rather than a conditional store, so that the loop compiles to compare-and-blend
    // over whole vectors (the conditional store was a test and branch per byte).
    let mut buf: Vec<u8> = raw
        .iter()
        .map(|&b| if b == b'+' { b' ' } else { b })
        .collect();
    // Twilio's forms have 10 to 40 fields: growing from empty would reallocate four times.
    let mut fields = Vec::with_capacity(32);
    // `w`: where the next decoded byte goes; `pending`: the first raw byte not yet moved.
    let (mut w, mut pending) = (0, 0);
    let mut field_start = 0;
    let mut name_end: Option<usize> = None;
    let take = |buf: &mut Vec<u8>, w: &mut usize, from: usize, to: usize| {
        if *w != from {
            buf.copy_within(from..to, *w);
        }
        *w += to - from;
    };
    for at in memchr::memchr3_iter(b'&', b'=', b'%', raw) {
        match raw[at] {
            b'%' => {
                let high = raw.get(at + 1).copied().and_then(hex_value);
                let low = raw.get(at + 2).copied().and_then(hex_value);
                if let (Some(high), Some(low)) = (high, low) {
                    take(&mut buf, &mut w, pending, at);
                    buf[w] = high << 4 | low;
                    w += 1;
                    pending = at + 3;
                }
                // Otherwise a literal `%`, moved with the text around it.
            }
            b'=' if name_end.is_none() => {
                take(&mut buf, &mut w, pending, at);
                name_end = Some(w);
                pending = at + 1;
            }
            b'=' => {} // Part of the value.
            _ => {
                take(&mut buf, &mut w, pending, at);
                pending = at + 1;
                if w > field_start || name_end.is_some() {
                    let end = name_end.unwrap_or(w);
                    fields.push((field_start..end, end..w));
                }
                field_start = w;
                name_end = None;
            }
        }
    }
    take(&mut buf, &mut w, pending, raw.len());
    if w > field_start || name_end.is_some() {
        let end = name_end.unwrap_or(w);
        fields.push((field_start..end, end..w));
    }
    buf.truncate(w);
    (buf, fields)
}

fn hex_value(digit: u8) -> Option<u8> {
    char::from(digit)
        .to_digit(16)
        .and_then(|v| u8::try_from(v).ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The one-pass decoder against the obvious one (split on `&` then `=`, then decode each
    /// piece), field by field.
    fn split_then_decode(text: &str) -> Vec<(Vec<u8>, Vec<u8>)> {
        form_pairs(text)
            .map(|(name, value)| {
                let mut n = Vec::new();
                let mut v = Vec::new();
                form_decode_into(name, &mut n);
                form_decode_into(value, &mut v);
                (n, v)
            })
            .collect()
    }

    fn one_pass(text: &str) -> Vec<(Vec<u8>, Vec<u8>)> {
        let (buf, fields) = decode_form(text.as_bytes());
        fields
            .into_iter()
            .map(|(n, v)| (buf[n].to_vec(), buf[v].to_vec()))
            .collect()
    }

    #[test]
    fn forms_decode_like_splitting_first() {
        for text in [
            "",
            "&",
            "&&a=1&&",
            "=",
            "a",
            "a=",
            "=b",
            "a=b=c",
            "a%3Db=c%26d",
            "To=%2B1415&Body=hi+there%21",
            "%",
            "a=%",
            "a=%2",
            "a=%zz&b=%4",
            "%41%42=%43",
            "x=%&y=%%41",
            "k=+%2B+",
        ] {
            assert_eq!(one_pass(text), split_then_decode(text), "{text:?}");
        }
    }

    proptest! {
        #[test]
        fn any_form_decodes_like_splitting_first(text in "[a-c&=%+2B4zé ]{0,40}") {
            prop_assert_eq!(one_pass(&text), split_then_decode(&text));
        }
    }

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
        assert_eq!(&*form_decode("%zz%4"), b"%zz%4");
        assert_eq!(&*form_decode("%41%e2%82%ac"), "A€".as_bytes());
        assert!(matches!(form_decode("plain"), Cow::Borrowed(b"plain")));
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
