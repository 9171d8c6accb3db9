//! Schemes whose proof is not a header HMAC: Mailgun (signature in the body), Microsoft
//! Graph (`clientState` in the body), GitLab (a shared token header), plus Svix (Standard
//! Webhooks under `svix-*` names) and Meta's split of app secrets and verify tokens.
//!
//! Svix's vector is the one in the official `svix` libraries' tests (the same message
//! Standard Webhooks adopted). Mailgun publishes no vector with its key; it was computed
//! with Python's `hmac`.

use hookgate_verify::{
    sign, KeyError, Provider, Scheme, SignError, SignRequest, Verifier, VerifyError,
};

use crate::common::{headers, ok, signed, verify_at};

const NOW: i64 = 1_529_006_854;

mod mailgun {
    use super::*;

    const KEY: &[u8] = b"mailgun-key";
    const SIGNATURE: &str = "844893bd9b80646b873f861730cac5f49ca0ecf1653b1882690c214aaeb9a26b";
    const TOKEN: &str = "a8ce0edb2dd8301dee6c2405235584e45aa91d1e9f979f3de0";

    fn json(timestamp: &str, signature: &str) -> Vec<u8> {
        format!(
            r#"{{"signature": {{"timestamp": "{timestamp}", "token": "{TOKEN}", "signature": "{signature}"}}, "event-data": {{"id": "e1", "event": "delivered"}}}}"#
        )
        .into_bytes()
    }

    fn check(
        keys: &[&[u8]],
        body: &[u8],
        now: i64,
    ) -> Result<hookgate_verify::Verified, VerifyError> {
        verify_at(
            &Verifier::new(Scheme::Mailgun, keys, None).unwrap(),
            &headers(&[]),
            body,
            now,
        )
    }

    #[test]
    fn the_json_and_form_bodies_verify() {
        assert_eq!(
            check(&[KEY], &json("1529006854", SIGNATURE), NOW),
            ok(0, Some(NOW))
        );
        let form =
            format!("timestamp=1529006854&token={TOKEN}&signature={SIGNATURE}&event=delivered");
        assert_eq!(
            check(&[b"old", KEY], form.as_bytes(), NOW),
            ok(1, Some(NOW))
        );
    }

    #[test]
    fn a_changed_token_timestamp_or_key_fails() {
        assert_eq!(
            check(&[KEY], &json("1529006855", SIGNATURE), NOW),
            Err(VerifyError::Mismatch)
        );
        let other_token = json("1529006854", SIGNATURE)
            .into_iter()
            .map(|b| if b == b'a' { b'b' } else { b })
            .collect::<Vec<_>>();
        assert!(check(&[KEY], &other_token, NOW).is_err());
        assert_eq!(
            check(&[b"wrong"], &json("1529006854", SIGNATURE), NOW),
            Err(VerifyError::Mismatch)
        );
    }

    #[test]
    fn stale_and_future_timestamps_are_refused() {
        for now in [NOW - 301, NOW + 301] {
            assert!(matches!(
                check(&[KEY], &json("1529006854", SIGNATURE), now),
                Err(VerifyError::TimestampOutOfTolerance { .. })
            ));
        }
    }

    #[test]
    fn missing_fields_are_explained_and_sign_points_at_the_body() {
        let err = check(&[KEY], br#"{"event-data": {}}"#, NOW).unwrap_err();
        assert!(matches!(err, VerifyError::MalformedBody { .. }), "{err}");
        assert!(err.to_string().contains("signature.timestamp"), "{err}");
        let err = check(&[KEY], &json("1529006854", "abc"), NOW).unwrap_err();
        assert!(err.to_string().contains("64 hex digits"), "{err}");
        let req = SignRequest {
            method: "POST",
            url: "/",
            body: b"{}",
        };
        assert_eq!(
            sign(&Scheme::Mailgun, KEY, &req, NOW, None),
            Err(SignError::SignatureInBody {
                provider: Provider::Mailgun
            })
        );
    }
}

mod msgraph {
    use super::*;

    fn check(body: &[u8]) -> Result<hookgate_verify::Verified, VerifyError> {
        let v =
            Verifier::new(Scheme::Msgraph, &[b"old-state", b"secretClientValue"], None).unwrap();
        verify_at(&v, &headers(&[]), body, NOW)
    }

    #[test]
    fn every_notification_must_carry_a_configured_client_state() {
        let good = br#"{"value":[{"subscriptionId":"s","clientState":"secretClientValue","changeType":"created"}]}"#;
        assert_eq!(
            check(good),
            Ok(hookgate_verify::Verified {
                secret_index: Some(1),
                timestamp: None
            })
        );
        let mixed = br#"{"value":[{"clientState":"secretClientValue"},{"clientState":"guess"}]}"#;
        assert_eq!(check(mixed), Err(VerifyError::TokenMismatch));
        let missing = br#"{"value":[{"subscriptionId":"s"}]}"#;
        assert!(matches!(
            check(missing),
            Err(VerifyError::MalformedBody { .. })
        ));
        assert!(matches!(
            check(br#"{"value":[]}"#),
            Err(VerifyError::MalformedBody { .. })
        ));
    }
}

mod gitlab {
    use super::*;

