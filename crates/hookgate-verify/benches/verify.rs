//! What verifying one delivery costs, per provider, for a 2 KB body (issue 3, acceptance 5).
//!
//! Every request carries a valid signature, made once outside the timed loop, so the whole
//! path is measured: header parsing, decoding, the replay window, the MAC or public-key
//! check, and the body parsing some schemes need (Linear's timestamp, Mailgun's and
//! Microsoft Graph's in-body fields). The clock is fixed, as `verify` takes it as an
//! argument. The `bare` group is the floor: the `hmac` crate alone over the same body,
//! both keyed per call and cloned from a pre-keyed state (which is what `Verifier` does),
//! so each HMAC scheme's overhead reads as a ratio against the same algorithm.
//!
//! `cargo bench -p hookgate-verify --bench verify`; results are summarised in
//! bench/RESULTS.md.

use std::{hint::black_box, time::Duration};

use base64::{engine::general_purpose::STANDARD as BASE64, Engine as _};
use criterion::{criterion_group, criterion_main, Criterion};
use hmac::{Hmac, Mac};
use hookgate_verify::{
    sign, HmacOptions, Provider, Request, Scheme, SignRequest, TokenOptions, Verifier,
};
use http::{HeaderMap, HeaderName, HeaderValue};
use sha1::Sha1;
use sha2::{Digest, Sha256};

const NOW: i64 = 1_700_000_000;
const BODY_LEN: usize = 2048;
const URL: &str = "https://hooks.example.com/in/source?tenant=acme";
const ID: &str = "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W";
const SECRET: &[u8] = b"bench-secret-0123456789abcdef";

/// A JSON event of exactly `BODY_LEN` bytes, with the fields providers read from the body
/// (Linear's `webhookTimestamp` in milliseconds).
fn json_body() -> Vec<u8> {
    let head = format!(
        r#"{{"id":"evt_1NG8Du2eZvKYlo2CUI79vXWy","type":"invoice.paid","webhookTimestamp":{},"data":{{"pad":""#,
        NOW * 1000
    );
    let tail = r#""}}"#;
    pad(&head, tail)
}

/// The stress case for Twilio: a form post of exactly `BODY_LEN` bytes made of ~100 short
/// parameters, every value escaped, which is what makes Twilio's decode-sort-concatenate
/// step cost the most per byte.
fn form_body() -> Vec<u8> {
    let mut body = String::new();
    let mut i = 0;
    while body.len() < BODY_LEN - 40 {
        if !body.is_empty() {
            body.push('&');
        }
        body.push_str(&format!("Param{i:02}=value+{i}%21"));
        i += 1;
    }
    body.push_str("&Body=");
    while body.len() < BODY_LEN {
        body.push('x');
    }
    body.into_bytes()
}

fn pad(head: &str, tail: &str) -> Vec<u8> {
    let mut body = head.to_owned();
    while body.len() + tail.len() < BODY_LEN {
        body.push('x');
    }
    body.push_str(tail);
    assert_eq!(body.len(), BODY_LEN);
    body.into_bytes()
}

fn header_map(pairs: &[(String, String)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.append(
            HeaderName::from_bytes(name.as_bytes()).expect("header name"),
            HeaderValue::from_str(value).expect("header value"),
        );
    }
    map
}

/// The secret each provider's scheme takes for `SECRET`.
fn secret_for(provider: Provider) -> Vec<u8> {
    match provider {
        Provider::Stripe => b"whsec_bench-secret".to_vec(),
        Provider::StandardWebhooks | Provider::Svix => {
            format!("whsec_{}", BASE64.encode(SECRET)).into_bytes()
        }
        _ if provider.as_str() == "basic" => b"bench-user:bench-password".to_vec(),
        _ => SECRET.to_vec(),
    }
}

