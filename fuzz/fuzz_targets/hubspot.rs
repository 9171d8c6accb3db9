//! HubSpot v1/v2 (`X-HubSpot-Signature` + `-Version`) and v3 (`-v3` + millisecond
//! `X-HubSpot-Request-Timestamp`), with the URI decoding v3 applies.
#![no_main]

use arbitrary::Arbitrary;
use hookgate_fuzz::{pick, verify_forged, with_extras, Extra, Sig, Ts, NOW};
use hookgate_verify::{Provider, Request};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Input {
    v3: Option<Sig>,
    timestamp: Option<Ts>,
    legacy: Option<Sig>,
    version: Option<(u8, String)>,
    method: (u8, String),
    url: String,
    extras: Vec<Extra>,
    body: Vec<u8>,
    now_offset: i16,
}

fuzz_target!(|input: Input| {
    let mut pairs = Vec::new();
    if let Some(sig) = &input.v3 {
        pairs.push((
            "x-hubspot-signature-v3".to_owned(),
            sig.render().into_bytes(),
        ));
    }
    if let Some(ts) = &input.timestamp {
        pairs.push((
            "x-hubspot-request-timestamp".to_owned(),
            ts.render_millis().into_bytes(),
        ));
    }
    if let Some(sig) = &input.legacy {
        pairs.push(("x-hubspot-signature".to_owned(), sig.render().into_bytes()));
    }
    if let Some((choice, raw)) = &input.version {
        let version = match choice % 4 {
            0 => "v1".to_owned(),
            1 => "v2".to_owned(),
            2 => "V1".to_owned(),
            _ => raw.clone(),
        };
        pairs.push((
            "x-hubspot-signature-version".to_owned(),
            version.into_bytes(),
        ));
    }
    let headers = with_extras(
        pairs,
        &input.extras,
        &[
            "x-hubspot-signature-v3",
            "x-hubspot-request-timestamp",
            "x-hubspot-signature",
            "x-hubspot-signature-version",
        ],
    );
    let method = match input.method.0 % 3 {
        0 => "POST",
        1 => "GET",
        _ => input.method.1.as_str(),
    };
    let url = format!(
        "{}{}",
        pick(&["https://app.example.com/in/hubspot", ""], input.method.0),
        input.url
    );
    let req = Request {
        method,
        url: &url,
        headers: &headers,
        body: &input.body,
    };
    verify_forged(Provider::Hubspot, &req, NOW + i64::from(input.now_offset));
});
