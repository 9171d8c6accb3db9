//! Standard Webhooks and Svix: `webhook-id`, `webhook-timestamp` and the space-separated
//! `webhook-signature` list of `v1,<base64>` (HMAC) and `v1a,<base64>` (Ed25519) entries,
//! under either header family.
#![no_main]

use arbitrary::Arbitrary;
use hookgate_fuzz::{verify_forged, with_extras, Extra, Sig, Ts, NOW};
use hookgate_verify::{Provider, Request};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
enum Entry {
    V1(Sig),
    V1a(Sig),
    Other(String, String),
    Junk(String),
}

#[derive(Arbitrary, Debug)]
struct Input {
    svix: bool,
    id: Option<String>,
    timestamp: Option<Ts>,
    entries: Vec<Entry>,
    separator: Option<char>,
    extras: Vec<Extra>,
    body: Vec<u8>,
    now_offset: i16,
}

fuzz_target!(|input: Input| {
    let (provider, prefix) = if input.svix {
        (Provider::Svix, "svix")
    } else {
        (Provider::StandardWebhooks, "webhook")
    };
    let names = [
        format!("{prefix}-id"),
        format!("{prefix}-timestamp"),
        format!("{prefix}-signature"),
    ];
    let separator = input.separator.unwrap_or(' ').to_string();
    let signature = input
        .entries
        .iter()
        .map(|entry| match entry {
            Entry::V1(sig) => format!("v1,{}", sig.render()),
            Entry::V1a(sig) => format!("v1a,{}", sig.render()),
            Entry::Other(k, v) => format!("{k},{v}"),
            Entry::Junk(text) => text.clone(),
        })
        .collect::<Vec<_>>()
        .join(&separator);
    let mut pairs = vec![(names[2].clone(), signature.into_bytes())];
    if let Some(id) = &input.id {
        pairs.push((names[0].clone(), id.clone().into_bytes()));
    }
    if let Some(ts) = &input.timestamp {
        pairs.push((names[1].clone(), ts.render().into_bytes()));
    }
    let known: Vec<&str> = names.iter().map(String::as_str).collect();
    let headers = with_extras(pairs, &input.extras, &known);
    let req = Request {
        method: "POST",
        url: "/in/sw",
        headers: &headers,
        body: &input.body,
    };
    verify_forged(provider, &req, NOW + i64::from(input.now_offset));
});
