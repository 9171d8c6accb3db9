//! The SQLite backend. One dedicated writer thread owns the only writing connection and does
//! group commit: it takes everything queued (up to a bound), writes it in one transaction, commits
//! once (one fsync, with `synchronous=FULL` in WAL mode), and only then answers every waiter. Under
//! load one fsync covers many events; alone, an event waits for exactly one fsync.
//!
//! Reads use a second connection; WAL lets them run while the writer commits.
//!
//! This module must never answer an append before its transaction has committed.

use std::{
    collections::HashSet,
    path::{Path, PathBuf},
    sync::{Arc, Mutex, OnceLock},
    thread,
};

use async_trait::async_trait;
use hookgate_core::{
    AttemptRecord, Delivery, DeliveryId, DeliveryStatus, Event, EventId, NewDelivery, NewEvent,
    Verification,
};
use rusqlite::{params, Connection, OpenFlags, OptionalExtension, TransactionBehavior};
use tokio::sync::{mpsc, oneshot, Notify};

use crate::{
    codec::{self, Codec},
    sqlite_deliveries::{self as dl, RawDelivery},
    Appended, BulkRetry, ClaimRequest, Claimed, DeadFilter, DeliveryCounts, DeliveryDetail,
    DeliveryQuery, DisabledDestination, EventQuery, EventSummary, Lending, Page, RetryOutcome,
    Store, StoreError,
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
    deliveries: Vec<NewDelivery>,
    /// The event as the dispatcher sends it, kept for a delivery the writer may hand over
    /// (see [`Lending`]); `None` when nothing is lent.
    copy: Option<Box<Event>>,
}

impl Row {
    /// `lending`: the slots lent, if any. The event is copied only when one of its deliveries'
    /// destinations has a slot free now (a destination that is ordered, throttled or failing
    /// never has one, and copying every event for it would be waste). Checking early is only a
    /// hint: a slot lent after this check leaves the delivery to a claim, one taken after it
    /// leaves the copy unused.
    fn encode(ev: NewEvent, lending: Option<&Lending>) -> Result<Self, StoreError> {
        let wanted = lending.is_some_and(|lending| {
            ev.deliveries
                .iter()
                .any(|d| d.dead_reason.is_none() && lending.unused(&d.destination) > 0)
        });
        let copy = wanted.then(|| {
            Box::new(Event {
                id: ev.id,
                seq: 0,
                source: ev.source.clone(),
                received_at_ms: ev.received_at_ms,
                event_type: ev.event_type.clone(),
                dedup_key: ev.dedup_key.clone(),
                method: ev.method.clone(),
                path: ev.path.clone(),
                headers: ev.headers.clone(),
                body: ev.body.clone(),
                verification: ev.verification.clone(),
            })
        });
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
            deliveries: ev.deliveries,
            copy,
        })
    }
}

type Reply<T> = oneshot::Sender<Result<T, StoreError>>;

enum WriteOp {
    // Boxed: an event is ~300 bytes and the queue holds thousands of these.
    Append(Box<Row>, Reply<Appended>),
    /// Attempt reports share the appends' transaction and fsync.
    Record(Vec<AttemptRecord>, i64, Reply<()>),
    Control(Control),
}

/// Writer work that is not an append; done after the batch it arrived with is committed.
enum Control {
    Prune(i64, Reply<u64>),
    Claim(
        i64,
        Vec<ClaimRequest>,
        Reply<Vec<(RawDelivery, StoredEvent)>>,
    ),
    AddDeliveries(
        String,
        Vec<NewDelivery>,
        i64,
        Reply<Option<Vec<DeliveryId>>>,
    ),
    Retry(DeliveryId, i64, Reply<RetryOutcome>),
    RetryDead(DeadFilter, usize, i64, Reply<BulkRetry>),
    SetDisabled(String, Option<String>, i64, Reply<()>),
    Ping(oneshot::Sender<()>),
    /// From the checkpointer, every 100 ms: a chance to do background work (search indexing).
    Tick,
    Shutdown(oneshot::Sender<()>),
}

