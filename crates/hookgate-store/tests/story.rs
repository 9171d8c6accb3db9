//! One story, told against every backend (today: SQLite): append, duplicate, read back, list,
//! survive a reopen, refuse when full, stop when closed.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a panic is a failed test

use std::{sync::Arc, time::Duration};

use hookgate_core::{
    Attempt, AttemptRecord, DeliveryId, DeliveryStatus, EventId, NewDelivery, NewEvent, NextStep,
    Verification,
};
use hookgate_store::{
    ClaimRequest, DeliveryQuery, EventQuery, Lending, RetryOutcome, SqliteOptions, SqliteStore,
    Store, StoreError,
};

fn event(source: &str, dedup: Option<&str>, body: &[u8]) -> NewEvent {
    NewEvent {
        id: EventId::generate(),
        source: source.into(),
        received_at_ms: 1_700_000_000_000,
        event_type: Some("push".into()),
        dedup_key: dedup.map(Into::into),
        method: "POST".into(),
        path: format!("/in/{source}"),
        headers: vec![("content-type".into(), "application/json".into())],
        body: body.to_vec(),
        verification: Verification {
            provider: "github".into(),
            status: "verified".into(),
            secret_index: Some(0),
            timestamp: None,
        },
        deliveries: Vec::new(),
    }
}

