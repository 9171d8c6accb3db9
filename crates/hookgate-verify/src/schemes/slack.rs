//! Slack: `X-Slack-Signature: v0=<hex HMAC-SHA256(signing secret, "v0:{ts}:{body}")>`.
//!
//! Follows Slack API docs, "Verifying requests from Slack": the basestring is the version
//! `v0`, the `X-Slack-Request-Timestamp` header and the raw body joined with `:`, keyed
//! with the app's signing secret, hex, prefixed `v0=`; requests older than five minutes
//! are refused. That is what the official `slack_sdk.signature.SignatureVerifier.is_valid`
//! (python-slack-sdk) and `@slack/bolt`'s `verifySlackRequest` compute.

use crate::{
    schemes::fixed::{Clock, Part, Spec},
    Algorithm, Encoding,
};

pub(crate) const SPEC: Spec = Spec {
    header: "X-Slack-Signature",
    prefix: "v0=",
    encoding: Encoding::Hex,
    algorithm: Algorithm::Sha256,
    clock: Clock::UnixSeconds("X-Slack-Request-Timestamp"),
    signed: &[
        Part::Literal("v0:"),
        Part::Timestamp,
        Part::Literal(":"),
        Part::Body,
    ],
};
