//! Public-key schemes: Discord (Ed25519), SendGrid (ECDSA P-256) and Standard Webhooks
//! `v1a` (Ed25519). The configured secret is a public key, so `sign` refuses; these tests
//! sign with the private half themselves.
//!
//! SendGrid's key pair, timestamp and payload are those of the official
//! `@sendgrid/eventwebhook` test (`packages/eventwebhook/src/eventwebhook.spec.js`), whose
//! signature is itself made at test time with that private key, as here (RFC 6979 makes
//! ours deterministic). Discord and Standard Webhooks publish no `v1a` vector with a key;
//! theirs use fixed test keys.

use base64::{engine::general_purpose::STANDARD as BASE64, Engine as _};
use ed25519_dalek::{Signer as _, SigningKey};
use hookgate_verify::{sign, KeyError, Scheme, SignError, SignRequest, Verifier, VerifyError};
use p256::ecdsa::Signature as EcdsaSignature;

use crate::common::{headers, ok, verify_at};

fn sign_request(body: &[u8]) -> SignRequest<'_> {
    SignRequest {
        method: "POST",
        url: "/",
        body,
    }
}

mod discord {
    use super::*;

    const TS: &str = "1700000000";
    const NOW: i64 = 1_700_000_000;
    const BODY: &[u8] = br#"{"id":"1","type":1}"#;

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    fn public_hex(seed: u8) -> String {
        hex::encode(key(seed).verifying_key().as_bytes())
    }

    fn signed(seed: u8, ts: &str, body: &[u8]) -> http::HeaderMap {
        let signature = key(seed).sign(&[ts.as_bytes(), body].concat());
        headers(&[
            ("X-Signature-Ed25519", &hex::encode(signature.to_bytes())),
            ("X-Signature-Timestamp", ts),
        ])
    }

    fn verifier(seeds: &[u8]) -> Verifier {
        let keys: Vec<String> = seeds.iter().map(|s| public_hex(*s)).collect();
        let refs: Vec<&[u8]> = keys.iter().map(String::as_bytes).collect();
        Verifier::new(Scheme::Discord, &refs, None).unwrap()
    }

