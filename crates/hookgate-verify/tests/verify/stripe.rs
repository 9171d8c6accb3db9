//! Stripe Docs, "Verify signatures manually": `Stripe-Signature: t=…,v1=…`, signed payload
//! `{t}.{body}`, HMAC-SHA256 keyed with the whole `whsec_…` secret, hex.

use std::time::Duration;

use hookgate_verify::{Scheme, Verifier, VerifyError};

use crate::common::{headers, malformed_reason, ok, signed, verify_at};

const SECRET: &[u8] = b"whsec_test_secret";
const BODY: &[u8] = br#"{"id":"evt_test_webhook","object":"event"}"#;
const T: i64 = 1_492_774_577;
/// HMAC-SHA256("whsec_test_secret", "1492774577." + BODY), computed with Python's `hmac`.
const V1: &str = "88a022085c6bdb887b02cb26ff76dd681234d9675c0f22844059f55552a8883a";

fn verifier(secrets: &[&[u8]]) -> Verifier {
    Verifier::new(Scheme::Stripe, secrets, None).unwrap()
}

fn header(value: &str) -> http::HeaderMap {
    headers(&[("Stripe-Signature", value)])
}

#[test]
fn a_documented_format_header_verifies() {
    let value = format!(
        "t={T},v1={V1},v0=6ffbb59b2300aae63f272406069a9788598b792a944a07aba816edb039989a39"
    );
    assert_eq!(
        verify_at(&verifier(&[SECRET]), &header(&value), BODY, T + 10),
        ok(0, Some(T))
    );
}

#[test]
fn signing_produces_the_same_header() {
    let map = signed(&Scheme::Stripe, SECRET, BODY, T, None);
    assert_eq!(map["stripe-signature"], format!("t={T},v1={V1}").as_str());
}

#[test]
fn any_v1_may_match_and_unknown_elements_are_ignored() {
    let other = "0".repeat(64);
    let value = format!("t={T}, v1={other}, v1={V1}, v9=zzz, junk");
    assert_eq!(
        verify_at(&verifier(&[SECRET]), &header(&value), BODY, T),
        ok(0, Some(T))
    );
}

#[test]
fn a_tampered_body_or_wrong_secret_fails() {
    let value = format!("t={T},v1={V1}");
    assert_eq!(
        verify_at(&verifier(&[SECRET]), &header(&value), b"{}", T),
        Err(VerifyError::Mismatch)
    );
    assert_eq!(
        verify_at(&verifier(&[b"whsec_other"]), &header(&value), BODY, T),
        Err(VerifyError::Mismatch)
    );
    // Only the `whsec_…` string as a whole is the key.
    assert_eq!(
        verify_at(&verifier(&[b"test_secret"]), &header(&value), BODY, T),
        Err(VerifyError::Mismatch)
    );
}

#[test]
fn a_changed_timestamp_breaks_the_signature() {
    let value = format!("t={},v1={V1}", T + 1);
    assert_eq!(
        verify_at(&verifier(&[SECRET]), &header(&value), BODY, T),
        Err(VerifyError::Mismatch)
    );
}

#[test]
fn stale_and_future_timestamps_are_refused() {
    let v = verifier(&[SECRET]);
    let map = header(&format!("t={T},v1={V1}"));
    assert_eq!(verify_at(&v, &map, BODY, T + 300), ok(0, Some(T)));
    assert_eq!(verify_at(&v, &map, BODY, T - 300), ok(0, Some(T)));
    let stale = verify_at(&v, &map, BODY, T + 301).unwrap_err();
    assert_eq!(
        stale,
        VerifyError::TimestampOutOfTolerance {
            timestamp: T,
            now: T + 301,
            tolerance_secs: 300
        }
    );
    assert!(stale.to_string().contains("301 seconds old"), "{stale}");
    assert_eq!(stale.code(), "timestamp_out_of_tolerance");
    let future = verify_at(&v, &map, BODY, T - 3600).unwrap_err();
    assert!(
        future.to_string().contains("3600 seconds in the future"),
        "{future}"
    );
}

#[test]
fn a_configured_tolerance_applies() {
    let v = Verifier::new(Scheme::Stripe, &[SECRET], Some(Duration::from_secs(10))).unwrap();
    let map = header(&format!("t={T},v1={V1}"));
    assert!(verify_at(&v, &map, BODY, T + 10).is_ok());
    assert!(matches!(
        verify_at(&v, &map, BODY, T + 11),
        Err(VerifyError::TimestampOutOfTolerance {
            tolerance_secs: 10,
            ..
        })
    ));
}

#[test]
fn missing_and_malformed_headers() {
    let v = verifier(&[SECRET]);
    assert_eq!(
        verify_at(&v, &headers(&[]), BODY, T)
            .unwrap_err()
            .to_string(),
        "no Stripe-Signature header"
    );
    let cases = [
        (format!("v1={V1}"), "no t= element"),
        (format!("t=abc,v1={V1}"), "unix seconds"),
        (format!("t=-{T},v1={V1}"), "unix seconds"),
        (format!("t={T}"), "no v1= signature"),
        (format!("t={T},v0={V1}"), "no v1= signature"),
        (format!("t={T},v1=xyz"), "not 64 hex digits"),
        (format!("t={T},v1={}", &V1[..63]), "not 64 hex digits"),
        (format!("t={T},t={T},v1={V1}"), "more than one t="),
        (String::new(), "no t= element"),
    ];
    for (value, expected) in cases {
        let (header_name, reason) = malformed_reason(verify_at(&v, &header(&value), BODY, T));
        assert_eq!(header_name, "Stripe-Signature");
        assert!(reason.contains(expected), "{value:?}: {reason}");
    }
}

#[test]
fn truncated_signatures_never_pass() {
    let v = verifier(&[SECRET]);
    for len in [0, 2, 32, 62, 63] {
        let value = format!("t={T},v1={}", &V1[..len]);
        assert!(verify_at(&v, &header(&value), BODY, T).is_err(), "{len}");
    }
}

#[test]
fn rotation_reports_which_secret_matched() {
    let map = header(&format!("t={T},v1={V1}"));
    let v = verifier(&[b"whsec_previous", SECRET]);
    assert_eq!(verify_at(&v, &map, BODY, T), ok(1, Some(T)));
}
