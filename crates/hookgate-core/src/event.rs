//! Events as ingest hands them to the store ([`NewEvent`]) and as the store gives them back
//! ([`Event`]), plus the rules that pull a dedup key and an event type out of a request.

use std::cell::OnceCell;

use serde::{Deserialize, Serialize};

use crate::EventId;

/// A verified request, ready to be appended. Built by ingest; the store owns it from then on.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub id: EventId,
    pub source: String,
    /// Unix milliseconds at which ingest received the request.
    pub received_at_ms: i64,
    pub event_type: Option<String>,
    /// The provider's own event id: a second event with the same key for the same source is a
    /// provider retry, answered with the first event's id and not stored again.
    pub dedup_key: Option<String>,
    pub method: String,
    /// Path and query as received.
    pub path: String,
    /// Header names lower-case, values as sent (non-UTF-8 bytes replaced).
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub verification: Verification,
    /// What the router decided for this event; stored in the event's own transaction, and
    /// not at all when the event turns out to be a duplicate.
    pub deliveries: Vec<crate::NewDelivery>,
}

/// What verification established about a stored event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verification {
    /// The provider scheme the source is configured with (`none` for unverified sources).
    pub provider: String,
    /// `verified` or `unverified` (sources with provider `none`). Events that fail
    /// verification are refused, never stored, so there is no `failed`.
    pub status: String,
    /// Which configured secret matched, so operators can tell when a rotated-out secret is unused.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub secret_index: Option<usize>,
    /// The signed timestamp, for timestamped schemes.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub timestamp: Option<i64>,
}

/// An event as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub id: EventId,
    /// Store-assigned position; newer events have larger values (used for cursors).
    pub seq: i64,
    pub source: String,
    pub received_at_ms: i64,
    pub event_type: Option<String>,
    pub dedup_key: Option<String>,
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub verification: Verification,
}

/// Where a value (dedup key, event type) lives in a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Extract {
    /// A header, by lower-case name.
    Header(String),
    /// A JSON pointer (RFC 6901) into a JSON body, e.g. `/id` or `/data/object/id`.
    JsonPointer(String),
}

impl Extract {
    /// Reads the config form: a string starting with `/` is a JSON pointer, anything else a header.
    #[must_use]
    pub fn parse(spec: &str) -> Self {
        if spec.starts_with('/') {
            Self::JsonPointer(spec.to_owned())
        } else {
            Self::Header(spec.to_ascii_lowercase())
        }
    }

    #[must_use]
    pub fn from_location(location: hookgate_verify::Location) -> Self {
        match location {
            hookgate_verify::Location::Header(h) => Self::Header(h.to_ascii_lowercase()),
            hookgate_verify::Location::JsonPointer(p) => Self::JsonPointer(p.to_owned()),
        }
    }
}

/// Reads extraction rules against one request, parsing the body as JSON at most once and only if
/// a rule needs it: most GitHub-style sources never pay for a parse on the hot path.
#[derive(Debug)]
pub struct Extractor<'a> {
    headers: &'a http::HeaderMap,
    body: &'a [u8],
    json: OnceCell<Option<serde_json::Value>>,
}

/// Longest dedup key or event type kept; anything longer is a sender bug, not an id.
const MAX_EXTRACTED_LEN: usize = 256;

impl<'a> Extractor<'a> {
    #[must_use]
    pub fn new(headers: &'a http::HeaderMap, body: &'a [u8]) -> Self {
        Self {
            headers,
            body,
            json: OnceCell::new(),
        }
    }

    /// The value at `rule`, if present, non-empty and at most 256 bytes.
    #[must_use]
    pub fn get(&self, rule: &Extract) -> Option<String> {
        let value = match rule {
            Extract::Header(name) => self
                .headers
                .get(name.as_str())?
                .to_str()
                .ok()?
                .trim()
                .to_owned(),
            Extract::JsonPointer(pointer) => {
                let json = self
                    .json
                    .get_or_init(|| serde_json::from_slice(self.body).ok());
                match json.as_ref()?.pointer(pointer)? {
                    serde_json::Value::String(s) => s.clone(),
                    serde_json::Value::Number(n) => n.to_string(),
                    _ => return None,
                }
            }
        };
        (!value.is_empty() && value.len() <= MAX_EXTRACTED_LEN).then_some(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extracts_headers_and_json_pointers() {
        let mut headers = http::HeaderMap::new();
        headers.insert("x-github-delivery", "72d3162e".parse().unwrap());
        let body = br#"{"id":"evt_1","type":"invoice.paid","data":{"n":7,"obj":{}}}"#;
        let x = Extractor::new(&headers, body);
        assert_eq!(
            x.get(&Extract::parse("X-GitHub-Delivery")).as_deref(),
            Some("72d3162e")
        );
        assert_eq!(x.get(&Extract::parse("/id")).as_deref(), Some("evt_1"));
        assert_eq!(x.get(&Extract::parse("/data/n")).as_deref(), Some("7"));
        assert_eq!(x.get(&Extract::parse("/data/obj")), None);
        assert_eq!(x.get(&Extract::parse("/missing")), None);
        assert_eq!(x.get(&Extract::parse("x-missing")), None);
    }

    #[test]
    fn non_json_bodies_yield_nothing() {
        let headers = http::HeaderMap::new();
        let x = Extractor::new(&headers, b"a=1&b=2");
        assert_eq!(x.get(&Extract::parse("/a")), None);
    }

    #[test]
    fn overlong_values_are_ignored() {
        let mut headers = http::HeaderMap::new();
        headers.insert("x-id", "a".repeat(300).parse().unwrap());
        assert_eq!(
            Extractor::new(&headers, b"").get(&Extract::parse("x-id")),
            None
        );
    }
}
