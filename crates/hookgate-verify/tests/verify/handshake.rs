//! Handshakes: each is answered exactly as its provider expects, only after its signature
//! or verify token checks out, and ordinary deliveries are left alone (`None`).

use hmac::{Hmac, Mac};
use hookgate_verify::{
    handshake::{respond, HandshakeReply},
    Request, Scheme, Verifier, VerifyError,
};
use http::HeaderMap;
use sha2::Sha256;

use crate::common::{header_map, signed};

const NOW: i64 = 1_700_000_000;

fn answer(
    verifier: &Verifier,
    method: &str,
    url: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Option<Result<HandshakeReply, VerifyError>> {
    respond(
        verifier,
        &Request {
            method,
            url,
            headers,
            body,
        },
        NOW,
    )
}

fn text(body: &str) -> Option<Result<HandshakeReply, VerifyError>> {
    Some(Ok(HandshakeReply {
        status: 200,
        content_type: "text/plain; charset=utf-8",
        body: body.as_bytes().to_vec(),
    }))
}

#[test]
fn slack_url_verification_is_answered_after_verifying() {
    let secret = b"slack-secret";
    let v = Verifier::new(Scheme::Slack, &[secret], None).unwrap();
    let body = br#"{"token":"t","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}"#;
    let map = signed(&Scheme::Slack, secret, body, NOW, None);
    let reply = answer(&v, "POST", "/in/slack", &map, body)
        .unwrap()
        .unwrap();
    assert_eq!(reply.content_type, "application/json");
    assert_eq!(
        reply.body,
        br#"{"challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}"#
    );
    let forged = signed(&Scheme::Slack, b"other", body, NOW, None);
    assert_eq!(
        answer(&v, "POST", "/in/slack", &forged, body),
        Some(Err(VerifyError::Mismatch))
    );
    let event = br#"{"type":"event_callback","event_id":"Ev1","event":{"type":"message"}}"#;
    let map = signed(&Scheme::Slack, secret, event, NOW, None);
    assert_eq!(answer(&v, "POST", "/in/slack", &map, event), None);
}

#[test]
fn zoom_url_validation_returns_the_encrypted_token() {
    let secret = b"zoom-secret";
    let v = Verifier::new(Scheme::Zoom, &[b"old", secret], None).unwrap();
    let body = br#"{"payload":{"plainToken":"qgg8vlvZRS6UYooatFL8Aw"},"event_ts":1654503849680,"event":"endpoint.url_validation"}"#;
    let map = signed(&Scheme::Zoom, secret, body, NOW, None);
    let reply = answer(&v, "POST", "/in/zoom", &map, body).unwrap().unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).unwrap();
    mac.update(b"qgg8vlvZRS6UYooatFL8Aw");
    let expected = hex::encode(mac.finalize().into_bytes());
    assert_eq!(reply.content_type, "application/json");
    let json: serde_json::Value = serde_json::from_slice(&reply.body).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"plainToken": "qgg8vlvZRS6UYooatFL8Aw", "encryptedToken": expected})
    );
    let unsigned = HeaderMap::new();
    assert!(matches!(
        answer(&v, "POST", "/in/zoom", &unsigned, body),
        Some(Err(VerifyError::MissingHeader { .. }))
    ));
}

#[test]
fn twitch_challenge_is_answered_as_text() {
    let secret = b"twitch-secret";
    let v = Verifier::new(Scheme::Twitch, &[secret], None).unwrap();
    let body = br#"{"challenge":"pogchamp-kappa-360noscope-vohiyo","subscription":{"type":"channel.follow"}}"#;
    let mut pairs = hookgate_verify::sign(
        &Scheme::Twitch,
        secret,
        &hookgate_verify::SignRequest {
            method: "POST",
            url: "/in/twitch",
            body,
        },
        NOW,
        Some("msg-1"),
    )
    .unwrap();
    pairs.push((
        "Twitch-Eventsub-Message-Type".into(),
        "webhook_callback_verification".into(),
    ));
    let map = header_map(&pairs);
    assert_eq!(
        answer(&v, "POST", "/in/twitch", &map, body),
        text("pogchamp-kappa-360noscope-vohiyo")
    );
    assert_eq!(
        answer(&v, "POST", "/in/twitch", &map, b"{\"challenge\":\"x\"}"),
        Some(Err(VerifyError::Mismatch))
    );
    pairs.pop();
    pairs.push(("Twitch-Eventsub-Message-Type".into(), "notification".into()));
    assert_eq!(
        answer(&v, "POST", "/in/twitch", &header_map(&pairs), body),
        None
    );
}

