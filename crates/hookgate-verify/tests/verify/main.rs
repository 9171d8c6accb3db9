//! Acceptance tests for every scheme: published vectors, tampering, wrong secrets, missing
//! and malformed headers, replay windows, rotation, and sign→verify round trips.

mod common;
mod generic_hmac;
mod github;
mod provider;
mod roundtrip;
mod standard_webhooks;
mod stripe;
mod token;
