//! Acceptance tests for every scheme: published vectors, tampering, wrong secrets, missing
//! and malformed headers, replay windows, rotation, and sign→verify round trips.

// clippy.toml allows unwrap inside #[test] functions only; the shared helpers here are
// test code too, and a panic is exactly how they should report a broken fixture.
#![allow(clippy::unwrap_used)]

mod asymmetric;
mod body_and_token;
mod common;
mod fixed_providers;
mod generic_hmac;
mod github;
mod handshake;
mod paddle_linear_hubspot;
mod provider;
mod roundtrip;
mod standard_webhooks;
mod stripe;
mod token;
mod twilio;
