//! `handshake::respond` for every provider: arbitrary methods, query strings (with the
//! parameters Meta, Microsoft Graph and Dropbox read, percent-encoded or not) and bodies
//! shaped like Slack's, Zoom's and Twitch's challenges. Signed handshakes and Meta's
//! verify token must never be answered without the secret.
#![no_main]

use arbitrary::Arbitrary;
use hookgate_fuzz::{check_handshake, pick, verifier, with_extras, Extra, Sig, Ts, NOW};
use hookgate_verify::{Provider, Request};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
enum Param {
    Known(u8, String),
    Raw(String, String),
    Bare(String),
}

#[derive(Arbitrary, Debug)]
enum Body {
    Slack {
        challenge: Option<String>,
        kind: Option<String>,
    },
    Zoom {
        token: Option<String>,
        event: Option<String>,
    },
    Twitch {
        challenge: Option<String>,
    },
    Raw(Vec<u8>),
}

#[derive(Arbitrary, Debug)]
struct Input {
    provider: u8,
    method: (u8, String),
    params: Vec<Param>,
    body: Body,
    signature: Option<Sig>,
    timestamp: Option<Ts>,
    extras: Vec<Extra>,
}

const PARAMS: &[&str] = &[
    "hub.mode",
    "hub.verify_token",
    "hub.challenge",
    "validationToken",
    "challenge",
    "hub%2Emode",
];

/// Header names the handshake providers read, so extras can hit them.
const NAMES: &[&str] = &[
    "x-slack-signature",
    "x-slack-request-timestamp",
    "x-zm-signature",
    "x-zm-request-timestamp",
    "twitch-eventsub-message-type",
    "twitch-eventsub-message-id",
    "twitch-eventsub-message-timestamp",
    "twitch-eventsub-message-signature",
    "x-hub-signature-256",
    "x-dropbox-signature",
];

fuzz_target!(|input: Input| {
    let provider = pick(Provider::ALL, input.provider);
    let method = match input.method.0 % 3 {
        0 => "POST",
        1 => "GET",
        _ => input.method.1.as_str(),
    };
    let query: Vec<String> = input
        .params
        .iter()
        .map(|p| match p {
            Param::Known(choice, value) => format!("{}={value}", pick(PARAMS, *choice)),
            Param::Raw(k, v) => format!("{k}={v}"),
            Param::Bare(k) => k.clone(),
        })
        .collect();
    let url = format!("https://hooks.example.com/in/x?{}", query.join("&"));
    let field = |key: &str, value: &Option<String>| {
        value
            .as_ref()
            .map(|v| format!(",{key:?}:{v:?}"))
            .unwrap_or_default()
    };
    let body = match &input.body {
        Body::Slack { challenge, kind } => format!(
            "{{\"type\":{:?}{}}}",
            kind.as_deref().unwrap_or("url_verification"),
            field("challenge", challenge)
        )
        .into_bytes(),
        Body::Zoom { token, event } => format!(
            "{{\"event\":{:?},\"payload\":{{\"x\":1{}}}}}",
            event.as_deref().unwrap_or("endpoint.url_validation"),
            field("plainToken", token)
        )
        .into_bytes(),
        Body::Twitch { challenge } => {
            format!("{{\"subscription\":{{}}{}}}", field("challenge", challenge)).into_bytes()
        }
        Body::Raw(bytes) => bytes.clone(),
    };
    // Each provider's signature and timestamp headers, so verification gets past
    // "missing header" and reaches the comparison.
    let (sig_name, ts_name, sig_prefix) = match provider {
        Provider::Slack => ("x-slack-signature", "x-slack-request-timestamp", "v0="),
        Provider::Zoom => ("x-zm-signature", "x-zm-request-timestamp", "v0="),
        Provider::Twitch => (
            "twitch-eventsub-message-signature",
            "twitch-eventsub-message-timestamp",
            "sha256=",
        ),
        Provider::Meta => ("x-hub-signature-256", "x-unused-timestamp", "sha256="),
        _ => ("x-signature", "x-timestamp", ""),
    };
    let mut pairs = Vec::new();
    if let Some(sig) = &input.signature {
        pairs.push((
            sig_name.to_owned(),
            format!("{sig_prefix}{}", sig.render()).into_bytes(),
        ));
    }
    if let Some(ts) = &input.timestamp {
        pairs.push((ts_name.to_owned(), ts.render().into_bytes()));
    }
    if provider == Provider::Twitch {
        pairs.push((
            "twitch-eventsub-message-type".to_owned(),
            b"webhook_callback_verification".to_vec(),
        ));
        pairs.push(("twitch-eventsub-message-id".to_owned(), b"id-1".to_vec()));
    }
    let headers = with_extras(pairs, &input.extras, NAMES);
    let req = Request {
        method,
        url: &url,
        headers: &headers,
        body: &body,
    };
    if let Some(verifier) = verifier(provider) {
        check_handshake(verifier, &req, NOW);
    }
});
