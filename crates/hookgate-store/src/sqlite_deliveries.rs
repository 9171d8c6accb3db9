//! The deliveries half of the SQLite backend: the statements behind claiming, recording
//! attempts, retrying and listing. Writes run on the writer thread (inside its transactions);
//! reads on the reader connection.

use hookgate_core::{
    Attempt, AttemptRecord, Delivery, DeliveryId, DeliveryStatus, EventId, NewDelivery, NextStep,
};
use rusqlite::{params, Connection, OptionalExtension, Row};

use crate::{
    sqlite::{read_id, StoredEvent},
    BulkRetry, ClaimRequest, DeadFilter, DeliveryDetail, DeliveryQuery, DisabledDestination, Page,
    RetryOutcome, StoreError,
};

pub(crate) const DELIVERY_COLUMNS: &str = "seq, id, event_id, destination, route, status, attempts, next_at, lease_until, payload, last_error, created_at, updated_at";

pub(crate) fn read_delivery(r: &Row<'_>) -> rusqlite::Result<RawDelivery> {
    Ok(RawDelivery {
        seq: r.get(0)?,
        id: r.get(1)?,
        event_id: r.get(2)?,
        destination: r.get(3)?,
        route: r.get(4)?,
        status: r.get(5)?,
        attempts: r.get(6)?,
        next_at: r.get(7)?,
        lease_until: r.get(8)?,
        payload: r.get(9)?,
        last_error: r.get(10)?,
        created_at: r.get(11)?,
        updated_at: r.get(12)?,
    })
}

/// A `deliveries` row as SQLite returns it, decoded off the writer thread.
#[derive(Debug)]
pub(crate) struct RawDelivery {
    seq: i64,
    id: String,
    event_id: String,
    destination: String,
    route: Option<String>,
    status: i64,
    attempts: i64,
    next_at: i64,
    lease_until: i64,
    payload: Option<Vec<u8>>,
    last_error: Option<String>,
    created_at: i64,
    updated_at: i64,
}

impl RawDelivery {
    pub(crate) fn decode(self) -> Result<Delivery, StoreError> {
        Ok(Delivery {
            id: self
                .id
                .parse::<DeliveryId>()
                .map_err(|e| StoreError::Corrupt(format!("delivery id: {e}")))?,
            seq: self.seq,
            event_id: read_id(&self.event_id)?,
            destination: self.destination,
            route: self.route,
            status: DeliveryStatus::from_code(self.status)
                .ok_or_else(|| StoreError::Corrupt(format!("delivery status {}", self.status)))?,
            attempts: u32::try_from(self.attempts).unwrap_or(0),
            next_at_ms: self.next_at,
            lease_until_ms: self.lease_until,
            payload: self.payload,
            last_error: self.last_error,
            created_at_ms: self.created_at,
            updated_at_ms: self.updated_at,
        })
    }
}

/// Inserts an event's deliveries (inside the event's transaction, or a replay's), none leased.
pub(crate) fn insert_deliveries(
    conn: &Connection,
    event_id: &str,
    deliveries: &[NewDelivery],
    now_ms: i64,
) -> rusqlite::Result<()> {
    for d in deliveries {
        insert_delivery(conn, event_id, d, now_ms, 0)?;
    }
    Ok(())
}

/// Inserts one delivery, leased until `lease_until` (0: not leased); returns its `seq`.
pub(crate) fn insert_delivery(
    conn: &Connection,
    event_id: &str,
    d: &NewDelivery,
    now_ms: i64,
    lease_until: i64,
) -> rusqlite::Result<i64> {
    let status = if d.dead_reason.is_some() {
        DeliveryStatus::Dead
    } else {
        DeliveryStatus::Pending
    };
    conn.prepare_cached(
        "INSERT INTO deliveries (id, event_id, destination, route, status, attempts, next_at, lease_until, payload, last_error, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, 0, ?6, ?7, ?8, ?9, ?6, ?6)",
    )?
    .execute(params![
        d.id.to_string(),
        event_id,
        d.destination,
        d.route,
        status.code(),
        now_ms,
        lease_until,
        d.payload,
        d.dead_reason,
    ])?;
    Ok(conn.last_insert_rowid())
}

/// The names of the disabled destinations.
pub(crate) fn disabled_names(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare_cached("SELECT name FROM destination_state")?;
    let rows = stmt.query_map([], |r| r.get(0))?;
    rows.collect()
}

