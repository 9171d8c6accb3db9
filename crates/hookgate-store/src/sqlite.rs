//! The SQLite backend. One dedicated writer thread owns the only writing connection and does
//! group commit: it takes everything queued (up to a bound), writes it in one transaction, commits
//! once (one fsync, with `synchronous=FULL` in WAL mode), and only then answers every waiter. Under
//! load one fsync covers many events; alone, an event waits for exactly one fsync.
//!
//! Reads use a second connection; WAL lets them run while the writer commits.
//!
//! This module must never answer an append before its transaction has committed.

use std::{
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
    thread,
};

use async_trait::async_trait;
use hookgate_core::{Event, EventId, NewEvent, Verification};
use rusqlite::{params, Connection, OpenFlags, OptionalExtension, TransactionBehavior};
use tokio::sync::{mpsc, oneshot};

use crate::{
    codec::{self, Codec},
    Appended, EventQuery, EventSummary, Page, Store, StoreError,
};

/// Most events committed in one transaction. Bounds the latency one commit adds for the first
/// waiter in it, and the memory a batch holds.
const MAX_BATCH: usize = 1024;
/// Appends waiting for the writer. When full, ingest waits: backpressure instead of unbounded memory.
const QUEUE_CAPACITY: usize = 16 * 1024;

#[derive(Debug, Clone, Default)]
pub struct SqliteOptions {
    /// Refuse writes once the database file would grow beyond this many bytes.
    pub max_size: Option<u64>,
}

/// An event encoded for its row. Encoding happens in `append`, on the caller's task, so that
/// the one writer thread (the bottleneck under load) only binds values and writes pages.
struct Row {
    id: EventId,
    id_text: String,
    source: String,
    received_at_ms: i64,
    event_type: Option<String>,
    dedup_key: Option<String>,
    method: String,
    path: String,
    headers: String,
    body: Vec<u8>,
    body_codec: Codec,
    body_size: i64,
    verification: String,
}

impl Row {
    fn encode(ev: NewEvent) -> Result<Self, StoreError> {
        let body_size = i64::try_from(ev.body.len()).unwrap_or(i64::MAX);
        let (packed, body_codec) = codec::encode(ev.body);
        let encode_err =
            |e: serde_json::Error| StoreError::Corrupt(format!("cannot encode event: {e}"));
        Ok(Self {
            id_text: ev.id.to_string(),
            id: ev.id,
            headers: serde_json::to_string(&ev.headers).map_err(encode_err)?,
            verification: serde_json::to_string(&ev.verification).map_err(encode_err)?,
            source: ev.source,
            received_at_ms: ev.received_at_ms,
            event_type: ev.event_type,
            dedup_key: ev.dedup_key,
            method: ev.method,
            path: ev.path,
            body_size,
            body: packed,
            body_codec,
        })
    }
}

enum WriteOp {
    // Boxed: an event is ~300 bytes and the queue holds thousands of these.
    Append(Box<Row>, oneshot::Sender<Result<Appended, StoreError>>),
    Control(Control),
}

/// Writer work that is not an append; done after the batch it arrived with is committed.
enum Control {
    Prune(i64, oneshot::Sender<Result<u64, StoreError>>),
    Ping(oneshot::Sender<()>),
    Shutdown(oneshot::Sender<()>),
}

#[derive(Debug)]
pub struct SqliteStore {
    path: PathBuf,
    queue: mpsc::Sender<WriteOp>,
    // A std Mutex is right here: it is only locked inside spawn_blocking, never across an .await.
    reader: Arc<Mutex<Connection>>,
}

impl std::fmt::Debug for WriteOp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Append(..) => "Append",
            Self::Control(Control::Prune(..)) => "Prune",
            Self::Control(Control::Ping(_)) => "Ping",
            Self::Control(Control::Shutdown(_)) => "Shutdown",
        })
    }
}

fn unavailable(e: &rusqlite::Error) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

