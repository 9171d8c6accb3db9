//! The generic HMAC scheme: fuzzer-chosen options (algorithm, encoding, header, prefix,
//! signed-content template, timestamp header) as well as the request. Options that
//! `Verifier::new` refuses are skipped; every accepted configuration must still refuse a
//! request made without the secret.
#![no_main]

use arbitrary::Arbitrary;
use hookgate_fuzz::{assert_forged_fails, pick, with_extras, Extra, Sig, Ts, NOW};
use hookgate_verify::{Algorithm, Encoding, HmacOptions, Provider, Request, Scheme, Verifier};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
enum Template {
    Body,
    TimestampDotBody,
    Slack,
    MethodUrlBody,
    Raw(String),
}

#[derive(Arbitrary, Debug)]
struct Input {
    algorithm: u8,
    base64: bool,
    header: (u8, String),
    prefix: Option<String>,
    template: Template,
    timestamp_header: Option<(u8, String)>,
    signature: Option<Sig>,
    signature_prefix: bool,
    timestamp: Option<Ts>,
    method: String,
    url: String,
    extras: Vec<Extra>,
    body: Vec<u8>,
    now_offset: i16,
}

fuzz_target!(|input: Input| {
    let header = match input.header.0 % 2 {
        0 => "X-Signature".to_owned(),
        _ => input.header.1.clone(),
    };
    let timestamp_header = input
        .timestamp_header
        .as_ref()
        .map(|(choice, raw)| match choice % 2 {
            0 => "X-Timestamp".to_owned(),
            _ => raw.clone(),
        });
    let options = HmacOptions {
        algorithm: pick(
            &[Algorithm::Sha1, Algorithm::Sha256, Algorithm::Sha512],
            input.algorithm,
        ),
        header: header.clone(),
        encoding: if input.base64 {
            Encoding::Base64
        } else {
            Encoding::Hex
        },
        prefix: input.prefix.clone(),
        signed: match &input.template {
            Template::Body => "{body}".to_owned(),
            Template::TimestampDotBody => "{timestamp}.{body}".to_owned(),
            Template::Slack => "v0:{timestamp}:{body}".to_owned(),
            Template::MethodUrlBody => "{method}{url}{body}".to_owned(),
            Template::Raw(text) => text.clone(),
        },
        timestamp_header: timestamp_header.clone(),
    };
    let Ok(verifier) = Verifier::new(
        Scheme::Hmac(options),
        &[b"fuzz-secret-one", b"fuzz-secret-two"],
        None,
    ) else {
        return;
    };
    let mut pairs = Vec::new();
    if let Some(sig) = &input.signature {
        let prefix = if input.signature_prefix {
            input.prefix.clone().unwrap_or_default()
        } else {
            String::new()
        };
        pairs.push((
            header.clone(),
            format!("{prefix}{}", sig.render()).into_bytes(),
        ));
    }
    if let (Some(name), Some(ts)) = (&timestamp_header, &input.timestamp) {
        pairs.push((name.clone(), ts.render().into_bytes()));
    }
    let known = [
        header.as_str(),
        timestamp_header.as_deref().unwrap_or("x-timestamp"),
    ];
    let headers = with_extras(pairs, &input.extras, &known);
    let req = Request {
        method: &input.method,
        url: &input.url,
        headers: &headers,
        body: &input.body,
    };
    let outcome = verifier.verify(&req, NOW + i64::from(input.now_offset));
    assert_forged_fails(Provider::Hmac, &req, &outcome);
});
