//! The dispatcher's book-keeping of slots lent to the store, against a real SQLite store and a
//! real HTTP receiver: bursts larger than `max_in_flight` are all delivered, a reload that makes
//! the destination ordered takes the lent slots back (deliveries then go one at a time, in
//! order), a reload back lends again, after each phase nothing is left counted in flight, and
//! lent slots never let more than `max_in_flight` requests overlap.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a panic is a failed test

use std::{
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use axum::{extract::State, http::HeaderMap, routing::post, Router as Http};
use hookgate_core::{Config, DeliveryId, EventId, NewDelivery, NewEvent, Router, Verification};
use hookgate_dispatch::Dispatcher;
use hookgate_store::{SqliteOptions, SqliteStore, Store};
use tokio_util::sync::CancellationToken;

type Seen = Arc<Mutex<Vec<String>>>;

/// Requests being answered now, and the most there ever were at once.
static CONCURRENT: AtomicUsize = AtomicUsize::new(0);
static MOST: AtomicUsize = AtomicUsize::new(0);

async fn receive(State(seen): State<Seen>, headers: HeaderMap) -> &'static str {
    let now = CONCURRENT.fetch_add(1, Ordering::SeqCst) + 1;
    MOST.fetch_max(now, Ordering::SeqCst);
    // Long enough for sends beyond max_in_flight to overlap if any were let through.
    tokio::time::sleep(Duration::from_millis(3)).await;
    let id = headers["hookgate-event-id"].to_str().unwrap().to_owned();
    seen.lock().unwrap().push(id);
    CONCURRENT.fetch_sub(1, Ordering::SeqCst);
    "ok"
}

fn router(url: &str, ordered: bool) -> Arc<Router> {
    let text = format!(
        "[[sources]]\nname = \"app\"\nprovider = \"none\"\n\
         [[destinations]]\nname = \"app\"\ntype = \"http\"\nurl = \"{url}\"\nmax_in_flight = 2\nordered = {ordered}\n\
         [[routes]]\nsource = \"app\"\ndestinations = [\"app\"]\n"
    );
    Config::parse(&text, &|_| None).unwrap().router
}

fn event() -> NewEvent {
    NewEvent {
        id: EventId::generate(),
        source: "app".into(),
        received_at_ms: i64::try_from(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_millis(),
        )
        .unwrap(),
        event_type: None,
        dedup_key: None,
        method: "POST".into(),
        path: "/in/app".into(),
        headers: vec![("content-type".into(), "application/json".into())],
        body: b"{}".to_vec(),
        verification: Verification {
            provider: "none".into(),
            status: "unverified".into(),
            secret_index: None,
            timestamp: None,
        },
        deliveries: vec![NewDelivery {
            id: DeliveryId::generate(),
            destination: "app".into(),
            route: Some("routes[0]".into()),
            payload: None,
            dead_reason: None,
        }],
    }
}

/// Appends `n` events concurrently (so they share group commits, as under load) and returns
/// their ids in the order they were stored.
async fn burst(store: &Arc<dyn Store>, n: usize) -> Vec<String> {
    let mut tasks = Vec::new();
    for _ in 0..n {
        let store = Arc::clone(store);
        tasks.push(tokio::spawn(async move {
            store.append(event()).await.unwrap().id.to_string()
        }));
    }
    let mut ids = Vec::new();
    for t in tasks {
        ids.push(t.await.unwrap());
    }
    ids
}

/// Waits until all `total` deliveries arrived and nothing has been counted in flight for a
/// fifth of a second (ten looks in a row): lent but unused slots must not count.
async fn settled(dispatcher: &Dispatcher, seen: &Seen, total: usize) {
    let start = Instant::now();
    let mut quiet = 0;
    loop {
        let health = dispatcher.health();
        if seen.lock().unwrap().len() >= total && health[0].in_flight == 0 {
            quiet += 1;
        } else {
            quiet = 0;
        }
        if quiet == 10 {
            assert_eq!(health[0].delivered, total as u64);
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{} of {total} delivered, health {health:?}",
            seen.lock().unwrap().len()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lent_slots_are_counted_and_recalled() {
    let seen: Seen = Arc::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let app = Http::new()
        .route("/hook", post(receive))
        .with_state(Arc::clone(&seen));
    tokio::spawn(async move { axum::serve(listener, app).await });

    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(dir.path().join("h.db"), &SqliteOptions::default()).unwrap());
    let dispatcher = Dispatcher::new(Arc::clone(&store), &router(&url, false)).unwrap();
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(
        dispatcher
            .clone()
            .run(shutdown.clone(), Duration::from_secs(2)),
    );

    // Twenty times the lane's capacity, at once: what finds no lent slot is claimed.
    burst(&store, 40).await;
    settled(&dispatcher, &seen, 40).await;

    // Ordered now: nothing may be lent (one at a time, oldest first, through claims).
    dispatcher.reload(&router(&url, true)).unwrap();
    let ordered = burst(&store, 10).await;
    settled(&dispatcher, &seen, 50).await;
    let got: Vec<String> = seen.lock().unwrap()[40..].to_vec();
    let mut in_store_order = Vec::new();
    for id in &ordered {
        let ev = store.event(id.parse().unwrap()).await.unwrap().unwrap();
        in_store_order.push((ev.seq, id.clone()));
    }
    in_store_order.sort();
    let by_seq: Vec<String> = in_store_order.into_iter().map(|(_, id)| id).collect();
    assert_eq!(
        got, by_seq,
        "an ordered destination gets events in stored order"
    );

    // And back: lent again, everything delivered, nothing left counted in flight.
    dispatcher.reload(&router(&url, false)).unwrap();
    burst(&store, 20).await;
    settled(&dispatcher, &seen, 70).await;

    assert!(
        MOST.load(Ordering::SeqCst) <= 2,
        "max_in_flight = 2, yet {} requests overlapped",
        MOST.load(Ordering::SeqCst)
    );
    shutdown.cancel();
    running.await.unwrap();
}