const MIGRATIONS: &[&str] = &[r"
    CREATE TABLE events (
        seq          INTEGER PRIMARY KEY,
        id           TEXT    NOT NULL UNIQUE,
        source       TEXT    NOT NULL,
        received_at  INTEGER NOT NULL,
        event_type   TEXT,
        dedup_key    TEXT,
        method       TEXT    NOT NULL,
        path         TEXT    NOT NULL,
        headers      TEXT    NOT NULL,
        body         BLOB    NOT NULL,
        body_codec   INTEGER NOT NULL,  -- 0 raw, 1 zstd (see codec.rs)
        body_size    INTEGER NOT NULL,  -- bytes as received
        verification TEXT    NOT NULL
    ) STRICT;
    -- Provider retries are recognised by (source, dedup key); events without a key never collide.
    CREATE UNIQUE INDEX events_dedup ON events (source, dedup_key) WHERE dedup_key IS NOT NULL;
"];

impl SqliteStore {
    /// Opens (creating if needed) the database at `path`, migrates it, and starts the writer.
    pub fn open(path: impl AsRef<Path>, options: &SqliteOptions) -> Result<Self, StoreError> {
        let path = path.as_ref().to_path_buf();
        let mut writer = Connection::open(&path)
            .map_err(|e| StoreError::Unavailable(format!("cannot open {}: {e}", path.display())))?;
        // synchronous=FULL: in WAL mode every commit fsyncs the WAL, which is the durability rule.
        // busy_timeout: another process (an operator's sqlite3 shell) may hold a lock briefly.
        // wal_autocheckpoint=0: checkpoints (copying the WAL into the database file, with fsyncs
        // of their own) would otherwise run inside a commit on this thread and stall every
        // waiter for milliseconds; the checkpointer thread does most of that work instead.
        writer
            .execute_batch(
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;
                 PRAGMA wal_autocheckpoint = 0;",
            )
            .map_err(|e| unavailable(&e))?;
        let mode: String = writer
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .map_err(|e| unavailable(&e))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Unavailable(format!(
                "{} cannot use WAL mode (journal_mode is {mode})",
                path.display()
            )));
        }
        migrate(&mut writer)?;
        if let Some(max) = options.max_size {
            let page_size: u64 = writer
                .query_row("PRAGMA page_size", [], |r| r.get(0))
                .map_err(|e| unavailable(&e))?;
            writer
                .execute_batch(&format!(
                    "PRAGMA max_page_count = {}",
                    (max / page_size).max(1)
                ))
                .map_err(|e| unavailable(&e))?;
        }
        let reader = Connection::open_with_flags(
            &path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| unavailable(&e))?;
        reader
            .execute_batch("PRAGMA busy_timeout = 5000;")
            .map_err(|e| unavailable(&e))?;

        let checkpointer = Connection::open(&path).map_err(|e| unavailable(&e))?;
        checkpointer
            .execute_batch("PRAGMA busy_timeout = 5000;")
            .map_err(|e| unavailable(&e))?;

        let (queue, rx) = mpsc::channel(QUEUE_CAPACITY);
        let (writer_alive, writer_gone) = std::sync::mpsc::channel::<()>();
        thread::Builder::new()
            .name("hookgate-sqlite-writer".into())
            .spawn(move || {
                writer_loop(writer, rx);
                drop(writer_alive);
            })
            .map_err(|e| StoreError::Unavailable(format!("cannot start the writer thread: {e}")))?;
        thread::Builder::new()
            .name("hookgate-sqlite-checkpoint".into())
            .spawn(move || checkpoint_loop(&checkpointer, &writer_gone))
            .map_err(|e| {
                StoreError::Unavailable(format!("cannot start the checkpoint thread: {e}"))
            })?;
        Ok(Self {
            path,
            queue,
            reader: Arc::new(Mutex::new(reader)),
        })
    }

    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    async fn send<T>(
        &self,
        op: impl FnOnce(oneshot::Sender<T>) -> WriteOp,
    ) -> Result<T, StoreError> {
        let (tx, rx) = oneshot::channel();
        self.queue
            .send(op(tx))
            .await
            .map_err(|_| StoreError::Closed)?;
        rx.await.map_err(|_| StoreError::Closed)
    }

    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let reader = Arc::clone(&self.reader);
        tokio::task::spawn_blocking(move || {
            let conn = reader.lock().map_err(|_| {
                StoreError::Unavailable("reader poisoned by an earlier panic".into())
            })?;
            f(&conn)
        })
        .await
        .map_err(|e| StoreError::Unavailable(format!("read task failed: {e}")))?
    }
}

fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let version: usize = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(|e| unavailable(&e))?;
    if version > MIGRATIONS.len() {
        return Err(StoreError::Corrupt(format!(
            "the database has schema version {version}, newer than this hookgate knows ({}): upgrade hookgate",
            MIGRATIONS.len()
        )));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version) {
        let tx = conn.transaction().map_err(|e| unavailable(&e))?;
        tx.execute_batch(sql).map_err(|e| unavailable(&e))?;
        tx.execute_batch(&format!("PRAGMA user_version = {}", i + 1))
            .map_err(|e| unavailable(&e))?;
        tx.commit().map_err(|e| unavailable(&e))?;
    }
    Ok(())
}

/// How often the checkpointer copies committed WAL frames into the database file. Often enough
/// that the WAL stays small (reads stay fast, restarts recover quickly), rarely enough to be cheap.
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(100);
/// Commits between the writer's own (cheap, mostly already done) checkpoints.
const WRITER_CHECKPOINT_EVERY: u32 = 64;

/// Runs PASSIVE checkpoints beside the writer: they copy what is committed without blocking the
/// writer's commits. Durability does not depend on them (a commit is durable once in the WAL).
/// Ends when the writer does, with a final TRUNCATE checkpoint so the WAL does not outlive us.
fn checkpoint_loop(conn: &Connection, writer_gone: &std::sync::mpsc::Receiver<()>) {
    loop {
        match writer_gone.recv_timeout(CHECKPOINT_EVERY) {
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            Ok(()) | Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())) {
                    tracing::debug!(error = %e, "final checkpoint skipped");
                }
                return;
            }
        }
        if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            tracing::warn!(error = %e, "checkpoint failed; will retry");
        }
    }
}

fn writer_loop(mut conn: Connection, mut rx: mpsc::Receiver<WriteOp>) {
    let mut appends = Vec::with_capacity(MAX_BATCH);
    let mut others = Vec::new();
    let mut commits_since_checkpoint = 0;
    while let Some(first) = rx.blocking_recv() {
        let mut next = Some(first);
        while let Some(op) = next.take() {
            match op {
                WriteOp::Append(ev, tx) => appends.push((*ev, tx)),
                WriteOp::Control(control) => others.push(control),
            }
            if appends.len() < MAX_BATCH {
                next = rx.try_recv().ok();
            }
        }
        if !appends.is_empty() {
            commit_appends(&mut conn, &mut appends);
            commits_since_checkpoint += 1;
            if commits_since_checkpoint >= WRITER_CHECKPOINT_EVERY {
                // The checkpointer has copied nearly everything by now; this finishes the rest so
                // the next transaction can restart the WAL from its beginning. Without it, under
                // steady load the WAL is never fully copied at a transaction start and grows
                // without bound. SQLITE_BUSY (the checkpointer is mid-copy) is fine: next time.
                commits_since_checkpoint = 0;
                let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
            }
        }
        for op in others.drain(..) {
            match op {
                Control::Prune(cutoff, tx) => {
                    let result = conn
                        .execute("DELETE FROM events WHERE received_at < ?1", [cutoff])
                        .map(|n| n as u64)
                        .map_err(|e| unavailable(&e));
                    let _ = tx.send(result);
                }
                Control::Ping(tx) => {
                    let _ = tx.send(());
                }
                Control::Shutdown(tx) => {
                    // Everything queued before the shutdown has been answered above; appends
                    // queued after it are dropped unanswered, which their callers see as Closed.
                    let _ = tx.send(());
                    return;
                }
            }
        }
    }
}

