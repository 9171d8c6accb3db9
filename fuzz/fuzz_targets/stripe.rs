//! `Stripe-Signature: t=…,v1=…,v1=…,v0=…`: list splitting, repeated `t`, several `v1`
//! (rotation), unknown schemes, and the replay window.
#![no_main]

use arbitrary::Arbitrary;
use hookgate_fuzz::{verify_forged, with_extras, Extra, Sig, Ts, NOW};
use hookgate_verify::{Provider, Request};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
enum Item {
    T(Ts),
    V1(Sig),
    V0(Sig),
    Other(String, String),
    Junk(String),
}

#[derive(Arbitrary, Debug)]
struct Input {
    items: Vec<Item>,
    separator: Option<char>,
    extras: Vec<Extra>,
    body: Vec<u8>,
    now_offset: i16,
}

fuzz_target!(|input: Input| {
    let separator = input.separator.unwrap_or(',').to_string();
    let value = input
        .items
        .iter()
        .map(|item| match item {
            Item::T(ts) => format!("t={}", ts.render()),
            Item::V1(sig) => format!("v1={}", sig.render()),
            Item::V0(sig) => format!("v0={}", sig.render()),
            Item::Other(k, v) => format!("{k}={v}"),
            Item::Junk(text) => text.clone(),
        })
        .collect::<Vec<_>>()
        .join(&separator);
    let headers = with_extras(
        vec![("stripe-signature".to_owned(), value.into_bytes())],
        &input.extras,
        &["stripe-signature"],
    );
    let req = Request {
        method: "POST",
        url: "/in/stripe",
        headers: &headers,
        body: &input.body,
    };
    verify_forged(Provider::Stripe, &req, NOW + i64::from(input.now_offset));
});
