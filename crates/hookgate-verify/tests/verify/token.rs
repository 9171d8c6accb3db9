use hookgate_verify::{
    sign, KeyError, Scheme, SignError, SignRequest, TokenOptions, Verifier, VerifyError,
};

use crate::common::{headers, malformed_reason, ok, signed, verify_at, verify_url};

fn bearer() -> TokenOptions {
    TokenOptions {
        header: Some("Authorization".into()),
        query: None,
        prefix: Some("Bearer ".into()),
        path: false,
    }
}

fn query() -> TokenOptions {
    TokenOptions {
        query: Some("token".into()),
        ..TokenOptions::default()
    }
}

fn verifier(options: TokenOptions, secrets: &[&[u8]]) -> Verifier {
    Verifier::new(Scheme::Token(options), secrets, None).unwrap()
}

#[test]
fn a_bearer_token_verifies() {
    let v = verifier(bearer(), &[b"s3cret"]);
    let map = headers(&[("Authorization", "Bearer s3cret")]);
    assert_eq!(verify_at(&v, &map, b"", 0), ok(0, None));
    // Auth schemes are case-insensitive (RFC 9110 §11.1).
    let map = headers(&[("authorization", "bearer s3cret")]);
    assert_eq!(verify_at(&v, &map, b"", 0), ok(0, None));
    assert_eq!(
        signed(&Scheme::Token(bearer()), b"s3cret", b"", 0, None)["authorization"],
        "Bearer s3cret"
    );
}

#[test]
fn wrong_truncated_or_extended_tokens_fail() {
    let v = verifier(bearer(), &[b"s3cret"]);
    for value in [
        "Bearer s3cre",
        "Bearer s3cret2",
        "Bearer S3CRET",
        "Bearer x",
    ] {
        let err = verify_at(&v, &headers(&[("Authorization", value)]), b"", 0).unwrap_err();
        assert_eq!(err, VerifyError::TokenMismatch, "{value}");
        assert!(!err.to_string().contains("s3cret"));
    }
}

#[test]
fn missing_and_malformed_header_tokens() {
    let v = verifier(bearer(), &[b"s3cret"]);
    assert_eq!(
        verify_at(&v, &headers(&[]), b"", 0)
            .unwrap_err()
            .to_string(),
        "no Authorization header"
    );
    let (header, reason) = malformed_reason(verify_at(
        &v,
        &headers(&[("Authorization", "s3cret")]),
        b"",
        0,
    ));
    assert_eq!(header, "Authorization");
    assert_eq!(reason, "expected Bearer <token>");
    malformed_reason(verify_at(
        &v,
        &headers(&[("Authorization", "Bearer ")]),
        b"",
        0,
    ));
}

#[test]
fn a_query_token_is_percent_decoded() {
    let v = verifier(query(), &[b"old", b"s3cr+t/="]);
    let map = headers(&[]);
    assert_eq!(
        verify_url(&v, &map, "/in/x?a=1&token=s3cr%2Bt%2F%3D", b"", 0),
        ok(1, None)
    );
    assert_eq!(
        verify_url(
            &v,
            &map,
            "https://hooks.example.com/in/x?token=old#frag",
            b"",
            0
        ),
        ok(0, None)
    );
    assert_eq!(
        verify_url(&v, &map, "/in/x?token=wrong", b"", 0),
        Err(VerifyError::TokenMismatch)
    );
    let missing = verify_url(&v, &map, "/in/x?tokens=old", b"", 0).unwrap_err();
    assert_eq!(
        missing,
        VerifyError::MissingToken {
            param: "token".into()
        }
    );
    assert_eq!(missing.code(), "missing_signature");
    assert!(verify_url(&v, &map, "/in/x", b"", 0).is_err());
    assert!(verify_url(&v, &map, "/in/x?token=", b"", 0).is_err());
}

#[test]
fn signing_a_query_token_is_left_to_the_caller() {
    let req = SignRequest {
        method: "POST",
        url: "/in/x",
        body: b"",
    };
    assert_eq!(
        sign(&Scheme::Token(query()), b"s", &req, 0, None),
        Err(SignError::QueryToken {
            param: "token".into()
        })
    );
    assert_eq!(
        sign(&Scheme::Token(bearer()), b"two words", &req, 0, None),
        Err(SignError::SecretNotHeaderSafe)
    );
}

#[test]
fn options_are_validated() {
    let build = |options: TokenOptions| Verifier::new(Scheme::Token(options), &[b"s"], None);
    assert!(matches!(
        build(TokenOptions::default()),
        Err(KeyError::BadOptions { .. })
    ));
    assert!(matches!(
        build(TokenOptions {
            header: Some("X-Token".into()),
            query: Some("token".into()),
            prefix: None,
            path: false,
        }),
        Err(KeyError::BadOptions { .. })
    ));
    assert!(matches!(
        build(TokenOptions {
            prefix: Some("Bearer ".into()),
            ..query()
        }),
        Err(KeyError::BadOptions { .. })
    ));
    assert!(matches!(
        Verifier::new(Scheme::Token(bearer()), &[], None),
        Err(KeyError::NoSecrets { .. })
    ));
}