#[test]
fn meta_subscription_needs_the_verify_token() {
    let v = Verifier::new(Scheme::Meta, &[b"app-secret", b"verify:meatyhamhock"], None).unwrap();
    let none = HeaderMap::new();
    let url = "https://h.example/in/meta?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=meatyhamhock";
    assert_eq!(answer(&v, "GET", url, &none, b""), text("1158201444"));
    let wrong = url.replace("meatyhamhock", "meatyhamhocks");
    assert_eq!(
        answer(&v, "GET", &wrong, &none, b""),
        Some(Err(VerifyError::TokenMismatch))
    );
    // The app secret is not a verify token.
    let secret = url.replace("meatyhamhock", "app-secret");
    assert_eq!(
        answer(&v, "GET", &secret, &none, b""),
        Some(Err(VerifyError::TokenMismatch))
    );
    let unsubscribe = url.replace("subscribe", "unsubscribe");
    assert!(matches!(
        answer(&v, "GET", &unsubscribe, &none, b""),
        Some(Err(VerifyError::BadQuery { .. }))
    ));
    assert_eq!(answer(&v, "POST", url, &none, b"{}"), None);
    assert_eq!(answer(&v, "GET", "/in/meta", &none, b""), None);
}

#[test]
fn msgraph_and_dropbox_echo_their_tokens() {
    let none = HeaderMap::new();
    let graph = Verifier::new(Scheme::Msgraph, &[b"state"], None).unwrap();
    assert_eq!(
        answer(
            &graph,
            "POST",
            "/in/graph?validationToken=Validation%3a+Testing+client+application",
            &none,
            b""
        ),
        text("Validation: Testing client application")
    );
    assert_eq!(answer(&graph, "POST", "/in/graph", &none, b"{}"), None);
    let dropbox = Verifier::new(Scheme::Dropbox, &[b"app-secret"], None).unwrap();
    assert_eq!(
        answer(&dropbox, "GET", "/in/dropbox?challenge=abc123", &none, b""),
        text("abc123")
    );
    assert_eq!(
        answer(&dropbox, "POST", "/in/dropbox?challenge=abc123", &none, b""),
        None
    );
}

/// WooCommerce pings a newly activated webhook with an unsigned `webhook_id=N` form post;
/// it gets a 2xx (and is never stored). Anything else unsigned is still refused.
#[test]
fn woocommerce_activation_ping() {
    let v = Verifier::new(
        Scheme::of(hookgate_verify::Provider::Woocommerce).unwrap(),
        &[b"s"],
        None,
    )
    .unwrap();
    let none = HeaderMap::new();
    let ping = answer(&v, "POST", "/in/woo", &none, b"webhook_id=17")
        .unwrap()
        .unwrap();
    assert_eq!((ping.status, ping.body.len()), (200, 0));
    assert_eq!(
        answer(&v, "POST", "/in/woo", &none, b"webhook_id=17&x=1"),
        None
    );
    assert_eq!(answer(&v, "POST", "/in/woo", &none, b"webhook_id="), None);
    assert_eq!(answer(&v, "POST", "/in/woo", &none, br#"{"id":1}"#), None);
    let signed = header_map(&[("X-WC-Webhook-Signature".into(), "x".into())]);
    assert_eq!(
        answer(&v, "POST", "/in/woo", &signed, b"webhook_id=17"),
        None
    );
}

#[test]
fn other_providers_have_no_handshake() {
    let v = Verifier::new(Scheme::Github, &[b"s"], None).unwrap();
    let none = HeaderMap::new();
    assert_eq!(
        answer(
            &v,
            "GET",
            "/in/x?challenge=1&hub.mode=subscribe",
            &none,
            b""
        ),
        None
    );
}

#[test]
fn methods_name_the_get_handshakes() {
    use hookgate_verify::Provider;
    assert_eq!(Provider::Meta.methods(), ["GET", "POST"]);
    assert_eq!(Provider::Dropbox.methods(), ["GET", "POST"]);
    assert_eq!(Provider::Slack.methods(), ["POST"]);
}
