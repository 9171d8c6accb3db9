//! hookgate's durable state, behind the [`Store`] trait: a trait of use cases (append an event,
//! read it back, list, prune), not of tables, so the server never sees SQL.
//!
//! The one rule this crate exists to keep: [`Store::append`] returns `Ok` only once the event is
//! committed to disk with an fsync. Anything short of that is an `Err`, which ingest turns into a
//! 503, never a 2xx. This crate must never acknowledge from memory.
//!
//! Backends: [`SqliteStore`] (the default; one writer thread doing group commit).
#![forbid(unsafe_code)]

mod codec;
mod sqlite;

use async_trait::async_trait;
use hookgate_core::{Event, EventId, NewEvent, Verification};
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
}

/// Which events to list, newest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventQuery {
    pub limit: usize,
    /// Only events older than this position (the `seq` of the last event of the previous page).
    pub before_seq: Option<i64>,
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
}
