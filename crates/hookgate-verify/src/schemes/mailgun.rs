//! Mailgun: the signature is in the body, `hex HMAC-SHA256(signing key, timestamp + token)`.
//!
//! Follows Mailgun docs, "Webhooks" → "Securing webhooks": the JSON body carries
//! `{"signature": {"timestamp": "…", "token": "…", "signature": "…"}, "event-data": …}`;
//! concatenate `timestamp` and `token`, HMAC-SHA256 with the HTTP webhook signing key, hex,
//! and compare with `signature`. Legacy webhooks and inbound routes post the same three
//! values as `application/x-www-form-urlencoded` fields, which are accepted too
//! (`multipart/form-data` posts are not). Mailgun suggests checking the timestamp's age
//! without fixing a window; the default five minutes applies. The body outside
//! `signature` is not signed: dedup on the token (unique per delivery) is Mailgun's advice
//! against replays, and `event-data.id` is the event's id.

use std::borrow::Cow;

use serde::Deserialize;

use crate::{
    mac::{decode_signature, first_matching_key, KeyedMac},
    schemes::token::{form_decode, form_pairs},
    verifier::keyed_macs,
    wire::{check_tolerance, parse_unix_seconds},
    Algorithm, Encoding, KeyError, Request, Verified, VerifyError,
};

#[derive(Clone)]
pub(crate) struct Keys {
    keys: Vec<KeyedMac>,
}

struct Fields {
    timestamp: String,
    token: String,
    signature: String,
}

impl Keys {
    pub(crate) fn new(secrets: &[&[u8]]) -> Result<Keys, KeyError> {
        Ok(Keys {
            keys: keyed_macs(Algorithm::Sha256, secrets.iter().copied())?,
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
        let fields = fields(req.body)?;
        let bad = |reason: &str| VerifyError::MalformedBody {
            reason: reason.to_owned(),
        };
        let timestamp = parse_unix_seconds(&fields.timestamp, "signature.timestamp")
            .map_err(|_| bad("signature.timestamp must be unix seconds (digits only)"))?;
        let candidate = decode_signature(&fields.signature, Encoding::Hex, 32)
            .ok_or_else(|| bad("signature.signature must be 64 hex digits"))?;
        let parts: [&[u8]; 2] = [fields.timestamp.as_bytes(), fields.token.as_bytes()];
        let index =
            first_matching_key(&self.keys, &parts, &[candidate]).ok_or(VerifyError::Mismatch)?;
        check_tolerance(timestamp, now, tolerance_secs)?;
        Ok(Verified {
            secret_index: Some(index),
            timestamp: Some(timestamp),
        })
    }
}

fn fields(body: &[u8]) -> Result<Fields, VerifyError> {
    let missing = || {
        VerifyError::MalformedBody {
        reason: "expected signature.timestamp, signature.token and signature.signature (JSON) or timestamp, token and signature form fields".to_owned(),
    }
    };
    if body.trim_ascii_start().starts_with(b"{") {
        // Only `signature` is read: serde skips `event-data` without building it, which
        // is most of the cost of a 2 KB body.
        #[derive(Deserialize)]
        struct Body<'a> {
            #[serde(borrow)]
            signature: Option<Signature<'a>>,
        }
        #[derive(Deserialize)]
        struct Signature<'a> {
            #[serde(borrow)]
            timestamp: Option<Text<'a>>,
            #[serde(borrow)]
            token: Option<Text<'a>>,
            #[serde(borrow)]
            signature: Option<Text<'a>>,
        }
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Text<'a> {
            #[serde(borrow)]
            Str(Cow<'a, str>),
            // Some Mailgun regions have sent the timestamp as a number.
            Number(u64),
        }
        let text = |field: Option<Text<'_>>| match field {
            Some(Text::Str(s)) => Ok(s.into_owned()),
            Some(Text::Number(n)) => Ok(n.to_string()),
            None => Err(missing()),
        };
        let parsed: Body<'_> =
            serde_json::from_slice(body).map_err(|_| VerifyError::MalformedBody {
                reason: "not valid JSON, or signature fields that are not strings".to_owned(),
            })?;
        let signature = parsed.signature.ok_or_else(missing)?;
        return Ok(Fields {
            timestamp: text(signature.timestamp)?,
            token: text(signature.token)?,
            signature: text(signature.signature)?,
        });
    }
    let text = std::str::from_utf8(body).map_err(|_| missing())?;
    let field = |name: &str| {
        form_pairs(text)
            .find(|(key, _)| *form_decode(key) == *name.as_bytes())
            .and_then(|(_, value)| String::from_utf8(form_decode(value).into_owned()).ok())
            .ok_or_else(missing)
    };
    Ok(Fields {
        timestamp: field("timestamp")?,
        token: field("token")?,
        signature: field("signature")?,
    })
}