async fn store_story(store: Arc<dyn Store>) {
    let first = event("gh", Some("d-1"), br#"{"a":1}"#);
    let appended = store.append(first.clone()).await.unwrap();
    assert_eq!(appended.id, first.id);
    assert!(!appended.duplicate);

    // A provider retry: same source and key, new hookgate id. The first id comes back.
    let again = store.append(event("gh", Some("d-1"), b"{}")).await.unwrap();
    assert_eq!((again.id, again.duplicate), (first.id, true));
    // The same key from another source is another event.
    assert!(
        !store
            .append(event("other", Some("d-1"), b"{}"))
            .await
            .unwrap()
            .duplicate
    );

    // Concurrent copies of one new event land in one batch; exactly one is stored.
    let copies: Vec<_> = (0..20).map(|_| event("gh", Some("d-2"), b"{}")).collect();
    let results = futures_join_all(&store, copies).await;
    let stored: Vec<_> = results.iter().filter(|a| !a.duplicate).collect();
    assert_eq!(stored.len(), 1);
    assert!(results.iter().all(|a| a.id == stored[0].id));

    // Events without a dedup key never collide.
    for _ in 0..3 {
        assert!(
            !store
                .append(event("gh", None, b"x"))
                .await
                .unwrap()
                .duplicate
        );
    }

    let got = store.event(first.id).await.unwrap().unwrap();
    assert_eq!(got.body, first.body);
    assert_eq!(got.headers, first.headers);
    assert_eq!(got.verification, first.verification);
    assert_eq!(got.dedup_key.as_deref(), Some("d-1"));
    assert!(store.event(EventId::generate()).await.unwrap().is_none());

    // 6 events stored: first, other, one of the copies, three without a key. Pages of 4 then 2.
    let page = store
        .list_events(EventQuery {
            limit: 4,
            before_seq: None,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(page.items.len(), 4);
    assert!(
        page.items.windows(2).all(|w| w[0].seq > w[1].seq),
        "newest first"
    );
    let rest = store
        .list_events(EventQuery {
            limit: 4,
            before_seq: page.next,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(rest.items.len(), 2);
    assert_eq!(rest.next, None);
    assert_eq!(rest.items.last().unwrap().id, first.id);

    assert_eq!(store.prune(1_700_000_000_001).await.unwrap(), 6);
    store.ready().await.unwrap();
}

async fn futures_join_all(
    store: &Arc<dyn Store>,
    events: Vec<NewEvent>,
) -> Vec<hookgate_store::Appended> {
    let tasks: Vec<_> = events
        .into_iter()
        .map(|e| {
            let s = Arc::clone(store);
            tokio::spawn(async move { s.append(e).await.unwrap() })
        })
        .collect();
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

fn delivery(destination: &str) -> NewDelivery {
    NewDelivery {
        id: DeliveryId::generate(),
        destination: destination.into(),
        route: Some("routes[0]".into()),
        payload: None,
        dead_reason: None,
    }
}

fn claim(destination: &str, limit: usize, ordered: bool) -> ClaimRequest {
    ClaimRequest {
        destination: destination.into(),
        limit,
        ordered,
        lease_ms: 60_000,
    }
}

fn attempt(n: u32, error: Option<&str>) -> Attempt {
    Attempt {
        n,
        started_at_ms: NOW,
        duration_ms: 3,
        status_code: Some(if error.is_some() { 500 } else { 200 }),
        exit_code: None,
        excerpt: Some("ok".into()),
        error: error.map(Into::into),
    }
}

const NOW: i64 = 1_700_000_000_000;

/// The delivery half of the story: deliveries stored with their event (not for a duplicate),
/// claimed under a lease, recorded, retried, dead, replayed, ordered, and kept from pruning
/// while pending.
async fn delivery_story(store: Arc<dyn Store>) {
    let mut ev = event("shop", Some("o-1"), b"{}");
    ev.received_at_ms = NOW;
    ev.deliveries = vec![delivery("a"), delivery("b")];
    let appended = store.append(ev.clone()).await.unwrap();
    let mut dup = event("shop", Some("o-1"), b"{}");
    dup.deliveries = vec![delivery("a")];
    assert!(store.append(dup).await.unwrap().duplicate);
    assert_eq!(
        store.deliveries_of(appended.id).await.unwrap().len(),
        2,
        "a duplicate adds no delivery"
    );

    // Claimed once; a second claim in the lease finds nothing; another destination is separate.
    let got = store.claim(NOW, vec![claim("a", 10, false)]).await.unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].event.id, appended.id);
    assert_eq!(got[0].event.body, b"{}");
    let a = got[0].delivery.id;
    assert!(store
        .claim(NOW, vec![claim("a", 10, false)])
        .await
        .unwrap()
        .is_empty());
    // After the lease, claimable again (a worker died).
    assert_eq!(
        store
            .claim(NOW + 61_000, vec![claim("a", 10, false)])
            .await
            .unwrap()
            .len(),
        1
    );

    // A failure then a retry later; not due before then.
    store
        .record(
            vec![AttemptRecord {
                delivery: a,
                attempt: Some(attempt(1, Some("HTTP 500"))),
                next: NextStep::RetryAt(NOW + 5_000),
            }],
            NOW,
        )
        .await
        .unwrap();
    assert!(store
        .claim(NOW + 1_000, vec![claim("a", 10, false)])
        .await
        .unwrap()
        .is_empty());
    let again = store
        .claim(NOW + 5_000, vec![claim("a", 10, false)])
        .await
        .unwrap();
    assert_eq!(again[0].delivery.attempts, 1);
    store
        .record(
            vec![AttemptRecord {
                delivery: a,
                attempt: Some(attempt(2, Some("HTTP 500"))),
                next: NextStep::Dead,
            }],
            NOW,
        )
        .await
        .unwrap();
    let detail = store.delivery(a).await.unwrap().unwrap();
    assert_eq!(detail.delivery.status, DeliveryStatus::Dead);
    assert_eq!(detail.attempts.len(), 2);
    assert_eq!(detail.delivery.last_error.as_deref(), Some("HTTP 500"));
    let dead = store
        .list_deliveries(DeliveryQuery {
            status: Some(DeliveryStatus::Dead),
            limit: 10,
            ..DeliveryQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(dead.items.len(), 1);

    // Retried by an operator: due now, and delivered.
    assert!(matches!(
        store.retry(a, NOW + 6_000).await.unwrap(),
        RetryOutcome::Retried(_)
    ));
    let got = store
        .claim(NOW + 6_000, vec![claim("a", 10, false)])
        .await
        .unwrap();
    store
        .record(
            vec![AttemptRecord {
                delivery: got[0].delivery.id,
                attempt: Some(attempt(3, None)),
                next: NextStep::Delivered,
            }],
            NOW,
        )
        .await
        .unwrap();
    assert_eq!(
        store.retry(a, NOW).await.unwrap(),
        RetryOutcome::AlreadyDelivered
    );
    assert_eq!(
        store.retry(DeliveryId::generate(), NOW).await.unwrap(),
        RetryOutcome::NotFound
    );

    // Replay adds deliveries to a stored event, and only to one that exists.
    let added = store
        .add_deliveries(appended.id, vec![delivery("a")], NOW)
        .await
        .unwrap();
    assert_eq!(added.unwrap().len(), 1);
    assert!(store
        .add_deliveries(EventId::generate(), vec![delivery("a")], NOW)
        .await
        .unwrap()
        .is_none());

    // A disabled destination's deliveries wait.
    store
        .set_destination_disabled("a", Some("410".into()), NOW)
        .await
        .unwrap();
    assert!(store
        .claim(NOW + 7_000, vec![claim("a", 10, false)])
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        store.disabled_destinations().await.unwrap()[0].reason,
        "410"
    );
    store
        .set_destination_disabled("a", None, NOW)
        .await
        .unwrap();
    assert_eq!(
        store
            .claim(NOW + 7_000, vec![claim("a", 10, false)])
            .await
            .unwrap()
            .len(),
        1
    );

    // Ordered: only the oldest pending, and not while it is leased or waiting to retry.
    let mut firsts = Vec::new();
    for i in 0..3 {
        let mut e = event("q", None, format!("{{\"n\":{i}}}").as_bytes());
        e.received_at_ms = NOW;
        e.deliveries = vec![delivery("ordered")];
        firsts.push(store.append(e).await.unwrap().id);
    }
    let head = store
        .claim(NOW, vec![claim("ordered", 10, true)])
        .await
        .unwrap();
    assert_eq!(head.len(), 1);
    assert_eq!(head[0].event.id, firsts[0]);
    assert!(store
        .claim(NOW, vec![claim("ordered", 10, true)])
        .await
        .unwrap()
        .is_empty());
    store
        .record(
            vec![AttemptRecord {
                delivery: head[0].delivery.id,
                attempt: Some(attempt(1, Some("x"))),
                next: NextStep::RetryAt(NOW + 1_000),
            }],
            NOW,
        )
        .await
        .unwrap();
    assert!(
        store
            .claim(NOW + 500, vec![claim("ordered", 10, true)])
            .await
            .unwrap()
            .is_empty(),
        "the head blocks the rest"
    );
    let head = store
        .claim(NOW + 1_000, vec![claim("ordered", 10, true)])
        .await
        .unwrap();
    assert_eq!(head[0].event.id, firsts[0], "the head is retried first");

    // Pruning keeps events with pending deliveries, drops the rest with their deliveries.
    let pruned = store.prune(NOW + 1).await.unwrap();
    assert!(pruned < 4, "pending events were pruned");
    assert!(store.event(firsts[1]).await.unwrap().is_some());
}

#[tokio::test]
async fn sqlite_story() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("h.db"), &SqliteOptions::default()).unwrap();
    store_story(Arc::new(store)).await;
}

#[tokio::test]
async fn sqlite_delivery_story() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("h.db"), &SqliteOptions::default()).unwrap();
    delivery_story(Arc::new(store)).await;
}

/// Lent slots: a new delivery for a destination with a slot is leased in the event's own
/// transaction and handed over with its event once durable; without a slot, for a disabled
/// destination, for a duplicate or for a dead-on-arrival delivery it waits for a claim. A
/// handed-over delivery that was never reported is claimable again after a restart.
#[tokio::test]
async fn sqlite_lent_slots_hand_over_new_deliveries() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.db");
    let store = SqliteStore::open(&path, &SqliteOptions::default()).unwrap();
    let lending = Arc::new(Lending::default());
    let mut handed = store.lend(Arc::clone(&lending)).unwrap();
    assert!(
        store.lend(Arc::new(Lending::default())).is_none(),
        "one dispatcher per store"
    );
    store
        .set_destination_disabled("off", Some("by hand".into()), NOW)
        .await
        .unwrap();
    lending.lend("a", 1, 60_000);
    lending.lend("off", 5, 60_000);

    let mut ev = event("shop", Some("o-1"), br#"{"n":1}"#);
    ev.received_at_ms = NOW;
    let mut dead = delivery("a");
    dead.dead_reason = Some("filter failed".into());
    ev.deliveries = vec![
        dead,
        delivery("a"),
        delivery("a"),
        delivery("b"),
        delivery("off"),
    ];
    let appended = store.append(ev.clone()).await.unwrap();

    let batch = handed.try_recv().expect("handed over after the commit");
    assert_eq!(batch.len(), 1, "one slot lent for a, none for b or off");
    let got = &batch[0];
    let stored = store.event(appended.id).await.unwrap().unwrap();
    assert_eq!(got.event, stored, "the event as a claim would read it");
    assert_eq!(got.delivery.id, ev.deliveries[1].id);
    assert_eq!(got.delivery.lease_until_ms, NOW + 60_000);
    let detail = store.delivery(got.delivery.id).await.unwrap().unwrap();
    assert_eq!(got.delivery, detail.delivery, "the delivery as stored");
    assert_eq!(lending.unused("a"), 0);
    assert_eq!(
        lending.unused("off"),
        5,
        "nothing lent is used for a disabled destination"
    );

    // The handed-over one is leased: a claim gets only the one that found no slot.
    let claimed = store.claim(NOW, vec![claim("a", 10, false)]).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].delivery.id, ev.deliveries[2].id);
    assert_eq!(
        store
            .claim(NOW, vec![claim("b", 10, false)])
            .await
            .unwrap()
            .len(),
        1
    );

    // A duplicate creates no delivery, so it uses no slot.
    lending.lend("a", 1, 60_000);
    let mut dup = event("shop", Some("o-1"), b"{}");
    dup.deliveries = vec![delivery("a")];
    assert!(store.append(dup).await.unwrap().duplicate);
    assert!(handed.try_recv().is_err());
    let mut back = lending.recall();
    back.sort();
    assert_eq!(back, vec![("a".to_owned(), 1), ("off".to_owned(), 5)]);

    // Never reported (the process died): claimable once the database is opened again.
    store.close().await;
    drop(store);
    let store = SqliteStore::open(&path, &SqliteOptions::default()).unwrap();
    let again = store.claim(NOW, vec![claim("a", 10, false)]).await.unwrap();
    assert!(
        again.iter().any(|c| c.delivery.id == got.delivery.id),
        "the handed-over delivery is claimable after a restart"
    );
}