/// Claims due deliveries; returns each with its event's raw row.
pub(crate) fn claim(
    conn: &Connection,
    now_ms: i64,
    requests: &[ClaimRequest],
) -> rusqlite::Result<Vec<(RawDelivery, StoredEvent)>> {
    let disabled = disabled_names(conn)?;
    let mut claimed = Vec::new();
    for req in requests {
        if req.limit == 0 || disabled.contains(&req.destination) {
            continue;
        }
        let lease_until = now_ms.saturating_add(req.lease_ms);
        let rows: Vec<RawDelivery> = if req.ordered {
            let mut head = conn.prepare_cached(&format!(
                "SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE destination = ?1 AND status = 0 ORDER BY seq LIMIT 1"
            ))?;
            let head = head
                .query_row([&req.destination], read_delivery)
                .optional()?;
            match head {
                Some(d) if d.next_at <= now_ms && d.lease_until <= now_ms => {
                    conn.prepare_cached("UPDATE deliveries SET lease_until = ?1 WHERE seq = ?2")?
                        .execute(params![lease_until, d.seq])?;
                    vec![RawDelivery { lease_until, ..d }]
                }
                _ => Vec::new(),
            }
        } else {
            let mut stmt = conn.prepare_cached(&format!(
                "UPDATE deliveries SET lease_until = ?1 WHERE seq IN (
                     SELECT seq FROM deliveries
                     WHERE destination = ?2 AND status = 0 AND next_at <= ?3 AND lease_until <= ?3
                     ORDER BY next_at, seq LIMIT ?4)
                 RETURNING {DELIVERY_COLUMNS}"
            ))?;
            let rows = stmt.query_map(
                params![
                    lease_until,
                    req.destination,
                    now_ms,
                    i64::try_from(req.limit).unwrap_or(i64::MAX)
                ],
                read_delivery,
            )?;
            rows.collect::<Result<_, _>>()?
        };
        for d in rows {
            let event = crate::sqlite::select_event(conn, &d.event_id)?;
            match event {
                Some(event) => claimed.push((d, event)),
                // The event is gone (deleted by hand): nothing can ever be sent.
                None => {
                    conn.prepare_cached(
                        "UPDATE deliveries SET status = 2, lease_until = 0, last_error = 'the event no longer exists', updated_at = ?1 WHERE seq = ?2",
                    )?
                    .execute(params![now_ms, d.seq])?;
                }
            }
        }
    }
    Ok(claimed)
}

