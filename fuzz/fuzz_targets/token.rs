//! Shared tokens (and GitLab's `X-Gitlab-Token`): header prefixes matched ignoring case,
//! query-string splitting and `application/x-www-form-urlencoded` percent-decoding, and
//! the token as the URL path's last segment.
#![no_main]

use arbitrary::Arbitrary;
use hookgate_fuzz::{assert_forged_fails, verify_forged, with_extras, Extra, NOW};
use hookgate_verify::{Provider, Request, Scheme, TokenOptions, Verifier};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
enum Location {
    Header {
        name: Option<String>,
        prefix: Option<String>,
    },
    Query(Option<String>),
    Path,
    Gitlab,
}

#[derive(Arbitrary, Debug)]
enum Query {
    Pairs(Vec<(String, String)>),
    Raw(String),
}

#[derive(Arbitrary, Debug)]
struct Input {
    location: Location,
    path: String,
    query: Option<Query>,
    fragment: Option<String>,
    value: Option<Vec<u8>>,
    extras: Vec<Extra>,
    body: Vec<u8>,
}

fuzz_target!(|input: Input| {
    let mut url = format!("/in/x{}", input.path);
    match &input.query {
        Some(Query::Pairs(pairs)) => {
            url.push('?');
            url.push_str(
                &pairs
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join("&"),
            );
        }
        Some(Query::Raw(text)) => {
            url.push('?');
            url.push_str(text);
        }
        None => {}
    }
    if let Some(fragment) = &input.fragment {
        url.push('#');
        url.push_str(fragment);
    }
    let (options, header) = match &input.location {
        Location::Gitlab => {
            let headers = with_extras(
                input
                    .value
                    .iter()
                    .map(|v| ("x-gitlab-token".to_owned(), v.clone()))
                    .collect(),
                &input.extras,
                &["x-gitlab-token"],
            );
            let req = Request {
                method: "POST",
                url: &url,
                headers: &headers,
                body: &input.body,
            };
            verify_forged(Provider::Gitlab, &req, NOW);
            return;
        }
        Location::Header { name, prefix } => {
            let name = name.clone().unwrap_or_else(|| "Authorization".to_owned());
            (
                TokenOptions {
                    header: Some(name.clone()),
                    prefix: prefix.clone(),
                    ..TokenOptions::default()
                },
                Some(name),
            )
        }
        Location::Query(param) => (
            TokenOptions {
                query: Some(param.clone().unwrap_or_else(|| "token".to_owned())),
                ..TokenOptions::default()
            },
            None,
        ),
        Location::Path => (
            TokenOptions {
                path: true,
                ..TokenOptions::default()
            },
            None,
        ),
    };
    let Ok(verifier) = Verifier::new(
        Scheme::Token(options),
        &[b"fuzz-token-one", b"fuzz-token-two"],
        None,
    ) else {
        return;
    };
    let mut pairs = Vec::new();
    if let (Some(name), Some(value)) = (&header, &input.value) {
        pairs.push((name.clone(), value.clone()));
    }
    let known = [header.as_deref().unwrap_or("authorization")];
    let headers = with_extras(pairs, &input.extras, &known);
    let req = Request {
        method: "POST",
        url: &url,
        headers: &headers,
        body: &input.body,
    };
    let outcome = verifier.verify(&req, NOW);
    assert_forged_fails(Provider::Token, &req, &outcome);
});