#[test]
fn a_path_token_is_the_last_segment_and_is_redacted() {
    let v = verifier(
        TokenOptions {
            path: true,
            ..TokenOptions::default()
        },
        &[b"s3 cret"],
    );
    let map = headers(&[]);
    assert_eq!(
        verify_url(
            &v,
            &map,
            "https://h.example/in/legacy/s3%20cret?x=1",
            b"",
            0
        ),
        ok(0, None)
    );
    assert_eq!(
        verify_url(&v, &map, "/in/legacy/s3%20cret", b"", 0),
        ok(0, None)
    );
    assert_eq!(
        verify_url(&v, &map, "/in/legacy/guess", b"", 0),
        Err(VerifyError::TokenMismatch)
    );
    assert!(matches!(
        verify_url(&v, &map, "/in/legacy/", b"", 0),
        Err(VerifyError::MissingToken { .. })
    ));
    assert_eq!(
        v.redact_url("https://h.example/in/legacy/s3%20cret?x=1"),
        "https://h.example/in/legacy/***?x=1"
    );
    assert_eq!(
        sign(
            &Scheme::Token(TokenOptions {
                path: true,
                ..TokenOptions::default()
            }),
            b"t",
            &SignRequest {
                method: "POST",
                url: "/in/x",
                body: b""
            },
            0,
            None
        ),
        Err(SignError::PathToken)
    );
    let both = Verifier::new(
        Scheme::Token(TokenOptions {
            path: true,
            query: Some("t".into()),
            ..TokenOptions::default()
        }),
        &[b"s"],
        None,
    );
    assert!(matches!(both, Err(KeyError::BadOptions { .. })));
}

#[test]
fn query_and_header_tokens_are_redacted() {
    let q = verifier(query(), &[b"s3cret"]);
    assert_eq!(
        q.redact_url("/in/x?a=1&token=s3cret&b=2"),
        "/in/x?a=1&token=***&b=2"
    );
    assert_eq!(q.redact_url("/in/x"), "/in/x");
    assert!(!q.is_secret_header(&http::header::AUTHORIZATION));
    let h = verifier(bearer(), &[b"s3cret"]);
    assert!(h.is_secret_header(&http::header::AUTHORIZATION));
    assert_eq!(h.redact_url("/in/x?token=kept"), "/in/x?token=kept");
}

#[test]
fn basic_credentials() {
    let v = Verifier::new(Scheme::Basic, &[b"old:pw", b"hooks:s3cret"], None).unwrap();
    // "hooks:s3cret" in base64, as RFC 7617 §2 encodes user-pass.
    let map = headers(&[("Authorization", "Basic aG9va3M6czNjcmV0")]);
    assert_eq!(verify_at(&v, &map, b"", 0), ok(1, None));
    let lower = headers(&[("Authorization", "basic aG9va3M6czNjcmV0")]);
    assert_eq!(
        verify_at(&v, &lower, b"", 0),
        ok(1, None),
        "the scheme name is case-insensitive"
    );
    let wrong = headers(&[("Authorization", "Basic aG9va3M6Z3Vlc3M=")]);
    assert_eq!(
        verify_at(&v, &wrong, b"", 0),
        Err(VerifyError::TokenMismatch)
    );
    assert!(matches!(
        verify_at(&v, &headers(&[("Authorization", "Bearer x")]), b"", 0),
        Err(VerifyError::Malformed { .. })
    ));
    assert!(matches!(
        verify_at(&v, &headers(&[("Authorization", "Basic ***")]), b"", 0),
        Err(VerifyError::Malformed { .. })
    ));
    assert!(matches!(
        verify_at(&v, &headers(&[]), b"", 0),
        Err(VerifyError::MissingHeader { .. })
    ));
    assert!(v.is_secret_header(&http::header::AUTHORIZATION));
    assert!(matches!(
        Verifier::new(Scheme::Basic, &[b"no-colon"], None),
        Err(KeyError::BadSecret { index: 0, .. })
    ));
    let signed = sign(
        &Scheme::Basic,
        b"hooks:s3cret",
        &SignRequest {
            method: "POST",
            url: "/",
            body: b"",
        },
        0,
        None,
    )
    .unwrap();
    assert_eq!(
        signed,
        vec![(
            "Authorization".to_owned(),
            "Basic aG9va3M6czNjcmV0".to_owned()
        )]
    );
}
