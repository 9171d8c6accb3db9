//! GitHub Docs, "Validating webhook deliveries", "Testing the webhook payload validation":
//! secret "It's a Secret to Everybody", payload "Hello, World!".

use hookgate_verify::{KeyError, Scheme, Verifier, VerifyError};

use crate::common::{headers, malformed_reason, ok, signed, verify_at};

const SECRET: &[u8] = b"It's a Secret to Everybody";
const BODY: &[u8] = b"Hello, World!";
const DOCS_SIGNATURE: &str =
    "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
/// HMAC-SHA1 of the same vector, computed with Python's `hmac`.
const DOCS_SIGNATURE_SHA1: &str = "sha1=01dc10d0c83e72ed246219cdd91669667fe2ca59";
const NOW: i64 = 1_700_000_000;

fn verifier(secrets: &[&[u8]]) -> Verifier {
    Verifier::new(Scheme::Github, secrets, None).unwrap()
}

#[test]
fn the_documented_vector_verifies() {
    let map = headers(&[("X-Hub-Signature-256", DOCS_SIGNATURE)]);
    assert_eq!(
        verify_at(&verifier(&[SECRET]), &map, BODY, NOW),
        ok(0, None)
    );
}

#[test]
fn signing_reproduces_the_documented_vector() {
    let map = signed(
        &Scheme::Github,
        SECRET,
        BODY,
        NOW,
        Some("72d3162e-cc78-11e3"),
    );
    assert_eq!(map["x-hub-signature-256"], DOCS_SIGNATURE);
    assert_eq!(map["x-hub-signature"], DOCS_SIGNATURE_SHA1);
    assert_eq!(map["x-github-delivery"], "72d3162e-cc78-11e3");
}

#[test]
fn upper_case_hex_is_accepted() {
    let upper = DOCS_SIGNATURE.replace("sha256=", "").to_ascii_uppercase();
    let map = headers(&[("x-hub-signature-256", &format!("sha256={upper}"))]);
    assert_eq!(
        verify_at(&verifier(&[SECRET]), &map, BODY, NOW),
        ok(0, None)
    );
}

#[test]
fn a_tampered_body_fails() {
    let map = headers(&[("X-Hub-Signature-256", DOCS_SIGNATURE)]);
    assert_eq!(
        verify_at(&verifier(&[SECRET]), &map, b"Hello, World?", NOW),
        Err(VerifyError::Mismatch)
    );
}

#[test]
fn a_wrong_secret_fails_without_revealing_anything() {
    let map = headers(&[("X-Hub-Signature-256", DOCS_SIGNATURE)]);
    let err = verify_at(&verifier(&[b"another secret"]), &map, BODY, NOW).unwrap_err();
    assert_eq!(err, VerifyError::Mismatch);
    assert_eq!(err.code(), "invalid_signature");
    assert_eq!(
        err.to_string(),
        "signature does not match any configured secret"
    );
}

#[test]
fn the_expected_signature_never_appears_in_an_error() {
    // The right signature for "tampered", which an oracle would leak.
    let right = signed(&Scheme::Github, SECRET, b"tampered", NOW, None);
    let right_hex = right["x-hub-signature-256"].to_str().unwrap()[7..].to_owned();
    let map = headers(&[("X-Hub-Signature-256", DOCS_SIGNATURE)]);
    let err = verify_at(&verifier(&[SECRET]), &map, b"tampered", NOW).unwrap_err();
    let text = format!("{err} {err:?}");
    assert!(!text.contains(&right_hex));
    assert!(!text.contains("Secret to Everybody"));
}

#[test]
fn a_missing_header_is_named() {
    let err = verify_at(&verifier(&[SECRET]), &headers(&[]), BODY, NOW).unwrap_err();
    assert_eq!(err.to_string(), "no X-Hub-Signature-256 header");
    assert_eq!(err.code(), "missing_signature");
}

