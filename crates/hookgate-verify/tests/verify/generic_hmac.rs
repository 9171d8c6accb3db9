//! The generic HMAC scheme, checked against a provider vector it can express: Slack's
//! documented example ("Verifying requests from Slack": `v0:{timestamp}:{body}`,
//! `X-Slack-Signature: v0=<hex>`).

use std::time::Duration;

use hookgate_verify::{Algorithm, Encoding, HmacOptions, KeyError, Scheme, Verifier, VerifyError};

use crate::common::{headers, malformed_reason, ok, signed, verify_at, verify_url};

const SLACK_SECRET: &[u8] = b"8f742231b10e8888abcd99yyyzzz85a5";
const SLACK_TS: i64 = 1_531_420_618;
const SLACK_BODY: &[u8] = b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
const SLACK_SIGNATURE: &str = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";

fn slack() -> HmacOptions {
    HmacOptions {
        algorithm: Algorithm::Sha256,
        header: "X-Slack-Signature".into(),
        encoding: Encoding::Hex,
        prefix: Some("v0=".into()),
        signed: "v0:{timestamp}:{body}".into(),
        timestamp_header: Some("X-Slack-Request-Timestamp".into()),
    }
}

fn slack_headers(signature: &str) -> http::HeaderMap {
    headers(&[
        ("X-Slack-Signature", signature),
        ("X-Slack-Request-Timestamp", "1531420618"),
    ])
}

fn verifier(options: HmacOptions, secrets: &[&[u8]]) -> Verifier {
    Verifier::new(Scheme::Hmac(options), secrets, None).unwrap()
}

#[test]
fn slacks_documented_example_verifies() {
    let v = verifier(slack(), &[SLACK_SECRET]);
    assert_eq!(
        verify_at(
            &v,
            &slack_headers(SLACK_SIGNATURE),
            SLACK_BODY,
            SLACK_TS + 60
        ),
        ok(0, Some(SLACK_TS))
    );
}

#[test]
fn signing_reproduces_slacks_example() {
    let map = signed(
        &Scheme::Hmac(slack()),
        SLACK_SECRET,
        SLACK_BODY,
        SLACK_TS,
        None,
    );
    assert_eq!(map["x-slack-signature"], SLACK_SIGNATURE);
    assert_eq!(map["x-slack-request-timestamp"], "1531420618");
}

#[test]
fn tampering_and_wrong_secrets_fail() {
    let v = verifier(slack(), &[SLACK_SECRET]);
    assert_eq!(
        verify_at(
            &v,
            &slack_headers(SLACK_SIGNATURE),
            b"token=other",
            SLACK_TS
        ),
        Err(VerifyError::Mismatch)
    );
    let wrong = verifier(slack(), &[b"8f742231b10e8888abcd99yyyzzz85a6"]);
    assert_eq!(
        verify_at(
            &wrong,
            &slack_headers(SLACK_SIGNATURE),
            SLACK_BODY,
            SLACK_TS
        ),
        Err(VerifyError::Mismatch)
    );
}

#[test]
fn missing_and_malformed_headers() {
    let v = verifier(slack(), &[SLACK_SECRET]);
    assert_eq!(
        verify_at(
            &v,
            &headers(&[("X-Slack-Request-Timestamp", "1")]),
            SLACK_BODY,
            SLACK_TS
        )
        .unwrap_err()
        .to_string(),
        "no X-Slack-Signature header"
    );
    assert_eq!(
        verify_at(
            &v,
            &headers(&[("X-Slack-Signature", SLACK_SIGNATURE)]),
            SLACK_BODY,
            SLACK_TS
        ),
        Err(VerifyError::MissingHeader {
            header: "X-Slack-Request-Timestamp".into()
        })
    );
    let (header, reason) = malformed_reason(verify_at(
        &v,
        &slack_headers(&SLACK_SIGNATURE[3..]),
        SLACK_BODY,
        SLACK_TS,
    ));
    assert_eq!(header, "X-Slack-Signature");
    assert_eq!(reason, "expected v0=<hex>");
    let (_, reason) = malformed_reason(verify_at(
        &v,
        &slack_headers(&SLACK_SIGNATURE[..40]),
        SLACK_BODY,
        SLACK_TS,
    ));
    assert!(reason.contains("32-byte HMAC-SHA256"), "{reason}");
    let bad_ts = headers(&[
        ("X-Slack-Signature", SLACK_SIGNATURE),
        ("X-Slack-Request-Timestamp", "soon"),
    ]);
    let (header, _) = malformed_reason(verify_at(&v, &bad_ts, SLACK_BODY, SLACK_TS));
    assert_eq!(header, "X-Slack-Request-Timestamp");
}

