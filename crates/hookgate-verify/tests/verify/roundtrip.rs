//! Properties over every scheme that can sign: what `sign` produces verifies, and changing
//! any single byte of the body or of a signed header makes it fail.

use base64::{engine::general_purpose::STANDARD as BASE64, Engine as _};
use hookgate_verify::{
    sign, Algorithm, Encoding, HmacOptions, Request, Scheme, SignRequest, TokenOptions, Verifier,
};
use http::{HeaderMap, HeaderName, HeaderValue};
use proptest::prelude::*;

const URL: &str = "/in/source?x=1";
/// Valid for every scheme: raw bytes, a Stripe key, and base64 after `whsec_`.
const OTHER_SECRET: &[u8] = b"whsec_c29tZSBvdGhlciBzZWNyZXQ=";

/// A scheme together with a secret in the form that scheme expects.
fn scheme_and_secret() -> impl Strategy<Value = (Scheme, Vec<u8>)> {
    let graphic_secret = "[!-~]{1,40}".prop_map(String::into_bytes);
    let token =
        (proptest::option::of("[A-Za-z]{1,8} ?"), graphic_secret).prop_map(|(prefix, s)| {
            (
                Scheme::Token(TokenOptions {
                    header: Some("X-Token".into()),
                    query: None,
                    prefix,
                    path: false,
                }),
                s,
            )
        });
    let gitlab = "[!-~]{1,40}".prop_map(|s| (Scheme::Gitlab, s.into_bytes()));
    prop_oneof![8 => body_signing_scheme_and_secret(), 1 => token, 1 => gitlab]
}

/// Provider schemes that sign the body with a raw secret and need nothing from the request
/// beyond it (Twilio needs an absolute URL and Linear a timestamp inside the body; both
/// have their own properties below).
const RAW_SECRET_SCHEMES: [Scheme; 15] = [
    Scheme::Github,
    Scheme::Slack,
    Scheme::Zoom,
    Scheme::Shopify,
    Scheme::Square,
    Scheme::Twitch,
    Scheme::Intercom,
    Scheme::Bitbucket,
    Scheme::Typeform,
    Scheme::Razorpay,
    Scheme::Woocommerce,
    Scheme::Dropbox,
    Scheme::Meta,
    Scheme::Paddle,
    Scheme::Hubspot,
];

/// The schemes whose signature covers the body (all but tokens).
fn body_signing_scheme_and_secret() -> impl Strategy<Value = (Scheme, Vec<u8>)> {
    let raw_secret = proptest::collection::vec(any::<u8>(), 1..48);
    let standard_secret = proptest::collection::vec(any::<u8>(), 24..64)
        .prop_map(|key| format!("whsec_{}", BASE64.encode(key)).into_bytes());
    prop_oneof![
        (
            proptest::sample::select(RAW_SECRET_SCHEMES.to_vec()),
            raw_secret.clone()
        ),
        "[A-Za-z0-9]{8,32}".prop_map(|s| (Scheme::Stripe, format!("whsec_{s}").into_bytes())),
        (
            prop_oneof![Just(Scheme::StandardWebhooks), Just(Scheme::Svix)],
            standard_secret
        ),
        (hmac_options(), raw_secret).prop_map(|(o, s)| (Scheme::Hmac(o), s)),
    ]
}

fn hmac_options() -> impl Strategy<Value = HmacOptions> {
    let algorithm = prop_oneof![
        Just(Algorithm::Sha1),
        Just(Algorithm::Sha256),
        Just(Algorithm::Sha512)
    ];
    let encoding = prop_oneof![Just(Encoding::Hex), Just(Encoding::Base64)];
    let template = prop_oneof![
        Just(("{body}", false)),
        Just(("v0:{timestamp}:{body}", true)),
        Just(("{method}\n{url}\n{timestamp}\n{body}", true)),
        Just(("{url}{body}", false)),
    ];
    (
        algorithm,
        encoding,
        proptest::option::of("[a-z0-9]{1,6}="),
        template,
    )
        .prop_map(
            |(algorithm, encoding, prefix, (signed, timestamped))| HmacOptions {
                algorithm,
                header: "X-Signature".into(),
                encoding,
                prefix,
                signed: signed.into(),
                timestamp_header: timestamped.then(|| "X-Timestamp".into()),
            },
        )
}

