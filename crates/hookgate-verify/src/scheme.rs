//! The configuration of a scheme: which provider, and for the generic ones, their options.
//!
//! These are plain data as a user wrote them; [`crate::Verifier::new`] is where they are
//! checked and turned into something that cannot be wrong.

use std::{fmt, str::FromStr};

use crate::Provider;

/// The hash under an HMAC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Algorithm {
    Sha1,
    #[default]
    Sha256,
    Sha512,
}

impl Algorithm {
    const ALL: [Algorithm; 3] = [Algorithm::Sha1, Algorithm::Sha256, Algorithm::Sha512];

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Sha1 => "sha1",
            Algorithm::Sha256 => "sha256",
            Algorithm::Sha512 => "sha512",
        }
    }

    /// Length in bytes of the HMAC tag, which a decoded signature must have exactly.
    #[must_use]
    pub fn output_len(self) -> usize {
        match self {
            Algorithm::Sha1 => 20,
            Algorithm::Sha256 => 32,
            Algorithm::Sha512 => 64,
        }
    }
}

impl FromStr for Algorithm {
    type Err = UnknownOption;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Algorithm::ALL
            .into_iter()
            .find(|a| a.as_str() == name)
            .ok_or_else(|| UnknownOption {
                kind: "algorithm",
                name: name.to_owned(),
                expected: "sha1, sha256, sha512",
            })
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a signature's bytes are written in its header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Encoding {
    /// Hex digits; either case is accepted when verifying, lower case is produced.
    #[default]
    Hex,
    /// Standard base64 alphabet with padding (RFC 4648 §4).
    Base64,
}

impl Encoding {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Hex => "hex",
            Encoding::Base64 => "base64",
        }
    }
}

impl FromStr for Encoding {
    type Err = UnknownOption;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match name {
            "hex" => Ok(Encoding::Hex),
            "base64" => Ok(Encoding::Base64),
            _ => Err(UnknownOption {
                kind: "encoding",
                name: name.to_owned(),
                expected: "hex, base64",
            }),
        }
    }
}

impl fmt::Display for Encoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An algorithm or encoding name that is not one we know.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
#[error("unknown {kind} {name:?}; expected one of {expected}")]
pub struct UnknownOption {
    pub kind: &'static str,
    pub name: String,
    pub expected: &'static str,
}

/// The generic HMAC scheme: for providers that sign with an HMAC but have no scheme of
/// their own here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HmacOptions {
    pub algorithm: Algorithm,
    /// The header carrying the signature, e.g. `X-Signature`.
    pub header: String,
    pub encoding: Encoding,
    /// Text in front of the encoded signature, e.g. `sha256=`; a header without it is
    /// malformed.
    pub prefix: Option<String>,
    /// What is signed: a template over `{body}`, `{timestamp}`, `{method}` and `{url}`,
    /// e.g. `v0:{timestamp}:{body}`. It must include `{body}`.
    pub signed: String,
    /// The header carrying the unix-seconds timestamp that `{timestamp}` stands for.
    pub timestamp_header: Option<String>,
}

impl HmacOptions {
    /// HMAC-SHA256 over the body, lower-case hex in `header`, no prefix, no timestamp.
    #[must_use]
    pub fn new(header: impl Into<String>) -> Self {
        HmacOptions {
            algorithm: Algorithm::Sha256,
            header: header.into(),
            encoding: Encoding::Hex,
            prefix: None,
            signed: "{body}".to_owned(),
            timestamp_header: None,
        }
    }
}

/// A shared token, sent in a header or in the URL's query string. Exactly one of `header`
/// and `query` must be set.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TokenOptions {
    pub header: Option<String>,
    pub query: Option<String>,
    /// Text in front of the token in the header, e.g. `Bearer `; matched ignoring ASCII
    /// case, as HTTP auth schemes are (RFC 9110 §11.1).
    pub prefix: Option<String>,
    /// The token is the URL path's last segment (`/in/{source}/{token}`), for senders that
    /// can only be given a URL.
    pub path: bool,
}

