//! Meta (Facebook, Instagram, WhatsApp Cloud API):
//! `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, body)>`.
//!
//! Follows Meta for Developers, "Webhooks" → "Getting started" → "Validate payloads": the
//! signature is the SHA-256 HMAC of the payload keyed with the app secret, prefixed
//! `sha256=`. Subscribing is a `GET` with `hub.verify_token` and `hub.challenge`, answered
//! by [`crate::handshake`]. That verify token is chosen by the developer and travels in a
//! URL, so it must never double as an HMAC key: configure it as a secret written
//! `verify:<token>`; every other secret is an app secret.

use subtle::ConstantTimeEq;

use crate::{
    schemes::{
        fixed::{self, Clock, Part, Spec},
        token::digest,
    },
    Algorithm, Encoding, KeyError, Provider, Request, SignError, SignRequest, Verified,
    VerifyError,
};

const VERIFY_TOKEN_PREFIX: &[u8] = b"verify:";

pub(crate) const SPEC: Spec = Spec {
    header: "X-Hub-Signature-256",
    prefix: "sha256=",
    encoding: Encoding::Hex,
    algorithm: Algorithm::Sha256,
    clock: Clock::None,
    signed: &[Part::Body],
};

#[derive(Clone)]
pub(crate) struct Keys {
    app_secrets: fixed::Keys,
    /// Where each app secret sits in the configured list, so `secret_index` names it.
    app_indices: Vec<usize>,
    verify_tokens: Vec<[u8; 32]>,
}

impl Keys {
    pub(crate) fn new(secrets: &[&[u8]]) -> Result<Keys, KeyError> {
        let is_token = |s: &[u8]| s.starts_with(VERIFY_TOKEN_PREFIX);
        let tokens: Vec<&[u8]> = secrets.iter().copied().filter(|s| is_token(s)).collect();
        let app: Vec<&[u8]> = secrets.iter().copied().filter(|s| !is_token(s)).collect();
        if app.is_empty() {
            return Err(KeyError::NoSecrets {
                provider: Provider::Meta,
            });
        }
        if let Some(index) = secrets.iter().position(|s| *s == VERIFY_TOKEN_PREFIX) {
            return Err(KeyError::BadSecret {
                index,
                reason: "empty verify token after \"verify:\"".to_owned(),
            });
        }
        Ok(Keys {
            app_secrets: fixed::Keys::new(&SPEC, &app)?,
            app_indices: (0..secrets.len())
                .filter(|i| !is_token(secrets[*i]))
                .collect(),
            verify_tokens: tokens
                .iter()
                .map(|t| digest(&t[VERIFY_TOKEN_PREFIX.len()..]))
                .collect(),
        })
    }

    pub(crate) fn len(&self) -> usize {
        self.app_secrets.len() + self.verify_tokens.len()
    }

    pub(crate) fn verify(
        &self,
        req: &Request<'_>,
        now: i64,
        tolerance_secs: u64,
    ) -> Result<Verified, VerifyError> {
        let verified = self.app_secrets.verify(req, now, tolerance_secs)?;
        Ok(Verified {
            secret_index: verified.secret_index.map(|i| self.app_indices[i]),
            ..verified
        })
    }

    pub(crate) fn sign(
        &self,
        req: &SignRequest<'_>,
        now: i64,
        id: Option<&str>,
    ) -> Result<Vec<(String, String)>, SignError> {
        self.app_secrets.sign(req, now, id)
    }

    /// Whether `token` is one of the configured verify tokens, in constant time.
    pub(crate) fn is_verify_token(&self, token: &[u8]) -> bool {
        let presented = digest(token);
        self.verify_tokens
            .iter()
            .fold(false, |found, t| found | bool::from(t.ct_eq(&presented)))
    }
}
