//! The admin read API: pagination, detail, errors, token.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a panic is a failed test

mod common;

use common::*;
use serde_json::Value;

async fn ingest(server: &TestServer, n: usize, body: &'static [u8]) -> Vec<String> {
    let mut ids = Vec::new();
    for _ in 0..n {
        let response = reqwest::Client::new()
            .post(server.url("/in/demo"))
            .body(body)
            .send()
            .await
            .unwrap();
        let v: Value = response.json().await.unwrap();
        ids.push(v["id"].as_str().unwrap().to_owned());
    }
    ids
}

#[tokio::test]
async fn lists_newest_first_with_cursors() {
    let server = TestServer::start("[[sources]]\nname = \"*\"\nprovider = \"none\"").await;
    let ids = ingest(&server, 5, b"{\"a\":1}").await;
    let mut seen = Vec::new();
    let mut url = server.url("/api/events?limit=2");
    loop {
        let page: Value = reqwest::get(&url).await.unwrap().json().await.unwrap();
        for e in page["data"].as_array().unwrap() {
            assert_eq!(e["source"], "demo");
            assert_eq!(e["body_size"], 7);
            assert!(e["received_at"].as_str().unwrap().ends_with('Z'));
            seen.push(e["id"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(c) => url = server.url(&format!("/api/events?limit=2&cursor={c}")),
            None => break,
        }
    }
    let mut newest_first = ids.clone();
    newest_first.reverse();
    assert_eq!(seen, newest_first);

    for bad in [
        "/api/events?limit=0",
        "/api/events?limit=abc",
        "/api/events?cursor=xyz",
        "/api/events?limit=100000",
    ] {
        let code = error_code(reqwest::get(server.url(bad)).await.unwrap(), 400).await;
        assert!(code.starts_with("invalid_"), "{bad}: {code}");
    }
}

#[tokio::test]
async fn shows_one_event_in_full() {
    let server = TestServer::start("[[sources]]\nname = \"*\"\nprovider = \"none\"").await;
    let id = &ingest(&server, 1, b"\xff\xfebinary").await[0];
    let e: Value = reqwest::get(server.url(&format!("/api/events/{id}")))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(e["id"], id.as_str());
    assert_eq!(e["body_encoding"], "base64");
    assert_eq!(e["body"], "//5iaW5hcnk=");
    assert_eq!(e["method"], "POST");
    assert_eq!(e["path"], "/in/demo");
    assert_eq!(e["verification"]["provider"], "none");
    assert!(e["headers"]
        .as_array()
        .unwrap()
        .iter()
        .any(|h| h["name"] == "content-length" && h["value"] == "8"));

    let missing = "evt_0190b1f0c5a87d1f8c3b2a4e5f607182";
    assert_eq!(
        error_code(
            reqwest::get(server.url(&format!("/api/events/{missing}")))
                .await
                .unwrap(),
            404
        )
        .await,
        "event_not_found"
    );
    assert_eq!(
        error_code(
            reqwest::get(server.url("/api/events/nope")).await.unwrap(),
            400
        )
        .await,
        "invalid_id"
    );
}

#[tokio::test]
async fn admin_token_is_required_when_set() {
    let server = TestServer::start(
        "[server]\nadmin_token = \"let-me-in\"\n[[sources]]\nname = \"*\"\nprovider = \"none\"",
    )
    .await;
    let client = reqwest::Client::new();
    assert_eq!(
        error_code(
            client.get(server.url("/api/events")).send().await.unwrap(),
            401
        )
        .await,
        "unauthorized"
    );
    assert_eq!(
        error_code(
            client
                .get(server.url("/api/events"))
                .bearer_auth("let-me-i")
                .send()
                .await
                .unwrap(),
            401
        )
        .await,
        "unauthorized"
    );
    assert_eq!(
        client
            .get(server.url("/api/events"))
            .bearer_auth("let-me-in")
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    // Ingest and health never need it.
    assert_eq!(
        client
            .post(server.url("/in/x"))
            .body("{}")
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        client
            .get(server.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        client
            .get(server.url("/readyz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}