    #[test]
    fn the_token_header_is_compared() {
        let v = Verifier::new(Scheme::Gitlab, &[b"old", b"glpat-token"], None).unwrap();
        let map = headers(&[("X-Gitlab-Token", "glpat-token")]);
        assert_eq!(verify_at(&v, &map, b"{}", NOW), ok(1, None));
        let wrong = headers(&[("X-Gitlab-Token", "glpat-tokem")]);
        assert_eq!(
            verify_at(&v, &wrong, b"{}", NOW),
            Err(VerifyError::TokenMismatch)
        );
        let prefix = headers(&[("X-Gitlab-Token", "glpat-tok")]);
        assert_eq!(
            verify_at(&v, &prefix, b"{}", NOW),
            Err(VerifyError::TokenMismatch)
        );
        assert_eq!(
            verify_at(&v, &headers(&[]), b"{}", NOW),
            Err(VerifyError::MissingHeader {
                header: "X-Gitlab-Token".into()
            })
        );
        let sent = signed(&Scheme::Gitlab, b"glpat-token", b"{}", NOW, None);
        assert_eq!(sent["x-gitlab-token"], "glpat-token");
    }
}

mod svix {
    use super::*;

    const SECRET: &[u8] = b"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const BODY: &[u8] = br#"{"test": 2432232314}"#;
    const SIGNATURE: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
    const TS: i64 = 1_614_265_330;

    fn verifier(secrets: &[&[u8]]) -> Verifier {
        Verifier::new(Scheme::Svix, secrets, None).unwrap()
    }

    fn svix_headers(body_signature: &str) -> http::HeaderMap {
        headers(&[
            ("svix-id", "msg_p5jXN8AQM9LWM0D4loKWxJek"),
            ("svix-timestamp", "1614265330"),
            ("svix-signature", body_signature),
        ])
    }

    #[test]
    fn the_svix_vector_verifies_under_svix_headers() {
        assert_eq!(
            verify_at(&verifier(&[SECRET]), &svix_headers(SIGNATURE), BODY, TS),
            ok(0, Some(TS))
        );
        assert_eq!(
            verify_at(
                &verifier(&[b"whsec_b2xk", SECRET]),
                &svix_headers(SIGNATURE),
                BODY,
                TS
            ),
            ok(1, Some(TS))
        );
        assert_eq!(
            verify_at(&verifier(&[SECRET]), &svix_headers(SIGNATURE), b"{}", TS),
            Err(VerifyError::Mismatch)
        );
        assert!(matches!(
            verify_at(
                &verifier(&[SECRET]),
                &svix_headers(SIGNATURE),
                BODY,
                TS + 301
            ),
            Err(VerifyError::TimestampOutOfTolerance { .. })
        ));
    }

    #[test]
    fn unbranded_headers_are_accepted_and_missing_ones_named_as_svix() {
        let unbranded = headers(&[
            ("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek"),
            ("webhook-timestamp", "1614265330"),
            ("webhook-signature", SIGNATURE),
        ]);
        assert_eq!(
            verify_at(&verifier(&[SECRET]), &unbranded, BODY, TS),
            ok(0, Some(TS))
        );
        assert_eq!(
            verify_at(&verifier(&[SECRET]), &headers(&[]), BODY, TS),
            Err(VerifyError::MissingHeader {
                header: "svix-signature".into()
            })
        );
    }

    #[test]
    fn signing_uses_svix_names() {
        let map = signed(
            &Scheme::Svix,
            SECRET,
            BODY,
            TS,
            Some("msg_p5jXN8AQM9LWM0D4loKWxJek"),
        );
        assert_eq!(map["svix-signature"], SIGNATURE);
        assert!(map.get("webhook-signature").is_none());
    }
}

mod meta {
    use super::*;

    #[test]
    fn verify_tokens_are_never_hmac_keys() {
        let body = br#"{"object":"page"}"#;
        let v = Verifier::new(Scheme::Meta, &[b"verify:hello", b"app-secret"], None).unwrap();
        // `secret_index` counts the verify token too: it is the position in the config.
        let by_token = signed(&Scheme::Meta, b"hello", body, NOW, None);
        assert_eq!(
            verify_at(&v, &by_token, body, NOW),
            Err(VerifyError::Mismatch)
        );
        let by_secret = signed(&Scheme::Meta, b"app-secret", body, NOW, None);
        assert_eq!(verify_at(&v, &by_secret, body, NOW), ok(1, None));
        assert!(matches!(
            Verifier::new(Scheme::Meta, &[b"verify:hello"], None),
            Err(KeyError::NoSecrets { .. })
        ));
        assert!(matches!(
            Verifier::new(Scheme::Meta, &[b"verify:", b"app"], None),
            Err(KeyError::BadSecret { index: 0, .. })
        ));
    }
}
