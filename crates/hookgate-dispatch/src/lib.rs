//! hookgate's delivery side: it claims due deliveries from the store, sends each to its
//! destination (an HTTP endpoint, signed with Standard Webhooks and guarded against SSRF, or
//! a local command run without a shell), records every attempt, and schedules retries with
//! backoff until the delivery succeeds or is dead.
//!
//! It must never hold a delivery without a lease in the store (a dead worker's deliveries
//! become claimable again), never follow a redirect, never run a command through a shell,
//! and never put a signing secret in a log line or an attempt record.
#![forbid(unsafe_code)]

pub mod command;
mod dispatcher;
mod send;
pub mod ssrf;

pub use dispatcher::{CircuitState, DispatchError, Dispatcher, Health};