fn scheme_for(provider: Provider) -> Option<Scheme> {
    match provider {
        Provider::Hmac => Some(Scheme::Hmac(HmacOptions::new("X-Signature"))),
        Provider::Token => Some(Scheme::Token(TokenOptions {
            header: Some("Authorization".to_owned()),
            prefix: Some("Bearer ".to_owned()),
            ..TokenOptions::default()
        })),
        other => Scheme::of(other),
    }
}

/// One prepared request: what the timed loop verifies.
struct Case {
    name: String,
    verifier: Verifier,
    headers: HeaderMap,
    url: String,
    body: Vec<u8>,
}

impl Case {
    fn request(&self) -> Request<'_> {
        Request {
            method: "POST",
            url: &self.url,
            headers: &self.headers,
            body: &self.body,
        }
    }
}

/// A real Twilio inbound-SMS webhook (the parameters of Twilio's "Messaging webhook
/// request" docs, in the order Twilio sends them), padded to exactly `BODY_LEN` bytes by
/// the message text, which is where a long form's bytes are in practice.
fn sms_form_body() -> Vec<u8> {
    let mut body = String::from(
        "ToCountry=US&ToState=CA&SmsMessageSid=SM1f0e8ae6ade43cb3c0ce4525424e404f&NumMedia=0\
         &ToCity=SAN+FRANCISCO&FromZip=94105&SmsSid=SM1f0e8ae6ade43cb3c0ce4525424e404f\
         &FromState=CA&SmsStatus=received&FromCity=SAN+FRANCISCO&FromCountry=US\
         &To=%2B14155550100&MessagingServiceSid=MG9752274e9e519418a7406176694466fa&ToZip=94105\
         &NumSegments=1&MessageSid=SM1f0e8ae6ade43cb3c0ce4525424e404f\
         &AccountSid=ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX&From=%2B14155550199&ApiVersion=2010-04-01\
         &Body=",
    );
    let words = [
        "Hello", "from", "the", "other", "side", "of", "the", "bay%21",
    ];
    let mut i = 0;
    while body.len() < BODY_LEN - 8 {
        body.push_str(words[i % words.len()]);
        body.push('+');
        i += 1;
    }
    while body.len() < BODY_LEN {
        body.push('x');
    }
    body.into_bytes()
}

/// Every provider `sign` can produce headers for.
fn signed_cases() -> Vec<Case> {
    let mut cases = Vec::new();
    for provider in Provider::ALL.iter().copied() {
        if provider == Provider::None {
            continue;
        }
        let Some(scheme) = scheme_for(provider) else {
            eprintln!("skipped {provider}: no default configuration");
            continue;
        };
        let secret = secret_for(provider);
        let body = if provider == Provider::Twilio {
            form_body()
        } else {
            json_body()
        };
        let signed = SignRequest {
            method: "POST",
            url: URL,
            body: &body,
        };
        let headers = match sign(&scheme, &secret, &signed, NOW, Some(ID)) {
            Ok(headers) => headers,
            Err(err) => {
                eprintln!("{provider}: cannot sign ({err}), benched by hand below if at all");
                continue;
            }
        };
        let verifier = Verifier::new(scheme, &[&secret], None).expect("secret");
        cases.push(Case {
            name: provider.as_str().to_owned(),
            verifier,
            headers: header_map(&headers),
            url: URL.to_owned(),
            body,
        });
    }
    cases
}

