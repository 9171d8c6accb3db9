//! Paddle, Linear and HubSpot: timestamps in unusual places (a `ts=` element, a
//! millisecond field in the body, a millisecond header) and HubSpot's three versions.
//!
//! HubSpot's v1 vector is the worked example in HubSpot's "Validating requests from
//! HubSpot" (secret `yyyyyyyy-…`, the `contact.creation` body). Paddle, Linear and HubSpot
//! v2/v3 publish no vector with its secret; those were computed with Python's `hmac` and
//! `hashlib` from the documented layouts.

use hookgate_verify::{sign, Scheme, SignRequest, Verifier, VerifyError};

use crate::common::{header_map, headers, ok, verify_url};

const BODY: &[u8] = br#"{"id":"evt_1","type":"demo"}"#;
const URL: &str = "https://hooks.example.com/in/source";

fn verifier(scheme: Scheme, secrets: &[&[u8]]) -> Verifier {
    Verifier::new(scheme, secrets, None).unwrap()
}

mod paddle {
    use super::*;

    const SECRET: &[u8] = b"pdl_ntfset_test";
    const TS: i64 = 1_671_552_777;
    const H1: &str = "d53c262f984b63e1e213860b9e531d99ec6b7f0f3790699d5f1a2cdd3fc244a6";

    fn header(value: &str) -> http::HeaderMap {
        headers(&[("Paddle-Signature", value)])
    }

    #[test]
    fn the_vector_verifies_and_re_signs() {
        let value = format!("ts={TS};h1={H1}");
        assert_eq!(
            verify_url(
                &verifier(Scheme::Paddle, &[SECRET]),
                &header(&value),
                URL,
                BODY,
                TS
            ),
            ok(0, Some(TS))
        );
        let req = SignRequest {
            method: "POST",
            url: URL,
            body: BODY,
        };
        assert_eq!(
            sign(&Scheme::Paddle, SECRET, &req, TS, None).unwrap(),
            vec![("Paddle-Signature".to_owned(), value)]
        );
    }

    #[test]
    fn several_h1_signatures_are_allowed_while_rotating() {
        let value = format!("ts={TS};h1={};h1={H1}", "0".repeat(64));
        assert_eq!(
            verify_url(
                &verifier(Scheme::Paddle, &[b"other", SECRET]),
                &header(&value),
                URL,
                BODY,
                TS
            ),
            ok(1, Some(TS))
        );
    }

    #[test]
    fn tampering_a_wrong_secret_and_the_five_second_window() {
        let value = format!("ts={TS};h1={H1}");
        let v = verifier(Scheme::Paddle, &[SECRET]);
        assert_eq!(
            verify_url(&v, &header(&value), URL, b"{}", TS),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(
            verify_url(
                &verifier(Scheme::Paddle, &[b"wrong"]),
                &header(&value),
                URL,
                BODY,
                TS
            ),
            Err(VerifyError::Mismatch)
        );
        assert!(verify_url(&v, &header(&value), URL, BODY, TS + 5).is_ok());
        for now in [TS + 6, TS - 6] {
            assert!(matches!(
                verify_url(&v, &header(&value), URL, BODY, now),
                Err(VerifyError::TimestampOutOfTolerance {
                    tolerance_secs: 5,
                    ..
                })
            ));
        }
        // A signed ts= cannot be swapped for a fresher one.
        let moved = format!("ts={};h1={H1}", TS + 1);
        assert_eq!(
            verify_url(&v, &header(&moved), URL, BODY, TS),
            Err(VerifyError::Mismatch)
        );
    }

    #[test]
    fn malformed_headers_say_what_is_missing() {
        let v = verifier(Scheme::Paddle, &[SECRET]);
        for (value, expected) in [
            (format!("h1={H1}"), "no ts= element"),
            (format!("ts={TS}"), "no h1= signature"),
            (format!("ts={TS};h1=abc"), "64 hex digits"),
            (format!("ts={TS};ts={TS};h1={H1}"), "more than one ts="),
        ] {
            let err = verify_url(&v, &header(&value), URL, BODY, TS).unwrap_err();
            assert!(err.to_string().contains(expected), "{value}: {err}");
        }
    }
}

mod linear {
    use super::*;

