//! Paddle Billing: `Paddle-Signature: ts=…;h1=…[;h1=…]`.
#![no_main]

use arbitrary::Arbitrary;
use hookgate_fuzz::{verify_forged, with_extras, Extra, Sig, Ts, NOW};
use hookgate_verify::{Provider, Request};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
enum Item {
    Ts(Ts),
    H1(Sig),
    Other(String, String),
    Junk(String),
}

#[derive(Arbitrary, Debug)]
struct Input {
    items: Vec<Item>,
    separator: Option<char>,
    extras: Vec<Extra>,
    body: Vec<u8>,
    now_offset: i8,
}

fuzz_target!(|input: Input| {
    let separator = input.separator.unwrap_or(';').to_string();
    let value = input
        .items
        .iter()
        .map(|item| match item {
            Item::Ts(ts) => format!("ts={}", ts.render()),
            Item::H1(sig) => format!("h1={}", sig.render()),
            Item::Other(k, v) => format!("{k}={v}"),
            Item::Junk(text) => text.clone(),
        })
        .collect::<Vec<_>>()
        .join(&separator);
    let headers = with_extras(
        vec![("paddle-signature".to_owned(), value.into_bytes())],
        &input.extras,
        &["paddle-signature"],
    );
    let req = Request {
        method: "POST",
        url: "/in/paddle",
        headers: &headers,
        body: &input.body,
    };
    verify_forged(Provider::Paddle, &req, NOW + i64::from(input.now_offset));
});