#[test]
fn malformed_headers_say_what_was_expected() {
    let v = verifier(&[SECRET]);
    let without_prefix = &DOCS_SIGNATURE[7..];
    let (header, reason) = malformed_reason(verify_at(
        &v,
        &headers(&[("X-Hub-Signature-256", without_prefix)]),
        BODY,
        NOW,
    ));
    assert_eq!(header, "X-Hub-Signature-256");
    assert_eq!(reason, "expected sha256=<hex>");
    let err = verify_at(
        &v,
        &headers(&[("X-Hub-Signature-256", "sha256=xyz")]),
        BODY,
        NOW,
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "X-Hub-Signature-256 header is malformed: expected sha256= followed by 64 hex digits"
    );
    assert_eq!(err.code(), "malformed_signature");
    let sha1_prefix = DOCS_SIGNATURE.replace("sha256=", "sha1=");
    malformed_reason(verify_at(
        &v,
        &headers(&[("X-Hub-Signature-256", &sha1_prefix)]),
        BODY,
        NOW,
    ));
}

#[test]
fn truncated_and_extended_signatures_never_pass() {
    let v = verifier(&[SECRET]);
    for bad in [
        &DOCS_SIGNATURE[..DOCS_SIGNATURE.len() - 2],
        &DOCS_SIGNATURE[..15],
        "sha256=",
        &format!("{DOCS_SIGNATURE}00"),
    ] {
        assert!(
            verify_at(&v, &headers(&[("X-Hub-Signature-256", bad)]), BODY, NOW).is_err(),
            "{bad}"
        );
    }
}

#[test]
fn a_header_sent_twice_is_malformed() {
    let map = headers(&[
        ("X-Hub-Signature-256", DOCS_SIGNATURE),
        ("X-Hub-Signature-256", DOCS_SIGNATURE),
    ]);
    malformed_reason(verify_at(&verifier(&[SECRET]), &map, BODY, NOW));
}

#[test]
fn non_ascii_header_values_are_malformed() {
    let mut map = http::HeaderMap::new();
    map.insert(
        "x-hub-signature-256",
        http::HeaderValue::from_bytes(b"sha256=\xff").unwrap(),
    );
    malformed_reason(verify_at(&verifier(&[SECRET]), &map, BODY, NOW));
}

#[test]
fn legacy_sha1_is_accepted_only_without_the_sha256_header() {
    let v = verifier(&[SECRET]);
    let legacy = headers(&[("X-Hub-Signature", DOCS_SIGNATURE_SHA1)]);
    assert_eq!(verify_at(&v, &legacy, BODY, NOW), ok(0, None));
    // A wrong SHA-256 signature is not rescued by a right SHA-1 one.
    let wrong_256 = DOCS_SIGNATURE.replace("757107", "000000");
    let both = headers(&[
        ("X-Hub-Signature", DOCS_SIGNATURE_SHA1),
        ("X-Hub-Signature-256", &wrong_256),
    ]);
    assert_eq!(verify_at(&v, &both, BODY, NOW), Err(VerifyError::Mismatch));
    let (header, reason) = malformed_reason(verify_at(
        &v,
        &headers(&[("X-Hub-Signature", "sha1=abc")]),
        BODY,
        NOW,
    ));
    assert_eq!(header, "X-Hub-Signature");
    assert_eq!(reason, "expected sha1= followed by 40 hex digits");
}

#[test]
fn rotation_reports_which_secret_matched() {
    let map = headers(&[("X-Hub-Signature-256", DOCS_SIGNATURE)]);
    let v = verifier(&[b"the old secret", SECRET]);
    assert_eq!(verify_at(&v, &map, BODY, NOW), ok(1, None));
}

#[test]
fn no_secret_is_a_key_error() {
    assert!(matches!(
        Verifier::new(Scheme::Github, &[], None),
        Err(KeyError::NoSecrets { .. })
    ));
}

#[test]
fn sign_orders_headers_as_github_sends_them() {
    let pairs = hookgate_verify::sign(
        &Scheme::Github,
        SECRET,
        &hookgate_verify::SignRequest {
            method: "POST",
            url: "/",
            body: BODY,
        },
        NOW,
        Some("abc"),
    )
    .unwrap();
    let names: Vec<&str> = pairs.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "X-GitHub-Delivery",
            "X-Hub-Signature",
            "X-Hub-Signature-256"
        ]
    );
}