#[tokio::test]
async fn one_process_per_database() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.db");
    let _first = SqliteStore::open(&path, &SqliteOptions::default()).unwrap();
    let second = SqliteStore::open(&path, &SqliteOptions::default()).unwrap_err();
    assert!(
        second
            .to_string()
            .contains("in use by another hookgate process"),
        "{second}"
    );
}

#[tokio::test]
async fn sqlite_events_survive_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.db");
    let ev = event("gh", Some("k"), b"kept");
    {
        let store = SqliteStore::open(&path, &SqliteOptions::default()).unwrap();
        store.append(ev.clone()).await.unwrap();
        store.close().await;
        assert_eq!(
            store.append(event("gh", None, b"late")).await,
            Err(StoreError::Closed)
        );
    }
    let store = SqliteStore::open(&path, &SqliteOptions::default()).unwrap();
    assert_eq!(store.event(ev.id).await.unwrap().unwrap().body, b"kept");
    let dup = store
        .append(event("gh", Some("k"), b"again"))
        .await
        .unwrap();
    assert!(dup.duplicate, "dedup memory survives a restart");
}

#[tokio::test]
async fn sqlite_full_database_refuses_instead_of_acknowledging() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(
        dir.path().join("h.db"),
        &SqliteOptions {
            // Room for the schema (tables, indexes, the search index) and a few events.
            max_size: Some(192 * 1024),
        },
    )
    .unwrap();
    // Incompressible, so each event really takes its 8 KiB (bodies are zstd-compressed).
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let big: Vec<u8> = (0..8 * 1024)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    let mut refused = None;
    for i in 0..64 {
        match store.append(event("gh", None, &big)).await {
            Ok(_) => {}
            Err(e) => {
                refused = Some((i, e));
                break;
            }
        }
    }
    let (i, e) = refused.expect("a 192 KiB database cannot hold 512 KiB of events");
    assert!(i > 0, "some events fit before the cap");
    assert!(matches!(e, StoreError::Unavailable(_)), "{e:?}");
    // Reads still work, and the store still answers.
    let page = store
        .list_events(EventQuery {
            limit: 100,
            before_seq: None,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(page.items.len(), i);
    tokio::time::timeout(Duration::from_secs(5), store.ready())
        .await
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn refuses_a_database_from_the_future() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.db");
    rusqlite_set_version(&path, 99);
    let err = SqliteStore::open(&path, &SqliteOptions::default()).unwrap_err();
    assert!(
        matches!(err, StoreError::Corrupt(ref m) if m.contains("newer")),
        "{err:?}"
    );
}

fn rusqlite_set_version(path: &std::path::Path, v: u32) {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch(&format!("PRAGMA user_version = {v}"))
        .unwrap();
}