#[derive(Debug)]
pub struct SqliteStore {
    path: PathBuf,
    queue: mpsc::Sender<WriteOp>,
    // A std Mutex is right here: it is only locked inside spawn_blocking, never across an .await.
    reader: Arc<Mutex<Connection>>,
    work: Arc<Notify>,
    handoff: Arc<OnceLock<Handoff>>,
    // Held open for the store's life: the exclusive lock on it keeps a second hookgate off
    // this database, which is what lets `open` take back the leases a dead process held.
    _lock: std::fs::File,
}

impl std::fmt::Debug for WriteOp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Append(..) => "Append",
            Self::Record(..) => "Record",
            Self::Control(Control::Claim(..)) => "Claim",
            Self::Control(Control::AddDeliveries(..)) => "AddDeliveries",
            Self::Control(Control::Retry(..)) => "Retry",
            Self::Control(Control::RetryDead(..)) => "RetryDead",
            Self::Control(Control::SetDisabled(..)) => "SetDisabled",
            Self::Control(Control::Prune(..)) => "Prune",
            Self::Control(Control::Ping(_)) => "Ping",
            Self::Control(Control::Tick) => "Tick",
            Self::Control(Control::Shutdown(_)) => "Shutdown",
        })
    }
}

/// Where the writer sends the deliveries it leased with lent slots.
#[derive(Debug)]
struct Handoff {
    lending: Arc<Lending>,
    to: mpsc::UnboundedSender<Vec<Claimed>>,
}

fn unavailable(e: &rusqlite::Error) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

