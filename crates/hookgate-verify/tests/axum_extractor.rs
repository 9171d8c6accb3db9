//! The `axum` feature's extractor, through a real router: verified bodies pass, anything else
//! gets the JSON error body.
#![cfg(feature = "axum")]
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

use std::sync::Arc;

use axum::{body::Body, http::Request, routing::post, Router};
use hookgate_verify::{extract::Verified, Scheme, Verifier};
use tower::ServiceExt;

fn app() -> Router {
    let verifier =
        Arc::new(Verifier::new(Scheme::Github, &[b"It's a Secret to Everybody"], None).unwrap());
    Router::new()
        .route(
            "/webhook",
            post(|Verified(body): Verified| async move { format!("{} bytes", body.len()) }),
        )
        .with_state(verifier)
}

async fn call(signature: Option<&str>, body: &'static str) -> (u16, String) {
    let mut request = Request::post("/webhook");
    if let Some(sig) = signature {
        request = request.header("x-hub-signature-256", sig);
    }
    let response = app()
        .oneshot(request.body(Body::from(body)).unwrap())
        .await
        .unwrap();
    let status = response.status().as_u16();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 16)
        .await
        .unwrap();
    (status, String::from_utf8(bytes.to_vec()).unwrap())
}

#[tokio::test]
async fn yields_the_body_of_a_verified_request() {
    // GitHub's documented example (docs: "Validating webhook deliveries").
    let sig = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
    assert_eq!(
        call(Some(sig), "Hello, World!").await,
        (200, "13 bytes".to_owned())
    );
}

#[tokio::test]
async fn rejects_with_the_json_error_body() {
    let sig = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
    let (status, body) = call(Some(sig), "Hello, World?").await;
    assert_eq!(status, 401);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["error"]["code"], "invalid_signature");
    let (status, body) = call(None, "Hello, World!").await;
    assert_eq!(status, 401);
    assert!(
        body.contains("missing_signature") && body.contains("X-Hub-Signature-256"),
        "{body}"
    );
}