/// Writes attempts and next steps (inside a group-commit transaction).
pub(crate) fn record(
    conn: &Connection,
    records: &[AttemptRecord],
    now_ms: i64,
) -> rusqlite::Result<()> {
    let mut find = conn.prepare_cached("SELECT seq FROM deliveries WHERE id = ?1")?;
    let mut attempt = conn.prepare_cached(
        "INSERT OR REPLACE INTO attempts (delivery_seq, n, started_at, duration_ms, status_code, exit_code, excerpt, error)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    // Only a pending delivery moves on: an operator's retry or a second worker cannot be
    // overwritten by a late report.
    let mut update = conn.prepare_cached(
        "UPDATE deliveries SET status = ?2, attempts = MAX(attempts, ?3), next_at = ?4, lease_until = 0,
                last_error = ?5, updated_at = ?6
         WHERE seq = ?1 AND status = 0",
    )?;
    for rec in records {
        let Some(seq) = find
            .query_row([rec.delivery.to_string()], |r| r.get::<_, i64>(0))
            .optional()?
        else {
            continue;
        };
        let mut attempts = 0;
        let mut error = None;
        if let Some(a) = &rec.attempt {
            attempt.execute(params![
                seq,
                a.n,
                a.started_at_ms,
                i64::try_from(a.duration_ms).unwrap_or(i64::MAX),
                a.status_code,
                a.exit_code,
                a.excerpt,
                a.error
            ])?;
            attempts = a.n;
            error = a.error.clone();
        }
        let (status, next_at) = match rec.next {
            NextStep::Delivered => (DeliveryStatus::Delivered, now_ms),
            NextStep::RetryAt(at) | NextStep::Release(at) => (DeliveryStatus::Pending, at),
            NextStep::Dead => (DeliveryStatus::Dead, now_ms),
        };
        if rec.next == NextStep::Delivered {
            error = None;
        }
        let keep_error = matches!(rec.next, NextStep::Release(_));
        if keep_error {
            conn.prepare_cached(
                "UPDATE deliveries SET lease_until = 0, next_at = ?2, updated_at = ?3 WHERE seq = ?1 AND status = 0",
            )?
            .execute(params![seq, next_at, now_ms])?;
        } else {
            update.execute(params![
                seq,
                status.code(),
                attempts,
                next_at,
                error,
                now_ms
            ])?;
        }
    }
    Ok(())
}

pub(crate) fn retry(
    conn: &Connection,
    id: DeliveryId,
    now_ms: i64,
) -> Result<RetryOutcome, StoreError> {
    let unavailable = |e: rusqlite::Error| StoreError::Unavailable(e.to_string());
    let row = conn
        .prepare_cached(&format!(
            "UPDATE deliveries SET status = 0, next_at = ?2, lease_until = 0, updated_at = ?2
             WHERE id = ?1 AND status IN (0, 2) RETURNING {DELIVERY_COLUMNS}"
        ))
        .and_then(|mut s| {
            s.query_row(params![id.to_string(), now_ms], read_delivery)
                .optional()
        })
        .map_err(unavailable)?;
    if let Some(row) = row {
        return Ok(RetryOutcome::Retried(row.decode()?));
    }
    let exists = conn
        .prepare_cached("SELECT 1 FROM deliveries WHERE id = ?1")
        .and_then(|mut s| s.exists([id.to_string()]))
        .map_err(unavailable)?;
    Ok(if exists {
        RetryOutcome::AlreadyDelivered
    } else {
        RetryOutcome::NotFound
    })
}

fn dead_where(filter: &DeadFilter) -> (String, Vec<rusqlite::types::Value>) {
    use rusqlite::types::Value;
    let mut sql = String::from("status = 2");
    let mut args = Vec::new();
    if let Some(d) = &filter.destination {
        args.push(Value::Text(d.clone()));
        sql.push_str(&format!(" AND destination = ?{}", args.len()));
    }
    if let Some(from) = filter.from_ms {
        args.push(Value::Integer(from));
        sql.push_str(&format!(" AND created_at >= ?{}", args.len()));
    }
    if let Some(to) = filter.to_ms {
        args.push(Value::Integer(to));
        sql.push_str(&format!(" AND created_at <= ?{}", args.len()));
    }
    (sql, args)
}

pub(crate) fn retry_dead(
    conn: &Connection,
    filter: &DeadFilter,
    limit: usize,
    now_ms: i64,
) -> rusqlite::Result<BulkRetry> {
    let (cond, mut args) = dead_where(filter);
    let n = args.len();
    args.push(rusqlite::types::Value::Integer(now_ms));
    args.push(rusqlite::types::Value::Integer(
        i64::try_from(limit).unwrap_or(i64::MAX),
    ));
    let retried = conn.execute(
        &format!(
            "UPDATE deliveries SET status = 0, next_at = ?{a}, lease_until = 0, updated_at = ?{a}
             WHERE seq IN (SELECT seq FROM deliveries WHERE {cond} ORDER BY seq LIMIT ?{b})",
            a = n + 1,
            b = n + 2
        ),
        rusqlite::params_from_iter(args.iter()),
    )?;
    let (cond, args) = dead_where(filter);
    let remaining: i64 = conn.query_row(
        &format!("SELECT COUNT(*) FROM deliveries WHERE {cond}"),
        rusqlite::params_from_iter(args.iter()),
        |r| r.get(0),
    )?;
    Ok(BulkRetry {
        retried: retried as u64,
        remaining: u64::try_from(remaining).unwrap_or(0),
    })
}

pub(crate) fn set_disabled(
    conn: &Connection,
    name: &str,
    reason: Option<&str>,
    now_ms: i64,
) -> rusqlite::Result<()> {
    match reason {
        Some(reason) => conn.execute(
            "INSERT INTO destination_state (name, reason, since) VALUES (?1, ?2, ?3)
             ON CONFLICT (name) DO UPDATE SET reason = excluded.reason, since = excluded.since",
            params![name, reason, now_ms],
        )?,
        None => conn.execute("DELETE FROM destination_state WHERE name = ?1", [name])?,
    };
    Ok(())
}

pub(crate) fn disabled(conn: &Connection) -> Result<Vec<DisabledDestination>, StoreError> {
    let mut stmt = conn
        .prepare_cached("SELECT name, reason, since FROM destination_state ORDER BY name")
        .map_err(|e| StoreError::Unavailable(e.to_string()))?;
    let rows = stmt
        .query_map([], |r| {
            Ok(DisabledDestination {
                name: r.get(0)?,
                reason: r.get(1)?,
                since_ms: r.get(2)?,
            })
        })
        .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
        .map_err(|e| StoreError::Unavailable(e.to_string()))?;
    Ok(rows)
}

fn attempts_of(conn: &Connection, seq: i64) -> rusqlite::Result<Vec<Attempt>> {
    let mut stmt = conn.prepare_cached(
        "SELECT n, started_at, duration_ms, status_code, exit_code, excerpt, error
         FROM attempts WHERE delivery_seq = ?1 ORDER BY n",
    )?;
    let rows = stmt.query_map([seq], |r| {
        Ok(Attempt {
            n: r.get(0)?,
            started_at_ms: r.get(1)?,
            duration_ms: u64::try_from(r.get::<_, i64>(2)?).unwrap_or(0),
            status_code: r.get(3)?,
            exit_code: r.get(4)?,
            excerpt: r.get(5)?,
            error: r.get(6)?,
        })
    })?;
    rows.collect()
}

fn details(conn: &Connection, rows: Vec<RawDelivery>) -> Result<Vec<DeliveryDetail>, StoreError> {
    rows.into_iter()
        .map(|raw| {
            let attempts =
                attempts_of(conn, raw.seq).map_err(|e| StoreError::Unavailable(e.to_string()))?;
            Ok(DeliveryDetail {
                delivery: raw.decode()?,
                attempts,
            })
        })
        .collect()
}

pub(crate) fn deliveries_of(
    conn: &Connection,
    event: EventId,
) -> Result<Vec<DeliveryDetail>, StoreError> {
    let rows = conn
        .prepare_cached(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE event_id = ?1 ORDER BY seq"
        ))
        .and_then(|mut s| {
            s.query_map([event.to_string()], read_delivery)?
                .collect::<Result<Vec<_>, _>>()
        })
        .map_err(|e| StoreError::Unavailable(e.to_string()))?;
    details(conn, rows)
}

