//! `/metrics` is Prometheus text that the official parser (`prometheus_client.parser`, from
//! PyPI) reads, and its series exist and move as events flow: ingest by source and outcome,
//! ingest latency, commit batch sizes and fsync time, deliveries by destination and outcome,
//! delivery latency, backlog, in-flight, circuit state, dedup hits.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a panic is a failed test

mod support;

use std::{collections::HashMap, process::Command, time::Duration};

use serde_json::json;
use support::{answer, status_is, Hookgate, Receiver};

/// Parses with prometheus_client and returns `name{labels}` → value for every sample.
fn parse(python: &std::path::Path, text: &str, dir: &std::path::Path) -> HashMap<String, f64> {
    let file = dir.join("metrics.txt");
    std::fs::write(&file, text).unwrap();
    let script = "import json, sys\nfrom prometheus_client.parser import text_string_to_metric_families\nout = {}\nfor family in text_string_to_metric_families(open(sys.argv[1]).read()):\n    for s in family.samples:\n        labels = ','.join(f'{k}={v}' for k, v in sorted(s.labels.items()))\n        out[f'{s.name}{{{labels}}}'] = s.value\nprint(json.dumps(out))\n";
    let out = Command::new(python)
        .args(["-c", script])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "prometheus_client could not parse /metrics: {}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn get(samples: &HashMap<String, f64>, key: &str) -> f64 {
    samples.get(key).copied().unwrap_or(0.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_parse_and_move_with_traffic() {
    let Some(python) = support::interop_python() else {
        return;
    };
    let rx = Receiver::start().await;
    rx.script("down", vec![], answer(500));
    let hg = Hookgate::start(&format!(
        r#"
[[sources]]
name = "app"
provider = "none"
dedup = "/id"
[[destinations]]
name = "ok"
type = "http"
url = "{}"
[[destinations]]
name = "down"
type = "http"
url = "{}"
retry = {{ schedule = [] }}
circuit = {{ failures = 1, cooldown = "1h" }}
[[routes]]
source = "app"
destinations = ["ok"]
[[routes]]
source = "app"
destinations = ["down"]
filter = '.to == "down"'
"#,
        rx.url("ok"),
        rx.url("down")
    ))
    .await;
    let metrics = || async {
        let r = reqwest::get(format!("{}/metrics", hg.base)).await.unwrap();
        assert_eq!(r.status(), 200);
        assert!(r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain"));
        r.text().await.unwrap()
    };
    // Gauges are published at start, before any event (the first publication can take a
    // moment on a busy machine, so wait for it rather than a fixed time).
    let mut text = metrics().await;
    for _ in 0..50 {
        if text.contains("hookgate_delivery_backlog{") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        text = metrics().await;
    }
    let before = parse(&python, &text, hg.path());
    assert_eq!(
        get(&before, "hookgate_circuit_state{destination=down}"),
        0.0
    );
    assert!(
        before.contains_key("hookgate_delivery_backlog{destination=ok}"),
        "{before:?}"
    );

    let first = hg.send("app", &json!({"id": "e1"})).await;
    hg.send("app", &json!({"id": "e1"})).await; // a provider retry: a dedup hit
    let down = hg.send("app", &json!({"id": "e2", "to": "down"})).await;
    let unknown = reqwest::Client::new()
        .post(format!("{}/in/nope", hg.base))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    hg.deliveries_when(&first, Duration::from_secs(15), |l| {
        status_is(l, "delivered")
    })
    .await;
    hg.deliveries_when(&down, Duration::from_secs(15), |l| {
        l.iter()
            .any(|d| d["destination"] == "down" && d["status"] == "dead")
    })
    .await;
    tokio::time::sleep(Duration::from_millis(2500)).await; // one gauge round
    let after = parse(&python, &metrics().await, hg.path());

    let key = |k: &str| get(&after, k) - get(&before, k);
    assert_eq!(
        key("hookgate_ingest_requests_total{outcome=accepted,source=app}"),
        2.0
    );
    assert_eq!(
        key("hookgate_ingest_requests_total{outcome=duplicate,source=app}"),
        1.0
    );
    assert_eq!(key("hookgate_dedup_hits_total{source=app}"), 1.0);
    // An unknown name is counted without becoming a label value.
    assert_eq!(
        key("hookgate_ingest_requests_total{outcome=unknown_source,source=}"),
        1.0
    );
    assert!(key("hookgate_ingest_duration_seconds_count{source=app}") >= 3.0);
    assert!(get(&after, "hookgate_store_commit_batch_size_count{}") >= 3.0);
    assert!(get(&after, "hookgate_store_commit_seconds_count{}") >= 3.0);
    assert_eq!(
        key("hookgate_deliveries_total{destination=ok,outcome=delivered}"),
        2.0
    );
    assert_eq!(
        key("hookgate_deliveries_total{destination=down,outcome=dead}"),
        1.0
    );
    assert!(
        get(
            &after,
            "hookgate_delivery_duration_seconds_count{destination=ok}"
        ) >= 2.0
    );
    assert!(
        get(
            &after,
            "hookgate_delivery_lag_seconds_count{destination=ok}"
        ) >= 2.0
    );
    assert_eq!(
        get(&after, "hookgate_delivery_backlog{destination=ok}"),
        0.0
    );
    assert_eq!(
        get(&after, "hookgate_delivery_in_flight{destination=ok}"),
        0.0
    );
    assert_eq!(
        get(&after, "hookgate_circuit_state{destination=down}"),
        2.0,
        "one failure opens it"
    );
}
