//! Provider handshakes over real HTTP: answered with what the provider expects, only after
//! the request verifies, and never stored as events.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a panic is a failed test

mod common;

use common::*;
use hookgate_store::EventQuery;

const CONFIG: &str = r#"
[[sources]]
name = "slack"
provider = "slack"
secrets = ["8f742231b10e8888abcd99yyyzzz85a5"]
[[sources]]
name = "zoom"
provider = "zoom"
secrets = ["zoom-secret-token"]
[[sources]]
name = "twitch"
provider = "twitch"
secrets = ["twitch-secret"]
[[sources]]
name = "meta"
provider = "meta"
secrets = ["app-secret", "verify:my-verify-token"]
[[sources]]
name = "dropbox"
provider = "dropbox"
secrets = ["dropbox-app-secret"]
[[sources]]
name = "graph"
provider = "msgraph"
secrets = ["client-state"]
"#;

async fn stored(server: &TestServer) -> usize {
    server
        .store
        .list_events(EventQuery {
            limit: 100,
            before_seq: None,
            ..Default::default()
        })
        .await
        .unwrap()
        .items
        .len()
}

#[tokio::test]
async fn slack_url_verification_is_answered_after_verifying() {
    let server = TestServer::start(CONFIG).await;
    let body = r#"{"token":"x","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}"#;
    let t = now();
    let sig = format!(
        "v0={}",
        hmac_sha256_hex(
            b"8f742231b10e8888abcd99yyyzzz85a5",
            format!("v0:{t}:{body}").as_bytes()
        )
    );
    let client = reqwest::Client::new();
    let response = client
        .post(server.url("/in/slack"))
        .header("x-slack-request-timestamp", t.to_string())
        .header("x-slack-signature", &sig)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let v: serde_json::Value = response.json().await.unwrap();
    assert_eq!(
        v["challenge"],
        "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"
    );
    // Unsigned: refused like any unverified request.
    let forged = client
        .post(server.url("/in/slack"))
        .header("x-slack-request-timestamp", t.to_string())
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(forged, 401).await, "missing_signature");
    assert_eq!(stored(&server).await, 0, "handshakes are not events");
}

#[tokio::test]
async fn zoom_and_twitch_challenges() {
    let server = TestServer::start(CONFIG).await;
    let client = reqwest::Client::new();

    let body = r#"{"payload":{"plainToken":"qgg8vlvZRS6UYooatFL8Aw"},"event_ts":1654503849680,"event":"endpoint.url_validation"}"#;
    let t = now();
    let sig = format!(
        "v0={}",
        hmac_sha256_hex(b"zoom-secret-token", format!("v0:{t}:{body}").as_bytes())
    );
    let response = client
        .post(server.url("/in/zoom"))
        .header("x-zm-request-timestamp", t.to_string())
        .header("x-zm-signature", sig)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let v: serde_json::Value = response.json().await.unwrap();
    assert_eq!(v["plainToken"], "qgg8vlvZRS6UYooatFL8Aw");
    assert_eq!(
        v["encryptedToken"],
        hmac_sha256_hex(b"zoom-secret-token", b"qgg8vlvZRS6UYooatFL8Aw")
    );

    let body = r#"{"challenge":"pogchamp-kappa-360noscope-vohiyo","subscription":{"type":"channel.follow"}}"#;
    let id = "e76c6bd4-55c9-4987-8304-da1588d8988b";
    let timestamp = hookgate_core::units::rfc3339_from_unix_ms(now() * 1000);
    let sig = format!(
        "sha256={}",
        hmac_sha256_hex(
            b"twitch-secret",
            format!("{id}{timestamp}{body}").as_bytes()
        )
    );
    let response = client
        .post(server.url("/in/twitch"))
        .header("twitch-eventsub-message-id", id)
        .header("twitch-eventsub-message-timestamp", &timestamp)
        .header("twitch-eventsub-message-signature", sig)
        .header(
            "twitch-eventsub-message-type",
            "webhook_callback_verification",
        )
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    assert_eq!(
        response.text().await.unwrap(),
        "pogchamp-kappa-360noscope-vohiyo"
    );
    assert_eq!(stored(&server).await, 0);
}

#[tokio::test]
async fn get_challenges_for_meta_dropbox_and_graph() {
    let server = TestServer::start(CONFIG).await;
    let meta = reqwest::get(server.url(
        "/in/meta?hub.mode=subscribe&hub.verify_token=my-verify-token&hub.challenge=1158201444",
    ))
    .await
    .unwrap();
    assert_eq!(meta.status(), 200);
    assert_eq!(meta.headers()["x-content-type-options"], "nosniff");
    assert_eq!(meta.text().await.unwrap(), "1158201444");
    let wrong = reqwest::get(
        server.url("/in/meta?hub.mode=subscribe&hub.verify_token=guess&hub.challenge=1"),
    )
    .await
    .unwrap();
    assert_eq!(wrong.status(), 401);
    // The app secret is not a verify token.
    let secret_as_token = reqwest::get(
        server.url("/in/meta?hub.mode=subscribe&hub.verify_token=app-secret&hub.challenge=1"),
    )
    .await
    .unwrap();
    assert_eq!(secret_as_token.status(), 401);

    let dropbox = reqwest::get(server.url("/in/dropbox?challenge=abc123"))
        .await
        .unwrap();
    assert_eq!(dropbox.status(), 200);
    assert_eq!(dropbox.headers()["x-content-type-options"], "nosniff");
    assert_eq!(dropbox.text().await.unwrap(), "abc123");

    let graph = reqwest::Client::new()
        .post(server.url("/in/graph?validationToken=Validation%3A%20Testing"))
        .send()
        .await
        .unwrap();
    assert_eq!(graph.status(), 200);
    assert_eq!(graph.text().await.unwrap(), "Validation: Testing");
    // GET is not a method GitHub-style sources accept; Meta and Dropbox need it.
    let get_graph = reqwest::get(server.url("/in/graph?validationToken=x"))
        .await
        .unwrap();
    assert_eq!(get_graph.status(), 405);
    assert_eq!(stored(&server).await, 0);
}
