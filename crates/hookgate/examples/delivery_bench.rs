//! The delivery benchmark behind `bench/delivery.sh`: ingest → store → HTTP delivery to a
//! local receiver, measured end to end. It starts a receiver (axum, in this process), runs
//! the release `hookgate` binary on a temporary database, sends events with `CONNECTIONS`
//! concurrent senders (closed loop, or paced to `RATE` events/s), and reports sustained
//! delivered events/s and ack-to-receipt latency (the sender's 2xx to the receiver's request)
//! at p50/p99. Everything shares the machine, so read the figures as ratios within one run.
//!
//! The load generator is kept lean on purpose: each sender owns one raw HTTP/1 connection
//! (hyper, no pool) and finds the acknowledged id with a substring search, not a JSON parse.
//! On two cores every cycle the measuring takes is a cycle hookgate does not get.
//!
//!   cargo run --release --example delivery_bench -- HOOKGATE_BIN SECONDS CONNECTIONS [RATE]
#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark driver: a panic is a failed run

use std::{
    collections::HashMap,
    process::{Command, Stdio},
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use axum::{extract::State, http::HeaderMap, routing::post, Router};

// The allocator hookgate itself uses: glibc's malloc was an eighth of the generator's CPU.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

type Times = Arc<Mutex<HashMap<String, Instant>>>;

async fn receive(State(seen): State<Times>, headers: HeaderMap) -> &'static str {
    let at = Instant::now();
    if let Some(event) = headers
        .get("hookgate-event-id")
        .and_then(|v| v.to_str().ok())
    {
        seen.lock().unwrap().entry(event.to_owned()).or_insert(at);
    }
    "ok"
}

