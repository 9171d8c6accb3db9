//! At-least-once delivery under SIGKILL: events flow in and out to a real receiver while the
//! real binary is killed and restarted five times mid-delivery. Every acknowledged event must
//! reach the receiver, and a delivery may arrive twice only if it was in flight (sent, not yet
//! recorded) when a kill came: at most `max_in_flight` per kill.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a panic is a failed test

mod support;

use std::{
    collections::{HashMap, HashSet},
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use axum::{body::Bytes, extract::State, http::HeaderMap, routing::post, Router};
use support::Hookgate;

const KILLS: usize = 5;
const MAX_IN_FLIGHT: usize = 16;
const SENDERS: usize = 8;

#[derive(Default)]
struct Seen {
    /// webhook-id → (event id, how many times received).
    by_delivery: HashMap<String, (String, usize)>,
    /// Every webhook-id received before each kill.
    order: Vec<String>,
}

async fn receive(
    State(seen): State<Arc<Mutex<Seen>>>,
    headers: HeaderMap,
    _body: Bytes,
) -> &'static str {
    let id = headers
        .get("webhook-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let event = headers
        .get("hookgate-event-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    {
        let mut seen = seen.lock().unwrap();
        seen.order.push(id.clone());
        seen.by_delivery.entry(id).or_insert((event, 0)).1 += 1;
    }
    // A receiver that takes a moment, so kills land while deliveries are in flight.
    tokio::time::sleep(Duration::from_millis(3)).await;
    "ok"
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acked_events_are_delivered_through_sigkills() {
    let seen: Arc<Mutex<Seen>> = Arc::default();
    let app = Router::new()
        .route("/hook", post(receive))
        .with_state(Arc::clone(&seen));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let receiver = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let mut hg = Hookgate::start(&format!(
        r#"
[[sources]]
name = "app"
provider = "none"
dedup = "x-delivery"
[[destinations]]
name = "app"
type = "http"
url = "{receiver}"
max_in_flight = {MAX_IN_FLIGHT}
retry = {{ schedule = ["100ms", "100ms", "100ms", "100ms", "100ms", "100ms", "100ms"], jitter = 0.0 }}
[[routes]]
source = "app"
destinations = ["app"]
"#
    ))
    .await;

    // Senders retry each event until it is acknowledged, like a provider.
    let acked: Arc<Mutex<HashSet<String>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(3))
        .build()
        .unwrap();
    let url = format!("{}/in/app", hg.base);
    let mut senders = Vec::new();
    for s in 0..SENDERS {
        let (acked, stop, client, url) = (
            Arc::clone(&acked),
            Arc::clone(&stop),
            client.clone(),
            url.clone(),
        );
        senders.push(tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let key = format!("s{s}-{n}");
                loop {
                    let sent = client
                        .post(&url)
                        .header("x-delivery", &key)
                        .header("content-type", "application/json")
                        .body(format!("{{\"sender\":{s},\"n\":{n}}}"))
                        .send()
                        .await;
                    if let Ok(r) = sent {
                        if r.status() == 200 {
                            let v: serde_json::Value = r.json().await.unwrap();
                            acked
                                .lock()
                                .unwrap()
                                .insert(v["id"].as_str().unwrap().to_owned());
                            break;
                        }
                    }
                    if stop.load(Ordering::Relaxed) {
                        return;
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        }));
    }

    // Kill mid-flow, five times; remember how far the receiver had got at each kill.
    let mut marks = Vec::new();
    for _ in 0..KILLS {
        tokio::time::sleep(Duration::from_millis(700)).await;
        hg.kill();
        // Requests the dead process had already written may still be in the receiver's
        // socket; they belong before this kill's mark. Nothing else can arrive until the
        // restart, so a short pause puts the mark where the old process's traffic ends.
        tokio::time::sleep(Duration::from_millis(100)).await;
        marks.push(seen.lock().unwrap().order.len());
        hg.spawn().await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);
    for s in senders {
        s.await.unwrap();
    }

    // Every acknowledged event reaches the receiver.
    let acked = acked.lock().unwrap().clone();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let delivered: HashSet<String> = seen
            .lock()
            .unwrap()
            .by_delivery
            .values()
            .map(|(event, _)| event.clone())
            .collect();
        let missing = acked.difference(&delivered).count();
        if missing == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{missing} of {} acknowledged events never delivered; logs:\n{}",
            acked.len(),
            hg.logs()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Duplicates: a delivery received again after kill k must have been received before
    // it (in flight when the process died), and no kill may cause more than max_in_flight.
    let seen = seen.lock().unwrap();
    let mut first_at: HashMap<&str, usize> = HashMap::new();
    let mut dupes_per_kill = vec![0usize; KILLS];
    let mut unexplained = 0;
    for (i, id) in seen.order.iter().enumerate() {
        match first_at.get(id.as_str()) {
            None => {
                first_at.insert(id, i);
            }
            Some(&first) => {
                // The kill between the first receipt and this one.
                match marks.iter().position(|&m| first < m && m <= i) {
                    Some(k) => dupes_per_kill[k] += 1,
                    None => unexplained += 1,
                }
            }
        }
    }
    let total_dupes: usize = dupes_per_kill.iter().sum();
    eprintln!(
        "{} events acknowledged across {KILLS} SIGKILLs, {} deliveries received, 0 lost, duplicates per kill {dupes_per_kill:?} (max_in_flight {MAX_IN_FLIGHT})",
        acked.len(),
        seen.order.len(),
    );
    assert_eq!(
        unexplained, 0,
        "a delivery arrived twice without a kill in between"
    );
    assert!(
        dupes_per_kill.iter().all(|&d| d <= MAX_IN_FLIGHT),
        "more duplicates than deliveries in flight: {dupes_per_kill:?}"
    );
    assert!(total_dupes <= KILLS * MAX_IN_FLIGHT);
    assert!(
        acked.len() > 100,
        "too few events to mean anything: {}",
        acked.len()
    );
}