    const SECRET: &[u8] = b"lin_wh_secret";
    const BODY: &[u8] = br#"{"action":"create","type":"Issue","webhookTimestamp":1700000000123}"#;
    const SIGNATURE: &str = "4ff58c16bddf3142f867243ebe039e306fcc4206e60072da0c5497bdde40248b";
    const NOW: i64 = 1_700_000_000;

    fn check(
        secrets: &[&[u8]],
        body: &[u8],
        now: i64,
    ) -> Result<hookgate_verify::Verified, VerifyError> {
        let map = headers(&[("Linear-Signature", SIGNATURE)]);
        verify_url(&verifier(Scheme::Linear, secrets), &map, URL, body, now)
    }

    #[test]
    fn the_vector_verifies_with_its_body_timestamp() {
        assert_eq!(check(&[SECRET], BODY, NOW), ok(0, Some(NOW)));
        assert_eq!(check(&[b"old", SECRET], BODY, NOW), ok(1, Some(NOW)));
    }

    #[test]
    fn tampering_and_a_wrong_secret_fail() {
        let tampered = BODY
            .to_vec()
            .into_iter()
            .map(|b| if b == b'I' { b'J' } else { b })
            .collect::<Vec<_>>();
        assert_eq!(check(&[SECRET], &tampered, NOW), Err(VerifyError::Mismatch));
        assert_eq!(check(&[b"wrong"], BODY, NOW), Err(VerifyError::Mismatch));
    }

    #[test]
    fn the_window_is_sixty_seconds_in_milliseconds() {
        // webhookTimestamp is NOW + 0.123 s: 60 s later is 59.877 s after it.
        assert!(check(&[SECRET], BODY, NOW + 60).is_ok());
        assert!(matches!(
            check(&[SECRET], BODY, NOW + 61),
            Err(VerifyError::TimestampOutOfTolerance {
                tolerance_secs: 60,
                ..
            })
        ));
        assert!(matches!(
            check(&[SECRET], BODY, NOW - 60),
            Err(VerifyError::TimestampOutOfTolerance { .. })
        ));
    }

    #[test]
    fn a_body_without_the_timestamp_is_malformed() {
        let req = SignRequest {
            method: "POST",
            url: URL,
            body: b"{\"action\":\"create\"}",
        };
        let pairs = sign(&Scheme::Linear, SECRET, &req, NOW, None).unwrap();
        let err = verify_url(
            &verifier(Scheme::Linear, &[SECRET]),
            &header_map(&pairs),
            URL,
            req.body,
            NOW,
        )
        .unwrap_err();
        assert!(matches!(err, VerifyError::MalformedBody { .. }), "{err}");
        assert!(err.to_string().contains("webhookTimestamp"), "{err}");
    }
}

mod hubspot {
    use super::*;

    const DOCS_SECRET: &[u8] = b"yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy";
    const DOCS_BODY: &[u8] = br#"[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,"changeSource":"CRM","changeFlag":"NEW","appId":54321}]"#;
    const DOCS_V1: &str = "232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de";
    const SECRET: &[u8] = b"hubspot-secret";
    const HUB_URL: &str = "https://example.com/webhooks/hubspot?from=a%3Ab";
    const V2: &str = "d838897358448067ae203b41142351975db15cf83c8710631ae19c2ccb443c88";
    const V3: &str = "QVF0Tc4CZPhmeP5zKQ3xwg64NZk6+wp6mzz3/fsHap8=";
    const NOW: i64 = 1_700_000_000;

