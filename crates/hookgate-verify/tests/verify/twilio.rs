//! Twilio vectors from the official helper libraries' `RequestValidator` tests
//! (twilio-php `tests/Twilio/Unit/Security/RequestValidatorTest.php`, the same in
//! twilio-python and twilio-csharp): auth token `12345`, the documented URL and
//! parameters, and the JSON body signed through `bodySHA256`.

use hookgate_verify::{sign, Scheme, SignRequest, Verifier, VerifyError};

use crate::common::{headers, ok, verify_url};

const TOKEN: &[u8] = b"12345";
const URL: &str = "https://mycompany.com/myapp.php?foo=1&bar=2";
/// The documented parameters, form-encoded in an arbitrary order (Twilio sorts them).
const FORM: &[u8] = b"Digits=1234&To=%2B18005551212&From=%2B14158675309&Caller=%2B14158675309&CallSid=CA1234567890ABCDE";
const SIGNATURE: &str = "RSOYDt4T1cUTdK1PDd93/VVr8B8=";
const JSON_BODY: &[u8] = br#"{"property": "value", "boolean": true}"#;
const JSON_URL: &str = "https://mycompany.com/myapp.php?foo=1&bar=2&bodySHA256=0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620";
/// HMAC-SHA1 of `JSON_URL` under `12345` (twilio-python `test_validation_of_body`).
const JSON_SIGNATURE: &str = "a9nBmqA0ju/hNViExpshrM61xv4=";
const NOW: i64 = 1_700_000_000;

fn verify(secrets: &[&[u8]], url: &str, body: &[u8], signature: &str) -> Result<(), VerifyError> {
    let verifier = Verifier::new(Scheme::Twilio, secrets, None).unwrap();
    let map = headers(&[("X-Twilio-Signature", signature)]);
    verify_url(&verifier, &map, url, body, NOW).map(|_| ())
}

#[test]
fn the_documented_form_vector_verifies() {
    let verifier = Verifier::new(Scheme::Twilio, &[TOKEN], None).unwrap();
    let map = headers(&[("X-Twilio-Signature", SIGNATURE)]);
    assert_eq!(verify_url(&verifier, &map, URL, FORM, NOW), ok(0, None));
}

#[test]
fn the_documented_json_vector_verifies() {
    assert_eq!(
        verify(&[TOKEN], JSON_URL, JSON_BODY, JSON_SIGNATURE),
        Ok(())
    );
}

#[test]
fn the_url_is_accepted_with_and_without_the_default_port() {
    let with_port = "https://mycompany.com:443/myapp.php?foo=1&bar=2";
    assert_eq!(verify(&[TOKEN], with_port, FORM, SIGNATURE), Ok(()));
    // Signed with the port (computed with Python's hmac), received without it.
    let signed_with_port = "kvajT1Ptam85bY51eRf/AJRuM3w=";
    assert_eq!(verify(&[TOKEN], URL, FORM, signed_with_port), Ok(()));
}

#[test]
fn tampering_fails() {
    let tampered_param = b"Digits=9999&To=%2B18005551212&From=%2B14158675309&Caller=%2B14158675309&CallSid=CA1234567890ABCDE";
    assert_eq!(
        verify(&[TOKEN], URL, tampered_param, SIGNATURE),
        Err(VerifyError::Mismatch)
    );
    let other_url = "https://mycompany.com/myapp.php?foo=1&bar=3";
    assert_eq!(
        verify(&[TOKEN], other_url, FORM, SIGNATURE),
        Err(VerifyError::Mismatch)
    );
    // The JSON body is covered through its hash even though the URL is what is signed.
    assert_eq!(
        verify(
            &[TOKEN],
            JSON_URL,
            br#"{"property": "value", "boolean": false}"#,
            JSON_SIGNATURE
        ),
        Err(VerifyError::Mismatch)
    );
}

#[test]
fn a_wrong_token_fails_and_rotation_is_reported() {
    assert_eq!(
        verify(&[b"54321"], URL, FORM, SIGNATURE),
        Err(VerifyError::Mismatch)
    );
    let verifier = Verifier::new(Scheme::Twilio, &[b"old token", TOKEN], None).unwrap();
    let map = headers(&[("X-Twilio-Signature", SIGNATURE)]);
    assert_eq!(verify_url(&verifier, &map, URL, FORM, NOW), ok(1, None));
}

#[test]
fn a_path_only_url_is_explained() {
    let err = verify(&[TOKEN], "/myapp.php?foo=1&bar=2", FORM, SIGNATURE).unwrap_err();
    assert_eq!(err.code(), "malformed_signature");
    assert!(err.to_string().contains("full public URL"), "{err}");
}

#[test]
fn malformed_and_missing_signatures() {
    let err = verify(&[TOKEN], URL, FORM, "RSOYDt4T1cUTdK1PDd93").unwrap_err();
    assert_eq!(err.code(), "malformed_signature");
    let verifier = Verifier::new(Scheme::Twilio, &[TOKEN], None).unwrap();
    assert_eq!(
        verify_url(&verifier, &headers(&[]), URL, FORM, NOW),
        Err(VerifyError::MissingHeader {
            header: "X-Twilio-Signature".into()
        })
    );
}

#[test]
fn repeated_parameters_are_sorted_by_value_and_counted_once() {
    // twilio-php `testValidateWithArrayAndDuplicates` / twilio-python
    // `test_compute_signature_duplicate_multi_dict`: Digits = [5678, 1234, 1234].
    let body = b"Sid=CA123&SidAccount=AC123&Digits=5678&Digits=1234&Digits=1234";
    assert_eq!(
        verify(&[TOKEN], URL, body, "IK+Dwps556ElfBT0I3Rgjkr1wJU="),
        Ok(())
    );
    let reordered = b"Digits=1234&Digits=5678&SidAccount=AC123&Sid=CA123";
    assert_eq!(
        verify(&[TOKEN], URL, reordered, "IK+Dwps556ElfBT0I3Rgjkr1wJU="),
        Ok(())
    );
    let req = SignRequest {
        method: "POST",
        url: URL,
        body,
    };
    assert_eq!(
        sign(&Scheme::Twilio, TOKEN, &req, NOW, None).unwrap()[0].1,
        "IK+Dwps556ElfBT0I3Rgjkr1wJU="
    );
}

#[test]
fn signing_reproduces_both_vectors() {
    let form = SignRequest {
        method: "POST",
        url: URL,
        body: FORM,
    };
    assert_eq!(
        sign(&Scheme::Twilio, TOKEN, &form, NOW, None).unwrap(),
        vec![("X-Twilio-Signature".to_owned(), SIGNATURE.to_owned())]
    );
    let json = SignRequest {
        method: "POST",
        url: JSON_URL,
        body: JSON_BODY,
    };
    assert_eq!(
        sign(&Scheme::Twilio, TOKEN, &json, NOW, None).unwrap(),
        vec![("X-Twilio-Signature".to_owned(), JSON_SIGNATURE.to_owned())]
    );
    let wrong_hash = SignRequest {
        body: b"{}",
        ..json
    };
    assert!(sign(&Scheme::Twilio, TOKEN, &wrong_hash, NOW, None).is_err());
}