/// Providers whose signature `sign` cannot make (public keys, signature in the body), and
/// scheme variants worth their own line, signed here with the primitives directly.
fn hand_signed_cases() -> Vec<Case> {
    use ed25519_dalek::{Signer as _, SigningKey};
    use p256::{
        ecdsa::{Signature, SigningKey as P256Key},
        pkcs8::EncodePublicKey as _,
    };

    let mut cases = Vec::new();
    let body = json_body();
    let ts = NOW.to_string();

    // Discord: Ed25519 over timestamp + body, hex; the secret is the public key in hex.
    let ed = SigningKey::from_bytes(&[7; 32]);
    let message = [ts.as_bytes(), &body].concat();
    let discord_sig = hex::encode(ed.sign(&message).to_bytes());
    let discord_key = hex::encode(ed.verifying_key().to_bytes());
    cases.push(Case {
        name: "discord (ed25519)".to_owned(),
        verifier: Verifier::new(Scheme::Discord, &[discord_key.as_bytes()], None).expect("key"),
        headers: header_map(&[
            ("X-Signature-Ed25519".into(), discord_sig),
            ("X-Signature-Timestamp".into(), ts.clone()),
        ]),
        url: URL.to_owned(),
        body: body.clone(),
    });

    // Standard Webhooks v1a: Ed25519 over `id.timestamp.body`, `whpk_` public key.
    let message = [ID.as_bytes(), b".", ts.as_bytes(), b".", &body].concat();
    let v1a = BASE64.encode(ed.sign(&message).to_bytes());
    let whpk = format!("whpk_{}", BASE64.encode(ed.verifying_key().to_bytes()));
    cases.push(Case {
        name: "standard-webhooks v1a (ed25519)".to_owned(),
        verifier: Verifier::new(Scheme::StandardWebhooks, &[whpk.as_bytes()], None).expect("key"),
        headers: header_map(&[
            ("webhook-id".into(), ID.into()),
            ("webhook-timestamp".into(), ts.clone()),
            ("webhook-signature".into(), format!("v1a,{v1a}")),
        ]),
        url: URL.to_owned(),
        body: body.clone(),
    });

    // SendGrid: ECDSA P-256 over timestamp + body, base64 DER; the secret is the base64
    // SubjectPublicKeyInfo.
    let p256 = P256Key::from_slice(&[9; 32]).expect("scalar");
    let message = [ts.as_bytes(), &body].concat();
    let signature: Signature = p256.sign(&message);
    let spki = p256::PublicKey::from(p256.verifying_key())
        .to_public_key_der()
        .expect("der");
    cases.push(Case {
        name: "sendgrid (ecdsa p-256)".to_owned(),
        verifier: Verifier::new(
            Scheme::Sendgrid,
            &[BASE64.encode(spki.as_bytes()).as_bytes()],
            None,
        )
        .expect("key"),
        headers: header_map(&[
            (
                "X-Twilio-Email-Event-Webhook-Signature".into(),
                BASE64.encode(signature.to_der().as_bytes()),
            ),
            ("X-Twilio-Email-Event-Webhook-Timestamp".into(), ts.clone()),
        ]),
        url: URL.to_owned(),
        body: body.clone(),
    });

    // Mailgun: hex HMAC-SHA256(key, timestamp + token), inside a JSON body.
    let token = "a8ce0edb2dd8301dee6c2405235584e45aa91d1e9f979f3de0";
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET).expect("key");
    mac.update(ts.as_bytes());
    mac.update(token.as_bytes());
    let signature = hex::encode(mac.finalize().into_bytes());
    let head = format!(
        r#"{{"signature":{{"timestamp":"{ts}","token":"{token}","signature":"{signature}"}},"event-data":{{"id":"CPgfbmQMTCKtHW6uIWtuVe","event":"delivered","pad":""#
    );
    cases.push(Case {
        name: "mailgun".to_owned(),
        verifier: Verifier::new(Scheme::Mailgun, &[SECRET], None).expect("key"),
        headers: header_map(&[("content-type".into(), "application/json".into())]),
        url: URL.to_owned(),
        body: pad(&head, r#""}}"#),
    });

    // Microsoft Graph: `clientState` in every notification of `value`.
    let head = format!(
        r#"{{"value":[{{"subscriptionId":"6f2a6e6b","clientState":"{}","changeType":"created","resource":""#,
        std::str::from_utf8(SECRET).expect("utf-8")
    );
    cases.push(Case {
        name: "msgraph".to_owned(),
        verifier: Verifier::new(Scheme::Msgraph, &[SECRET], None).expect("key"),
        headers: HeaderMap::new(),
        url: URL.to_owned(),
        body: pad(&head, r#""}]}"#),
    });

    // Twilio's everyday form: an inbound SMS, 20 parameters, 2 KB.
    let sms = sms_form_body();
    let signed = SignRequest {
        method: "POST",
        url: URL,
        body: &sms,
    };
    let headers = sign(&Scheme::Twilio, SECRET, &signed, NOW, None).expect("sign");
    cases.push(Case {
        name: "twilio (sms form, 20 params)".to_owned(),
        verifier: Verifier::new(Scheme::Twilio, &[SECRET], None).expect("key"),
        headers: header_map(&headers),
        url: URL.to_owned(),
        body: sms,
    });

    // Twilio with a JSON body: the signature covers the URL with `bodySHA256`, which must
    // be the hex SHA-256 of the body; no form parsing.
    let url = format!("{URL}&bodySHA256={}", hex::encode(Sha256::digest(&body)));
    let signed = SignRequest {
        method: "POST",
        url: &url,
        body: &body,
    };
    let headers = sign(&Scheme::Twilio, SECRET, &signed, NOW, None).expect("sign");
    cases.push(Case {
        name: "twilio (json, bodySHA256)".to_owned(),
        verifier: Verifier::new(Scheme::Twilio, &[SECRET], None).expect("key"),
        headers: header_map(&headers),
        url,
        body: body.clone(),
    });

    cases
}

fn bench_bare(c: &mut Criterion) {
    let body = json_body();
    let mut group = c.benchmark_group("bare");
    group.bench_function("hmac-sha256 2KB (keyed per call)", |b| {
        b.iter(|| {
            let mut mac = Hmac::<Sha256>::new_from_slice(black_box(SECRET)).expect("key");
            mac.update(black_box(&body));
            mac.finalize().into_bytes()
        });
    });
    let keyed = Hmac::<Sha256>::new_from_slice(SECRET).expect("key");
    group.bench_function("hmac-sha256 2KB (pre-keyed)", |b| {
        b.iter(|| {
            let mut mac = keyed.clone();
            mac.update(black_box(&body));
            mac.finalize().into_bytes()
        });
    });
    group.bench_function("hmac-sha1 2KB (keyed per call)", |b| {
        b.iter(|| {
            let mut mac = Hmac::<Sha1>::new_from_slice(black_box(SECRET)).expect("key");
            mac.update(black_box(&body));
            mac.finalize().into_bytes()
        });
    });
    let keyed = Hmac::<Sha1>::new_from_slice(SECRET).expect("key");
    group.bench_function("hmac-sha1 2KB (pre-keyed)", |b| {
        b.iter(|| {
            let mut mac = keyed.clone();
            mac.update(black_box(&body));
            mac.finalize().into_bytes()
        });
    });
    group.finish();
}

fn bench_verify(c: &mut Criterion) {
    let cases: Vec<Case> = signed_cases()
        .into_iter()
        .chain(hand_signed_cases())
        .collect();
    let mut group = c.benchmark_group("verify");
    for case in &cases {
        let request = case.request();
        // A benchmark of a rejection would measure the wrong path.
        if let Err(err) = case.verifier.verify(&request, NOW) {
            panic!("{}: the prepared request does not verify: {err}", case.name);
        }
        group.bench_function(&case.name, |b| {
            b.iter(|| case.verifier.verify(black_box(&request), black_box(NOW)));
        });
    }
    group.finish();
}

/// Short on purpose: about 35 cases, and the numbers only need to be stable to a few
/// percent to check "within 2x of the bare HMAC".
fn short() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .measurement_time(Duration::from_secs(1))
        .warm_up_time(Duration::from_millis(300))
}

criterion_group! {
    name = benches;
    config = short();
    targets = bench_bare, bench_verify
}
criterion_main!(benches);
