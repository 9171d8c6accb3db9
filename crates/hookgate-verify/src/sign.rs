//! [`sign`]: the headers a real sender would add, for `hookgate sign` and `hookgate send`
//! (test your own endpoint) and for round-trip tests.
//!
//! It goes through [`Verifier::new`], so a secret or option that could not verify cannot
//! sign either, and the keyed state is the very one verification uses.

use crate::{verifier::Prepared, Scheme, SignError, Verifier};

/// What a sender signs. Headers are absent: signing produces them.
#[derive(Debug, Clone, Copy)]
pub struct SignRequest<'a> {
    pub method: &'a str,
    pub url: &'a str,
    pub body: &'a [u8],
}

/// The headers a real sender would add, as `(name, value)` in the order it sends them.
///
/// - github: `X-GitHub-Delivery` (when `id` is given), then the legacy `X-Hub-Signature`
///   (`sha1=<hex>`) and `X-Hub-Signature-256` (`sha256=<hex>`), as in GitHub's documented
///   example delivery.
/// - stripe: `Stripe-Signature: t={now},v1={hex}` (`id` is unused: Stripe's event id is in
///   the body).
/// - standard-webhooks (and svix, under `svix-*` names): `webhook-id` (`id` is required:
///   [`SignError::MissingId`]), `webhook-timestamp`, `webhook-signature: v1,{base64}`; a
///   `whpk_` public key cannot sign ([`SignError::VerifyOnly`]).
/// - slack, zoom, shopify, square, twitch, intercom, bitbucket, typeform, razorpay,
///   woocommerce, linear, meta, dropbox: the signed id header (twitch, `id` required),
///   the timestamp header, then the signature header, as the provider sends them.
/// - paddle: `Paddle-Signature: ts=…;h1=…`. hubspot: v3 (`X-HubSpot-Request-Timestamp`,
///   `X-HubSpot-Signature-v3`). twilio: `X-Twilio-Signature` over `url` as given (for a
///   JSON body, give a URL that already has `bodySHA256`). gitlab: `X-Gitlab-Token`.
/// - discord, sendgrid: [`SignError::VerifyOnly`] (the secret is a public key);
///   mailgun, msgraph: [`SignError::SignatureInBody`].
/// - hmac: its header (with prefix), then its timestamp header when the template signs one.
/// - token: the header with prefix and secret; a query token is
///   [`SignError::QueryToken`], for the caller to append to the URL.
/// - none: no headers.
///
/// # Errors
/// The secret or options are unusable ([`SignError::Key`], the same checks as
/// [`Verifier::new`]); standard-webhooks without an `id`, or an id or token that cannot be
/// written in a header; a query token ([`SignError::QueryToken`]).
pub fn sign(
    scheme: &Scheme,
    secret: &[u8],
    req: &SignRequest<'_>,
    now_unix: i64,
    id: Option<&str>,
) -> Result<Vec<(String, String)>, SignError> {
    if *scheme == Scheme::None {
        return Ok(Vec::new());
    }
    Signer::new(scheme.clone(), secret)?.sign(req, now_unix, id)
}

/// A keyed signer, for a sender that signs many requests with one secret (hookgate's own
/// deliveries): the secret is decoded and the MAC keyed once, not per request.
#[derive(Clone)]
pub struct Signer {
    verifier: Verifier,
    secret: Vec<u8>,
}

/// The secret stays out of `Debug` output.
impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("provider", &self.verifier.provider())
            .finish_non_exhaustive()
    }
}

impl Signer {
    /// # Errors
    /// The secret or options are unusable, as for [`Verifier::new`].
    pub fn new(scheme: Scheme, secret: &[u8]) -> Result<Self, SignError> {
        Ok(Self {
            verifier: Verifier::new(scheme, &[secret], None)?,
            secret: secret.to_vec(),
        })
    }

    /// The headers for `req`, as [`sign`] describes them.
    ///
    /// # Errors
    /// As [`sign`], except for key errors, which [`Signer::new`] already reported.
    pub fn sign(
        &self,
        req: &SignRequest<'_>,
        now_unix: i64,
        id: Option<&str>,
    ) -> Result<Vec<(String, String)>, SignError> {
        let verifier = &self.verifier;
        let secret = self.secret.as_slice();
        match verifier.prepared() {
            Prepared::Github(keys) => keys.sign(req, id),
            Prepared::Stamped(keys) => Ok(keys.sign(req, now_unix)),
            Prepared::StandardWebhooks(keys) => keys.sign(req, now_unix, id),
            Prepared::Fixed(keys) | Prepared::Linear(keys) => keys.sign(req, now_unix, id),
            Prepared::Meta(keys) => keys.sign(req, now_unix, id),
            Prepared::Twilio(keys) => keys.sign(req),
            Prepared::Hubspot(keys) => Ok(keys.sign(req, now_unix)),
            Prepared::Discord(_) | Prepared::Sendgrid(_) => Err(SignError::VerifyOnly {
                provider: verifier.provider(),
            }),
            Prepared::Mailgun(_) | Prepared::Msgraph(_) => Err(SignError::SignatureInBody {
                provider: verifier.provider(),
            }),
            Prepared::Hmac(prepared) => Ok(prepared.sign(req, now_unix)),
            Prepared::Token(prepared) => prepared.sign(secret),
            Prepared::None => Ok(Vec::new()),
        }
    }
}