/// The id in hookgate's `{"id":"evt_…","duplicate":false}`.
fn acked_id(answer: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(answer).ok()?;
    let start = text.find("\"id\":\"")? + 6;
    let len = text[start..].find('"')?;
    Some(text[start..start + len].to_owned())
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let bin = args
        .get(1)
        .expect("usage: HOOKGATE_BIN SECONDS CONNECTIONS [RATE]")
        .clone();
    let seconds: u64 = args.get(2).map_or(10, |s| s.parse().unwrap());
    let connections: usize = args.get(3).map_or(64, |s| s.parse().unwrap());
    let rate: Option<f64> = args.get(4).map(|s| s.parse().unwrap());

    let received: Times = Arc::default();
    let app = Router::new()
        .route("/hook", post(receive))
        .with_state(Arc::clone(&received));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let receiver = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = format!(
        "[server]\nlisten = \"127.0.0.1:{port}\"\n[storage]\nurl = \"sqlite://{}\"\n\
         [[sources]]\nname = \"bench\"\nprovider = \"none\"\n\
         [[destinations]]\nname = \"app\"\ntype = \"http\"\nurl = \"{receiver}\"\nmax_in_flight = 256\n\
         signing_secret = \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"\n\
         [[routes]]\nsource = \"bench\"\ndestinations = [\"app\"]\n",
        dir.path().join("bench.db").display()
    );
    std::fs::write(dir.path().join("hookgate.toml"), config).unwrap();
    let mut child = Command::new(&bin)
        .args(["serve", "--config"])
        .arg(dir.path().join("hookgate.toml"))
        // HOOKGATE_BENCH_LOG=hookgate_store=debug shows every commit's size and time.
        .env(
            "RUST_LOG",
            std::env::var("HOOKGATE_BENCH_LOG").unwrap_or_else(|_| "warn".into()),
        )
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(std::env::temp_dir().join("delivery_bench.log")).unwrap())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let ready = Instant::now();
    while reqwest::get(format!("{base}/readyz"))
        .await
        .map(|r| r.status() != 200)
        .unwrap_or(true)
    {
        assert!(
            ready.elapsed() < Duration::from_secs(20),
            "hookgate did not start"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let acked: Times = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let errors = Arc::new(AtomicU64::new(0));
    let sent = Arc::new(AtomicU64::new(0));
    let body = bytes::Bytes::from(format!(
        "{{\"type\":\"bench.event\",\"pad\":\"{}\"}}",
        "x".repeat(900)
    ));
    let address = format!("127.0.0.1:{port}");
    let start = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..connections {
        let (acked, stop, errors, sent, body, address) = (
            Arc::clone(&acked),
            Arc::clone(&stop),
            Arc::clone(&errors),
            Arc::clone(&sent),
            body.clone(),
            address.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let stream = tokio::net::TcpStream::connect(&address).await.unwrap();
            stream.set_nodelay(true).unwrap();
            let (mut conn, driver) =
                hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                    .await
                    .unwrap();
            tokio::spawn(driver);
            // Paced: each sender owns every `connections`-th slot of the schedule.
            #[allow(clippy::cast_precision_loss)]
            let interval = rate.map(|r| Duration::from_secs_f64(connections as f64 / r));
            let mut next = start
                + interval.map_or(Duration::ZERO, |i| i.mul_f64(c as f64 / connections as f64));
            while !stop.load(Ordering::Relaxed) {
                if let Some(i) = interval {
                    tokio::time::sleep_until(next.into()).await;
                    next += i;
                }
                let request = hyper::Request::post("/in/bench")
                    .header("host", &address)
                    .header("content-type", "application/json")
                    .body(http_body_util::Full::new(body.clone()))
                    .unwrap();
                let r = conn.send_request(request).await;
                let at = Instant::now();
                sent.fetch_add(1, Ordering::Relaxed);
                let id = match r {
                    Ok(r) if r.status() == 200 => {
                        use http_body_util::BodyExt;
                        let answer = r.into_body().collect().await.unwrap().to_bytes();
                        acked_id(&answer)
                    }
                    _ => None,
                };
                match id {
                    Some(id) => {
                        acked.lock().unwrap().insert(id, at);
                    }
                    None => {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let sending_ended = start.elapsed();
    for t in tasks {
        t.await.unwrap();
    }
    // Let the backlog drain, then measure: delivered events over the time until the last
    // delivery, and latency per event.
    let total = acked.lock().unwrap().len();
    let drain = Instant::now();
    while received.lock().unwrap().len() < total && drain.elapsed() < Duration::from_secs(60) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let acked = acked.lock().unwrap();
    let received = received.lock().unwrap();
    let last = received.values().max().copied().unwrap_or(start);
    let mut latencies: Vec<Duration> = acked
        .iter()
        .filter_map(|(id, at)| received.get(id).map(|r| r.saturating_duration_since(*at)))
        .collect();
    latencies.sort();
    let delivered = latencies.len();
    let span = last.duration_since(start);
    #[allow(clippy::cast_precision_loss)]
    let per_sec = delivered as f64 / span.as_secs_f64();
    #[allow(clippy::cast_precision_loss)]
    let ingest_per_sec = total as f64 / sending_ended.as_secs_f64();
    println!(
        "connections={connections} rate={} acked={total} delivered={delivered} errors={} ingest/s={ingest_per_sec:.0} delivered/s={per_sec:.0} (over {:.1}s) ack-to-receipt p50={:.2}ms p99={:.2}ms max={:.2}ms backlog_drain={:.1}s",
        rate.map_or("max".to_owned(), |r| format!("{r:.0}")),
        errors.load(Ordering::Relaxed),
        span.as_secs_f64(),
        percentile(&latencies, 0.5).as_secs_f64() * 1000.0,
        percentile(&latencies, 0.99).as_secs_f64() * 1000.0,
        latencies.last().copied().unwrap_or_default().as_secs_f64() * 1000.0,
        last.saturating_duration_since(start + sending_ended).as_secs_f64(),
    );
    let _ = sent;
    let _ = child.kill();
    let _ = child.wait();
}
