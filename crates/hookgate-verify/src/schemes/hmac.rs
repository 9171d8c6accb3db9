//! The generic HMAC scheme, for providers without a scheme of their own here.
//!
//! Most providers' schemes are "HMAC over some arrangement of body, timestamp, method and
//! URL, encoded in a header, perhaps behind a prefix" (Slack's `v0:{timestamp}:{body}` with
//! `v0=` hex, Shopify's base64 over the body, …). [`HmacOptions`] describes that shape; it
//! is validated once here so a typo in a template fails at startup, not per request.

use http::HeaderName;

use crate::{
    mac::{decode_signature, first_matching_key, KeyedMac},
    verifier::keyed_macs,
    wire::{check_tolerance, malformed, parse_unix_seconds, required_header},
    Algorithm, Encoding, HmacOptions, KeyError, Request, SignRequest, Verified, VerifyError,
};

#[derive(Clone)]
pub(crate) struct Prepared {
    keys: Vec<KeyedMac>,
    algorithm: Algorithm,
    encoding: Encoding,
    header: NamedHeader,
    prefix: Option<String>,
    template: Vec<Segment>,
    timestamp_header: Option<NamedHeader>,
}

/// A header name parsed for lookup, plus the spelling the user wrote for messages.
#[derive(Clone)]
struct NamedHeader {
    name: HeaderName,
    display: String,
}

