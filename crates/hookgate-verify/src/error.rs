//! What can go wrong building a verifier, verifying a request, or signing one.
//!
//! Every message here may reach the sender of a webhook (the server puts it in the error
//! body), so none may ever contain a secret or the signature we expected: they name the
//! header, the format it should have had, or the clock skew, nothing more.

use crate::Provider;

/// A verifier could not be built from the configured scheme and secrets.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum KeyError {
    #[error("provider \"{provider}\" needs at least one secret")]
    NoSecrets { provider: Provider },
    #[error("provider \"none\" verifies nothing and takes no secrets")]
    SecretsNotAllowed,
    /// `index` is the 0-based position in the list of secrets, as in `secrets[1]`.
    #[error("secrets[{index}]: {reason}")]
    BadSecret { index: usize, reason: String },
    #[error("signed-content template is invalid: {reason}")]
    BadTemplate { reason: String },
    #[error("{reason}")]
    BadOptions { reason: String },
}

/// A request did not verify. [`VerifyError::code`] is the stable machine-readable form.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum VerifyError {
    #[error("no {header} header")]
    MissingHeader { header: String },
    #[error("{header} header is malformed: {reason}")]
    Malformed { header: String, reason: String },
    #[error("signature does not match any configured secret")]
    Mismatch,
    #[error("{}", describe_skew(*.timestamp, *.now, *.tolerance_secs))]
    TimestampOutOfTolerance {
        timestamp: i64,
        now: i64,
        tolerance_secs: u64,
    },
    #[error("no {param:?} query parameter carrying the token")]
    MissingToken { param: String },
    #[error("token does not match any configured secret")]
    TokenMismatch,
    /// A handshake's query parameter (`hub.mode`, `hub.challenge`, …) is missing or wrong.
    #[error("{param} query parameter: {reason}")]
    BadQuery { param: String, reason: String },
    /// For providers that put the signature or its timestamp in the body (Mailgun, Linear,
    /// Microsoft Graph's `clientState`) or sign a hash of it (Twilio's `bodySHA256`).
    #[error("body is malformed: {reason}")]
    MalformedBody { reason: String },
}

impl VerifyError {
    /// The stable code for API error bodies (`{"error": {"code": …}}`).
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            VerifyError::MissingHeader { .. } | VerifyError::MissingToken { .. } => {
                "missing_signature"
            }
            VerifyError::Malformed { .. }
            | VerifyError::MalformedBody { .. }
            | VerifyError::BadQuery { .. } => "malformed_signature",
            VerifyError::Mismatch | VerifyError::TokenMismatch => "invalid_signature",
            VerifyError::TimestampOutOfTolerance { .. } => "timestamp_out_of_tolerance",
        }
    }
}

fn describe_skew(timestamp: i64, now: i64, tolerance_secs: u64) -> String {
    let skew = i128::from(now) - i128::from(timestamp);
    if skew >= 0 {
        format!(
            "timestamp {timestamp} is {skew} seconds old, more than the {tolerance_secs}-second tolerance (a replay, or a delivery held up too long)"
        )
    } else {
        format!(
            "timestamp {timestamp} is {} seconds in the future, more than the {tolerance_secs}-second tolerance (check the sender's clock)",
            -skew
        )
    }
}

/// Headers for a request could not be produced.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum SignError {
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error("this provider signs the message id: give one (it is sent in a header)")]
    MissingId,
    /// The configured secret is a public key (Discord, SendGrid, Standard Webhooks `whpk_`):
    /// it can check signatures but not make them.
    #[error("provider \"{provider}\" signs with a private key; its configured secret is the public key, which can only verify")]
    VerifyOnly { provider: Provider },
    /// The provider puts its signature in the body (Mailgun, Microsoft Graph's
    /// `clientState`), so there is no header to produce.
    #[error("provider \"{provider}\" carries its signature in the body, not in a header")]
    SignatureInBody { provider: Provider },
    #[error("cannot sign this request: {reason}")]
    BadRequest { reason: String },
    #[error("the id cannot be sent in a header: {reason}")]
    BadId { reason: String },
    /// Query tokens are not headers: the caller appends `?{param}=<secret>` to the URL.
    #[error(
        "this token travels in the {param:?} query parameter, not a header: append it to the URL"
    )]
    QueryToken { param: String },
    /// The token travels as the URL's last path segment: the caller appends it.
    #[error("the token travels in the URL path: append /<token> to the URL")]
    PathToken,
    #[error("the token cannot be sent in a header: it must be visible ASCII")]
    SecretNotHeaderSafe,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skew_messages_say_which_way() {
        let stale = VerifyError::TimestampOutOfTolerance {
            timestamp: 1000,
            now: 1400,
            tolerance_secs: 300,
        };
        assert!(stale.to_string().contains("400 seconds old"), "{stale}");
        let future = VerifyError::TimestampOutOfTolerance {
            timestamp: 2000,
            now: 1400,
            tolerance_secs: 300,
        };
        assert!(
            future.to_string().contains("600 seconds in the future"),
            "{future}"
        );
        assert_eq!(future.code(), "timestamp_out_of_tolerance");
    }

    #[test]
    fn codes() {
        let missing = VerifyError::MissingHeader {
            header: "X-Hub-Signature-256".into(),
        };
        assert_eq!(missing.to_string(), "no X-Hub-Signature-256 header");
        assert_eq!(missing.code(), "missing_signature");
        assert_eq!(VerifyError::Mismatch.code(), "invalid_signature");
        assert_eq!(VerifyError::TokenMismatch.code(), "invalid_signature");
        let malformed = VerifyError::Malformed {
            header: "X-Hub-Signature-256".into(),
            reason: "expected sha256=<hex>".into(),
        };
        assert_eq!(
            malformed.to_string(),
            "X-Hub-Signature-256 header is malformed: expected sha256=<hex>"
        );
        assert_eq!(malformed.code(), "malformed_signature");
    }
}
