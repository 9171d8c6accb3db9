//! The Standard Webhooks test vector, shared by the spec's reference libraries
//! (`standard-webhooks/libraries`, e.g. the PHP and JavaScript `sign` tests).

use hookgate_verify::{sign, KeyError, Scheme, SignError, SignRequest, Verifier, VerifyError};

use crate::common::{headers, malformed_reason, ok, signed, verify_at};

const SECRET: &[u8] = b"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
const TS: i64 = 1_614_265_330;
const BODY: &[u8] = br#"{"test": 2432232314}"#;
const SIGNATURE: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

fn verifier(secrets: &[&[u8]]) -> Verifier {
    Verifier::new(Scheme::StandardWebhooks, secrets, None).unwrap()
}

fn vector_headers(signature: &str) -> http::HeaderMap {
    headers(&[
        ("webhook-id", ID),
        ("webhook-timestamp", "1614265330"),
        ("webhook-signature", signature),
    ])
}

#[test]
fn the_spec_vector_verifies() {
    assert_eq!(
        verify_at(&verifier(&[SECRET]), &vector_headers(SIGNATURE), BODY, TS),
        ok(0, Some(TS))
    );
}

#[test]
fn signing_reproduces_the_spec_vector() {
    let map = signed(&Scheme::StandardWebhooks, SECRET, BODY, TS, Some(ID));
    assert_eq!(map["webhook-id"], ID);
    assert_eq!(map["webhook-timestamp"], "1614265330");
    assert_eq!(map["webhook-signature"], SIGNATURE);
}

#[test]
fn the_whsec_prefix_is_optional() {
    let bare = &SECRET[6..];
    assert_eq!(
        verify_at(&verifier(&[bare]), &vector_headers(SIGNATURE), BODY, TS),
        ok(0, Some(TS))
    );
}

#[test]
fn a_secret_that_is_not_base64_is_refused() {
    let err = Verifier::new(
        Scheme::StandardWebhooks,
        &[SECRET, b"whsec_not base64!"],
        None,
    )
    .unwrap_err();
    assert!(
        matches!(err, KeyError::BadSecret { index: 1, .. }),
        "{err:?}"
    );
    assert!(!err.to_string().contains("not base64!"), "{err}");
}

#[test]
fn any_v1_in_the_list_may_match_and_other_versions_are_skipped() {
    let list = format!("v1a,aGVsbG8= v1,bm9wZQ== v2,xyz  {SIGNATURE}");
    assert_eq!(
        verify_at(&verifier(&[SECRET]), &vector_headers(&list), BODY, TS),
        ok(0, Some(TS))
    );
}

#[test]
fn tampering_fails() {
    let v = verifier(&[SECRET]);
    assert_eq!(
        verify_at(
            &v,
            &vector_headers(SIGNATURE),
            br#"{"test": 2432232315}"#,
            TS
        ),
        Err(VerifyError::Mismatch)
    );
    let other_id = headers(&[
        ("webhook-id", "msg_other"),
        ("webhook-timestamp", "1614265330"),
        ("webhook-signature", SIGNATURE),
    ]);
    assert_eq!(
        verify_at(&v, &other_id, BODY, TS),
        Err(VerifyError::Mismatch)
    );
    let other_ts = headers(&[
        ("webhook-id", ID),
        ("webhook-timestamp", "1614265331"),
        ("webhook-signature", SIGNATURE),
    ]);
    assert_eq!(
        verify_at(&v, &other_ts, BODY, TS),
        Err(VerifyError::Mismatch)
    );
}

#[test]
fn a_wrong_secret_fails() {
    let other = b"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSx";
    assert_eq!(
        verify_at(&verifier(&[other]), &vector_headers(SIGNATURE), BODY, TS),
        Err(VerifyError::Mismatch)
    );
}

#[test]
fn missing_headers_are_named() {
    let v = verifier(&[SECRET]);
    for (missing, present) in [
        (
            "webhook-signature",
            [("webhook-id", ID), ("webhook-timestamp", "1614265330")],
        ),
        (
            "webhook-id",
            [
                ("webhook-signature", SIGNATURE),
                ("webhook-timestamp", "1614265330"),
            ],
        ),
        (
            "webhook-timestamp",
            [("webhook-signature", SIGNATURE), ("webhook-id", ID)],
        ),
    ] {
        assert_eq!(
            verify_at(&v, &headers(&present), BODY, TS),
            Err(VerifyError::MissingHeader {
                header: missing.to_owned()
            })
        );
    }
}

#[test]
fn malformed_headers() {
    let v = verifier(&[SECRET]);
    let (header, reason) = malformed_reason(verify_at(
        &v,
        &vector_headers("v2,hnO3f9T8Ytu9HwrXslvumlUpqtNVqkhqw"),
        BODY,
        TS,
    ));
    assert_eq!(header, "webhook-signature");
    assert!(reason.contains("no v1,<base64>"), "{reason}");
    let truncated = &SIGNATURE[..SIGNATURE.len() - 4];
    let (_, reason) = malformed_reason(verify_at(&v, &vector_headers(truncated), BODY, TS));
    assert!(reason.contains("32-byte"), "{reason}");
    let unpadded = SIGNATURE.trim_end_matches('=');
    malformed_reason(verify_at(&v, &vector_headers(unpadded), BODY, TS));
    let bad_ts = headers(&[
        ("webhook-id", ID),
        ("webhook-timestamp", "1614265330.5"),
        ("webhook-signature", SIGNATURE),
    ]);
    let (header, _) = malformed_reason(verify_at(&v, &bad_ts, BODY, TS));
    assert_eq!(header, "webhook-timestamp");
}

#[test]
fn stale_and_future_timestamps_are_refused() {
    let v = verifier(&[SECRET]);
    let map = vector_headers(SIGNATURE);
    assert!(verify_at(&v, &map, BODY, TS + 300).is_ok());
    assert!(matches!(
        verify_at(&v, &map, BODY, TS + 301),
        Err(VerifyError::TimestampOutOfTolerance { .. })
    ));
    assert!(matches!(
        verify_at(&v, &map, BODY, TS - 301),
        Err(VerifyError::TimestampOutOfTolerance { .. })
    ));
}

#[test]
fn rotation_reports_which_secret_matched() {
    let old = b"whsec_dGhlIG9sZCBzZWNyZXQgMDEyMzQ1Njc4OQ==";
    assert_eq!(
        verify_at(
            &verifier(&[old, SECRET]),
            &vector_headers(SIGNATURE),
            BODY,
            TS
        ),
        ok(1, Some(TS))
    );
}

#[test]
fn signing_needs_an_id() {
    let req = SignRequest {
        method: "POST",
        url: "/",
        body: BODY,
    };
    assert_eq!(
        sign(&Scheme::StandardWebhooks, SECRET, &req, TS, None),
        Err(SignError::MissingId)
    );
    assert!(matches!(
        sign(
            &Scheme::StandardWebhooks,
            SECRET,
            &req,
            TS,
            Some("two words")
        ),
        Err(SignError::BadId { .. })
    ));
}
