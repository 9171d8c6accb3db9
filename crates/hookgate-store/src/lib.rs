//! hookgate's durable state, behind the [`Store`] trait: a trait of use cases (append an event
//! with its deliveries, claim due deliveries, record attempts, retry, list, prune), not of
//! tables, so neither the server nor the dispatcher ever sees SQL.
//!
//! The one rule this crate exists to keep: [`Store::append`] returns `Ok` only once the event is
//! committed to disk with an fsync. Anything short of that is an `Err`, which ingest turns into a
//! 503, never a 2xx. This crate must never acknowledge from memory.
//!
//! Backends: [`SqliteStore`] (the default; one writer thread doing group commit).
#![forbid(unsafe_code)]

mod codec;
mod lending;
mod sqlite;
mod sqlite_deliveries;

use std::sync::Arc;

use async_trait::async_trait;
use hookgate_core::{
    Attempt, AttemptRecord, Delivery, DeliveryId, DeliveryStatus, Event, EventId, NewDelivery,
    NewEvent, Verification,
};
pub use lending::Lending;
pub use sqlite::{SqliteOptions, SqliteStore};

/// The result of a durable append.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Appended {
    /// The stored event's id: the new one, or for a duplicate the id of the event first stored.
    pub id: EventId,
    /// The source already had an event with this dedup key: nothing new was stored.
    pub duplicate: bool,
}

/// An event without its headers and body: what lists show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventSummary {
    pub id: EventId,
    pub seq: i64,
    pub source: String,
    pub received_at_ms: i64,
    pub event_type: Option<String>,
    pub dedup_key: Option<String>,
    pub body_size: u64,
    pub verification: Verification,
    /// How the event's deliveries stand.
    pub deliveries: DeliveryCounts,
}

/// An event's deliveries by status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DeliveryCounts {
    pub pending: u64,
    pub delivered: u64,
    pub dead: u64,
}

/// Which events to list, newest first. Every filter is optional; they combine with AND.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EventQuery {
    pub limit: usize,
    /// Only events older than this position (the `seq` of the last event of the previous page).
    pub before_seq: Option<i64>,
    pub source: Option<String>,
    pub event_type: Option<String>,
    /// Only events with at least one delivery in this status (`dead`: the dead-letter view).
    pub delivery_status: Option<DeliveryStatus>,
    /// Unix ms bounds on `received_at`, inclusive.
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
    /// Text in the body (a phrase, full-text matched). Search covers what the writer has
    /// indexed, which trails ingest by moments when busy.
    pub text: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `before_seq` to get the next page; `None` when this page is the last.
    pub next: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The store could not commit (disk full, I/O error, database locked): retry later.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// The store is shutting down or its writer has stopped.
    #[error("storage is closed")]
    Closed,
    /// Stored data could not be read back as written (a bug, or tampering with the file).
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

/// A request to claim due deliveries of one destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimRequest {
    pub destination: String,
    /// At most this many (the destination's free sending slots).
    pub limit: usize,
    /// Only the destination's oldest pending delivery, and only if it is due and unleased:
    /// ordered destinations get their events one at a time, in received order.
    pub ordered: bool,
    /// How long the claim holds; after that another worker may take the delivery.
    pub lease_ms: i64,
}

/// A claimed delivery with the event it carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimed {
    pub delivery: Delivery,
    pub event: Event,
}

/// A delivery with every attempt made so far, oldest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryDetail {
    pub delivery: Delivery,
    pub attempts: Vec<Attempt>,
}

/// Which deliveries to list, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DeliveryQuery {
    pub status: Option<DeliveryStatus>,
    pub destination: Option<String>,
    pub limit: usize,
    pub before_seq: Option<i64>,
}

/// Dead deliveries to retry in bulk.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DeadFilter {
    pub destination: Option<String>,
    /// Unix ms bounds on when the delivery was created, inclusive.
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
}

/// What a bulk retry did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BulkRetry {
    pub retried: u64,
    /// Dead deliveries matching the filter still left (call again to continue).
    pub remaining: u64,
}

