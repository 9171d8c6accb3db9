//! The README's ten-line app: `cargo run -p hookgate-verify --features axum --example axum`.
#![allow(clippy::unwrap_used)] // an example: a panic at startup is the clearest failure
use std::sync::Arc;

use axum::{routing::post, Router};
use hookgate_verify::{extract::Verified, Scheme, Verifier};

#[tokio::main]
async fn main() {
    let secret = std::env::var("GITHUB_WEBHOOK_SECRET").unwrap();
    let verifier = Arc::new(Verifier::new(Scheme::Github, &[secret.as_bytes()], None).unwrap());
    let app = Router::new()
        .route(
            "/webhook",
            post(|Verified(body): Verified| async move {
                format!("got {} verified bytes\n", body.len())
            }),
        )
        .with_state(verifier);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000")
        .await
        .unwrap();
    axum::serve(listener, app).await.unwrap();
}
