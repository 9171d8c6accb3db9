//! [`Verifier`]: a scheme plus its secrets, checked and keyed once, then used per request.
//!
//! All configuration mistakes surface in [`Verifier::new`] (at startup, naming the bad
//! secret or option), so [`Verifier::verify`] can only fail because of the request.

use std::{fmt, time::Duration};

use crate::{
    mac::KeyedMac,
    schemes::{
        discord, fixed, fixed_spec, github, hmac, hubspot, linear, mailgun, meta, msgraph, paddle,
        sendgrid, stamped, standard_webhooks, stripe, token, twilio,
    },
    Algorithm, KeyError, Provider, Scheme, TokenOptions, VerifyError,
};

/// The replay window used when none is configured and the provider documents none of its
/// own ([`Provider::default_tolerance`]). Stripe's SDKs default to 300 s
/// (`DEFAULT_TOLERANCE` in stripe-node/stripe-python), Slack's and the Standard Webhooks
/// reference libraries use 5 minutes; the generic HMAC scheme follows them.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(300);

/// An incoming request, as received: the raw body bytes, never a re-serialised form.
#[derive(Clone, Copy)]
pub struct Request<'a> {
    pub method: &'a str,
    /// What the sender addressed: a full URL, or path and query (`/in/x?token=abc`).
    pub url: &'a str,
    pub headers: &'a http::HeaderMap,
    pub body: &'a [u8],
}

/// Redacted on purpose: header values and the query string can carry the very token being
/// checked, and a `Debug` print is one `tracing` field away from a log file.
impl fmt::Debug for Request<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.url.split(['?', '#']).next().unwrap_or_default();
        let names: Vec<&str> = self.headers.keys().map(http::HeaderName::as_str).collect();
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("path", &path)
            .field("header_names", &names)
            .field("body_len", &self.body.len())
            .finish_non_exhaustive()
    }
}

/// What a successful verification established.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified {
    /// Which configured secret matched (0-based); `None` for the `none` scheme. During a
    /// rotation this says whether senders have moved to the new secret yet.
    pub secret_index: Option<usize>,
    /// The signed timestamp, for schemes that have one.
    pub timestamp: Option<i64>,
}

/// Verifies requests for one source. Cheap to clone and share; holds no secrets in its
/// `Debug` output.
#[derive(Clone)]
pub struct Verifier {
    provider: Provider,
    prepared: Prepared,
    tolerance_secs: u64,
}

#[derive(Clone)]
pub(crate) enum Prepared {
    Github(github::Keys),
    /// Stripe and Paddle: a timestamp and signatures in one header.
    Stamped(stamped::Keys),
    /// Standard Webhooks and Svix.
    StandardWebhooks(standard_webhooks::Keys),
    /// Providers whose scheme is a [`fixed::Spec`].
    Fixed(fixed::Keys),
    Linear(fixed::Keys),
    Meta(meta::Keys),
    Twilio(twilio::Keys),
    Hubspot(hubspot::Keys),
    Mailgun(mailgun::Keys),
    Discord(discord::Keys),
    Sendgrid(sendgrid::Keys),
    Msgraph(msgraph::Prepared),
    /// The generic token scheme, and GitLab's `X-Gitlab-Token`.
    Hmac(hmac::Prepared),
    Token(token::Prepared),
    None,
}

