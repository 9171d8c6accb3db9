//! One story, told against every backend (today: SQLite): append, duplicate, read back, list,
//! survive a reopen, refuse when full, stop when closed.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a panic is a failed test

use std::{sync::Arc, time::Duration};

use hookgate_core::{EventId, NewEvent, Verification};
use hookgate_store::{EventQuery, SqliteOptions, SqliteStore, Store, StoreError};

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

#[tokio::test]
async fn sqlite_story() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("h.db"), &SqliteOptions::default()).unwrap();
    store_story(Arc::new(store)).await;
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
            max_size: Some(64 * 1024),
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
    let (i, e) = refused.expect("a 64 KiB database cannot hold 512 KiB of events");
    assert!(i > 0, "some events fit before the cap");
    assert!(matches!(e, StoreError::Unavailable(_)), "{e:?}");
    // Reads still work, and the store still answers.
    let page = store
        .list_events(EventQuery {
            limit: 100,
            before_seq: None,
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
