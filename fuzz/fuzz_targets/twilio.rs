//! Twilio: URL parsing (scheme, host, default ports), form-parameter decoding and sorting,
//! and the `bodySHA256` query parameter for JSON bodies.
#![no_main]

use arbitrary::Arbitrary;
use hookgate_fuzz::{pick, verify_forged, with_extras, Extra, Sig, NOW};
use hookgate_verify::{Provider, Request};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
enum Url {
    Parts {
        scheme: u8,
        host: String,
        port: Option<u16>,
        path: String,
        query: Vec<(String, String)>,
        body_sha256: Option<Sig>,
        fragment: Option<String>,
    },
    Raw(String),
}

#[derive(Arbitrary, Debug)]
enum Body {
    Form(Vec<(String, String)>),
    Raw(Vec<u8>),
}

#[derive(Arbitrary, Debug)]
struct Input {
    url: Url,
    body: Body,
    signature: Option<Sig>,
    content_type: Option<u8>,
    extras: Vec<Extra>,
}

fuzz_target!(|input: Input| {
    let url = match &input.url {
        Url::Parts {
            scheme,
            host,
            port,
            path,
            query,
            body_sha256,
            fragment,
        } => {
            let mut url = format!(
                "{}://{host}",
                pick(&["https", "http", "HTTPS", "ftp", ""], *scheme)
            );
            if let Some(port) = port {
                url.push_str(&format!(":{port}"));
            }
            url.push_str(path);
            let mut params: Vec<String> = query.iter().map(|(k, v)| format!("{k}={v}")).collect();
            if let Some(sig) = body_sha256 {
                params.push(format!("bodySHA256={}", sig.render()));
            }
            if !params.is_empty() {
                url.push('?');
                url.push_str(&params.join("&"));
            }
            if let Some(fragment) = fragment {
                url.push('#');
                url.push_str(fragment);
            }
            url
        }
        Url::Raw(text) => text.clone(),
    };
    let body = match &input.body {
        Body::Form(pairs) => pairs
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&")
            .into_bytes(),
        Body::Raw(bytes) => bytes.clone(),
    };
    let mut pairs = Vec::new();
    if let Some(sig) = &input.signature {
        pairs.push(("x-twilio-signature".to_owned(), sig.render().into_bytes()));
    }
    if let Some(choice) = input.content_type {
        let content_type = pick(
            &[
                "application/x-www-form-urlencoded",
                "application/x-www-form-urlencoded; charset=utf-8",
                "application/json",
                "APPLICATION/X-WWW-FORM-URLENCODED",
                "text/plain",
            ],
            choice,
        );
        pairs.push(("content-type".to_owned(), content_type.as_bytes().to_vec()));
    }
    let headers = with_extras(
        pairs,
        &input.extras,
        &["x-twilio-signature", "content-type"],
    );
    let req = Request {
        method: "POST",
        url: &url,
        headers: &headers,
        body: &body,
    };
    verify_forged(Provider::Twilio, &req, NOW);
});