/// Writes a batch in one transaction and answers each waiter after the commit. If anything fails
/// every waiter gets `Unavailable`: none of them was acknowledged, so a sender's retry is safe.
fn commit_appends(
    conn: &mut Connection,
    batch: &mut Vec<(Row, oneshot::Sender<Result<Appended, StoreError>>)>,
) {
    let started = std::time::Instant::now();
    let result = write_batch(conn, batch);
    let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
    tracing::debug!(events = batch.len(), micros, "batch committed");
    match result {
        Ok(results) => {
            for ((_, tx), appended) in batch.drain(..).zip(results) {
                let _ = tx.send(Ok(appended));
            }
        }
        Err(e) => {
            tracing::error!(error = %e, events = batch.len(), "commit failed; answering 503 to the batch");
            let err = unavailable(&e);
            for (_, tx) in batch.drain(..) {
                let _ = tx.send(Err(err.clone()));
            }
        }
    }
}

fn write_batch(
    conn: &mut Connection,
    batch: &[(Row, oneshot::Sender<Result<Appended, StoreError>>)],
) -> Result<Vec<Appended>, rusqlite::Error> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut results = Vec::with_capacity(batch.len());
    {
        let mut find =
            tx.prepare_cached("SELECT id FROM events WHERE source = ?1 AND dedup_key = ?2")?;
        let mut insert = tx.prepare_cached(
            "INSERT INTO events (id, source, received_at, event_type, dedup_key, method, path, headers, body, body_codec, body_size, verification)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        )?;
        for (row, _) in batch {
            if let Some(key) = &row.dedup_key {
                // Sees rows inserted earlier in this same transaction, so two copies of one event
                // in one batch are recognised too.
                let existing: Option<String> = find
                    .query_row(params![row.source, key], |r| r.get(0))
                    .optional()?;
                if let Some(id) = existing.and_then(|s| s.parse::<EventId>().ok()) {
                    results.push(Appended {
                        id,
                        duplicate: true,
                    });
                    continue;
                }
            }
            insert.execute(params![
                row.id_text,
                row.source,
                row.received_at_ms,
                row.event_type,
                row.dedup_key,
                row.method,
                row.path,
                row.headers,
                row.body,
                row.body_codec as i64,
                row.body_size,
                row.verification
            ])?;
            results.push(Appended {
                id: row.id,
                duplicate: false,
            });
        }
    }
    let inserted = std::time::Instant::now();
    tx.commit()?;
    tracing::trace!(
        commit_micros = u64::try_from(inserted.elapsed().as_micros()).unwrap_or(u64::MAX),
        "fsync'd"
    );
    Ok(results)
}

/// An `events` row as SQLite returns it, before decoding.
struct StoredEvent {
    seq: i64,
    id: String,
    source: String,
    received_at_ms: i64,
    event_type: Option<String>,
    dedup_key: Option<String>,
    method: String,
    path: String,
    headers: String,
    body: Vec<u8>,
    body_codec: i64,
    body_size: i64,
    verification: String,
}

impl StoredEvent {
    fn decode(self) -> Result<Event, StoreError> {
        let size = usize::try_from(self.body_size).map_err(|e| corrupt("body_size", e))?;
        Ok(Event {
            id: read_id(&self.id)?,
            seq: self.seq,
            source: self.source,
            received_at_ms: self.received_at_ms,
            event_type: self.event_type,
            dedup_key: self.dedup_key,
            method: self.method,
            path: self.path,
            headers: serde_json::from_str(&self.headers).map_err(|e| corrupt("headers", e))?,
            body: codec::decode(self.body, self.body_codec, size)
                .map_err(|e| corrupt("body", e))?,
            verification: read_verification(&self.verification)?,
        })
    }
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {e}"))
}

