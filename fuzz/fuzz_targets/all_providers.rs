//! Every provider of `Provider::ALL` (hmac and token in a typical configuration) fed
//! arbitrary headers, chosen from every header name any scheme reads or freely, with
//! arbitrary method, URL and body. No request made without the secret may verify, and no
//! signed handshake may be answered.
#![no_main]

use arbitrary::Arbitrary;
use hookgate_fuzz::{pick, verify_forged, with_extras, Extra, NOW};
use hookgate_verify::{Provider, Request};
use libfuzzer_sys::fuzz_target;

const NAMES: &[&str] = &[
    "x-hub-signature",
    "x-hub-signature-256",
    "x-github-delivery",
    "stripe-signature",
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
    "svix-id",
    "svix-timestamp",
    "svix-signature",
    "x-slack-signature",
    "x-slack-request-timestamp",
    "x-shopify-hmac-sha256",
    "x-twilio-signature",
    "x-gitlab-token",
    "x-signature-ed25519",
    "x-signature-timestamp",
    "paddle-signature",
    "x-square-hmacsha256-signature",
    "linear-signature",
    "x-zm-signature",
    "x-zm-request-timestamp",
    "typeform-signature",
    "x-hubspot-signature",
    "x-hubspot-signature-v3",
    "x-hubspot-signature-version",
    "x-hubspot-request-timestamp",
    "x-twilio-email-event-webhook-signature",
    "x-twilio-email-event-webhook-timestamp",
    "twitch-eventsub-message-id",
    "twitch-eventsub-message-timestamp",
    "twitch-eventsub-message-signature",
    "twitch-eventsub-message-type",
    "x-razorpay-signature",
    "x-wc-webhook-signature",
    "x-dropbox-signature",
    "x-signature",
    "x-timestamp",
    "authorization",
    "content-type",
];

#[derive(Arbitrary, Debug)]
struct Input {
    provider: u8,
    method: (u8, String),
    url: String,
    headers: Vec<Extra>,
    body: Vec<u8>,
    now: (bool, i64),
}

fuzz_target!(|input: Input| {
    let provider = pick(Provider::ALL, input.provider);
    let method = match input.method.0 % 3 {
        0 => "POST",
        1 => "GET",
        _ => input.method.1.as_str(),
    };
    let headers = with_extras(Vec::new(), &input.headers, NAMES);
    let now = if input.now.0 {
        input.now.1
    } else {
        NOW + input.now.1 % 1000
    };
    let req = Request {
        method,
        url: &input.url,
        headers: &headers,
        body: &input.body,
    };
    verify_forged(provider, &req, now);
});