#[test]
fn stale_and_future_timestamps_are_refused() {
    let v = verifier(slack(), &[SLACK_SECRET]);
    let map = slack_headers(SLACK_SIGNATURE);
    assert!(matches!(
        verify_at(&v, &map, SLACK_BODY, SLACK_TS + 301),
        Err(VerifyError::TimestampOutOfTolerance { .. })
    ));
    assert!(matches!(
        verify_at(&v, &map, SLACK_BODY, SLACK_TS - 301),
        Err(VerifyError::TimestampOutOfTolerance { .. })
    ));
    let lenient = Verifier::new(
        Scheme::Hmac(slack()),
        &[SLACK_SECRET],
        Some(Duration::from_secs(3600)),
    )
    .unwrap();
    assert!(verify_at(&lenient, &map, SLACK_BODY, SLACK_TS + 3600).is_ok());
}

#[test]
fn rotation_reports_which_secret_matched() {
    let v = verifier(slack(), &[b"old", b"older", SLACK_SECRET]);
    assert_eq!(
        verify_at(&v, &slack_headers(SLACK_SIGNATURE), SLACK_BODY, SLACK_TS),
        ok(2, Some(SLACK_TS))
    );
}

#[test]
fn base64_body_only_as_shopify_signs() {
    // Shopify: X-Shopify-Hmac-Sha256 = base64(HMAC-SHA256(secret, body)); the value below
    // was computed with Python's hmac and base64 modules.
    let options = HmacOptions {
        encoding: Encoding::Base64,
        ..HmacOptions::new("X-Shopify-Hmac-Sha256")
    };
    let v = verifier(options.clone(), &[b"hush"]);
    let map = signed(&Scheme::Hmac(options), b"hush", b"{\"id\":1}", 0, None);
    assert_eq!(map.len(), 1);
    assert_eq!(verify_at(&v, &map, b"{\"id\":1}", 0), ok(0, None));
    assert_eq!(
        map["x-shopify-hmac-sha256"],
        "VnKUjZsLuN5iZWjn5EntcBVCF9kMN43LglzCE1/GSeY="
    );
}

#[test]
fn method_and_url_can_be_signed() {
    let options = HmacOptions {
        algorithm: Algorithm::Sha512,
        signed: "{method} {url}\n{body}".into(),
        ..HmacOptions::new("X-Signature")
    };
    let v = verifier(options.clone(), &[b"k"]);
    let map = signed(&Scheme::Hmac(options), b"k", b"b", 0, None);
    assert!(verify_url(&v, &map, crate::common::URL, b"b", 0).is_ok());
    assert_eq!(
        verify_url(&v, &map, "/in/other", b"b", 0),
        Err(VerifyError::Mismatch)
    );
}

#[test]
fn options_are_validated_when_the_verifier_is_built() {
    let build = |options: HmacOptions| Verifier::new(Scheme::Hmac(options), &[b"k"], None);
    let unknown = build(HmacOptions {
        signed: "{timestamp}.{bdy}".into(),
        timestamp_header: Some("X-Ts".into()),
        ..HmacOptions::new("X-Sig")
    });
    assert!(
        matches!(&unknown, Err(KeyError::BadTemplate { reason }) if reason.contains("{bdy}")),
        "{unknown:?}"
    );
    let needs_header = build(HmacOptions {
        signed: "{timestamp}.{body}".into(),
        ..HmacOptions::new("X-Sig")
    });
    assert!(matches!(needs_header, Err(KeyError::BadTemplate { .. })));
    let unsigned_timestamp = build(HmacOptions {
        timestamp_header: Some("X-Ts".into()),
        ..HmacOptions::new("X-Sig")
    });
    assert!(matches!(
        unsigned_timestamp,
        Err(KeyError::BadTemplate { .. })
    ));
    let no_body = build(HmacOptions {
        signed: "{method}".into(),
        ..HmacOptions::new("X-Sig")
    });
    assert!(matches!(no_body, Err(KeyError::BadTemplate { .. })));
    let bad_header = build(HmacOptions::new("X Sig"));
    assert!(matches!(bad_header, Err(KeyError::BadOptions { .. })));
    assert!(matches!(
        Verifier::new(Scheme::Hmac(HmacOptions::new("X-Sig")), &[], None),
        Err(KeyError::NoSecrets { .. })
    ));
}
