//! Microsoft Graph change notifications: the shared secret is each notification's
//! `clientState`.
//!
//! Follows Microsoft Graph docs, "Set up notifications for changes in resource data" →
//! "Processing the change notification": the subscriber chooses a `clientState` when
//! subscribing, Graph echoes it in every item of the body's `value` array, and the
//! receiver must check it. Graph does not sign basic notifications, so the `clientState`
//! is a shared token: compared, like [`crate::TokenOptions`] tokens, as SHA-256 digests
//! in constant time, and every item must carry a configured one. Subscription validation
//! (`?validationToken=…`) is answered by [`crate::handshake`].

use serde_json::Value;
use subtle::ConstantTimeEq;

use crate::{schemes::token::digest, Request, Verified, VerifyError};

#[derive(Clone)]
pub(crate) struct Prepared {
    digests: Vec<[u8; 32]>,
}

impl Prepared {
    pub(crate) fn new(secrets: &[&[u8]]) -> Prepared {
        Prepared {
            digests: secrets.iter().map(|s| digest(s)).collect(),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.digests.len()
    }

    pub(crate) fn verify(&self, req: &Request<'_>) -> Result<Verified, VerifyError> {
        let bad = |reason: &str| VerifyError::MalformedBody {
            reason: reason.to_owned(),
        };
        let body: Value = serde_json::from_slice(req.body)
            .map_err(|_| bad("expected a JSON change notification collection"))?;
        let items = body
            .get("value")
            .and_then(Value::as_array)
            .filter(|items| !items.is_empty())
            .ok_or_else(|| bad("expected a non-empty \"value\" array of notifications"))?;
        let mut first = None;
        for item in items {
            let state = item
                .get("clientState")
                .and_then(Value::as_str)
                .ok_or_else(|| bad("a notification has no clientState"))?;
            let presented = digest(state.as_bytes());
            let index = self
                .digests
                .iter()
                .position(|expected| bool::from(expected.ct_eq(&presented)))
                .ok_or(VerifyError::TokenMismatch)?;
            first = first.or(Some(index));
        }
        Ok(Verified {
            secret_index: first,
            timestamp: None,
        })
    }
}
