//! Verify (and produce) the signatures webhook providers put on their requests.
//!
//! `hookgate-verify` answers one question: did this request come from someone holding the
//! secret? It knows the schemes of GitHub, Stripe, Standard Webhooks and Svix, Slack,
//! Shopify, Twilio, GitLab, Discord, Paddle, Square, Linear, Zoom, Intercom, Bitbucket,
//! Typeform, HubSpot, SendGrid, Twitch, Mailgun, Razorpay, WooCommerce, Meta, Microsoft
//! Graph and Dropbox, a generic HMAC scheme for everyone else, shared tokens, and `none`;
//! and [`handshake`] answers the endpoint-verification requests some of them send. It is usable on its own in any Rust web
//! app: build a [`Verifier`] once from a [`Scheme`] and the secrets, then call
//! [`Verifier::verify`] with the raw request.
//!
//! What it must never do:
//! - **I/O, async, or reading the clock.** `now_unix` is an argument, which is what makes
//!   replay windows testable and the crate usable anywhere.
//! - **Compare secrets or signatures in variable time.** Every comparison goes through one
//!   constant-time check of decoded bytes of a fixed length, so a truncated or prefix
//!   signature never passes.
//! - **Panic on input, or leak secrets in errors.** Malformed headers get a precise reason;
//!   no message or `Debug` output contains a secret or the signature we expected.
//!
//! # Layout
//! - [`provider`]: provider names, parsing with typo suggestions, where each puts its event
//!   id and type.
//! - [`scheme`]: the configuration of a scheme ([`Scheme`], [`HmacOptions`], [`TokenOptions`]).
//! - `verifier`: [`Verifier`], built once per source with pre-keyed HMAC states.
//! - `schemes::*`: one module per provider, each citing the provider document and official
//!   SDK function it follows; `schemes::fixed` is the engine behind the many whose scheme
//!   is a fixed HMAC layout.
//! - [`handshake`]: Slack, Zoom, Twitch, Meta, Microsoft Graph and Dropbox endpoint
//!   verification, answered only after the signature (or verify token) checks out.
//! - `sign`: [`sign`], the headers a real sender would add (for `hookgate sign`/`send`,
//!   and for tests).
//! - `mac` and `wire`: the one constant-time comparison, signature decoding, and header and
//!   timestamp parsing shared by all schemes.
//! - [`error`]: [`KeyError`], [`VerifyError`] (with stable [`VerifyError::code`]s) and
//!   [`SignError`].
//!
//! # Example
//! ```
//! use hookgate_verify::{Request, Scheme, Verifier};
//!
//! let verifier = Verifier::new(Scheme::Github, &[b"It's a Secret to Everybody"], None)?;
//! let mut headers = http::HeaderMap::new();
//! headers.insert(
//!     "x-hub-signature-256",
//!     "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17".parse()?,
//! );
//! let request = Request { method: "POST", url: "/in/github", headers: &headers, body: b"Hello, World!" };
//! let verified = verifier.verify(&request, 1_700_000_000)?;
//! assert_eq!(verified.secret_index, Some(0));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![forbid(unsafe_code)]

pub mod error;
#[cfg(feature = "axum")]
pub mod extract;
pub mod handshake;
mod mac;
pub mod provider;
pub mod scheme;
mod schemes;
mod sign;
mod verifier;
mod wire;

pub use error::{KeyError, SignError, VerifyError};
pub use provider::{Location, Provider, UnknownProvider};
pub use scheme::{Algorithm, Encoding, HmacOptions, Scheme, TokenOptions, UnknownOption};
pub use sign::{sign, SignRequest, Signer};
pub use verifier::{Request, Verified, Verifier, DEFAULT_TOLERANCE};