    fn check(
        secrets: &[&[u8]],
        pairs: &[(&str, &str)],
        body: &[u8],
        now: i64,
    ) -> Result<hookgate_verify::Verified, VerifyError> {
        verify_url(
            &verifier(Scheme::Hubspot, secrets),
            &headers(pairs),
            HUB_URL,
            body,
            now,
        )
    }

    fn v3_headers() -> [(&'static str, &'static str); 2] {
        [
            ("X-HubSpot-Signature-v3", V3),
            ("X-HubSpot-Request-Timestamp", "1700000000000"),
        ]
    }

    #[test]
    fn the_documented_v1_vector_verifies() {
        let pairs = [
            ("X-HubSpot-Signature", DOCS_V1),
            ("X-HubSpot-Signature-Version", "v1"),
        ];
        assert_eq!(check(&[DOCS_SECRET], &pairs, DOCS_BODY, NOW), ok(0, None));
        assert_eq!(
            check(&[DOCS_SECRET], &pairs, b"[]", NOW),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(
            check(&[SECRET], &pairs, DOCS_BODY, NOW),
            Err(VerifyError::Mismatch)
        );
    }

    #[test]
    fn v2_signs_method_and_url() {
        let pairs = [
            ("X-HubSpot-Signature", V2),
            ("X-HubSpot-Signature-Version", "v2"),
        ];
        assert_eq!(check(&[b"old", SECRET], &pairs, BODY, NOW), ok(1, None));
        let v = verifier(Scheme::Hubspot, &[SECRET]);
        let other = verify_url(
            &v,
            &headers(&pairs),
            "https://example.com/elsewhere",
            BODY,
            NOW,
        );
        assert_eq!(other, Err(VerifyError::Mismatch));
    }

    #[test]
    fn v3_verifies_with_its_millisecond_timestamp_and_decoded_uri() {
        assert_eq!(check(&[SECRET], &v3_headers(), BODY, NOW), ok(0, Some(NOW)));
        assert_eq!(
            check(&[b"old", SECRET], &v3_headers(), BODY, NOW),
            ok(1, Some(NOW))
        );
        assert_eq!(
            check(&[SECRET], &v3_headers(), b"{}", NOW),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(
            check(&[b"wrong"], &v3_headers(), BODY, NOW),
            Err(VerifyError::Mismatch)
        );
        assert!(check(&[SECRET], &v3_headers(), BODY, NOW + 300).is_ok());
        for now in [NOW + 301, NOW - 301] {
            assert!(matches!(
                check(&[SECRET], &v3_headers(), BODY, now),
                Err(VerifyError::TimestampOutOfTolerance { .. })
            ));
        }
    }

    #[test]
    fn v3_is_what_sign_produces() {
        let req = SignRequest {
            method: "POST",
            url: HUB_URL,
            body: BODY,
        };
        let pairs = sign(&Scheme::Hubspot, SECRET, &req, NOW, None).unwrap();
        assert_eq!(
            pairs,
            vec![
                (
                    "X-HubSpot-Request-Timestamp".to_owned(),
                    "1700000000000".to_owned()
                ),
                ("X-HubSpot-Signature-v3".to_owned(), V3.to_owned()),
            ]
        );
    }

    #[test]
    fn versions_are_checked() {
        let err = check(
            &[SECRET],
            &[
                ("X-HubSpot-Signature", V2),
                ("X-HubSpot-Signature-Version", "v9"),
            ],
            BODY,
            NOW,
        )
        .unwrap_err();
        assert!(err.to_string().contains("expected v1 or v2"), "{err}");
        let err = check(&[SECRET], &[("X-HubSpot-Signature", V2)], BODY, NOW).unwrap_err();
        assert_eq!(
            err,
            VerifyError::MissingHeader {
                header: "X-HubSpot-Signature-Version".into()
            }
        );
        let err = check(&[SECRET], &[], BODY, NOW).unwrap_err();
        assert_eq!(
            err,
            VerifyError::MissingHeader {
                header: "X-HubSpot-Signature".into()
            }
        );
    }
}