impl Verifier {
    /// Checks the scheme's options and secrets and keys an HMAC state per secret.
    ///
    /// `secrets` are as the user wrote them; several while rotating, tried in order.
    /// - standard-webhooks, svix: `whsec_` is stripped and the rest base64-decoded; a
    ///   `whpk_<base64>` secret is an Ed25519 public key that checks `v1a` signatures.
    /// - stripe: the whole `whsec_…` string is the HMAC key, as Stripe's SDKs use it.
    /// - discord: the application's public key, 64 hex digits.
    /// - sendgrid: the verification key, base64 of a DER SubjectPublicKeyInfo (PEM allowed).
    /// - meta: app secrets, plus the GET handshake's verify token written `verify:<token>`
    ///   (never used as an HMAC key).
    /// - msgraph: the subscription's `clientState`.
    /// - every other provider, hmac and token: the raw bytes (twilio: the auth token;
    ///   gitlab: the secret token; square: the signature key; mailgun: the signing key).
    /// - none: takes no secrets at all; every other scheme needs at least one, and no
    ///   secret may be empty (an unset `${VAR}` would otherwise mean "sign with nothing").
    ///
    /// `tolerance` is the replay window for timestamped schemes; `None` means the
    /// provider's own ([`Provider::default_tolerance`]: twitch 10 min, linear 60 s, paddle
    /// 5 s), else [`DEFAULT_TOLERANCE`]. Schemes without a timestamp ignore it.
    ///
    /// # Errors
    /// [`KeyError`] naming the missing, empty or undecodable secret, or the invalid option
    /// or template.
    pub fn new(
        scheme: Scheme,
        secrets: &[&[u8]],
        tolerance: Option<Duration>,
    ) -> Result<Verifier, KeyError> {
        let provider = scheme.provider();
        if provider == Provider::None {
            if !secrets.is_empty() {
                return Err(KeyError::SecretsNotAllowed);
            }
        } else {
            check_secrets(provider, secrets)?;
        }
        let prepared = match scheme {
            Scheme::Github => Prepared::Github(github::Keys::new(secrets)?),
            Scheme::Stripe => Prepared::Stamped(stamped::Keys::new(&stripe::SPEC, secrets)?),
            Scheme::StandardWebhooks | Scheme::Svix => {
                Prepared::StandardWebhooks(standard_webhooks::Keys::new(provider, secrets)?)
            }
            Scheme::Linear => Prepared::Linear(fixed::Keys::new(&linear::SPEC, secrets)?),
            Scheme::Meta => Prepared::Meta(meta::Keys::new(secrets)?),
            Scheme::Paddle => Prepared::Stamped(stamped::Keys::new(&paddle::SPEC, secrets)?),
            Scheme::Twilio => Prepared::Twilio(twilio::Keys::new(secrets)?),
            Scheme::Hubspot => Prepared::Hubspot(hubspot::Keys::new(secrets)?),
            Scheme::Mailgun => Prepared::Mailgun(mailgun::Keys::new(secrets)?),
            Scheme::Discord => Prepared::Discord(discord::Keys::new(secrets)?),
            Scheme::Sendgrid => Prepared::Sendgrid(sendgrid::Keys::new(secrets)?),
            Scheme::Msgraph => Prepared::Msgraph(msgraph::Prepared::new(secrets)),
            // GitLab: "GitLab sends the token in the X-Gitlab-Token header" (GitLab docs,
            // "Webhooks" → "Validate requests with a secret token"), a plain shared token.
            Scheme::Gitlab => Prepared::Token(token::Prepared::new(
                TokenOptions {
                    header: Some("X-Gitlab-Token".to_owned()),
                    ..TokenOptions::default()
                },
                secrets,
            )?),
            Scheme::Hmac(options) => Prepared::Hmac(hmac::Prepared::new(options, secrets)?),
            Scheme::Token(options) => Prepared::Token(token::Prepared::new(options, secrets)?),
            Scheme::Basic => Prepared::Token(token::Prepared::basic(secrets)?),
            Scheme::None => Prepared::None,
            other => {
                let spec = fixed_spec(other.provider()).ok_or(KeyError::BadOptions {
                    reason: format!("provider \"{provider}\" has no scheme"),
                })?;
                Prepared::Fixed(fixed::Keys::new(spec, secrets)?)
            }
        };
        let tolerance = tolerance
            .or(provider.default_tolerance())
            .unwrap_or(DEFAULT_TOLERANCE);
        Ok(Verifier {
            provider,
            prepared,
            tolerance_secs: tolerance.as_secs(),
        })
    }

    /// `url` with the secret removed, for schemes whose secret travels in the URL (a query
    /// or path token): what a caller may store or log. Other schemes return it unchanged.
    #[must_use]
    pub fn redact_url<'u>(&self, url: &'u str) -> std::borrow::Cow<'u, str> {
        match &self.prepared {
            Prepared::Token(token) => token
                .redact_url(url)
                .map_or(std::borrow::Cow::Borrowed(url), std::borrow::Cow::Owned),
            _ => std::borrow::Cow::Borrowed(url),
        }
    }

    /// Whether `name` is the header that carries this scheme's secret itself (a token
    /// header, or `Authorization` for Basic): its value must not be stored or logged.
    /// Signature headers are not secrets and are not reported.
    #[must_use]
    pub fn is_secret_header(&self, name: &http::HeaderName) -> bool {
        match &self.prepared {
            Prepared::Token(token) => token.secret_header() == Some(name),
            _ => false,
        }
    }

    #[must_use]
    pub fn provider(&self) -> Provider {
        self.provider
    }

    /// Checks `req` against every configured secret. `now_unix` is the receiver's clock,
    /// passed in so that this function never reads one.
    ///
    /// # Errors
    /// [`VerifyError`] saying what is missing, malformed, mismatched or out of the replay
    /// window; never what the signature should have been.
    pub fn verify(&self, req: &Request<'_>, now_unix: i64) -> Result<Verified, VerifyError> {
        let tolerance = self.tolerance_secs;
        match &self.prepared {
            Prepared::Github(keys) => keys.verify(req),
            Prepared::Stamped(keys) => keys.verify(req, now_unix, tolerance),
            Prepared::StandardWebhooks(keys) => keys.verify(req, now_unix, tolerance),
            Prepared::Fixed(keys) => keys.verify(req, now_unix, tolerance),
            Prepared::Linear(keys) => linear::verify(keys, req, now_unix, tolerance),
            Prepared::Meta(keys) => keys.verify(req, now_unix, tolerance),
            Prepared::Twilio(keys) => keys.verify(req),
            Prepared::Hubspot(keys) => keys.verify(req, now_unix, tolerance),
            Prepared::Mailgun(keys) => keys.verify(req, now_unix, tolerance),
            Prepared::Discord(keys) => keys.verify(req, now_unix, tolerance),
            Prepared::Sendgrid(keys) => keys.verify(req, now_unix, tolerance),
            Prepared::Msgraph(prepared) => prepared.verify(req),
            Prepared::Hmac(prepared) => prepared.verify(req, now_unix, tolerance),
            Prepared::Token(prepared) => prepared.verify(req),
            Prepared::None => Ok(Verified {
                secret_index: None,
                timestamp: None,
            }),
        }
    }

    pub(crate) fn prepared(&self) -> &Prepared {
        &self.prepared
    }
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secrets = match &self.prepared {
            Prepared::Github(keys) => keys.len(),
            Prepared::Stamped(keys) => keys.len(),
            Prepared::StandardWebhooks(keys) => keys.len(),
            Prepared::Fixed(keys) | Prepared::Linear(keys) => keys.len(),
            Prepared::Meta(keys) => keys.len(),
            Prepared::Twilio(keys) => keys.len(),
            Prepared::Hubspot(keys) => keys.len(),
            Prepared::Mailgun(keys) => keys.len(),
            Prepared::Discord(keys) => keys.len(),
            Prepared::Sendgrid(keys) => keys.len(),
            Prepared::Msgraph(prepared) => prepared.len(),
            Prepared::Hmac(prepared) => prepared.len(),
            Prepared::Token(prepared) => prepared.len(),
            Prepared::None => 0,
        };
        f.debug_struct("Verifier")
            .field("provider", &format_args!("{}", self.provider()))
            .field("secrets", &format_args!("{secrets} (redacted)"))
            .field("tolerance_secs", &self.tolerance_secs)
            .finish()
    }
}

