//! Shared pieces of the fuzz targets: structured inputs that render to header values, and
//! one verifier per provider keyed with secrets the fuzzer never sees.
//!
//! Every target checks two properties through the public API only:
//! - nothing panics, whatever the headers, URL, body or clock;
//! - a request made without the secret never verifies. The secrets below are constants of
//!   this crate, not part of any input, so a success would mean a forged signature was
//!   accepted (a comparison bug such as a prefix or empty signature passing).
//!
//! Inputs are structured (`arbitrary`) rather than raw bytes so that the fuzzer spends its
//! time inside the parsers: a timestamp is usually "now plus a small offset", so the replay
//! window is passed and the signature comparison is reached, and a signature is usually the
//! right length in the right encoding. Every structured choice also has a `Raw` arm so that
//! arbitrary text still gets through.

#![forbid(unsafe_code)]

use std::sync::OnceLock;

use arbitrary::Arbitrary;
use base64::{engine::general_purpose::STANDARD as BASE64, Engine as _};
use hookgate_verify::{
    handshake, HmacOptions, Provider, Request, Scheme, TokenOptions, Verified, Verifier,
    VerifyError,
};
use http::{HeaderMap, HeaderName, HeaderValue};

/// The receiver's clock in every target; timestamps are offsets from it.
pub const NOW: i64 = 1_700_000_000;

/// An RFC 8032 test-vector Ed25519 public key (Discord, Standard Webhooks `whpk_`): the
/// private half is published, but not in any input, and valid keys are what the schemes
/// accept.
pub const ED25519_PUBLIC_HEX: &str =
    "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
pub const ED25519_PUBLIC_WHPK: &str = "whpk_11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";
/// A P-256 verification key in SendGrid's format (base64 DER SubjectPublicKeyInfo).
pub const SENDGRID_KEY: &str = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEmnMGmPY1QYU72N6wCmFqnDyixrWftlB3VWPVIpXeQCTCtTw5WUm/RJIl7q3bUMU+jqzctrBHApNV4RI62E7Lfg==";

/// The fixed secrets of `provider`: two of them, so rotation (trying every key) is covered.
#[must_use]
pub fn secrets(provider: Provider) -> Vec<Vec<u8>> {
    let list: &[&str] = match provider {
        Provider::Stripe => &["whsec_fuzz-secret-one", "whsec_fuzz-secret-two"],
        // whsec_ + base64("fuzz-secret-standard-webhooks-1"), and an Ed25519 public key.
        Provider::StandardWebhooks | Provider::Svix => &[
            "whsec_ZnV6ei1zZWNyZXQtc3RhbmRhcmQtd2ViaG9va3MtMQ==",
            ED25519_PUBLIC_WHPK,
        ],
        Provider::Discord => &[ED25519_PUBLIC_HEX],
        Provider::Sendgrid => &[SENDGRID_KEY],
        Provider::Meta => &["fuzz-meta-app-secret", "verify:fuzz-verify-token"],
        Provider::None => &[],
        // Matched by name so that this crate keeps compiling while the provider list grows.
        _ if provider.as_str() == "basic" => {
            &["fuzz-user:fuzz-password-one", "fuzz-user:fuzz-password-two"]
        }
        _ => &["fuzz-secret-one", "fuzz-secret-two"],
    };
    list.iter().map(|s| s.as_bytes().to_vec()).collect()
}

/// The scheme used for `provider`; `hmac` and `token` get a typical configuration (their
/// own targets fuzz the options).
#[must_use]
pub fn scheme(provider: Provider) -> Option<Scheme> {
    match provider {
        Provider::Hmac => Some(Scheme::Hmac(HmacOptions {
            prefix: Some("sha256=".to_owned()),
            signed: "{timestamp}.{body}".to_owned(),
            timestamp_header: Some("X-Timestamp".to_owned()),
            ..HmacOptions::new("X-Signature")
        })),
        Provider::Token => Some(Scheme::Token(TokenOptions {
            header: Some("Authorization".to_owned()),
            prefix: Some("Bearer ".to_owned()),
            ..TokenOptions::default()
        })),
        // Providers added later whose scheme takes options are skipped until this function
        // learns a configuration for them.
        other => Scheme::of(other),
    }
}

/// The verifier of `provider`, built once per process; `None` for a provider [`scheme`]
/// has no configuration for.
///
/// # Panics
/// If the fixed secrets are rejected, which is a bug in this crate, not a finding.
#[must_use]
pub fn verifier(provider: Provider) -> Option<&'static Verifier> {
    static ALL: OnceLock<Vec<Option<Verifier>>> = OnceLock::new();
    let all = ALL.get_or_init(|| {
        Provider::ALL
            .iter()
            .map(|p| {
                let owned = secrets(*p);
                let refs: Vec<&[u8]> = owned.iter().map(Vec::as_slice).collect();
                scheme(*p).map(|scheme| {
                    Verifier::new(scheme, &refs, None)
                        .unwrap_or_else(|e| panic!("fixed secrets of {p}: {e}"))
                })
            })
            .collect()
    });
    let index = Provider::ALL
        .iter()
        .position(|p| *p == provider)
        .expect("provider is in ALL");
    all[index].as_ref()
}

/// Pick an element of a non-empty slice with a fuzzer-chosen byte.
#[must_use]
pub fn pick<T: Copy>(items: &[T], choice: u8) -> T {
    items[usize::from(choice) % items.len()]
}

/// A header map from fuzzer-chosen pairs. Names or values `http` refuses are skipped (no
/// real request could carry them); repeated names are appended, to reach "sent twice".
#[must_use]
pub fn headers<N: AsRef<[u8]>, V: AsRef<[u8]>>(pairs: &[(N, V)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_ref()),
            HeaderValue::from_bytes(value.as_ref()),
        ) {
            map.append(name, value);
        }
    }
    map
}

