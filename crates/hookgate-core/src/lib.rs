//! hookgate's domain: the types every other crate speaks (event ids, events as received and as
//! stored, verification records) and the configuration model with its validation.
//!
//! This crate never does I/O: it does not read files, the environment or the clock. Configuration
//! arrives as text plus an environment lookup function, so validation is a pure function whose
//! every error names the offending field (`sources[1].provider: unknown provider "githb"; ...`).
#![forbid(unsafe_code)]

pub mod config;
pub mod delivery;
pub mod event;
pub mod id;
pub mod jq;
pub mod routing;
pub mod secret;
pub mod units;

pub use config::CATCH_ALL as CATCH_ALL_SOURCE;
pub use config::{
    Config, ConfigError, Quantity, ServerConfig, Source, SourceSpec, StorageConfig, StorageUrl,
};
pub use delivery::{
    Attempt, AttemptRecord, Delivery, DeliveryId, DeliveryStatus, NewDelivery, NextStep,
    RetryPolicy,
};
pub use event::{Event, Extract, NewEvent, Verification};
pub use id::{EventId, ParseIdError};
pub use routing::{Destination, DestinationKind, Route, RouteInput, Router};
pub use secret::Secret;
