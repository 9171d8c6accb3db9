//! Small builders so each test reads as "these headers, this body, at this time".

use hookgate_verify::{sign, Request, Scheme, SignRequest, Verified, Verifier, VerifyError};
use http::{HeaderMap, HeaderName, HeaderValue};

pub const URL: &str = "/in/test";

pub fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.append(
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(value).unwrap(),
        );
    }
    map
}

pub fn header_map(pairs: &[(String, String)]) -> HeaderMap {
    let borrowed: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    headers(&borrowed)
}

pub fn verify_at(
    verifier: &Verifier,
    headers: &HeaderMap,
    body: &[u8],
    now: i64,
) -> Result<Verified, VerifyError> {
    verify_url(verifier, headers, URL, body, now)
}

pub fn verify_url(
    verifier: &Verifier,
    headers: &HeaderMap,
    url: &str,
    body: &[u8],
    now: i64,
) -> Result<Verified, VerifyError> {
    verifier.verify(
        &Request {
            method: "POST",
            url,
            headers,
            body,
        },
        now,
    )
}

/// The headers a sender holding `secret` would send for `body` at `now`.
pub fn signed(
    scheme: &Scheme,
    secret: &[u8],
    body: &[u8],
    now: i64,
    id: Option<&str>,
) -> HeaderMap {
    let pairs = sign(
        scheme,
        secret,
        &SignRequest {
            method: "POST",
            url: URL,
            body,
        },
        now,
        id,
    )
    .unwrap();
    header_map(&pairs)
}

pub fn malformed_reason(result: Result<Verified, VerifyError>) -> (String, String) {
    match result {
        Err(VerifyError::Malformed { header, reason }) => (header, reason),
        other => panic!("expected Malformed, got {other:?}"),
    }
}

pub fn ok(index: usize, timestamp: Option<i64>) -> Result<Verified, VerifyError> {
    Ok(Verified {
        secret_index: Some(index),
        timestamp,
    })
}