const MIGRATIONS: &[&str] = &[
    r"
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
",
    r"
    -- One row per (event, destination) the router chose; written in the event's transaction.
    CREATE TABLE deliveries (
        seq          INTEGER PRIMARY KEY,
        id           TEXT    NOT NULL UNIQUE,
        event_id     TEXT    NOT NULL,
        destination  TEXT    NOT NULL,
        route        TEXT,
        status       INTEGER NOT NULL,  -- 0 pending, 1 delivered, 2 dead
        attempts     INTEGER NOT NULL,
        next_at      INTEGER NOT NULL,  -- unix ms of the next attempt (pending)
        lease_until  INTEGER NOT NULL,  -- unix ms; a worker holds it until then
        payload      BLOB,              -- the transform's output; NULL sends the event's body
        last_error   TEXT,
        created_at   INTEGER NOT NULL,
        updated_at   INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX deliveries_due ON deliveries (destination, next_at, seq) WHERE status = 0;
    CREATE INDEX deliveries_queue ON deliveries (destination, seq) WHERE status = 0;
    CREATE INDEX deliveries_event ON deliveries (event_id);
    CREATE INDEX deliveries_status ON deliveries (status, seq);
    CREATE TABLE attempts (
        delivery_seq INTEGER NOT NULL,
        n            INTEGER NOT NULL,
        started_at   INTEGER NOT NULL,
        duration_ms  INTEGER NOT NULL,
        status_code  INTEGER,
        exit_code    INTEGER,
        excerpt      TEXT,
        error        TEXT,
        PRIMARY KEY (delivery_seq, n)
    ) STRICT, WITHOUT ROWID;
    CREATE TABLE destination_state (
        name   TEXT    PRIMARY KEY,
        reason TEXT    NOT NULL,
        since  INTEGER NOT NULL
    ) STRICT;
",
    r"
    -- The event list's filters: by source, by type, newest first.
    CREATE INDEX events_source ON events (source, seq);
    CREATE INDEX events_type ON events (event_type, seq) WHERE event_type IS NOT NULL;
    -- Full-text search over bodies. Contentless (the body is stored once, compressed, in
    -- events); filled by the writer when it has nothing else to do, so ingest never waits for
    -- it; fts_state.last_seq says how far it has got.
    CREATE VIRTUAL TABLE events_fts USING fts5(body, content = '', contentless_delete = 1);
    CREATE TABLE fts_state (id INTEGER PRIMARY KEY CHECK (id = 1), last_seq INTEGER NOT NULL) STRICT;
    INSERT INTO fts_state VALUES (1, 0);
",
];

impl SqliteStore {
    /// Opens (creating if needed) the database at `path`, migrates it, and starts the writer.
    pub fn open(path: impl AsRef<Path>, options: &SqliteOptions) -> Result<Self, StoreError> {
        let path = path.as_ref().to_path_buf();
        let lock = lock_database(&path)?;
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
        // Leases held by a process that died: this process is the only one on the file (see
        // `lock_database`), so none of them is still being worked on.
        writer
            .execute(
                "UPDATE deliveries SET lease_until = 0 WHERE status = 0 AND lease_until > 0",
                [],
            )
            .map_err(|e| unavailable(&e))?;
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
        let ticks = queue.downgrade();
        let (writer_alive, writer_gone) = std::sync::mpsc::channel::<()>();
        let work = Arc::new(Notify::new());
        let writer_work = Arc::clone(&work);
        let handoff = Arc::new(OnceLock::new());
        let writer_handoff = Arc::clone(&handoff);
        thread::Builder::new()
            .name("hookgate-sqlite-writer".into())
            .spawn(move || {
                writer_loop(writer, rx, &writer_work, &writer_handoff);
                drop(writer_alive);
            })
            .map_err(|e| StoreError::Unavailable(format!("cannot start the writer thread: {e}")))?;
        thread::Builder::new()
            .name("hookgate-sqlite-checkpoint".into())
            .spawn(move || checkpoint_loop(&checkpointer, &writer_gone, &ticks))
            .map_err(|e| {
                StoreError::Unavailable(format!("cannot start the checkpoint thread: {e}"))
            })?;
        Ok(Self {
            path,
            queue,
            reader: Arc::new(Mutex::new(reader)),
            work,
            handoff,
            _lock: lock,
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

/// Takes an exclusive lock on `<database>.lock`, refusing to open a database another
/// hookgate process has open: SQLite would allow it, but two dispatchers would then each
/// believe the other's leases were abandoned.
fn lock_database(path: &Path) -> Result<std::fs::File, StoreError> {
    let mut name = path.as_os_str().to_owned();
    name.push(".lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&name)
        .map_err(|e| {
            StoreError::Unavailable(format!("cannot open {}: {e}", Path::new(&name).display()))
        })?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(StoreError::Unavailable(format!(
            "{} is in use by another hookgate process (one process per SQLite database; use PostgreSQL for several nodes)",
            path.display()
        ))),
        Err(std::fs::TryLockError::Error(e)) => Err(StoreError::Unavailable(format!(
            "cannot lock {}: {e}",
            Path::new(&name).display()
        ))),
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
fn checkpoint_loop(
    conn: &Connection,
    writer_gone: &std::sync::mpsc::Receiver<()>,
    writer: &mpsc::WeakSender<WriteOp>,
) {
    loop {
        match writer_gone.recv_timeout(CHECKPOINT_EVERY) {
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                // Weak: the tick must not keep the writer's queue open after the store is gone.
                if let Some(queue) = writer.upgrade() {
                    let _ = queue.try_send(WriteOp::Control(Control::Tick));
                }
            }
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

fn writer_loop(
    mut conn: Connection,
    mut rx: mpsc::Receiver<WriteOp>,
    work: &Notify,
    handoff: &OnceLock<Handoff>,
) {
    let mut appends = Vec::with_capacity(MAX_BATCH);
    // Kept here (and reread when it changes, which only this thread does) so that lending
    // never hands over a delivery to a destination an operator or a `410` switched off.
    let mut disabled: HashSet<String> = dl::disabled_names(&conn)
        .map(|names| names.into_iter().collect())
        .unwrap_or_default();
    let mut others = Vec::new();
    let mut commits_since_checkpoint = 0;
    // When the last append arrived: search indexing waits for a quiet moment.
    let mut last_append = std::time::Instant::now();
    loop {
        let Some(first) = rx.blocking_recv() else {
            return;
        };
        let mut next = Some(first);
        while let Some(op) = next.take() {
            match op {
                WriteOp::Append(ev, tx) => {
                    last_append = std::time::Instant::now();
                    appends.push(BatchItem::Append(*ev, tx));
                }
                WriteOp::Record(records, now, tx) => {
                    appends.push(BatchItem::Record(records, now, tx));
                }
                WriteOp::Control(control) => others.push(control),
            }
            if appends.len() < MAX_BATCH {
                next = rx.try_recv().ok();
            }
        }
        if !appends.is_empty() {
            if commit_appends(&mut conn, &mut appends, handoff.get(), &disabled) {
                work.notify_one();
            }
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
                    let _ = tx.send(in_transaction(&mut conn, |tx| prune(tx, cutoff)));
                }
                Control::Claim(now, requests, reply) => {
                    // A lease need not survive a crash (losing one only makes a delivery
                    // claimable again), so claims skip the fsync; the next FULL commit
                    // syncs their WAL frames with its own.
                    let _ = conn.execute_batch("PRAGMA synchronous = NORMAL");
                    let result = in_transaction(&mut conn, |tx| dl::claim(tx, now, &requests));
                    let _ = conn.execute_batch("PRAGMA synchronous = FULL");
                    let _ = reply.send(result);
                }
                Control::AddDeliveries(event, deliveries, now, reply) => {
                    let result = in_transaction(&mut conn, |tx| {
                        let exists = tx
                            .prepare_cached("SELECT 1 FROM events WHERE id = ?1")?
                            .exists([&event])?;
                        if !exists {
                            return Ok(None);
                        }
                        dl::insert_deliveries(tx, &event, &deliveries, now)?;
                        Ok(Some(deliveries.iter().map(|d| d.id).collect()))
                    });
                    if matches!(result, Ok(Some(_))) {
                        work.notify_one();
                    }
                    let _ = reply.send(result);
                }
                Control::Retry(id, now, reply) => {
                    let result = dl::retry(&conn, id, now);
                    if matches!(result, Ok(RetryOutcome::Retried(_))) {
                        work.notify_one();
                    }
                    let _ = reply.send(result);
                }
                Control::RetryDead(filter, limit, now, reply) => {
                    let result =
                        in_transaction(&mut conn, |tx| dl::retry_dead(tx, &filter, limit, now));
                    if matches!(result, Ok(r) if r.retried > 0) {
                        work.notify_one();
                    }
                    let _ = reply.send(result);
                }
                Control::SetDisabled(name, reason, now, reply) => {
                    let result = dl::set_disabled(&conn, &name, reason.as_deref(), now)
                        .map_err(|e| unavailable(&e));
                    if let Ok(names) = dl::disabled_names(&conn) {
                        disabled = names.into_iter().collect();
                    } else {
                        // Unknown: treat it as disabled until the next change rereads it.
                        disabled.insert(name);
                    }
                    work.notify_one();
                    let _ = reply.send(result);
                }
                Control::Ping(tx) => {
                    let _ = tx.send(());
                }
                Control::Tick => {
                    // Index for search only when ingest has been quiet for a while: indexing
                    // in the gaps between busy batches measured a third off ingest throughput.
                    if last_append.elapsed() >= INDEX_QUIET {
                        for _ in 0..INDEX_STEPS_PER_TICK {
                            match index_step(&mut conn) {
                                Ok(0) => break,
                                Ok(_) if rx.is_empty() => {}
                                Ok(_) => break,
                                Err(e) => {
                                    tracing::warn!(error = %e, "search indexing failed; will retry");
                                    break;
                                }
                            }
                        }
                    }
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

/// Runs `f` in an immediate transaction, committing (with the connection's sync setting) on
/// success.
fn in_transaction<T>(
    conn: &mut Connection,
    f: impl FnOnce(&rusqlite::Transaction<'_>) -> rusqlite::Result<T>,
) -> Result<T, StoreError> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(|e| unavailable(&e))?;
    let value = f(&tx).map_err(|e| unavailable(&e))?;
    tx.commit().map_err(|e| unavailable(&e))?;
    Ok(value)
}

/// Events indexed for search per step (see the writer loop): small, so that the append that
/// arrives during a step waits a millisecond or so at most.
const INDEX_STEP: i64 = 64;
/// No append for this long counts as quiet enough to index.
const INDEX_QUIET: std::time::Duration = std::time::Duration::from_millis(250);
/// Steps per tick at most (with ticks every 100 ms: up to ~20k events indexed a second).
const INDEX_STEPS_PER_TICK: usize = 32;
/// Bytes of a body indexed; the rest of a huge body is not searchable.
const INDEX_MAX_BYTES: usize = 64 * 1024;

/// Indexes the next few unindexed events; returns how many.
fn index_step(conn: &mut Connection) -> Result<usize, StoreError> {
    // Losing an index step in a crash only means indexing it again: no fsync needed.
    let _ = conn.execute_batch("PRAGMA synchronous = NORMAL");
    let result = in_transaction(conn, |tx| {
        let last: i64 = tx.query_row("SELECT last_seq FROM fts_state WHERE id = 1", [], |r| {
            r.get(0)
        })?;
        let rows: Vec<(i64, Vec<u8>, i64, i64)> = tx
            .prepare_cached(
                "SELECT seq, body, body_codec, body_size FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2",
            )?
            .query_map(params![last, INDEX_STEP], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })?
            .collect::<Result<_, _>>()?;
        let mut insert =
            tx.prepare_cached("INSERT INTO events_fts (rowid, body) VALUES (?1, ?2)")?;
        for (seq, body, codec, size) in rows.iter().cloned() {
            let size = usize::try_from(size).unwrap_or(0);
            // A body that does not decode is skipped for search, not an error for the writer.
            let Ok(bytes) = codec::decode(body, codec, size) else {
                continue;
            };
            let text =
                String::from_utf8_lossy(&bytes[..bytes.len().min(INDEX_MAX_BYTES)]).into_owned();
            insert.execute(params![seq, text])?;
        }
        if let Some((seq, ..)) = rows.last() {
            tx.execute("UPDATE fts_state SET last_seq = ?1 WHERE id = 1", [seq])?;
        }
        Ok(rows.len())
    });
    let _ = conn.execute_batch("PRAGMA synchronous = FULL");
    result
}

/// Deletes events past retention, with their deliveries and attempts, except events that
/// still have a pending delivery: an event is never dropped on its way out.
fn prune(tx: &rusqlite::Transaction<'_>, cutoff: i64) -> rusqlite::Result<u64> {
    tx.execute_batch(&format!(
        "CREATE TEMP TABLE IF NOT EXISTS pruned (id TEXT PRIMARY KEY);
         DELETE FROM pruned;
         INSERT INTO pruned SELECT id FROM events e WHERE received_at < {cutoff}
             AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id AND d.status = 0);
         DELETE FROM attempts WHERE delivery_seq IN
             (SELECT seq FROM deliveries WHERE event_id IN (SELECT id FROM pruned));
         DELETE FROM deliveries WHERE event_id IN (SELECT id FROM pruned);
         DELETE FROM events_fts WHERE rowid IN
             (SELECT seq FROM events WHERE id IN (SELECT id FROM pruned));"
    ))?;
    let n = tx.execute("DELETE FROM events WHERE id IN (SELECT id FROM pruned)", [])?;
    Ok(n as u64)
}

/// One piece of a group commit. Not boxed: a batch is one Vec, reused, and appends are
/// nearly all of it.
#[allow(clippy::large_enum_variant)]
enum BatchItem {
    Append(Row, Reply<Appended>),
    Record(Vec<AttemptRecord>, i64, Reply<()>),
}

/// Writes a batch in one transaction and answers each waiter after the commit. If anything fails
/// every waiter gets `Unavailable`: none of them was acknowledged, so a sender's retry is safe.
/// Returns whether new deliveries were stored that still need a claim (the rest were leased with
/// lent slots and are handed over here, after the commit).
fn commit_appends(
    conn: &mut Connection,
    batch: &mut Vec<BatchItem>,
    handoff: Option<&Handoff>,
    disabled: &HashSet<String>,
) -> bool {
    let started = std::time::Instant::now();
    let mut handed = Vec::new();
    let mut taken = Vec::new();
    let result = write_batch(conn, batch, handoff, disabled, &mut handed, &mut taken);
    let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
    tracing::debug!(items = batch.len(), micros, "batch committed");
    #[allow(clippy::cast_precision_loss)]
    metrics::histogram!("hookgate_store_commit_batch_size").record(batch.len() as f64);
    match result {
        Ok((results, routed)) => {
            if let (Some(handoff), false) = (handoff, handed.is_empty()) {
                // A dispatcher gone means a shutdown: the leases lapse (or are reset when the
                // database next opens) and the deliveries are claimed then.
                let _ = handoff.to.send(handed);
            }
            let mut results = results.into_iter();
            for item in batch.drain(..) {
                match item {
                    BatchItem::Append(_, tx) => {
                        if let Some(appended) = results.next() {
                            let _ = tx.send(Ok(appended));
                        }
                    }
                    BatchItem::Record(_, _, tx) => {
                        let _ = tx.send(Ok(()));
                    }
                }
            }
            routed
        }
        Err(e) => {
            tracing::error!(error = %e, items = batch.len(), "commit failed; answering 503 to the batch");
            if let Some(handoff) = handoff {
                for destination in &taken {
                    handoff.lending.give_back(destination);
                }
            }
            let err = unavailable(&e);
            for item in batch.drain(..) {
                match item {
                    BatchItem::Append(_, tx) => {
                        let _ = tx.send(Err(err.clone()));
                    }
                    BatchItem::Record(_, _, tx) => {
                        let _ = tx.send(Err(err.clone()));
                    }
                }
            }
            false
        }
    }
}

fn write_batch(
    conn: &mut Connection,
    batch: &mut [BatchItem],
    handoff: Option<&Handoff>,
    disabled: &HashSet<String>,
    handed: &mut Vec<Claimed>,
    taken: &mut Vec<String>,
) -> Result<(Vec<Appended>, bool), rusqlite::Error> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut results = Vec::with_capacity(batch.len());
    let mut routed = false;
    {
        let mut find =
            tx.prepare_cached("SELECT id FROM events WHERE source = ?1 AND dedup_key = ?2")?;
        let mut insert = tx.prepare_cached(
            "INSERT INTO events (id, source, received_at, event_type, dedup_key, method, path, headers, body, body_codec, body_size, verification)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        )?;
        for item in batch.iter_mut() {
            let row = match item {
                BatchItem::Append(row, _) => row,
                BatchItem::Record(records, now, _) => {
                    dl::record(&tx, records, *now)?;
                    continue;
                }
            };
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
            let seq = tx.last_insert_rowid();
            let now = row.received_at_ms;
            let mut lent_deliveries = Vec::new();
            for d in &row.deliveries {
                let lent = match (handoff, &row.copy) {
                    (Some(h), Some(_))
                        if d.dead_reason.is_none() && !disabled.contains(&d.destination) =>
                    {
                        let lease = h.lending.take(&d.destination);
                        if lease.is_some() {
                            taken.push(d.destination.clone());
                        }
                        lease
                    }
                    _ => None,
                };
                let lease_until = lent.map_or(0, |lease_ms| now.saturating_add(lease_ms));
                let delivery_seq = dl::insert_delivery(&tx, &row.id_text, d, now, lease_until)?;
                if lent.is_none() {
                    routed |= d.dead_reason.is_none();
                    continue;
                }
                lent_deliveries.push(Delivery {
                    id: d.id,
                    seq: delivery_seq,
                    event_id: row.id,
                    destination: d.destination.clone(),
                    route: d.route.clone(),
                    status: DeliveryStatus::Pending,
                    attempts: 0,
                    next_at_ms: now,
                    lease_until_ms: lease_until,
                    payload: d.payload.clone(),
                    last_error: None,
                    created_at_ms: now,
                    updated_at_ms: now,
                });
            }
            // The copy goes to the last delivery handed over; any others (an event routed to
            // several destinations) get a clone.
            if let Some(last) = lent_deliveries.pop() {
                if let Some(copy) = row.copy.take() {
                    let event = Event { seq, ..*copy };
                    for delivery in lent_deliveries {
                        handed.push(Claimed {
                            delivery,
                            event: event.clone(),
                        });
                    }
                    handed.push(Claimed {
                        delivery: last,
                        event,
                    });
                }
            }
            results.push(Appended {
                id: row.id,
                duplicate: false,
            });
        }
    }
    let inserted = std::time::Instant::now();
    tx.commit()?;
    // The commit is where the fsync happens: this is the durability cost per batch.
    metrics::histogram!("hookgate_store_commit_seconds").record(inserted.elapsed().as_secs_f64());
    tracing::trace!(
        commit_micros = u64::try_from(inserted.elapsed().as_micros()).unwrap_or(u64::MAX),
        "fsync'd"
    );
    Ok((results, routed))
}

/// An `events` row as SQLite returns it, before decoding.
#[derive(Debug)]
pub(crate) struct StoredEvent {
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

const EVENT_COLUMNS: &str = "seq, id, source, received_at, event_type, dedup_key, method, path, headers, body, body_codec, body_size, verification";

pub(crate) fn select_event(conn: &Connection, id: &str) -> rusqlite::Result<Option<StoredEvent>> {
    conn.prepare_cached(&format!("SELECT {EVENT_COLUMNS} FROM events WHERE id = ?1"))?
        .query_row([id], |r| {
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
}

impl StoredEvent {
    pub(crate) fn decode(self) -> Result<Event, StoreError> {
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

pub(crate) fn read_id(text: &str) -> Result<EventId, StoreError> {
    text.parse().map_err(|e| corrupt("event id", e))
}

#[async_trait]
impl Store for SqliteStore {
    async fn append(&self, event: NewEvent) -> Result<Appended, StoreError> {
        let lending = self.handoff.get().map(|h| h.lending.as_ref());
        let row = Box::new(Row::encode(event, lending)?);
        self.send(|tx| WriteOp::Append(row, tx)).await?
    }

    async fn event(&self, id: EventId) -> Result<Option<Event>, StoreError> {
        self.read(move |conn| {
            select_event(conn, &id.to_string())
                .map_err(|e| unavailable(&e))?
                .map(StoredEvent::decode)
                .transpose()
        })
        .await
    }

    async fn list_events(&self, query: EventQuery) -> Result<Page<EventSummary>, StoreError> {
        self.read(move |conn| {
            use rusqlite::types::Value;
            let limit = query.limit.clamp(1, 1000);
            let mut args = vec![Value::Integer(query.before_seq.unwrap_or(i64::MAX))];
            let mut filter = String::from("e.seq < ?1");
            let mut and = |clause: &str, value: Value| {
                args.push(value);
                filter.push_str(&format!(" AND {}", clause.replace('?', &format!("?{}", args.len()))));
            };
            if let Some(source) = &query.source {
                and("e.source = ?", Value::Text(source.clone()));
            }
            if let Some(t) = &query.event_type {
                and("e.event_type = ?", Value::Text(t.clone()));
            }
            if let Some(status) = query.delivery_status {
                and(
                    "EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id AND d.status = ?)",
                    Value::Integer(status.code()),
                );
            }
            if let Some(from) = query.from_ms {
                and("e.received_at >= ?", Value::Integer(from));
            }
            if let Some(to) = query.to_ms {
                and("e.received_at <= ?", Value::Integer(to));
            }
            // Control characters cannot be in an indexed token, and a NUL ends FTS5's query
            // string early (an error, not a miss): they are dropped from the search text.
            let text: Option<String> = query.text.as_deref().map(|t| {
                t.chars().filter(|c| !c.is_control()).take(256).collect::<String>()
            });
            if let Some(text) = text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
                // One phrase, quoted: the user's text is never FTS5 query syntax.
                and(
                    "e.seq IN (SELECT rowid FROM events_fts WHERE events_fts MATCH ?)",
                    Value::Text(format!("\"{}\"", text.replace('"', "\"\""))),
                );
            }
            args.push(Value::Integer(limit as i64 + 1));
            let sql = format!(
                "SELECT e.seq, e.id, e.source, e.received_at, e.event_type, e.dedup_key, e.body_size, e.verification,
                        (SELECT COUNT(*) FROM deliveries d WHERE d.event_id = e.id AND d.status = 0),
                        (SELECT COUNT(*) FROM deliveries d WHERE d.event_id = e.id AND d.status = 1),
                        (SELECT COUNT(*) FROM deliveries d WHERE d.event_id = e.id AND d.status = 2)
                 FROM events e WHERE {filter} ORDER BY e.seq DESC LIMIT ?{}",
                args.len()
            );
            let mut stmt = conn.prepare_cached(&sql).map_err(|e| unavailable(&e))?;
            // One row more than asked tells whether there is a next page.
            let count = |r: &rusqlite::Row<'_>, i: usize| -> rusqlite::Result<u64> {
                Ok(u64::try_from(r.get::<_, i64>(i)?).unwrap_or(0))
            };
            let rows = stmt
                .query_map(rusqlite::params_from_iter(args.iter()), |r| {
                    Ok((
                        (
                            r.get::<_, i64>(0)?,
                            r.get::<_, String>(1)?,
                            r.get::<_, String>(2)?,
                            r.get::<_, i64>(3)?,
                            r.get::<_, Option<String>>(4)?,
                            r.get::<_, Option<String>>(5)?,
                            r.get::<_, i64>(6)?,
                            r.get::<_, String>(7)?,
                        ),
                        DeliveryCounts {
                            pending: count(r, 8)?,
                            delivered: count(r, 9)?,
                            dead: count(r, 10)?,
                        },
                    ))
                })
                .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
                .map_err(|e| unavailable(&e))?;
            let more = rows.len() > limit;
            let items = rows
                .into_iter()
                .take(limit)
                .map(
                    |((seq, id, source, received_at_ms, event_type, dedup_key, size, verification), deliveries)| {
                        Ok(EventSummary {
                            id: read_id(&id)?,
                            seq,
                            source,
                            received_at_ms,
                            event_type,
                            dedup_key,
                            body_size: u64::try_from(size).unwrap_or(0),
                            verification: read_verification(&verification)?,
                            deliveries,
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

    fn work_signal(&self) -> Arc<Notify> {
        Arc::clone(&self.work)
    }

    fn lend(&self, lending: Arc<Lending>) -> Option<mpsc::UnboundedReceiver<Vec<Claimed>>> {
        let (to, rx) = mpsc::unbounded_channel();
        // One dispatcher per store: a second caller gets nothing rather than stealing the first's.
        self.handoff.set(Handoff { lending, to }).ok()?;
        Some(rx)
    }

    async fn claim(
        &self,
        now_ms: i64,
        requests: Vec<ClaimRequest>,
    ) -> Result<Vec<Claimed>, StoreError> {
        let rows = self
            .send(|tx| WriteOp::Control(Control::Claim(now_ms, requests, tx)))
            .await??;
        // Decoding (zstd, JSON headers) happens here, off the writer thread.
        rows.into_iter()
            .map(|(delivery, event)| {
                Ok(Claimed {
                    delivery: delivery.decode()?,
                    event: event.decode()?,
                })
            })
            .collect()
    }

    async fn record(&self, records: Vec<AttemptRecord>, now_ms: i64) -> Result<(), StoreError> {
        if records.is_empty() {
            return Ok(());
        }
        self.send(|tx| WriteOp::Record(records, now_ms, tx)).await?
    }

    async fn add_deliveries(
        &self,
        event: EventId,
        deliveries: Vec<NewDelivery>,
        now_ms: i64,
    ) -> Result<Option<Vec<DeliveryId>>, StoreError> {
        self.send(|tx| {
            WriteOp::Control(Control::AddDeliveries(
                event.to_string(),
                deliveries,
                now_ms,
                tx,
            ))
        })
        .await?
    }

    async fn deliveries_of(&self, event: EventId) -> Result<Vec<DeliveryDetail>, StoreError> {
        self.read(move |conn| dl::deliveries_of(conn, event)).await
    }

    async fn delivery(&self, id: DeliveryId) -> Result<Option<DeliveryDetail>, StoreError> {
        self.read(move |conn| dl::delivery(conn, id)).await
    }

    async fn list_deliveries(&self, query: DeliveryQuery) -> Result<Page<Delivery>, StoreError> {
        self.read(move |conn| dl::list(conn, &query)).await
    }

    async fn retry(&self, id: DeliveryId, now_ms: i64) -> Result<RetryOutcome, StoreError> {
        self.send(|tx| WriteOp::Control(Control::Retry(id, now_ms, tx)))
            .await?
    }

    async fn retry_dead(
        &self,
        filter: DeadFilter,
        limit: usize,
        now_ms: i64,
    ) -> Result<BulkRetry, StoreError> {
        self.send(|tx| WriteOp::Control(Control::RetryDead(filter, limit, now_ms, tx)))
            .await?
    }

    async fn set_destination_disabled(
        &self,
        name: &str,
        reason: Option<String>,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let name = name.to_owned();
        self.send(|tx| WriteOp::Control(Control::SetDisabled(name, reason, now_ms, tx)))
            .await?
    }

    async fn disabled_destinations(&self) -> Result<Vec<DisabledDestination>, StoreError> {
        self.read(dl::disabled).await
    }

    async fn backlog(&self) -> Result<Vec<(String, u64)>, StoreError> {
        self.read(dl::backlog).await
    }
}