fn read_verification(text: &str) -> Result<Verification, StoreError> {
    serde_json::from_str(text).map_err(|e| corrupt("verification", e))
}

fn read_id(text: &str) -> Result<EventId, StoreError> {
    text.parse().map_err(|e| corrupt("event id", e))
}

#[async_trait]
impl Store for SqliteStore {
    async fn append(&self, event: NewEvent) -> Result<Appended, StoreError> {
        let row = Box::new(Row::encode(event)?);
        self.send(|tx| WriteOp::Append(row, tx)).await?
    }

    async fn event(&self, id: EventId) -> Result<Option<Event>, StoreError> {
        self.read(move |conn| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT seq, id, source, received_at, event_type, dedup_key, method, path, headers,
                            body, body_codec, body_size, verification
                     FROM events WHERE id = ?1",
                )
                .map_err(|e| unavailable(&e))?;
            let stored = stmt
                .query_row([id.to_string()], |r| {
                    Ok(StoredEvent {
                        seq: r.get(0)?,
                        id: r.get(1)?,
                        source: r.get(2)?,
                        received_at_ms: r.get(3)?,
                        event_type: r.get(4)?,
                        dedup_key: r.get(5)?,
                        method: r.get(6)?,
                        path: r.get(7)?,
                        headers: r.get(8)?,
                        body: r.get(9)?,
                        body_codec: r.get(10)?,
                        body_size: r.get(11)?,
                        verification: r.get(12)?,
                    })
                })
                .optional()
                .map_err(|e| unavailable(&e))?;
            stored.map(StoredEvent::decode).transpose()
        })
        .await
    }

    async fn list_events(&self, query: EventQuery) -> Result<Page<EventSummary>, StoreError> {
        self.read(move |conn| {
            let limit = query.limit.clamp(1, 1000);
            let mut stmt = conn
                .prepare_cached(
                    "SELECT seq, id, source, received_at, event_type, dedup_key, body_size, verification
                     FROM events WHERE seq < ?1 ORDER BY seq DESC LIMIT ?2",
                )
                .map_err(|e| unavailable(&e))?;
            // One row more than asked tells whether there is a next page.
            let rows = stmt
                .query_map(
                    params![query.before_seq.unwrap_or(i64::MAX), limit as i64 + 1],
                    |r| {
                        Ok((
                            r.get::<_, i64>(0)?,
                            r.get::<_, String>(1)?,
                            r.get::<_, String>(2)?,
                            r.get::<_, i64>(3)?,
                            r.get::<_, Option<String>>(4)?,
                            r.get::<_, Option<String>>(5)?,
                            r.get::<_, i64>(6)?,
                            r.get::<_, String>(7)?,
                        ))
                    },
                )
                .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
                .map_err(|e| unavailable(&e))?;
            let more = rows.len() > limit;
            let items = rows
                .into_iter()
                .take(limit)
                .map(
                    |(seq, id, source, received_at_ms, event_type, dedup_key, size, verification)| {
                        Ok(EventSummary {
                            id: read_id(&id)?,
                            seq,
                            source,
                            received_at_ms,
                            event_type,
                            dedup_key,
                            body_size: u64::try_from(size).unwrap_or(0),
                            verification: read_verification(&verification)?,
                        })
                    },
                )
                .collect::<Result<Vec<_>, StoreError>>()?;
            let next = if more { items.last().map(|e| e.seq) } else { None };
            Ok(Page { items, next })
        })
        .await
    }

    async fn prune(&self, cutoff_ms: i64) -> Result<u64, StoreError> {
        self.send(|tx| WriteOp::Control(Control::Prune(cutoff_ms, tx)))
            .await?
    }

    async fn ready(&self) -> Result<(), StoreError> {
        self.send(|tx| WriteOp::Control(Control::Ping(tx))).await
    }

    async fn close(&self) {
        let _ = self
            .send(|tx| WriteOp::Control(Control::Shutdown(tx)))
            .await;
    }
}
