//! The engine shared by providers whose scheme is "an HMAC over fixed parts of the request,
//! encoded in one header, perhaps behind a prefix": Slack, Zoom, Shopify, Square, Twitch,
//! Intercom, Bitbucket, Typeform, Razorpay, WooCommerce, Linear, Meta, Dropbox.
//!
//! Each of those providers has its own module holding a [`Spec`] and the citation for it;
//! this module only turns a spec into verification and signing, so the byte-exact rules
//! live next to their source and the comparison logic exists once.

use crate::{
    mac::{decode_signature, first_matching_key, KeyedMac, Tag},
    schemes::check_header_safe_id,
    verifier::keyed_macs,
    wire::{
        check_tolerance, format_rfc3339, malformed, parse_rfc3339, parse_unix_seconds,
        required_header,
    },
    Algorithm, Encoding, KeyError, Request, SignError, SignRequest, Verified, VerifyError,
};

/// One piece of the signed content, in order.
#[derive(Debug)]
pub(crate) enum Part {
    Body,
    /// The timestamp header's raw text, exactly as received.
    Timestamp,
    /// `Request::url` as given (for providers that sign the public URL).
    Url,
    Literal(&'static str),
    /// Another header's raw value (Twitch signs its message id); its display name.
    Header(&'static str),
}

/// How a provider writes the timestamp it signs.
#[derive(Debug)]
pub(crate) enum Clock {
    /// No timestamp: dedup on the provider's event id is the replay protection.
    None,
    /// Unix seconds in the named header.
    UnixSeconds(&'static str),
    /// An RFC 3339 date-time in the named header.
    Rfc3339(&'static str),
}

/// A provider's fixed HMAC scheme.
#[derive(Debug)]
pub(crate) struct Spec {
    /// The signature header, spelled as the provider documents it (used in messages).
    pub(crate) header: &'static str,
    /// Text before the encoded signature, e.g. `v0=`; empty for none.
    pub(crate) prefix: &'static str,
    pub(crate) encoding: Encoding,
    pub(crate) algorithm: Algorithm,
    pub(crate) clock: Clock,
    pub(crate) signed: &'static [Part],
}

#[derive(Clone)]
pub(crate) struct Keys {
    spec: &'static Spec,
    keys: Vec<KeyedMac>,
}

impl Keys {
    pub(crate) fn new(spec: &'static Spec, secrets: &[&[u8]]) -> Result<Keys, KeyError> {
        Ok(Keys {
            spec,
            keys: keyed_macs(spec.algorithm, secrets.iter().copied())?,
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
        let spec = self.spec;
        let value = required_header(req.headers, spec.header, spec.header)?;
        let len = spec.algorithm.output_len();
        let expected = || {
            format!(
                "expected {}<{}> of a {len}-byte HMAC-{}",
                spec.prefix,
                spec.encoding,
                spec.algorithm.as_str().to_ascii_uppercase()
            )
        };
        let candidate = value
            .strip_prefix(spec.prefix)
            .and_then(|encoded| decode_signature(encoded, spec.encoding, len))
            .ok_or_else(|| malformed(spec.header, expected()))?;
        let timestamp = match spec.clock {
            Clock::None => None,
            Clock::UnixSeconds(header) => {
                let raw = required_header(req.headers, header, header)?;
                Some((raw, parse_unix_seconds(raw, header)?))
            }
            Clock::Rfc3339(header) => {
                let raw = required_header(req.headers, header, header)?;
                Some((raw, parse_rfc3339(raw, header)?))
            }
        };
        let mut parts: Vec<&[u8]> = Vec::with_capacity(spec.signed.len());
        for part in spec.signed {
            parts.push(match part {
                Part::Body => req.body,
                Part::Timestamp => timestamp.map_or("", |(raw, _)| raw).as_bytes(),
                Part::Url => req.url.as_bytes(),
                Part::Literal(text) => text.as_bytes(),
                Part::Header(name) => required_header(req.headers, *name, name)?.as_bytes(),
            });
        }
        let index =
            first_matching_key(&self.keys, &parts, &[candidate]).ok_or(VerifyError::Mismatch)?;
        // After the signature, so the timestamp we judge is one the sender really signed.
        if let Some((_, timestamp)) = timestamp {
            check_tolerance(timestamp, now, tolerance_secs)?;
        }
        Ok(Verified {
            secret_index: Some(index),
            timestamp: timestamp.map(|(_, t)| t),
        })
    }

    /// The tag of secret `index` over `parts`, for handshakes that answer with one (Zoom).
    pub(crate) fn tag(&self, index: usize, parts: &[&[u8]]) -> Option<Tag> {
        self.keys.get(index).map(|key| key.tag(parts))
    }

    /// Headers in the order: signed id headers, timestamp, signature.
    pub(crate) fn sign(
        &self,
        req: &SignRequest<'_>,
        now: i64,
        id: Option<&str>,
    ) -> Result<Vec<(String, String)>, SignError> {
        let spec = self.spec;
        let mut headers = Vec::with_capacity(3);
        let timestamp = match spec.clock {
            Clock::None => None,
            Clock::UnixSeconds(header) => Some((header, now.to_string())),
            Clock::Rfc3339(header) => Some((header, format_rfc3339(now))),
        };
        let mut parts: Vec<&[u8]> = Vec::with_capacity(spec.signed.len());
        for part in spec.signed {
            parts.push(match part {
                Part::Body => req.body,
                Part::Timestamp => timestamp.as_ref().map_or("", |(_, t)| t).as_bytes(),
                Part::Url => req.url.as_bytes(),
                Part::Literal(text) => text.as_bytes(),
                Part::Header(name) => {
                    let id = id.ok_or(SignError::MissingId)?;
                    check_header_safe_id(id)?;
                    headers.push(((*name).to_owned(), id.to_owned()));
                    id.as_bytes()
                }
            });
        }
        let tag = self.keys[0].tag(&parts);
        if let Some((header, text)) = &timestamp {
            headers.push(((*header).to_owned(), text.clone()));
        }
        headers.push((
            spec.header.to_owned(),
            format!("{}{}", spec.prefix, tag.encode(spec.encoding)),
        ));
        Ok(headers)
    }
}