fn produce(
    scheme: &Scheme,
    secret: &[u8],
    body: &[u8],
    now: i64,
    id: &str,
) -> Vec<(String, String)> {
    sign(
        scheme,
        secret,
        &SignRequest {
            method: "POST",
            url: URL,
            body,
        },
        now,
        Some(id),
    )
    .unwrap()
}

/// `None` when a mutated value is not even a legal header value (the HTTP layer would
/// never hand it to us).
fn to_map(pairs: &[(String, String)], mutate: Option<(usize, usize, u8)>) -> Option<HeaderMap> {
    let mut map = HeaderMap::new();
    for (i, (name, value)) in pairs.iter().enumerate() {
        let mut bytes = value.clone().into_bytes();
        if let Some((which, at, byte)) = mutate {
            if which == i {
                bytes[at] = byte;
            }
        }
        map.append(
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_bytes(&bytes).ok()?,
        );
    }
    Some(map)
}

/// Headers whose every byte the signature covers. GitHub's delivery id is not signed, and
/// its legacy SHA-1 header is ignored while the SHA-256 one is present.
fn is_covered(scheme: &Scheme, name: &str) -> bool {
    *scheme != Scheme::Github || !matches!(name, "X-GitHub-Delivery" | "X-Hub-Signature")
}

fn verify(verifier: &Verifier, headers: &HeaderMap, body: &[u8], now: i64) -> bool {
    let req = Request {
        method: "POST",
        url: URL,
        headers,
        body,
    };
    verifier.verify(&req, now).is_ok()
}

proptest! {
    #[test]
    fn what_is_signed_verifies(
        (scheme, secret) in scheme_and_secret(),
        body in proptest::collection::vec(any::<u8>(), 0..256),
        now in 1_000_000_000i64..4_000_000_000,
        id in "msg_[A-Za-z0-9]{1,24}",
    ) {
        let pairs = produce(&scheme, &secret, &body, now, &id);
        let verifier = Verifier::new(scheme.clone(), &[OTHER_SECRET, &secret], None).unwrap();
        let headers = to_map(&pairs, None).unwrap();
        let verified = verifier.verify(&Request { method: "POST", url: URL, headers: &headers, body: &body }, now);
        let verified = verified.map_err(|e| TestCaseError::fail(format!("{scheme:?}: {e}")))?;
        prop_assert_eq!(verified.secret_index, Some(1));
    }

    #[test]
    fn any_changed_body_byte_fails(
        (scheme, secret) in body_signing_scheme_and_secret(),
        body in proptest::collection::vec(any::<u8>(), 1..256),
        at in any::<prop::sample::Index>(),
        flip in 1u8..=255,
        now in 1_000_000_000i64..4_000_000_000,
    ) {
        let pairs = produce(&scheme, &secret, &body, now, "msg_1");
        let verifier = Verifier::new(scheme, &[&secret], None).unwrap();
        let headers = to_map(&pairs, None).unwrap();
        let mut tampered = body.clone();
        tampered[at.index(body.len())] ^= flip;
        prop_assert!(verify(&verifier, &headers, &body, now));
        prop_assert!(!verify(&verifier, &headers, &tampered, now));
    }

    #[test]
    fn any_changed_signature_header_byte_fails(
        (scheme, secret) in scheme_and_secret(),
        body in proptest::collection::vec(any::<u8>(), 0..64),
        which in any::<prop::sample::Index>(),
        at in any::<prop::sample::Index>(),
        byte in any::<u8>(),
        now in 1_000_000_000i64..4_000_000_000,
    ) {
        let pairs = produce(&scheme, &secret, &body, now, "msg_1");
        let covered: Vec<usize> = (0..pairs.len()).filter(|i| is_covered(&scheme, &pairs[*i].0)).collect();
        let header = covered[which.index(covered.len())];
        let value = pairs[header].1.as_bytes();
        let at = at.index(value.len());
        // Hex digits and auth-scheme prefixes are case-insensitive by design, so a change
        // of letter case alone is not a different signature.
        prop_assume!(!value[at].eq_ignore_ascii_case(&byte));
        let Some(headers) = to_map(&pairs, Some((header, at, byte))) else {
            return Ok(());
        };
        let verifier = Verifier::new(scheme, &[&secret], None).unwrap();
        prop_assert!(!verify(&verifier, &headers, &body, now), "{:?} with byte {} of {:?} set to {:?}", pairs, at, pairs[header].0, byte as char);
    }

    #[test]
    fn query_tokens_round_trip_through_percent_encoding(
        secret in proptest::collection::vec(any::<u8>(), 1..40),
    ) {
        let scheme = Scheme::Token(TokenOptions { query: Some("token".into()), ..TokenOptions::default() });
        let verifier = Verifier::new(scheme, &[&secret], None).unwrap();
        let encoded: String = secret.iter().map(|b| format!("%{b:02X}")).collect();
        let url = format!("/in/x?a=b&token={encoded}");
        let headers = HeaderMap::new();
        let req = Request { method: "GET", url: &url, headers: &headers, body: b"" };
        prop_assert!(verifier.verify(&req, 0).is_ok());
        let mut other = secret;
        other[0] ^= 1;
        let encoded: String = other.iter().map(|b| format!("%{b:02X}")).collect();
        let url = format!("/in/x?token={encoded}");
        let req = Request { method: "GET", url: &url, headers: &headers, body: b"" };
        prop_assert!(verifier.verify(&req, 0).is_err());
    }
}

