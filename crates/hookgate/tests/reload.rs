//! Hot reload under traffic: a secret rotated and a source added by SIGHUP, a source removed by
//! editing the file, and a broken config refused while the old one keeps serving. Signed
//! requests flow throughout and none of them may fail because of a reload.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a panic is a failed test

mod support;

use std::{
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use hmac::{Hmac, Mac};
use support::Hookgate;

fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

fn config(secrets: &str, extra: bool) -> String {
    let mut c =
        format!("[[sources]]\nname = \"gh\"\nprovider = \"github\"\nsecrets = [{secrets}]\n");
    if extra {
        c.push_str("[[sources]]\nname = \"extra\"\nprovider = \"none\"\n");
    }
    c
}

async fn status(base: &str, source: &str, secret: Option<&str>) -> u16 {
    let body = br#"{"zen":"reload"}"#;
    let mut request = reqwest::Client::new()
        .post(format!("{base}/in/{source}"))
        .header("x-github-event", "ping")
        .body(body.to_vec());
    if let Some(secret) = secret {
        request = request.header("x-hub-signature-256", signature(secret, body));
    }
    request.send().await.unwrap().status().as_u16()
}

async fn until(within: Duration, mut check: impl AsyncFnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reloads_under_traffic_lose_nothing_and_refuse_broken_configs() {
    let hg = Hookgate::start(&config("\"old-secret\"", false)).await;
    let base = hg.base.clone();

    // Traffic signed with the old secret, all the way through.
    let stop = Arc::new(AtomicBool::new(false));
    let (sent, failed) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let mut senders = Vec::new();
    for _ in 0..4 {
        let (stop, sent, failed, base) = (stop.clone(), sent.clone(), failed.clone(), base.clone());
        senders.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let code = status(&base, "gh", Some("old-secret")).await;
                sent.fetch_add(1, Ordering::Relaxed);
                if code != 200 {
                    failed.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(status(&base, "extra", None).await, 404);
    assert_eq!(status(&base, "gh", Some("new-secret")).await, 401);

    // Rotate (new secret first, old kept) and add a source; SIGHUP.
    hg.rewrite(&config("\"new-secret\", \"old-secret\"", true));
    let hup = std::process::Command::new("kill")
        .args(["-HUP", &hg.pid().to_string()])
        .status()
        .unwrap();
    assert!(hup.success());
    assert!(
        until(Duration::from_secs(5), async || status(
            &base, "extra", None
        )
        .await
            == 200)
        .await,
        "the added source never answered; logs:\n{}",
        hg.logs()
    );
    assert_eq!(status(&base, "gh", Some("new-secret")).await, 200);

    // A broken config is refused (on the file change alone), and the old one keeps serving.
    hg.rewrite("[[sources]]\nname = \"gh\"\nprovider = \"githb\"\n");
    assert!(
        until(Duration::from_secs(5), async || hg
            .logs()
            .contains("config reload refused"))
        .await,
        "the broken config was not reported; logs:\n{}",
        hg.logs()
    );
    assert!(
        hg.logs().contains("unknown provider"),
        "the reason is logged"
    );
    assert_eq!(status(&base, "extra", None).await, 200);
    assert_eq!(status(&base, "gh", Some("new-secret")).await, 200);

    // An edit alone (no signal) takes effect: the extra source goes away.
    hg.rewrite(&config("\"new-secret\", \"old-secret\"", false));
    assert!(
        until(Duration::from_secs(5), async || status(
            &base, "extra", None
        )
        .await
            == 404)
        .await,
        "the file change was not picked up"
    );

    stop.store(true, Ordering::Relaxed);
    for s in senders {
        s.await.unwrap();
    }
    let (sent, failed) = (sent.load(Ordering::Relaxed), failed.load(Ordering::Relaxed));
    eprintln!("{sent} signed requests during three reloads and one refusal, {failed} failed");
    assert!(sent > 50, "too little traffic to mean anything: {sent}");
    assert_eq!(failed, 0, "requests failed because of a reload");
}