    /// Discord's PINGs are answered (PONG for interactions, 204 for webhook events), only
    /// when signed by the application's key; anything else is ingested.
    #[test]
    fn pings_are_answered_after_verifying() {
        use hookgate_verify::{handshake::respond, Request};
        let v = verifier(&[1]);
        let answer = |headers: &http::HeaderMap, body: &[u8]| {
            respond(
                &v,
                &Request {
                    method: "POST",
                    url: "/in/discord",
                    headers,
                    body,
                },
                NOW,
            )
        };
        let interaction = br#"{"id":"1","type":1,"application_id":"9"}"#;
        let pong = answer(&signed(1, TS, interaction), interaction)
            .unwrap()
            .unwrap();
        assert_eq!(
            (pong.status, pong.body.as_slice()),
            (200, br#"{"type":1}"#.as_slice())
        );
        let event_ping = br#"{"version":1,"application_id":"9","type":0}"#;
        let ack = answer(&signed(1, TS, event_ping), event_ping)
            .unwrap()
            .unwrap();
        assert_eq!((ack.status, ack.body.len()), (204, 0));
        // Forged by another key: refused, not answered.
        assert_eq!(
            answer(&signed(2, TS, interaction), interaction),
            Some(Err(VerifyError::Mismatch))
        );
        // A real event (type 1 webhook event with `event`, or a command interaction): ingested.
        let event = br#"{"version":1,"application_id":"9","type":1,"event":{"type":"APPLICATION_AUTHORIZED"}}"#;
        assert_eq!(answer(&signed(1, TS, event), event), None);
        let command = br#"{"id":"1","type":2}"#;
        assert_eq!(answer(&signed(1, TS, command), command), None);
    }

    #[test]
    fn a_signature_by_the_application_key_verifies() {
        assert_eq!(
            verify_at(&verifier(&[1]), &signed(1, TS, BODY), BODY, NOW),
            ok(0, Some(NOW))
        );
        assert_eq!(
            verify_at(&verifier(&[2, 1]), &signed(1, TS, BODY), BODY, NOW),
            ok(1, Some(NOW))
        );
    }

    #[test]
    fn tampering_another_key_and_the_window_fail() {
        let map = signed(1, TS, BODY);
        assert_eq!(
            verify_at(&verifier(&[1]), &map, b"{}", NOW),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(
            verify_at(&verifier(&[2]), &map, BODY, NOW),
            Err(VerifyError::Mismatch)
        );
        let moved = headers(&[
            (
                "X-Signature-Ed25519",
                map["x-signature-ed25519"].to_str().unwrap(),
            ),
            ("X-Signature-Timestamp", "1700000001"),
        ]);
        assert_eq!(
            verify_at(&verifier(&[1]), &moved, BODY, NOW),
            Err(VerifyError::Mismatch)
        );
        for now in [NOW - 301, NOW + 301] {
            assert!(matches!(
                verify_at(&verifier(&[1]), &map, BODY, now),
                Err(VerifyError::TimestampOutOfTolerance { .. })
            ));
        }
    }

    #[test]
    fn malformed_signatures_and_keys_are_explained() {
        let map = headers(&[
            ("X-Signature-Ed25519", "abcd"),
            ("X-Signature-Timestamp", TS),
        ]);
        let err = verify_at(&verifier(&[1]), &map, BODY, NOW).unwrap_err();
        assert!(err.to_string().contains("128 hex digits"), "{err}");
        let err = Verifier::new(Scheme::Discord, &[b"not hex"], None).unwrap_err();
        assert!(matches!(err, KeyError::BadSecret { index: 0, .. }), "{err}");
    }

    #[test]
    fn a_public_key_cannot_sign() {
        assert_eq!(
            sign(
                &Scheme::Discord,
                public_hex(1).as_bytes(),
                &sign_request(BODY),
                NOW,
                None
            ),
            Err(SignError::VerifyOnly {
                provider: hookgate_verify::Provider::Discord
            })
        );
    }
}

mod sendgrid {
    use p256::ecdsa::SigningKey;

    use super::*;

    const PUBLIC_KEY: &str = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEmnMGmPY1QYU72N6wCmFqnDyixrWftlB3VWPVIpXeQCTCtTw5WUm/RJIl7q3bUMU+jqzctrBHApNV4RI62E7Lfg==";
    /// The SDK test's "invalid key".
    const OTHER_KEY: &str = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEqTxd43gyp8IOEto2LdIfjRQrIbsd4SXZkLW6jDutdhXSJCWHw8REntlo7aNDthvj+y7GjUuFDb/R1NGe1OPzpA==";
    /// The private scalar of the SDK test's `EC PRIVATE KEY`.
    const PRIVATE_SCALAR: &str = "728a6008b341ded153b8f8fd9f8e955e4ef71825975e555cd4e000e618bd2070";
    /// The SDK test's "bad signature".
    const BAD_SIGNATURE: &str = "MEUCIQCtIHJeH93Y+qpYeWrySphQgpNGNr/U+UyUlBkU6n7RAwIgJTz2C+8a8xonZGi6BpSzoQsbVRamr2nlxFDWYNH3j/0=";
    const TS: &str = "1600112502";
    const NOW: i64 = 1_600_112_502;
    /// `JSON.stringify` of the SDK test's event, plus the trailing CRLF SendGrid sends.
    const PAYLOAD: &[u8] = b"[{\"email\":\"hello@world.com\",\"event\":\"dropped\",\"reason\":\"Bounced Address\",\"sg_event_id\":\"ZHJvcC0xMDk5NDkxOS1MUnpYbF9OSFN0T0doUTRrb2ZTbV9BLTA\",\"sg_message_id\":\"LRzXl_NHStOGhQ4kofSm_A.filterdrecv-p3mdw1-756b745b58-kmzbl-18-5F5FC76C-9.0\",\"smtp-id\":\"<LRzXl_NHStOGhQ4kofSm_A@ismtpd0039p1iad1.sendgrid.net>\",\"timestamp\":1600112492,\"schema\":\"TEST12345\",\"test\":\"true\"}]\r\n";

    fn signature(ts: &str, body: &[u8]) -> String {
        let scalar: [u8; 32] = hex::decode(PRIVATE_SCALAR).unwrap().try_into().unwrap();
        let key = SigningKey::from_bytes(&scalar.into()).unwrap();
        let signature: EcdsaSignature = key.sign(&[ts.as_bytes(), body].concat());
        BASE64.encode(signature.to_der().as_bytes())
    }

    fn signed(ts: &str, body: &[u8]) -> http::HeaderMap {
        headers(&[
            (
                "X-Twilio-Email-Event-Webhook-Signature",
                &signature(ts, body),
            ),
            ("X-Twilio-Email-Event-Webhook-Timestamp", ts),
        ])
    }

    fn verifier(keys: &[&str]) -> Verifier {
        let refs: Vec<&[u8]> = keys.iter().map(|k| k.as_bytes()).collect();
        Verifier::new(Scheme::Sendgrid, &refs, None).unwrap()
    }

    #[test]
    fn the_sdk_test_payload_verifies_with_its_key() {
        assert_eq!(
            verify_at(&verifier(&[PUBLIC_KEY]), &signed(TS, PAYLOAD), PAYLOAD, NOW),
            ok(0, Some(NOW))
        );
        let pem = format!(
            "-----BEGIN PUBLIC KEY-----\n{}\n{}\n-----END PUBLIC KEY-----\n",
            &PUBLIC_KEY[..64],
            &PUBLIC_KEY[64..]
        );
        assert_eq!(
            verify_at(
                &verifier(&[OTHER_KEY, &pem]),
                &signed(TS, PAYLOAD),
                PAYLOAD,
                NOW
            ),
            ok(1, Some(NOW))
        );
    }

    #[test]
    fn the_sdk_test_rejections_hold() {
        let v = verifier(&[PUBLIC_KEY]);
        assert_eq!(
            verify_at(&verifier(&[OTHER_KEY]), &signed(TS, PAYLOAD), PAYLOAD, NOW),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(
            verify_at(&v, &signed(TS, PAYLOAD), b"payload", NOW),
            Err(VerifyError::Mismatch)
        );
        let bad = headers(&[
            ("X-Twilio-Email-Event-Webhook-Signature", BAD_SIGNATURE),
            ("X-Twilio-Email-Event-Webhook-Timestamp", TS),
        ]);
        assert_eq!(
            verify_at(&v, &bad, PAYLOAD, NOW),
            Err(VerifyError::Mismatch)
        );
        let err = verify_at(&v, &signed("timestamp", PAYLOAD), PAYLOAD, NOW).unwrap_err();
        assert_eq!(err.code(), "malformed_signature");
        // The trailing CRLF is part of what was signed.
        let trimmed = &PAYLOAD[..PAYLOAD.len() - 2];
        assert_eq!(
            verify_at(&v, &signed(TS, PAYLOAD), trimmed, NOW),
            Err(VerifyError::Mismatch)
        );
    }

    #[test]
    fn stale_and_future_timestamps_are_refused() {
        let v = verifier(&[PUBLIC_KEY]);
        for now in [NOW - 301, NOW + 301] {
            assert!(matches!(
                verify_at(&v, &signed(TS, PAYLOAD), PAYLOAD, now),
                Err(VerifyError::TimestampOutOfTolerance { .. })
            ));
        }
    }

    #[test]
    fn bad_keys_and_signatures_are_explained() {
        let err = Verifier::new(Scheme::Sendgrid, &[b"bm90IGEga2V5"], None).unwrap_err();
        assert!(err.to_string().contains("P-256 public key"), "{err}");
        let map = headers(&[
            ("X-Twilio-Email-Event-Webhook-Signature", "bm90IGRlcg=="),
            ("X-Twilio-Email-Event-Webhook-Timestamp", TS),
        ]);
        let err = verify_at(&verifier(&[PUBLIC_KEY]), &map, PAYLOAD, NOW).unwrap_err();
        assert!(err.to_string().contains("DER-encoded ECDSA"), "{err}");
        assert!(matches!(
            sign(
                &Scheme::Sendgrid,
                PUBLIC_KEY.as_bytes(),
                &sign_request(PAYLOAD),
                NOW,
                None
            ),
            Err(SignError::VerifyOnly { .. })
        ));
    }
}

mod standard_webhooks_v1a {
    use super::*;

    const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const TS: &str = "1614265330";
    const NOW: i64 = 1_614_265_330;
    const BODY: &[u8] = br#"{"test": 2432232314}"#;
    const HMAC_SECRET: &[u8] = b"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    /// The spec's v1 vector for the same message.
    const V1: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    fn key() -> SigningKey {
        SigningKey::from_bytes(&[9; 32])
    }

    fn public_secret() -> String {
        format!("whpk_{}", BASE64.encode(key().verifying_key().as_bytes()))
    }

    fn v1a(body: &[u8]) -> String {
        let message = [ID.as_bytes(), b".", TS.as_bytes(), b".", body].concat();
        format!("v1a,{}", BASE64.encode(key().sign(&message).to_bytes()))
    }

    fn map(signature: &str) -> http::HeaderMap {
        headers(&[
            ("webhook-id", ID),
            ("webhook-timestamp", TS),
            ("webhook-signature", signature),
        ])
    }

    #[test]
    fn an_ed25519_signature_verifies_with_a_whpk_key() {
        let public = public_secret();
        let v = Verifier::new(Scheme::StandardWebhooks, &[public.as_bytes()], None).unwrap();
        assert_eq!(verify_at(&v, &map(&v1a(BODY)), BODY, NOW), ok(0, Some(NOW)));
        assert_eq!(
            verify_at(&v, &map(&v1a(BODY)), b"{}", NOW),
            Err(VerifyError::Mismatch)
        );
        // A v1 signature is no use to a public key, and the reverse.
        assert_eq!(
            verify_at(&v, &map(V1), BODY, NOW),
            Err(VerifyError::Mismatch)
        );
        let hmac_only = Verifier::new(Scheme::StandardWebhooks, &[HMAC_SECRET], None).unwrap();
        assert_eq!(
            verify_at(&hmac_only, &map(&v1a(BODY)), BODY, NOW),
            Err(VerifyError::Mismatch)
        );
    }

    #[test]
    fn mixed_headers_and_keys_rotate() {
        let public = public_secret();
        let both = format!("{} {V1}", v1a(BODY));
        let v = Verifier::new(
            Scheme::StandardWebhooks,
            &[public.as_bytes(), HMAC_SECRET],
            None,
        )
        .unwrap();
        assert_eq!(verify_at(&v, &map(&both), BODY, NOW), ok(0, Some(NOW)));
        let v = Verifier::new(
            Scheme::StandardWebhooks,
            &[HMAC_SECRET, public.as_bytes()],
            None,
        )
        .unwrap();
        assert_eq!(verify_at(&v, &map(&v1a(BODY)), BODY, NOW), ok(1, Some(NOW)));
    }

    #[test]
    fn bad_public_keys_and_signing_are_refused() {
        let err = Verifier::new(Scheme::StandardWebhooks, &[b"whpk_AAAA"], None).unwrap_err();
        assert!(err.to_string().contains("Ed25519 public key"), "{err}");
        let public = public_secret();
        assert!(matches!(
            sign(
                &Scheme::StandardWebhooks,
                public.as_bytes(),
                &sign_request(BODY),
                NOW,
                Some(ID)
            ),
            Err(SignError::VerifyOnly { .. })
        ));
    }
}
