//! The durability promise under SIGKILL: concurrent signed events while the real binary is
//! killed and restarted five times. Every event that got a 2xx must be on disk afterwards
//! (acked-and-lost = 0), and stored exactly once even though senders retry after a kill.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a panic is a failed test

use std::{
    collections::HashMap,
    net::TcpListener,
    path::Path,
    process::{Child, Command, Stdio},
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use hmac::{Hmac, Mac};

const SECRET: &str = "crash-test-secret";
const SENDERS: usize = 16;
const KILLS: usize = 5;

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start(dir: &Path, run: usize) -> Child {
    let log = std::fs::File::create(dir.join(format!("server.{run}.log"))).unwrap();
    Command::new(env!("CARGO_BIN_EXE_hookgate"))
        .args(["serve", "--config"])
        .arg(dir.join("hookgate.toml"))
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap()
}

async fn wait_ready(base: &str) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline {
        if let Ok(r) = reqwest::get(format!("{base}/readyz")).await {
            if r.status() == 200 {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("server at {base} did not become ready");
}

fn sign(body: &[u8]) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_events_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    std::fs::write(
        dir.path().join("hookgate.toml"),
        format!(
            "[server]\nlisten = \"127.0.0.1:{port}\"\n[storage]\nurl = \"sqlite://{}\"\n[[sources]]\nname = \"gh\"\nprovider = \"github\"\nsecrets = [\"{SECRET}\"]\n",
            dir.path().join("crash.db").display()
        ),
    )
    .unwrap();

    let mut child = start(dir.path(), 0);
    wait_ready(&base).await;

    // delivery id → event id, for every 2xx received.
    let acked: Arc<Mutex<HashMap<String, String>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let mut senders = Vec::new();
    for s in 0..SENDERS {
        let (acked, stop, client, url) = (
            Arc::clone(&acked),
            Arc::clone(&stop),
            client.clone(),
            format!("{base}/in/gh"),
        );
        senders.push(tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let delivery = format!("s{s}-n{n}");
                let body = format!(
                    "{{\"sender\":{s},\"n\":{n},\"pad\":\"{}\"}}",
                    "x".repeat(512)
                );
                // Like a provider: retry the same delivery until it is acknowledged.
                loop {
                    let sent = client
                        .post(&url)
                        .header("x-github-delivery", &delivery)
                        .header("x-github-event", "push")
                        .header("x-hub-signature-256", sign(body.as_bytes()))
                        .body(body.clone())
                        .send()
                        .await;
                    if let Ok(response) = sent {
                        if response.status() == 200 {
                            if let Ok(v) = response.json::<serde_json::Value>().await {
                                let id = v["id"].as_str().unwrap().to_owned();
                                let previous =
                                    acked.lock().unwrap().insert(delivery.clone(), id.clone());
                                assert!(previous.is_none_or(|p| p == id), "one delivery, two ids");
                                break;
                            }
                        }
                    }
                    if stop.load(Ordering::Relaxed) {
                        return;
                    }
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
        }));
    }

    let started = Instant::now();
    for run in 1..=KILLS {
        tokio::time::sleep(Duration::from_millis(300 + 97 * run as u64)).await;
        let before = acked.lock().unwrap().len();
        child.kill().unwrap(); // SIGKILL: no shutdown path runs.
        child.wait().unwrap();
        child = start(dir.path(), run);
        wait_ready(&base).await;
        assert!(acked.lock().unwrap().len() >= before);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::Relaxed);
    for s in senders {
        s.await.unwrap();
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "the crash test must stay bounded"
    );

    let acked = acked.lock().unwrap().clone();
    assert!(
        acked.len() > 100,
        "too few events acknowledged ({}) for the test to mean anything",
        acked.len()
    );
    let db = rusqlite::Connection::open(dir.path().join("crash.db")).unwrap();
    let mut lost = Vec::new();
    for (delivery, id) in &acked {
        let rows: Vec<String> = db
            .prepare("SELECT id FROM events WHERE source = 'gh' AND dedup_key = ?1")
            .unwrap()
            .query_map([delivery], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        match rows.as_slice() {
            [stored] => assert_eq!(
                stored, id,
                "delivery {delivery} acked as {id} but stored as {stored}"
            ),
            [] => lost.push(delivery.clone()),
            more => panic!("delivery {delivery} stored {} times", more.len()),
        }
    }
    assert!(
        lost.is_empty(),
        "acked and lost: {} of {} ({lost:?})",
        lost.len(),
        acked.len()
    );
    let total: i64 = db
        .query_row("SELECT count(*) FROM events", [], |r| r.get(0))
        .unwrap();
    let distinct: i64 = db
        .query_row("SELECT count(DISTINCT dedup_key) FROM events", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(total, distinct, "every delivery stored once");
    eprintln!(
        "crash test: {} events acknowledged across {KILLS} SIGKILLs, {total} stored, 0 lost",
        acked.len()
    );
}