fn check_secrets(provider: Provider, secrets: &[&[u8]]) -> Result<(), KeyError> {
    if secrets.is_empty() {
        return Err(KeyError::NoSecrets { provider });
    }
    if let Some(index) = secrets.iter().position(|s| s.is_empty()) {
        return Err(KeyError::BadSecret {
            index,
            reason: "empty".to_owned(),
        });
    }
    Ok(())
}

/// One keyed HMAC state per secret, in the order given.
pub(crate) fn keyed_macs<'s>(
    algorithm: Algorithm,
    keys: impl IntoIterator<Item = &'s [u8]>,
) -> Result<Vec<KeyedMac>, KeyError> {
    keys.into_iter()
        .enumerate()
        .map(|(index, key)| {
            KeyedMac::new(algorithm, key).map_err(|_| KeyError::BadSecret {
                index,
                reason: "not usable as an HMAC key".to_owned(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_required_except_for_none() {
        for scheme in [Scheme::Github, Scheme::Stripe, Scheme::StandardWebhooks] {
            let provider = scheme.provider();
            assert_eq!(
                Verifier::new(scheme, &[], None).unwrap_err(),
                KeyError::NoSecrets { provider }
            );
        }
        assert_eq!(
            Verifier::new(Scheme::None, &[b"x"], None).unwrap_err(),
            KeyError::SecretsNotAllowed
        );
        assert!(Verifier::new(Scheme::None, &[], None).is_ok());
    }

    #[test]
    fn an_empty_secret_is_named() {
        let err = Verifier::new(Scheme::Github, &[b"ok", b""], None).unwrap_err();
        assert_eq!(
            err,
            KeyError::BadSecret {
                index: 1,
                reason: "empty".into()
            }
        );
        assert_eq!(err.to_string(), "secrets[1]: empty");
    }

    #[test]
    fn debug_does_not_print_keys() {
        let verifier = Verifier::new(Scheme::Stripe, &[b"whsec_supersecret"], None).unwrap();
        let debug = format!("{verifier:?}");
        assert!(!debug.contains("supersecret"), "{debug}");
        assert!(debug.contains("stripe"), "{debug}");
    }

    #[test]
    fn request_debug_hides_tokens() {
        let mut headers = http::HeaderMap::new();
        headers.insert(
            "authorization",
            http::HeaderValue::from_static("Bearer hunter2"),
        );
        let req = Request {
            method: "POST",
            url: "/in/x?token=hunter2",
            headers: &headers,
            body: b"{}",
        };
        let debug = format!("{req:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(debug.contains("authorization"), "{debug}");
    }

    #[test]
    fn none_accepts_anything() {
        let verifier = Verifier::new(Scheme::None, &[], None).unwrap();
        let headers = http::HeaderMap::new();
        let req = Request {
            method: "POST",
            url: "/in/x",
            headers: &headers,
            body: b"anything",
        };
        assert_eq!(
            verifier.verify(&req, 0),
            Ok(Verified {
                secret_index: None,
                timestamp: None
            })
        );
    }
}