impl NamedHeader {
    fn parse(display: &str, field: &str) -> Result<NamedHeader, KeyError> {
        let name =
            HeaderName::from_bytes(display.as_bytes()).map_err(|_| KeyError::BadOptions {
                reason: format!("hmac: {field} {display:?} is not a valid HTTP header name"),
            })?;
        Ok(NamedHeader {
            name,
            display: display.to_owned(),
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Body,
    Timestamp,
    Method,
    Url,
}

impl Prepared {
    pub(crate) fn new(options: HmacOptions, secrets: &[&[u8]]) -> Result<Prepared, KeyError> {
        let template = parse_template(&options.signed)?;
        if !template.contains(&Segment::Body) {
            return Err(KeyError::BadTemplate {
                reason: format!(
                    "{:?} does not sign {{body}}, so any body would pass",
                    options.signed
                ),
            });
        }
        let signs_timestamp = template.contains(&Segment::Timestamp);
        let timestamp_header = match (&options.timestamp_header, signs_timestamp) {
            (Some(header), true) => Some(NamedHeader::parse(header, "timestamp_header")?),
            (None, false) => None,
            (None, true) => {
                return Err(KeyError::BadTemplate {
                    reason: "{timestamp} needs timestamp_header: the header the sender puts it in"
                        .to_owned(),
                })
            }
            // A timestamp outside the signed content can be rewritten by anyone, so a
            // replay window built on it would protect nothing.
            (Some(_), false) => {
                return Err(KeyError::BadTemplate {
                    reason: "timestamp_header is set but the template does not sign {timestamp}; an unsigned timestamp gives no replay protection".to_owned(),
                })
            }
        };
        Ok(Prepared {
            keys: keyed_macs(options.algorithm, secrets.iter().copied())?,
            algorithm: options.algorithm,
            encoding: options.encoding,
            header: NamedHeader::parse(&options.header, "header")?,
            prefix: options.prefix.filter(|p| !p.is_empty()),
            template,
            timestamp_header,
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
        let header = &self.header.display;
        let value = required_header(req.headers, &self.header.name, header)?;
        let prefix = self.prefix.as_deref().unwrap_or("");
        let Some(encoded) = value.strip_prefix(prefix) else {
            return Err(malformed(
                header,
                format!("expected {prefix}<{}>", self.encoding),
            ));
        };
        let len = self.algorithm.output_len();
        let Some(candidate) = decode_signature(encoded, self.encoding, len) else {
            return Err(malformed(
                header,
                format!(
                    "expected {prefix}<{}> of a {len}-byte HMAC-{}",
                    self.encoding,
                    self.algorithm.as_str().to_ascii_uppercase()
                ),
            ));
        };
        let timestamp = match &self.timestamp_header {
            Some(ts) => {
                let raw = required_header(req.headers, &ts.name, &ts.display)?;
                Some((raw, parse_unix_seconds(raw, &ts.display)?))
            }
            None => None,
        };
        let raw_timestamp = timestamp.map_or("", |(raw, _)| raw);
        let parts = self.signed_parts(req.method, req.url, raw_timestamp, req.body);
        let index =
            first_matching_key(&self.keys, &parts, &[candidate]).ok_or(VerifyError::Mismatch)?;
        if let Some((_, timestamp)) = timestamp {
            check_tolerance(timestamp, now, tolerance_secs)?;
        }
        Ok(Verified {
            secret_index: Some(index),
            timestamp: timestamp.map(|(_, t)| t),
        })
    }

    pub(crate) fn sign(&self, req: &SignRequest<'_>, now: i64) -> Vec<(String, String)> {
        let timestamp = now.to_string();
        let parts = self.signed_parts(req.method, req.url, &timestamp, req.body);
        let tag = self.keys[0].tag(&parts);
        let mut headers = vec![(
            self.header.display.clone(),
            format!(
                "{}{}",
                self.prefix.as_deref().unwrap_or(""),
                tag.encode(self.encoding)
            ),
        )];
        if let Some(ts) = &self.timestamp_header {
            headers.push((ts.display.clone(), timestamp));
        }
        headers
    }

    fn signed_parts<'p>(
        &'p self,
        method: &'p str,
        url: &'p str,
        timestamp: &'p str,
        body: &'p [u8],
    ) -> Vec<&'p [u8]> {
        self.template
            .iter()
            .map(|segment| match segment {
                Segment::Literal(text) => text.as_bytes(),
                Segment::Body => body,
                Segment::Timestamp => timestamp.as_bytes(),
                Segment::Method => method.as_bytes(),
                Segment::Url => url.as_bytes(),
            })
            .collect()
    }
}

/// `{name}` is a placeholder and everything else is literal. There is no escape for `{`:
/// no provider we know signs a literal brace, and an unknown `{…}` is far more likely a
/// typo that should fail loudly.
fn parse_template(template: &str) -> Result<Vec<Segment>, KeyError> {
    let mut segments = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        if open > 0 {
            segments.push(Segment::Literal(rest[..open].to_owned()));
        }
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            return Err(KeyError::BadTemplate {
                reason: format!("unclosed '{{' in {template:?}"),
            });
        };
        segments.push(match &after[..close] {
            "body" => Segment::Body,
            "timestamp" => Segment::Timestamp,
            "method" => Segment::Method,
            "url" => Segment::Url,
            other => {
                return Err(KeyError::BadTemplate {
                    reason: format!(
                        "unknown placeholder {{{other}}}; expected {{body}}, {{timestamp}}, {{method}} or {{url}}"
                    ),
                })
            }
        });
        rest = &after[close + 1..];
    }
    if !rest.is_empty() {
        segments.push(Segment::Literal(rest.to_owned()));
    }
    Ok(segments)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates() {
        assert_eq!(
            parse_template("v0:{timestamp}:{body}").unwrap(),
            vec![
                Segment::Literal("v0:".into()),
                Segment::Timestamp,
                Segment::Literal(":".into()),
                Segment::Body
            ]
        );
        assert_eq!(
            parse_template("{method}{url}{body}").unwrap(),
            vec![Segment::Method, Segment::Url, Segment::Body]
        );
        assert!(matches!(
            parse_template("{bdy}"),
            Err(KeyError::BadTemplate { reason }) if reason.contains("{bdy}")
        ));
        assert!(parse_template("{body").is_err());
        assert_eq!(
            parse_template("}{body}").unwrap(),
            vec![Segment::Literal("}".into()), Segment::Body]
        );
    }
}