pub(crate) fn delivery(
    conn: &Connection,
    id: DeliveryId,
) -> Result<Option<DeliveryDetail>, StoreError> {
    let row = conn
        .prepare_cached(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE id = ?1"
        ))
        .and_then(|mut s| s.query_row([id.to_string()], read_delivery).optional())
        .map_err(|e| StoreError::Unavailable(e.to_string()))?;
    Ok(details(conn, row.into_iter().collect())?.pop())
}

pub(crate) fn list(conn: &Connection, query: &DeliveryQuery) -> Result<Page<Delivery>, StoreError> {
    use rusqlite::types::Value;
    let limit = query.limit.clamp(1, 1000);
    let mut args = vec![Value::Integer(query.before_seq.unwrap_or(i64::MAX))];
    let mut sql = format!("SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE seq < ?1");
    if let Some(status) = query.status {
        args.push(Value::Integer(status.code()));
        sql.push_str(&format!(" AND status = ?{}", args.len()));
    }
    if let Some(d) = &query.destination {
        args.push(Value::Text(d.clone()));
        sql.push_str(&format!(" AND destination = ?{}", args.len()));
    }
    args.push(Value::Integer(i64::try_from(limit).unwrap_or(1000) + 1));
    sql.push_str(&format!(" ORDER BY seq DESC LIMIT ?{}", args.len()));
    let rows = conn
        .prepare(&sql)
        .and_then(|mut s| {
            s.query_map(rusqlite::params_from_iter(args.iter()), read_delivery)?
                .collect::<Result<Vec<_>, _>>()
        })
        .map_err(|e| StoreError::Unavailable(e.to_string()))?;
    let more = rows.len() > limit;
    let items = rows
        .into_iter()
        .take(limit)
        .map(RawDelivery::decode)
        .collect::<Result<Vec<_>, _>>()?;
    let next = if more {
        items.last().map(|d| d.seq)
    } else {
        None
    };
    Ok(Page { items, next })
}

pub(crate) fn backlog(conn: &Connection) -> Result<Vec<(String, u64)>, StoreError> {
    // deliveries_queue (destination, seq) WHERE status = 0 covers this without touching rows.
    let mut stmt = conn
        .prepare_cached(
            "SELECT destination, COUNT(*) FROM deliveries WHERE status = 0 GROUP BY destination",
        )
        .map_err(|e| StoreError::Unavailable(e.to_string()))?;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                u64::try_from(r.get::<_, i64>(1)?).unwrap_or(0),
            ))
        })
        .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
        .map_err(|e| StoreError::Unavailable(e.to_string()))?;
    Ok(rows)
}