/// A unix-seconds timestamp: usually near [`NOW`], sometimes any text.
#[derive(Arbitrary, Debug, Clone)]
pub enum Ts {
    Near(i16),
    Any(i64),
    Raw(String),
}

impl Ts {
    #[must_use]
    pub fn render(&self) -> String {
        match self {
            Ts::Near(offset) => (NOW + i64::from(*offset)).to_string(),
            Ts::Any(n) => n.to_string(),
            Ts::Raw(text) => text.clone(),
        }
    }

    /// The same instant in milliseconds (HubSpot v3, Linear).
    #[must_use]
    pub fn render_millis(&self) -> String {
        match self {
            Ts::Near(offset) => ((NOW + i64::from(*offset)) * 1000).to_string(),
            Ts::Any(n) => n.to_string(),
            Ts::Raw(text) => text.clone(),
        }
    }
}

/// A signature: bytes in the encoding the scheme expects (of the length it expects when
/// the fuzzer gives that many), or any text.
#[derive(Arbitrary, Debug, Clone)]
pub enum Sig {
    Hex(Vec<u8>),
    HexUpper(Vec<u8>),
    Base64(Vec<u8>),
    Base64NoPad(Vec<u8>),
    Raw(String),
}

impl Sig {
    #[must_use]
    pub fn render(&self) -> String {
        match self {
            Sig::Hex(bytes) => hex::encode(bytes),
            Sig::HexUpper(bytes) => hex::encode_upper(bytes),
            Sig::Base64(bytes) => BASE64.encode(bytes),
            Sig::Base64NoPad(bytes) => BASE64.encode(bytes).trim_end_matches('=').to_owned(),
            Sig::Raw(text) => text.clone(),
        }
    }
}

/// Extra headers the fuzzer adds on top of the ones a target builds: a known name from
/// `names` (to duplicate a header) or any name.
#[derive(Arbitrary, Debug, Clone)]
pub struct Extra {
    pub known: Option<u8>,
    pub name: String,
    pub value: Vec<u8>,
}

#[must_use]
pub fn with_extras(
    mut pairs: Vec<(String, Vec<u8>)>,
    extras: &[Extra],
    names: &[&str],
) -> HeaderMap {
    for extra in extras {
        let name = match extra.known {
            Some(choice) if !names.is_empty() => pick(names, choice).to_owned(),
            _ => extra.name.clone(),
        };
        pairs.push((name, extra.value.clone()));
    }
    headers(&pairs)
}

/// The forged-request property: a request built without the secret must be refused.
///
/// # Panics
/// When it verified: that is the finding.
pub fn assert_forged_fails(
    provider: Provider,
    req: &Request<'_>,
    outcome: &Result<Verified, VerifyError>,
) {
    if provider == Provider::None {
        return;
    }
    if let Ok(verified) = outcome {
        panic!(
            "FORGERY ACCEPTED by {provider}: {verified:?}\nmethod={:?} url={:?}\nheaders={:?}\nbody={:?}",
            req.method,
            req.url,
            req.headers,
            String::from_utf8_lossy(req.body)
        );
    }
}

/// Verify `req` with `provider`'s fixed-secret verifier and check it fails; then put it
/// through the handshake responder too, which must not answer a forged signed handshake.
pub fn verify_forged(provider: Provider, req: &Request<'_>, now: i64) {
    let Some(verifier) = verifier(provider) else {
        return;
    };
    let outcome = verifier.verify(req, now);
    assert_forged_fails(provider, req, &outcome);
    check_handshake(verifier, req, now);
}

/// Handshakes of Slack, Zoom and Twitch are signed, and Meta's carries the verify token:
/// none may be answered for a request made without the secret. Microsoft Graph's and
/// Dropbox's are unauthenticated by the providers' design and are only required not to
/// panic.
pub fn check_handshake(verifier: &Verifier, req: &Request<'_>, now: i64) {
    let provider = verifier.provider();
    let answer = handshake::respond(verifier, req, now);
    if let Some(Ok(reply)) = &answer {
        assert!(
            matches!(provider, Provider::Msgraph | Provider::Dropbox),
            "HANDSHAKE ANSWERED WITHOUT THE SECRET by {provider}: {reply:?}\nmethod={:?} url={:?}\nheaders={:?}\nbody={:?}",
            req.method,
            req.url,
            req.headers,
            String::from_utf8_lossy(req.body)
        );
    }
}

#[cfg(test)]
mod tests {
    use hookgate_verify::{sign, SignRequest};

    use super::*;

    /// The forged-request property means something only if the fixed verifiers accept a
    /// request that was signed with their secret: otherwise "never verifies" is vacuous.
    #[test]
    fn fixed_verifiers_accept_what_their_secret_signs() {
        let body = br#"{"type":"ping","webhookTimestamp":1700000000000}"#;
        let url = "https://hooks.example.com/in/x";
        let mut checked = 0;
        for provider in Provider::ALL.iter().copied() {
            let (Some(scheme), Some(verifier)) = (scheme(provider), verifier(provider)) else {
                continue;
            };
            let Some(secret) = secrets(provider).into_iter().next() else {
                continue;
            };
            let signed = SignRequest { method: "POST", url, body };
            let Ok(pairs) = sign(&scheme, &secret, &signed, NOW, Some("msg_1")) else {
                continue;
            };
            let headers = headers(&pairs);
            let req = Request { method: "POST", url, headers: &headers, body };
            assert!(verifier.verify(&req, NOW).is_ok(), "{provider}");
            checked += 1;
        }
        assert!(checked >= 20, "only {checked} providers could sign");
    }
}