/// How requests from one source are authenticated. Each provider's variant follows that
/// provider's documented scheme exactly; only the generic ones take options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scheme {
    Github,
    Stripe,
    StandardWebhooks,
    Svix,
    Slack,
    Shopify,
    Twilio,
    Gitlab,
    Discord,
    Paddle,
    Square,
    Linear,
    Zoom,
    Intercom,
    Bitbucket,
    Typeform,
    Hubspot,
    Sendgrid,
    Twitch,
    Mailgun,
    Razorpay,
    Woocommerce,
    Meta,
    Msgraph,
    Dropbox,
    Hmac(HmacOptions),
    Token(TokenOptions),
    /// HTTP Basic authentication (RFC 7617); each secret is `user:password`.
    Basic,
    None,
}

impl Scheme {
    /// The scheme of a provider that takes no options; `None` for `hmac` and `token`,
    /// which need theirs.
    #[must_use]
    pub fn of(provider: Provider) -> Option<Scheme> {
        Some(match provider {
            Provider::Github => Scheme::Github,
            Provider::Stripe => Scheme::Stripe,
            Provider::StandardWebhooks => Scheme::StandardWebhooks,
            Provider::Svix => Scheme::Svix,
            Provider::Slack => Scheme::Slack,
            Provider::Shopify => Scheme::Shopify,
            Provider::Twilio => Scheme::Twilio,
            Provider::Gitlab => Scheme::Gitlab,
            Provider::Discord => Scheme::Discord,
            Provider::Paddle => Scheme::Paddle,
            Provider::Square => Scheme::Square,
            Provider::Linear => Scheme::Linear,
            Provider::Zoom => Scheme::Zoom,
            Provider::Intercom => Scheme::Intercom,
            Provider::Bitbucket => Scheme::Bitbucket,
            Provider::Typeform => Scheme::Typeform,
            Provider::Hubspot => Scheme::Hubspot,
            Provider::Sendgrid => Scheme::Sendgrid,
            Provider::Twitch => Scheme::Twitch,
            Provider::Mailgun => Scheme::Mailgun,
            Provider::Razorpay => Scheme::Razorpay,
            Provider::Woocommerce => Scheme::Woocommerce,
            Provider::Meta => Scheme::Meta,
            Provider::Msgraph => Scheme::Msgraph,
            Provider::Dropbox => Scheme::Dropbox,
            Provider::None => Scheme::None,
            Provider::Basic => Scheme::Basic,
            Provider::Hmac | Provider::Token => return None,
        })
    }

    #[must_use]
    pub fn provider(&self) -> Provider {
        match self {
            Scheme::Github => Provider::Github,
            Scheme::Stripe => Provider::Stripe,
            Scheme::StandardWebhooks => Provider::StandardWebhooks,
            Scheme::Svix => Provider::Svix,
            Scheme::Slack => Provider::Slack,
            Scheme::Shopify => Provider::Shopify,
            Scheme::Twilio => Provider::Twilio,
            Scheme::Gitlab => Provider::Gitlab,
            Scheme::Discord => Provider::Discord,
            Scheme::Paddle => Provider::Paddle,
            Scheme::Square => Provider::Square,
            Scheme::Linear => Provider::Linear,
            Scheme::Zoom => Provider::Zoom,
            Scheme::Intercom => Provider::Intercom,
            Scheme::Bitbucket => Provider::Bitbucket,
            Scheme::Typeform => Provider::Typeform,
            Scheme::Hubspot => Provider::Hubspot,
            Scheme::Sendgrid => Provider::Sendgrid,
            Scheme::Twitch => Provider::Twitch,
            Scheme::Mailgun => Provider::Mailgun,
            Scheme::Razorpay => Provider::Razorpay,
            Scheme::Woocommerce => Provider::Woocommerce,
            Scheme::Meta => Provider::Meta,
            Scheme::Msgraph => Provider::Msgraph,
            Scheme::Dropbox => Provider::Dropbox,
            Scheme::Hmac(_) => Provider::Hmac,
            Scheme::Token(_) => Provider::Token,
            Scheme::Basic => Provider::Basic,
            Scheme::None => Provider::None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for algorithm in Algorithm::ALL {
            assert_eq!(algorithm.as_str().parse::<Algorithm>(), Ok(algorithm));
        }
        for encoding in [Encoding::Hex, Encoding::Base64] {
            assert_eq!(encoding.as_str().parse::<Encoding>(), Ok(encoding));
        }
        assert_eq!(
            "md5".parse::<Algorithm>().unwrap_err().to_string(),
            r#"unknown algorithm "md5"; expected one of sha1, sha256, sha512"#
        );
        assert!("HEX".parse::<Encoding>().is_err());
    }
}