/// Twilio signs a URL; JSON bodies are bound to it through `bodySHA256`.
fn twilio_url(body: &[u8]) -> String {
    use sha2::Digest as _;
    format!(
        "https://hooks.example.com/in/twilio?x=1&bodySHA256={}",
        hex::encode(sha2::Sha256::digest(body))
    )
}

proptest! {
    #[test]
    fn twilio_json_round_trips_and_any_body_change_fails(
        secret in "[!-~]{1,40}",
        body in proptest::collection::vec(any::<u8>(), 1..256),
        at in any::<prop::sample::Index>(),
        flip in 1u8..=255,
    ) {
        let url = twilio_url(&body);
        let pairs = sign(&Scheme::Twilio, secret.as_bytes(), &SignRequest { method: "POST", url: &url, body: &body }, 0, None).unwrap();
        let verifier = Verifier::new(Scheme::Twilio, &[OTHER_SECRET, secret.as_bytes()], None).unwrap();
        let headers = to_map(&pairs, None).unwrap();
        let req = Request { method: "POST", url: &url, headers: &headers, body: &body };
        prop_assert_eq!(verifier.verify(&req, 0).map(|v| v.secret_index), Ok(Some(1)));
        let mut tampered = body.clone();
        tampered[at.index(body.len())] ^= flip;
        let req = Request { body: &tampered, ..req };
        prop_assert!(verifier.verify(&req, 0).is_err());
    }

    #[test]
    fn linear_round_trips_and_any_body_change_fails(
        secret in proptest::collection::vec(any::<u8>(), 1..48),
        text in "[a-zA-Z0-9 ]{0,64}",
        now in 1_000_000_000i64..4_000_000_000,
        at in any::<prop::sample::Index>(),
        flip in 1u8..=255,
    ) {
        let body = format!(r#"{{"action":"create","data":"{text}","webhookTimestamp":{}}}"#, now * 1000).into_bytes();
        let pairs = produce(&Scheme::Linear, &secret, &body, now, "unused");
        let verifier = Verifier::new(Scheme::Linear, &[&secret], None).unwrap();
        let headers = to_map(&pairs, None).unwrap();
        prop_assert!(verify(&verifier, &headers, &body, now));
        let mut tampered = body.clone();
        tampered[at.index(body.len())] ^= flip;
        prop_assert!(!verify(&verifier, &headers, &tampered, now));
    }
}
