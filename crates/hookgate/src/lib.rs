//! The `hookgate` binary: the command line and the composition root.
//!
//! This is the only crate that names a concrete store backend and the only one that reads the
//! outside world's configuration (files, environment, signals). Everything it wires together
//! takes its inputs as arguments.
//!
//! Layout:
//! - `cli`: the clap definitions and dispatch; errors become one line on stderr and an exit code.
//! - `serve`: `hookgate serve`: Config → store → server, signals, retention.
//! - `signing`: `hookgate verify`, `sign` and `send`, on top of `hookgate-verify`.
//! - `events`: `hookgate events list|show`, a client of the admin API.
//! - `check`: `hookgate check`, validate a config and show what it configures.
#![forbid(unsafe_code)]

pub mod check;
pub mod cli;
pub mod deliveries;
pub mod events;
pub mod serve;
pub mod signing;