/// What retrying one delivery did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RetryOutcome {
    /// Pending again, due now.
    Retried(Delivery),
    /// Delivered already: replay the event for another copy.
    AlreadyDelivered,
    NotFound,
}

/// A destination an operator (or a `410 Gone`) switched off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisabledDestination {
    pub name: String,
    pub reason: String,
    pub since_ms: i64,
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Stores the event durably (committed and fsync'd) or recognises it as a duplicate of an
    /// event already stored for the same source and dedup key. `Ok` is a promise; see the crate doc.
    async fn append(&self, event: NewEvent) -> Result<Appended, StoreError>;

    async fn event(&self, id: EventId) -> Result<Option<Event>, StoreError>;

    async fn list_events(&self, query: EventQuery) -> Result<Page<EventSummary>, StoreError>;

    /// Deletes events received before `cutoff_ms` (unix ms); returns how many.
    async fn prune(&self, cutoff_ms: i64) -> Result<u64, StoreError>;

    /// `Ok` when the store can take writes now.
    async fn ready(&self) -> Result<(), StoreError>;

    /// Finishes every append already queued, then stops taking new ones.
    async fn close(&self);

    /// Notified whenever new deliveries may be due (new events, retries, replays), so the
    /// dispatcher need not poll fast to be quick.
    fn work_signal(&self) -> Arc<tokio::sync::Notify>;

    /// Takes sending slots from the dispatcher (see [`Lending`]): from now on a delivery that
    /// `append` creates for a destination with a slot lent is leased in the event's transaction
    /// and, once that is durable, sent down the returned channel instead of waiting for a claim.
    /// `None`: this store does not lend, and every delivery is claimed.
    fn lend(
        &self,
        lending: Arc<Lending>,
    ) -> Option<tokio::sync::mpsc::UnboundedReceiver<Vec<Claimed>>> {
        let _ = lending;
        None
    }

    /// Takes leases on due deliveries. A lease is not durable work: a crash loses it, which
    /// only makes the delivery claimable again.
    async fn claim(
        &self,
        now_ms: i64,
        requests: Vec<ClaimRequest>,
    ) -> Result<Vec<Claimed>, StoreError>;

    /// Stores attempts and each delivery's next step, durably (they share the group commit
    /// with appends).
    async fn record(&self, records: Vec<AttemptRecord>, now_ms: i64) -> Result<(), StoreError>;

    /// Adds deliveries to a stored event (a replay). `None` when the event does not exist.
    async fn add_deliveries(
        &self,
        event: EventId,
        deliveries: Vec<NewDelivery>,
        now_ms: i64,
    ) -> Result<Option<Vec<DeliveryId>>, StoreError>;

    async fn deliveries_of(&self, event: EventId) -> Result<Vec<DeliveryDetail>, StoreError>;

    async fn delivery(&self, id: DeliveryId) -> Result<Option<DeliveryDetail>, StoreError>;

    async fn list_deliveries(&self, query: DeliveryQuery) -> Result<Page<Delivery>, StoreError>;

    /// Makes a pending or dead delivery due now. A dead one gets one more attempt.
    async fn retry(&self, id: DeliveryId, now_ms: i64) -> Result<RetryOutcome, StoreError>;

    /// Retries up to `limit` dead deliveries matching `filter`, oldest first.
    async fn retry_dead(
        &self,
        filter: DeadFilter,
        limit: usize,
        now_ms: i64,
    ) -> Result<BulkRetry, StoreError>;

    /// Disables (`Some(reason)`) or re-enables (`None`) a destination. Its pending deliveries
    /// wait meanwhile.
    async fn set_destination_disabled(
        &self,
        name: &str,
        reason: Option<String>,
        now_ms: i64,
    ) -> Result<(), StoreError>;

    async fn disabled_destinations(&self) -> Result<Vec<DisabledDestination>, StoreError>;

    /// Pending deliveries per destination (destinations with none are absent).
    async fn backlog(&self) -> Result<Vec<(String, u64)>, StoreError>;
}
