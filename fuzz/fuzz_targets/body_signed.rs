//! Schemes that read the body before or after the signature: Mailgun (signature,
//! timestamp and token inside a JSON or form body), Linear (`webhookTimestamp` in
//! milliseconds inside the JSON body, read after the signature matched) and Microsoft
//! Graph (`clientState` in every notification of `value`).
//!
//! Linear's timestamp is only parsed once the signature matched, which a forged request
//! never reaches, so a `SelfSigned` input signs the body with a fuzzer-chosen secret
//! through the public `sign` and verifies it with that secret: only "no panic" is checked
//! there.
#![no_main]

use arbitrary::Arbitrary;
use hookgate_fuzz::{headers, verify_forged, with_extras, Extra, Sig, Ts, NOW};
use hookgate_verify::{sign, Provider, Request, Scheme, SignRequest, Verifier};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
enum Field {
    Text(String),
    Number(i64),
    Null,
    Missing,
    Raw(String),
}

impl Field {
    /// `"key": value,` or nothing.
    fn render(&self, key: &str) -> String {
        match self {
            Field::Text(text) => format!("{key:?}:{text:?},"),
            Field::Number(n) => format!("{key:?}:{n},"),
            Field::Null => format!("{key:?}:null,"),
            Field::Missing => String::new(),
            Field::Raw(text) => format!("{key:?}:{text},"),
        }
    }
}

#[derive(Arbitrary, Debug)]
enum Json {
    /// The shape the provider sends, with fuzzer-chosen values.
    Shaped(Vec<Field>),
    Raw(Vec<u8>),
}

#[derive(Arbitrary, Debug)]
enum Input {
    Mailgun {
        json: bool,
        timestamp: Ts,
        token: String,
        signature: Sig,
        shape: Json,
    },
    Linear {
        signature: Option<Sig>,
        timestamp: Field,
        near: Option<Ts>,
        body: Json,
        extras: Vec<Extra>,
        now_offset: i32,
    },
    SelfSigned {
        secret: Vec<u8>,
        timestamp: Field,
        near: Option<Ts>,
        tail: String,
        now_offset: i32,
    },
    Msgraph {
        states: Vec<Field>,
        raw: Option<Vec<u8>>,
    },
}

fn linear_body(timestamp: &Field, near: Option<&Ts>, tail: &str) -> Vec<u8> {
    let stamp = match near {
        Some(ts) => format!("\"webhookTimestamp\":{},", ts.render_millis()),
        None => timestamp.render("webhookTimestamp"),
    };
    format!("{{{stamp}\"type\":\"Issue\"{tail}}}").into_bytes()
}

fuzz_target!(|input: Input| {
    match input {
        Input::Mailgun {
            json,
            timestamp,
            token,
            signature,
            shape,
        } => {
            let body = match (&shape, json) {
                (Json::Raw(bytes), _) => bytes.clone(),
                (Json::Shaped(extra), true) => {
                    let extra: String = extra
                        .iter()
                        .enumerate()
                        .map(|(i, f)| f.render(&format!("k{i}")))
                        .collect();
                    format!(
                        "{{\"signature\":{{\"timestamp\":{:?},\"token\":{token:?},\"signature\":{:?}}},{extra}\"event-data\":{{}}}}",
                        timestamp.render(),
                        signature.render()
                    )
                    .into_bytes()
                }
                (Json::Shaped(_), false) => format!(
                    "timestamp={}&token={token}&signature={}",
                    timestamp.render(),
                    signature.render()
                )
                .into_bytes(),
            };
            let content_type: &[u8] = if json {
                b"application/json"
            } else {
                b"application/x-www-form-urlencoded"
            };
            let headers = headers(&[("content-type", content_type)]);
            let req = Request {
                method: "POST",
                url: "/in/mailgun",
                headers: &headers,
                body: &body,
            };
            verify_forged(Provider::Mailgun, &req, NOW);
        }
        Input::Linear {
            signature,
            timestamp,
            near,
            body,
            extras,
            now_offset,
        } => {
            let body = match &body {
                Json::Raw(bytes) => bytes.clone(),
                Json::Shaped(fields) => {
                    let tail: String = fields
                        .iter()
                        .enumerate()
                        .map(|(i, f)| {
                            format!(",{}", f.render(&format!("k{i}")).trim_end_matches(','))
                        })
                        .collect();
                    linear_body(&timestamp, near.as_ref(), &tail)
                }
            };
            let pairs = signature
                .iter()
                .map(|s| ("linear-signature".to_owned(), s.render().into_bytes()))
                .collect();
            let headers = with_extras(pairs, &extras, &["linear-signature"]);
            let req = Request {
                method: "POST",
                url: "/in/linear",
                headers: &headers,
                body: &body,
            };
            verify_forged(Provider::Linear, &req, NOW + i64::from(now_offset));
        }
        Input::SelfSigned {
            secret,
            timestamp,
            near,
            tail,
            now_offset,
        } => {
            let body = linear_body(&timestamp, near.as_ref(), &tail);
            let signed = SignRequest {
                method: "POST",
                url: "/in/linear",
                body: &body,
            };
            let Ok(pairs) = sign(&Scheme::Linear, &secret, &signed, NOW, None) else {
                return;
            };
            let Ok(verifier) = Verifier::new(Scheme::Linear, &[&secret], None) else {
                panic!("sign accepted a secret that Verifier::new refuses");
            };
            let headers = headers(&pairs);
            let req = Request {
                method: "POST",
                url: "/in/linear",
                headers: &headers,
                body: &body,
            };
            let _ = verifier.verify(&req, NOW + i64::from(now_offset));
        }
        Input::Msgraph { states, raw } => {
            let body = raw.unwrap_or_else(|| {
                let items: Vec<String> = states
                    .iter()
                    .map(|f| format!("{{{}\"changeType\":\"created\"}}", f.render("clientState")))
                    .collect();
                format!("{{\"value\":[{}]}}", items.join(",")).into_bytes()
            });
            let headers = headers::<&str, &[u8]>(&[]);
            let req = Request {
                method: "POST",
                url: "/in/msgraph",
                headers: &headers,
                body: &body,
            };
            verify_forged(Provider::Msgraph, &req, NOW);
        }
    }
});
